/*
 * engine/query/peering.c — AWS VPC peering rules on the frozen estate: pair
 * verdicts with their evidence (include/cidrscope/peering.h), and the
 * snapshot helpers the other peering modules share (peering_internal.h).
 * Beside it: peering_index.c (the bulk index, bulk verdicts, candidates),
 * peering_reach.c (mesh plans, reachability), peering_add.c (can-add).
 *
 * Does: decide, from the snapshot's estate tables and tries, what AWS would
 * do with a peering request, a route or a new CIDR block, and why. Does not:
 * read input (engine/ingest/), print (engine/report/peering_report.c), or
 * know about route tables, security groups or subnets (the estate has none).
 *
 * STRUCTURE.
 *
 *   snapshot ──> evaluate() ── trie overlap walks (query.h) ──> verdict +
 *   (estate      one cs_query_iter per live block of A and of B;  evidence
 *    tables,     a match's values are association indices, sorted, and
 *    tries)      a VPC's associations are one contiguous index range, so
 *                "does this match hold a block of VPC X" is one binary
 *                search per match
 *
 *   snapshot ──> cs_peering_index (peering_index.c; layout in
 *                peering_internal.h: per-VPC records, sorted block
 *                intervals, peer lists, peer envelopes, VPCs by region)
 *                ──> eval_pair(): merge-style interval tests, O(a+b) per
 *                pair, prefetched across pairs
 *
 * The rules, with the AWS documentation each one follows:
 *
 *   overlap (cidr-overlap-ipv4/-ipv6): "You cannot create a VPC peering
 *     connection between VPCs that have matching or overlapping IPv4 or IPv6
 *     CIDR blocks" (VPC Peering Guide, vpc-peering-basics.html, "VPC peering
 *     limitations"); "If the VPCs have multiple IPv4 CIDR blocks, you cannot
 *     create a VPC peering connection if any of the CIDR blocks overlap
 *     (regardless of whether you intend to use the VPC peering connection
 *     for communication between the non-overlapping CIDR blocks only)", and
 *     this holds even when the IPv6 blocks are unique
 *     (invalid-peering-configurations.html, "Overlapping CIDR blocks"). A
 *     request between overlapping VPCs goes to `failed` (EC2 API Reference,
 *     CreateVpcPeeringConnection). Only associated/associating blocks are
 *     the VPC's (VpcCidrBlockState; estate.h).
 *   already-peered: "You cannot have more than one VPC peering connection
 *     between the same two VPCs at the same time" (peering limitations);
 *     the statuses that hold a connection are initiating-request,
 *     pending-acceptance, provisioning, active and deleting; deleted,
 *     rejected, failed and expired are ended ones that stay visible for
 *     hours or days ("VPC peering connection lifecycle",
 *     vpc-peering-basics.html#vpc-peering-lifecycle;
 *     VpcPeeringConnectionStateReason in the EC2 API Reference).
 *   quota-exceeded: "Active VPC peering connections per VPC: 50, adjustable
 *     up to a maximum of 125" (Amazon VPC quotas, amazon-vpc-limits.html;
 *     quota code L-7E9ECCDB). Counted over distinct ACTIVE connections.
 *   cross-region: allowed; across regions "You cannot create a security
 *     group rule that references a peer VPC security group" and "The Maximum
 *     Transmission Unit (MTU) across the VPC peering connection is 1500
 *     bytes" (peering limitations, inter-Region part).
 *   cross-account: allowed; the accepter's owner must accept, and an
 *     unaccepted request expires after 7 days (CreateVpcPeeringConnection;
 *     "Expiry time for an unaccepted VPC peering connection request: 1
 *     week", amazon-vpc-limits.html).
 *   routing-ambiguity: a hub peered with two VPCs whose blocks overlap is a
 *     supported configuration only with specific routes, because "AWS
 *     currently does not support unicast reverse path forwarding in VPC
 *     peering connections that checks the source IP of packets and routes
 *     reply packets back to the source" (VPC Peering Guide,
 *     peering-configurations-partial-access.html, "Routing for response
 *     traffic"). Only ACTIVE third connections are considered.
 *   reachability: "VPC peering does not support transitive peering
 *     relationships" and edge-to-edge routing is not supported: if either
 *     VPC has a VPN or Direct Connect connection, an internet gateway, a NAT
 *     device or a gateway VPC endpoint, "instances in VPC B cannot use the
 *     connection to access resources on the other side of the connection.
 *     Similarly, resources on the other side of a connection cannot use the
 *     connection to access VPC B" (invalid-peering-configurations.html,
 *     "Transitive peering", "Edge to edge routing through a gateway or
 *     private connection"). Traffic flows only when the connection is
 *     active (lifecycle, "Active"). Security groups of the peer can be
 *     referenced only when "the VPC peering connection must be in the
 *     active state" and "You cannot reference the security group of a peer
 *     VPC that's in a different region" (vpc-peering-security-groups.html).
 *   can-add: engine/query/peering_add.c, on the AWS block rules of
 *     engine/core/aws_rules.c.
 *
 * Invariants relied on (estate.h, FROZEN ORDER): a VPC's associations are
 * contiguous and every live one is a trie entry whose value is its index;
 * a match's values are ascending; a VPC's connection list is ascending (a
 * connection may be listed twice only if both sides are that VPC); VPCs are
 * sorted by (account, region, id), regions by name.
 *
 * Concurrency: everything reads immutable data; an index is written only
 * by cs_peering_index_new before it is returned.
 *
 * Tests: tests/test_peering.c — a fixture per rule and warning in the AWS
 * CLI shapes (tests/fixtures/peering/), a seeded differential test against
 * a brute-force evaluation, bulk == single, candidates == filtering every
 * VPC through check (both strategies), reach and can-add cases.
 */
#include <cidrscope/peering.h>
#include <cidrscope/query.h>

#include "core/error_internal.h"
#include "query/peering_internal.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

static_assert(sizeof(cs_peering_verdict) == 4, "a verdict is 4 bytes");
static_assert(CS_PEER_CODE_COUNT <= 16, "reason bits fit in the u16 mask");

/* ---- names ------------------------------------------------------------------ */

static const char *const code_names[CS_PEER_CODE_COUNT] = {
    "same-vpc",       "unknown-vpc",   "cidr-overlap-ipv4",
    "cidr-overlap-ipv6", "already-peered", "quota-exceeded",
    "cross-region",   "cross-account", "routing-ambiguity",
};

const char *cs_peering_code_name(unsigned code)
{
    return code < CS_PEER_CODE_COUNT ? code_names[code] : "?";
}

const char *cs_peering_code_kind(unsigned code)
{
    if (code >= CS_PEER_CODE_COUNT)
        return "?";
    return (CS_PEER_BLOCKING_MASK >> code) & 1u ? "blocks" : "warns";
}

int cs_peering_code_parse(const char *s, size_t len)
{
    if (!s)
        return CS_EPARSE;
    for (unsigned i = 0; i < CS_PEER_CODE_COUNT; i++)
        if (strlen(code_names[i]) == len && memcmp(code_names[i], s, len) == 0)
            return (int)i;
    return CS_EPARSE;
}

const char *cs_peering_verdict_name(unsigned verdict)
{
    switch (verdict) {
    case CS_PEER_ELIGIBLE: return "eligible";
    case CS_PEER_ELIGIBLE_WARN: return "eligible-with-warnings";
    case CS_PEER_INELIGIBLE: return "ineligible";
    default: return "?";
    }
}

static const char *const reach_names[CS_REACH_CODE_COUNT] = {
    "local", "peered", "not-active", "transitive", "no-connection",
    "edge-to-edge", "own-edge", "outside", "unknown-vpc",
};

const char *cs_reach_code_name(unsigned code)
{
    return code < CS_REACH_CODE_COUNT ? reach_names[code] : "?";
}

static const char *const add_names[CS_ADD_CODE_COUNT] = {
    "unknown-vpc", "block-size",   "link-local",        "own-overlap",
    "association-restricted",      "block-quota",       "peer-overlap",
    "pending-requester",           "pending-request-fails", "peer-not-in-estate",
    "reserved-range",
};

const char *cs_can_add_code_name(unsigned code)
{
    return code < CS_ADD_CODE_COUNT ? add_names[code] : "?";
}

bool cs_can_add_code_blocks(unsigned code)
{
    return code < CS_ADD_CODE_COUNT && code != CS_ADD_PENDING_FAILS &&
           code != CS_ADD_PEER_UNKNOWN;
}

bool cs_pcx_status_counts(unsigned status)
{
    return status == CS_PCX_INITIATING_REQUEST || status == CS_PCX_PENDING_ACCEPTANCE ||
           status == CS_PCX_PROVISIONING || status == CS_PCX_ACTIVE ||
           status == CS_PCX_DELETING;
}

uint8_t pv_verdict_of(unsigned reasons)
{
    if (reasons & CS_PEER_BLOCKING_MASK)
        return CS_PEER_INELIGIBLE;
    return reasons ? CS_PEER_ELIGIBLE_WARN : CS_PEER_ELIGIBLE;
}

/* The quota to apply, or 0 when opts asks for more than AWS allows. */
uint32_t pv_quota_of(const cs_peering_opts *o)
{
    uint32_t q = o && o->quota ? o->quota : CS_PEERING_QUOTA_DEFAULT;
    return q <= CS_PEERING_QUOTA_MAX ? q : 0;
}

/* ---- snapshot helpers ---------------------------------------------------------- */

/* A VPC that can take part in peering: in the estate and not a prefix-list
 * owner (those are pseudo-VPCs standing for "amazon" and the like). */
bool pv_vpc_get(const cs_snapshot *s, uint32_t idx, cs_vpc *v)
{
    return idx != CS_IDX_NONE && cs_estate_vpc(s, idx, v) == 0 && !v->pseudo;
}

/* The other end of connection p seen from VPC v (v itself for a connection
 * of v with v, which AWS never makes but an input may claim). */
uint32_t pv_other_side(const cs_peering *p, uint32_t v)
{
    return p->requester.vpc_idx == v ? p->accepter.vpc_idx : p->requester.vpc_idx;
}

bool pv_region_known(const cs_snapshot *s, uint32_t region_idx)
{
    cs_region r;
    return cs_estate_region(s, region_idx, &r) == 0 && r.name[0] != '\0';
}

/* Walks VPC v's connections once each: calls fn(p, pcx_idx, ctx) until it
 * returns non-zero (returned). */
int pv_each_connection(const cs_snapshot *s, uint32_t v, pv_pcx_fn fn, void *ctx)
{
    uint32_t n = 0;
    const uint32_t *list = cs_estate_vpc_peerings(s, v, &n);
    for (uint32_t i = 0; i < n; i++) {
        if (i && list[i] == list[i - 1])
            continue;
        cs_peering p;
        if (cs_estate_peering(s, list[i], &p) != 0)
            continue;
        int rc = fn(&p, list[i], ctx);
        if (rc)
            return rc;
    }
    return 0;
}

uint32_t cs_peering_active_count(const cs_snapshot *s, uint32_t vpc)
{
    uint32_t n = 0, active = 0;
    const uint32_t *list = s ? cs_estate_vpc_peerings(s, vpc, &n) : NULL;
    for (uint32_t i = 0; i < n; i++) {
        cs_peering p;
        if ((i && list[i] == list[i - 1]) || cs_estate_peering(s, list[i], &p) != 0)
            continue;
        active += p.status == CS_PCX_ACTIVE;
    }
    return active;
}

/* The connection between v and `other` to report: ACTIVE first, then any
 * other counting status, then (when `any`) the ended ones. */
int pv_best_connection(const cs_snapshot *s, uint32_t v, uint32_t other, bool any,
                           uint32_t *pcx, uint8_t *status)
{
    uint32_t n = 0, best = CS_IDX_NONE;
    int rank = 0;
    uint8_t st = 0;
    const uint32_t *list = cs_estate_vpc_peerings(s, v, &n);
    for (uint32_t i = 0; i < n; i++) {
        cs_peering p;
        if ((i && list[i] == list[i - 1]) || cs_estate_peering(s, list[i], &p) != 0)
            continue;
        if (pv_other_side(&p, v) != other)
            continue;
        int r = p.status == CS_PCX_ACTIVE ? 3 : cs_pcx_status_counts(p.status) ? 2 : any ? 1 : 0;
        if (r > rank) {
            rank = r;
            best = list[i];
            st = p.status;
        }
    }
    if (!rank)
        return 0;
    if (pcx)
        *pcx = best;
    if (status)
        *status = st;
    return 1;
}

int cs_peering_connection(const cs_snapshot *s, uint32_t a, uint32_t b, uint32_t *pcx)
{
    if (!s)
        return CS_EINVAL;
    if (a == CS_IDX_NONE || b == CS_IDX_NONE)
        return 0;
    return pv_best_connection(s, a, b, false, pcx, NULL);
}

/* First index j with vals[j] >= key (vals ascending). */
static uint32_t lower_bound(const uint32_t *vals, uint32_t n, uint32_t key)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (vals[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* ---- pair evaluation through the trie -------------------------------------------- */

/* A VPC sought in the values of overlap matches: its association range
 * [begin, end), and the connection that made it interesting (routing). */
typedef struct target {
    uint32_t vpc, begin, end, pcx;
} target;

/* Peers looked for per trie pass; VPCs with more active peers than this
 * (AWS allows 125) are handled in several passes. */
#define TARGETS_CAP 128

typedef struct ev_sink {
    cs_peering_reason *out;
    size_t cap;
    int64_t n;
    unsigned mask;  /* codes whose evidence is wanted (0: check only) */
    unsigned bits;  /* codes found */
} ev_sink;

static cs_peering_reason reason_new(unsigned code)
{
    cs_peering_reason r;
    memset(&r, 0, sizeof r);
    r.code = (uint8_t)code;
    r.pcx = r.third = r.assoc[0] = r.assoc[1] = CS_IDX_NONE;
    return r;
}

static void put(ev_sink *k, const cs_peering_reason *r)
{
    k->bits |= 1u << r->code;
    if (!((k->mask >> r->code) & 1u))
        return;
    if ((size_t)k->n < k->cap)
        k->out[k->n] = *r;
    k->n++;
}

static bool wants(const ev_sink *k, unsigned code)
{
    return (k->mask >> code) & 1u;
}

/* One trie pass: every live block of VPC x against the targets. */
typedef struct walk {
    const cs_snapshot *s;
    ev_sink *k;
    const target *t;
    size_t nt;
    unsigned mode;  /* W_OVERLAP or W_ROUTING */
    uint8_t side;   /* W_ROUTING: the hub's side (the targets' peer) */
    unsigned done;  /* families no longer needed: 1 IPv4, 2 IPv6 */
    bool stop;
} walk;

enum { W_OVERLAP, W_ROUTING };

static void walk_hit(walk *w, uint32_t x_assoc, uint8_t family, const target *t, uint32_t y_assoc)
{
    if (w->mode == W_OVERLAP) {
        unsigned code = family == CS_AF_V4 ? CS_PEER_OVERLAP_V4 : CS_PEER_OVERLAP_V6;
        cs_peering_reason r = reason_new(code);
        r.assoc[0] = x_assoc;
        r.assoc[1] = y_assoc;
        put(w->k, &r);
        if (!wants(w->k, code))
            w->done |= family == CS_AF_V4 ? 1u : 2u;
    } else {
        cs_peering_reason r = reason_new(CS_PEER_ROUTING_AMBIGUITY);
        r.side = w->side;
        r.third = t->vpc;
        r.pcx = t->pcx;
        r.assoc[0] = y_assoc; /* the third VPC's block */
        r.assoc[1] = x_assoc; /* the block of the side that is not the hub */
        put(w->k, &r);
        if (!wants(w->k, CS_PEER_ROUTING_AMBIGUITY))
            w->stop = true;
    }
}

/* One overlap query per live block of vx; each match's values (ascending
 * association indices) are searched for each target's range. */
static void walk_blocks(walk *w, const cs_vpc *vx)
{
    for (uint32_t i = 0; i < vx->assoc_count && !w->stop; i++) {
        uint32_t ai = vx->assoc_begin + i;
        cs_assoc a;
        if (cs_estate_assoc(w->s, ai, &a) != 0 || !a.live)
            continue;
        unsigned fb = a.prefix.family == CS_AF_V4 ? 1u : 2u;
        if (w->done & fb)
            continue;
        cs_query_iter it;
        cs_query_iter_init(&it, w->s, &a.prefix, CS_Q_OVERLAPPING);
        cs_match m;
        while (!w->stop && !(w->done & fb) && cs_query_iter_next(&it, &m) > 0) {
            for (size_t k = 0; k < w->nt && !w->stop && !(w->done & fb); k++) {
                const target *t = &w->t[k];
                for (uint32_t j = lower_bound(m.values, m.count, t->begin);
                     j < m.count && m.values[j] < t->end; j++) {
                    walk_hit(w, ai, a.prefix.family, t, m.values[j]);
                    if (w->stop || (w->done & fb))
                        break;
                }
            }
        }
    }
}

/* Fills t with up to cap ACTIVE peers of x (known VPCs other than x and
 * `exclude`), continuing from list position *pos. */
static size_t next_active_peers(const cs_snapshot *s, uint32_t x, uint32_t exclude,
                                uint32_t *pos, target *t, size_t cap)
{
    uint32_t n = 0;
    const uint32_t *list = cs_estate_vpc_peerings(s, x, &n);
    size_t k = 0;
    while (*pos < n && k < cap) {
        uint32_t i = (*pos)++;
        if (i && list[i] == list[i - 1])
            continue;
        cs_peering p;
        if (cs_estate_peering(s, list[i], &p) != 0 || p.status != CS_PCX_ACTIVE)
            continue;
        uint32_t o = pv_other_side(&p, x);
        cs_vpc ov;
        if (o == exclude || o == x || !pv_vpc_get(s, o, &ov))
            continue;
        t[k].vpc = o;
        t[k].begin = ov.assoc_begin;
        t[k].end = ov.assoc_begin + ov.assoc_count;
        t[k].pcx = list[i];
        k++;
    }
    return k;
}

/* Routing ambiguity with `hub` as the side already peered: the hub's active
 * peers (other than `other`) searched among the blocks overlapping
 * `other`'s. */
static void routing_pass(const cs_snapshot *s, ev_sink *k, uint32_t hub, uint8_t hub_side,
                         uint32_t other, const cs_vpc *vother)
{
    target t[TARGETS_CAP];
    uint32_t pos = 0;
    for (;;) {
        size_t nt = next_active_peers(s, hub, other, &pos, t, TARGETS_CAP);
        if (!nt)
            return;
        walk w = {s, k, t, nt, W_ROUTING, hub_side, 0, false};
        walk_blocks(&w, vother);
        if (w.stop)
            return;
    }
}

typedef struct peered_ctx {
    uint32_t a, b;
    ev_sink *k;
} peered_ctx;

static int peered_each(const cs_peering *p, uint32_t pcx, void *ctx)
{
    peered_ctx *c = ctx;
    if (pv_other_side(p, c->a) != c->b || !cs_pcx_status_counts(p->status))
        return 0;
    cs_peering_reason r = reason_new(CS_PEER_ALREADY_PEERED);
    r.pcx = pcx;
    r.status = p->status;
    put(c->k, &r);
    return wants(c->k, CS_PEER_ALREADY_PEERED) ? 0 : 1;
}

/* Every rule, in code order, for the pair (a, b). */
static void evaluate(const cs_snapshot *s, uint32_t a, uint32_t b, uint32_t quota, ev_sink *k)
{
    cs_vpc va, vb;
    bool ka = pv_vpc_get(s, a, &va), kb = pv_vpc_get(s, b, &vb);
    if (!ka || !kb) {
        for (uint8_t side = 0; side < 2; side++) {
            if (side ? kb : ka)
                continue;
            cs_peering_reason r = reason_new(CS_PEER_UNKNOWN_VPC);
            r.side = side;
            put(k, &r);
        }
        return;
    }
    if (a == b) {
        cs_peering_reason r = reason_new(CS_PEER_SAME_VPC);
        put(k, &r);
        return;
    }
    /* Explain asks for some codes only: the others need not be evaluated
     * (check, with an empty mask, evaluates everything). */
    unsigned need = k->mask ? k->mask : (1u << CS_PEER_CODE_COUNT) - 1;
    /* Overlaps: one query per live block of a, looking for b's blocks. */
    if (need & ((1u << CS_PEER_OVERLAP_V4) | (1u << CS_PEER_OVERLAP_V6))) {
        target tb = {b, vb.assoc_begin, vb.assoc_begin + vb.assoc_count, CS_IDX_NONE};
        walk w = {s, k, &tb, 1, W_OVERLAP, 0, 0, false};
        if (!(need & (1u << CS_PEER_OVERLAP_V4)))
            w.done |= 1u;
        if (!(need & (1u << CS_PEER_OVERLAP_V6)))
            w.done |= 2u;
        walk_blocks(&w, &va);
    }
    if (need & (1u << CS_PEER_ALREADY_PEERED)) {
        peered_ctx pc = {a, b, k};
        pv_each_connection(s, a, peered_each, &pc);
    }
    for (uint8_t side = 0; side < 2 && (need & (1u << CS_PEER_QUOTA)); side++) {
        uint32_t n = cs_peering_active_count(s, side ? b : a);
        if (n >= quota) {
            cs_peering_reason r = reason_new(CS_PEER_QUOTA);
            r.side = side;
            r.count = n;
            put(k, &r);
        }
    }
    if (va.region_idx != vb.region_idx && pv_region_known(s, va.region_idx) &&
        pv_region_known(s, vb.region_idx)) {
        cs_peering_reason r = reason_new(CS_PEER_CROSS_REGION);
        put(k, &r);
    }
    if (va.account_idx != vb.account_idx) {
        cs_peering_reason r = reason_new(CS_PEER_CROSS_ACCOUNT);
        put(k, &r);
    }
    /* a as the hub: a's active peers among the blocks overlapping b's; then
     * b as the hub. */
    if (!(need & (1u << CS_PEER_ROUTING_AMBIGUITY)))
        return;
    routing_pass(s, k, a, 0, b, &vb);
    if (!(k->bits & (1u << CS_PEER_ROUTING_AMBIGUITY)) || wants(k, CS_PEER_ROUTING_AMBIGUITY))
        routing_pass(s, k, b, 1, a, &va);
}

int cs_peering_check(const cs_snapshot *s, uint32_t a, uint32_t b, const cs_peering_opts *opts,
                     cs_peering_verdict *out)
{
    uint32_t q = pv_quota_of(opts);
    if (!s || !out || !q)
        return CS_EINVAL;
    ev_sink k = {NULL, 0, 0, 0, 0};
    evaluate(s, a, b, q, &k);
    out->reasons = (uint16_t)k.bits;
    out->verdict = pv_verdict_of(k.bits);
    out->reserved = 0;
    return 0;
}

int64_t cs_peering_explain(const cs_snapshot *s, uint32_t a, uint32_t b,
                           const cs_peering_opts *opts, unsigned mask, cs_peering_reason *out,
                           size_t cap)
{
    uint32_t q = pv_quota_of(opts);
    if (!s || !q || (cap && !out))
        return CS_EINVAL;
    ev_sink k = {out, cap, 0, mask & ((1u << CS_PEER_CODE_COUNT) - 1), 0};
    evaluate(s, a, b, q, &k);
    return k.n;
}
