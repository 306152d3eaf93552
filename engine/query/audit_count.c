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
 * so A and B overlap iff e + n >= 1, and
 *
 *     #pairs = #{e >= 1} + #{e = 0, n >= 1}
 *            = E  +  N' - S  -  C
 *
 *   E  = sum over non-empty top sets S of (-1)^(|S|+1) C(cnt(S), 2), where
 *        cnt(S) = VPCs whose tops include S (inclusion-exclusion over the
 *        shared sets; a VPC with t tops contributes its 2^t - 1 subsets,
 *        single-top VPCs just a count per node);
 *   N' = sum over strictly nested node pairs x above y of c(x) c(y)
 *        = sum over pairs of n(A,B), one stack pass (c = VPCs with a top
 *        there);
 *   S  = sum of n(A,B) over pairs with e >= 1 and n >= 1: both VPCs have
 *        >= 2 tops, and the pair is found from either side by walking the
 *        strict ancestors and strict descendants of each top;
 *   C  = sum of n(A,B) - 1 over pairs with e = 0 and n >= 2. Let t*(A) be
 *        the top of A whose strict surroundings are the costliest to walk
 *        (nodes and multi-top VPCs there; any fixed choice is correct,
 *        this one is the cheapest). If n >= 2
 *        there are two distinct comparable top pairs (x1,y1), (x2,y2): when
 *        x1 != x2 one of them is not t*(A), so B is found around a non-t*
 *        top of A; when x1 = x2 = x then y1, y2 (an antichain) both lie
 *        strictly below x (x cannot be above one and below the other, nor
 *        below both), so A is found around a non-t* top of B. Walking only
 *        the non-t* tops thus finds every such pair, and a pair found from
 *        both sides is counted by the smaller VPC index only. A single-top
 *        VPC B at node y needs no walk of its own: all single-top VPCs at y
 *        behave alike, so they are counted per node.
 *
 * VPCs with more than BIG_TOPS tops (prefix-list owners with thousands of
 * prefixes) would make 2^t subsets: they are taken out of the formula and
 * their pairs counted by walking everything around each of their tops.
 * Cost: O(entries) for the arithmetic, plus for every multi-top VPC the
 * nodes around its non-t* tops; 85,000 default VPCs on 172.31.0.0/16 are
 * one node with a count, and so is a reused secondary range shared by many
 * VPCs (as long as each VPC's crowded blocks are not all distinct from each
 * other's — the inclusion-exclusion handles sets shared identically).
 *
 * Severity counts reuse the counter on sub-populations: pairs with a
 * non-reused overlap = pairs over the tops of non-reused blocks only (a
 * block pair is non-reused iff its inner block is, iff both are);
 * default-only pairs = the counter on default VPCs; same account / same
 * region = the counter per account, per region and per (account, region)
 * (inclusion-exclusion). Critical pairs are enumerated from the peering
 * connections (bounded by the peering graph), so
 *
 *   informational = all - nonreused + nonreused(default VPCs) - crit&info
 *   high   = same-account-or-region among non-informational - crit&those
 *   medium = the rest.
 *
 * Concurrency: none inside; reads only. Tests: tests/test_audit.c (the
 * counts against a brute-force pairwise comparison on seeded estates).
 */
#include "query/audit_ctx_internal.h"

#include "core/error_internal.h"

#include <cidrscope/estate.h>

#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

/* ---- VPC level: the pair counter ------------------------------------------------- */

/* One (top node, VPC) incidence; a run's incidences come in node order. */
typedef struct inc {
    uint32_t g;
    uint32_t v;
} inc;

/* A shared top set of >= 2 nodes and how many VPCs' tops include it. */
typedef struct subkey {
    uint64_t h;
    uint32_t off;   /* into the arena */
    uint32_t len;   /* 0 = empty slot */
    uint32_t cnt;
} subkey;

typedef struct counter {
    actx *c;
    int F;
    /* per distinct node of a run (U index), capacity = every incidence */
    uint32_t *U, *ub, *vup, *vend, *vdepth, *cnt, *single, *mub, *multi;
    uint32_t *ancw;     /* multi-top incidences at strict virtual ancestors */
    uint32_t *tpos;     /* per top of a multi-top VPC (top[F] order): its U
                           index in the current run */
    uint32_t *nst_s, *nst_c;
    uint32_t *pos;
    /* per VPC */
    uint32_t *vst_s, *vst_c, *tstar;
    uint32_t epoch;
    /* top subsets */
    subkey *tab;
    size_t tab_cap;     /* allocated slots */
    size_t tab_used;    /* slots of this run (a power of 2) */
    uint32_t *arena;
    size_t arena_n, arena_cap;
    uint64_t *tup;      /* S: (bucket << 32 | U index) per (shared set, top) */
    size_t tup_cap;
} counter;

static void counter_free(counter *k)
{
    free(k->U); free(k->ub); free(k->vup); free(k->vend); free(k->vdepth);
    free(k->cnt); free(k->single); free(k->mub); free(k->multi); free(k->ancw);
    free(k->tpos);
    free(k->nst_s); free(k->nst_c); free(k->pos);
    free(k->vst_s); free(k->vst_c); free(k->tstar);
    free(k->tab); free(k->arena); free(k->tup);
    memset(k, 0, sizeof *k);
}

static int counter_init(counter *k, actx *c)
{
    memset(k, 0, sizeof *k);
    k->c = c;
    size_t cap = (size_t)c->ge + 2;
    size_t nv = (size_t)c->n_vpcs + 1;
    k->U = malloc(cap * sizeof(uint32_t));
    k->ub = malloc(cap * sizeof(uint32_t));
    k->vup = malloc(cap * sizeof(uint32_t));
    k->vend = malloc(cap * sizeof(uint32_t));
    k->vdepth = malloc(cap * sizeof(uint32_t));
    k->cnt = malloc(cap * sizeof(uint32_t));
    k->single = malloc(cap * sizeof(uint32_t));
    k->mub = malloc(cap * sizeof(uint32_t));
    k->multi = malloc(cap * sizeof(uint32_t));
    k->ancw = malloc(cap * sizeof(uint32_t));
    k->tpos = malloc(cap * sizeof(uint32_t)); /* tops <= blocks <= entries */
    k->nst_s = calloc(cap, sizeof(uint32_t));
    k->nst_c = calloc(cap, sizeof(uint32_t));
    k->pos = malloc(cap * sizeof(uint32_t));
    k->vst_s = calloc(nv, sizeof(uint32_t));
    k->vst_c = calloc(nv, sizeof(uint32_t));
    k->tstar = malloc(nv * sizeof(uint32_t));
    if (!k->U || !k->ub || !k->vup || !k->vend || !k->vdepth || !k->cnt ||
        !k->single || !k->mub || !k->multi || !k->ancw || !k->tpos || !k->nst_s || !k->nst_c ||
        !k->pos || !k->vst_s || !k->vst_c || !k->tstar) {
        counter_free(k);
        return CS_ENOMEM;
    }
    return 0;
}

/* A fresh stamp value; stamps are reset when the counter wraps. */
static uint32_t next_epoch(counter *k)
{
    if (k->epoch >= UINT32_MAX - 1) {
        size_t cap = (size_t)k->c->ge + 2;
        memset(k->nst_s, 0, cap * sizeof(uint32_t));
        memset(k->nst_c, 0, cap * sizeof(uint32_t));
        memset(k->vst_s, 0, ((size_t)k->c->n_vpcs + 1) * sizeof(uint32_t));
        memset(k->vst_c, 0, ((size_t)k->c->n_vpcs + 1) * sizeof(uint32_t));
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
 */
void audit_relate(const actx *c, const uint32_t *ta, uint32_t la,
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
            if (x < c->gnend[y]) { /* y strictly above x */
                nn++;
                fb |= y != tstar_b;
            }
        }
        for (uint32_t q = j; q < lb && tb[q] < c->gnend[x]; q++) {
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

static uint64_t hash_key(const uint32_t *key, uint32_t len)
{
    return XXH3_64bits(key, (size_t)len * sizeof *key);
}

static int subset_add(counter *k, const uint32_t *key, uint32_t len)
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
            s->cnt = 1;
            k->arena_n += len;
            return 0;
        }
        if (s->h == h && s->len == len &&
            memcmp(k->arena + s->off, key, len * sizeof *key) == 0) {
            s->cnt++;
            return 0;
        }
    }
}

/* The slot of key (present: every subset of a VPC's crowded tops was
 * added). */
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

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

void audit_sort_u64(uint64_t *a, uint64_t *tmp, size_t n)
{
    if (n < 4096) {
        qsort(a, n, sizeof *a, cmp_u64);
        return;
    }
    static const unsigned R = 1u << 16;
    size_t *cnt = calloc(R, sizeof *cnt);
    if (!cnt) {
        qsort(a, n, sizeof *a, cmp_u64);
        return;
    }
    for (unsigned shift = 0; shift < 64; shift += 16) {
        memset(cnt, 0, R * sizeof *cnt);
        for (size_t i = 0; i < n; i++)
            cnt[(a[i] >> shift) & (R - 1)]++;
        if (cnt[(a[0] >> shift) & (R - 1)] == n)
            continue; /* this digit is the same everywhere */
        size_t sum = 0;
        for (unsigned d = 0; d < R; d++) {
            size_t x = cnt[d];
            cnt[d] = sum;
            sum += x;
        }
        for (size_t i = 0; i < n; i++)
            tmp[cnt[(a[i] >> shift) & (R - 1)]++] = a[i];
        memcpy(a, tmp, n * sizeof *a);
    }
    free(cnt);
}

static unsigned popcount(uint32_t x)
{
    unsigned n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
}

/* What walking strictly around the node at U index p costs: the nodes
 * passed and the multi-top VPCs met there (the prefix sums of mub give the
 * subtree's, ancw the ancestors'). */
static uint64_t strict_weight(const counter *k, uint32_t p)
{
    return (uint64_t)(k->vend[p] - p - 1) + k->vdepth[p] +
           (k->mub[k->vend[p]] - k->mub[p + 1]) + k->ancw[p];
}

/* Pairs of a big VPC A (more than BIG_TOPS tops; k->pos holds their U
 * indices): every VPC with a top at, above or below one of A's tops,
 * counted once; another big VPC only from the smaller index. */
static uint64_t walk_big(counter *k, uint32_t a, uint32_t ta)
{
    const actx *c = k->c;
    uint32_t ep = next_epoch(k);
    uint64_t n = 0;
    for (uint32_t q = 0; q < ta; q++) {
        uint32_t p = k->pos[q];
        for (int phase = 0; phase < 2; phase++) {
            /* phase 0: p and its ancestors; 1: p's strict descendants */
            uint32_t y = phase ? p + 1 : p;
            while (phase ? y < k->vend[p] : y != CS_NO_NODE) {
                if (k->nst_s[y] != ep) {
                    k->nst_s[y] = ep;
                    n += k->single[y];
                    for (uint32_t m = k->mub[y]; m < k->mub[y + 1]; m++) {
                        uint32_t b = k->multi[m], tb;
                        tops_of(c, k->F, b, &tb);
                        if (b == a || k->vst_s[b] == ep)
                            continue;
                        k->vst_s[b] = ep;
                        if (tb <= BIG_TOPS || b > a)
                            n++;
                    }
                }
                y = phase ? y + 1 : k->vup[y];
            }
        }
    }
    return n;
}

/* C for small multi-top VPC A: sum of n(A,B) - 1 over B with e = 0 and
 * n >= 2 found strictly around A's non-t* tops (single-top VPCs per node;
 * a pair found from both sides only by the smaller index). */
static uint64_t walk_c(counter *k, uint32_t a, const uint32_t *TA, uint32_t ta)
{
    const actx *c = k->c;
    uint32_t ep = next_epoch(k);
    uint64_t s = 0;
    for (uint32_t q = 0; q < ta; q++) {
        if (TA[q] == k->tstar[a])
            continue;
        uint32_t p = k->pos[q];
        for (int phase = 0; phase < 2; phase++) {
            uint32_t y = phase ? p + 1 : k->vup[p];
            while (phase ? y < k->vend[p] : y != CS_NO_NODE) {
                if (k->nst_c[y] != ep) {
                    k->nst_c[y] = ep;
                    if (k->single[y]) {
                        uint32_t gy = k->U[y], na = 0;
                        for (uint32_t r2 = 0; r2 < ta; r2++)
                            na += TA[r2] != gy && comparable(c, TA[r2], gy);
                        if (na >= 2)
                            s += (uint64_t)k->single[y] * (na - 1);
                    }
                    for (uint32_t m = k->mub[y]; m < k->mub[y + 1]; m++) {
                        uint32_t b = k->multi[m], tb;
                        const uint32_t *TB = tops_of(c, k->F, b, &tb);
                        if (b == a || tb > BIG_TOPS || k->vst_c[b] == ep)
                            continue;
                        k->vst_c[b] = ep;
                        uint32_t e, nn;
                        bool from_b;
                        audit_relate(c, TA, ta, TB, tb, k->tstar[b], &e, &nn, &from_b);
                        if (e == 0 && nn >= 2 && (!from_b || a < b))
                            s += nn - 1;
                    }
                }
                y = phase ? y + 1 : k->vup[y];
            }
        }
    }
    return s;
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
 * (A != B: one VPC's tops are never comparable). Each small multi-top VPC
 * puts one (S', t) tuple per subset S' of its crowded tops and top t not
 * in S'; sorted by (S', t), each S' bucket is a list of nodes with counts,
 * and the inner sum is one stack pass over it in node order, as N'.
 */
static int shared_nested(counter *k, uint32_t nu, uint64_t *out)
{
    const actx *c = k->c;
    int F = k->F;
    size_t nt = 0;
    *out = 0;
    for (uint32_t u = 0; u < nu; u++) {
        for (uint32_t i = k->mub[u]; i < k->mub[u + 1]; i++) {
            uint32_t v = k->multi[i], t;
            const uint32_t *T = tops_of(c, F, v, &t);
            if (T[0] != k->U[u] || t > BIG_TOPS)
                continue;
            const uint32_t *P = k->tpos + c->top_off[F][v];
            uint32_t cq[BIG_TOPS], m = 0;
            for (uint32_t q = 0; q < t; q++)
                if (k->cnt[P[q]] >= 2)
                    cq[m++] = q;
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
                uint32_t first = 0;
                while (!(mask & (1u << first)))
                    first++;
                uint64_t bucket = len == 1 ? P[cq[first]] : nu + subset_slot(k, key, len);
                for (uint32_t q = 0; q < t; q++)
                    if (!(inset & (1u << q)))
                        k->tup[nt++] = bucket << 32 | P[q];
            }
        }
    }
    if (nt < 2)
        return 0;
    audit_sort_u64(k->tup, k->tup + nt, nt);
    uint64_t total = 0;
    for (size_t i = 0; i < nt;) {
        uint64_t bucket = k->tup[i] >> 32;
        size_t j = i;
        while (j < nt && k->tup[j] >> 32 == bucket)
            j++;
        uint32_t len = bucket < nu ? 1 : k->tab[bucket - nu].len;
        /* stack pass over the bucket's nodes (U order = preorder) */
        uint32_t st[130];
        uint64_t acc[130];
        unsigned sp = 0;
        uint64_t sum = 0;
        for (size_t q = i; q < j;) {
            uint32_t x = (uint32_t)k->tup[q];
            uint64_t cx = 0;
            while (q < j && (uint32_t)k->tup[q] == x) {
                cx++;
                q++;
            }
            while (sp && x >= k->vend[st[sp - 1]])
                sp--;
            uint64_t above = sp ? acc[sp - 1] : 0;
            sum += cx * above;
            if (sp < 130) {
                st[sp] = x;
                acc[sp] = above + cx;
                sp++;
            }
        }
        if (len & 1)
            total += sum;
        else
            total -= sum; /* unsigned wrap-around: the total is exact */
        i = j;
    }
    *out = total;
    return 0;
}

/*
 * The number of overlapping VPC pairs among the VPCs of incidences in[0..n)
 * (node order; each VPC's tops under filter k->F), by the formula in the
 * file comment. *out = E + N' - S - C + (pairs with a big VPC).
 */
static int count_run(counter *k, const inc *in, size_t n, uint64_t *out)
{
    const actx *c = k->c;
    int F = k->F;
    *out = 0;
    if (n < 2)
        return 0;
    /* Distinct nodes. */
    uint32_t nu = 0;
    for (size_t i = 0; i < n; i++) {
        if (nu == 0 || k->U[nu - 1] != in[i].g) {
            k->U[nu] = in[i].g;
            k->ub[nu] = (uint32_t)i;
            nu++;
        }
    }
    k->ub[nu] = (uint32_t)n;
    /* Per node: non-big VPCs, single-top VPCs, and the multi-top ones. */
    uint32_t nm = 0;
    size_t n_keys = 0;
    for (uint32_t u = 0; u < nu; u++) {
        uint32_t cn = 0, sg = 0;
        k->mub[u] = nm;
        for (uint32_t i = k->ub[u]; i < k->ub[u + 1]; i++) {
            uint32_t t;
            const uint32_t *T = tops_of(c, F, in[i].v, &t);
            if (t <= BIG_TOPS)
                cn++;
            if (t == 1) {
                sg++;
            } else {
                k->multi[nm++] = in[i].v;
                /* where this top of the VPC is in the run: T is sorted */
                uint32_t lo = 0, hi = t;
                while (lo < hi) {
                    uint32_t mid = lo + (hi - lo) / 2;
                    if (T[mid] < k->U[u])
                        lo = mid + 1;
                    else
                        hi = mid;
                }
                k->tpos[c->top_off[F][in[i].v] + lo] = u;
            }
        }
        k->cnt[u] = cn;
        k->single[u] = sg;
    }
    k->mub[nu] = nm;

    /* Stack pass: virtual tree, E1 = sum C(cnt, 2), N' = sum of cnt times
     * the cnt strictly above. */
    uint64_t E = 0, Np = 0;
    {
        uint32_t st[130];
        uint64_t acc[130];
        unsigned sp = 0;
        for (uint32_t u = 0; u < nu; u++) {
            uint32_t g = k->U[u];
            while (sp && g >= c->gnend[k->U[st[sp - 1]]])
                k->vend[st[--sp]] = u;
            k->vup[u] = sp ? st[sp - 1] : CS_NO_NODE;
            k->vdepth[u] = sp;
            k->ancw[u] = sp ? k->ancw[st[sp - 1]] + (k->mub[st[sp - 1] + 1] - k->mub[st[sp - 1]])
                            : 0;
            uint64_t above = sp ? acc[sp - 1] : 0;
            E += choose2(k->cnt[u]);
            Np += (uint64_t)k->cnt[u] * above;
            if (sp < 130) {
                st[sp] = u;
                acc[sp] = above + k->cnt[u];
                sp++;
            }
        }
        while (sp)
            k->vend[st[--sp]] = nu;
    }

    /* t* of every multi-top VPC; and how many shared top sets of >= 2
     * nodes (inclusion-exclusion) can be held by two VPCs: only sets of
     * crowded tops (nodes where >= 2 VPCs have a top) can, so a VPC's
     * unique blocks (its IPAM allocation, its Amazon IPv6 /56) add none. */
    for (uint32_t u = 0; u < nu; u++) {
        for (uint32_t i = k->mub[u]; i < k->mub[u + 1]; i++) {
            uint32_t v = k->multi[i], t;
            const uint32_t *T = tops_of(c, F, v, &t);
            if (T[0] != k->U[u])
                continue; /* once per VPC: at its first top */
            uint32_t best = T[0], crowded = 0;
            uint64_t best_sz = 0;
            const uint32_t *P = k->tpos + c->top_off[F][v];
            for (uint32_t q = 0; q < t; q++) {
                uint32_t p = P[q];
                uint64_t sz = strict_weight(k, p);
                if (q == 0 || sz > best_sz) {
                    best_sz = sz;
                    best = T[q];
                }
                crowded += k->cnt[p] >= 2;
            }
            k->tstar[v] = best;
            if (t <= BIG_TOPS && crowded >= 2)
                n_keys += ((size_t)1 << crowded) - 1 - crowded;
        }
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
        for (uint32_t u = 0; u < nu; u++) {
            for (uint32_t i = k->mub[u]; i < k->mub[u + 1]; i++) {
                uint32_t v = k->multi[i], t;
                const uint32_t *T = tops_of(c, F, v, &t);
                if (T[0] != k->U[u] || t > BIG_TOPS)
                    continue;
                uint32_t ct[BIG_TOPS], m = 0;
                const uint32_t *P = k->tpos + c->top_off[F][v];
                for (uint32_t q = 0; q < t; q++)
                    if (k->cnt[P[q]] >= 2)
                        ct[m++] = T[q];
                uint32_t key[BIG_TOPS];
                for (uint32_t mask = 1; m >= 2 && mask < (1u << m); mask++) {
                    if (popcount(mask) < 2)
                        continue;
                    uint32_t len = 0;
                    for (uint32_t q = 0; q < m; q++)
                        if (mask & (1u << q))
                            key[len++] = ct[q];
                    if (subset_add(k, key, len))
                        return CS_ENOMEM;
                }
            }
        }
    }
    if (n_keys) {
        for (size_t i = 0; i < k->tab_used; i++) {
            const subkey *s = &k->tab[i];
            if (s->len == 0)
                continue;
            uint64_t p = choose2(s->cnt);
            if (s->len & 1)
                E += p;
            else
                E -= p; /* unsigned wrap-around: the total is exact */
        }
    }

    /* S, C and the big VPCs' pairs, one multi-top VPC A at a time. */
    uint64_t S = 0, C = 0, B = 0;
    for (uint32_t u = 0; u < nu; u++) {
        for (uint32_t i = k->mub[u]; i < k->mub[u + 1]; i++) {
            uint32_t a = k->multi[i], ta;
            const uint32_t *TA = tops_of(c, F, a, &ta);
            if (TA[0] != k->U[u])
                continue;
            memcpy(k->pos, k->tpos + c->top_off[F][a], ta * sizeof *k->pos);
            if (ta > BIG_TOPS)
                B += walk_big(k, a, ta);
            else
                C += walk_c(k, a, TA, ta);
        }
    }
    int rc = shared_nested(k, nu, &S);
    if (rc)
        return rc;
    *out = E + Np - S - C + B;
    return 0;
}

/* ---- VPC level: populations and severity counts ------------------------------------ */

enum { SEL_ALL, SEL_DEFAULT, SEL_NONDEFAULT };

/* The incidences (top node, VPC) of the selected VPCs under filter F, in
 * node order: entries are numbered in node preorder. */
static size_t gather(const actx *c, int F, int sel, inc *out)
{
    size_t n = 0;
    for (uint32_t ge = 0; ge < c->ge; ge++) {
        if (!c->topinc[F][ge])
            continue;
        uint32_t v = c->ent_vpc[ge];
        bool def = (c->v[v].flags & VF_DEFAULT) != 0;
        if ((sel == SEL_DEFAULT && !def) || (sel == SEL_NONDEFAULT && def))
            continue;
        out[n].g = c->ent_node[ge];
        out[n].v = v;
        n++;
    }
    return n;
}

static uint32_t group_key(const actx *c, int kind, uint32_t v)
{
    return kind == 0 ? c->v[v].account : kind == 1 ? c->v[v].region : c->v[v].acc_reg;
}

/*
 * Sum over the groups of VPCs sharing an account (kind 0), a region (1) or
 * both (2) of: pairs of the group with an overlap outside reused ranges,
 * minus those among its default VPCs. `all` is the F_NONREUSED population.
 * A stable counting sort keeps every group's incidences in node order.
 */
static int grouped_count(actx *c, counter *k, const inc *all, size_t n, int kind,
                         inc *buf, inc *tmp, uint64_t *out)
{
    uint32_t nk = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t key = group_key(c, kind, all[i].v);
        if (key != CS_IDX_NONE && key + 1 > nk)
            nk = key + 1;
    }
    uint32_t *off = calloc((size_t)nk + 2, sizeof *off);
    if (!off)
        return CS_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        uint32_t key = group_key(c, kind, all[i].v);
        off[(key == CS_IDX_NONE ? nk : key) + 1]++;
    }
    for (uint32_t g = 0; g <= nk; g++)
        off[g + 1] += off[g];
    uint32_t *fill = malloc(((size_t)nk + 1) * sizeof *fill);
    if (!fill) {
        free(off);
        return CS_ENOMEM;
    }
    memcpy(fill, off, ((size_t)nk + 1) * sizeof *fill);
    for (size_t i = 0; i < n; i++) {
        uint32_t key = group_key(c, kind, all[i].v);
        buf[fill[key == CS_IDX_NONE ? nk : key]++] = all[i];
    }
    free(fill);
    uint64_t total = 0;
    int rc = 0;
    /* Unknown keys (CS_IDX_NONE: a VPC of unknown region) form no group. */
    for (uint32_t g = 0; g < nk && rc == 0; g++) {
        size_t b = off[g], e = off[g + 1];
        if (e - b < 2)
            continue;
        uint64_t p;
        rc = count_run(k, buf + b, e - b, &p);
        total += p;
        size_t nd = 0;
        for (size_t i = b; i < e; i++)
            if (c->v[buf[i].v].flags & VF_DEFAULT)
                tmp[nd++] = buf[i];
        if (rc == 0 && nd >= 2) {
            rc = count_run(k, tmp, nd, &p);
            total -= p;
        }
    }
    free(off);
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
    inc *tmp = malloc(cap * sizeof *tmp);
    int rc = (!a || !buf || !tmp) ? CS_ENOMEM : 0;
    size_t n;
    if (rc == 0) {
        k.F = F_ALL;
        n = gather(c, F_ALL, SEL_ALL, a);
        rc = count_run(&k, a, n, &sc->all);
    }
    if (rc == 0) {
        n = gather(c, F_ALL, SEL_NONDEFAULT, a);
        rc = count_run(&k, a, n, &sc->nondefault);
    }
    if (rc == 0) {
        k.F = F_NONREUSED;
        n = gather(c, F_NONREUSED, SEL_DEFAULT, a);
        rc = count_run(&k, a, n, &sc->nonreused_dd);
    }
    if (rc == 0) {
        n = gather(c, F_NONREUSED, SEL_ALL, a);
        rc = count_run(&k, a, n, &sc->nonreused);
    }
    uint64_t x[3] = {0, 0, 0};
    for (int kind = 0; kind < 3 && rc == 0; kind++)
        rc = grouped_count(c, &k, a, n, kind, buf, tmp, &x[kind]);
    sc->same_ar_noninfo = x[0] + x[1] - x[2];
    free(a);
    free(buf);
    free(tmp);
    counter_free(&k);
    return rc;
}

