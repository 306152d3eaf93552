/*
 * engine/query/peering.c — AWS VPC peering rules on the frozen estate: pair
 * verdicts with their evidence, the bulk index, candidates, mesh plans,
 * reachability and block additions (include/cidrscope/peering.h).
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
 *   snapshot ──> cs_peering_index (peering_internal.h: per-VPC records,
 *                sorted block intervals, peer lists, peer envelopes,
 *                VPCs by region) ──> eval_pair(): merge-style interval
 *                tests, O(a+b) per pair, prefetched across pairs
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
 *   can-add: Amazon VPC User Guide, "VPC CIDR blocks" (vpc-cidr-blocks.html):
 *     IPv4 blocks /16../28; "must not overlap with any existing CIDR block
 *     that's associated with the VPC"; the quota of blocks (5 IPv4 and 5
 *     IPv6 by default, up to 50: amazon-vpc-limits.html); the table "IPv4
 *     CIDR block association restrictions" (cs_peering_restriction below;
 *     link-local 169.254.0.0/16 "cannot be assigned to VPCs"); and for a VPC
 *     in a peering connection: "If the VPC peering connection is active,
 *     you can add CIDR blocks to a VPC provided they do not overlap with a
 *     CIDR block of the peer VPC"; "If the VPC peering connection is
 *     pending-acceptance, the owner of the requester VPC cannot add any CIDR
 *     block to the VPC"; "the owner of the accepter VPC can add CIDR blocks
 *     ... If a secondary CIDR block overlaps with a CIDR block of the
 *     requester VPC, the VPC peering connection request fails". IPv6 blocks:
 *     Amazon's are /56; BYOIP and IPAM pools allow /44../60 (the estate's
 *     own check, engine/build/estate.c). Route-table destinations and Direct
 *     Connect gateway peers are not in the estate and are not checked.
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
#include <sys/mman.h>

static_assert(sizeof(pv_head) == 32, "a segment head is 32 bytes");
static_assert(sizeof(pv_blk4) == 8, "IPv4 interval is 8 bytes");
static_assert(sizeof(pv_blk6) == 32, "IPv6 interval is 32 bytes");
static_assert(sizeof(pv_pblk6) == 40, "IPv6 envelope entry is 40 bytes");
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

static uint8_t verdict_of(unsigned reasons)
{
    if (reasons & CS_PEER_BLOCKING_MASK)
        return CS_PEER_INELIGIBLE;
    return reasons ? CS_PEER_ELIGIBLE_WARN : CS_PEER_ELIGIBLE;
}

/* The quota to apply, or 0 when opts asks for more than AWS allows. */
static uint32_t quota_of(const cs_peering_opts *o)
{
    uint32_t q = o && o->quota ? o->quota : CS_PEERING_QUOTA_DEFAULT;
    return q <= CS_PEERING_QUOTA_MAX ? q : 0;
}

/* ---- snapshot helpers ---------------------------------------------------------- */

/* A VPC that can take part in peering: in the estate and not a prefix-list
 * owner (those are pseudo-VPCs standing for "amazon" and the like). */
static bool vpc_get(const cs_snapshot *s, uint32_t idx, cs_vpc *v)
{
    return idx != CS_IDX_NONE && cs_estate_vpc(s, idx, v) == 0 && !v->pseudo;
}

/* The other end of connection p seen from VPC v (v itself for a connection
 * of v with v, which AWS never makes but an input may claim). */
static uint32_t other_side(const cs_peering *p, uint32_t v)
{
    return p->requester.vpc_idx == v ? p->accepter.vpc_idx : p->requester.vpc_idx;
}

static bool region_known(const cs_snapshot *s, uint32_t region_idx)
{
    cs_region r;
    return cs_estate_region(s, region_idx, &r) == 0 && r.name[0] != '\0';
}

/* Walks VPC v's connections once each: calls fn(p, pcx_idx, ctx) until it
 * returns non-zero (returned). */
typedef int (*pcx_fn)(const cs_peering *p, uint32_t pcx, void *ctx);

static int each_connection(const cs_snapshot *s, uint32_t v, pcx_fn fn, void *ctx)
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
static int best_connection(const cs_snapshot *s, uint32_t v, uint32_t other, bool any,
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
        if (other_side(&p, v) != other)
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
    return best_connection(s, a, b, false, pcx, NULL);
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
        uint32_t o = other_side(&p, x);
        cs_vpc ov;
        if (o == exclude || o == x || !vpc_get(s, o, &ov))
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
    if (other_side(p, c->a) != c->b || !cs_pcx_status_counts(p->status))
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
    bool ka = vpc_get(s, a, &va), kb = vpc_get(s, b, &vb);
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
        each_connection(s, a, peered_each, &pc);
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
    if (va.region_idx != vb.region_idx && region_known(s, va.region_idx) &&
        region_known(s, vb.region_idx)) {
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
    uint32_t q = quota_of(opts);
    if (!s || !out || !q)
        return CS_EINVAL;
    ev_sink k = {NULL, 0, 0, 0, 0};
    evaluate(s, a, b, q, &k);
    out->reasons = (uint16_t)k.bits;
    out->verdict = verdict_of(k.bits);
    out->reserved = 0;
    return 0;
}

int64_t cs_peering_explain(const cs_snapshot *s, uint32_t a, uint32_t b,
                           const cs_peering_opts *opts, unsigned mask, cs_peering_reason *out,
                           size_t cap)
{
    uint32_t q = quota_of(opts);
    if (!s || !q || (cap && !out))
        return CS_EINVAL;
    ev_sink k = {out, cap, 0, mask & ((1u << CS_PEER_CODE_COUNT) - 1), 0};
    evaluate(s, a, b, q, &k);
    return k.n;
}

/* ---- the index ---------------------------------------------------------------------- */

static void interval4(const cs_prefix *p, pv_blk4 *b)
{
    uint32_t first = (uint32_t)(p->hi >> 32);
    uint32_t span = p->len == 0 ? UINT32_MAX : (p->len >= 32 ? 0 : (UINT32_MAX >> p->len));
    b->first = first;
    b->last = first | span;
}

static void interval6(const cs_prefix *p, pv_blk6 *b)
{
    b->fhi = p->hi;
    b->flo = p->lo;
    if (p->len == 0) {
        b->lhi = b->llo = UINT64_MAX;
    } else if (p->len < 64) {
        b->lhi = p->hi | (UINT64_MAX >> p->len);
        b->llo = UINT64_MAX;
    } else if (p->len == 64) {
        b->lhi = p->hi;
        b->llo = UINT64_MAX;
    } else {
        b->lhi = p->hi;
        b->llo = p->lo | (p->len >= 128 ? 0 : UINT64_MAX >> (p->len - 64));
    }
}

static int cmp_blk4(const void *x, const void *y)
{
    const pv_blk4 *a = x, *b = y;
    return (a->first > b->first) - (a->first < b->first);
}

static int cmp_blk6(const void *x, const void *y)
{
    const pv_blk6 *a = x, *b = y;
    if (a->fhi != b->fhi)
        return a->fhi < b->fhi ? -1 : 1;
    return (a->flo > b->flo) - (a->flo < b->flo);
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
    uint32_t o = other_side(p, c->v);
    cs_vpc ov;
    if (o == c->v || !cs_pcx_status_counts(p->status) || !vpc_get(c->s, o, &ov))
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
 *   1. per VPC: live IPv4 blocks (sorted) into a temporary run, IPv6 blocks
 *      into blk6, counting connections into a temporary peer run, heads;
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
    uint32_t *tpeer = NULL;
    if (!ix->slots || !ix->region_idx || !ix->v6 || !ix->region_begin || !ix->by_region ||
        !ix->blk6 || !rknown || !tb4 || !b4at)
        goto nomem;
    for (uint32_t r = 0; r < c.regions; r++)
        rknown[r] = region_known(s, r);

    /* Pass 1: blocks and heads; count counting connections. */
    uint64_t k4 = 0, k6 = 0, tp = 0;
    for (uint32_t v = 0; v < n; v++) {
        cs_vpc vpc;
        b4at[v] = k4;
        if (cs_estate_vpc(s, v, &vpc) != 0)
            continue;
        pv_head *h = head_w(ix, v);
        ix->v6[v].b6 = (uint32_t)k6;
        for (uint32_t i = 0; i < vpc.assoc_count; i++) {
            cs_assoc a;
            if (cs_estate_assoc(s, vpc.assoc_begin + i, &a) != 0 || !a.live)
                continue;
            if (a.prefix.family == CS_AF_V4 && k4 < n4all)
                interval4(&a.prefix, &tb4[k4++]);
            else if (a.prefix.family == CS_AF_V6 && k6 < n6all)
                interval6(&a.prefix, &ix->blk6[k6++]);
        }
        h->n4 = (uint32_t)(k4 - b4at[v]);
        ix->v6[v].n6 = (uint32_t)(k6 - ix->v6[v].b6);
        if (h->n4 > 1)
            qsort(tb4 + b4at[v], h->n4, sizeof *tb4, cmp_blk4);
        if (ix->v6[v].n6 > 1)
            qsort(ix->blk6 + ix->v6[v].b6, ix->v6[v].n6, sizeof *ix->blk6, cmp_blk6);
        conn_pass cp = {s, v, NULL, 0, 0};
        if (!vpc.pseudo)
            each_connection(s, v, conn_each, &cp);
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
    b4at[n] = k4;
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
        each_connection(s, v, conn_each, &cp);
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
    free(pat);
    free(eat);
    return index_fail(ix, err, CS_ERANGE);
nomem:
    free(rknown);
    free(tb4);
    free(tenv);
    free(tpeer);
    free(b4at);
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
        if (pv_overlap4(pv_blk4_of(ix, hc), hc->n4, ob, on))
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
    if (pv_overlap4(ba, ha->n4, bb, hb->n4))
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
    } else if ((ha->nenv && pv_overlap4(pv_env4_of(ix, ha), ha->nenv, bb, hb->n4)) ||
               (hb->nenv && pv_overlap4(pv_env4_of(ix, hb), hb->nenv, ba, ha->n4))) {
        r |= 1u << CS_PEER_ROUTING_AMBIGUITY;
    }
    /* IPv6: only VPCs that have it pay for it. */
    unsigned fa = ha->flags, fb = hb->flags;
    if ((fa & fb & PV_HAS_V6) || ((fa & PV_HAS_PB6) && (fb & PV_HAS_V6)) ||
        ((fb & PV_HAS_PB6) && (fa & PV_HAS_V6))) {
        const pv_v6 *xa = &ix->v6[a], *xb = &ix->v6[b];
        if (xa->n6 && xb->n6 &&
            pv_overlap6(ix->blk6 + xa->b6, xa->n6, ix->blk6 + xb->b6, xb->n6))
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
    uint32_t q = quota_of(opts);
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
        out[i].verdict = verdict_of(r);
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
    if (pv_overlap4(pv_blk4_of(ix, ha), ha->n4, pv_blk4_of(ix, hb), hb->n4))
        return true;
    const pv_v6 *xa = &ix->v6[a], *xb = &ix->v6[b];
    return xa->n6 && xb->n6 &&
           pv_overlap6(ix->blk6 + xa->b6, xa->n6, ix->blk6 + xb->b6, xb->n6);
}

int64_t cs_peering_candidates(const cs_peering_index *ix, uint32_t vpc,
                              const cs_peering_filter *filter, const cs_peering_opts *opts,
                              uint32_t *out, size_t cap, cs_peering_cand_stats *stats)
{
    uint32_t q = quota_of(opts);
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
    if (!best_connection(s, a, b, false, &c, &st))
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
    uint32_t q = quota_of(opts);
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
        rows[i].vpc = vpc_get(s, vpcs[i], &v) ? vpcs[i] : CS_IDX_NONE;
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
    uint32_t b = other_side(p, t->src);
    cs_vpc bv;
    if (b == t->x || b == t->src || !vpc_get(t->r->s, b, &bv))
        return 0;
    uint32_t bx;
    uint8_t st;
    if (!best_connection(t->r->s, b, t->x, false, &bx, &st) || st != CS_PCX_ACTIVE)
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
    if (best_connection(r->s, src, x, true, &pcx, &st)) {
        f.pcx = pcx;
        f.status = st;
        if (st == CS_PCX_ACTIVE) {
            cs_vpc a, b;
            f.code = CS_REACH_PEERED;
            f.sg_refs = vpc_get(r->s, src, &a) && vpc_get(r->s, x, &b) &&
                        a.region_idx == b.region_idx && region_known(r->s, a.region_idx);
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
    if (each_connection(r->s, src, trans_each, &t))
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
    if (!vpc_get(r->s, v, &vv))
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
    uint32_t b = other_side(p, e->v);
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
    if (each_connection(r->s, v, peer_edges_each, &e))
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
            if (!vpc_get(r->s, v, &vv))
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
        (src->vpc != CS_IDX_NONE && !vpc_get(s, src->vpc, &v)) ||
        (dst->vpc != CS_IDX_NONE && !vpc_get(s, dst->vpc, &v))) {
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

/* ---- adding a block ----------------------------------------------------------------- */

static cs_prefix v4p(uint32_t a, unsigned len)
{
    return cs_prefix_from_v4(a, len);
}

/*
 * The "IPv4 CIDR block association restrictions" table (Amazon VPC User
 * Guide, vpc-cidr-blocks.html), read with the row chosen by the range of the
 * VPC's primary block:
 *
 *   primary in       restricted
 *   10.0.0.0/8       172.16.0.0/12, 192.168.0.0/16, 198.19.0.0/16; and when
 *                    any block of the VPC is in 10.0.0.0/15, 10.0.0.0/16
 *   172.16.0.0/12    10.0.0.0/8, 192.168.0.0/16, 198.19.0.0/16; and when any
 *                    block is in 172.31.0.0/16, 172.16.0.0/15
 *   192.168.0.0/16   10.0.0.0/8, 172.16.0.0/12, 198.19.0.0/16
 *   198.19.0.0/16    the RFC 1918 ranges
 *   anything else    the RFC 1918 ranges, 198.19.0.0/16
 *   (public, 100.64.0.0/10)
 *
 * (169.254.0.0/16 is refused for every VPC: CS_ADD_LINK_LOCAL.) The same
 * table drives the estate's freeze-time findings (engine/build/estate.c).
 */
unsigned cs_peering_restriction(const cs_prefix *primary, const cs_prefix *live4, size_t n,
                                const cs_prefix *s, size_t *culprit)
{
    const cs_prefix r10 = v4p(0x0a000000u, 8), r172 = v4p(0xac100000u, 12),
                    r192 = v4p(0xc0a80000u, 16), r198 = v4p(0xc6130000u, 16);
    bool s10 = cs_prefix_overlaps(s, &r10), s172 = cs_prefix_overlaps(s, &r172),
         s192 = cs_prefix_overlaps(s, &r192), s198 = cs_prefix_overlaps(s, &r198);
    *culprit = (size_t)-1;
    if (cs_prefix_contains(&r10, primary)) {
        if (s172 || s192)
            return CS_RULE_OTHER_RFC1918;
        const cs_prefix r10_15 = v4p(0x0a000000u, 15), r10_16 = v4p(0x0a000000u, 16);
        if (cs_prefix_overlaps(s, &r10_16))
            for (size_t i = 0; i < n; i++)
                if (cs_prefix_contains(&r10_15, &live4[i])) {
                    *culprit = i;
                    return CS_RULE_10_0_16;
                }
        return s198 ? CS_RULE_198_19 : 0;
    }
    if (cs_prefix_contains(&r172, primary)) {
        if (s10 || s192)
            return CS_RULE_OTHER_RFC1918;
        const cs_prefix r172_31 = v4p(0xac1f0000u, 16), r172_15 = v4p(0xac100000u, 15);
        if (cs_prefix_overlaps(s, &r172_15))
            for (size_t i = 0; i < n; i++)
                if (cs_prefix_contains(&r172_31, &live4[i])) {
                    *culprit = i;
                    return CS_RULE_172_16_15;
                }
        return s198 ? CS_RULE_198_19 : 0;
    }
    if (cs_prefix_contains(&r192, primary)) {
        if (s10 || s172)
            return CS_RULE_OTHER_RFC1918;
        return s198 ? CS_RULE_198_19 : 0;
    }
    if (cs_prefix_contains(&r198, primary))
        return s10 || s172 || s192 ? CS_RULE_PUBLIC_RFC1918 : 0;
    if (s10 || s172 || s192)
        return CS_RULE_PUBLIC_RFC1918;
    return s198 ? CS_RULE_198_19 : 0;
}

typedef struct add_sink {
    cs_can_add_reason *out;
    size_t cap;
    int64_t n;
} add_sink;

static cs_can_add_reason add_new(unsigned code)
{
    cs_can_add_reason r;
    memset(&r, 0, sizeof r);
    r.code = (uint8_t)code;
    r.assoc = r.pcx = r.peer = CS_IDX_NONE;
    return r;
}

static void add_put(add_sink *k, const cs_can_add_reason *r)
{
    if ((size_t)k->n < k->cap)
        k->out[k->n] = *r;
    k->n++;
}

/* Live blocks of `other` (same family as p) overlapping p, as `code`. */
static void peer_blocks(const cs_snapshot *s, add_sink *k, unsigned code, uint32_t other,
                        uint32_t pcx, uint8_t status, const cs_prefix *p)
{
    cs_vpc ov;
    if (!vpc_get(s, other, &ov)) {
        cs_can_add_reason r = add_new(CS_ADD_PEER_UNKNOWN);
        r.pcx = pcx;
        r.status = status;
        add_put(k, &r);
        return;
    }
    for (uint32_t i = 0; i < ov.assoc_count; i++) {
        cs_assoc a;
        if (cs_estate_assoc(s, ov.assoc_begin + i, &a) != 0 || !a.live ||
            !cs_prefix_overlaps(&a.prefix, p))
            continue;
        cs_can_add_reason r = add_new(code);
        r.assoc = ov.assoc_begin + i;
        r.pcx = pcx;
        r.peer = other;
        r.status = status;
        add_put(k, &r);
    }
}

typedef struct add_ctx {
    const cs_snapshot *s;
    add_sink *k;
    uint32_t vpc;
    const cs_prefix *p;
} add_ctx;

static int add_peer_each(const cs_peering *pc, uint32_t pcx, void *ctx)
{
    add_ctx *c = ctx;
    uint32_t other = other_side(pc, c->vpc);
    if (other == c->vpc)
        return 0;
    switch (pc->status) {
    case CS_PCX_ACTIVE:
    case CS_PCX_PROVISIONING:
        peer_blocks(c->s, c->k, CS_ADD_PEER_OVERLAP, other, pcx, pc->status, c->p);
        break;
    case CS_PCX_PENDING_ACCEPTANCE:
    case CS_PCX_INITIATING_REQUEST:
        if (pc->requester.vpc_idx == c->vpc && c->p->family == CS_AF_V4) {
            cs_can_add_reason r = add_new(CS_ADD_PENDING_REQUESTER);
            r.pcx = pcx;
            r.peer = other;
            r.status = pc->status;
            add_put(c->k, &r);
        } else {
            peer_blocks(c->s, c->k, CS_ADD_PENDING_FAILS, other, pcx, pc->status, c->p);
        }
        break;
    default:
        break; /* deleting and ended connections restrict nothing */
    }
    return 0;
}

/* A VPC has at most this many live IPv4 blocks considered for the
 * restriction table (AWS allows 50). */
#define ADD_LIVE_CAP 64

int64_t cs_peering_can_add(const cs_snapshot *s, uint32_t vpc, const cs_prefix *p,
                           const cs_can_add_opts *o, cs_can_add_reason *out, size_t cap)
{
    uint32_t q4 = o && o->v4_quota ? o->v4_quota : 5, q6 = o && o->v6_quota ? o->v6_quota : 5;
    if (!s || !p || (cap && !out) || q4 > 50 || q6 > 50 ||
        (p->family != CS_AF_V4 && p->family != CS_AF_V6))
        return CS_EINVAL;
    add_sink k = {out, cap, 0};
    cs_vpc v;
    if (!vpc_get(s, vpc, &v)) {
        cs_can_add_reason r = add_new(CS_ADD_UNKNOWN_VPC);
        add_put(&k, &r);
        return k.n;
    }
    bool v4 = p->family == CS_AF_V4;
    if (v4 ? (p->len < 16 || p->len > 28) : (p->len < 44 || p->len > 60)) {
        cs_can_add_reason r = add_new(CS_ADD_BLOCK_SIZE);
        add_put(&k, &r);
    }
    const cs_prefix ll = v4p(0xa9fe0000u, 16);
    if (v4 && cs_prefix_overlaps(p, &ll)) {
        cs_can_add_reason r = add_new(CS_ADD_LINK_LOCAL);
        add_put(&k, &r);
    }
    cs_prefix live4[ADD_LIVE_CAP];
    uint32_t live4_idx[ADD_LIVE_CAP];
    size_t n4 = 0, primary = (size_t)-1;
    uint32_t fam_live = 0;
    for (uint32_t i = 0; i < v.assoc_count; i++) {
        cs_assoc a;
        if (cs_estate_assoc(s, v.assoc_begin + i, &a) != 0 || !a.live)
            continue;
        if (a.prefix.family == p->family) {
            fam_live++;
            if (cs_prefix_overlaps(&a.prefix, p)) {
                cs_can_add_reason r = add_new(CS_ADD_OWN_OVERLAP);
                r.assoc = v.assoc_begin + i;
                add_put(&k, &r);
            }
        }
        if (a.prefix.family == CS_AF_V4 && n4 < ADD_LIVE_CAP) {
            if (a.primary && primary == (size_t)-1)
                primary = n4;
            live4_idx[n4] = v.assoc_begin + i;
            live4[n4++] = a.prefix;
        }
    }
    /* Without a block marked primary, the first live IPv4 block stands for
     * it (associations are frozen primary first). */
    if (primary == (size_t)-1 && n4)
        primary = 0;
    if (v4 && primary != (size_t)-1) {
        size_t culprit;
        unsigned rule = cs_peering_restriction(&live4[primary], live4, n4, p, &culprit);
        if (rule) {
            cs_can_add_reason r = add_new(CS_ADD_RESTRICTED);
            r.rule = (uint8_t)rule;
            r.assoc = live4_idx[culprit == (size_t)-1 ? primary : culprit];
            add_put(&k, &r);
        }
    }
    uint32_t q = v4 ? q4 : q6;
    if (fam_live >= q) {
        cs_can_add_reason r = add_new(CS_ADD_BLOCK_QUOTA);
        r.count = fam_live;
        r.limit = q;
        add_put(&k, &r);
    }
    add_ctx c = {s, &k, vpc, p};
    each_connection(s, vpc, add_peer_each, &c);
    return k.n;
}
