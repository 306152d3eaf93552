/*
 * engine/report/writer.h — the small output toolkit every report writer in
 * engine/report/ shares: JSON (pretty or one document per line), CSV fields
 * (RFC 4180 quoting), HTML escaping, and text helpers for 80-column reports.
 *
 * Output is written only here and in the other engine/report/ files
 * (STYLE.md): modules compute results, report writers format them.
 *
 * Every function writes to a caller-owned FILE* and never closes it. Write
 * errors are not checked per call (stdio keeps them sticky); a writer ends
 * with cs_out_finish(), which flushes and turns a stdio error into CS_EIO.
 * Nothing here allocates. A cs_json is owned by one thread at a time; all
 * other functions are reentrant.
 *
 * Stable interface: other report writers (peering, ipam) build on it; add
 * functions, do not change the ones below.
 */
#ifndef CS_REPORT_WRITER_H
#define CS_REPORT_WRITER_H

#include <cidrscope/error.h>
#include <cidrscope/estate.h>
#include <cidrscope/prefix.h>
#include <cidrscope/snapshot.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- stream end ------------------------------------------------------------ */

/* Flushes f and checks its error flag. Returns 0, or CS_EIO with err naming
 * `what` (e.g. "audit report") and strerror(errno). */
int cs_out_finish(FILE *f, const char *what, cs_error *err);

/* Writes s[0..len) as valid UTF-8 for a text report: a byte that starts no
 * valid sequence, and an ASCII control character, becomes U+FFFD; the rest
 * is copied. (CSV fields and HTML keep their control characters: quoted or
 * harmless there.) */
void cs_out_utf8(FILE *f, const char *s, size_t len);

/* Decimal digits of v, without printf (hot paths format millions of
 * numbers); buf gets a terminating NUL. Returns the digit count. */
#define CS_FMT_U64_CAP 24
size_t cs_fmt_u64(char buf[CS_FMT_U64_CAP], uint64_t v);
/* Writes v in decimal. */
void cs_out_u64(FILE *f, uint64_t v);

/* A bounded string builder: cs_sbuf_printf appends like snprintf, never
 * writes past cap (the text is cut, always NUL-terminated when cap > 0),
 * and `len` counts what was wanted, so len >= cap means "cut". */
typedef struct cs_sbuf {
    char *p;
    size_t cap, len;
} cs_sbuf;
void cs_sbuf_printf(cs_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- JSON -------------------------------------------------------------------- */

/* Deepest nesting a cs_json tracks; deeper begins are refused (return -1)
 * and leave the document unchanged. Reports use 4 or 5 levels. */
#define CS_JSON_MAX_DEPTH 32

enum {
    /* Newlines and two-space indentation; without it one line, no spaces
     * (NDJSON needs that: one document per line). */
    CS_JSON_PRETTY = 1u << 0,
};

/*
 * A streaming JSON emitter: it inserts commas, colons and (when pretty)
 * indentation, so report code only says what comes next. Usage:
 *
 *   cs_json j; cs_json_init(&j, f, CS_JSON_PRETTY);
 *   cs_json_begin_object(&j);
 *     cs_json_key(&j, "vpcs"); cs_json_u64(&j, 12);
 *     cs_json_key(&j, "pairs"); cs_json_begin_array(&j); ... cs_json_end(&j);
 *   cs_json_end(&j);
 *   cs_json_newline(&j);            (ends the document / the NDJSON line)
 *
 * Inside an object every value must be preceded by cs_json_key(). The emitter
 * does not validate the call order beyond depth; a mismatched end() is a bug
 * in the report code (caught by the tests' parse-back).
 */
typedef struct cs_json {
    FILE *f;
    unsigned flags;
    unsigned depth;
    bool after_key;                    /* a key was written; value comes next */
    bool has_items[CS_JSON_MAX_DEPTH]; /* per level: an item already written */
    char closer[CS_JSON_MAX_DEPTH];    /* per level: '}' or ']' */
} cs_json;

void cs_json_init(cs_json *j, FILE *f, unsigned flags);
/* Begin a container; return 0, or -1 past CS_JSON_MAX_DEPTH. */
int cs_json_begin_object(cs_json *j);
int cs_json_begin_array(cs_json *j);
/* Ends the innermost open container (no-op at depth 0). */
void cs_json_end(cs_json *j);
/* Object member name (escaped as a string). */
void cs_json_key(cs_json *j, const char *key);
/* Values. A NULL string is written as null. */
void cs_json_string(cs_json *j, const char *s);
void cs_json_u64(cs_json *j, uint64_t v);
void cs_json_i64(cs_json *j, int64_t v);
void cs_json_double(cs_json *j, double v); /* non-finite -> null */
/* A number already in decimal text (digits only: 128-bit counts). */
void cs_json_number_text(cs_json *j, const char *digits);
void cs_json_bool(cs_json *j, bool v);
void cs_json_null(cs_json *j);
/* A prefix in canonical text (cs_prefix_format), as a string. */
void cs_json_prefix(cs_json *j, const cs_prefix *p);
/* A value already formatted as one JSON token (tok[0..len): a quoted
 * string from cs_json_quote_plain, a number, ...), written after the
 * separator and indentation its position needs: for values a report
 * names many times (a VPC id in every group that holds it), formatted
 * once. The caller vouches that tok is valid JSON. */
void cs_json_token(cs_json *j, const char *tok, size_t len);
/* s as a quoted JSON string into buf[0..cap) when s needs no escaping
 * (printable ASCII but " and \) and fits with its quotes; returns the
 * length written (no NUL), or 0 (buf's content then undefined). */
size_t cs_json_quote_plain(char *buf, size_t cap, const char *s);
/* Writes a newline (ends a document or an NDJSON record). */
void cs_json_newline(cs_json *j);

/* Shortcuts: key + value. */
void cs_json_kv_string(cs_json *j, const char *key, const char *s);
void cs_json_kv_u64(cs_json *j, const char *key, uint64_t v);
void cs_json_kv_i64(cs_json *j, const char *key, int64_t v);
void cs_json_kv_bool(cs_json *j, const char *key, bool v);
void cs_json_kv_prefix(cs_json *j, const char *key, const cs_prefix *p);

/* Writes s[0..len) as a JSON string literal with its quotes: ", \ and
 * control characters escaped (\n, \t, \r, \b, \f, else \u00XX), DEL and
 * bytes >= 0x80 passed through (input is UTF-8; invalid UTF-8 sequences are
 * replaced by U+FFFD so the document always parses). */
void cs_json_write_string(FILE *f, const char *s, size_t len);

/* ---- CSV (RFC 4180) ------------------------------------------------------------ */

/*
 * One CSV row under construction: cs_csv_field() writes the separator before
 * every field but the first; cs_csv_end_row() ends the row with "\n" (every
 * consumer accepts it; RFC 4180's CRLF only matters to strict readers).
 * A field is quoted when it contains a comma, a double quote, CR or LF, or
 * begins or ends with a space; quotes inside are doubled.
 */
typedef struct cs_csv {
    FILE *f;
    unsigned col; /* fields written in the current row */
} cs_csv;

/* The separator of a list inside one CSV field (reason codes, block pairs,
 * VPC ids), the same in every verb's CSV. */
#define CS_CSV_LIST_SEP ";"

void cs_csv_init(cs_csv *c, FILE *f);
void cs_csv_field(cs_csv *c, const char *s); /* NULL = empty field */
void cs_csv_field_n(cs_csv *c, const char *s, size_t len);
void cs_csv_u64(cs_csv *c, uint64_t v);
void cs_csv_prefix(cs_csv *c, const cs_prefix *p);
void cs_csv_end_row(cs_csv *c);
/* Writes a whole header row from a NULL-terminated list of names. */
void cs_csv_header(cs_csv *c, const char *const *names);

/* ---- HTML -------------------------------------------------------------------- */

/* Writes s with &, <, >, " and ' escaped as entities (safe in text and in
 * quoted attribute values). NULL writes nothing. */
void cs_html_escape(FILE *f, const char *s);

/* ---- text ---------------------------------------------------------------------- */

/* Width the text reports are laid out for. */
#define CS_TEXT_WIDTH 80
/* Display columns a name tag gets in a row before it is cut. */
#define CS_TEXT_NAME_WIDTH 32

/* Formats v with thousands separators ("3,614,957,500") into buf (27 bytes
 * always suffice). Returns buf. */
#define CS_TEXT_COUNT_CAP 32
char *cs_text_count(uint64_t v, char buf[CS_TEXT_COUNT_CAP]);

/* Display columns of s in a terminal (UTF-8: combining marks 0, East Asian
 * wide characters 2; an invalid byte 1, as the U+FFFD it is shown as). */
unsigned cs_text_width(const char *s);

/* Writes s left-aligned in a column of `width` display columns, padding
 * with spaces. Never cuts: a prefix, id, address or number longer than its
 * column pushes the rest of the row right instead of losing characters.
 * Output is valid UTF-8 (cs_out_utf8). width 0 writes s unpadded. */
void cs_text_col(FILE *f, const char *s, unsigned width);
/* The same, right-aligned (numbers). */
void cs_text_rcol(FILE *f, const char *s, unsigned width);
/* Free text (a name tag, the last thing on its row) in at most `width`
 * display columns, unpadded: when longer, cut on a character boundary
 * (never inside a UTF-8 sequence; combining marks stay with their base)
 * and ended with '~', the '~' in the last column at most. width 0 writes s
 * whole. Output is valid UTF-8. */
void cs_text_name(FILE *f, const char *s, unsigned width);

/* Writes `n` copies of character ch. */
void cs_text_repeat(FILE *f, char ch, unsigned n);

/* Writes `text` word-wrapped to `width` columns, every line starting with
 * `indent` spaces (the first line too), ending with a newline. Words longer
 * than a line are written on a line of their own, unbroken. */
void cs_text_wrap(FILE *f, const char *text, unsigned indent, unsigned width);

/* ---- VPC display facts ------------------------------------------------------ */

/*
 * What every report shows of a VPC, looked up once: id, name, owner
 * account, region, default flag, pseudo (a prefix-list owner). The one
 * fallback for what the estate does not know: id "?" for an index that
 * names no VPC (known = false), and "" for a missing name, account or
 * region, in every format. Strings point into the snapshot.
 */
typedef struct cs_vpc_facts {
    const char *id, *name, *account, *region;
    bool is_default, pseudo, known;
} cs_vpc_facts;

cs_vpc_facts cs_report_vpc(const cs_snapshot *s, uint32_t vpc);
/* cs_report_vpc(s, vpc).id alone, without the account and region. */
const char *cs_report_vpc_id(const cs_snapshot *s, uint32_t vpc);
/* {"vpc", "name", "account", "region", "default"}: a VPC in JSON. */
void cs_json_vpc(cs_json *j, const cs_vpc_facts *v);

#endif
