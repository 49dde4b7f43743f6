/* NVRTC core: dlopen of libnvrtc into struct nvrtc_api, one compile of a job to CUBIN with
 * lowered names and ptxas facts, the ptxas-info parser and the result (de)serialiser used by
 * the disk cache. Thread-safe: nothing here holds state besides the caller's structs. */
#include "nvrtc.h"
#include "hugetext.h"
#include "util.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef HTUNE_CUDA_HOME
#define HTUNE_CUDA_HOME "/usr/local/cuda"
#endif

/* ---- loading ---------------------------------------------------------------------------- */

static void *open_candidate(const char *home, char *tried, size_t triedlen) {
    char path[4200];
    snprintf(path, sizeof path, "%s/lib64/libnvrtc.so.13", home);
    size_t used = strlen(tried);
    if (snprintf(tried + used, triedlen - used, "%s%s", used ? ", " : "", path) < 0) tried[used] = '\0';
    return dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
}

static void set_include_dir(struct nvrtc_api *api, const char *home) {
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/include/cuda_fp16.h", home);
    if (access(probe, R_OK) == 0 &&
        snprintf(api->include_dir, sizeof api->include_dir, "%s/include", home) >= (int)sizeof api->include_dir)
        api->include_dir[0] = '\0';
}

static void *open_library(struct nvrtc_api *api, char *err, size_t errlen) {
    char tried[2048] = "";
    const char *forced = getenv("HTUNE_NVRTC"); /* an exact library path, nothing else tried */
    if (forced && forced[0]) {
        void *dl = dlopen(forced, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        if (!dl) snprintf(err, errlen, "libnvrtc not loadable from $HTUNE_NVRTC=%s: %s", forced, dlerror());
        else if (getenv("CUDA_HOME")) set_include_dir(api, getenv("CUDA_HOME"));
        else set_include_dir(api, HTUNE_CUDA_HOME);
        return dl;
    }
    const char *homes[] = {getenv("CUDA_HOME"), HTUNE_CUDA_HOME};
    for (int i = 0; i < 2; i++) {
        if (!homes[i] || !homes[i][0]) continue;
        void *dl = open_candidate(homes[i], tried, sizeof tried);
        if (dl) { set_include_dir(api, homes[i]); return dl; }
    }
    const char *names[] = {"libnvrtc.so.13", "libnvrtc.so"};
    for (int i = 0; i < 2; i++) {
        void *dl = dlopen(names[i], RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        if (dl) {
            for (int j = 0; j < 2 && !api->include_dir[0]; j++) if (homes[j]) set_include_dir(api, homes[j]);
            return dl;
        }
    }
    if (snprintf(err, errlen, "libnvrtc not found (tried %s, libnvrtc.so.13, libnvrtc.so); set CUDA_HOME", tried) < 0)
        err[0] = '\0';
    return NULL;
}

#define LOAD(field, sym) (*(void **)&api->field = dlsym(api->dl, sym))

int nvrtc_api_load(struct nvrtc_api *api, char *err, size_t errlen) {
    memset(api, 0, sizeof *api);
    api->dl = open_library(api, err, errlen);
    if (!api->dl) return -1;
    int ok = LOAD(version, "nvrtcVersion") && LOAD(create_program, "nvrtcCreateProgram") &&
             LOAD(destroy_program, "nvrtcDestroyProgram") && LOAD(compile_program, "nvrtcCompileProgram") &&
             LOAD(get_cubin_size, "nvrtcGetCUBINSize") && LOAD(get_cubin, "nvrtcGetCUBIN") &&
             LOAD(get_log_size, "nvrtcGetProgramLogSize") && LOAD(get_log, "nvrtcGetProgramLog") &&
             LOAD(add_name_expression, "nvrtcAddNameExpression") &&
             LOAD(get_lowered_name, "nvrtcGetLoweredName") && LOAD(get_error_string, "nvrtcGetErrorString");
    LOAD(set_flow_callback, "nvrtcSetFlowCallback");
    if (!ok || api->version(&api->major, &api->minor) != 0) {
        snprintf(err, errlen, "libnvrtc lacks a required symbol or its version: %s", dlerror() ? dlerror() : "?");
        nvrtc_api_unload(api);
        return -1;
    }
    const char *keep = getenv("HTUNE_NVRTC_DRIVER_CACHE");
    api->driver_cache = api->major < 13 || (keep && strcmp(keep, "1") == 0);
    return 0;
}

/* ---- libnvrtc on huge pages ------------------------------------------------------------- */

/* What the process's one remap did (every api of the process shares the library). */
static struct {
    pthread_mutex_t mu;
    int done;
    size_t remapped, huge;
    char note[200];
} huge = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, ""};

/* THP usable for madvised memory: /sys/kernel/mm/transparent_hugepage/enabled not "[never]". */
static int thp_allowed(char *why, size_t n) {
    char err[256];
    size_t len;
    char *s = util_read_file("/sys/kernel/mm/transparent_hugepage/enabled", &len, err, sizeof err);
    if (!s) {
        snprintf(why, n, "no transparent huge pages here (%.120s)", err);
        return 0;
    }
    int ok = strstr(s, "[never]") == NULL;
    if (!ok) snprintf(why, n, "transparent huge pages are off (enabled: [never])");
    free(s);
    return ok;
}

static void huge_once(const struct nvrtc_api *api) {
    const char *env = getenv("HTUNE_HUGE_TEXT");
    if (env && strcmp(env, "0") == 0) {
        snprintf(huge.note, sizeof huge.note, "off ($HTUNE_HUGE_TEXT=0)");
        return;
    }
    if (!thp_allowed(huge.note, sizeof huge.note)) return;
    struct hugetext_stats st;
    double t0 = util_now_ms();
    if (hugetext_remap((const void *)api->compile_program, &st, huge.note, sizeof huge.note) == 0) {
        huge.remapped = st.remapped;
        huge.huge = st.huge;
        snprintf(huge.note, sizeof huge.note, "%d mappings in %.0f ms", st.regions, util_now_ms() - t0);
    }
}

void nvrtc_huge_text(struct nvrtc_api *api) {
    if (!api->dl) return; /* a fake api (tests): no library to move */
    pthread_mutex_lock(&huge.mu);
    if (!huge.done) huge_once(api);
    huge.done = 1;
    api->text_remapped = huge.remapped;
    api->text_huge = huge.huge;
    snprintf(api->text_note, sizeof api->text_note, "%s", huge.note);
    pthread_mutex_unlock(&huge.mu);
}

void nvrtc_api_unload(struct nvrtc_api *api) {
    if (api->dl) dlclose(api->dl);
    memset(api, 0, sizeof *api);
}

/* ---- jobs ------------------------------------------------------------------------------- */

static void free_strv(char **v, int n) {
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

void nvrtc_job_free(struct nvrtc_job *job) {
    free(job->source);
    free(job->name);
    free(job->arch);
    free_strv(job->options, job->noptions);
    free_strv(job->defines, job->ndefines);
    free_strv(job->include_dirs, job->nincludes);
    free_strv(job->name_exprs, job->nname_exprs);
    memset(job, 0, sizeof *job);
}

static char *dup_or_null(const char *s, int *failed) {
    if (!s) return NULL;
    char *d = strdup(s);
    if (!d) *failed = 1;
    return d;
}

static char **dup_strv(char **v, int n, int *failed) {
    if (n == 0) return NULL;
    char **d = calloc((size_t)n, sizeof *d);
    if (!d) { *failed = 1; return NULL; }
    for (int i = 0; i < n; i++) d[i] = dup_or_null(v[i], failed);
    return d;
}

int nvrtc_job_copy(struct nvrtc_job *dst, const struct nvrtc_job *src) {
    int failed = 0;
    memset(dst, 0, sizeof *dst);
    dst->source = malloc(src->source_len + 1);
    if (dst->source) {
        memcpy(dst->source, src->source, src->source_len);
        dst->source[src->source_len] = '\0';
    } else failed = 1;
    dst->source_len = src->source_len;
    dst->name = dup_or_null(src->name, &failed);
    dst->arch = dup_or_null(src->arch, &failed);
#define COPYV(f, n) (dst->f = dup_strv(src->f, src->n, &failed), dst->n = dst->f ? src->n : 0)
    COPYV(options, noptions);
    COPYV(defines, ndefines);
    COPYV(include_dirs, nincludes);
    COPYV(name_exprs, nname_exprs);
#undef COPYV
    if (failed) nvrtc_job_free(dst);
    return failed ? -1 : 0;
}

const char *nvrtc_job_arch(const struct nvrtc_job *job) {
    if (job->arch && job->arch[0]) return job->arch;
    const char *env = getenv("HTUNE_ARCH");
    return env && env[0] ? env : "sm_90";
}

/* Each string hashed with its length so ("ab","c") and ("a","bc") differ. */
static uint64_t hash_str(uint64_t h, const char *s, size_t n) {
    uint64_t len = n;
    h = util_fnv1a(h, &len, sizeof len);
    return util_fnv1a(h, s, n);
}

static uint64_t hash_strv(uint64_t h, char **v, int n) {
    h = hash_str(h, "#", 1);
    for (int i = 0; i < n; i++) h = hash_str(h, v[i], strlen(v[i]));
    return h;
}

uint64_t nvrtc_job_group_key(const struct nvrtc_job *job, const struct nvrtc_api *api) {
    uint64_t h = hash_str(UTIL_FNV_INIT, job->source, job->source_len);
    const char *arch = nvrtc_job_arch(job), *name = job->name ? job->name : "prog.cu";
    h = hash_str(h, arch, strlen(arch));
    h = hash_str(h, name, strlen(name));
    h = hash_strv(h, job->options, job->noptions);
    h = hash_strv(h, job->defines, job->ndefines);
    h = hash_strv(h, job->include_dirs, job->nincludes);
    int ver[2] = {api ? api->major : 0, api ? api->minor : 0};
    return util_fnv1a(h, ver, sizeof ver);
}

uint64_t nvrtc_job_cache_key(const struct nvrtc_job *job, const struct nvrtc_api *api) {
    return hash_strv(nvrtc_job_group_key(job, api), job->name_exprs, job->nname_exprs);
}

/* ---- results ---------------------------------------------------------------------------- */

void nvrtc_facts_free(struct nvrtc_facts *facts, int n) {
    for (int i = 0; i < n; i++) free(facts[i].mangled);
    free(facts);
}

void nvrtc_result_free(struct nvrtc_result *res) {
    free(res->cubin);
    free(res->log);
    free_strv(res->lowered, res->nlowered);
    nvrtc_facts_free(res->facts, res->nfacts);
    memset(res, 0, sizeof *res);
}

void nvrtc_result_fail(struct nvrtc_result *res, const char *error, const char *log) {
    res->ok = 0;
    snprintf(res->error, sizeof res->error, "%s", error);
    if (log) {
        free(res->log);
        res->log = strdup(log);
    }
}

/* ---- compiling -------------------------------------------------------------------------- */

static int flow_callback(void *payload, void *reserved) {
    (void)reserved;
    return *(const volatile int *)payload != 0;
}

/* "-DNAME=v", "-I dir", "--gpu-architecture=arch", ptxas -v, CUDA include, --no-cache unless
 * api->driver_cache: argv for NVRTC. */
static char **build_options(const struct nvrtc_api *api, const struct nvrtc_job *job, int *n) {
    int cap = job->noptions + job->ndefines + job->nincludes + 4;
    char **argv = calloc((size_t)cap, sizeof *argv);
    if (!argv) return NULL;
    int k = 0, failed = 0;
    for (int i = 0; i < job->ndefines; i++) failed |= asprintf(&argv[k++], "-D%s", job->defines[i]) < 0;
    for (int i = 0; i < job->nincludes; i++) failed |= asprintf(&argv[k++], "-I%s", job->include_dirs[i]) < 0;
    if (api->include_dir[0]) failed |= asprintf(&argv[k++], "-I%s", api->include_dir) < 0;
    failed |= asprintf(&argv[k++], "--gpu-architecture=%s", nvrtc_job_arch(job)) < 0;
    failed |= asprintf(&argv[k++], "--ptxas-options=-v") < 0;
    if (!api->driver_cache) failed |= (argv[k++] = strdup("--no-cache")) == NULL;
    for (int i = 0; i < job->noptions; i++) failed |= (argv[k++] = strdup(job->options[i])) == NULL;
    *n = k;
    if (failed) { free_strv(argv, k); return NULL; }
    return argv;
}

static void fail_call(const struct nvrtc_api *api, struct nvrtc_result *res, int code) {
    res->ok = 0;
    res->code = code;
    snprintf(res->error, sizeof res->error, "%s", api->get_error_string(code));
}

static void fetch_log(const struct nvrtc_api *api, void *prog, struct nvrtc_result *res) {
    size_t n = 0;
    if (api->get_log_size(prog, &n) != 0) n = 0;
    res->log = malloc(n + 1);
    if (!res->log) return;
    res->log[0] = '\0';
    if (n && api->get_log(prog, res->log) != 0) res->log[0] = '\0';
    res->log[n] = '\0';
    res->facts = nvrtc_parse_ptxas(res->log, strlen(res->log), &res->nfacts);
}

static int fetch_cubin(const struct nvrtc_api *api, void *prog, struct nvrtc_result *res) {
    size_t n = 0;
    int rc = api->get_cubin_size(prog, &n);
    if (rc != 0) return rc;
    res->cubin = malloc(n ? n : 1);
    if (!res->cubin) return 1; /* NVRTC_ERROR_OUT_OF_MEMORY */
    res->cubin_len = n;
    return api->get_cubin(prog, res->cubin);
}

static int fetch_lowered(const struct nvrtc_api *api, void *prog, const struct nvrtc_job *job,
                         struct nvrtc_result *res) {
    if (job->nname_exprs == 0) return 0;
    res->lowered = calloc((size_t)job->nname_exprs, sizeof *res->lowered);
    if (!res->lowered) return 1;
    res->nlowered = job->nname_exprs;
    for (int i = 0; i < job->nname_exprs; i++) {
        const char *low = NULL;
        int rc = api->get_lowered_name(prog, job->name_exprs[i], &low);
        if (rc != 0) return rc;
        if (!(res->lowered[i] = strdup(low ? low : ""))) return 1;
    }
    return 0;
}

static int run_program(const struct nvrtc_api *api, void *prog, const struct nvrtc_job *job,
                       struct nvrtc_result *res, const volatile int *cancel) {
    for (int i = 0; i < job->nname_exprs; i++) {
        int rc = api->add_name_expression(prog, job->name_exprs[i]);
        if (rc != 0) return rc;
    }
    if (cancel && api->set_flow_callback) api->set_flow_callback(prog, flow_callback, (void *)cancel);
    int nopts = 0;
    char **opts = build_options(api, job, &nopts);
    if (!opts) return 1;
    int rc = api->compile_program(prog, nopts, (const char *const *)opts);
    free_strv(opts, nopts);
    fetch_log(api, prog, res);
    if (rc != 0) return rc;
    rc = fetch_cubin(api, prog, res);
    return rc != 0 ? rc : fetch_lowered(api, prog, job, res);
}

void nvrtc_compile(const struct nvrtc_api *api, const struct nvrtc_job *job, struct nvrtc_result *res,
                   const volatile int *cancel) {
    memset(res, 0, sizeof *res);
    res->batch = 1;
    double t0 = util_now_ms();
    void *prog = NULL;
    int rc = api->create_program(&prog, job->source ? job->source : "", job->name ? job->name : "prog.cu",
                                 0, NULL, NULL);
    if (rc == 0) rc = run_program(api, prog, job, res, cancel);
    if (prog) api->destroy_program(&prog);
    res->compile_ms = util_now_ms() - t0;
    if (rc != 0) fail_call(api, res, rc);
    else res->ok = 1;
    if (!res->log) res->log = strdup("");
}

/* ---- ptxas info parser ------------------------------------------------------------------ */

/* The integer before `unit` on a line ("... 40 bytes smem"), or -1. Never reads past end. */
static int number_before(const char *line, const char *end, const char *unit) {
    size_t ulen = strlen(unit);
    for (const char *p = line; p + ulen <= end; p++) {
        if (memcmp(p, unit, ulen) != 0) continue;
        const char *q = p;
        while (q > line && q[-1] == ' ') q--;
        const char *digits_end = q;
        while (q > line && q[-1] >= '0' && q[-1] <= '9') q--;
        if (q == digits_end || digits_end - q > 9) continue;
        int v = 0;
        for (; q < digits_end; q++) v = v * 10 + (*q - '0');
        return v;
    }
    return -1;
}

static struct nvrtc_facts *new_kernel(struct nvrtc_facts **facts, int *n, int *cap, const char *name,
                                      size_t len) {
    if (*n == *cap) {
        int ncap = *cap ? *cap * 2 : 4;
        struct nvrtc_facts *bigger = realloc(*facts, (size_t)ncap * sizeof *bigger);
        if (!bigger) return NULL;
        *facts = bigger;
        *cap = ncap;
    }
    struct nvrtc_facts *f = &(*facts)[*n];
    if (!(f->mangled = strndup(name, len))) return NULL;
    f->regs = f->spill_stores = f->spill_loads = f->smem_bytes = f->local_bytes = f->cmem_bytes = -1;
    (*n)++;
    return f;
}

#define SET_IF(field, v) do { int v_ = (v); if (v_ >= 0) (field) = v_; } while (0)

static void parse_line(const char *line, const char *end, struct nvrtc_facts *f) {
    SET_IF(f->local_bytes, number_before(line, end, "bytes stack frame"));
    SET_IF(f->local_bytes, number_before(line, end, "bytes lmem"));
    SET_IF(f->spill_stores, number_before(line, end, "bytes spill stores"));
    SET_IF(f->spill_loads, number_before(line, end, "bytes spill loads"));
    SET_IF(f->regs, number_before(line, end, "registers"));
    SET_IF(f->smem_bytes, number_before(line, end, "bytes smem"));
    SET_IF(f->cmem_bytes, number_before(line, end, "bytes cmem[0]"));
}

/* "Compiling entry function 'NAME'" / "Function properties for NAME": the kernel a line names. */
static int kernel_name(const char *line, const char *end, const char **name, size_t *len) {
    static const char entry[] = "Compiling entry function '";
    const char *p = memmem(line, (size_t)(end - line), entry, sizeof entry - 1);
    if (!p) return 0;
    p += sizeof entry - 1;
    const char *q = memchr(p, '\'', (size_t)(end - p));
    if (!q || q == p) return 0;
    *name = p;
    *len = (size_t)(q - p);
    return 1;
}

struct nvrtc_facts *nvrtc_parse_ptxas(const char *log, size_t len, int *n) {
    struct nvrtc_facts *facts = NULL, *cur = NULL;
    int cap = 0;
    *n = 0;
    const char *end = log ? log + len : NULL;
    for (const char *line = log; line && line < end;) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        if (!eol) eol = end;
        const char *name;
        size_t nlen;
        if (kernel_name(line, eol, &name, &nlen)) {
            cur = new_kernel(&facts, n, &cap, name, nlen);
            if (!cur) break;
        } else if (cur && memmem(line, (size_t)(eol - line), "ptxas", 5)) {
            parse_line(line, eol, cur);
        }
        line = eol + 1;
    }
    if (*n == 0) { free(facts); return NULL; }
    return facts;
}

/* ---- cache serialisation ---------------------------------------------------------------- */

struct buf { char *p; size_t n, cap; int failed; };

static void put(struct buf *b, const void *data, size_t n) {
    if (b->failed) return;
    if (b->n + n > b->cap) {
        size_t cap = (b->cap + n) * 2;
        char *p = realloc(b->p, cap);
        if (!p) { b->failed = 1; return; }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
}

static void put_u32(struct buf *b, uint32_t v) { put(b, &v, sizeof v); }

static void put_str(struct buf *b, const char *s, size_t n) {
    put_u32(b, s ? (uint32_t)n : UINT32_MAX);
    if (s) put(b, s, n);
}

static const char MAGIC[4] = {'H', 'N', 'R', '1'};

char *nvrtc_result_encode(const struct nvrtc_result *res, size_t *len) {
    struct buf b = {0};
    put(&b, MAGIC, 4);
    put_str(&b, res->cubin, res->cubin_len);
    put_str(&b, res->log, res->log ? strlen(res->log) : 0);
    put(&b, &res->compile_ms, sizeof res->compile_ms);
    put_u32(&b, (uint32_t)res->nlowered);
    for (int i = 0; i < res->nlowered; i++) put_str(&b, res->lowered[i], res->lowered[i] ? strlen(res->lowered[i]) : 0);
    put_u32(&b, (uint32_t)res->nfacts);
    for (int i = 0; i < res->nfacts; i++) {
        const struct nvrtc_facts *f = &res->facts[i];
        put_str(&b, f->mangled, strlen(f->mangled));
        int32_t v[6] = {f->regs, f->spill_stores, f->spill_loads, f->smem_bytes, f->local_bytes, f->cmem_bytes};
        put(&b, v, sizeof v);
    }
    if (b.failed) { free(b.p); return NULL; }
    *len = b.n;
    return b.p;
}

struct rd { const char *p; size_t n, at; int bad; };

static const char *take(struct rd *r, size_t n) {
    if (r->bad || n > r->n - r->at) { r->bad = 1; return NULL; }
    const char *p = r->p + r->at;
    r->at += n;
    return p;
}

static uint32_t take_u32(struct rd *r) {
    uint32_t v = 0;
    const char *p = take(r, sizeof v);
    if (p) memcpy(&v, p, sizeof v);
    return v;
}

/* A NUL-terminated copy (NULL for the "absent" marker or on error; *len gets the length). */
static char *take_str(struct rd *r, size_t *len) {
    uint32_t n = take_u32(r);
    if (r->bad || n == UINT32_MAX) return NULL;
    const char *p = take(r, n);
    char *s = p ? malloc((size_t)n + 1) : NULL;
    if (!s) { r->bad = 1; return NULL; }
    memcpy(s, p, n);
    s[n] = '\0';
    if (len) *len = n;
    return s;
}

static void decode_facts(struct rd *r, struct nvrtc_result *res) {
    uint32_t n = take_u32(r);
    if (r->bad || n == 0) return;
    if (n > (r->n - r->at) / 28) { r->bad = 1; return; } /* 28 = smallest encoded fact */
    if (!(res->facts = calloc(n, sizeof *res->facts))) { r->bad = 1; return; }
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        struct nvrtc_facts *f = &res->facts[i];
        f->mangled = take_str(r, NULL);
        res->nfacts = (int)i + 1; /* counted before any failure so nvrtc_result_free frees it */
        const char *v = take(r, 6 * sizeof(int32_t));
        if (!f->mangled || !v) { r->bad = 1; break; }
        int32_t x[6];
        memcpy(x, v, sizeof x);
        f->regs = x[0], f->spill_stores = x[1], f->spill_loads = x[2];
        f->smem_bytes = x[3], f->local_bytes = x[4], f->cmem_bytes = x[5];
    }
}

int nvrtc_result_decode(const char *data, size_t len, struct nvrtc_result *res) {
    struct rd r = {data, len, 0, 0};
    memset(res, 0, sizeof *res);
    const char *magic = take(&r, 4);
    if (!magic || memcmp(magic, MAGIC, 4) != 0) return -1;
    res->cubin = take_str(&r, &res->cubin_len);
    res->log = take_str(&r, NULL);
    const char *ms = take(&r, sizeof res->compile_ms);
    if (ms) memcpy(&res->compile_ms, ms, sizeof res->compile_ms);
    uint32_t n = take_u32(&r);
    if (!r.bad && n > 0 && n <= (r.n - r.at) / 4) {
        res->lowered = calloc(n, sizeof *res->lowered);
        res->nlowered = res->lowered ? (int)n : 0;
        for (uint32_t i = 0; i < n && res->lowered; i++) res->lowered[i] = take_str(&r, NULL);
    } else if (n > 0) r.bad = 1;
    decode_facts(&r, res);
    if (r.bad || r.at != len || !res->cubin || !res->log) {
        nvrtc_result_free(res);
        return -1;
    }
    res->ok = 1;
    res->batch = 1;
    return 0;
}
