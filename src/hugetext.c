/* Huge-page copies of a library's read-only mappings (see hugetext.h). Each 2 MB-aligned interior
 * of a mapping is copied into anonymous memory advised MADV_HUGEPAGE, given the mapping's
 * protection and moved over the original with mremap: the same bytes at the same addresses, so
 * nothing in the library notices, but its code and constants sit on 2 MB pages. */
#include "hugetext.h"
#include "util.h"
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_SZ ((uintptr_t)2 << 20)

struct region { uintptr_t lo, hi; int prot; };

/* One line of /proc/self/maps: "lo-hi perms offset dev inode   path". 0 when it parses. */
static int parse_maps_line(const char *line, uintptr_t *lo, uintptr_t *hi, char perms[5], const char **path) {
    unsigned long long a, b, ino;
    int used = 0;
    if (sscanf(line, "%llx-%llx %4s %*s %*s %llu %n", &a, &b, perms, &ino, &used) < 4 || used == 0) return -1;
    *lo = (uintptr_t)a;
    *hi = (uintptr_t)b;
    *path = ino ? line + used : NULL;
    return 0;
}

/* The non-writable mappings of the file holding addr, into regs (at most cap). -1 if addr is in none. */
static int find_regions(char *maps, uintptr_t addr, struct region *regs, int cap, int *n) {
    char path[4096] = "";
    for (char *line = maps; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        uintptr_t lo, hi;
        char perms[5];
        const char *p;
        if (parse_maps_line(line, &lo, &hi, perms, &p) == 0 && p && addr >= lo && addr < hi)
            snprintf(path, sizeof path, "%s", p);
        if (nl) *nl = '\n';
        line = nl ? nl + 1 : NULL;
    }
    if (!path[0]) return -1;
    *n = 0;
    for (char *line = maps; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        uintptr_t lo, hi;
        char perms[5];
        const char *p;
        if (parse_maps_line(line, &lo, &hi, perms, &p) == 0 && p && strcmp(p, path) == 0 && perms[1] != 'w' &&
            perms[0] == 'r' && *n < cap) {
            regs[*n].lo = lo;
            regs[*n].hi = hi;
            regs[*n].prot = PROT_READ | (perms[2] == 'x' ? PROT_EXEC : 0);
            (*n)++;
        }
        if (nl) *nl = '\n';
        line = nl ? nl + 1 : NULL;
    }
    return 0;
}

/* Copies [lo, hi) (2 MB-aligned) to huge pages and moves the copy over it. 0, or -1 (errno set,
 * the original left in place). */
static int remap_one(uintptr_t lo, uintptr_t hi, int prot) {
    size_t len = hi - lo;
    char *raw = mmap(NULL, len + HUGE_SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return -1;
    uintptr_t t = ((uintptr_t)raw + HUGE_SZ - 1) & ~(HUGE_SZ - 1);
    if (t > (uintptr_t)raw) munmap(raw, t - (uintptr_t)raw);
    uintptr_t end = (uintptr_t)raw + len + HUGE_SZ;
    if (end > t + len) munmap((void *)(t + len), end - (t + len));
    if (madvise((void *)t, len, MADV_HUGEPAGE) != 0) goto fail; /* no THP in this kernel */
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22 /* Linux 5.14 */
#endif
    /* the source's page tables in one call, not one fault per 4 KB page in memcpy (a kernel
     * without it says EINVAL: the faults then happen as before) */
    (void)madvise((void *)lo, len, MADV_POPULATE_READ);
    memcpy((void *)t, (const void *)lo, len);
    if (mprotect((void *)t, len, prot) != 0) goto fail;
    if (mremap((void *)t, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)lo) == MAP_FAILED) goto fail;
    return 0;
fail:;
    int e = errno;
    munmap((void *)t, len);
    errno = e;
    return -1;
}

/* AnonHugePages of the smaps entries that start inside [lo, hi), in bytes. */
static size_t huge_bytes(const char *smaps, uintptr_t lo, uintptr_t hi) {
    size_t total = 0;
    int inside = 0;
    for (const char *line = smaps; line && *line;) {
        unsigned long long a, b, kb;
        if (sscanf(line, "%llx-%llx ", &a, &b) == 2 && strchr(line, '-') < strchr(line, ' '))
            inside = (uintptr_t)a >= lo && (uintptr_t)a < hi;
        else if (inside && sscanf(line, "AnonHugePages: %llu kB", &kb) == 1)
            total += (size_t)kb * 1024;
        const char *nl = strchr(line, '\n');
        line = nl ? nl + 1 : NULL;
    }
    return total;
}

int hugetext_remap(const void *addr, struct hugetext_stats *st, char *err, size_t errlen) {
    memset(st, 0, sizeof *st);
    size_t len;
    char *maps = util_read_file("/proc/self/maps", &len, err, errlen);
    if (!maps) return -1;
    struct region regs[16];
    int n = 0;
    if (find_regions(maps, (uintptr_t)addr, regs, 16, &n) != 0) {
        free(maps);
        snprintf(err, errlen, "address %p is in no file mapping of /proc/self/maps", addr);
        return -1;
    }
    free(maps);
    for (int i = 0; i < n; i++) {
        uintptr_t lo = (regs[i].lo + HUGE_SZ - 1) & ~(HUGE_SZ - 1), hi = regs[i].hi & ~(HUGE_SZ - 1);
        regs[i].lo = regs[i].hi = 0; /* counted below only once remapped */
        if (hi <= lo) continue;
        if (remap_one(lo, hi, regs[i].prot) != 0) {
            snprintf(err, errlen, "remapping %#" PRIxPTR "-%#" PRIxPTR " failed: %s", lo, hi, strerror(errno));
            return -1;
        }
        regs[i].lo = lo;
        regs[i].hi = hi;
        st->remapped += hi - lo;
        st->regions++;
    }
    char *smaps = util_read_file("/proc/self/smaps", &len, err, errlen);
    if (!smaps) return 0; /* remapped; the count is only a report */
    for (int i = 0; i < n; i++)
        if (regs[i].hi > regs[i].lo) st->huge += huge_bytes(smaps, regs[i].lo, regs[i].hi);
    free(smaps);
    return 0;
}
