/*
 * engine/ingest/csv_reader.c — the CSV record reader: RFC 4180 (quoted
 * fields with "" escapes and embedded line breaks, CRLF or LF, an optional
 * UTF-8 byte-order mark) from a file descriptor in bounded windows or from
 * memory, every field with its line and column, every bad byte or record
 * reported with file, line, column and the offending line for a caret.
 * Does not: know any column or shape (engine/ingest/csv.c does).
 *
 * Limits: a record is at most CSV_RECORD_MAX bytes (a 2 GB line is an error
 * at the column where the limit is passed, and the rest of that line is
 * skipped under keep-going), at most CSV_FIELDS_MAX fields. Bytes must be
 * valid UTF-8 without NUL. Memory stays bounded: a window of at most
 * CSV_RECORD_MAX + CSV_CHUNK bytes, whatever the file size.
 *
 * Speed: a plain line (no quote, CR, NUL or non-ASCII byte) is split in one
 * pass without copying, eight bytes at a time (csv_fast, field_end);
 * anything else goes to the general scanner, which reads it and reports
 * what is wrong with it. cs_csv_peek_field lets a caller look at the next
 * plain record's field before it asks for the record (a prefetch hint).
 *
 * Concurrency: one reader, one thread. Tests: tests/test_csv.c (fixtures,
 * every error with its location, the one-pass path against the general
 * scanner), tests/fuzz/fuzz_csv.c.
 */
#include "ingest/csv_reader_internal.h"

#include "core/error_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- errors with a caret ------------------------------------------------- */

/* Locates err at window index `at` of line `line` whose start is window
 * index `ls`; the caret text is that physical line. */
void cs_csv_locate_at(const csv_reader *r, cs_error *err, uint64_t line, size_t ls, size_t at,
                      uint32_t span)
{
    size_t end = ls;
    while (end < r->len && r->buf[end] != '\n' && end - ls < 4096 + (at - ls))
        end++;
    cs_error_locate(err, r->source, line, (uint32_t)(at - ls + 1), r->base + at, span,
                    r->buf + ls, end - ls);
}

void cs_csv_locate_field(const csv_reader *r, cs_error *err, const csv_field *f, size_t k,
                         uint32_t span)
{
    size_t at = f->ls + (f->col - 1) + k;
    if (at > r->len)
        at = r->len;
    cs_csv_locate_at(r, err, f->line, f->ls, at, span ? span : (uint32_t)(f->len ? f->len : 1));
}

/* ---- reading -------------------------------------------------------------- */

void cs_csv_reader_mem(csv_reader *r, const char *source, const char *buf, size_t len)
{
    memset(r, 0, sizeof *r);
    r->source = source;
    r->fd = -1;
    r->buf = buf;
    r->len = len;
    r->eof = true;
    r->line = 1;
}

int cs_csv_reader_fd(csv_reader *r, const char *source, int fd)
{
    memset(r, 0, sizeof *r);
    r->source = source;
    r->fd = fd;
    r->own = malloc(CSV_RECORD_MAX + CSV_CHUNK + 8);
    if (!r->own)
        return CS_ENOMEM;
    r->buf = r->own;
    r->line = 1;
    return 0;
}

void cs_csv_reader_free(csv_reader *r)
{
    free(r->own);
    free(r->scratch);
    r->own = r->scratch = NULL;
}

/* Moves the unread part [pos, len) to the window's start and reads more.
 * Returns 0 (maybe now at EOF), CS_EIO. */
static int refill(csv_reader *r, cs_error *err)
{
    if (r->fd < 0 || r->eof)
        return 0;
    if (r->pos) {
        memmove(r->own, r->own + r->pos, r->len - r->pos);
        r->base += r->pos;
        r->len -= r->pos;
        r->pos = 0;
    }
    size_t room = CSV_RECORD_MAX + CSV_CHUNK - r->len;
    size_t want = room < CSV_CHUNK ? room : CSV_CHUNK;
    for (;;) {
        ssize_t n = read(r->fd, r->own + r->len, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            cs_error_locate(err, r->source, 0, 0, r->base + r->len, 0, NULL, 0);
            return cs_fail(err, CS_EIO, "%s: read failed: %s", r->source, strerror(errno));
        }
        if (n == 0)
            r->eof = true;
        r->len += (size_t)n;
        return 0;
    }
}

/* Length of the valid UTF-8 prefix of s[0..n) (n when all valid). */
static size_t utf8_valid_len(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) {
            k = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            k = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            k = 3;
            cp = c & 0x07;
        } else {
            return i;
        }
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (s[i + j] & 0xc0) != 0x80)
                return i;
            cp = (cp << 6) | (s[i + j] & 0x3f);
        }
        if ((k == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (k == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return i;
        i += k + 1;
    }
    return n;
}

/* Byte classes of the fast path: 1 a field separator, 2 a byte it leaves
 * to the general scanner (quote, NUL, CR, non-ASCII: quoting, errors, UTF-8
 * checks and CRLF are all handled there). */
static const unsigned char csv_class[256] = {
    [','] = 1, ['"'] = 2, ['\0'] = 2, ['\r'] = 2,
    [0x80] = 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};

/* The first byte of b[q..n) whose class is not 0, or n; *k its class.
 * Eight bytes at a time while a whole word is inside the line: a word's
 * lowest flagged byte (comma, quote, NUL, CR or one with the high bit) is
 * exact (a has-zero-byte test borrows only upward from a true hit). */
static inline size_t field_end(const char *b, size_t q, size_t n, unsigned char *k)
{
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    for (; q + 8 <= n; q += 8) {
        uint64_t x;
        memcpy(&x, b + q, 8);
        uint64_t c = x ^ (',' * ones), d = x ^ ('"' * ones), r = x ^ ('\r' * ones);
        uint64_t m = ((c - ones) & ~c) | ((d - ones) & ~d) | ((r - ones) & ~r) |
                     ((x - ones) & ~x) | x;
        m &= highs;
        if (m) {
            q += (size_t)__builtin_ctzll(m) >> 3;
            *k = csv_class[(unsigned char)b[q]];
            return q;
        }
    }
#endif
    while (q < n && (*k = csv_class[(unsigned char)b[q]]) == 0)
        q++;
    return q;
}

/*
 * The common record in one pass: a whole line already in the window (found
 * with memchr), not blank, no quote, NUL, CR or non-ASCII byte, at most
 * CSV_FIELDS_MAX fields. Splits it exactly as the general scanner below
 * would (same fields, lines and columns) without copying a byte. Returns 1
 * with the record read, or 0 having consumed nothing: the general scanner
 * then reads the record and reports whatever is wrong with it.
 */
static int csv_fast(csv_reader *r)
{
    const char *b = r->buf + r->pos;
    size_t avail = r->len - r->pos;
    if (avail == 0 || b[0] == ' ' || b[0] == '\t' || b[0] == '\n')
        return 0;
    const char *nl = memchr(b, '\n', avail < CSV_RECORD_MAX ? avail : CSV_RECORD_MAX);
    if (!nl)
        return 0;
    size_t n = (size_t)(nl - b), s = r->pos;
    unsigned nf = 0;
    size_t p = 0;
    for (;;) {
        if (nf == CSV_FIELDS_MAX)
            return 0;
        while (p < n && (b[p] == ' ' || b[p] == '\t'))
            p++;
        unsigned char k = 0;
        size_t q = field_end(b, p, n, &k);
        if (q < n && k == 2)
            return 0;
        size_t t = q;
        while (t > p && (b[t - 1] == ' ' || b[t - 1] == '\t'))
            t--;
        csv_field *f = &r->f[nf++];
        f->p = b + p;
        f->len = t - p;
        f->line = r->line;
        f->ls = s;
        f->col = (uint32_t)(p + 1);
        f->quoted = false;
        if (q >= n)
            break;
        p = q + 1;
    }
    r->nf = nf;
    r->rec_line = r->line;
    r->rec_start = s;
    r->pos = s + n + 1;
    r->line++;
    return 1;
}

/*
 * Reads the next record into r->f[0..nf). Returns 1 (a record), 0 (end of
 * input), or a negative code with err located: CS_EPARSE for malformed
 * input (the reader has moved past the bad record, so the caller may go
 * on), CS_EIO, CS_ENOMEM.
 */
/* Names the line and column of byte `at` inside the record that starts at
 * `s` on line r->rec_line (a quoted field may span lines). */
static void locate_in_record(const csv_reader *r, cs_error *err, size_t s, size_t at)
{
    uint64_t line = r->rec_line;
    size_t ls = s;
    for (size_t k = s; k < at; k++)
        if (r->buf[k] == '\n') {
            line++;
            ls = k + 1;
        }
    cs_csv_locate_at(r, err, line, ls, at, 1);
}

int cs_csv_next(csv_reader *r, cs_error *err)
{
    int rc;
again:
    if (r->skip_line) {
        /* Discard up to and including the next newline. */
        for (;;) {
            const char *nl = memchr(r->buf + r->pos, '\n', r->len - r->pos);
            if (nl) {
                r->pos = (size_t)(nl - r->buf) + 1;
                r->line++;
                break;
            }
            r->pos = r->len;
            if (r->eof)
                break;
            if ((rc = refill(r, err)))
                return rc;
        }
        r->skip_line = false;
    }
    if (r->base == 0 && r->pos == 0 && !r->eof && r->len < 3 && (rc = refill(r, err)))
        return rc;
    if (r->base == 0 && r->pos == 0 && r->len >= 3 && memcmp(r->buf, "\xef\xbb\xbf", 3) == 0)
        r->pos = 3; /* UTF-8 byte-order mark */

    if ((rc = csv_fast(r)))
        return rc;

    /* Find the record's end: the first '\n' outside a quoted field. A quote
     * opens a quoted field only at a field's start (a stray quote inside an
     * unquoted field is left for the field parser to report); inside one,
     * "" is an escaped quote and a lone quote closes it. */
    size_t i = r->pos, last_ls = r->pos, open_q = 0;
    uint64_t nl_seen = 0;
    bool inq = false, at_start = true;
    for (;;) {
        if (i >= r->len || (inq && r->buf[i] == '"' && i + 1 >= r->len && !r->eof)) {
            if (r->eof && i >= r->len)
                break;
            size_t shift = r->pos;
            size_t had = r->len - r->pos;
            if ((rc = refill(r, err)))
                return rc;
            i -= shift;
            last_ls -= shift;
            open_q -= open_q >= shift ? shift : open_q;
            if (r->len - r->pos == had && r->eof && i >= r->len)
                break;
            continue;
        }
        char c = r->buf[i];
        if (inq) {
            if (c == '"') {
                if (i + 1 < r->len && r->buf[i + 1] == '"') {
                    i += 2;
                    goto counted;
                }
                inq = false;
            } else if (c == '\n') {
                nl_seen++;
                last_ls = i + 1;
            }
        } else if (c == '"' && at_start) {
            inq = true;
            open_q = i;
            at_start = false;
        } else if (c == '\n') {
            break;
        } else if (c == ',') {
            at_start = true;
        } else if (c != ' ' && c != '\t') {
            at_start = false;
        }
        i++;
    counted:
        if (i - r->pos > CSV_RECORD_MAX) {
            cs_csv_locate_at(r, err, r->line + nl_seen, last_ls, i - 1, 1);
            cs_fail(err, CS_EPARSE, "record longer than %u bytes", CSV_RECORD_MAX);
            r->pos = i;
            r->line += nl_seen;
            r->skip_line = true;
            return CS_EPARSE;
        }
    }
    if (i == r->pos && i >= r->len)
        return 0; /* end of input */
    size_t s = r->pos, e = i;
    r->rec_line = r->line;
    r->rec_start = s;
    uint64_t rec_lines = nl_seen + 1;
    /* Consume the record now, so an error below leaves the reader after it. */
    r->pos = i < r->len ? i + 1 : i;
    r->line += rec_lines;
    if (inq) {
        /* Only at the end of input: the quote opened at open_q never closed. */
        locate_in_record(r, err, s, open_q);
        return cs_fail(err, CS_EPARSE, "quoted field never closed");
    }
    if (e > s && r->buf[e - 1] == '\r')
        e--;
    /* Blank lines are skipped. */
    {
        size_t k = s;
        while (k < e && (r->buf[k] == ' ' || r->buf[k] == '\t'))
            k++;
        if (k == e)
            goto again;
    }
    /* Bytes: no NUL, valid UTF-8. */
    {
        const char *z = memchr(r->buf + s, '\0', e - s);
        size_t bad = z ? (size_t)(z - r->buf) : e;
        size_t ulen = utf8_valid_len((const unsigned char *)r->buf + s, bad - s);
        if (s + ulen < bad)
            bad = s + ulen;
        if (bad < e) {
            locate_in_record(r, err, s, bad);
            return cs_fail(err, CS_EPARSE, r->buf[bad] == '\0' ? "NUL byte in the input"
                                                               : "invalid UTF-8 byte 0x%02x",
                           (unsigned char)r->buf[bad]);
        }
    }
    if (r->scratch_cap < e - s + 1) {
        size_t cap = e - s + 1 < 4096 ? 4096 : e - s + 1;
        char *ns = realloc(r->scratch, cap);
        if (!ns)
            return cs_fail(err, CS_ENOMEM, "out of memory reading %s", r->source);
        r->scratch = ns;
        r->scratch_cap = cap;
    }
    /* Split into fields. */
    size_t sc = 0, p = s, ls = s;
    uint64_t line = r->rec_line;
    r->nf = 0;
    for (;;) {
        if (r->nf == CSV_FIELDS_MAX) {
            cs_csv_locate_at(r, err, line, ls, p, 1);
            return cs_fail(err, CS_EPARSE, "more than %u fields in one record", CSV_FIELDS_MAX);
        }
        csv_field *f = &r->f[r->nf++];
        while (p < e && (r->buf[p] == ' ' || r->buf[p] == '\t'))
            p++;
        f->line = line;
        f->ls = ls;
        size_t q;
        if (p < e && r->buf[p] == '"') {
            f->quoted = true;
            f->col = (uint32_t)(p + 1 - ls + 1);
            f->p = r->scratch + sc;
            size_t start = sc;
            q = p + 1;
            for (;;) {
                if (q >= e) {
                    cs_csv_locate_at(r, err, f->line, f->ls, p, 1);
                    return cs_fail(err, CS_EPARSE, "quoted field never closed");
                }
                char c = r->buf[q];
                if (c == '"') {
                    if (q + 1 < e && r->buf[q + 1] == '"') {
                        r->scratch[sc++] = '"';
                        q += 2;
                        continue;
                    }
                    q++;
                    break;
                }
                if (c == '\n') {
                    line++;
                    ls = q + 1;
                }
                r->scratch[sc++] = c;
                q++;
            }
            f->len = sc - start;
            while (q < e && (r->buf[q] == ' ' || r->buf[q] == '\t'))
                q++;
            if (q < e && r->buf[q] != ',') {
                cs_csv_locate_at(r, err, line, ls, q, 1);
                return cs_fail(err, CS_EPARSE, "unexpected '%c' after a closing quote (expected ',')",
                               r->buf[q]);
            }
        } else {
            f->quoted = false;
            f->col = (uint32_t)(p - ls + 1);
            f->p = r->buf + p;
            q = p;
            while (q < e && r->buf[q] != ',') {
                if (r->buf[q] == '"') {
                    cs_csv_locate_at(r, err, line, ls, q, 1);
                    return cs_fail(err, CS_EPARSE,
                                   "quote inside an unquoted field (quote the whole field and "
                                   "double the quote)");
                }
                q++;
            }
            size_t t = q;
            while (t > p && (r->buf[t - 1] == ' ' || r->buf[t - 1] == '\t'))
                t--;
            f->len = t - p;
        }
        if (q >= e)
            break;
        p = q + 1; /* past the comma; a trailing comma gives one empty field */
    }
    return 1;
}

/* The bytes of field `col` of the record after the current one, when that
 * record is a whole plain line already in the window and has no quote, CR,
 * NUL or non-ASCII byte before the field's end (untrimmed: a hint's key,
 * not a value). Returns 1 with *p, *len set, else 0. Reads nothing new. */
int cs_csv_peek_field(const csv_reader *r, unsigned col, const char **p, size_t *len)
{
    const char *b = r->buf + r->pos;
    const char *nl = memchr(b, '\n', r->len - r->pos);
    if (!nl)
        return 0;
    size_t n = (size_t)(nl - b), q = 0;
    for (unsigned k = 0;; k++) {
        unsigned char cls = 0;
        size_t e = field_end(b, q, n, &cls);
        if (e < n && cls == 2)
            return 0;
        if (k == col) {
            *p = b + q;
            *len = e - q;
            return 1;
        }
        if (e >= n)
            return 0;
        q = e + 1;
    }
}
