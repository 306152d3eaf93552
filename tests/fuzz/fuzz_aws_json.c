/*
 * tests/fuzz/fuzz_aws_json.c — libFuzzer target for engine/ingest/aws_json.c
 * (AWS CLI describe-vpcs / describe-vpc-peering-connections JSON).
 *
 * Input: byte 0 picks the options (bit 0 keep-going, bit 1 lenient, bit 2
 * no region, bit 3 a default account) and bits 4..7 a read size (1 << k
 * bytes, or the whole input for 0); the rest is the JSON text, read through
 * cs_ingest_aws_json_buf. It aborts when:
 *   - the status is not a CS_E* code, or a failure's cs_error is
 *     inconsistent (code, empty message, no source, a parse error without a
 *     line, a caret column outside the copied text, an offset past the
 *     input), or cs_error_format overflows an exactly sized buffer (ASan);
 *   - with keep-going the load fails (only a dead builder may stop it) or
 *     the count returned is not the builder's count of rejections;
 *   - the outcome (status, line, column, message, counts) depends on the
 *     read size: the same text read whole and in the picked size must agree
 *     (the prescan and the line counter carry state across reads);
 *   - an estate built from whatever was accepted does not freeze.
 * The library is instrumented in fuzz builds (CMakeLists.txt), so this links
 * it. Run: sh tests/fuzz/run.sh BUILD_DIR [SECONDS]; seeds in
 * corpus/aws_json/, tokens in aws_json.dict.
 */
#include <cidrscope/cidrscope.h>
#include <cidrscope/estate.h>

#include "ingest/aws_json_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NAME "fuzz_aws_json"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


typedef struct outcome {
    int rc;
    cs_error err;
    cs_estate_counts c;
    int frozen;
} outcome;


static outcome run(const uint8_t *text, size_t len, size_t chunk,
                   const cs_load_options *opts, const char *region,
                   const char *account)
{
    outcome o;
    memset(&o, 0, sizeof o);
    cs_estate *e = cs_estate_new();
    REQUIRE(e);
    cs_error_clear(&o.err);
    o.rc = cs_ingest_aws_json_buf(e, "fuzz.json", text, len, chunk, region,
                                  account, opts, &o.err);
    cs_estate_build_counts(e, &o.c);
    cs_snapshot *s = NULL;
    cs_error ferr;
    o.frozen = cs_estate_freeze(e, &s, &ferr);
    cs_snapshot_close(s);
    cs_estate_free(e);
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    const uint8_t *text = data + 1;
    size_t len = size - 1;
    cs_load_options opts;
    memset(&opts, 0, sizeof opts);
    opts.keep_going = (mode & 1) != 0;
    opts.lenient = (mode & 2) != 0;
    const char *region = (mode & 4) ? NULL : "us-east-1";
    const char *account = (mode & 8) ? "123456789012" : NULL;
    unsigned k = mode >> 4;
    size_t chunk = k ? (size_t)1 << (k - 1) : 0;

    outcome whole = run(text, len, 0, &opts, region, account);
    REQUIRE(whole.rc >= CS_EBUSY);
    if (whole.rc < 0)
        fuzz_check_located_error(&whole.err, whole.rc, len + 3);
    if (opts.keep_going) {
        REQUIRE(whole.rc >= 0);
        REQUIRE((uint32_t)whole.rc == whole.c.rejected);
    } else {
        REQUIRE(whole.rc <= 0);
        REQUIRE(whole.c.rejected == 0);
    }
    REQUIRE(whole.frozen == 0);

    if (chunk) {
        outcome part = run(text, len, chunk, &opts, region, account);
        REQUIRE(part.rc == whole.rc);
        REQUIRE(part.err.code == whole.err.code);
        REQUIRE(part.err.line == whole.err.line);
        REQUIRE(part.err.column == whole.err.column);
        REQUIRE(strcmp(part.err.message, whole.err.message) == 0);
        REQUIRE(part.c.vpcs == whole.c.vpcs);
        REQUIRE(part.c.assocs == whole.c.assocs);
        REQUIRE(part.c.peerings == whole.c.peerings);
        REQUIRE(part.c.findings == whole.c.findings);
        REQUIRE(part.frozen == 0);
    }
    return 0;
}
