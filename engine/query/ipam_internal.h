/*
 * engine/query/ipam_internal.h — what engine/query/ipam.c (free space,
 * allocation) and engine/query/ipam_index.c (the per-image index of the
 * free holes) share: addresses as unsigned 128-bit numbers (IPv4 in the low
 * 32 bits, so both families share one code path) and the index's read side.
 */
#ifndef CS_IPAM_INTERNAL_H
#define CS_IPAM_INTERNAL_H

#include <cidrscope/ipam.h>
#include <cidrscope/snapshot.h>

#include <stdbool.h>
#include <stdint.h>

__extension__ typedef unsigned __int128 u128;

static inline unsigned ipam_width(unsigned family)
{
    return family == CS_AF_V4 ? 32u : 128u;
}

/* 2^bits - 1 (bits <= 128). */
static inline u128 ipam_ones(unsigned bits)
{
    return bits >= 128 ? ~(u128)0 : ((u128)1 << bits) - 1;
}

static inline u128 ipam_first(const cs_prefix *p)
{
    if (p->family == CS_AF_V4)
        return (u128)(p->hi >> 32);
    return ((u128)p->hi << 64) | p->lo;
}

static inline u128 ipam_last(const cs_prefix *p)
{
    return ipam_first(p) | ipam_ones(ipam_width(p->family) - p->len);
}

static inline cs_prefix ipam_prefix_at(unsigned family, u128 a, unsigned len)
{
    if (family == CS_AF_V4)
        return cs_prefix_from_v4((uint32_t)a, len);
    return cs_prefix_from_v6((uint64_t)(a >> 64), (uint64_t)a, len);
}

/* floor(log2(n)), n > 0. */
static inline unsigned ipam_log2(u128 n)
{
    uint64_t hi = (uint64_t)(n >> 64), lo = (uint64_t)n;
    return hi ? 127u - (unsigned)__builtin_clzll(hi) : 63u - (unsigned)__builtin_clzll(lo);
}

/* Index of the lowest set bit, n > 0. */
static inline unsigned ipam_lowbit(u128 n)
{
    uint64_t lo = (uint64_t)n;
    return lo ? (unsigned)__builtin_ctzll(lo) : 64u + (unsigned)__builtin_ctzll((uint64_t)(n >> 64));
}

/*
 * THE INDEX OF FREE HOLES (engine/query/ipam_index.c). Per family, the gaps
 * between the snapshot's stored prefixes (the maximal address intervals no
 * stored prefix covers), in address order, with a summary tree over them:
 * for every run of 16^k gaps, the set of hole sizes their minimal CIDR
 * lists hold. Built by one walk of the family the first time an allocation
 * asks for it, then cached with the snapshot (snap_derived) until it is
 * closed. A hole is named by its start and its size exponent `exp` (2^exp
 * addresses: prefix length = width - exp).
 */
typedef struct ipam_index ipam_index;

typedef struct ipam_hole {
    u128 at;       /* first address */
    unsigned exp;  /* 2^exp addresses */
} ipam_hole;

/* The index of `family`'s stored prefixes, built on first use; NULL when
 * it cannot be allocated (the caller fails with CS_ENOMEM). Thread-safe. */
const ipam_index *ipam_index_of(const cs_snapshot *s, unsigned family);
/* Whether the index of `family` was already built (never builds). */
bool ipam_index_ready(const cs_snapshot *s, unsigned family);

/*
 * The hole that `strategy` picks among the holes of exponent >= kb of the
 * free space of [x, y] (x <= y): the addresses of [x, y] no stored prefix
 * of ix covers (ix NULL: all of them), cut into maximal free intervals
 * and each into its minimal CIDR list. CS_IPAM_FIRST: the lowest such
 * hole; CS_IPAM_BEST_FIT: the lowest of the smallest; CS_IPAM_SPREAD: the
 * lowest of the largest. *gap_hint (nullable) is where the search starts
 * looking (a gap index returned by an earlier call on a lower x; 0 when
 * unknown) and receives the gap index of x. Returns false when no hole of
 * exponent >= kb lies in [x, y]. O(log gaps). Pure read, thread-safe.
 */
bool ipam_index_pick(const ipam_index *ix, unsigned family, u128 x, u128 y, unsigned strategy,
                     unsigned kb, size_t *gap_hint, ipam_hole *out);

#endif
