/*
 * tests/test_aws_json.c — engine/ingest/aws_json.c: AWS CLI JSON
 * (describe-vpcs, describe-vpc-peering-connections) and the
 * ESTATE/<account>/<region>/ directory walk.
 *
 * Each rule of reading has a hand-written fixture in the exact CLI shape
 * under tests/fixtures/aws/; every error test asserts the file, line,
 * column and a piece of the message. Metamorphic: every fixture gives the
 * same outcome (status, location, message, counts) whatever the read size,
 * from one byte at a time to the whole file. Stress: a 64 MiB line and a
 * 2 GiB string through a FIFO (an error after 1 MiB, never a 2 GiB buffer).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cidrscope/cidrscope.h>
#include <cidrscope/estate.h>

#include "ingest/aws_json_internal.h"

#define FIX CS_SOURCE_DIR "/tests/fixtures/aws/"

/* ---- helpers ------------------------------------------------------------- */

typedef struct loaded {
    cs_estate *e;
    cs_error err;
    int rc;
} loaded;

static cs_load_options opts_of(bool keep_going, bool lenient)
{
    cs_load_options o;
    memset(&o, 0, sizeof o);
    o.keep_going = keep_going;
    o.lenient = lenient;
    return o;
}

static loaded load_file(const char *name, const char *region, bool keep_going,
                        bool lenient)
{
    loaded l;
    l.e = cs_estate_new();
    assert_non_null(l.e);
    cs_error_clear(&l.err);
    cs_load_options o = opts_of(keep_going, lenient);
    char path[1024];
    snprintf(path, sizeof path, "%s%s", FIX, name);
    l.rc = cs_ingest_aws_json(l.e, path, region, &o, &l.err);
    return l;
}

static loaded load_dir(const char *path, bool keep_going)
{
    loaded l;
    l.e = cs_estate_new();
    assert_non_null(l.e);
    cs_error_clear(&l.err);
    cs_load_options o = opts_of(keep_going, false);
    l.rc = cs_ingest_estate_dir(l.e, path, &o, &l.err);
    return l;
}

static cs_estate_counts counts(const loaded *l)
{
    cs_estate_counts c;
    cs_estate_build_counts(l->e, &c);
    return c;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* The error names `file` (a suffix of err.source), line, column and says
 * `what`. */
static void expect_error(const loaded *l, int code, const char *file,
                         uint64_t line, uint32_t col, const char *what)
{
    if (l->rc >= 0 || !ends_with(l->err.source, file) ||
        l->err.line != line || l->err.column != col ||
        !strstr(l->err.message, what)) {
        char buf[2048];
        cs_error_format(&l->err, buf, sizeof buf);
        print_error("rc %d, error: %s\n  (source '%s', line %llu, column %u;"
                    " wanted %s:%llu:%u '%s')\n", l->rc, buf, l->err.source,
                    (unsigned long long)l->err.line, l->err.column, file,
                    (unsigned long long)line, col, what);
        fail();
    }
    assert_int_equal(l->rc, code);
    assert_int_equal(l->err.code, code);
}

static cs_snapshot *freeze(const loaded *l)
{
    cs_snapshot *s = NULL;
    cs_error err;
    cs_error_clear(&err);
    int rc = cs_estate_freeze(l->e, &s, &err);
    if (rc != 0)
        print_error("freeze: %s\n", err.message);
    assert_int_equal(rc, 0);
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

/* The association of VPC `v` with prefix `text`; fails when absent. */
static cs_assoc assoc_of(const cs_snapshot *s, const cs_vpc *v,
                         const char *text)
{
    cs_prefix p;
    assert_true(cs_prefix_parse(text, strlen(text), 0, &p, NULL) >= 0);
    for (uint32_t i = 0; i < v->assoc_count; i++) {
        cs_assoc a;
        assert_int_equal(cs_estate_assoc(s, v->assoc_begin + i, &a), 0);
        if (cs_prefix_compare(&a.prefix, &p) == 0)
            return a;
    }
    print_error("VPC %s has no association %s\n", v->id, text);
    fail();
    cs_assoc none;
    memset(&none, 0, sizeof none);
    return none;
}

static unsigned assocs_with(const cs_snapshot *s, const cs_vpc *v,
                            const char *text)
{
    cs_prefix p;
    assert_true(cs_prefix_parse(text, strlen(text), 0, &p, NULL) >= 0);
    unsigned n = 0;
    for (uint32_t i = 0; i < v->assoc_count; i++) {
        cs_assoc a;
        assert_int_equal(cs_estate_assoc(s, v->assoc_begin + i, &a), 0);
        n += cs_prefix_compare(&a.prefix, &p) == 0;
    }
    return n;
}

static const char *account_of(const cs_snapshot *s, uint32_t idx)
{
    cs_account a;
    assert_int_equal(cs_estate_account(s, idx, &a), 0);
    return a.id;
}

static const char *region_of(const cs_snapshot *s, uint32_t idx)
{
    cs_region r;
    assert_int_equal(cs_estate_region(s, idx, &r), 0);
    return r.name;
}

static void done(loaded *l, cs_snapshot *s)
{
    cs_snapshot_close(s);
    cs_estate_free(l->e);
    l->e = NULL;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        size_t k = fread(buf + n, 1, cap - n, f);
        if (k == 0)
            break;
        n += k;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* A scratch directory under $TMPDIR, removed by rm_tree. */
static char *scratch_dir(void)
{
    const char *t = getenv("TMPDIR");
    char tmpl[512];
    snprintf(tmpl, sizeof tmpl, "%s/cs-aws-json.XXXXXX", t && *t ? t : "/tmp");
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

static void rm_tree(char *dir)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(dir);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

/* ---- reading what the CLI prints -------------------------------------------- */

static void aws_json__reads_describe_vpcs_with_attributes(void **state)
{
    (void)state;
    loaded l = load_file("vpcs_basic.json", "us-east-1", false, false);
    assert_int_equal(l.rc, 0);
    cs_estate_counts c = counts(&l);
    assert_int_equal(c.vpcs, 2);
    assert_int_equal(c.default_vpcs, 1);
    assert_int_equal(c.live[0], 3);
    assert_int_equal(c.live[1], 1);
    cs_snapshot *s = freeze(&l);

    cs_vpc d = vpc_of(s, "vpc-0b89e02241aae4b0e");
    assert_true(d.is_default);
    assert_string_equal(d.name, "");
    assert_string_equal(account_of(s, d.account_idx), "111122223333");
    assert_string_equal(region_of(s, d.region_idx), "us-east-1");
    assert_int_equal(d.state, CS_VPC_AVAILABLE);
    cs_assoc a = assoc_of(s, &d, "172.31.0.0/16");
    assert_true(a.primary);
    assert_true(a.live);
    assert_string_equal(a.id, "vpc-cidr-assoc-0d4a5e3c1b2a39f00");

    cs_vpc v = vpc_of(s, "vpc-009e3ea6265c7a203");
    assert_false(v.is_default);
    assert_string_equal(v.name, "payments-prod");
    assert_int_equal(v.tag_count, 2);
    assert_int_equal(v.assoc_count, 3);
    a = assoc_of(s, &v, "10.1.0.0/16");
    assert_true(a.primary);
    a = assoc_of(s, &v, "100.64.0.0/16");
    assert_false(a.primary);
    assert_int_equal(a.state, CS_ASSOC_ASSOCIATED);
    a = assoc_of(s, &v, "2600:1f18:4a3:6e00::/56");
    assert_true(a.live);
    assert_int_equal(a.ip_source, CS_IPSRC_AMAZON);
    assert_int_equal(a.ipv6_attr, CS_IPV6ATTR_PUBLIC);
    assert_string_equal(a.pool, "Amazon");
    done(&l, s);
}

static void aws_json__primary_block_is_one_association(void **state)
{
    (void)state;
    loaded l = load_file("vpcs_primary_dedupe.json", "eu-west-1", false,
                         false);
    assert_int_equal(l.rc, 0);
    cs_snapshot *s = freeze(&l);
    /* 10.20.0.0/16 is printed as CidrBlock and again in the set. */
    cs_vpc v = vpc_of(s, "vpc-0aaaaaaaaaaaaaaa1");
    assert_int_equal(v.assoc_count, 2);
    assert_int_equal(assocs_with(s, &v, "10.20.0.0/16"), 1);
    cs_assoc a = assoc_of(s, &v, "10.20.0.0/16");
    assert_true(a.primary);
    assert_string_equal(a.id, "vpc-cidr-assoc-0aaaaaaaaaaaaaaa1");
    assert_false(assoc_of(s, &v, "10.21.0.0/16").primary);
    /* Without a CidrBlockAssociationSet (older output) the top-level
     * CidrBlock is the association. */
    cs_vpc w = vpc_of(s, "vpc-0aaaaaaaaaaaaaaa2");
    assert_int_equal(w.assoc_count, 1);
    a = assoc_of(s, &w, "10.30.0.0/16");
    assert_true(a.primary);
    assert_true(a.live);
    done(&l, s);
}

static void aws_json__only_associated_and_associating_are_live(void **state)
{
    (void)state;
    loaded l = load_file("vpcs_dead_states.json", "us-east-1", false, false);
    assert_int_equal(l.rc, 0);
    cs_estate_counts c = counts(&l);
    assert_int_equal(c.live[0], 2);
    assert_int_equal(c.dead[0], 4);
    cs_snapshot *s = freeze(&l);
    cs_vpc v = vpc_of(s, "vpc-0bbbbbbbbbbbbbbb1");
    assert_int_equal(v.assoc_count, 6);
    static const struct {
        const char *pfx;
        int state;
        bool live;
    } t[] = {
        {"10.40.0.0/16", CS_ASSOC_ASSOCIATED, true},
        {"10.41.0.0/16", CS_ASSOC_ASSOCIATING, true},
        {"10.42.0.0/16", CS_ASSOC_DISASSOCIATING, false},
        {"10.43.0.0/16", CS_ASSOC_DISASSOCIATED, false},
        {"198.19.0.0/16", CS_ASSOC_FAILED, false},
        {"10.44.0.0/16", CS_ASSOC_FAILING, false},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        cs_assoc a = assoc_of(s, &v, t[i].pfx);
        assert_int_equal(a.state, t[i].state);
        assert_int_equal(a.live, t[i].live);
    }
    /* The frozen trie holds the live ones only. */
    cs_estate_counts fc;
    cs_estate_counts_get(s, &fc);
    assert_int_equal(fc.live[0], 2);
    assert_int_equal(fc.dead[0], 4);
    done(&l, s);
}

static void aws_json__ignores_unknown_keys_at_any_depth(void **state)
{
    (void)state;
    /* BlockPublicAccessStates, EncryptionControl (with a number where the
     * Vpc has a string key of that name), IpSource, unknown keys holding
     * arrays of arrays, a ResponseMetadata object, NextToken. */
    loaded l = load_file("vpcs_unknown_keys.json", "us-east-1", false, false);
    if (l.rc != 0)
        print_error("%s:%llu:%u %s\n", l.err.source,
                    (unsigned long long)l.err.line, l.err.column,
                    l.err.message);
    assert_int_equal(l.rc, 0);
    cs_snapshot *s = freeze(&l);
    cs_vpc v = vpc_of(s, "vpc-0ccccccccccccccc1");
    assert_string_equal(v.name, "future-proof");
    assert_int_equal(v.assoc_count, 2);
    cs_assoc a = assoc_of(s, &v, "fd12:3456:789a:100::/56");
    assert_int_equal(a.state, CS_ASSOC_ASSOCIATED);
    assert_int_equal(a.ip_source, CS_IPSRC_NONE);
    assert_int_equal(a.ipv6_attr, CS_IPV6ATTR_PRIVATE);
    assert_string_equal(a.pool, "ipam-pool-0123456789abcdef0");
    assert_true(assoc_of(s, &v, "10.50.0.0/16").primary);
    done(&l, s);
}

static void aws_json__bare_array_elements_by_their_keys(void **state)
{
    (void)state;
    /* `aws ec2 describe-vpcs --query Vpcs` prints a bare array; elements
     * are told apart by their keys. */
    loaded l = load_file("vpcs_bare_array.json", "us-east-1", false, false);
    assert_int_equal(l.rc, 0);
    cs_estate_counts c = counts(&l);
    assert_int_equal(c.vpcs, 1);
    assert_int_equal(c.peerings, 1);
    cs_estate_free(l.e);
}

static void aws_json__reads_peering_connections(void **state)
{
    (void)state;
    loaded l = load_file("peering_basic.json", NULL, false, false);
    assert_int_equal(l.rc, 0);
    cs_snapshot *s = freeze(&l);
    uint32_t idx;
    assert_int_equal(cs_estate_peering_find(s, "pcx-0a1b2c3d4e5f60718", 21,
                                            &idx), 1);
    cs_peering p;
    assert_int_equal(cs_estate_peering(s, idx, &p), 0);
    assert_int_equal(p.status, CS_PCX_ACTIVE);
    assert_string_equal(p.requester.vpc_id, "vpc-009e3ea6265c7a203");
    assert_string_equal(p.accepter.vpc_id, "vpc-0c34bc3a600d710c2");
    assert_int_equal(p.requester.allow_dns, CS_TRI_FALSE);
    assert_int_equal(p.accepter.allow_dns, CS_TRI_TRUE);
    assert_string_equal(account_of(s, p.accepter.account_idx), "444455556666");
    assert_string_equal(region_of(s, p.accepter.region_idx), "us-west-2");
    assert_int_equal(cs_estate_peering_find(s, "pcx-0b1b2c3d4e5f60718", 21,
                                            &idx), 1);
    assert_int_equal(cs_estate_peering(s, idx, &p), 0);
    assert_int_equal(p.status, CS_PCX_PENDING_ACCEPTANCE);
    assert_int_equal(p.accepter.allow_dns, CS_TRI_UNKNOWN);
    done(&l, s);
}

/* ---- errors with their locations ---------------------------------------------- */

static void aws_json__missing_vpc_id_names_file_line_and_key(void **state)
{
    (void)state;
    loaded l = load_file("vpcs_missing_vpcid.json", "us-east-1", false, false);
    expect_error(&l, CS_EPARSE, "vpcs_missing_vpcid.json", 3, 9,
                 "missing required key \"VpcId\"");
    /* The caret stands under the VPC's opening brace. */
    assert_string_equal(l.err.text, "        {");
    assert_int_equal(l.err.text_col, 9);
    cs_estate_free(l.e);
}

static void aws_json__missing_cidr_in_association_is_an_error(void **state)
{
    (void)state;
    loaded l = load_file("vpcs_missing_cidr.json", "us-east-1", false, false);
    expect_error(&l, CS_EPARSE, "vpcs_missing_cidr.json", 14, 17,
                 "missing required key \"CidrBlock\" in "
                 "VpcCidrBlockAssociation");
    assert_int_equal(counts(&l).vpcs, 0);
    cs_estate_free(l.e);
}

static void aws_json__missing_pcx_id_is_an_error(void **state)
{
    (void)state;
    loaded l = load_file("peering_missing_id.json", NULL, false, false);
    expect_error(&l, CS_EPARSE, "peering_missing_id.json", 3, 9,
                 "\"VpcPeeringConnectionId\"");
    cs_estate_free(l.e);
}

static void aws_json__wrong_type_is_an_error_at_the_value(void **state)
{
    (void)state;
    loaded l = load_file("vpcs_wrong_type.json", "us-east-1", false, false);
    expect_error(&l, CS_EPARSE, "vpcs_wrong_type.json", 15, 26,
                 "\"IsDefault\" in Vpc must be a boolean");
    assert_int_equal(l.err.span, 5); /* "yes" with its quotes */
    cs_estate_free(l.e);

    l = load_file("vpcs_number_for_string.json", "us-east-1", false, false);
    expect_error(&l, CS_EPARSE, "vpcs_number_for_string.json", 4, 24,
                 "\"OwnerId\" in Vpc must be a string, not a number");
    cs_estate_free(l.e);
}

static void aws_json__truncated_file_reports_end_of_input(void **state)
{
    (void)state;
    loaded l = load_file("vpcs_truncated.json", "us-east-1", false, false);
    /* The file stops after three blanks of line 13. */
    expect_error(&l, CS_EPARSE, "vpcs_truncated.json", 13, 4, "truncated");
    cs_estate_free(l.e);
}

static void aws_json__nul_byte_is_located(void **state)
{
    (void)state;
    loaded l = load_file("vpcs_nul.json", "us-east-1", false, false);
    expect_error(&l, CS_EPARSE, "vpcs_nul.json", 5, 31, "NUL byte");
    /* The NUL shows as '?' in the copied line, under the caret. */
    assert_int_equal(l.err.text[l.err.text_col - 1], '?');
    cs_estate_free(l.e);
}

static void aws_json__invalid_utf8_is_located(void **state)
{
    (void)state;
    loaded l = load_file("vpcs_bad_utf8.json", "us-east-1", false, false);
    /* "café-" then 0xff: the é is two bytes, columns count bytes. */
    expect_error(&l, CS_EPARSE, "vpcs_bad_utf8.json", 8, 37,
                 "invalid UTF-8: byte 0xff");
    cs_estate_free(l.e);

    /* A sequence cut short: reported at its lead byte. */
    cs_estate *e = cs_estate_new();
    cs_error err;
    cs_error_clear(&err);
    static const char broken[] = "{\"Vpcs\": [{\"Tags\": [{\"Key\": \"Name\", "
                                 "\"Value\": \"\xe2\x82x\"}]}]}";
    int rc = cs_ingest_aws_json_buf(e, "broken", broken, sizeof broken - 1, 0,
                                    "us-east-1", NULL, NULL, &err);
    assert_int_equal(rc, CS_EPARSE);
    assert_int_equal(err.line, 1);
    assert_int_equal(err.column, 47);
    assert_non_null(strstr(err.message, "broken by byte 0x78"));
    /* Overlong and surrogate forms are refused too. */
    static const char overlong[] = "{\"Vpcs\": [], \"X\": \"\xc0\xaf\"}";
    rc = cs_ingest_aws_json_buf(e, "overlong", overlong, sizeof overlong - 1,
                                0, "us-east-1", NULL, NULL, &err);
    assert_int_equal(rc, CS_EPARSE);
    assert_int_equal(err.column, 20);
    static const char surrogate[] = "{\"Vpcs\": [], \"X\": \"\xed\xa0\x80\"}";
    rc = cs_ingest_aws_json_buf(e, "surrogate", surrogate,
                                sizeof surrogate - 1, 0, "us-east-1", NULL,
                                NULL, &err);
    assert_int_equal(rc, CS_EPARSE);
    assert_int_equal(err.column, 20);
    cs_estate_free(e);
}

static void aws_json__empty_file_is_an_error(void **state)
{
    (void)state;
    loaded l = load_file("empty.json", "us-east-1", false, false);
    expect_error(&l, CS_EPARSE, "empty.json", 1, 1, "empty file");
    cs_estate_free(l.e);

    cs_estate *e = cs_estate_new();
    cs_error err;
    cs_error_clear(&err);
    int rc = cs_ingest_aws_json_buf(e, "blank", " \n\n  ", 5, 0, "us-east-1",
                                    NULL, NULL, &err);
    assert_int_equal(rc, CS_EPARSE);
    assert_int_equal(err.line, 3);
    assert_int_equal(err.column, 3);
    assert_non_null(strstr(err.message, "only white space"));
    cs_estate_free(e);
}

static void aws_json__not_aws_output_is_an_error(void **state)
{
    (void)state;
    loaded l = load_file("not_aws.json", "us-east-1", false, false);
    expect_error(&l, CS_EPARSE, "not_aws.json", 1, 1,
                 "no \"Vpcs\" or \"VpcPeeringConnections\" key");
    cs_estate_free(l.e);

    cs_estate *e = cs_estate_new();
    cs_error err;
    int rc = cs_ingest_aws_json_buf(e, "scalar", "  42", 4, 0, "us-east-1",
                                    NULL, NULL, &err);
    assert_int_equal(rc, CS_EPARSE);
    assert_int_equal(err.column, 3);
    assert_non_null(strstr(err.message, "found a number"));
    rc = cs_ingest_aws_json_buf(e, "garbage", "{\"Vpcs\": [@]}", 13, 0,
                                "us-east-1", NULL, NULL, &err);
    assert_int_equal(rc, CS_EPARSE);
    assert_int_equal(err.column, 11);
    assert_non_null(strstr(err.message, "invalid JSON"));
    cs_estate_free(e);
}

static void aws_json__duplicate_key_is_an_error(void **state)
{
    (void)state;
    loaded l = load_file("vpcs_duplicate_key.json", "us-east-1", false, false);
    expect_error(&l, CS_EPARSE, "vpcs_duplicate_key.json", 7, 13,
                 "duplicate key \"VpcId\"");
    cs_estate_free(l.e);
}

static void aws_json__describe_vpcs_without_region_suggests_flag(void **state)
{
    (void)state;
    loaded l = load_file("vpcs_basic.json", NULL, false, false);
    expect_error(&l, CS_EINVAL, "vpcs_basic.json", 3, 9, "--region");
    cs_estate_free(l.e);
    /* A peering file needs none: its sides carry their regions. */
    l = load_file("peering_basic.json", NULL, false, false);
    assert_int_equal(l.rc, 0);
    cs_estate_free(l.e);
    /* A region that is not one is refused before reading. */
    l = load_file("vpcs_basic.json", "us-east1", false, false);
    assert_int_equal(l.rc, CS_EINVAL);
    assert_non_null(strstr(l.err.message, "us-east1"));
    cs_estate_free(l.e);
}

static void aws_json__host_bits_strict_error_lenient_finding(void **state)
{
    (void)state;
    loaded l = load_file("vpcs_host_bits.json", "us-east-1", false, false);
    expect_error(&l, CS_EPARSE, "vpcs_host_bits.json", 8, 35,
                 "host bits set; did you mean 10.92.0.0/16?");
    cs_estate_free(l.e);

    l = load_file("vpcs_host_bits.json", "us-east-1", false, true);
    assert_int_equal(l.rc, 0);
    cs_estate_counts c = counts(&l);
    /* Printed twice (CidrBlock and the set), one block, one finding. */
    assert_int_equal(c.findings, 1);
    cs_finding f;
    assert_int_equal(cs_estate_build_finding(l.e, 0, &f), 0);
    assert_string_equal(f.kind, CS_FINDING_HOST_BITS);
    assert_true(ends_with(f.source, "vpcs_host_bits.json"));
    assert_int_equal(f.line, 8);
    assert_int_equal(f.column, 34);
    assert_non_null(strstr(f.message, "10.92.7.1/16"));
    assert_non_null(strstr(f.message, "10.92.0.0/16"));
    cs_snapshot *s = freeze(&l);
    cs_vpc v = vpc_of(s, "vpc-0123456789abcdef3");
    assert_int_equal(v.assoc_count, 1);
    assert_true(assoc_of(s, &v, "10.92.0.0/16").primary);
    done(&l, s);
}

static void aws_json__escaped_control_character_in_id_is_refused(void **state)
{
    (void)state;
    cs_estate *e = cs_estate_new();
    cs_error err;
    static const char j[] = "{\"Vpcs\": [{\"VpcId\": \"vpc-0\\u0000a\", "
                            "\"OwnerId\": \"111122223333\", "
                            "\"CidrBlock\": \"10.0.0.0/16\"}]}";
    int rc = cs_ingest_aws_json_buf(e, "esc", j, sizeof j - 1, 0, "us-east-1",
                                    NULL, NULL, &err);
    assert_int_equal(rc, CS_EPARSE);
    assert_int_equal(err.column, 21);
    assert_non_null(strstr(err.message, "\"VpcId\""));
    cs_estate_free(e);
}

static void aws_json__bom_is_skipped(void **state)
{
    (void)state;
    cs_estate *e = cs_estate_new();
    cs_error err;
    static const char j[] = "\xef\xbb\xbf{\"Vpcs\": [{\"VpcId\": \"vpc-01\", "
                            "\"OwnerId\": \"111122223333\", "
                            "\"CidrBlock\": \"10.0.0.0/16\"}]}";
    int rc = cs_ingest_aws_json_buf(e, "bom", j, sizeof j - 1, 0, "us-east-1",
                                    NULL, NULL, &err);
    assert_int_equal(rc, 0);
    cs_estate_counts c;
    cs_estate_build_counts(e, &c);
    assert_int_equal(c.vpcs, 1);
    cs_estate_free(e);
}


/* ---- pages (issue 11 items 1 and 3) ------------------------------------------- */

#define VPC_J(id, cidr)                                                       \
    "{\"VpcId\": \"" id "\", \"OwnerId\": \"111122223333\", \"CidrBlock\": \"" \
    cidr "\"}"

/* The finding of `kind` among the builder's, or fail. */
static cs_finding finding_of(const loaded *l, const char *kind)
{
    cs_estate_counts c = counts(l);
    for (uint32_t i = 0; i < c.findings; i++) {
        cs_finding f;
        assert_int_equal(cs_estate_build_finding(l->e, i, &f), 0);
        if (strcmp(f.kind, kind) == 0)
            return f;
    }
    print_error("no finding of kind %s\n", kind);
    fail();
    cs_finding none;
    memset(&none, 0, sizeof none);
    return none;
}

static void aws_json__every_page_file_of_a_region_directory_is_read(void **state)
{
    (void)state;
    char *d = scratch_dir();
    char p[1024];
    snprintf(p, sizeof p, "%s/111122223333", d);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/111122223333/eu-west-1", d);
    assert_int_equal(mkdir(p, 0755), 0);
    /* Two describe-vpcs pages in two files, a third page file holding two
     * concatenated documents, a subnets file, and a README. */
    snprintf(p, sizeof p, "%s/111122223333/eu-west-1/vpcs.json", d);
    write_text(p, "{\"Vpcs\": [" VPC_J("vpc-01", "10.1.0.0/16") ", "
                  VPC_J("vpc-02", "10.2.0.0/16") "], \"NextToken\": \"\"}\n");
    snprintf(p, sizeof p, "%s/111122223333/eu-west-1/vpcs-2.json", d);
    write_text(p, "{\"Vpcs\": [" VPC_J("vpc-03", "10.3.0.0/16") ", "
                  VPC_J("vpc-04", "10.4.0.0/16") "]}\n");
    snprintf(p, sizeof p, "%s/111122223333/eu-west-1/vpcs-3.json", d);
    write_text(p, "{\"Vpcs\": [" VPC_J("vpc-05", "10.5.0.0/16") "]}\n"
                  "{\"Vpcs\": [" VPC_J("vpc-06", "10.6.0.0/16") "]}");
    snprintf(p, sizeof p, "%s/111122223333/eu-west-1/subnets.json", d);
    write_text(p, "{\"Subnets\": [{\"SubnetId\": \"subnet-1\"}]}\n");
    snprintf(p, sizeof p, "%s/111122223333/eu-west-1/README", d);
    write_text(p, "saved with aws ec2 describe-vpcs --page-size 2\n");
    loaded l = load_dir(d, false);
    assert_int_equal(l.rc, 0);
    cs_estate_counts c = counts(&l);
    assert_int_equal(c.vpcs, 6);
    assert_int_equal(c.findings, 2);
    cs_finding f;
    assert_int_equal(cs_estate_build_finding(l.e, 0, &f), 0);
    assert_string_equal(f.kind, CS_FINDING_SKIPPED_FILE);
    assert_true(ends_with(f.source, "eu-west-1/README"));
    assert_int_equal(cs_estate_build_finding(l.e, 1, &f), 0);
    assert_string_equal(f.kind, CS_FINDING_SKIPPED_FILE);
    assert_true(ends_with(f.source, "eu-west-1/subnets.json"));
    cs_snapshot *s = freeze(&l);
    for (int i = 1; i <= 6; i++) {
        char id[16];
        snprintf(id, sizeof id, "vpc-0%d", i);
        cs_vpc v = vpc_of(s, id);
        assert_int_equal(v.assoc_count, 1);
    }
    done(&l, s);
    rm_tree(d);
}

static void aws_json__array_of_pages_is_read_page_by_page(void **state)
{
    (void)state;
    /* `jq -s . page1.json page2.json`: an array of whole pages, the second
     * a peering page, plus a page that still carries a NextToken. */
    static const char j[] =
        "[\n"
        " {\"Vpcs\": [" VPC_J("vpc-01", "10.1.0.0/16") "], \"NextToken\": \"eyJ\"},\n"
        " {\"Vpcs\": [" VPC_J("vpc-02", "10.2.0.0/16") "]},\n"
        " {\"VpcPeeringConnections\": [{\"VpcPeeringConnectionId\": \"pcx-01\","
        " \"Status\": {\"Code\": \"active\"},"
        " \"RequesterVpcInfo\": {\"VpcId\": \"vpc-01\"},"
        " \"AccepterVpcInfo\": {\"VpcId\": \"vpc-02\"}}]}\n"
        "]\n";
    for (size_t chunk = 0; chunk <= 7; chunk += 7) {
        loaded l;
        l.e = cs_estate_new();
        cs_error_clear(&l.err);
        l.rc = cs_ingest_aws_json_buf(l.e, "pages.json", j, sizeof j - 1, chunk,
                                      "us-east-1", NULL, NULL, &l.err);
        assert_int_equal(l.rc, 0);
        cs_estate_counts c = counts(&l);
        assert_int_equal(c.vpcs, 2);
        assert_int_equal(c.peerings, 1);
        cs_finding f = finding_of(&l, CS_FINDING_INCOMPLETE_PAGE);
        assert_string_equal(f.source, "pages.json");
        assert_int_equal(f.line, 2);
        assert_non_null(strstr(f.message, "NextToken"));
        cs_estate_free(l.e);
    }
    /* A page key in an element that already holds Vpc keys is refused. */
    static const char bad[] = "[{\"VpcId\": \"vpc-01\", \"Vpcs\": []}]";
    cs_estate *e = cs_estate_new();
    cs_error err;
    assert_int_equal(cs_ingest_aws_json_buf(e, "mixed", bad, sizeof bad - 1, 0,
                                            "us-east-1", NULL, NULL, &err),
                     CS_EPARSE);
    assert_int_equal(err.column, 22);
    assert_non_null(strstr(err.message, "mixes record keys"));
    cs_estate_free(e);
}

static void aws_json__region_wrapper_gives_the_region(void **state)
{
    (void)state;
    static const char j[] =
        "{\"Region\": \"eu-central-1\", \"Vpcs\": [" VPC_J("vpc-01", "10.1.0.0/16") "]}\n"
        "{\"Region\": \"ap-south-1\", \"Vpcs\": [" VPC_J("vpc-02", "10.2.0.0/16") "]}\n";
    loaded l;
    l.e = cs_estate_new();
    cs_error_clear(&l.err);
    /* No --source-region needed: each document names its own. */
    l.rc = cs_ingest_aws_json_buf(l.e, "wrapped.json", j, sizeof j - 1, 0,
                                  NULL, NULL, NULL, &l.err);
    assert_int_equal(l.rc, 0);
    cs_snapshot *s = freeze(&l);
    cs_vpc v = vpc_of(s, "vpc-01");
    cs_region r;
    assert_int_equal(cs_estate_region(s, v.region_idx, &r), 0);
    assert_string_equal(r.name, "eu-central-1");
    v = vpc_of(s, "vpc-02");
    assert_int_equal(cs_estate_region(s, v.region_idx, &r), 0);
    assert_string_equal(r.name, "ap-south-1");
    done(&l, s);

    static const char bad[] = "{\"Region\": \"Europe\", \"Vpcs\": []}";
    cs_estate *e = cs_estate_new();
    cs_error err;
    assert_int_equal(cs_ingest_aws_json_buf(e, "bad", bad, sizeof bad - 1, 0,
                                            NULL, NULL, NULL, &err),
                     CS_EPARSE);
    assert_int_equal(err.column, 12);
    assert_non_null(strstr(err.message, "not an AWS region name"));
    cs_estate_free(e);
}

static void aws_json__unknown_peering_status_is_not_active(void **state)
{
    (void)state;
    static const char j[] =
        "{\"VpcPeeringConnections\": [{\"VpcPeeringConnectionId\": \"pcx-01\",\n"
        " \"Status\": {\"Code\": \"pending-verification\"},"
        " \"RequesterVpcInfo\": {\"VpcId\": \"vpc-01\"},"
        " \"AccepterVpcInfo\": {\"VpcId\": \"vpc-02\"}}]}";
    loaded l;
    l.e = cs_estate_new();
    cs_error_clear(&l.err);
    l.rc = cs_ingest_aws_json_buf(l.e, "pcx.json", j, sizeof j - 1, 0,
                                  "us-east-1", NULL, NULL, &l.err);
    assert_int_equal(l.rc, 0);
    cs_finding f = finding_of(&l, CS_FINDING_UNKNOWN_STATE);
    assert_int_equal(f.line, 2);
    assert_int_equal(f.column, 21);
    assert_non_null(strstr(f.message, "pending-verification"));
    cs_snapshot *s = freeze(&l);
    cs_peering pc;
    assert_int_equal(cs_estate_peering(s, 0, &pc), 0);
    assert_int_equal(pc.status, CS_PCX_UNKNOWN);
    done(&l, s);
    /* Garbage is still an error, not a new state. */
    static const char bad[] =
        "{\"VpcPeeringConnections\": [{\"VpcPeeringConnectionId\": \"pcx-01\","
        " \"Status\": {\"Code\": \"Active Now\"},"
        " \"RequesterVpcInfo\": {\"VpcId\": \"vpc-01\"},"
        " \"AccepterVpcInfo\": {\"VpcId\": \"vpc-02\"}}]}";
    cs_estate *e = cs_estate_new();
    cs_error err;
    assert_int_equal(cs_ingest_aws_json_buf(e, "bad", bad, sizeof bad - 1, 0,
                                            "us-east-1", NULL, NULL, &err),
                     CS_EPARSE);
    cs_estate_free(e);
}

static void aws_json__unreadable_file_in_a_directory_is_bad_input(void **state)
{
    (void)state;
    assert_int_equal(cs_ingest_errno_status(EACCES), CS_EINVAL);
    assert_int_equal(cs_ingest_errno_status(EIO), CS_EIO);
    char *d = scratch_dir();
    char p[1024];
    snprintf(p, sizeof p, "%s/111122223333", d);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/111122223333/eu-west-1", d);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/111122223333/eu-west-1/vpcs.json", d);
    bool root = geteuid() == 0;
    if (root) {
        /* root reads through any mode: a file that cannot be opened for
         * another reason a user causes (a symbolic link loop) instead. */
        assert_int_equal(symlink("vpcs.json", p), 0);
    } else {
        write_text(p, "{\"Vpcs\": []}");
        assert_int_equal(chmod(p, 0), 0);
    }
    loaded l = load_dir(d, false);
    assert_int_equal(l.rc, CS_EINVAL);
    assert_true(ends_with(l.err.source, "eu-west-1/vpcs.json"));
    assert_non_null(strstr(l.err.message,
                           root ? "Too many levels" : "Permission denied"));
    assert_null(strstr(l.err.message, "vpcs.json"));
    cs_estate_free(l.e);
    rm_tree(d);
}

/* ---- keep-going ------------------------------------------------------------------ */

static void aws_json__keep_going_counts_rejections(void **state)
{
    (void)state;
    /* Without keep-going: the first bad record stops the load, the records
     * before it stay. */
    loaded l = load_file("vpcs_keep_going.json", "us-east-1", false, false);
    expect_error(&l, CS_EPARSE, "vpcs_keep_going.json", 8, 9,
                 "\"VpcId\"");
    assert_int_equal(counts(&l).vpcs, 1);
    cs_estate_free(l.e);

    l = load_file("vpcs_keep_going.json", "us-east-1", true, false);
    /* Three records rejected; the block in state "wobbling" (a state AWS
     * may add) is read as not live with a warning, not rejected. */
    assert_int_equal(l.rc, 3);
    cs_estate_counts c = counts(&l);
    assert_int_equal(c.rejected, 3);
    assert_int_equal(c.vpcs, 3);
    static const struct {
        const char *kind;
        uint64_t line;
        uint32_t col;
        const char *what;
    } want[] = {
        {CS_FINDING_REJECTED, 8, 9, "missing required key \"VpcId\""},
        {CS_FINDING_UNKNOWN_STATE, 26, 34, "unknown \"State\" value \"wobbling\""},
        {CS_FINDING_REJECTED, 36, 36, "octet 300"},
        {CS_FINDING_REJECTED, 38, 9, "elements of Vpcs must be objects"},
    };
    for (uint32_t i = 0; i < 4; i++) {
        cs_finding f;
        assert_int_equal(cs_estate_build_finding(l.e, i, &f), 0);
        assert_string_equal(f.kind, want[i].kind);
        assert_true(ends_with(f.source, "vpcs_keep_going.json"));
        assert_int_equal(f.line, want[i].line);
        assert_int_equal(f.column, want[i].col);
        assert_non_null(strstr(f.message, want[i].what));
    }
    cs_snapshot *s = freeze(&l);
    uint32_t idx;
    assert_int_equal(cs_estate_vpc_find(s, "vpc-0a00000000000000a", 21, &idx),
                     1);
    assert_int_equal(cs_estate_vpc_find(s, "vpc-0a00000000000000e", 21, &idx),
                     1);
    /* The rejected VPC left nothing behind. */
    assert_int_equal(cs_estate_vpc_find(s, "vpc-0a00000000000000d", 21, &idx),
                     0);
    /* The VPC with the unknown block state is there; that block is dead. */
    cs_vpc v = vpc_of(s, "vpc-0a00000000000000c");
    assert_int_equal(v.assoc_count, 2);
    cs_assoc a = assoc_of(s, &v, "10.103.0.0/16");
    assert_int_equal(a.state, CS_ASSOC_UNKNOWN);
    assert_false(a.live);
    assert_true(assoc_of(s, &v, "10.102.0.0/16").live);
    done(&l, s);
}

static void aws_json__keep_going_reads_every_other_file(void **state)
{
    (void)state;
    char *d = scratch_dir();
    char p[1024];
    static const char *const accts[] = {"111111111111", "222222222222",
                                        "333333333333"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", d, accts[i]);
        assert_int_equal(mkdir(p, 0755), 0);
        snprintf(p, sizeof p, "%s/%s/ap-south-1", d, accts[i]);
        assert_int_equal(mkdir(p, 0755), 0);
        snprintf(p, sizeof p, "%s/%s/ap-south-1/vpcs.json", d, accts[i]);
        char body[512];
        snprintf(body, sizeof body,
                 "{\"Vpcs\": [{\"VpcId\": \"vpc-0%d\", \"CidrBlock\": "
                 "\"10.%d.0.0/16\"}%s",
                 i, i, i == 1 ? "" : "]}\n");
        write_text(p, body); /* account 2's file is truncated */
    }
    loaded l = load_dir(d, true);
    assert_int_equal(l.rc, 1);
    cs_estate_counts c = counts(&l);
    assert_int_equal(c.vpcs, 3); /* account 2's one VPC was complete */
    assert_int_equal(c.rejected, 1);
    cs_finding f;
    assert_int_equal(cs_estate_build_finding(l.e, 0, &f), 0);
    assert_true(ends_with(f.source, "222222222222/ap-south-1/vpcs.json"));
    assert_non_null(strstr(f.message, "truncated"));
    /* No OwnerId: the account is the directory's. */
    cs_snapshot *s = freeze(&l);
    cs_vpc v = vpc_of(s, "vpc-02");
    assert_string_equal(account_of(s, v.account_idx), "333333333333");
    assert_string_equal(region_of(s, v.region_idx), "ap-south-1");
    done(&l, s);

    l = load_dir(d, false);
    assert_int_equal(l.rc, CS_EPARSE);
    assert_true(ends_with(l.err.source, "222222222222/ap-south-1/vpcs.json"));
    cs_estate_free(l.e);
    rm_tree(d);
}

/* ---- directories ------------------------------------------------------------------ */

static void aws_json__peering_seen_from_both_sides_is_one_connection(
    void **state)
{
    (void)state;
    loaded l = load_dir(FIX "estate_ok", false);
    if (l.rc != 0)
        print_error("%s: %s\n", l.err.source, l.err.message);
    assert_int_equal(l.rc, 0);
    cs_estate_counts c = counts(&l);
    /* pcx-0a1b... is in 111122223333/us-east-1 and 444455556666/us-west-2. */
    assert_int_equal(c.peerings, 2);
    assert_int_equal(c.regions, 3);
    cs_snapshot *s = freeze(&l);
    uint32_t idx;
    assert_int_equal(cs_estate_peering_find(s, "pcx-0a1b2c3d4e5f60718", 21,
                                            &idx), 1);
    cs_peering p;
    assert_int_equal(cs_estate_peering(s, idx, &p), 0);
    assert_int_equal(p.status, CS_PCX_ACTIVE);
    cs_vpc rv, av;
    assert_int_equal(cs_estate_vpc(s, p.requester.vpc_idx, &rv), 0);
    assert_int_equal(cs_estate_vpc(s, p.accepter.vpc_idx, &av), 0);
    assert_string_equal(rv.id, "vpc-009e3ea6265c7a203");
    assert_string_equal(av.id, "vpc-0c34bc3a600d710c2");
    assert_string_equal(region_of(s, av.region_idx), "us-west-2");
    /* Each VPC lists the connection once. */
    uint32_t n;
    const uint32_t *pcx = cs_estate_vpc_peerings(s, p.accepter.vpc_idx, &n);
    assert_int_equal(n, 1);
    assert_int_equal(pcx[0], idx);
    done(&l, s);
}

static void aws_json__peering_to_unknown_vpc_is_kept_and_reported(
    void **state)
{
    (void)state;
    loaded l = load_dir(FIX "estate_ok", false);
    assert_int_equal(l.rc, 0);
    cs_snapshot *s = freeze(&l);
    uint32_t idx;
    assert_int_equal(cs_estate_peering_find(s, "pcx-0b1b2c3d4e5f60718", 21,
                                            &idx), 1);
    cs_peering p;
    assert_int_equal(cs_estate_peering(s, idx, &p), 0);
    assert_int_equal(p.accepter.vpc_idx, CS_IDX_NONE);
    assert_string_equal(p.accepter.vpc_id, "vpc-0d00000000000000d");
    assert_string_equal(account_of(s, p.accepter.account_idx),
                        "777788889999");
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    bool reported = false;
    for (uint32_t i = 0; i < c.findings; i++) {
        cs_finding f;
        assert_int_equal(cs_estate_finding(s, i, &f), 0);
        if (strcmp(f.kind, CS_FINDING_UNKNOWN_VPC) == 0 &&
            strstr(f.message, "vpc-0d00000000000000d"))
            reported = true;
    }
    assert_true(reported);
    done(&l, s);
}

static void aws_json__shared_vpc_seen_by_a_participant_is_one_vpc(void **state)
{
    (void)state;
    /* 444455556666/us-east-1/vpcs.json prints 111122223333's VPC as is. */
    loaded l = load_dir(FIX "estate_ok", false);
    assert_int_equal(l.rc, 0);
    assert_int_equal(counts(&l).vpcs, 3);
    cs_snapshot *s = freeze(&l);
    cs_vpc v = vpc_of(s, "vpc-009e3ea6265c7a203");
    assert_string_equal(account_of(s, v.account_idx), "111122223333");
    assert_int_equal(v.assoc_count, 3);
    done(&l, s);
}

static void aws_json__same_vpc_with_other_content_is_a_conflict(void **state)
{
    (void)state;
    loaded l = load_dir(FIX "estate_conflict", false);
    assert_int_equal(l.rc, CS_ECONFLICT);
    assert_true(ends_with(l.err.source, "444455556666/us-east-1/vpcs.json"));
    assert_int_equal(l.err.line, 3);
    /* Both sightings are named. */
    assert_non_null(strstr(l.err.message, "111122223333/us-east-1/vpcs.json"));
    assert_non_null(strstr(l.err.message, "IsDefault"));
    cs_estate_free(l.e);
}

static void aws_json__directory_without_vpcs_json_is_reported(void **state)
{
    (void)state;
    /* A region directory whose only JSON file is not an inventory: read,
     * found to hold no list, and listed as skipped (no error). */
    loaded l = load_dir(FIX "estate_no_vpcs", false);
    assert_int_equal(l.rc, 0);
    cs_estate_counts c = counts(&l);
    assert_int_equal(c.vpcs, 0);
    assert_int_equal(c.findings, 1);
    cs_finding f;
    assert_int_equal(cs_estate_build_finding(l.e, 0, &f), 0);
    assert_string_equal(f.kind, CS_FINDING_SKIPPED_FILE);
    assert_true(ends_with(f.source, "111122223333/us-east-1/subnets.json"));
    assert_non_null(strstr(f.message, "not a VPC inventory"));
    cs_estate_free(l.e);

    /* A directory holding no account directory at all. */
    char *d = scratch_dir();
    l = load_dir(d, true);
    assert_int_equal(l.rc, CS_EPARSE);
    assert_non_null(strstr(l.err.message, "no vpcs.json"));
    cs_estate_free(l.e);
    rm_tree(d);

    /* A region directory passed as the estate. */
    l = load_dir(FIX "estate_flat", false);
    assert_int_equal(l.rc, CS_EPARSE);
    assert_non_null(strstr(l.err.message, "holds vpcs.json directly"));
    assert_non_null(strstr(l.err.message, "--region"));
    cs_estate_free(l.e);
}

static void aws_json__estate_directory_names_are_checked(void **state)
{
    (void)state;
    /* Sorted by bytes: 111122223333 (us-east-1 good, us-east1 bad), 12345
     * (not an account), README.txt (not a directory). */
    loaded l = load_dir(FIX "estate_bad_names", false);
    assert_int_equal(l.rc, CS_EPARSE);
    assert_true(ends_with(l.err.source, "111122223333/us-east1"));
    assert_non_null(strstr(l.err.message, "not an AWS region name"));
    cs_estate_free(l.e);

    l = load_dir(FIX "estate_bad_names", true);
    assert_int_equal(l.rc, 3);
    assert_int_equal(counts(&l).vpcs, 1);
    static const char *const where[] = {"111122223333/us-east1", "12345",
                                        "README.txt"};
    static const char *const what[] = {"not an AWS region name",
                                       "not an AWS account id",
                                       "not an account directory"};
    for (uint32_t i = 0; i < 3; i++) {
        cs_finding f;
        assert_int_equal(cs_estate_build_finding(l.e, i, &f), 0);
        assert_string_equal(f.kind, CS_FINDING_REJECTED);
        assert_true(ends_with(f.source, where[i]));
        assert_non_null(strstr(f.message, what[i]));
    }
    cs_estate_free(l.e);
}

static void aws_json__region_names_are_recognised(void **state)
{
    (void)state;
    static const char *const good[] = {"us-east-1", "us-gov-west-1",
                                       "ap-southeast-7", "us-isob-east-1",
                                       "eu-central-2", "il-central-1"};
    static const char *const bad[] = {"us-east1", "useast-1", "US-east-1",
                                      "us-east-", "-us-east-1", "us--east-1",
                                      "usa-east-1", "us-east-123", "us-east-x",
                                      "", "us-1"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_true(cs_aws_region_valid(good[i], strlen(good[i])));
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_false(cs_aws_region_valid(bad[i], strlen(bad[i])));
}

/* ---- metamorphic: the read size never matters ------------------------------------ */

typedef struct outcome {
    int rc;
    cs_error err;
    cs_estate_counts c;
} outcome;

static outcome run_buf(const char *name, const char *buf, size_t len,
                       size_t chunk, bool keep_going)
{
    outcome o;
    cs_estate *e = cs_estate_new();
    assert_non_null(e);
    cs_error_clear(&o.err);
    cs_load_options opts = opts_of(keep_going, false);
    o.rc = cs_ingest_aws_json_buf(e, name, buf, len, chunk, "us-east-1", NULL,
                                  &opts, &o.err);
    cs_estate_build_counts(e, &o.c);
    cs_estate_free(e);
    return o;
}

static void aws_json__chunk_size_never_changes_the_outcome(void **state)
{
    (void)state;
    static const char *const files[] = {
        "vpcs_basic.json", "vpcs_primary_dedupe.json",
        "vpcs_dead_states.json", "vpcs_unknown_keys.json",
        "vpcs_missing_vpcid.json", "vpcs_missing_cidr.json",
        "vpcs_wrong_type.json", "vpcs_number_for_string.json",
        "vpcs_truncated.json", "vpcs_nul.json", "vpcs_bad_utf8.json",
        "empty.json", "vpcs_host_bits.json", "vpcs_keep_going.json",
        "vpcs_bare_array.json", "vpcs_duplicate_key.json", "not_aws.json",
        "peering_basic.json", "peering_missing_id.json",
    };
    static const size_t chunks[] = {1, 2, 3, 5, 7, 13, 64, 100, 4096};
    for (size_t fi = 0; fi < sizeof files / sizeof *files; fi++) {
        char path[1024];
        snprintf(path, sizeof path, "%s%s", FIX, files[fi]);
        size_t len;
        char *buf = read_all(path, &len);
        for (int kg = 0; kg < 2; kg++) {
            outcome whole = run_buf(files[fi], buf, len, 0, kg);
            /* The file reader agrees with the whole buffer. */
            loaded l = load_file(files[fi], "us-east-1", kg, false);
            assert_int_equal(l.rc, whole.rc);
            assert_int_equal(l.err.line, whole.err.line);
            assert_int_equal(l.err.column, whole.err.column);
            assert_string_equal(l.err.message, whole.err.message);
            cs_estate_free(l.e);
            for (size_t ci = 0; ci < sizeof chunks / sizeof *chunks; ci++) {
                outcome o = run_buf(files[fi], buf, len, chunks[ci], kg);
                if (o.rc != whole.rc || o.err.line != whole.err.line ||
                    o.err.column != whole.err.column ||
                    strcmp(o.err.message, whole.err.message) != 0 ||
                    o.c.vpcs != whole.c.vpcs || o.c.assocs != whole.c.assocs ||
                    o.c.peerings != whole.c.peerings ||
                    o.c.rejected != whole.c.rejected) {
                    print_error("%s, chunk %zu, keep-going %d: rc %d %llu:%u "
                                "'%s' vs whole: rc %d %llu:%u '%s'\n",
                                files[fi], chunks[ci], kg, o.rc,
                                (unsigned long long)o.err.line, o.err.column,
                                o.err.message, whole.rc,
                                (unsigned long long)whole.err.line,
                                whole.err.column, whole.err.message);
                    fail();
                }
            }
        }
        free(buf);
    }
}

/* ---- limits ------------------------------------------------------------------------ */

static void aws_json__long_line_column_is_exact(void **state)
{
    (void)state;
    /* 64 MiB of blanks inside the Vpcs array, then a stray '@': the column
     * is counted across 64 read chunks. */
    const size_t blanks = 64u << 20;
    static const char head[] = "{\"Vpcs\": [";
    size_t len = sizeof head - 1 + blanks + 3;
    char *buf = malloc(len);
    assert_non_null(buf);
    memcpy(buf, head, sizeof head - 1);
    memset(buf + sizeof head - 1, ' ', blanks);
    memcpy(buf + sizeof head - 1 + blanks, "@]}", 3);
    char *d = scratch_dir();
    char path[1024];
    snprintf(path, sizeof path, "%s/long.json", d);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    free(buf);

    cs_estate *e = cs_estate_new();
    cs_error err;
    cs_error_clear(&err);
    int rc = cs_ingest_aws_json(e, path, "us-east-1", NULL, &err);
    assert_int_equal(rc, CS_EPARSE);
    assert_int_equal(err.line, 1);
    assert_int_equal(err.column, sizeof head - 1 + blanks + 1);
    assert_non_null(strstr(err.message, "invalid JSON"));
    /* The caret line is a window around the column, not the line. */
    assert_true(strlen(err.text) < CS_ERROR_TEXT_CAP);
    assert_int_equal(err.text[err.text_col - 1], '@');
    cs_estate_free(e);
    rm_tree(d);
}

typedef struct feeder {
    char path[1024];
    uint64_t total;
    uint64_t written;
} feeder;

static void *feed_fifo(void *arg)
{
    feeder *fd = arg;
    int w = open(fd->path, O_WRONLY);
    if (w < 0)
        return NULL;
    static char block[1 << 16];
    memset(block, 'a', sizeof block);
    static const char head[] = "{\"Vpcs\": [{\"VpcId\": \"";
    if (write(w, head, sizeof head - 1) > 0)
        fd->written += sizeof head - 1;
    while (fd->written < fd->total) {
        ssize_t k = write(w, block, sizeof block);
        if (k <= 0)
            break; /* EPIPE: the reader gave up, as it should */
        fd->written += (uint64_t)k;
    }
    close(w);
    return NULL;
}

static void aws_json__two_gigabyte_string_is_an_error_not_an_allocation(
    void **state)
{
    (void)state;
    /* A 2 GiB line that is one string, through a FIFO: the reader stops at
     * CS_AWS_JSON_TOKEN_MAX and names the string's start; the writer sees
     * its pipe closed long before 2 GiB. */
    signal(SIGPIPE, SIG_IGN);
    char *d = scratch_dir();
    feeder fd;
    memset(&fd, 0, sizeof fd);
    snprintf(fd.path, sizeof fd.path, "%s/fifo.json", d);
    assert_int_equal(mkfifo(fd.path, 0600), 0);
    fd.total = 2ull << 30;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, feed_fifo, &fd), 0);
    cs_estate *e = cs_estate_new();
    cs_error err;
    cs_error_clear(&err);
    int rc = cs_ingest_aws_json(e, fd.path, "us-east-1", NULL, &err);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(rc, CS_EPARSE);
    assert_int_equal(err.line, 1);
    assert_int_equal(err.column, 21);
    assert_non_null(strstr(err.message, "string longer than"));
    assert_true(fd.written < fd.total);
    cs_estate_free(e);
    rm_tree(d);
}

static void aws_json__overlong_number_and_deep_nesting_are_errors(void **state)
{
    (void)state;
    cs_estate *e = cs_estate_new();
    cs_error err;
    size_t digits = 2u << 20;
    static const char head[] = "{\"Vpcs\": [], \"Big\": ";
    size_t len = sizeof head - 1 + digits + 1;
    char *buf = malloc(len);
    assert_non_null(buf);
    memcpy(buf, head, sizeof head - 1);
    memset(buf + sizeof head - 1, '7', digits);
    buf[len - 1] = '}';
    int rc = cs_ingest_aws_json_buf(e, "big", buf, len, 1u << 20, "us-east-1",
                                    NULL, NULL, &err);
    assert_int_equal(rc, CS_EPARSE);
    assert_int_equal(err.column, sizeof head);
    assert_non_null(strstr(err.message, "token longer than"));
    free(buf);

    /* 300 nested arrays under an unknown key. */
    char deep[1024];
    size_t n = 0;
    n += (size_t)snprintf(deep, sizeof deep, "{\"Vpcs\": [], \"X\": ");
    for (int i = 0; i < 300; i++)
        deep[n++] = '[';
    for (int i = 0; i < 300; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    rc = cs_ingest_aws_json_buf(e, "deep", deep, n, 0, "us-east-1", NULL,
                                NULL, &err);
    assert_int_equal(rc, CS_EPARSE);
    assert_non_null(strstr(err.message, "nesting deeper"));
    /* CS_AWS_JSON_DEPTH_MAX levels are read (the top object is level 1):
     * the '[' opening level 257, the 256th one, at column 18 + 256,
     * fails. */
    assert_int_equal(err.column, 18 + CS_AWS_JSON_DEPTH_MAX);
    cs_estate_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(aws_json__reads_describe_vpcs_with_attributes),
        cmocka_unit_test(aws_json__primary_block_is_one_association),
        cmocka_unit_test(aws_json__only_associated_and_associating_are_live),
        cmocka_unit_test(aws_json__ignores_unknown_keys_at_any_depth),
        cmocka_unit_test(aws_json__bare_array_elements_by_their_keys),
        cmocka_unit_test(aws_json__reads_peering_connections),
        cmocka_unit_test(aws_json__missing_vpc_id_names_file_line_and_key),
        cmocka_unit_test(aws_json__missing_cidr_in_association_is_an_error),
        cmocka_unit_test(aws_json__missing_pcx_id_is_an_error),
        cmocka_unit_test(aws_json__wrong_type_is_an_error_at_the_value),
        cmocka_unit_test(aws_json__truncated_file_reports_end_of_input),
        cmocka_unit_test(aws_json__nul_byte_is_located),
        cmocka_unit_test(aws_json__invalid_utf8_is_located),
        cmocka_unit_test(aws_json__empty_file_is_an_error),
        cmocka_unit_test(aws_json__not_aws_output_is_an_error),
        cmocka_unit_test(aws_json__duplicate_key_is_an_error),
        cmocka_unit_test(aws_json__describe_vpcs_without_region_suggests_flag),
        cmocka_unit_test(aws_json__host_bits_strict_error_lenient_finding),
        cmocka_unit_test(aws_json__escaped_control_character_in_id_is_refused),
        cmocka_unit_test(aws_json__bom_is_skipped),
        cmocka_unit_test(aws_json__keep_going_counts_rejections),
        cmocka_unit_test(aws_json__keep_going_reads_every_other_file),
        cmocka_unit_test(
            aws_json__peering_seen_from_both_sides_is_one_connection),
        cmocka_unit_test(aws_json__peering_to_unknown_vpc_is_kept_and_reported),
        cmocka_unit_test(aws_json__shared_vpc_seen_by_a_participant_is_one_vpc),
        cmocka_unit_test(aws_json__same_vpc_with_other_content_is_a_conflict),
        cmocka_unit_test(aws_json__directory_without_vpcs_json_is_reported),
        cmocka_unit_test(aws_json__estate_directory_names_are_checked),
        cmocka_unit_test(aws_json__region_names_are_recognised),
        cmocka_unit_test(aws_json__chunk_size_never_changes_the_outcome),
        cmocka_unit_test(aws_json__long_line_column_is_exact),
        cmocka_unit_test(
            aws_json__two_gigabyte_string_is_an_error_not_an_allocation),
        cmocka_unit_test(aws_json__overlong_number_and_deep_nesting_are_errors),
        cmocka_unit_test(aws_json__every_page_file_of_a_region_directory_is_read),
        cmocka_unit_test(aws_json__array_of_pages_is_read_page_by_page),
        cmocka_unit_test(aws_json__region_wrapper_gives_the_region),
        cmocka_unit_test(aws_json__unknown_peering_status_is_not_active),
        cmocka_unit_test(aws_json__unreadable_file_in_a_directory_is_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
