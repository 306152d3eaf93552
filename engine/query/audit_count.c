/*
 * engine/query/audit_count.c — exact VPC-pair counts of the audit, by
 * arithmetic over every VPC's tops: never a pair at a time.
 *
 * VPC LEVEL. Give every VPC its TOPS: the nodes of its live blocks that have
 * no other block of the VPC above them (an antichain: no two comparable).
 * Two VPCs overlap iff some top of one is comparable (ancestor-or-self) with
 * some top of the other (any overlapping block pair lies under a top of each
 * side, and two nodes above one node are comparable). For a pair (A, B) let
 *
 *     e(A,B) = |T(A) n T(B)|              identical tops shared
 *     n(A,B) = #{(x,y) in T(A) x T(B): x strictly above or below y}
 *
 * so A and B overlap iff e + n >= 1.
 *
 * One run counts the overlapping pairs of one population (every VPC, the
 * non-default ones, one account, one region, ...) from its (top, VPC)
 * incidences in node order, in four steps, each linear in the incidences
 * (up to the walks of step 4):
 *
 * 1. THE VIRTUAL TREE of the run's distinct top nodes (parent = nearest
 *    strict ancestor among them; one stack pass). A top with one VPC, no
 *    ancestor and no descendant in the run is ISOLATED: it adds nothing to
 *    any e or n, so it is dropped (a VPC's unique IPAM allocation, its
 *    Amazon IPv6 /56). A VPC left with no top pairs with nobody.
 *
 * 2. CLASSES: VPCs with the same remaining top set (hashed, compared
 *    exactly) form one class with a multiplicity m. Two VPCs of one class
 *    share every top, so they overlap; every formula below is written over
 *    classes weighted by m, so tens of thousands of VPCs on one template
 *    primary plus one CGNAT secondary are one class, not tens of thousands
 *    of walks. A node lists the multi-top classes with a top there (once
 *    each), and the single-top class at it as a weight.
 *
 * 3. #pairs = #{e >= 1} + #{e = 0, n >= 1} = E + N' - S - C, where
 *
 *   E  = sum over non-empty top sets S of (-1)^(|S|+1) C(cnt(S), 2), where
 *        cnt(S) = VPCs whose tops include S = the sum of m over the classes
 *        whose set includes S (inclusion-exclusion over the shared sets;
 *        only sets of crowded tops, held by >= 2 VPCs, can count);
 *   N' = sum over strictly nested node pairs x above y of c(x) c(y)
 *        = sum over pairs of n(A,B), one pass down the virtual tree (c =
 *        VPCs with a top there);
 *   S  = sum of n(A,B) over pairs with e >= 1 and n >= 1, by inclusion-
 *        exclusion over the shared set (shared_nested): one weighted tuple
 *        per (class, crowded subset, other top), sorted, one stack pass per
 *        subset;
 *   C  = sum of n(A,B) - 1 over pairs with e = 0 and n >= 2 (step 4).
 *
 * 4. C by walks, one per multi-top CLASS. Let t*(A) be the top of class A
 *    whose strict surroundings are the costliest to walk (virtual nodes and
 *    classes listed there; any fixed choice is correct, this one is the
 *    cheapest). If n >= 2 there are two distinct comparable top pairs
 *    (x1,y1), (x2,y2): when x1 != x2 one of them is not t*(A), so B is found
 *    around a non-t* top of A; when x1 = x2 = x then y1, y2 (an antichain)
 *    both lie strictly below x, so A is found around a non-t* top of B.
 *    Walking only the non-t* tops thus finds every such class pair, weighted
 *    m(A) m(B); a pair found from both sides is counted by the smaller
 *    class index only. Single-top classes need no walk of their own.
 *
 * Classes with more than BIG_TOPS tops (prefix-list owners with thousands of
 * prefixes) would make 2^t subsets: they are taken out of the formula and
 * their pairs counted by walking everything around each of their tops
 * (walk_big), C(m, 2) inside the class.
 *
 * Cost: O(incidences) for steps 1-3 plus a sort of the S tuples (at most
 * (2^m - 1) t per class, m crowded tops of t <= BIG_TOPS); step 4 visits,
 * per multi-top class, the virtual nodes strictly around its non-t* tops
 * and the classes listed there. On every generator shape the classes
 * around a crowded node are few (template x CGNAT level), so this is
 * linear. REMAINING WORST CASE: K distinct classes (each a distinct
 * non-isolated top set) whose non-t* tops all sit under or over a node
 * listing K other distinct multi-top classes cost O(K^2) relates, e.g.
 * K VPCs each with its own /24 inside 10.0.0.0/16 and inside
 * 100.64.0.0/10 plus both /16s held by K other VPCs with distinct third
 * blocks. Big classes cost the whole surroundings of every top.
 *
 * CHANNELS. A run counts two populations in one pass: every VPC of its
 * incidences (channel 0) and the ones marked `sub` (channel 1). Every
 * weight above (class multiplicities, single-top weights, cnt, subset
 * counts, S tuples) is kept per channel; the structure (virtual tree,
 * isolation, classes, crowded tops, t*) is the whole run's, and it is
 * exact for the part too: a node isolated in the run is isolated in any
 * part of it, the run's classes never split a class of the part, and a
 * set crowded in the part is crowded in the run (an extra set, held by
 * fewer than two VPCs of the part, adds zero).
 *
 * Severity counts reuse the counter on sub-populations: pairs with a
 * non-reused overlap = pairs over the tops of non-reused blocks only (a
 * block pair is non-reused iff its inner block is, iff both are); one run
 * gives every pair and the non-default ones, one gives the non-reused
 * pairs and those among default VPCs; same account / same region = the
 * counter per account, per region and per (account, region)
 * (inclusion-exclusion), each group one run, its default VPCs channel 1.
 * Critical pairs are enumerated from the peering connections (bounded by
 * the peering graph), so
 *
 *   informational = all - nonreused + nonreused(default VPCs) - crit&info
 *   high   = same-account-or-region among non-informational - crit&those
 *   medium = the rest.
 *
 * Concurrency: none inside; reads only. Tests: tests/test_audit.c (the
 * counts against a brute-force pairwise comparison on seeded estates: the
 * collision shapes, identical multi-top sets and cross-nesting pairs in
 * both families, both generator shapes).
 */
#include "query/audit_ctx_internal.h"

#include "core/error_internal.h"

#include <cidrscope/estate.h>

#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

/* ---- VPC level: the pair counter ------------------------------------------------- */

/* One (top node, VPC) incidence; a run's incidences come in node order.
 * ti = the top's slot in top[F], q = its rank among the VPC's t tops
 * (ti - q = the VPC's first slot): found once by gather, so a run never
 * looks a VPC's tops up at random. sub = 1 when the VPC is also in the
 * run's sub-population (channel 1, below). */
typedef struct inc {
    uint32_t g;
    uint32_t v;
    uint32_t ti;
    uint32_t q;
    uint32_t t;
    uint32_t sub;
} inc;

/* A shared top set of >= 2 nodes and how many VPCs' tops include it. */
typedef struct subkey {
    uint64_t h;
    uint32_t off;   /* into the arena */
    uint32_t len;   /* 0 = empty slot */
    uint64_t cnt[2]; /* per channel */
} subkey;


typedef struct counter {
    actx *c;
    int F;
    size_t cap;         /* every array below: one slot per incidence + 2 */
    /* per distinct node of a run (U index) */
    uint32_t *U, *ub, *vup, *vend, *vdepth, *mub, *multi, *ancw;
    uint32_t *single[2];    /* per channel: single-top VPCs at the node */
    uint64_t *cnt[2], *acc[2];
    uint8_t *iso;
    uint32_t *tpos;     /* per top of a VPC (top[F] order): its U index */
    uint32_t *nst_s, *nst_c;
    /* classes: key (U indices, ascending) in karena */
    uint32_t *ck_off, *ck_len, *cmult[2], *ctstar, *vst_s, *vst_c;
    uint64_t *chash;
    uint32_t *ctab;     /* hash slots: class + 1, 0 = empty */
    size_t ctab_cap;
    uint32_t *karena, *lbuf;
    uint32_t ncls;
    uint32_t epoch;
    /* top subsets */
    subkey *tab;
    size_t tab_cap;     /* allocated slots */
    size_t tab_used;    /* slots of this run (a power of 2) */
    uint32_t *arena;
    size_t arena_n, arena_cap;
    kw *tup;            /* S tuples ((bucket << 32 | U index), the VPCs
                           each stands for), then as much sort space */
    size_t tup_cap;
} counter;

static void counter_free(counter *k)
{
    free(k->U); free(k->ub); free(k->vup); free(k->vend); free(k->vdepth);
    free(k->single[0]); free(k->single[1]); free(k->mub); free(k->multi);
    free(k->ancw); free(k->cnt[0]); free(k->cnt[1]); free(k->acc[0]);
    free(k->acc[1]); free(k->iso); free(k->tpos);
    free(k->nst_s); free(k->nst_c);
    free(k->ck_off); free(k->ck_len); free(k->cmult[0]); free(k->cmult[1]);
    free(k->ctstar);
    free(k->vst_s); free(k->vst_c); free(k->chash); free(k->ctab);
    free(k->karena); free(k->lbuf);
    free(k->tab); free(k->arena); free(k->tup);
    memset(k, 0, sizeof *k);
}

static int counter_init(counter *k, actx *c)
{
    memset(k, 0, sizeof *k);
    k->c = c;
    size_t cap = (size_t)c->ge + 2;
    k->cap = cap;
    k->ctab_cap = 16;
    while (k->ctab_cap < 2 * cap)
        k->ctab_cap *= 2;
    uint32_t **u32[] = {&k->U, &k->ub, &k->vup, &k->vend, &k->vdepth,
                        &k->single[0], &k->single[1], &k->mub, &k->multi, &k->ancw,
                        &k->tpos, &k->ck_off, &k->ck_len, &k->cmult[0], &k->cmult[1],
                        &k->ctstar, &k->karena, &k->lbuf};
    uint64_t **u64[] = {&k->cnt[0], &k->cnt[1], &k->acc[0], &k->acc[1]};
    bool ok = true;
    for (size_t i = 0; i < sizeof u32 / sizeof *u32; i++)
        ok &= (*u32[i] = malloc(cap * sizeof(uint32_t))) != NULL;
    for (size_t i = 0; i < sizeof u64 / sizeof *u64; i++)
        ok &= (*u64[i] = malloc(cap * sizeof(uint64_t))) != NULL;
    k->chash = malloc(cap * sizeof(uint64_t));
    k->iso = malloc(cap);
    k->nst_s = calloc(cap, sizeof(uint32_t));
    k->nst_c = calloc(cap, sizeof(uint32_t));
    k->vst_s = calloc(cap, sizeof(uint32_t));
    k->vst_c = calloc(cap, sizeof(uint32_t));
    k->ctab = calloc(k->ctab_cap, sizeof(uint32_t));
    if (!ok || !k->chash || !k->iso || !k->nst_s || !k->nst_c ||
        !k->vst_s || !k->vst_c || !k->ctab) {
        counter_free(k);
        return CS_ENOMEM;
    }
    return 0;
}

/* A fresh stamp value; stamps are reset when the counter wraps. */
static uint32_t next_epoch(counter *k)
{
    if (k->epoch >= UINT32_MAX - 1) {
        memset(k->nst_s, 0, k->cap * sizeof(uint32_t));
        memset(k->nst_c, 0, k->cap * sizeof(uint32_t));
        memset(k->vst_s, 0, k->cap * sizeof(uint32_t));
        memset(k->vst_c, 0, k->cap * sizeof(uint32_t));
        k->epoch = 0;
    }
    return ++k->epoch;
}

/*
 * Relation of two top antichains (sorted): e = shared nodes, n = strictly
 * comparable pairs, *from_b = some strictly comparable pair uses a top of B
 * other than tstar_b. For x in A, the comparable tops of B are at most one
 * strict ancestor (the last top of B before x: an earlier one holding x
 * would hold the tops between) and the run of B's tops inside x's subtree.
 * `end` gives a node's subtree end in the numbering of the lists (global
 * nodes with c->gnend, a run's U indices with its vend).
 */
static void relate_by(const uint32_t *end, const uint32_t *ta, uint32_t la,
                      const uint32_t *tb, uint32_t lb, uint32_t tstar_b,
                      uint32_t *e, uint32_t *n, bool *from_b)
{
    uint32_t ee = 0, nn = 0;
    bool fb = false;
    uint32_t j = 0;
    for (uint32_t i = 0; i < la; i++) {
        uint32_t x = ta[i];
        while (j < lb && tb[j] < x)
            j++;
        if (j > 0) {
            uint32_t y = tb[j - 1];
            if (x < end[y]) { /* y strictly above x */
                nn++;
                fb |= y != tstar_b;
            }
        }
        for (uint32_t q = j; q < lb && tb[q] < end[x]; q++) {
            if (tb[q] == x) {
                ee++;
            } else {
                nn++;
                fb |= tb[q] != tstar_b;
            }
        }
    }
    *e = ee;
    *n = nn;
    if (from_b)
        *from_b = fb;
}

void audit_relate(const actx *c, const uint32_t *ta, uint32_t la,
                  const uint32_t *tb, uint32_t lb, uint32_t tstar_b,
                  uint32_t *e, uint32_t *n, bool *from_b)
{
    relate_by(c->gnend, ta, la, tb, lb, tstar_b, e, n, from_b);
}

static uint64_t hash_key(const uint32_t *key, uint32_t len)
{
    return XXH3_64bits(key, (size_t)len * sizeof *key);
}

static int subset_add(counter *k, const uint32_t *key, uint32_t len, uint64_t w0,
                      uint64_t w1)
{
    uint64_t h = hash_key(key, len);
    size_t mask = k->tab_used - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        subkey *s = &k->tab[i];
        if (s->len == 0) {
            if (GROW(k->arena, k->arena_n, k->arena_cap, k->arena_n + len))
                return CS_ENOMEM;
            memcpy(k->arena + k->arena_n, key, len * sizeof *key);
            s->h = h;
            s->off = (uint32_t)k->arena_n;
            s->len = len;
            s->cnt[0] = w0;
            s->cnt[1] = w1;
            k->arena_n += len;
            return 0;
        }
        if (s->h == h && s->len == len &&
            memcmp(k->arena + s->off, key, len * sizeof *key) == 0) {
            s->cnt[0] += w0;
            s->cnt[1] += w1;
            return 0;
        }
    }
}

/* The slot of key (present: every crowded subset of a class was added). */
static size_t subset_slot(const counter *k, const uint32_t *key, uint32_t len)
{
    uint64_t h = hash_key(key, len);
    size_t mask = k->tab_used - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        const subkey *s = &k->tab[i];
        if (s->len == 0 ||
            (s->h == h && s->len == len &&
             memcmp(k->arena + s->off, key, len * sizeof *key) == 0))
            return i;
    }
}

/* Insertion when tiny, else LSD radix by bytes (skipping bytes equal
 * everywhere), with no allocation: runs per account are many and small. */
void audit_sort_kw(kw *a, kw *tmp, size_t n)
{
    if (n < 48) {
        for (size_t i = 1; i < n; i++) {
            kw x = a[i];
            size_t j = i;
            for (; j > 0 && a[j - 1].key > x.key; j--)
                a[j] = a[j - 1];
            a[j] = x;
        }
        return;
    }
    size_t cnt[256];
    for (unsigned shift = 0; shift < 64; shift += 8) {
        memset(cnt, 0, sizeof cnt);
        for (size_t i = 0; i < n; i++)
            cnt[(a[i].key >> shift) & 255]++;
        if (cnt[(a[0].key >> shift) & 255] == n)
            continue;
        size_t sum = 0;
        for (unsigned d = 0; d < 256; d++) {
            size_t x = cnt[d];
            cnt[d] = sum;
            sum += x;
        }
        for (size_t i = 0; i < n; i++)
            tmp[cnt[(a[i].key >> shift) & 255]++] = a[i];
        memcpy(a, tmp, n * sizeof *a);
    }
}

static unsigned popcount(uint32_t x)
{
    unsigned n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
}

static const uint32_t *ckey(const counter *k, uint32_t K, uint32_t *len)
{
    *len = k->ck_len[K];
    return k->karena + k->ck_off[K];
}

static bool cbig(const counter *k, uint32_t K)
{
    return k->ck_len[K] > BIG_TOPS;
}

/* The key of class K when it is small (2..BIG_TOPS tops), else NULL. */
static const uint32_t *small_key(const counter *k, uint32_t K, uint32_t *len)
{
    const uint32_t *T = ckey(k, K, len);
    return *len >= 2 && *len <= BIG_TOPS ? T : NULL;
}

/* What walking strictly around the node at U index p costs: the nodes
 * passed and the multi-top classes met there (the prefix sums of mub give
 * the subtree's, ancw the ancestors'). */
static uint64_t strict_weight(const counter *k, uint32_t p)
{
    return (uint64_t)(k->vend[p] - p - 1) + k->vdepth[p] +
           (k->mub[k->vend[p]] - k->mub[p + 1]) + k->ancw[p];
}

/* Pairs of big class A with everyone: every class with a top at, above or
 * below one of A's tops, once, weighted; another big class only from the
 * smaller index; C(m, 2) inside A. */
static void walk_big(counter *k, uint32_t a, uint64_t out[2])
{
    uint32_t ta;
    const uint32_t *TA = ckey(k, a, &ta);
    uint32_t ep = next_epoch(k);
    uint64_t n0 = 0, n1 = 0;
    for (uint32_t q = 0; q < ta; q++) {
        uint32_t p = TA[q];
        for (int phase = 0; phase < 2; phase++) {
            /* phase 0: p and its ancestors; 1: p's strict descendants */
            uint32_t y = phase ? p + 1 : p;
            while (phase ? y < k->vend[p] : y != CS_NO_NODE) {
                if (k->nst_s[y] != ep) {
                    k->nst_s[y] = ep;
                    n0 += k->single[0][y];
                    n1 += k->single[1][y];
                    for (uint32_t m = k->mub[y]; m < k->mub[y + 1]; m++) {
                        uint32_t b = k->multi[m];
                        if (b == a || k->vst_s[b] == ep)
                            continue;
                        k->vst_s[b] = ep;
                        if (!cbig(k, b) || b > a) {
                            n0 += k->cmult[0][b];
                            n1 += k->cmult[1][b];
                        }
                    }
                }
                y = phase ? y + 1 : k->vup[y];
            }
        }
    }
    out[0] += n0 * k->cmult[0][a] + choose2(k->cmult[0][a]);
    out[1] += n1 * k->cmult[1][a] + choose2(k->cmult[1][a]);
}

/* y comparable with the node at U index x (run numbering). */
static bool ucomparable(const counter *k, uint32_t x, uint32_t y)
{
    return (x <= y && y < k->vend[x]) || (y <= x && x < k->vend[y]);
}

/* C for small multi-top class A: sum of m(A) m(B) (n(A,B) - 1) over B with
 * e = 0 and n >= 2 found strictly around A's non-t* tops (single-top
 * classes per node; a pair found from both sides only by the smaller
 * class index). */
static void walk_c(counter *k, uint32_t a, uint64_t out[2])
{
    uint32_t ta;
    const uint32_t *TA = ckey(k, a, &ta);
    uint64_t ma0 = k->cmult[0][a], ma1 = k->cmult[1][a];
    uint32_t ep = next_epoch(k);
    uint64_t s0 = 0, s1 = 0;
    for (uint32_t q = 0; q < ta; q++) {
        uint32_t p = TA[q];
        if (p == k->ctstar[a])
            continue;
        for (int phase = 0; phase < 2; phase++) {
            uint32_t y = phase ? p + 1 : k->vup[p];
            while (phase ? y < k->vend[p] : y != CS_NO_NODE) {
                if (k->nst_c[y] != ep) {
                    k->nst_c[y] = ep;
                    if (k->single[0][y]) {
                        uint32_t na = 0;
                        for (uint32_t r2 = 0; r2 < ta; r2++)
                            na += ucomparable(k, TA[r2], y);
                        if (na >= 2) {
                            s0 += ma0 * k->single[0][y] * (na - 1);
                            s1 += ma1 * k->single[1][y] * (na - 1);
                        }
                    }
                    for (uint32_t m = k->mub[y]; m < k->mub[y + 1]; m++) {
                        uint32_t b = k->multi[m], tb;
                        if (b == a || cbig(k, b) || k->vst_c[b] == ep)
                            continue;
                        k->vst_c[b] = ep;
                        const uint32_t *TB = ckey(k, b, &tb);
                        uint32_t e, nn;
                        bool from_b;
                        relate_by(k->vend, TA, ta, TB, tb, k->ctstar[b], &e, &nn, &from_b);
                        if (e == 0 && nn >= 2 && (!from_b || a < b)) {
                            s0 += ma0 * k->cmult[0][b] * (nn - 1);
                            s1 += ma1 * k->cmult[1][b] * (nn - 1);
                        }
                    }
                }
                y = phase ? y + 1 : k->vup[y];
            }
        }
    }
    out[0] += s0;
    out[1] += s1;
}

/* The crowded tops of small class K (nodes where >= 2 VPCs have a top):
 * their positions in K's key into cq; returns how many. */
static uint32_t crowded_tops(const counter *k, uint32_t K, uint32_t *cq)
{
    uint32_t t, m = 0;
    const uint32_t *T = ckey(k, K, &t);
    for (uint32_t q = 0; q < t; q++)
        if (k->cnt[0][T[q]] >= 2)
            cq[m++] = q;
    return m;
}

/*
 * S = sum of n(A,B) over the pairs that share a top (e >= 1), without
 * enumerating them. Orient every strictly comparable top pair (x above y,
 * x of A, y of B) and expand [e >= 1] by inclusion-exclusion over the
 * shared set S' (only crowded tops can be shared):
 *
 *   S = sum over S' != {} of (-1)^(|S'|+1) *
 *       sum over x strictly above y of #{A : S' + x in T(A)} #{B : S' + y in T(B)}
 *
 * (A != B: one VPC's tops are never comparable). Each small multi-top class
 * puts one (S', t) tuple of weight m per subset S' of its crowded tops and
 * top t not in S'; sorted by (S', t), each S' bucket is a list of nodes
 * with weights, and the inner sum is one stack pass over it in node order,
 * as N'.
 */
static int shared_nested(counter *k, uint32_t nu, uint64_t out[2])
{
    size_t nt = 0;
    out[0] = out[1] = 0;
    for (uint32_t K = 0; K < k->ncls; K++) {
        uint32_t t;
        const uint32_t *T = small_key(k, K, &t);
        if (!T)
            continue;
        uint32_t cq[BIG_TOPS];
        uint32_t m = crowded_tops(k, K, cq);
        if (m == 0)
            continue;
        size_t need = 2 * (nt + (((size_t)1 << m) - 1) * t); /* + sort space */
        if (GROW(k->tup, 0, k->tup_cap, need))
            return CS_ENOMEM;
        for (uint32_t mask = 1; mask < (1u << m); mask++) {
            uint32_t key[BIG_TOPS], len = 0, inset = 0;
            for (uint32_t q = 0; q < m; q++)
                if (mask & (1u << q)) {
                    key[len++] = T[cq[q]];
                    inset |= 1u << cq[q];
                }
            uint64_t bucket = len == 1 ? key[0] : nu + subset_slot(k, key, len);
            for (uint32_t q = 0; q < t; q++)
                if (!(inset & (1u << q)))
                    k->tup[nt++] = (kw){bucket << 32 | T[q],
                                        k->cmult[0][K] | (uint64_t)k->cmult[1][K] << 32};
        }
    }
    if (nt < 2)
        return 0;
    audit_sort_kw(k->tup, k->tup + nt, nt);
    uint64_t total[2] = {0, 0};
    for (size_t i = 0; i < nt;) {
        uint64_t bucket = k->tup[i].key >> 32;
        size_t j = i;
        while (j < nt && k->tup[j].key >> 32 == bucket)
            j++;
        uint32_t len = bucket < nu ? 1 : k->tab[bucket - nu].len;
        /* stack pass over the bucket's nodes (U order = preorder) */
        uint32_t st[130];
        uint64_t acc[130][2];
        unsigned sp = 0;
        uint64_t sum[2] = {0, 0};
        for (size_t q = i; q < j;) {
            uint32_t x = (uint32_t)k->tup[q].key;
            uint64_t cx[2] = {0, 0};
            for (; q < j && (uint32_t)k->tup[q].key == x; q++) {
                cx[0] += k->tup[q].w & UINT32_MAX;
                cx[1] += k->tup[q].w >> 32;
            }
            while (sp && x >= k->vend[st[sp - 1]])
                sp--;
            for (int ch = 0; ch < 2; ch++) {
                uint64_t above = sp ? acc[sp - 1][ch] : 0;
                sum[ch] += cx[ch] * above;
                if (sp < 130)
                    acc[sp][ch] = above + cx[ch];
            }
            if (sp < 130)
                st[sp++] = x;
        }
        for (int ch = 0; ch < 2; ch++) {
            if (len & 1)
                total[ch] += sum[ch];
            else
                total[ch] -= sum[ch]; /* unsigned wrap-around: the total is exact */
        }
        i = j;
    }
    out[0] = total[0];
    out[1] = total[1];
    return 0;
}

/* A short key's hash for the class table (keys are a few U indices). */
static uint64_t class_hash(const uint32_t *key, uint32_t len)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ len;
    for (uint32_t i = 0; i < len; i++) {
        h = (h ^ key[i]) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    return h;
}

/* Step 2: the classes of the run's VPCs (their non-isolated tops as U
 * indices, hashed). A VPC left with one top joins that node's single-top
 * weight without a class. The table is cleared over the run's share only.
 * Sets single[] and cnt[] for the single-top VPCs, per channel. */
static void build_classes(counter *k, const inc *in, uint32_t nu)
{
    size_t slots = 16;
    while (slots < 2 * (size_t)k->ub[nu])
        slots *= 2;
    if (slots > k->ctab_cap)
        slots = k->ctab_cap;
    memset(k->ctab, 0, slots * sizeof *k->ctab);
    for (int ch = 0; ch < 2; ch++) {
        memset(k->single[ch], 0, nu * sizeof *k->single[ch]);
        memset(k->cnt[ch], 0, nu * sizeof *k->cnt[ch]);
    }
    size_t mask = slots - 1, kn = 0;
    k->ncls = 0;
    for (uint32_t u = 0; u < nu; u++) {
        for (uint32_t i = k->ub[u]; i < k->ub[u + 1]; i++) {
            uint32_t t = in[i].t, sub = in[i].sub;
            if (in[i].q != 0)
                continue; /* once per VPC: at its first top */
            const uint32_t *P = k->tpos + in[i].ti;
            uint32_t l = 0;
            for (uint32_t q = 0; q < t; q++)
                if (!k->iso[P[q]])
                    k->lbuf[l++] = P[q];
            if (l == 0)
                continue;
            if (l == 1) {
                k->single[0][k->lbuf[0]]++;
                k->cnt[0][k->lbuf[0]]++;
                k->single[1][k->lbuf[0]] += sub;
                k->cnt[1][k->lbuf[0]] += sub;
                continue;
            }
            uint64_t h = class_hash(k->lbuf, l);
            size_t s = (size_t)h & mask;
            for (;; s = (s + 1) & mask) {
                uint32_t K = k->ctab[s];
                if (K == 0) {
                    K = k->ncls++;
                    memcpy(k->karena + kn, k->lbuf, l * sizeof *k->lbuf);
                    k->ck_off[K] = (uint32_t)kn;
                    k->ck_len[K] = l;
                    k->cmult[0][K] = 1;
                    k->cmult[1][K] = sub;
                    k->chash[K] = h;
                    kn += l;
                    k->ctab[s] = K + 1;
                    break;
                }
                K--;
                if (k->chash[K] == h && k->ck_len[K] == l &&
                    memcmp(k->karena + k->ck_off[K], k->lbuf, l * sizeof *k->lbuf) == 0) {
                    k->cmult[0][K]++;
                    k->cmult[1][K] += sub;
                    break;
                }
            }
        }
    }
}

/*
 * The number of overlapping VPC pairs among the VPCs of incidences in[0..n)
 * (node order; each VPC's tops under filter k->F), by the formula in the
 * file comment: out[0] = E + N' - S - C + (pairs of big classes). out[1]:
 * the same among the VPCs with sub = 1, in the same pass (CHANNELS in the
 * file comment).
 */
static int count_run(counter *k, const inc *in, size_t n, uint64_t out[2])
{
    const actx *c = k->c;
    out[0] = out[1] = 0;
    if (n < 2)
        return 0;
    /* Distinct nodes, and where each VPC's tops are in the run. */
    uint32_t nu = 0;
    for (size_t i = 0; i < n; i++) {
        if (nu == 0 || k->U[nu - 1] != in[i].g) {
            k->U[nu] = in[i].g;
            k->ub[nu] = (uint32_t)i;
            nu++;
        }
        k->tpos[in[i].ti] = nu - 1;
    }
    k->ub[nu] = (uint32_t)n;

    /* Step 1: the virtual tree; isolated nodes. */
    {
        uint32_t st[130];
        unsigned sp = 0;
        for (uint32_t u = 0; u < nu; u++) {
            uint32_t g = k->U[u];
            while (sp && g >= c->gnend[k->U[st[sp - 1]]])
                k->vend[st[--sp]] = u;
            k->vup[u] = sp ? st[sp - 1] : CS_NO_NODE;
            k->vdepth[u] = sp;
            if (sp < 130)
                st[sp++] = u;
        }
        while (sp)
            k->vend[st[--sp]] = nu;
    }
    for (uint32_t u = 0; u < nu; u++)
        k->iso[u] = k->ub[u + 1] - k->ub[u] == 1 && k->vup[u] == CS_NO_NODE &&
                    k->vend[u] == u + 1;

    /* Step 2: classes; per node the single-top weight, the non-big VPCs
     * with a top there (cnt), and the multi-top classes listed. */
    build_classes(k, in, nu);
    memset(k->mub, 0, ((size_t)nu + 1) * sizeof *k->mub);
    for (uint32_t K = 0; K < k->ncls; K++) {
        uint32_t t;
        const uint32_t *T = ckey(k, K, &t);
        for (uint32_t q = 0; q < t; q++) {
            if (t <= BIG_TOPS) {
                k->cnt[0][T[q]] += k->cmult[0][K];
                k->cnt[1][T[q]] += k->cmult[1][K];
            }
            k->mub[T[q] + 1]++;
        }
    }
    for (uint32_t u = 0; u < nu; u++)
        k->mub[u + 1] += k->mub[u];
    for (uint32_t u = 0; u < nu; u++)
        k->ancw[u] = k->mub[u]; /* fill cursors, for now */
    for (uint32_t K = 0; K < k->ncls; K++) {
        uint32_t t;
        const uint32_t *T = ckey(k, K, &t);
        for (uint32_t q = 0; q < t; q++)
            k->multi[k->ancw[T[q]]++] = K;
    }

    /* Step 3: one pass down the virtual tree: E1 = sum C(cnt, 2), N' = sum
     * of cnt times the cnt strictly above; ancw = classes listed at strict
     * ancestors. */
    uint64_t E[2] = {0, 0}, Np[2] = {0, 0};
    for (uint32_t u = 0; u < nu; u++) {
        uint32_t p = k->vup[u];
        k->ancw[u] = p == CS_NO_NODE ? 0 : k->ancw[p] + (k->mub[p + 1] - k->mub[p]);
        for (int ch = 0; ch < 2; ch++) {
            uint64_t above = p == CS_NO_NODE ? 0 : k->acc[ch][p];
            k->acc[ch][u] = above + k->cnt[ch][u];
            E[ch] += choose2(k->cnt[ch][u]);
            Np[ch] += k->cnt[ch][u] * above;
        }
    }

    /* t* of every small multi-top class; and how many shared top sets of
     * >= 2 nodes (inclusion-exclusion) can be held by two VPCs: only sets
     * of crowded tops can. */
    size_t n_keys = 0;
    for (uint32_t K = 0; K < k->ncls; K++) {
        uint32_t t;
        const uint32_t *T = small_key(k, K, &t);
        if (!T)
            continue;
        uint32_t best = T[0], cq[BIG_TOPS];
        uint64_t best_sz = 0;
        for (uint32_t q = 0; q < t; q++) {
            uint64_t sz = strict_weight(k, T[q]);
            if (q == 0 || sz > best_sz) {
                best_sz = sz;
                best = T[q];
            }
        }
        k->ctstar[K] = best;
        uint32_t crowded = crowded_tops(k, K, cq);
        if (crowded >= 2)
            n_keys += ((size_t)1 << crowded) - 1 - crowded;
    }
    if (n_keys) {
        size_t cap = 16;
        while (cap < 2 * n_keys)
            cap *= 2;
        if (cap > k->tab_cap) {
            free(k->tab);
            k->tab = malloc(cap * sizeof *k->tab);
            if (!k->tab) {
                k->tab_cap = 0;
                return CS_ENOMEM;
            }
            k->tab_cap = cap;
        }
        k->tab_used = cap;
        memset(k->tab, 0, cap * sizeof *k->tab);
        k->arena_n = 0;
        for (uint32_t K = 0; K < k->ncls; K++) {
            uint32_t t;
            const uint32_t *T = small_key(k, K, &t);
            if (!T)
                continue;
            uint32_t cq[BIG_TOPS], key[BIG_TOPS];
            uint32_t m = crowded_tops(k, K, cq);
            for (uint32_t mask = 1; m >= 2 && mask < (1u << m); mask++) {
                if (popcount(mask) < 2)
                    continue;
                uint32_t len = 0;
                for (uint32_t q = 0; q < m; q++)
                    if (mask & (1u << q))
                        key[len++] = T[cq[q]];
                if (subset_add(k, key, len, k->cmult[0][K], k->cmult[1][K]))
                    return CS_ENOMEM;
            }
        }
        for (size_t i = 0; i < k->tab_used; i++) {
            const subkey *s = &k->tab[i];
            if (s->len == 0)
                continue;
            for (int ch = 0; ch < 2; ch++) {
                uint64_t p = choose2(s->cnt[ch]);
                if (s->len & 1)
                    E[ch] += p;
                else
                    E[ch] -= p; /* unsigned wrap-around: the total is exact */
            }
        }
    }

    /* Step 4: C and the big classes' pairs, one multi-top class at a time. */
    uint64_t S[2], C[2] = {0, 0}, B[2] = {0, 0};
    for (uint32_t K = 0; K < k->ncls; K++) {
        if (cbig(k, K))
            walk_big(k, K, B);
        else if (k->ck_len[K] >= 2)
            walk_c(k, K, C);
    }
    int rc = shared_nested(k, nu, S);
    if (rc)
        return rc;
    for (int ch = 0; ch < 2; ch++)
        out[ch] = E[ch] + Np[ch] - S[ch] - C[ch] + B[ch];
    return 0;
}

/* ---- VPC level: populations and severity counts ------------------------------------ */

/* The incidences (top node, VPC) of every VPC under filter F, in node
 * order: entries are numbered in node preorder, and a VPC's tops are
 * sorted by node, so its q-th incidence met is its q-th top (`next`, one
 * slot cursor per VPC, is scratch). Channel 1 holds the default VPCs
 * (sub_default) or the others: `def`, one byte per VPC. Past ~100k blocks
 * every per-VPC read here is a cache miss (VPCs come in random order along
 * the trie), so they are as few and as small as possible: the cursor, the
 * VPC's slot range, its byte. */
static size_t gather(const actx *c, int F, bool sub_default, const uint8_t *def,
                     uint32_t *next, inc *out)
{
    const uint32_t *off = c->top_off[F];
    memcpy(next, off, (size_t)c->n_vpcs * sizeof *next);
    size_t n = 0;
    for (uint32_t ge = 0; ge < c->ge; ge++) {
        if (!(c->topinc[ge] & (1u << F)))
            continue;
        uint32_t v = c->ent_vpc[ge];
        uint32_t ti = next[v]++, b = off[v];
        out[n] = (inc){c->ent_node[ge], v, ti, ti - b, off[v + 1] - b,
                       (uint32_t)(def[v] == (uint8_t)sub_default)};
        n++;
    }
    return n;
}

/*
 * Sum over the groups of VPCs sharing an account (kind 0), a region (1) or
 * both (2) of: pairs of the group with an overlap outside reused ranges,
 * minus those among its default VPCs (channel 1 of `all`, the F_NONREUSED
 * population). keys[i]: incidence i's group (CS_IDX_NONE: none). A stable
 * counting sort keeps every group's incidences in node order.
 */
static int grouped_count(counter *k, const inc *all, const uint32_t *keys, size_t n,
                         inc *buf, uint64_t *out)
{
    uint32_t nk = 0;
    for (size_t i = 0; i < n; i++)
        if (keys[i] != CS_IDX_NONE && keys[i] + 1 > nk)
            nk = keys[i] + 1;
    uint32_t *off = calloc((size_t)nk + 2, sizeof *off);
    if (!off)
        return CS_ENOMEM;
    for (size_t i = 0; i < n; i++)
        off[(keys[i] == CS_IDX_NONE ? nk : keys[i]) + 1]++;
    for (uint32_t g = 0; g <= nk; g++)
        off[g + 1] += off[g];
    uint32_t *fill = malloc(((size_t)nk + 1) * sizeof *fill);
    if (!fill) {
        free(off);
        return CS_ENOMEM;
    }
    memcpy(fill, off, ((size_t)nk + 1) * sizeof *fill);
    for (size_t i = 0; i < n; i++)
        buf[fill[keys[i] == CS_IDX_NONE ? nk : keys[i]]++] = all[i];
    free(fill);
    uint64_t total = 0;
    int rc = 0;
    /* Unknown keys (CS_IDX_NONE: a VPC of unknown region) form no group. */
    for (uint32_t g = 0; g < nk && rc == 0; g++) {
        size_t b = off[g], e = off[g + 1], one = b + 1;
        while (one < e && buf[one].v == buf[b].v)
            one++;
        if (one == e)
            continue; /* fewer than two VPCs: no pair */
        uint64_t p[2];
        rc = count_run(k, buf + b, e - b, p);
        total += p[0] - p[1];
    }
    free(off);
    *out = total;
    return rc;
}

/* The group key of an account (kind 0) or (account, region) (kind 2) run. */
static uint32_t run_key(const actx *c, int kind, uint32_t v)
{
    return kind == 0 ? c->v[v].account : c->v[v].acc_reg;
}

/*
 * grouped_count for accounts (kind 0) and (account, region) pairs (kind 2)
 * without a scatter: VPCs are sorted by (account, region), so each group
 * is a run of consecutive VPCs, and its incidences are read from their own
 * top lists (under F_NONREUSED) in order as (node, top slot) keys, then
 * sorted by node (ties in VPC order, as gather leaves them). Returns 1 (nothing counted) when a key
 * comes back after another, i.e. the runs are not the groups; then the
 * caller scatters.
 */
static int run_grouped_count(actx *c, counter *k, int kind, inc *buf, uint64_t *out)
{
    const int F = F_NONREUSED;
    uint32_t nk = 0;
    for (uint32_t v = 0; v < c->n_vpcs; v++) {
        uint32_t key = run_key(c, kind, v);
        if (key != CS_IDX_NONE && key + 1 > nk)
            nk = key + 1;
    }
    uint8_t *seen_key = calloc((size_t)nk + 1, 1);
    if (!seen_key)
        return CS_ENOMEM;
    uint64_t total = 0;
    int rc = 0;
    for (uint32_t v = 0; v < c->n_vpcs && rc == 0;) {
        uint32_t key = run_key(c, kind, v), w = v + 1;
        while (w < c->n_vpcs && run_key(c, kind, w) == key)
            w++;
        if (key == CS_IDX_NONE) {
            v = w;
            continue; /* unknown region: no group */
        }
        if (seen_key[key]) {
            rc = 1;
            break;
        }
        seen_key[key] = 1;
        size_t m = c->top_off[F][w] - c->top_off[F][v];
        uint32_t holders = 0;
        /* the counter's S tuples are free until count_run: sort space */
        if (GROW(k->tup, 0, k->tup_cap, 2 * m + 2)) {
            rc = CS_ENOMEM;
            break;
        }
        m = 0;
        for (uint32_t u = v; u < w; u++) {
            uint32_t b = c->top_off[F][u], t = c->top_off[F][u + 1] - b;
            holders += t > 0;
            for (uint32_t q = 0; q < t; q++)
                k->tup[m++] = (kw){(uint64_t)c->top[F][b + q] << 32 | (b + q), u};
        }
        if (holders < 2) {
            v = w;
            continue; /* fewer than two VPCs: no pair */
        }
        audit_sort_kw(k->tup, k->tup + m, m);
        for (size_t i = 0; i < m; i++) {
            uint32_t u = (uint32_t)k->tup[i].w, ti = (uint32_t)k->tup[i].key;
            uint32_t b = c->top_off[F][u];
            buf[i] = (inc){(uint32_t)(k->tup[i].key >> 32), u, ti, ti - b,
                           c->top_off[F][u + 1] - b, (c->v[u].flags & VF_DEFAULT) != 0};
        }
        v = w;
        uint64_t p[2];
        rc = count_run(k, buf, m, p);
        total += p[0] - p[1];
    }
    free(seen_key);
    *out = total;
    return rc;
}

int audit_count_severities(actx *c, sev_counts *sc)
{
    memset(sc, 0, sizeof *sc);
    counter k;
    if (counter_init(&k, c))
        return CS_ENOMEM;
    size_t cap = (size_t)c->ge + 1;
    inc *a = malloc(cap * sizeof *a);
    inc *buf = malloc(cap * sizeof *buf);
    uint32_t *keys = malloc(cap * sizeof *keys);
    uint32_t *seen = malloc(((size_t)c->n_vpcs + 1) * sizeof *seen);
    /* per VPC, read sequentially once: the default flag (gather) and the
     * region (the keyed count), instead of the 16-byte facts at random */
    uint8_t *def = malloc((size_t)c->n_vpcs + 1);
    int rc = (!a || !buf || !keys || !seen || !def) ? CS_ENOMEM : 0;
    for (uint32_t v = 0; rc == 0 && v < c->n_vpcs; v++)
        def[v] = (c->v[v].flags & VF_DEFAULT) != 0;
    size_t n = 0;
    uint64_t p[2];
    if (rc == 0) {
        /* every VPC, and the non-default ones */
        k.F = F_ALL;
        n = gather(c, F_ALL, false, def, seen, a);
        rc = count_run(&k, a, n, p);
        sc->all = p[0];
        sc->nondefault = p[1];
    }
    if (rc == 0) {
        /* overlaps outside reused ranges: every VPC, and the default ones */
        k.F = F_NONREUSED;
        n = gather(c, F_NONREUSED, true, def, seen, a);
        rc = count_run(&k, a, n, p);
        sc->nonreused = p[0];
        sc->nonreused_dd = p[1];
    }
    /* accounts and (account, region) pairs: runs of VPCs; regions (and
     * runs that are not groups) by key */
    uint64_t x[3] = {0, 0, 0};
    bool keyed[3] = {false, true, false};
    for (int kind = 0; kind < 3 && rc == 0; kind += 2) {
        rc = run_grouped_count(c, &k, kind, buf, &x[kind]);
        keyed[kind] = rc == 1;
        if (rc == 1)
            rc = 0;
    }
    for (int kind = 0; kind < 3 && rc == 0; kind++) {
        if (!keyed[kind])
            continue;
        /* the key per VPC first (seen is free again), then per incidence */
        for (uint32_t v = 0; v < c->n_vpcs; v++) {
            const vinfo *vi = &c->v[v];
            seen[v] = kind == 0 ? vi->account : kind == 1 ? vi->region : vi->acc_reg;
        }
        for (size_t i = 0; i < n; i++)
            keys[i] = seen[a[i].v];
        rc = grouped_count(&k, a, keys, n, buf, &x[kind]);
    }
    sc->same_ar_noninfo = x[0] + x[1] - x[2];
    free(a);
    free(buf);
    free(keys);
    free(seen);
    free(def);
    counter_free(&k);
    return rc;
}
