/*
 * engine/core/prefix_lines.c — many prefixes or addresses from one buffer of
 * text, one per line, in a single call (cs_prefix_parse_lines).
 *
 * Does: splits on '\n' (a trailing "\r" is dropped, a final newline is
 * optional), parses every item with cs_prefix_parse or cs_address_parse and
 * writes them in order, so a binding (python/cidrscope) crosses into C once
 * for a million items instead of once per item. A bad item stops the call;
 * err names it by line (1-based) and column.
 * Does not: allocate, keep state, or accept blank items. Thread-safe.
 * Tests: tests/test_prefix_lines.c, python/tests/test_cidrscope.py.
 */
#include <cidrscope/prefix.h>

#include <string.h>

#include "core/error_internal.h"

int64_t cs_prefix_parse_lines(const char *text, size_t len, unsigned flags,
                              bool addresses, cs_prefix *out, size_t cap,
                              cs_error *err)
{
    if ((!text && len) || (!out && cap))
        return cs_fail(err, CS_EINVAL, "cs_prefix_parse_lines: NULL argument");
    size_t n = 0, pos = 0;
    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - line) : len - pos;
        pos += ll + (nl ? 1 : 0);
        if (ll && line[ll - 1] == '\r')
            ll--;
        if (n == cap)
            return cs_fail(err, CS_ERANGE, "more than %zu items", cap);
        int rc = addresses ? cs_address_parse(line, ll, flags, &out[n], err)
                           : cs_prefix_parse(line, ll, flags, &out[n], err);
        if (rc < 0) {
            if (err)
                err->line = n + 1;
            return rc;
        }
        n++;
    }
    return (int64_t)n;
}
