/*
 * engine/query/interval_internal.h — the interval primitives beside the one
 * walk (engine/query/walk_internal.h): a stored prefix as its closed address
 * interval, the live blocks of a family grouped by owner straight from the
 * walk (DFS preorder is address order, so each owner's run comes out sorted
 * with no sort), and the merge-style overlap test of two sorted runs. The
 * peering index (engine/query/peering_index.c) decides every bulk overlap
 * with these; the walk itself is query.c's. Read side only, thread-safe.
 * Tests: tests/test_peering.c (runs equal the estate's live blocks; the
 * merge against a double loop; bulk == single == brute force).
 */
#ifndef CS_INTERVAL_INTERNAL_H
#define CS_INTERVAL_INTERNAL_H

#include <cidrscope/query.h>

#include <stdbool.h>
#include <stdint.h>

/* Closed intervals [first, last] of IPv4 and IPv6 addresses. */
typedef struct cs_ival4 {
    uint32_t first, last;
} cs_ival4;

typedef struct cs_ival6 {
    uint64_t fhi, flo, lhi, llo;
} cs_ival6;

static inline void cs_ival4_of(const cs_prefix *p, cs_ival4 *b)
{
    uint32_t first = (uint32_t)(p->hi >> 32);
    uint32_t span = p->len == 0 ? UINT32_MAX : (p->len >= 32 ? 0 : (UINT32_MAX >> p->len));
    b->first = first;
    b->last = first | span;
}

static inline void cs_ival6_of(const cs_prefix *p, cs_ival6 *b)
{
    b->fhi = p->hi;
    b->flo = p->lo;
    if (p->len == 0) {
        b->lhi = b->llo = UINT64_MAX;
    } else if (p->len < 64) {
        b->lhi = p->hi | (UINT64_MAX >> p->len);
        b->llo = UINT64_MAX;
    } else if (p->len == 64) {
        b->lhi = p->hi;
        b->llo = UINT64_MAX;
    } else {
        b->lhi = p->hi;
        b->llo = p->lo | (p->len >= 128 ? 0 : UINT64_MAX >> (p->len - 64));
    }
}

/* (hi1, lo1) < (hi2, lo2) as 128-bit numbers. */
static inline bool cs_ival_lt128(uint64_t hi1, uint64_t lo1, uint64_t hi2, uint64_t lo2)
{
    return hi1 < hi2 || (hi1 == hi2 && lo1 < lo2);
}

/* ---- overlap of sorted runs ---------------------------------------------------
 *
 * Both runs sorted by first address. If a[i] lies wholly before b[j]
 * (a[i].last < b[j].first) it cannot meet b[j] nor any later b (their firsts
 * are >= b[j].first), and every earlier b was passed because it lay wholly
 * before some a[i'] with i' <= i, so before a[i] too: a[i] can be dropped.
 * Symmetrically for b[j]. So the first intersecting pair is found in
 * O(na + nb) steps, whatever the runs hold (overlaps within one run
 * included). */

static inline bool cs_ival4_overlap(const cs_ival4 *a, uint32_t na, const cs_ival4 *b,
                                    uint32_t nb)
{
    /* Small runs (the common case: a few blocks each): every pair, with no
     * data-dependent branch to mispredict. Two intervals meet when each
     * starts before the other ends. */
    if (na * nb <= 36 && na <= 8 && nb <= 8) {
        unsigned hit = 0;
        for (uint32_t x = 0; x < na; x++)
            for (uint32_t y = 0; y < nb; y++)
                hit |= (unsigned)(a[x].first <= b[y].last) & (unsigned)(b[y].first <= a[x].last);
        return hit != 0;
    }
    uint32_t i = 0, j = 0;
    while (i < na && j < nb) {
        if (a[i].last < b[j].first)
            i++;
        else if (b[j].last < a[i].first)
            j++;
        else
            return true;
    }
    return false;
}

static inline bool cs_ival6_overlap(const cs_ival6 *a, uint32_t na, const cs_ival6 *b,
                                    uint32_t nb)
{
    uint32_t i = 0, j = 0;
    while (i < na && j < nb) {
        if (cs_ival_lt128(a[i].lhi, a[i].llo, b[j].fhi, b[j].flo))
            i++;
        else if (cs_ival_lt128(b[j].lhi, b[j].llo, a[i].fhi, a[i].flo))
            j++;
        else
            return true;
    }
    return false;
}

/*
 * The stored prefixes of family fam (0 IPv4, 1 IPv6) as intervals grouped
 * by owner: owner_of[value] names the owner of an entry value (values at or
 * past n_values, and owners at or past n_owners, are skipped). at[0 ..
 * n_owners] receives the run starts (owner o's run is out[at[o] .. at[o+1]));
 * out (out4 for IPv4, out6 for IPv6; the other may be NULL) needs room for
 * the family's entry count. Each run is in address order (the walk's DFS
 * preorder: by first address, a shorter prefix before a longer one with the
 * same first). Returns the number of intervals written.
 */
uint64_t cs_ival_by_owner(const cs_snapshot *s, unsigned fam, const uint32_t *owner_of,
                          uint32_t n_values, uint32_t n_owners, uint64_t *at,
                          cs_ival4 *out4, cs_ival6 *out6);

#endif
