/*
 * engine/query/ipam_index.c — the per-image index of free holes that lets an
 * allocation pick its hole in O(log gaps) instead of walking every stored
 * prefix inside the pool (engine/query/ipam_internal.h).
 *
 * Does: build, once per snapshot and family (cached by snap_derived until
 * the snapshot is closed), the gaps between the family's stored prefixes
 * and a summary tree of their hole sizes; answer "which hole of [x, y]
 * does first / best-fit / spread pick". Does not: know about pools,
 * extra blocks, reservations or the blocks a call already took (ipam.c
 * cuts those out by asking about the free intervals between them), nor
 * list holes (cs_ipam_free walks).
 *
 * STRUCTURE.
 *
 *   gaps   g[0..n): maximal intervals [lo, hi] that no stored prefix
 *          covers, ascending (IPv4: two u32 each; IPv6: two u128)
 *   sets   a gap's hole sizes, as a bit set over exponents (bit e: a hole
 *          of 2^e addresses), computed in O(1) from its bounds (below)
 *   tree   level 1: the union of the sets of 16 consecutive gaps; level
 *          k: of 16 consecutive level-(k-1) nodes; up to one node
 *
 *      level 2   [ 0..255 ]                  [ 256..511 ] ...
 *      level 1   [0..15] [16..31] ... [240..255] [256..271] ...
 *      gaps       g0 g1 ... g15 g16 ...
 *
 * A query for [x, y] finds its first and last gaps by binary search (from
 * a hint: galloping), takes the two end gaps clipped to [x, y] directly,
 * and the gaps between through the tree: the union of their sets (at most
 * 15 nodes per level on each side), then the lowest gap whose set holds a
 * wanted size (descend 16 children per level). Cost O(16 log16 n) set
 * operations: ~1 us at 1M gaps.
 *
 * THE HOLES OF A GAP [a, b] in O(1). With e = b + 1 and h the highest bit
 * where a and e differ, mid = e with its bits below h cleared splits the
 * minimal CIDR list in two: ascending from a to mid, one block per set bit
 * of (mid - a), smallest first; descending from mid to e, one per set bit
 * of (e - mid), largest first. So the set of hole sizes is exactly
 * (mid - a) | (e - mid), and the lowest hole of a wanted size is found from
 * the lowest wanted bit of (mid - a), else the highest of (e - mid). When
 * e overflows (an IPv6 gap to the last address) the list is ascending
 * only: -a. A gap of the whole IPv6 space (no IPv6 prefix stored) would
 * need bit 128; it is clamped to 127, which only the tree sees (a query
 * interval is never the whole space, so that gap is always clipped).
 *
 * Memory: 8 (IPv4) or 32 (IPv6) bytes per gap + 16 bytes per 15 gaps.
 *
 * Tests: tests/test_ipam.c (allocation against a brute-force bitmap, with
 * the index and without it).
 */
#include "query/ipam_internal.h"
#include "query/walk_internal.h"

#include <stdlib.h>
#include <string.h>

#define FAN_BITS 4u
#define FAN (1u << FAN_BITS)
#define LEVELS_MAX 16

struct ipam_index {
    unsigned family;
    size_t n;                   /* gaps */
    uint32_t *g4;               /* IPv4: lo, hi per gap */
    u128 *g6;                   /* IPv6: lo, hi per gap */
    unsigned levels;            /* tree levels above the gaps */
    size_t lv_n[LEVELS_MAX];    /* nodes per level (lv[0] unused) */
    u128 *lv[LEVELS_MAX];
};

/* ---- gaps and their hole sets ------------------------------------------- */

static u128 gap_lo(const ipam_index *ix, size_t i)
{
    return ix->g4 ? (u128)ix->g4[2 * i] : ix->g6[2 * i];
}

static u128 gap_hi(const ipam_index *ix, size_t i)
{
    return ix->g4 ? (u128)ix->g4[2 * i + 1] : ix->g6[2 * i + 1];
}

/* The split of [a, b]'s minimal CIDR list (above): *up = the ascending
 * part's sizes (mid - a), *down = the descending part's (e - mid), *mid. */
static void gap_split(u128 a, u128 b, unsigned w, u128 *up, u128 *down, u128 *mid)
{
    if (w == 128 && b == ~(u128)0) {
        /* e = 2^128: ascending only (a = 0 is the whole space: clamped). */
        *up = a ? -a : (u128)1 << 127;
        *down = 0;
        *mid = 0;
        return;
    }
    const u128 e = b + 1;
    const unsigned h = ipam_log2(a ^ e);
    *mid = e & ~ipam_ones(h);
    *up = *mid - a;
    *down = e - *mid;
}

static u128 gap_set(u128 a, u128 b, unsigned w)
{
    u128 up, down, mid;
    gap_split(a, b, w, &up, &down, &mid);
    return up | down;
}

/* The lowest hole of [a, b] whose exponent is in `want` (one is). */
static ipam_hole gap_hole(u128 a, u128 b, unsigned w, u128 want)
{
    u128 up, down, mid;
    gap_split(a, b, w, &up, &down, &mid);
    if (up & want) {
        unsigned j = ipam_lowbit(up & want);
        return (ipam_hole){a + (up & ipam_ones(j)), j};
    }
    unsigned j = ipam_log2(down & want);
    return (ipam_hole){mid + (down & ~ipam_ones(j + 1)), j};
}

static u128 node_set(const ipam_index *ix, unsigned level, size_t i)
{
    if (level)
        return ix->lv[level][i];
    return gap_set(gap_lo(ix, i), gap_hi(ix, i), ipam_width(ix->family));
}

/* ---- build ---------------------------------------------------------------------- */

typedef struct gap_list {
    unsigned family;
    size_t n, cap;
    uint32_t *g4;
    u128 *g6;
    bool oom;
} gap_list;

static void gap_add(gap_list *l, u128 lo, u128 hi)
{
    if (l->oom)
        return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 1024;
        void *q = l->family == CS_AF_V4 ? realloc(l->g4, cap * 2 * sizeof *l->g4)
                                        : realloc(l->g6, cap * 2 * sizeof *l->g6);
        if (!q) {
            l->oom = true;
            return;
        }
        if (l->family == CS_AF_V4)
            l->g4 = q;
        else
            l->g6 = q;
        l->cap = cap;
    }
    if (l->family == CS_AF_V4) {
        l->g4[2 * l->n] = (uint32_t)lo;
        l->g4[2 * l->n + 1] = (uint32_t)hi;
    } else {
        l->g6[2 * l->n] = lo;
        l->g6[2 * l->n + 1] = hi;
    }
    l->n++;
}

static void index_release(void *p)
{
    ipam_index *ix = p;
    if (!ix)
        return;
    free(ix->g4);
    free(ix->g6);
    for (unsigned k = 1; k <= ix->levels; k++)
        free(ix->lv[k]);
    free(ix);
}

/* One walk of the family in DFS preorder (a prefix before what it holds,
 * so prefixes come in ascending first address): a prefix that starts
 * after the covered cursor opens a gap before it. */
static void *index_build(const cs_snapshot *s, unsigned slot)
{
    const unsigned family = slot == SNAP_DERIVED_IPAM_V4 ? CS_AF_V4 : CS_AF_V6;
    const unsigned w = ipam_width(family);
    gap_list l = {.family = family};
    cs_wvisit v;
    cs_walk_visit_init(&v, s, slot == SNAP_DERIVED_IPAM_V4 ? 0 : 1, NULL);
    cs_wnode nd;
    u128 cursor = 0; /* the first address not yet known to be covered */
    bool end = false;
    while (!end && cs_walk_visit_next(&v, &nd)) {
        u128 f = ipam_first(&nd.prefix), t = ipam_last(&nd.prefix);
        if (t < cursor)
            continue;
        if (f > cursor)
            gap_add(&l, cursor, f - 1);
        if (t == ipam_ones(w))
            end = true;
        else
            cursor = t + 1;
    }
    if (!end)
        gap_add(&l, cursor, ipam_ones(w));
    ipam_index *ix = calloc(1, sizeof *ix);
    if (l.oom || !ix) {
        free(l.g4);
        free(l.g6);
        free(ix);
        return NULL;
    }
    ix->family = family;
    ix->n = l.n;
    ix->g4 = l.g4;
    ix->g6 = l.g6;
    size_t below = l.n;
    for (unsigned k = 1; below > 1 && k < LEVELS_MAX; k++) {
        size_t m = (below + FAN - 1) / FAN;
        ix->lv[k] = malloc(m * sizeof *ix->lv[k]);
        if (!ix->lv[k]) {
            index_release(ix);
            return NULL;
        }
        ix->levels = k;
        ix->lv_n[k] = m;
        for (size_t i = 0; i < m; i++) {
            u128 set = 0;
            for (size_t c = i * FAN; c < below && c < (i + 1) * FAN; c++)
                set |= node_set(ix, k - 1, c);
            ix->lv[k][i] = set;
        }
        below = m;
    }
    return ix;
}

const ipam_index *ipam_index_of(const cs_snapshot *s, unsigned family)
{
    unsigned slot = family == CS_AF_V4 ? SNAP_DERIVED_IPAM_V4 : SNAP_DERIVED_IPAM_V6;
    return snap_derived(s, slot, index_build, index_release);
}

bool ipam_index_ready(const cs_snapshot *s, unsigned family)
{
    return snap_derived_peek(s, family == CS_AF_V4 ? SNAP_DERIVED_IPAM_V4
                                                   : SNAP_DERIVED_IPAM_V6) != NULL;
}

/* ---- queries ------------------------------------------------------------------------ */

/* The first gap i >= from with hi >= x (n when none): galloping from `from`
 * (every gap before it ends below x), then binary search. */
static size_t gap_seek(const ipam_index *ix, size_t from, u128 x)
{
    size_t lo = from, step = 1, hi = from;
    while (hi < ix->n && gap_hi(ix, hi) < x) {
        lo = hi + 1;
        hi += step;
        step *= 2;
    }
    if (hi > ix->n)
        hi = ix->n;
    while (lo < hi) {
        size_t m = lo + (hi - lo) / 2;
        if (gap_hi(ix, m) < x)
            lo = m + 1;
        else
            hi = m;
    }
    return lo;
}

/* Calls over the gaps [lo, hi] as maximal aligned tree nodes, in address
 * order: the union of their sets (want 0), or the first gap whose set
 * meets `want` (returned; SIZE_MAX when none). */
static size_t tree_scan(const ipam_index *ix, size_t lo, size_t hi, u128 want, u128 *uni)
{
    size_t p = lo;
    while (p <= hi) {
        unsigned k = 0;
        while (k < ix->levels && (p & (((size_t)FAN << (FAN_BITS * k)) - 1)) == 0 &&
               p + ((size_t)FAN << (FAN_BITS * k)) - 1 <= hi)
            k++;
        size_t node = p >> (FAN_BITS * k);
        u128 set = node_set(ix, k, node);
        if (!want) {
            *uni |= set;
        } else if (set & want) {
            /* Descend: the first child meeting `want` at each level. */
            while (k > 0) {
                k--;
                size_t c = node * FAN, end = k ? ix->lv_n[k] : ix->n;
                while (c + 1 < end && !(node_set(ix, k, c) & want))
                    c++;
                node = c;
            }
            return node;
        }
        p += (size_t)1 << (FAN_BITS * k);
    }
    return SIZE_MAX;
}

bool ipam_index_pick(const ipam_index *ix, unsigned family, u128 x, u128 y, unsigned strategy,
                     unsigned kb, size_t *gap_hint, ipam_hole *out)
{
    const unsigned w = ipam_width(family);
    const u128 fits = ~ipam_ones(kb);
    if (!ix) {
        /* Nothing stored: [x, y] is one free interval. */
        u128 set = gap_set(x, y, w) & fits;
        if (!set)
            return false;
        u128 want = strategy == CS_IPAM_FIRST      ? fits
                    : strategy == CS_IPAM_BEST_FIT ? (u128)1 << ipam_lowbit(set)
                                                   : (u128)1 << ipam_log2(set);
        *out = gap_hole(x, y, w, want);
        return true;
    }
    size_t gi = gap_seek(ix, gap_hint ? *gap_hint : 0, x);
    if (gap_hint)
        *gap_hint = gi;
    if (gi >= ix->n || gap_lo(ix, gi) > y)
        return false;
    /* gj: the last gap with lo <= y. */
    size_t gj = gap_seek(ix, gi, y);
    if (gj == ix->n || gap_lo(ix, gj) > y)
        gj--;
    /* The end gaps clipped to [x, y]; the ones between whole. */
    u128 a0 = gap_lo(ix, gi) > x ? gap_lo(ix, gi) : x;
    u128 b0 = gap_hi(ix, gi) < y ? gap_hi(ix, gi) : y;
    u128 a1 = gap_lo(ix, gj) > x ? gap_lo(ix, gj) : x;
    u128 b1 = gap_hi(ix, gj) < y ? gap_hi(ix, gj) : y;
    u128 s0 = gap_set(a0, b0, w), s1 = gj > gi ? gap_set(a1, b1, w) : 0;
    u128 want = fits;
    if (strategy != CS_IPAM_FIRST) {
        u128 uni = s0 | s1;
        if (gj > gi + 1)
            tree_scan(ix, gi + 1, gj - 1, 0, &uni);
        uni &= fits;
        if (!uni)
            return false;
        want = strategy == CS_IPAM_BEST_FIT ? (u128)1 << ipam_lowbit(uni)
                                            : (u128)1 << ipam_log2(uni);
    }
    if (s0 & want) {
        *out = gap_hole(a0, b0, w, want);
        return true;
    }
    if (gj > gi + 1) {
        size_t g = tree_scan(ix, gi + 1, gj - 1, want, NULL);
        if (g != SIZE_MAX) {
            *out = gap_hole(gap_lo(ix, g), gap_hi(ix, g), w, want);
            return true;
        }
    }
    if (s1 & want) {
        *out = gap_hole(a1, b1, w, want);
        return true;
    }
    return false;
}
