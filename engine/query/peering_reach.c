/*
 * engine/query/peering_reach.c — mesh plans (which links of a set of VPCs
 * are to request, exist, or cannot be made) and reachability between two
 * ends (address, block or VPC) over peering connections, with the AWS
 * limits of peering: no transitive routing, no edge-to-edge routing.
 *
 * Does: cs_peering_mesh_link, cs_peering_mesh, cs_peering_reach. Does not:
 * print (engine/report/peering_report.c) or read input. Rules and their
 * sources: engine/query/peering.c's opening comment ("reachability").
 */
#include <cidrscope/peering.h>
#include <cidrscope/query.h>

#include "core/error_internal.h"
#include "query/peering_internal.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* ---- mesh ---------------------------------------------------------------------------- */

const char *cs_mesh_link_name(unsigned link)
{
    static const char *const names[] = {"needed", "existing", "pending", "conflict"};
    return link < sizeof names / sizeof *names ? names[link] : "?";
}

int cs_peering_mesh_link(const cs_snapshot *s, uint32_t a, uint32_t b,
                         const cs_peering_verdict *v, uint32_t *pcx)
{
    if (!s || !v)
        return CS_EINVAL;
    if (pcx)
        *pcx = CS_IDX_NONE;
    unsigned hard = v->reasons & CS_PEER_BLOCKING_MASK &
                    ~((1u << CS_PEER_ALREADY_PEERED) | (1u << CS_PEER_QUOTA));
    if (hard)
        return CS_LINK_CONFLICT;
    uint8_t st = 0;
    uint32_t c;
    if (!pv_best_connection(s, a, b, false, &c, &st))
        return CS_LINK_NEEDED;
    if (pcx)
        *pcx = c;
    if (st == CS_PCX_ACTIVE)
        return CS_LINK_EXISTING;
    /* A connection being deleted still blocks a new request (it counts as
     * already-peered) but will not carry traffic: the link is to request
     * again once it is gone. */
    return st == CS_PCX_DELETING ? CS_LINK_NEEDED : CS_LINK_PENDING;
}

int cs_peering_mesh(const cs_snapshot *s, const uint32_t *vpcs, size_t n, size_t hub_pos,
                    const cs_peering_opts *opts, cs_peering_mesh_row *rows,
                    cs_peering_verdict *matrix, cs_peering_mesh_summary *sum)
{
    uint32_t q = pv_quota_of(opts);
    if (!s || !q || (n && (!vpcs || !rows)) || (hub_pos != CS_MESH_FULL && hub_pos >= n) ||
        n > UINT32_MAX)
        return CS_EINVAL;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (vpcs[i] != CS_IDX_NONE && vpcs[i] == vpcs[j])
                return CS_EINVAL;
    cs_peering_mesh_summary sm;
    memset(&sm, 0, sizeof sm);
    sm.vpcs = (uint32_t)n;
    sm.quota = q;
    for (size_t i = 0; i < n; i++) {
        cs_vpc v;
        memset(&rows[i], 0, sizeof rows[i]);
        rows[i].vpc = pv_vpc_get(s, vpcs[i], &v) ? vpcs[i] : CS_IDX_NONE;
        if (rows[i].vpc != CS_IDX_NONE)
            rows[i].active = cs_peering_active_count(s, vpcs[i]);
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            if (!matrix && j <= i)
                continue;
            cs_peering_verdict v;
            cs_peering_check(s, vpcs[i], vpcs[j], opts, &v);
            if (matrix)
                matrix[i * n + j] = v;
            bool planned = j > i && (hub_pos == CS_MESH_FULL || i == hub_pos || j == hub_pos);
            if (!planned)
                continue;
            sm.links++;
            rows[i].planned++;
            rows[j].planned++;
            uint32_t *ci, *cj, *cs;
            switch (cs_peering_mesh_link(s, vpcs[i], vpcs[j], &v, NULL)) {
            case CS_LINK_CONFLICT:
                ci = &rows[i].conflicts, cj = &rows[j].conflicts, cs = &sm.conflicts;
                break;
            case CS_LINK_EXISTING:
                ci = &rows[i].existing, cj = &rows[j].existing, cs = &sm.existing;
                break;
            case CS_LINK_PENDING:
                ci = &rows[i].pending, cj = &rows[j].pending, cs = &sm.pending;
                break;
            default:
                ci = &rows[i].needed, cj = &rows[j].needed, cs = &sm.needed;
                break;
            }
            (*ci)++;
            (*cj)++;
            (*cs)++;
        }
    }
    for (size_t i = 0; i < n; i++) {
        rows[i].after = rows[i].active + rows[i].pending + rows[i].needed;
        rows[i].over_quota = rows[i].vpc != CS_IDX_NONE && rows[i].after > q;
        sm.over_quota += rows[i].over_quota;
    }
    if (sum)
        *sum = sm;
    return 0;
}

/* ---- reachability ---------------------------------------------------------------------- */

typedef struct reach_ctx {
    const cs_snapshot *s;
    cs_reach_fn cb;
    void *ctx;
    cs_reach_summary *sum;
    int rc;
} reach_ctx;

static cs_reach_finding finding_new(unsigned code)
{
    cs_reach_finding f;
    memset(&f, 0, sizeof f);
    f.code = (uint8_t)code;
    f.vpc = f.assoc = f.pcx = f.via = f.via_pcx = f.edge = CS_IDX_NONE;
    return f;
}

static int emit(reach_ctx *r, const cs_reach_finding *f)
{
    r->sum->count[f->code]++;
    if (f->code == CS_REACH_LOCAL || f->code == CS_REACH_PEERED)
        r->sum->reachable = true;
    if (r->cb && !r->rc)
        r->rc = r->cb(f, r->ctx);
    return r->rc;
}

/* Transitive paths src - B - x: every ACTIVE peer B of src with an ACTIVE
 * connection to x. Returns how many were emitted (or stops on rc). */
typedef struct trans_ctx {
    reach_ctx *r;
    uint32_t src, x;
    cs_reach_finding base;
    uint32_t found;
} trans_ctx;

static int trans_each(const cs_peering *p, uint32_t pcx, void *ctx)
{
    trans_ctx *t = ctx;
    if (p->status != CS_PCX_ACTIVE)
        return 0;
    uint32_t b = pv_other_side(p, t->src);
    cs_vpc bv;
    if (b == t->x || b == t->src || !pv_vpc_get(t->r->s, b, &bv))
        return 0;
    uint32_t bx;
    uint8_t st;
    if (!pv_best_connection(t->r->s, b, t->x, false, &bx, &st) || st != CS_PCX_ACTIVE)
        return 0;
    cs_reach_finding f = t->base;
    f.code = CS_REACH_TRANSITIVE;
    f.pcx = pcx;
    f.via = b;
    f.via_pcx = bx;
    t->found++;
    return emit(t->r, &f);
}

/* Findings for destination VPC x (holding DST through block `assoc`, with
 * `relation`) as seen from VPC src. */
static int classify(reach_ctx *r, uint32_t src, uint32_t x, uint32_t assoc, uint8_t relation)
{
    cs_reach_finding f = finding_new(CS_REACH_NO_CONNECTION);
    f.vpc = x;
    f.assoc = assoc;
    f.relation = relation;
    if (x == src) {
        f.code = CS_REACH_LOCAL;
        return emit(r, &f);
    }
    uint32_t pcx;
    uint8_t st;
    if (pv_best_connection(r->s, src, x, true, &pcx, &st)) {
        f.pcx = pcx;
        f.status = st;
        if (st == CS_PCX_ACTIVE) {
            cs_vpc a, b;
            f.code = CS_REACH_PEERED;
            f.sg_refs = pv_vpc_get(r->s, src, &a) && pv_vpc_get(r->s, x, &b) &&
                        a.region_idx == b.region_idx && pv_region_known(r->s, a.region_idx);
            return emit(r, &f);
        }
        f.code = CS_REACH_NOT_ACTIVE;
        if (emit(r, &f))
            return r->rc;
    }
    trans_ctx t = {r, src, x, finding_new(CS_REACH_TRANSITIVE), 0};
    t.base.vpc = x;
    t.base.assoc = assoc;
    t.base.relation = relation;
    if (pv_each_connection(r->s, src, trans_each, &t))
        return r->rc;
    if (!t.found && f.code == CS_REACH_NO_CONNECTION) {
        f.pcx = CS_IDX_NONE;
        return emit(r, &f);
    }
    return 0;
}

/* The edges of VPC v as `code` findings (vpc = v, pcx = through). */
static int edges_of(reach_ctx *r, uint32_t v, unsigned code, uint32_t through, uint32_t *count)
{
    cs_vpc vv;
    if (!pv_vpc_get(r->s, v, &vv))
        return 0;
    for (uint32_t i = 0; i < vv.edge_count; i++) {
        cs_reach_finding f = finding_new(code);
        f.vpc = v;
        f.pcx = through;
        f.edge = vv.edge_begin + i;
        (*count)++;
        if (emit(r, &f))
            return r->rc;
    }
    return 0;
}

typedef struct edge_ctx {
    reach_ctx *r;
    uint32_t v;
    uint32_t count;
} edge_ctx;

static int peer_edges_each(const cs_peering *p, uint32_t pcx, void *ctx)
{
    edge_ctx *e = ctx;
    if (p->status != CS_PCX_ACTIVE)
        return 0;
    uint32_t b = pv_other_side(p, e->v);
    if (b == e->v)
        return 0;
    return edges_of(e->r, b, CS_REACH_EDGE_TO_EDGE, pcx, &e->count);
}

/* Traffic between VPC v and a place outside every VPC: v's own edges may
 * carry it (not peering); its active peers' edges may not. */
static int outside(reach_ctx *r, uint32_t v)
{
    edge_ctx e = {r, v, 0};
    if (edges_of(r, v, CS_REACH_OWN_EDGE, CS_IDX_NONE, &e.count))
        return r->rc;
    if (pv_each_connection(r->s, v, peer_edges_each, &e))
        return r->rc;
    if (!e.count) {
        cs_reach_finding f = finding_new(CS_REACH_OUTSIDE);
        f.vpc = v;
        return emit(r, &f);
    }
    return 0;
}

/* Calls per holder of prefix p: fn(r, vpc, assoc, relation); returns the
 * number of holders (blocks), or stops on r->rc. */
typedef int (*holder_fn)(reach_ctx *r, uint32_t arg, uint32_t vpc, uint32_t assoc,
                         uint8_t relation);

static uint32_t holders(reach_ctx *r, const cs_prefix *p, holder_fn fn, uint32_t arg)
{
    const uint32_t *map = cs_estate_assoc_vpc_map(r->s, NULL);
    cs_query_iter it;
    cs_query_iter_init(&it, r->s, p, CS_Q_OVERLAPPING);
    cs_match m;
    uint32_t n = 0;
    while (!r->rc && cs_query_iter_next(&it, &m) > 0) {
        for (uint32_t j = 0; j < m.count && !r->rc; j++) {
            uint32_t v = map[m.values[j]];
            cs_vpc vv;
            if (!pv_vpc_get(r->s, v, &vv))
                continue; /* a prefix-list owner's range is not a VPC */
            n++;
            if (fn)
                fn(r, arg, v, m.values[j], m.relation);
        }
    }
    return n;
}

static int holder_classify(reach_ctx *r, uint32_t src, uint32_t v, uint32_t assoc,
                           uint8_t relation)
{
    return classify(r, src, v, assoc, relation);
}

static int holder_inbound(reach_ctx *r, uint32_t unused, uint32_t v, uint32_t assoc,
                          uint8_t relation)
{
    (void)unused;
    (void)assoc;
    (void)relation;
    return outside(r, v);
}

int cs_peering_reach(const cs_snapshot *s, const cs_reach_end *src, const cs_reach_end *dst,
                     cs_reach_fn cb, void *ctx, cs_reach_summary *sum)
{
    cs_reach_summary local;
    if (!sum)
        sum = &local;
    memset(sum, 0, sizeof *sum);
    if (!s || !src || !dst)
        return CS_EINVAL;
    reach_ctx r = {s, cb, ctx, sum, 0};
    cs_vpc v;
    if (src->unknown || dst->unknown ||
        (src->vpc != CS_IDX_NONE && !pv_vpc_get(s, src->vpc, &v)) ||
        (dst->vpc != CS_IDX_NONE && !pv_vpc_get(s, dst->vpc, &v))) {
        cs_reach_finding f = finding_new(CS_REACH_UNKNOWN_VPC);
        emit(&r, &f);
        return r.rc;
    }
    if (src->vpc != CS_IDX_NONE) {
        if (dst->vpc != CS_IDX_NONE) {
            sum->holders = 1;
            classify(&r, src->vpc, dst->vpc, CS_IDX_NONE, 0);
            return r.rc;
        }
        sum->holders = holders(&r, &dst->prefix, holder_classify, src->vpc);
        if (!sum->holders && !r.rc)
            outside(&r, src->vpc);
        return r.rc;
    }
    /* src is a prefix: it must be outside every VPC (traffic coming in). */
    if (holders(&r, &src->prefix, NULL, 0))
        return CS_EINVAL;
    if (dst->vpc != CS_IDX_NONE) {
        sum->holders = 1;
        outside(&r, dst->vpc);
        return r.rc;
    }
    sum->holders = holders(&r, &dst->prefix, NULL, 0);
    if (!sum->holders)
        return CS_EINVAL;
    holders(&r, &dst->prefix, holder_inbound, 0);
    return r.rc;
}
