/*
 * engine/core/sort_internal.h — the engine's one sort of 64-bit keys, for
 * layers that pack what they order into a uint64_t (the freeze's IPv4
 * entries, the audit's tests). Tests: tests/test_audit.c
 * (audit__radix_sort_matches_qsort) against qsort.
 */
#ifndef CS_SORT_INTERNAL_H
#define CS_SORT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* Sorts a[0..n) ascending. tmp holds n more keys (scratch). qsort when n is
 * small or the digit counts cannot be allocated, else an LSD radix sort by
 * 16-bit digits that skips a digit equal in every key. */
void cs_sort_u64(uint64_t *a, uint64_t *tmp, size_t n);

#endif
