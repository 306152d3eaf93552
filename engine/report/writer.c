/*
 * engine/report/writer.c — shared output helpers of the report writers:
 * a streaming JSON emitter, RFC 4180 CSV fields, HTML escaping, and text
 * layout helpers (thousands separators, columns, word wrap).
 *
 * Does: format values onto a caller's FILE* (unlocked stdio: one writer
 * thread per stream). Does not: allocate, open or
 * close streams, or check each write (stdio errors are sticky; the report
 * ends with cs_out_finish, which reports them once as CS_EIO).
 *
 * JSON emitter state (cs_json): one "has items" flag and one closing
 * character per open level, so a comma goes before every item but the first
 * and end() knows what to close:
 *
 *     depth 0          1              2
 *     {"summary": {"vpcs": 3, ...}, "pairs": [ {...}, {...} ] }
 *      ^ closer '}'   ^ closer '}'           ^ closer ']'
 *
 * Strings are UTF-8 in and UTF-8 out; an invalid sequence becomes U+FFFD so
 * a report over a hostile name tag still parses (RFC 8259 section 8.1).
 * References: RFC 8259 (JSON), RFC 4180 (CSV), HTML Living Standard
 * (escaping text and attribute values). Tests: tests/test_audit.c (writer
 * cases) and the CLI golden tests that parse every JSON report back.
 */
/* fputc_unlocked, fputs_unlocked, fwrite_unlocked: a report is written by
 * one thread, and the stream lock taken per token was a third of the
 * writer's own time. */
#define _GNU_SOURCE
#include "report/writer.h"

#include "core/error_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

static void put_utf8(FILE *f, const char *s, size_t len, bool keep_controls);
static void write_cstr(FILE *f, const char *s);
static void put_utf8_keep(FILE *f, const char *s, size_t len) { put_utf8(f, s, len, true); }

int cs_out_finish(FILE *f, const char *what, cs_error *err)
{
    if (fflush(f) != 0 || ferror(f)) {
        int e = errno ? errno : EIO;
        return cs_fail(err, CS_EIO, "writing the %s: %s", what, strerror(e));
    }
    return 0;
}

void cs_sbuf_printf(cs_sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = b->len < b->cap ? b->cap - b->len : 0;
    int n = vsnprintf(room ? b->p + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        b->len += (size_t)n;
}

/* ---- JSON -------------------------------------------------------------------- */

void cs_json_init(cs_json *j, FILE *f, unsigned flags)
{
    memset(j, 0, sizeof *j);
    j->f = f;
    j->flags = flags;
}

/* Room for what goes before an item: a comma, a newline and the
 * indentation of the deepest level. */
#define LEAD_CAP (2 + 2 * CS_JSON_MAX_DEPTH)
/* Room a token is assembled in before its one write: the lead, a short
 * string or number with its quotes, and ": " after a key. */
#define TOKEN_CAP (LEAD_CAP + 192)

/* A newline and the indentation of the current level, into buf (pretty
 * only); returns the bytes. */
static size_t put_indent(const cs_json *j, char *buf)
{
    if (!(j->flags & CS_JSON_PRETTY))
        return 0;
    buf[0] = '\n';
    memset(buf + 1, ' ', 2 * (size_t)j->depth);
    return 1 + 2 * (size_t)j->depth;
}

/* What goes before every value and every key, into buf: the separator and
 * indentation that position needs (a value right after its key needs
 * neither); returns the bytes. Tokens are assembled whole and written with
 * one call: the stdio call per comma, newline, indentation step and quote
 * cost more than the text (a 150 MB audit report is 20 million tokens). */
static size_t lead(cs_json *j, char *buf)
{
    if (j->after_key) {
        j->after_key = false;
        return 0;
    }
    if (j->depth == 0)
        return 0;
    size_t n = 0;
    if (j->has_items[j->depth - 1])
        buf[n++] = ',';
    j->has_items[j->depth - 1] = true;
    return n + put_indent(j, buf + n);
}

static void before_item(cs_json *j)
{
    char buf[LEAD_CAP];
    size_t n = lead(j, buf);
    if (n)
        fwrite_unlocked(buf, 1, n, j->f);
}

/* Appends a quoted plain string (printable ASCII but " and \) to buf[n..]
 * when all of it fits below TOKEN_CAP - 3 (room for the closing quote and
 * ": "); returns the new length, or 0 when s needs escaping or is too long
 * (buf is then unchanged past n). */
static inline bool json_plain(unsigned char c);
static size_t put_plain(char *buf, size_t n, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t o = n + 1;
    while (json_plain(*p) && o < TOKEN_CAP - 3)
        buf[o++] = (char)*p++;
    if (*p != 0)
        return 0;
    buf[n] = '"';
    buf[o++] = '"';
    return o;
}

static int begin(cs_json *j, char open, char close)
{
    if (j->depth >= CS_JSON_MAX_DEPTH)
        return -1;
    char buf[LEAD_CAP + 1];
    size_t n = lead(j, buf);
    buf[n++] = open;
    fwrite_unlocked(buf, 1, n, j->f);
    j->closer[j->depth] = close;
    j->has_items[j->depth] = false;
    j->depth++;
    return 0;
}

int cs_json_begin_object(cs_json *j) { return begin(j, '{', '}'); }
int cs_json_begin_array(cs_json *j) { return begin(j, '[', ']'); }

void cs_json_end(cs_json *j)
{
    if (j->depth == 0)
        return;
    j->depth--;
    /* An empty container stays on one line: "pairs": [] */
    char buf[LEAD_CAP + 1];
    size_t n = j->has_items[j->depth] ? put_indent(j, buf) : 0;
    buf[n++] = j->closer[j->depth];
    fwrite_unlocked(buf, 1, n, j->f);
    j->after_key = false;
}

void cs_json_key(cs_json *j, const char *key)
{
    char buf[TOKEN_CAP];
    size_t n = lead(j, buf), k = put_plain(buf, n, key);
    if (k) {
        buf[k++] = ':';
        if (j->flags & CS_JSON_PRETTY)
            buf[k++] = ' ';
        fwrite_unlocked(buf, 1, k, j->f);
    } else {
        fwrite_unlocked(buf, 1, n, j->f);
        write_cstr(j->f, key);
        fputs_unlocked((j->flags & CS_JSON_PRETTY) ? ": " : ":", j->f);
    }
    j->after_key = true;
}

/* Length of the valid UTF-8 sequence starting at s[0] (1..4), or 0 when it
 * is not one (stray continuation byte, overlong form, surrogate, > U+10FFFF,
 * or cut short by the end of the string). */
static size_t utf8_seq(const unsigned char *s, size_t avail)
{
    unsigned c = s[0];
    size_t n;
    unsigned min;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2; cp = c & 0x1f; min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3; cp = c & 0x0f; min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4; cp = c & 0x07; min = 0x10000;
    } else {
        return 0;
    }
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/* A byte a JSON string carries as it is: printable ASCII but " and \. */
static inline bool json_plain(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/* The escape or UTF-8 sequence at p[0] (not plain; avail bytes readable,
 * a NUL among them stopping any sequence): written; returns bytes used. */
static size_t put_special(FILE *f, const unsigned char *p, size_t avail)
{
    unsigned c = p[0];
    switch (c) {
    case '"': fputs_unlocked("\\\"", f); return 1;
    case '\\': fputs_unlocked("\\\\", f); return 1;
    case '\n': fputs_unlocked("\\n", f); return 1;
    case '\r': fputs_unlocked("\\r", f); return 1;
    case '\t': fputs_unlocked("\\t", f); return 1;
    case '\b': fputs_unlocked("\\b", f); return 1;
    case '\f': fputs_unlocked("\\f", f); return 1;
    default: break;
    }
    if (c < 0x20) {
        static const char hex[] = "0123456789abcdef";
        char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        fwrite_unlocked(u, 1, sizeof u, f);
        return 1;
    }
    size_t n = utf8_seq(p, avail);
    if (n == 0) {
        fputs_unlocked("\xef\xbf\xbd", f); /* U+FFFD REPLACEMENT CHARACTER */
        return 1;
    }
    fwrite_unlocked(p, 1, n, f);
    return n;
}

void cs_json_write_string(FILE *f, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    fputc_unlocked('"', f);
    size_t i = 0;
    while (i < len) {
        /* a run of printable ASCII needs no escaping: one write */
        size_t run = i;
        while (run < len && json_plain(p[run]))
            run++;
        if (run > i) {
            fwrite_unlocked(p + i, 1, run - i, f);
            i = run;
            continue;
        }
        i += put_special(f, p + i, len - i);
    }
    fputc_unlocked('"', f);
}

/* cs_json_write_string of a NUL-terminated string, in one pass (no strlen
 * first): the NUL ends every plain run, and a UTF-8 sequence cut by it is
 * invalid (a NUL is no continuation byte), so at most 4 bytes are asked
 * for and none past the NUL is read. */
static void write_cstr(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    fputc_unlocked('"', f);
    for (;;) {
        const unsigned char *q = p;
        while (json_plain(*q))
            q++;
        if (q > p) {
            fwrite_unlocked(p, 1, (size_t)(q - p), f);
            p = q;
        }
        if (*p == 0)
            break;
        p += put_special(f, p, 4);
    }
    fputc_unlocked('"', f);
}

void cs_json_token(cs_json *j, const char *tok, size_t len)
{
    char buf[TOKEN_CAP];
    size_t n = lead(j, buf);
    if (len <= TOKEN_CAP - n) {
        memcpy(buf + n, tok, len);
        fwrite_unlocked(buf, 1, n + len, j->f);
        return;
    }
    fwrite_unlocked(buf, 1, n, j->f);
    fwrite_unlocked(tok, 1, len, j->f);
}

size_t cs_json_quote_plain(char *buf, size_t cap, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 1;
    if (cap < 2)
        return 0;
    while (json_plain(*p) && o < cap - 1)
        buf[o++] = (char)*p++;
    if (*p != 0)
        return 0;
    buf[0] = '"';
    buf[o++] = '"';
    return o;
}

void cs_json_string(cs_json *j, const char *s)
{
    if (!s) {
        cs_json_null(j);
        return;
    }
    char buf[TOKEN_CAP];
    size_t n = lead(j, buf), k = put_plain(buf, n, s);
    if (k) {
        fwrite_unlocked(buf, 1, k, j->f);
    } else {
        fwrite_unlocked(buf, 1, n, j->f);
        write_cstr(j->f, s);
    }
}

size_t cs_fmt_u64(char buf[CS_FMT_U64_CAP], uint64_t v)
{
    /* the digits counted first, then written two at a time from the
     * right, straight into buf: no printf, no locale, no copy */
    static const char pairs[201] = "00010203040506070809101112131415161718192021222324"
                                   "25262728293031323334353637383940414243444546474849"
                                   "50515253545556575859606162636465666768697071727374"
                                   "75767778798081828384858687888990919293949596979899";
    if (v < 10) { /* most counts of a bulk query: one digit, no loop */
        buf[0] = (char)('0' + v);
        buf[1] = '\0';
        return 1;
    }
    size_t len = 2;
    for (uint64_t t = v / 100; t; t /= 10)
        len++;
    size_t n = len;
    buf[n] = '\0';
    while (v >= 100) { /* straight into buf, from its last digit */
        unsigned d = (unsigned)(v % 100) * 2;
        v /= 100;
        buf[--n] = pairs[d + 1];
        buf[--n] = pairs[d];
    }
    if (v >= 10) {
        buf[--n] = pairs[v * 2 + 1];
        buf[--n] = pairs[v * 2];
    } else {
        buf[--n] = (char)('0' + v);
    }
    return len;
}

void cs_out_u64(FILE *f, uint64_t v)
{
    char b[CS_FMT_U64_CAP];
    fwrite_unlocked(b, 1, cs_fmt_u64(b, v), f);
}

void cs_json_u64(cs_json *j, uint64_t v)
{
    char buf[LEAD_CAP + CS_FMT_U64_CAP];
    size_t n = lead(j, buf);
    n += cs_fmt_u64(buf + n, v);
    fwrite_unlocked(buf, 1, n, j->f);
}

void cs_json_number_text(cs_json *j, const char *digits)
{
    before_item(j);
    fputs_unlocked(digits, j->f);
}

void cs_json_i64(cs_json *j, int64_t v)
{
    before_item(j);
    if (v < 0) {
        fputc_unlocked('-', j->f);
        cs_out_u64(j->f, (uint64_t)0 - (uint64_t)v);
    } else {
        cs_out_u64(j->f, (uint64_t)v);
    }
}

void cs_json_double(cs_json *j, double v)
{
    before_item(j);
    if (!isfinite(v))
        fputs_unlocked("null", j->f);
    else
        fprintf(j->f, "%.17g", v);
}

/* A word (true, false, null) after its lead, in one write. */
static void json_word(cs_json *j, const char *w, size_t len)
{
    char buf[LEAD_CAP + 8];
    size_t n = lead(j, buf);
    memcpy(buf + n, w, len);
    fwrite_unlocked(buf, 1, n + len, j->f);
}

void cs_json_bool(cs_json *j, bool v)
{
    if (v)
        json_word(j, "true", 4);
    else
        json_word(j, "false", 5);
}

void cs_json_null(cs_json *j)
{
    json_word(j, "null", 4);
}

void cs_json_prefix(cs_json *j, const cs_prefix *p)
{
    char buf[LEAD_CAP + CS_PREFIX_STRCAP + 2];
    size_t n = lead(j, buf);
    /* Canonical prefixes are plain ASCII: no escaping needed. */
    buf[n++] = '"';
    size_t w = cs_prefix_format(p, buf + n, CS_PREFIX_STRCAP);
    n += w < CS_PREFIX_STRCAP ? w : CS_PREFIX_STRCAP - 1;
    buf[n++] = '"';
    fwrite_unlocked(buf, 1, n, j->f);
}

void cs_json_newline(cs_json *j)
{
    fputc_unlocked('\n', j->f);
}

void cs_json_kv_string(cs_json *j, const char *key, const char *s)
{
    cs_json_key(j, key);
    cs_json_string(j, s);
}

void cs_json_kv_u64(cs_json *j, const char *key, uint64_t v)
{
    cs_json_key(j, key);
    cs_json_u64(j, v);
}

void cs_json_kv_i64(cs_json *j, const char *key, int64_t v)
{
    cs_json_key(j, key);
    cs_json_i64(j, v);
}

void cs_json_kv_bool(cs_json *j, const char *key, bool v)
{
    cs_json_key(j, key);
    cs_json_bool(j, v);
}

void cs_json_kv_prefix(cs_json *j, const char *key, const cs_prefix *p)
{
    cs_json_key(j, key);
    cs_json_prefix(j, p);
}

/* ---- CSV ------------------------------------------------------------------------ */

void cs_csv_init(cs_csv *c, FILE *f)
{
    c->f = f;
    c->col = 0;
}

void cs_csv_field_n(cs_csv *c, const char *s, size_t len)
{
    if (c->col++)
        fputc_unlocked(',', c->f);
    if (!s || len == 0)
        return;
    bool quote = s[0] == ' ' || s[len - 1] == ' ';
    for (size_t i = 0; i < len && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote) {
        put_utf8_keep(c->f, s, len);
        return;
    }
    fputc_unlocked('"', c->f);
    size_t from = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"') {
            put_utf8_keep(c->f, s + from, i + 1 - from);
            fputc_unlocked('"', c->f);
            from = i + 1;
        }
    }
    put_utf8_keep(c->f, s + from, len - from);
    fputc_unlocked('"', c->f);
}

void cs_csv_field(cs_csv *c, const char *s)
{
    cs_csv_field_n(c, s, s ? strlen(s) : 0);
}

void cs_csv_u64(cs_csv *c, uint64_t v)
{
    char b[CS_FMT_U64_CAP];
    cs_csv_field_n(c, b, cs_fmt_u64(b, v));
}

void cs_csv_prefix(cs_csv *c, const cs_prefix *p)
{
    char buf[CS_PREFIX_STRCAP];
    cs_prefix_format(p, buf, sizeof buf);
    cs_csv_field(c, buf);
}

void cs_csv_end_row(cs_csv *c)
{
    fputc_unlocked('\n', c->f);
    c->col = 0;
}

void cs_csv_header(cs_csv *c, const char *const *names)
{
    for (; *names; names++)
        cs_csv_field(c, *names);
    cs_csv_end_row(c);
}

/* ---- HTML -------------------------------------------------------------------- */

void cs_html_escape(FILE *f, const char *s)
{
    if (!s)
        return;
    size_t from = 0, i = 0;
    for (; s[i]; i++) {
        const char *ent;
        switch (s[i]) {
        case '&': ent = "&amp;"; break;
        case '<': ent = "&lt;"; break;
        case '>': ent = "&gt;"; break;
        case '"': ent = "&quot;"; break;
        case '\'': ent = "&#39;"; break;
        default: continue;
        }
        put_utf8_keep(f, s + from, i - from);
        fputs_unlocked(ent, f);
        from = i + 1;
    }
    put_utf8_keep(f, s + from, i - from);
}

/* ---- text ---------------------------------------------------------------------- */

char *cs_text_count(uint64_t v, char buf[CS_TEXT_COUNT_CAP])
{
    char digits[CS_FMT_U64_CAP];
    int n = (int)cs_fmt_u64(digits, v);
    size_t o = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

/* Display columns of code point cp in a terminal: 0 for combining marks
 * and zero-width characters, 2 for East Asian wide and fullwidth forms and
 * emoji (Unicode UAX #11 "W"/"F" ranges, the blocks reports meet), else 1. */
static unsigned cp_width(uint32_t cp)
{
    if ((cp >= 0x0300 && cp <= 0x036f) || (cp >= 0x0483 && cp <= 0x0489) ||
        (cp >= 0x0591 && cp <= 0x05bd) || (cp >= 0x0610 && cp <= 0x061a) ||
        (cp >= 0x064b && cp <= 0x065f) || (cp >= 0x0900 && cp <= 0x0903) ||
        (cp >= 0x093a && cp <= 0x094f && cp != 0x093d) || (cp >= 0x1ab0 && cp <= 0x1aff) ||
        (cp >= 0x1dc0 && cp <= 0x1dff) || (cp >= 0x200b && cp <= 0x200f) ||
        (cp >= 0x20d0 && cp <= 0x20ff) || (cp >= 0xfe00 && cp <= 0xfe0f) ||
        (cp >= 0xfe20 && cp <= 0xfe2f) || cp == 0xfeff)
        return 0;
    if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0x303e) ||
        (cp >= 0x3041 && cp <= 0x33ff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
        (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xa000 && cp <= 0xa4cf) ||
        (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
        (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
        (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1f64f) ||
        (cp >= 0x1f900 && cp <= 0x1f9ff) || (cp >= 0x20000 && cp <= 0x3fffd))
        return 2;
    return 1;
}

/* One character of s[0..len): its byte length (an invalid byte counts as one
 * byte, shown as U+FFFD, one column) and its display width. */
static size_t next_char(const char *s, size_t len, unsigned *width)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = utf8_seq(p, len);
    if (n == 0 || (n == 1 && (p[0] < 0x20 || p[0] == 0x7f))) {
        *width = 1; /* shown as U+FFFD */
        return 1;
    }
    uint32_t cp = n == 1 ? p[0] : n == 2 ? p[0] & 0x1fu : n == 3 ? p[0] & 0x0fu : p[0] & 0x07u;
    for (size_t i = 1; i < n; i++)
        cp = cp << 6 | (p[i] & 0x3fu);
    *width = cp_width(cp);
    return n;
}

/* Writes s[0..len) as valid UTF-8; bytes that start no valid sequence
 * become U+FFFD, and so do ASCII control characters unless keep_controls
 * (CSV and HTML carry a quoted newline or a tab; a text column cannot). */
static void put_utf8(FILE *f, const char *s, size_t len, bool keep_controls)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0;
    while (i < len) {
        size_t n = p[i] >= 0x20 && p[i] < 0x7f ? 1 : utf8_seq(p + i, len - i);
        if (n == 0 || (n == 1 && !keep_controls && (p[i] < 0x20 || p[i] == 0x7f))) {
            fwrite_unlocked(p + run, 1, i - run, f);
            fputs_unlocked("\xef\xbf\xbd", f);
            i++;
            run = i;
            continue;
        }
        i += n;
    }
    fwrite_unlocked(p + run, 1, i - run, f);
}

void cs_out_utf8(FILE *f, const char *s, size_t len) { put_utf8(f, s, len, false); }

unsigned cs_text_width(const char *s)
{
    unsigned w = 0, cw;
    size_t len = s ? strlen(s) : 0;
    for (size_t i = 0; i < len; i += next_char(s + i, len - i, &cw), w += cw)
        ;
    return w;
}

/* Length of the leading run of printable ASCII (one column a byte). */
static size_t ascii_run(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f)
        i++;
    return i;
}

static void col(FILE *f, const char *s, unsigned width, bool right, bool cut)
{
    size_t len = s ? strlen(s) : 0;
    if (ascii_run(s, len) == len) {
        /* the common case (ids, prefixes, regions): bytes are columns */
        if (cut && width && len > width) {
            fwrite_unlocked(s, 1, width - 1, f);
            fputc_unlocked('~', f);
            return;
        }
        size_t pad = cut || width <= len ? 0 : width - len;
        if (right)
            cs_text_repeat(f, ' ', (unsigned)pad);
        fwrite_unlocked(s, 1, len, f);
        if (!right)
            cs_text_repeat(f, ' ', (unsigned)pad);
        return;
    }
    unsigned w = cs_text_width(s);
    if (cut && width && w > width) {
        /* the longest run of whole characters that leaves a column for '~' */
        size_t end = 0;
        unsigned used = 0, cw;
        while (end < len) {
            size_t n = next_char(s + end, len - end, &cw);
            if (used + cw > width - 1)
                break;
            used += cw;
            end += n;
        }
        /* combining marks after the last kept character belong to it */
        while (end < len) {
            size_t n = next_char(s + end, len - end, &cw);
            if (cw != 0)
                break;
            end += n;
        }
        cs_out_utf8(f, s, end);
        fputc_unlocked('~', f);
        return;
    }
    if (cut) { /* a name ends its row: no padding */
        cs_out_utf8(f, s ? s : "", len);
        return;
    }
    unsigned pad = width > w ? width - w : 0;
    if (right)
        cs_text_repeat(f, ' ', pad);
    cs_out_utf8(f, s ? s : "", len);
    if (!right)
        cs_text_repeat(f, ' ', pad);
}

void cs_text_col(FILE *f, const char *s, unsigned width) { col(f, s, width, false, false); }
void cs_text_rcol(FILE *f, const char *s, unsigned width) { col(f, s, width, true, false); }
void cs_text_name(FILE *f, const char *s, unsigned width) { col(f, s, width, false, true); }

void cs_text_repeat(FILE *f, char ch, unsigned n)
{
    char b[64];
    memset(b, ch, sizeof b);
    while (n) {
        unsigned k = n < sizeof b ? n : (unsigned)sizeof b;
        fwrite_unlocked(b, 1, k, f);
        n -= k;
    }
}

void cs_text_wrap(FILE *f, const char *text, unsigned ind, unsigned width)
{
    unsigned avail = width > ind + 10 ? width - ind : 10;
    const char *p = text;
    unsigned used = 0; /* characters on the current line after the indent */
    bool line_open = false;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        const char *w = p;
        while (*p && *p != ' ')
            p++;
        size_t wb = (size_t)(p - w);
        unsigned wl = 0, cw;
        for (size_t k = 0; k < wb; k += next_char(w + k, wb - k, &cw), wl += cw)
            ;
        if (line_open && used + 1 + wl > avail) {
            fputc_unlocked('\n', f);
            line_open = false;
        }
        if (!line_open) {
            cs_text_repeat(f, ' ', ind);
            used = 0;
            line_open = true;
        } else {
            fputc_unlocked(' ', f);
            used++;
        }
        cs_out_utf8(f, w, wb);
        used += wl;
    }
    fputc_unlocked('\n', f);
}

/* ---- VPC display facts ------------------------------------------------------- */

cs_vpc_facts cs_report_vpc(const cs_snapshot *s, uint32_t vpc)
{
    cs_vpc_facts f = {"?", "", "", "", false, false, false};
    cs_vpc vp;
    if (!s || vpc == CS_IDX_NONE || cs_estate_vpc(s, vpc, &vp) != 0)
        return f;
    f.known = true;
    f.id = vp.id;
    f.name = vp.name ? vp.name : "";
    f.is_default = vp.is_default;
    f.pseudo = vp.pseudo;
    cs_account a;
    if (cs_estate_account(s, vp.account_idx, &a) == 0 && a.id)
        f.account = a.id;
    cs_region rg;
    if (cs_estate_region(s, vp.region_idx, &rg) == 0 && rg.name)
        f.region = rg.name;
    return f;
}

const char *cs_report_vpc_id(const cs_snapshot *s, uint32_t vpc)
{
    cs_vpc vp;
    if (!s || vpc == CS_IDX_NONE || cs_estate_vpc(s, vpc, &vp) != 0)
        return "?";
    return vp.id;
}

void cs_json_vpc(cs_json *j, const cs_vpc_facts *v)
{
    cs_json_begin_object(j);
    cs_json_kv_string(j, "vpc", v->id);
    cs_json_kv_string(j, "name", v->name);
    cs_json_kv_string(j, "account", v->account);
    cs_json_kv_string(j, "region", v->region);
    cs_json_kv_bool(j, "default", v->is_default);
    cs_json_end(j);
}
