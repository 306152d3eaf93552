/*
 * engine/ingest/json_pull.c — the pull parser of json_pull_internal.h: JSON
 * text in memory, read value by value as the caller asks for it, with
 * exact file positions for every error (inner documents included).
 *
 * Does: RFC 8259 grammar (no trailing commas, no leading zeros, no bare
 * words), strings decoded (escapes, surrogate pairs) and checked as UTF-8
 * (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF),
 * control bytes and NUL refused, nesting bounded by JP_DEPTH_MAX.
 * Does not: know any AWS shape (the readers do), or read files (the caller
 * hands the text). Concurrency: one parser per thread.
 * Tests: tests/test_json_shapes.c; fuzz: tests/fuzz/fuzz_json_shapes.c.
 */
#include "ingest/json_pull_internal.h"

#include "core/error_internal.h"
#include "core/grow_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cs_jp_init(jp *p, const char *source, const char *text, size_t len,
             cs_error *err)
{
    memset(p, 0, sizeof *p);
    p->s = (const unsigned char *)text;
    p->len = len;
    p->source = source;
    p->file = text;
    p->file_len = len;
    p->err = err;
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        p->i = 3;
}

void cs_jp_init_inner(jp *p, const jp *outer, const char *s, size_t len,
                   const size_t *map)
{
    memset(p, 0, sizeof *p);
    p->s = (const unsigned char *)s;
    p->len = len;
    p->map = map;
    p->source = outer->source;
    p->file = outer->file;
    p->file_len = outer->file_len;
    p->err = outer->err;
}

void cs_jp_free(jp *p)
{
    free(p->arena);
    free(p->amap);
    p->arena = NULL;
    p->amap = NULL;
    p->alen = p->acap = p->amap_cap = 0;
}

size_t cs_jp_file_off(const jp *p, size_t k)
{
    if (k > p->len)
        k = p->len;
    return p->map ? p->map[k] : k;
}

void cs_jp_arena_reset(jp *p)
{
    p->alen = 0;
}

bool cs_jp_eq(const jp *p, jp_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && memcmp(p->arena + s.off, lit, n) == 0;
}

int cs_jp_fail_at(jp *p, size_t k, uint32_t span, int code, const char *fmt, ...)
{
    char msg[CS_ERROR_MSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!p->err)
        return code;
    cs_error_clear(p->err);
    cs_ingest_locate(p->err, p->source, p->file, p->file_len,
                     cs_jp_file_off(p, k), span ? span : 1);
    /* A lone '\r' (JSON whitespace, not a line break) before the column
     * ends the copied line early: no caret rather than one past the text. */
    if (p->err->text_col > strlen(p->err->text) + 1) {
        p->err->text[0] = '\0';
        p->err->text_col = 0;
    }
    return cs_fail(p->err, code, "%s", msg);
}

static bool blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_blanks(jp *p)
{
    while (p->i < p->len && blank(p->s[p->i]))
        p->i++;
}

int cs_jp_peek(jp *p)
{
    skip_blanks(p);
    if (p->i >= p->len)
        return JP_END;
    unsigned char c = p->s[p->i];
    switch (c) {
    case '{':
    case '[':
    case '"':
    case 't':
    case 'f':
    case 'n':
        return c;
    default:
        return c == '-' || (c >= '0' && c <= '9') ? JP_NUM : JP_BAD;
    }
}

bool cs_jp_at_end(jp *p)
{
    return cs_jp_peek(p) == JP_END;
}

const char *cs_jp_kind_name(int kind)
{
    switch (kind) {
    case JP_OBJ: return "an object";
    case JP_ARR: return "an array";
    case JP_STR: return "a string";
    case JP_NUM: return "a number";
    case JP_TRUE:
    case JP_FALSE: return "a boolean";
    case JP_NULL: return "null";
    case JP_END: return "the end of the text";
    default: return "not JSON";
    }
}

/* An error at the next value, for a value that is not JSON at all or the
 * end of the text. */
static int bad_value(jp *p, int kind)
{
    if (kind == JP_END)
        return cs_jp_fail_at(p, p->len, 1, CS_EPARSE,
                          "unexpected end of JSON text (a value was expected)");
    return cs_jp_fail_at(p, p->i, 1, CS_EPARSE,
                      "invalid JSON: unexpected byte 0x%02x where a value "
                      "was expected", p->s[p->i]);
}

int cs_jp_type_error(jp *p, const char *key, int want)
{
    int got = cs_jp_peek(p);
    if (got == JP_END || got == JP_BAD)
        return bad_value(p, got);
    return cs_jp_fail_at(p, p->i, 1, CS_EPARSE, "\"%s\" must be %s, not %s",
                      key, cs_jp_kind_name(want), cs_jp_kind_name(got));
}

/* ---- containers ------------------------------------------------------------- */

static int open_container(jp *p, const char *what, int want)
{
    int got = cs_jp_peek(p);
    if (got != want)
        return cs_jp_type_error(p, what, want);
    if (p->depth >= JP_DEPTH_MAX)
        return cs_jp_fail_at(p, p->i, 1, CS_EPARSE,
                          "JSON nested deeper than %d levels", JP_DEPTH_MAX);
    p->depth++;
    p->i++;
    return 0;
}

int cs_jp_object(jp *p, const char *what)
{
    return open_container(p, what, JP_OBJ);
}

int cs_jp_array(jp *p, const char *what)
{
    return open_container(p, what, JP_ARR);
}

/* After an element or member: ',' (then more follows) or the closing
 * bracket. Returns 1 more, 0 closed, < 0 error. */
static int next_in(jp *p, bool *first, unsigned char close)
{
    skip_blanks(p);
    if (p->i >= p->len)
        return cs_jp_fail_at(p, p->len, 1, CS_EPARSE,
                          "unexpected end of JSON text (missing '%c')", close);
    unsigned char c = p->s[p->i];
    if (c == close) {
        p->i++;
        p->depth--;
        return 0;
    }
    if (!*first) {
        if (c != ',')
            return cs_jp_fail_at(p, p->i, 1, CS_EPARSE,
                              "invalid JSON: expected ',' or '%c'", close);
        p->i++;
        skip_blanks(p);
        if (p->i < p->len && p->s[p->i] == close)
            return cs_jp_fail_at(p, p->i, 1, CS_EPARSE,
                              "invalid JSON: trailing comma before '%c'",
                              close);
    }
    *first = false;
    return 1;
}

int cs_jp_member(jp *p, bool *first, jp_str *key)
{
    int rc = next_in(p, first, '}');
    if (rc <= 0)
        return rc;
    if (cs_jp_peek(p) != JP_STR)
        return cs_jp_fail_at(p, p->i < p->len ? p->i : p->len, 1, CS_EPARSE,
                          "invalid JSON: expected a member name in quotes");
    if ((rc = cs_jp_string(p, "member name", key)) < 0)
        return rc;
    skip_blanks(p);
    if (p->i >= p->len || p->s[p->i] != ':')
        return cs_jp_fail_at(p, p->i, 1, CS_EPARSE,
                          "invalid JSON: expected ':' after a member name");
    p->i++;
    return 1;
}

int cs_jp_element(jp *p, bool *first)
{
    return next_in(p, first, ']');
}

/* ---- strings ---------------------------------------------------------------- */

static int arena_put(jp *p, const void *b, size_t n, size_t file_off,
                     bool want_map)
{
    if (cs_grow((void **)&p->arena, &p->acap, p->alen + n + 1, 1, SIZE_MAX))
        return cs_jp_fail_at(p, p->i, 1, CS_ENOMEM, "out of memory");
    if (want_map) {
        if (cs_grow((void **)&p->amap, &p->amap_cap, p->alen + n + 1,
                    sizeof *p->amap, SIZE_MAX))
            return cs_jp_fail_at(p, p->i, 1, CS_ENOMEM, "out of memory");
        for (size_t k = 0; k < n; k++)
            p->amap[p->alen + k] = file_off;
    }
    memcpy(p->arena + p->alen, b, n);
    p->alen += n;
    p->arena[p->alen] = '\0';
    return 0;
}

static int hex4(const unsigned char *s, unsigned *out)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        unsigned char c = s[k];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10u;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10u;
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* Length of the valid UTF-8 sequence at s[0..n) (lead byte >= 0x80), 0 when
 * invalid (RFC 3629 table 4). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf)
        need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
        need = 2;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 3;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (n < need + 1)
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k <= need; k++)
        if (s[k] < 0x80 || s[k] > 0xbf)
            return 0;
    return need + 1;
}

static size_t put_utf8(unsigned cp, unsigned char *o)
{
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xc0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xe0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (unsigned char)(0xf0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

/* An escape at s[i] == '\\': decodes it into o (returns its length) and
 * advances *i past it; < 0 on error. */
static int escape(jp *p, size_t *i, unsigned char *o, size_t *olen)
{
    size_t at = *i;
    if (at + 1 >= p->len)
        return cs_jp_fail_at(p, at, 1, CS_EPARSE,
                          "unexpected end of JSON text inside a string");
    unsigned char c = p->s[at + 1];
    const char *simple = strchr("\"\\/bfnrt", c);
    if (c && simple) {
        static const char out[] = "\"\\/\b\f\n\r\t";
        unsigned char v = (unsigned char)out[simple - "\"\\/bfnrt"];
        if (v < 0x20)
            return cs_jp_fail_at(p, at, 2, CS_EPARSE,
                              "control character (\\%c) in a string", c);
        o[0] = v;
        *olen = 1;
        *i = at + 2;
        return 0;
    }
    if (c != 'u')
        return cs_jp_fail_at(p, at, 2, CS_EPARSE,
                          "invalid escape \"\\%c\" in a string", c);
    unsigned cp;
    if (at + 6 > p->len || hex4(p->s + at + 2, &cp))
        return cs_jp_fail_at(p, at, 2, CS_EPARSE,
                          "\\u must be followed by four hex digits");
    size_t end = at + 6;
    if (cp >= 0xd800 && cp <= 0xdbff) {
        unsigned lo;
        if (end + 6 > p->len || p->s[end] != '\\' || p->s[end + 1] != 'u' ||
            hex4(p->s + end + 2, &lo) || lo < 0xdc00 || lo > 0xdfff)
            return cs_jp_fail_at(p, at, 6, CS_EPARSE,
                              "lone UTF-16 surrogate \\u%04x in a string", cp);
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        end += 6;
    } else if (cp >= 0xdc00 && cp <= 0xdfff) {
        return cs_jp_fail_at(p, at, 6, CS_EPARSE,
                          "lone UTF-16 surrogate \\u%04x in a string", cp);
    }
    if (cp < 0x20)
        return cs_jp_fail_at(p, at, (uint32_t)(end - at), CS_EPARSE,
                          cp == 0 ? "NUL (\\u0000) in a string"
                                  : "control character in a string");
    *olen = put_utf8(cp, o);
    *i = end;
    return 0;
}

static int string_common(jp *p, const char *key, jp_str *out, bool want_map)
{
    if (cs_jp_peek(p) != JP_STR)
        return cs_jp_type_error(p, key, JP_STR);
    size_t q = p->i;
    out->pos = q;
    out->at = cs_jp_file_off(p, q);
    out->off = p->alen;
    size_t i = q + 1;
    for (;;) {
        size_t run = i;
        while (i < p->len && p->s[i] >= 0x20 && p->s[i] < 0x80 &&
               p->s[i] != '"' && p->s[i] != '\\')
            i++;
        if (i > run) {
            if (!want_map) {
                int rc = arena_put(p, p->s + run, i - run, 0, false);
                if (rc < 0)
                    return rc;
            } else {
                for (size_t k = run; k < i; k++) {
                    int rc = arena_put(p, p->s + k, 1, cs_jp_file_off(p, k), true);
                    if (rc < 0)
                        return rc;
                }
            }
        }
        if (i >= p->len)
            return cs_jp_fail_at(p, q, 1, CS_EPARSE,
                              "unterminated string (no closing quote)");
        unsigned char c = p->s[i];
        if (c == '"')
            break;
        if (c == '\\') {
            unsigned char o[4];
            size_t olen = 0, at = i;
            int rc = escape(p, &i, o, &olen);
            if (rc < 0)
                return rc;
            if ((rc = arena_put(p, o, olen, cs_jp_file_off(p, at), want_map)) < 0)
                return rc;
            continue;
        }
        if (c < 0x20)
            return cs_jp_fail_at(p, i, 1, CS_EPARSE,
                              c == 0 ? "NUL byte in a string"
                                     : "control byte 0x%02x in a string "
                                       "(escape it)", c);
        size_t n = utf8_len(p->s + i, p->len - i);
        if (n == 0)
            return cs_jp_fail_at(p, i, 1, CS_EPARSE,
                              "invalid UTF-8 byte 0x%02x in a string", c);
        for (size_t k = 0; k < n; k++) {
            int rc = arena_put(p, p->s + i + k, 1, cs_jp_file_off(p, i + k),
                               want_map);
            if (rc < 0)
                return rc;
        }
        i += n;
    }
    out->len = p->alen - out->off;
    if (want_map) {
        /* one more entry: the end of the decoded text is the closing quote */
        if (cs_grow((void **)&p->amap, &p->amap_cap, p->alen + 1,
                    sizeof *p->amap, SIZE_MAX))
            return cs_jp_fail_at(p, i, 1, CS_ENOMEM, "out of memory");
        p->amap[p->alen] = cs_jp_file_off(p, i);
    }
    p->i = i + 1;
    return 0;
}

int cs_jp_string(jp *p, const char *key, jp_str *out)
{
    return string_common(p, key, out, false);
}

int cs_jp_string_map(jp *p, const char *key, jp_str *out, const size_t **map_out)
{
    /* the map is indexed like the arena: start it empty for this string */
    cs_jp_arena_reset(p);
    int rc = string_common(p, key, out, true);
    if (rc == 0)
        *map_out = p->amap + out->off;
    return rc;
}

/* ---- scalars ---------------------------------------------------------------- */

static int literal(jp *p, const char *word)
{
    size_t n = strlen(word);
    if (p->i + n > p->len || memcmp(p->s + p->i, word, n) != 0)
        return cs_jp_fail_at(p, p->i, 1, CS_EPARSE,
                          "invalid JSON: expected \"%s\"", word);
    p->i += n;
    return 0;
}

/* Checks the number at the cursor (RFC 8259 grammar) and returns its end. */
static int scan_number(jp *p, size_t *end)
{
    size_t i = p->i;
    const unsigned char *s = p->s;
    size_t n = p->len;
    if (i < n && s[i] == '-')
        i++;
    if (i >= n || s[i] < '0' || s[i] > '9')
        return cs_jp_fail_at(p, p->i, 1, CS_EPARSE, "invalid JSON number");
    if (s[i] == '0') {
        i++;
        if (i < n && s[i] >= '0' && s[i] <= '9')
            return cs_jp_fail_at(p, p->i, (uint32_t)(i - p->i + 1), CS_EPARSE,
                              "invalid JSON number: leading zero");
    } else {
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || s[i] < '0' || s[i] > '9')
            return cs_jp_fail_at(p, p->i, (uint32_t)(i - p->i), CS_EPARSE,
                              "invalid JSON number: no digit after '.'");
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= n || s[i] < '0' || s[i] > '9')
            return cs_jp_fail_at(p, p->i, (uint32_t)(i - p->i), CS_EPARSE,
                              "invalid JSON number: no digit in the exponent");
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    *end = i;
    return 0;
}

int cs_jp_number(jp *p, const char *key, double *out)
{
    if (cs_jp_peek(p) != JP_NUM)
        return cs_jp_type_error(p, key, JP_NUM);
    size_t end;
    int rc = scan_number(p, &end);
    if (rc < 0)
        return rc;
    char buf[64];
    size_t n = end - p->i;
    if (n >= sizeof buf)
        return cs_jp_fail_at(p, p->i, 64, CS_EPARSE,
                          "\"%s\": number longer than 63 characters", key);
    memcpy(buf, p->s + p->i, n);
    buf[n] = '\0';
    *out = strtod(buf, NULL);
    p->i = end;
    return 0;
}

int cs_jp_bool(jp *p, const char *key, bool *out)
{
    int k = cs_jp_peek(p);
    if (k != JP_TRUE && k != JP_FALSE)
        return cs_jp_type_error(p, key, JP_TRUE);
    *out = k == JP_TRUE;
    return literal(p, k == JP_TRUE ? "true" : "false");
}

int cs_jp_null(jp *p)
{
    if (cs_jp_peek(p) != JP_NULL)
        return 0;
    int rc = literal(p, "null");
    return rc < 0 ? rc : 1;
}

int cs_jp_skip(jp *p)
{
    int k = cs_jp_peek(p);
    int rc;
    bool first = true;
    jp_str key;
    size_t mark = p->alen;
    switch (k) {
    case JP_OBJ:
        if ((rc = cs_jp_object(p, "value")) < 0)
            return rc;
        while ((rc = cs_jp_member(p, &first, &key)) > 0) {
            p->alen = mark;
            if ((rc = cs_jp_skip(p)) < 0)
                return rc;
        }
        p->alen = mark;
        return rc;
    case JP_ARR:
        if ((rc = cs_jp_array(p, "value")) < 0)
            return rc;
        while ((rc = cs_jp_element(p, &first)) > 0)
            if ((rc = cs_jp_skip(p)) < 0)
                return rc;
        return rc;
    case JP_STR:
        rc = cs_jp_string(p, "value", &key);
        p->alen = mark;
        return rc;
    case JP_NUM: {
        size_t end;
        if ((rc = scan_number(p, &end)) < 0)
            return rc;
        p->i = end;
        return 0;
    }
    case JP_TRUE:
        return literal(p, "true");
    case JP_FALSE:
        return literal(p, "false");
    case JP_NULL:
        return literal(p, "null");
    default:
        return bad_value(p, k);
    }
}
