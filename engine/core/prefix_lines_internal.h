/*
 * engine/core/prefix_lines_internal.h — one item of a buffer of prefixes or
 * addresses (one a line), for callers that consume items as they are
 * parsed instead of into one array (engine/query/count_lines.c). The
 * public cs_prefix_parse_lines is this in a loop.
 */
#ifndef CS_PREFIX_LINES_INTERNAL_H
#define CS_PREFIX_LINES_INTERNAL_H

#include <cidrscope/error.h>
#include <cidrscope/prefix.h>

#include <stdbool.h>
#include <stddef.h>

/*
 * Parses the item at text[*pos] (pos < len) into *out and moves *pos past
 * its line end, with cs_prefix_parse_lines's rules. Returns >= 0 on success
 * (CS_PARSE_NORMALISED when lenient flags normalised it) or CS_EPARSE (err
 * has the column; the caller sets err->line). Pure, thread-safe.
 */
int cs_prefix_lines_next(const char *text, size_t len, size_t *pos, unsigned flags,
                         bool addresses, cs_prefix *out, cs_error *err);

#endif
