/*
 * engine/query/audit.c — the org-wide overlap audit on a frozen snapshot.
 *
 * Does: entry-level figures and clusters in one pass over the trie's node
 * records; exact VPC-pair counts (total, excluding default VPCs, by
 * severity) by arithmetic over groups of identical and nested prefixes;
 * identical-prefix groups; the pairs listed one by one (critical ones and
 * those overlapping through nesting); per-domain violations; the diff of
 * two audits. Does not: print (engine/report/ writes the reports), read
 * files, or modify the snapshot. Reads the trie through snap_family()
 * (engine/image/snapshot_internal.h) and the estate only through estate.h.
 *
 * THE TRIE, as read here: per family a DFS-preorder array of nodes; node i's
 * subtree holds the contiguous entries [ent_begin, ent_end), its own entries
 * come first, so
 *
 *     own(i) = cold[i+1].ent_begin - cold[i].ent_begin     (i < n-1)
 *
 * whether node i+1 is i's child (own entries end where the child's begin)
 * or lies past i's subtree (entries are contiguous in preorder). Two stored
 * prefixes overlap exactly when one is an ancestor-or-self of the other.
 *
 * ENTRY LEVEL (one pass, ancestor stack of at most 129 entry-bearing nodes):
 *
 *     overlapping_entry_pairs = sum over nodes of
 *                               C(own, 2) + own * (subtree - own)
 *
 * (pairs at one prefix, and every entry with each entry strictly below it);
 * a node with own entries and no entry-bearing ancestor is top-level, and
 * it tops a cluster when its subtree holds >= 2 entries.
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
 * Concurrency: none inside; reads only. Tests: tests/test_audit.c
 * (differential against a brute-force pairwise comparison of all live
 * blocks on seeded estates and the real-prefix dataset; heap vs file).
 */
#include "query/audit_internal.h"

#include "core/error_internal.h"
#include "image/snapshot_internal.h"

#include <cidrscope/estate.h>

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* VPCs with more tops than this are counted by walking (see above). */
#define BIG_TOPS 10

/* ---- severities and reused ranges ------------------------------------------ */

static const char *const sev_names[CS_SEV_COUNT] = {"critical", "high", "medium",
                                                    "informational"};

static const char *const sev_expl[CS_SEV_COUNT] = {
    "Critical: the two VPCs are peered, or both peered to a common hub VPC; "
    "routing between overlapping ranges is ambiguous and replies can reach "
    "the wrong VPC.",
    "High: the two VPCs are in the same account or the same region; the "
    "overlap blocks any future peering or transit routing between them.",
    "Medium: every other overlap between two VPCs; harmless until someone "
    "connects them, which the overlap then forbids.",
    "Informational: both are default VPCs, or they overlap only inside a "
    "reused range (100.64.0.0/10, 198.18.0.0/15); expected, and summarised.",
};

const char *cs_severity_name(unsigned sev)
{
    return sev < CS_SEV_COUNT ? sev_names[sev] : "?";
}

const char *cs_severity_explanation(unsigned sev)
{
    return sev < CS_SEV_COUNT ? sev_expl[sev] : "?";
}

int cs_severity_parse(const char *s, size_t len)
{
    for (unsigned i = 0; i < CS_SEV_COUNT; i++)
        if (strlen(sev_names[i]) == len && memcmp(s, sev_names[i], len) == 0)
            return (int)i;
    if (len == 4 && memcmp(s, "info", 4) == 0)
        return CS_SEV_INFO;
    return CS_EPARSE;
}

/* RFC 6598 shared address space (EKS custom networking reuses it in every
 * VPC) and RFC 2544 benchmarking space. */
static const cs_prefix reused_ranges[] = {
    {0x6440000000000000ull, 0, 10, CS_AF_V4}, /* 100.64.0.0/10 */
    {0xc612000000000000ull, 0, 15, CS_AF_V4}, /* 198.18.0.0/15 */
};

const cs_prefix *cs_audit_reused_ranges(size_t *n)
{
    if (n)
        *n = sizeof reused_ranges / sizeof *reused_ranges;
    return reused_ranges;
}

static bool prefix_reused(const cs_prefix *p)
{
    for (size_t i = 0; i < sizeof reused_ranges / sizeof *reused_ranges; i++)
        if (cs_prefix_contains(&reused_ranges[i], p))
            return true;
    return false;
}

/* ---- growable arrays --------------------------------------------------------- */

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 64;
    while (nc < need)
        nc *= 2;
    void *np = realloc(*p, nc * elem);
    if (!np)
        return CS_ENOMEM;
    *p = np;
    *cap = nc;
    return 0;
}

#define GROW(arr, n, cap, need) grow((void **)&(arr), &(cap), (need), sizeof *(arr))

static uint64_t choose2(uint64_t n)
{
    return n < 2 ? 0 : n * (n - 1) / 2;
}

/* ---- the audit context ---------------------------------------------------------- */

enum { VF_DEFAULT = 1, VF_SCOPE = 2, VF_PSEUDO = 4 };

typedef struct vinfo {
    uint32_t account;
    uint32_t region;
    uint32_t acc_reg;   /* dense id of (account, region) */
    uint8_t flags;      /* VF_* */
} vinfo;

/* Block filters: every live block, or the blocks outside reused ranges. */
enum { F_ALL = 0, F_NONREUSED = 1, F_COUNT = 2 };

typedef struct actx {
    const cs_snapshot *s;
    const cs_audit_options *o;
    cs_audit_result *r;
    cs_error *err;
    const cs_famview *fv[2];
    uint32_t n_nodes[2], n_ent[2];
    uint32_t node_off[2];   /* global node id = node_off[fam] + node */
    uint32_t ent_off[2];    /* global entry id = ent_off[fam] + entry */
    uint32_t gn, ge;        /* global nodes, entries */
    bool estate;
    bool scoped;            /* a scope filter is active */

    /* VPC level */
    uint32_t n_vpcs, n_assocs, n_accreg, n_regions;
    const uint32_t *a2v;
    vinfo *v;
    uint32_t *ent_vpc;      /* per global entry: its VPC, CS_IDX_NONE out of
                               scope */
    uint32_t *ent_node;     /* per global entry: its global node */
    uint32_t *gnend;        /* per entry-bearing global node: the first
                               entry-bearing node past its subtree */
    uint32_t *gup;          /* per global node: nearest strict ancestor with
                               own entries, CS_NO_NODE */
    uint8_t *greused;       /* per global node: prefix in a reused range */
    uint32_t *blk_off;      /* per VPC: its live in-scope entries */
    uint32_t *blk;          /*   blk[blk_off[v] .. blk_off[v+1]), ascending */
    uint32_t *top_off[F_COUNT]; /* per VPC and filter: its tops */
    uint32_t *top[F_COUNT];
    uint8_t *topinc[F_COUNT];   /* per global entry: first entry of its VPC
                                   at one of the VPC's tops */
    uint32_t max_blk;       /* most blocks of one VPC */
    uint32_t *stk_a, *stk_b;/* witness-walk stacks, max_blk each */
    uint32_t *group_of;     /* per global node: its group index, or NONE */
    uint32_t *nvpc;         /* per global node: distinct VPCs in scope among
                               its own entries (1 = solo, >= 2 = a group) */
    uint32_t *onevpc;       /* per global node: that VPC when nvpc == 1 */
    uint32_t *psin;         /* prefix sums over global entries of in scope */
    uint32_t *gm_off;       /* per group: its VPCs gm[gm_off[i]..gm_off[i+1]) */
    uint32_t *gm;           /*   ascending (so accounts come in runs) */
    uint32_t *gm_nd;        /* nondefault VPCs among gm[0..k) */
    uint32_t *gr_off;       /* per group: its region counts */
    struct rcount *grc;
    uint32_t *gstamp;       /* per group: last critical pair counted */
    uint32_t *vstamp;       /* per VPC: listing stamps */
    uint32_t epoch;
} actx;

static inline uint32_t gfam(const actx *c, uint32_t g)
{
    return g >= c->node_off[1] && c->n_nodes[1] ? 1u : 0u;
}

/* Entry ranges of global node g in global entry ids: own [b, oe), subtree
 * [b, e). */
static inline void node_range(const actx *c, uint32_t g, uint32_t *b,
                              uint32_t *oe, uint32_t *e)
{
    unsigned f = gfam(c, g);
    uint32_t i = g - c->node_off[f];
    const cs_cold *cold = c->fv[f]->cold;
    uint32_t n = c->n_nodes[f];
    *b = cold[i].ent_begin + c->ent_off[f];
    *e = cold[i].ent_end + c->ent_off[f];
    *oe = (i + 1 < n ? cold[i + 1].ent_begin : cold[i].ent_end) + c->ent_off[f];
}

static inline cs_prefix gprefix(const actx *c, uint32_t g)
{
    unsigned f = gfam(c, g);
    return snap_node_prefix(c->fv[f], f, g - c->node_off[f]);
}

/* y in the subtree of x (x itself included); both entry-bearing. */
static inline bool in_sub(const actx *c, uint32_t x, uint32_t y)
{
    return x <= y && y < c->gnend[x];
}

static inline bool comparable(const actx *c, uint32_t x, uint32_t y)
{
    return in_sub(c, x, y) || in_sub(c, y, x);
}

static inline const uint32_t *tops_of(const actx *c, int F, uint32_t v,
                                      uint32_t *n)
{
    *n = c->top_off[F][v + 1] - c->top_off[F][v];
    return c->top[F] + c->top_off[F][v];
}

static void actx_free(actx *c)
{
    free(c->v);
    free(c->ent_vpc);
    free(c->ent_node);
    free(c->gnend);
    free(c->gup);
    free(c->greused);
    free(c->blk_off);
    free(c->blk);
    free(c->stk_a);
    free(c->stk_b);
    free(c->group_of);
    free(c->nvpc);
    free(c->onevpc);
    free(c->psin);
    free(c->gm_off);
    free(c->gm);
    free(c->gm_nd);
    free(c->gr_off);
    free(c->grc);
    free(c->gstamp);
    free(c->vstamp);
    for (int F = 0; F < F_COUNT; F++) {
        free(c->top_off[F]);
        free(c->top[F]);
        free(c->topinc[F]);
    }
}

/* ---- entry level: one pass over the node records ------------------------------- */

static int add_cluster(cs_audit_result *r, const cs_prefix *top, uint32_t first,
                       uint32_t span, uint32_t entries)
{
    if (GROW(r->clusters, r->n_clusters, r->cap_clusters, r->n_clusters + 1))
        return CS_ENOMEM;
    cs_audit_cluster *cl = &r->clusters[r->n_clusters++];
    memset(cl, 0, sizeof *cl);
    cl->top = *top;
    cl->first_entry = first;
    cl->span = span;
    cl->entries = entries;
    return 0;
}

/*
 * Entry-level figures and clusters of family f. `ps` (NULL = every entry
 * counts) is a prefix sum over the family's entries of "in scope": then
 * own and subtree counts are differences of it and the structure is the
 * same. The stack holds entry-bearing ancestors (at most 33 or 129: their
 * lengths strictly increase); a node is under the stack top while its first
 * entry is before the top's subtree end.
 */
static int entry_pass(actx *c, unsigned f, const uint32_t *ps)
{
    const cs_famview *fv = c->fv[f];
    cs_audit_result *r = c->r;
    uint32_t n = fv->n_nodes;
    const cs_cold *cold = fv->cold;
    if (fv->n_entries == 0 || n == 0)
        return 0;
    uint32_t st_end[130];
    uint32_t st_depth[130];
    unsigned sp = 0;
    size_t cur = SIZE_MAX; /* the cluster being filled */
    uint64_t pairs = 0, prefixes = 0, entries = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t b = cold[i].ent_begin, e = cold[i].ent_end;
        uint32_t oe = i + 1 < n ? cold[i + 1].ent_begin : e;
        uint64_t own = oe - b, sub = e - b;
        if (ps) {
            own = ps[oe] - ps[b];
            sub = ps[e] - ps[b];
        }
        if (own == 0)
            continue;
        while (sp && b >= st_end[sp - 1])
            sp--;
        uint64_t np = own * (own - 1) / 2 + own * (sub - own);
        pairs += np;
        prefixes++;
        entries += own;
        uint32_t depth = sp ? st_depth[sp - 1] + 1 : 1;
        if (sp == 0) {
            cur = SIZE_MAX;
            if (sub >= 2) {
                cs_prefix p = snap_node_prefix(fv, f, i);
                if (add_cluster(r, &p, b, e - b, (uint32_t)sub))
                    return CS_ENOMEM;
                cur = r->n_clusters - 1;
                r->sum.entries_in_clusters += sub;
            }
        }
        if (cur != SIZE_MAX) {
            cs_audit_cluster *cl = &r->clusters[cur];
            cl->prefixes++;
            cl->entry_pairs += np;
            if (depth > cl->depth)
                cl->depth = depth;
            if (depth > r->sum.max_nesting)
                r->sum.max_nesting = depth;
        }
        if (sp < 130) {
            st_end[sp] = e;
            st_depth[sp] = depth;
            sp++;
        }
    }
    r->sum.overlapping_entry_pairs += pairs;
    r->sum.prefixes += prefixes;
    r->sum.entries += entries;
    r->sum.entries_by_family[f] += entries;
    return 0;
}

/* ---- VPC level: the context ------------------------------------------------------- */

static bool vpc_has_tag(const cs_snapshot *s, const cs_vpc *vp, const cs_audit_tag *t)
{
    for (uint32_t k = 0; k < vp->tag_count; k++) {
        const char *key, *val;
        if (cs_estate_tag(s, vp->tag_begin + k, &key, &val) != 0)
            continue;
        if (strcmp(key, t->key ? t->key : "") == 0 &&
            strcmp(val, t->value ? t->value : "") == 0)
            return true;
    }
    return false;
}

/* Per-VPC facts and the scope. */
static int build_vpcs(actx *c)
{
    const cs_audit_options *o = c->o;
    cs_estate_counts ec;
    cs_estate_counts_get(c->s, &ec);
    c->n_vpcs = ec.vpcs;
    c->n_regions = ec.regions;
    c->n_assocs = 0;
    c->a2v = cs_estate_assoc_vpc_map(c->s, &c->n_assocs);
    c->v = calloc(c->n_vpcs ? c->n_vpcs : 1, sizeof *c->v);
    if (!c->v)
        return CS_ENOMEM;

    /* Accounts and regions named by the scope, as index sets. */
    uint8_t *acc_ok = NULL, *reg_ok = NULL;
    if (o->account_count) {
        acc_ok = calloc(ec.accounts ? ec.accounts : 1, 1);
        if (!acc_ok)
            return CS_ENOMEM;
        for (size_t i = 0; i < o->account_count; i++) {
            uint32_t idx;
            const char *a = o->accounts[i] ? o->accounts[i] : "";
            if (cs_estate_account_find(c->s, a, strlen(a), &idx) == 1 && idx < ec.accounts)
                acc_ok[idx] = 1;
        }
    }
    if (o->region_count) {
        reg_ok = calloc(ec.regions ? ec.regions : 1, 1);
        if (!reg_ok) {
            free(acc_ok);
            return CS_ENOMEM;
        }
        for (uint32_t ri = 0; ri < ec.regions; ri++) {
            cs_region rg;
            if (cs_estate_region(c->s, ri, &rg) != 0)
                continue;
            for (size_t i = 0; i < o->region_count; i++)
                if (o->regions[i] && strcmp(o->regions[i], rg.name) == 0)
                    reg_ok[ri] = 1;
        }
    }
    /* A region named "" is unknown: never "the same region" as another. */
    uint8_t *reg_known = calloc(ec.regions ? ec.regions : 1, 1);
    if (!reg_known) {
        free(acc_ok);
        free(reg_ok);
        return CS_ENOMEM;
    }
    for (uint32_t ri = 0; ri < ec.regions; ri++) {
        cs_region rg;
        reg_known[ri] = cs_estate_region(c->s, ri, &rg) == 0 && rg.name[0];
    }
    uint32_t prev_acc = UINT32_MAX, prev_reg = UINT32_MAX, accreg = 0;
    uint64_t in_scope = 0, defaults = 0;
    for (uint32_t v = 0; v < c->n_vpcs; v++) {
        cs_vpc vp;
        vinfo *vi = &c->v[v];
        if (cs_estate_vpc(c->s, v, &vp) != 0)
            continue;
        vi->account = vp.account_idx;
        vi->region = vp.region_idx;
        /* VPCs are sorted by (account, region, id): equal pairs are
         * consecutive, so a dense id is a running count. */
        if (v == 0 || vp.account_idx != prev_acc || vp.region_idx != prev_reg)
            accreg = v == 0 ? 0 : accreg + 1;
        prev_acc = vp.account_idx;
        prev_reg = vp.region_idx;
        vi->acc_reg = accreg;
        if (vp.region_idx >= ec.regions || !reg_known[vp.region_idx]) {
            vi->region = CS_IDX_NONE;
            vi->acc_reg = CS_IDX_NONE;
        }
        vi->flags = (vp.is_default ? VF_DEFAULT : 0) | (vp.pseudo ? VF_PSEUDO : 0);
        bool ok = true;
        if (acc_ok && (vp.account_idx >= ec.accounts || !acc_ok[vp.account_idx]))
            ok = false;
        if (ok && reg_ok && (vp.region_idx >= ec.regions || !reg_ok[vp.region_idx]))
            ok = false;
        for (size_t t = 0; ok && t < o->tag_count; t++)
            ok = vpc_has_tag(c->s, &vp, &o->tags[t]);
        if (ok) {
            vi->flags |= VF_SCOPE;
            in_scope++;
            defaults += vp.is_default;
        }
    }
    c->n_accreg = c->n_vpcs ? accreg + 1 : 0;
    free(reg_known);
    free(acc_ok);
    free(reg_ok);
    c->r->sum.vpcs = in_scope;
    c->r->sum.default_vpcs = defaults;

    /* Accounts and regions owning the VPCs in scope. */
    uint8_t *seen_a = calloc(ec.accounts ? ec.accounts : 1, 1);
    uint8_t *seen_r = calloc(ec.regions ? ec.regions : 1, 1);
    if (!seen_a || !seen_r) {
        free(seen_a);
        free(seen_r);
        return CS_ENOMEM;
    }
    for (uint32_t v = 0; v < c->n_vpcs; v++) {
        if (!(c->v[v].flags & VF_SCOPE))
            continue;
        if (c->v[v].account < ec.accounts && !seen_a[c->v[v].account]) {
            seen_a[c->v[v].account] = 1;
            c->r->sum.accounts++;
        }
        if (c->v[v].region < ec.regions && !seen_r[c->v[v].region]) {
            seen_r[c->v[v].region] = 1;
            c->r->sum.regions++;
        }
    }
    free(seen_a);
    free(seen_r);

    if (c->scoped) {
        c->r->in_scope = malloc(c->n_vpcs ? c->n_vpcs : 1);
        if (!c->r->in_scope)
            return CS_ENOMEM;
        for (uint32_t v = 0; v < c->n_vpcs; v++)
            c->r->in_scope[v] = (c->v[v].flags & VF_SCOPE) != 0;
        c->r->n_vpcs = c->n_vpcs;
    }
    return 0;
}

/* Global entry/node tables, the ancestor links, every VPC's blocks and
 * tops. */
static int build_tables(actx *c)
{
    c->ent_vpc = malloc((size_t)(c->ge ? c->ge : 1) * sizeof *c->ent_vpc);
    c->ent_node = malloc((size_t)(c->ge ? c->ge : 1) * sizeof *c->ent_node);
    c->gnend = malloc((size_t)(c->gn ? c->gn : 1) * sizeof *c->gnend);
    c->gup = malloc((size_t)(c->gn ? c->gn : 1) * sizeof *c->gup);
    c->greused = calloc(c->gn ? c->gn : 1, 1);
    c->blk_off = calloc((size_t)c->n_vpcs + 1, sizeof *c->blk_off);
    if (!c->ent_vpc || !c->ent_node || !c->gnend || !c->gup || !c->greused || !c->blk_off)
        return CS_ENOMEM;
    for (unsigned f = 0; f < 2; f++) {
        const cs_famview *fv = c->fv[f];
        uint32_t eo = c->ent_off[f], no = c->node_off[f];
        for (uint32_t e = 0; e < c->n_ent[f]; e++) {
            uint32_t a = fv->values[e];
            uint32_t v = a < c->n_assocs ? c->a2v[a] : CS_IDX_NONE;
            if (v >= c->n_vpcs || !(c->v[v].flags & VF_SCOPE))
                v = CS_IDX_NONE;
            c->ent_vpc[eo + e] = v;
            c->ent_node[eo + e] = no + fv->entnode[e];
            if (v != CS_IDX_NONE)
                c->blk_off[v + 1]++;
        }
        /* Ancestor links and subtree ends over entry-bearing nodes. */
        uint32_t st_g[130], st_e[130];
        unsigned sp = 0;
        const cs_cold *cold = fv->cold;
        uint32_t n = c->n_nodes[f];
        for (uint32_t i = 0; i < n; i++) {
            uint32_t g = no + i;
            c->gup[g] = CS_NO_NODE;
            c->gnend[g] = g + 1;
            uint32_t b = cold[i].ent_begin, e = cold[i].ent_end;
            uint32_t oe = i + 1 < n ? cold[i + 1].ent_begin : e;
            if (oe == b)
                continue;
            while (sp && b >= st_e[sp - 1])
                c->gnend[st_g[--sp]] = g;
            c->gup[g] = sp ? st_g[sp - 1] : CS_NO_NODE;
            if (f == 0) {
                cs_prefix p = snap_node_prefix(fv, f, i);
                c->greused[g] = prefix_reused(&p);
            }
            if (sp < 130) {
                st_g[sp] = g;
                st_e[sp] = e;
                sp++;
            }
        }
        while (sp)
            c->gnend[st_g[--sp]] = no + n;
    }
    for (uint32_t v = 0; v < c->n_vpcs; v++) {
        if (c->blk_off[v + 1] > c->max_blk)
            c->max_blk = c->blk_off[v + 1];
        c->blk_off[v + 1] += c->blk_off[v];
    }
    uint32_t nb = c->blk_off[c->n_vpcs];
    c->stk_a = malloc(((size_t)c->max_blk + 1) * sizeof *c->stk_a);
    c->stk_b = malloc(((size_t)c->max_blk + 1) * sizeof *c->stk_b);
    c->vstamp = calloc((size_t)c->n_vpcs + 1, sizeof *c->vstamp);
    if (!c->stk_a || !c->stk_b || !c->vstamp)
        return CS_ENOMEM;
    c->blk = malloc((size_t)(nb ? nb : 1) * sizeof *c->blk);
    uint32_t *fill = malloc((size_t)(c->n_vpcs ? c->n_vpcs : 1) * sizeof *fill);
    if (!c->blk || !fill) {
        free(fill);
        return CS_ENOMEM;
    }
    memcpy(fill, c->blk_off, (size_t)c->n_vpcs * sizeof *fill);
    for (uint32_t ge = 0; ge < c->ge; ge++)
        if (c->ent_vpc[ge] != CS_IDX_NONE)
            c->blk[fill[c->ent_vpc[ge]]++] = ge;
    free(fill);

    /* Tops: blocks come in node preorder, so a block is under an earlier
     * top exactly when it is under the last one. */
    for (int F = 0; F < F_COUNT; F++) {
        c->top_off[F] = calloc((size_t)c->n_vpcs + 1, sizeof(uint32_t));
        c->top[F] = malloc((size_t)(nb ? nb : 1) * sizeof(uint32_t));
        c->topinc[F] = calloc(c->ge ? c->ge : 1, 1);
        if (!c->top_off[F] || !c->top[F] || !c->topinc[F])
            return CS_ENOMEM;
        uint32_t nt = 0;
        for (uint32_t v = 0; v < c->n_vpcs; v++) {
            c->top_off[F][v] = nt;
            uint32_t last = CS_NO_NODE;
            for (uint32_t k = c->blk_off[v]; k < c->blk_off[v + 1]; k++) {
                uint32_t ge = c->blk[k], g = c->ent_node[ge];
                if (F == F_NONREUSED && c->greused[g])
                    continue;
                if (last != CS_NO_NODE && g < c->gnend[last])
                    continue;
                c->top[F][nt++] = g;
                c->topinc[F][ge] = 1;
                last = g;
            }
        }
        c->top_off[F][c->n_vpcs] = nt;
    }
    return 0;
}

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
static void relate(const actx *c, const uint32_t *ta, uint32_t la,
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
                        relate(c, TA, ta, TB, tb, k->tstar[b], &e, &nn, &from_b);
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

typedef struct sev_counts {
    uint64_t all, nondefault, nonreused, nonreused_dd;
    uint64_t same_ar_noninfo;   /* same account or region, not informational */
} sev_counts;

static int count_severities(actx *c, sev_counts *sc)
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

/* ---- pairs: classification ------------------------------------------------------- */

static inline uint32_t ent_assoc(const actx *c, uint32_t ge)
{
    unsigned f = ge >= c->ent_off[1] && c->n_ent[1] ? 1u : 0u;
    return c->fv[f]->values[ge - c->ent_off[f]];
}

/* What the block pairs of VPCs a < b say. */
typedef struct pclass {
    uint32_t block_pairs;
    uint32_t nwit;
    cs_audit_witness wit[CS_AUDIT_MAX_WITNESSES];
    bool nonreused;      /* some pair's inner block is outside reused ranges */
    bool ident_any;
    bool nested;
    bool solo;           /* some pair joins two prefixes held by one VPC each */
} pclass;

/*
 * Every overlapping (block of a, block of b) pair, by a sweep over both
 * block lists in node order with a stack of open blocks per side: a block
 * arriving overlaps exactly the other side's open blocks (those whose
 * subtree holds it). Output-linear. When `peered` (the serial of a critical
 * pair) is not CS_IDX_NONE, every group one of the pair's overlapping
 * blocks sits at gets one more peered pair.
 */
static void peered_group(actx *c, uint32_t g, uint32_t peered)
{
    uint32_t gi = c->group_of ? c->group_of[g] : CS_IDX_NONE;
    if (gi == CS_IDX_NONE || c->gstamp[gi] == peered)
        return;
    c->gstamp[gi] = peered;
    c->r->groups[gi].peered_pairs++;
}

static void witness_walk(actx *c, uint32_t a, uint32_t b, pclass *pc, uint32_t peered)
{
    memset(pc, 0, sizeof *pc);
    const uint32_t *A = c->blk + c->blk_off[a], *B = c->blk + c->blk_off[b];
    uint32_t na = c->blk_off[a + 1] - c->blk_off[a];
    uint32_t nb = c->blk_off[b + 1] - c->blk_off[b];
    uint32_t ia = 0, ib = 0, spa = 0, spb = 0;
    while (ia < na || ib < nb) {
        bool from_a = ib == nb || (ia < na && c->ent_node[A[ia]] <= c->ent_node[B[ib]]);
        uint32_t x = from_a ? A[ia++] : B[ib++];
        uint32_t g = c->ent_node[x];
        while (spa && g >= c->gnend[c->ent_node[c->stk_a[spa - 1]]])
            spa--;
        while (spb && g >= c->gnend[c->ent_node[c->stk_b[spb - 1]]])
            spb--;
        uint32_t nopen = from_a ? spb : spa;
        const uint32_t *open = from_a ? c->stk_b : c->stk_a;
        for (uint32_t q = 0; q < nopen; q++) {
            uint32_t xa = from_a ? x : open[q], xb = from_a ? open[q] : x;
            uint32_t ga = c->ent_node[xa], gb = c->ent_node[xb];
            uint32_t inner = ga > gb ? ga : gb;
            pc->block_pairs++;
            if (!c->greused[inner])
                pc->nonreused = true;
            if (ga == gb) {
                pc->ident_any = true;
            } else {
                pc->nested = true;
                if (c->nvpc[ga] == 1 && c->nvpc[gb] == 1)
                    pc->solo = true;
            }
            if (peered != CS_IDX_NONE) {
                peered_group(c, ga, peered);
                peered_group(c, gb, peered);
            }
            if (pc->nwit < CS_AUDIT_MAX_WITNESSES) {
                pc->wit[pc->nwit].assoc_a = ent_assoc(c, xa);
                pc->wit[pc->nwit].assoc_b = ent_assoc(c, xb);
                pc->nwit++;
            }
        }
        if (from_a)
            c->stk_a[spa++] = x;
        else
            c->stk_b[spb++] = x;
    }
}

/* Severity and reasons of an overlapping pair a < b. */
static void pair_severity(const actx *c, uint32_t a, uint32_t b, const pclass *pc,
                          bool critical, cs_audit_pair *p)
{
    const vinfo *va = &c->v[a], *vb = &c->v[b];
    uint32_t why = 0;
    if ((va->flags & VF_DEFAULT) && (vb->flags & VF_DEFAULT))
        why |= CS_WHY_DEFAULT_ONLY;
    if (!pc->nonreused)
        why |= CS_WHY_REUSED_ONLY;
    if (va->account == vb->account && va->account != CS_IDX_NONE)
        why |= CS_WHY_SAME_ACCOUNT;
    if (va->region == vb->region && va->region != CS_IDX_NONE)
        why |= CS_WHY_SAME_REGION;
    if (pc->nested)
        why |= CS_WHY_NESTED;
    if (pc->ident_any)
        why |= CS_WHY_IDENTICAL;
    p->why |= why;
    if (critical)
        p->severity = CS_SEV_CRITICAL;
    else if (why & (CS_WHY_DEFAULT_ONLY | CS_WHY_REUSED_ONLY))
        p->severity = CS_SEV_INFO;
    else if (why & (CS_WHY_SAME_ACCOUNT | CS_WHY_SAME_REGION))
        p->severity = CS_SEV_HIGH;
    else
        p->severity = CS_SEV_MEDIUM;
    p->vpc_a = a;
    p->vpc_b = b;
    p->block_pairs = pc->block_pairs;
    p->witness_count = pc->nwit;
}

/* Appends a pair record (and its witnesses) to the listed pairs or to the
 * domain pairs. */
static int push_pair(cs_audit_result *r, bool domain, const cs_audit_pair *p,
                     const pclass *pc)
{
    audit_pair_rec **arr = domain ? &r->dpairs : &r->pairs;
    size_t *n = domain ? &r->n_dpairs : &r->n_pairs;
    size_t *cap = domain ? &r->cap_dpairs : &r->cap_pairs;
    cs_audit_witness **w = domain ? &r->dwit : &r->wit;
    size_t *nw = domain ? &r->n_dwit : &r->n_wit;
    size_t *wcap = domain ? &r->cap_dwit : &r->cap_wit;
    if (grow((void **)arr, cap, *n + 1, sizeof **arr) ||
        grow((void **)w, wcap, *nw + pc->nwit, sizeof **w))
        return CS_ENOMEM;
    audit_pair_rec *rec = &(*arr)[(*n)++];
    rec->p = *p;
    rec->wit_begin = *nw;
    if (pc->nwit)
        memcpy(*w + *nw, pc->wit, pc->nwit * sizeof *pc->wit);
    *nw += pc->nwit;
    return 0;
}

/* ---- pairs: a set keyed by (a, b) ---------------------------------------------------- */

typedef struct pairset {
    uint64_t *key;   /* (a << 32 | b) + 1; 0 = empty */
    uint32_t *val;
    size_t cap, n;
} pairset;

static uint64_t pkey(uint32_t a, uint32_t b)
{
    return ((uint64_t)a << 32 | b) + 1;
}

static size_t pslot(const pairset *ps, uint64_t k)
{
    size_t mask = ps->cap - 1;
    size_t i = (size_t)(XXH3_64bits(&k, sizeof k) & mask);
    while (ps->key[i] && ps->key[i] != k)
        i = (i + 1) & mask;
    return i;
}

/* The value stored for (a, b), or CS_IDX_NONE. */
static uint32_t pairset_get(const pairset *ps, uint32_t a, uint32_t b)
{
    if (!ps->cap)
        return CS_IDX_NONE;
    size_t i = pslot(ps, pkey(a, b));
    return ps->key[i] ? ps->val[i] : CS_IDX_NONE;
}

static int pairset_put(pairset *ps, uint32_t a, uint32_t b, uint32_t val)
{
    if (2 * (ps->n + 1) > ps->cap) {
        size_t nc = ps->cap ? ps->cap * 2 : 64;
        uint64_t *nk = calloc(nc, sizeof *nk);
        uint32_t *nv = malloc(nc * sizeof *nv);
        if (!nk || !nv) {
            free(nk);
            free(nv);
            return CS_ENOMEM;
        }
        pairset old = *ps;
        ps->key = nk;
        ps->val = nv;
        ps->cap = nc;
        for (size_t i = 0; i < old.cap; i++) {
            if (!old.key[i])
                continue;
            size_t j = pslot(ps, old.key[i]);
            ps->key[j] = old.key[i];
            ps->val[j] = old.val[i];
        }
        free(old.key);
        free(old.val);
    }
    size_t i = pslot(ps, pkey(a, b));
    if (!ps->key[i])
        ps->n++;
    ps->key[i] = pkey(a, b);
    ps->val[i] = val;
    return 0;
}

static void pairset_free(pairset *ps)
{
    free(ps->key);
    free(ps->val);
    memset(ps, 0, sizeof *ps);
}

/* ---- identical-prefix groups ------------------------------------------------------- */

/* How many VPCs of a group are in one region, and how many are not default
 * VPCs. */
typedef struct rcount {
    uint32_t region, all, nd;
} rcount;

static int cmp_rcount(const void *x, const void *y)
{
    uint32_t a = ((const rcount *)x)->region, b = ((const rcount *)y)->region;
    return a < b ? -1 : a > b;
}

/* Same-account, same-region and same-(account, region) pairs among the VPCs
 * vs[0..n) (ascending, so accounts and (account, region) come in runs);
 * `only_default` restricts to default VPCs. rcnt: a zeroed count per
 * region, left zeroed. */
static void same_pairs(const actx *c, const uint32_t *vs, uint32_t n, bool only_default,
                       uint32_t *rcnt, uint64_t *sa, uint64_t *sr, uint64_t *sar)
{
    uint64_t a = 0, r = 0, ar = 0;
    uint32_t run_a = 0, run_ar = 0;
    uint32_t prev_acc = CS_IDX_NONE, prev_ar = CS_IDX_NONE;
    for (uint32_t i = 0; i <= n; i++) {
        const vinfo *vi = NULL;
        if (i < n) {
            vi = &c->v[vs[i]];
            if (only_default && !(vi->flags & VF_DEFAULT))
                continue;
        }
        uint32_t acc = vi ? vi->account : CS_IDX_NONE;
        uint32_t arg = vi ? vi->acc_reg : CS_IDX_NONE;
        if (acc != prev_acc) {
            if (prev_acc != CS_IDX_NONE)
                a += choose2(run_a);
            run_a = 0;
            prev_acc = acc;
        }
        run_a++;
        if (arg != prev_ar) {
            if (prev_ar != CS_IDX_NONE)
                ar += choose2(run_ar);
            run_ar = 0;
            prev_ar = arg;
        }
        run_ar++;
        if (vi && vi->region != CS_IDX_NONE)
            r += rcnt[vi->region]++; /* pairs with the earlier ones */
    }
    for (uint32_t i = 0; i < n; i++) {
        const vinfo *vi = &c->v[vs[i]];
        if (vi->region != CS_IDX_NONE)
            rcnt[vi->region] = 0;
    }
    *sa = a;
    *sr = r;
    *sar = ar;
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
 * Groups: every node whose own entries belong to >= 2 VPCs in scope. Pass
 * one finds them, their members and sharing counts; pass two weighs the
 * pairs each group represents through nesting: the entry-bearing nodes
 * strictly above it (at most 129) and strictly below it (stopping as soon
 * as one pair is high, the worst a non-peered pair can be). A descendant
 * lies in at most 129 groups' subtrees, so the work is linear in the nodes
 * times the depth.
 */
static int build_groups(actx *c)
{
    cs_audit_result *r = c->r;
    size_t gn = c->gn ? c->gn : 1;
    c->group_of = malloc(gn * sizeof *c->group_of);
    c->nvpc = calloc(gn, sizeof *c->nvpc);
    c->onevpc = malloc(gn * sizeof *c->onevpc);
    c->psin = malloc(((size_t)c->ge + 1) * sizeof *c->psin);
    uint32_t *rcnt = calloc((size_t)c->n_regions + 1, sizeof *rcnt);
    uint32_t *vs = malloc(((size_t)c->ge + 1) * sizeof *vs);
    size_t gm_cap = 0, goff_cap = 0, grc_cap = 0, groff_cap = 0;
    int rc = 0;
    if (!c->group_of || !c->nvpc || !c->onevpc || !c->psin || !rcnt || !vs) {
        rc = CS_ENOMEM;
        goto out;
    }
    c->psin[0] = 0;
    for (uint32_t ge = 0; ge < c->ge; ge++)
        c->psin[ge + 1] = c->psin[ge] + (c->ent_vpc[ge] != CS_IDX_NONE);
    uint32_t n_gm = 0, n_grc = 0;
    for (uint32_t g = 0; g < c->gn; g++) {
        c->group_of[g] = CS_IDX_NONE;
        c->onevpc[g] = CS_IDX_NONE;
        uint32_t b, oe, e;
        node_range(c, g, &b, &oe, &e);
        /* A prefix's entries are sorted by association, associations by
         * VPC: its VPCs come in ascending runs. */
        uint32_t n = 0, entries = 0, defaults = 0;
        for (uint32_t ge = b; ge < oe; ge++) {
            uint32_t v = c->ent_vpc[ge];
            if (v == CS_IDX_NONE)
                continue;
            entries++;
            if (n == 0 || vs[n - 1] != v) {
                vs[n++] = v;
                defaults += (c->v[v].flags & VF_DEFAULT) != 0;
            }
        }
        c->nvpc[g] = n;
        if (n == 1)
            c->onevpc[g] = vs[0];
        if (n < 2)
            continue;
        uint32_t gi = (uint32_t)r->n_groups;
        if (GROW(r->groups, r->n_groups, r->cap_groups, r->n_groups + 1) ||
            GROW(c->gm_off, 0, goff_cap, (size_t)gi + 2) ||
            GROW(c->gr_off, 0, groff_cap, (size_t)gi + 2) ||
            GROW(c->gm, 0, gm_cap, (size_t)n_gm + n) ||
            GROW(c->grc, 0, grc_cap, (size_t)n_grc + n)) {
            rc = CS_ENOMEM;
            goto out;
        }
        c->gm_off[gi] = n_gm;
        memcpy(c->gm + n_gm, vs, n * sizeof *vs);
        n_gm += n;
        c->gm_off[gi + 1] = n_gm;
        /* region counts: sorted (region, all, non-default) */
        c->gr_off[gi] = n_grc;
        uint32_t m = 0;
        for (uint32_t i = 0; i < n; i++) {
            const vinfo *vi = &c->v[vs[i]];
            if (vi->region == CS_IDX_NONE)
                continue;
            c->grc[n_grc + m].region = vi->region;
            c->grc[n_grc + m].all = 1;
            c->grc[n_grc + m].nd = !(vi->flags & VF_DEFAULT);
            m++;
        }
        qsort(c->grc + n_grc, m, sizeof *c->grc, cmp_rcount);
        uint32_t k = 0;
        for (uint32_t i = 0; i < m; i++) {
            rcount *x = &c->grc[n_grc + i];
            if (k && c->grc[n_grc + k - 1].region == x->region) {
                c->grc[n_grc + k - 1].all += x->all;
                c->grc[n_grc + k - 1].nd += x->nd;
            } else {
                c->grc[n_grc + k++] = *x;
            }
        }
        n_grc += k;
        c->gr_off[gi + 1] = n_grc;

        cs_audit_group *gr = &r->groups[gi];
        memset(gr, 0, sizeof *gr);
        gr->prefix = gprefix(c, g);
        unsigned f = gfam(c, g);
        gr->first_entry = b - c->ent_off[f];
        gr->span = oe - b;
        gr->entries = entries;
        gr->vpcs = n;
        gr->default_vpcs = defaults;
        gr->vpc_pairs = choose2(n);
        gr->reused = c->greused[g] != 0;
        uint64_t sa, sr, sar, dsa, dsr, dsar;
        same_pairs(c, vs, n, false, rcnt, &sa, &sr, &sar);
        same_pairs(c, vs, n, true, rcnt, &dsa, &dsr, &dsar);
        gr->same_account_pairs = sa;
        gr->same_region_pairs = sr;
        /* sharing pairs, judged at this prefix: informational when it is
         * reused or both VPCs are default ones */
        bool reused = c->greused[g] != 0;
        bool noninfo = !reused && defaults < n;
        bool high = !reused && (sa + sr - sar) - (dsa + dsr - dsar) > 0;
        gr->severity = high ? CS_SEV_HIGH : noninfo ? CS_SEV_MEDIUM : CS_SEV_INFO;
        c->group_of[g] = gi;
        r->n_groups++;
    }
    r->sum.groups = r->n_groups;
    c->gm_nd = malloc(((size_t)n_gm + 1) * sizeof *c->gm_nd);
    c->gstamp = malloc((r->n_groups + 1) * sizeof *c->gstamp);
    if (!c->gm_nd || !c->gstamp) {
        rc = CS_ENOMEM;
        goto out;
    }
    c->gm_nd[0] = 0;
    for (uint32_t k = 0; k < n_gm; k++)
        c->gm_nd[k + 1] = c->gm_nd[k] + !(c->v[c->gm[k]].flags & VF_DEFAULT);
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
    free(vs);
    return rc;
}

/* ---- critical pairs ------------------------------------------------------------------ */

/* Connections that route traffic or are about to: initiating-request,
 * pending-acceptance, provisioning, active. */
static bool pcx_live(uint8_t st)
{
    return st <= CS_PCX_ACTIVE;
}

static bool vpcs_overlap(const actx *c, uint32_t a, uint32_t b)
{
    uint32_t ta, tb, e, n;
    const uint32_t *TA = tops_of(c, F_ALL, a, &ta);
    const uint32_t *TB = tops_of(c, F_ALL, b, &tb);
    relate(c, TA, ta, TB, tb, CS_NO_NODE, &e, &n, NULL);
    return e + n > 0;
}

static bool vpc_ok(const actx *c, uint32_t v)
{
    return v < c->n_vpcs && (c->v[v].flags & VF_SCOPE);
}

static int add_critical(actx *c, pairset *crit, uint32_t a, uint32_t b,
                        uint32_t why, uint32_t pcx, uint32_t hub)
{
    uint32_t lo = a < b ? a : b, hi = a < b ? b : a;
    if (pairset_get(crit, lo, hi) != CS_IDX_NONE)
        return 0;
    pclass pc;
    witness_walk(c, lo, hi, &pc, (uint32_t)c->r->n_pairs);
    cs_audit_pair p;
    memset(&p, 0, sizeof p);
    p.why = why;
    p.peering_idx = pcx;
    p.hub_vpc = hub;
    pair_severity(c, lo, hi, &pc, true, &p);
    if (push_pair(c->r, false, &p, &pc) ||
        pairset_put(crit, lo, hi, (uint32_t)(c->r->n_pairs - 1)))
        return CS_ENOMEM;
    return 0;
}

typedef struct topinc {
    uint32_t g, v;
} topinc_t;

static int cmp_topinc(const void *x, const void *y)
{
    const topinc_t *a = x, *b = y;
    if (a->g != b->g)
        return a->g < b->g ? -1 : 1;
    return a->v < b->v ? -1 : a->v > b->v;
}

static int cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return a < b ? -1 : a > b;
}

/*
 * Critical pairs: every live connection between two overlapping VPCs in
 * scope; then, for every VPC H, the overlapping pairs among its live peers
 * (hub-and-spoke: both sides route to H, H cannot tell them apart). The
 * pairs among a hub's peers are found by one sweep over their tops in node
 * order with a stack of open tops, so a hub with many disjoint spokes costs
 * a sort, not a square.
 */
static int find_critical(actx *c, pairset *crit)
{
    cs_estate_counts ec;
    cs_estate_counts_get(c->s, &ec);
    for (uint32_t p = 0; p < ec.peerings; p++) {
        cs_peering pr;
        if (cs_estate_peering(c->s, p, &pr) != 0 || !pcx_live(pr.status))
            continue;
        uint32_t a = pr.requester.vpc_idx, b = pr.accepter.vpc_idx;
        if (!vpc_ok(c, a) || !vpc_ok(c, b) || a == b || !vpcs_overlap(c, a, b))
            continue;
        if (add_critical(c, crit, a, b, CS_WHY_PEERED, p, CS_IDX_NONE))
            return CS_ENOMEM;
    }
    uint32_t *peers = NULL;
    size_t peers_cap = 0;
    topinc_t *ti = NULL;
    size_t ti_cap = 0;
    uint32_t *stk = NULL;
    size_t stk_cap = 0;
    int rc = 0;
    for (uint32_t h = 0; h < c->n_vpcs && rc == 0; h++) {
        uint32_t np;
        const uint32_t *pl = cs_estate_vpc_peerings(c->s, h, &np);
        if (np < 2)
            continue;
        size_t n = 0;
        if (GROW(peers, n, peers_cap, np)) {
            rc = CS_ENOMEM;
            break;
        }
        for (uint32_t i = 0; i < np; i++) {
            cs_peering pr;
            if (cs_estate_peering(c->s, pl[i], &pr) != 0 || !pcx_live(pr.status))
                continue;
            uint32_t o = pr.requester.vpc_idx == h ? pr.accepter.vpc_idx
                                                    : pr.requester.vpc_idx;
            if (o != h && vpc_ok(c, o))
                peers[n++] = o;
        }
        if (n < 2)
            continue;
        qsort(peers, n, sizeof *peers, cmp_u32);
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (m == 0 || peers[m - 1] != peers[i])
                peers[m++] = peers[i];
        size_t nt = 0;
        for (size_t i = 0; i < m; i++)
            nt += c->top_off[F_ALL][peers[i] + 1] - c->top_off[F_ALL][peers[i]];
        if (GROW(ti, 0, ti_cap, nt) || GROW(stk, 0, stk_cap, nt)) {
            rc = CS_ENOMEM;
            break;
        }
        nt = 0;
        for (size_t i = 0; i < m; i++) {
            uint32_t t;
            const uint32_t *T = tops_of(c, F_ALL, peers[i], &t);
            for (uint32_t q = 0; q < t; q++) {
                ti[nt].g = T[q];
                ti[nt].v = peers[i];
                nt++;
            }
        }
        if (nt == 0)
            continue;
        qsort(ti, nt, sizeof *ti, cmp_topinc);
        size_t sp = 0;
        for (size_t i = 0; i < nt && rc == 0; i++) {
            while (sp && ti[i].g >= c->gnend[ti[stk[sp - 1]].g])
                sp--;
            for (size_t q = 0; q < sp && rc == 0; q++)
                if (ti[stk[q]].v != ti[i].v)
                    rc = add_critical(c, crit, ti[stk[q]].v, ti[i].v, CS_WHY_HUB,
                                      CS_IDX_NONE, h);
            stk[sp++] = (uint32_t)i;
        }
    }
    free(peers);
    free(ti);
    free(stk);
    if (rc)
        return rc;
    for (size_t i = 0; i < c->r->n_groups; i++)
        if (c->r->groups[i].peered_pairs) {
            c->r->groups[i].severity = CS_SEV_CRITICAL;
            c->r->groups[i].listed = true;
        }
    return 0;
}

/* ---- listed pairs and domains ------------------------------------------------------- */

typedef struct lister {
    actx *c;
    const pairset *crit;
    const uint8_t *member;  /* domain mode: membership per VPC; else NULL */
    bool incl_def, all_pairs;
    uint32_t a, ep;
    int rc;
} lister;

/* Can VPC v start the walk of a listed pair? */
static bool lister_enumerates(const lister *L, uint32_t v)
{
    if (L->member)
        return L->member[v];
    if (L->all_pairs && !L->incl_def)
        return (L->c->v[v].flags & (VF_SCOPE | VF_DEFAULT)) == VF_SCOPE;
    return (L->c->v[v].flags & VF_SCOPE) != 0;
}

static void consider(lister *L, uint32_t b)
{
    actx *c = L->c;
    uint32_t a = L->a;
    if (b == CS_IDX_NONE || b == a || c->vstamp[b] == L->ep || L->rc)
        return;
    c->vstamp[b] = L->ep;
    if (L->member && !L->member[b])
        return;
    /* A pair both of whose VPCs walk is listed from the smaller one. */
    if (lister_enumerates(L, b) && b < a)
        return;
    uint32_t lo = a < b ? a : b, hi = a < b ? b : a;
    uint32_t ci = pairset_get(L->crit, lo, hi);
    if (!L->member && ci != CS_IDX_NONE)
        return; /* listed already */
    pclass pc;
    witness_walk(c, lo, hi, &pc, CS_IDX_NONE);
    if (pc.block_pairs == 0)
        return;
    cs_audit_pair p;
    memset(&p, 0, sizeof p);
    p.peering_idx = CS_IDX_NONE;
    p.hub_vpc = CS_IDX_NONE;
    if (ci != CS_IDX_NONE) {
        const cs_audit_pair *cp = &c->r->pairs[ci].p;
        p.why = cp->why & (CS_WHY_PEERED | CS_WHY_HUB);
        p.peering_idx = cp->peering_idx;
        p.hub_vpc = cp->hub_vpc;
    }
    pair_severity(c, lo, hi, &pc, ci != CS_IDX_NONE, &p);
    if (!L->member) {
        bool shown = p.severity != CS_SEV_INFO || L->incl_def;
        if (!shown || !(L->all_pairs || pc.solo))
            return;
    }
    L->rc = push_pair(c->r, L->member != NULL, &p, &pc);
}

static void consider_range(lister *L, uint32_t b, uint32_t e)
{
    for (uint32_t ge = b; ge < e && !L->rc; ge++)
        consider(L, L->c->ent_vpc[ge]);
}

/*
 * From every VPC that can start a listed pair. Normally: from each of its
 * blocks held by it alone, the other solo prefixes strictly above and
 * strictly below (groups represent everything else), so the walk costs the
 * nested solo pairs plus the nodes passed over. With all-pairs and in
 * domains: every entry strictly above, at, and strictly below each block.
 */
static void consider_nodes(lister *L, uint32_t g)
{
    actx *c = L->c;
    for (uint32_t z = c->gup[g]; z != CS_NO_NODE && !L->rc; z = c->gup[z])
        if (c->nvpc[z] == 1)
            consider(L, c->onevpc[z]);
    for (uint32_t y = g + 1; y < c->gnend[g] && !L->rc; y++)
        if (c->nvpc[y] == 1)
            consider(L, c->onevpc[y]);
}

static int list_pairs(actx *c, const pairset *crit, const uint8_t *member)
{
    lister L;
    memset(&L, 0, sizeof L);
    L.c = c;
    L.crit = crit;
    L.member = member;
    L.incl_def = member || (c->r->flags & CS_AUDIT_INCLUDE_DEFAULT);
    L.all_pairs = member || (c->r->flags & CS_AUDIT_ALL_PAIRS);
    for (uint32_t a = 0; a < c->n_vpcs && !L.rc; a++) {
        if (!lister_enumerates(&L, a))
            continue;
        L.a = a;
        if (++c->epoch == UINT32_MAX) {
            memset(c->vstamp, 0, ((size_t)c->n_vpcs + 1) * sizeof *c->vstamp);
            c->epoch = 1;
        }
        L.ep = c->epoch;
        uint32_t last = CS_NO_NODE;
        for (uint32_t k = c->blk_off[a]; k < c->blk_off[a + 1] && !L.rc; k++) {
            uint32_t g = c->ent_node[c->blk[k]];
            if (g == last)
                continue;
            last = g;
            if (!L.all_pairs) {
                if (c->nvpc[g] == 1)
                    consider_nodes(&L, g);
                continue;
            }
            uint32_t b, oe, e;
            for (uint32_t z = c->gup[g]; z != CS_NO_NODE && !L.rc; z = c->gup[z]) {
                node_range(c, z, &b, &oe, &e);
                consider_range(&L, b, oe);
            }
            node_range(c, g, &b, &oe, &e);
            consider_range(&L, b, e);
        }
    }
    return L.rc;
}

static int cmp_pair(const void *x, const void *y)
{
    const cs_audit_pair *a = &((const audit_pair_rec *)x)->p;
    const cs_audit_pair *b = &((const audit_pair_rec *)y)->p;
    if (a->severity != b->severity)
        return a->severity < b->severity ? -1 : 1;
    if (a->vpc_a != b->vpc_a)
        return a->vpc_a < b->vpc_a ? -1 : 1;
    return a->vpc_b < b->vpc_b ? -1 : a->vpc_b > b->vpc_b;
}

static int audit_domains(actx *c, const pairset *crit)
{
    const cs_audit_options *o = c->o;
    cs_audit_result *r = c->r;
    if (!o->domain_count)
        return 0;
    r->domains = calloc(o->domain_count, sizeof *r->domains);
    uint8_t *member = calloc((size_t)c->n_vpcs + 1, 1);
    if (!r->domains || !member) {
        free(member);
        return CS_ENOMEM;
    }
    r->n_domains = o->domain_count;
    int rc = 0;
    for (size_t d = 0; d < o->domain_count && rc == 0; d++) {
        const cs_audit_domain *dm = &o->domains[d];
        audit_domain_rec *rec = &r->domains[d];
        const char *name = dm->name ? dm->name : "";
        rec->name = malloc(strlen(name) + 1);
        if (!rec->name) {
            rc = CS_ENOMEM;
            break;
        }
        strcpy(rec->name, name);
        for (size_t i = 0; i < dm->vpc_count; i++) {
            uint32_t v = dm->vpcs[i];
            if (vpc_ok(c, v) && !member[v]) {
                member[v] = 1;
                rec->vpcs++;
            }
        }
        rec->pair_begin = r->n_dpairs;
        rc = list_pairs(c, crit, member);
        rec->pair_end = r->n_dpairs;
        if (rec->pair_end > rec->pair_begin)
            qsort(r->dpairs + rec->pair_begin, rec->pair_end - rec->pair_begin,
                  sizeof *r->dpairs, cmp_pair);
        r->sum.domain_violations += rec->pair_end - rec->pair_begin;
        for (size_t i = 0; i < dm->vpc_count; i++)
            if (dm->vpcs[i] < c->n_vpcs)
                member[dm->vpcs[i]] = 0;
    }
    free(member);
    return rc;
}

/* Distinct VPCs of every cluster. */
static void cluster_vpcs(actx *c)
{
    cs_audit_result *r = c->r;
    for (size_t i = 0; i < r->n_clusters; i++) {
        cs_audit_cluster *cl = &r->clusters[i];
        unsigned f = cs_family_index(cl->top.family);
        uint32_t b = c->ent_off[f] + cl->first_entry;
        uint32_t ep = ++c->epoch;
        if (ep == UINT32_MAX) {
            memset(c->vstamp, 0, ((size_t)c->n_vpcs + 1) * sizeof *c->vstamp);
            ep = c->epoch = 1;
        }
        uint32_t n = 0;
        for (uint32_t ge = b; ge < b + cl->span && ge < c->ge; ge++) {
            uint32_t v = c->ent_vpc[ge];
            if (v != CS_IDX_NONE && c->vstamp[v] != ep) {
                c->vstamp[v] = ep;
                n++;
            }
        }
        cl->vpcs = n;
    }
}

/* ---- the run --------------------------------------------------------------------------- */

static int run(actx *c)
{
    cs_audit_result *r = c->r;
    const cs_audit_options *o = c->o;
    int rc = 0;
    bool vpc_level = c->estate && !(o->flags & CS_AUDIT_ENTRY_LEVEL);
    if (c->estate && (vpc_level || c->scoped)) {
        rc = build_vpcs(c);
        if (rc)
            return rc;
    } else if (c->estate) {
        cs_estate_counts ec;
        cs_estate_counts_get(c->s, &ec);
        r->sum.vpcs = ec.vpcs;
        r->sum.default_vpcs = ec.default_vpcs;
    }
    /* Entry level. With a scope: prefix sums of "in scope" per family. */
    for (unsigned f = 0; f < 2 && rc == 0; f++) {
        uint32_t *ps = NULL;
        if (c->scoped) {
            const cs_famview *fv = c->fv[f];
            ps = malloc(((size_t)fv->n_entries + 1) * sizeof *ps);
            if (!ps)
                return CS_ENOMEM;
            ps[0] = 0;
            for (uint32_t e = 0; e < fv->n_entries; e++) {
                uint32_t a = fv->values[e];
                uint32_t v = a < c->n_assocs ? c->a2v[a] : CS_IDX_NONE;
                ps[e + 1] = ps[e] + (v < c->n_vpcs && (c->v[v].flags & VF_SCOPE));
            }
        }
        rc = entry_pass(c, f, ps);
        free(ps);
    }
    r->sum.clusters = r->n_clusters;
    if (rc || !vpc_level)
        return rc;

    rc = build_tables(c);
    if (rc == 0)
        rc = build_groups(c);
    sev_counts sc;
    if (rc == 0)
        rc = count_severities(c, &sc);
    pairset crit;
    memset(&crit, 0, sizeof crit);
    if (rc == 0)
        rc = find_critical(c, &crit);
    if (rc == 0) {
        uint64_t crit_n = r->n_pairs, crit_info = 0, crit_sar = 0, crit_other = 0;
        for (size_t i = 0; i < r->n_pairs; i++) {
            uint32_t why = r->pairs[i].p.why;
            if (why & (CS_WHY_DEFAULT_ONLY | CS_WHY_REUSED_ONLY))
                crit_info++;
            else if (why & (CS_WHY_SAME_ACCOUNT | CS_WHY_SAME_REGION))
                crit_sar++;
            else
                crit_other++;
        }
        r->sum.vpc_level = true;
        r->sum.overlapping_vpc_pairs = sc.all;
        r->sum.overlapping_vpc_pairs_excluding_default = sc.nondefault;
        uint64_t noninfo = sc.nonreused - sc.nonreused_dd;
        r->sum.vpc_pairs_by_severity[CS_SEV_CRITICAL] = crit_n;
        r->sum.vpc_pairs_by_severity[CS_SEV_INFO] = (sc.all - noninfo) - crit_info;
        r->sum.vpc_pairs_by_severity[CS_SEV_HIGH] = sc.same_ar_noninfo - crit_sar;
        r->sum.vpc_pairs_by_severity[CS_SEV_MEDIUM] =
            noninfo - sc.same_ar_noninfo - crit_other;
        rc = list_pairs(c, &crit, NULL);
    }
    if (rc == 0) {
        if (r->n_pairs)
            qsort(r->pairs, r->n_pairs, sizeof *r->pairs, cmp_pair);
        r->sum.listed_pairs = r->n_pairs;
        /* domains look the critical set up by index into r->pairs: rebuild
         * it over the sorted order */
        pairset_free(&crit);
        for (size_t i = 0; i < r->n_pairs && rc == 0; i++)
            if (r->pairs[i].p.severity == CS_SEV_CRITICAL)
                rc = pairset_put(&crit, r->pairs[i].p.vpc_a, r->pairs[i].p.vpc_b,
                                 (uint32_t)i);
    }
    if (rc == 0)
        rc = audit_domains(c, &crit);
    if (rc == 0)
        cluster_vpcs(c);
    pairset_free(&crit);
    return rc;
}

int cs_audit_run(const cs_snapshot *s, const cs_audit_options *opts,
                 cs_audit_result **out, cs_error *err)
{
    if (!s || !out)
        return cs_fail(err, CS_EINVAL, "cs_audit_run: NULL snapshot or result");
    *out = NULL;
    static const cs_audit_options none;
    const cs_audit_options *o = opts ? opts : &none;
    actx c;
    memset(&c, 0, sizeof c);
    c.s = s;
    c.o = o;
    c.err = err;
    c.estate = cs_estate_present(s);
    c.scoped = o->account_count || o->region_count || o->tag_count;
    if (c.scoped && !c.estate)
        return cs_fail(err, CS_EINVAL, "audit scope (accounts, regions, tags) needs an estate image");
    if (o->domain_count && !c.estate)
        return cs_fail(err, CS_EINVAL, "audit domains need an estate image");
    if (o->domain_count && (o->flags & CS_AUDIT_ENTRY_LEVEL))
        return cs_fail(err, CS_EINVAL, "audit domains need the VPC level");
    for (unsigned f = 0; f < 2; f++) {
        c.fv[f] = snap_family(s, f);
        c.n_nodes[f] = c.fv[f]->n_nodes;
        c.n_ent[f] = c.fv[f]->n_entries;
    }
    if ((uint64_t)c.n_nodes[0] + c.n_nodes[1] >= UINT32_MAX ||
        (uint64_t)c.n_ent[0] + c.n_ent[1] >= UINT32_MAX)
        return cs_fail(err, CS_ERANGE, "audit: more than 2^32-2 nodes or entries");
    c.node_off[1] = c.n_nodes[0];
    c.ent_off[1] = c.n_ent[0];
    c.gn = c.n_nodes[0] + c.n_nodes[1];
    c.ge = c.n_ent[0] + c.n_ent[1];
    if (c.estate) {
        cs_estate_counts ec;
        cs_estate_counts_get(s, &ec);
        for (size_t d = 0; d < o->domain_count; d++)
            for (size_t i = 0; i < o->domains[d].vpc_count; i++)
                if (o->domains[d].vpcs[i] >= ec.vpcs)
                    return cs_fail(err, CS_EINVAL,
                                   "audit domain '%s': VPC index %u out of range",
                                   o->domains[d].name ? o->domains[d].name : "",
                                   o->domains[d].vpcs[i]);
    }
    cs_audit_result *r = calloc(1, sizeof *r);
    if (!r)
        return cs_fail(err, CS_ENOMEM, "audit: out of memory");
    r->flags = o->flags;
    c.r = r;
    int rc = run(&c);
    actx_free(&c);
    if (rc) {
        cs_audit_free(r);
        return cs_fail(err, rc, "audit: %s", cs_strerror(rc));
    }
    *out = r;
    return 0;
}

void cs_audit_free(cs_audit_result *r)
{
    if (!r)
        return;
    free(r->clusters);
    free(r->groups);
    free(r->pairs);
    free(r->wit);
    for (size_t d = 0; d < r->n_domains; d++)
        free(r->domains[d].name);
    free(r->domains);
    free(r->dpairs);
    free(r->dwit);
    free(r->in_scope);
    free(r);
}

/* ---- accessors --------------------------------------------------------------------------- */

void cs_audit_get_summary(const cs_audit_result *r, cs_audit_summary *out)
{
    if (r && out)
        *out = r->sum;
}

size_t cs_audit_cluster_count(const cs_audit_result *r) { return r ? r->n_clusters : 0; }
size_t cs_audit_group_count(const cs_audit_result *r) { return r ? r->n_groups : 0; }
size_t cs_audit_pair_count(const cs_audit_result *r) { return r ? r->n_pairs : 0; }
size_t cs_audit_domain_count(const cs_audit_result *r) { return r ? r->n_domains : 0; }

int cs_audit_get_cluster(const cs_audit_result *r, size_t i, cs_audit_cluster *out)
{
    if (!r || !out || i >= r->n_clusters)
        return CS_ERANGE;
    *out = r->clusters[i];
    return 0;
}

int cs_audit_get_group(const cs_audit_result *r, size_t i, cs_audit_group *out)
{
    if (!r || !out || i >= r->n_groups)
        return CS_ERANGE;
    *out = r->groups[i];
    return 0;
}

int cs_audit_get_pair(const cs_audit_result *r, size_t i, cs_audit_pair *out)
{
    if (!r || !out || i >= r->n_pairs)
        return CS_ERANGE;
    *out = r->pairs[i].p;
    return 0;
}

int cs_audit_pair_witness(const cs_audit_result *r, size_t i, size_t j,
                          cs_audit_witness *out)
{
    if (!r || !out || i >= r->n_pairs || j >= r->pairs[i].p.witness_count)
        return CS_ERANGE;
    *out = r->wit[r->pairs[i].wit_begin + j];
    return 0;
}

int cs_audit_get_domain(const cs_audit_result *r, size_t d, cs_audit_domain_info *out)
{
    if (!r || !out || d >= r->n_domains)
        return CS_ERANGE;
    out->name = r->domains[d].name;
    out->vpcs = r->domains[d].vpcs;
    out->violations = r->domains[d].pair_end - r->domains[d].pair_begin;
    return 0;
}

int cs_audit_domain_pair(const cs_audit_result *r, size_t d, size_t i,
                         cs_audit_pair *out)
{
    if (!r || !out || d >= r->n_domains ||
        i >= r->domains[d].pair_end - r->domains[d].pair_begin)
        return CS_ERANGE;
    *out = r->dpairs[r->domains[d].pair_begin + i].p;
    return 0;
}

int cs_audit_domain_pair_witness(const cs_audit_result *r, size_t d, size_t i,
                                 size_t j, cs_audit_witness *out)
{
    if (!r || !out || d >= r->n_domains ||
        i >= r->domains[d].pair_end - r->domains[d].pair_begin)
        return CS_ERANGE;
    const audit_pair_rec *rec = &r->dpairs[r->domains[d].pair_begin + i];
    if (j >= rec->p.witness_count)
        return CS_ERANGE;
    *out = r->dwit[rec->wit_begin + j];
    return 0;
}

/* ---- drift ---------------------------------------------------------------------------- */

/* A listed pair or a group, keyed across snapshots by VPC ids or prefix. */
typedef struct dkey {
    uint8_t what;           /* cs_change_what */
    const char *a, *b;      /* pair: ids, a < b */
    cs_prefix p;            /* group */
    size_t idx;
    uint8_t sev;
    uint32_t vpcs;
} dkey;

static int cmp_dkey(const void *x, const void *y)
{
    const dkey *a = x, *b = y;
    if (a->what != b->what)
        return a->what < b->what ? -1 : 1;
    if (a->what == CS_CHANGE_GROUP)
        return cs_prefix_compare(&a->p, &b->p);
    int c = strcmp(a->a, b->a);
    return c ? c : strcmp(a->b, b->b);
}

static dkey *drift_keys(const cs_snapshot *s, const cs_audit_result *r, size_t *n)
{
    size_t cnt = r->n_pairs + r->n_groups;
    dkey *k = calloc(cnt + 1, sizeof *k);
    if (!k)
        return NULL;
    size_t m = 0;
    for (size_t i = 0; i < r->n_pairs; i++) {
        const cs_audit_pair *p = &r->pairs[i].p;
        cs_vpc va, vb;
        if (cs_estate_vpc(s, p->vpc_a, &va) || cs_estate_vpc(s, p->vpc_b, &vb))
            continue;
        bool swap = strcmp(va.id, vb.id) > 0;
        k[m] = (dkey){CS_CHANGE_PAIR, swap ? vb.id : va.id, swap ? va.id : vb.id,
                      {0, 0, 0, 0}, i, p->severity, 2};
        m++;
    }
    for (size_t i = 0; i < r->n_groups; i++) {
        const cs_audit_group *g = &r->groups[i];
        if (!g->listed)
            continue;
        k[m] = (dkey){CS_CHANGE_GROUP, NULL, NULL, g->prefix, i, g->severity, g->vpcs};
        m++;
    }
    qsort(k, m, sizeof *k, cmp_dkey);
    *n = m;
    return k;
}

typedef struct drow {
    cs_audit_change c;
    uint8_t sev;
    size_t order;
} drow;

static int cmp_drow(const void *x, const void *y)
{
    static const int rank[3] = {0, 2, 1}; /* appeared, changed, disappeared */
    const drow *a = x, *b = y;
    if (a->c.kind != b->c.kind)
        return rank[a->c.kind] < rank[b->c.kind] ? -1 : 1;
    if (a->sev != b->sev)
        return a->sev < b->sev ? -1 : 1;
    if (a->c.what != b->c.what)
        return a->c.what < b->c.what ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

int cs_audit_diff(const cs_snapshot *old_s, const cs_audit_result *old_r,
                  const cs_snapshot *new_s, const cs_audit_result *new_r,
                  cs_audit_drift **out, cs_error *err)
{
    if (!old_s || !old_r || !new_s || !new_r || !out)
        return cs_fail(err, CS_EINVAL, "cs_audit_diff: NULL argument");
    *out = NULL;
    size_t no, nn;
    dkey *ko = drift_keys(old_s, old_r, &no);
    dkey *kn = drift_keys(new_s, new_r, &nn);
    drow *rows = calloc(no + nn + 1, sizeof *rows);
    cs_audit_drift *d = calloc(1, sizeof *d);
    if (!ko || !kn || !rows || !d) {
        free(ko);
        free(kn);
        free(rows);
        free(d);
        return cs_fail(err, CS_ENOMEM, "audit drift: out of memory");
    }
    d->worst = CS_SEV_COUNT;
    size_t i = 0, j = 0, m = 0;
    while (i < no || j < nn) {
        int c = i == no ? 1 : j == nn ? -1 : cmp_dkey(&ko[i], &kn[j]);
        drow *w = &rows[m];
        w->c.old_idx = w->c.new_idx = SIZE_MAX;
        if (c < 0) {
            w->c.kind = CS_CHANGE_DISAPPEARED;
            w->c.what = ko[i].what;
            w->c.old_idx = ko[i].idx;
            w->sev = ko[i].sev;
            w->order = m;
            i++;
            m++;
            continue;
        }
        if (c > 0) {
            w->c.kind = CS_CHANGE_APPEARED;
            w->c.what = kn[j].what;
            w->c.new_idx = kn[j].idx;
            w->sev = kn[j].sev;
            w->order = m;
            if (w->sev < d->worst)
                d->worst = w->sev;
            j++;
            m++;
            continue;
        }
        if (ko[i].sev != kn[j].sev || ko[i].vpcs != kn[j].vpcs) {
            w->c.kind = CS_CHANGE_CHANGED;
            w->c.what = kn[j].what;
            w->c.old_idx = ko[i].idx;
            w->c.new_idx = kn[j].idx;
            w->sev = kn[j].sev;
            w->order = m;
            /* worse: a higher severity, or a group that gained VPCs */
            if ((kn[j].sev < ko[i].sev || kn[j].vpcs > ko[i].vpcs) && w->sev < d->worst)
                d->worst = w->sev;
            m++;
        }
        i++;
        j++;
    }
    qsort(rows, m, sizeof *rows, cmp_drow);
    d->changes = calloc(m + 1, sizeof *d->changes);
    if (!d->changes) {
        free(ko);
        free(kn);
        free(rows);
        free(d);
        return cs_fail(err, CS_ENOMEM, "audit drift: out of memory");
    }
    for (size_t q = 0; q < m; q++) {
        d->changes[q] = rows[q].c;
        d->by_kind[rows[q].c.kind]++;
    }
    d->n = d->cap = m;
    free(ko);
    free(kn);
    free(rows);
    *out = d;
    return 0;
}

void cs_audit_drift_free(cs_audit_drift *d)
{
    if (!d)
        return;
    free(d->changes);
    free(d);
}

size_t cs_audit_change_count(const cs_audit_drift *d) { return d ? d->n : 0; }

int cs_audit_get_change(const cs_audit_drift *d, size_t i, cs_audit_change *out)
{
    if (!d || !out || i >= d->n)
        return CS_ERANGE;
    *out = d->changes[i];
    return 0;
}

uint64_t cs_audit_change_kind_count(const cs_audit_drift *d, unsigned kind)
{
    return d && kind < 3 ? d->by_kind[kind] : 0;
}

unsigned cs_audit_drift_worst(const cs_audit_drift *d)
{
    return d ? d->worst : CS_SEV_COUNT;
}
