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
 *
 * Two short paths take the common items straight from the buffer, finding
 * the line's end on the way (no memchr per item), without the general
 * parser's family probe and messages:
 *
 *   "203.0.113.0/24"           fast_v4: the three dots, the '/' and the
 *                              line end are the first five bytes of one
 *                              mask of 24 bytes that are not digits; the
 *                              octets are then read independently, every
 *                              check OR-ed into one flag tested once
 *   "2001:db8:0:12::/64"       fast_v6: the same from one mask of 48
 *                              bytes that are not hex digits, each group
 *                              read as one word, at most one "::"
 *
 * The masks are SSE2 byte compares on x86-64 and portable word arithmetic
 * (SWAR) elsewhere or with -DCS_NO_SIMD; numbers and groups are read as one
 * little-endian word shifted into place, so no branch depends on how many
 * digits an octet or a group has.
 *
 * Each accepts only what cs_prefix_parse (cs_address_parse) accepts
 * unchanged and gives the same prefix; anything else (an error, a lenient
 * normalisation, an embedded IPv4, a bare address where a prefix is
 * expected) goes to the general parser, which gives the answer or the error
 * with its column. The short paths read a few bytes past the item (never
 * past the buffer: items near its end are read from a zero-padded copy).
 *
 * Tests: tests/test_prefix_lines.c (near misses of both families against
 * the general parser: same status, prefix and column), tests/test_prefix.c,
 * python/tests/test_cidrscope.py.
 */
#include <cidrscope/prefix.h>

#include <string.h>
#if defined(__SSE2__) && !defined(CS_NO_SIMD)
#include <emmintrin.h>
#endif

#include "core/error_internal.h"
#include "core/prefix_lines_internal.h"

/* How far a short path may read from an item's start: the longest item
 * it takes (an IPv6 prefix of 43 characters), its line end, and the bytes
 * a step looks ahead. Nearer the buffer's end the item is copied into a
 * zero-padded window (a zero byte is no digit, separator or line end). */
#define WINDOW 64

/* The smallest page size of the hosts built for: a read that stays on the
 * page of a byte the caller gave cannot fault. Address sanitizer builds
 * never read past an item (it would report the bytes as out of bounds). */
#define PAGE ((uintptr_t)4096)
#if defined(__SANITIZE_ADDRESS__)
#define READ_PAST_ITEMS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define READ_PAST_ITEMS 0
#endif
#endif
#ifndef READ_PAST_ITEMS
#define READ_PAST_ITEMS 1
#endif

/* The item's line end at s[p]: "\n", "\r\n", a final "\r", or the end of
 * the avail bytes. Sets *used to the bytes consumed; false for anything
 * else. */
static inline bool line_end(const unsigned char *s, size_t p, size_t avail, size_t *used)
{
    if (s[p] == '\n')
        *used = p + 1;
    else if (p == avail)
        *used = p;
    else if (s[p] == '\r' && (p + 1 == avail || s[p + 1] == '\n'))
        *used = p + 1 == avail ? p + 1 : p + 2;
    else
        return false;
    return true;
}

/* Bit i set for each byte i of the 8 at s that is not a decimal digit:
 * c = byte ^ '0' is 0..9 for a digit; (c & 0x7f) + 0x76 carries into bit 7
 * from 10 up, and c's own bit 7 catches bytes >= 0x80 (SWAR: all 8 bytes
 * in one word, no carry across bytes). The multiply gathers the 8 flags. */
static inline unsigned nondigits8(const unsigned char *s)
{
    uint64_t w;
    memcpy(&w, s, sizeof w);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    const uint64_t c = w ^ 0x3030303030303030ull;
    const uint64_t t = ((c & 0x7f7f7f7f7f7f7f7full) + 0x7676767676767676ull) | c;
    return (unsigned)((((t & 0x8080808080808080ull) >> 7) * 0x0102040810204080ull) >> 56);
}

/* Bit i set for each byte i of the 24 at s that is not a decimal digit
 * (bits 24..31 clear): SSE2's byte compares on x86-64, else the SWAR
 * above. */
static inline uint32_t nondigits24(const unsigned char *s)
{
#if defined(__SSE2__) && !defined(CS_NO_SIMD)
    const __m128i lo = _mm_set1_epi8('0' - 1), hi = _mm_set1_epi8('9' + 1);
    const __m128i a = _mm_loadu_si128((const __m128i *)(const void *)s);
    const __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(s + 16));
    /* signed compares: bytes >= 0x80 are negative, below '0' */
    const __m128i da = _mm_and_si128(_mm_cmpgt_epi8(a, lo), _mm_cmplt_epi8(a, hi));
    const __m128i db = _mm_and_si128(_mm_cmpgt_epi8(b, lo), _mm_cmplt_epi8(b, hi));
    const uint32_t digits =
        (uint32_t)_mm_movemask_epi8(da) | (uint32_t)_mm_movemask_epi8(db) << 16;
    return ~digits & 0xffffffu;
#else
    return nondigits8(s) | nondigits8(s + 8) << 8 | nondigits8(s + 16) << 16;
#endif
}

/* The decimal number of the n digits at s (s[0..n) are digits; n is
 * checked to be 1..3 here): its value; a leading zero, n outside 1..3 or a
 * value over 255 set *bad. The digits are read as one little-endian word
 * shifted so the units digit lands in byte 2 (bytes past the number fall
 * off the top, the bytes below it are zero): no branch on n. */
static inline unsigned dec_n(const unsigned char *s, unsigned n, unsigned *bad)
{
    uint32_t w;
    memcpy(&w, s, sizeof w);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap32(w);
#endif
    const uint32_t y = (uint32_t)((uint64_t)w << (8 * (3 - (n & 3)))) & 0x0f0f0fu;
    const unsigned v = (y & 0xffu) * 100 + ((y >> 8) & 0xffu) * 10 + (y >> 16);
    *bad |= (n - 1 > 2) | (v > 255) | ((n > 1) & (s[0] == '0'));
    return v;
}

/* "a.b.c.d/len": the first five bytes that are not digits (four separators
 * and the line end; the top bits are sentinels) found from one mask of 24
 * bytes, so the octets are read independently and the next item's start
 * is known after a handful of bit operations. */
static bool fast_v4(const unsigned char *s, size_t avail, bool addresses, cs_prefix *out,
                    size_t *used)
{
    uint32_t m = nondigits24(s) | 0xff000000u;
    const unsigned p1 = (unsigned)__builtin_ctz(m);
    m &= m - 1;
    const unsigned p2 = (unsigned)__builtin_ctz(m);
    m &= m - 1;
    const unsigned p3 = (unsigned)__builtin_ctz(m);
    m &= m - 1;
    const unsigned p4 = (unsigned)__builtin_ctz(m);
    m &= m - 1;
    const unsigned p5 = (unsigned)__builtin_ctz(m);
    unsigned bad = (s[p1] != '.') | (s[p2] != '.') | (s[p3] != '.');
    const uint32_t a = dec_n(s, p1, &bad) << 24 | dec_n(s + p1 + 1, p2 - p1 - 1, &bad) << 16 |
                       dec_n(s + p2 + 1, p3 - p2 - 1, &bad) << 8 |
                       dec_n(s + p3 + 1, p4 - p3 - 1, &bad);
    unsigned len = 32, end = p4;
    if (!addresses) {
        bad |= s[p4] != '/';
        len = dec_n(s + p4 + 1, p5 - p4 - 1, &bad);
        bad |= len > 32;
        end = p5;
    }
    if (bad || !line_end(s, end, avail, used))
        return false;
    if (a & ~(uint32_t)(~0ull << (32 - len)))
        return false; /* host bits: refused or normalised, with a message */
    memset(out, 0, sizeof *out);
    out->hi = (uint64_t)a << 32;
    out->len = (uint8_t)len;
    out->family = CS_AF_V4;
    return true;
}

/* Bit i set for each byte i of the 48 at s that is not a hex digit (the
 * top 16 bits set: sentinels). */
static inline uint64_t nonhex48(const unsigned char *s)
{
    uint64_t hex = 0;
#if defined(__SSE2__) && !defined(CS_NO_SIMD)
    const __m128i d0 = _mm_set1_epi8('0' - 1), d9 = _mm_set1_epi8('9' + 1),
                  la = _mm_set1_epi8('a' - 1), lf = _mm_set1_epi8('f' + 1),
                  lower = _mm_set1_epi8(0x20);
    for (int k = 0; k < 3; k++) {
        const __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(s + 16 * k));
        const __m128i c = _mm_or_si128(b, lower); /* 'A'..'F' -> 'a'..'f' */
        const __m128i is = _mm_or_si128(_mm_and_si128(_mm_cmpgt_epi8(b, d0), _mm_cmplt_epi8(b, d9)),
                                        _mm_and_si128(_mm_cmpgt_epi8(c, la), _mm_cmplt_epi8(c, lf)));
        hex |= (uint64_t)(uint32_t)_mm_movemask_epi8(is) << (16 * k);
    }
#else
    for (int k = 0; k < 48; k++)
        hex |= (uint64_t)((s[k] - (unsigned)'0' < 10) | ((s[k] | 0x20u) - (unsigned)'a' < 6))
               << k;
#endif
    return ~hex | 0xffffull << 48;
}

/* The hex group of n (1..4) digits at s, read as one little-endian word:
 * each byte to its nibble ('a' and 'A' have bit 6 set: + 9), shifted so
 * the last digit lands in byte 3, then the four nibbles packed. */
static inline unsigned hex_n(const unsigned char *s, unsigned n)
{
    uint32_t w;
    memcpy(&w, s, sizeof w);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap32(w);
#endif
    uint32_t x = (w & 0x0f0f0f0fu) + 9 * ((w >> 6) & 0x01010101u);
    x = (uint32_t)((uint64_t)x << (8 * (4 - n)));
    /* bytes (first .. last digit) to nibbles (most .. least significant) */
    return (x >> 24) | ((x >> 12) & 0xf0u) | (x & 0xf00u) | ((x << 12) & 0xf000u);
}

static bool fast_v6(const unsigned char *s, size_t avail, bool addresses, cs_prefix *out,
                    size_t *used)
{
    const uint64_t m = nonhex48(s);
    unsigned g[8], ng = 0, nd;
    int dc = -1; /* groups before the "::", -1: none */
    unsigned p = 0;
    if (s[0] == ':') {
        if (s[1] != ':')
            return false;
        dc = 0;
        p = 2;
    }
    for (;;) {
        const unsigned l = (unsigned)__builtin_ctzll(m >> p);
        if (l == 0) {
            if (dc == (int)ng)
                break; /* "::" ends the address: "2001:db8::/32", "::/0" */
            return false;
        }
        if (l > 4 || ng == 8)
            return false;
        g[ng++] = hex_n(s + p, l);
        p += l;
        if (s[p] != ':')
            break;
        if (s[p + 1] != ':') {
            p++;
            continue;
        }
        if (dc >= 0)
            return false; /* a second "::" */
        dc = (int)ng;
        p += 2;
    }
    if (dc < 0 ? ng != 8 : ng > 7)
        return false;
    unsigned len = 128;
    if (!addresses) {
        unsigned bad = s[p] != '/';
        nd = (unsigned)__builtin_ctz(nondigits8(s + p + 1) | 0x100u);
        len = dec_n(s + p + 1, nd, &bad);
        if (bad || len > 128)
            return false;
        p += 1 + nd;
    }
    if (!line_end(s, p, avail, used))
        return false;
    /* groups before the "::" from the left, those after it to the right */
    uint64_t w[2] = {0, 0};
    const unsigned left = dc < 0 ? 8u : (unsigned)dc;
    for (unsigned i = 0; i < ng; i++) {
        const unsigned at = i < left ? i : i + 8 - ng;
        w[at >> 2] |= (uint64_t)g[i] << (48 - 16 * (at & 3));
    }
    const uint64_t host_hi = len >= 64 ? 0 : ~0ull >> len;
    const uint64_t host_lo = len <= 64 ? ~0ull : len == 128 ? 0 : ~0ull >> (len - 64);
    if ((w[0] & host_hi) | (w[1] & host_lo))
        return false;
    memset(out, 0, sizeof *out);
    out->hi = w[0];
    out->lo = w[1];
    out->len = (uint8_t)len;
    out->family = CS_AF_V6;
    return true;
}

/* The short paths for the item at s (avail bytes left, at least WINDOW
 * readable); true when one took it. */
static inline bool fast_item(const unsigned char *s, size_t avail, unsigned flags,
                             bool addresses, cs_prefix *out, size_t *used)
{
    /* An IPv6 item has a ':' among its first five bytes, an IPv4 one none. */
    if ((s[0] == ':') | (s[1] == ':') | (s[2] == ':') | (s[3] == ':') | (s[4] == ':'))
        return !(flags & CS_PARSE_V4_ONLY) && fast_v6(s, avail, addresses, out, used);
    return !(flags & CS_PARSE_V6_ONLY) && fast_v4(s, avail, addresses, out, used);
}

int cs_prefix_lines_next(const char *text, size_t len, size_t *pos, unsigned flags,
                         bool addresses, cs_prefix *out, cs_error *err)
{
    const size_t avail = len - *pos;
    const unsigned char *s = (const unsigned char *)text + *pos;
    unsigned char win[WINDOW];
    if (avail < WINDOW) {
        memset(win, 0, sizeof win);
        memcpy(win, s, avail);
        s = win;
    }
    size_t used;
    if (fast_item(s, avail, flags, addresses, out, &used)) {
        *pos += used;
        return 0;
    }
    const char *line = text + *pos;
    const char *nl = memchr(line, '\n', avail);
    size_t ll = nl ? (size_t)(nl - line) : avail;
    *pos += ll + (nl ? 1 : 0);
    if (ll && line[ll - 1] == '\r')
        ll--;
    return addresses ? cs_address_parse(line, ll, flags, out, err)
                     : cs_prefix_parse(line, ll, flags, out, err);
}

int cs_prefix_item_parse(const char *item, size_t len, unsigned flags, bool addresses,
                         cs_prefix *out, cs_error *err)
{
    /* The short paths read past the item: in place when the WINDOW bytes
     * from its start lie on the page of its first byte (reading them cannot
     * fault) and a NUL ends it (a C string, a CPython str), else from a
     * zero-padded copy. Bytes past the item never make a wrong answer: an
     * item is taken only when its last separator or digit ends exactly at
     * len (used == len), so what follows can only make a short path give up
     * (digits run on past len), which the NUL avoids. */
    if (len <= WINDOW - 16) {
        const unsigned char *s = (const unsigned char *)item;
        unsigned char win[WINDOW];
        if (!READ_PAST_ITEMS || ((uintptr_t)s & (PAGE - 1)) > PAGE - WINDOW || s[len] != 0) {
            memset(win, 0, sizeof win);
            memcpy(win, item, len);
            s = win;
        }
        size_t used;
        /* used < len: a line break inside ("10.0.0.0/8\nx"), refused below */
        if (fast_item(s, len, flags, addresses, out, &used) && used == len &&
            s[len - 1] != '\n')
            return 0;
    }
    const char *nl = memchr(item, '\n', len);
    if (nl) {
        const size_t at = (size_t)(nl - item);
        cs_fail(err, CS_EPARSE, "a line break inside an item");
        cs_error_locate(err, NULL, 1, (uint32_t)at + 1, at, 1, item, len);
        return CS_EPARSE;
    }
    if (len && item[len - 1] == '\r')
        len--; /* as at a line's end */
    return addresses ? cs_address_parse(item, len, flags, out, err)
                     : cs_prefix_parse(item, len, flags, out, err);
}

int64_t cs_prefix_lines_chunk(const char *text, size_t len, size_t *pos, unsigned flags,
                              bool addresses, cs_prefix *out, size_t cap, cs_error *err)
{
    size_t n = 0;
    for (; n < cap && *pos < len; n++) {
        /* items a window's length from the end are read in place */
        size_t used;
        if (*pos + WINDOW <= len && fast_item((const unsigned char *)text + *pos, len - *pos,
                                              flags, addresses, &out[n], &used)) {
            *pos += used;
            continue;
        }
        int rc = cs_prefix_lines_next(text, len, pos, flags, addresses, &out[n], err);
        if (rc < 0) {
            if (err)
                err->line = n + 1;
            return rc;
        }
    }
    return (int64_t)n;
}

int64_t cs_prefix_parse_lines(const char *text, size_t len, unsigned flags,
                              bool addresses, cs_prefix *out, size_t cap,
                              cs_error *err)
{
    if ((!text && len) || (!out && cap))
        return cs_fail(err, CS_EINVAL, "cs_prefix_parse_lines: NULL argument");
    size_t pos = 0;
    int64_t n = cs_prefix_lines_chunk(text, len, &pos, flags, addresses, out, cap, err);
    if (n >= 0 && pos < len)
        return cs_fail(err, CS_ERANGE, "more than %zu items", cap);
    return n;
}
