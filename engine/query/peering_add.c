/*
 * engine/query/peering_add.c — may a block be associated with a VPC now:
 * the AWS rules for a VPC's blocks (engine/core/aws_rules.c: sizes,
 * reserved ranges, the association-restriction table), overlap with the
 * VPC's own live blocks, the block quota, and the VPC's peering
 * connections.
 *
 * Sources: Amazon VPC User Guide, "VPC CIDR blocks" (vpc-cidr-blocks.html)
 * for the block rules (cited row by row in engine/core/aws_rules.c); VPC
 * Peering Guide for a VPC in a peering connection: "If the VPC peering
 * connection is active, you can add CIDR blocks to a VPC provided they do
 * not overlap with a CIDR block of the peer VPC"; "If the VPC peering
 * connection is pending-acceptance, the owner of the requester VPC cannot
 * add any CIDR block to the VPC"; "the owner of the accepter VPC can add
 * CIDR blocks ... If a secondary CIDR block overlaps with a CIDR block of
 * the requester VPC, the VPC peering connection request fails". Route-table
 * destinations and Direct Connect gateway peers are not in the estate and
 * are not checked.
 *
 * Does not allocate. Tests: tests/test_peering.c (can-add cases),
 * tests/test_aws_rules.c (every row of the table, and that can-add agrees
 * with the estate's findings).
 */
#include <cidrscope/peering.h>
#include <cidrscope/query.h>

#include "core/error_internal.h"
#include "query/peering_internal.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include "core/aws_rules_internal.h"

/* ---- adding a block ----------------------------------------------------------------- */

static_assert((int)CS_RULE_OTHER_RFC1918 == (int)CS_AWS_OTHER_RFC1918 &&
                  (int)CS_RULE_10_0_16 == (int)CS_AWS_10_0_16 &&
                  (int)CS_RULE_172_31_16 == (int)CS_AWS_172_31_16 &&
                  (int)CS_RULE_198_19 == (int)CS_AWS_198_19 &&
                  (int)CS_RULE_PUBLIC_RFC1918 == (int)CS_AWS_NON_RFC1918,
              "the public rule codes are the table's");

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
    if (!pv_vpc_get(s, other, &ov)) {
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
    uint32_t other = pv_other_side(pc, c->vpc);
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
 * restriction table (AWS allows 50; more is a quota reason already). */
#define ADD_LIVE_CAP 64

int64_t cs_peering_can_add(const cs_snapshot *s, uint32_t vpc, const cs_prefix *p,
                           const cs_can_add_opts *o, cs_can_add_reason *out, size_t cap)
{
    uint32_t q4 = o && o->v4_quota ? o->v4_quota : CS_AWS_BLOCK_QUOTA,
             q6 = o && o->v6_quota ? o->v6_quota : CS_AWS_BLOCK_QUOTA;
    if (!s || !p || (cap && !out) || q4 > CS_AWS_BLOCK_QUOTA_MAX || q6 > CS_AWS_BLOCK_QUOTA_MAX ||
        (p->family != CS_AF_V4 && p->family != CS_AF_V6))
        return CS_EINVAL;
    add_sink k = {out, cap, 0};
    cs_vpc v;
    if (!pv_vpc_get(s, vpc, &v)) {
        cs_can_add_reason r = add_new(CS_ADD_UNKNOWN_VPC);
        add_put(&k, &r);
        return k.n;
    }
    bool v4 = p->family == CS_AF_V4;
    if (!cs_aws_block_size_ok(p)) {
        cs_can_add_reason r = add_new(CS_ADD_BLOCK_SIZE);
        add_put(&k, &r);
    }
    bool link_local;
    if (cs_aws_reserved_range(p, &link_local)) {
        cs_can_add_reason r = add_new(link_local ? CS_ADD_LINK_LOCAL : CS_ADD_RESERVED);
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
        unsigned rule = cs_aws_restriction(&live4[primary], live4, n4, p, &culprit);
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
    pv_each_connection(s, vpc, add_peer_each, &c);
    return k.n;
}
