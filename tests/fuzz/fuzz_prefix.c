/*
 * tests/fuzz/fuzz_prefix.c — libFuzzer target for engine/core/prefix.c.
 *
 * For every input, under each of the 16 combinations of CS_PARSE_* flags,
 * through cs_prefix_parse and cs_address_parse, it aborts when:
 *   - a parse succeeds but the prefix breaks the header's invariants (family,
 *     length range, bits past len or past the family's width set, a family
 *     flag ignored), or format -> parse does not give the same prefix back,
 *     or the canonical text is not a fixed point of format(parse(.));
 *   - a parse fails but the cs_error is inconsistent (code, empty message,
 *     a column/offset/span outside the input), *out was written, or the
 *     result depends on whether err was passed;
 *   - cs_error_format writes past an exactly sized buffer (ASan) or
 *     disagrees with itself about the length;
 *   - strict and lenient disagree other than by host bits;
 *   - cs_address_parse disagrees with glibc's inet_pton on acceptance or on
 *     the value (an independent oracle for the address grammar).
 *
 * With CS_FUZZ=ON the whole library is built with coverage and sanitizer
 * instrumentation (-fsanitize=fuzzer-no-link), so libFuzzer steers by the
 * parser's own branches.
 *
 * Run: sh tests/fuzz/run.sh BUILD_DIR [SECONDS]; seeds in corpus/prefix/.
 */
#include <cidrscope/prefix.h>

#include "core/error_internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                        \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "fuzz_prefix: %s:%d: %s\n", __FILE__, __LINE__,  \
                    #cond);                                                  \
            abort();                                                         \
        }                                                                    \
    } while (0)

static int same(const cs_prefix *a, const cs_prefix *b)
{
    return a->hi == b->hi && a->lo == b->lo && a->len == b->len &&
           a->family == b->family;
}

/* cs_error_format into exactly sized heap buffers, so ASan sees one byte of
 * overflow; then (when `full`) again with a caller-filled source and line. */
static void check_error_format(cs_error *err, int full)
{
    for (int pass = 0; pass < 1 + full; pass++) {
        if (pass) {
            cs_error_source(err, "fuzz-input.csv");
            err->line = 123456789;
        }
        size_t want = cs_error_format(err, NULL, 0);
        REQUIRE(want > 0 && want < 4096);
        size_t caps[] = {1, want / 2 + 1, want, want + 1};
        for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
            size_t cap = caps[i];
            char *b = malloc(cap);
            REQUIRE(b);
            REQUIRE(cs_error_format(err, b, cap) == want);
            REQUIRE(strlen(b) == (cap - 1 < want ? cap - 1 : want));
            free(b);
        }
    }
}

static void check_prefix_invariants(const cs_prefix *p, unsigned flags)
{
    REQUIRE(p->family == CS_AF_V4 || p->family == CS_AF_V6);
    unsigned bits = cs_family_bits(p->family);
    REQUIRE(p->len <= bits);
    /* no bit past len: checked one bit at a time, independently of the
     * library's masks */
    for (unsigned b = p->len; b < 128; b++)
        REQUIRE(cs_prefix_bit(p, b) == 0);
    if (p->family == CS_AF_V4)
        REQUIRE((p->hi & 0xffffffffu) == 0 && p->lo == 0);
    unsigned only = flags & (CS_PARSE_V4_ONLY | CS_PARSE_V6_ONLY);
    if (only == CS_PARSE_V4_ONLY)
        REQUIRE(p->family == CS_AF_V4);
    if (only == CS_PARSE_V6_ONLY)
        REQUIRE(p->family == CS_AF_V6);
}

/* format -> parse gives p back, and the text is canonical (a fixed point). */
static void check_round_trip(const cs_prefix *p)
{
    char buf[CS_PREFIX_STRCAP], again[CS_PREFIX_STRCAP];
    size_t n = cs_prefix_format(p, buf, sizeof buf);
    REQUIRE(n < sizeof buf && strlen(buf) == n && n <= CS_PREFIX_MAXLEN);
    cs_prefix q;
    cs_error err;
    cs_error_clear(&err);
    REQUIRE(cs_prefix_parse(buf, n, 0, &q, &err) == 0);
    REQUIRE(same(p, &q));
    REQUIRE(cs_prefix_format(&q, again, sizeof again) == n);
    REQUIRE(memcmp(buf, again, n + 1) == 0);

    /* the address alone is the first address */
    n = cs_address_format(p, buf, sizeof buf);
    REQUIRE(cs_address_parse(buf, n, 0, &q, &err) == 0);
    cs_prefix f = cs_prefix_first(p), l = cs_prefix_last(p);
    REQUIRE(same(&q, &f));
    REQUIRE(cs_prefix_contains(p, &f) && cs_prefix_contains(p, &l));
    REQUIRE(cs_prefix_compare(p, &f) <= 0 && cs_prefix_compare(&f, &l) <= 0);
    REQUIRE(cs_prefix_overlaps(p, p) && cs_prefix_compare(p, p) == 0);
}

static void check_failure(size_t size, unsigned flags, int rc,
                          const cs_error *err0, const cs_prefix *out,
                          const cs_prefix *junk)
{
    REQUIRE(rc == CS_EPARSE);
    REQUIRE(err0->code == CS_EPARSE && err0->message[0]);
    REQUIRE(memcmp(out, junk, sizeof *out) == 0);
    REQUIRE(err0->line == 1 && err0->column >= 1);
    REQUIRE(err0->offset == (uint64_t)err0->column - 1);
    REQUIRE(err0->offset <= size && err0->offset + err0->span <= size);
    REQUIRE(err0->text_col >= 1 && err0->text_col < CS_ERROR_TEXT_CAP + 1);
    REQUIRE(strlen(err0->message) < CS_ERROR_MSG_CAP);
    cs_error err = *err0;
    check_error_format(&err, flags == 0);
}

static void fuzz_prefix_parse(const char *text, size_t size, unsigned flags)
{
    cs_error err;
    memset(&err, 0x5a, sizeof err); /* a stale record must not matter */
    cs_prefix p, junk;
    memset(&p, 0xa5, sizeof p);
    junk = p;
    int rc = cs_prefix_parse(text, size, flags, &p, &err);
    cs_prefix p2;
    REQUIRE(cs_prefix_parse(text, size, flags, &p2, NULL) == rc);
    if (rc < 0) {
        check_failure(size, flags, rc, &err, &p, &junk);
        return;
    }
    REQUIRE(same(&p, &p2));
    REQUIRE(rc == 0 || rc == CS_PARSE_NORMALISED);
    check_prefix_invariants(&p, flags);
    check_round_trip(&p);

    cs_prefix s;
    cs_error serr;
    cs_error_clear(&serr);
    int src = cs_prefix_parse(text, size, flags & ~(unsigned)CS_PARSE_LENIENT,
                              &s, &serr);
    if (rc == CS_PARSE_NORMALISED) {
        REQUIRE(flags & CS_PARSE_LENIENT);
        REQUIRE(err.code == 0 && strstr(err.message, " normalised to "));
        REQUIRE(src == CS_EPARSE && strstr(serr.message, "host bits set"));
        cs_error e = err;
        check_error_format(&e, 1);
    } else {
        REQUIRE(src == 0 && same(&s, &p));
    }

    /* Without a '/', a bare-address prefix parse is an address parse. */
    if ((flags & CS_PARSE_BARE_ADDRESS) && (!size || !memchr(text, '/', size))) {
        cs_prefix a;
        REQUIRE(cs_address_parse(text, size, flags, &a, NULL) == 0);
        REQUIRE(same(&a, &p));
    }
}

static void fuzz_address_parse(const char *text, size_t size, unsigned flags)
{
    cs_error err;
    memset(&err, 0x5a, sizeof err);
    cs_prefix p, junk;
    memset(&p, 0xa5, sizeof p);
    junk = p;
    int rc = cs_address_parse(text, size, flags, &p, &err);
    cs_prefix p2;
    REQUIRE(cs_address_parse(text, size, flags, &p2, NULL) == rc);
    if (rc < 0) {
        check_failure(size, flags, rc, &err, &p, &junk);
        return;
    }
    REQUIRE(rc == 0 && same(&p, &p2));
    check_prefix_invariants(&p, flags);
    REQUIRE(p.len == cs_family_bits(p.family));
    check_round_trip(&p);
    cs_prefix b;
    REQUIRE(cs_prefix_parse(text, size, flags | CS_PARSE_BARE_ADDRESS, &b,
                            NULL) == 0);
    REQUIRE(same(&b, &p));
}

/* glibc's inet_pton accepts exactly RFC 4291 text without zone ids and, like
 * us, refuses leading zeros in dotted quads: an independent oracle. */
static void oracle(const char *text, size_t size)
{
    if (size >= 64 || (size && memchr(text, '\0', size)))
        return;
    char z[64];
    if (size)
        memcpy(z, text, size);
    z[size] = '\0';
    unsigned char b4[4], b6[16];
    int is4 = inet_pton(AF_INET, z, b4) == 1;
    int is6 = !is4 && inet_pton(AF_INET6, z, b6) == 1;
    cs_prefix p;
    int rc = cs_address_parse(text, size, 0, &p, NULL);
    REQUIRE((rc == 0) == (is4 || is6));
    if (rc != 0)
        return;
    uint64_t hi = 0, lo = 0;
    if (is4) {
        for (int k = 0; k < 4; k++)
            hi = hi << 8 | b4[k];
        hi <<= 32;
    } else {
        for (int k = 0; k < 8; k++) {
            hi = hi << 8 | b6[k];
            lo = lo << 8 | b6[8 + k];
        }
    }
    REQUIRE(p.family == (is4 ? CS_AF_V4 : CS_AF_V6));
    REQUIRE(p.hi == hi && p.lo == lo);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    for (unsigned flags = 0; flags < 16; flags++) {
        fuzz_prefix_parse(text, size, flags);
        fuzz_address_parse(text, size, flags);
    }
    oracle(text, size);
    return 0;
}
