/*
 * engine/core/grow.c — cs_grow, the engine's one array growth helper
 * (grow_internal.h documents the contract).
 *
 * Does: doubles a capacity until it holds `need`, checking that neither the
 * element count (against the caller's `max`) nor the byte size overflows,
 * then reallocs once. Does not: zero the new elements, shrink, or free.
 * Thread-safety: none needed (the caller owns the array).
 * Tests: every vector of the builder, the ingest readers and the audit grows
 * through it; tests/test_faults.c fails each allocation in turn.
 */
#include "core/grow_internal.h"

#include <cidrscope/error.h>

#include <stdlib.h>

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
