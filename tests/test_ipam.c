/*
 * tests/test_ipam.c — free space and allocation (include/cidrscope/ipam.h)
 * against a brute force too simple to be wrong: the pool as a bitmap of
 * its smallest units, every stored or extra block marking its units used.
 * Free space must equal the bitmap's minimal aligned CIDR list (and its
 * figures); every strategy must pick what a scan of the bitmap picks (for
 * `first`: no free aligned block lies lower). Seeded estates of both
 * families (seed printed; CS_TEST_SEED replays), plus fixed cases for the
 * AWS VPC rules, --allowed, avoid none and the peer blocks. Overlapping
 * pools and allowed ranges against one bitmap per region. Pools from AWS
 * IPAM (tests/fixtures/ipam, the outputs' AWS shapes): fields, provisioned
 * CIDRs, allocations, the netmask rules, and every error's file, line and
 * column.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "support/testutil.h"

#include <cidrscope/ipam.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__extension__ typedef unsigned __int128 u128;

static cs_prefix P(const char *text)
{
    cs_prefix p;
    cs_error err;
    cs_error_clear(&err);
    if (cs_prefix_parse(text, strlen(text), 0, &p, &err) != 0)
        fail_msg("test prefix %s: %s", text, err.message);
    return p;
}

static u128 addr(const cs_prefix *p)
{
    return p->family == CS_AF_V4 ? (u128)(p->hi >> 32) : ((u128)p->hi << 64) | p->lo;
}

static unsigned width(unsigned fam)
{
    return fam == CS_AF_V4 ? 32 : 128;
}

static cs_prefix at(unsigned fam, u128 a, unsigned len)
{
    return fam == CS_AF_V4 ? cs_prefix_from_v4((uint32_t)a, len)
                           : cs_prefix_from_v6((uint64_t)(a >> 64), (uint64_t)a, len);
}

/* ---- the brute force: a bitmap of units of length `unit` ---------------- */

typedef struct bitmap {
    cs_prefix pool;
    unsigned unit;     /* prefix length of one unit */
    size_t n;          /* units in the pool */
    unsigned char *used;
} bitmap;

static void bm_init(bitmap *b, const cs_prefix *pool, unsigned unit)
{
    b->pool = *pool;
    b->unit = unit;
    b->n = (size_t)1 << (unit - pool->len);
    b->used = calloc(b->n, 1);
    assert_non_null(b->used);
}

/* Marks the units of p (len <= unit) that lie in the pool. */
static void bm_mark(bitmap *b, const cs_prefix *p)
{
    if (p->family != b->pool.family || !cs_prefix_overlaps(p, &b->pool))
        return;
    if (p->len <= b->pool.len) {
        memset(b->used, 1, b->n);
        return;
    }
    assert_true(p->len <= b->unit);
    unsigned shift = width(p->family) - b->unit;
    size_t first = (size_t)((addr(p) - addr(&b->pool)) >> shift);
    size_t cnt = (size_t)1 << (b->unit - p->len);
    memset(b->used + first, 1, cnt);
}

static cs_prefix bm_block(const bitmap *b, size_t i, unsigned len)
{
    unsigned shift = width(b->pool.family) - b->unit;
    return at(b->pool.family, addr(&b->pool) + ((u128)i << shift), len);
}

/* True when units [i, i + 2^k) are all free. */
static bool bm_free(const bitmap *b, size_t i, unsigned k)
{
    size_t cnt = (size_t)1 << k;
    if (i + cnt > b->n)
        return false;
    for (size_t j = i; j < i + cnt; j++)
        if (b->used[j])
            return false;
    return true;
}

/* The minimal CIDR list: at each free unit, the largest aligned all-free
 * block starting there. Returns the count; blocks into out. */
static size_t bm_holes(const bitmap *b, cs_prefix *out, size_t cap)
{
    size_t n = 0;
    unsigned kmax = b->unit - b->pool.len;
    for (size_t i = 0; i < b->n;) {
        if (b->used[i]) {
            i++;
            continue;
        }
        unsigned k = 0;
        while (k < kmax && (i & (((size_t)2 << k) - 1)) == 0 && bm_free(b, i, k + 1))
            k++;
        assert_true(n < cap);
        out[n++] = bm_block(b, i, b->unit - k);
        i += (size_t)1 << k;
    }
    return n;
}

/* The block of length len the strategy picks, by scanning; *hole_len
 * (nullable) receives the length of the hole it lies in (best-fit,
 * spread). */
static bool bm_pick_in(const bitmap *b, unsigned strategy, unsigned len, cs_prefix *got,
                       unsigned *hole_len)
{
    unsigned k = b->unit - len;
    if (strategy == CS_IPAM_FIRST) {
        for (size_t i = 0; i < b->n; i += (size_t)1 << k)
            if (bm_free(b, i, k)) {
                *got = bm_block(b, i, len);
                return true;
            }
        return false;
    }
    static cs_prefix holes[1 << 14];
    size_t n = bm_holes(b, holes, sizeof holes / sizeof *holes);
    bool found = false;
    for (size_t i = 0; i < n; i++) {
        if (holes[i].len > len)
            continue;
        if (!found || (strategy == CS_IPAM_BEST_FIT ? holes[i].len > got->len
                                                    : holes[i].len < got->len)) {
            *got = holes[i];
            found = true;
        }
    }
    if (found) {
        if (hole_len)
            *hole_len = got->len;
        *got = at(b->pool.family, addr(got), len);
    }
    return found;
}

static bool bm_pick(const bitmap *b, unsigned strategy, unsigned len, cs_prefix *got)
{
    return bm_pick_in(b, strategy, len, got, NULL);
}

/* ---- seeded estates -------------------------------------------------------- */

/* A pool, stored blocks around and inside it, extra blocks. */
typedef struct scene {
    cs_prefix pool;
    unsigned unit;
    cs_prefix *stored, *extra;
    size_t n_stored, n_extra;
    cs_snapshot *snap;
} scene;

static cs_prefix random_inside(tu_rng *r, const cs_prefix *around, unsigned lo, unsigned hi)
{
    unsigned len = lo + (unsigned)tu_below(r, hi - lo + 1);
    cs_prefix p = tu_random_prefix(r, around->family, len);
    /* Keep the bits of `around` above its length. */
    unsigned w = width(around->family);
    u128 mask = around->len ? ~(u128)0 << (w - around->len) : 0;
    if (w == 32)
        mask &= 0xffffffffu;
    u128 a = (addr(&p) & ~mask) | (addr(around) & mask);
    return at(around->family, a, len);
}

/* The pool is 2^wider times the small scene's (a /16 of /28 units, a /36
 * of /48 units); up to max_stored stored and max_extra extra blocks; stored
 * blocks of any length (span 0: a few around the pool) or only the `span`
 * + 1 lengths above the unit's (many small gaps). */
static void scene_make_sized(scene *sc, tu_rng *r, unsigned fam, unsigned wider,
                             size_t max_stored, size_t max_extra, unsigned span)
{
    memset(sc, 0, sizeof *sc);
    if (fam == CS_AF_V4) {
        sc->pool = P("10.64.0.0/16");
        sc->unit = 28;
    } else {
        sc->pool = P("2600:1f18:4000::/36");
        sc->unit = 48;
    }
    sc->pool = tu_truncate(&sc->pool, sc->pool.len - wider);
    cs_prefix wide = tu_truncate(&sc->pool, sc->pool.len - 2);
    sc->n_stored = (size_t)tu_below(r, max_stored);
    sc->n_extra = (size_t)tu_below(r, max_extra);
    sc->stored = calloc(sc->n_stored + 1, sizeof *sc->stored);
    sc->extra = calloc(sc->n_extra + 1, sizeof *sc->extra);
    unsigned w0 = sc->pool.len - 2u;
    for (size_t i = 0; i < sc->n_stored; i++) {
        /* Mostly small blocks inside; a few large ones, some around. */
        unsigned lo = span ? sc->unit - span : tu_below(r, 10) == 0 ? w0 : sc->pool.len + 2u;
        sc->stored[i] = random_inside(r, &wide, lo, sc->unit);
    }
    for (size_t i = 0; i < sc->n_extra; i++)
        sc->extra[i] = random_inside(r, &wide, sc->pool.len + 3, sc->unit);
    /* Another family's block and one outside never count. */
    cs_snapshot_builder *b = cs_snapshot_builder_new();
    assert_non_null(b);
    for (size_t i = 0; i < sc->n_stored; i++)
        assert_int_equal(cs_snapshot_builder_add(b, &sc->stored[i], (uint32_t)i, NULL), 0);
    cs_prefix other = fam == CS_AF_V4 ? P("2600::/56") : P("10.64.0.0/16");
    assert_int_equal(cs_snapshot_builder_add(b, &other, 7, NULL), 0);
    assert_int_equal(cs_snapshot_builder_freeze(b, &sc->snap, NULL), 0);
    cs_snapshot_builder_free(b);
}

static void scene_make(scene *sc, tu_rng *r, unsigned fam)
{
    scene_make_sized(sc, r, fam, 0, 300, 20, 0);
}

static void scene_free(scene *sc)
{
    free(sc->stored);
    free(sc->extra);
    cs_snapshot_close(sc->snap);
}

static void scene_bitmap(const scene *sc, bitmap *b, bool with_stored)
{
    bm_init(b, &sc->pool, sc->unit);
    for (size_t i = 0; with_stored && i < sc->n_stored; i++)
        bm_mark(b, &sc->stored[i]);
    for (size_t i = 0; i < sc->n_extra; i++)
        bm_mark(b, &sc->extra[i]);
}

static u128 u(cs_u128 x)
{
    return ((u128)x.hi << 64) | x.lo;
}

static void ipam__free_equals_brute_force_complement(void **state)
{
    (void)state;
    tu_rng r = {tu_seed("test_ipam free", 0x1f2e3d4c5b6a7988ull)};
    static cs_prefix want[1 << 14], got[1 << 14];
    for (int round = 0; round < 200; round++) {
        unsigned fam = round % 2 ? CS_AF_V6 : CS_AF_V4;
        scene sc;
        scene_make(&sc, &r, fam);
        bitmap b;
        scene_bitmap(&sc, &b, true);
        size_t nw = bm_holes(&b, want, sizeof want / sizeof *want);
        cs_ipam_pool_stats st;
        int64_t n = cs_ipam_free(sc.snap, &sc.pool, sc.extra, sc.n_extra, 0, got,
                                 sizeof got / sizeof *got, &st);
        assert_int_equal(n, (int64_t)nw);
        for (size_t i = 0; i < nw; i++)
            if (cs_prefix_compare(&want[i], &got[i]) != 0) {
                char a[CS_PREFIX_STRCAP], c[CS_PREFIX_STRCAP];
                cs_prefix_format(&want[i], a, sizeof a);
                cs_prefix_format(&got[i], c, sizeof c);
                fail_msg("round %d hole %zu: want %s got %s", round, i, a, c);
            }
        /* Figures. */
        unsigned shift = width(fam) - sc.unit;
        size_t free_units = 0;
        for (size_t i = 0; i < b.n; i++)
            free_units += !b.used[i];
        assert_true(u(st.free) == (u128)free_units << shift);
        assert_true(u(st.addresses) == (u128)b.n << shift);
        assert_true(u(st.used) + u(st.free) == u(st.addresses));
        assert_int_equal(st.free_blocks, nw);
        assert_int_equal(st.has_free, nw > 0);
        if (nw) {
            cs_prefix big = want[0];
            for (size_t i = 1; i < nw; i++)
                if (want[i].len < big.len)
                    big = want[i];
            assert_int_equal(cs_prefix_compare(&big, &st.largest_free), 0);
            assert_true(st.fragmentation >= 0.0 && st.fragmentation < 1.0);
            assert_true((nw == 1) == (st.fragmentation == 0.0) || nw > 1);
        }
        /* max_len keeps only the big holes; counts agree. */
        unsigned ml = sc.pool.len + 4;
        size_t nbig = 0;
        for (size_t i = 0; i < nw; i++)
            nbig += want[i].len <= ml;
        assert_int_equal(cs_ipam_free(sc.snap, &sc.pool, sc.extra, sc.n_extra, ml, got, 3, NULL),
                         (int64_t)nbig);
        free(b.used);
        scene_free(&sc);
    }
}

/* One shape of the differential test: `rounds` seeded scenes (pool 2^wider
 * times the small one, up to max_stored / max_extra blocks), each asking for
 * 1..max_count blocks of one random length. */
typedef struct shape {
    const char *name;
    int rounds;
    unsigned wider;
    size_t max_stored, max_extra, max_count;
    unsigned span;
} shape;

#define COUNT_MAX 128

static void check_strategy_shaped(unsigned strategy, const shape *sh)
{
    char suite[64];
    snprintf(suite, sizeof suite, "test_ipam %s", sh->name);
    tu_rng r = {tu_seed(suite, 0x5eed0000ull + strategy + 16u * sh->wider)};
    static cs_ipam_allocation out[COUNT_MAX];
    assert_true(sh->max_count <= COUNT_MAX);
    for (int round = 0; round < sh->rounds; round++) {
        unsigned fam = round % 2 ? CS_AF_V6 : CS_AF_V4;
        scene sc;
        scene_make_sized(&sc, &r, fam, sh->wider, sh->max_stored, sh->max_extra, sh->span);
        bool avoid_none = round % 7 == 3;
        bitmap b;
        scene_bitmap(&sc, &b, !avoid_none);
        /* Any length; with many small stored blocks, mostly small ones
         * (so that holes run out in the middle of a call). */
        unsigned len = sh->span && round % 4 ? sc.unit - (unsigned)tu_below(&r, 8)
                                             : sc.pool.len + 1 +
                                                   (unsigned)tu_below(&r, sc.unit - sc.pool.len);
        size_t count = 1 + (size_t)tu_below(&r, sh->max_count);
        cs_ipam_request q = {.pools = &sc.pool, .n_pools = 1, .length = len, .count = count,
                             .strategy = strategy, .avoid_none = avoid_none,
                             .extra = sc.extra, .n_extra = sc.n_extra};
        unsigned why = 99;
        int64_t n = cs_ipam_alloc(sc.snap, &q, out, &why);
        assert_true(n >= 0 && (size_t)n <= count);
        /* Replay on the bitmap, one block after the other. */
        static cs_prefix want[COUNT_MAX];
        size_t nw = 0;
        while (nw < count && bm_pick(&b, strategy, len, &want[nw])) {
            bm_mark(&b, &want[nw]);
            nw++;
        }
        if ((size_t)n != nw)
            fail_msg("%s round %d: %lld blocks, brute force %zu", cs_ipam_strategy_name(strategy),
                     round, (long long)n, nw);
        assert_int_equal(why, nw == count ? CS_IPAM_OK : CS_IPAM_NO_SPACE);
        /* out is ascending; the brute force's picks, sorted, equal it. */
        for (size_t i = 0; i < nw; i++)
            for (size_t j = i + 1; j < nw; j++)
                if (cs_prefix_compare(&want[j], &want[i]) < 0) {
                    cs_prefix t = want[i];
                    want[i] = want[j];
                    want[j] = t;
                }
        for (size_t i = 0; i < nw; i++) {
            assert_int_equal(out[i].pool, 0);
            if (cs_prefix_compare(&out[i].prefix, &want[i]) != 0) {
                char a[CS_PREFIX_STRCAP], c[CS_PREFIX_STRCAP];
                cs_prefix_format(&want[i], a, sizeof a);
                cs_prefix_format(&out[i].prefix, c, sizeof c);
                fail_msg("%s round %d block %zu: want %s got %s",
                         cs_ipam_strategy_name(strategy), round, i, a, c);
            }
        }
        free(b.used);
        scene_free(&sc);
    }
}

static void check_strategy(unsigned strategy)
{
    const shape small = {"alloc", 200, 0, 300, 20, 6, 0};
    check_strategy_shaped(strategy, &small);
}

/* Two overlapping pools (a block of the scene's pool, then the pool) and
 * sometimes two allowed ranges: every region (pool cut to an allowed range)
 * is a bitmap; each step picks per region by scanning and keeps the best
 * region (first: the first pool with a block, its lowest; best-fit /
 * spread: the best hole, ties to the earlier region), then marks the block
 * in every bitmap. */
static void check_regions(unsigned strategy)
{
    tu_rng r = {tu_seed("test_ipam regions", 0x5eed1000ull + strategy)};
    cs_ipam_allocation out[8];
    for (int round = 0; round < 120; round++) {
        unsigned fam = round % 2 ? CS_AF_V6 : CS_AF_V4;
        scene sc;
        scene_make(&sc, &r, fam);
        cs_prefix pools[2] = {random_inside(&r, &sc.pool, sc.pool.len + 1, sc.pool.len + 3),
                              sc.pool};
        cs_prefix allowed[2];
        size_t n_allowed = round % 3 == 0 ? 0 : 2;
        for (size_t j = 0; j < n_allowed; j++)
            allowed[j] = random_inside(&r, &sc.pool, sc.pool.len, sc.pool.len + 4);
        bool avoid_none = round % 5 == 2;
        unsigned len = sc.pool.len + 4 + (unsigned)tu_below(&r, sc.unit - sc.pool.len - 3);
        size_t count = 1 + (size_t)tu_below(&r, 8);
        bitmap bm[4];
        uint32_t bpool[4];
        size_t nb = 0;
        for (uint32_t i = 0; i < 2; i++)
            for (size_t j = 0; j < (n_allowed ? n_allowed : 1); j++) {
                cs_prefix reg = pools[i];
                if (n_allowed) {
                    if (!cs_prefix_overlaps(&pools[i], &allowed[j]))
                        continue;
                    if (allowed[j].len > reg.len)
                        reg = allowed[j];
                }
                if (len < reg.len)
                    continue;
                bm_init(&bm[nb], &reg, sc.unit);
                for (size_t k = 0; !avoid_none && k < sc.n_stored; k++)
                    bm_mark(&bm[nb], &sc.stored[k]);
                for (size_t k = 0; k < sc.n_extra; k++)
                    bm_mark(&bm[nb], &sc.extra[k]);
                bpool[nb++] = i;
            }
        cs_ipam_request q = {.pools = pools, .n_pools = 2, .length = len, .count = count,
                             .strategy = strategy, .avoid_none = avoid_none,
                             .allowed = allowed, .n_allowed = n_allowed, .extra = sc.extra,
                             .n_extra = sc.n_extra};
        int64_t n = cs_ipam_alloc(sc.snap, &q, out, NULL);
        cs_ipam_allocation want[8];
        size_t nw = 0;
        while (nw < count) {
            bool found = false;
            unsigned best_hole = 0;
            for (size_t k = 0; k < nb; k++) {
                cs_prefix g;
                unsigned h = 0;
                if (!bm_pick_in(&bm[k], strategy, len, &g, &h))
                    continue;
                bool better = !found;
                if (found && strategy == CS_IPAM_FIRST)
                    better = bpool[k] == want[nw].pool &&
                             cs_prefix_compare(&g, &want[nw].prefix) < 0;
                else if (found)
                    better = strategy == CS_IPAM_BEST_FIT ? h > best_hole : h < best_hole;
                if (better) {
                    want[nw] = (cs_ipam_allocation){g, bpool[k]};
                    best_hole = h;
                    found = true;
                }
            }
            if (!found)
                break;
            for (size_t k = 0; k < nb; k++)
                bm_mark(&bm[k], &want[nw].prefix);
            nw++;
        }
        if ((size_t)n != nw)
            fail_msg("%s round %d: %lld blocks, brute force %zu", cs_ipam_strategy_name(strategy),
                     round, (long long)n, nw);
        for (size_t i = 0; i < nw; i++)
            for (size_t j = i + 1; j < nw; j++)
                if (cs_prefix_compare(&want[j].prefix, &want[i].prefix) < 0) {
                    cs_ipam_allocation t = want[i];
                    want[i] = want[j];
                    want[j] = t;
                }
        for (size_t i = 0; i < nw; i++) {
            if (cs_prefix_compare(&out[i].prefix, &want[i].prefix) != 0 ||
                out[i].pool != want[i].pool) {
                char a[CS_PREFIX_STRCAP], c[CS_PREFIX_STRCAP];
                cs_prefix_format(&want[i].prefix, a, sizeof a);
                cs_prefix_format(&out[i].prefix, c, sizeof c);
                fail_msg("%s round %d block %zu: want %s (pool %u) got %s (pool %u)",
                         cs_ipam_strategy_name(strategy), round, i, a, want[i].pool, c,
                         out[i].pool);
            }
        }
        for (size_t k = 0; k < nb; k++)
            free(bm[k].used);
        scene_free(&sc);
    }
}

static void ipam__overlapping_pools_and_allowed_ranges_equal_brute_force(void **state)
{
    (void)state;
    for (unsigned st = 0; st < CS_IPAM_STRATEGY_COUNT; st++)
        check_regions(st);
}

static void ipam__first_is_the_lowest_free_block(void **state)
{
    (void)state;
    check_strategy(CS_IPAM_FIRST);
}

static void ipam__best_fit_packs_the_smallest_hole(void **state)
{
    (void)state;
    check_strategy(CS_IPAM_BEST_FIT);
}

static void ipam__spread_takes_the_largest_hole(void **state)
{
    (void)state;
    check_strategy(CS_IPAM_SPREAD);
}

/* The index of free holes at more than one tree level: pools 4x the small
 * ones holding thousands of small blocks (thousands of gaps), extra blocks
 * cutting them, and up to 128 blocks per call (each pick changes the holes
 * the next one sees); lengths from the pool's + 1 to the unit's, so many
 * calls find no fitting hole for some of their blocks. */
static void ipam__many_picks_in_one_call_equal_brute_force(void **state)
{
    (void)state;
    const shape many = {"many", 24, 2, 6000, 60, COUNT_MAX, 4};
    for (unsigned st = 0; st < CS_IPAM_STRATEGY_COUNT; st++)
        check_strategy_shaped(st, &many);
}

/* ---- fixed cases -------------------------------------------------------------- */

/* A pool whose first 1,000 blocks are used, one gap between each pair too
 * small for the block asked: `first` of one block on a fresh snapshot (no
 * index yet: the walk from the pool's start gives up after its budget and
 * the index answers) takes the block right after them, from this pool and
 * not from the second one; again once the index exists. Both families. */
static void ipam__first_past_a_dense_start(void **state)
{
    (void)state;
    for (int f = 0; f < 2; f++) {
        const unsigned fam = f ? CS_AF_V6 : CS_AF_V4, w = fam == CS_AF_V4 ? 32 : 128;
        cs_prefix pools[2] = {f ? P("2600:1f00::/40") : P("10.0.0.0/16"),
                              f ? P("2600:2f00::/40") : P("10.1.0.0/16")};
        const unsigned small = f ? 64 : 28; /* stored: every other /small */
        cs_snapshot_builder *b = cs_snapshot_builder_new();
        u128 base = addr(&pools[0]), step = (u128)1 << (w - small);
        for (uint32_t i = 0; i < 1000; i++) {
            cs_prefix p = at(fam, base + 2 * i * step, small);
            assert_int_equal(cs_snapshot_builder_add(b, &p, i, NULL), 0);
        }
        cs_snapshot *s = NULL;
        assert_int_equal(cs_snapshot_builder_freeze(b, &s, NULL), 0);
        cs_snapshot_builder_free(b);
        /* The first aligned /small-1 after the used run: 2000 units in. */
        cs_prefix want = at(fam, base + 2000 * step, small - 1);
        for (int again = 0; again < 2; again++) {
            cs_ipam_allocation out[1];
            unsigned why = 99;
            cs_ipam_request q = {.pools = pools, .n_pools = 2, .length = small - 1, .count = 1};
            assert_int_equal(cs_ipam_alloc(s, &q, out, &why), 1);
            assert_int_equal(why, CS_IPAM_OK);
            assert_int_equal(out[0].pool, 0);
            assert_int_equal(cs_prefix_compare(&out[0].prefix, &want), 0);
        }
        cs_snapshot_close(s);
    }
}

/* A pool whose only stored block is its first address: its free space is
 * one hole of every length from the pool's + 1 to the family's width, the
 * hole of /L at pool + 2^(width - L). best-fit and first take exactly that
 * hole for /L, spread the largest (the upper half); after it, first and
 * best-fit take the next blocks of the /L-1 hole. Both families; IPv6 puts
 * hole sizes on both halves of the 128-bit sets. */
static void ipam__holes_of_every_size(void **state)
{
    (void)state;
    const char *const pools[2] = {"10.0.0.0/8", "2600::/32"};
    const char *const firsts[2] = {"10.0.0.0/32", "2600::/128"};
    for (int f = 0; f < 2; f++) {
        cs_prefix pool = P(pools[f]);
        cs_snapshot *s = NULL;
        cs_snapshot_builder *b = cs_snapshot_builder_new();
        cs_prefix one = P(firsts[f]);
        assert_int_equal(cs_snapshot_builder_add(b, &one, 0, NULL), 0);
        assert_int_equal(cs_snapshot_builder_freeze(b, &s, NULL), 0);
        cs_snapshot_builder_free(b);
        const unsigned w = width(pool.family);
        for (unsigned len = pool.len + 1; len <= w; len++) {
            const u128 base = addr(&pool), size = (u128)1 << (w - len);
            const u128 half = (u128)1 << (w - pool.len - 1);
            for (unsigned st = 0; st < CS_IPAM_STRATEGY_COUNT; st++) {
                /* Two blocks fit unless /L is the pool's halves (one free). */
                const size_t fit = len == pool.len + 1u ? 1 : 2;
                const u128 want[2] = {st == CS_IPAM_SPREAD ? base + half : base + size,
                                      st == CS_IPAM_SPREAD ? base + half / 2 : base + 2 * size};
                cs_ipam_allocation out[2];
                unsigned why = 99;
                cs_ipam_request q = {.pools = &pool, .n_pools = 1, .length = len, .count = 2,
                                     .strategy = st};
                int64_t n = cs_ipam_alloc(s, &q, out, &why);
                if (n != (int64_t)fit)
                    fail_msg("%s /%u %s: %lld blocks, want %zu", pools[f], len,
                             cs_ipam_strategy_name(st), (long long)n, fit);
                assert_int_equal(why, fit == 2 ? CS_IPAM_OK : CS_IPAM_NO_SPACE);
                for (size_t i = 0; i < fit; i++) {
                    bool seen = false;
                    for (size_t j = 0; j < fit; j++)
                        seen |= addr(&out[j].prefix) == want[i] && out[j].prefix.len == len;
                    if (!seen)
                        fail_msg("%s /%u %s: block %zu is not where the hole sizes say",
                                 pools[f], len, cs_ipam_strategy_name(st), i);
                }
            }
        }
        cs_snapshot_close(s);
    }
}


static cs_snapshot *build(const char *const *p, size_t n)
{
    cs_snapshot_builder *b = cs_snapshot_builder_new();
    for (size_t i = 0; i < n; i++) {
        cs_prefix q = P(p[i]);
        assert_int_equal(cs_snapshot_builder_add(b, &q, (uint32_t)i, NULL), 0);
    }
    cs_snapshot *s = NULL;
    assert_int_equal(cs_snapshot_builder_freeze(b, &s, NULL), 0);
    cs_snapshot_builder_free(b);
    return s;
}

static void ipam__pools_allowed_lengths_and_vpc_rules(void **state)
{
    (void)state;
    const char *const blocks[] = {"10.0.0.0/16", "10.1.0.0/17", "172.16.0.0/13"};
    cs_snapshot *s = build(blocks, 3);
    cs_prefix pools[2] = {P("10.0.0.0/14"), P("172.16.0.0/12")};
    cs_ipam_allocation out[4];
    unsigned why;
    cs_ipam_request q = {.pools = pools, .n_pools = 2, .length = 16, .count = 2};
    assert_int_equal(cs_ipam_alloc(s, &q, out, &why), 2);
    assert_int_equal(why, CS_IPAM_OK);
    char t[CS_PREFIX_STRCAP];
    cs_prefix_format(&out[0].prefix, t, sizeof t);
    assert_string_equal(t, "10.2.0.0/16");
    cs_prefix_format(&out[1].prefix, t, sizeof t);
    assert_string_equal(t, "10.3.0.0/16");
    /* Fewer than asked: the ones that fit, and the reason. */
    q.count = 4;
    q.n_pools = 1;
    assert_int_equal(cs_ipam_alloc(s, &q, out, &why), 2);
    assert_int_equal(why, CS_IPAM_NO_SPACE);
    /* A length shorter than every pool. */
    q.length = 12;
    assert_int_equal(cs_ipam_alloc(s, &q, out, &why), 0);
    assert_int_equal(why, CS_IPAM_BAD_LENGTH);
    /* --allowed narrows a pool. */
    cs_prefix allowed = P("10.3.0.0/16");
    q = (cs_ipam_request){.pools = pools, .n_pools = 1, .length = 24, .count = 1,
                          .allowed = &allowed, .n_allowed = 1};
    assert_int_equal(cs_ipam_alloc(s, &q, out, &why), 1);
    cs_prefix_format(&out[0].prefix, t, sizeof t);
    assert_string_equal(t, "10.3.0.0/24");
    /* VPC rules: sizes; a 10/8 primary refuses 172.16/12 secondaries, so
     * the second block of the VPC cannot come from the second pool. */
    q = (cs_ipam_request){.pools = pools, .n_pools = 2, .length = 29, .count = 1,
                          .vpc_rules = true};
    assert_int_equal(cs_ipam_alloc(s, &q, out, &why), 0);
    assert_int_equal(why, CS_IPAM_VPC_SIZE);
    cs_prefix pools2[2] = {P("10.2.0.0/16"), P("172.24.0.0/16")};
    q = (cs_ipam_request){.pools = pools2, .n_pools = 2, .length = 16, .count = 2,
                          .vpc_rules = true};
    assert_int_equal(cs_ipam_alloc(s, &q, out, &why), 1);
    assert_int_equal(why, CS_IPAM_NO_SPACE);
    q.vpc_rules = false;
    assert_int_equal(cs_ipam_alloc(s, &q, out, &why), 2);
    assert_int_equal(out[1].pool, 1);
    /* Reserved ranges are never given to a VPC. */
    cs_prefix lo = P("127.0.0.0/8");
    q = (cs_ipam_request){.pools = &lo, .n_pools = 1, .length = 16, .count = 1,
                          .vpc_rules = true};
    assert_int_equal(cs_ipam_alloc(s, &q, out, &why), 0);
    assert_int_equal(why, CS_IPAM_NO_SPACE);
    /* Bad arguments. */
    cs_prefix mixed[2] = {P("10.0.0.0/8"), P("2600::/32")};
    q = (cs_ipam_request){.pools = mixed, .n_pools = 2, .length = 16, .count = 1};
    assert_int_equal(cs_ipam_alloc(s, &q, out, &why), CS_EINVAL);
    q.n_pools = 1;
    q.strategy = 9;
    assert_int_equal(cs_ipam_alloc(s, &q, out, &why), CS_EINVAL);
    cs_prefix v6all = P("::/0");
    assert_int_equal(cs_ipam_free(s, &v6all, NULL, 0, 0, NULL, 0, NULL), CS_EINVAL);
    for (unsigned st = 0; st < CS_IPAM_STRATEGY_COUNT; st++) {
        q = (cs_ipam_request){.pools = &v6all, .n_pools = 1, .length = 48, .count = 1,
                              .strategy = st};
        assert_int_equal(cs_ipam_alloc(s, &q, out, &why), CS_EINVAL);
    }
    /* Names. */
    assert_int_equal(cs_ipam_strategy_parse("best-fit", 8), CS_IPAM_BEST_FIT);
    assert_int_equal(cs_ipam_strategy_parse("worst", 5), CS_EINVAL);
    assert_string_equal(cs_ipam_reason_name(CS_IPAM_NO_SPACE), "no-space");
    cs_snapshot_close(s);
}

/* The pool's only single-address hole lies in a gap between its first and
 * last gaps (so the index's summary, not an end gap, must report it):
 * best-fit for a /32 takes it, spread the largest hole, first the lowest
 * address. */
static void ipam__best_fit_finds_a_one_address_hole_between_gaps(void **state)
{
    (void)state;
    const char *const blocks[] = {"10.0.0.0/30",  "10.0.0.8/29",  "10.0.0.17/32",
                                  "10.0.0.18/31", "10.0.0.20/30", "10.0.0.24/29",
                                  "10.0.0.64/26"};
    cs_snapshot *s = build(blocks, sizeof blocks / sizeof *blocks);
    cs_prefix pool = P("10.0.0.0/24");
    static const char *const want[CS_IPAM_STRATEGY_COUNT] = {"10.0.0.4/32", "10.0.0.16/32",
                                                             "10.0.0.128/32"};
    for (unsigned st = 0; st < CS_IPAM_STRATEGY_COUNT; st++) {
        cs_ipam_allocation out[1];
        cs_ipam_request q = {.pools = &pool, .n_pools = 1, .length = 32, .count = 1,
                             .strategy = st};
        assert_int_equal(cs_ipam_alloc(s, &q, out, NULL), 1);
        char text[CS_PREFIX_STRCAP];
        cs_prefix_format(&out[0].prefix, text, sizeof text);
        assert_string_equal(text, want[st]);
    }
    cs_snapshot_close(s);
}

/* Threads racing to the index of holes on a fresh snapshot (each may build
 * one; one is kept, the others freed: ASan sees a leak or a double free)
 * get the answers of a snapshot whose index was built before them. */
typedef struct race {
    cs_snapshot *s;
    cs_prefix pool;
    unsigned strategy;
    cs_ipam_allocation out[16];
    int64_t n;
} race;

static void *race_run(void *arg)
{
    race *r = arg;
    cs_ipam_request q = {.pools = &r->pool, .n_pools = 1, .length = r->pool.len + 10,
                         .count = 16, .strategy = r->strategy};
    r->n = cs_ipam_alloc(r->s, &q, r->out, NULL);
    return NULL;
}

static void ipam__threads_racing_to_the_index_agree(void **state)
{
    (void)state;
    tu_rng rng = {tu_seed("test_ipam race", 0x7ace)};
    for (int round = 0; round < 6; round++) {
        scene sc;
        scene_make_sized(&sc, &rng, round % 2 ? CS_AF_V6 : CS_AF_V4, 2, 3000, 1, 4);
        race want[3], got[4];
        for (unsigned st = 0; st < 3; st++) {
            want[st] = (race){.s = sc.snap, .pool = sc.pool, .strategy = st};
            race_run(&want[st]);
        }
        /* A second snapshot of the same blocks, fresh: no index yet. */
        cs_snapshot_builder *b = cs_snapshot_builder_new();
        for (size_t i = 0; i < sc.n_stored; i++)
            assert_int_equal(cs_snapshot_builder_add(b, &sc.stored[i], (uint32_t)i, NULL), 0);
        cs_snapshot *fresh = NULL;
        assert_int_equal(cs_snapshot_builder_freeze(b, &fresh, NULL), 0);
        cs_snapshot_builder_free(b);
        pthread_t th[4];
        for (int k = 0; k < 4; k++) {
            got[k] = (race){.s = fresh, .pool = sc.pool, .strategy = (unsigned)(k % 3)};
            assert_int_equal(pthread_create(&th[k], NULL, race_run, &got[k]), 0);
        }
        for (int k = 0; k < 4; k++) {
            pthread_join(th[k], NULL);
            const race *w = &want[k % 3];
            assert_int_equal(got[k].n, w->n);
            for (int64_t i = 0; i < w->n; i++)
                assert_int_equal(cs_prefix_compare(&got[k].out[i].prefix, &w->out[i].prefix), 0);
        }
        cs_snapshot_close(fresh);
        scene_free(&sc);
    }
}

/* ---- pools from AWS IPAM ------------------------------------------------------ */

#define IPAM_FIX CS_SOURCE_DIR "/tests/fixtures/ipam/"

static void ipam__pools_from_aws_ipam_outputs(void **state)
{
    (void)state;
    cs_ipam_pools *set = NULL;
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_ipam_pools_new(&set), 0);
    assert_int_equal(cs_ipam_pools_read(set, IPAM_FIX "pools", &err), 0);
    assert_int_equal(cs_ipam_pools_check(set, &err), 0);
    assert_int_equal(cs_ipam_pools_count(set), 3);
    const cs_ipam_pool_info *p1 = cs_ipam_pools_find(set, "ipam-pool-0a1b2c3d4e5f60001");
    assert_non_null(p1);
    assert_int_equal(p1->family, CS_AF_V4);
    assert_string_equal(p1->locale, "us-east-1");
    assert_string_equal(p1->source_id, "ipam-pool-0a1b2c3d4e5f60000");
    assert_int_equal(p1->min_len, 20);
    assert_int_equal(p1->max_len, 24);
    assert_int_equal(p1->default_len, 22);
    assert_int_equal(p1->line, 19);
    const cs_ipam_pool_info *p0 = cs_ipam_pools_find(set, "ipam-pool-0a1b2c3d4e5f60000");
    assert_non_null(p0);
    assert_string_equal(p0->locale, "None");
    assert_int_equal(p0->min_len, -1);
    assert_int_equal(p0->default_len, -1);
    assert_null(cs_ipam_pools_find(set, "ipam-pool-0a1b2c3d4e5f6000f"));
    /* provisioned CIDRs only (the failed one is not the pool's) */
    cs_prefix out[4];
    assert_int_equal(cs_ipam_pools_cidrs(set, p1->id, out, 4), 1);
    cs_prefix want = P("10.0.0.0/14");
    assert_int_equal(cs_prefix_compare(&out[0], &want), 0);
    assert_int_equal(cs_ipam_pools_allocations(set, p1->id, out, 4), 2);
    want = P("10.1.4.0/22");
    assert_int_equal(cs_prefix_compare(&out[1], &want), 0);
    assert_int_equal(cs_ipam_pools_allocations(set, p0->id, out, 4), 1);
    /* the rules */
    unsigned len = 0;
    assert_int_equal(cs_ipam_pool_length(p1, -1, &len, &err), 0);
    assert_int_equal(len, 22);
    assert_int_equal(cs_ipam_pool_length(p1, 24, &len, &err), 0);
    assert_int_equal(len, 24);
    assert_int_equal(cs_ipam_pool_length(p1, 19, &len, &err), CS_EINVAL);
    assert_non_null(strstr(err.message, "AllocationMinNetmaskLength 20"));
    assert_int_equal(cs_ipam_pool_length(p1, 25, &len, &err), CS_EINVAL);
    assert_non_null(strstr(err.message, "AllocationMaxNetmaskLength 24"));
    assert_int_equal(cs_ipam_pool_length(p0, -1, &len, &err), CS_EINVAL);
    assert_int_equal(cs_ipam_pool_length(p0, 9, &len, &err), 0);
    /* a pool described twice */
    cs_error_clear(&err);
    assert_int_equal(cs_ipam_pools_read(set, IPAM_FIX "pools/describe-ipam-pools.json", &err),
                     CS_EPARSE);
    assert_non_null(strstr(err.message, "described twice"));
    assert_int_equal(err.line, 3); /* the first pool of the file, described again */
    cs_ipam_pools_free(set);
}

static void ipam__pools_errors_locate_the_value(void **state)
{
    (void)state;
    static const struct {
        const char *file, *msg;
        uint64_t line;
        uint32_t col;
    } cases[] = {
        {"bad/family.json", "AddressFamily: expected", 5, 30},
        {"bad/min_max.json", "AllocationMinNetmaskLength is longer", 2, 3},
        {"bad/ipam-pool-0b0000000000000003.cidrs.json", "Cidr: octet 300 > 255", 3, 22},
        {"bad/unnamed-cidrs.json", "names no pool", 1, 2},
        {"bad/length.json", "longer than the family's width", 1, 16},
        {"bad/truncated.json", "not JSON", 2, 1},
        {"bad/not-ipam.json", "not an IPAM output", 2, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cs_ipam_pools *set = NULL;
        cs_error err;
        cs_error_clear(&err);
        assert_int_equal(cs_ipam_pools_new(&set), 0);
        char path[512];
        snprintf(path, sizeof path, "%s%s", IPAM_FIX, cases[i].file);
        assert_int_equal(cs_ipam_pools_read(set, path, &err), CS_EPARSE);
        if (!strstr(err.message, cases[i].msg) || err.line != cases[i].line ||
            err.column != cases[i].col || !strstr(err.source, cases[i].file))
            fail_msg("%s: got %s:%llu:%u %s", cases[i].file, err.source,
                     (unsigned long long)err.line, err.column, err.message);
        cs_ipam_pools_free(set);
    }
    /* A CIDR of the other family than its pool, and a pool never described. */
    char dir[160];
    assert_non_null(tu_mkdtemp(dir, sizeof dir, "cs-ipam-pools"));
    char path[256];
    snprintf(path, sizeof path, "%s/ipam-pool-0a1b2c3d4e5f60002.cidrs.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"IpamPoolCidrs\": [\n  {\"Cidr\": \"10.0.0.0/8\", \"State\": \"provisioned\"}]}\n",
          f);
    fclose(f);
    cs_ipam_pools *set = NULL;
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_ipam_pools_new(&set), 0);
    assert_int_equal(cs_ipam_pools_read(set, path, &err), 0);
    assert_int_equal(cs_ipam_pools_check(set, &err), CS_EPARSE);
    assert_non_null(strstr(err.message, "is not in any describe-ipam-pools output"));
    assert_int_equal(cs_ipam_pools_read(set, IPAM_FIX "pools/describe-ipam-pools.json", &err),
                     0);
    assert_int_equal(cs_ipam_pools_check(set, &err), CS_EPARSE);
    assert_non_null(strstr(err.message, "is of the other address family"));
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 12);
    cs_ipam_pools_free(set);
    remove(path);
    rmdir(dir);
}

static void ipam__u128_format(void **state)
{
    (void)state;
    char buf[48];
    assert_int_equal(cs_u128_format((cs_u128){0, 0}, buf, sizeof buf), 1);
    assert_string_equal(buf, "0");
    cs_u128_format((cs_u128){1ull << 32, 0}, buf, sizeof buf); /* 2^96 */
    assert_string_equal(buf, "79228162514264337593543950336");
    cs_u128_format((cs_u128){~0ull, ~0ull}, buf, sizeof buf);
    assert_string_equal(buf, "340282366920938463463374607431768211455");
    assert_int_equal(cs_u128_format((cs_u128){0, 12345}, buf, 5), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ipam__free_equals_brute_force_complement),
        cmocka_unit_test(ipam__first_is_the_lowest_free_block),
        cmocka_unit_test(ipam__best_fit_packs_the_smallest_hole),
        cmocka_unit_test(ipam__spread_takes_the_largest_hole),
        cmocka_unit_test(ipam__pools_allowed_lengths_and_vpc_rules),
        cmocka_unit_test(ipam__overlapping_pools_and_allowed_ranges_equal_brute_force),
        cmocka_unit_test(ipam__many_picks_in_one_call_equal_brute_force),
        cmocka_unit_test(ipam__holes_of_every_size),
        cmocka_unit_test(ipam__first_past_a_dense_start),
        cmocka_unit_test(ipam__threads_racing_to_the_index_agree),
        cmocka_unit_test(ipam__best_fit_finds_a_one_address_hole_between_gaps),
        cmocka_unit_test(ipam__pools_from_aws_ipam_outputs),
        cmocka_unit_test(ipam__pools_errors_locate_the_value),
        cmocka_unit_test(ipam__u128_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
