/*
 * engine/core/grow_internal.h — the one growth helper of the engine: a
 * caller-owned array (pointer + capacity in elements) made to hold at least
 * `need` elements, doubling from 16. Every growing vector of every layer
 * uses it (build, query, ingest, serve), so the overflow check is written
 * once. Tests: tests/test_faults.c (failing allocator) covers its callers.
 */
#ifndef CS_GROW_INTERNAL_H
#define CS_GROW_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/*
 * Makes *v (an array of `elem`-byte elements, *cap of them allocated) hold
 * at least `need` elements: nothing when it already does, else realloc to
 * the next doubling of *cap (16 when empty). On success returns 0 and
 * updates *v and *cap. Returns CS_ERANGE when `need` is more than `max`
 * elements (what the structure can index: 32-bit tables pass their
 * limit; SIZE_MAX when none), CS_ENOMEM when the bytes would overflow
 * size_t or realloc fails; then *v and *cap are unchanged. The capacity
 * never exceeds `max`. Pure apart from realloc.
 */
int cs_grow(void **v, size_t *cap, size_t need, size_t elem, size_t max);

/* cs_grow for a uint32_t capacity (tables indexed by 32-bit indices):
 * `max` elements at most (<= UINT32_MAX). */
int cs_grow32(void **v, uint32_t *cap, size_t need, size_t elem, uint32_t max);

/*
 * `bytes` zeroed bytes for a large table read at random (a hash table's
 * slots): from 2 MiB on, 2 MiB-aligned and advised as transparent huge
 * pages, so a random probe of a table of many megabytes costs a cache miss
 * but no TLB miss and page walk; below that, plain calloc. Released with
 * free(). Returns NULL when out of memory.
 */
void *cs_zalloc_huge(size_t bytes);

#endif
