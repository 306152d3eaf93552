/*
 * engine/core/grow.c — cs_grow, the engine's one array growth helper
 * (grow_internal.h documents the contract).
 *
 * Does: doubles a capacity until it holds `need`, checking that neither the
 * element count (against the caller's `max`) nor the byte size overflows,
 * then reallocs once. Does not: zero the new elements, shrink, or free.
 * Also cs_zalloc_huge: a zeroed table on transparent huge pages, the one
 * such allocation of the build side (the intern tables).
 * Thread-safety: none needed (the caller owns the array).
 * Tests: every vector of the builder, the ingest readers and the audit grows
 * through it; tests/test_faults.c fails each allocation in turn.
 */
#include "core/grow_internal.h"

#include <cidrscope/error.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int cs_grow(void **v, size_t *cap, size_t need, size_t elem, size_t max)
{
    if (need <= *cap)
        return 0;
    if (need > max)
        return CS_ERANGE;
    if (elem == 0 || need > SIZE_MAX / elem)
        return CS_ENOMEM;
    size_t c = *cap ? *cap : 16;
    while (c < need)
        c = c > max / 2 ? max : c * 2;
    if (c > SIZE_MAX / elem)
        c = need;
    void *n = realloc(*v, c * elem);
    if (!n)
        return CS_ENOMEM;
    *v = n;
    *cap = c;
    return 0;
}

int cs_grow32(void **v, uint32_t *cap, size_t need, size_t elem, uint32_t max)
{
    size_t c = *cap;
    int rc = cs_grow(v, &c, need, elem, max);
    if (rc == 0)
        *cap = (uint32_t)c;
    return rc;
}

void *cs_zalloc_huge(size_t bytes)
{
    const size_t huge = (size_t)2 << 20;
    if (bytes < huge)
        return calloc(1, bytes ? bytes : 1);
    if (bytes > SIZE_MAX - huge)
        return NULL;
    size_t rounded = (bytes + huge - 1) & ~(huge - 1);
    void *p = aligned_alloc(huge, rounded);
    if (!p)
        return NULL;
#ifdef MADV_HUGEPAGE
    /* Hints; failure is harmless. [p, p + rounded) is ours alone, but
     * malloc may hand back heap pages already faulted in as 4 KiB pages:
     * dropping them (they read back as zeros) lets the first touch fault
     * huge pages. */
    (void)madvise(p, rounded, MADV_HUGEPAGE);
    (void)madvise(p, rounded, MADV_DONTNEED);
#endif
    memset(p, 0, bytes);
    return p;
}
