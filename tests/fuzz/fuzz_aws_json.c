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
 *   - an estate built from whatever was accepted does not freeze;
 *   - the text read a second time into an estate holding its first reading
 *     differs (status, error, counts, image bytes) between one thread and
 *     a recording replayed and resumed as estate_dir.c's helper threads
 *     make it (engine/ingest/replay.c: every VPC meets itself again, so
 *     merges and conflicts come through the resume path).
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

static int read_buf(cs_estate *e, const uint8_t *text, size_t len, const cs_load_options *opts,
                    const char *region, const char *account, cs_error *err)
{
    cs_error_clear(err);
    return cs_ingest_aws_json_buf(e, "fuzz.json", text, len, 0, region, account, opts, err);
}

/* The image of e, with the creation time and the header checksum over it
 * zeroed (engine/image/snapshot.c: offsets 40 and 96). */
static unsigned char *image_of(const cs_estate *e, size_t *len)
{
    cs_snapshot *s = NULL;
    cs_error err;
    REQUIRE(cs_estate_freeze(e, &s, &err) == 0);
    const void *img = cs_snapshot_image(s, len);
    unsigned char *copy = malloc(*len);
    REQUIRE(copy && *len >= 104);
    memcpy(copy, img, *len);
    memset(copy + 40, 0, 8);
    memset(copy + 96, 0, 8);
    cs_snapshot_close(s);
    return copy;
}

static void second_reading(const uint8_t *text, size_t len, const cs_load_options *opts,
                           const char *region, const char *account)
{
    cs_error ea, eb, es;
    /* One thread: the text twice. */
    cs_estate *a = cs_estate_new();
    REQUIRE(a);
    read_buf(a, text, len, opts, region, account, &ea);
    int ra = read_buf(a, text, len, opts, region, account, &ea);
    /* Helper threads: the first reading, then the second recorded into an
     * estate of its own and replayed (resumed where an answer differs). */
    cs_estate *b = cs_estate_new(), *scratch = cs_estate_new();
    REQUIRE(b && scratch);
    read_buf(b, text, len, opts, region, account, &eb);
    cs_ingest_log log;
    memset(&log, 0, sizeof log);
    cs_ingest_log_begin(&log);
    int rs = read_buf(scratch, text, len, opts, region, account, &es);
    cs_ingest_log_end();
    cs_estate_free(scratch);
    cs_ingest_resume at;
    cs_error_clear(&eb);
    int rb = cs_ingest_log_replay(b, &log, &at, &eb);
    if (rb == 1) {
        cs_ingest_resume_begin(&at);
        rb = read_buf(b, text, len, opts, region, account, &eb);
        cs_ingest_resume_end();
    } else if (rb == 0) {
        rb = rs;
        eb = es;
    }
    REQUIRE(rb == ra);
    if (ra < 0) {
        REQUIRE(eb.code == ea.code && eb.line == ea.line && eb.column == ea.column);
        REQUIRE(strcmp(eb.message, ea.message) == 0 && strcmp(eb.source, ea.source) == 0);
    } else {
        size_t la, lb;
        unsigned char *ia = image_of(a, &la), *ib = image_of(b, &lb);
        REQUIRE(la == lb && memcmp(ia, ib, la) == 0);
        free(ia);
        free(ib);
    }
    cs_ingest_log_free(&log);
    cs_estate_free(a);
    cs_estate_free(b);
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
    second_reading(text, len, &opts, region, account);
    return 0;
}
