/*
 * engine/query/audit_groups.c — identical-prefix groups of the audit.
 *
 * GROUPS AND LISTING. A prefix held by >= 2 VPCs (a group) stands for
 * every pair overlapping through it: its VPCs among themselves and with the
 * VPCs nested with it. Its severity is the worst of those pairs judged at
 * this prefix, found by checking each nested node's VPCs against the
 * group's per-account and per-region counts (the smaller side iterates).
 * A pair is listed one by one when it is critical or overlaps through two
 * prefixes each held by one VPC ("solo"); the listing walks, from each solo
 * block, the solo nodes strictly above and below it, so its cost is the
 * nested solo pairs plus the nodes passed: linear in the estate times the
 * depth, never in the 160 million pairs of 40,000 template VPCs on
 * 10.0.0.0/16 with 4,096 blocks inside it. Every non-informational pair is
 * either listed or inside a listed group of at least its severity.
 * CS_AUDIT_ALL_PAIRS walks every entry above, at and below every block.
 *
 * This module builds the groups (a prefix held by live in-scope blocks of
 * >= 2 VPCs) with their member lists, per-account and per-region counts,
 * pair counts and severity; audit_pairs.c lists the pairs.
 *
 * Concurrency: none inside; reads only. Tests: tests/test_audit.c.
 */
#include "query/audit_ctx_internal.h"

#include "core/error_internal.h"

#include <cidrscope/estate.h>

#include <stdlib.h>
#include <string.h>

/* ---- identical-prefix groups ------------------------------------------------------- */

/* How many VPCs of a group are in one region, and how many are not default
 * VPCs. */
typedef struct rcount {
    uint32_t region, all, nd;
} rcount;

static int cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return a < b ? -1 : a > b;
}

/* What one pass over a group's members (ascending VPC indices, so accounts
 * and (account, region) come in runs) finds: default VPCs; same-account,
 * same-region and same-(account, region) pairs, among all members and
 * among the default ones; the regions met. */
typedef struct gfacts {
    uint32_t defaults;
    uint64_t sa, sr, sar;       /* all members */
    uint64_t dsa, dsr, dsar;    /* default members only */
} gfacts;

/* A run of one account (or account and region) ends: its pairs. */
static void run_end(uint32_t key, uint32_t *run, uint32_t *drun, uint64_t *p, uint64_t *dp)
{
    if (key != CS_IDX_NONE) {
        *p += choose2(*run);
        *dp += choose2(*drun);
    }
    *run = *drun = 0;
}

/*
 * One pass over the members vs[0..n) of a group: its gfacts, its running
 * non-default count into nd[1..n] (nd[0] given), and its per-region counts
 * (region, all, non-default) into out, ascending by region; returns how
 * many regions. rall, rdef: zeroed counts per region, left zeroed;
 * touched: room for every region.
 */
static uint32_t group_facts(const actx *c, const uint32_t *vs, uint32_t n, uint32_t *nd,
                            uint32_t *rall, uint32_t *rdef, uint32_t *touched,
                            rcount *out, gfacts *gf)
{
    memset(gf, 0, sizeof *gf);
    uint32_t run_a = 0, drun_a = 0, run_ar = 0, drun_ar = 0, m = 0;
    uint32_t prev_acc = CS_IDX_NONE, prev_ar = CS_IDX_NONE;
    for (uint32_t i = 0; i < n; i++) {
        if (i + 8 < n)
            __builtin_prefetch(&c->v[vs[i + 8]]);
        const vinfo *vi = &c->v[vs[i]];
        uint32_t d = (vi->flags & VF_DEFAULT) != 0;
        gf->defaults += d;
        nd[i + 1] = nd[i] + !d;
        if (vi->account != prev_acc) {
            run_end(prev_acc, &run_a, &drun_a, &gf->sa, &gf->dsa);
            prev_acc = vi->account;
        }
        run_a++;
        drun_a += d;
        if (vi->acc_reg != prev_ar) {
            run_end(prev_ar, &run_ar, &drun_ar, &gf->sar, &gf->dsar);
            prev_ar = vi->acc_reg;
        }
        run_ar++;
        drun_ar += d;
        uint32_t rg = vi->region;
        if (rg == CS_IDX_NONE)
            continue;
        if (rall[rg] == 0)
            touched[m++] = rg;
        gf->sr += rall[rg]++; /* pairs with the earlier ones */
        if (d)
            gf->dsr += rdef[rg]++;
    }
    run_end(prev_acc, &run_a, &drun_a, &gf->sa, &gf->dsa);
    run_end(prev_ar, &run_ar, &drun_ar, &gf->sar, &gf->dsar);
    if (m < 32) {
        for (uint32_t i = 1; i < m; i++) {
            uint32_t x = touched[i], j = i;
            for (; j > 0 && touched[j - 1] > x; j--)
                touched[j] = touched[j - 1];
            touched[j] = x;
        }
    } else {
        qsort(touched, m, sizeof *touched, cmp_u32);
    }
    for (uint32_t i = 0; i < m; i++) {
        uint32_t rg = touched[i];
        out[i] = (rcount){rg, rall[rg], rall[rg] - rdef[rg]};
        rall[rg] = rdef[rg] = 0;
    }
    return m;
}

/* The distinct VPCs in scope at node g, ascending: a group's member list,
 * or the one VPC of a solo node (in *one). */
static const uint32_t *node_vpcs(const actx *c, uint32_t g, uint32_t *n, uint32_t *one)
{
    *n = c->nvpc[g];
    if (*n >= 2) {
        uint32_t gi = c->group_of[g];
        return c->gm + c->gm_off[gi];
    }
    *one = c->onevpc[g];
    return one;
}

/* Is v a member of group gi? */
static bool gmember(const actx *c, uint32_t gi, uint32_t v)
{
    uint32_t lo = c->gm_off[gi], hi = c->gm_off[gi + 1];
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (c->gm[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->gm_off[gi + 1] && c->gm[lo] == v;
}

/* Members of group gi in account `acc`: all of them and the non-default
 * ones (accounts come in runs: binary search). */
static void gcount_acc(const actx *c, uint32_t gi, uint32_t acc, uint32_t *all, uint32_t *nd)
{
    uint32_t b = c->gm_off[gi], e = c->gm_off[gi + 1];
    uint32_t lo = b, hi = e;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (c->v[c->gm[mid]].account < acc)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint32_t first = lo;
    hi = e;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (c->v[c->gm[mid]].account <= acc)
            lo = mid + 1;
        else
            hi = mid;
    }
    *all = lo - first;
    *nd = c->gm_nd[lo] - c->gm_nd[first];
}

static void gcount_reg(const actx *c, uint32_t gi, uint32_t reg, uint32_t *all, uint32_t *nd)
{
    *all = *nd = 0;
    uint32_t lo = c->gr_off[gi], hi = c->gr_off[gi + 1];
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (c->grc[mid].region < reg)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < c->gr_off[gi + 1] && c->grc[lo].region == reg) {
        *all = c->grc[lo].all;
        *nd = c->grc[lo].nd;
    }
}

/*
 * The pairs (A in S, B in group T, A != B) of two node VPC sets that
 * overlap through a non-reused block pair: is one of them not
 * informational (not both default VPCs), is one of them in one account or
 * one region? Each VPC of S is checked against T's per-account and
 * per-region counts, so the cost is |S| log |T|: callers pass the smaller
 * side as S.
 */
static void eval_sets(const actx *c, const uint32_t *S, uint32_t ns, uint32_t T,
                      bool *noninfo, bool *high)
{
    uint32_t nt = c->gm_off[T + 1] - c->gm_off[T];
    uint32_t ndt = c->gm_nd[c->gm_off[T + 1]] - c->gm_nd[c->gm_off[T]];
    for (uint32_t i = 0; i < ns && !*high; i++) {
        uint32_t b = S[i];
        const vinfo *vb = &c->v[b];
        bool nd = !(vb->flags & VF_DEFAULT);
        uint32_t in = gmember(c, T, b) ? 1 : 0;
        uint32_t in_nd = in && nd;
        /* partners in T: any if b is not a default VPC, else non-default */
        if (nd ? nt - in > 0 : ndt - in_nd > 0)
            *noninfo = true;
        uint32_t all, ndc;
        gcount_acc(c, T, vb->account, &all, &ndc);
        if (nd ? all - in > 0 : ndc - in_nd > 0)
            *high = true;
        if (vb->region != CS_IDX_NONE) {
            gcount_reg(c, T, vb->region, &all, &ndc);
            if (nd ? all - in > 0 : ndc - in_nd > 0)
                *high = true;
        }
    }
}

/* Group gi (node x) against the VPCs at node y nested with it. */
static void eval_nested(const actx *c, uint32_t gi, uint32_t y, bool *noninfo, bool *high)
{
    uint32_t ny, one;
    const uint32_t *vy = node_vpcs(c, y, &ny, &one);
    uint32_t ng = c->gm_off[gi + 1] - c->gm_off[gi];
    if (ny <= ng)
        eval_sets(c, vy, ny, gi, noninfo, high);
    else
        eval_sets(c, c->gm + c->gm_off[gi], ng, c->group_of[y], noninfo, high);
}

/*
 * c->ent_lst: the blocks at a solo node (one VPC in scope) with another
 * solo node strictly above or below it; only these can list a pair by
 * nesting (audit_pairs.c), and in most estates they are few (a VPC's own
 * IPAM allocation nests with nobody's), so the listing reads one byte per
 * block, in VPC order, instead of its node, the node's VPC count and its
 * ancestors at random. Two passes over the entry-bearing nodes: down the
 * preorder (an ancestor comes first) "a solo ancestor", up it (a
 * descendant comes first) "a solo descendant", each through the nearest
 * entry-bearing ancestor (gup).
 */
static int solo_nesting(actx *c)
{
    uint8_t *nest = calloc(c->gn ? c->gn : 1, 1);
    c->ent_lst = calloc(c->ge ? c->ge : 1, 1);
    if (!nest || !c->ent_lst) {
        free(nest);
        return CS_ENOMEM;
    }
    enum { SOLO_ABOVE = 1, SOLO_BELOW = 2 };
    for (uint32_t g = 0; g < c->gn; g++) {
        uint32_t z = c->gup[g];
        if (z != CS_NO_NODE && (c->nvpc[z] == 1 || (nest[z] & SOLO_ABOVE)))
            nest[g] |= SOLO_ABOVE;
    }
    for (uint32_t g = c->gn; g-- > 0;) {
        uint32_t z = c->gup[g];
        if (z != CS_NO_NODE && (c->nvpc[g] == 1 || (nest[g] & SOLO_BELOW)))
            nest[z] |= SOLO_BELOW;
    }
    for (uint32_t g = 0; g < c->gn; g++)
        if (c->nvpc[g] == 1 && nest[g])
            memset(c->ent_lst + c->nb[g], 1, c->noe[g] - c->nb[g]);
    free(nest);
    return 0;
}

/*
 * Groups: every node whose own entries belong to >= 2 VPCs in scope. Pass
 * one finds them, their members and sharing counts; pass two weighs the
 * pairs each group represents through nesting: the entry-bearing nodes
 * strictly above it (at most 129) and strictly below it (stopping as soon
 * as one pair is high, the worst a non-peered pair can be). A descendant
 * lies in at most 129 groups' subtrees, so the work is linear in the nodes
 * times the depth.
 */
int audit_groups_build(actx *c)
{
    cs_audit_result *r = c->r;
    size_t gn = c->gn ? c->gn : 1;
    c->group_of = malloc(gn * sizeof *c->group_of);
    c->nvpc = calloc(gn, sizeof *c->nvpc);
    c->onevpc = malloc(gn * sizeof *c->onevpc);
    c->psin = malloc(((size_t)c->ge + 1) * sizeof *c->psin);
    uint32_t *rcnt = calloc((size_t)c->n_regions + 1, sizeof *rcnt);
    uint32_t *rdef = calloc((size_t)c->n_regions + 1, sizeof *rdef);
    uint32_t *vs = malloc(((size_t)c->ge + 1) * sizeof *vs);
    uint32_t *touched = malloc(((size_t)c->n_regions + 1) * sizeof *touched);
    size_t gm_cap = 0, goff_cap = 0, grc_cap = 0, groff_cap = 0;
    int rc = 0;
    if (!c->group_of || !c->nvpc || !c->onevpc || !c->psin || !rcnt || !rdef || !vs ||
        !touched) {
        rc = CS_ENOMEM;
        goto out;
    }
    c->psin[0] = 0;
    for (uint32_t ge = 0; ge < c->ge; ge++)
        c->psin[ge + 1] = c->psin[ge] + (c->ent_vpc[ge] != CS_IDX_NONE);
    uint32_t n_gm = 0, n_grc = 0;
    size_t gmnd_cap = 0;
    if (GROW(c->gm_nd, 0, gmnd_cap, 1)) {
        rc = CS_ENOMEM;
        goto out;
    }
    c->gm_nd[0] = 0;
    for (uint32_t g = 0; g < c->gn; g++) {
        c->group_of[g] = CS_IDX_NONE;
        c->onevpc[g] = CS_IDX_NONE;
        uint32_t b, oe, e;
        node_range(c, g, &b, &oe, &e);
        /* A prefix's entries are sorted by association, associations by
         * VPC: its VPCs come in ascending runs. */
        uint32_t n = 0, entries = 0;
        for (uint32_t ge = b; ge < oe; ge++) {
            uint32_t v = c->ent_vpc[ge];
            if (v == CS_IDX_NONE)
                continue;
            entries++;
            if (n == 0 || vs[n - 1] != v)
                vs[n++] = v;
        }
        c->nvpc[g] = n;
        if (n == 1)
            c->onevpc[g] = vs[0];
        if (n < 2)
            continue; /* a solo node never reads its VPC's facts */
        uint32_t gi = (uint32_t)r->n_groups;
        if (GROW(r->groups, r->n_groups, r->cap_groups, r->n_groups + 1) ||
            GROW(c->gm_off, 0, goff_cap, (size_t)gi + 2) ||
            GROW(c->gr_off, 0, groff_cap, (size_t)gi + 2) ||
            GROW(c->gm, 0, gm_cap, (size_t)n_gm + n) ||
            GROW(c->gm_nd, 0, gmnd_cap, (size_t)n_gm + n + 1) ||
            GROW(c->grc, 0, grc_cap, (size_t)n_grc + n)) {
            rc = CS_ENOMEM;
            goto out;
        }
        c->gm_off[gi] = n_gm;
        memcpy(c->gm + n_gm, vs, n * sizeof *vs);
        gfacts gf;
        c->gr_off[gi] = n_grc;
        n_grc += group_facts(c, vs, n, c->gm_nd + n_gm, rcnt, rdef, touched,
                             c->grc + n_grc, &gf);
        c->gr_off[gi + 1] = n_grc;
        n_gm += n;
        c->gm_off[gi + 1] = n_gm;

        cs_audit_group *gr = &r->groups[gi];
        memset(gr, 0, sizeof *gr);
        gr->prefix = gprefix(c, g);
        unsigned f = gfam(c, g);
        gr->first_entry = b - c->ent_off[f];
        gr->span = oe - b;
        gr->entries = entries;
        gr->vpcs = n;
        gr->default_vpcs = gf.defaults;
        gr->vpc_pairs = choose2(n);
        gr->reused = c->greused[g] != 0;
        gr->same_account_pairs = gf.sa;
        gr->same_region_pairs = gf.sr;
        /* sharing pairs, judged at this prefix: informational when it is
         * reused or both VPCs are default ones */
        bool reused = c->greused[g] != 0;
        bool noninfo = !reused && gf.defaults < n;
        bool high = !reused && (gf.sa + gf.sr - gf.sar) - (gf.dsa + gf.dsr - gf.dsar) > 0;
        gr->severity = high ? CS_SEV_HIGH : noninfo ? CS_SEV_MEDIUM : CS_SEV_INFO;
        c->group_of[g] = gi;
        r->n_groups++;
    }
    r->sum.groups = r->n_groups;
    c->gstamp = malloc((r->n_groups + 1) * sizeof *c->gstamp);
    if (!c->gstamp || (rc = solo_nesting(c)) != 0) {
        rc = CS_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < r->n_groups; i++)
        c->gstamp[i] = CS_IDX_NONE;

    /* Pass two: the pairs each group represents through nesting. */
    for (uint32_t g = 0; g < c->gn; g++) {
        uint32_t gi = c->group_of[g];
        if (gi == CS_IDX_NONE)
            continue;
        cs_audit_group *gr = &r->groups[gi];
        bool noninfo = false, high = false;
        uint32_t b, oe, e;
        for (uint32_t z = c->gup[g]; z != CS_NO_NODE; z = c->gup[z]) {
            node_range(c, z, &b, &oe, &e);
            gr->blocks_around += c->psin[oe] - c->psin[b];
            if (c->nvpc[z] && !c->greused[g]) /* g is the inner block */
                eval_nested(c, gi, z, &noninfo, &high);
        }
        node_range(c, g, &b, &oe, &e);
        gr->blocks_inside = c->psin[e] - c->psin[oe];
        for (uint32_t y = g + 1; y < c->gnend[g] && !high; y++)
            if (c->nvpc[y] && !c->greused[y]) /* y is the inner block */
                eval_nested(c, gi, y, &noninfo, &high);
        if (high)
            gr->severity = CS_SEV_HIGH;
        else if (noninfo && gr->severity > CS_SEV_MEDIUM)
            gr->severity = CS_SEV_MEDIUM;
        gr->listed = gr->severity != CS_SEV_INFO || (r->flags & CS_AUDIT_INCLUDE_DEFAULT);
    }
out:
    free(rcnt);
    free(rdef);
    free(touched);
    free(vs);
    return rc;
}

