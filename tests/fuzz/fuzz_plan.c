/*
 * tests/fuzz/fuzz_plan.c — libFuzzer target for engine/ingest/plan.c: the
 * what-if plan files (`account,region,vpc_id,cidr`) and the domain files
 * (`DOMAIN,MEMBER`) of `cidrscope audit`.
 *
 * A small estate (three VPCs in two accounts and regions, tags included) is
 * loaded and frozen once as the base both kinds of file are read against.
 * The first input byte picks the kind, the rest is the file, written to a
 * scratch path (both readers take paths). For each input it aborts when:
 *   - a read fails with an inconsistent cs_error: a code outside the
 *     documented ones, no message, or a located error (parse, not found,
 *     conflict) without a source or at a line past the file's last;
 *   - a plan that reads cleanly does not freeze, or freezes into an
 *     estate with fewer VPCs than the base;
 *   - a domain file that reads cleanly yields domains the set cannot list.
 * ASan/UBSan catch every out-of-bounds read on the way.
 *
 * Run: sh tests/fuzz/run.sh BUILD_DIR [SECONDS]; seeds in corpus/plan/.
 */
#include <cidrscope/audit.h>
#include <cidrscope/error.h>
#include <cidrscope/estate.h>
#include <cidrscope/prefix.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FUZZ_NAME "fuzz_plan"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char BASE[] =
    "account,region,vpc_id,cidr,state,is_default,name\n"
    "111111111111,us-east-1,vpc-0aaaaaaaaaaaaaaa1,10.10.0.0/16,associated,false,app\n"
    "111111111111,us-east-1,vpc-0bbbbbbbbbbbbbbb2,10.20.0.0/16,associated,false,egress\n"
    "222222222222,eu-west-1,vpc-0ccccccccccccccc3,10.10.0.0/20,associated,false,shared\n";

static const char *dir;
static cs_snapshot *base;
static uint64_t base_vpcs;

static void close_base(void)
{
    cs_snapshot_close(base);
}

static uint64_t vpcs_of(const cs_snapshot *s)
{
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    return c.vpcs;
}

static void setup(void)
{
    dir = fuzz_scratch_dir();
    atexit(close_base);
    char path[128];
    snprintf(path, sizeof path, "%s/base.csv", dir);
    fuzz_write_file(path, BASE, sizeof BASE - 1);
    cs_estate *e = cs_estate_new();
    REQUIRE(e != NULL);
    cs_load_options o;
    memset(&o, 0, sizeof o);
    cs_error err;
    REQUIRE(cs_estate_load(e, path, &o, &err) == 0);
    REQUIRE(cs_estate_freeze(e, &base, &err) == 0);
    cs_estate_free(e);
    base_vpcs = vpcs_of(base);
    REQUIRE(base_vpcs == 3);
}

static void check_error(int rc, const cs_error *err, uint64_t max_line)
{
    REQUIRE(rc == CS_EPARSE || rc == CS_ENOTFOUND || rc == CS_ECONFLICT || rc == CS_EINVAL ||
            rc == CS_EIO || rc == CS_ENOMEM || rc == CS_ESTATE);
    REQUIRE(err->code == rc);
    REQUIRE(err->message[0] != '\0');
    if (rc == CS_EPARSE || rc == CS_ENOTFOUND) {
        REQUIRE(err->source[0] != '\0');
        REQUIRE(err->line >= 1 && err->line <= max_line);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1u << 18))
        return 0;
    if (!base)
        setup();
    const uint8_t *body = data + 1;
    size_t n = size - 1;
    char path[128];
    snprintf(path, sizeof path, "%s/input.csv", dir);
    fuzz_write_file(path, body, n);
    cs_error err;
    if (data[0] & 1) {
        cs_domain_set *ds = cs_domain_set_new();
        REQUIRE(ds != NULL);
        int rc = cs_domain_set_load(ds, base, path, &err);
        if (rc != 0) {
            check_error(rc, &err, fuzz_lines_in(body, n));
        } else {
            const cs_audit_domain *d = NULL;
            size_t k = 0;
            REQUIRE(cs_domain_set_domains(ds, &d, &k) == 0);
            REQUIRE(k == 0 || d != NULL);
        }
        cs_domain_set_free(ds);
        return 0;
    }
    cs_estate *e = cs_estate_new();
    REQUIRE(e != NULL);
    REQUIRE(cs_estate_thaw(base, e, &err) == 0);
    int rc = cs_plan_load(e, base, path, (data[0] & 2) ? CS_PARSE_LENIENT : 0, &err);
    if (rc < 0) {
        check_error(rc, &err, fuzz_lines_in(body, n));
    } else {
        cs_snapshot *s = NULL;
        rc = cs_estate_freeze(e, &s, &err);
        REQUIRE(rc == 0);
        REQUIRE(vpcs_of(s) >= base_vpcs);
        cs_snapshot_close(s);
    }
    cs_estate_free(e);
    return 0;
}
