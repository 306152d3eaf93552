/*
 * tests/test_estate.c — the estate model: every rule of reading that concerns
 * the builder (live vs dead states, primary dedupe, a VPC seen twice, a
 * peering seen from both sides, unknown VPCs, AWS limit findings, host
 * bits), every read accessor after freeze, a seeded random round trip
 * (checked against the model that generated it, and insertion order not
 * changing the image), overlap queries on the frozen estate against a
 * brute-force scan, and damaged images refused by the validator.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "support/testutil.h"

#include <cidrscope/estate.h>

#include "build/estate_internal.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------- */

static cs_prefix P(const char *text)
{
    cs_prefix p;
    cs_error err;
    cs_error_clear(&err);
    int rc = cs_prefix_parse(text, strlen(text), 0, &p, &err);
    if (rc != 0)
        fail_msg("test prefix %s: %s", text, err.message);
    return p;
}

static cs_srcloc L(const char *src, uint64_t line, uint32_t col)
{
    return (cs_srcloc){src, line, col};
}

static void add_vpc(cs_estate *e, const char *id, const char *owner, const char *region,
                    bool is_default, int expect)
{
    cs_vpc_desc d = {.id = cs_str_c(id), .owner = cs_str_c(owner), .region = cs_str_c(region),
                     .state = CS_VPC_AVAILABLE, .is_default = is_default};
    cs_srcloc l = L("vpcs.json", 1, 1);
    cs_error err;
    cs_error_clear(&err);
    int rc = cs_estate_add_vpc(e, &d, &l, &err);
    if (rc != expect)
        fail_msg("add_vpc %s: %d (%s), expected %d", id, rc, err.message, expect);
}

static int add_cidr_full(cs_estate *e, const char *vpc, const char *prefix, const char *assoc,
                         int state, bool primary, cs_error *err)
{
    cs_cidr_desc d = {.vpc_id = cs_str_c(vpc), .prefix = P(prefix),
                      .association_id = cs_str_c(assoc), .state = (uint8_t)state,
                      .primary = primary};
    cs_srcloc l = L("vpcs.json", 2, 3);
    return cs_estate_add_cidr(e, &d, &l, err);
}

static void add_cidr(cs_estate *e, const char *vpc, const char *prefix, const char *assoc,
                     int state, bool primary)
{
    cs_error err;
    cs_error_clear(&err);
    int rc = add_cidr_full(e, vpc, prefix, assoc, state, primary, &err);
    if (rc < 0)
        fail_msg("add_cidr %s %s: %s", vpc, prefix, err.message);
}

static cs_snapshot *freeze(const cs_estate *e)
{
    cs_snapshot *s = NULL;
    cs_error err;
    cs_error_clear(&err);
    int rc = cs_estate_freeze(e, &s, &err);
    if (rc != 0)
        fail_msg("freeze: %s", err.message);
    rc = cs_estate_image_validate(s, &err);
    if (rc != 0)
        fail_msg("validate own image: %s", err.message);
    return s;
}

/* Number of findings of `kind` in a frozen estate. */
static unsigned count_findings(const cs_snapshot *s, const char *kind)
{
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    unsigned n = 0;
    for (uint32_t i = 0; i < c.findings; i++) {
        cs_finding f;
        assert_int_equal(cs_estate_finding(s, i, &f), 0);
        n += strcmp(f.kind, kind) == 0;
    }
    return n;
}

static uint32_t vpc_index(const cs_snapshot *s, const char *id)
{
    uint32_t idx = CS_IDX_NONE;
    assert_int_equal(cs_estate_vpc_find(s, id, strlen(id), &idx), 1);
    return idx;
}


/* ---- statistics (what `stat` reports) ----------------------------------------- */

static void estate__stats_count_what_stat_reports(void **state)
{
    (void)state;
    cs_estate *e = cs_estate_new();
    add_vpc(e, "vpc-1", "111111111111", "us-east-1", true, 0);
    add_vpc(e, "vpc-2", "111111111111", "eu-west-1", false, 0);
    add_vpc(e, "vpc-3", "222222222222", "eu-west-1", false, 0);
    add_cidr(e, "vpc-1", "172.31.0.0/16", "a1", CS_ASSOC_ASSOCIATED, true);
    add_cidr(e, "vpc-2", "10.0.0.0/16", "a2", CS_ASSOC_ASSOCIATED, true);
    add_cidr(e, "vpc-3", "10.1.0.0/16", "a3", CS_ASSOC_ASSOCIATED, true);
    add_cidr(e, "vpc-3", "10.2.0.0/16", "a4", CS_ASSOC_DISASSOCIATED, false);
    cs_peering_desc d = {.id = cs_str_c("pcx-1"), .status = CS_PCX_ACTIVE,
                         .requester = {.vpc_id = cs_str_c("vpc-2")},
                         .accepter = {.vpc_id = cs_str_c("vpc-9"),
                                      .owner = cs_str_c("333333333333")}};
    cs_srcloc l = L("pcx.json", 1, 1);
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_estate_add_peering(e, &d, &l, &err), 0);
    cs_srcloc lf = L("x.json", 3, 4);
    assert_int_equal(cs_estate_add_finding(e, "zz-custom", &lf, "one"), 0);
    assert_int_equal(cs_estate_add_finding(e, "aa-custom", &lf, "two"), 0);
    assert_int_equal(cs_estate_add_finding(e, "zz-custom", &lf, "three"), 0);
    cs_snapshot *s = freeze(e);
    cs_estate_stats st;
    assert_int_equal(cs_estate_stats_get(s, &st), 0);
    assert_true(st.has_estate);
    assert_int_equal(st.accounts, 2);
    assert_int_equal(st.external_accounts, 1);
    assert_int_equal(st.regions, 2);
    assert_int_equal(st.vpcs, 3);
    assert_int_equal(st.default_vpcs, 1);
    assert_int_equal(st.prefix_list_owners, 0);
    assert_int_equal(st.counts.live[0], 3);
    assert_int_equal(st.counts.dead[0], 1);
    assert_int_equal(st.by_status[CS_PCX_ACTIVE], 1);
    /* kinds in byte order, each counted; freeze adds the unknown VPC one */
    uint32_t zz = 0, aa = 0;
    for (uint32_t i = 0; i < st.kind_count; i++) {
        if (i)
            assert_true(strcmp(st.kinds[i - 1].kind, st.kinds[i].kind) < 0);
        if (strcmp(st.kinds[i].kind, "zz-custom") == 0)
            zz = st.kinds[i].count;
        if (strcmp(st.kinds[i].kind, "aa-custom") == 0)
            aa = st.kinds[i].count;
    }
    assert_int_equal(zz, 2);
    assert_int_equal(aa, 1);
    assert_string_equal(st.kinds[0].kind, "aa-custom");
    cs_estate_stats_free(&st);
    assert_null(st.kinds);
    cs_snapshot_close(s);
    cs_estate_free(e);
}

/* ---- enumerations ---------------------------------------------------------- */

static void estate__enum_names_round_trip(void **state)
{
    (void)state;
    for (unsigned i = 1; i < CS_ASSOC_UNKNOWN; i++) {
        const char *n = cs_assoc_state_name(i);
        assert_int_equal(cs_assoc_state_parse(n, strlen(n)), (int)i);
    }
    assert_int_equal(cs_assoc_state_parse("unspecified", 11), CS_EPARSE);
    assert_int_equal(cs_assoc_state_parse("Associated", 10), CS_EPARSE);
    for (unsigned i = 0; i < CS_PCX_UNKNOWN; i++) {
        const char *n = cs_pcx_status_name(i);
        assert_int_equal(cs_pcx_status_parse(n, strlen(n)), (int)i);
    }
    /* "unknown" names what the reader makes of a state AWS added later; it
     * is never read from text. */
    assert_string_equal(cs_assoc_state_name(CS_ASSOC_UNKNOWN), "unknown");
    assert_string_equal(cs_pcx_status_name(CS_PCX_UNKNOWN), "unknown");
    assert_int_equal(cs_assoc_state_parse("unknown", 7), CS_EPARSE);
    assert_int_equal(cs_pcx_status_parse("unknown", 7), CS_EPARSE);
    assert_false(cs_assoc_state_live(CS_ASSOC_UNKNOWN));
    assert_string_equal(cs_pcx_status_name(CS_PCX_PENDING_ACCEPTANCE), "pending-acceptance");
    assert_string_equal(cs_pcx_status_name(99), "?");
    for (unsigned i = 0; i < CS_EDGE_KIND_COUNT; i++) {
        const char *n = cs_edge_kind_name(i);
        assert_int_equal(cs_edge_kind_parse(n, strlen(n)), (int)i);
    }
    assert_int_equal(cs_edge_kind_parse("igw", 3), CS_EDGE_INTERNET_GATEWAY);
    assert_int_equal(cs_edge_kind_parse("vpce", 4), CS_EDGE_GATEWAY_ENDPOINT);
    assert_int_equal(cs_vpc_state_parse("available", 9), CS_VPC_AVAILABLE);
    assert_int_equal(cs_ip_source_parse("byoip", 5), CS_IPSRC_BYOIP);
    assert_int_equal(cs_ipv6_attr_parse("private", 7), CS_IPV6ATTR_PRIVATE);
    assert_int_equal(cs_ipv6_attr_parse(NULL, 0), CS_EPARSE);
    assert_true(cs_assoc_state_live(CS_ASSOC_ASSOCIATED));
    assert_true(cs_assoc_state_live(CS_ASSOC_ASSOCIATING));
    assert_false(cs_assoc_state_live(CS_ASSOC_DISASSOCIATING));
    assert_false(cs_assoc_state_live(CS_ASSOC_DISASSOCIATED));
    assert_false(cs_assoc_state_live(CS_ASSOC_FAILING));
    assert_false(cs_assoc_state_live(CS_ASSOC_FAILED));
}

/* ---- rules of reading -------------------------------------------------------- */

/* Only associated / associating blocks are in the trie; the others are kept
 * in the tables and reported, never matched. */
static void estate__only_live_states_overlap(void **state)
{
    (void)state;
    cs_estate *e = cs_estate_new();
    add_vpc(e, "vpc-1", "111111111111", "us-east-1", false, 0);
    static const struct { const char *p; int st; } blocks[] = {
        {"10.0.0.0/16", CS_ASSOC_ASSOCIATED},   {"10.1.0.0/16", CS_ASSOC_ASSOCIATING},
        {"10.2.0.0/16", CS_ASSOC_DISASSOCIATING}, {"10.3.0.0/16", CS_ASSOC_DISASSOCIATED},
        {"10.4.0.0/16", CS_ASSOC_FAILING},      {"10.5.0.0/16", CS_ASSOC_FAILED}};
    for (size_t i = 0; i < 6; i++) {
        char id[32];
        snprintf(id, sizeof id, "vpc-cidr-assoc-%zu", i);
        add_cidr(e, "vpc-1", blocks[i].p, id, blocks[i].st, i == 0);
    }
    cs_snapshot *s = freeze(e);
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    assert_int_equal(c.assocs, 6);
    assert_int_equal(c.live[0], 2);
    assert_int_equal(c.dead[0], 4);
    cs_prefix all = P("10.0.0.0/8");
    assert_int_equal(cs_query_count(s, &all, CS_Q_OVERLAPPING), 2);
    for (size_t i = 0; i < 6; i++) {
        cs_prefix q = P(blocks[i].p);
        int64_t want = cs_assoc_state_live((unsigned)blocks[i].st) ? 1 : 0;
        assert_int_equal(cs_query_count(s, &q, CS_Q_OVERLAPPING), want);
    }
    /* Every dead association is still in the VPC's table, with its state. */
    cs_vpc v;
    assert_int_equal(cs_estate_vpc(s, vpc_index(s, "vpc-1"), &v), 0);
    assert_int_equal(v.assoc_count, 6);
    unsigned dead = 0;
    for (uint32_t a = v.assoc_begin; a < v.assoc_begin + v.assoc_count; a++) {
        cs_assoc as;
        assert_int_equal(cs_estate_assoc(s, a, &as), 0);
        assert_int_equal(as.live, cs_assoc_state_live(as.state));
        dead += !as.live;
    }
    assert_int_equal(dead, 4);
    cs_snapshot_close(s);
    cs_estate_free(e);
}

/* The top-level CidrBlock (no id, no state) and its CidrBlockAssociationSet
 * entry are one association, in either order. */
static void estate__primary_block_is_one_association(void **state)
{
    (void)state;
    for (int order = 0; order < 2; order++) {
        cs_estate *e = cs_estate_new();
        add_vpc(e, "vpc-1", "111111111111", "eu-west-1", false, 0);
        cs_error err;
        cs_error_clear(&err);
        if (order == 0) {
            assert_int_equal(add_cidr_full(e, "vpc-1", "10.0.0.0/16", NULL, CS_ASSOC_UNSPECIFIED,
                                           true, &err), 0);
            assert_int_equal(add_cidr_full(e, "vpc-1", "10.0.0.0/16", "vpc-cidr-assoc-a",
                                           CS_ASSOC_ASSOCIATED, false, &err), 1);
        } else {
            assert_int_equal(add_cidr_full(e, "vpc-1", "10.0.0.0/16", "vpc-cidr-assoc-a",
                                           CS_ASSOC_ASSOCIATED, false, &err), 0);
            assert_int_equal(add_cidr_full(e, "vpc-1", "10.0.0.0/16", NULL, CS_ASSOC_UNSPECIFIED,
                                           true, &err), 1);
        }
        /* A secondary block is its own association. */
        assert_int_equal(add_cidr_full(e, "vpc-1", "10.1.0.0/16", "vpc-cidr-assoc-b",
                                       CS_ASSOC_ASSOCIATED, false, &err), 0);
        /* The same association printed again: one. */
        assert_int_equal(add_cidr_full(e, "vpc-1", "10.1.0.0/16", "vpc-cidr-assoc-b",
                                       CS_ASSOC_ASSOCIATED, false, &err), 1);
        cs_snapshot *s = freeze(e);
        cs_estate_counts c;
        cs_estate_counts_get(s, &c);
        assert_int_equal(c.assocs, 2);
        cs_assoc a;
        assert_int_equal(cs_estate_assoc(s, 0, &a), 0);
        assert_true(a.primary);
        assert_string_equal(a.id, "vpc-cidr-assoc-a");
        assert_int_equal(a.state, CS_ASSOC_ASSOCIATED);
        assert_int_equal(cs_estate_assoc(s, 1, &a), 0);
        assert_false(a.primary);
        cs_prefix q = P("10.0.0.0/16");
        assert_int_equal(cs_query_count(s, &q, CS_Q_OVERLAPPING), 1);
        cs_snapshot_close(s);
        cs_estate_free(e);
    }
}

/* A block disassociated and associated again carries two ids: two
 * associations, one live. An id-less sighting merges into the live one. */
static void estate__reassociated_block_is_two_associations(void **state)
{
    (void)state;
    cs_estate *e = cs_estate_new();
    add_vpc(e, "vpc-1", "111111111111", "eu-west-1", false, 0);
    add_cidr(e, "vpc-1", "10.0.0.0/16", "vpc-cidr-assoc-p", CS_ASSOC_ASSOCIATED, true);
    add_cidr(e, "vpc-1", "10.9.0.0/16", "vpc-cidr-assoc-old", CS_ASSOC_DISASSOCIATED, false);
    add_cidr(e, "vpc-1", "10.9.0.0/16", "vpc-cidr-assoc-new", CS_ASSOC_ASSOCIATED, false);
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(add_cidr_full(e, "vpc-1", "10.9.0.0/16", NULL, CS_ASSOC_ASSOCIATED, false,
                                   &err), 1);
    cs_snapshot *s = freeze(e);
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    assert_int_equal(c.assocs, 3);
    assert_int_equal(c.live[0], 2);
    cs_snapshot_close(s);
    cs_estate_free(e);
}

/* The same association id with other content is a conflict naming both. */
static void estate__association_id_conflict_names_both_locations(void **state)
{
    (void)state;
    cs_estate *e = cs_estate_new();
    add_vpc(e, "vpc-1", "111111111111", "eu-west-1", false, 0);
    cs_cidr_desc d = {.vpc_id = cs_str_c("vpc-1"), .prefix = P("10.0.0.0/16"),
                      .association_id = cs_str_c("vpc-cidr-assoc-1"),
                      .state = CS_ASSOC_ASSOCIATED};
    cs_srcloc l1 = L("a/vpcs.json", 10, 7), l2 = L("b/vpcs.json", 20, 9);
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_estate_add_cidr(e, &d, &l1, &err), 0);
    d.prefix = P("10.1.0.0/16");
    assert_int_equal(cs_estate_add_cidr(e, &d, &l2, &err), CS_ECONFLICT);
    assert_non_null(strstr(err.message, "a/vpcs.json:10:7"));
    assert_non_null(strstr(err.message, "b/vpcs.json:20:9"));
    assert_string_equal(err.source, "b/vpcs.json");
    assert_int_equal(err.line, 20);
    d.prefix = P("10.0.0.0/16");
    d.state = CS_ASSOC_DISASSOCIATED;
    assert_int_equal(cs_estate_add_cidr(e, &d, &l2, &err), CS_ECONFLICT);
    assert_non_null(strstr(err.message, "state"));
    cs_estate_free(e);
}

/* A VPC seen twice identically is one (shared VPCs); with other content it is
 * a conflict naming both locations; unknowns are filled in. */
static void estate__vpc_seen_twice(void **state)
{
    (void)state;
    cs_estate *e = cs_estate_new();
    cs_tag tags[] = {{cs_str_c("Name"), cs_str_c("core")}, {cs_str_c("env"), cs_str_c("prod")}};
    cs_vpc_desc d = {.id = cs_str_c("vpc-0a1b2c3d"), .owner = cs_str_c("123456789012"),
                     .region = cs_str_c("us-east-1"), .tags = tags, .tag_count = 2,
                     .state = CS_VPC_AVAILABLE};
    cs_srcloc l1 = L("ESTATE/123456789012/us-east-1/vpcs.json", 4, 9);
    cs_srcloc l2 = L("ESTATE/210987654321/us-east-1/vpcs.json", 8, 9);
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_estate_add_vpc(e, &d, &l1, &err), 0);
    /* The participant account's view: no tags, same content. */
    cs_vpc_desc d2 = d;
    d2.tags = NULL;
    d2.tag_count = 0;
    assert_int_equal(cs_estate_add_vpc(e, &d2, &l2, &err), 1);
    /* Different IsDefault: conflict with both locations. */
    d2.is_default = true;
    assert_int_equal(cs_estate_add_vpc(e, &d2, &l2, &err), CS_ECONFLICT);
    assert_non_null(strstr(err.message, "IsDefault"));
    assert_non_null(strstr(err.message, "ESTATE/123456789012/us-east-1/vpcs.json:4:9"));
    assert_non_null(strstr(err.message, "ESTATE/210987654321/us-east-1/vpcs.json:8:9"));
    assert_int_equal(err.line, 8);
    /* Different owner, region, name: conflicts too. */
    d2 = d;
    d2.owner = cs_str_c("999999999999");
    assert_int_equal(cs_estate_add_vpc(e, &d2, &l2, &err), CS_ECONFLICT);
    assert_non_null(strstr(err.message, "owner"));
    d2 = d;
    d2.region = cs_str_c("us-west-2");
    assert_int_equal(cs_estate_add_vpc(e, &d2, &l2, &err), CS_ECONFLICT);
    d2 = d;
    d2.tags = NULL;
    d2.tag_count = 0;
    d2.name = cs_str_c("other");
    assert_int_equal(cs_estate_add_vpc(e, &d2, &l2, &err), CS_ECONFLICT);
    assert_non_null(strstr(err.message, "Name"));
    /* An unknown region in one sighting is no conflict (single files). */
    d2 = d;
    d2.region = cs_str_c("");
    assert_int_equal(cs_estate_add_vpc(e, &d2, &l2, &err), 1);

    cs_snapshot *s = freeze(e);
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    assert_int_equal(c.vpcs, 1);
    assert_int_equal(c.tags, 2);
    cs_vpc v;
    assert_int_equal(cs_estate_vpc(s, 0, &v), 0);
    assert_string_equal(v.name, "core");
    assert_int_equal(v.tag_count, 2);
    const char *k, *val;
    assert_int_equal(cs_estate_tag(s, v.tag_begin, &k, &val), 0);
    assert_string_equal(k, "Name");
    assert_string_equal(val, "core");
    assert_int_equal(cs_estate_tag(s, v.tag_begin + 1, &k, &val), 0);
    assert_string_equal(k, "env");
    cs_snapshot_close(s);
    cs_estate_free(e);
}

static cs_peering_desc pcx(const char *id, const char *req, const char *acc, int status)
{
    cs_peering_desc d = {.id = cs_str_c(id), .requester = {.vpc_id = cs_str_c(req)},
                         .accepter = {.vpc_id = cs_str_c(acc)}, .status = (uint8_t)status};
    return d;
}

/* A connection in both sides' files is one; a status disagreement is a
 * finding; other VPCs under one id are a conflict. */
static void estate__peering_seen_from_both_sides_is_one(void **state)
{
    (void)state;
    cs_estate *e = cs_estate_new();
    add_vpc(e, "vpc-a", "111111111111", "us-east-1", false, 0);
    add_vpc(e, "vpc-b", "222222222222", "eu-west-1", false, 0);
    cs_peering_desc d = pcx("pcx-1", "vpc-a", "vpc-b", CS_PCX_ACTIVE);
    d.requester.owner = cs_str_c("111111111111");
    d.requester.region = cs_str_c("us-east-1");
    d.requester.allow_dns = CS_TRI_TRUE;
    cs_srcloc l1 = L("111111111111/us-east-1/peering.json", 3, 5);
    cs_srcloc l2 = L("222222222222/eu-west-1/peering.json", 3, 5);
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_estate_add_peering(e, &d, &l1, &err), 0);
    cs_peering_desc d2 = pcx("pcx-1", "vpc-a", "vpc-b", CS_PCX_ACTIVE);
    d2.accepter.owner = cs_str_c("222222222222");
    d2.accepter.region = cs_str_c("eu-west-1");
    d2.accepter.allow_dns = CS_TRI_FALSE;
    assert_int_equal(cs_estate_add_peering(e, &d2, &l2, &err), 1);
    d2.status = CS_PCX_DELETED;
    assert_int_equal(cs_estate_add_peering(e, &d2, &l2, &err), 1);
    cs_peering_desc bad = pcx("pcx-1", "vpc-a", "vpc-c", CS_PCX_ACTIVE);
    assert_int_equal(cs_estate_add_peering(e, &bad, &l2, &err), CS_ECONFLICT);
    assert_non_null(strstr(err.message, "accepter VPC"));
    assert_non_null(strstr(err.message, l1.source));

    cs_snapshot *s = freeze(e);
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    assert_int_equal(c.peerings, 1);
    assert_int_equal(count_findings(s, CS_FINDING_PCX_STATUS), 1);
    cs_peering p;
    assert_int_equal(cs_estate_peering(s, 0, &p), 0);
    assert_string_equal(p.id, "pcx-1");
    assert_int_equal(p.status, CS_PCX_ACTIVE);
    assert_int_equal(p.requester.vpc_idx, vpc_index(s, "vpc-a"));
    assert_int_equal(p.accepter.vpc_idx, vpc_index(s, "vpc-b"));
    assert_int_equal(p.requester.allow_dns, CS_TRI_TRUE);
    assert_int_equal(p.accepter.allow_dns, CS_TRI_FALSE);
    cs_account a;
    cs_region r;
    assert_int_equal(cs_estate_account(s, p.accepter.account_idx, &a), 0);
    assert_string_equal(a.id, "222222222222");
    assert_int_equal(cs_estate_region(s, p.accepter.region_idx, &r), 0);
    assert_string_equal(r.name, "eu-west-1");
    uint32_t n = 0;
    const uint32_t *lst = cs_estate_vpc_peerings(s, vpc_index(s, "vpc-a"), &n);
    assert_int_equal(n, 1);
    assert_int_equal(lst[0], 0);
    lst = cs_estate_vpc_peerings(s, vpc_index(s, "vpc-b"), &n);
    assert_int_equal(n, 1);
    uint32_t pi;
    assert_int_equal(cs_estate_peering_find(s, "pcx-1", 5, &pi), 1);
    assert_int_equal(pi, 0);
    assert_int_equal(cs_estate_peering_find(s, "pcx-2", 5, &pi), 0);
    cs_snapshot_close(s);
    cs_estate_free(e);
}

/* A connection to a VPC outside the inventory is kept (with the id as read)
 * and reported; it may be added before its known VPC is. */
static void estate__peering_to_unknown_vpc_is_kept_and_reported(void **state)
{
    (void)state;
    cs_estate *e = cs_estate_new();
    cs_peering_desc d = pcx("pcx-9", "vpc-known", "vpc-elsewhere", CS_PCX_PENDING_ACCEPTANCE);
    d.accepter.owner = cs_str_c("333333333333");
    cs_srcloc l = L("peering.json", 12, 4);
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_estate_add_peering(e, &d, &l, &err), 0);
    add_vpc(e, "vpc-known", "111111111111", "us-east-1", false, 0);
    cs_snapshot *s = freeze(e);
    cs_peering p;
    assert_int_equal(cs_estate_peering(s, 0, &p), 0);
    assert_int_equal(p.requester.vpc_idx, vpc_index(s, "vpc-known"));
    assert_int_equal(p.accepter.vpc_idx, CS_IDX_NONE);
    assert_string_equal(p.accepter.vpc_id, "vpc-elsewhere");
    assert_int_equal(p.accepter.region_idx, CS_IDX_NONE);
    cs_account a;
    assert_int_equal(cs_estate_account(s, p.accepter.account_idx, &a), 0);
    assert_string_equal(a.id, "333333333333");
    assert_true(a.flags & CS_ACCOUNT_EXTERNAL);
    assert_int_equal(a.vpc_count, 0);
    assert_int_equal(count_findings(s, CS_FINDING_UNKNOWN_VPC), 1);
    cs_finding f;
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    for (uint32_t i = 0; i < c.findings; i++) {
        assert_int_equal(cs_estate_finding(s, i, &f), 0);
        if (strcmp(f.kind, CS_FINDING_UNKNOWN_VPC) == 0) {
            assert_non_null(strstr(f.message, "vpc-elsewhere"));
            assert_string_equal(f.source, "peering.json");
            assert_int_equal(f.line, 12);
            assert_int_equal(f.vpc_idx, vpc_index(s, "vpc-known"));
        }
    }
    cs_snapshot_close(s);
    cs_estate_free(e);
}

/* AWS's own limits are findings, never errors. */
static void estate__aws_limits_are_findings(void **state)
{
    (void)state;
    cs_estate *e = cs_estate_new();
    /* sizes */
    add_vpc(e, "vpc-big", "111111111111", "us-east-1", false, 0);
    add_cidr(e, "vpc-big", "10.0.0.0/8", "a1", CS_ASSOC_ASSOCIATED, true);
    add_vpc(e, "vpc-tiny", "111111111111", "us-east-1", false, 0);
    add_cidr(e, "vpc-tiny", "10.9.9.0/29", "a2", CS_ASSOC_ASSOCIATED, true);
    add_vpc(e, "vpc-v6", "111111111111", "us-east-1", false, 0);
    add_cidr(e, "vpc-v6", "10.8.0.0/16", "a3", CS_ASSOC_ASSOCIATED, true);
    add_cidr(e, "vpc-v6", "2600:1f18::/64", "a4", CS_ASSOC_ASSOCIATED, false);
    add_cidr(e, "vpc-v6", "2600:1f18:100::/56", "a5", CS_ASSOC_ASSOCIATED, false);
    add_cidr(e, "vpc-v6", "2600:1f18:200::/40", "a6", CS_ASSOC_ASSOCIATED, false);
    /* quota: 6 live IPv4 blocks (a seventh, dead, does not count) */
    add_vpc(e, "vpc-many", "111111111111", "us-east-1", false, 0);
    add_cidr(e, "vpc-many", "10.20.0.0/16", "m0", CS_ASSOC_ASSOCIATED, true);
    for (int i = 1; i < 7; i++) {
        char p[32], id[8];
        snprintf(p, sizeof p, "10.%d.0.0/16", 20 + i);
        snprintf(id, sizeof id, "m%d", i);
        add_cidr(e, "vpc-many", p, id, i == 6 ? CS_ASSOC_DISASSOCIATED : CS_ASSOC_ASSOCIATED,
                 false);
    }
    /* link-local anywhere */
    add_vpc(e, "vpc-ll", "111111111111", "us-east-1", false, 0);
    add_cidr(e, "vpc-ll", "169.254.0.0/16", "l1", CS_ASSOC_ASSOCIATED, true);
    /* restriction table */
    add_vpc(e, "vpc-r1", "111111111111", "us-east-1", false, 0);
    add_cidr(e, "vpc-r1", "172.16.0.0/16", "r1", CS_ASSOC_ASSOCIATED, true);
    add_cidr(e, "vpc-r1", "10.0.0.0/16", "r2", CS_ASSOC_ASSOCIATED, false);
    add_vpc(e, "vpc-r2", "111111111111", "us-east-1", false, 0);
    add_cidr(e, "vpc-r2", "10.1.0.0/16", "r3", CS_ASSOC_ASSOCIATED, true);
    add_cidr(e, "vpc-r2", "198.19.0.0/16", "r4", CS_ASSOC_ASSOCIATED, false);
    add_vpc(e, "vpc-r3", "111111111111", "us-east-1", false, 0);
    add_cidr(e, "vpc-r3", "10.1.0.0/16", "r5", CS_ASSOC_ASSOCIATED, true);
    add_cidr(e, "vpc-r3", "10.0.128.0/17", "r6", CS_ASSOC_ASSOCIATED, false);
    add_vpc(e, "vpc-r4", "111111111111", "us-east-1", false, 0);
    add_cidr(e, "vpc-r4", "100.64.0.0/16", "r7", CS_ASSOC_ASSOCIATED, true);
    add_cidr(e, "vpc-r4", "192.168.0.0/16", "r8", CS_ASSOC_ASSOCIATED, false);
    add_vpc(e, "vpc-r5", "111111111111", "us-east-1", false, 0);
    add_cidr(e, "vpc-r5", "10.50.0.0/16", "r9", CS_ASSOC_ASSOCIATED, true);
    add_cidr(e, "vpc-r5", "10.50.4.0/24", "r10", CS_ASSOC_ASSOCIATED, false);
    /* allowed: 100.64.0.0/10 secondary with a 10/8 primary; a dead
     * restricted block; a default VPC */
    add_vpc(e, "vpc-ok", "111111111111", "us-east-1", true, 0);
    add_cidr(e, "vpc-ok", "172.31.0.0/16", "o1", CS_ASSOC_ASSOCIATED, true);
    add_cidr(e, "vpc-ok", "100.64.0.0/16", "o2", CS_ASSOC_ASSOCIATED, false);
    add_cidr(e, "vpc-ok", "10.0.0.0/16", "o3", CS_ASSOC_DISASSOCIATED, false);
    add_cidr(e, "vpc-ok", "2600:1f18:300::/56", "o4", CS_ASSOC_ASSOCIATED, false);

    cs_snapshot *s = freeze(e);
    assert_int_equal(count_findings(s, CS_FINDING_V4_SIZE), 2);
    assert_int_equal(count_findings(s, CS_FINDING_V6_SIZE), 2);
    assert_int_equal(count_findings(s, CS_FINDING_V4_QUOTA), 1);
    assert_int_equal(count_findings(s, CS_FINDING_LINK_LOCAL), 1);
    assert_int_equal(count_findings(s, CS_FINDING_RESTRICTED), 5);
    /* Each finding names its VPC; none for vpc-ok. */
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    uint32_t ok = vpc_index(s, "vpc-ok");
    for (uint32_t i = 0; i < c.findings; i++) {
        cs_finding f;
        assert_int_equal(cs_estate_finding(s, i, &f), 0);
        assert_int_not_equal(f.vpc_idx, ok);
        assert_int_not_equal(f.vpc_idx, CS_IDX_NONE);
        cs_vpc v;
        assert_int_equal(cs_estate_vpc(s, f.vpc_idx, &v), 0);
        assert_non_null(strstr(f.message, v.id));
    }
    assert_int_equal(c.default_vpcs, 1);
    /* Findings never change what overlaps: every live block is an entry. */
    cs_snapshot_info info;
    cs_snapshot_get_info(s, &info);
    assert_int_equal(info.entries[0], c.live[0]);
    assert_int_equal(info.entries[1], c.live[1]);
    cs_snapshot_close(s);
    cs_estate_free(e);
}

/* Issue 13 item 12: a stored location is 12 bytes, yet a line or column past
 * 32 bits is kept exactly (conflict messages, freeze-time findings). */
static void estate__locations_past_32_bits_are_exact(void **state)
{
    (void)state;
    cs_estate *e = cs_estate_new();
    add_vpc(e, "vpc-1", "111111111111", "eu-west-1", false, 0);
    cs_cidr_desc d = {.vpc_id = cs_str_c("vpc-1"), .prefix = P("10.0.0.0/8"),
                      .association_id = cs_str_c("a-1"), .state = CS_ASSOC_ASSOCIATED,
                      .primary = true};
    cs_srcloc big = L("huge.csv", 6000000000ull, 77), small = L("b.csv", 3, 4);
    cs_srcloc edge = L("edge.csv", 4294967295ull, 5);
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_estate_add_cidr(e, &d, &big, &err), 0);
    cs_cidr_desc d2 = d;
    d2.prefix = P("10.0.0.0/16");
    d2.association_id = cs_str_c("a-2");
    assert_int_equal(cs_estate_add_cidr(e, &d2, &edge, &err), 0);
    d.prefix = P("11.0.0.0/16");
    assert_int_equal(cs_estate_add_cidr(e, &d, &small, &err), CS_ECONFLICT);
    assert_non_null(strstr(err.message, "huge.csv:6000000000:77"));
    d2.prefix = P("11.0.0.0/16");
    assert_int_equal(cs_estate_add_cidr(e, &d2, &small, &err), CS_ECONFLICT);
    assert_non_null(strstr(err.message, "edge.csv:4294967295:5"));
    cs_snapshot *s = freeze(e);
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    unsigned seen = 0;
    for (uint32_t i = 0; i < c.findings; i++) {
        cs_finding f;
        assert_int_equal(cs_estate_finding(s, i, &f), 0);
        if (strcmp(f.kind, CS_FINDING_V4_SIZE) == 0 && strcmp(f.source, "huge.csv") == 0) {
            assert_int_equal(f.line, 6000000000ull);
            assert_int_equal(f.column, 77);
            seen++;
        }
    }
    assert_int_equal(seen, 1);
    cs_snapshot_close(s);
    cs_estate_free(e);
}

/* An estate holding one prefix-list owner, "pl-owner" (list.csv line 1);
 * err cleared. */
static cs_estate *estate_with_list_owner(cs_error *err)
{
    cs_estate *e = cs_estate_new();
    cs_vpc_desc v = {.id = cs_str_c("pl-owner"), .owner = cs_str_c("owner"),
                     .flags = CS_VPC_PSEUDO};
    cs_error_clear(err);
    cs_srcloc l0 = L("list.csv", 1, 1);
    assert_int_equal(cs_estate_add_vpc(e, &v, &l0, err), 0);
    return e;
}

/* Associations live in fixed chunks and the (VPC, prefix) index rehashes
 * from them: 200,000 blocks over several chunks and rehashes, each added
 * again (merged, not duplicated), one conflicting at the end names the
 * first sighting's location. */
static void estate__many_blocks_dedupe_across_chunks(void **state)
{
    (void)state;
    cs_error err;
    cs_estate *e = estate_with_list_owner(&err);
    const uint32_t n = 200000;
    for (int pass = 0; pass < 2; pass++)
        for (uint32_t i = 0; i < n; i++) {
            cs_cidr_desc d = {.vpc_id = cs_str_c("pl-owner"),
                              .prefix = cs_prefix_from_v4(i << 8, 24),
                              .state = CS_ASSOC_ASSOCIATED};
            cs_srcloc l = L("list.csv", (uint64_t)pass * n + i + 2, 7);
            int rc = cs_estate_add_cidr(e, &d, &l, &err);
            if (rc < 0)
                fail_msg("block %u pass %d: %s", i, pass, err.message);
        }
    cs_estate_counts c;
    cs_estate_build_counts(e, &c);
    assert_int_equal(c.assocs, n);
    cs_cidr_desc d = {.vpc_id = cs_str_c("pl-owner"),
                      .prefix = cs_prefix_from_v4((n - 1) << 8, 24),
                      .state = CS_ASSOC_DISASSOCIATED};
    cs_srcloc l = L("other.csv", 9, 9);
    assert_int_equal(cs_estate_add_cidr(e, &d, &l, &err), CS_ECONFLICT);
    char want[64];
    snprintf(want, sizeof want, "list.csv:%u:7", n + 1);
    assert_non_null(strstr(err.message, want));
    cs_estate_free(e);
}

/* Regression (the (VPC, prefix) map grown from the records in order): one
 * prefix seen under two association ids, both dead, then 300,000 other
 * blocks (the map doubles many times), then the prefix again without an
 * id: it merges into the FIRST association (same state), not the second
 * (another state: a conflict), so the map still holds each key's first
 * record. */
static void estate__regress_map_growth_keeps_the_first_of_a_key(void **state)
{
    (void)state;
    cs_error err;
    cs_estate *e = estate_with_list_owner(&err);
    cs_srcloc l0 = L("list.csv", 1, 1);
    cs_cidr_desc a1 = {.vpc_id = cs_str_c("pl-owner"), .prefix = cs_prefix_from_v4(0x0a000000, 24),
                       .association_id = cs_str_c("vpc-cidr-assoc-1"),
                       .state = CS_ASSOC_DISASSOCIATED};
    cs_cidr_desc a2 = a1;
    a2.association_id = cs_str_c("vpc-cidr-assoc-2");
    a2.state = CS_ASSOC_FAILED;
    assert_int_equal(cs_estate_add_cidr(e, &a1, &l0, &err), 0);
    assert_int_equal(cs_estate_add_cidr(e, &a2, &l0, &err), 0);
    for (uint32_t i = 1; i <= 300000; i++) {
        cs_cidr_desc d = {.vpc_id = cs_str_c("pl-owner"),
                          .prefix = cs_prefix_from_v4(0x20000000u + (i << 8), 24),
                          .state = CS_ASSOC_ASSOCIATED};
        if (cs_estate_add_cidr(e, &d, &l0, &err) != 0)
            fail_msg("block %u: %s", i, err.message);
    }
    cs_cidr_desc again = a1;
    again.association_id = cs_str_c("");
    if (cs_estate_add_cidr(e, &again, &l0, &err) != 1)
        fail_msg("the prefix again: %s", err.message);
    cs_estate_counts c;
    cs_estate_build_counts(e, &c);
    assert_int_equal(c.assocs, 300002);
    cs_estate_free(e);
}

/* A secondary overlapping an earlier live block of its own VPC is one
 * finding naming that block; blocks of other VPCs, dead blocks and disjoint
 * secondaries are not. */
static void estate__secondary_overlapping_own_block_is_a_finding(void **state)
{
    (void)state;
    cs_estate *e = cs_estate_new();
    add_vpc(e, "vpc-s1", "111111111111", "us-east-1", false, 0);
    add_cidr(e, "vpc-s1", "10.60.0.0/16", "s1", CS_ASSOC_ASSOCIATED, true);
    add_cidr(e, "vpc-s1", "10.61.0.0/17", "s2", CS_ASSOC_ASSOCIATED, false);
    add_cidr(e, "vpc-s1", "10.62.0.0/16", "s3", CS_ASSOC_DISASSOCIATED, false);
    add_cidr(e, "vpc-s1", "10.62.4.0/24", "s4", CS_ASSOC_ASSOCIATED, false);
    add_cidr(e, "vpc-s1", "10.61.0.0/16", "s5", CS_ASSOC_ASSOCIATED, false);
    add_vpc(e, "vpc-s2", "111111111111", "us-east-1", false, 0);
    add_cidr(e, "vpc-s2", "10.70.0.0/16", "t1", CS_ASSOC_ASSOCIATED, true);
    add_cidr(e, "vpc-s2", "10.61.0.0/20", "t2", CS_ASSOC_ASSOCIATED, false);
    cs_snapshot *s = freeze(e);
    assert_int_equal(count_findings(s, CS_FINDING_RESTRICTED), 1);
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    int seen = 0;
    for (uint32_t i = 0; i < c.findings; i++) {
        cs_finding f;
        assert_int_equal(cs_estate_finding(s, i, &f), 0);
        if (strcmp(f.kind, CS_FINDING_RESTRICTED) != 0)
            continue;
        seen++;
        assert_int_equal(f.vpc_idx, vpc_index(s, "vpc-s1"));
        /* blocks are checked in the image's association order (by prefix) */
        assert_non_null(strstr(f.message, "10.61.0.0/17 overlaps 10.61.0.0/16 of the same VPC"));
    }
    assert_int_equal(seen, 1);
    cs_snapshot_close(s);
    cs_estate_free(e);
}

/* The builder takes canonical prefixes only: host bits are the reader's
 * business (strict error or lenient finding), never silently cleared here. */
static void estate__builder_rejects_host_bits_and_bad_input(void **state)
{
    (void)state;
    cs_estate *e = cs_estate_new();
    add_vpc(e, "vpc-1", "111111111111", "us-east-1", false, 0);
    cs_error err;
    cs_error_clear(&err);
    cs_cidr_desc d = {.vpc_id = cs_str_c("vpc-1"), .prefix = cs_prefix_from_v4(0x0a000001u, 32),
                      .state = CS_ASSOC_ASSOCIATED};
    d.prefix.len = 16; /* 10.0.0.1/16 */
    cs_srcloc l = L("x.csv", 5, 20);
    assert_int_equal(cs_estate_add_cidr(e, &d, &l, &err), CS_EINVAL);
    assert_non_null(strstr(err.message, "host bits"));
    assert_non_null(strstr(err.message, "10.0.0.0/16"));
    assert_string_equal(err.source, "x.csv");
    assert_int_equal(err.line, 5);
    assert_int_equal(err.column, 20);
    /* A CIDR of a VPC never read. */
    d.prefix = P("10.0.0.0/16");
    d.vpc_id = cs_str_c("vpc-nope");
    assert_int_equal(cs_estate_add_cidr(e, &d, &l, &err), CS_ENOTFOUND);
    cs_edge_desc ed = {.vpc_id = cs_str_c("vpc-nope"), .kind = CS_EDGE_NAT, .id = cs_str_c("nat-1")};
    assert_int_equal(cs_estate_add_edge(e, &ed, &l, &err), CS_ENOTFOUND);
    /* Owners must be 12 digits; strings without control bytes; not too long. */
    cs_vpc_desc v = {.id = cs_str_c("vpc-2"), .owner = cs_str_c("12345")};
    assert_int_equal(cs_estate_add_vpc(e, &v, &l, &err), CS_EINVAL);
    v.owner = cs_str_c("123456789012");
    v.name = (cs_str){"a\nb", 3};
    assert_int_equal(cs_estate_add_vpc(e, &v, &l, &err), CS_EINVAL);
    char *big = malloc(CS_ESTATE_STR_MAX + 2);
    memset(big, 'x', CS_ESTATE_STR_MAX + 1);
    v.name = (cs_str){big, CS_ESTATE_STR_MAX + 1};
    assert_int_equal(cs_estate_add_vpc(e, &v, &l, &err), CS_ERANGE);
    free(big);
    v.name = cs_str_c("");
    v.id = cs_str_c("");
    assert_int_equal(cs_estate_add_vpc(e, &v, &l, &err), CS_EINVAL);
    assert_int_equal(cs_estate_add_vpc(e, NULL, &l, &err), CS_EINVAL);
    assert_int_equal(cs_estate_add_vpc(NULL, &v, &l, &err), CS_EINVAL);
    cs_peering_desc p = pcx("pcx-1", "vpc-1", "", CS_PCX_ACTIVE);
    assert_int_equal(cs_estate_add_peering(e, &p, &l, &err), CS_EINVAL);
    p = pcx("pcx-1", "vpc-1", "vpc-2", CS_PCX_STATUS_COUNT);
    assert_int_equal(cs_estate_add_peering(e, &p, &l, &err), CS_EINVAL);
    /* Nothing above changed the estate. */
    cs_estate_counts c;
    cs_estate_build_counts(e, &c);
    assert_int_equal(c.vpcs, 1);
    assert_int_equal(c.assocs, 0);
    assert_int_equal(c.peerings, 0);
    cs_estate_free(e);
}

static void estate__findings_and_rejections_are_recorded(void **state)
{
    (void)state;
    cs_estate *e = cs_estate_new();
    cs_srcloc l = L("in.csv", 3, 14);
    assert_int_equal(cs_estate_add_finding(e, CS_FINDING_HOST_BITS, &l,
                                           "10.0.0.1/16: host bits cleared"), 0);
    cs_error re;
    cs_error_clear(&re);
    re.code = CS_EPARSE;
    snprintf(re.message, sizeof re.message, "bad CIDR");
    snprintf(re.source, sizeof re.source, "in.csv");
    re.line = 4;
    re.column = 2;
    assert_int_equal(cs_estate_reject(e, &re), 0);
    assert_int_equal(cs_estate_add_finding(e, NULL, &l, "x"), CS_EINVAL);
    cs_estate_counts c;
    cs_estate_build_counts(e, &c);
    assert_int_equal(c.findings, 2);
    assert_int_equal(c.rejected, 1);
    cs_finding f;
    assert_int_equal(cs_estate_build_finding(e, 1, &f), 0);
    assert_string_equal(f.kind, CS_FINDING_REJECTED);
    assert_string_equal(f.message, "bad CIDR");
    assert_string_equal(f.source, "in.csv");
    assert_int_equal(f.line, 4);
    assert_int_equal(cs_estate_build_finding(e, 2, &f), CS_ERANGE);
    cs_snapshot *s = freeze(e);
    cs_estate_counts_get(s, &c);
    assert_int_equal(c.findings, 2);
    assert_int_equal(c.rejected, 1);
    assert_int_equal(cs_estate_finding(s, 0, &f), 0);
    assert_string_equal(f.kind, CS_FINDING_HOST_BITS);
    assert_int_equal(f.column, 14);
    cs_snapshot_close(s);
    cs_estate_free(e);
}

/* ---- every accessor after freeze --------------------------------------------- */

static void estate__accessors_return_what_was_added(void **state)
{
    (void)state;
    cs_estate *e = cs_estate_new();
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_estate_add_scope(e, cs_str_c("999999999999"), cs_str_c("ap-south-1"), &err),
                     0);
    assert_int_equal(cs_estate_add_scope(e, cs_str_c("12"), cs_str_c(""), &err), CS_EINVAL);
    add_vpc(e, "vpc-b", "222222222222", "us-east-1", false, 0);
    add_vpc(e, "vpc-a", "222222222222", "eu-west-1", true, 0);
    add_vpc(e, "vpc-c", "111111111111", "us-east-1", false, 0);
    add_cidr(e, "vpc-a", "172.31.0.0/16", NULL, CS_ASSOC_UNSPECIFIED, true);
    cs_cidr_desc v6 = {.vpc_id = cs_str_c("vpc-a"), .prefix = P("2a05:d018:1::/56"),
                       .association_id = cs_str_c("vpc-cidr-assoc-6"),
                       .state = CS_ASSOC_ASSOCIATING, .ip_source = CS_IPSRC_AMAZON,
                       .ipv6_attr = CS_IPV6ATTR_PUBLIC, .pool = cs_str_c("Amazon")};
    cs_srcloc l = L("vpcs.json", 9, 1);
    assert_int_equal(cs_estate_add_cidr(e, &v6, &l, &err), 0);
    add_cidr(e, "vpc-b", "10.0.0.0/16", "b1", CS_ASSOC_ASSOCIATED, true);
    add_cidr(e, "vpc-c", "10.0.0.0/16", "c1", CS_ASSOC_ASSOCIATED, true);
    cs_edge_desc ed = {.vpc_id = cs_str_c("vpc-a"), .kind = CS_EDGE_INTERNET_GATEWAY,
                       .id = cs_str_c("igw-1")};
    assert_int_equal(cs_estate_add_edge(e, &ed, &l, &err), 0);
    assert_int_equal(cs_estate_add_edge(e, &ed, &l, &err), 1);
    ed.kind = CS_EDGE_NAT;
    ed.id = cs_str_c("nat-1");
    assert_int_equal(cs_estate_add_edge(e, &ed, &l, &err), 0);
    cs_peering_desc p = pcx("pcx-2", "vpc-a", "vpc-b", CS_PCX_ACTIVE);
    assert_int_equal(cs_estate_add_peering(e, &p, &l, &err), 0);
    p = pcx("pcx-1", "vpc-c", "vpc-a", CS_PCX_REJECTED);
    assert_int_equal(cs_estate_add_peering(e, &p, &l, &err), 0);

    cs_snapshot *s = freeze(e);
    assert_true(cs_estate_present(s));
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    assert_int_equal(c.accounts, 3);
    assert_int_equal(c.regions, 3);
    assert_int_equal(c.vpcs, 3);
    assert_int_equal(c.default_vpcs, 1);
    assert_int_equal(c.assocs, 4);
    assert_int_equal(c.live[0], 3);
    assert_int_equal(c.live[1], 1);
    assert_int_equal(c.edges, 2);
    assert_int_equal(c.peerings, 2);

    /* Accounts sorted by id; VPCs by (account, region, id). */
    cs_account a;
    assert_int_equal(cs_estate_account(s, 0, &a), 0);
    assert_string_equal(a.id, "111111111111");
    assert_int_equal(a.vpc_begin, 0);
    assert_int_equal(a.vpc_count, 1);
    assert_int_equal(cs_estate_account(s, 1, &a), 0);
    assert_string_equal(a.id, "222222222222");
    assert_int_equal(a.vpc_begin, 1);
    assert_int_equal(a.vpc_count, 2);
    assert_int_equal(cs_estate_account(s, 2, &a), 0);
    assert_string_equal(a.id, "999999999999");
    assert_int_equal(a.vpc_count, 0);
    assert_int_equal(a.flags & CS_ACCOUNT_EXTERNAL, 0);
    assert_int_equal(cs_estate_account(s, 3, &a), CS_ERANGE);
    uint32_t idx;
    assert_int_equal(cs_estate_account_find(s, "222222222222", 12, &idx), 1);
    assert_int_equal(idx, 1);
    assert_int_equal(cs_estate_account_find(s, "2222222222", 10, &idx), 0);
    assert_int_equal(cs_estate_account_find(s, "2222222222229", 13, &idx), 0);

    cs_vpc v;
    assert_int_equal(cs_estate_vpc(s, 0, &v), 0);
    assert_string_equal(v.id, "vpc-c");
    assert_int_equal(cs_estate_vpc(s, 1, &v), 0);
    assert_string_equal(v.id, "vpc-a"); /* eu-west-1 before us-east-1 */
    assert_true(v.is_default);
    assert_int_equal(v.state, CS_VPC_AVAILABLE);
    assert_int_equal(v.assoc_count, 2);
    assert_int_equal(v.edge_count, 2);
    assert_int_equal(v.pcx_count, 2);
    cs_region r;
    assert_int_equal(cs_estate_region(s, v.region_idx, &r), 0);
    assert_string_equal(r.name, "eu-west-1");
    assert_int_equal(r.vpc_count, 1);
    cs_assoc as;
    assert_int_equal(cs_estate_assoc(s, v.assoc_begin, &as), 0);
    assert_true(as.primary);
    assert_int_equal(as.state, CS_ASSOC_ASSOCIATED); /* unspecified freezes so */
    assert_string_equal(as.id, "");
    assert_int_equal(as.vpc_idx, 1);
    assert_int_equal(cs_estate_assoc(s, v.assoc_begin + 1, &as), 0);
    assert_int_equal(as.prefix.family, CS_AF_V6);
    assert_int_equal(as.state, CS_ASSOC_ASSOCIATING);
    assert_true(as.live);
    assert_int_equal(as.ip_source, CS_IPSRC_AMAZON);
    assert_int_equal(as.ipv6_attr, CS_IPV6ATTR_PUBLIC);
    assert_string_equal(as.pool, "Amazon");
    assert_string_equal(as.id, "vpc-cidr-assoc-6");
    cs_edge ge;
    assert_int_equal(cs_estate_edge(s, v.edge_begin, &ge), 0);
    assert_int_equal(ge.kind, CS_EDGE_INTERNET_GATEWAY);
    assert_string_equal(ge.id, "igw-1");
    assert_int_equal(ge.vpc_idx, 1);
    assert_int_equal(cs_estate_edge(s, v.edge_begin + 1, &ge), 0);
    assert_int_equal(ge.kind, CS_EDGE_NAT);
    uint32_t n;
    const uint32_t *lst = cs_estate_vpc_peerings(s, 1, &n);
    assert_int_equal(n, 2);
    assert_true(lst[0] < lst[1]);
    cs_peering pp;
    assert_int_equal(cs_estate_peering(s, 0, &pp), 0);
    assert_string_equal(pp.id, "pcx-1");
    assert_int_equal(pp.status, CS_PCX_REJECTED);
    assert_int_equal(pp.requester.vpc_idx, 0);
    assert_int_equal(pp.requester.account_idx, 0); /* from the VPC */

    /* assoc -> VPC: the column agrees with the records. */
    uint32_t na;
    const uint32_t *map = cs_estate_assoc_vpc_map(s, &na);
    assert_int_equal(na, 4);
    for (uint32_t i = 0; i < na; i++) {
        assert_int_equal(cs_estate_assoc(s, i, &as), 0);
        assert_int_equal(map[i], as.vpc_idx);
        assert_int_equal(cs_estate_assoc_vpc(s, i), as.vpc_idx);
    }
    assert_int_equal(cs_estate_assoc_vpc(s, 4), CS_IDX_NONE);
    /* VPC ids: found by hash, misses are 0. */
    const char *ids[] = {"vpc-a", "vpc-b", "vpc-c"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(cs_estate_vpc_find(s, ids[i], strlen(ids[i]), &idx), 1);
        assert_int_equal(cs_estate_vpc(s, idx, &v), 0);
        assert_string_equal(v.id, ids[i]);
    }
    assert_int_equal(cs_estate_vpc_find(s, "vpc-", 4, &idx), 0);
    assert_int_equal(cs_estate_vpc_find(s, "vpc-a\0", 6, &idx), 0);
    assert_int_equal(cs_estate_vpc_find(s, NULL, 0, NULL), CS_EINVAL);
    /* 10.0.0.0/16 is shared by two VPCs: two entries, one prefix. */
    cs_prefix q = P("10.0.0.0/16");
    assert_int_equal(cs_query_count(s, &q, CS_Q_OVERLAPPING), 2);
    cs_match m;
    assert_int_equal(cs_lookup(s, &q, &m), 1);
    assert_int_equal(m.count, 2);
    for (uint32_t i = 0; i < m.count; i++) {
        cs_vpc owner;
        assert_int_equal(cs_estate_vpc(s, cs_estate_assoc_vpc(s, m.values[i]), &owner), 0);
        assert_true(strcmp(owner.id, "vpc-b") == 0 || strcmp(owner.id, "vpc-c") == 0);
    }
    cs_snapshot_close(s);
    cs_estate_free(e);
}

/* A plain prefix snapshot has no estate: accessors say so and never crash. */
static void estate__plain_snapshot_has_no_estate(void **state)
{
    (void)state;
    cs_snapshot_builder *b = cs_snapshot_builder_new();
    cs_prefix p = P("10.0.0.0/8");
    assert_int_equal(cs_snapshot_builder_add(b, &p, 7, NULL), 0);
    cs_snapshot *s = NULL;
    assert_int_equal(cs_snapshot_builder_freeze(b, &s, NULL), 0);
    assert_false(cs_estate_present(s));
    assert_int_equal(cs_estate_image_validate(s, NULL), 0);
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    assert_int_equal(c.vpcs, 0);
    cs_vpc v;
    assert_int_equal(cs_estate_vpc(s, 0, &v), CS_ERANGE);
    uint32_t n = 9, idx;
    assert_null(cs_estate_assoc_vpc_map(s, &n));
    assert_int_equal(n, 0);
    assert_int_equal(cs_estate_vpc_find(s, "vpc-1", 5, &idx), 0);
    assert_int_equal(cs_estate_account_find(s, "1", 1, &idx), 0);
    cs_snapshot_close(s);
    cs_snapshot_builder_free(b);
}

/* An empty estate freezes to an empty, valid image. */
static void estate__empty_estate_freezes(void **state)
{
    (void)state;
    cs_estate *e = cs_estate_new();
    cs_snapshot *s = freeze(e);
    assert_true(cs_estate_present(s));
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    assert_int_equal(c.vpcs + c.assocs + c.peerings + c.findings, 0);
    uint32_t idx;
    assert_int_equal(cs_estate_vpc_find(s, "vpc-1", 5, &idx), 0);
    cs_snapshot_close(s);
    cs_estate_free(e);
}

/* ---- seeded random round trip ----------------------------------------------- */

typedef struct m_cidr {
    cs_prefix p;
    char id[48];
    char pool[32];       /* "" = none */
    uint8_t state;
    bool primary;
} m_cidr;

typedef struct m_vpc {
    char id[32];
    char owner[16];
    char region[16];
    char name[24];
    bool is_default;
    m_cidr cidr[5];
    unsigned n_cidr;
} m_vpc;

typedef struct m_pcx {
    char id[32];
    unsigned req, acc; /* VPC model index; >= n_vpc = unknown VPC */
    uint8_t status;
} m_pcx;

typedef struct model {
    m_vpc *vpc;
    unsigned n_vpc;
    m_pcx *pcx;
    unsigned n_pcx;
} model;

static const char *const regions[] = {"us-east-1", "us-west-2", "eu-west-1", "ap-south-1",
                                      "sa-east-1"};

static void model_make(model *m, tu_rng *r, unsigned nv, unsigned np)
{
    m->vpc = calloc(nv, sizeof *m->vpc);
    m->n_vpc = nv;
    for (unsigned i = 0; i < nv; i++) {
        m_vpc *v = &m->vpc[i];
        snprintf(v->id, sizeof v->id, "vpc-%016llx", (unsigned long long)tu_next(r));
        snprintf(v->owner, sizeof v->owner, "%012llu",
                 (unsigned long long)(100000000000ull + tu_below(r, 40)));
        snprintf(v->region, sizeof v->region, "%s", regions[tu_below(r, 5)]);
        if (tu_below(r, 3))
            snprintf(v->name, sizeof v->name, "net-%u", (unsigned)tu_below(r, 1000));
        v->is_default = tu_below(r, 5) == 0;
        v->n_cidr = 1 + (unsigned)tu_below(r, 5);
        for (unsigned k = 0; k < v->n_cidr; k++) {
            m_cidr *c = &v->cidr[k];
            bool six = k > 0 && tu_below(r, 3) == 0;
            bool dup;
            do {
                if (v->is_default && k == 0)
                    c->p = P("172.31.0.0/16");
                else if (six)
                    c->p = tu_random_prefix(r, CS_AF_V6, 44 + (unsigned)tu_below(r, 17));
                else
                    c->p = tu_random_prefix(r, CS_AF_V4, 8 + (unsigned)tu_below(r, 21));
                /* distinct prefixes within one VPC */
                dup = false;
                for (unsigned j = 0; j < k; j++)
                    dup |= cs_prefix_compare(&v->cidr[j].p, &c->p) == 0;
            } while (dup);
            snprintf(c->id, sizeof c->id, "vpc-cidr-assoc-%u-%u", i, k);
            if (k > 0 && tu_below(r, 2) == 0) /* Ipv6Pool or an IPAM pool */
                snprintf(c->pool, sizeof c->pool, "ipv6pool-ec2-%u", (unsigned)tu_below(r, 99));
            c->state = k == 0 ? CS_ASSOC_ASSOCIATED : (uint8_t)(1 + tu_below(r, 6));
            c->primary = k == 0;
        }
    }
    m->pcx = calloc(np, sizeof *m->pcx);
    m->n_pcx = np;
    for (unsigned i = 0; i < np; i++) {
        m_pcx *x = &m->pcx[i];
        snprintf(x->id, sizeof x->id, "pcx-%08x%04x", i, (unsigned)tu_below(r, 65536));
        x->req = (unsigned)tu_below(r, nv + nv / 20 + 1);
        x->acc = (unsigned)tu_below(r, nv + nv / 20 + 1);
        x->status = (uint8_t)tu_below(r, CS_PCX_STATUS_COUNT);
    }
}

static void model_free(model *m)
{
    free(m->vpc);
    free(m->pcx);
}

static void pcx_side_id(const model *m, unsigned k, char *buf, size_t cap)
{
    if (k < m->n_vpc)
        snprintf(buf, cap, "%s", m->vpc[k].id);
    else
        snprintf(buf, cap, "vpc-unknown-%u", k);
}

/* Loads the model into a new estate in the order `perm` (VPCs) and twice for
 * the peerings (both sides' files), primary blocks printed twice. */
static cs_estate *model_load(const model *m, const unsigned *perm)
{
    cs_estate *e = cs_estate_new();
    cs_error err;
    cs_error_clear(&err);
    for (unsigned n = 0; n < m->n_vpc; n++) {
        const m_vpc *v = &m->vpc[perm ? perm[n] : n];
        cs_vpc_desc d = {.id = cs_str_c(v->id), .owner = cs_str_c(v->owner),
                         .region = cs_str_c(v->region), .name = cs_str_c(v->name),
                         .is_default = v->is_default, .state = CS_VPC_AVAILABLE};
        cs_srcloc l = L("model", n + 1, 1);
        assert_int_equal(cs_estate_add_vpc(e, &d, &l, &err), 0);
        /* The primary as the top-level CidrBlock, then the association set. */
        cs_cidr_desc top = {.vpc_id = d.id, .prefix = v->cidr[0].p, .primary = true};
        assert_int_equal(cs_estate_add_cidr(e, &top, &l, &err), 0);
        for (unsigned k = 0; k < v->n_cidr; k++) {
            cs_cidr_desc c = {.vpc_id = d.id, .prefix = v->cidr[k].p,
                              .association_id = cs_str_c(v->cidr[k].id),
                              .pool = cs_str_c(v->cidr[k].pool), .state = v->cidr[k].state};
            int rc = cs_estate_add_cidr(e, &c, &l, &err);
            if (rc != (k == 0 ? 1 : 0))
                fail_msg("add_cidr %s %u: %d %s", v->id, k, rc, err.message);
        }
    }
    for (int pass = 0; pass < 2; pass++) {
        for (unsigned i = 0; i < m->n_pcx; i++) {
            const m_pcx *x = &m->pcx[perm ? m->n_pcx - 1 - i : i];
            char req[48], acc[48];
            pcx_side_id(m, x->req, req, sizeof req);
            pcx_side_id(m, x->acc, acc, sizeof acc);
            cs_peering_desc d = pcx(x->id, req, acc, x->status);
            cs_srcloc l = L(pass ? "accepter/peering.json" : "requester/peering.json", i + 1, 1);
            assert_int_equal(cs_estate_add_peering(e, &d, &l, &err), pass ? 1 : 0);
        }
    }
    return e;
}

static void check_model(const cs_snapshot *s, const model *m)
{
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    assert_int_equal(c.vpcs, m->n_vpc);
    assert_int_equal(c.peerings, m->n_pcx);
    unsigned total = 0, unknown = 0;
    for (unsigned i = 0; i < m->n_vpc; i++) {
        const m_vpc *mv = &m->vpc[i];
        uint32_t vi = vpc_index(s, mv->id);
        cs_vpc v;
        assert_int_equal(cs_estate_vpc(s, vi, &v), 0);
        assert_string_equal(v.id, mv->id);
        assert_string_equal(v.name, mv->name);
        assert_int_equal(v.is_default, mv->is_default);
        cs_account a;
        cs_region r;
        assert_int_equal(cs_estate_account(s, v.account_idx, &a), 0);
        assert_string_equal(a.id, mv->owner);
        assert_true(vi >= a.vpc_begin && vi < a.vpc_begin + a.vpc_count);
        assert_int_equal(cs_estate_region(s, v.region_idx, &r), 0);
        assert_string_equal(r.name, mv->region);
        assert_int_equal(v.assoc_count, mv->n_cidr);
        total += mv->n_cidr;
        for (unsigned k = 0; k < mv->n_cidr; k++) {
            bool found = false;
            for (uint32_t ai = v.assoc_begin; ai < v.assoc_begin + v.assoc_count; ai++) {
                cs_assoc as;
                assert_int_equal(cs_estate_assoc(s, ai, &as), 0);
                if (strcmp(as.id, mv->cidr[k].id) != 0)
                    continue;
                found = true;
                assert_int_equal(cs_prefix_compare(&as.prefix, &mv->cidr[k].p), 0);
                assert_int_equal(as.state, mv->cidr[k].state);
                assert_int_equal(as.primary, mv->cidr[k].primary);
                assert_string_equal(as.pool, mv->cidr[k].pool);
                assert_int_equal(as.vpc_idx, vi);
            }
            assert_true(found);
        }
    }
    assert_int_equal(c.assocs, total);
    for (unsigned i = 0; i < m->n_pcx; i++) {
        const m_pcx *x = &m->pcx[i];
        uint32_t pi;
        assert_int_equal(cs_estate_peering_find(s, x->id, strlen(x->id), &pi), 1);
        cs_peering p;
        assert_int_equal(cs_estate_peering(s, pi, &p), 0);
        assert_string_equal(p.id, x->id);
        assert_int_equal(p.status, x->status);
        char req[48], acc[48];
        pcx_side_id(m, x->req, req, sizeof req);
        pcx_side_id(m, x->acc, acc, sizeof acc);
        assert_string_equal(p.requester.vpc_id, req);
        assert_string_equal(p.accepter.vpc_id, acc);
        const cs_peering_end *ends[2] = {&p.requester, &p.accepter};
        unsigned mi[2] = {x->req, x->acc};
        for (int k = 0; k < 2; k++) {
            if (mi[k] >= m->n_vpc) {
                assert_int_equal(ends[k]->vpc_idx, CS_IDX_NONE);
                unknown++;
                continue;
            }
            assert_int_equal(ends[k]->vpc_idx, vpc_index(s, m->vpc[mi[k]].id));
            /* listed under its VPC */
            uint32_t n;
            const uint32_t *lst = cs_estate_vpc_peerings(s, ends[k]->vpc_idx, &n);
            bool listed = false;
            for (uint32_t j = 0; j < n; j++)
                listed |= lst[j] == pi;
            assert_true(listed);
        }
    }
    assert_int_equal(count_findings(s, CS_FINDING_UNKNOWN_VPC), unknown);
}

/* The estate sections of two images, byte for byte. */
static void assert_same_estate_sections(const cs_snapshot *a, const cs_snapshot *b)
{
    for (uint32_t id = CS_ESEC_HEADER; id < CS_ESEC_END; id++) {
        uint64_t la, lb;
        const void *pa = snap_section(a, id, &la), *pb = snap_section(b, id, &lb);
        assert_non_null(pa);
        assert_non_null(pb);
        if (id == CS_ESEC_FINDINGS || id == CS_ESEC_STRINGS)
            continue; /* findings keep input order; strings follow it */
        assert_int_equal(la, lb);
        if (id == CS_ESEC_PEERINGS || id == CS_ESEC_VPCS || id == CS_ESEC_ACCOUNTS ||
            id == CS_ESEC_REGIONS || id == CS_ESEC_ASSOCS || id == CS_ESEC_EDGES ||
            id == CS_ESEC_TAGS || id == CS_ESEC_VPC_HASH || id == CS_ESEC_ASSOC_POOL)
            continue; /* records hold string offsets: compared through accessors */
        if (memcmp(pa, pb, (size_t)la) != 0)
            fail_msg("estate section 0x%x differs between insertion orders", id);
    }
}

static void assert_same_estate(const cs_snapshot *a, const cs_snapshot *b)
{
    assert_same_estate_sections(a, b);
    cs_estate_counts ca, cb;
    cs_estate_counts_get(a, &ca);
    cs_estate_counts_get(b, &cb);
    assert_memory_equal(&ca, &cb, sizeof ca);
    for (uint32_t i = 0; i < ca.vpcs; i++) {
        cs_vpc x, y;
        assert_int_equal(cs_estate_vpc(a, i, &x), 0);
        assert_int_equal(cs_estate_vpc(b, i, &y), 0);
        assert_string_equal(x.id, y.id);
        assert_string_equal(x.name, y.name);
        assert_int_equal(x.account_idx, y.account_idx);
        assert_int_equal(x.region_idx, y.region_idx);
        assert_int_equal(x.assoc_begin, y.assoc_begin);
        assert_int_equal(x.assoc_count, y.assoc_count);
        assert_int_equal(x.pcx_count, y.pcx_count);
    }
    for (uint32_t i = 0; i < ca.assocs; i++) {
        cs_assoc x, y;
        assert_int_equal(cs_estate_assoc(a, i, &x), 0);
        assert_int_equal(cs_estate_assoc(b, i, &y), 0);
        assert_int_equal(cs_prefix_compare(&x.prefix, &y.prefix), 0);
        assert_string_equal(x.id, y.id);
        assert_string_equal(x.pool, y.pool);
        assert_int_equal(x.vpc_idx, y.vpc_idx);
        assert_int_equal(x.state, y.state);
    }
    for (uint32_t i = 0; i < ca.peerings; i++) {
        cs_peering x, y;
        assert_int_equal(cs_estate_peering(a, i, &x), 0);
        assert_int_equal(cs_estate_peering(b, i, &y), 0);
        assert_string_equal(x.id, y.id);
        assert_int_equal(x.requester.vpc_idx, y.requester.vpc_idx);
        assert_int_equal(x.accepter.vpc_idx, y.accepter.vpc_idx);
    }
}

static void estate__random_round_trip(void **state)
{
    (void)state;
    uint64_t seed = tu_seed("estate__random_round_trip", 0x5eedc0de);
    tu_rng r = {seed};
    model m;
    model_make(&m, &r, 3000, 900);
    cs_estate *e = model_load(&m, NULL);
    cs_snapshot *s = freeze(e);
    check_model(s, &m);

    /* Another insertion order gives the same tables. */
    unsigned *perm = malloc(m.n_vpc * sizeof *perm);
    for (unsigned i = 0; i < m.n_vpc; i++)
        perm[i] = i;
    for (unsigned i = m.n_vpc; i > 1; i--) {
        unsigned j = (unsigned)tu_below(&r, i), t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
    cs_estate *e2 = model_load(&m, perm);
    cs_snapshot *s2 = freeze(e2);
    check_model(s2, &m);
    assert_same_estate(s, s2);

    /* A file image is the same estate. */
    char path[] = "/tmp/cs_estate_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_snapshot_write(s, path, &err), 0);
    cs_snapshot *sf = NULL;
    assert_int_equal(cs_snapshot_open(path, 0, &sf, &err), 0);
    assert_int_equal(cs_estate_image_validate(sf, &err), 0);
    check_model(sf, &m);
    cs_snapshot_close(sf);
    unlink(path);

    free(perm);
    cs_snapshot_close(s2);
    cs_estate_free(e2);
    cs_snapshot_close(s);
    cs_estate_free(e);
    model_free(&m);
}

/* The VPC directory (estate format 4: a VPC's account and VPC_EXTRA record
 * are not in its record) against brute force: many accounts per 64-VPC
 * block, accounts without VPCs sorted between them (peering owners), VPCs
 * with and without peering connections and edges. Every VPC's account is
 * the one whose range holds it (found by scanning all accounts) and owns
 * it in the input; its peering and edge counts are the input's. */
static void estate__vpc_directory_matches_brute_force(void **state)
{
    (void)state;
    uint64_t seed = tu_seed("estate__vpc_directory_matches_brute_force", 0xd1ec7);
    tu_rng r = {seed};
    const unsigned sizes[] = {1, 63, 64, 65, 700};
    for (size_t t = 0; t < sizeof sizes / sizeof *sizes; t++) {
        const unsigned nv = sizes[t], np = nv / 2 + 3;
        char (*ids)[32] = malloc(nv * sizeof *ids);
        unsigned *owner = malloc(nv * sizeof *owner), *npcx = calloc(nv, sizeof *npcx),
                 *nedge = calloc(nv, sizeof *nedge);
        cs_estate *e = cs_estate_new();
        cs_error err;
        cs_error_clear(&err);
        char own[16], other[40], pid[32], gw[32];
        for (unsigned v = 0; v < nv; v++) {
            owner[v] = 100000 + 2 * (unsigned)tu_below(&r, nv / 3 + 1); /* even: owns VPCs */
            snprintf(ids[v], sizeof ids[v], "vpc-%08x%08x", v, (unsigned)tu_below(&r, 1u << 30));
            snprintf(own, sizeof own, "%012u", owner[v]);
            cs_vpc_desc d = {.id = cs_str_c(ids[v]), .owner = cs_str_c(own),
                             .region = cs_str_c("eu-west-1"), .state = CS_VPC_AVAILABLE};
            cs_srcloc l = L("dir", v + 1, 1);
            assert_int_equal(cs_estate_add_vpc(e, &d, &l, &err), 0);
            if (tu_below(&r, 4) == 0) {
                snprintf(gw, sizeof gw, "igw-%u", v);
                cs_edge_desc g = {.vpc_id = cs_str_c(ids[v]), .kind = CS_EDGE_INTERNET_GATEWAY,
                                  .id = cs_str_c(gw)};
                assert_int_equal(cs_estate_add_edge(e, &g, &l, &err), 0);
                nedge[v]++;
            }
        }
        for (unsigned i = 0; i < np; i++) {
            /* a VPC of the input and one nobody listed, owned by an odd
             * account: an account without VPCs, sorted between the others */
            unsigned v = (unsigned)tu_below(&r, nv);
            snprintf(pid, sizeof pid, "pcx-%08x", i);
            snprintf(other, sizeof other, "vpc-unlisted-%u", i);
            snprintf(own, sizeof own, "%012u", 100000 + 2 * (unsigned)tu_below(&r, nv / 3 + 1) + 1);
            cs_peering_desc d = {.id = cs_str_c(pid), .requester = {.vpc_id = cs_str_c(ids[v])},
                                 .accepter = {.vpc_id = cs_str_c(other), .owner = cs_str_c(own)},
                                 .status = CS_PCX_ACTIVE};
            cs_srcloc l = L("dir-pcx", i + 1, 1);
            assert_int_equal(cs_estate_add_peering(e, &d, &l, &err), 0);
            npcx[v]++;
        }
        cs_snapshot *s = freeze(e);
        cs_estate_counts c;
        cs_estate_counts_get(s, &c);
        assert_int_equal(c.vpcs, nv);
        unsigned empty = 0;
        for (uint32_t a = 0; a < c.accounts; a++) {
            cs_account acct;
            assert_int_equal(cs_estate_account(s, a, &acct), 0);
            empty += acct.vpc_count == 0;
        }
        assert_true(empty > 0);
        for (uint32_t v = 0; v < nv; v++) {
            cs_vpc vp;
            assert_int_equal(cs_estate_vpc(s, v, &vp), 0);
            uint32_t want = CS_IDX_NONE;
            for (uint32_t a = 0; a < c.accounts; a++) {
                cs_account acct;
                cs_estate_account(s, a, &acct);
                if (v >= acct.vpc_begin && v - acct.vpc_begin < acct.vpc_count)
                    want = a;
            }
            unsigned in = 0; /* its input index */
            while (in < nv && strcmp(ids[in], vp.id) != 0)
                in++;
            assert_true(in < nv);
            cs_account acct;
            assert_int_equal(cs_estate_account(s, vp.account_idx, &acct), 0);
            snprintf(own, sizeof own, "%012u", owner[in]);
            if (vp.account_idx != want || strcmp(acct.id, own) != 0 ||
                vp.pcx_count != npcx[in] || vp.edge_count != nedge[in])
                fail_msg("VPC %u (%s): account %u (%s) pcx %u edges %u, want %u (%s) %u %u "
                         "(n %u, seed %llu)", v, vp.id, vp.account_idx, acct.id, vp.pcx_count,
                         vp.edge_count, want, own, npcx[in], nedge[in], nv,
                         (unsigned long long)seed);
            uint32_t n;
            const uint32_t *lst = cs_estate_vpc_peerings(s, v, &n);
            assert_int_equal(n, npcx[in]);
            assert_true((lst != NULL) == (n > 0));
        }
        cs_snapshot_close(s);
        cs_estate_free(e);
        free(ids);
        free(owner);
        free(npcx);
        free(nedge);
    }
}

/* ---- overlap queries on the frozen estate vs a brute-force scan ----------------- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

typedef struct vals {
    uint32_t *v;
    size_t n, cap;
} vals;

static int collect_vals(const cs_match *m, void *ctx)
{
    vals *c = ctx;
    for (uint32_t i = 0; i < m->count; i++) {
        if (c->n == c->cap) {
            c->cap = c->cap ? c->cap * 2 : 256;
            c->v = realloc(c->v, c->cap * sizeof *c->v);
        }
        c->v[c->n++] = m->values[i];
    }
    return 0;
}

static void estate__overlap_queries_match_brute_force(void **state)
{
    (void)state;
    uint64_t seed = tu_seed("estate__overlap_queries_match_brute_force", 0xc1d7);
    tu_rng r = {seed};
    model m;
    model_make(&m, &r, 2000, 10);
    cs_estate *e = model_load(&m, NULL);
    cs_snapshot *s = freeze(e);
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    cs_assoc *all = malloc(c.assocs * sizeof *all);
    for (uint32_t i = 0; i < c.assocs; i++)
        assert_int_equal(cs_estate_assoc(s, i, &all[i]), 0);
    vals got = {0}, want = {0};
    for (unsigned qi = 0; qi < 3000; qi++) {
        cs_prefix q;
        if (qi % 3 == 0) {
            const cs_assoc *a = &all[tu_below(&r, c.assocs)];
            unsigned len = (unsigned)tu_below(&r, cs_family_bits(a->prefix.family) + 1);
            q = tu_truncate(&a->prefix, len < a->prefix.len ? len : a->prefix.len);
            if (qi % 2)
                q = a->prefix;
        } else {
            uint8_t fam = tu_below(&r, 4) ? CS_AF_V4 : CS_AF_V6;
            q = tu_random_prefix(&r, fam, (unsigned)tu_below(&r, cs_family_bits(fam) + 1));
        }
        for (unsigned kind = CS_Q_COVERING; kind <= CS_Q_OVERLAPPING; kind++) {
            got.n = want.n = 0;
            assert_int_equal(cs_query_walk(s, &q, kind, collect_vals, &got), 0);
            for (uint32_t i = 0; i < c.assocs; i++) {
                if (!all[i].live)
                    continue;
                int rel = tu_relation(&all[i].prefix, &q);
                bool hit = (kind & CS_Q_COVERING && (rel == CS_REL_COVERS || rel == CS_REL_EQUAL)) ||
                           (kind & CS_Q_COVERED && (rel == CS_REL_COVERED || rel == CS_REL_EQUAL));
                if (hit) {
                    vals *w = &want;
                    if (w->n == w->cap) {
                        w->cap = w->cap ? w->cap * 2 : 256;
                        w->v = realloc(w->v, w->cap * sizeof *w->v);
                    }
                    w->v[w->n++] = i;
                }
            }
            if (got.n)
                qsort(got.v, got.n, sizeof *got.v, cmp_u32);
            if (got.n != want.n || (want.n && memcmp(got.v, want.v, want.n * sizeof *want.v)))
                fail_msg("seed %llu query %u kind %u: %zu associations, brute force %zu",
                         (unsigned long long)seed, qi, kind, got.n, want.n);
            assert_int_equal(cs_query_count(s, &q, kind), (int64_t)want.n);
        }
    }
    free(got.v);
    free(want.v);
    free(all);
    cs_snapshot_close(s);
    cs_estate_free(e);
    model_free(&m);
}

/* ---- damaged images ----------------------------------------------------------- */

typedef struct image {
    uint8_t *buf;
    size_t len;
} image;

static image image_copy(const cs_snapshot *s)
{
    size_t len;
    const void *p = cs_snapshot_image(s, &len);
    image im = {aligned_alloc(64, (len + 63) & ~(size_t)63), len};
    memcpy(im.buf, p, len);
    return im;
}

/* Offset of estate section `id` inside the image. */
static size_t sec_off(const cs_snapshot *s, uint32_t id, uint64_t *len)
{
    size_t il;
    const uint8_t *base = cs_snapshot_image(s, &il);
    const uint8_t *p = snap_section(s, id, len);
    assert_non_null(p);
    return (size_t)(p - base);
}

/* Opens the damaged copy without checksums; either the open path or the
 * validator must refuse it with CS_ECORRUPT (never crash). When it is
 * accepted, every accessor must still be safe. Returns the status. */
static int try_image(const image *im)
{
    cs_snapshot *s = NULL;
    cs_error err;
    cs_error_clear(&err);
    int rc = cs_snapshot_from_memory(im->buf, im->len, CS_OPEN_NO_VERIFY, &s, &err);
    if (rc == 0) {
        rc = cs_estate_image_validate(s, &err);
        if (rc == 0) {
            cs_estate_counts c;
            cs_estate_counts_get(s, &c);
            for (uint32_t i = 0; i < c.vpcs; i++) {
                cs_vpc v;
                cs_estate_vpc(s, i, &v);
                uint32_t idx, n;
                cs_estate_vpc_find(s, v.id, strlen(v.id), &idx);
                cs_estate_vpc_peerings(s, i, &n);
                for (uint32_t a = v.assoc_begin; a < v.assoc_begin + v.assoc_count; a++) {
                    cs_assoc as;
                    assert_int_equal(cs_estate_assoc(s, a, &as), 0);
                    (void)strlen(as.id);
                }
            }
            for (uint32_t i = 0; i < c.peerings; i++) {
                cs_peering p;
                cs_estate_peering(s, i, &p);
                (void)strlen(p.requester.vpc_id);
            }
            for (uint32_t i = 0; i < c.findings; i++) {
                cs_finding f;
                cs_estate_finding(s, i, &f);
                (void)strlen(f.message);
            }
        }
        cs_snapshot_close(s);
    }
    if (rc != 0)
        assert_true(rc == CS_ECORRUPT || rc == CS_EVERSION);
    return rc;
}

static void estate__damaged_images_are_refused(void **state)
{
    (void)state;
    uint64_t seed = tu_seed("estate__damaged_images_are_refused", 0xbadf00d);
    tu_rng r = {seed};
    model m;
    model_make(&m, &r, 60, 20);
    cs_estate *e = model_load(&m, NULL);
    cs_snapshot *s = freeze(e);
    image good = image_copy(s);
    assert_int_equal(try_image(&good), 0);

    /* Targeted damage, each must be CS_ECORRUPT. */
    struct { uint32_t sec; size_t at; uint32_t val; } cases[] = {
        {CS_ESEC_VPC_DIR, offsetof(cs_evpc_dir, account_idx), 0x7fffffff},
        {CS_ESEC_VPC_DIR, offsetof(cs_evpc_dir, account_idx), 1},
        {CS_ESEC_VPC_DIR, offsetof(cs_evpc_dir, extra_bits) + 4, 0x80000000}, /* past VPC 59 */
        {CS_ESEC_ACCOUNTS, offsetof(cs_eaccount, vpc_begin), 1},
        {CS_ESEC_VPCS, offsetof(cs_evpc, id_off), 0xfffffff0},
        {CS_ESEC_VPCS, sizeof(cs_evpc) + offsetof(cs_evpc, assoc_begin), 0xffff},
        {CS_ESEC_ASSOCS, offsetof(cs_eassoc, len), 0x21},
        {CS_ESEC_ASSOC_VPC, 0, 999999},
        {CS_ESEC_PEERINGS, offsetof(cs_epeering, vpc_idx), 123456},
        {CS_ESEC_VPC_PCX, 0, 0x0fffffff},
        {CS_ESEC_FINDINGS, offsetof(cs_efinding, msg_off), 0xfffffff0},
        {CS_ESEC_HEADER, offsetof(cs_ehdr, n_vpcs), 61},
        {CS_ESEC_HEADER, offsetof(cs_ehdr, hash_slots), 3},
        {CS_ESEC_HEADER, offsetof(cs_ehdr, magic), 0},
        {CS_ESEC_ACCOUNTS, offsetof(cs_eaccount, vpc_count), 1000},
        {CS_ESEC_VPC_HASH, 0, 0},
        {CS_ESEC_VPC_DIR, offsetof(cs_evpc_dir, extra_before), 7},
        {CS_ESEC_VPCS, offsetof(cs_evpc, region_idx), 0xffff},
        {CS_ESEC_VPCS, offsetof(cs_evpc, state), 0x400}, /* flags: unknown bit */
        {CS_ESEC_VPC_EXTRA, offsetof(cs_evpc_extra, pcx_begin), 0xffffff},
        {CS_ESEC_VPC_EXTRA, sizeof(cs_evpc_extra) + offsetof(cs_evpc_extra, edge_begin), 1},
        {CS_ESEC_ASSOC_POOL, offsetof(cs_eassoc_pool, assoc_idx), 0xfffff},
        {CS_ESEC_ASSOC_POOL, offsetof(cs_eassoc_pool, pool_off), 0xfffffff0},
        {CS_ESEC_HEADER, offsetof(cs_ehdr, n_pools), 1000},
        {CS_ESEC_HEADER, offsetof(cs_ehdr, reserved), 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        image im = image_copy(s);
        uint64_t len;
        size_t off = sec_off(s, cases[i].sec, &len);
        if (cases[i].sec == CS_ESEC_VPC_HASH) {
            /* Duplicate the first used slot over an empty one. */
            uint32_t *slots = (uint32_t *)(im.buf + off), used = 0;
            size_t n = (size_t)(len / 4), empty = n;
            for (size_t j = 0; j < n; j++) {
                if (slots[j] && !used)
                    used = slots[j];
                if (!slots[j] && empty == n)
                    empty = j;
            }
            slots[empty] = used;
        } else {
            memcpy(im.buf + off + cases[i].at, &cases[i].val, 4);
        }
        int rc = try_image(&im);
        if (rc != CS_ECORRUPT && rc != CS_EVERSION)
            fail_msg("damage case %zu accepted", i);
        free(im.buf);
    }
    /* The state byte of an association and the strings' final NUL. */
    {
        image im = image_copy(s);
        uint64_t len;
        size_t off = sec_off(s, CS_ESEC_ASSOCS, &len);
        im.buf[off + offsetof(cs_eassoc, state)] = 0;
        assert_int_equal(try_image(&im), CS_ECORRUPT);
        free(im.buf);
        im = image_copy(s);
        off = sec_off(s, CS_ESEC_STRINGS, &len);
        im.buf[off + len - 1] = 'x';
        assert_int_equal(try_image(&im), CS_ECORRUPT);
        free(im.buf);
    }
    /* Random bit flips anywhere in the estate sections: refused or safe. */
    uint64_t first_len;
    size_t first = sec_off(s, CS_ESEC_HEADER, &first_len);
    for (int k = 0; k < 3000; k++) {
        image im = image_copy(s);
        size_t at = first + (size_t)tu_below(&r, im.len - first);
        im.buf[at] ^= (uint8_t)(1u << tu_below(&r, 8));
        try_image(&im);
        free(im.buf);
    }
    free(good.buf);
    cs_snapshot_close(s);
    cs_estate_free(e);
    model_free(&m);
}

/* ---- the consuming freeze ------------------------------------------------------ */

/* Byte for byte, but for the creation time and the header checksum over it. */
static void assert_same_bytes(const cs_snapshot *a, const cs_snapshot *b, const char *what)
{
    size_t la, lb;
    const uint8_t *pa = cs_snapshot_image(a, &la), *pb = cs_snapshot_image(b, &lb);
    if (la != lb)
        fail_msg("%s: %zu bytes against %zu", what, la, lb);
    for (size_t i = 0; i < la; i++)
        if (!((i >= 40 && i < 48) || (i >= 96 && i < 104)) && pa[i] != pb[i])
            fail_msg("%s: byte %zu of %zu differs", what, i, la);
}

static void estate__consuming_freeze_is_the_same_image(void **state)
{
    (void)state;
    uint64_t seed = tu_seed("estate__consuming_freeze_is_the_same_image", 0xc0ffee);
    tu_rng r = {seed};
    model m;
    model_make(&m, &r, 3000, 900);
    cs_estate *e1 = model_load(&m, NULL), *e2 = model_load(&m, NULL);
#ifdef __GLIBC__
    /* Each freeze on heap memory pre-filled with another byte: a byte the
     * raw image draft leaves unwritten differs between the two. */
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_PERTURB, 0xa5);
#endif
    cs_snapshot *s1 = freeze(e1);
#ifdef __GLIBC__
    mallopt(M_PERTURB, 0x5a);
#endif
    cs_snapshot *s2 = NULL;
    cs_error err;
    cs_error_clear(&err);
    int rc = cs_estate_freeze_consume(e2, &s2, &err);
#ifdef __GLIBC__
    mallopt(M_PERTURB, 0);
#endif
    if (rc != 0)
        fail_msg("consuming freeze: %s", err.message);
    assert_int_equal(cs_estate_image_validate(s2, &err), 0);
    assert_same_bytes(s1, s2, "freeze against consuming freeze");
    check_model(s2, &m);

    /* The consumed builder refuses everything but _free. */
    cs_vpc_desc d = {.id = cs_str_c("vpc-after"), .owner = cs_str_c("123456789012"),
                     .region = cs_str_c("us-east-1"), .state = CS_VPC_AVAILABLE};
    cs_srcloc l = L("after", 1, 1);
    assert_int_equal(cs_estate_add_vpc(e2, &d, &l, &err), CS_ESTATE);
    cs_snapshot *s3 = NULL;
    assert_int_equal(cs_estate_freeze(e2, &s3, &err), CS_ESTATE);
    assert_null(s3);

    /* The tries equal the trie builder's for the image's own live entries
     * (value = association index): the estate's sorted freeze is the
     * snapshot builder's freeze, section for section. */
    cs_snapshot_builder *b = cs_snapshot_builder_new();
    cs_estate_counts c;
    cs_estate_counts_get(s1, &c);
    for (uint32_t i = 0; i < c.assocs; i++) {
        cs_assoc a;
        assert_int_equal(cs_estate_assoc(s1, i, &a), 0);
        if (a.live)
            assert_int_equal(cs_snapshot_builder_add(b, &a.prefix, i, &err), 0);
    }
    cs_snapshot *t = NULL;
    assert_int_equal(cs_snapshot_builder_freeze(b, &t, &err), 0);
    for (uint32_t id = CS_SEC_HOT_V4; id <= CS_SEC_CORE_LAST; id++) {
        uint64_t la, lb;
        const void *pa = snap_section(s1, id, &la), *pb = snap_section(t, id, &lb);
        if (la != lb || (la && memcmp(pa, pb, (size_t)la) != 0))
            fail_msg("core section %u differs from the trie builder's (seed %llu)", id,
                     (unsigned long long)seed);
    }
    cs_snapshot_close(t);
    cs_snapshot_builder_free(b);
    cs_snapshot_close(s2);
    cs_snapshot_close(s1);
    cs_estate_free(e2);
    cs_estate_free(e1);
    model_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(estate__enum_names_round_trip),
        cmocka_unit_test(estate__stats_count_what_stat_reports),
        cmocka_unit_test(estate__only_live_states_overlap),
        cmocka_unit_test(estate__primary_block_is_one_association),
        cmocka_unit_test(estate__reassociated_block_is_two_associations),
        cmocka_unit_test(estate__association_id_conflict_names_both_locations),
        cmocka_unit_test(estate__vpc_seen_twice),
        cmocka_unit_test(estate__peering_seen_from_both_sides_is_one),
        cmocka_unit_test(estate__peering_to_unknown_vpc_is_kept_and_reported),
        cmocka_unit_test(estate__aws_limits_are_findings),
        cmocka_unit_test(estate__secondary_overlapping_own_block_is_a_finding),
        cmocka_unit_test(estate__builder_rejects_host_bits_and_bad_input),
        cmocka_unit_test(estate__findings_and_rejections_are_recorded),
        cmocka_unit_test(estate__accessors_return_what_was_added),
        cmocka_unit_test(estate__plain_snapshot_has_no_estate),
        cmocka_unit_test(estate__empty_estate_freezes),
        cmocka_unit_test(estate__random_round_trip),
        cmocka_unit_test(estate__vpc_directory_matches_brute_force),
        cmocka_unit_test(estate__consuming_freeze_is_the_same_image),
        cmocka_unit_test(estate__overlap_queries_match_brute_force),
        cmocka_unit_test(estate__damaged_images_are_refused),
        cmocka_unit_test(estate__locations_past_32_bits_are_exact),
        cmocka_unit_test(estate__many_blocks_dedupe_across_chunks),
        cmocka_unit_test(estate__regress_map_growth_keeps_the_first_of_a_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
