/* NVRTC core: libnvrtc loaded by dlopen into a swappable function table, one compile of a
 * job to CUBIN with lowered names and per-kernel ptxas facts, and the non-raising parser of
 * ptxas info logs. Jobs and results are plain C structs that may cross threads. No Lua here. */
#ifndef HTUNE_NVRTC_H
#define HTUNE_NVRTC_H
#include <stddef.h>
#include <stdint.h>

/* The libnvrtc entry points htune uses (int = nvrtcResult, void * = nvrtcProgram). Filled by
 * nvrtc_api_load or by a fake in tests. set_flow_callback may be NULL (NVRTC < 12.8). */
struct nvrtc_api {
    void *dl;
    int (*version)(int *major, int *minor);
    int (*create_program)(void **prog, const char *src, const char *name, int nheaders,
                          const char *const *headers, const char *const *include_names);
    int (*destroy_program)(void **prog);
    int (*compile_program)(void *prog, int nopts, const char *const *opts);
    int (*get_cubin_size)(void *prog, size_t *n);
    int (*get_cubin)(void *prog, char *cubin);
    int (*get_log_size)(void *prog, size_t *n);
    int (*get_log)(void *prog, char *log);
    int (*add_name_expression)(void *prog, const char *expr);
    int (*get_lowered_name)(void *prog, const char *expr, const char **lowered);
    const char *(*get_error_string)(int result);
    int (*set_flow_callback)(void *prog, int (*cb)(void *, void *), void *payload);
    int major, minor;
    char include_dir[4096]; /* <CUDA_HOME>/include of the toolkit found, or "" */
    /* libnvrtc's read-only mappings on huge pages (nvrtc_huge_text): bytes remapped, bytes the
     * kernel backs with huge pages, and what happened ("off", a failure, or the time it took) */
    size_t text_remapped, text_huge;
    char text_note[200];
    /* 1: NVRTC's own cache (12.9+, kept in the CUDA driver's compute cache where a driver is
     * installed) is left on; 0: every compile gets --no-cache (NVRTC 13+, unless
     * $HTUNE_NVRTC_DRIVER_CACHE=1), since htune's disk cache already keys the same inputs.
     * A fake api (all zero) gets --no-cache. */
    int driver_cache;
};

/* Loads libnvrtc: $HTUNE_NVRTC (an exact path, alone) if set; else $CUDA_HOME/lib64/libnvrtc.so.13,
 * HTUNE_CUDA_HOME's, then libnvrtc.so.13 and libnvrtc.so on the loader path.
 * Returns 0, or -1 with err naming what was tried. */
int nvrtc_api_load(struct nvrtc_api *api, char *err, size_t errlen);
void nvrtc_api_unload(struct nvrtc_api *api);
/* Moves libnvrtc's read-only mappings onto transparent huge pages (hugetext.h), once a process,
 * unless $HTUNE_HUGE_TEXT=0 or THP is off; fills api's text_* fields. Call before compile
 * threads start: nvsvc does, before its first compile. On the 16-core H200 host 200 matmul
 * configs compiled 0.98-1.08x as fast, a median 1.04x over 7 alternated pairs (calls 66-67),
 * for 61 ms once. No-op for an api without a library (api->dl NULL). */
void nvrtc_huge_text(struct nvrtc_api *api);

/* A compile job. Every string is owned by the job (nvrtc_job_free releases them). */
struct nvrtc_job {
    char *source;
    size_t source_len;
    char *name;                  /* program name for logs, "prog.cu" when NULL */
    char *arch;                  /* "sm_90a"; NULL = $HTUNE_ARCH or "sm_90" */
    char **options; int noptions;
    char **defines; int ndefines; /* "NAME=value" or "NAME" */
    char **include_dirs; int nincludes;
    char **name_exprs; int nname_exprs;
};
void nvrtc_job_free(struct nvrtc_job *job);
/* Deep copy of src into dst (0, or -1 when out of memory, dst then empty). */
int nvrtc_job_copy(struct nvrtc_job *dst, const struct nvrtc_job *src);
/* The arch a job compiles for: job->arch, else $HTUNE_ARCH, else "sm_90". */
const char *nvrtc_job_arch(const struct nvrtc_job *job);
/* Hash of everything but name_exprs: jobs with equal group keys may share one program. */
uint64_t nvrtc_job_group_key(const struct nvrtc_job *job, const struct nvrtc_api *api);
/* Hash of the whole job plus NVRTC version: the disk cache key. */
uint64_t nvrtc_job_cache_key(const struct nvrtc_job *job, const struct nvrtc_api *api);

/* What ptxas said about one kernel (-1 where the log did not say). */
struct nvrtc_facts {
    char *mangled;
    int regs, spill_stores, spill_loads, smem_bytes, local_bytes, cmem_bytes;
};

/* A result. lowered[i] is the mangled name of job->name_exprs[i] (NULL if not lowered). */
struct nvrtc_result {
    int ok;
    int code;                    /* nvrtcResult of the failing call, 0 when ok */
    char error[128];             /* "NVRTC_ERROR_COMPILATION", ... or "" */
    char *cubin; size_t cubin_len;
    char *log;
    char **lowered; int nlowered;
    struct nvrtc_facts *facts; int nfacts;
    double compile_ms;
    int cached, batch;
};
void nvrtc_result_free(struct nvrtc_result *res);
/* Fills res->error/log with a failure that is not NVRTC's (out of memory, cancelled...). */
void nvrtc_result_fail(struct nvrtc_result *res, const char *error, const char *log);

/* Compiles job into res (res is zeroed first; caller frees it with nvrtc_result_free).
 * cancel, when non-NULL, is polled by NVRTC's flow callback: nonzero stops the compile.
 * Always returns a result; failures are res->ok == 0 with error and log. */
void nvrtc_compile(const struct nvrtc_api *api, const struct nvrtc_job *job, struct nvrtc_result *res,
                   const volatile int *cancel);

/* Parses ptxas info lines of an NVRTC log into a malloc'd array of facts (*n entries).
 * Never fails on odd input: unknown lines are skipped; returns NULL with *n = 0 when none. */
struct nvrtc_facts *nvrtc_parse_ptxas(const char *log, size_t len, int *n);
void nvrtc_facts_free(struct nvrtc_facts *facts, int n);

/* Serialises a result (with its job's name_exprs) for the disk cache, and back.
 * nvrtc_result_decode returns 0, or -1 on malformed bytes (never reads past len). */
char *nvrtc_result_encode(const struct nvrtc_result *res, size_t *len);
int nvrtc_result_decode(const char *data, size_t len, struct nvrtc_result *res);
#endif
