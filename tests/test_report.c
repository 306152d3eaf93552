/*
 * tests/test_report.c — the report writer (engine/report/writer.c) and the
 * query/lookup row writer (engine/report/match_report.c):
 *
 *   - JSON strings: quotes, backslashes and control characters escaped,
 *     invalid UTF-8 replaced by U+FFFD, valid UTF-8 passed through;
 *   - the JSON emitter's commas, colons and nesting, compact and pretty;
 *   - integers formatted without printf equal printf's, on a seeded
 *     random sample and the edges (0, 9, 10, 99, 100, UINT64_MAX,
 *     INT64_MIN): the differential check against a formatter too simple to
 *     be wrong;
 *   - CSV fields quoted as RFC 4180 says; HTML entities;
 *   - text columns never cut a prefix or id; names cut on a character
 *     boundary within their display width (CJK 2 columns, combining marks
 *     0), the output valid UTF-8, for every width 1..40;
 *   - the one format enum: names and parse round-trip, a bad name refused;
 *   - the match writer's shapes: JSON parsed back (yajl), NDJSON records
 *     each with "type", CSV rows with the error column, error records in
 *     place, --limit's "omitted", text counts.
 *
 * Seeded tests print their seed on failure (CS_TEST_SEED replays one).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "support/testutil.h"

#include <cidrscope/cidrscope.h>

#include "report/writer.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

/* ---- capture ------------------------------------------------------------------ */

typedef struct cap {
    FILE *f;
    char *buf;
    size_t len;
} cap;

static void cap_open(cap *c)
{
    c->buf = NULL;
    c->len = 0;
    c->f = open_memstream(&c->buf, &c->len);
    assert_non_null(c->f);
}

/* Closes the stream; c->buf holds the text (free it). */
static const char *cap_text(cap *c)
{
    fclose(c->f);
    c->f = NULL;
    return c->buf;
}

/* True when s[0..n) is valid UTF-8 (RFC 3629: no overlongs, surrogates or
 * code points past U+10FFFF), decoded the plain way. */
static bool valid_utf8(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        size_t k;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            k = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            k = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            k = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (p[i + j] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (p[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += k + 1;
    }
    return true;
}

/* ---- JSON ------------------------------------------------------------------------ */

static void report__json_string_escapes_and_repairs_utf8(void **state)
{
    (void)state;
    cap c;
    cap_open(&c);
    const char in[] = "a\"b\\c\n\t\x01 \xc3\xa9 \xff \xe6\x97\xa5 \xc3";
    cs_json_write_string(c.f, in, sizeof in - 1);
    const char *out = cap_text(&c);
    assert_string_equal(out, "\"a\\\"b\\\\c\\n\\t\\u0001 \xc3\xa9 \xef\xbf\xbd \xe6\x97\xa5 "
                             "\xef\xbf\xbd\"");
    assert_true(valid_utf8(out, strlen(out)));
    free(c.buf);
}

/* cs_json_string (NUL-terminated, one pass) against cs_json_write_string
 * with the length, on random byte strings biased to the hard cases:
 * quotes, backslashes, controls, and UTF-8 lead bytes cut short by the
 * terminating NUL. Keys take the same path. */
static void report__json_cstring_equals_counted_string(void **state)
{
    (void)state;
    tu_rng r = {tu_seed("report__json_cstring_equals_counted_string", 17)};
    static const unsigned char pick[] = {'a', 'Z', '0', ' ', '"', '\\', '\n', 0x01, 0x1f,
                                         0x7f, 0x80, 0xbf, 0xc2, 0xc3, 0xa9, 0xe2, 0x82,
                                         0xac, 0xed, 0xa0, 0xf0, 0x9f, 0x98, 0x80, 0xf4,
                                         0x90, 0xff, 0xfe};
    char s[40];
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)(tu_next(&r) % 24);
        for (size_t i = 0; i < len; i++)
            s[i] = (char)pick[tu_next(&r) % sizeof pick];
        s[len] = '\0';
        cap a, b;
        cap_open(&a);
        cap_open(&b);
        cs_json ja;
        cs_json_init(&ja, a.f, 0);
        if (round % 2)
            cs_json_string(&ja, s);
        else
            cs_json_key(&ja, s);
        cs_json_write_string(b.f, s, len);
        if (!(round % 2))
            fputs(":", b.f);
        const char *out = cap_text(&a);
        assert_string_equal(out, cap_text(&b));
        assert_true(valid_utf8(out, strlen(out)));
        free(a.buf);
        free(b.buf);
    }
}

/* A token formatted once (cs_json_quote_plain) and written where a value
 * goes (cs_json_token) reads exactly as cs_json_string of the same text, in
 * every position (first item, later items, after a key, pretty or not);
 * text that needs escaping or is too long is refused, not cut. */
static void report__json_token_equals_json_string(void **state)
{
    (void)state;
    tu_rng r = {tu_seed("report__json_token_equals_json_string", 23)};
    static const unsigned char pick[] = {'v', 'p', 'c', '-', '0', 'f', ' ', '~', '"', '\\',
                                         '\n', 0x01, 0x7f, 0xc3, 0xa9};
    char s[48], tok[32];
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)(tu_next(&r) % 40);
        bool plain = true;
        for (size_t i = 0; i < len; i++) {
            unsigned char ch = pick[tu_next(&r) % sizeof pick];
            s[i] = (char)ch;
            plain &= ch >= 0x20 && ch < 0x80 && ch != '"' && ch != '\\';
        }
        s[len] = '\0';
        size_t n = cs_json_quote_plain(tok, sizeof tok, s);
        if (!plain || len + 2 > sizeof tok) {
            assert_int_equal(n, 0);
            continue;
        }
        assert_int_equal(n, len + 2);
        cap a, b;
        cap_open(&a);
        cap_open(&b);
        cs_json ja, jb;
        unsigned flags = round % 2 ? CS_JSON_PRETTY : 0;
        cs_json_init(&ja, a.f, flags);
        cs_json_init(&jb, b.f, flags);
        cs_json_begin_object(&ja);
        cs_json_begin_object(&jb);
        cs_json_key(&ja, "one");
        cs_json_key(&jb, "one");
        cs_json_token(&ja, tok, n);
        cs_json_string(&jb, s);
        cs_json_key(&ja, "many");
        cs_json_key(&jb, "many");
        cs_json_begin_array(&ja);
        cs_json_begin_array(&jb);
        for (int k = 0; k < 3; k++) {
            cs_json_token(&ja, tok, n);
            cs_json_string(&jb, s);
        }
        cs_json_end(&ja);
        cs_json_end(&jb);
        cs_json_end(&ja);
        cs_json_end(&jb);
        const char *out = cap_text(&a);
        assert_string_equal(out, cap_text(&b));
        free(a.buf);
        free(b.buf);
    }
    /* exactly full: 30 characters and their quotes fill 32 bytes */
    memset(s, 'x', 30);
    s[30] = '\0';
    assert_int_equal(cs_json_quote_plain(tok, sizeof tok, s), 32);
    s[30] = 'x';
    s[31] = '\0';
    assert_int_equal(cs_json_quote_plain(tok, sizeof tok, s), 0);
}

static void report__json_emitter_places_commas_and_nesting(void **state)
{
    (void)state;
    for (int pretty = 0; pretty < 2; pretty++) {
        cap c;
        cap_open(&c);
        cs_json j;
        cs_json_init(&j, c.f, pretty ? CS_JSON_PRETTY : 0);
        cs_json_begin_object(&j);
        cs_json_kv_u64(&j, "n", 3);
        cs_json_key(&j, "list");
        cs_json_begin_array(&j);
        cs_json_i64(&j, -5);
        cs_json_bool(&j, true);
        cs_json_null(&j);
        cs_json_string(&j, NULL);
        cs_json_end(&j);
        cs_json_key(&j, "empty");
        cs_json_begin_array(&j);
        cs_json_end(&j);
        cs_json_end(&j);
        cs_json_newline(&j);
        const char *out = cap_text(&c);
        if (!pretty)
            assert_string_equal(out, "{\"n\":3,\"list\":[-5,true,null,null],\"empty\":[]}\n");
        else
            assert_string_equal(out, "{\n  \"n\": 3,\n  \"list\": [\n    -5,\n    true,\n"
                                     "    null,\n    null\n  ],\n  \"empty\": []\n}\n");
        free(c.buf);
    }
}

static void report__integers_without_printf_equal_printf(void **state)
{
    (void)state;
    uint64_t seed = tu_seed("report__integers_without_printf_equal_printf", 0x5eed);
    tu_rng r = {seed};
    static const uint64_t edges[] = {0, 9, 10, 99, 100, 999, 1000, 4294967295u,
                                     10000000000000000000u, UINT64_MAX};
    for (size_t i = 0; i < 20000; i++) {
        uint64_t v = i < sizeof edges / sizeof *edges ? edges[i]
                                                      : tu_next(&r) >> tu_below(&r, 64);
        char a[CS_FMT_U64_CAP], b[32];
        size_t n = cs_fmt_u64(a, v);
        snprintf(b, sizeof b, "%" PRIu64, v);
        if (strcmp(a, b) != 0 || n != strlen(b))
            fail_msg("seed %" PRIu64 ": %" PRIu64 " formatted as '%s'", seed, v, a);
        int64_t sv = (int64_t)(tu_next(&r) >> tu_below(&r, 64));
        if (i == 0)
            sv = INT64_MIN;
        if (i & 1)
            sv = -sv - (i == 1);
        cap c;
        cap_open(&c);
        cs_json j;
        cs_json_init(&j, c.f, 0);
        cs_json_i64(&j, sv);
        const char *out = cap_text(&c);
        snprintf(b, sizeof b, "%" PRId64, sv);
        if (strcmp(out, b) != 0)
            fail_msg("seed %" PRIu64 ": %" PRId64 " written as '%s'", seed, sv, out);
        free(c.buf);
    }
}

/* ---- CSV and HTML ------------------------------------------------------------------------ */

static void report__csv_quotes_as_rfc4180(void **state)
{
    (void)state;
    cap c;
    cap_open(&c);
    cs_csv w;
    cs_csv_init(&w, c.f);
    cs_csv_field(&w, "plain");
    cs_csv_field(&w, "a,b");
    cs_csv_field(&w, "say \"hi\"");
    cs_csv_field(&w, "two\nlines");
    cs_csv_field(&w, " padded");
    cs_csv_field(&w, NULL);
    cs_csv_field(&w, "bad \xff byte");
    cs_csv_u64(&w, 18446744073709551615u);
    cs_csv_end_row(&w);
    const char *out = cap_text(&c);
    assert_string_equal(out, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\" padded\",,"
                             "bad \xef\xbf\xbd byte,18446744073709551615\n");
    free(c.buf);
}

static void report__html_escapes_entities_and_repairs_utf8(void **state)
{
    (void)state;
    cap c;
    cap_open(&c);
    cs_html_escape(c.f, "<b class='x'>Tom & \"Jerry\"</b> \xc3\xa9\xc3");
    const char *out = cap_text(&c);
    assert_string_equal(out, "&lt;b class=&#39;x&#39;&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt; "
                             "\xc3\xa9\xef\xbf\xbd");
    free(c.buf);
}

/* ---- text ------------------------------------------------------------------------------ */

static void report__text_col_never_cuts_a_prefix_or_id(void **state)
{
    (void)state;
    cap c;
    cap_open(&c);
    cs_text_col(c.f, "2600:1f10:0:1200::/56", 20);
    fputc('|', c.f);
    cs_text_col(c.f, "10.0.0.0/8", 12);
    fputc('|', c.f);
    cs_text_rcol(c.f, "42", 5);
    const char *out = cap_text(&c);
    assert_string_equal(out, "2600:1f10:0:1200::/56|10.0.0.0/8  |   42");
    free(c.buf);
}

/* Display width as the writer defines it, computed independently here for
 * the scripts of the test names. */
static unsigned width_of(const char *s)
{
    unsigned w = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t cp;
        size_t k;
        if (*p < 0x80)
            cp = *p, k = 1;
        else if ((*p & 0xe0) == 0xc0)
            cp = *p & 0x1fu, k = 2;
        else if ((*p & 0xf0) == 0xe0)
            cp = *p & 0x0fu, k = 3;
        else
            cp = *p & 0x07u, k = 4;
        for (size_t j = 1; j < k; j++)
            cp = cp << 6 | (p[j] & 0x3fu);
        p += k;
        if (cp >= 0x0300 && cp <= 0x036f)
            continue;
        w += (cp >= 0x3041 && cp <= 0x9fff) || (cp >= 0xac00 && cp <= 0xd7a3) ||
                     (cp >= 0x1f300 && cp <= 0x1f64f)
                 ? 2
                 : 1;
    }
    return w;
}

static void report__text_name_cuts_on_a_character_boundary(void **state)
{
    (void)state;
    static const char *const names[] = {
        "Entwicklung-M\xc3\xbcller-Stra\xc3\x9f" "e",                          /* Latin */
        "\xe9\x96\x8b\xe7\x99\xba\xe7\x92\xb0\xe5\xa2\x83\xe6\x9d\xb1\xe4\xba\xac", /* CJK */
        "\xd8\xb4\xd8\xa8\xd9\x83\xd8\xa9-\xd8\xa7\xd9\x84\xd8\xaa\xd8\xb7\xd9\x88\xd9\x8a\xd8\xb1", /* Arabic */
        "\xd0\xa0\xd0\xb0\xd0\xb7\xd1\x80\xd0\xb0\xd0\xb1\xd0\xbe\xd1\x82\xd0\xba\xd0\xb0", /* Cyrillic */
        "e\xcc\x81" "e\xcc\x81" "e\xcc\x81-accents",                       /* combining */
        "\xea\xb0\x9c\xeb\xb0\x9c-\xed\x95\x9c\xea\xb5\xad",               /* Hangul */
        "rocket-\xf0\x9f\x9a\x80\xf0\x9f\x9a\x80\xf0\x9f\x9a\x80",         /* emoji */
    };
    for (size_t n = 0; n < sizeof names / sizeof *names; n++) {
        unsigned full = width_of(names[n]);
        for (unsigned width = 1; width <= 40; width++) {
            cap c;
            cap_open(&c);
            cs_text_name(c.f, names[n], width);
            const char *out = cap_text(&c);
            size_t len = strlen(out);
            if (!valid_utf8(out, len))
                fail_msg("name %zu width %u: invalid UTF-8 '%s'", n, width, out);
            if (full <= width) {
                assert_string_equal(out, names[n]);
            } else {
                if (out[len - 1] != '~')
                    fail_msg("name %zu width %u: cut without '~': '%s'", n, width, out);
                if (width_of(out) > width)
                    fail_msg("name %zu width %u: '%s' is %u columns", n, width, out,
                             width_of(out));
                if (memcmp(out, names[n], len - 1) != 0)
                    fail_msg("name %zu width %u: '%s' is not a prefix", n, width, out);
                /* a base character is never separated from its mark */
                const unsigned char *rest = (const unsigned char *)names[n] + len - 1;
                if (rest[0] == 0xcc && rest[1] >= 0x80 && rest[1] <= 0xaf)
                    fail_msg("name %zu width %u: a combining mark left behind", n, width);
            }
            free(c.buf);
        }
    }
}

static void report__text_is_valid_utf8_whatever_the_input(void **state)
{
    (void)state;
    static const char *const bad[] = {"\xc3", "\xff\xfe", "ok\x80", "\xed\xa0\x80 surrogate",
                                      "\xe0\x80\x80 overlong", "tab\there", "nl\nhere"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cap c;
        cap_open(&c);
        cs_text_col(c.f, bad[i], 30);
        cs_text_name(c.f, bad[i], 5);
        cs_text_wrap(c.f, bad[i], 2, 40);
        const char *out = cap_text(&c);
        if (!valid_utf8(out, strlen(out)))
            fail_msg("input %zu: invalid UTF-8 out", i);
        /* control characters never reach a column (the wrap's own newline
         * aside) */
        assert_null(memchr(out, '\t', strlen(out)));
        free(c.buf);
    }
}

/* ---- the format enum ------------------------------------------------------------------- */

static void report__format_names_round_trip(void **state)
{
    (void)state;
    for (int f = 0; f < CS_REPORT_FORMAT_COUNT; f++) {
        enum cs_report_format got;
        const char *name = cs_report_format_name((enum cs_report_format)f);
        assert_non_null(name);
        assert_int_equal(cs_report_format_parse(name, 0, &got, NULL), 0);
        assert_int_equal(got, f);
    }
    assert_null(cs_report_format_name(CS_REPORT_FORMAT_COUNT));
    cs_error err;
    cs_error_clear(&err);
    enum cs_report_format got = CS_REPORT_TEXT;
    assert_int_equal(cs_report_format_parse("html", 1u << CS_REPORT_TEXT | 1u << CS_REPORT_CSV,
                                            &got, &err),
                     CS_EINVAL);
    assert_non_null(strstr(err.message, "expected text|csv"));
    assert_int_equal(cs_report_format_parse("xml", 0, &got, NULL), CS_EINVAL);
}

/* ---- the match writer ---------------------------------------------------------------------- */

static cs_snapshot *small_image(void)
{
    static const char *const pfx[] = {"10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.0/24",
                                      "2600:1f10:0:1200::/56"};
    tu_entry e[5];
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(cs_prefix_parse(pfx[i], strlen(pfx[i]), 0, &e[i].p, NULL), 0);
        e[i].value = (uint32_t)i + 100;
    }
    cs_snapshot *s = tu_build(e, 5);
    assert_non_null(s);
    return s;
}

typedef struct walk_ctx {
    cs_match_report *w;
    const cs_snapshot *s;
} walk_ctx;

static int to_writer(const cs_match *m, void *ctx)
{
    walk_ctx *c = ctx;
    cs_match_report_match(c->w, c->s, m);
    return 0;
}

/* Writes items "10.1.2.0/24" (4 rows), a bad line 2, "192.0.2.0/24" (no
 * match) in format f with `limit`, returns the text. */
static char *three_items(const cs_snapshot *s, enum cs_report_format f, unsigned flags,
                         uint64_t limit)
{
    cap c;
    cap_open(&c);
    cs_match_report *w = cs_match_report_open(c.f, f, flags);
    assert_non_null(w);
    cs_match_report_set_limit(w, limit);
    static const char *const items[] = {"10.1.2.0/24", "10.1.2.3/33", "192.0.2.0/24"};
    for (int i = 0; i < 3; i++) {
        if (i == 1) {
            cs_match_report_error(w, items[i], 2, "prefix length 33 out of range 0..32");
            continue;
        }
        cs_prefix q;
        assert_int_equal(cs_prefix_parse(items[i], strlen(items[i]), 0, &q, NULL), 0);
        if (flags & CS_MR_COUNT) {
            uint32_t n = 0;
            assert_int_equal(cs_query_count_bulk(s, &q, 1, CS_Q_OVERLAPPING, &n), 0);
            cs_match_report_count(w, items[i], n);
            continue;
        }
        cs_match_report_item(w, items[i]);
        walk_ctx wc = {w, s};
        assert_int_equal(cs_query_walk(s, &q, CS_Q_OVERLAPPING, to_writer, &wc), 0);
        cs_match_report_end(w);
    }
    assert_int_equal(cs_match_report_close(w, NULL), 0);
    cap_text(&c);
    return c.buf;
}

static yajl_val get(yajl_val v, const char *key)
{
    const char *path[] = {key, NULL};
    return yajl_tree_get(v, path, yajl_t_any);
}

static void report__match_report_json_shapes(void **state)
{
    (void)state;
    cs_snapshot *s = small_image();
    char *out = three_items(s, CS_REPORT_JSON, 0, 2);
    char errbuf[256];
    yajl_val d = yajl_tree_parse(out, errbuf, sizeof errbuf);
    if (!d)
        fail_msg("JSON does not parse: %s\n%s", errbuf, out);
    assert_true(YAJL_IS_ARRAY(d));
    assert_int_equal(YAJL_GET_ARRAY(d)->len, 3);
    yajl_val first = YAJL_GET_ARRAY(d)->values[0];
    assert_string_equal(YAJL_GET_STRING(get(first, "query")), "10.1.2.0/24");
    assert_int_equal(YAJL_GET_ARRAY(get(first, "matches"))->len, 2);
    assert_int_equal(YAJL_GET_INTEGER(get(first, "omitted")), 2);
    yajl_val bad = YAJL_GET_ARRAY(d)->values[1];
    assert_int_equal(YAJL_GET_INTEGER(get(bad, "line")), 2);
    const char *msg = YAJL_GET_STRING(get(bad, "error"));
    assert_non_null(msg);
    assert_non_null(strstr(msg, "33"));
    assert_null(get(bad, "matches"));
    yajl_val none = YAJL_GET_ARRAY(d)->values[2];
    assert_int_equal(YAJL_GET_ARRAY(get(none, "matches"))->len, 0);
    assert_null(get(none, "omitted"));
    yajl_tree_free(d);
    free(out);
    cs_snapshot_close(s);
}

static void report__match_report_ndjson_records_carry_type(void **state)
{
    (void)state;
    cs_snapshot *s = small_image();
    static const char *const want[2][3] = {{"result", "error", "result"},
                                           {"count", "error", "count"}};
    for (int count = 0; count < 2; count++) {
        char *out = three_items(s, CS_REPORT_NDJSON, count ? CS_MR_COUNT : 0, 0);
        char *save = NULL;
        int n = 0;
        for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            char errbuf[256];
            yajl_val d = yajl_tree_parse(line, errbuf, sizeof errbuf);
            if (!d)
                fail_msg("line %d does not parse: %s", n + 1, line);
            assert_true(n < 3);
            yajl_val t = get(d, "type");
            if (!t || !YAJL_IS_STRING(t))
                fail_msg("line %d has no type: %s", n + 1, line);
            assert_string_equal(YAJL_GET_STRING(t), want[count][n]);
            n++;
            yajl_tree_free(d);
        }
        assert_int_equal(n, 3);
        free(out);
    }
    cs_snapshot_close(s);
}

static void report__match_report_csv_and_text(void **state)
{
    (void)state;
    cs_snapshot *s = small_image();
    char *out = three_items(s, CS_REPORT_CSV, 0, 0);
    const char *want_csv =
        "query,prefix,relation,vpc_id,account,region,name,error\n"
        "10.1.2.0/24,10.0.0.0/8,covers,100,,,,\n"
        "10.1.2.0/24,10.1.0.0/16,covers,101,,,,\n"
        "10.1.2.0/24,10.1.2.0/24,equal,102,,,,\n"
        "10.1.2.0/24,10.1.2.0/24,equal,103,,,,\n"
        "10.1.2.3/33,,,,,,,line 2: prefix length 33 out of range 0..32\n"
        "192.0.2.0/24,,,,,,,\n";
    assert_string_equal(out, want_csv);
    free(out);
    out = three_items(s, CS_REPORT_TEXT, CS_MR_COUNT, 0);
    assert_string_equal(out, "4\nerror: line 2: prefix length 33 out of range 0..32\n0\n");
    free(out);
    out = three_items(s, CS_REPORT_TEXT, 0, 3);
    assert_non_null(strstr(out, "  1 more (use --limit 0 for all)\n"));
    assert_non_null(strstr(out, "10.1.2.3/33\n  error: line 2: "));
    assert_non_null(strstr(out, "192.0.2.0/24\n  no match\n"));
    free(out);
    cs_snapshot_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(report__json_string_escapes_and_repairs_utf8),
        cmocka_unit_test(report__json_cstring_equals_counted_string),
        cmocka_unit_test(report__json_token_equals_json_string),
        cmocka_unit_test(report__json_emitter_places_commas_and_nesting),
        cmocka_unit_test(report__integers_without_printf_equal_printf),
        cmocka_unit_test(report__csv_quotes_as_rfc4180),
        cmocka_unit_test(report__html_escapes_entities_and_repairs_utf8),
        cmocka_unit_test(report__text_col_never_cuts_a_prefix_or_id),
        cmocka_unit_test(report__text_name_cuts_on_a_character_boundary),
        cmocka_unit_test(report__text_is_valid_utf8_whatever_the_input),
        cmocka_unit_test(report__format_names_round_trip),
        cmocka_unit_test(report__match_report_json_shapes),
        cmocka_unit_test(report__match_report_ndjson_records_carry_type),
        cmocka_unit_test(report__match_report_csv_and_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
