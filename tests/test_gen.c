/*
 * tests/test_gen.c — `cidrscope gen` (datasets/gen/) end to end, through
 * the CLI binary (CS_CLI_PATH): the generated estate loads with zero
 * errors, and every VPC, CIDR association and peering connection the
 * generator wrote comes back from the frozen image with the right
 * attributes.
 *
 * The oracle is the generator's other output: the same seed with --format
 * csv writes one row per association and per connection, read here with a
 * small RFC 4180 splitter, independently of the library's CSV reader. The
 * AWS JSON tree (read by engine/ingest/aws_json.c) must hold exactly those
 * rows; then the CSV read by the library must give the same counts
 * (metamorphic: two sources, one estate). Last, the promises of the
 * generator's header: default VPCs, colliding templates, nested mistakes,
 * reused IPv6, dead blocks, every peering status.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cidrscope/cidrscope.h>
#include <cidrscope/estate.h>

#include "gen_estate.h"

/* ---- helpers ------------------------------------------------------------- */

typedef struct fixture {
    char dir[512];    /* scratch directory */
    char tree[600];   /* dir/estate: the AWS CLI JSON tree */
    char csv[600];    /* dir/estate.csv and dir/estate-peering.csv */
    char pcsv[600];
} fixture;

enum { ACCOUNTS = 13, REGIONS = 3, VPCS = 7, SEED = 4242 };

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    if (rc != 0)
        print_error("command failed (%d): %s\n", rc, cmd);
    assert_int_equal(rc, 0);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    const char *t = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/cs-gen.XXXXXX", t && *t ? t : "/tmp");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->tree, sizeof f->tree, "%s/estate", f->dir);
    snprintf(f->csv, sizeof f->csv, "%s/estate.csv", f->dir);
    snprintf(f->pcsv, sizeof f->pcsv, "%s/estate-peering.csv", f->dir);
    sh("'%s' gen -q --seed %d --accounts %d --regions %d "
       "--vpcs-per-region %d --out '%s'", CS_CLI_PATH, SEED, ACCOUNTS,
       REGIONS, VPCS, f->tree);
    sh("'%s' gen -q --seed %d --accounts %d --regions %d "
       "--vpcs-per-region %d --format csv --out '%s'", CS_CLI_PATH, SEED,
       ACCOUNTS, REGIONS, VPCS, f->csv);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc;
}

static cs_snapshot *load_and_freeze(const char *path, cs_estate_counts *bc)
{
    cs_estate *e = cs_estate_new();
    assert_non_null(e);
    cs_load_options o;
    memset(&o, 0, sizeof o); /* strict: the first error would stop it */
    cs_error err;
    cs_error_clear(&err);
    int rc = cs_estate_load(e, path, &o, &err);
    if (rc != 0) {
        char buf[1024];
        cs_error_format(&err, buf, sizeof buf);
        print_error("load %s: %d %s\n", path, rc, buf);
    }
    assert_int_equal(rc, 0);
    if (bc)
        cs_estate_build_counts(e, bc);
    cs_snapshot *s = NULL;
    assert_int_equal(cs_estate_freeze(e, &s, &err), 0);
    cs_estate_free(e);
    return s;
}

/* Splits one CSV line (RFC 4180, no line breaks inside fields) into at
 * most `max` fields, unquoting in place. Returns the field count. */
static int split_csv(char *line, char **out, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        assert_true(n < max);
        if (*p == '"') {
            char *w = ++p;
            out[n++] = w;
            for (;;) {
                assert_true(*p != '\0');
                if (*p == '"' && p[1] == '"') {
                    *w++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    *w++ = *p++;
                }
            }
            *w = '\0';
            if (*p == '\0')
                return n;
            assert_int_equal(*p, ',');
            p++;
        } else {
            out[n++] = p;
            char *c = strchr(p, ',');
            if (!c)
                return n;
            *c = '\0';
            p = c + 1;
        }
    }
}

static FILE *open_csv(const char *path, const char *header)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[4096];
    assert_non_null(fgets(line, sizeof line, f));
    line[strcspn(line, "\n")] = '\0';
    assert_string_equal(line, header);
    return f;
}

static uint32_t find_vpc(const cs_snapshot *s, const char *id)
{
    uint32_t idx;
    if (cs_estate_vpc_find(s, id, strlen(id), &idx) != 1) {
        print_error("VPC %s is missing\n", id);
        fail();
    }
    return idx;
}

static const char *account_name(const cs_snapshot *s, uint32_t idx)
{
    cs_account a;
    assert_int_equal(cs_estate_account(s, idx, &a), 0);
    return a.id;
}

static const char *region_name(const cs_snapshot *s, uint32_t idx)
{
    cs_region r;
    assert_int_equal(cs_estate_region(s, idx, &r), 0);
    return r.name;
}

/* ---- tests ------------------------------------------------------------------ */

static void gen__estate_tree_loads_with_zero_errors(void **state)
{
    fixture *f = *state;
    cs_estate_counts bc;
    cs_snapshot *s = load_and_freeze(f->tree, &bc);
    assert_int_equal(bc.rejected, 0);
    assert_int_equal(bc.vpcs, ACCOUNTS * REGIONS * VPCS);
    /* Findings from the estate-wide checks are expected (overlaps are the
     * point); none of them is a rejection. */
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    for (uint32_t i = 0; i < c.findings; i++) {
        cs_finding fd;
        assert_int_equal(cs_estate_finding(s, i, &fd), 0);
        assert_string_not_equal(fd.kind, CS_FINDING_REJECTED);
        assert_string_not_equal(fd.kind, CS_FINDING_HOST_BITS);
    }
    cs_snapshot_close(s);
}

static void gen__every_vpc_and_cidr_comes_back(void **state)
{
    fixture *f = *state;
    cs_snapshot *s = load_and_freeze(f->tree, NULL);
    FILE *in = open_csv(f->csv,
                        "account,region,vpc_id,cidr,state,is_default,name");
    char line[4096];
    uint32_t rows = 0;
    while (fgets(line, sizeof line, in)) {
        line[strcspn(line, "\n")] = '\0';
        char *fl[8];
        int n = split_csv(line, fl, 8);
        assert_int_equal(n, 7);
        rows++;
        uint32_t vi = find_vpc(s, fl[2]);
        cs_vpc v;
        assert_int_equal(cs_estate_vpc(s, vi, &v), 0);
        assert_string_equal(account_name(s, v.account_idx), fl[0]);
        assert_string_equal(region_name(s, v.region_idx), fl[1]);
        assert_int_equal(v.is_default, strcmp(fl[5], "true") == 0);
        assert_string_equal(v.name, fl[6]);
        cs_prefix p;
        assert_int_equal(cs_prefix_parse(fl[3], strlen(fl[3]), 0, &p, NULL),
                         0);
        bool found = false;
        for (uint32_t k = 0; k < v.assoc_count && !found; k++) {
            cs_assoc a;
            assert_int_equal(cs_estate_assoc(s, v.assoc_begin + k, &a), 0);
            if (cs_prefix_compare(&a.prefix, &p) != 0)
                continue;
            found = true;
            assert_string_equal(cs_assoc_state_name(a.state), fl[4]);
            assert_int_equal(a.live, strcmp(fl[4], "associated") == 0 ||
                                         strcmp(fl[4], "associating") == 0);
            assert_true(a.id[0] != '\0');
        }
        if (!found) {
            print_error("%s: no association %s\n", fl[2], fl[3]);
            fail();
        }
    }
    fclose(in);
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    assert_int_equal(rows, c.assocs);
    assert_int_equal(c.vpcs, ACCOUNTS * REGIONS * VPCS);
    cs_snapshot_close(s);
}

static void gen__every_connection_comes_back(void **state)
{
    fixture *f = *state;
    cs_snapshot *s = load_and_freeze(f->tree, NULL);
    FILE *in = open_csv(f->pcsv,
                        "pcx_id,requester_vpc,accepter_vpc,status,"
                        "requester_account,accepter_account,"
                        "requester_region,accepter_region");
    char line[4096];
    uint32_t rows = 0, by_status[CS_PCX_STATUS_COUNT] = {0};
    while (fgets(line, sizeof line, in)) {
        line[strcspn(line, "\n")] = '\0';
        char *fl[10];
        int n = split_csv(line, fl, 10);
        assert_int_equal(n, 8);
        rows++;
        uint32_t idx;
        assert_int_equal(cs_estate_peering_find(s, fl[0], strlen(fl[0]),
                                                &idx), 1);
        cs_peering p;
        assert_int_equal(cs_estate_peering(s, idx, &p), 0);
        assert_string_equal(p.requester.vpc_id, fl[1]);
        assert_string_equal(p.accepter.vpc_id, fl[2]);
        assert_string_equal(cs_pcx_status_name(p.status), fl[3]);
        by_status[p.status]++;
        assert_string_equal(account_name(s, p.requester.account_idx), fl[4]);
        assert_string_equal(account_name(s, p.accepter.account_idx), fl[5]);
        assert_string_equal(region_name(s, p.requester.region_idx), fl[6]);
        assert_string_equal(region_name(s, p.accepter.region_idx), fl[7]);
        /* Both sides are in the estate, except a partner's request from
         * outside it (pending our acceptance). */
        if (p.requester.vpc_idx == CS_IDX_NONE)
            assert_int_equal(p.status, CS_PCX_PENDING_ACCEPTANCE);
        assert_int_not_equal(p.accepter.vpc_idx, CS_IDX_NONE);
    }
    fclose(in);
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    assert_int_equal(rows, c.peerings);
    /* Group 0's hub-and-spoke shows every status code. */
    for (unsigned st = 0; st < CS_PCX_UNKNOWN; st++) {
        if (!by_status[st])
            print_error("no connection in status %s\n",
                        cs_pcx_status_name(st));
        assert_true(by_status[st] > 0);
    }
    cs_snapshot_close(s);
}

static void gen__csv_and_json_give_the_same_estate(void **state)
{
    fixture *f = *state;
    cs_snapshot *a = load_and_freeze(f->tree, NULL);
    cs_estate *e = cs_estate_new();
    cs_load_options o;
    memset(&o, 0, sizeof o);
    cs_error err;
    assert_int_equal(cs_estate_load(e, f->csv, &o, &err), 0);
    assert_int_equal(cs_estate_load(e, f->pcsv, &o, &err), 0);
    cs_snapshot *b = NULL;
    assert_int_equal(cs_estate_freeze(e, &b, &err), 0);
    cs_estate_free(e);
    cs_estate_counts ca, cb;
    cs_estate_counts_get(a, &ca);
    cs_estate_counts_get(b, &cb);
    assert_int_equal(ca.accounts, cb.accounts);
    assert_int_equal(ca.regions, cb.regions);
    assert_int_equal(ca.vpcs, cb.vpcs);
    assert_int_equal(ca.default_vpcs, cb.default_vpcs);
    assert_int_equal(ca.assocs, cb.assocs);
    assert_int_equal(ca.live[0], cb.live[0]);
    assert_int_equal(ca.live[1], cb.live[1]);
    assert_int_equal(ca.dead[0], cb.dead[0]);
    assert_int_equal(ca.dead[1], cb.dead[1]);
    assert_int_equal(ca.peerings, cb.peerings);
    /* VPC by VPC: the same primary block. */
    for (uint32_t i = 0; i < ca.vpcs; i++) {
        cs_vpc va, vb;
        assert_int_equal(cs_estate_vpc(a, i, &va), 0);
        assert_int_equal(cs_estate_vpc(b, i, &vb), 0);
        assert_string_equal(va.id, vb.id);
        assert_int_equal(va.assoc_count, vb.assoc_count);
        for (uint32_t k = 0; k < va.assoc_count; k++) {
            cs_assoc x, y;
            assert_int_equal(cs_estate_assoc(a, va.assoc_begin + k, &x), 0);
            assert_int_equal(cs_estate_assoc(b, vb.assoc_begin + k, &y), 0);
            assert_int_equal(cs_prefix_compare(&x.prefix, &y.prefix), 0);
            assert_int_equal(x.primary, y.primary);
            assert_int_equal(x.state, y.state);
        }
    }
    cs_snapshot_close(a);
    cs_snapshot_close(b);
}

/* The generator's promises (datasets/gen/gen_shape.c, "THE ESTATE"). */
static void gen__estate_shows_every_pattern(void **state)
{
    fixture *f = *state;
    cs_snapshot *s = load_and_freeze(f->tree, NULL);
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    cs_prefix dflt, t10, t192, cgnat, byoip;
    assert_int_equal(cs_prefix_parse("172.31.0.0/16", 13, 0, &dflt, NULL), 0);
    assert_int_equal(cs_prefix_parse("10.0.0.0/16", 11, 0, &t10, NULL), 0);
    assert_int_equal(cs_prefix_parse("192.168.0.0/16", 14, 0, &t192, NULL), 0);
    assert_int_equal(cs_prefix_parse("100.64.0.0/16", 13, 0, &cgnat, NULL), 0);
    assert_int_equal(cs_prefix_parse("2001:db8:1200::/56", 18, 0, &byoip,
                                     NULL), 0);
    unsigned defaults = 0, n_t10 = 0, n_t192 = 0, n_cgnat = 0, n_byoip = 0;
    unsigned disassociated = 0, failed = 0, amazon6 = 0, nested = 0;
    unsigned unicode = 0, many_tags = 0;
    for (uint32_t i = 0; i < c.vpcs; i++) {
        cs_vpc v;
        assert_int_equal(cs_estate_vpc(s, i, &v), 0);
        if (v.is_default) {
            defaults++;
            cs_assoc a;
            assert_int_equal(cs_estate_assoc(s, v.assoc_begin, &a), 0);
            assert_int_equal(cs_prefix_compare(&a.prefix, &dflt), 0);
        }
        for (const unsigned char *p = (const unsigned char *)v.name; *p; p++)
            if (*p >= 0x80) {
                unicode++;
                break;
            }
        if (v.tag_count >= 50)
            many_tags++;
        for (uint32_t k = 0; k < v.assoc_count; k++) {
            cs_assoc a;
            assert_int_equal(cs_estate_assoc(s, v.assoc_begin + k, &a), 0);
            n_t10 += a.primary && cs_prefix_compare(&a.prefix, &t10) == 0;
            n_t192 += a.primary && cs_prefix_compare(&a.prefix, &t192) == 0;
            n_cgnat += !a.primary && cs_prefix_compare(&a.prefix, &cgnat) == 0;
            n_byoip += cs_prefix_compare(&a.prefix, &byoip) == 0;
            disassociated += a.state == CS_ASSOC_DISASSOCIATED;
            failed += a.state == CS_ASSOC_FAILED;
            amazon6 += a.ip_source == CS_IPSRC_AMAZON;
        }
        size_t nl = strlen(v.name);
        if (nl > 7 && strcmp(v.name + nl - 7, "-manual") == 0) {
            /* A nested mistake: inside another live block of the estate. */
            cs_assoc a;
            assert_int_equal(cs_estate_assoc(s, v.assoc_begin, &a), 0);
            bool inside = false;
            for (uint32_t j = 0; j < c.assocs && !inside; j++) {
                cs_assoc b;
                assert_int_equal(cs_estate_assoc(s, j, &b), 0);
                inside = b.vpc_idx != i && b.live &&
                         b.prefix.len < a.prefix.len &&
                         cs_prefix_contains(&b.prefix, &a.prefix);
            }
            assert_true(inside);
            nested++;
        }
    }
    assert_true(defaults > 0 && defaults == c.default_vpcs);
    assert_true(n_t10 >= 2);   /* templates collide */
    assert_true(n_t192 >= 2);
    assert_true(n_cgnat >= 2); /* 100.64.0.0/16 reused */
    assert_true(n_byoip >= 2); /* IPv6 overlap */
    assert_true(disassociated > 0);
    assert_true(failed > 0);
    assert_true(amazon6 > 0);
    assert_true(nested > 0);
    assert_true(unicode > 0);
    assert_true(many_tags > 0);
    cs_snapshot_close(s);
}

/* The builder sink (tests and benchmarks) gives the estate the files give:
 * the same VPCs, ids, blocks, tags and connections. */
static void gen__builder_sink_equals_the_json_tree(void **state)
{
    fixture *f = *state;
    cs_snapshot *files = load_and_freeze(f->tree, NULL);
    cs_estate *e = cs_estate_new();
    assert_non_null(e);
    gen_opts o = {.seed = SEED, .accounts = ACCOUNTS, .regions = REGIONS, .vpcs = VPCS};
    cs_error err;
    gen_stats st;
    assert_int_equal(gen_estate_build(&o, e, &st, &err), 0);
    cs_snapshot *built = NULL;
    assert_int_equal(cs_estate_freeze(e, &built, &err), 0);
    cs_estate_free(e);
    cs_estate_counts a, b;
    cs_estate_counts_get(files, &a);
    cs_estate_counts_get(built, &b);
    assert_int_equal(a.vpcs, b.vpcs);
    assert_int_equal(a.assocs, b.assocs);
    assert_int_equal(a.peerings, b.peerings);
    assert_int_equal(a.tags, b.tags);
    assert_int_equal(a.live[0], b.live[0]);
    assert_int_equal(a.live[1], b.live[1]);
    assert_int_equal(st.vpcs, b.vpcs);
    for (uint32_t v = 0; v < a.vpcs; v++) {
        cs_vpc x, y;
        assert_int_equal(cs_estate_vpc(files, v, &x), 0);
        assert_int_equal(cs_estate_vpc(built, v, &y), 0);
        assert_string_equal(x.id, y.id);
        assert_string_equal(x.name, y.name);
        assert_int_equal(x.assoc_count, y.assoc_count);
        assert_int_equal(x.is_default, y.is_default);
    }
    for (uint32_t p = 0; p < a.peerings; p++) {
        cs_peering x, y;
        cs_estate_peering(files, p, &x);
        cs_estate_peering(built, p, &y);
        assert_string_equal(x.id, y.id);
        assert_int_equal(x.status, y.status);
        assert_int_equal(x.requester.vpc_idx, y.requester.vpc_idx);
    }
    /* bad options are the library's CS_EINVAL with a message */
    o.regions = 999;
    e = cs_estate_new();
    assert_int_equal(gen_estate_build(&o, e, NULL, &err), CS_EINVAL);
    assert_non_null(strstr(err.message, "regions"));
    cs_estate_free(e);
    cs_snapshot_close(built);
    cs_snapshot_close(files);
}

static cs_snapshot *org_estate(uint64_t seed, uint32_t accounts, uint32_t regions)
{
    cs_estate *e = cs_estate_new();
    assert_non_null(e);
    gen_opts o = {.seed = seed, .accounts = accounts, .regions = regions, .vpcs = 1,
                  .shape = GEN_SHAPE_ORG};
    cs_error err;
    assert_int_equal(gen_estate_build(&o, e, NULL, &err), 0);
    cs_snapshot *s = NULL;
    assert_int_equal(cs_estate_freeze(e, &s, &err), 0);
    cs_estate_free(e);
    return s;
}

/* The organisation shape keeps its promises (datasets/gen/gen_org.c,
 * gen_org_vpc): templates nested in each other, CGNAT secondaries at three
 * levels, business-unit pools that overlap; and the same seed gives the
 * same estate. */
static void gen__org_shape_keeps_its_promises(void **state)
{
    (void)state;
    cs_snapshot *s = org_estate(7, 600, 17);
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    assert_int_equal(c.vpcs, 600 * 17);
    static const char *const tmpl[] = {"10.0.0.0/16", "10.0.0.0/20", "10.0.0.0/24",
                                       "192.168.0.0/16", "192.168.0.0/24", "172.16.0.0/16",
                                       "100.64.0.0/10", "100.64.0.0/16", "100.64.0.0/17",
                                       "172.31.0.0/16"};
    uint32_t seen[10] = {0};
    uint32_t template_vpcs = 0, cgnat_vpcs = 0, pool_lo = UINT32_MAX, pool_hi = 0;
    for (uint32_t v = 0; v < c.vpcs; v++) {
        cs_vpc vp;
        cs_estate_vpc(s, v, &vp);
        bool is_t = false, is_c = false;
        for (uint32_t k = 0; k < vp.assoc_count; k++) {
            cs_assoc a;
            cs_estate_assoc(s, vp.assoc_begin + k, &a);
            char buf[64];
            cs_prefix_format(&a.prefix, buf, sizeof buf);
            for (int t = 0; t < 10; t++)
                if (strcmp(buf, tmpl[t]) == 0) {
                    seen[t]++;
                    is_t |= t < 6;
                    is_c |= t >= 6 && t < 9;
                }
            if (a.prefix.family == CS_AF_V4 && strncmp(buf, "10.", 3) == 0 && a.prefix.len >= 22) {
                uint32_t addr = (uint32_t)(a.prefix.hi >> 32);
                pool_lo = addr < pool_lo ? addr : pool_lo;
                pool_hi = addr > pool_hi ? addr : pool_hi;
            }
        }
        template_vpcs += is_t;
        cgnat_vpcs += is_c;
    }
    for (int t = 0; t < 10; t++)
        if (!seen[t])
            fail_msg("no VPC holds %s", tmpl[t]);
    /* 30% templates and 20% CGNAT, within sampling noise */
    assert_true(template_vpcs > c.vpcs * 25 / 100 && template_vpcs < c.vpcs * 35 / 100);
    assert_true(cgnat_vpcs > c.vpcs * 15 / 100 && cgnat_vpcs < c.vpcs * 25 / 100);
    /* the pools of 16 units, /11 each and 1.5 * 2^20 apart, span more than
     * one /11 and less than 10.0.0.0/8 */
    assert_true(pool_hi - pool_lo > (1u << 21));
    assert_true(pool_hi < 0x0b000000u);
    /* deterministic per seed */
    cs_snapshot *again = org_estate(7, 600, 17), *other = org_estate(8, 600, 17);
    cs_estate_counts c2, c3;
    cs_estate_counts_get(again, &c2);
    cs_estate_counts_get(other, &c3);
    assert_memory_equal(&c, &c2, sizeof c);
    bool differ = false;
    for (uint32_t v = 0; v < c.vpcs && !differ; v++) {
        cs_vpc x, y;
        cs_estate_vpc(s, v, &x);
        cs_estate_vpc(other, v, &y);
        differ = strcmp(x.id, y.id) != 0;
    }
    assert_true(differ);
    cs_snapshot_close(other);
    cs_snapshot_close(again);
    cs_snapshot_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gen__estate_tree_loads_with_zero_errors),
        cmocka_unit_test(gen__every_vpc_and_cidr_comes_back),
        cmocka_unit_test(gen__every_connection_comes_back),
        cmocka_unit_test(gen__csv_and_json_give_the_same_estate),
        cmocka_unit_test(gen__estate_shows_every_pattern),
        cmocka_unit_test(gen__builder_sink_equals_the_json_tree),
        cmocka_unit_test(gen__org_shape_keeps_its_promises),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
