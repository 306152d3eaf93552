/*
 * engine/query/ipam.c — free space of pools and allocation of blocks
 * (include/cidrscope/ipam.h).
 *
 * Does: walk a pool's used space in address order and answer from its
 * gaps: the minimal CIDR list of the free space with its figures, and
 * blocks picked by first / best-fit / spread. Does not: reserve anything
 * (engine/serve/ledger.c records reservations and passes them back in as
 * extra used blocks), read pools from AWS IPAM (engine/ingest/), print
 * (engine/report/ipam_report.c).
 *
 * STRUCTURE.
 *
 *   region (a pool, or a pool cut down to an allowed range)
 *     │
 *     ├─ trie: cs_query_iter(region, OVERLAPPING)  covering first (the whole
 *     │        region is used), then covered prefixes in prefix order
 *     ├─ extra: the caller's blocks, heap-sorted in place (prefix order)
 *     ├─ taken: this call's earlier allocations (out[], kept sorted)
 *     └─ rules: vpc_rules' refused ranges (core/aws_rules.c), sorted
 *           │ merged by first address: next_used() -> [first, last]
 *           ▼
 *     gaps between used intervals, clipped to the region
 *           │ each gap as its minimal list of aligned CIDR blocks (holes)
 *           ▼
 *     free: list and count holes;  alloc: pick a hole per strategy
 *
 * Every source is sorted by first address (a prefix sorts before the
 * prefixes it contains), so the merge sees used intervals in ascending
 * first address; nested and overlapping ones are absorbed by the cursor.
 * Cost per pass: O(prefixes inside the region + extra); `first` stops at
 * the first gap that holds an aligned block.
 *
 * Addresses are handled as unsigned 128-bit numbers (IPv4 in the low 32
 * bits), so both families share one code path.
 *
 * Tests: tests/test_ipam.c.
 */
#include <cidrscope/ipam.h>
#include <cidrscope/query.h>
#include <cidrscope/estate.h>
#include <cidrscope/peering.h>

#include "core/aws_rules_internal.h"
#include "query/peering_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

__extension__ typedef unsigned __int128 u128;

/* ---- numbers ------------------------------------------------------------- */

static unsigned width(unsigned family)
{
    return family == CS_AF_V4 ? 32u : 128u;
}

/* 2^bits - 1 (bits <= 128). */
static u128 ones(unsigned bits)
{
    return bits >= 128 ? ~(u128)0 : ((u128)1 << bits) - 1;
}

static u128 first_of(const cs_prefix *p)
{
    if (p->family == CS_AF_V4)
        return (u128)(p->hi >> 32);
    return ((u128)p->hi << 64) | p->lo;
}

static u128 last_of(const cs_prefix *p)
{
    return first_of(p) | ones(width(p->family) - p->len);
}

static cs_prefix prefix_at(unsigned family, u128 a, unsigned len)
{
    if (family == CS_AF_V4)
        return cs_prefix_from_v4((uint32_t)a, len);
    return cs_prefix_from_v6((uint64_t)(a >> 64), (uint64_t)a, len);
}

/* Trailing zero bits of a, at most w. */
static unsigned tz(u128 a, unsigned w)
{
    uint64_t lo = (uint64_t)a, hi = (uint64_t)(a >> 64);
    unsigned t = lo ? (unsigned)__builtin_ctzll(lo) : hi ? 64u + (unsigned)__builtin_ctzll(hi) : 128u;
    return t < w ? t : w;
}

/* floor(log2(n)), n > 0. */
static unsigned log2_floor(u128 n)
{
    uint64_t hi = (uint64_t)(n >> 64), lo = (uint64_t)n;
    return hi ? 127u - (unsigned)__builtin_clzll(hi) : 63u - (unsigned)__builtin_clzll(lo);
}

static cs_u128 to_u128(u128 n)
{
    return (cs_u128){(uint64_t)(n >> 64), (uint64_t)n};
}

size_t cs_u128_format(cs_u128 n, char *buf, size_t cap)
{
    char tmp[48];
    size_t k = 0;
    u128 v = ((u128)n.hi << 64) | n.lo;
    do {
        tmp[k++] = (char)('0' + (unsigned)(v % 10));
        v /= 10;
    } while (v);
    if (!buf || cap < k + 1)
        return 0;
    for (size_t i = 0; i < k; i++)
        buf[i] = tmp[k - 1 - i];
    buf[k] = '\0';
    return k;
}

/* ---- names ------------------------------------------------------------------ */

static const char *const strategy_names[CS_IPAM_STRATEGY_COUNT] = {"first", "best-fit",
                                                                   "spread"};
static const char *const reason_names[CS_IPAM_REASON_COUNT] = {"ok", "no-space", "bad-length",
                                                               "vpc-block-size"};

const char *cs_ipam_strategy_name(unsigned strategy)
{
    return strategy < CS_IPAM_STRATEGY_COUNT ? strategy_names[strategy] : "?";
}

int cs_ipam_strategy_parse(const char *s, size_t len)
{
    for (unsigned i = 0; s && i < CS_IPAM_STRATEGY_COUNT; i++)
        if (strlen(strategy_names[i]) == len && memcmp(strategy_names[i], s, len) == 0)
            return (int)i;
    return CS_EINVAL;
}

const char *cs_ipam_reason_name(unsigned reason)
{
    return reason < CS_IPAM_REASON_COUNT ? reason_names[reason] : "?";
}

/* ---- sorting without allocation ------------------------------------------- */

static void sift(cs_prefix *a, size_t root, size_t n)
{
    for (;;) {
        size_t c = 2 * root + 1;
        if (c >= n)
            return;
        if (c + 1 < n && cs_prefix_compare(&a[c], &a[c + 1]) < 0)
            c++;
        if (cs_prefix_compare(&a[root], &a[c]) >= 0)
            return;
        cs_prefix t = a[root];
        a[root] = a[c];
        a[c] = t;
        root = c;
    }
}

/* Heapsort in prefix order (qsort may allocate). */
static void sort_prefixes(cs_prefix *a, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift(a, i, n);
    for (size_t end = n; end > 1; end--) {
        cs_prefix t = a[0];
        a[0] = a[end - 1];
        a[end - 1] = t;
        sift(a, 0, end - 1);
    }
}

/* ---- the used stream ----------------------------------------------------------- */

#define RULES_CAP 16

typedef struct used_stream {
    unsigned family;
    u128 lo, hi;                 /* the region */
    bool trie;                   /* the snapshot's prefixes count */
    cs_query_iter it;
    bool t_has;                  /* t_first/t_last hold the trie's next */
    u128 t_first, t_last;
    const cs_prefix *x;          /* sorted extra blocks */
    size_t nx, xi;
    const cs_ipam_allocation *tk;/* taken, sorted */
    size_t ntk, ti;
    const cs_prefix *rr;         /* refused ranges, sorted */
    size_t nr, ri;
} used_stream;

static void trie_advance(used_stream *u)
{
    cs_match m;
    u->t_has = false;
    while (u->trie && cs_query_iter_next(&u->it, &m) > 0) {
        u->t_first = first_of(&m.prefix);
        u->t_last = last_of(&m.prefix);
        u->t_has = true;
        return;
    }
}

static void stream_init(used_stream *u, const cs_snapshot *s, const cs_prefix *region,
                        bool trie, const cs_prefix *x, size_t nx, const cs_ipam_allocation *tk,
                        size_t ntk, const cs_prefix *rr, size_t nr)
{
    memset(u, 0, sizeof *u);
    u->family = region->family;
    u->lo = first_of(region);
    u->hi = last_of(region);
    u->trie = trie;
    if (trie)
        cs_query_iter_init(&u->it, s, region, CS_Q_OVERLAPPING);
    u->x = x;
    u->nx = nx;
    u->tk = tk;
    u->ntk = ntk;
    u->rr = rr;
    u->nr = nr;
    trie_advance(u);
}

/* Advances *i over a sorted prefix array to its next block that overlaps
 * the region; returns it or NULL. */
static const cs_prefix *array_head(const used_stream *u, const cs_prefix *a, size_t n, size_t *i,
                                   size_t stride)
{
    for (; *i < n; (*i)++) {
        const cs_prefix *p = (const cs_prefix *)(const void *)((const char *)a + *i * stride);
        if (p->family != u->family)
            continue;
        if (first_of(p) > u->hi)
            return NULL;
        if (last_of(p) >= u->lo)
            return p;
    }
    return NULL;
}

/* The next used interval (lowest first address among the sources), not
 * clipped. Returns false when every source is exhausted. */
static bool next_used(used_stream *u, u128 *f, u128 *l)
{
    const cs_prefix *xp = array_head(u, u->x, u->nx, &u->xi, sizeof *u->x);
    const cs_prefix *tp =
        u->tk ? array_head(u, &u->tk[0].prefix, u->ntk, &u->ti, sizeof *u->tk) : NULL;
    const cs_prefix *rp = array_head(u, u->rr, u->nr, &u->ri, sizeof *u->rr);
    int pick = -1;
    u128 best = 0;
    if (u->t_has) {
        pick = 0;
        best = u->t_first;
    }
    const cs_prefix *cand[3] = {xp, tp, rp};
    for (int k = 0; k < 3; k++)
        if (cand[k] && (pick < 0 || first_of(cand[k]) < best)) {
            pick = k + 1;
            best = first_of(cand[k]);
        }
    switch (pick) {
    case 0:
        *f = u->t_first;
        *l = u->t_last;
        trie_advance(u);
        return true;
    case 1:
    case 2:
    case 3:
        *f = first_of(cand[pick - 1]);
        *l = last_of(cand[pick - 1]);
        if (pick == 1)
            u->xi++;
        else if (pick == 2)
            u->ti++;
        else
            u->ri++;
        return true;
    default:
        return false;
    }
}

/* Calls gap(a, b, ctx) for each maximal free interval of the region, in
 * ascending order, until it returns true (then returns true). */
typedef bool (*gap_fn)(u128 a, u128 b, void *ctx);

static bool each_gap(used_stream *u, gap_fn gap, void *ctx)
{
    u128 cursor = u->lo, f, l;
    while (next_used(u, &f, &l)) {
        if (f > cursor && gap(cursor, f - 1, ctx))
            return true;
        if (l >= cursor) {
            if (l >= u->hi)
                return false;
            cursor = l + 1;
        }
    }
    return gap(cursor, u->hi, ctx);
}

/* Calls hole(start, len, ctx) for each block of the minimal CIDR list of
 * [a, b] until it returns true. */
typedef bool (*hole_fn)(u128 start, unsigned len, void *ctx);

static bool each_hole(unsigned family, u128 a, u128 b, hole_fn hole, void *ctx)
{
    const unsigned w = width(family);
    for (;;) {
        /* The largest aligned block at a: as many bits as a's trailing
         * zeros, and no more than fit in [a, b] (floor(log2(b - a + 1)); the
         * whole IPv6 space is never a region). */
        unsigned k = tz(a, w), fit = log2_floor(b - a + 1);
        if (fit < k)
            k = fit;
        if (hole(a, w - k, ctx))
            return true;
        u128 end = a + ones(k);
        if (end >= b)
            return false;
        a = end + 1;
    }
}

/* ---- free ------------------------------------------------------------------------ */

typedef struct free_ctx {
    unsigned family, max_len;
    cs_prefix *out;
    size_t cap;
    int64_t listed;
    uint64_t blocks;
    u128 free;
    bool has_largest;
    unsigned largest_len;
    u128 largest_at;
} free_ctx;

static bool free_hole(u128 start, unsigned len, void *ctx)
{
    free_ctx *c = ctx;
    c->blocks++;
    if (!c->has_largest || len < c->largest_len) {
        c->has_largest = true;
        c->largest_len = len;
        c->largest_at = start;
    }
    if (len <= c->max_len) {
        if ((size_t)c->listed < c->cap)
            c->out[c->listed] = prefix_at(c->family, start, len);
        c->listed++;
    }
    return false;
}

static bool free_gap(u128 a, u128 b, void *ctx)
{
    free_ctx *c = ctx;
    c->free += b - a + 1;
    return each_hole(c->family, a, b, free_hole, c);
}

static bool prefix_ok(const cs_prefix *p)
{
    if (!p || (p->family != CS_AF_V4 && p->family != CS_AF_V6) || p->len > width(p->family))
        return false;
    cs_prefix c = prefix_at(p->family, first_of(p), p->len);
    return c.hi == p->hi && c.lo == p->lo;
}

int64_t cs_ipam_free(const cs_snapshot *s, const cs_prefix *pool, cs_prefix *extra,
                     size_t n_extra, unsigned max_len, cs_prefix *out, size_t cap,
                     cs_ipam_pool_stats *st)
{
    if (!s || !prefix_ok(pool) || (pool->family == CS_AF_V6 && pool->len == 0) ||
        (n_extra && !extra) || (cap && !out))
        return CS_EINVAL;
    for (size_t i = 0; i < n_extra; i++)
        if (!prefix_ok(&extra[i]))
            return CS_EINVAL;
    sort_prefixes(extra, n_extra);
    const unsigned w = width(pool->family);
    free_ctx c = {.family = pool->family, .max_len = max_len && max_len < w ? max_len : w,
                  .out = out, .cap = cap};
    used_stream u;
    stream_init(&u, s, pool, true, extra, n_extra, NULL, 0, NULL, 0);
    each_gap(&u, free_gap, &c);
    if (st) {
        memset(st, 0, sizeof *st);
        u128 size = ones(w - pool->len) + 1;
        st->addresses = to_u128(size);
        st->free = to_u128(c.free);
        st->used = to_u128(size - c.free);
        st->free_blocks = c.blocks;
        st->has_free = c.has_largest;
        if (c.has_largest) {
            st->largest_free = prefix_at(pool->family, c.largest_at, c.largest_len);
            u128 big = ones(w - c.largest_len) + 1;
            st->fragmentation = 1.0 - (double)big / (double)c.free;
        }
    }
    return c.listed;
}

/* ---- alloc ------------------------------------------------------------------------- */

typedef struct pick_ctx {
    unsigned family, len, strategy;
    bool found;
    u128 at;            /* the chosen block's start */
    unsigned hole_len;  /* the hole it lies in (best-fit / spread) */
} pick_ctx;

static bool pick_hole(u128 start, unsigned len, void *ctx)
{
    pick_ctx *c = ctx;
    if (len > c->len)
        return false;
    bool better = !c->found || (c->strategy == CS_IPAM_BEST_FIT ? len > c->hole_len
                                                                : len < c->hole_len);
    if (better) {
        c->found = true;
        c->at = start;
        c->hole_len = len;
    }
    return false;
}

static bool pick_gap(u128 a, u128 b, void *ctx)
{
    pick_ctx *c = ctx;
    if (c->strategy != CS_IPAM_FIRST)
        return each_hole(c->family, a, b, pick_hole, c);
    const unsigned w = width(c->family);
    u128 m = ones(w - c->len), at = (a + m) & ~m;
    if (at < a || at > b || b - at < m)
        return false;
    c->found = true;
    c->at = at;
    return true;
}

/* The region of pool p cut down to allowed range q (the smaller of the two
 * when one contains the other); false when they do not overlap. */
static bool region_of(const cs_prefix *p, const cs_prefix *q, cs_prefix *out)
{
    if (!cs_prefix_overlaps(p, q))
        return false;
    *out = p->len >= q->len ? *p : *q;
    return true;
}

/* Region (i, j) of a request: pool i cut to allowed range j (j ignored
 * without allowed ranges); false when they do not overlap or a block of
 * the request's length does not fit in it. */
static bool request_region(const cs_ipam_request *r, size_t i, size_t j, cs_prefix *out)
{
    *out = r->pools[i];
    if (r->n_allowed && !region_of(&r->pools[i], &r->allowed[j], out))
        return false;
    return r->length >= out->len;
}

/* Inserts a into the sorted out[0..n). */
static void insert_sorted(cs_ipam_allocation *out, size_t n, const cs_ipam_allocation *a)
{
    size_t i = n;
    while (i > 0 && cs_prefix_compare(&out[i - 1].prefix, &a->prefix) > 0) {
        out[i] = out[i - 1];
        i--;
    }
    out[i] = *a;
}

/* ---- best-fit and spread: the holes gathered once ------------------------------- */

/*
 * Best-fit and spread must compare every hole of every region, so a pick
 * per block would walk the regions once per block. Instead the holes that
 * can hold a block (length <= the block's) are gathered by ONE walk of each
 * region into a binary heap ordered by the strategy (best-fit: the longest
 * prefix length first, i.e. the smallest hole; spread: the shortest; then
 * the earlier region, then the lower address: exactly the order in which
 * the per-block pick prefers them). Each pick pops the top hole, takes the
 * block at its start and pushes what is left of the hole (its minimal CIDR
 * list: one block of each length from the hole's + 1 to the block's). When
 * regions overlap (overlapping pools or allowed ranges) a popped hole may
 * hold a block an earlier pick took: it is then split around the taken
 * blocks and its pieces pushed back, so the heap always holds the free
 * space of every region minus the taken blocks. Cost: one walk of the
 * regions + O(log holes) per block.
 */

typedef struct hole {
    u128 at;
    uint32_t region;
    uint32_t len;
} hole;

/* While gathering, the heap keeps only the `keep` best holes, with the worst
 * at its root (rev); then it is turned around (the best at the root). */
typedef struct hole_heap {
    hole *h;
    size_t n, cap, keep;
    unsigned strategy, family, len; /* the blocks' length */
    uint32_t region;                /* the region being gathered */
    const uint32_t *region_pool;    /* each region's pool */
    size_t region_got;              /* holes gathered in the region (first) */
    bool rev, dropped, oom;
} hole_heap;

/* a goes before b (after b while rev). First: the earlier pool, then the
 * lower address (a hole's start is its lowest block); best-fit / spread: by
 * the hole's size, then the earlier region, then the lower address. */
static bool hole_before(const hole_heap *hp, const hole *a, const hole *b)
{
    bool before;
    if (hp->strategy == CS_IPAM_FIRST)
        before = hp->region_pool[a->region] != hp->region_pool[b->region]
                     ? hp->region_pool[a->region] < hp->region_pool[b->region]
                 : a->at != b->at ? a->at < b->at
                                  : a->region < b->region;
    else if (a->len != b->len)
        before = hp->strategy == CS_IPAM_BEST_FIT ? a->len > b->len : a->len < b->len;
    else if (a->region != b->region)
        before = a->region < b->region;
    else
        before = a->at < b->at;
    return before != hp->rev;
}

static void sift_down(hole_heap *hp, size_t i)
{
    hole x = hp->h[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= hp->n)
            break;
        if (c + 1 < hp->n && hole_before(hp, &hp->h[c + 1], &hp->h[c]))
            c++;
        if (!hole_before(hp, &hp->h[c], &x))
            break;
        hp->h[i] = hp->h[c];
        i = c;
    }
    hp->h[i] = x;
}

static void heap_push(hole_heap *hp, u128 at, unsigned len)
{
    hole x = {at, hp->region, len};
    if (hp->n == hp->keep) {
        /* Full while gathering: x replaces the worst kept hole if better. */
        hp->dropped = true;
        hp->rev = false;
        bool better = hole_before(hp, &x, &hp->h[0]);
        hp->rev = true;
        if (better) {
            hp->h[0] = x;
            sift_down(hp, 0);
        }
        return;
    }
    if (hp->n == hp->cap) {
        size_t cap = hp->cap ? 2 * hp->cap : 1024;
        hole *q = realloc(hp->h, cap * sizeof *q);
        if (!q) {
            hp->oom = true;
            return;
        }
        hp->h = q;
        hp->cap = cap;
    }
    size_t i = hp->n++;
    while (i > 0 && hole_before(hp, &x, &hp->h[(i - 1) / 2])) {
        hp->h[i] = hp->h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    hp->h[i] = x;
}

static hole heap_pop(hole_heap *hp)
{
    hole top = hp->h[0];
    hp->h[0] = hp->h[--hp->n];
    if (hp->n)
        sift_down(hp, 0);
    return top;
}

static bool gather_hole(u128 start, unsigned len, void *ctx)
{
    hole_heap *hp = ctx;
    if (len > hp->len)
        return hp->oom;
    heap_push(hp, start, len);
    /* First: the region's holes come in the heap's order, and each holds a
     * block: the first `keep` of them are all a pick can reach. */
    if (hp->strategy == CS_IPAM_FIRST && ++hp->region_got >= hp->keep) {
        hp->dropped = true;
        return true;
    }
    return hp->oom;
}

static bool gather_gap(u128 a, u128 b, void *ctx)
{
    hole_heap *hp = ctx;
    return each_hole(hp->family, a, b, gather_hole, hp);
}

/* Whether a block of taken[0..n) (sorted, all of one length >= the hole's)
 * lies inside the hole [a, b]. */
static bool hole_taken(const cs_ipam_allocation *taken, size_t n, u128 a, u128 b)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (first_of(&taken[mid].prefix) < a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && first_of(&taken[lo].prefix) <= b;
}

/* One attempt keeping the `keep` best holes of the walk. Each pick pops one
 * hole, so without stale holes (overlapping regions) at most `count`
 * gathered holes are ever popped and keeping the `count` best is exact.
 * Returns the count, CS_ENOMEM, or HEAP_RETRY when a stale hole was popped
 * after holes had been dropped (the caller retries keeping them all). */
#define HEAP_RETRY (-1001)

static int64_t heap_attempt(const cs_snapshot *s, const cs_ipam_request *r,
                            const cs_prefix *regions, const uint32_t *region_pool,
                            size_t n_regions, size_t keep, cs_ipam_allocation *out,
                            unsigned *reason)
{
    const unsigned family = r->pools[0].family, w = width(family);
    hole_heap hp = {.strategy = r->strategy, .family = family, .len = r->length, .keep = keep,
                    .region_pool = region_pool, .rev = true};
    for (size_t i = 0; i < n_regions && !hp.oom; i++) {
        hp.region = (uint32_t)i;
        hp.region_got = 0;
        used_stream u;
        stream_init(&u, s, &regions[i], !r->avoid_none, r->extra, r->n_extra, NULL, 0, NULL,
                    0);
        each_gap(&u, gather_gap, &hp);
    }
    hp.rev = false;
    hp.keep = SIZE_MAX;
    for (size_t i = hp.n / 2; i-- > 0;)
        sift_down(&hp, i);
    size_t got = 0;
    int64_t rc = 0;
    while (got < r->count && hp.n && !hp.oom) {
        hole h = heap_pop(&hp);
        u128 last = h.at | ones(w - h.len);
        hp.region = h.region;
        if (hole_taken(out, got, h.at, last)) {
            if (hp.dropped) {
                rc = HEAP_RETRY;
                break;
            }
            used_stream u;
            cs_prefix hp_pfx = prefix_at(family, h.at, h.len);
            stream_init(&u, s, &hp_pfx, false, NULL, 0, out, got, NULL, 0);
            each_gap(&u, gather_gap, &hp);
            continue;
        }
        cs_ipam_allocation a = {prefix_at(family, h.at, r->length), region_pool[h.region]};
        insert_sorted(out, got++, &a);
        for (unsigned l = h.len + 1; l <= r->length && !hp.oom; l++)
            heap_push(&hp, h.at + ones(w - l) + 1, l);
    }
    free(hp.h);
    if (hp.oom)
        return CS_ENOMEM;
    if (rc)
        return rc;
    if (got < r->count && reason)
        *reason = CS_IPAM_NO_SPACE;
    return (int64_t)got;
}

/* Best-fit or spread, or first for more than one block, without vpc_rules
 * (the refused ranges of vpc_rules change with the first block, so those
 * picks walk per block). Arguments checked by the caller. */
static int64_t alloc_by_heap(const cs_snapshot *s, const cs_ipam_request *r,
                             const cs_prefix *regions, const uint32_t *region_pool,
                             size_t n_regions, cs_ipam_allocation *out, unsigned *reason)
{
    if (!r->count)
        return 0;
    int64_t n = heap_attempt(s, r, regions, region_pool, n_regions, r->count, out, reason);
    if (n == HEAP_RETRY)
        n = heap_attempt(s, r, regions, region_pool, n_regions, SIZE_MAX, out, reason);
    return n;
}

int64_t cs_ipam_alloc(const cs_snapshot *s, const cs_ipam_request *r, cs_ipam_allocation *out,
                      unsigned *reason)
{
    if (reason)
        *reason = CS_IPAM_OK;
    if (!s || !r || !r->pools || !r->n_pools || (r->count && !out) ||
        r->strategy >= CS_IPAM_STRATEGY_COUNT || (r->n_extra && !r->extra) ||
        (r->n_allowed && !r->allowed))
        return CS_EINVAL;
    const unsigned family = r->pools[0].family;
    for (size_t i = 0; i < r->n_pools; i++)
        if (!prefix_ok(&r->pools[i]) || r->pools[i].family != family ||
            (family == CS_AF_V6 && r->pools[i].len == 0))
            return CS_EINVAL;
    for (size_t i = 0; i < r->n_allowed; i++)
        if (!prefix_ok(&r->allowed[i]))
            return CS_EINVAL;
    for (size_t i = 0; i < r->n_extra; i++)
        if (!prefix_ok(&r->extra[i]))
            return CS_EINVAL;
    const unsigned w = width(family);
    bool fits_a_pool = false;
    for (size_t i = 0; i < r->n_pools; i++)
        fits_a_pool |= r->length >= r->pools[i].len;
    if (r->length > w || !fits_a_pool) {
        if (reason)
            *reason = CS_IPAM_BAD_LENGTH;
        return 0;
    }
    if (r->vpc_rules && !cs_aws_block_size_ok(&(cs_prefix){.family = (uint8_t)family,
                                                            .len = (uint8_t)r->length})) {
        if (reason)
            *reason = CS_IPAM_VPC_SIZE;
        return 0;
    }
    sort_prefixes(r->extra, r->n_extra);
    if ((r->strategy != CS_IPAM_FIRST || r->count > 1) && !r->vpc_rules) {
        /* The regions: each pool, or each pool cut to each allowed range. */
        size_t na = r->n_allowed ? r->n_allowed : 1, nreg = 0;
        cs_prefix *reg = malloc(r->n_pools * na * sizeof *reg);
        uint32_t *rpool = malloc(r->n_pools * na * sizeof *rpool);
        int64_t n = CS_ENOMEM;
        if (reg && rpool) {
            for (size_t i = 0; i < r->n_pools; i++)
                for (size_t j = 0; j < na; j++)
                    if (request_region(r, i, j, &reg[nreg]))
                        rpool[nreg++] = (uint32_t)i;
            n = alloc_by_heap(s, r, reg, rpool, nreg, out, reason);
        }
        free(reg);
        free(rpool);
        return n;
    }

    /* Before the first block, the primary stands as 0.0.0.0/0, whose row's
     * ranges are ignored (only the reserved ranges apply to a primary). */
    cs_prefix rules[RULES_CAP], taken_pfx[CS_AWS_BLOCK_QUOTA_MAX],
        primary = cs_prefix_from_v4(0, 0);
    size_t nr = 0;
    for (size_t got = 0; got < r->count; got++) {
        if (r->vpc_rules && family == CS_AF_V4) {
            /* The VPC's blocks so far, the first allocated standing as the
             * primary; before the first, only the reserved ranges (which
             * cs_aws_refused_ranges lists first). */
            size_t nb = got < CS_AWS_BLOCK_QUOTA_MAX ? got : CS_AWS_BLOCK_QUOTA_MAX;
            for (size_t i = 0; i < nb; i++)
                taken_pfx[i] = out[i].prefix;
            nr = cs_aws_refused_ranges(&primary, taken_pfx, nb, rules, RULES_CAP);
            if (!got)
                nr = 0;
            for (size_t i = 0; !got && i < RULES_CAP; i++) {
                bool ll;
                if (!cs_aws_reserved_range(&rules[i], &ll))
                    break;
                nr++;
            }
            if (nr > RULES_CAP)
                nr = RULES_CAP;
            sort_prefixes(rules, nr);
        }
        pick_ctx best = {0};
        uint32_t best_pool = 0;
        for (size_t i = 0; i < r->n_pools && !(best.found && r->strategy == CS_IPAM_FIRST); i++) {
            size_t na = r->n_allowed ? r->n_allowed : 1;
            for (size_t j = 0; j < na; j++) {
                cs_prefix region;
                if (!request_region(r, i, j, &region))
                    continue;
                pick_ctx c = {.family = family, .len = r->length, .strategy = r->strategy};
                used_stream u;
                stream_init(&u, s, &region, !r->avoid_none, r->extra, r->n_extra, out, got,
                            rules, nr);
                each_gap(&u, pick_gap, &c);
                if (!c.found)
                    continue;
                bool better = !best.found ||
                              (r->strategy == CS_IPAM_BEST_FIT && c.hole_len > best.hole_len) ||
                              (r->strategy == CS_IPAM_SPREAD && c.hole_len < best.hole_len) ||
                              (r->strategy == CS_IPAM_FIRST && i == best_pool && c.at < best.at);
                if (better) {
                    best = c;
                    best_pool = (uint32_t)i;
                }
            }
        }
        if (!best.found) {
            if (reason)
                *reason = CS_IPAM_NO_SPACE;
            return (int64_t)got;
        }
        cs_ipam_allocation a = {prefix_at(family, best.at, r->length), best_pool};
        insert_sorted(out, got, &a);
        if (got == 0)
            primary = a.prefix;
    }
    return (int64_t)r->count;
}

/* ---- peer blocks ------------------------------------------------------------------- */

typedef struct peer_ctx {
    const cs_snapshot *s;
    uint32_t vpc;
    cs_prefix *out;
    size_t cap;
    int64_t n;
} peer_ctx;

static void vpc_blocks(peer_ctx *c, uint32_t v)
{
    cs_vpc vv;
    if (v == CS_IDX_NONE || cs_estate_vpc(c->s, v, &vv) != 0)
        return;
    for (uint32_t i = 0; i < vv.assoc_count; i++) {
        cs_assoc a;
        if (cs_estate_assoc(c->s, vv.assoc_begin + i, &a) != 0 || !a.live)
            continue;
        if ((size_t)c->n < c->cap)
            c->out[c->n] = a.prefix;
        c->n++;
    }
}

static int peer_each(const cs_peering *p, uint32_t pcx, void *ctx)
{
    (void)pcx;
    peer_ctx *c = ctx;
    uint32_t other = pv_other_side(p, c->vpc);
    if (other != c->vpc && cs_pcx_status_counts(p->status))
        vpc_blocks(c, other);
    return 0;
}

int64_t cs_ipam_peer_blocks(const cs_snapshot *s, const uint32_t *vpcs, size_t n,
                            cs_prefix *out, size_t cap)
{
    if (!s || (n && !vpcs) || (cap && !out))
        return CS_EINVAL;
    peer_ctx c = {s, 0, out, cap, 0};
    for (size_t i = 0; i < n; i++) {
        cs_vpc v;
        if (cs_estate_vpc(s, vpcs[i], &v) != 0)
            return CS_EINVAL;
        c.vpc = vpcs[i];
        vpc_blocks(&c, vpcs[i]);
        pv_each_connection(s, vpcs[i], peer_each, &c);
    }
    return c.n;
}
