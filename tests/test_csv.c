/*
 * tests/test_csv.c — the CSV readers (VPC CIDRs, peering connections, prefix
 * lists) and source detection: the fixtures under tests/fixtures/csv/, every
 * error case with its file, line and column (and a caret), strict vs
 * lenient host bits, keep-going counts, streaming from a descriptor vs
 * memory on the real published-prefix dataset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "support/testutil.h"

#include <cidrscope/estate.h>

#include "ingest/ingest_internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIX CS_SOURCE_DIR "/tests/fixtures/csv/"

static cs_snapshot *freeze(const cs_estate *e)
{
    cs_snapshot *s = NULL;
    cs_error err;
    cs_error_clear(&err);
    if (cs_estate_freeze(e, &s, &err) != 0)
        fail_msg("freeze: %s", err.message);
    return s;
}

static uint32_t vpc_index(const cs_snapshot *s, const char *id)
{
    uint32_t idx = CS_IDX_NONE;
    if (cs_estate_vpc_find(s, id, strlen(id), &idx) != 1)
        fail_msg("VPC %s not found", id);
    return idx;
}

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

static int load(cs_estate *e, const char *path, bool lenient, bool keep_going, cs_error *err)
{
    cs_load_options o = {.lenient = lenient, .keep_going = keep_going};
    cs_error_clear(err);
    return cs_estate_load(e, path, &o, err);
}

/* ---- the fixtures ---------------------------------------------------------- */

/* is_default: every spelling the reader accepts, in any case, against a
 * plain list; anything else (a near miss of each) is an error naming the
 * column. */
static void csv__is_default_spellings(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int want; /* 1 true, 0 false, -1 an error */
    } cases[] = {
        {"true", 1}, {"TRUE", 1}, {"True", 1}, {"yes", 1}, {"YES", 1}, {"1", 1}, {"y", 1},
        {"Y", 1}, {"t", 1}, {"T", 1}, {"false", 0}, {"FALSE", 0}, {"no", 0}, {"No", 0},
        {"0", 0}, {"n", 0}, {"f", 0}, {"F", 0}, {"", 0}, {"tru", -1}, {"truee", -1},
        {"fals", -1}, {"ye", -1}, {"yess", -1}, {"nO2", -1}, {"2", -1}, {"x", -1},
        {"on", -1}, {"off", -1}, {"falsey", -1}, {"yes!", -1}, {"trueish1", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char text[256];
        snprintf(text, sizeof text,
                 "account,region,vpc_id,cidr,is_default\n"
                 "111111111111,us-east-1,vpc-1,10.0.0.0/16,%s\n", cases[i].text);
        cs_estate *e = cs_estate_new();
        cs_error err;
        cs_error_clear(&err);
        int rc = cs_ingest_csv_vpcs(e, "d.csv", text, strlen(text), NULL, &err);
        if (cases[i].want < 0) {
            if (rc != CS_EPARSE || !strstr(err.message, "is_default"))
                fail_msg("'%s': rc %d, %s", cases[i].text, rc, err.message);
        } else {
            if (rc != 0)
                fail_msg("'%s': rc %d, %s", cases[i].text, rc, err.message);
            cs_snapshot *s = freeze(e);
            cs_estate_counts c;
            cs_estate_counts_get(s, &c);
            if (c.default_vpcs != (uint32_t)cases[i].want)
                fail_msg("'%s': %u default VPCs", cases[i].text, c.default_vpcs);
            cs_snapshot_close(s);
        }
        cs_estate_free(e);
    }
}

static void csv__vpc_fixture_reads_every_column(void **state)
{
    (void)state;
    cs_estate *e = cs_estate_new();
    cs_error err;
    assert_int_equal(load(e, FIX "vpcs.csv", false, false, &err), 0);
    cs_snapshot *s = freeze(e);
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    assert_int_equal(c.vpcs, 3);
    assert_int_equal(c.accounts, 2);
    assert_int_equal(c.regions, 2);
    assert_int_equal(c.default_vpcs, 1);
    assert_int_equal(c.live[0], 3);
    assert_int_equal(c.dead[0], 1);
    assert_int_equal(c.live[1], 1);
    cs_vpc v;
    assert_int_equal(cs_estate_vpc(s, vpc_index(s, "vpc-0a1b2c3d4e5f60718"), &v), 0);
    assert_string_equal(v.name, "core, shared"); /* quoted comma; BOM skipped */
    assert_int_equal(v.assoc_count, 3);
    cs_assoc a;
    assert_int_equal(cs_estate_assoc(s, v.assoc_begin, &a), 0);
    assert_true(a.primary); /* the first IPv4 row */
    char buf[CS_PREFIX_STRCAP];
    cs_prefix_format(&a.prefix, buf, sizeof buf);
    assert_string_equal(buf, "10.0.0.0/16");
    assert_int_equal(cs_estate_assoc(s, v.assoc_begin + 1, &a), 0);
    assert_int_equal(a.state, CS_ASSOC_DISASSOCIATED);
    assert_false(a.primary);
    assert_int_equal(cs_estate_vpc(s, vpc_index(s, "vpc-22222222"), &v), 0);
    assert_string_equal(v.name, "say \"hi\""); /* "" escapes */
    assert_false(v.is_default);
    assert_int_equal(cs_estate_assoc(s, v.assoc_begin, &a), 0);
    assert_int_equal(a.state, CS_ASSOC_ASSOCIATING);
    assert_int_equal(cs_estate_vpc(s, vpc_index(s, "vpc-11111111"), &v), 0);
    assert_true(v.is_default);
    assert_int_equal(cs_estate_assoc(s, v.assoc_begin, &a), 0);
    assert_int_equal(a.state, CS_ASSOC_ASSOCIATED); /* empty state column */
    cs_snapshot_close(s);
    cs_estate_free(e);
}

static void csv__peering_fixture_dedupes_and_reports_unknown_vpcs(void **state)
{
    (void)state;
    cs_estate *e = cs_estate_new();
    cs_error err;
    assert_int_equal(load(e, FIX "vpcs.csv", false, false, &err), 0);
    assert_int_equal(load(e, FIX "peerings.csv", false, false, &err), 0);
    cs_snapshot *s = freeze(e);
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    assert_int_equal(c.peerings, 2);
    uint32_t pi;
    assert_int_equal(cs_estate_peering_find(s, "pcx-0001", 8, &pi), 1);
    cs_peering p;
    assert_int_equal(cs_estate_peering(s, pi, &p), 0);
    assert_int_equal(p.status, CS_PCX_ACTIVE);
    assert_int_equal(p.requester.vpc_idx, vpc_index(s, "vpc-0a1b2c3d4e5f60718"));
    assert_int_equal(p.accepter.vpc_idx, vpc_index(s, "vpc-11111111"));
    assert_int_equal(cs_estate_peering_find(s, "pcx-0002", 8, &pi), 1);
    assert_int_equal(cs_estate_peering(s, pi, &p), 0);
    assert_int_equal(p.accepter.vpc_idx, CS_IDX_NONE);
    assert_int_equal(count_findings(s, CS_FINDING_UNKNOWN_VPC), 1);
    cs_snapshot_close(s);
    cs_estate_free(e);
}

static void csv__prefix_lists_make_pseudo_vpcs(void **state)
{
    (void)state;
    cs_estate *e = cs_estate_new();
    cs_error err;
    assert_int_equal(load(e, FIX "prefixes.csv", false, false, &err), 0);
    assert_int_equal(load(e, FIX "providers.csv", false, false, &err), 0);
    cs_snapshot *s = freeze(e);
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    assert_int_equal(c.vpcs, 4); /* acme, example, amazon, google */
    assert_int_equal(c.pseudo_vpcs, 4);
    assert_int_equal(c.live[0], 5);
    assert_int_equal(c.live[1], 2);
    assert_int_equal(c.findings, 0); /* no AWS checks on pseudo-VPCs */
    /* Who owns 198.51.100.7 (a bare address: a /32)? And 3.5.141.9? */
    const struct { const char *addr, *owner; } who[] = {
        {"198.51.100.7", "acme"}, {"3.5.141.9", "amazon"}, {"2001:db8::1", "example"},
        {"2600:1f00::1", "amazon"}};
    for (size_t i = 0; i < sizeof who / sizeof *who; i++) {
        cs_prefix q;
        assert_int_equal(cs_address_parse(who[i].addr, strlen(who[i].addr), 0, &q, NULL), 0);
        cs_match m;
        assert_int_equal(cs_lookup(s, &q, &m), 1);
        cs_vpc v;
        cs_account a;
        assert_int_equal(cs_estate_vpc(s, cs_estate_assoc_vpc(s, m.values[0]), &v), 0);
        assert_true(v.pseudo);
        assert_string_equal(v.id, who[i].owner);
        assert_int_equal(cs_estate_account(s, v.account_idx, &a), 0);
        assert_string_equal(a.id, who[i].owner);
        assert_true(a.flags & CS_ACCOUNT_PSEUDO);
    }
    cs_snapshot_close(s);
    cs_estate_free(e);
}

/* ---- errors: file, line, column, caret ---------------------------------------- */

typedef struct err_case {
    const char *name;
    int shape;            /* 0 VPCs, 1 peerings, 2 prefix list */
    const char *text;
    size_t len;           /* 0 = strlen */
    int code;
    uint64_t line;
    uint32_t column;
    const char *msg;      /* substring */
} err_case;

#define VH "account,region,vpc_id,cidr,state,is_default\n"
#define VH_LEN (sizeof VH - 1)

static int run_shape(cs_estate *e, int shape, const char *src, const char *text, size_t len,
                     const cs_load_options *o, cs_error *err)
{
    switch (shape) {
    case 0: return cs_ingest_csv_vpcs(e, src, text, len, o, err);
    case 1: return cs_ingest_csv_peerings(e, src, text, len, o, err);
    default: return cs_ingest_prefix_list(e, src, text, len, o, err);
    }
}

static void csv__errors_name_file_line_and_column(void **state)
{
    (void)state;
    static const err_case cases[] = {
        {"host bits (strict)", 0, VH "111111111111,us-east-1,vpc-1,10.0.0.1/16\n", 0, CS_EPARSE,
         2, 30, "host bits"},
        {"bad CIDR", 0, VH "111111111111,us-east-1,vpc-1,10.0.0.256/16\n", 0, CS_EPARSE, 2, 37,
         "bad CIDR"},
        {"short account", 0, VH "11111,us-east-1,vpc-1,10.0.0.0/16\n", 0, CS_EINVAL, 2, 1,
         "12-digit"},
        {"unknown state", 0, VH "111111111111,us-east-1,vpc-1,10.0.0.0/16,gone\n", 0, CS_EPARSE,
         2, 42, "unknown CIDR state"},
        {"bad is_default", 0, VH "111111111111,us-east-1,vpc-1,10.0.0.0/16,,maybe\n", 0,
         CS_EPARSE, 2, 43, "is_default"},
        {"quote inside a field", 0, VH "111111111111,us\"east,vpc-1,10.0.0.0/16\n", 0, CS_EPARSE,
         2, 16, "quote inside"},
        {"junk after a quote", 0, VH "111111111111,\"us-east-1\"x,vpc-1,10.0.0.0/16\n", 0,
         CS_EPARSE, 2, 25, "after a closing quote"},
        {"quote never closed", 0, VH "111111111111,us-east-1,\"vpc-1,10.0.0.0/16\nnext,line\n", 0,
         CS_EPARSE, 2, 24, "never closed"},
        {"NUL byte", 0, VH "111111111111,us-east-1,vpc\0-1,10.0.0.0/16\n", VH_LEN + 41,
         CS_EPARSE, 2, 27, "NUL"},
        {"invalid UTF-8", 0, VH "111111111111,us-east-1,vpc-\xc3\x28,10.0.0.0/16\n", 0,
         CS_EPARSE, 2, 28, "UTF-8"},
        {"overlong UTF-8", 0, VH "111111111111,us-east-1,vpc-\xe0\x80\xaf,10.0.0.0/16\n", 0,
         CS_EPARSE, 2, 28, "UTF-8"},
        {"short row", 0, VH "111111111111,us-east-1,vpc-1\n", 0, CS_EPARSE, 2, 1, "missing"},
        {"newline in a name", 0,
         "account,region,vpc_id,cidr,name\n111111111111,us-east-1,vpc-1,10.0.0.0/16,\"a\nb\"\n", 0,
         CS_EINVAL, 2, 43, "control byte"},
        {"empty CIDR", 0, VH "111111111111,us-east-1,vpc-1,\n", 0, CS_EPARSE, 2, 30, "empty"},
        {"no header", 0, "111111111111,us-east-1,vpc-1,10.0.0.0/16\n", 0, CS_EPARSE, 1, 1,
         "header"},
        {"column twice", 0, "account,region,vpc_id,cidr,VpcId\n", 0, CS_EPARSE, 1, 28, "twice"},
        {"empty file", 0, "", 0, CS_EPARSE, 1, 1, "empty file"},
        {"VPC conflict", 0,
         VH "111111111111,us-east-1,vpc-1,10.0.0.0/16\n222222222222,us-east-1,vpc-1,10.1.0.0/16\n",
         0, CS_ECONFLICT, 3, 1, "mem.csv:2:"},
        {"third line after CRLF", 0,
         "account,region,vpc_id,cidr\r\n111111111111,us-east-1,vpc-1,10.0.0.0/16\r\n"
         "111111111111,us-east-1,vpc-2,10.0.0.0/33\r\n",
         0, CS_EPARSE, 3, 39, "bad CIDR"},
        {"line inside a quoted field", 0,
         "account,region,vpc_id,cidr,notes\n111111111111,us-east-1,vpc-1,10.0.0.0/16,\"two\n"
         "lines\"\n111111111111,us-east-1,vpc-2,bad\n",
         0, CS_EPARSE, 4, 30, "bad CIDR"},
        {"unknown status", 1, "pcx_id,requester_vpc,accepter_vpc,status\npcx-1,vpc-1,vpc-2,up\n",
         0, CS_EPARSE, 2, 19, "unknown peering status"},
        {"peering header", 1, "pcx_id,requester_vpc,status\n", 0, CS_EPARSE, 1, 1,
         "accepter_vpc"},
        {"requester account", 1,
         "pcx_id,requester_vpc,accepter_vpc,status,requester_account\n"
         "pcx-1,vpc-1,vpc-2,active,42\n",
         0, CS_EINVAL, 2, 26, "12-digit"},
        {"family mismatch", 2, "provider,family,prefix\namazon,ipv6,3.5.140.0/22\n", 0, CS_EPARSE,
         2, 13, "family"},
        {"unknown family", 2, "provider,family,prefix\namazon,ipx,3.5.140.0/22\n", 0, CS_EPARSE,
         2, 8, "family"},
        {"list: one column", 2, "acme,203.0.113.0/24\nacme\n", 0, CS_EPARSE, 2, 1, "fields"},
        {"list: bad prefix", 2, "acme,203.0.113.0/24\nacme,203.0.113.0/99\n", 0, CS_EPARSE, 2,
         18, "bad CIDR"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const err_case *k = &cases[i];
        cs_estate *e = cs_estate_new();
        cs_error err;
        cs_error_clear(&err);
        size_t len = k->len ? k->len : strlen(k->text);
        int rc = run_shape(e, k->shape, "mem.csv", k->text, len, NULL, &err);
        if (rc != k->code || err.line != k->line || err.column != k->column ||
            !strstr(err.message, k->msg) || strcmp(err.source, "mem.csv") != 0)
            fail_msg("case '%s': rc %d line %llu col %u source '%s' msg '%s' (want %d %llu:%u '%s')",
                     k->name, rc, (unsigned long long)err.line, err.column, err.source,
                     err.message, k->code, (unsigned long long)k->line, k->column, k->msg);
        /* A caret under the offending text whenever there is a line. */
        char buf[1024];
        cs_error_format(&err, buf, sizeof buf);
        if (len && k->line && !strstr(buf, "^"))
            fail_msg("case '%s': no caret in\n%s", k->name, buf);
        cs_estate_free(e);
    }
}

/* A 2 MB line: an error at the column where the record limit is passed, and
 * with keep-going the rest of the file is still read. */
static void csv__huge_line_is_an_error_with_its_location(void **state)
{
    (void)state;
    size_t big = 2u << 20;
    const char *head = VH "111111111111,us-east-1,vpc-1,10.0.0.0/16\n111111111111,us-east-1,vpc-";
    const char *tail = ",10.1.0.0/16\n111111111111,us-east-1,vpc-3,10.3.0.0/16\n";
    size_t hl = strlen(head), tl = strlen(tail);
    char *text = malloc(hl + big + tl);
    memcpy(text, head, hl);
    memset(text + hl, 'x', big);
    memcpy(text + hl + big, tail, tl);
    size_t len = hl + big + tl;

    for (int via_fd = 0; via_fd < 2; via_fd++) {
        cs_estate *e = cs_estate_new();
        cs_error err;
        cs_error_clear(&err);
        char path[] = "/tmp/cs_csv_XXXXXX";
        int fd = -1;
        if (via_fd) {
            fd = mkstemp(path);
            assert_true(fd >= 0);
            assert_int_equal(write(fd, text, len), (ssize_t)len);
            lseek(fd, 0, SEEK_SET);
        }
        int rc = via_fd ? cs_ingest_csv_fd(e, path, fd, CS_SRC_CSV_VPCS, NULL, &err)
                        : cs_ingest_csv_vpcs(e, "mem.csv", text, len, NULL, &err);
        assert_int_equal(rc, CS_EPARSE);
        assert_non_null(strstr(err.message, "longer than"));
        assert_int_equal(err.line, 3);
        assert_true(err.column > (1u << 20) && err.column < (1u << 20) + 2);
        if (via_fd)
            lseek(fd, 0, SEEK_SET);
        cs_load_options o = {.keep_going = true};
        cs_estate_free(e);
        e = cs_estate_new();
        rc = via_fd ? cs_ingest_csv_fd(e, path, fd, CS_SRC_CSV_VPCS, &o, &err)
                    : cs_ingest_csv_vpcs(e, "mem.csv", text, len, &o, &err);
        assert_int_equal(rc, 1);
        cs_estate_counts c;
        cs_estate_build_counts(e, &c);
        assert_int_equal(c.vpcs, 2); /* vpc-1 and vpc-3 */
        assert_int_equal(c.rejected, 1);
        if (via_fd) {
            close(fd);
            unlink(path);
        }
        cs_estate_free(e);
    }
    free(text);
}

static void csv__lenient_clears_host_bits_with_a_finding(void **state)
{
    (void)state;
    const char *text = VH "111111111111,us-east-1,vpc-1,10.0.0.1/16\n";
    cs_estate *e = cs_estate_new();
    cs_error err;
    cs_error_clear(&err);
    cs_load_options o = {.lenient = true};
    assert_int_equal(cs_ingest_csv_vpcs(e, "in.csv", text, strlen(text), &o, &err), 0);
    cs_snapshot *s = freeze(e);
    cs_assoc a;
    assert_int_equal(cs_estate_assoc(s, 0, &a), 0);
    char buf[CS_PREFIX_STRCAP];
    cs_prefix_format(&a.prefix, buf, sizeof buf);
    assert_string_equal(buf, "10.0.0.0/16");
    assert_int_equal(count_findings(s, CS_FINDING_HOST_BITS), 1);
    cs_finding f;
    assert_int_equal(cs_estate_finding(s, 0, &f), 0);
    assert_string_equal(f.source, "in.csv");
    assert_int_equal(f.line, 2);
    assert_int_equal(f.column, 30);
    assert_non_null(strstr(f.message, "10.0.0.1/16"));
    cs_snapshot_close(s);
    cs_estate_free(e);
}

static void csv__keep_going_reads_everything_else(void **state)
{
    (void)state;
    const char *text = VH "111111111111,us-east-1,vpc-1,10.0.0.0/16\n"
                          "111111111111,us-east-1,vpc-2,10.0.0.1/16\n"   /* host bits */
                          "111111111111,us-east-1,vpc-3,10.3.0.0/16\n"
                          "1,us-east-1,vpc-4,10.4.0.0/16\n"               /* account */
                          "111111111111,us-east-1,vpc-5,10.5.0.0/16,nope\n" /* state */
                          "111111111111,us-east-1,vpc-6,10.6.0.0/16\n";
    cs_estate *e = cs_estate_new();
    cs_error err;
    cs_error_clear(&err);
    cs_load_options o = {.keep_going = true};
    assert_int_equal(cs_ingest_csv_vpcs(e, "in.csv", text, strlen(text), &o, &err), 3);
    cs_snapshot *s = freeze(e);
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    assert_int_equal(c.vpcs, 3);
    assert_int_equal(c.rejected, 3);
    uint64_t lines[3] = {0};
    unsigned n = 0;
    for (uint32_t i = 0; i < c.findings; i++) {
        cs_finding f;
        assert_int_equal(cs_estate_finding(s, i, &f), 0);
        if (strcmp(f.kind, CS_FINDING_REJECTED) == 0 && n < 3) {
            assert_string_equal(f.source, "in.csv");
            lines[n++] = f.line;
        }
    }
    assert_int_equal(lines[0], 3);
    assert_int_equal(lines[1], 5);
    assert_int_equal(lines[2], 6);
    cs_snapshot_close(s);
    cs_estate_free(e);
    /* A file whose header is wrong is one rejected source. */
    e = cs_estate_new();
    assert_int_equal(cs_ingest_csv_vpcs(e, "bad.csv", "a,b\n1,2\n", 8, &o, &err), 1);
    cs_estate_free(e);
}

/* ---- detection and loading ----------------------------------------------------- */

static void write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
}

static void csv__detect_names_every_kind(void **state)
{
    (void)state;
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_estate_detect(FIX "vpcs.csv", &err), CS_SRC_CSV_VPCS);
    assert_int_equal(cs_estate_detect(FIX "peerings.csv", &err), CS_SRC_CSV_PEERINGS);
    assert_int_equal(cs_estate_detect(FIX "prefixes.csv", &err), CS_SRC_PREFIX_LIST);
    assert_int_equal(cs_estate_detect(FIX "providers.csv", &err), CS_SRC_PREFIX_LIST);
    assert_int_equal(cs_estate_detect(FIX, &err), CS_SRC_DIR);
    char dir[] = "/tmp/cs_detect_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/v.json", dir);
    write_file(path, "\xef\xbb\xbf  \n{\"Vpcs\": []}", 18);
    assert_int_equal(cs_estate_detect(path, &err), CS_SRC_AWS_JSON);
    snprintf(path, sizeof path, "%s/empty", dir);
    write_file(path, "", 0);
    assert_int_equal(cs_estate_detect(path, &err), CS_EPARSE);
    assert_non_null(strstr(err.message, "empty"));
    cs_estate *e = cs_estate_new();
    /* An empty file is bad input; with keep-going it is one rejected file. */
    assert_int_equal(load(e, path, false, false, &err), CS_EPARSE);
    assert_int_equal(load(e, path, false, true, &err), 1);
    snprintf(path, sizeof path, "%s/s.snap", dir);
    {
        cs_snapshot *s = freeze(e);
        assert_int_equal(cs_snapshot_write(s, path, &err), 0);
        cs_snapshot_close(s);
    }
    assert_int_equal(cs_estate_detect(path, &err), CS_SRC_SNAPSHOT);
    assert_int_equal(load(e, path, false, false, &err), CS_EINVAL);
    assert_non_null(strstr(err.message, "snapshot"));
    /* A path that does not exist is bad input (exit 2), named once. */
    assert_int_equal(cs_estate_detect("/nonexistent/x.csv", &err), CS_EINVAL);
    assert_string_equal(err.source, "/nonexistent/x.csv");
    assert_null(strstr(err.message, "/nonexistent"));
    assert_non_null(strstr(err.message, "No such file"));
    assert_int_equal(load(e, "/nonexistent/x.csv", false, true, &err), CS_EINVAL);
    cs_estate_free(e);
    snprintf(path, sizeof path, "%s/v.json", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/empty", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/s.snap", dir);
    unlink(path);
    rmdir(dir);
}

/* The real published prefixes (provider,family,prefix), streamed from a
 * descriptor and from memory: the same estate; every provider a pseudo-VPC. */
static void csv__real_prefix_dataset_stream_equals_memory(void **state)
{
    (void)state;
    cs_ingest_file f;
    cs_error err;
    cs_error_clear(&err);
    if (cs_ingest_file_read(CS_SHARED_PREFIXES, 0, &f, &err) != 0) {
        print_message("skipped: %s\n", err.message);
        skip();
    }
    cs_estate *a = cs_estate_new(), *b = cs_estate_new();
    int ra = cs_ingest_prefix_list(a, CS_SHARED_PREFIXES, f.data, f.len, NULL, &err);
    if (ra < 0)
        fail_msg("%s:%llu:%u: %s", err.source, (unsigned long long)err.line, err.column,
                 err.message);
    int fd = open(CS_SHARED_PREFIXES, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(cs_ingest_csv_fd(b, CS_SHARED_PREFIXES, fd, CS_SRC_PREFIX_LIST, NULL, &err), 0);
    close(fd);
    size_t lines = 0;
    for (size_t i = 0; i < f.len; i++)
        lines += f.data[i] == '\n';
    cs_snapshot *sa = freeze(a), *sb = freeze(b);
    cs_estate_counts ca, cb;
    cs_estate_counts_get(sa, &ca);
    cs_estate_counts_get(sb, &cb);
    assert_memory_equal(&ca, &cb, sizeof ca);
    assert_int_equal(ca.pseudo_vpcs, ca.vpcs);
    assert_true(ca.assocs > 0 && ca.assocs <= lines - 1);
    for (uint32_t i = 0; i < ca.assocs; i++) {
        cs_assoc x, y;
        assert_int_equal(cs_estate_assoc(sa, i, &x), 0);
        assert_int_equal(cs_estate_assoc(sb, i, &y), 0);
        assert_int_equal(cs_prefix_compare(&x.prefix, &y.prefix), 0);
        assert_int_equal(x.vpc_idx, y.vpc_idx);
    }
    cs_snapshot_close(sa);
    cs_snapshot_close(sb);
    cs_estate_free(a);
    cs_estate_free(b);
    cs_ingest_file_free(&f);
}

static void csv__ingest_locate_counts_lines_and_columns(void **state)
{
    (void)state;
    const char *buf = "line one\nline two has it\nthree";
    cs_error err;
    cs_error_clear(&err);
    cs_ingest_locate(&err, "f.json", buf, strlen(buf), 22, 3);
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 14);
    assert_int_equal(err.offset, 22);
    assert_string_equal(err.text, "line two has it");
    assert_string_equal(err.source, "f.json");
    cs_ingest_locate(&err, "f.json", buf, strlen(buf), 999, 1);
    assert_int_equal(err.line, 3);
    assert_int_equal(err.column, 6);
}

/* ---- deduplication against a brute-force reading ----------------------------- */

/* The builder finds a row's (VPC, prefix) in the run of its VPC (a VPC new
 * to the estate), or in the lazily caught-up index (a VPC seen before, a run
 * past 16 rows). Random rows: runs of new VPCs, revisits of old ones, long
 * runs of one VPC, duplicates inside and across runs, states that merge
 * (empty) or conflict; the estate must hold exactly what a brute-force
 * reading of the rows keeps (one association per (VPC, prefix), its state
 * the first one given, primary for the first IPv4 row of a new VPC) and
 * reject exactly the conflicting rows. */
#define DD_VPCS 64
#define DD_PREFIXES 48

typedef struct dd_assoc {
    bool seen;
    uint8_t state;
    bool primary;
} dd_assoc;

static void dd_prefix_text(unsigned k, char *buf, size_t cap)
{
    if (k < 40)
        snprintf(buf, cap, "10.%u.0.0/16", k);
    else
        snprintf(buf, cap, "2600:1f13:0:%x00::/56", k - 39);
}

static void csv__vpc_rows_dedupe_equals_brute_force(void **state)
{
    (void)state;
    static const char *const states[] = {"", "associated", "disassociated", "associating"};
    static const uint8_t state_code[] = {CS_ASSOC_UNSPECIFIED, CS_ASSOC_ASSOCIATED,
                                         CS_ASSOC_DISASSOCIATED, CS_ASSOC_ASSOCIATING};
    uint64_t seed = tu_seed("csv__vpc_rows_dedupe_equals_brute_force", 1414);
    for (unsigned round = 0; round < 40; round++) {
        tu_rng rng = {seed + round};
        static dd_assoc model[DD_VPCS][DD_PREFIXES];
        memset(model, 0, sizeof model);
        bool vpc_seen[DD_VPCS] = {false};
        char vname[DD_VPCS][16];
        unsigned nvpc = 0;
        int rejected = 0;
        size_t cap = 1u << 18, len = 0;
        char *text = malloc(cap);
        assert_non_null(text);
        len += (size_t)snprintf(text + len, cap - len, "account,region,vpc_id,cidr,state,name\n");
        while (len < cap - 8192) {
            /* A new VPC while there are some left, else (and 30% of the
             * time) a revisit of an earlier one. */
            unsigned v = nvpc < DD_VPCS && (nvpc == 0 || tu_below(&rng, 10) < 7)
                             ? nvpc++
                             : (unsigned)tu_below(&rng, nvpc);
            bool long_run = tu_below(&rng, 10) == 0;
            unsigned rows = long_run ? 17 + (unsigned)tu_below(&rng, 30)
                                     : 1 + (unsigned)tu_below(&rng, 4);
            for (unsigned i = 0; i < rows; i++) {
                unsigned k = (unsigned)tu_below(&rng, long_run ? DD_PREFIXES : 8);
                if (tu_below(&rng, 6) == 0)
                    k = 40 + (unsigned)tu_below(&rng, 8); /* an IPv6 block */
                unsigned st = (unsigned)tu_below(&rng, 4);
                char pfx[64], name[16];
                dd_prefix_text(k, pfx, sizeof pfx);
                /* The VPC's name, none, or (a conflict) another one. */
                unsigned nm = (unsigned)tu_below(&rng, 20);
                if (nm == 0)
                    name[0] = '\0';
                else
                    snprintf(name, sizeof name, nm == 1 ? "other" : "n%u", v);
                len += (size_t)snprintf(text + len, cap - len,
                                        "1000000000%02u,us-east-1,vpc-%08x,%s,%s,%s\n", v % 100,
                                        0x5000u + v, pfx, states[st], name);
                /* The brute-force reading of this row. */
                bool fresh = !vpc_seen[v];
                vpc_seen[v] = true;
                if (fresh) {
                    snprintf(vname[v], sizeof vname[v], "%s", name);
                } else if (name[0] && vname[v][0] && strcmp(name, vname[v]) != 0) {
                    rejected++; /* the VPC seen with another name */
                    continue;
                } else if (!vname[v][0]) {
                    snprintf(vname[v], sizeof vname[v], "%s", name);
                }
                dd_assoc *m = &model[v][k];
                if (!m->seen) {
                    m->seen = true;
                    m->state = state_code[st];
                    m->primary = fresh && k < 40;
                } else if (state_code[st] && m->state && state_code[st] != m->state) {
                    rejected++;
                } else if (!m->state) {
                    m->state = state_code[st];
                }
            }
        }
        cs_estate *e = cs_estate_new();
        cs_load_options o = {.keep_going = true};
        cs_error err;
        cs_error_clear(&err);
        int rc = cs_ingest_csv_vpcs(e, "dd.csv", text, len, &o, &err);
        if (rc != rejected)
            fail_msg("seed %llu round %u: %d rejected rows, brute force %d (%s)",
                     (unsigned long long)seed, round, rc, rejected, err.message);
        cs_snapshot *s = freeze(e);
        for (unsigned v = 0; v < nvpc; v++) {
            char id[32];
            snprintf(id, sizeof id, "vpc-%08x", 0x5000u + v);
            cs_vpc vp;
            assert_int_equal(cs_estate_vpc(s, vpc_index(s, id), &vp), 0);
            if (strcmp(vp.name, vname[v]) != 0)
                fail_msg("seed %llu round %u: %s named '%s', brute force '%s'",
                         (unsigned long long)seed, round, id, vp.name, vname[v]);
            unsigned want = 0;
            for (unsigned k = 0; k < DD_PREFIXES; k++)
                want += model[v][k].seen;
            if (vp.assoc_count != want)
                fail_msg("seed %llu round %u: %s has %u associations, brute force %u",
                         (unsigned long long)seed, round, id, vp.assoc_count, want);
            for (uint32_t i = 0; i < vp.assoc_count; i++) {
                cs_assoc a;
                assert_int_equal(cs_estate_assoc(s, vp.assoc_begin + i, &a), 0);
                char got[CS_PREFIX_STRCAP];
                cs_prefix_format(&a.prefix, got, sizeof got);
                unsigned k = 0;
                char pfx[64];
                for (; k < DD_PREFIXES; k++) {
                    dd_prefix_text(k, pfx, sizeof pfx);
                    if (strcmp(pfx, got) == 0)
                        break;
                }
                assert_true(k < DD_PREFIXES && model[v][k].seen);
                uint8_t st = model[v][k].state ? model[v][k].state : CS_ASSOC_ASSOCIATED;
                if (a.state != st || a.primary != model[v][k].primary)
                    fail_msg("seed %llu round %u: %s %s state %u primary %d, brute force %u %d",
                             (unsigned long long)seed, round, id, got, a.state, a.primary, st,
                             model[v][k].primary);
            }
        }
        cs_snapshot_close(s);
        cs_estate_free(e);
        free(text);
    }
}

/* The builder's string check reads eight bytes at a time: every byte value
 * at every position of a 1..24-byte VPC name (words whole, split, and the
 * tail) is refused exactly when it is a control byte, at its byte. */
static void csv__builder_string_check_equals_brute_force(void **state)
{
    (void)state;
    cs_estate *e = cs_estate_new();
    assert_non_null(e);
    for (unsigned n = 1; n <= 24; n++) {
        for (unsigned k = 0; k < n; k++) {
            for (unsigned c = 1; c < 256; c++) {
                char name[32];
                memset(name, 'a', n);
                name[k] = (char)c;
                if (k + 1 < n && c >= 0x80)
                    name[k + 1] = (char)0xff; /* a high byte beside it */
                cs_vpc_desc d = {.id = {"vpc-00000001", 12}, .owner = {"123456789012", 12},
                                 .region = {"us-east-1", 9}, .name = {name, n}};
                cs_error err;
                cs_error_clear(&err);
                int rc = cs_estate_add_vpc(e, &d, NULL, &err);
                bool bad = c < 0x20 || c == 0x7f;
                if (bad) {
                    char want[96];
                    snprintf(want, sizeof want, "control byte 0x%02x at byte %u", c, k + 1);
                    if (rc != CS_EINVAL || !strstr(err.message, want))
                        fail_msg("byte 0x%02x at %u of %u: rc %d '%s'", c, k + 1, n, rc,
                                 err.message);
                } else if (rc < 0 && rc != CS_ECONFLICT) {
                    fail_msg("byte 0x%02x at %u of %u refused: %s", c, k + 1, n, err.message);
                }
            }
        }
    }
    cs_estate_free(e);
}

/* The reader's one-pass path (a whole plain line: no quote, CR, NUL or
 * non-ASCII byte, fields split eight bytes at a time) against the general
 * scanner: the same random rows read once as they are, and once with a
 * quoted last field added, which sends every line to the general scanner;
 * the extra column is unknown, so ignored. Both readings must keep and
 * reject the same rows, stop at the same first error (line, column, caret,
 * message) and build the same estate. */
static char dd_pick(tu_rng *r, const char *alphabet)
{
    return alphabet[tu_below(r, strlen(alphabet))];
}

static void dd_field(tu_rng *r, char *out, size_t *len, const char *body, const char *alphabet)
{
    if (tu_below(r, 4) == 0)
        out[(*len)++] = tu_below(r, 2) ? ' ' : '\t';
    size_t n = strlen(body);
    memcpy(out + *len, body, n);
    *len += n;
    for (unsigned i = 0, extra = !*alphabet || tu_below(r, 3) ? 0 : (unsigned)tu_below(r, 12);
         i < extra; i++)
        out[(*len)++] = dd_pick(r, alphabet);
    if (tu_below(r, 4) == 0)
        out[(*len)++] = tu_below(r, 2) ? ' ' : '\t';
}

static void csv__one_pass_lines_equal_general_scanner(void **state)
{
    (void)state;
    static const char *const cidrs[] = {"10.0.0.0/16", "10.1.0.0/16", "10.0.0.0/24",
                                        "2600:1f13::/56", "10.0.0.1/16", "300.0.0.0/8"};
    static const char *const states[] = {"associated", "", "disassociated", "bogus"};
    static const char *const bools[] = {"true", "false", "", "maybe"};
    uint64_t seed = tu_seed("csv__one_pass_lines_equal_general_scanner", 808);
    for (unsigned round = 0; round < 60; round++) {
        tu_rng rng = {seed + round};
        size_t cap = 1u << 16;
        char *a = malloc(cap), *b = malloc(cap);
        assert_non_null(a);
        assert_non_null(b);
        size_t la = 0, lb = 0;
        const char *hdr = "account,region,vpc_id,cidr,state,is_default,name";
        la = (size_t)snprintf(a, cap, "%s\n", hdr);
        lb = (size_t)snprintf(b, cap, "%s,extra\n", hdr);
        for (unsigned row = 0; row < 200; row++) {
            char line[512], body[64];
            size_t n = 0;
            snprintf(body, sizeof body, "1234567890%02u", (unsigned)tu_below(&rng, 3));
            dd_field(&rng, line, &n, body, "0123456789");
            line[n++] = ',';
            dd_field(&rng, line, &n, tu_below(&rng, 2) ? "us-east-1" : "eu-west-1", "");
            line[n++] = ',';
            snprintf(body, sizeof body, "vpc-%02x", (unsigned)tu_below(&rng, 40));
            dd_field(&rng, line, &n, body, "abc");
            line[n++] = ',';
            dd_field(&rng, line, &n, cidrs[tu_below(&rng, 6)], "");
            line[n++] = ',';
            dd_field(&rng, line, &n, states[tu_below(&rng, 4)], "");
            line[n++] = ',';
            dd_field(&rng, line, &n, bools[tu_below(&rng, 4)], "");
            line[n++] = ',';
            /* names: letters, inner blanks, a control byte now and then */
            size_t ns = n;
            dd_field(&rng, line, &n, "", "abcdefgh ijk\t-_.\x01\"\r\xc3");
            /* A quote opening the field, or a CR ending the line, would
             * change what the added field means: not those. */
            while (ns < n && (line[ns] == ' ' || line[ns] == '\t'))
                ns++;
            if (ns < n && line[ns] == '"')
                line[ns] = 'y';
            if (line[n - 1] == '\r')
                line[n - 1] = 'z';
            bool more = tu_below(&rng, 10) == 0;
            if (more)
                line[n++] = ','; /* one field too many: ignored */
            assert_true(la + n + 2 < cap && lb + n + 8 < cap);
            memcpy(a + la, line, n);
            la += n;
            a[la++] = '\n';
            memcpy(b + lb, line, n);
            lb += n;
            if (!more)
                b[lb++] = ',';
            memcpy(b + lb, "\"q\"\n", 4);
            lb += 4;
        }
        for (int kg = 0; kg < 2; kg++) {
            cs_estate *ea = cs_estate_new(), *eb = cs_estate_new();
            cs_load_options o = {.keep_going = kg == 1};
            cs_error erra, errb;
            cs_error_clear(&erra);
            cs_error_clear(&errb);
            int ra = cs_ingest_csv_vpcs(ea, "dd.csv", a, la, &o, &erra);
            int rb = cs_ingest_csv_vpcs(eb, "dd.csv", b, lb, &o, &errb);
            if (ra != rb || erra.line != errb.line || erra.column != errb.column ||
                strcmp(erra.message, errb.message) != 0 ||
                strncmp(erra.text, errb.text, strlen(erra.text)) != 0) /* + ,"q" */
                fail_msg("seed %llu round %u: one pass %d at %llu:%u '%s', general %d at "
                         "%llu:%u '%s'",
                         (unsigned long long)seed, round, ra, (unsigned long long)erra.line,
                         erra.column, erra.message, rb, (unsigned long long)errb.line,
                         errb.column, errb.message);
            if (kg == 1) {
                cs_snapshot *sa = freeze(ea), *sb = freeze(eb);
                cs_estate_counts ca, cb;
                cs_estate_counts_get(sa, &ca);
                cs_estate_counts_get(sb, &cb);
                assert_int_equal(ca.vpcs, cb.vpcs);
                assert_int_equal(ca.accounts, cb.accounts);
                assert_int_equal(ca.live[0], cb.live[0]);
                assert_int_equal(ca.live[1], cb.live[1]);
                assert_int_equal(ca.dead[0], cb.dead[0]);
                assert_int_equal(ca.findings, cb.findings);
                for (uint32_t v = 0; v < ca.vpcs; v++) {
                    cs_vpc va, vb;
                    assert_int_equal(cs_estate_vpc(sa, v, &va), 0);
                    assert_int_equal(cs_estate_vpc(sb, v, &vb), 0);
                    assert_string_equal(va.id, vb.id);
                    assert_string_equal(va.name, vb.name);
                    assert_int_equal(va.is_default, vb.is_default);
                    assert_int_equal(va.assoc_count, vb.assoc_count);
                }
                cs_snapshot_close(sa);
                cs_snapshot_close(sb);
            }
            cs_estate_free(ea);
            cs_estate_free(eb);
        }
        free(a);
        free(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csv__is_default_spellings),
        cmocka_unit_test(csv__vpc_fixture_reads_every_column),
        cmocka_unit_test(csv__peering_fixture_dedupes_and_reports_unknown_vpcs),
        cmocka_unit_test(csv__prefix_lists_make_pseudo_vpcs),
        cmocka_unit_test(csv__errors_name_file_line_and_column),
        cmocka_unit_test(csv__huge_line_is_an_error_with_its_location),
        cmocka_unit_test(csv__lenient_clears_host_bits_with_a_finding),
        cmocka_unit_test(csv__keep_going_reads_everything_else),
        cmocka_unit_test(csv__detect_names_every_kind),
        cmocka_unit_test(csv__real_prefix_dataset_stream_equals_memory),
        cmocka_unit_test(csv__ingest_locate_counts_lines_and_columns),
        cmocka_unit_test(csv__vpc_rows_dedupe_equals_brute_force),
        cmocka_unit_test(csv__builder_string_check_equals_brute_force),
        cmocka_unit_test(csv__one_pass_lines_equal_general_scanner),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
