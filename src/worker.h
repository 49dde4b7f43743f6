/* The GPU worker process. The parent (worker.c) spawns htune again in worker mode
 * (`htune __worker 3 4 [fake]`, before any CUDA call of its own), sends request frames
 * (wproto.h) and polls for replies with a watchdog; a fault, a hang or a crash kills and
 * restarts the worker and replays the problem setup. The worker (wserve.c) owns the only
 * CUDA context. */
#ifndef HTUNE_WORKER_H
#define HTUNE_WORKER_H
#include "bench.h"
#include "wproto.h"

/* ---- Vendor baselines ----
 * A WP_BASELINE request {name="cublas", params={M, N, K [, a_index=0, b_index=1]}} is served
 * by src/baseline.c (cuBLAS via dlopen, the kernels developer's): the worker opens it once in
 * its context and times baseline_gemm_launch with the same bench loop, C = the problem's
 * output buffer, after the same reference check. No cuBLAS -> status "unavailable" with
 * baseline_open's reason. {name="memcpy", params={src_index}} times cuMemcpyDtoDAsync from
 * that buffer into the output: the device's measured copy figure. Another vendor library plugs in the same way: a bench_launch_fn
 * plus its context (bench.h). */

/* ---- Worker side ---- */
/* `htune __worker FD_IN FD_OUT [fake]`: serves requests until WP_QUIT or EOF. */
int worker_main(int argc, char **argv);
/* Serves on the given fds with the real driver or the fake. Returns the exit code. */
int worker_serve(int fd_in, int fd_out, int fake);

/* ---- Parent side ---- */
enum worker_poll_status { WK_PENDING = 0, WK_REPLY = 1, WK_TIMEOUT = -3, WK_DIED = -4 };

struct worker_opts {
    const char *exe;          /* executable to run in worker mode; NULL: fork and serve in-process (tests) */
    int fake;                 /* use the CPU fake driver */
    double hello_timeout_ms;  /* default 30000: driver init can be slow */
    const char *fake_nvml;    /* fake only: the worker's HTUNE_FAKE_NVML clock script (nvml.h); NULL keeps the env's */
    const char *libnvml;      /* the worker's HTUNE_LIBNVML (NVML library path); NULL keeps the env's */
};

struct worker;

/* Spawns the worker and reads its hello. Returns 0; -1 with err when it could not start;
 * -2 with err when it started but found no usable driver (code ENODRIVER). */
int worker_start(struct worker **out, const struct worker_opts *opts, char *err, size_t errlen);
/* The hello of the running worker (api kind, driver version, device count). */
const struct wp_hello *worker_hello(const struct worker *w);

/* Sends a request and arms the watchdog: the reply is due within timeout_ms. One request
 * at a time. Returns 0, or -1 when the worker is gone (restart it). */
int worker_send(struct worker *w, const struct wbuf *req, double timeout_ms);
/* Waits up to wait_ms for the reply. WK_REPLY: the type, payload and len outputs point into the worker's
 * buffer until the next call. WK_TIMEOUT: the deadline passed, the worker was killed.
 * WK_DIED: it exited or crashed (killed and reaped). */
int worker_poll(struct worker *w, double wait_ms, int *type, const uint8_t **payload, size_t *len);
/* worker_send + worker_poll until the reply or the deadline. */
int worker_call(struct worker *w, const struct wbuf *req, double timeout_ms, int *type,
                const uint8_t **payload, size_t *len);
int worker_busy(const struct worker *w);

/* Keeps a copy of a WP_SETUP frame to replay after every restart. */
int worker_remember_setup(struct worker *w, const struct wbuf *setup);
/* Kills the process if alive, spawns a fresh one, reads its hello and replays the setup.
 * 0, or -1 with err. */
int worker_restart(struct worker *w, char *err, size_t errlen);
/* Kills the worker (SIGKILL) and reaps it; the struct stays valid for worker_restart. */
void worker_kill(struct worker *w);

int worker_pid(const struct worker *w);
int worker_restarts(const struct worker *w);
/* Milliseconds a request was in flight, summed (the GPU-busy side of idle-share figures). */
double worker_busy_ms(const struct worker *w);

/* Asks the worker to quit, kills it if it does not within 1 s, frees everything. */
void worker_close(struct worker *w);
#endif
