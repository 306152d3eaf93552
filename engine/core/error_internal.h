/* engine/core/error_internal.h — the one helper that fills a cs_error. */
#ifndef CS_ERROR_INTERNAL_H
#define CS_ERROR_INTERNAL_H

#include <cidrscope/error.h>

#if defined(__GNUC__)
#define CS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CS_PRINTF(a, b)
#endif

/* Sets err->code and err->message (printf-style) and returns `code`, so a
 * failure path reads `return cs_fail(err, CS_EPARSE, "...")`. Location fields
 * are left as they are; NULL err is allowed. */
int cs_fail(cs_error *err, int code, const char *fmt, ...) CS_PRINTF(3, 4);

/* Sets the location of the failure: source name (may be NULL), 1-based line
 * and column, byte offset and span, and copies a window of `line_text`
 * (line_len bytes, the whole offending line; may be NULL) around the column
 * into err->text so the caret can be drawn. */
void cs_error_locate(cs_error *err, const char *source, uint64_t line,
                     uint32_t column, uint64_t offset, uint32_t span,
                     const char *line_text, size_t line_len);

/* Sets only err->source (truncating). */
void cs_error_source(cs_error *err, const char *source);

#endif
