/*
 * tests/fuzz/fuzz_csv.c — libFuzzer target for engine/ingest/csv.c and the
 * estate builder behind it.
 *
 * The first input byte picks the shape (VPC CIDRs, peerings, prefix list)
 * and the options (lenient, keep-going); the rest is the file. For each
 * input it aborts when:
 *   - a read fails but the cs_error is inconsistent: no message, no source,
 *     a line of 0 for a parse error, a column or offset outside the input,
 *     or cs_error_format disagrees with itself about the length;
 *   - a read succeeds in strict mode without keep-going but records a
 *     rejected-input finding, or keep-going returns a rejected count other
 *     than the number of rejected-input findings;
 *   - freezing what was read fails, the frozen image fails its own
 *     validation (cs_estate_image_validate), or an accessor disagrees with
 *     the counts (every VPC found again by id, every association's VPC in
 *     range and owning it);
 *   - the same input read from a pipe (the streaming path) gives other
 *     counts than from memory.
 * ASan/UBSan catch every out-of-bounds read on the way.
 *
 * Run: sh tests/fuzz/run.sh BUILD_DIR [SECONDS]; seeds in corpus/csv/.
 */
#include <cidrscope/estate.h>

#include "build/estate_internal.h"
#include "ingest/ingest_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                        \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "fuzz_csv: %s:%d: %s\n", __FILE__, __LINE__,     \
                    #cond);                                                  \
            abort();                                                         \
        }                                                                    \
    } while (0)

static int read_shape(cs_estate *e, unsigned shape, const char *text, size_t len,
                      const cs_load_options *o, cs_error *err)
{
    switch (shape) {
    case 0: return cs_ingest_csv_vpcs(e, "fuzz.csv", text, len, o, err);
    case 1: return cs_ingest_csv_peerings(e, "fuzz.csv", text, len, o, err);
    default: return cs_ingest_prefix_list(e, "fuzz.csv", text, len, o, err);
    }
}

/* The same bytes through a pipe: the descriptor path with its bounded
 * window. Inputs are small (libFuzzer's max_len), so one write fits the
 * pipe buffer. */
static int read_pipe(cs_estate *e, unsigned shape, const char *text, size_t len,
                     const cs_load_options *o, cs_error *err)
{
    int fds[2];
    if (pipe(fds) != 0)
        return CS_EIO;
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fds[1], text + off, len - off);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    close(fds[1]);
    int kind = shape == 0 ? CS_SRC_CSV_VPCS : shape == 1 ? CS_SRC_CSV_PEERINGS
                                                         : CS_SRC_PREFIX_LIST;
    int rc = cs_ingest_csv_fd(e, "fuzz.csv", fds[0], kind, o, err);
    close(fds[0]);
    return rc;
}

static void check_error(const cs_error *err, int rc, size_t len)
{
    REQUIRE(err->code == rc || rc == CS_ENOMEM);
    REQUIRE(err->message[0] != '\0');
    REQUIRE(err->source[0] != '\0');
    if (rc == CS_EPARSE)
        REQUIRE(err->line >= 1);
    REQUIRE(err->offset <= len);
    char small[8], big[2048];
    size_t want = cs_error_format(err, small, sizeof small);
    size_t got = cs_error_format(err, big, sizeof big);
    REQUIRE(want == got);
}

static void check_frozen(const cs_estate *e)
{
    cs_snapshot *s = NULL;
    cs_error err;
    cs_error_clear(&err);
    REQUIRE(cs_estate_freeze(e, &s, &err) == 0);
    REQUIRE(cs_estate_image_validate(s, &err) == 0);
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    for (uint32_t v = 0; v < c.vpcs; v++) {
        cs_vpc x;
        REQUIRE(cs_estate_vpc(s, v, &x) == 0);
        uint32_t idx;
        REQUIRE(cs_estate_vpc_find(s, x.id, strlen(x.id), &idx) == 1 && idx == v);
        for (uint32_t a = x.assoc_begin; a < x.assoc_begin + x.assoc_count; a++)
            REQUIRE(cs_estate_assoc_vpc(s, a) == v);
    }
    for (uint32_t i = 0; i < c.findings; i++) {
        cs_finding f;
        REQUIRE(cs_estate_finding(s, i, &f) == 0);
        REQUIRE(f.kind[0] != '\0');
    }
    cs_snapshot_close(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned shape = data[0] % 3;
    cs_load_options o = {.lenient = (data[0] >> 2) & 1, .keep_going = (data[0] >> 3) & 1};
    const char *text = (const char *)data + 1;
    size_t len = size - 1;

    cs_estate *e = cs_estate_new();
    REQUIRE(e);
    cs_error err;
    cs_error_clear(&err);
    int rc = read_shape(e, shape, text, len, &o, &err);
    cs_estate_counts c;
    cs_estate_build_counts(e, &c);
    if (rc < 0) {
        check_error(&err, rc, len);
    } else if (o.keep_going) {
        REQUIRE((uint32_t)rc == c.rejected);
    } else {
        REQUIRE(rc == 0 && c.rejected == 0);
    }
    check_frozen(e);

    cs_estate *p = cs_estate_new();
    REQUIRE(p);
    cs_error perr;
    cs_error_clear(&perr);
    int prc = len <= 60000 ? read_pipe(p, shape, text, len, &o, &perr) : CS_EIO;
    if (prc != CS_EIO) {
        REQUIRE(prc == rc);
        cs_estate_counts pc;
        cs_estate_build_counts(p, &pc);
        REQUIRE(memcmp(&pc, &c, sizeof c) == 0);
        if (rc < 0) {
            REQUIRE(perr.line == err.line && perr.column == err.column);
            REQUIRE(strcmp(perr.message, err.message) == 0);
        }
    }
    cs_estate_free(p);
    cs_estate_free(e);
    return 0;
}
