/*
 * engine/query/audit_pairs.c — the pairs of the audit: how a VPC pair is
 * classified, the critical pairs, the pairs listed one by one, domains.
 *
 * Does: classify a pair of VPCs from their overlapping block pairs (a sweep
 * of both block lists in node order with a stack per side: output-linear),
 * with up to CS_AUDIT_MAX_WITNESSES witnesses; find the critical pairs
 * (peered, or both peered to a hub) from the peering connections; list,
 * from each block held by one VPC alone, the pairs overlapping through two
 * such prefixes (GROUPS AND LISTING in audit_groups.c);
 * every overlapping pair inside each domain. Does not: count pairs
 * (audit_count.c) nor build groups (audit_groups.c).
 *
 * Invariants: a listed pair has vpc_a < vpc_b and is listed once (a
 * per-VPC stamp per walk); a critical pair found twice (peered and hub) is
 * kept once, by the pairset.
 *
 * Concurrency: none inside; reads only. Tests: tests/test_audit.c.
 */
#include "query/audit_ctx_internal.h"

#include "core/error_internal.h"

#include <cidrscope/estate.h>

#include <stdlib.h>
#include <string.h>


/* ---- pairs: classification ------------------------------------------------------- */

static inline uint32_t ent_assoc(const actx *c, uint32_t ge)
{
    unsigned f = ge >= c->ent_off[1] && c->n_ent[1] ? 1u : 0u;
    return c->vals[f][ge - c->ent_off[f]];
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
    if (cs_grow((void **)arr, cap, *n + 1, sizeof **arr, SIZE_MAX) ||
        cs_grow((void **)w, wcap, *nw + pc->nwit, sizeof **w, SIZE_MAX))
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


static uint64_t pkey(uint32_t a, uint32_t b)
{
    return ((uint64_t)a << 32 | b) + 1;
}

static size_t pslot(const pairset *ps, uint64_t k)
{
    size_t mask = ps->cap - 1;
    uint64_t h = k * 0x9e3779b97f4a7c15ull;
    size_t i = (size_t)((h ^ h >> 29) & mask);
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

int audit_pairset_put(pairset *ps, uint32_t a, uint32_t b, uint32_t val)
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

void audit_pairset_free(pairset *ps)
{
    free(ps->key);
    free(ps->val);
    memset(ps, 0, sizeof *ps);
}

/* ---- critical pairs ------------------------------------------------------------------ */

static bool vpcs_overlap(const actx *c, uint32_t a, uint32_t b)
{
    uint32_t ta, tb, e, n;
    const uint32_t *TA = tops_of(c, F_ALL, a, &ta);
    const uint32_t *TB = tops_of(c, F_ALL, b, &tb);
    audit_relate(c, TA, ta, TB, tb, CS_NO_NODE, &e, &n, NULL);
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
        audit_pairset_put(crit, lo, hi, (uint32_t)(c->r->n_pairs - 1)))
        return CS_ENOMEM;
    return 0;
}

typedef struct topinc {
    uint32_t g, v;
} topinc_t;

static bool topinc_less(topinc_t a, topinc_t b)
{
    return a.g != b.g ? a.g < b.g : a.v < b.v;
}

static int cmp_topinc(const void *x, const void *y)
{
    const topinc_t *a = x, *b = y;
    return topinc_less(*a, *b) ? -1 : topinc_less(*b, *a);
}

/* Sorts a hub's top incidences: insertion below 32 (most hubs have two or
 * three peers), qsort above. */
static void sort_topinc(topinc_t *a, size_t n)
{
    if (n >= 32) {
        qsort(a, n, sizeof *a, cmp_topinc);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        topinc_t x = a[i];
        size_t j = i;
        for (; j > 0 && topinc_less(x, a[j - 1]); j--)
            a[j] = a[j - 1];
        a[j] = x;
    }
}

/*
 * The live connections between two distinct VPCs, read once in peering
 * order, as each VPC's list of (peer, connection) (CSR: v's at
 * adj[2 off[v] .. 2 off[v+1]), in connection order, repeats kept). Direct
 * pairs are then checked VPC by VPC (the smaller side's facts read in
 * order, not at random per connection) and a hub reads its peers from one
 * array instead of a connection record per peer.
 */
typedef struct peer_lists {
    uint32_t *off, *adj;
} peer_lists;

/*
 * Critical pairs: every live connection between two overlapping VPCs in
 * scope; then, for every VPC H, the overlapping pairs among its live peers
 * (hub-and-spoke: both sides route to H, H cannot tell them apart). The
 * pairs among a hub's peers are found by one sweep over their tops in node
 * order with a stack of open tops, so a hub with many disjoint spokes costs
 * a sort, not a square. Hubs go in VPC order and connections in index
 * order, so the first finder of a pair (kept by the pairset) is the same
 * whatever the table sizes.
 */
static int hub_pairs(actx *c, pairset *crit, const peer_lists *pl)
{
    uint32_t *peers = NULL;
    size_t peers_cap = 0;
    topinc_t *ti = NULL;
    size_t ti_cap = 0;
    uint32_t *stk = NULL;
    size_t stk_cap = 0;
    int rc = 0;
    for (uint32_t h = 0; h < c->n_vpcs && rc == 0; h++) {
        size_t n = pl->off[h + 1] - pl->off[h];
        if (n < 2)
            continue;
        if (GROW(peers, 0, peers_cap, n)) {
            rc = CS_ENOMEM;
            break;
        }
        /* its distinct live peers in scope (the hub itself may be out of
         * scope); their order does not matter, the tops are sorted below */
        uint32_t ep = audit_next_epoch(c);
        size_t m = 0;
        for (size_t i = pl->off[h]; i < pl->off[h + 1]; i++) {
            uint32_t o = pl->adj[2 * i];
            if (vpc_ok(c, o) && c->vstamp[o] != ep) {
                c->vstamp[o] = ep;
                peers[m++] = o;
            }
        }
        if (m < 2)
            continue;
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
        sort_topinc(ti, nt);
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
    return rc;
}

int audit_critical_find(actx *c, pairset *crit)
{
    cs_estate_counts ec;
    cs_estate_counts_get(c->s, &ec);
    peer_lists pl;
    pl.off = calloc((size_t)c->n_vpcs + 2, sizeof *pl.off);
    uint32_t *ends = malloc(3 * ((size_t)ec.peerings + 1) * sizeof *ends);
    if (!pl.off || !ends) {
        free(pl.off);
        free(ends);
        return CS_ENOMEM;
    }
    size_t nl = 0;
    for (uint32_t p = 0; p < ec.peerings; p++) {
        cs_peering pr;
        if (cs_estate_peering(c->s, p, &pr) != 0 || !audit_pcx_live(pr.status))
            continue;
        uint32_t a = pr.requester.vpc_idx, b = pr.accepter.vpc_idx;
        if (a >= c->n_vpcs || b >= c->n_vpcs || a == b)
            continue;
        ends[3 * nl] = a;
        ends[3 * nl + 1] = b;
        ends[3 * nl + 2] = p;
        nl++;
        pl.off[a + 2]++;
        pl.off[b + 2]++;
    }
    /* off[v + 2] counted v's peers: prefix sums, then fill through
     * off[v + 1] as the cursor, leaving off[v] at v's first peer. */
    for (uint32_t v = 0; v < c->n_vpcs; v++)
        pl.off[v + 2] += pl.off[v + 1];
    pl.adj = malloc((4 * nl + 1) * sizeof *pl.adj);
    int rc = pl.adj ? 0 : CS_ENOMEM;
    for (size_t i = 0; i < nl && rc == 0; i++) {
        uint32_t a = ends[3 * i], b = ends[3 * i + 1], p = ends[3 * i + 2];
        uint32_t *x = pl.adj + 2 * (size_t)pl.off[a + 1]++;
        x[0] = b;
        x[1] = p;
        x = pl.adj + 2 * (size_t)pl.off[b + 1]++;
        x[0] = a;
        x[1] = p;
    }
    free(ends);
    /* Direct pairs from their smaller VPC, connections in index order (the
     * first live connection of a pair names it). */
    for (uint32_t a = 0; a < c->n_vpcs && rc == 0; a++) {
        if (pl.off[a] == pl.off[a + 1] || !vpc_ok(c, a))
            continue;
        for (size_t i = pl.off[a]; i < pl.off[a + 1] && rc == 0; i++) {
            uint32_t b = pl.adj[2 * i], p = pl.adj[2 * i + 1];
            if (b > a && vpc_ok(c, b) && vpcs_overlap(c, a, b))
                rc = add_critical(c, crit, a, b, CS_WHY_PEERED, p, CS_IDX_NONE);
        }
    }
    if (rc == 0)
        rc = hub_pairs(c, crit, &pl);
    free(pl.off);
    free(pl.adj);
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
        L.ep = audit_next_epoch(c);
        uint32_t last = CS_NO_NODE;
        for (uint32_t k = c->blk_off[a]; k < c->blk_off[a + 1] && !L.rc; k++) {
            uint32_t ge = c->blk[k];
            if (!L.all_pairs && !c->ent_lst[ge])
                continue; /* nests with no other solo node: lists nothing */
            uint32_t g = c->ent_node[ge];
            if (g == last)
                continue;
            last = g;
            if (!L.all_pairs) {
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

int audit_pair_cmp(const void *x, const void *y)
{
    const cs_audit_pair *a = &((const audit_pair_rec *)x)->p;
    const cs_audit_pair *b = &((const audit_pair_rec *)y)->p;
    if (a->severity != b->severity)
        return a->severity < b->severity ? -1 : 1;
    if (a->vpc_a != b->vpc_a)
        return a->vpc_a < b->vpc_a ? -1 : 1;
    return a->vpc_b < b->vpc_b ? -1 : a->vpc_b > b->vpc_b;
}

/* A key in audit_pair_cmp's order when VPC indices fit in 31 bits (the
 * severity above them), sorted by radix with the record's index, then the
 * records permuted: no comparison calls over records of 40 bytes. */
int audit_pairs_sort(audit_pair_rec *p, size_t n)
{
    if (n < 2)
        return 0;
    bool use_qsort = n < 256;
    for (size_t i = 0; i < n && !use_qsort; i++)
        use_qsort = p[i].p.vpc_a >= 1u << 31 || p[i].p.vpc_b >= 1u << 31;
    if (use_qsort) {
        qsort(p, n, sizeof *p, audit_pair_cmp);
        return 0;
    }
    kw *k = malloc(2 * n * sizeof *k);
    audit_pair_rec *out = malloc(n * sizeof *out);
    if (!k || !out) {
        free(k);
        free(out);
        return CS_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        k[i] = (kw){(uint64_t)p[i].p.severity << 62 | (uint64_t)p[i].p.vpc_a << 31 |
                        p[i].p.vpc_b,
                    i};
    audit_sort_kw(k, k + n, n);
    for (size_t i = 0; i < n; i++)
        out[i] = p[k[i].w];
    memcpy(p, out, n * sizeof *p);
    free(k);
    free(out);
    return 0;
}

int audit_domains(actx *c, const pairset *crit)
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
        if (rc == 0 && rec->pair_end > rec->pair_begin) /* dpairs may be NULL */
            rc = audit_pairs_sort(r->dpairs + rec->pair_begin,
                                  rec->pair_end - rec->pair_begin);
        r->sum.domain_violations += rec->pair_end - rec->pair_begin;
        for (size_t i = 0; i < dm->vpc_count; i++)
            if (dm->vpcs[i] < c->n_vpcs)
                member[dm->vpcs[i]] = 0;
    }
    free(member);
    return rc;
}

int audit_pairs_list(actx *c, const pairset *crit)
{
    return list_pairs(c, crit, NULL);
}
