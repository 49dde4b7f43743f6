/* NVRTC core and compile service: the ptxas parser (with a fuzz), result (de)serialisation
 * against every truncation, the service over a fake function table (batch split, failed batch
 * recompiled alone, 8 threads x 500 compiles with random cache corruption), and real NVRTC. */
#include "nvsvc.h"
#include "test.h"
#include "util.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char PTXAS_LOG[] =
    "ptxas info    : 0 bytes gmem\n"
    "ptxas info    : Compiling entry function '_Z1kILi64EEvPf' for 'sm_90'\n"
    "ptxas info    : Function properties for _Z1kILi64EEvPf\n"
    "ptxas         .     256 bytes stack frame, 8 bytes spill stores, 12 bytes spill loads\n"
    "ptxas info    : Used 32 registers, used 1 barriers, 256 bytes cumulative stack size, 4096 bytes smem, 360 bytes cmem[0]\n"
    "ptxas info    : Compile time = 24.697 ms\n"
    "ptxas info    : Compiling entry function 'plain' for 'sm_90'\n"
    "ptxas info    : Used 8 registers\n";

static void test_parse_ptxas(void) {
    int n = 0;
    struct nvrtc_facts *f = nvrtc_parse_ptxas(PTXAS_LOG, sizeof PTXAS_LOG - 1, &n);
    CHECK_EQ_INT(n, 2);
    if (n == 2) {
        CHECK_STR(f[0].mangled, "_Z1kILi64EEvPf");
        CHECK_EQ_INT(f[0].regs, 32);
        CHECK_EQ_INT(f[0].spill_stores, 8);
        CHECK_EQ_INT(f[0].spill_loads, 12);
        CHECK_EQ_INT(f[0].smem_bytes, 4096);
        CHECK_EQ_INT(f[0].local_bytes, 256);
        CHECK_EQ_INT(f[0].cmem_bytes, 360);
        CHECK_STR(f[1].mangled, "plain");
        CHECK_EQ_INT(f[1].regs, 8);
        CHECK_EQ_INT(f[1].smem_bytes, -1);
    }
    nvrtc_facts_free(f, n);
    CHECK(nvrtc_parse_ptxas("", 0, &n) == NULL && n == 0);
    CHECK(nvrtc_parse_ptxas(NULL, 0, &n) == NULL && n == 0);
}

/* Mutated and truncated logs, fed as exact-length buffers so ASan sees any overread. */
static void test_fuzz_ptxas(void) {
    unsigned seed = 7;
    size_t base = sizeof PTXAS_LOG - 1;
    int sane = 1;
    for (int iter = 0; iter < 3000; iter++) {
        size_t len = (size_t)rand_r(&seed) % (base + 1);
        char *buf = malloc(len ? len : 1);
        memcpy(buf, PTXAS_LOG, len);
        for (int m = rand_r(&seed) % 8; m > 0 && len; m--) {
            size_t at = (size_t)rand_r(&seed) % len;
            buf[at] = "0123456789'\n :x\0"[rand_r(&seed) % 16];
        }
        int n = 0;
        struct nvrtc_facts *f = nvrtc_parse_ptxas(buf, len, &n);
        sane &= n >= 0 && n <= 8 && (n == 0) == (f == NULL);
        nvrtc_facts_free(f, n);
        free(buf);
    }
    CHECK(sane);
}

static void sample_result(struct nvrtc_result *r) {
    memset(r, 0, sizeof *r);
    r->ok = 1;
    r->cubin = malloc(5);
    memcpy(r->cubin, "\x7f" "ELF\0", 5);
    r->cubin_len = 5;
    r->log = strdup(PTXAS_LOG);
    r->compile_ms = 12.5;
    r->lowered = calloc(2, sizeof *r->lowered);
    r->lowered[0] = strdup("_Z1kILi64EEvPf");
    r->lowered[1] = strdup("plain");
    r->nlowered = 2;
    r->facts = nvrtc_parse_ptxas(r->log, strlen(r->log), &r->nfacts);
}

static void test_encode_decode(void) {
    struct nvrtc_result r, back;
    sample_result(&r);
    size_t len = 0;
    char *bytes = nvrtc_result_encode(&r, &len);
    CHECK(bytes != NULL);
    CHECK_EQ_INT(nvrtc_result_decode(bytes, len, &back), 0);
    CHECK_EQ_INT(back.cubin_len, 5);
    CHECK(back.cubin && memcmp(back.cubin, r.cubin, 5) == 0);
    CHECK_EQ_INT(back.nlowered, 2);
    CHECK_STR(back.lowered[1], "plain");
    CHECK_EQ_INT(back.nfacts, 2);
    CHECK_EQ_INT(back.facts[0].smem_bytes, 4096);
    nvrtc_result_free(&back);
    int all_rejected = 1;
    for (size_t cut = 0; cut < len; cut++) { /* every truncation is rejected, none overreads */
        char *part = malloc(cut ? cut : 1);
        memcpy(part, bytes, cut);
        all_rejected &= nvrtc_result_decode(part, cut, &back) == -1;
        free(part);
    }
    CHECK(all_rejected);
    unsigned seed = 3;
    for (int i = 0; i < 2000; i++) { /* random flips: accepted or rejected, never a crash */
        char *copy = malloc(len);
        memcpy(copy, bytes, len);
        copy[(size_t)rand_r(&seed) % len] ^= (char)(1 + rand_r(&seed) % 255);
        if (nvrtc_result_decode(copy, len, &back) == 0) nvrtc_result_free(&back);
        free(copy);
    }
    free(bytes);
    nvrtc_result_free(&r);
}

/* ---- a fake libnvrtc: deterministic, instant, thread-safe ------------------------------- */

struct fake_prog { char *src; char *exprs[64]; char lowered[64][40]; int n; char log[8192]; char cubin[8192]; };

static int f_version(int *a, int *b) { *a = 99; *b = 1; return 0; }
static int f_create(void **p, const char *src, const char *name, int nh, const char *const *h, const char *const *in) {
    struct fake_prog *fp = calloc(1, sizeof *fp);
    fp->src = strdup(src);
    *p = fp;
    return 0;
}
static int f_destroy(void **p) {
    struct fake_prog *fp = *p;
    for (int i = 0; i < fp->n; i++) free(fp->exprs[i]);
    free(fp->src);
    free(fp);
    *p = NULL;
    return 0;
}
static int f_add(void *p, const char *e) {
    struct fake_prog *fp = p;
    if (fp->n == 64) return 3;
    fp->exprs[fp->n++] = strdup(e);
    return 0;
}
static int f_compile(void *p, int nopts, const char *const *opts) {
    struct fake_prog *fp = p;
    if (strstr(fp->src, "slow")) usleep(30000);
    if (strstr(fp->src, "error")) { snprintf(fp->log, sizeof fp->log, "fake: syntax error"); return 6; }
    snprintf(fp->cubin, sizeof fp->cubin, "%s", fp->src);
    for (int i = 0; i < fp->n; i++) {
        if (strstr(fp->exprs[i], "bad")) { snprintf(fp->log, sizeof fp->log, "fake: bad %s", fp->exprs[i]); return 6; }
        size_t at = strlen(fp->log), c = strlen(fp->cubin);
        snprintf(fp->log + at, sizeof fp->log - at,
                 "ptxas info    : Compiling entry function '_Z%s' for 'sm_90'\nptxas info    : Used %d registers\n",
                 fp->exprs[i], 10 + i);
        snprintf(fp->cubin + c, sizeof fp->cubin - c, "|%s", fp->exprs[i]);
    }
    return 0;
}
static int f_cubin_size(void *p, size_t *n) { *n = strlen(((struct fake_prog *)p)->cubin); return 0; }
static int f_cubin(void *p, char *out) { struct fake_prog *fp = p; memcpy(out, fp->cubin, strlen(fp->cubin)); return 0; }
static int f_log_size(void *p, size_t *n) { *n = strlen(((struct fake_prog *)p)->log) + 1; return 0; }
static int f_log(void *p, char *out) { strcpy(out, ((struct fake_prog *)p)->log); return 0; }
static int f_lowered(void *p, const char *e, const char **low) {
    struct fake_prog *fp = p;
    for (int i = 0; i < fp->n; i++)
        if (strcmp(fp->exprs[i], e) == 0) {
            snprintf(fp->lowered[i], sizeof fp->lowered[i], "_Z%s", e);
            *low = fp->lowered[i];
            return 0;
        }
    return 10;
}
static const char *f_err(int rc) { return rc == 6 ? "NVRTC_ERROR_COMPILATION" : "NVRTC_ERROR_OTHER"; }

static struct nvrtc_api fake_api(void) {
    struct nvrtc_api a = {0};
    a.version = f_version, a.create_program = f_create, a.destroy_program = f_destroy;
    a.compile_program = f_compile, a.get_cubin_size = f_cubin_size, a.get_cubin = f_cubin;
    a.get_log_size = f_log_size, a.get_log = f_log, a.add_name_expression = f_add;
    a.get_lowered_name = f_lowered, a.get_error_string = f_err;
    a.major = 99, a.minor = 1;
    return a;
}

static void make_job(struct nvrtc_job *j, const char *src, const char *expr) {
    memset(j, 0, sizeof *j);
    j->source = strdup(src);
    j->source_len = strlen(src);
    if (expr) {
        j->name_exprs = calloc(1, sizeof *j->name_exprs);
        j->name_exprs[0] = strdup(expr);
        j->nname_exprs = 1;
    }
}

static char cache_dir_path[256];

static struct nvsvc *fake_service(int threads, int max_batch) {
    struct nvrtc_api api = fake_api();
    struct nvsvc *s = nvsvc_new(&api);
    static int n;
    snprintf(cache_dir_path, sizeof cache_dir_path, "/tmp/htune-test-nvrtc-%d-%d", (int)getpid(), n++);
    char err[256];
    nvsvc_cache_config(s, cache_dir_path, 0, 1, err, sizeof err);
    struct cache *c = nvsvc_cache(s, err, sizeof err);
    if (c) cache_clear(c);
    nvsvc_set_threads(s, threads);
    nvsvc_set_max_batch(s, max_batch);
    return s;
}

static void drop_service(struct nvsvc *s) {
    char err[256];
    struct cache *c = nvsvc_cache(s, err, sizeof err);
    if (c) cache_clear(c);
    nvsvc_free(s);
    rmdir(cache_dir_path);
}

static void test_service_batches_and_splits(void) {
    struct nvsvc *s = fake_service(1, 4);
    struct nvsvc_ticket *t[9], *blocker;
    char expr[32];
    struct nvrtc_job b;
    make_job(&b, "slow source", "k<0>"); /* holds the one worker while the nine queue */
    blocker = nvsvc_submit(s, &b);
    for (int i = 0; i < 9; i++) {
        struct nvrtc_job j;
        snprintf(expr, sizeof expr, i == 5 ? "bad<%d>" : "k<%d>", i);
        make_job(&j, "#include <x.h>\ntemplate source", expr);
        t[i] = nvsvc_submit(s, &j);
    }
    int ok = 1, batched = 0;
    for (int i = 0; i < 9; i++) {
        nvsvc_wait(s, t[i]);
        struct nvrtc_result *r = &t[i]->res;
        snprintf(expr, sizeof expr, "_Zk<%d>", i);
        if (i == 5) { ok &= !r->ok && strstr(r->log, "bad<5>") != NULL; continue; }
        ok &= r->ok && r->nlowered == 1 && strcmp(r->lowered[0], expr) == 0;
        ok &= r->nfacts == 1 && strcmp(r->facts[0].mangled, expr) == 0 && r->facts[0].regs >= 10;
        batched |= r->batch > 1;
    }
    CHECK(ok);
    CHECK(batched); /* 9 queued behind one worker: coalesced */
    struct nvrtc_job j; /* the same job again: a cache hit, done at submit */
    make_job(&j, "#include <x.h>\ntemplate source", "k<3>");
    struct nvsvc_ticket *again = nvsvc_submit(s, &j);
    CHECK(nvsvc_ready(s, again) && again->res.cached && again->res.ok);
    CHECK_EQ_INT(nvsvc_wait_any(s, &again, 1, 0), 0);
    nvsvc_release(again);
    for (int i = 0; i < 9; i++) nvsvc_release(t[i]);
    nvsvc_release(blocker);
    drop_service(s);
}

static void test_service_failure_is_a_result(void) {
    struct nvsvc *s = fake_service(1, 1);
    struct nvrtc_job j;
    struct nvrtc_result r;
    make_job(&j, "has an error", "k<1>");
    nvsvc_compile(s, &j, &r);
    CHECK(!r.ok);
    CHECK_STR(r.error, "NVRTC_ERROR_COMPILATION");
    CHECK(r.log && strstr(r.log, "syntax error"));
    nvrtc_result_free(&r);
    nvsvc_compile(s, &j, &r); /* failures are not cached */
    CHECK(!r.ok && !r.cached);
    nvrtc_result_free(&r);
    nvrtc_job_free(&j);
    drop_service(s);
}

struct stress { struct nvsvc *s; int seed, wrong, hits; };

static void *stress_thread(void *arg) {
    struct stress *st = arg;
    unsigned seed = (unsigned)st->seed;
    char src[64], expr[32], want[128], err[256];
    for (int i = 0; i < 500; i++) {
        int k = rand_r(&seed) % 40;
        snprintf(src, sizeof src, "source %d", k % 5);
        snprintf(expr, sizeof expr, "k<%d>", k);
        snprintf(want, sizeof want, "%s|%s", src, expr);
        struct nvrtc_job j;
        struct nvrtc_result r;
        make_job(&j, src, expr);
        if (rand_r(&seed) % 8 == 0) { /* corrupt this job's entry under the readers' feet */
            char path[4300];
            cache_entry_path(nvsvc_cache(st->s, err, sizeof err), nvrtc_job_cache_key(&j, nvsvc_api(st->s)), path, sizeof path);
            FILE *f = fopen(path, "r+b");
            if (f) { fseek(f, 40 + rand_r(&seed) % 8, SEEK_SET); fputc('#', f); fclose(f); }
        }
        nvsvc_compile(st->s, &j, &r);
        if (!r.ok || r.cubin_len != strlen(want) || memcmp(r.cubin, want, r.cubin_len) != 0) st->wrong++;
        st->hits += r.cached;
        nvrtc_result_free(&r);
        nvrtc_job_free(&j);
    }
    return NULL;
}

/* The 8 threads x 500 compiles with random cache corruption (fake NVRTC: instant). */
static void test_stress_8x500_with_corruption(void) {
    struct nvsvc *s = fake_service(1, 1);
    pthread_t th[8];
    struct stress st[8];
    for (int i = 0; i < 8; i++) {
        st[i] = (struct stress){s, i + 11, 0, 0};
        pthread_create(&th[i], NULL, stress_thread, &st[i]);
    }
    int wrong = 0, hits = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        wrong += st[i].wrong;
        hits += st[i].hits;
    }
    CHECK_EQ_INT(wrong, 0);
    CHECK(hits > 1000);
    char err[256];
    struct cache_stats cs;
    cache_stats(nvsvc_cache(s, err, sizeof err), &cs);
    CHECK(cs.corrupt > 0); /* corruption was seen and recompiled */
    drop_service(s);
}

/* htune's cache keys what NVRTC's own cache would: every compile says --no-cache, unless the
 * api keeps the driver's cache (NVRTC < 13, or $HTUNE_NVRTC_DRIVER_CACHE=1 at load). */
static int seen_no_cache;
static int f_compile_seeing(void *p, int nopts, const char *const *opts) {
    seen_no_cache = 0;
    for (int i = 0; i < nopts; i++) seen_no_cache += strcmp(opts[i], "--no-cache") == 0;
    return f_compile(p, nopts, opts);
}
static void test_no_driver_cache_option(void) {
    struct nvrtc_api api = fake_api();
    api.compile_program = f_compile_seeing;
    struct nvrtc_job j;
    struct nvrtc_result r;
    make_job(&j, "src", "k<1>");
    for (int keep = 0; keep <= 1; keep++) {
        api.driver_cache = keep;
        seen_no_cache = -1;
        nvrtc_compile(&api, &j, &r, NULL);
        CHECK(r.ok);
        CHECK_EQ_INT(seen_no_cache, keep ? 0 : 1);
        nvrtc_result_free(&r);
    }
    nvrtc_job_free(&j);
}

/* ---- real libnvrtc (skipped with a reason when absent) ---------------------------------- */

static void test_real_nvrtc(void) {
    struct nvrtc_api api;
    char err[512];
    if (nvrtc_api_load(&api, err, sizeof err) != 0) {
        printf("skip: real NVRTC: %s\n", err);
        return;
    }
    CHECK(api.major >= 12);
    const char *keep = getenv("HTUNE_NVRTC_DRIVER_CACHE");
    /* unless kept, the compiles below pass --no-cache on 13+ */
    CHECK_EQ_INT(api.driver_cache, api.major < 13 || (keep && strcmp(keep, "1") == 0));
    struct nvrtc_job j;
    struct nvrtc_result r;
    make_job(&j, "template<int N> __global__ void k(float *x) { x[threadIdx.x] *= N; }", "k<3>");
    nvrtc_compile(&api, &j, &r, NULL);
    CHECK(r.ok && r.cubin_len > 100 && memcmp(r.cubin, "\x7f" "ELF", 4) == 0);
    CHECK(r.nlowered == 1 && r.lowered[0] && strcmp(r.lowered[0], "_Z1kILi3EEvPf") == 0);
    CHECK(r.nfacts == 1 && r.facts[0].regs > 0 && r.facts[0].spill_stores == 0);
    nvrtc_result_free(&r);
    free(j.arch);
    j.arch = strdup("sm_12345");
    nvrtc_compile(&api, &j, &r, NULL);
    CHECK(!r.ok && r.error[0] && r.log);
    nvrtc_result_free(&r);
    nvrtc_job_free(&j);
    nvrtc_api_unload(&api);
    char *was = keep ? strdup(keep) : NULL;
    setenv("HTUNE_NVRTC_DRIVER_CACHE", "1", 1);
    int loaded = nvrtc_api_load(&api, err, sizeof err) == 0;
    if (was) setenv("HTUNE_NVRTC_DRIVER_CACHE", was, 1);
    else unsetenv("HTUNE_NVRTC_DRIVER_CACHE");
    free(was);
    CHECK(loaded && api.driver_cache == 1);
    if (loaded) nvrtc_api_unload(&api);
}

/* No libnvrtc: the service still exists, says why, and its cache still works. */
static void test_without_nvrtc(void) {
    setenv("HTUNE_NVRTC", "/nonexistent/libnvrtc.so.13", 1);
    struct nvsvc *s = nvsvc_new(NULL);
    unsetenv("HTUNE_NVRTC");
    CHECK(s != NULL);
    CHECK(nvsvc_error(s) && strstr(nvsvc_error(s), "/nonexistent/libnvrtc.so.13"));
    char err[256];
    nvsvc_cache_config(s, "/tmp/htune-test-nonvrtc", 0, 1, err, sizeof err);
    struct cache *c = nvsvc_cache(s, err, sizeof err);
    CHECK(c != NULL);
    if (c) cache_clear(c);
    nvsvc_free(s);
    rmdir("/tmp/htune-test-nonvrtc");
}

int main(void) {
    RUN(test_without_nvrtc);
    RUN(test_parse_ptxas);
    RUN(test_fuzz_ptxas);
    RUN(test_encode_decode);
    RUN(test_service_batches_and_splits);
    RUN(test_service_failure_is_a_result);
    RUN(test_stress_8x500_with_corruption);
    RUN(test_no_driver_cache_option);
    RUN(test_real_nvrtc);
    return test_report();
}
