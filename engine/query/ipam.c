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
 * Cost per pass: O(prefixes inside the region + extra). `free` lists by
 * this pass; `alloc` picks from the per-image index of free holes
 * (ipam_index.c; "ALLOCATION" below) and uses the stream only to merge
 * the caller's blocks into cuts (and for one `first` block before the
 * index exists).
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
#include "query/ipam_internal.h"
#include "query/peering_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- numbers ------------------------------------------------------------- */

/* Trailing zero bits of a, at most w. */
static unsigned tz(u128 a, unsigned w)
{
    unsigned t = a ? ipam_lowbit(a) : 128u;
    return t < w ? t : w;
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
    size_t budget;               /* each_gap: used blocks to read, 0 = all */
    bool exhausted;              /* each_gap stopped at the budget */
} used_stream;

static void trie_advance(used_stream *u)
{
    cs_match m;
    u->t_has = false;
    while (u->trie && cs_query_iter_next(&u->it, &m) > 0) {
        u->t_first = ipam_first(&m.prefix);
        u->t_last = ipam_last(&m.prefix);
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
    u->lo = ipam_first(region);
    u->hi = ipam_last(region);
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
        if (ipam_first(p) > u->hi)
            return NULL;
        if (ipam_last(p) >= u->lo)
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
        if (cand[k] && (pick < 0 || ipam_first(cand[k]) < best)) {
            pick = k + 1;
            best = ipam_first(cand[k]);
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
        *f = ipam_first(cand[pick - 1]);
        *l = ipam_last(cand[pick - 1]);
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
 * ascending order, until it returns true (then returns true); with a
 * budget, stops (returning true, u->exhausted set) after reading that many
 * used blocks. */
typedef bool (*gap_fn)(u128 a, u128 b, void *ctx);

static bool each_gap(used_stream *u, gap_fn gap, void *ctx)
{
    u128 cursor = u->lo, f, l;
    while (next_used(u, &f, &l)) {
        if (u->budget && --u->budget == 0) {
            u->exhausted = true;
            return true;
        }
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
    const unsigned w = ipam_width(family);
    for (;;) {
        /* The largest aligned block at a: as many bits as a's trailing
         * zeros, and no more than fit in [a, b] (floor(log2(b - a + 1)); the
         * whole IPv6 space is never a region). */
        unsigned k = tz(a, w), fit = ipam_log2(b - a + 1);
        if (fit < k)
            k = fit;
        if (hole(a, w - k, ctx))
            return true;
        u128 end = a + ipam_ones(k);
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
            c->out[c->listed] = ipam_prefix_at(c->family, start, len);
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
    if (!p || (p->family != CS_AF_V4 && p->family != CS_AF_V6) || p->len > ipam_width(p->family))
        return false;
    cs_prefix c = ipam_prefix_at(p->family, ipam_first(p), p->len);
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
    const unsigned w = ipam_width(pool->family);
    free_ctx c = {.family = pool->family, .max_len = max_len && max_len < w ? max_len : w,
                  .out = out, .cap = cap};
    used_stream u;
    stream_init(&u, s, pool, true, extra, n_extra, NULL, 0, NULL, 0);
    each_gap(&u, free_gap, &c);
    if (st) {
        memset(st, 0, sizeof *st);
        u128 size = ipam_ones(w - pool->len) + 1;
        st->addresses = to_u128(size);
        st->free = to_u128(c.free);
        st->used = to_u128(size - c.free);
        st->free_blocks = c.blocks;
        st->has_free = c.has_largest;
        if (c.has_largest) {
            st->largest_free = ipam_prefix_at(pool->family, c.largest_at, c.largest_len);
            u128 big = ipam_ones(w - c.largest_len) + 1;
            st->fragmentation = 1.0 - (double)big / (double)c.free;
        }
    }
    return c.listed;
}

/* ---- alloc ------------------------------------------------------------------------- */

/*
 * ALLOCATION picks every block from the index of free holes (ipam_index.c)
 * instead of walking the pools:
 *
 *   REGIONS  each pool, or each pool cut to each allowed range (a prefix);
 *   CUTS     the used blocks the index does not know: the caller's extra
 *            blocks, vpc_rules' refused ranges, blocks of earlier rounds,
 *            merged into sorted disjoint intervals;
 *   PIECES   the maximal intervals of a region free of cuts and of the
 *            blocks this call took: the free space of a region is the
 *            index's gaps inside its pieces, so the hole a strategy picks
 *            in a piece is one ipam_index_pick (O(log gaps));
 *   HEAP     one candidate per piece (its picked hole), ordered as the
 *            strategy prefers (below). Each pick pops the best candidate,
 *            takes the block at the start of its hole, and, in every
 *            region holding that block, replaces the piece around it by
 *            its left and right parts (two more picks). A candidate whose
 *            piece holds a taken block is stale and skipped when popped:
 *            its replacements are already in the heap.
 *
 * best-fit and spread evaluate every piece first (a cut can create a
 * better hole anywhere); first evaluates each region's pieces lazily, in
 * address order, through a FRONTIER candidate keyed by the next piece's
 * start (no hole there or later is lower). Cost: O((regions x pieces +
 * blocks) x log gaps), independent of how many prefixes the pools hold
 * once the index is built (one walk of the family, on the first call).
 *
 * Order: first: the earlier pool, then the lower address, then the earlier
 * region; best-fit: the smaller hole, then the earlier region, then the
 * lower address; spread: the same with the larger hole. It is exactly the
 * order of a pick per block over every region (tests/test_ipam.c's brute
 * force).
 */

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

typedef struct ival {
    u128 lo, hi;
} ival;

typedef struct cand {
    u128 x, y;        /* the piece (a frontier: x = the next piece's start) */
    u128 at;          /* the picked hole's start (a frontier: x) */
    uint32_t region;
    uint8_t exp;      /* the picked hole's size exponent */
    bool frontier;
} cand;

typedef struct picker {
    const cs_ipam_request *r;
    const ipam_index *ix;        /* NULL: avoid none (nothing stored counts) */
    unsigned family, kb;         /* kb: the blocks' size exponent */
    const cs_prefix *regions;
    const uint32_t *region_pool;
    size_t n_regions;
    u128 *front;                 /* per region: pieces below are evaluated */
    bool *front_done;            /* per region: every piece is evaluated */
    size_t *hint;                /* per region: the frontier's gap hint */
    const ival *cuts;
    size_t n_cuts;
    cs_ipam_allocation *out;
    size_t got;
    cand *h;
    size_t n, cap;
    bool oom;
} picker;

static bool cand_before(const picker *p, const cand *a, const cand *b)
{
    if (p->r->strategy == CS_IPAM_FIRST) {
        uint32_t pa = p->region_pool[a->region], pb = p->region_pool[b->region];
        if (pa != pb)
            return pa < pb;
        if (a->at != b->at)
            return a->at < b->at;
        return a->region < b->region;
    }
    if (a->exp != b->exp)
        return p->r->strategy == CS_IPAM_BEST_FIT ? a->exp < b->exp : a->exp > b->exp;
    if (a->region != b->region)
        return a->region < b->region;
    return a->at < b->at;
}

static void cand_push(picker *p, const cand *c)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 256;
        cand *q = realloc(p->h, cap * sizeof *q);
        if (!q) {
            p->oom = true;
            return;
        }
        p->h = q;
        p->cap = cap;
    }
    size_t i = p->n++;
    while (i > 0 && cand_before(p, c, &p->h[(i - 1) / 2])) {
        p->h[i] = p->h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    p->h[i] = *c;
}

static cand cand_pop(picker *p)
{
    cand top = p->h[0], x = p->h[--p->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= p->n)
            break;
        if (c + 1 < p->n && cand_before(p, &p->h[c + 1], &p->h[c]))
            c++;
        if (!cand_before(p, &p->h[c], &x))
            break;
        p->h[i] = p->h[c];
        i = c;
    }
    if (p->n)
        p->h[i] = x;
    return top;
}

/* The first cut with hi >= a (n_cuts when none). */
static size_t cut_seek(const picker *p, u128 a)
{
    size_t lo = 0, hi = p->n_cuts;
    while (lo < hi) {
        size_t m = lo + (hi - lo) / 2;
        if (p->cuts[m].hi < a)
            lo = m + 1;
        else
            hi = m;
    }
    return lo;
}

/* The first taken block whose last address is >= a (got when none). */
static size_t taken_seek(const picker *p, u128 a)
{
    size_t lo = 0, hi = p->got;
    while (lo < hi) {
        size_t m = lo + (hi - lo) / 2;
        if (ipam_last(&p->out[m].prefix) < a)
            lo = m + 1;
        else
            hi = m;
    }
    return lo;
}

/* The first piece of region i at or after address a: [*x, *y]. False when
 * none is left. */
static bool next_piece(const picker *p, size_t i, u128 a, u128 *x, u128 *y)
{
    const u128 top = ipam_last(&p->regions[i]);
    for (;;) {
        if (a > top)
            return false;
        size_t c = cut_seek(p, a), t = taken_seek(p, a);
        u128 end = top;
        if (c < p->n_cuts) {
            if (p->cuts[c].lo <= a) {
                if (p->cuts[c].hi >= top)
                    return false;
                a = p->cuts[c].hi + 1;
                continue;
            }
            if (p->cuts[c].lo - 1 < end)
                end = p->cuts[c].lo - 1;
        }
        if (t < p->got) {
            u128 tf = ipam_first(&p->out[t].prefix);
            if (tf <= a) {
                u128 tl = ipam_last(&p->out[t].prefix);
                if (tl >= top)
                    return false;
                a = tl + 1;
                continue;
            }
            if (tf - 1 < end)
                end = tf - 1;
        }
        *x = a;
        *y = end;
        return true;
    }
}

/* Evaluates piece [x, y] of region i: pushes its candidate, if any. */
static void eval_piece(picker *p, size_t i, u128 x, u128 y, size_t *hint)
{
    ipam_hole h;
    size_t local = 0;
    if (!ipam_index_pick(p->ix, p->family, x, y, p->r->strategy, p->kb, hint ? hint : &local,
                         &h))
        return;
    cand c = {.x = x, .y = y, .at = h.at, .region = (uint32_t)i, .exp = (uint8_t)h.exp};
    cand_push(p, &c);
}

/* Evaluates region i's next piece from its frontier (and, unless lazy,
 * every piece after it); pushes the advanced frontier when lazy. */
static void advance(picker *p, size_t i, bool lazy)
{
    u128 x, y;
    do {
        if (!next_piece(p, i, p->front[i], &x, &y)) {
            p->front_done[i] = true;
            return;
        }
        eval_piece(p, i, x, y, &p->hint[i]);
        if (y >= ipam_last(&p->regions[i])) {
            p->front_done[i] = true;
            return;
        }
        p->front[i] = y + 1;
    } while (!lazy && !p->oom);
    cand f = {.x = p->front[i], .at = p->front[i], .region = (uint32_t)i, .frontier = true};
    cand_push(p, &f);
}

/* Block t was just taken: in every region holding it whose pieces there
 * were evaluated, the pieces left and right of it. */
static void split_around(picker *p, const cs_prefix *t)
{
    const u128 tf = ipam_first(t), tl = ipam_last(t);
    for (size_t i = 0; i < p->n_regions && !p->oom; i++) {
        const u128 lo = ipam_first(&p->regions[i]), hi = ipam_last(&p->regions[i]);
        if (tf < lo || tf > hi || (!p->front_done[i] && p->front[i] <= tf))
            continue;
        /* Left: from the end of the used block before t (a cut or a taken
         * block) or the region's start, to t. */
        if (tf > lo) {
            u128 from = lo;
            size_t c = cut_seek(p, tf);
            if (c > 0 && p->cuts[c - 1].hi + 1 > from)
                from = p->cuts[c - 1].hi + 1;
            size_t k = taken_seek(p, tf); /* t itself */
            if (k > 0 && ipam_last(&p->out[k - 1].prefix) + 1 > from)
                from = ipam_last(&p->out[k - 1].prefix) + 1;
            if (from <= tf - 1)
                eval_piece(p, i, from, tf - 1, NULL);
        }
        u128 x, y;
        if (tl < hi && next_piece(p, i, tl + 1, &x, &y) && x == tl + 1 &&
            (p->front_done[i] || y < p->front[i]))
            eval_piece(p, i, x, y, NULL);
    }
}

/* Whether the piece [x, y] holds a block taken by this call. */
static bool piece_stale(const picker *p, u128 x, u128 y)
{
    size_t t = taken_seek(p, x);
    return t < p->got && ipam_first(&p->out[t].prefix) <= y;
}

/* Picks up to `want` more blocks into p->out (kept sorted). */
static void pick_blocks(picker *p, size_t want)
{
    const bool lazy = p->r->strategy == CS_IPAM_FIRST;
    p->n = 0;
    for (size_t i = 0; i < p->n_regions && !p->oom; i++) {
        p->front[i] = ipam_first(&p->regions[i]);
        p->front_done[i] = false;
        p->hint[i] = 0;
        advance(p, i, lazy);
    }
    size_t goal = p->got + want;
    while (p->got < goal && p->n && !p->oom) {
        cand c = cand_pop(p);
        if (c.frontier) {
            if (!p->front_done[c.region] && p->front[c.region] == c.x)
                advance(p, c.region, true);
            continue;
        }
        if (piece_stale(p, c.x, c.y))
            continue;
        cs_ipam_allocation a = {ipam_prefix_at(p->family, c.at, p->r->length),
                                p->region_pool[c.region]};
        insert_sorted(p->out, p->got++, &a);
        split_around(p, &a.prefix);
    }
}

/* ---- first, one block, before the index exists --------------------------------- */

/*
 * A command that allocates one block and exits would pay for the whole
 * index (one walk of the family) to answer what the first gaps of its pool
 * usually answer. So `first` for one block, while the index is not built,
 * walks each region from its start and reads at most WALK_BUDGET used
 * blocks per region; a pool whose start is denser than that goes to the
 * index (built then, and kept for every later call). */
#define WALK_BUDGET 512

typedef struct first_ctx {
    unsigned family, len;
    bool found;
    u128 at;
} first_ctx;

static bool first_gap(u128 a, u128 b, void *ctx)
{
    first_ctx *c = ctx;
    u128 m = ipam_ones(ipam_width(c->family) - c->len), at = (a + m) & ~m;
    if (at < a || at > b || b - at < m)
        return false;
    c->found = true;
    c->at = at;
    return true;
}

/* 1 and out[0] when a pool holds a block (the first such pool, its lowest
 * block over its regions), 0 when none does, -1 when a region's start was
 * denser than the budget (ask the index). */
static int walk_first(const cs_snapshot *s, const cs_ipam_request *r, const cs_prefix *reg,
                      const uint32_t *rpool, size_t nreg, cs_ipam_allocation *out)
{
    for (size_t i = 0, k; i < nreg; i = k) {
        bool found = false;
        u128 best = 0;
        for (k = i; k < nreg && rpool[k] == rpool[i]; k++) {
            first_ctx c = {.family = reg[k].family, .len = r->length};
            used_stream u;
            stream_init(&u, s, &reg[k], true, r->extra, r->n_extra, NULL, 0, NULL, 0);
            u.budget = WALK_BUDGET;
            each_gap(&u, first_gap, &c);
            if (u.exhausted)
                return -1;
            if (c.found && (!found || c.at < best)) {
                found = true;
                best = c.at;
            }
        }
        if (found) {
            out[0] = (cs_ipam_allocation){ipam_prefix_at(reg[i].family, best, r->length),
                                          rpool[i]};
            return 1;
        }
    }
    return 0;
}

/* cuts[0..) := the union of extra blocks, refused ranges and blocks taken
 * before (all sorted), as sorted disjoint intervals; returns the count. */
static size_t cuts_build(const cs_snapshot *s, const cs_ipam_request *r, const cs_prefix *rules,
                         size_t nr, const cs_ipam_allocation *taken, size_t ntaken, ival *cuts)
{
    const unsigned family = r->pools[0].family;
    cs_prefix all = ipam_prefix_at(family, 0, 0);
    used_stream u;
    stream_init(&u, s, &all, false, r->extra, r->n_extra, taken, ntaken, rules, nr);
    size_t n = 0;
    u128 f, l;
    while (next_used(&u, &f, &l)) {
        if (n && (f <= cuts[n - 1].hi || f == cuts[n - 1].hi + 1)) {
            if (l > cuts[n - 1].hi)
                cuts[n - 1].hi = l;
            continue;
        }
        cuts[n++] = (ival){f, l};
    }
    return n;
}

/* The refused ranges of vpc_rules before block `got` of a VPC (IPv4): the
 * reserved ranges before the first block; then the ranges the association
 * restriction table refuses with `primary` (the first block allocated). */
static size_t vpc_rules_ranges(const cs_prefix *primary, const cs_ipam_allocation *out,
                               size_t got, cs_prefix *rules)
{
    cs_prefix taken_pfx[CS_AWS_BLOCK_QUOTA_MAX];
    size_t nb = got < CS_AWS_BLOCK_QUOTA_MAX ? got : CS_AWS_BLOCK_QUOTA_MAX;
    for (size_t i = 0; i < nb; i++)
        taken_pfx[i] = out[i].prefix;
    size_t nr = cs_aws_refused_ranges(primary, taken_pfx, nb, rules, RULES_CAP);
    if (!got) {
        /* Before the first block the primary stands as 0.0.0.0/0, whose
         * row's ranges are ignored: only the reserved ranges (listed first). */
        nr = 0;
        for (size_t i = 0; i < RULES_CAP; i++) {
            bool ll;
            if (!cs_aws_reserved_range(&rules[i], &ll))
                break;
            nr++;
        }
    }
    if (nr > RULES_CAP)
        nr = RULES_CAP;
    sort_prefixes(rules, nr);
    return nr;
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
    const unsigned w = ipam_width(family);
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
    if (!r->count)
        return 0;
    sort_prefixes(r->extra, r->n_extra);

    /* vpc_rules: the refused ranges change with the first block, so the
     * blocks are picked one round each (a VPC has a handful). */
    const bool rounds = r->vpc_rules && family == CS_AF_V4;
    const size_t na = r->n_allowed ? r->n_allowed : 1, nreg_max = r->n_pools * na;
    const size_t ncut_max = r->n_extra + RULES_CAP + (rounds ? r->count : 0) + 1;
    picker p = {.r = r, .family = family, .kb = w - r->length, .out = out};
    cs_prefix *reg = malloc(nreg_max * sizeof *reg);
    uint32_t *rpool = malloc(nreg_max * sizeof *rpool);
    u128 *front = malloc(nreg_max * sizeof *front);
    bool *front_done = malloc(nreg_max * sizeof *front_done);
    size_t *hint = malloc(nreg_max * sizeof *hint);
    ival *cuts = malloc(ncut_max * sizeof *cuts);
    int64_t rc = 0;
    if (!reg || !rpool || !front || !front_done || !hint || !cuts) {
        rc = CS_ENOMEM;
        goto done;
    }
    size_t nreg = 0;
    for (size_t i = 0; i < r->n_pools; i++)
        for (size_t j = 0; j < na; j++)
            if (request_region(r, i, j, &reg[nreg]))
                rpool[nreg++] = (uint32_t)i;
    if (r->strategy == CS_IPAM_FIRST && r->count == 1 && !rounds && !r->avoid_none &&
        !ipam_index_ready(s, family)) {
        int walked = walk_first(s, r, reg, rpool, nreg, out);
        if (walked >= 0) {
            rc = walked;
            if (!walked && reason)
                *reason = CS_IPAM_NO_SPACE;
            goto done;
        }
    }
    p.ix = r->avoid_none ? NULL : ipam_index_of(s, family);
    if (!r->avoid_none && !p.ix) {
        rc = CS_ENOMEM;
        goto done;
    }
    p.regions = reg;
    p.region_pool = rpool;
    p.n_regions = nreg;
    p.front = front;
    p.front_done = front_done;
    p.hint = hint;
    p.cuts = cuts;
    if (!rounds) {
        p.n_cuts = cuts_build(s, r, NULL, 0, NULL, 0, cuts);
        pick_blocks(&p, r->count);
    } else {
        cs_prefix rules[RULES_CAP], primary = cs_prefix_from_v4(0, 0);
        while (p.got < r->count && !p.oom) {
            size_t before = p.got;
            size_t nr = vpc_rules_ranges(&primary, out, p.got, rules);
            /* This round's cuts hold the earlier rounds' blocks too. */
            p.n_cuts = cuts_build(s, r, rules, nr, out, p.got, cuts);
            pick_blocks(&p, 1);
            if (p.got == before)
                break;
            if (!before)
                primary = out[0].prefix;
        }
    }
    rc = p.oom ? CS_ENOMEM : (int64_t)p.got;
    if (rc >= 0 && p.got < r->count && reason)
        *reason = CS_IPAM_NO_SPACE;
done:
    free(p.h);
    free(reg);
    free(rpool);
    free(front);
    free(front_done);
    free(hint);
    free(cuts);
    return rc;
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
