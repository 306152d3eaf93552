/*
 * engine/core/prefix_lines_internal.h — items of a buffer of prefixes or
 * addresses (one a line), for callers that consume items as they are
 * parsed instead of into one array (engine/query/count_lines.c). The
 * public cs_prefix_parse_lines is one chunk over the whole buffer.
 */
#ifndef CS_PREFIX_LINES_INTERNAL_H
#define CS_PREFIX_LINES_INTERNAL_H

#include <cidrscope/error.h>
#include <cidrscope/prefix.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Parses the item at text[*pos] (pos < len) into *out and moves *pos past
 * its line end, with cs_prefix_parse_lines's rules. Returns >= 0 on success
 * (CS_PARSE_NORMALISED when lenient flags normalised it) or CS_EPARSE (err
 * has the column; the caller sets err->line). Pure, thread-safe.
 */
int cs_prefix_lines_next(const char *text, size_t len, size_t *pos, unsigned flags,
                         bool addresses, cs_prefix *out, cs_error *err);

/*
 * Parses one item that is all of item[0..len) (no line around it: a
 * binding's string), with the rules of one line of cs_prefix_parse_lines: a
 * final "\r" is dropped; a "\n" anywhere is CS_EPARSE at its column ("a line
 * break inside an item"). Same status, prefix and column as that line would
 * give; err->line is 1 (the caller sets the item's number). Reads only
 * item[0..len). Pure, thread-safe.
 */
int cs_prefix_item_parse(const char *item, size_t len, unsigned flags, bool addresses,
                         cs_prefix *out, cs_error *err);

/*
 * Parses up to cap items from text[*pos] into out[0..), moving *pos past
 * each: returns how many (fewer than cap only at the buffer's end), or
 * CS_EPARSE with err->line the bad item's number within this chunk
 * (1-based; the caller adds the items before it) and its column. Pure,
 * thread-safe; text and out non-NULL when len and cap are not zero.
 */
int64_t cs_prefix_lines_chunk(const char *text, size_t len, size_t *pos, unsigned flags,
                              bool addresses, cs_prefix *out, size_t cap, cs_error *err);

#endif
