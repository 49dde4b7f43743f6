/* The parent <-> GPU worker protocol: length-prefixed binary frames over pipes.
 * Frame = u32 length of what follows (little-endian), u8 type, payload. Requests carry plain
 * data (module image + lowered name, launch dims, buffer specs, args, bench options); the
 * decoder never trusts a length and points into the frame (no copies of cubins). */
#ifndef HTUNE_WPROTO_H
#define HTUNE_WPROTO_H
#include "bench.h"
#include <stddef.h>
#include <stdint.h>

enum wp_type {
    WP_HELLO = 1,     /* worker -> parent at start: wp_hello */
    WP_DEVICES,       /* request (empty) / reply: u32 n, n x cuda_device_info */
    WP_SETUP,         /* request wp_setup / reply WP_OK or WP_ERROR */
    WP_TRIAL,         /* request wp_trial / reply WP_RESULT */
    WP_BASELINE,      /* request wp_baseline / reply WP_RESULT */
    WP_QUIT,
    WP_OK, WP_ERROR,  /* reply: i32 code, str message */
    WP_RESULT,        /* reply wp_result */
};

#define WP_MAX_ARGS 32
#define WP_MAX_BUFS 16
#define WP_MAX_FRAME (256u << 20)

enum wp_dtype { WP_F32 = 0, WP_F16 = 1, WP_BF16 = 2, WP_I32 = 3 };          /* = DEV_* */
enum wp_init { WP_INIT_RANDOM = 0, WP_INIT_CONST = 1, WP_INIT_ZERO = 2 };
enum wp_arg_kind { WP_ARG_BUF = 0, WP_ARG_I32, WP_ARG_I64, WP_ARG_F32, WP_ARG_F64, WP_ARG_TMAP };
/* Trial outcomes; FAULT and TIMEOUT leave a dead context: the worker is replaced. */
enum wp_status { WP_S_OK = 0, WP_S_WRONG, WP_S_FAULT, WP_S_TIMEOUT, WP_S_INVALID, WP_S_UNAVAILABLE, WP_S_CUTOFF };

struct wp_hello { int32_t status; int32_t driver_version; int32_t device_count; char api_kind[16]; char message[400]; };

struct cuda_device_info {
    char name[256];
    int32_t ordinal, cc_major, cc_minor, sms, clock_khz, mem_clock_khz, bus_width_bits;
    int32_t l2_bytes, smem_per_block, smem_per_block_optin, smem_per_sm, regs_per_sm, max_threads_per_block;
    uint64_t mem_bytes;
};

struct wp_buffer { int32_t dtype, init; uint64_t count, seed; double value; };
/* A 2-D tiled TMA tensor map over a setup buffer seen as a row-major rows x cols matrix (cols
 * innermost), copied box_rows x box_cols at a time; swizzle in bytes (0 = none, 32, 64, 128).
 * The worker encodes it (cuTensorMapEncodeTiled) from the buffer's device pointer and dtype. */
struct wp_tmap { uint64_t rows, cols; uint32_t box_rows, box_cols, swizzle; };
struct wp_arg { int32_t kind; int64_t i; double f; struct wp_tmap tm; };   /* kind BUF, TMAP: i = buffer index */
struct wp_kernel {
    const uint8_t *image; uint32_t image_len;   /* cubin or NUL-terminated PTX; a NUL follows on the wire */
    const char *name;                           /* lowered (mangled) kernel name */
    uint32_t grid[3], block[3], smem;
    int32_t nargs;
    struct wp_arg args[WP_MAX_ARGS];
};
struct wp_setup {
    int32_t device, nbufs, output, has_ref;
    struct wp_buffer bufs[WP_MAX_BUFS];
    struct wp_kernel ref;
    double atol, rtol;
};
struct wp_trial { struct wp_kernel k; struct bench_opts opts; int32_t check; int32_t raw_n; };  /* raw_n > 0: also time raw_n back-to-back launches between two events */
struct wp_baseline { const char *name; int32_t nparams; int64_t params[8]; struct bench_opts opts; int32_t check; };

struct wp_result {
    int32_t status;
    char message[600];
    struct bench_result bench;
    int32_t checked;
    double max_abs_err, max_rel_err;
    uint64_t mismatches, first_bad;
    int32_t regs, local_bytes, static_smem, max_threads;
    double load_ms, check_ms, total_ms;
    double raw_us;   /* per launch, from raw_n back-to-back launches (wp_trial.raw_n) */
};

/* A growing output buffer for one frame. */
struct wbuf { uint8_t *p; size_t n, cap; int oom; };
void wbuf_begin(struct wbuf *b, enum wp_type type);   /* resets, reserves the length field */
void wbuf_end(struct wbuf *b);                        /* patches the length */
void wbuf_free(struct wbuf *b);

/* Bounded reader over one received payload; `bad` latches on any overrun. */
struct rbuf { const uint8_t *p; size_t n, off; int bad; };

void wp_put_hello(struct wbuf *b, const struct wp_hello *h);
void wp_put_devices(struct wbuf *b, const struct cuda_device_info *d, int n);
void wp_put_setup(struct wbuf *b, const struct wp_setup *s);
void wp_put_trial(struct wbuf *b, const struct wp_trial *t);
void wp_put_baseline(struct wbuf *b, const struct wp_baseline *t);
void wp_put_error(struct wbuf *b, int code, const char *msg);
void wp_put_result(struct wbuf *b, const struct wp_result *r);

/* Decoders: 0, or -1 with err naming the field that did not fit, or the TMAP arg that fails
 * wp_check_tmap ("reference args[7].box_rows must be 1..256, got 512"). */
int wp_get_hello(struct rbuf *r, struct wp_hello *h, char *err, size_t errlen);
int wp_get_devices(struct rbuf *r, struct cuda_device_info *d, int cap, int *n, char *err, size_t errlen);
int wp_get_setup(struct rbuf *r, struct wp_setup *s, char *err, size_t errlen);
/* wp_get_trial checks TMAP args against the setup's buffers (bufs[0..nbufs-1]). */
int wp_get_trial(struct rbuf *r, struct wp_trial *t, const struct wp_buffer *bufs, int nbufs, char *err, size_t errlen);
int wp_get_baseline(struct rbuf *r, struct wp_baseline *t, char *err, size_t errlen);
int wp_get_error(struct rbuf *r, int *code, char *msg, size_t msglen);
int wp_get_result(struct rbuf *r, struct wp_result *res, char *err, size_t errlen);

/* Frame I/O on blocking fds. wp_write_frame: 0 or -1. wp_read_frame: reads one frame into
 * *buf (grown with realloc, caller frees), sets *type, *payload and *len; 0, or -1 on EOF or
 * a bad length. */
int wp_write_frame(int fd, const struct wbuf *b);
int wp_read_frame(int fd, uint8_t **buf, size_t *cap, int *type, const uint8_t **payload, size_t *len);

/* Checks TMAP arg a against buffers bufs[0..nbufs-1] (a->i 0-based) as cuTensorMapEncodeTiled
 * would: buffer exists, rows and cols 1..2^32, rows x cols within the buffer, 16-byte row pitch,
 * box dims 1..256 with a 16-byte multiple inner box inside the swizzle span, swizzle 0/32/64/128.
 * 0, or -1 with err starting with the field ("box_rows must be 1..256, got 512"; buffers
 * numbered from 1). */
int wp_check_tmap(const struct wp_arg *a, const struct wp_buffer *bufs, int nbufs, char *err, size_t errlen);
/* Bytes per element of a wp_dtype (fp16/bf16 2, fp32/int32 4). */
size_t wp_dtype_bytes(int dtype);

const char *wp_status_name(int status);   /* "ok","wrong","fault","timeout","invalid","unavailable","cutoff" */
#endif
