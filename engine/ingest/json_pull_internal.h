/*
 * engine/ingest/json_pull_internal.h — a small pull parser over JSON text
 * held in memory, for the readers of the smaller AWS shapes
 * (engine/ingest/ipam_cidrs.c: get-ipam-resource-cidrs output;
 * engine/ingest/config_vpcs.c: AWS Config advanced-query output, whose
 * results are JSON documents inside JSON strings) and the content
 * classifier of JSON inventories (engine/ingest/json_shapes.c).
 *
 * The reader asks for what it expects next (an object's next member, an
 * array's next element, a string, a number...) and the parser checks the
 * text as it goes: RFC 8259 grammar, UTF-8 (RFC 3629) inside strings, no
 * control bytes or NUL (raw or \u0000), nesting at most JP_DEPTH_MAX. Every
 * error names the source, line and column of the offending byte and copies
 * its line for a caret (cs_ingest_locate).
 *
 * INNER DOCUMENTS. A string value may itself hold JSON (AWS Config returns
 * each result as a string): cs_jp_string_map decodes it while remembering, for
 * every decoded byte, the offset in the file of the text it came from;
 * cs_jp_init_inner parses those bytes with positions reported in the file, so
 * an error inside the inner document points at the exact line and column
 * of the file (an escaped character: its backslash).
 *
 * Strings are decoded into the parser's arena and named by offset
 * (jp_str); cs_jp_arena_reset drops them (per record). Not thread-safe on one
 * parser; no global state.
 */
#ifndef CS_JSON_PULL_INTERNAL_H
#define CS_JSON_PULL_INTERNAL_H

#include "ingest/ingest_internal.h"

#include "core/error_internal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JP_DEPTH_MAX 256

/* A decoded string in the arena: bytes [off, off + len); `pos` is the
 * parser's index of its opening quote (cs_jp_fail_at(p, pos + 1 + k, ...)
 * points at its k-th byte when it holds no escapes), `at` the file offset
 * of that quote. */
typedef struct jp_str {
    size_t off, len;
    size_t pos, at;
} jp_str;

/* What the next value is (cs_jp_peek). */
enum { JP_END = 0, JP_OBJ = '{', JP_ARR = '[', JP_STR = '"', JP_NUM = '0',
       JP_TRUE = 't', JP_FALSE = 'f', JP_NULL = 'n', JP_BAD = '?' };

typedef struct jp {
    const unsigned char *s;   /* the text parsed */
    size_t len, i;            /* its length, the cursor */
    const size_t *map;        /* NULL: s is the file itself; else map[k] =
                                 file offset of s[k], k <= len */
    const char *source;       /* the file's name, for errors */
    const char *file;         /* the file's whole text (lines, carets) */
    size_t file_len;
    int depth;
    char *arena;              /* decoded strings */
    size_t alen, acap;
    size_t *amap;             /* jp_string_map: file offsets of arena bytes */
    size_t amap_cap;
    cs_error *err;            /* errors are written here */
} jp;

/* A parser over the whole file text[0..len) named `source`; a UTF-8
 * byte-order mark at the start is skipped. Release with cs_jp_free. */
void cs_jp_init(jp *p, const char *source, const char *text, size_t len,
             cs_error *err);

/* A parser over s[0..len), bytes of a string decoded by cs_jp_string_map on
 * `outer` (whose arena holds them and must not change meanwhile), with
 * map[0..len] their file offsets. */
void cs_jp_init_inner(jp *p, const jp *outer, const char *s, size_t len,
                   const size_t *map);

void cs_jp_free(jp *p);

/* The file offset of the parser's byte k. */
size_t cs_jp_file_off(const jp *p, size_t k);

/* Drops the arena's strings (the next record starts). */
void cs_jp_arena_reset(jp *p);

/* The bytes of a decoded string (valid until the arena grows). */
static inline const char *cs_jp_ptr(const jp *p, jp_str s)
{
    return p->arena + s.off;
}

/* True when the decoded string equals the NUL-terminated `lit`. */
bool cs_jp_eq(const jp *p, jp_str s, const char *lit);

/* Skips blanks and returns what the next value is (JP_* above; JP_END at
 * the end of the text, JP_BAD for a byte no value starts with). */
int cs_jp_peek(jp *p);

/* The name of a JP_* kind for messages ("an object", "a string", ...). */
const char *cs_jp_kind_name(int kind);

/* Fills *p->err: `code`, the message, the location of the parser's byte k
 * (span bytes underlined). Returns code. */
int cs_jp_fail_at(jp *p, size_t k, uint32_t span, int code, const char *fmt, ...)
    CS_PRINTF(5, 6);

/* "KEY must be WANT, not GOT" at the next value. Returns CS_EPARSE. */
int cs_jp_type_error(jp *p, const char *key, int want);

/* Containers: cs_jp_object / cs_jp_array consume the opening bracket (an error
 * when the next value is something else: "`what` must be an object").
 * cs_jp_member then returns 1 with the key decoded and the ':' consumed, 0 at
 * the closing brace (consumed), < 0 on error; cs_jp_element returns 1 when an
 * element follows (not consumed), 0 at the closing bracket. `first` starts
 * true and is kept by the caller, one per open container. */
int cs_jp_object(jp *p, const char *what);
int cs_jp_member(jp *p, bool *first, jp_str *key);
int cs_jp_array(jp *p, const char *what);
int cs_jp_element(jp *p, bool *first);

/* Scalars: each checks the next value's type (an error naming `key`
 * otherwise) and consumes it. cs_jp_string decodes into the arena; with
 * cs_jp_string_map the arena bytes' file offsets are kept too (see INNER
 * DOCUMENTS; *map_out then points at them, len + 1 entries, valid until
 * the next string). cs_jp_number reads a JSON number as a double. */
int cs_jp_string(jp *p, const char *key, jp_str *out);
int cs_jp_string_map(jp *p, const char *key, jp_str *out, const size_t **map_out);
int cs_jp_number(jp *p, const char *key, double *out);
int cs_jp_bool(jp *p, const char *key, bool *out);

/* Consumes a null when the next value is null: 1, else 0 (nothing
 * consumed), < 0 on error. */
int cs_jp_null(jp *p);

/* Skips the next value whole (checking it). 0 or < 0. */
int cs_jp_skip(jp *p);

/* True when only blanks are left. */
bool cs_jp_at_end(jp *p);

#endif
