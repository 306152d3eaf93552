/*
 * engine/query/peering_index.c — the bulk peering index: per-VPC slots of
 * block intervals (read from the one walk in address order by
 * engine/query/interval.c), peer lists and peer envelopes built once from a
 * frozen snapshot (layout: engine/query/peering_internal.h), bulk verdicts
 * decided by the query module's sorted-run overlap tests
 * (engine/query/interval_internal.h), and candidate searches.
 *
 * Does: cs_peering_index_new/_free, cs_peering_check_bulk,
 * cs_peering_candidates. Does not: explain a verdict (engine/query/peering.c
 * walks the tries for the evidence), print, or read input.
 *
 * The rules are those of engine/query/peering.c's opening comment; a bulk
 * verdict equals cs_peering_check's for every pair (tests/test_peering.c,
 * bulk == single on seeded estates).
 *
 * Concurrency: an index is written only by cs_peering_index_new before it is
 * returned; afterwards any number of threads may read it.
 */
#include <cidrscope/peering.h>
#include <cidrscope/query.h>

#include "core/error_internal.h"
#include "query/peering_internal.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static_assert(sizeof(pv_head) == 32, "a segment head is 32 bytes");
static_assert(sizeof(pv_blk4) == 8, "IPv4 interval is 8 bytes");
static_assert(sizeof(pv_blk6) == 32, "IPv6 interval is 32 bytes");
static_assert(sizeof(pv_pblk6) == 40, "IPv6 envelope entry is 40 bytes");

/* ---- the index ---------------------------------------------------------------------- */

static int cmp_blk4(const void *x, const void *y)
{
    const pv_blk4 *a = x, *b = y;
    return (a->first > b->first) - (a->first < b->first);
}

static int cmp_pblk6(const void *x, const void *y)
{
    const pv_pblk6 *a = x, *b = y;
    if (a->fhi != b->fhi)
        return a->fhi < b->fhi ? -1 : 1;
    return (a->flo > b->flo) - (a->flo < b->flo);
}

static int cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return (a > b) - (a < b);
}

/* The slots: 2 MiB aligned (so 128-aligned) and marked for transparent
 * huge pages (a bulk check jumps between random VPCs; with 4 KiB pages
 * nearly every pair costs TLB misses). Small indexes use aligned_alloc with
 * the slot alignment only. */
#define HUGE_ALIGN ((size_t)2 << 20)

static unsigned char *slots_alloc(size_t len)
{
    size_t n = len ? len : PV_SLOT;
    size_t align = n >= HUGE_ALIGN ? HUGE_ALIGN : PV_SLOT;
    if (n > SIZE_MAX - align)
        return NULL;
    size_t rounded = (n + align - 1) & ~(align - 1);
    unsigned char *p = aligned_alloc(align, rounded);
    if (!p)
        return NULL;
#ifdef MADV_HUGEPAGE
    if (align == HUGE_ALIGN) {
        /* Hints; failure is harmless. The range [p, p + rounded) is ours
         * alone (2 MiB aligned, 2 MiB multiple), but malloc may hand back
         * heap pages already faulted in as 4 KiB pages: drop them (they
         * read back as zeros) so the first touch below faults huge pages. */
        madvise(p, rounded, MADV_HUGEPAGE);
        madvise(p, rounded, MADV_DONTNEED);
    }
#endif
    memset(p, 0, rounded);
    return p;
}

void cs_peering_index_free(cs_peering_index *ix)
{
    if (!ix)
        return;
    free(ix->slots);
    free(ix->spill);
    free(ix->region_idx);
    free(ix->v6);
    free(ix->blk6);
    free(ix->pblk6);
    free(ix->by_region);
    free(ix->region_begin);
    free(ix);
}

const cs_snapshot *cs_peering_index_snapshot(const cs_peering_index *ix)
{
    return ix ? ix->snap : NULL;
}

/* calloc of n elements of `size` (at least one, so NULL always means out of
 * memory). */
static void *alloc_n(uint64_t n, size_t size)
{
    if (n > SIZE_MAX / size)
        return NULL;
    return calloc(n ? (size_t)n : 1, size);
}

static int index_fail(cs_peering_index *ix, cs_error *err, int code)
{
    cs_peering_index_free(ix);
    if (code == CS_ERANGE)
        return cs_fail(err, code, "the estate is too large for a peering index");
    return cs_fail(err, CS_ENOMEM, "out of memory building the peering index");
}

/* One VPC's connections: its active count, and (fill) the other known VPC
 * of each connection in a counting status, PV_PEER_ACTIVE when active. */
typedef struct conn_pass {
    const cs_snapshot *s;
    uint32_t v;
    uint32_t *fill;  /* NULL: count only */
    uint32_t npeer, active;
} conn_pass;

static int conn_each(const cs_peering *p, uint32_t pcx, void *ctx)
{
    (void)pcx;
    conn_pass *c = ctx;
    c->active += p->status == CS_PCX_ACTIVE;
    uint32_t o = pv_other_side(p, c->v);
    cs_vpc ov;
    if (o == c->v || !cs_pcx_status_counts(p->status) || !pv_vpc_get(c->s, o, &ov))
        return 0;
    if (c->fill)
        c->fill[c->npeer] = o | (p->status == CS_PCX_ACTIVE ? PV_PEER_ACTIVE : 0u);
    c->npeer++;
    return 0;
}

static int cmp_peer(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x & PV_PEER_VPC, b = *(const uint32_t *)y & PV_PEER_VPC;
    return (a > b) - (a < b);
}

static pv_head *head_w(cs_peering_index *ix, uint32_t v)
{
    return (pv_head *)(void *)(ix->slots + (size_t)v * PV_SLOT);
}

/* Sorts and merges intervals in place into disjoint ones (adjacent ones
 * joined: the union covers the same addresses); returns how many remain. */
static uint32_t merge_intervals(pv_blk4 *b, uint32_t n)
{
    if (n < 2)
        return n;
    qsort(b, n, sizeof *b, cmp_blk4);
    uint32_t w = 0;
    for (uint32_t i = 1; i < n; i++) {
        if (b[w].last == UINT32_MAX || b[i].first <= b[w].last + 1) {
            if (b[i].last > b[w].last)
                b[w].last = b[i].last;
        } else {
            b[++w] = b[i];
        }
    }
    return w + 1;
}

/*
 * Builds the index in passes over the estate:
 *   1. every VPC's live blocks from the walk (already in address order):
 *      IPv4 into a temporary run, IPv6 into blk6; per VPC, counting
 *      connections into a temporary peer run, heads;
 *   2. per VPC: the merged envelope of its active peers' IPv4 runs (and the
 *      owner-tagged IPv6 envelope), into temporary runs;
 *   3. payload sizes decide inline or spill; runs are copied into place.
 */
int cs_peering_index_new(const cs_snapshot *s, cs_peering_index **out, cs_error *err)
{
    if (!s || !out)
        return cs_fail(err, CS_EINVAL, "NULL snapshot or out");
    *out = NULL;
    cs_peering_index *ix = calloc(1, sizeof *ix);
    if (!ix)
        return index_fail(NULL, err, CS_ENOMEM);
    ix->snap = s;
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    uint32_t n = c.vpcs;
    ix->n_vpcs = n;
    ix->n_regions = c.regions;
    if (n > PV_PEER_VPC)
        return index_fail(ix, err, CS_ERANGE);
    uint64_t n4all = (uint64_t)c.live[0], n6all = (uint64_t)c.live[1];
    ix->slots = (uint64_t)n * PV_SLOT <= SIZE_MAX ? slots_alloc((size_t)n * PV_SLOT) : NULL;
    ix->region_idx = alloc_n(n, sizeof *ix->region_idx);
    ix->v6 = alloc_n(n, sizeof *ix->v6);
    ix->region_begin = alloc_n((uint64_t)c.regions + 1, sizeof *ix->region_begin);
    ix->by_region = alloc_n(n, sizeof *ix->by_region);
    ix->blk6 = alloc_n(n6all, sizeof *ix->blk6);
    bool *rknown = alloc_n(c.regions, sizeof *rknown);
    /* Temporary runs: IPv4 blocks, peers, envelopes, each with per-VPC
     * starts. */
    pv_blk4 *tb4 = alloc_n(n4all, sizeof *tb4), *tenv = NULL;
    uint64_t *b4at = alloc_n((uint64_t)n + 1, sizeof *b4at), *pat = NULL, *eat = NULL;
    uint64_t *b6at = alloc_n((uint64_t)n + 1, sizeof *b6at);
    uint32_t *tpeer = NULL;
    if (!ix->slots || !ix->region_idx || !ix->v6 || !ix->region_begin || !ix->by_region ||
        !ix->blk6 || !rknown || !tb4 || !b4at || !b6at)
        goto nomem;
    for (uint32_t r = 0; r < c.regions; r++)
        rknown[r] = pv_region_known(s, r);

    /* Pass 1: every VPC's live blocks, read from the one walk in address
     * order (the trie holds exactly the live associations; an entry's value
     * is its association, assoc_vpc its VPC), then heads; count counting
     * connections. */
    uint32_t n_assoc = 0;
    const uint32_t *assoc_vpc = cs_estate_assoc_vpc_map(s, &n_assoc);
    uint64_t k4 = cs_ival_by_owner(s, 0, assoc_vpc, n_assoc, n, b4at, tb4, NULL);
    uint64_t k6 = cs_ival_by_owner(s, 1, assoc_vpc, n_assoc, n, b6at, NULL, ix->blk6);
    if (k4 > n4all || k6 > n6all)
        goto range;
    uint64_t tp = 0;
    for (uint32_t v = 0; v < n; v++) {
        cs_vpc vpc;
        pv_head *h = head_w(ix, v);
        h->n4 = (uint32_t)(b4at[v + 1] - b4at[v]);
        ix->v6[v].b6 = (uint32_t)b6at[v];
        ix->v6[v].n6 = (uint32_t)(b6at[v + 1] - b6at[v]);
        if (cs_estate_vpc(s, v, &vpc) != 0)
            continue;
        conn_pass cp = {s, v, NULL, 0, 0};
        if (!vpc.pseudo)
            pv_each_connection(s, v, conn_each, &cp);
        h->account = vpc.account_idx;
        h->region = vpc.region_idx < c.regions && rknown[vpc.region_idx] ? vpc.region_idx
                                                                         : CS_IDX_NONE;
        h->active = cp.active;
        h->npeer = cp.npeer;
        h->flags = (vpc.pseudo ? PV_PSEUDO : 0u) | (ix->v6[v].n6 ? PV_HAS_V6 : 0u);
        ix->region_idx[v] = vpc.region_idx;
        if (vpc.region_idx < c.regions)
            ix->region_begin[vpc.region_idx + 1]++;
        tp += cp.npeer;
    }
    ix->n_blk6 = k6;
    tpeer = alloc_n(tp, sizeof *tpeer);
    pat = alloc_n((uint64_t)n + 1, sizeof *pat);
    eat = alloc_n((uint64_t)n + 1, sizeof *eat);
    if (!tpeer || !pat || !eat)
        goto nomem;

    /* Pass 2a: peers; sizes of the envelopes. */
    uint64_t te4 = 0, te6 = 0;
    tp = 0;
    for (uint32_t v = 0; v < n; v++) {
        pv_head *h = head_w(ix, v);
        pat[v] = tp;
        eat[v] = te4;
        ix->v6[v].pb6 = (uint32_t)te6;
        if (!h->npeer)
            continue;
        conn_pass cp = {s, v, tpeer + tp, 0, 0};
        pv_each_connection(s, v, conn_each, &cp);
        qsort(tpeer + tp, cp.npeer, sizeof *tpeer, cmp_peer);
        for (uint32_t i = 0; i < cp.npeer; i++) {
            uint32_t p = tpeer[tp + i];
            if (!(p & PV_PEER_ACTIVE))
                continue;
            te4 += head_w(ix, p & PV_PEER_VPC)->n4;
            te6 += ix->v6[p & PV_PEER_VPC].n6;
        }
        ix->v6[v].npb6 = (uint32_t)(te6 - ix->v6[v].pb6);
        tp += cp.npeer;
        if (te6 > UINT32_MAX)
            goto range;
    }
    pat[n] = tp;
    eat[n] = te4;
    tenv = alloc_n(te4, sizeof *tenv);
    ix->n_pblk6 = te6;
    ix->pblk6 = alloc_n(te6, sizeof *ix->pblk6);
    if (!tenv || !ix->pblk6)
        goto nomem;

    /* Pass 2b: envelopes. */
    uint64_t spill = 0;
    for (uint32_t v = 0; v < n; v++) {
        pv_head *h = head_w(ix, v);
        uint64_t e4 = eat[v];
        uint32_t e6 = ix->v6[v].pb6;
        for (uint64_t i = pat[v]; i < pat[v] + h->npeer; i++) {
            if (!(tpeer[i] & PV_PEER_ACTIVE))
                continue;
            uint32_t o = tpeer[i] & PV_PEER_VPC;
            for (uint64_t j = b4at[o]; j < b4at[o + 1]; j++)
                tenv[e4++] = tb4[j];
            for (uint32_t j = 0; j < ix->v6[o].n6; j++, e6++) {
                pv_pblk6 *e = &ix->pblk6[e6];
                const pv_blk6 *b = &ix->blk6[ix->v6[o].b6 + j];
                e->fhi = b->fhi;
                e->flo = b->flo;
                e->lhi = b->lhi;
                e->llo = b->llo;
                e->owner = o;
            }
        }
        h->nenv = merge_intervals(tenv + eat[v], (uint32_t)(e4 - eat[v]));
        if (ix->v6[v].npb6 > 1)
            qsort(ix->pblk6 + ix->v6[v].pb6, ix->v6[v].npb6, sizeof *ix->pblk6, cmp_pblk6);
        h->flags |= ix->v6[v].npb6 ? PV_HAS_PB6 : 0u;
        uint64_t plen = ((uint64_t)h->n4 + h->nenv) * sizeof(pv_blk4) +
                        (uint64_t)h->npeer * sizeof(uint32_t);
        if (plen > PV_INLINE) {
            if (spill > UINT32_MAX)
                goto range;
            h->flags |= PV_SPILL;
            h->spill = (uint32_t)spill;
            spill += (plen + 7) / 8;
        }
    }
    ix->n_spill = spill;
    ix->spill = alloc_n(spill, sizeof *ix->spill);
    if (!ix->spill)
        goto nomem;

    /* Pass 3: payloads into place. */
    for (uint32_t v = 0; v < n; v++) {
        pv_head *h = head_w(ix, v);
        unsigned char *p = h->flags & PV_SPILL ? (unsigned char *)(ix->spill + h->spill)
                                               : (unsigned char *)(h + 1);
        if (h->n4)
            memcpy(p, tb4 + b4at[v], h->n4 * sizeof(pv_blk4));
        p += h->n4 * sizeof(pv_blk4);
        if (h->nenv)
            memcpy(p, tenv + eat[v], h->nenv * sizeof(pv_blk4));
        p += h->nenv * sizeof(pv_blk4);
        if (h->npeer)
            memcpy(p, tpeer + pat[v], h->npeer * sizeof(uint32_t));
    }

    /* VPCs by region: a counting sort, so each run stays ascending. */
    for (uint32_t r = 0; r < c.regions; r++)
        ix->region_begin[r + 1] += ix->region_begin[r];
    {
        uint32_t *fill = alloc_n(c.regions, sizeof *fill);
        if (!fill)
            goto nomem;
        for (uint32_t v = 0; v < n; v++) {
            uint32_t reg = ix->region_idx[v];
            if (reg < c.regions)
                ix->by_region[ix->region_begin[reg] + fill[reg]++] = v;
        }
        free(fill);
    }
    free(rknown);
    free(tb4);
    free(tenv);
    free(tpeer);
    free(b4at);
    free(b6at);
    free(pat);
    free(eat);
    *out = ix;
    return 0;
range:
    free(rknown);
    free(tb4);
    free(tenv);
    free(tpeer);
    free(b4at);
    free(b6at);
    free(pat);
    free(eat);
    return index_fail(ix, err, CS_ERANGE);
nomem:
    free(rknown);
    free(tb4);
    free(tenv);
    free(tpeer);
    free(b4at);
    free(b6at);
    free(pat);
    free(eat);
    return index_fail(ix, err, CS_ENOMEM);
}

/* ---- bulk verdicts ---------------------------------------------------------------- */

/* Looks b up among a's counting connections (sorted; linear when short):
 * 0 none, 1 a connection in a counting status, 2 one of them active. */
static int pv_link(const cs_peering_index *ix, const pv_head *ha, uint32_t b)
{
    const uint32_t *p = pv_peers_of(ix, ha);
    uint32_t n = ha->npeer, lo = 0;
    if (n <= 8) {
        /* Branch-free for the usual handful of connections. */
        unsigned any = 0, act = 0;
        for (uint32_t i = 0; i < n; i++) {
            unsigned eq = (p[i] & PV_PEER_VPC) == b;
            any |= eq;
            act |= eq & (p[i] >> 31);
        }
        return act ? 2 : (int)any;
    }
    if (n > 16) {
        uint32_t hi = n;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if ((p[mid] & PV_PEER_VPC) < b)
                lo = mid + 1;
            else
                hi = mid;
        }
    } else {
        while (lo < n && (p[lo] & PV_PEER_VPC) < b)
            lo++;
    }
    int r = 0;
    for (; lo < n && (p[lo] & PV_PEER_VPC) == b; lo++)
        r = p[lo] & PV_PEER_ACTIVE ? 2 : r ? r : 1;
    return r;
}

/* Routing ambiguity with `hub` as the side already peered, when the pair
 * (hub, other) is itself actively peered: the envelope would hold other's
 * own blocks, so each active peer is compared on its own. */
static bool routing_by_peer(const cs_peering_index *ix, const pv_head *hh, uint32_t other,
                            const pv_blk4 *ob, uint32_t on)
{
    const uint32_t *p = pv_peers_of(ix, hh);
    for (uint32_t i = 0; i < hh->npeer; i++) {
        uint32_t c = p[i] & PV_PEER_VPC;
        if (!(p[i] & PV_PEER_ACTIVE) || c == other)
            continue;
        const pv_head *hc = pv_head_of(ix, c);
        if (cs_ival4_overlap(pv_blk4_of(ix, hc), hc->n4, ob, on))
            return true;
    }
    return false;
}

static unsigned eval_pair(const cs_peering_index *ix, uint32_t a, uint32_t b, uint32_t q)
{
    if (a >= ix->n_vpcs || b >= ix->n_vpcs)
        return 1u << CS_PEER_UNKNOWN_VPC;
    const pv_head *ha = pv_head_of(ix, a), *hb = pv_head_of(ix, b);
    if ((ha->flags | hb->flags) & PV_PSEUDO)
        return 1u << CS_PEER_UNKNOWN_VPC;
    if (a == b)
        return 1u << CS_PEER_SAME_VPC;
    unsigned r = 0;
    const pv_blk4 *ba = pv_blk4_of(ix, ha), *bb = pv_blk4_of(ix, hb);
    if (cs_ival4_overlap(ba, ha->n4, bb, hb->n4))
        r |= 1u << CS_PEER_OVERLAP_V4;
    int link = ha->npeer && hb->npeer ? (ha->npeer <= hb->npeer ? pv_link(ix, ha, b)
                                                                : pv_link(ix, hb, a))
                                      : 0;
    if (link)
        r |= 1u << CS_PEER_ALREADY_PEERED;
    if (ha->active >= q || hb->active >= q)
        r |= 1u << CS_PEER_QUOTA;
    if (ha->region != hb->region && ha->region != CS_IDX_NONE && hb->region != CS_IDX_NONE)
        r |= 1u << CS_PEER_CROSS_REGION;
    if (ha->account != hb->account)
        r |= 1u << CS_PEER_CROSS_ACCOUNT;
    if (link == 2) {
        if (routing_by_peer(ix, ha, b, bb, hb->n4) || routing_by_peer(ix, hb, a, ba, ha->n4))
            r |= 1u << CS_PEER_ROUTING_AMBIGUITY;
    } else if ((ha->nenv && cs_ival4_overlap(pv_env4_of(ix, ha), ha->nenv, bb, hb->n4)) ||
               (hb->nenv && cs_ival4_overlap(pv_env4_of(ix, hb), hb->nenv, ba, ha->n4))) {
        r |= 1u << CS_PEER_ROUTING_AMBIGUITY;
    }
    /* IPv6: only VPCs that have it pay for it. */
    unsigned fa = ha->flags, fb = hb->flags;
    if ((fa & fb & PV_HAS_V6) || ((fa & PV_HAS_PB6) && (fb & PV_HAS_V6)) ||
        ((fb & PV_HAS_PB6) && (fa & PV_HAS_V6))) {
        const pv_v6 *xa = &ix->v6[a], *xb = &ix->v6[b];
        if (xa->n6 && xb->n6 &&
            cs_ival6_overlap(ix->blk6 + xa->b6, xa->n6, ix->blk6 + xb->b6, xb->n6))
            r |= 1u << CS_PEER_OVERLAP_V6;
        if ((xa->npb6 && xb->n6 &&
             pv_overlap6_env(ix->pblk6 + xa->pb6, xa->npb6, b, ix->blk6 + xb->b6, xb->n6)) ||
            (xb->npb6 && xa->n6 &&
             pv_overlap6_env(ix->pblk6 + xb->pb6, xb->npb6, a, ix->blk6 + xa->b6, xa->n6)))
            r |= 1u << CS_PEER_ROUTING_AMBIGUITY;
    }
    return r;
}

/* Pairs prefetched ahead: both slots (two lines each) of pair i + PF_DIST
 * are requested while pair i is decided; at half the distance, when the
 * heads are (likely) in cache, the spilled payloads too.
 *
 * The prefetches are written in the loop itself: GCC's IPA pure-const pass
 * takes a helper whose only effect is __builtin_prefetch for side-effect
 * free and deletes the call (GCC 12, -O1 and up). */
#define PF_DIST 16

int cs_peering_check_bulk(const cs_peering_index *ix, const cs_peering_pair *pairs, size_t n,
                          const cs_peering_opts *opts, cs_peering_verdict *out)
{
    uint32_t q = pv_quota_of(opts);
    if (!ix || !q || (n && (!pairs || !out)))
        return CS_EINVAL;
    const uint32_t nv = ix->n_vpcs;
    for (size_t i = 0; i < n; i++) {
        if (i + PF_DIST < n) {
            uint32_t pa = pairs[i + PF_DIST].a, pb = pairs[i + PF_DIST].b;
            if (pa < nv) {
                __builtin_prefetch(ix->slots + (size_t)pa * PV_SLOT);
                __builtin_prefetch(ix->slots + (size_t)pa * PV_SLOT + 64);
            }
            if (pb < nv) {
                __builtin_prefetch(ix->slots + (size_t)pb * PV_SLOT);
                __builtin_prefetch(ix->slots + (size_t)pb * PV_SLOT + 64);
            }
        }
        if (i + PF_DIST / 2 < n) {
            uint32_t pa = pairs[i + PF_DIST / 2].a, pb = pairs[i + PF_DIST / 2].b;
            const pv_head *h;
            if (pa < nv && ((h = pv_head_of(ix, pa))->flags & PV_SPILL))
                __builtin_prefetch(ix->spill + h->spill);
            if (pb < nv && ((h = pv_head_of(ix, pb))->flags & PV_SPILL))
                __builtin_prefetch(ix->spill + h->spill);
        }
        unsigned r = eval_pair(ix, pairs[i].a, pairs[i].b, q);
        out[i].reasons = (uint16_t)r;
        out[i].verdict = pv_verdict_of(r);
        out[i].reserved = 0;
    }
    return 0;
}

/* ---- candidates --------------------------------------------------------------------- */

/* The VPCs to consider: a contiguous range [lo, hi), or list[0..hi-lo). */
typedef struct universe {
    const uint32_t *list;
    uint32_t lo, hi;
} universe;

static uint32_t uni_at(const universe *u, uint32_t k)
{
    return u->list ? u->list[k] : u->lo + k;
}

static int make_universe(const cs_peering_index *ix, const cs_peering_filter *f, universe *u)
{
    u->list = NULL;
    u->lo = 0;
    u->hi = ix->n_vpcs;
    uint32_t acc = f ? f->account : CS_IDX_NONE, reg = f ? f->region : CS_IDX_NONE;
    if (reg != CS_IDX_NONE && reg >= ix->n_regions)
        return CS_EINVAL;
    if (acc != CS_IDX_NONE) {
        cs_account a;
        if (cs_estate_account(ix->snap, acc, &a) != 0)
            return CS_EINVAL;
        u->lo = a.vpc_begin;
        u->hi = a.vpc_begin + a.vpc_count;
        if (reg != CS_IDX_NONE) {
            /* An account's VPCs are sorted by region (estate.h, FROZEN
             * ORDER: VPCs by (account, region, id); regions by name, so
             * region indices follow that order): two binary searches. */
            uint32_t lo = u->lo, hi = u->hi;
            while (lo < hi) {
                uint32_t mid = lo + (hi - lo) / 2;
                if (ix->region_idx[mid] < reg)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            uint32_t first = lo;
            hi = u->hi;
            while (lo < hi) {
                uint32_t mid = lo + (hi - lo) / 2;
                if (ix->region_idx[mid] <= reg)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            u->lo = first;
            u->hi = lo;
        }
    } else if (reg != CS_IDX_NONE) {
        u->list = ix->by_region + ix->region_begin[reg];
        u->lo = 0;
        u->hi = ix->region_begin[reg + 1] - ix->region_begin[reg];
    }
    return 0;
}

/* The VPCs overlapping v: a buffer on the stack that spills to the heap
 * once. */
#define OV_INLINE 256

typedef struct ov_set {
    uint32_t inl[OV_INLINE];
    uint32_t *v;
    uint64_t n, cap;
    bool heap;
} ov_set;

static bool seg_overlap(const cs_peering_index *ix, uint32_t a, uint32_t b)
{
    const pv_head *ha = pv_head_of(ix, a), *hb = pv_head_of(ix, b);
    if (cs_ival4_overlap(pv_blk4_of(ix, ha), ha->n4, pv_blk4_of(ix, hb), hb->n4))
        return true;
    const pv_v6 *xa = &ix->v6[a], *xb = &ix->v6[b];
    return xa->n6 && xb->n6 &&
           cs_ival6_overlap(ix->blk6 + xa->b6, xa->n6, ix->blk6 + xb->b6, xb->n6);
}

int64_t cs_peering_candidates(const cs_peering_index *ix, uint32_t vpc,
                              const cs_peering_filter *filter, const cs_peering_opts *opts,
                              uint32_t *out, size_t cap, cs_peering_cand_stats *stats)
{
    uint32_t q = pv_quota_of(opts);
    if (!ix || !q || (cap && !out))
        return CS_EINVAL;
    cs_peering_cand_stats st;
    memset(&st, 0, sizeof st);
    if (stats)
        *stats = st;
    if (vpc >= ix->n_vpcs || (pv_head_of(ix, vpc)->flags & PV_PSEUDO))
        return CS_ENOTFOUND;
    universe u;
    if (make_universe(ix, filter, &u) != 0)
        return CS_EINVAL;
    const cs_snapshot *s = ix->snap;
    const pv_head *hv = pv_head_of(ix, vpc);
    uint32_t size = u.hi - u.lo;
    st.considered = size;
    if (hv->active >= q) {
        st.self_at_quota = true;
        st.quota = size;
        if (stats)
            *stats = st;
        return 0;
    }

    /* V's live blocks, and how many trie entries overlap them (one
     * root-to-leaf walk each: the counts are kept per trie node). */
    cs_vpc vv;
    if (cs_estate_vpc(s, vpc, &vv) != 0)
        return CS_ENOTFOUND;
    for (uint32_t i = 0; i < vv.assoc_count; i++) {
        cs_assoc a;
        if (cs_estate_assoc(s, vv.assoc_begin + i, &a) == 0 && a.live) {
            int64_t c = cs_query_count(s, &a.prefix, CS_Q_OVERLAPPING);
            st.overlap_entries += c > 0 ? (uint64_t)c : 0;
        }
    }
    /* Scanning tests each VPC of the set against V's blocks: worth it only
     * for a filtered set smaller than the trie's answer, and never over the
     * whole estate (that is what the trie is for). */
    unsigned flags = filter ? filter->flags : 0;
    bool filtered = u.list || u.hi - u.lo < ix->n_vpcs;
    st.used_trie = !(flags & CS_CAND_FORCE_SCAN) &&
                   ((flags & CS_CAND_FORCE_TRIE) || !filtered || st.overlap_entries <= size);

    ov_set ov;
    ov.v = ov.inl;
    ov.n = 0;
    ov.cap = OV_INLINE;
    ov.heap = false;
    if (st.used_trie) {
        const uint32_t *map = cs_estate_assoc_vpc_map(s, NULL);
        if (st.overlap_entries > OV_INLINE) {
            ov.v = alloc_n(st.overlap_entries, sizeof *ov.v);
            if (!ov.v)
                return CS_ENOMEM;
            ov.heap = true;
            ov.cap = st.overlap_entries;
        }
        for (uint32_t i = 0; i < vv.assoc_count; i++) {
            cs_assoc a;
            if (cs_estate_assoc(s, vv.assoc_begin + i, &a) != 0 || !a.live)
                continue;
            cs_query_iter it;
            cs_query_iter_init(&it, s, &a.prefix, CS_Q_OVERLAPPING);
            cs_match m;
            while (cs_query_iter_next(&it, &m) > 0)
                for (uint32_t j = 0; j < m.count && ov.n < ov.cap; j++)
                    ov.v[ov.n++] = map[m.values[j]];
        }
        if (ov.n > 1) {
            qsort(ov.v, (size_t)ov.n, sizeof *ov.v, cmp_u32);
            uint64_t w = 1;
            for (uint64_t i = 1; i < ov.n; i++)
                if (ov.v[i] != ov.v[w - 1])
                    ov.v[w++] = ov.v[i];
            ov.n = w;
        }
    }

    const uint32_t *peers = pv_peers_of(ix, hv);
    uint32_t np = hv->npeer, pp = 0;
    uint64_t op = 0, found = 0;
    for (uint32_t k = 0; k < size; k++) {
        uint32_t c = uni_at(&u, k);
        const pv_head *hc = pv_head_of(ix, c);
        if (c == vpc || (hc->flags & PV_PSEUDO)) {
            st.other++;
            continue;
        }
        bool overl;
        if (st.used_trie) {
            while (op < ov.n && ov.v[op] < c)
                op++;
            overl = op < ov.n && ov.v[op] == c;
        } else {
            overl = seg_overlap(ix, vpc, c);
        }
        if (overl) {
            st.overlap++;
            continue;
        }
        while (pp < np && (peers[pp] & PV_PEER_VPC) < c)
            pp++;
        if (pp < np && (peers[pp] & PV_PEER_VPC) == c) {
            st.peered++;
            continue;
        }
        if (hc->active >= q) {
            st.quota++;
            continue;
        }
        if (found < cap)
            out[found] = c;
        found++;
    }
    if (ov.heap)
        free(ov.v);
    if (stats)
        *stats = st;
    return (int64_t)found;
}
