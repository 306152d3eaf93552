/*
 * engine/ingest/json_stream.c — the byte layer of the AWS CLI JSON reader:
 * reads a file (or a buffer) in 1 MiB chunks, checks the raw bytes, hands
 * yajl whole tokens only, and turns every offset into a line and column.
 *
 * Does: read(), the prescan (control bytes, UTF-8, token length), the span
 * and carry logic that makes yajl's events independent of read sizes,
 * positions and carets, the error plumbing every layer of the reader uses
 * (cs_aj_error, cs_aj_settle, cs_aj_fail_*), and the entry points that open
 * a file and drive a parse (cs_aj_read_fd, cs_aj_read_file,
 * cs_ingest_aws_json_buf, and the public-facing cs_ingest_aws_json /
 * cs_ingest_aws_json_fd, which check the default region and account once). Several JSON documents one after the other
 * (concatenated pages) are one stream: yajl runs with
 * yajl_allow_multiple_values.
 * Does not: know any EC2 shape. The callbacks it hands yajl
 * (cs_aj_callbacks) and what they do with keys and values live in
 * engine/ingest/aws_json.c; the directory walk in engine/ingest/estate_dir.c.
 *
 * STRUCTURE. One file is one pass of three layers over each 1 MiB read:
 *
 *   read() ──> prescan ──> span ──> yajl_parse ──> callbacks ──> state
 *              (bytes)     (whole                               machine
 *                          tokens)
 *
 *   state machine: a frame stack, one frame per open object or array of a
 *   known shape; unknown subtrees are skipped with a depth counter.
 *
 * The prescan walks the raw bytes once, before yajl sees them, and stops at
 * the first byte no JSON text may hold: a NUL or other control byte, a raw
 * newline inside a string, invalid UTF-8 (overlong, surrogate, beyond
 * U+10FFFF, truncated), a non-ASCII byte between tokens, or a token longer
 * than CS_AWS_JSON_TOKEN_MAX. Those errors get an exact column, and a 2 GB
 * string is an error at its first byte, not a 2 GB buffer.
 *
 * Spans: yajl is handed whole tokens only, one span per read. The token
 * still open at the end of a read (and a number or literal just before it,
 * which yajl cannot finish without the next byte) is held back and copied
 * to a carry buffer; the next read's span is the carry plus that read up to
 * its own held-back token. So yajl never buffers a token across calls, and
 * everything it reports (events, error offsets) is the same whatever the
 * read size: tests/test_aws_json.c and the fuzzer check it, one byte to a
 * whole file at a time. yajl's error offsets are snapped to the start of
 * the token they fall in.
 *
 * Positions: yajl_get_bytes_consumed inside a callback is the end of the
 * current token in the span; the token's start is found from it (strings:
 * back to the opening quote; numbers and literals: by their length). Lines
 * are counted lazily with memchr: positions are asked for in increasing
 * order and each span is counted to its end once parsed, so a file is
 * scanned for newlines once whatever its line lengths. Columns count bytes.
 * *
 * Concurrency: none inside; one parse works on one estate, which must not be
 * used by another thread meanwhile.
 *
 * References: RFC 8259 (JSON), RFC 3629 (UTF-8); yajl 2 (yajl_parse.h).
 *
 * Tests: tests/test_aws_json.c (every fixture re-read at every read size),
 * tests/fuzz/fuzz_aws_json.c.
 */
#include "ingest/aws_json_internal.h"

#include "core/error_internal.h"
#include "core/grow_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- positions ---------------------------------------------------------------- */

/* Counts newlines up to absolute offset `to`, over bytes of the current
 * span only: every span is counted to its end once parsed (parse_span), so
 * what lies between lc_off and the span is inside a token (one held back
 * at the end of a read), which holds no newline. */
static void advance(aj *p, uint64_t to)
{
    uint64_t end = p->base + p->chunk_len;
    if (to > end)
        to = end;
    if (to <= p->lc_off)
        return;
    uint64_t from = p->lc_off > p->base ? p->lc_off : p->base;
    if (from >= to) {
        /* All of [lc_off, to) is before this span, inside a token. */
        p->lc_off = to;
        return;
    }
    const unsigned char *s = p->chunk + (from - p->base);
    const unsigned char *e = p->chunk + (to - p->base);
    while (s < e) {
        const unsigned char *nl = memchr(s, '\n', (size_t)(e - s));
        if (!nl)
            break;
        p->line++;
        p->line_start = p->base + (uint64_t)(nl - p->chunk) + 1;
        s = nl + 1;
    }
    p->lc_off = to;
}

/* The position of absolute offset `off`: a token start at or after every
 * position asked for before (parse order), or on the current line. */
aj_pos cs_aj_locate(aj *p, uint64_t off)
{
    advance(p, off);
    aj_pos r;
    r.off = off;
    r.line = p->line;
    r.col = 0;
    if (off >= p->line_start) {
        uint64_t c = off - p->line_start + 1;
        r.col = c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
    }
    return r;
}

/* Byte at absolute offset `off` if still in memory (the span, the read
 * chunk, the last carried span, the end of the previous read), else -1. */
static int byte_at(const aj *p, uint64_t off)
{
    if (off >= p->base && off - p->base < p->chunk_len)
        return p->chunk[off - p->base];
    if (p->rd && off >= p->rd_base && off - p->rd_base < p->rd_len)
        return p->rd[off - p->rd_base];
    if (p->scr && off >= p->scr_base && off - p->scr_base < p->scr_len)
        return p->scr[off - p->scr_base];
    if (off < p->rd_base && p->rd_base - off <= p->tail_len)
        return p->tail[p->tail_len - (p->rd_base - off)];
    return -1;
}

/* Fills tmp's location from `at`, with a window of its line (the bytes
 * still in memory around it, at most CS_ERROR_TEXT_CAP - 1) for the caret,
 * underlining `span` bytes. */
static void set_loc(aj *p, const aj_pos *at, uint32_t span)
{
    char win[CS_ERROR_TEXT_CAP];
    size_t n = 0;
    uint32_t wcol = 0;
    if (at->col) {
        /* The line of `at` starts col - 1 bytes before it (it may be an
         * earlier line than the current one: a record's opening brace). */
        uint64_t ls = at->off - (at->col - 1);
        uint64_t lo = at->off >= 47 ? at->off - 47 : 0;
        if (lo < ls)
            lo = ls;
        while (lo < at->off && byte_at(p, lo) < 0)
            lo++;
        for (uint64_t o = lo; n < sizeof win - 1; o++) {
            int c = byte_at(p, o);
            if (c < 0 || c == '\n' || c == '\r')
                break;
            win[n++] = (char)c;
        }
        if (at->off <= lo + n && (n || byte_at(p, at->off) < 0))
            wcol = (uint32_t)(at->off - lo + 1);
    }
    cs_error_locate(&p->tmp, p->source, at->line, wcol ? wcol : at->col,
                    at->off, span, wcol ? win : NULL, wcol ? n : 0);
    /* cs_error_locate took the column inside the window; the column in the
     * file is the real one. */
    p->tmp.column = at->col;
}

/* Start of the token yajl just delivered: `kind` V_STR (strings and keys),
 * V_NUM / V_BOOL / V_NULL with the length of its text, V_OBJ / V_ARR. */
uint64_t cs_aj_token_start(aj *p, int kind, size_t len)
{
    uint64_t end = p->completing ? p->fed
                                 : p->base + yajl_get_bytes_consumed(p->y);
    if (kind == V_OBJ || kind == V_ARR)
        return end ? end - 1 : 0;
    if (kind != V_STR)
        return end >= len ? end - len : 0;
    /* end - 1 is the closing quote; walk back to the opening one: the first
     * quote not escaped by an odd run of backslashes. A span holds whole
     * tokens, so it is in the span. */
    size_t i = (size_t)(end - p->base);
    if (i < 1)
        return p->base;
    i--;
    while (i > 0) {
        i--;
        if (p->chunk[i] != '"')
            continue;
        size_t bs = 0;
        while (bs < i && p->chunk[i - 1 - bs] == '\\')
            bs++;
        if (bs % 2 == 0)
            return p->base + i;
    }
    return p->base;
}

/* ---- errors ------------------------------------------------------------------ */

/* Starts an error in p->tmp at `at` (NULL: no line, just the source). */
void cs_aj_error(aj *p, const aj_pos *at, uint32_t span, int code,
                        const char *fmt, ...) CS_PRINTF(5, 6);
void cs_aj_error(aj *p, const aj_pos *at, uint32_t span, int code,
                        const char *fmt, ...)
{
    cs_error_clear(&p->tmp);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->tmp.message, sizeof p->tmp.message, fmt, ap);
    va_end(ap);
    p->tmp.code = code;
    if (at)
        set_loc(p, at, span);
    else
        cs_error_source(&p->tmp, p->source);
}

/* Records p->tmp as the outcome: with keep_going (and a rejectable error)
 * as a rejection, else into the caller's err. Returns true when reading may
 * go on. */
bool cs_aj_settle(aj *p, bool rejectable)
{
    int code = p->tmp.code < 0 ? p->tmp.code : CS_EPARSE;
    if (cs_aj_keep_going(p) && rejectable && code != CS_ENOMEM &&
        code != CS_ESTATE) {
        int rc = cs_ingest_reject(p->e, &p->tmp);
        if (rc >= 0) {
            p->rejected++;
            return true;
        }
        cs_fail(&p->tmp, rc, "%s: recording a rejected record failed: %s",
                p->source, cs_strerror(rc));
        code = rc;
    }
    p->tmp.code = code;
    if (p->err)
        *p->err = p->tmp;
    p->status = code;
    return false;
}

/* An error in p->tmp about the file as a whole: this file stops (with
 * keep_going that is one rejection and the caller reads the next file). */
int cs_aj_fail_file(aj *p)
{
    cs_aj_settle(p, true);
    p->stopped = true;
    return H_STOP;
}

/* An error that stops everything (out of memory, a dead builder). */
int cs_aj_fail_fatal(aj *p)
{
    cs_aj_settle(p, false);
    p->stopped = true;
    return H_STOP;
}

int cs_aj_oom(aj *p)
{
    cs_aj_error(p, NULL, 0, CS_ENOMEM, "%s: out of memory", p->source);
    return cs_aj_fail_fatal(p);
}

/* ---- prescan ---------------------------------------------------------------- */

/* Byte tables: 1 where a byte needs no attention. Inside a string: printable
 * ASCII but the quote and the backslash. Between tokens: white space and
 * structural characters. In a bare token (number, true, false, null, or
 * garbage yajl will refuse): printable ASCII that ends no token. */
#define R16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
static const uint8_t str_plain[256] = {
    /* 0x00 */ R16(0), R16(0),
    /* 0x20 */ 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x30 */ R16(1), R16(1),
    /* 0x50 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    /* 0x60 */ R16(1), R16(1),
    /* 0x80 */ R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0),
};
static const uint8_t gap_plain[256] = {
    /* 0x00 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 0,
    /* 0x10 */ R16(0),
    /* 0x20 */ 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    /* 0x30 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0,
    /* 0x40 */ R16(0),
    /* 0x50 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0,
    /* 0x60 */ R16(0),
    /* 0x70 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0,
    /* 0x80 */ R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0),
};
static const uint8_t bare_plain[256] = {
    /* 0x00 */ R16(0), R16(0),
    /* 0x20 */ 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    /* 0x30 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1,
    /* 0x40 */ R16(1),
    /* 0x50 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 1,
    /* 0x60 */ R16(1),
    /* 0x70 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 1,
    /* 0x80 */ R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0),
};
#undef R16

/* Notes the prescan's complaint: at absolute offset `off`. */
static void bad(aj *p, uint64_t off, const char *fmt, ...) CS_PRINTF(3, 4);
static void bad(aj *p, uint64_t off, const char *fmt, ...)
{
    p->flagged = true;
    p->bad_off = off;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->bad_msg, sizeof p->bad_msg, fmt, ap);
    va_end(ap);
}

/* A control byte where none may be. */
static void bad_ctrl(aj *p, uint64_t off, unsigned char b, bool in_str)
{
    if (b == 0)
        bad(p, off, "NUL byte in JSON text");
    else if (in_str)
        bad(p, off, "raw control character 0x%02x inside a string (JSON "
                    "needs it escaped; an unterminated string?)", b);
    else
        bad(p, off, "control character 0x%02x in JSON text", b);
}

/*
 * Scans chunk c[0..n) from the carried state, up to the first byte that may
 * not be there: then p->flagged is set (by bad()) and p->bad_off is where
 * the complaint points (the byte, or the lead byte of a broken UTF-8
 * sequence, or the start of an overlong token), and the state is the one at
 * that byte (in_str / in_bare: the token holding it, from tok_start). Notes
 * in p->close_idx where a token open at c[0] ends. The state lives in
 * locals while scanning (the byte pointer could alias *p otherwise).
 */
static void prescan(aj *p, const unsigned char *c, size_t n)
{
    const uint64_t base = p->rd_base;
    bool in_str = p->in_str, esc = p->esc, in_bare = p->in_bare;
    uint64_t tok = p->tok_start;
    unsigned need = p->u8_need, lo = p->u8_lo, hi = p->u8_hi;
    uint64_t u8s = p->u8_start;
    size_t i = 0, close = SIZE_MAX;
    const bool open0 = in_str || in_bare;

    while (i < n) {
        unsigned char b;
        if (need) {
            /* Inside a UTF-8 sequence (RFC 3629): continuation bytes, the
             * first of them in [lo, hi]. */
            b = c[i];
            if (b < lo || b > hi) {
                bad(p, u8s, "invalid UTF-8: the sequence starting here is "
                            "broken by byte 0x%02x", b);
                goto out;
            }
            need--;
            lo = 0x80;
            hi = 0xbf;
            i++;
            continue;
        }
        if (in_str) {
            if (esc) {
                esc = false;
                b = c[i];
                if (b < 0x20) {
                    bad_ctrl(p, base + i, b, true);
                    goto out;
                }
                if (b < 0x80) {
                    i++;
                    continue;
                }
                goto utf8; /* an invalid escape yajl will name */
            }
            while (i < n && str_plain[c[i]])
                i++;
            if (base + i - tok > CS_AWS_JSON_TOKEN_MAX) {
                bad(p, tok, "a string longer than %u bytes starts here",
                    CS_AWS_JSON_TOKEN_MAX);
                goto out;
            }
            if (i == n)
                break;
            b = c[i];
            if (b == '"') {
                in_str = false;
                i++;
                if (open0 && close == SIZE_MAX)
                    close = i;
                continue;
            }
            if (b == '\\') {
                esc = true;
                i++;
                continue;
            }
            if (b < 0x20) {
                bad_ctrl(p, base + i, b, true);
                goto out;
            }
            goto utf8;
        }
        if (in_bare) {
            while (i < n && bare_plain[c[i]])
                i++;
            if (base + i - tok > CS_AWS_JSON_TOKEN_MAX) {
                bad(p, tok, "a token longer than %u bytes starts here",
                    CS_AWS_JSON_TOKEN_MAX);
                goto out;
            }
            if (i == n)
                break;
            in_bare = false;
            p->bare_s = tok;
            p->bare_e = base + i;
            if (open0 && close == SIZE_MAX)
                close = i;
        }
        while (i < n && gap_plain[c[i]])
            i++;
        if (i == n)
            break;
        b = c[i];
        if (b == '"') {
            in_str = true;
            tok = base + i;
            i++;
            continue;
        }
        if (b < 0x20) {
            bad_ctrl(p, base + i, b, false);
            goto out;
        }
        if (b >= 0x80) {
            bad(p, base + i, "byte 0x%02x outside a string (JSON text is "
                             "ASCII between its strings)", b);
            goto out;
        }
        in_bare = true;
        tok = base + i;
        continue;
    utf8:
        b = c[i];
        u8s = base + i;
        lo = 0x80;
        hi = 0xbf;
        if (b >= 0xc2 && b <= 0xdf) {
            need = 1;
        } else if (b >= 0xe0 && b <= 0xef) {
            need = 2;
            if (b == 0xe0)
                lo = 0xa0; /* no overlong 3-byte forms */
            else if (b == 0xed)
                hi = 0x9f; /* no UTF-16 surrogates */
        } else if (b >= 0xf0 && b <= 0xf4) {
            need = 3;
            if (b == 0xf0)
                lo = 0x90; /* no overlong 4-byte forms */
            else if (b == 0xf4)
                hi = 0x8f; /* nothing past U+10FFFF */
        } else {
            bad(p, u8s, "invalid UTF-8: byte 0x%02x cannot start a "
                        "character", b);
            goto out;
        }
        i++;
    }
out:
    p->close_idx = close;
    p->in_str = in_str;
    p->esc = esc;
    p->in_bare = in_bare;
    p->tok_start = tok;
    p->u8_need = (uint8_t)need;
    p->u8_lo = (uint8_t)lo;
    p->u8_hi = (uint8_t)hi;
    p->u8_start = u8s;
}

/* ---- driving yajl ---------------------------------------------------------------- */

/*
 * The start of the JSON token holding byte `q` of the span (q < chunk_len),
 * walking the span from its start (a span starts between tokens); when `q`
 * falls between tokens, the first byte of the next one. ',' and ':' count
 * as tokens (yajl refuses them too). yajl's lexer stops one past the byte
 * it choked on, and its parser one past the token it refused or, for some
 * refusals, rewinds to about that token's start: `q` is the last byte yajl
 * consumed, so the caret lands under the refused token (or under the token
 * just before it), whatever the read boundaries were.
 */
static uint64_t snap_token(aj *p, size_t q)
{
    const unsigned char *c = p->chunk;
    bool in_str = false, esc = false, in_tok = false;
    uint64_t start = p->base;
    for (size_t i = 0; i < p->chunk_len; i++) {
        unsigned char b = c[i];
        if (in_str) {
            if (i == q)
                return start;
            if (esc)
                esc = false;
            else if (b == '\\')
                esc = true;
            else if (b == '"')
                in_str = in_tok = false;
            continue;
        }
        bool tokb = bare_plain[b] || b >= 0x80;
        if (in_tok && !tokb)
            in_tok = false;
        if (b == '"') {
            in_str = in_tok = true;
            start = p->base + i;
        } else if (tokb && !in_tok) {
            in_tok = true;
            start = p->base + i;
        }
        if (i < q)
            continue;
        if (in_tok)
            return start;
        if (b == '[' || b == ']' || b == '{' || b == '}' || b == ',' ||
            b == ':')
            return p->base + i;
    }
    return p->base + q;
}

/* snap_token for the last byte of a span buf[0..len) at `off` (a span ends
 * between tokens, never right after a number or literal): the start of the
 * string or bare token ending there, the offset of a structural character,
 * UINT64_MAX for a blank. */
static uint64_t last_token(const unsigned char *buf, size_t len, uint64_t off)
{
    if (!len)
        return UINT64_MAX;
    size_t i = len - 1;
    unsigned char b = buf[i];
    if (b == ' ' || b == '\t' || b == '\n' || b == '\r')
        return UINT64_MAX;
    if (b == '"') {
        /* Back to the opening quote: the first one not escaped. */
        while (i > 0) {
            i--;
            if (buf[i] != '"')
                continue;
            size_t bs = 0;
            while (bs < i && buf[i - 1 - bs] == '\\')
                bs++;
            if (bs % 2 == 0)
                return off + i;
        }
        return off;
    }
    if (!bare_plain[b] && b < 0x80)
        return off + i;
    while (i > 0 && (bare_plain[buf[i - 1]] || buf[i - 1] >= 0x80))
        i--;
    return off + i;
}

static int report_yajl(aj *p, bool at_eof)
{
    unsigned char *m = yajl_get_error(p->y, 0, NULL, 0);
    char msg[200];
    snprintf(msg, sizeof msg, "%s", m ? (const char *)m : "parse error");
    if (m)
        yajl_free_error(p->y, m);
    size_t ml = strlen(msg);
    while (ml && (msg[ml - 1] == '\n' || msg[ml - 1] == '.' ||
                  msg[ml - 1] == ' '))
        msg[--ml] = '\0';
    if (at_eof) {
        aj_pos at = cs_aj_locate(p, p->fed);
        if (!p->saw_value)
            cs_aj_error(p, &at, 1, CS_EPARSE,
                        "no JSON value: the file holds only white space");
        else
            cs_aj_error(p, &at, 1, CS_EPARSE,
                        "unexpected end of file: the JSON is truncated (%s)",
                        msg);
        return cs_aj_fail_file(p);
    }
    size_t c = yajl_get_bytes_consumed(p->y);
    if (c > p->chunk_len)
        c = p->chunk_len;
    /* c == 0: yajl rewound to the start of this span; its last consumed
     * byte is the previous span's last. */
    uint64_t off = c                           ? snap_token(p, c - 1)
                   : p->prev_tok != UINT64_MAX ? p->prev_tok
                                               : p->base;
    aj_pos at = cs_aj_locate(p, off);
    cs_aj_error(p, &at, 1, CS_EPARSE, "invalid JSON: %s", msg);
    return cs_aj_fail_file(p);
}

/*
 * Gives yajl buf[0..len), text at absolute offset `off` that starts and
 * ends between tokens, then counts its newlines. Returns false when reading
 * stops (an error was reported).
 */
static bool parse_span(aj *p, const unsigned char *buf, size_t len,
                       uint64_t off)
{
    p->chunk = buf;
    p->chunk_len = len;
    p->base = off;
    yajl_status st = yajl_parse(p->y, buf, len);
    if (p->stopped)
        return false;
    if (st != yajl_status_ok) {
        report_yajl(p, false);
        return false;
    }
    advance(p, off + len);
    p->fed = off + len;
    p->prev_tok = last_token(buf, len, off);
    return true;
}

static bool carry_put(aj *p, const unsigned char *c, size_t n)
{
    aj_res *r = p->res;
    /* The carried span already parsed (if any) lives in this buffer: it may
     * move or be overwritten now, so carets stop looking at it. */
    if (p->chunk && p->chunk == r->carry) {
        p->chunk = NULL;
        p->chunk_len = 0;
    }
    p->scr = NULL;
    p->scr_len = 0;
    if (cs_grow((void **)&r->carry, &r->cap_carry, p->carry_len + n, 1,
                SIZE_MAX)) {
        cs_aj_oom(p);
        return false;
    }
    memcpy(r->carry + p->carry_len, c, n);
    p->carry_len += n;
    return true;
}

/* Parses the carried text (a token begun in an earlier read, and what
 * follows it in this one) as one span. */
static bool parse_carry(aj *p)
{
    size_t len = p->carry_len;
    p->carry_len = 0;
    p->scr = p->res->carry;
    p->scr_len = len;
    p->scr_base = p->fed;
    return parse_span(p, p->res->carry, len, p->fed);
}

/*
 * One read chunk c[0..n) at absolute offset rd_base. yajl is only ever
 * handed whole tokens, one span per read: a token still open at the end of
 * a read (or holding the prescan's complaint) is held back and carried, and
 * the next read's span starts with it. So yajl never needs a token, or the
 * byte after a number, from another call: its events and error offsets do
 * not depend on where reads split the text. Returns true to go on reading.
 */
static bool feed(aj *p, const unsigned char *c, size_t n)
{
    p->rd = c;
    p->rd_len = n;
    p->any_bytes = true;
    uint64_t end = p->rd_base + n;
    prescan(p, c, n);
    /* How far yajl may read: up to the token open at the end (or holding
     * the complaint), else to the end (or the complaint). A number or
     * literal right before the open token stays with it: yajl needs the byte
     * after one to finish it, and must not get it from another call. */
    uint64_t limit = end;
    if (p->in_str || p->in_bare)
        limit = p->tok_start;
    else if (p->flagged)
        limit = p->bad_off;
    if (!p->flagged && limit < end && p->bare_e == limit && p->bare_s < limit)
        limit = p->bare_s;
    if (p->carry_len) {
        if (limit > p->rd_base || (p->flagged && limit == p->rd_base)) {
            /* The carried text ends here: yajl gets it with what follows
             * up to the limit, as one span. */
            if (!carry_put(p, c, (size_t)(limit - p->rd_base)) ||
                !parse_carry(p))
                return false;
        } else if (p->flagged) {
            /* The complaint is in the carried text: yajl gets what comes
             * before it, as the whole text would have given it. */
            if (limit > p->fed) {
                p->carry_len = (size_t)(limit - p->fed);
                if (!parse_carry(p))
                    return false;
            }
        } else if (!carry_put(p, c, n)) {
            return false; /* the carried text goes on past this read */
        }
    } else if (limit > p->rd_base &&
               !parse_span(p, c, (size_t)(limit - p->rd_base), p->rd_base)) {
        return false;
    }
    if (p->flagged) {
        char msg[sizeof p->bad_msg];
        memcpy(msg, p->bad_msg, sizeof msg);
        /* Between what yajl has and the complaint is one token without a
         * newline: the line is the current one. */
        p->chunk = c;
        p->chunk_len = n;
        p->base = p->rd_base;
        aj_pos where = cs_aj_locate(p, p->bad_off);
        cs_aj_error(p, &where, 1, CS_EPARSE, "%s", msg);
        cs_aj_fail_file(p);
        return false;
    }
    if (limit >= p->rd_base && limit < end && !p->carry_len) {
        /* A token opens in this chunk and is not finished: carry it. */
        p->fed = limit;
        if (!carry_put(p, c + (limit - p->rd_base), (size_t)(end - limit)))
            return false;
    }
    /* The last bytes of the read, for carets in the next one. */
    if (n >= AJ_TAIL) {
        memcpy(p->tail, c + n - AJ_TAIL, AJ_TAIL);
        p->tail_len = AJ_TAIL;
    } else {
        size_t keep = AJ_TAIL - n;
        if (keep > p->tail_len)
            keep = p->tail_len;
        memmove(p->tail, p->tail + p->tail_len - keep, keep);
        memcpy(p->tail + keep, c, n);
        p->tail_len = keep + n;
    }
    p->rd = NULL;
    p->rd_len = 0;
    p->rd_base = end;
    return true;
}

/* The end of the input. */
static void finish(aj *p)
{
    if (!p->any_bytes) {
        aj_pos at = {p->rd_base, 1, 1};
        cs_aj_error(p, &at, 0, CS_EPARSE,
                    "empty file: expected describe-vpcs or "
                    "describe-vpc-peering-connections JSON output");
        cs_aj_fail_file(p);
        return;
    }
    if (p->u8_need) {
        aj_pos at = cs_aj_locate(p, p->u8_start);
        cs_aj_error(p, &at, 1, CS_EPARSE,
                    "invalid UTF-8: the file ends inside a character");
        cs_aj_fail_file(p);
        return;
    }
    /* The last token, cut by the end of the file or not. */
    if (p->carry_len && !parse_carry(p))
        return;
    p->completing = true;
    yajl_status st = yajl_complete_parse(p->y);
    if (!p->stopped && st != yajl_status_ok)
        report_yajl(p, true);
}

/* ---- entry points ------------------------------------------------------------------ */

void cs_aj_res_free(aj_res *r)
{
    free(r->buf);
    free(r->arena);
    free(r->assocs);
    free(r->tags);
    free(r->desc_tags);
    free(r->carry);
    memset(r, 0, sizeof *r);
}

static int aj_begin(aj *p, aj_res *res, cs_estate *e, const char *source,
                    const char *region, const char *account,
                    const cs_load_options *opts, cs_error *err)
{
    memset(p, 0, sizeof *p);
    p->e = e;
    p->opts = opts;
    p->source = source;
    p->region = p->base_region = region;
    p->foreign_ok = p->region_from_dir = res->in_dir;
    p->account = account;
    p->res = res;
    p->err = err;
    p->line = 1;
    p->item_sp = -1;
    p->st[0].ctx = 0; /* the document root (X_ROOT in aws_json.c) */
    p->st[0].key = -1;
    p->prev_tok = UINT64_MAX;
    p->y = yajl_alloc(&cs_aj_callbacks, NULL, p);
    if (!p->y) {
        cs_aj_error(p, NULL, 0, CS_ENOMEM, "%s: out of memory", source);
        if (err)
            *err = p->tmp;
        return CS_ENOMEM;
    }
    /* UTF-8 is validated by the prescan, with exact positions. */
    yajl_config(p->y, yajl_dont_validate_strings, 1);
    /* Concatenated documents (`cat page1.json page2.json`) are pages of one
     * inventory, read one after the other. */
    yajl_config(p->y, yajl_allow_multiple_values, 1);
    cs_aj_rec_reset(p);
    return 0;
}

/* The outcome of one file: the count of rejections or a negative code. */
static int aj_end(aj *p)
{
    if (p->y)
        yajl_free(p->y);
    p->y = NULL;
    if (p->status < 0)
        return p->status;
    return p->rejected;
}

/* A UTF-8 byte-order mark at the start is skipped (as cs_estate_detect
 * does); positions still count it. */
static size_t skip_bom(aj *p, const unsigned char *c, size_t n)
{
    if (p->rd_base == 0 && n >= 3 && c[0] == 0xef && c[1] == 0xbb &&
        c[2] == 0xbf) {
        p->rd_base = p->base = p->fed = 3;
        p->lc_off = 3;
        p->line_start = 0;
        return 3;
    }
    return 0;
}

int cs_ingest_aws_json_buf(cs_estate *e, const char *source, const void *buf,
                           size_t len, size_t chunk, const char *region,
                           const char *account, const cs_load_options *opts,
                           cs_error *err)
{
    if (!e || (!buf && len))
        return cs_fail(err, CS_EINVAL, "cs_ingest_aws_json_buf: NULL argument");
    aj_res res;
    memset(&res, 0, sizeof res);
    aj p;
    int rc = aj_begin(&p, &res, e, source ? source : "<memory>", region,
                      account, opts, err);
    if (rc < 0)
        return rc;
    const unsigned char *c = buf;
    size_t skip = skip_bom(&p, c, len);
    c += skip;
    len -= skip;
    if (!chunk)
        chunk = len ? len : 1;
    bool ok = true;
    while (ok && len) {
        size_t n = len < chunk ? len : chunk;
        ok = feed(&p, c, n);
        c += n;
        len -= n;
    }
    if (ok)
        finish(&p);
    rc = aj_end(&p);
    cs_aj_res_free(&res);
    return rc;
}

/* Reads the open descriptor `fd` (named `path`) with resources `res`; the
 * descriptor is left open. */
int cs_aj_read_fd(aj_res *res, cs_estate *e, int fd, const void *head,
                  size_t head_len, const char *path, const char *region,
                  const char *account, const cs_load_options *opts,
                  cs_error *err)
{
    aj p;
    int rc = aj_begin(&p, res, e, path, region, account, opts, err);
    if (rc < 0)
        return rc;
    if (!res->buf && !(res->buf = malloc(AJ_CHUNK))) {
        cs_aj_oom(&p);
        return aj_end(&p);
    }
    bool ok = true, first = true;
    uint64_t bytes = 0;
    for (;;) {
        const unsigned char *c;
        size_t len;
        if (head_len) {
            /* The bytes the caller read already (to tell the source's kind):
             * the first chunk. */
            c = head;
            len = head_len;
            head_len = 0;
        } else {
            ssize_t n = read(fd, res->buf, AJ_CHUNK);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                /* EISDIR lands here too: "vpcs.json: Is a directory". */
                int en = errno;
                cs_aj_error(&p, NULL, 0, cs_ingest_errno_status(en),
                            "read failed: %s", strerror(en));
                cs_aj_fail_file(&p);
                ok = false;
                break;
            }
            if (n == 0)
                break;
            c = res->buf;
            len = (size_t)n;
        }
        bytes += len;
        if (first) {
            size_t skip = skip_bom(&p, c, len);
            c += skip;
            len -= skip;
            first = false;
        }
        if (len && !(ok = feed(&p, c, len)))
            break;
    }
    if (ok)
        finish(&p);
    rc = aj_end(&p);
    if (rc >= 0 && opts && opts->progress) { /* the caller's progress line */
        cs_load_progress pr = {path, 0, bytes, bytes, true};
        opts->progress(&pr, opts->progress_ctx);
    }
    return rc;
}

/* A file that cannot be opened: reported like any bad input of that file
 * (rejected with keep_going). */
int cs_aj_open_failed(aj_res *res, cs_estate *e, const char *path, int en,
                       const cs_load_options *opts, cs_error *err)
{
    aj p;
    int rc = aj_begin(&p, res, e, path, NULL, NULL, opts, err);
    if (rc < 0)
        return rc;
    cs_aj_error(&p, NULL, 0, cs_ingest_errno_status(en), "cannot open: %s",
                strerror(en));
    cs_aj_fail_file(&p);
    return aj_end(&p);
}

int cs_aj_read_file(aj_res *res, cs_estate *e, const char *path,
                     const char *region, const char *account,
                     const cs_load_options *opts, cs_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cs_aj_open_failed(res, e, path, errno, opts, err);
    int rc = cs_aj_read_fd(res, e, fd, NULL, 0, path, region, account, opts,
                           err);
    close(fd);
    return rc;
}

/* ---- reading one AWS CLI JSON source ------------------------------------------ */

static const char *effective_region(const char *region,
                                    const cs_load_options *opts)
{
    if (region)
        return region;
    return opts ? opts->region : NULL;
}

/* The region and account a source is read with: checked once. */
static int check_defaults(const char *path, const char *region,
                          const char *account, cs_error *err)
{
    if (region && !cs_aws_region_valid(region, strlen(region))) {
        cs_error_clear(err);
        cs_error_source(err, path);
        return cs_fail(err, CS_EINVAL,
                       "region \"%s\" does not look like an AWS region name "
                       "(such as us-east-1)", region);
    }
    if (account && !cs_aws_account_valid(account, strlen(account))) {
        cs_error_clear(err);
        cs_error_source(err, path);
        return cs_fail(err, CS_EINVAL,
                       "account \"%s\" is not a 12-digit AWS account id",
                       account);
    }
    return 0;
}

int cs_ingest_aws_json(cs_estate *e, const char *path, const char *region,
                       const cs_load_options *opts, cs_error *err)
{
    if (!e || !path)
        return cs_fail(err, CS_EINVAL, "cs_ingest_aws_json: NULL argument");
    region = effective_region(region, opts);
    const char *account = opts ? opts->account : NULL;
    int rc = check_defaults(path, region, account, err);
    if (rc < 0)
        return rc;
    aj_res res;
    memset(&res, 0, sizeof res);
    rc = cs_aj_read_file(&res, e, path, region, account, opts, err);
    cs_aj_res_free(&res);
    return rc;
}

int cs_ingest_aws_json_fd(cs_estate *e, const char *path, int fd,
                          const void *head, size_t head_len,
                          const cs_load_options *opts, cs_error *err)
{
    if (!e || !path || fd < 0)
        return cs_fail(err, CS_EINVAL, "cs_ingest_aws_json_fd: bad argument");
    const char *region = opts ? opts->region : NULL;
    const char *account = opts ? opts->account : NULL;
    int rc = check_defaults(path, region, account, err);
    if (rc < 0)
        return rc;
    aj_res res;
    memset(&res, 0, sizeof res);
    rc = cs_aj_read_fd(&res, e, fd, head, head_len, path, region, account,
                       opts, err);
    cs_aj_res_free(&res);
    return rc;
}
