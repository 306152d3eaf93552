/*
 * tests/fuzz/fuzz_json_shapes.c — libFuzzer target for the readers of
 * get-ipam-resource-cidrs output (engine/ingest/ipam_cidrs.c) and AWS
 * Config query output (engine/ingest/config_vpcs.c), the pull parser under
 * them (engine/ingest/json_pull.c) and the classifier
 * (engine/ingest/json_shapes.c).
 *
 * Input: byte 0 picks the options (bit 0 keep-going, bit 1 lenient, bit 2
 * default region and account, bit 3 the reader: 0 IPAM, 1 Config); the
 * rest is the JSON text. It aborts when:
 *   - the status is not a CS_E* code, or a failure's cs_error is
 *     inconsistent (code, empty message, no source, a parse error without a
 *     line, a caret column outside the copied text, an offset past the
 *     input), or cs_error_format overflows an exactly sized buffer (ASan);
 *   - with keep-going the load fails or the count returned is not the
 *     builder's count of rejections; without it anything was rejected;
 *   - an estate built from whatever was accepted does not freeze;
 *   - the classifier decides differently on a prefix of the text than on
 *     the whole text.
 * Run: sh tests/fuzz/run.sh BUILD_DIR [SECONDS]; seeds in
 * corpus/json_shapes/ (the fixtures of tests/fixtures/ipam and config).
 */
#include <cidrscope/cidrscope.h>
#include <cidrscope/estate.h>

#include "ingest/shapes_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NAME "fuzz_json_shapes"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);



int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    cs_load_options opts;
    memset(&opts, 0, sizeof opts);
    opts.keep_going = (mode & 1) != 0;
    opts.lenient = (mode & 2) != 0;
    const char *region = (mode & 4) ? "us-east-1" : NULL;
    const char *account = (mode & 4) ? "123456789012" : NULL;

    /* the classifier: a prefix that decides agrees with the whole text */
    int whole_shape = cs_ingest_json_shape(text, len);
    int part_shape = cs_ingest_json_shape(text, len / 2);
    REQUIRE(part_shape < 0 || whole_shape < 0 || part_shape == whole_shape);

    cs_estate *e = cs_estate_new();
    REQUIRE(e);
    cs_error err;
    cs_error_clear(&err);
    int rc = (mode & 8) ? cs_ingest_config_vpcs_buf(e, "fuzz.json", text, len,
                                                    region, account, &opts,
                                                    &err)
                        : cs_ingest_ipam_cidrs_buf(e, "fuzz.json", text, len,
                                                   region, account, &opts,
                                                   &err);
    REQUIRE(rc >= CS_EBUSY);
    if (rc < 0)
        fuzz_check_located_error(&err, rc, len);
    cs_estate_counts c;
    cs_estate_build_counts(e, &c);
    if (opts.keep_going) {
        REQUIRE(rc >= 0);
        REQUIRE((uint32_t)rc == c.rejected);
    } else {
        REQUIRE(rc <= 0);
        REQUIRE(c.rejected == 0);
    }
    cs_snapshot *s = NULL;
    cs_error ferr;
    REQUIRE(cs_estate_freeze(e, &s, &ferr) == 0);
    cs_snapshot_close(s);
    cs_estate_free(e);
    return 0;
}
