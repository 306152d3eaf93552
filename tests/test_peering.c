/*
 * tests/test_peering.c — the peering rules (include/cidrscope/peering.h):
 *
 *  - one fixture per rule and per warning, in the AWS CLI shapes
 *    (tests/fixtures/peering/<case>/ACCOUNT/REGION/{vpcs,peering}.json, read
 *    through cs_estate_load), checked through the single (trie) path, the
 *    bulk (index) path and the evidence of cs_peering_explain;
 *  - a seeded differential test: estates of the one generator's dense shape
 *    (datasets/gen/gen_dense.c: overlapping and disjoint VPCs, IPv4 and
 *    IPv6, dead blocks, connections in every status and to VPCs outside the
 *    estate, hubs over the quota, several accounts and regions) plus a
 *    prefix-list owner, quotas near the limit, where
 *    every verdict of every pair equals brute_verdict() below, a plain
 *    evaluation of the rules over the VPC inventory; bulk == single; explain
 *    names exactly the codes of the verdict;
 *  - candidates == filtering every VPC through check, for every VPC, every
 *    filter and both overlap strategies;
 *  - reach (local, peered, not active, transitive naming B, edge-to-edge in
 *    both directions, own edges, outside), can-add (each rule), mesh counts;
 *  - the JSON reports parse back (yajl) with the contract's keys.
 *
 * Seeds: CS_TEST_SEED replays a failure (printed at start).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "support/testutil.h"

#include <cidrscope/estate.h>
#include <cidrscope/peering.h>

#include "query/peering_internal.h"
#include "report/peering_report.h"

#include "gen_estate.h"

#include <yajl/yajl_tree.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers --------------------------------------------------------------- */

#define BIT(c) (1u << (c))

static cs_prefix P(const char *text)
{
    cs_prefix p;
    cs_error err;
    cs_error_clear(&err);
    if (cs_prefix_parse(text, strlen(text), 0, &p, &err) != 0)
        fail_msg("test prefix %s: %s", text, err.message);
    return p;
}

static cs_snapshot *load_fixture(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/peering/%s", CS_SOURCE_DIR, name);
    cs_estate *e = cs_estate_new();
    assert_non_null(e);
    cs_error err;
    cs_error_clear(&err);
    int rc = cs_estate_load(e, path, NULL, &err);
    if (rc < 0)
        fail_msg("loading %s: %s (%s:%llu)", path, err.message, err.source,
                 (unsigned long long)err.line);
    cs_snapshot *s = NULL;
    rc = cs_estate_freeze(e, &s, &err);
    if (rc < 0)
        fail_msg("freezing %s: %s", path, err.message);
    cs_estate_free(e);
    return s;
}

static uint32_t V(const cs_snapshot *s, const char *id)
{
    uint32_t idx = CS_IDX_NONE;
    int rc = cs_estate_vpc_find(s, id, strlen(id), &idx);
    if (rc != 1)
        fail_msg("VPC %s not in the estate", id);
    return idx;
}

/* Fixture VPC ids: vpc-0 + 16 hex digits. */
static const char *fid(unsigned n)
{
    static char buf[8][32];
    static unsigned k;
    char *b = buf[k++ % 8];
    snprintf(b, 32, "vpc-0%016x", n);
    return b;
}

/* Verdict of (a, b) through both paths (they must agree); returns the
 * reasons. */
static unsigned both(const cs_snapshot *s, const cs_peering_index *ix, uint32_t a, uint32_t b,
                     uint32_t quota)
{
    cs_peering_opts o = {quota};
    cs_peering_verdict v1, v2;
    assert_int_equal(cs_peering_check(s, a, b, &o, &v1), 0);
    cs_peering_pair pr = {a, b};
    assert_int_equal(cs_peering_check_bulk(ix, &pr, 1, &o, &v2), 0);
    if (v1.reasons != v2.reasons || v1.verdict != v2.verdict)
        fail_msg("pair (%u, %u): single %#x/%u, bulk %#x/%u", a, b, v1.reasons, v1.verdict,
                 v2.reasons, v2.verdict);
    return v1.reasons;
}

static unsigned reasons_of(const cs_snapshot *s, uint32_t a, uint32_t b, uint32_t quota)
{
    cs_peering_index *ix = NULL;
    assert_int_equal(cs_peering_index_new(s, &ix, NULL), 0);
    unsigned r = both(s, ix, a, b, quota);
    cs_peering_index_free(ix);
    return r;
}

static const char *ptext(const cs_snapshot *s, uint32_t assoc, char buf[CS_PREFIX_STRCAP])
{
    cs_assoc a;
    assert_int_equal(cs_estate_assoc(s, assoc, &a), 0);
    cs_prefix_format(&a.prefix, buf, CS_PREFIX_STRCAP);
    return buf;
}

static const char *pcx_text(const cs_snapshot *s, uint32_t pcx)
{
    cs_peering p;
    assert_int_equal(cs_estate_peering(s, pcx, &p), 0);
    return p.id;
}

/* ---- names ------------------------------------------------------------------- */

static void peering__code_names_round_trip(void **state)
{
    (void)state;
    static const char *const want[] = {
        "same-vpc",       "unknown-vpc",   "cidr-overlap-ipv4", "cidr-overlap-ipv6",
        "already-peered", "quota-exceeded", "cross-region",     "cross-account",
        "routing-ambiguity"};
    for (unsigned c = 0; c < CS_PEER_CODE_COUNT; c++) {
        assert_string_equal(cs_peering_code_name(c), want[c]);
        assert_int_equal(cs_peering_code_parse(want[c], strlen(want[c])), (int)c);
        assert_string_equal(cs_peering_code_kind(c), c <= CS_PEER_QUOTA ? "blocks" : "warns");
    }
    assert_int_equal(cs_peering_code_parse("same", 4), CS_EPARSE);
    assert_string_equal(cs_peering_code_name(CS_PEER_CODE_COUNT), "?");
    assert_string_equal(cs_peering_verdict_name(CS_PEER_ELIGIBLE_WARN), "eligible-with-warnings");
    assert_true(cs_pcx_status_counts(CS_PCX_DELETING));
    assert_false(cs_pcx_status_counts(CS_PCX_EXPIRED));
}

static void peering__rejects_quota_over_aws_maximum(void **state)
{
    (void)state;
    cs_snapshot *s = load_fixture("same-vpc");
    cs_peering_opts o = {CS_PEERING_QUOTA_MAX + 1};
    cs_peering_verdict v;
    assert_int_equal(cs_peering_check(s, 0, 0, &o, &v), CS_EINVAL);
    o.quota = CS_PEERING_QUOTA_MAX;
    assert_int_equal(cs_peering_check(s, 0, 0, &o, &v), 0);
    cs_snapshot_close(s);
}

/* ---- fixtures: one per rule and warning ----------------------------------------- */

static void peering__fixture_same_vpc(void **state)
{
    (void)state;
    cs_snapshot *s = load_fixture("same-vpc");
    uint32_t a = V(s, fid(0xa01));
    assert_int_equal(reasons_of(s, a, a, 0), BIT(CS_PEER_SAME_VPC));
    cs_peering_verdict v;
    assert_int_equal(cs_peering_check(s, a, a, NULL, &v), 0);
    assert_int_equal(v.verdict, CS_PEER_INELIGIBLE);
    cs_snapshot_close(s);
}

static void peering__fixture_unknown_vpc_is_a_verdict(void **state)
{
    (void)state;
    cs_snapshot *s = load_fixture("unknown-vpc");
    uint32_t a = V(s, fid(0xa01)), missing = CS_IDX_NONE;
    assert_int_equal(cs_estate_vpc_find(s, "vpc-0000000000000dead", 21, &missing), 0);
    assert_int_equal(reasons_of(s, a, CS_IDX_NONE, 0), BIT(CS_PEER_UNKNOWN_VPC));
    assert_int_equal(reasons_of(s, CS_IDX_NONE, a, 0), BIT(CS_PEER_UNKNOWN_VPC));
    assert_int_equal(reasons_of(s, 12345, 12345, 0), BIT(CS_PEER_UNKNOWN_VPC));
    cs_peering_reason ev[4];
    assert_int_equal(cs_peering_explain(s, CS_IDX_NONE, CS_IDX_NONE, NULL, 0xffff, ev, 4), 2);
    assert_int_equal(ev[0].side, 0);
    assert_int_equal(ev[1].side, 1);
    cs_snapshot_close(s);
}

static void peering__fixture_overlap_ipv4_any_live_block(void **state)
{
    (void)state;
    cs_snapshot *s = load_fixture("overlap-ipv4");
    uint32_t a = V(s, fid(0xa01)), b = V(s, fid(0xb02)), c = V(s, fid(0xc03));
    /* A's secondary 10.5.0.0/16 holds B's secondary 10.5.128.0/17. */
    assert_int_equal(reasons_of(s, a, b, 0), BIT(CS_PEER_OVERLAP_V4));
    cs_peering_reason ev[8];
    char p1[CS_PREFIX_STRCAP], p2[CS_PREFIX_STRCAP];
    assert_int_equal(cs_peering_explain(s, a, b, NULL, 0xffff, ev, 8), 1);
    assert_int_equal(ev[0].code, CS_PEER_OVERLAP_V4);
    assert_string_equal(ptext(s, ev[0].assoc[0], p1), "10.5.0.0/16");
    assert_string_equal(ptext(s, ev[0].assoc[1], p2), "10.5.128.0/17");
    /* C's 10.0.0.0/24 is associating: live, it overlaps A's primary. */
    assert_int_equal(reasons_of(s, a, c, 0), BIT(CS_PEER_OVERLAP_V4));
    assert_int_equal(reasons_of(s, c, a, 0), BIT(CS_PEER_OVERLAP_V4));
    /* B's 10.0.0.0/16 is disassociated: it takes no part. */
    assert_int_equal(reasons_of(s, b, c, 0), 0);
    cs_peering_verdict v;
    assert_int_equal(cs_peering_check(s, b, c, NULL, &v), 0);
    assert_int_equal(v.verdict, CS_PEER_ELIGIBLE);
    /* The sentence names both blocks. */
    char msg[512];
    cs_peering_reason_message(s, "A", "B", a, b, 50, CS_PEER_OVERLAP_V4, ev, 1, 1, msg,
                              sizeof msg);
    assert_non_null(strstr(msg, "A's 10.5.0.0/16 overlaps B's 10.5.128.0/17"));
    cs_snapshot_close(s);
}

static void peering__fixture_overlap_ipv6(void **state)
{
    (void)state;
    cs_snapshot *s = load_fixture("overlap-ipv6");
    uint32_t a = V(s, fid(0xa01)), b = V(s, fid(0xb02)), c = V(s, fid(0xc03));
    assert_int_equal(reasons_of(s, a, b, 0), BIT(CS_PEER_OVERLAP_V6));
    /* C's copy of the /56 is disassociated; its live /56 is another one. */
    assert_int_equal(reasons_of(s, a, c, 0), 0);
    cs_peering_reason ev[4];
    char p1[CS_PREFIX_STRCAP];
    assert_int_equal(cs_peering_explain(s, a, b, NULL, 0xffff, ev, 4), 1);
    assert_string_equal(ptext(s, ev[0].assoc[1], p1), "2600:1f18:aaaa:bb00::/56");
    cs_snapshot_close(s);
}

static void peering__fixture_already_peered_by_status(void **state)
{
    (void)state;
    cs_snapshot *s = load_fixture("already-peered");
    uint32_t a = V(s, fid(0xa01));
    /* B..J joined to A with, in order: active, pending-acceptance,
     * deleting, initiating-request, provisioning (these block) and failed,
     * rejected, expired, deleted (these do not). */
    for (unsigned i = 0; i < 9; i++) {
        uint32_t x = V(s, fid(0xb02 + i));
        unsigned want = i < 5 ? BIT(CS_PEER_ALREADY_PEERED) : 0;
        if (reasons_of(s, a, x, 0) != want || reasons_of(s, x, a, 0) != want)
            fail_msg("status #%u: reasons %#x, want %#x", i, reasons_of(s, a, x, 0), want);
    }
    cs_peering_reason ev[4];
    assert_int_equal(cs_peering_explain(s, a, V(s, fid(0xb03)), NULL, 0xffff, ev, 4), 1);
    assert_int_equal(ev[0].code, CS_PEER_ALREADY_PEERED);
    assert_int_equal(ev[0].status, CS_PCX_PENDING_ACCEPTANCE);
    assert_string_equal(pcx_text(s, ev[0].pcx), "pcx-00000000000000101");
    uint32_t pcx;
    assert_int_equal(cs_peering_connection(s, a, V(s, fid(0xb02)), &pcx), 1);
    assert_string_equal(pcx_text(s, pcx), "pcx-00000000000000100");
    assert_int_equal(cs_peering_connection(s, a, V(s, fid(0xb07)), &pcx), 0);
    cs_snapshot_close(s);
}

static void peering__fixture_quota_counts_each_connection_once(void **state)
{
    (void)state;
    cs_snapshot *s = load_fixture("quota");
    uint32_t h = V(s, fid(0xa01)), n = V(s, fid(0xd07));
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    assert_int_equal(c.peerings, 5); /* 7 sightings, 5 connections */
    /* 4 active (two of them printed in both accounts' files), 1 pending. */
    assert_int_equal(cs_peering_active_count(s, h), 4);
    assert_int_equal(reasons_of(s, h, n, 4), BIT(CS_PEER_QUOTA));
    assert_int_equal(reasons_of(s, n, h, 4), BIT(CS_PEER_QUOTA));
    assert_int_equal(reasons_of(s, h, n, 5), 0);
    assert_int_equal(reasons_of(s, h, n, 0), 0); /* default 50 */
    cs_peering_opts o = {4};
    cs_peering_reason ev[4];
    assert_int_equal(cs_peering_explain(s, n, h, &o, 0xffff, ev, 4), 1);
    assert_int_equal(ev[0].code, CS_PEER_QUOTA);
    assert_int_equal(ev[0].side, 1);
    assert_int_equal(ev[0].count, 4);
    /* The pending connection to s5 blocks a new one but is not active. */
    assert_int_equal(reasons_of(s, h, V(s, fid(0xc06)), 5),
                     BIT(CS_PEER_ALREADY_PEERED) | BIT(CS_PEER_CROSS_ACCOUNT));
    cs_snapshot_close(s);
}

static void peering__fixture_cross_region_warns(void **state)
{
    (void)state;
    cs_snapshot *s = load_fixture("cross-region");
    uint32_t a = V(s, fid(0xa01)), b = V(s, fid(0xb02));
    assert_int_equal(reasons_of(s, a, b, 0), BIT(CS_PEER_CROSS_REGION));
    cs_peering_verdict v;
    assert_int_equal(cs_peering_check(s, a, b, NULL, &v), 0);
    assert_int_equal(v.verdict, CS_PEER_ELIGIBLE_WARN);
    char msg[512];
    cs_peering_reason ev[2];
    assert_int_equal(cs_peering_explain(s, a, b, NULL, 0xffff, ev, 2), 1);
    cs_peering_reason_message(s, "A", "B", a, b, 50, CS_PEER_CROSS_REGION, ev, 1, 1, msg,
                              sizeof msg);
    assert_non_null(strstr(msg, "A is in us-east-1 and B in eu-west-1"));
    assert_non_null(strstr(msg, "1500"));
    cs_snapshot_close(s);
}

static void peering__fixture_cross_account_warns(void **state)
{
    (void)state;
    cs_snapshot *s = load_fixture("cross-account");
    uint32_t a = V(s, fid(0xa01)), b = V(s, fid(0xb02));
    assert_int_equal(reasons_of(s, a, b, 0), BIT(CS_PEER_CROSS_ACCOUNT));
    char msg[512];
    cs_peering_reason ev[2];
    assert_int_equal(cs_peering_explain(s, a, b, NULL, 0xffff, ev, 2), 1);
    cs_peering_reason_message(s, "A", "B", a, b, 50, CS_PEER_CROSS_ACCOUNT, ev, 1, 1, msg,
                              sizeof msg);
    assert_non_null(strstr(msg, "111111111111"));
    assert_non_null(strstr(msg, "7 days"));
    cs_snapshot_close(s);
}

static void peering__fixture_routing_ambiguity_only_active(void **state)
{
    (void)state;
    cs_snapshot *s = load_fixture("routing-ambiguity");
    uint32_t h = V(s, fid(0xa01)), b = V(s, fid(0xb02)), c = V(s, fid(0xc03)),
             b2 = V(s, fid(0xe05));
    assert_int_equal(reasons_of(s, h, b, 0), BIT(CS_PEER_ROUTING_AMBIGUITY));
    assert_int_equal(reasons_of(s, b, h, 0), BIT(CS_PEER_ROUTING_AMBIGUITY));
    /* D (overlapping B2) is only pending with H: no warning. */
    assert_int_equal(reasons_of(s, h, b2, 0), 0);
    /* B and C overlap each other: that is an overlap, not ambiguity. */
    assert_int_equal(reasons_of(s, b, c, 0), BIT(CS_PEER_OVERLAP_V4));
    cs_peering_reason ev[4];
    char p1[CS_PREFIX_STRCAP], p2[CS_PREFIX_STRCAP];
    assert_int_equal(cs_peering_explain(s, b, h, NULL, 0xffff, ev, 4), 1);
    assert_int_equal(ev[0].code, CS_PEER_ROUTING_AMBIGUITY);
    assert_int_equal(ev[0].side, 1); /* h, the second of the pair, is the hub */
    assert_int_equal(ev[0].third, c);
    assert_string_equal(pcx_text(s, ev[0].pcx), "pcx-00000000000000300");
    assert_string_equal(ptext(s, ev[0].assoc[0], p1), "10.1.0.0/16");
    assert_string_equal(ptext(s, ev[0].assoc[1], p2), "10.1.0.0/24");
    cs_snapshot_close(s);
}

/* ---- the brute-force reference ------------------------------------------------------ */

/* Rules of peering.h, written as plainly as possible over the inventory:
 * every association of both VPCs against each other, every connection of
 * the estate. */
static bool brute_known(const cs_snapshot *s, uint32_t v)
{
    cs_vpc x;
    return v != CS_IDX_NONE && cs_estate_vpc(s, v, &x) == 0 && !x.pseudo;
}

static bool brute_overlap(const cs_snapshot *s, uint32_t a, uint32_t b, uint8_t family)
{
    cs_vpc va, vb;
    cs_estate_vpc(s, a, &va);
    cs_estate_vpc(s, b, &vb);
    for (uint32_t i = 0; i < va.assoc_count; i++) {
        cs_assoc x;
        cs_estate_assoc(s, va.assoc_begin + i, &x);
        if (!cs_assoc_state_live(x.state) || x.prefix.family != family)
            continue;
        for (uint32_t j = 0; j < vb.assoc_count; j++) {
            cs_assoc y;
            cs_estate_assoc(s, vb.assoc_begin + j, &y);
            if (cs_assoc_state_live(y.state) && y.prefix.family == family &&
                cs_prefix_overlaps(&x.prefix, &y.prefix))
                return true;
        }
    }
    return false;
}

static uint32_t brute_active(const cs_snapshot *s, uint32_t v)
{
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    uint32_t n = 0;
    for (uint32_t i = 0; i < c.peerings; i++) {
        cs_peering p;
        cs_estate_peering(s, i, &p);
        if (p.status == CS_PCX_ACTIVE && (p.requester.vpc_idx == v || p.accepter.vpc_idx == v))
            n++;
    }
    return n;
}

static unsigned brute_verdict(const cs_snapshot *s, uint32_t a, uint32_t b, uint32_t quota)
{
    if (!brute_known(s, a) || !brute_known(s, b))
        return BIT(CS_PEER_UNKNOWN_VPC);
    if (a == b)
        return BIT(CS_PEER_SAME_VPC);
    unsigned r = 0;
    if (brute_overlap(s, a, b, CS_AF_V4))
        r |= BIT(CS_PEER_OVERLAP_V4);
    if (brute_overlap(s, a, b, CS_AF_V6))
        r |= BIT(CS_PEER_OVERLAP_V6);
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    for (uint32_t i = 0; i < c.peerings; i++) {
        cs_peering p;
        cs_estate_peering(s, i, &p);
        uint32_t x = p.requester.vpc_idx, y = p.accepter.vpc_idx;
        bool joins = (x == a && y == b) || (x == b && y == a);
        bool holds = p.status == CS_PCX_INITIATING_REQUEST ||
                     p.status == CS_PCX_PENDING_ACCEPTANCE || p.status == CS_PCX_PROVISIONING ||
                     p.status == CS_PCX_ACTIVE || p.status == CS_PCX_DELETING;
        if (joins && holds)
            r |= BIT(CS_PEER_ALREADY_PEERED);
        /* Routing ambiguity: a hub (a or b) actively peered with a third
         * VPC whose live blocks overlap the other side's. */
        if (p.status != CS_PCX_ACTIVE)
            continue;
        for (int h = 0; h < 2; h++) {
            uint32_t hub = h ? b : a, other = h ? a : b, third;
            if (x == hub)
                third = y;
            else if (y == hub)
                third = x;
            else
                continue;
            if (third == hub || third == other || !brute_known(s, third))
                continue;
            if (brute_overlap(s, third, other, CS_AF_V4) ||
                brute_overlap(s, third, other, CS_AF_V6))
                r |= BIT(CS_PEER_ROUTING_AMBIGUITY);
        }
    }
    if (brute_active(s, a) >= quota || brute_active(s, b) >= quota)
        r |= BIT(CS_PEER_QUOTA);
    cs_vpc va, vb;
    cs_estate_vpc(s, a, &va);
    cs_estate_vpc(s, b, &vb);
    cs_region ra, rb;
    cs_estate_region(s, va.region_idx, &ra);
    cs_estate_region(s, vb.region_idx, &rb);
    if (ra.name[0] && rb.name[0] && strcmp(ra.name, rb.name) != 0)
        r |= BIT(CS_PEER_CROSS_REGION);
    cs_account aa, ab;
    cs_estate_account(s, va.account_idx, &aa);
    cs_estate_account(s, vb.account_idx, &ab);
    if (strcmp(aa.id, ab.id) != 0)
        r |= BIT(CS_PEER_CROSS_ACCOUNT);
    return r;
}

/* ---- random estates ---------------------------------------------------------------------- */

static void must(int rc, const cs_error *err, const char *what)
{
    if (rc < 0)
        fail_msg("%s: %s", what, err->message);
}

/* An estate of about n VPCs (3 accounts x 3 regions x n/9) shaped to hit
 * every rule: the one generator's dense shape (datasets/gen/gen_dense.c:
 * blocks from a few small ranges so many overlap, dead blocks, IPv6 that
 * collides, connections in every status, some to VPCs outside the estate,
 * three hubs with many active ones), plus a prefix-list owner, which is
 * never a peering party. */
static cs_snapshot *random_estate(tu_rng *r, uint32_t n)
{
    cs_estate *e = cs_estate_new();
    assert_non_null(e);
    cs_error err;
    cs_error_clear(&err);
    gen_opts o = {.seed = tu_next(r), .accounts = 3, .regions = 3,
                  .vpcs = n / 9 ? n / 9 : 1, .shape = GEN_SHAPE_DENSE};
    int rc = gen_estate_build(&o, e, NULL, &err);
    if (rc != 0)
        fail_msg("gen --shape dense, seed %llu: %s", (unsigned long long)o.seed, err.message);
    cs_vpc_desc d;
    memset(&d, 0, sizeof d);
    d.id = cs_str_c("amazon");
    d.owner = cs_str_c("amazon");
    d.flags = CS_VPC_PSEUDO;
    must(cs_estate_add_vpc(e, &d, NULL, &err), &err, "add pseudo");
    cs_cidr_desc c;
    memset(&c, 0, sizeof c);
    c.vpc_id = cs_str_c("amazon");
    c.prefix = P("10.0.0.0/8");
    c.state = CS_ASSOC_ASSOCIATED;
    must(cs_estate_add_cidr(e, &c, NULL, &err), &err, "add pseudo cidr");
    cs_snapshot *s = NULL;
    must(cs_estate_freeze(e, &s, &err), &err, "freeze");
    cs_estate_free(e);
    return s;
}

static void peering__matches_brute_force_on_random_estates(void **state)
{
    (void)state;
    uint64_t seed = tu_seed("peering__matches_brute_force_on_random_estates", 20240611);
    tu_rng r = {seed};
    static const uint32_t quotas[] = {2, 3, 50};
    for (unsigned round = 0; round < 3; round++) {
        uint32_t n = 60 + (uint32_t)tu_below(&r, 40);
        cs_snapshot *s = random_estate(&r, n);
        cs_estate_counts c;
        cs_estate_counts_get(s, &c);
        cs_peering_index *ix = NULL;
        assert_int_equal(cs_peering_index_new(s, &ix, NULL), 0);
        uint32_t nv = c.vpcs + 1; /* one past the end: unknown */
        size_t np = (size_t)(nv + 1) * (nv + 1);
        cs_peering_pair *pairs = malloc(np * sizeof *pairs);
        cs_peering_verdict *bulk = malloc(np * sizeof *bulk);
        assert_non_null(pairs);
        assert_non_null(bulk);
        size_t k = 0;
        for (uint32_t a = 0; a <= nv; a++)
            for (uint32_t b = 0; b <= nv; b++, k++) {
                pairs[k].a = a == nv ? CS_IDX_NONE : a;
                pairs[k].b = b == nv ? CS_IDX_NONE : b;
            }
        unsigned seen = 0;
        for (unsigned qi = 0; qi < 3; qi++) {
            cs_peering_opts o = {quotas[qi]};
            assert_int_equal(cs_peering_check_bulk(ix, pairs, np, &o, bulk), 0);
            for (size_t i = 0; i < np; i++) {
                uint32_t a = pairs[i].a, b = pairs[i].b;
                unsigned want = brute_verdict(s, a, b, quotas[qi]);
                cs_peering_verdict v;
                assert_int_equal(cs_peering_check(s, a, b, &o, &v), 0);
                if (v.reasons != want || bulk[i].reasons != want)
                    fail_msg("seed %llu round %u quota %u pair (%u, %u): single %#x, bulk "
                             "%#x, brute force %#x",
                             (unsigned long long)seed, round, quotas[qi], a, b, v.reasons,
                             bulk[i].reasons, want);
                uint8_t wv = (want & CS_PEER_BLOCKING_MASK) ? CS_PEER_INELIGIBLE
                             : want                         ? CS_PEER_ELIGIBLE_WARN
                                                            : CS_PEER_ELIGIBLE;
                assert_int_equal(v.verdict, wv);
                assert_int_equal(bulk[i].verdict, wv);
                seen |= want;
                /* Explain names exactly the verdict's codes. */
                if (qi == 2 && (i % 7) == 0) {
                    cs_peering_reason ev[64];
                    int64_t ne = cs_peering_explain(s, a, b, &o, 0xffff, ev, 64);
                    assert_true(ne >= 0);
                    unsigned got = 0;
                    for (int64_t j = 0; j < ne && j < 64; j++) {
                        got |= BIT(ev[j].code);
                        if (j && ev[j].code < ev[j - 1].code)
                            fail_msg("explain out of code order for (%u, %u)", a, b);
                    }
                    if (ne <= 64 && got != want)
                        fail_msg("explain (%u, %u): %#x, verdict %#x", a, b, got, want);
                }
            }
        }
        /* Every rule and warning was exercised. */
        for (unsigned code = 0; code < CS_PEER_CODE_COUNT; code++)
            if (!(seen & BIT(code)))
                fail_msg("seed %llu round %u: no pair had %s", (unsigned long long)seed,
                         round, cs_peering_code_name(code));
        free(pairs);
        free(bulk);
        cs_peering_index_free(ix);
        cs_snapshot_close(s);
    }
}

static void peering__index_invariants(void **state)
{
    (void)state;
    tu_rng r = {tu_seed("peering__index_invariants", 77)};
    cs_snapshot *s = random_estate(&r, 80);
    cs_peering_index *ix = NULL;
    assert_int_equal(cs_peering_index_new(s, &ix, NULL), 0);
    assert_ptr_equal(cs_peering_index_snapshot(ix), s);
    for (uint32_t v = 0; v < ix->n_vpcs; v++) {
        const pv_head *h = pv_head_of(ix, v);
        uint64_t len = (h->n4 + h->nenv) * sizeof(pv_blk4) + h->npeer * sizeof(uint32_t);
        if (h->flags & PV_SPILL)
            assert_true(h->spill + (len + 7) / 8 <= ix->n_spill);
        else
            assert_true(len <= PV_INLINE);
        const pv_blk4 *b = pv_blk4_of(ix, h);
        for (uint32_t i = 1; i < h->n4; i++)
            assert_true(b[i - 1].first <= b[i].first);
        /* The envelope: disjoint, sorted intervals. */
        const pv_blk4 *e = pv_env4_of(ix, h);
        for (uint32_t i = 1; i < h->nenv; i++)
            assert_true(e[i - 1].last < e[i].first);
        const uint32_t *pp = pv_peers_of(ix, h);
        for (uint32_t i = 1; i < h->npeer; i++)
            assert_true((pp[i - 1] & PV_PEER_VPC) <= (pp[i] & PV_PEER_VPC));
        const pv_v6 *x = &ix->v6[v];
        assert_true((uint64_t)x->b6 + x->n6 <= ix->n_blk6);
        assert_true((uint64_t)x->pb6 + x->npb6 <= ix->n_pblk6);
        assert_int_equal((h->flags & PV_HAS_V6) != 0, x->n6 != 0);
        assert_int_equal(h->active, cs_peering_active_count(s, v));
        assert_int_equal(h->active, brute_active(s, v));
        /* The segment's live IPv4 blocks are the VPC's. */
        cs_vpc vv;
        cs_estate_vpc(s, v, &vv);
        uint32_t live4 = 0, live6 = 0;
        for (uint32_t i = 0; i < vv.assoc_count; i++) {
            cs_assoc a;
            cs_estate_assoc(s, vv.assoc_begin + i, &a);
            live4 += a.live && a.prefix.family == CS_AF_V4;
            live6 += a.live && a.prefix.family == CS_AF_V6;
            /* ... each in the run the walk filled (engine/query/interval.c) */
            bool found = !a.live;
            if (a.live && a.prefix.family == CS_AF_V4) {
                cs_ival4 want;
                cs_ival4_of(&a.prefix, &want);
                for (uint32_t j = 0; j < h->n4 && !found; j++)
                    found = b[j].first == want.first && b[j].last == want.last;
            } else if (a.live) {
                cs_ival6 want;
                cs_ival6_of(&a.prefix, &want);
                for (uint32_t j = 0; j < x->n6 && !found; j++)
                    found = memcmp(&ix->blk6[x->b6 + j], &want, sizeof want) == 0;
            }
            if (!found)
                fail_msg("VPC %u: live block %u not in its index run", v, i);
        }
        assert_int_equal(h->n4, live4);
        assert_int_equal(x->n6, live6);
        for (uint32_t i = 1; i < x->n6; i++)
            assert_false(cs_ival_lt128(ix->blk6[x->b6 + i].fhi, ix->blk6[x->b6 + i].flo,
                                       ix->blk6[x->b6 + i - 1].fhi, ix->blk6[x->b6 + i - 1].flo));
    }
    for (uint32_t g = 0; g < ix->n_regions; g++)
        for (uint32_t i = ix->region_begin[g]; i < ix->region_begin[g + 1]; i++) {
            assert_int_equal(ix->region_idx[ix->by_region[i]], g);
            if (i > ix->region_begin[g])
                assert_true(ix->by_region[i - 1] < ix->by_region[i]);
        }
    /* The merge tests against a double loop on hand-made lists. */
    pv_blk4 a[] = {{10, 20}, {15, 16}, {40, 50}}, b[] = {{0, 5}, {17, 30}, {60, 70}};
    assert_true(cs_ival4_overlap(a, 3, b, 3));
    pv_blk4 c[] = {{21, 39}, {51, 59}};
    assert_false(cs_ival4_overlap(a, 3, c, 2));
    assert_false(cs_ival4_overlap(a, 0, c, 2));
    cs_peering_index_free(ix);
    cs_snapshot_close(s);
}

/* ---- candidates ---------------------------------------------------------------------------- */

static void check_candidates(const cs_snapshot *s, const cs_peering_index *ix, uint32_t v,
                             const cs_peering_filter *f, uint32_t quota, uint32_t *out,
                             size_t cap)
{
    cs_peering_opts o = {quota};
    cs_peering_cand_stats st;
    int64_t n = cs_peering_candidates(ix, v, f, &o, out, cap, &st);
    assert_true(n >= 0);
    assert_true((size_t)n <= cap);
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    int64_t k = 0;
    uint64_t considered = 0;
    for (uint32_t x = 0; x < c.vpcs; x++) {
        cs_vpc xv;
        cs_estate_vpc(s, x, &xv);
        if (f->account != CS_IDX_NONE && xv.account_idx != f->account)
            continue;
        if (f->region != CS_IDX_NONE && xv.region_idx != f->region)
            continue;
        considered++;
        cs_peering_verdict vd;
        cs_peering_check(s, v, x, &o, &vd);
        if (vd.verdict == CS_PEER_INELIGIBLE)
            continue;
        if (k >= n || out[k] != x)
            fail_msg("candidates of %u (account %u, region %u, flags %u, quota %u): %u is "
                     "missing or out of place",
                     v, f->account, f->region, f->flags, quota, x);
        k++;
    }
    assert_int_equal(k, n);
    assert_int_equal(st.considered, considered);
    if (!st.self_at_quota)
        assert_int_equal(st.overlap + st.peered + st.quota + st.other + (uint64_t)n, considered);
    if (f->flags & CS_CAND_FORCE_TRIE)
        assert_true(st.used_trie || st.self_at_quota);
    if (f->flags & CS_CAND_FORCE_SCAN)
        assert_false(st.used_trie);
    /* Unfiltered, the overlapping set always comes from the trie: never a
     * scan of every VPC. */
    if (f->account == CS_IDX_NONE && f->region == CS_IDX_NONE && !f->flags && !st.self_at_quota)
        assert_true(st.used_trie);
}

static void peering__candidates_equal_filtering_every_vpc_through_check(void **state)
{
    (void)state;
    tu_rng r = {tu_seed("peering__candidates_equal_filtering_every_vpc_through_check", 99)};
    for (unsigned round = 0; round < 2; round++) {
        cs_snapshot *s = random_estate(&r, 70);
        cs_peering_index *ix = NULL;
        assert_int_equal(cs_peering_index_new(s, &ix, NULL), 0);
        cs_estate_counts c;
        cs_estate_counts_get(s, &c);
        uint32_t *out = malloc((c.vpcs + 1) * sizeof *out);
        assert_non_null(out);
        static const unsigned flags[] = {0, CS_CAND_FORCE_TRIE, CS_CAND_FORCE_SCAN};
        for (uint32_t v = 0; v < c.vpcs; v++) {
            cs_vpc vv;
            cs_estate_vpc(s, v, &vv);
            if (vv.pseudo) {
                assert_int_equal(cs_peering_candidates(ix, v, NULL, NULL, out, c.vpcs, NULL),
                                 CS_ENOTFOUND);
                continue;
            }
            for (unsigned fi = 0; fi < 3; fi++) {
                cs_peering_filter f = {CS_IDX_NONE, CS_IDX_NONE, flags[fi]};
                check_candidates(s, ix, v, &f, v % 2 ? 3 : 50, out, c.vpcs + 1);
                f.account = vv.account_idx;
                check_candidates(s, ix, v, &f, 50, out, c.vpcs + 1);
                f.region = (v + 1) % c.regions;
                check_candidates(s, ix, v, &f, 50, out, c.vpcs + 1);
                f.account = CS_IDX_NONE;
                check_candidates(s, ix, v, &f, 50, out, c.vpcs + 1);
            }
        }
        /* A cut list reports the full count. */
        cs_peering_filter f = {CS_IDX_NONE, CS_IDX_NONE, 0};
        int64_t all = cs_peering_candidates(ix, 0, &f, NULL, out, c.vpcs, NULL);
        if (all > 1) {
            uint32_t one;
            assert_int_equal(cs_peering_candidates(ix, 0, &f, NULL, &one, 1, NULL), all);
            assert_int_equal(one, out[0]);
        }
        assert_int_equal(cs_peering_candidates(ix, CS_IDX_NONE, &f, NULL, out, 1, NULL),
                         CS_ENOTFOUND);
        free(out);
        cs_peering_index_free(ix);
        cs_snapshot_close(s);
    }
}

/* ---- reach ----------------------------------------------------------------------------------- */

typedef struct reach_log {
    cs_reach_finding f[32];
    size_t n;
} reach_log;

static int log_finding(const cs_reach_finding *f, void *ctx)
{
    reach_log *l = ctx;
    if (l->n < 32)
        l->f[l->n++] = *f;
    return 0;
}

static cs_reach_end end_vpc(uint32_t v)
{
    cs_reach_end e;
    memset(&e, 0, sizeof e);
    e.vpc = v;
    return e;
}

static cs_reach_end end_addr(const char *text)
{
    cs_reach_end e;
    memset(&e, 0, sizeof e);
    e.vpc = CS_IDX_NONE;
    cs_error err;
    if (cs_address_parse(text, strlen(text), 0, &e.prefix, &err) != 0)
        e.prefix = P(text);
    return e;
}

static void peering__reach_fixture_transitive_and_statuses(void **state)
{
    (void)state;
    cs_snapshot *s = load_fixture("reach");
    uint32_t a = V(s, fid(0xa01)), b = V(s, fid(0xb02)), c = V(s, fid(0xc03)),
             d = V(s, fid(0xd04)), e = V(s, fid(0xe05));
    reach_log l = {{{0}}, 0};
    cs_reach_summary sum;
    cs_reach_end src = end_vpc(a), dst = end_vpc(c);
    /* A-B and B-C active: A cannot reach C through B. */
    assert_int_equal(cs_peering_reach(s, &src, &dst, log_finding, &l, &sum), 0);
    assert_false(sum.reachable);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.f[0].code, CS_REACH_TRANSITIVE);
    assert_int_equal(l.f[0].via, b);
    assert_int_equal(l.f[0].vpc, c);
    assert_string_equal(pcx_text(s, l.f[0].pcx), "pcx-00000000000000400");
    assert_string_equal(pcx_text(s, l.f[0].via_pcx), "pcx-00000000000000401");
    /* An address in B: peered, same region: security groups referable. */
    l.n = 0;
    dst = end_addr("10.1.2.3");
    assert_int_equal(cs_peering_reach(s, &src, &dst, log_finding, &l, &sum), 0);
    assert_true(sum.reachable);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.f[0].code, CS_REACH_PEERED);
    assert_int_equal(l.f[0].vpc, b);
    assert_true(l.f[0].sg_refs);
    assert_int_equal(l.f[0].relation, CS_REL_COVERS);
    /* E is across regions: reachable, no security-group references. */
    l.n = 0;
    dst = end_vpc(e);
    assert_int_equal(cs_peering_reach(s, &src, &dst, log_finding, &l, &sum), 0);
    assert_true(sum.reachable);
    assert_int_equal(l.f[0].code, CS_REACH_PEERED);
    assert_false(l.f[0].sg_refs);
    /* D: the connection is pending. */
    l.n = 0;
    dst = end_addr("10.3.0.1");
    assert_int_equal(cs_peering_reach(s, &src, &dst, log_finding, &l, &sum), 0);
    assert_false(sum.reachable);
    assert_int_equal(l.f[0].code, CS_REACH_NOT_ACTIVE);
    assert_int_equal(l.f[0].status, CS_PCX_PENDING_ACCEPTANCE);
    assert_int_equal(l.f[0].vpc, d);
    /* Inside A itself. */
    l.n = 0;
    dst = end_addr("10.0.0.5");
    assert_int_equal(cs_peering_reach(s, &src, &dst, log_finding, &l, &sum), 0);
    assert_true(sum.reachable);
    assert_int_equal(l.f[0].code, CS_REACH_LOCAL);
    /* C to D: no connection at all. */
    l.n = 0;
    src = end_vpc(c);
    dst = end_vpc(d);
    assert_int_equal(cs_peering_reach(s, &src, &dst, log_finding, &l, &sum), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.f[0].code, CS_REACH_NO_CONNECTION);
    /* Outside every VPC, no edges anywhere. */
    l.n = 0;
    src = end_vpc(a);
    dst = end_addr("8.8.8.8");
    assert_int_equal(cs_peering_reach(s, &src, &dst, log_finding, &l, &sum), 0);
    assert_false(sum.reachable);
    assert_int_equal(sum.holders, 0);
    assert_int_equal(l.f[0].code, CS_REACH_OUTSIDE);
    /* Unknown ends. */
    l.n = 0;
    src.unknown = true;
    assert_int_equal(cs_peering_reach(s, &src, &dst, log_finding, &l, &sum), 0);
    assert_int_equal(l.f[0].code, CS_REACH_UNKNOWN_VPC);
    /* Both ends outside: not a question. */
    src = end_addr("192.0.2.1");
    assert_int_equal(cs_peering_reach(s, &src, &dst, NULL, NULL, NULL), CS_EINVAL);
    cs_snapshot_close(s);
}

/* A: 10.0.0.0/16 with an internet gateway and a VPN; B: 10.1.0.0/16 with no
 * edge, peered (active) with A; C: 10.2.0.0/16 with a NAT gateway, no peer. */
static cs_snapshot *edge_estate(void)
{
    cs_estate *e = cs_estate_new();
    cs_error err;
    cs_error_clear(&err);
    const char *ids[] = {"vpc-0aaaaaaaaaaaaaaa1", "vpc-0bbbbbbbbbbbbbbb2", "vpc-0ccccccccccccccc3"};
    const char *blocks[] = {"10.0.0.0/16", "10.1.0.0/16", "10.2.0.0/16"};
    for (int i = 0; i < 3; i++) {
        cs_vpc_desc d;
        memset(&d, 0, sizeof d);
        d.id = cs_str_c(ids[i]);
        d.owner = cs_str_c("111111111111");
        d.region = cs_str_c("us-east-1");
        must(cs_estate_add_vpc(e, &d, NULL, &err), &err, "vpc");
        cs_cidr_desc c;
        memset(&c, 0, sizeof c);
        c.vpc_id = cs_str_c(ids[i]);
        c.prefix = P(blocks[i]);
        c.state = CS_ASSOC_ASSOCIATED;
        c.primary = true;
        must(cs_estate_add_cidr(e, &c, NULL, &err), &err, "cidr");
    }
    cs_edge_desc ed[] = {
        {cs_str_c(ids[0]), CS_EDGE_INTERNET_GATEWAY, cs_str_c("igw-0a1")},
        {cs_str_c(ids[0]), CS_EDGE_VPN, cs_str_c("vgw-0a2")},
        {cs_str_c(ids[2]), CS_EDGE_NAT, cs_str_c("nat-0c1")},
    };
    for (int i = 0; i < 3; i++)
        must(cs_estate_add_edge(e, &ed[i], NULL, &err), &err, "edge");
    cs_peering_desc p;
    memset(&p, 0, sizeof p);
    p.id = cs_str_c("pcx-0ab");
    p.requester.vpc_id = cs_str_c(ids[0]);
    p.accepter.vpc_id = cs_str_c(ids[1]);
    p.status = CS_PCX_ACTIVE;
    must(cs_estate_add_peering(e, &p, NULL, &err), &err, "pcx");
    cs_snapshot *s = NULL;
    must(cs_estate_freeze(e, &s, &err), &err, "freeze");
    cs_estate_free(e);
    return s;
}

static void peering__reach_never_edge_to_edge(void **state)
{
    (void)state;
    cs_snapshot *s = edge_estate();
    uint32_t a = V(s, "vpc-0aaaaaaaaaaaaaaa1"), b = V(s, "vpc-0bbbbbbbbbbbbbbb2"),
             c = V(s, "vpc-0ccccccccccccccc3");
    reach_log l = {{{0}}, 0};
    cs_reach_summary sum;
    /* B to the internet: A's gateway and VPN are A's, not B's. */
    cs_reach_end src = end_vpc(b), dst = end_addr("203.0.113.7");
    assert_int_equal(cs_peering_reach(s, &src, &dst, log_finding, &l, &sum), 0);
    assert_false(sum.reachable);
    assert_int_equal(l.n, 2);
    for (size_t i = 0; i < l.n; i++) {
        assert_int_equal(l.f[i].code, CS_REACH_EDGE_TO_EDGE);
        assert_int_equal(l.f[i].vpc, a);
        cs_edge ed;
        assert_int_equal(cs_estate_edge(s, l.f[i].edge, &ed), 0);
        assert_int_equal(ed.vpc_idx, a);
    }
    /* The other direction: from the corporate network into B. */
    l.n = 0;
    src = end_addr("192.168.10.10");
    dst = end_vpc(b);
    assert_int_equal(cs_peering_reach(s, &src, &dst, log_finding, &l, &sum), 0);
    assert_false(sum.reachable);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.f[0].code, CS_REACH_EDGE_TO_EDGE);
    /* A itself may use its own edges (not peering). */
    l.n = 0;
    src = end_vpc(a);
    dst = end_addr("203.0.113.7");
    assert_int_equal(cs_peering_reach(s, &src, &dst, log_finding, &l, &sum), 0);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.f[0].code, CS_REACH_OWN_EDGE);
    assert_false(sum.reachable);
    /* C: its own NAT, no peers. */
    l.n = 0;
    src = end_vpc(c);
    assert_int_equal(cs_peering_reach(s, &src, &dst, log_finding, &l, &sum), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.f[0].code, CS_REACH_OWN_EDGE);
    /* The report says it in words. */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    src = end_vpc(b);
    assert_int_equal(cs_peering_report_reach(f, CS_REPORT_TEXT, s, "B", &src, "203.0.113.7", &dst,
                                             NULL, NULL),
                     0);
    fclose(f);
    assert_non_null(strstr(buf, "not reachable over peering"));
    assert_non_null(strstr(buf, "edge-to-edge"));
    assert_non_null(strstr(buf, "igw-0a1"));
    free(buf);
    cs_snapshot_close(s);
}

/* ---- can-add ------------------------------------------------------------------------------------ */

static unsigned add_codes(const cs_snapshot *s, uint32_t v, const char *cidr,
                          cs_can_add_reason *rs, size_t cap)
{
    cs_prefix p = P(cidr);
    int64_t n = cs_peering_can_add(s, v, &p, NULL, rs, cap);
    assert_true(n >= 0 && (size_t)n <= cap);
    unsigned m = 0;
    for (int64_t i = 0; i < n; i++)
        m |= BIT(rs[i].code);
    return m;
}

static void peering__can_add_rules(void **state)
{
    (void)state;
    cs_estate *e = cs_estate_new();
    cs_error err;
    cs_error_clear(&err);
    struct {
        const char *id, *blocks[6];
    } vp[] = {
        {"vpc-0000000000000a001", {"10.0.0.0/16", "10.5.0.0/16", NULL}},      /* 10/15 inside */
        {"vpc-0000000000000b002", {"10.20.0.0/16", NULL}},                    /* active peer */
        {"vpc-0000000000000c003", {"10.30.0.0/16", NULL}},                    /* pending: a requests */
        {"vpc-0000000000000d004", {"172.31.0.0/16", NULL}},                   /* default-like */
        {"vpc-0000000000000e005", {"100.64.0.0/16", NULL}},                   /* public-ish */
        {"vpc-0000000000000f006",
         {"10.40.0.0/16", "10.41.0.0/16", "10.42.0.0/16", "10.43.0.0/16", "10.44.0.0/16", NULL}},
        {"vpc-000000000000010a7", {"10.50.0.0/16", NULL}},                    /* d's requester */
    };
    for (size_t i = 0; i < sizeof vp / sizeof *vp; i++) {
        cs_vpc_desc d;
        memset(&d, 0, sizeof d);
        d.id = cs_str_c(vp[i].id);
        d.owner = cs_str_c("111111111111");
        d.region = cs_str_c("us-east-1");
        must(cs_estate_add_vpc(e, &d, NULL, &err), &err, "vpc");
        for (int k = 0; vp[i].blocks[k]; k++) {
            cs_cidr_desc c;
            memset(&c, 0, sizeof c);
            c.vpc_id = cs_str_c(vp[i].id);
            c.prefix = P(vp[i].blocks[k]);
            c.state = CS_ASSOC_ASSOCIATED;
            c.primary = k == 0;
            must(cs_estate_add_cidr(e, &c, NULL, &err), &err, "cidr");
        }
    }
    struct {
        const char *id, *req, *acc;
        int status;
    } pc[] = {
        {"pcx-1", "vpc-0000000000000a001", "vpc-0000000000000b002", CS_PCX_ACTIVE},
        {"pcx-2", "vpc-0000000000000a001", "vpc-0000000000000c003", CS_PCX_PENDING_ACCEPTANCE},
        {"pcx-3", "vpc-000000000000010a7", "vpc-0000000000000d004", CS_PCX_PENDING_ACCEPTANCE},
        {"pcx-4", "vpc-0000000000000e005", "vpc-0000000000000dead", CS_PCX_ACTIVE},
        {"pcx-5", "vpc-0000000000000e005", "vpc-0000000000000f006", CS_PCX_DELETED},
    };
    for (size_t i = 0; i < sizeof pc / sizeof *pc; i++) {
        cs_peering_desc p;
        memset(&p, 0, sizeof p);
        p.id = cs_str_c(pc[i].id);
        p.requester.vpc_id = cs_str_c(pc[i].req);
        p.accepter.vpc_id = cs_str_c(pc[i].acc);
        p.status = (uint8_t)pc[i].status;
        must(cs_estate_add_peering(e, &p, NULL, &err), &err, "pcx");
    }
    cs_snapshot *s = NULL;
    must(cs_estate_freeze(e, &s, &err), &err, "freeze");
    cs_estate_free(e);

    cs_can_add_reason rs[16];
    uint32_t a = V(s, "vpc-0000000000000a001"), d = V(s, "vpc-0000000000000d004"),
             ev = V(s, "vpc-0000000000000e005"), f = V(s, "vpc-0000000000000f006");
    /* A requested pcx-2 (pending): no IPv4 block at all. */
    assert_int_equal(add_codes(s, a, "10.8.0.0/16", rs, 16), BIT(CS_ADD_PENDING_REQUESTER));
    /* Every other rule applies on top. */
    assert_int_equal(add_codes(s, a, "10.0.128.0/17", rs, 16),
                     BIT(CS_ADD_OWN_OVERLAP) | BIT(CS_ADD_RESTRICTED) |
                         BIT(CS_ADD_PENDING_REQUESTER));
    assert_int_equal(add_codes(s, a, "10.20.0.0/24", rs, 16),
                     BIT(CS_ADD_PEER_OVERLAP) | BIT(CS_ADD_PENDING_REQUESTER));
    assert_int_equal(add_codes(s, a, "192.168.0.0/16", rs, 16),
                     BIT(CS_ADD_RESTRICTED) | BIT(CS_ADD_PENDING_REQUESTER));
    assert_int_equal(rs[0].rule, CS_RULE_OTHER_RFC1918);
    assert_int_equal(add_codes(s, a, "10.9.0.0/29", rs, 16),
                     BIT(CS_ADD_BLOCK_SIZE) | BIT(CS_ADD_PENDING_REQUESTER));
    assert_int_equal(add_codes(s, a, "169.254.0.0/16", rs, 16),
                     BIT(CS_ADD_LINK_LOCAL) | BIT(CS_ADD_PENDING_REQUESTER));
    /* The 10.0.0.0/15 row: A has 10.0.0.0/16 (inside 10.0.0.0/15). */
    add_codes(s, a, "10.0.0.0/16", rs, 16);
    bool rule_15 = false;
    for (int i = 0; i < 3; i++)
        rule_15 |= rs[i].code == CS_ADD_RESTRICTED && rs[i].rule == CS_RULE_10_0_16;
    assert_true(rule_15);
    /* D (172.31.0.0/16) is the accepter of a pending request from 10.50/16:
     * an overlapping block makes that request fail (a warning); 172.16/16
     * is allowed (AWS's table restricts no 172.16.0.0/15 for a default
     * VPC); 198.19 is restricted. */
    assert_int_equal(add_codes(s, d, "10.50.0.0/16", rs, 16),
                     BIT(CS_ADD_RESTRICTED) | BIT(CS_ADD_PENDING_FAILS));
    assert_int_equal(add_codes(s, d, "172.16.0.0/16", rs, 16), 0);
    assert_int_equal(add_codes(s, d, "172.20.0.0/16", rs, 16), 0);
    assert_int_equal(add_codes(s, d, "198.19.0.0/16", rs, 16), BIT(CS_ADD_RESTRICTED));
    assert_int_equal(rs[0].rule, CS_RULE_198_19);
    /* E (100.64.0.0/16): RFC 1918 restricted; its active peer is unknown. */
    assert_int_equal(add_codes(s, ev, "10.60.0.0/16", rs, 16),
                     BIT(CS_ADD_RESTRICTED) | BIT(CS_ADD_PEER_UNKNOWN));
    assert_int_equal(rs[0].rule, CS_RULE_PUBLIC_RFC1918);
    assert_int_equal(add_codes(s, ev, "100.65.0.0/16", rs, 16), BIT(CS_ADD_PEER_UNKNOWN));
    /* F has 5 IPv4 blocks: the quota; the deleted pcx-5 restricts nothing. */
    assert_int_equal(add_codes(s, f, "10.45.0.0/16", rs, 16), BIT(CS_ADD_BLOCK_QUOTA));
    assert_int_equal(rs[0].count, 5);
    cs_can_add_opts o = {6, 0};
    cs_prefix p = P("10.45.0.0/16");
    assert_int_equal(cs_peering_can_add(s, f, &p, &o, rs, 16), 0);
    o.v4_quota = 51;
    assert_int_equal(cs_peering_can_add(s, f, &p, &o, rs, 16), CS_EINVAL);
    /* IPv6 sizes. */
    assert_int_equal(add_codes(s, f, "2600:1f18:1::/64", rs, 16), BIT(CS_ADD_BLOCK_SIZE));
    assert_int_equal(add_codes(s, f, "2600:1f18:100::/56", rs, 16), 0);
    /* Unknown VPC. */
    assert_int_equal(add_codes(s, CS_IDX_NONE, "10.0.0.0/16", rs, 16), BIT(CS_ADD_UNKNOWN_VPC));
    /* Messages name the rule. */
    char msg[512];
    add_codes(s, d, "198.19.0.0/16", rs, 16);
    cs_prefix q = P("198.19.0.0/16");
    cs_can_add_message(s, "D", &q, &rs[0], msg, sizeof msg);
    assert_non_null(strstr(msg, "198.19.0.0/16 can be added only"));
    assert_non_null(strstr(msg, "172.31.0.0/16"));
    cs_snapshot_close(s);
}

/* ---- mesh --------------------------------------------------------------------------------------- */

static void peering__mesh_counts_links_against_quota(void **state)
{
    (void)state;
    cs_snapshot *s = load_fixture("quota");
    /* h (4 active: s1..s4, pending with s5), s1, s5, new: a full mesh. */
    uint32_t v[] = {V(s, fid(0xa01)), V(s, fid(0xb02)), V(s, fid(0xc06)), V(s, fid(0xd07))};
    cs_peering_mesh_row rows[4];
    cs_peering_verdict m[16];
    cs_peering_mesh_summary sum;
    cs_peering_opts o = {5};
    assert_int_equal(cs_peering_mesh(s, v, 4, CS_MESH_FULL, &o, rows, m, &sum), 0);
    assert_int_equal(sum.links, 6);
    assert_int_equal(sum.existing, 1); /* h-s1 */
    assert_int_equal(sum.pending, 1);  /* h-s5 */
    assert_int_equal(sum.needed, 4);
    assert_int_equal(sum.conflicts, 0);
    /* h: 4 active + 1 pending + 1 needed (new) = 6 > 5. */
    assert_int_equal(rows[0].after, 6);
    assert_true(rows[0].over_quota);
    assert_int_equal(sum.over_quota, 1);
    assert_int_equal(m[0].reasons, BIT(CS_PEER_SAME_VPC));
    assert_int_equal(m[1].reasons, BIT(CS_PEER_ALREADY_PEERED));
    /* Hub and spoke around `new`: 3 links. */
    assert_int_equal(cs_peering_mesh(s, v, 4, 3, &o, rows, m, &sum), 0);
    assert_int_equal(sum.links, 3);
    assert_int_equal(rows[3].planned, 3);
    assert_int_equal(rows[1].planned, 1);
    /* Duplicates are refused; unknown ids are conflicts. */
    uint32_t dup[] = {v[0], v[0]};
    assert_int_equal(cs_peering_mesh(s, dup, 2, CS_MESH_FULL, &o, rows, NULL, &sum), CS_EINVAL);
    uint32_t unk[] = {v[0], CS_IDX_NONE};
    assert_int_equal(cs_peering_mesh(s, unk, 2, CS_MESH_FULL, &o, rows, NULL, &sum), 0);
    assert_int_equal(sum.conflicts, 1);
    cs_snapshot_close(s);
}

/* ---- reports ------------------------------------------------------------------------------------- */

static yajl_val parse_json(const char *text)
{
    char errbuf[256];
    yajl_val t = yajl_tree_parse(text, errbuf, sizeof errbuf);
    if (!t)
        fail_msg("report is not JSON: %s\n%s", errbuf, text);
    return t;
}

static void peering__json_report_has_the_contract_keys(void **state)
{
    (void)state;
    cs_snapshot *s = load_fixture("overlap-ipv4");
    uint32_t a = V(s, fid(0xa01)), b = V(s, fid(0xb02)), c = V(s, fid(0xc03));
    struct {
        const char *a_id, *b_id;
        uint32_t a, b;
    } pairs[] = {{fid(0xa01), fid(0xb02), a, b},
                 {fid(0xb02), fid(0xc03), b, c},
                 {"vpc-nope", fid(0xa01), CS_IDX_NONE, a}};
    for (unsigned fmt = CS_REPORT_JSON; fmt <= CS_REPORT_NDJSON; fmt += 2) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        cs_peering_verdict vs[3];
        cs_peering_summary sum;
        memset(&sum, 0, sizeof sum);
        for (int i = 0; i < 3; i++) {
            cs_peering_check(s, pairs[i].a, pairs[i].b, NULL, &vs[i]);
            cs_peering_summary_add(&sum, &vs[i]);
        }
        cs_peering_report *r = cs_peering_report_new(f, fmt, s, NULL);
        assert_non_null(r);
        cs_peering_report_begin(r, &sum);
        for (int i = 0; i < 3; i++)
            cs_peering_report_pair(r, pairs[i].a_id, pairs[i].b_id, pairs[i].a, pairs[i].b,
                                   &vs[i]);
        assert_int_equal(cs_peering_report_end(r, &sum, NULL), 0);
        cs_peering_report_free(r);
        fclose(f);
        yajl_val results = NULL, summary = NULL, doc = NULL;
        yajl_val lines[4] = {NULL};
        if (fmt == CS_REPORT_JSON) {
            doc = parse_json(buf);
            const char *ps[] = {"results", NULL}, *pss[] = {"summary", NULL};
            results = yajl_tree_get(doc, ps, yajl_t_array);
            summary = yajl_tree_get(doc, pss, yajl_t_object);
        } else {
            char *save = NULL, *line = strtok_r(buf, "\n", &save);
            int k = 0;
            for (; line && k < 4; line = strtok_r(NULL, "\n", &save))
                lines[k++] = parse_json(line);
            assert_int_equal(k, 4);
            const char *pss[] = {"summary", NULL};
            summary = yajl_tree_get(lines[3], pss, yajl_t_object);
        }
        assert_non_null(summary);
        const char *pin[] = {"ineligible", NULL};
        yajl_val inel = yajl_tree_get(summary, pin, yajl_t_number);
        assert_non_null(inel);
        assert_int_equal(YAJL_GET_INTEGER(inel), 2);
        for (int i = 0; i < 3; i++) {
            yajl_val res = fmt == CS_REPORT_JSON ? YAJL_GET_ARRAY(results)->values[i] : lines[i];
            const char *pa[] = {"a", NULL}, *pb[] = {"b", NULL}, *pv[] = {"verdict", NULL},
                       *pr[] = {"reasons", NULL};
            assert_string_equal(YAJL_GET_STRING(yajl_tree_get(res, pa, yajl_t_string)),
                                pairs[i].a_id);
            assert_string_equal(YAJL_GET_STRING(yajl_tree_get(res, pb, yajl_t_string)),
                                pairs[i].b_id);
            assert_string_equal(YAJL_GET_STRING(yajl_tree_get(res, pv, yajl_t_string)),
                                cs_peering_verdict_name(vs[i].verdict));
            yajl_val rs = yajl_tree_get(res, pr, yajl_t_array);
            assert_non_null(rs);
            for (size_t k = 0; k < YAJL_GET_ARRAY(rs)->len; k++) {
                yajl_val one = YAJL_GET_ARRAY(rs)->values[k];
                const char *pc[] = {"code", NULL}, *pk[] = {"kind", NULL},
                           *pm[] = {"message", NULL}, *pe[] = {"evidence", NULL};
                assert_non_null(yajl_tree_get(one, pc, yajl_t_string));
                assert_non_null(yajl_tree_get(one, pk, yajl_t_string));
                assert_non_null(yajl_tree_get(one, pm, yajl_t_string));
                assert_non_null(yajl_tree_get(one, pe, yajl_t_array));
            }
        }
        if (doc)
            yajl_tree_free(doc);
        for (int k = 0; k < 4; k++)
            if (lines[k])
                yajl_tree_free(lines[k]);
        free(buf);
    }
    cs_snapshot_close(s);
}

/* Regression: with more overlapping block pairs than the report's evidence
 * buffer holds, the reasons after the overlap (here already-peered) lost
 * their evidence. */
static void peering__regress_report_keeps_evidence_after_a_long_overlap(void **state)
{
    (void)state;
    cs_estate *e = cs_estate_new();
    cs_error err;
    cs_error_clear(&err);
    const char *ids[] = {"vpc-0000000000000aaa1", "vpc-0000000000000bbb2"};
    for (int v = 0; v < 2; v++) {
        cs_vpc_desc d;
        memset(&d, 0, sizeof d);
        d.id = cs_str_c(ids[v]);
        d.owner = cs_str_c("111111111111");
        d.region = cs_str_c("us-east-1");
        must(cs_estate_add_vpc(e, &d, NULL, &err), &err, "vpc");
        /* 12 nested blocks each: 144 overlapping pairs. */
        for (unsigned len = 16; len < 28; len++) {
            cs_cidr_desc c;
            memset(&c, 0, sizeof c);
            c.vpc_id = cs_str_c(ids[v]);
            c.prefix = cs_prefix_from_v4(0x0a000000u, len);
            c.state = CS_ASSOC_ASSOCIATED;
            must(cs_estate_add_cidr(e, &c, NULL, &err), &err, "cidr");
        }
    }
    cs_peering_desc p;
    memset(&p, 0, sizeof p);
    p.id = cs_str_c("pcx-0000000000000feed");
    p.requester.vpc_id = cs_str_c(ids[0]);
    p.accepter.vpc_id = cs_str_c(ids[1]);
    p.status = CS_PCX_ACTIVE;
    must(cs_estate_add_peering(e, &p, NULL, &err), &err, "pcx");
    cs_snapshot *s = NULL;
    must(cs_estate_freeze(e, &s, &err), &err, "freeze");
    cs_estate_free(e);
    uint32_t a = V(s, ids[0]), b = V(s, ids[1]);
    assert_int_equal(reasons_of(s, a, b, 0), BIT(CS_PEER_OVERLAP_V4) | BIT(CS_PEER_ALREADY_PEERED));
    assert_int_equal(cs_peering_explain(s, a, b, NULL, 0xffff, NULL, 0), 145);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cs_peering_report *r = cs_peering_report_new(f, CS_REPORT_JSON, s, NULL);
    cs_peering_verdict v;
    cs_peering_check(s, a, b, NULL, &v);
    cs_peering_summary sum;
    memset(&sum, 0, sizeof sum);
    cs_peering_summary_add(&sum, &v);
    cs_peering_report_begin(r, &sum);
    cs_peering_report_pair(r, ids[0], ids[1], a, b, &v);
    assert_int_equal(cs_peering_report_end(r, &sum, NULL), 0);
    cs_peering_report_free(r);
    fclose(f);
    yajl_val doc = parse_json(buf);
    const char *pr[] = {"results", NULL};
    yajl_val res = YAJL_GET_ARRAY(yajl_tree_get(doc, pr, yajl_t_array))->values[0];
    const char *prs[] = {"reasons", NULL};
    yajl_val rs = yajl_tree_get(res, prs, yajl_t_array);
    assert_int_equal(YAJL_GET_ARRAY(rs)->len, 2);
    const char *pt[] = {"evidence_total", NULL}, *pe[] = {"evidence", NULL},
               *pc[] = {"connection", NULL};
    yajl_val overlap = YAJL_GET_ARRAY(rs)->values[0], peered = YAJL_GET_ARRAY(rs)->values[1];
    assert_int_equal(YAJL_GET_INTEGER(yajl_tree_get(overlap, pt, yajl_t_number)), 144);
    yajl_val pev = yajl_tree_get(peered, pe, yajl_t_array);
    assert_int_equal(YAJL_GET_ARRAY(pev)->len, 1);
    assert_string_equal(
        YAJL_GET_STRING(yajl_tree_get(YAJL_GET_ARRAY(pev)->values[0], pc, yajl_t_string)),
        "pcx-0000000000000feed");
    yajl_tree_free(doc);
    free(buf);
    cs_snapshot_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(peering__code_names_round_trip),
        cmocka_unit_test(peering__rejects_quota_over_aws_maximum),
        cmocka_unit_test(peering__fixture_same_vpc),
        cmocka_unit_test(peering__fixture_unknown_vpc_is_a_verdict),
        cmocka_unit_test(peering__fixture_overlap_ipv4_any_live_block),
        cmocka_unit_test(peering__fixture_overlap_ipv6),
        cmocka_unit_test(peering__fixture_already_peered_by_status),
        cmocka_unit_test(peering__fixture_quota_counts_each_connection_once),
        cmocka_unit_test(peering__fixture_cross_region_warns),
        cmocka_unit_test(peering__fixture_cross_account_warns),
        cmocka_unit_test(peering__fixture_routing_ambiguity_only_active),
        cmocka_unit_test(peering__matches_brute_force_on_random_estates),
        cmocka_unit_test(peering__index_invariants),
        cmocka_unit_test(peering__candidates_equal_filtering_every_vpc_through_check),
        cmocka_unit_test(peering__reach_fixture_transitive_and_statuses),
        cmocka_unit_test(peering__reach_never_edge_to_edge),
        cmocka_unit_test(peering__can_add_rules),
        cmocka_unit_test(peering__mesh_counts_links_against_quota),
        cmocka_unit_test(peering__json_report_has_the_contract_keys),
        cmocka_unit_test(peering__regress_report_keeps_evidence_after_a_long_overlap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
