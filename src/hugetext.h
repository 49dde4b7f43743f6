/* Copies the read-only mappings of a loaded shared library (its code above all) onto
 * transparent huge pages at the same addresses, so that a large compiler library such as
 * libnvrtc (78 MB of code) costs the TLB 2 MB pages instead of 4 KB ones. No Lua here. */
#ifndef HTUNE_HUGETEXT_H
#define HTUNE_HUGETEXT_H
#include <stddef.h>

struct hugetext_stats {
    size_t remapped;  /* bytes now backed by anonymous memory advised MADV_HUGEPAGE */
    size_t huge;      /* of those, bytes the kernel reports as AnonHugePages (/proc/self/smaps) */
    int regions;      /* mappings remapped */
};

/* Remaps the 2 MB-aligned interior of every non-writable file mapping of the file that holds
 * addr (a function of the library). Call before any thread runs the library's code. Returns 0
 * (stats filled; remapped 0 when nothing was large enough) or -1 with err filled; the mapping
 * a failure happened on is left as it was (earlier ones keep their copies: the same bytes). */
int hugetext_remap(const void *addr, struct hugetext_stats *st, char *err, size_t errlen);
#endif
