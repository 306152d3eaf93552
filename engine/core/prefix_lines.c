/*
 * engine/core/prefix_lines.c — many prefixes or addresses from one buffer of
 * text, one per line, in a single call (cs_prefix_parse_lines).
 *
 * Does: splits on '\n' (a trailing "\r" is dropped, a final newline is
 * optional), parses every item with cs_prefix_parse or cs_address_parse and
 * writes them in order (the common "a.b.c.d/len" through a short path
 * that accepts exactly what cs_prefix_parse accepts unchanged), so a binding (python/cidrscope) crosses into C once
 * for a million items instead of once per item. A bad item stops the call;
 * err names it by line (1-based) and column.
 * Does not: allocate, keep state, or accept blank items. Thread-safe.
 * Tests: tests/test_prefix_lines.c, python/tests/test_cidrscope.py.
 */
#include <cidrscope/prefix.h>

#include <string.h>

#include "core/error_internal.h"
#include "core/prefix_lines_internal.h"

/* The common item, "a.b.c.d/len" (or "a.b.c.d" for addresses), parsed
 * straight from the buffer (its end found on the way: no memchr), without
 * the general parser's family probe and messages; *used receives the bytes
 * consumed, line end included. Accepts only
 * what cs_prefix_parse accepts unchanged (octets without leading zeros,
 * <= 255; a length without a leading zero, <= 32; no host bits; IPv6 not
 * required by flags); anything else returns false and the item goes to the
 * general parser, which gives the answer or the error. */
static bool fast_v4(const char *s, size_t n, unsigned flags, bool addresses, cs_prefix *out,
                    size_t *used)
{
    if (flags & CS_PARSE_V6_ONLY)
        return false;
    uint32_t a = 0;
    size_t p = 0;
    for (int k = 0; k < 4; k++) {
        if (k) {
            if (p >= n || s[p] != '.')
                return false;
            p++;
        }
        unsigned v = 0, nd = 0;
        while (p < n && nd < 4 && (unsigned)(s[p] - '0') < 10u) {
            v = v * 10 + (unsigned)(s[p] - '0');
            p++;
            nd++;
        }
        if (nd == 0 || nd > 3 || v > 255 || (nd > 1 && s[p - nd] == '0'))
            return false;
        a = a << 8 | v;
    }
    unsigned len = 32;
    if (!addresses) {
        if (p + 1 >= n || s[p] != '/')
            return false;
        size_t q = ++p;
        len = 0;
        while (p < n && p - q < 3 && (unsigned)(s[p] - '0') < 10u)
            len = len * 10 + (unsigned)(s[p++] - '0');
        if (p == q || p - q > 2 || len > 32 || (p - q == 2 && s[q] == '0'))
            return false;
        if (len < 32 && (a & (0xffffffffu >> len)))
            return false;
    }
    /* The item ends here: at the buffer's end, "\n", "\r\n", or a final
     * "\r". */
    if (p == n)
        *used = p;
    else if (s[p] == '\n')
        *used = p + 1;
    else if (s[p] == '\r' && (p + 1 == n || s[p + 1] == '\n'))
        *used = p + 1 == n ? p + 1 : p + 2;
    else
        return false;
    memset(out, 0, sizeof *out);
    out->hi = (uint64_t)a << 32;
    out->len = (uint8_t)len;
    out->family = CS_AF_V4;
    return true;
}

int cs_prefix_lines_next(const char *text, size_t len, size_t *pos, unsigned flags,
                         bool addresses, cs_prefix *out, cs_error *err)
{
    size_t used;
    if (fast_v4(text + *pos, len - *pos, flags, addresses, out, &used)) {
        *pos += used;
        return 0;
    }
    const char *line = text + *pos;
    const char *nl = memchr(line, '\n', len - *pos);
    size_t ll = nl ? (size_t)(nl - line) : len - *pos;
    *pos += ll + (nl ? 1 : 0);
    if (ll && line[ll - 1] == '\r')
        ll--;
    return addresses ? cs_address_parse(line, ll, flags, out, err)
                     : cs_prefix_parse(line, ll, flags, out, err);
}

int64_t cs_prefix_parse_lines(const char *text, size_t len, unsigned flags,
                              bool addresses, cs_prefix *out, size_t cap,
                              cs_error *err)
{
    if ((!text && len) || (!out && cap))
        return cs_fail(err, CS_EINVAL, "cs_prefix_parse_lines: NULL argument");
    size_t n = 0, pos = 0;
    while (pos < len) {
        if (n == cap)
            return cs_fail(err, CS_ERANGE, "more than %zu items", cap);
        int rc = cs_prefix_lines_next(text, len, &pos, flags, addresses, &out[n], err);
        if (rc < 0) {
            if (err)
                err->line = n + 1;
            return rc;
        }
        n++;
    }
    return (int64_t)n;
}
