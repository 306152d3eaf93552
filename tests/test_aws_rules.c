/*
 * tests/test_aws_rules.c — AWS's rules for a VPC's blocks
 * (engine/core/aws_rules.c): every row of the IPv4 association-restriction
 * table with a restricted and a permitted block, the 10.0.0.0/15 clause,
 * block sizes of both families, the reserved ranges; and, per row, that the
 * three users of the table agree: the table itself, the estate's
 * freeze-time findings (the ones `stat` and `audit --what-if` read) and
 * `can-add` (cs_peering_can_add).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cidrscope/estate.h>
#include <cidrscope/peering.h>

#include "core/aws_rules_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cs_prefix P(const char *text)
{
    cs_prefix p;
    cs_error err;
    cs_error_clear(&err);
    if (cs_prefix_parse(text, strlen(text), 0, &p, &err) != 0)
        fail_msg("test prefix %s: %s", text, err.message);
    return p;
}

/* One case: a VPC with `primary` (and `extra`, a second block, or NULL)
 * that adds `secondary`; `rule` is what AWS's table says. */
typedef struct rule_case {
    const char *primary, *extra, *secondary;
    unsigned rule;
} rule_case;

static const rule_case cases[] = {
    /* R1: primary in 10.0.0.0/8 */
    {"10.5.0.0/16", NULL, "172.16.0.0/16", CS_AWS_OTHER_RFC1918},
    {"10.5.0.0/16", NULL, "192.168.0.0/16", CS_AWS_OTHER_RFC1918},
    {"10.5.0.0/16", NULL, "198.19.0.0/16", CS_AWS_198_19},
    {"10.5.0.0/16", NULL, "10.6.0.0/16", CS_AWS_ALLOWED},
    {"10.5.0.0/16", NULL, "100.64.0.0/16", CS_AWS_ALLOWED},
    {"10.5.0.0/16", NULL, "54.10.0.0/16", CS_AWS_ALLOWED},
    {"10.5.0.0/16", NULL, "10.0.0.0/16", CS_AWS_ALLOWED},
    /* the 10.0.0.0/15 clause, on the primary and on another block */
    {"10.1.0.0/16", NULL, "10.0.4.0/24", CS_AWS_10_0_16},
    {"10.5.0.0/16", "10.1.0.0/17", "10.0.0.0/16", CS_AWS_10_0_16},
    {"10.5.0.0/16", "10.2.0.0/16", "10.0.0.0/16", CS_AWS_ALLOWED},
    /* R2: primary in 172.16.0.0/12 */
    {"172.20.0.0/16", NULL, "10.0.0.0/16", CS_AWS_OTHER_RFC1918},
    {"172.20.0.0/16", NULL, "192.168.0.0/16", CS_AWS_OTHER_RFC1918},
    {"172.20.0.0/16", NULL, "172.31.64.0/18", CS_AWS_172_31_16},
    {"172.20.0.0/16", NULL, "198.19.0.0/16", CS_AWS_198_19},
    {"172.20.0.0/16", NULL, "172.21.0.0/16", CS_AWS_ALLOWED},
    {"172.20.0.0/16", NULL, "100.64.0.0/16", CS_AWS_ALLOWED},
    {"172.31.0.0/16", NULL, "172.16.0.0/16", CS_AWS_ALLOWED}, /* a default VPC */
    {"172.31.0.0/16", NULL, "172.17.0.0/16", CS_AWS_ALLOWED},
    /* R3: primary in 192.168.0.0/16 */
    {"192.168.0.0/20", NULL, "10.0.0.0/16", CS_AWS_OTHER_RFC1918},
    {"192.168.0.0/20", NULL, "172.16.0.0/16", CS_AWS_OTHER_RFC1918},
    {"192.168.0.0/20", NULL, "198.19.0.0/16", CS_AWS_198_19},
    {"192.168.0.0/20", NULL, "192.168.64.0/20", CS_AWS_ALLOWED},
    {"192.168.0.0/20", NULL, "100.64.0.0/16", CS_AWS_ALLOWED},
    /* R4: primary in 198.19.0.0/16 */
    {"198.19.0.0/20", NULL, "10.0.0.0/16", CS_AWS_NON_RFC1918},
    {"198.19.0.0/20", NULL, "172.16.0.0/16", CS_AWS_NON_RFC1918},
    {"198.19.0.0/20", NULL, "192.168.0.0/16", CS_AWS_NON_RFC1918},
    {"198.19.0.0/20", NULL, "100.64.0.0/16", CS_AWS_ALLOWED},
    {"198.19.0.0/20", NULL, "54.11.0.0/16", CS_AWS_ALLOWED},
    /* R5: publicly routable or 100.64.0.0/10 primary */
    {"54.0.0.0/16", NULL, "10.0.0.0/16", CS_AWS_NON_RFC1918},
    {"54.0.0.0/16", NULL, "172.16.0.0/16", CS_AWS_NON_RFC1918},
    {"54.0.0.0/16", NULL, "192.168.0.0/16", CS_AWS_NON_RFC1918},
    {"54.0.0.0/16", NULL, "198.19.0.0/16", CS_AWS_198_19},
    {"54.0.0.0/16", NULL, "100.64.0.0/16", CS_AWS_ALLOWED},
    {"100.64.0.0/16", NULL, "10.0.0.0/16", CS_AWS_NON_RFC1918},
    {"100.64.0.0/16", NULL, "100.65.0.0/16", CS_AWS_ALLOWED},
};
#define N_CASES (sizeof cases / sizeof *cases)

static void aws_rules__every_row_of_the_restriction_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_CASES; i++) {
        const rule_case *c = &cases[i];
        cs_prefix pr = P(c->primary), s = P(c->secondary), blocks[2];
        size_t n = 0, culprit;
        blocks[n++] = pr;
        if (c->extra)
            blocks[n++] = P(c->extra);
        unsigned got = cs_aws_restriction(&pr, blocks, n, &s, &culprit);
        if (got != c->rule)
            fail_msg("case %zu: %s + %s with %s: rule %u, AWS says %u", i, c->primary,
                     c->secondary, c->extra ? c->extra : "-", got, c->rule);
        if (got == CS_AWS_10_0_16) {
            cs_prefix r = P("10.0.0.0/15");
            assert_true(culprit < n && cs_prefix_contains(&r, &blocks[culprit]));
        } else {
            assert_true(culprit == (size_t)-1);
        }
        assert_non_null(cs_aws_rule_text(got));
    }
    /* IPv6 blocks are never restricted. */
    cs_prefix pr = P("10.0.0.0/16"), s6 = P("2600:1f18::/56");
    size_t culprit;
    assert_int_equal(cs_aws_restriction(&pr, &pr, 1, &s6, &culprit), CS_AWS_ALLOWED);
}

static void aws_rules__block_sizes_both_families(void **state)
{
    (void)state;
    static const struct {
        const char *p;
        bool ok;
    } sz[] = {
        {"10.0.0.0/15", false},   {"10.0.0.0/16", true},       {"10.0.0.0/28", true},
        {"10.0.0.0/29", false},   {"10.0.0.0/22", true},       {"2600::/40", false},
        {"2600::/44", true},      {"2600::/46", false},        {"2600::/48", true},
        {"2600::/52", true},      {"2600::/56", true},         {"2600::/58", false},
        {"2600::/60", true},      {"2600::/64", false},        {"2600::/45", false},
    };
    for (size_t i = 0; i < sizeof sz / sizeof *sz; i++) {
        cs_prefix p = P(sz[i].p);
        if (cs_aws_block_size_ok(&p) != sz[i].ok)
            fail_msg("%s: size_ok %d", sz[i].p, !sz[i].ok);
    }
}

static void aws_rules__reserved_ranges(void **state)
{
    (void)state;
    static const struct {
        const char *p, *range;
        bool ll;
    } r[] = {
        {"0.1.0.0/16", "0.0.0.0/8", false},       {"127.0.0.0/16", "127.0.0.0/8", false},
        {"169.254.0.0/16", "169.254.0.0/16", true}, {"224.0.0.0/16", "224.0.0.0/4", false},
        {"239.255.0.0/16", "224.0.0.0/4", false}, {"1.0.0.0/16", NULL, false},
        {"126.255.0.0/16", NULL, false},          {"169.253.0.0/16", NULL, false},
        {"223.255.0.0/16", NULL, false},          {"2600::/56", NULL, false},
    };
    for (size_t i = 0; i < sizeof r / sizeof *r; i++) {
        cs_prefix p = P(r[i].p);
        bool ll = true;
        const char *got = cs_aws_reserved_range(&p, &ll);
        if (r[i].range == NULL)
            assert_null(got);
        else
            assert_string_equal(got, r[i].range);
        assert_int_equal(ll, r[i].ll);
    }
}

/* ---- the three users agree ------------------------------------------------ */

static void add_vpc(cs_estate *e, const char *id)
{
    cs_vpc_desc d = {.id = cs_str_c(id), .owner = cs_str_c("111111111111"),
                     .region = cs_str_c("us-east-1"), .state = CS_VPC_AVAILABLE};
    cs_srcloc l = {"vpcs.json", 1, 1};
    cs_error err;
    cs_error_clear(&err);
    if (cs_estate_add_vpc(e, &d, &l, &err) < 0)
        fail_msg("add_vpc %s: %s", id, err.message);
}

static void add_cidr(cs_estate *e, const char *vpc, const char *prefix, bool primary)
{
    char assoc[64];
    snprintf(assoc, sizeof assoc, "%s-%s", vpc, prefix);
    cs_cidr_desc d = {.vpc_id = cs_str_c(vpc), .prefix = P(prefix),
                      .association_id = cs_str_c(assoc), .state = CS_ASSOC_ASSOCIATED,
                      .primary = primary};
    cs_srcloc l = {"vpcs.json", 2, 1};
    cs_error err;
    cs_error_clear(&err);
    if (cs_estate_add_cidr(e, &d, &l, &err) < 0)
        fail_msg("add_cidr %s %s: %s", vpc, prefix, err.message);
}

static cs_snapshot *freeze(cs_estate *e)
{
    cs_snapshot *s = NULL;
    cs_error err;
    cs_error_clear(&err);
    if (cs_estate_freeze(e, &s, &err) != 0)
        fail_msg("freeze: %s", err.message);
    cs_estate_free(e);
    return s;
}

/* Findings of `kind` about VPC `id`. */
static unsigned findings_of(const cs_snapshot *s, const char *id, const char *kind)
{
    uint32_t v = CS_IDX_NONE;
    assert_int_equal(cs_estate_vpc_find(s, id, strlen(id), &v), 1);
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    unsigned n = 0;
    for (uint32_t i = 0; i < c.findings; i++) {
        cs_finding f;
        assert_int_equal(cs_estate_finding(s, i, &f), 0);
        n += f.vpc_idx == v && strcmp(f.kind, kind) == 0;
    }
    return n;
}

/* can-add's reasons of `code` for adding p to VPC `id`; *rule gets the
 * rule of a CS_ADD_RESTRICTED reason. */
static unsigned can_add(const cs_snapshot *s, const char *id, const char *p, unsigned code,
                        unsigned *rule)
{
    uint32_t v = CS_IDX_NONE;
    assert_int_equal(cs_estate_vpc_find(s, id, strlen(id), &v), 1);
    cs_prefix q = P(p);
    cs_can_add_reason rs[16];
    int64_t n = cs_peering_can_add(s, v, &q, NULL, rs, 16);
    assert_true(n >= 0 && n <= 16);
    unsigned hits = 0;
    for (int64_t i = 0; i < n; i++)
        if (rs[i].code == code) {
            hits++;
            if (rule)
                *rule = rs[i].rule;
        }
    return hits;
}

static void aws_rules__can_add_and_findings_agree_on_every_row(void **state)
{
    (void)state;
    cs_estate *with = cs_estate_new(), *without = cs_estate_new();
    assert_non_null(with);
    assert_non_null(without);
    char id[N_CASES][32];
    for (size_t i = 0; i < N_CASES; i++) {
        snprintf(id[i], sizeof id[i], "vpc-case%02zu", i);
        for (int k = 0; k < 2; k++) {
            cs_estate *e = k ? without : with;
            add_vpc(e, id[i]);
            add_cidr(e, id[i], cases[i].primary, true);
            if (cases[i].extra)
                add_cidr(e, id[i], cases[i].extra, false);
        }
        add_cidr(with, id[i], cases[i].secondary, false);
    }
    cs_snapshot *sw = freeze(with), *so = freeze(without);
    for (size_t i = 0; i < N_CASES; i++) {
        unsigned rule = 0;
        unsigned refused = can_add(so, id[i], cases[i].secondary, CS_ADD_RESTRICTED, &rule);
        unsigned found = findings_of(sw, id[i], CS_FINDING_RESTRICTED);
        if (refused != (cases[i].rule != 0) || found != (cases[i].rule != 0) ||
            (refused && rule != cases[i].rule))
            fail_msg("case %zu (%s + %s): can-add %u (rule %u), findings %u, table %u", i,
                     cases[i].primary, cases[i].secondary, refused, rule, found, cases[i].rule);
        /* Nothing else stands in the way of these blocks. */
        assert_int_equal(findings_of(so, id[i], CS_FINDING_RESTRICTED), 0);
    }
    cs_snapshot_close(sw);
    cs_snapshot_close(so);
}

/* Sizes and reserved ranges: can-add's code and the estate's finding kind
 * match for each block. */
static void aws_rules__sizes_and_reserved_agree(void **state)
{
    (void)state;
    static const struct {
        const char *p;
        unsigned code;      /* can-add code, or CS_ADD_CODE_COUNT for none */
        const char *kind;   /* finding kind, or NULL */
    } b[] = {
        {"0.0.0.0/16", CS_ADD_RESERVED, CS_FINDING_RESERVED},
        {"127.1.0.0/16", CS_ADD_RESERVED, CS_FINDING_RESERVED},
        {"224.0.0.0/16", CS_ADD_RESERVED, CS_FINDING_RESERVED},
        {"169.254.16.0/20", CS_ADD_LINK_LOCAL, CS_FINDING_LINK_LOCAL},
        {"54.4.0.0/15", CS_ADD_BLOCK_SIZE, CS_FINDING_V4_SIZE},
        {"54.3.0.0/29", CS_ADD_BLOCK_SIZE, CS_FINDING_V4_SIZE},
        {"2600:1f18::/50", CS_ADD_BLOCK_SIZE, CS_FINDING_V6_SIZE},
        {"2600:1f18::/64", CS_ADD_BLOCK_SIZE, CS_FINDING_V6_SIZE},
        {"2600:1f18::/52", CS_ADD_CODE_COUNT, NULL},
        {"54.3.0.0/24", CS_ADD_CODE_COUNT, NULL},
    };
    const size_t n = sizeof b / sizeof *b;
    cs_estate *with = cs_estate_new(), *without = cs_estate_new();
    char id[16][32];
    for (size_t i = 0; i < n; i++) {
        snprintf(id[i], sizeof id[i], "vpc-block%02zu", i);
        for (int k = 0; k < 2; k++) {
            cs_estate *e = k ? without : with;
            add_vpc(e, id[i]);
            add_cidr(e, id[i], "54.200.0.0/16", true);
        }
        add_cidr(with, id[i], b[i].p, false);
    }
    cs_snapshot *sw = freeze(with), *so = freeze(without);
    static const unsigned codes[] = {CS_ADD_RESERVED, CS_ADD_LINK_LOCAL, CS_ADD_BLOCK_SIZE};
    static const char *const kinds[] = {CS_FINDING_RESERVED, CS_FINDING_LINK_LOCAL,
                                        CS_FINDING_V4_SIZE, CS_FINDING_V6_SIZE};
    for (size_t i = 0; i < n; i++) {
        for (size_t c = 0; c < sizeof codes / sizeof *codes; c++)
            if (can_add(so, id[i], b[i].p, codes[c], NULL) != (codes[c] == b[i].code))
                fail_msg("%s: can-add code %s", b[i].p, cs_can_add_code_name(codes[c]));
        for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++)
            if (findings_of(sw, id[i], kinds[k]) !=
                (unsigned)(b[i].kind && strcmp(b[i].kind, kinds[k]) == 0))
                fail_msg("%s: finding %s", b[i].p, kinds[k]);
    }
    assert_string_equal(cs_can_add_code_name(CS_ADD_RESERVED), "reserved-range");
    assert_true(cs_can_add_code_blocks(CS_ADD_RESERVED));
    cs_snapshot_close(sw);
    cs_snapshot_close(so);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(aws_rules__every_row_of_the_restriction_table),
        cmocka_unit_test(aws_rules__block_sizes_both_families),
        cmocka_unit_test(aws_rules__reserved_ranges),
        cmocka_unit_test(aws_rules__can_add_and_findings_agree_on_every_row),
        cmocka_unit_test(aws_rules__sizes_and_reserved_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
