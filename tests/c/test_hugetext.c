/* hugetext: the real libnvrtc's read-only mappings moved onto anonymous huge-page memory keep
 * every byte and address (checksums before and after, a compile after), the addresses are then
 * anonymous, and addresses outside any file mapping are refused with the address named.
 * Skipped with a printed reason where libnvrtc is absent. */
#include "hugetext.h"
#include "nvrtc.h"
#include "test.h"
#include "util.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ranges { uintptr_t lo[32], hi[32]; int n; size_t bytes; unsigned long long inode; };

/* The non-writable mappings of the file whose mapping holds addr, and the inode of the maps
 * line holding addr (0: anonymous). r->n is 0 when addr is in no file mapping. */
static void ranges_of(const void *addr, struct ranges *r) {
    memset(r, 0, sizeof *r);
    size_t len;
    char err[256];
    char *maps = util_read_file("/proc/self/maps", &len, err, sizeof err);
    if (!maps) return;
    char path[1024] = "";
    for (int pass = 0; pass < 2; pass++) {
        for (char *line = maps; *line;) {
            unsigned long long lo, hi, ino;
            char perms[5], p[1024] = "";
            int used = 0;
            if (sscanf(line, "%llx-%llx %4s %*s %*s %llu %n", &lo, &hi, perms, &ino, &used) >= 4 && used) {
                sscanf(line + used, "%1023[^\n]", p);
                if (pass == 0 && (uintptr_t)addr >= lo && (uintptr_t)addr < hi) {
                    r->inode = ino;
                    if (ino) snprintf(path, sizeof path, "%s", p);
                }
                if (pass == 1 && path[0] && strcmp(p, path) == 0 && perms[0] == 'r' && perms[1] != 'w' && r->n < 32) {
                    r->lo[r->n] = (uintptr_t)lo;
                    r->hi[r->n] = (uintptr_t)hi;
                    r->bytes += hi - lo;
                    r->n++;
                }
            }
            char *nl = strchr(line, '\n');
            if (!nl) break;
            line = nl + 1;
        }
    }
    free(maps);
}

/* FNV-1a over every byte of the ranges. */
static uint64_t checksum(const struct ranges *r) {
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < r->n; i++)
        for (const unsigned char *b = (const unsigned char *)r->lo[i]; b < (const unsigned char *)r->hi[i]; b++)
            h = (h ^ *b) * 1099511628211ull;
    return h;
}

static void compile_still_works(const struct nvrtc_api *api) {
    struct nvrtc_job j;
    memset(&j, 0, sizeof j);
    const char *src = "template<int N> __global__ void k(float *x) { x[threadIdx.x] *= N; }";
    j.source = strdup(src);
    j.source_len = strlen(src);
    j.name_exprs = calloc(1, sizeof *j.name_exprs);
    j.name_exprs[0] = strdup("k<5>");
    j.nname_exprs = 1;
    struct nvrtc_result r;
    nvrtc_compile(api, &j, &r, NULL);
    CHECK(r.ok && r.cubin_len > 100 && memcmp(r.cubin, "\x7f" "ELF", 4) == 0);
    CHECK(r.nlowered == 1 && r.lowered[0] && strcmp(r.lowered[0], "_Z1kILi5EEvPf") == 0);
    nvrtc_result_free(&r);
    nvrtc_job_free(&j);
}

static void test_remap_real_nvrtc(void) {
    struct nvrtc_api api;
    char err[512];
    if (nvrtc_api_load(&api, err, sizeof err) != 0) {
        printf("skip: hugetext on libnvrtc: %s\n", err);
        return;
    }
    const void *fn = (const void *)api.compile_program;
    struct ranges before, after;
    ranges_of(fn, &before);
    if (before.inode == 0) {
        printf("skip: hugetext on libnvrtc: %p is not in a file mapping here\n", fn);
        nvrtc_api_unload(&api);
        return;
    }
    CHECK(before.n > 0 && before.bytes > ((size_t)4 << 20));
    uint64_t sum = checksum(&before);
    struct hugetext_stats st;
    int rc = hugetext_remap(fn, &st, err, sizeof err);
    if (rc != 0) fprintf(stderr, "hugetext_remap: %s\n", err);
    CHECK_EQ_INT(rc, 0);
    CHECK(st.remapped > 0 && st.remapped % ((size_t)2 << 20) == 0 && st.regions > 0);
    CHECK(st.huge <= st.remapped);
    printf("libnvrtc: %zu of %zu MB remapped in %d mappings, %zu MB on huge pages\n", st.remapped >> 20,
           before.bytes >> 20, st.regions, st.huge >> 20);
    /* the same bytes at the same addresses, the function's page now anonymous */
    CHECK(checksum(&before) == sum);
    ranges_of(fn, &after);
    CHECK_EQ_INT(after.inode, 0);
    CHECK_EQ_INT(after.n, 0);
    compile_still_works(&api);
    /* a second remap finds no file at that address, and says which address */
    rc = hugetext_remap(fn, &st, err, sizeof err);
    CHECK_EQ_INT(rc, -1);
    char want[64];
    snprintf(want, sizeof want, "%p", fn);
    CHECK(strstr(err, want) && strstr(err, "no file mapping"));
    CHECK(st.remapped == 0 && st.regions == 0);
    nvrtc_api_unload(&api);
}

static void test_refusals(void) {
    char err[256];
    struct hugetext_stats st;
    int on_stack = 0;
    CHECK_EQ_INT(hugetext_remap(&on_stack, &st, err, sizeof err), -1);
    CHECK(strstr(err, "no file mapping") != NULL);
    void *heap = malloc(64);
    CHECK_EQ_INT(hugetext_remap(heap, &st, err, sizeof err), -1);
    free(heap);
    /* a fake api (no library handle) is left alone */
    struct nvrtc_api fake;
    memset(&fake, 0, sizeof fake);
    nvrtc_huge_text(&fake);
    CHECK(fake.text_remapped == 0 && fake.text_huge == 0 && fake.text_note[0] == '\0');
}

int main(void) {
    RUN(test_refusals);
    RUN(test_remap_real_nvrtc);
    return test_report();
}
