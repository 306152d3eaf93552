/*
 * engine/report/writer.c — shared output helpers of the report writers:
 * a streaming JSON emitter, RFC 4180 CSV fields, HTML escaping, and text
 * layout helpers (thousands separators, columns, word wrap).
 *
 * Does: format values onto a caller's FILE*. Does not: allocate, open or
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
#include "report/writer.h"

#include "core/error_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

int cs_out_finish(FILE *f, const char *what, cs_error *err)
{
    if (fflush(f) != 0 || ferror(f)) {
        int e = errno ? errno : EIO;
        return cs_fail(err, CS_EIO, "writing the %s: %s", what, strerror(e));
    }
    return 0;
}

/* ---- JSON -------------------------------------------------------------------- */

void cs_json_init(cs_json *j, FILE *f, unsigned flags)
{
    memset(j, 0, sizeof *j);
    j->f = f;
    j->flags = flags;
}

static void indent(cs_json *j)
{
    if (!(j->flags & CS_JSON_PRETTY))
        return;
    fputc('\n', j->f);
    for (unsigned i = 0; i < j->depth; i++)
        fputs("  ", j->f);
}

/* Called before every value and every key: the separator and indentation
 * that position needs. A value right after its key needs neither. */
static void before_item(cs_json *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (j->depth == 0)
        return;
    if (j->has_items[j->depth - 1])
        fputc(',', j->f);
    j->has_items[j->depth - 1] = true;
    indent(j);
}

static int begin(cs_json *j, char open, char close)
{
    if (j->depth >= CS_JSON_MAX_DEPTH)
        return -1;
    before_item(j);
    fputc(open, j->f);
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
    if (j->has_items[j->depth])
        indent(j);
    fputc(j->closer[j->depth], j->f);
    j->after_key = false;
}

void cs_json_key(cs_json *j, const char *key)
{
    before_item(j);
    cs_json_write_string(j->f, key, strlen(key));
    fputs((j->flags & CS_JSON_PRETTY) ? ": " : ":", j->f);
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

void cs_json_write_string(FILE *f, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', f);
    size_t i = 0;
    while (i < len) {
        /* a run of printable ASCII needs no escaping: one write */
        size_t run = i;
        while (run < len && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\')
            run++;
        if (run > i) {
            fwrite(p + i, 1, run - i, f);
            i = run;
            continue;
        }
        unsigned c = p[i];
        switch (c) {
        case '"': fputs("\\\"", f); i++; continue;
        case '\\': fputs("\\\\", f); i++; continue;
        case '\n': fputs("\\n", f); i++; continue;
        case '\r': fputs("\\r", f); i++; continue;
        case '\t': fputs("\\t", f); i++; continue;
        case '\b': fputs("\\b", f); i++; continue;
        case '\f': fputs("\\f", f); i++; continue;
        default: break;
        }
        if (c < 0x20) {
            fprintf(f, "\\u%04x", c);
            i++;
            continue;
        }
        size_t n = utf8_seq(p + i, len - i);
        if (n == 0) {
            fputs("\xef\xbf\xbd", f); /* U+FFFD REPLACEMENT CHARACTER */
            i++;
            continue;
        }
        fwrite(p + i, 1, n, f);
        i += n;
    }
    fputc('"', f);
}

void cs_json_string(cs_json *j, const char *s)
{
    if (!s) {
        cs_json_null(j);
        return;
    }
    cs_json_string_n(j, s, strlen(s));
}

void cs_json_string_n(cs_json *j, const char *s, size_t len)
{
    before_item(j);
    cs_json_write_string(j->f, s, len);
}

void cs_json_u64(cs_json *j, uint64_t v)
{
    before_item(j);
    fprintf(j->f, "%" PRIu64, v);
}

void cs_json_number_text(cs_json *j, const char *digits)
{
    before_item(j);
    fputs(digits, j->f);
}

void cs_json_i64(cs_json *j, int64_t v)
{
    before_item(j);
    fprintf(j->f, "%" PRId64, v);
}

void cs_json_double(cs_json *j, double v)
{
    before_item(j);
    if (!isfinite(v))
        fputs("null", j->f);
    else
        fprintf(j->f, "%.17g", v);
}

void cs_json_bool(cs_json *j, bool v)
{
    before_item(j);
    fputs(v ? "true" : "false", j->f);
}

void cs_json_null(cs_json *j)
{
    before_item(j);
    fputs("null", j->f);
}

void cs_json_prefix(cs_json *j, const cs_prefix *p)
{
    char buf[CS_PREFIX_STRCAP];
    size_t n = cs_prefix_format(p, buf, sizeof buf);
    before_item(j);
    /* Canonical prefixes are plain ASCII: no escaping needed. */
    fputc('"', j->f);
    fwrite(buf, 1, n < sizeof buf ? n : sizeof buf - 1, j->f);
    fputc('"', j->f);
}

void cs_json_newline(cs_json *j)
{
    fputc('\n', j->f);
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
        fputc(',', c->f);
    if (!s || len == 0)
        return;
    bool quote = s[0] == ' ' || s[len - 1] == ' ';
    for (size_t i = 0; i < len && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote) {
        fwrite(s, 1, len, c->f);
        return;
    }
    fputc('"', c->f);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"')
            fputc('"', c->f);
        fputc(s[i], c->f);
    }
    fputc('"', c->f);
}

void cs_csv_field(cs_csv *c, const char *s)
{
    cs_csv_field_n(c, s, s ? strlen(s) : 0);
}

void cs_csv_u64(cs_csv *c, uint64_t v)
{
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%" PRIu64, v);
    cs_csv_field_n(c, buf, (size_t)n);
}

void cs_csv_prefix(cs_csv *c, const cs_prefix *p)
{
    char buf[CS_PREFIX_STRCAP];
    cs_prefix_format(p, buf, sizeof buf);
    cs_csv_field(c, buf);
}

void cs_csv_end_row(cs_csv *c)
{
    fputc('\n', c->f);
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
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* ---- text ---------------------------------------------------------------------- */

char *cs_text_count(uint64_t v, char buf[CS_TEXT_COUNT_CAP])
{
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%" PRIu64, v);
    size_t o = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

static void col(FILE *f, const char *s, unsigned width, bool right)
{
    size_t n = s ? strlen(s) : 0;
    if (width == 0) {
        if (n)
            fwrite(s, 1, n, f);
        return;
    }
    if (n > width) {
        fwrite(s, 1, width - 1, f);
        fputc('~', f);
        return;
    }
    if (right)
        cs_text_repeat(f, ' ', width - (unsigned)n);
    if (n)
        fwrite(s, 1, n, f);
    if (!right)
        cs_text_repeat(f, ' ', width - (unsigned)n);
}

void cs_text_col(FILE *f, const char *s, unsigned width) { col(f, s, width, false); }
void cs_text_rcol(FILE *f, const char *s, unsigned width) { col(f, s, width, true); }

void cs_text_repeat(FILE *f, char ch, unsigned n)
{
    while (n--)
        fputc(ch, f);
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
        unsigned wl = (unsigned)(p - w);
        if (line_open && used + 1 + wl > avail) {
            fputc('\n', f);
            line_open = false;
        }
        if (!line_open) {
            cs_text_repeat(f, ' ', ind);
            used = 0;
            line_open = true;
        } else {
            fputc(' ', f);
            used++;
        }
        fwrite(w, 1, wl, f);
        used += wl;
    }
    fputc('\n', f);
}
