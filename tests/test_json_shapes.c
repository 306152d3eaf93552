/*
 * tests/test_json_shapes.c — the JSON inventories beyond describe-*:
 * get-ipam-resource-cidrs output (engine/ingest/ipam_cidrs.c), AWS Config
 * advanced-query output (engine/ingest/config_vpcs.c), their
 * classification by content (engine/ingest/json_shapes.c) and the pull
 * parser under them (engine/ingest/json_pull.c).
 *
 * Fixtures are in the exact CLI shapes under tests/fixtures/ipam/ and
 * tests/fixtures/config/; every error test asserts file, line, column and
 * a piece of the message. The IPAM overlap sweep is checked against a
 * pairwise brute force on seeded random prefix sets (seed printed,
 * CS_TEST_SEED replays).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cidrscope/cidrscope.h>
#include <cidrscope/estate.h>

#include "ingest/shapes_internal.h"
#include "support/testutil.h"

#define FIX CS_SOURCE_DIR "/tests/fixtures/"

typedef struct loaded {
    cs_estate *e;
    cs_error err;
    int rc;
} loaded;

static cs_load_options opts_of(bool keep_going, const char *region,
                               const char *account)
{
    cs_load_options o;
    memset(&o, 0, sizeof o);
    o.keep_going = keep_going;
    o.region = region;
    o.account = account;
    return o;
}

/* A fixture file through cs_estate_load (classification included). */
static loaded load(const char *name, bool keep_going, const char *region,
                   const char *account)
{
    loaded l = {cs_estate_new(), {0}, 0};
    assert_non_null(l.e);
    cs_load_options o = opts_of(keep_going, region, account);
    char path[1024];
    snprintf(path, sizeof path, "%s%s", FIX, name);
    l.rc = cs_estate_load(l.e, path, &o, &l.err);
    return l;
}

/* Text through the reader of `shape`, as the file "t.json". */
static loaded load_text(const char *text, bool keep_going, int shape)
{
    loaded l = {cs_estate_new(), {0}, 0};
    assert_non_null(l.e);
    cs_load_options o = opts_of(keep_going, NULL, NULL);
    l.rc = (shape == CS_SHAPE_IPAM ? cs_ingest_ipam_cidrs_buf
                                   : cs_ingest_config_vpcs_buf)(
        l.e, "t.json", text, strlen(text), NULL, NULL, &o, &l.err);
    return l;
}

static void expect_error(const loaded *l, int code, uint64_t line,
                         uint32_t col, const char *what)
{
    if (l->rc != code || l->err.line != line || l->err.column != col ||
        !strstr(l->err.message, what)) {
        print_error("rc %d: %s:%llu:%u: %s (wanted %d at %llu:%u '%s')\n",
                    l->rc, l->err.source, (unsigned long long)l->err.line,
                    l->err.column, l->err.message, code,
                    (unsigned long long)line, col, what);
        fail();
    }
}

static cs_estate_counts counts(const loaded *l)
{
    cs_estate_counts c;
    cs_estate_build_counts(l->e, &c);
    return c;
}

/* The builder's finding of `kind` number `nth` (0-based); fails if absent. */
static cs_finding finding(const loaded *l, const char *kind, unsigned nth)
{
    cs_estate_counts c = counts(l);
    for (uint32_t i = 0; i < c.findings; i++) {
        cs_finding f;
        assert_int_equal(cs_estate_build_finding(l->e, i, &f), 0);
        if (strcmp(f.kind, kind) == 0 && nth-- == 0)
            return f;
    }
    print_error("no finding %s\n", kind);
    fail();
    cs_finding none;
    memset(&none, 0, sizeof none);
    return none;
}

static unsigned count_kind(const loaded *l, const char *kind)
{
    cs_estate_counts c = counts(l);
    unsigned n = 0;
    for (uint32_t i = 0; i < c.findings; i++) {
        cs_finding f;
        assert_int_equal(cs_estate_build_finding(l->e, i, &f), 0);
        n += strcmp(f.kind, kind) == 0;
    }
    return n;
}

static cs_snapshot *freeze(const loaded *l)
{
    cs_snapshot *s = NULL;
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_estate_freeze(l->e, &s, &err), 0);
    return s;
}

static cs_vpc vpc_of(const cs_snapshot *s, const char *id)
{
    uint32_t idx;
    assert_int_equal(cs_estate_vpc_find(s, id, strlen(id), &idx), 1);
    cs_vpc v;
    assert_int_equal(cs_estate_vpc(s, idx, &v), 0);
    return v;
}

static const char *region_of(const cs_snapshot *s, const cs_vpc *v)
{
    cs_region r;
    assert_int_equal(cs_estate_region(s, v->region_idx, &r), 0);
    return r.name;
}

static const char *account_of(const cs_snapshot *s, const cs_vpc *v)
{
    cs_account a;
    assert_int_equal(cs_estate_account(s, v->account_idx, &a), 0);
    return a.id;
}

static void done(loaded *l)
{
    cs_estate_free(l->e);
}

/* ---- classification ---------------------------------------------------------- */

static void shapes__told_apart_by_top_level_keys(void **state)
{
    (void)state;
    const char *ipam = "{\"NextToken\": \"x\", \"IpamResourceCidrs\": []}";
    const char *cfg = "{\"QueryInfo\": {\"SelectFields\": [{\"Name\": "
                      "\"a\"}]}, \"Results\": []}";
    const char *ec2 = "{\"Vpcs\": []}";
    const char *pages = " [ {\"IpamResourceCidrs\": []}, {} ]";
    assert_int_equal(cs_ingest_json_shape(ipam, strlen(ipam)), CS_SHAPE_IPAM);
    assert_int_equal(cs_ingest_json_shape(cfg, strlen(cfg)), CS_SHAPE_CONFIG);
    assert_int_equal(cs_ingest_json_shape(ec2, strlen(ec2)), CS_SHAPE_EC2);
    assert_int_equal(cs_ingest_json_shape(pages, strlen(pages)),
                     CS_SHAPE_IPAM);
    /* cut before a deciding key: undecided */
    assert_int_equal(cs_ingest_json_shape(ipam, 20), -1);
    assert_int_equal(cs_ingest_json_shape("\xef\xbb\xbf{\"Results\":[", 14),
                     CS_SHAPE_CONFIG);
    /* nothing known: the EC2 reader reports it */
    assert_int_equal(cs_ingest_json_shape("{\"Subnets\": []}", 15),
                     CS_SHAPE_EC2);
}

/* ---- get-ipam-resource-cidrs --------------------------------------------------- */

static void ipam__reads_vpc_cidrs_of_the_organisation(void **state)
{
    (void)state;
    loaded l = load("ipam/org.json", false, NULL, NULL);
    assert_int_equal(l.rc, 0);
    cs_estate_counts c = counts(&l);
    assert_int_equal(c.vpcs, 4);      /* the subnet record is not a VPC */
    assert_int_equal(c.accounts, 3);
    assert_int_equal(c.assocs, 6);
    cs_snapshot *s = freeze(&l);
    cs_vpc v = vpc_of(s, "vpc-0aaaaaaaaaaaaaaa1");
    assert_string_equal(v.name, "core-prod");
    assert_int_equal(v.assoc_count, 3);
    assert_string_equal(account_of(s, &v), "111111111111");
    assert_string_equal(region_of(s, &v), "us-east-1");
    bool pool = false;
    for (uint32_t i = 0; i < v.assoc_count; i++) {
        cs_assoc a;
        assert_int_equal(cs_estate_assoc(s, v.assoc_begin + i, &a), 0);
        assert_true(a.live);
        pool |= strcmp(a.pool, "ipam-pool-0a1b2c3d4e5f60718") == 0;
    }
    assert_true(pool);
    cs_vpc e = vpc_of(s, "vpc-0eeeeeeeeeeeeeee1");
    assert_string_equal(region_of(s, &e), "ap-southeast-2");
    uint32_t idx;
    assert_int_equal(cs_estate_vpc_find(s, "subnet-0bbbbbbbbbbbbbbb1", 24,
                                        &idx), 0);
    cs_snapshot_close(s);
    done(&l);
}

static void ipam__overlap_status_compared_with_ours(void **state)
{
    (void)state;
    loaded l = load("ipam/org.json", false, NULL, NULL);
    assert_int_equal(l.rc, 0);
    /* 10.2.0.0/16 (IPAM: nonoverlapping) holds 10.2.128.0/17 of another
     * VPC; 10.1.0.0/16 and 10.1.0.0/20 agree (overlapping); the rest agree
     * (nonoverlapping); "ignored" is not compared */
    assert_int_equal(count_kind(&l, "ipam-overlap-mismatch"), 1);
    cs_finding f = finding(&l, "ipam-overlap-mismatch", 0);
    assert_non_null(strstr(f.message, "10.2.0.0/16"));
    assert_non_null(strstr(f.message, "vpc-0ddddddddddddddd1"));
    assert_non_null(strstr(f.message, "IPAM says"));
    assert_non_null(strstr(f.message, "is nonoverlapping"));
    assert_non_null(strstr(f.message, "finds it overlapping"));
    assert_int_equal(f.line, 85);
    assert_int_equal(f.column, 9);
    done(&l);
}

static void ipam__pages_read_page_by_page(void **state)
{
    (void)state;
    const char *files[] = {"ipam/pages-array.json", "ipam/pages-cat.json"};
    for (size_t i = 0; i < 2; i++) {
        loaded l = load(files[i], false, NULL, NULL);
        assert_int_equal(l.rc, 0);
        cs_estate_counts c = counts(&l);
        assert_int_equal(c.vpcs, 4);
        assert_int_equal(c.assocs, 6);
        assert_int_equal(count_kind(&l, "ipam-overlap-mismatch"), 1);
        done(&l);
    }
}

static void ipam__next_token_is_an_incomplete_page(void **state)
{
    (void)state;
    loaded l = load("ipam/next-token.json", false, NULL, NULL);
    assert_int_equal(l.rc, 0);
    cs_finding f = finding(&l, CS_FINDING_INCOMPLETE_PAGE, 0);
    assert_int_equal(f.line, 2);
    assert_int_equal(f.column, 18);
    assert_non_null(strstr(f.source, "next-token.json"));
    /* an incomplete listing is not compared with IPAM's answers */
    assert_int_equal(count_kind(&l, "ipam-overlap-mismatch"), 0);
    done(&l);
}

static void ipam__errors_name_line_and_column(void **state)
{
    (void)state;
    loaded l = load("ipam/bad.json", false, NULL, NULL);
    expect_error(&l, CS_EPARSE, 36, 39, "prefix length 33");
    assert_non_null(strstr(l.err.source, "ipam/bad.json"));
    done(&l);
    l = load("ipam/bad.json", true, NULL, NULL);
    assert_int_equal(l.rc, 2);
    cs_finding f = finding(&l, CS_FINDING_REJECTED, 1);
    assert_int_equal(f.line, 73);
    assert_int_equal(f.column, 32);
    assert_non_null(strstr(f.message, "12-digit"));
    assert_int_equal(counts(&l).vpcs, 3);
    done(&l);

    l = load_text("{\"IpamResourceCidrs\": [{\"ResourceType\": \"vpc\", "
                  "\"ResourceCidr\": \"10.0.0.0/16\"}]}", false, CS_SHAPE_IPAM);
    expect_error(&l, CS_EPARSE, 1, 24, "\"ResourceId\"");
    done(&l);
    l = load_text("{\"IpamResourceCidrs\": [{\"ResourceType\": \"vpc\",\n"
                  "\"ResourceId\": \"vpc-1\", \"VpcId\": \"vpc-2\", "
                  "\"ResourceCidr\": \"10.0.0.0/16\"}]}", false, CS_SHAPE_IPAM);
    expect_error(&l, CS_EPARSE, 2, 33, "differs from ResourceId");
    done(&l);
    l = load_text("{\"IpamResourceCidrs\": [{\"ResourceType\": \"vpc\", "
                  "\"ResourceId\": \"vpc-1\", \"ResourceCidr\": 10}]}", false,
                  CS_SHAPE_IPAM);
    expect_error(&l, CS_EPARSE, 1, 87, "must be a string, not a number");
    done(&l);
    /* owner and region from the command line when the record has none */
    l = load_text("{\"IpamResourceCidrs\": [{\"ResourceType\": \"vpc\", "
                  "\"ResourceId\": \"vpc-1\", \"ResourceCidr\": "
                  "\"10.0.0.0/16\"}]}", false, CS_SHAPE_IPAM);
    expect_error(&l, CS_EPARSE, 1, 24, "\"ResourceOwnerId\"");
    done(&l);
    /* invalid JSON stops the file: one rejection under keep-going */
    l = load_text("{\"IpamResourceCidrs\": [{\"ResourceType\": \"vpc\",,}]}",
                  false, CS_SHAPE_IPAM);
    expect_error(&l, CS_EPARSE, 1, 47, "member name");
    done(&l);
    l = load_text("{\"IpamResourceCidrs\": [{\"ResourceType\": \"vpc\",,}]}",
                  true, CS_SHAPE_IPAM);
    assert_int_equal(l.rc, 1);
    done(&l);
    l = load_text("{\"IpamResourceCidrs\": []} {\"Vpcs\": []}", false,
                  CS_SHAPE_IPAM);
    expect_error(&l, CS_EPARSE, 1, 27, "no \"IpamResourceCidrs\" key");
    done(&l);
}

static void ipam__defaults_fill_missing_owner_and_region(void **state)
{
    (void)state;
    const char *t = "{\"IpamResourceCidrs\": [{\"ResourceType\": \"vpc\", "
                    "\"ResourceId\": \"vpc-1\", \"ResourceCidr\": "
                    "\"10.0.0.0/16\"}]}";
    cs_estate *e = cs_estate_new();
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_ingest_ipam_cidrs_buf(e, "t.json", t, strlen(t),
                                              "eu-west-1", "123456789012",
                                              NULL, &err),
                     0);
    cs_snapshot *s = NULL;
    assert_int_equal(cs_estate_freeze(e, &s, &err), 0);
    cs_vpc v = vpc_of(s, "vpc-1");
    assert_string_equal(region_of(s, &v), "eu-west-1");
    assert_string_equal(account_of(s, &v), "123456789012");
    cs_snapshot_close(s);
    cs_estate_free(e);
}

/* ---- the overlap sweep against brute force ---------------------------------- */

static void ipam__overlap_sweep_equals_brute_force(void **state)
{
    (void)state;
    uint64_t seed = tu_seed("ipam__overlap_sweep_equals_brute_force",
                            (uint64_t)time(NULL));
    tu_rng rng = {seed * 2654435761u + 1};
    enum { MAXN = 600 };
    static cs_prefix p[MAXN];
    static uint32_t vpc[MAXN];
    static bool fast[MAXN];
    for (int round = 0; round < 200; round++) {
        size_t n = 1 + tu_below(&rng, MAXN);
        unsigned vpcs = 1 + (unsigned)tu_below(&rng, 40);
        for (size_t i = 0; i < n; i++) {
            /* few distinct high bits so prefixes nest often */
            if (tu_below(&rng, 5) == 0) {
                unsigned len = (unsigned)tu_below(&rng, 129);
                p[i] = cs_prefix_from_v6(0x20010db800000000ull |
                                             tu_below(&rng, 4) << 30,
                                         tu_next(&rng), len);
            } else {
                unsigned len = 8 + (unsigned)tu_below(&rng, 25);
                p[i] = cs_prefix_from_v4(
                    0x0a000000u | (uint32_t)tu_below(&rng, 0x40000), len);
            }
            /* duplicates and repeats of one VPC */
            if (i && tu_below(&rng, 7) == 0)
                p[i] = p[tu_below(&rng, i)];
            vpc[i] = (uint32_t)tu_below(&rng, vpcs);
        }
        assert_int_equal(cs_ingest_overlap_other(p, vpc, n, fast), 0);
        for (size_t i = 0; i < n; i++) {
            bool slow = false;
            for (size_t j = 0; j < n && !slow; j++)
                slow = j != i && vpc[j] != vpc[i] &&
                       cs_prefix_overlaps(&p[i], &p[j]);
            if (slow != fast[i]) {
                char t[CS_PREFIX_STRCAP];
                cs_prefix_format(&p[i], t, sizeof t);
                print_error("seed %llu round %d: %s (vpc %u): sweep %d, "
                            "brute force %d (CS_TEST_SEED replays)\n",
                            (unsigned long long)seed,
                            round, t, vpc[i], fast[i], slow);
                fail();
            }
        }
    }
}

/* ---- AWS Config ------------------------------------------------------------------ */

static void config__reads_vpcs_from_results(void **state)
{
    (void)state;
    loaded l = load("config/vpcs.json", false, NULL, NULL);
    assert_int_equal(l.rc, 0);
    cs_estate_counts c = counts(&l);
    assert_int_equal(c.vpcs, 4);
    assert_int_equal(c.default_vpcs, 1);
    assert_int_equal(c.live[0], 5);
    assert_int_equal(c.dead[0], 1);
    assert_int_equal(c.live[1], 1);
    cs_snapshot *s = freeze(&l);
    cs_vpc v = vpc_of(s, "vpc-0ccccccccccccccc1");
    assert_string_equal(v.name, "Zahlungen-Gr\xc3\xb6\xc3\x9f" "e");
    assert_string_equal(region_of(s, &v), "eu-west-1");
    assert_string_equal(account_of(s, &v), "222222222222");
    cs_vpc a = vpc_of(s, "vpc-0aaaaaaaaaaaaaaa1");
    unsigned primaries = 0;
    for (uint32_t i = 0; i < a.assoc_count; i++) {
        cs_assoc as;
        assert_int_equal(cs_estate_assoc(s, a.assoc_begin + i, &as), 0);
        if (as.primary) {
            char t[CS_PREFIX_STRCAP];
            cs_prefix_format(&as.prefix, t, sizeof t);
            assert_string_equal(t, "10.0.0.0/16");
            assert_non_null(strstr(as.id, "vpc-cidr-assoc-"));
            primaries++;
        }
    }
    assert_int_equal(primaries, 1);
    assert_int_equal(a.assoc_count, 3); /* the primary is not counted twice */
    cs_snapshot_close(s);
    done(&l);
}

static void config__errors_point_inside_the_string(void **state)
{
    (void)state;
    loaded l = load("config/bad-cidr.json", false, NULL, NULL);
    expect_error(&l, CS_EPARSE, 4, 507, "prefix length 33");
    done(&l);
    l = load("config/bad-inner.json", false, NULL, NULL);
    expect_error(&l, CS_EPARSE, 3, 630, "unexpected end of JSON text");
    done(&l);
    /* keep-going: the bad result is one rejected record, the rest read */
    l = load("config/bad-cidr.json", true, NULL, NULL);
    assert_int_equal(l.rc, 1);
    assert_int_equal(counts(&l).vpcs, 1);
    assert_int_equal(count_kind(&l, CS_FINDING_INCOMPLETE_PAGE), 1);
    done(&l);
    /* an escaped character: the error points at its backslash */
    l = load_text("{\"Results\": [\"{\\\"resourceId\\\": \\u0031}\"]}", false,
                  CS_SHAPE_CONFIG);
    expect_error(&l, CS_EPARSE, 1, 32, "must be a string, not a number");
    done(&l);
    l = load_text("{\"Results\": [17]}", false, CS_SHAPE_CONFIG);
    expect_error(&l, CS_EPARSE, 1, 14, "must be a string");
    done(&l);
}

static void config__unknown_state_is_not_live(void **state)
{
    (void)state;
    loaded l = load("config/unknown-state.json", false, NULL, NULL);
    assert_int_equal(l.rc, 0);
    cs_estate_counts c = counts(&l);
    assert_int_equal(c.live[0], 1);
    assert_int_equal(c.dead[0], 1);
    cs_finding f = finding(&l, CS_FINDING_UNKNOWN_STATE, 0);
    assert_non_null(strstr(f.message, "quarantined"));
    assert_int_equal(f.line, 3);
    done(&l);
}

/* ---- estate directories ------------------------------------------------------ */

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    assert_non_null(in);
    assert_non_null(out);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    fclose(out);
}

static void shapes__classified_in_estate_directories(void **state)
{
    (void)state;
    char root[] = "/tmp/cs-shapes-XXXXXX";
    assert_non_null(mkdtemp(root));
    char d[512], f[600];
    snprintf(d, sizeof d, "%s/111111111111", root);
    assert_int_equal(mkdir(d, 0700), 0);
    snprintf(d, sizeof d, "%s/111111111111/us-east-1", root);
    assert_int_equal(mkdir(d, 0700), 0);
    snprintf(f, sizeof f, "%s/ipam.json", d);
    copy_file(FIX "ipam/org.json", f);
    snprintf(f, sizeof f, "%s/vpcs-config.json", d);
    copy_file(FIX "config/unknown-state.json", f);
    cs_estate *e = cs_estate_new();
    cs_error err;
    cs_error_clear(&err);
    int rc = cs_estate_load(e, root, NULL, &err);
    if (rc < 0)
        print_error("%s: %s\n", err.source, err.message);
    assert_int_equal(rc, 0);
    cs_estate_counts c;
    cs_estate_build_counts(e, &c);
    /* 4 VPCs from IPAM; Config's vpc-0eee... is the same VPC, merged,
     * with its two blocks besides IPAM's 10.2.128.0/17 */
    assert_int_equal(c.vpcs, 4);
    assert_int_equal(c.assocs, 8);
    cs_estate_free(e);
    snprintf(f, sizeof f, "%s/ipam.json", d);
    unlink(f);
    snprintf(f, sizeof f, "%s/vpcs-config.json", d);
    unlink(f);
    rmdir(d);
    snprintf(d, sizeof d, "%s/111111111111", root);
    rmdir(d);
    rmdir(root);
}

/* ---- the pull parser ------------------------------------------------------------ */

static void pull__rejects_what_json_forbids(void **state)
{
    (void)state;
    struct {
        const char *text;
        uint32_t col;
        const char *what;
    } cases[] = {
        {"{\"Results\": [\"\\u0000\"]}", 15, "NUL"},
        {"{\"Results\": [\"\\ud800\"]}", 15, "surrogate"},
        {"{\"Results\": [\"a\xc3\"]}", 16, "UTF-8"},
        {"{\"Results\": [\"\xed\xa0\x80\"]}", 15, "UTF-8"},
        {"{\"Results\": [\"a\tb\"]}", 16, "control byte"},
        {"{\"Results\": [01]}", 14, "leading zero"},
        {"{\"Results\": [], }", 17, "trailing comma"},
        {"{\"Results\": [] \"NextToken\": 1}", 16, "expected ','"},
        {"{\"Results\": [tru]}", 14, "expected \"true\""},
        {"{\"Results\": [\"\\x\"]}", 15, "invalid escape"},
        {"{\"Results\": [\"abc", 14, "unterminated"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        loaded l = load_text(cases[i].text, false, CS_SHAPE_CONFIG);
        if (l.rc >= 0 || l.err.column != cases[i].col ||
            !strstr(l.err.message, cases[i].what)) {
            print_error("case %zu: rc %d col %u '%s' (wanted col %u '%s')\n",
                        i, l.rc, l.err.column, l.err.message, cases[i].col,
                        cases[i].what);
            fail();
        }
        done(&l);
    }
    /* nesting is bounded */
    char deep[2 * JP_DEPTH_MAX + 64];
    size_t k = (size_t)snprintf(deep, sizeof deep, "{\"Results\": ");
    for (int i = 0; i < JP_DEPTH_MAX; i++)
        deep[k++] = '[';
    deep[k] = '\0';
    loaded l = load_text(deep, false, CS_SHAPE_CONFIG);
    assert_true(l.rc < 0);
    assert_non_null(strstr(l.err.message, "nested deeper"));
    done(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shapes__told_apart_by_top_level_keys),
        cmocka_unit_test(ipam__reads_vpc_cidrs_of_the_organisation),
        cmocka_unit_test(ipam__overlap_status_compared_with_ours),
        cmocka_unit_test(ipam__pages_read_page_by_page),
        cmocka_unit_test(ipam__next_token_is_an_incomplete_page),
        cmocka_unit_test(ipam__errors_name_line_and_column),
        cmocka_unit_test(ipam__defaults_fill_missing_owner_and_region),
        cmocka_unit_test(ipam__overlap_sweep_equals_brute_force),
        cmocka_unit_test(config__reads_vpcs_from_results),
        cmocka_unit_test(config__errors_point_inside_the_string),
        cmocka_unit_test(config__unknown_state_is_not_live),
        cmocka_unit_test(shapes__classified_in_estate_directories),
        cmocka_unit_test(pull__rejects_what_json_forbids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
