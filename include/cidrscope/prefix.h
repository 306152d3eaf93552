/*
 * cidrscope/prefix.h — IPv4 and IPv6 prefixes: parse, format, compare.
 *
 * A cs_prefix holds its address left-aligned in 128 bits (`hi` holds bits
 * 0..63 counted from the most significant, `lo` bits 64..127): 10.1.0.0/16 is
 * hi = 0x0a01000000000000, lo = 0, len = 16, family = CS_AF_V4. Bits past
 * `len` are always zero in a parsed prefix (host bits are an error, or are
 * cleared and reported in lenient mode). IPv4 and IPv6 are never mixed: a v4
 * prefix never contains or overlaps a v6 one, ::ffff:10.0.0.0/104 included
 * (it is an IPv6 prefix).
 *
 * Pure: no allocation, I/O or globals; every function is thread-safe.
 * References: RFC 4632 (CIDR), RFC 4291 (IPv6 addressing), RFC 5952 (IPv6
 * text representation). Tests: tests/test_prefix.c, tests/fuzz/fuzz_prefix.c.
 */
#ifndef CIDRSCOPE_PREFIX_H
#define CIDRSCOPE_PREFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

enum cs_family { CS_AF_V4 = 4, CS_AF_V6 = 6 };

typedef struct cs_prefix {
    uint64_t hi;     /* address bits 0..63, most significant first */
    uint64_t lo;     /* address bits 64..127 (always 0 for IPv4) */
    uint8_t len;     /* prefix length: 0..32 (v4) or 0..128 (v6) */
    uint8_t family;  /* CS_AF_V4 or CS_AF_V6 */
} cs_prefix;

/* Longest text any valid prefix or address can have, NUL excluded:
 * "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128" is 49. Input longer
 * than this is rejected without being scanned further. */
#define CS_PREFIX_MAXLEN 49
/* A buffer this big always holds a formatted prefix and its NUL. */
#define CS_PREFIX_STRCAP 64

/* Flags for cs_prefix_parse. */
enum {
    /* Host bits set (10.0.0.1/16) are cleared instead of rejected; the call
     * returns CS_PARSE_NORMALISED and describes the change in err->message. */
    CS_PARSE_LENIENT = 1u << 0,
    /* A bare address ("10.0.0.1", "2001:db8::1") is accepted as /32 or /128
     * where a prefix is expected. Without it a missing length is an error. */
    CS_PARSE_BARE_ADDRESS = 1u << 1,
    /* Accept only IPv4 / only IPv6 (both set or neither: either family). */
    CS_PARSE_V4_ONLY = 1u << 2,
    CS_PARSE_V6_ONLY = 1u << 3,
};

/* Positive return of cs_prefix_parse: parsed, and host bits were cleared. */
#define CS_PARSE_NORMALISED 1

/*
 * Parses `text[0..len)` (not NUL-terminated; may contain NULs, which are
 * rejected) as a prefix "ADDR/LEN".
 *
 * Strict by default. Rejects, with a precise message in err (column and span
 * point at the offending characters; err->source is left untouched so a
 * caller can fill it): empty input; input longer than CS_PREFIX_MAXLEN;
 * embedded or surrounding spaces; a missing or out-of-range length, leading
 * zeros or signs in the length; IPv4 octets > 255, with leading zeros
 * ("010" is ambiguous: octal or decimal), fewer or more than 4 octets;
 * IPv6 with more than one "::", a group of more than 4 hex digits, too few or
 * too many groups, a zone id ("fe80::1%eth0"), an embedded IPv4 part anywhere
 * but the last 32 bits; trailing junk; host bits set ("10.0.0.1/16: host
 * bits set; did you mean 10.0.0.0/16?") unless CS_PARSE_LENIENT.
 *
 * Returns 0 (parsed exactly), CS_PARSE_NORMALISED (lenient and host bits
 * cleared; err->message says what was changed, err->code stays 0), or
 * CS_EPARSE / CS_EINVAL (NULL out). *out is written only on success.
 * On a return of 0 err is not written at all (a bulk loop pays nothing for
 * it); on CS_EPARSE or CS_PARSE_NORMALISED err->line is 1 and
 * err->text/text_col hold the input for the caret.
 */
CS_API int cs_prefix_parse(const char *text, size_t len, unsigned flags,
                           cs_prefix *out, cs_error *err);

/* Parses a bare address as a /32 or /128 prefix (a "/LEN" is an error).
 * Of the flags only CS_PARSE_V4_ONLY / CS_PARSE_V6_ONLY apply; input longer
 * than 45 characters (the longest address) is rejected unscanned.
 * Returns 0 or CS_EPARSE (CS_EINVAL for NULL out) as cs_prefix_parse. */
CS_API int cs_address_parse(const char *text, size_t len, unsigned flags,
                            cs_prefix *out, cs_error *err);

/*
 * Parses many items in one call: `text[0..len)` holds one prefix (or, with
 * `addresses`, one bare address) per line ('\n'; a trailing '\r' is
 * ignored, a final newline optional; a blank line is a bad item). Items go
 * to out[0..] in order, with `flags` as for cs_prefix_parse /
 * cs_address_parse (lenient normalisation is silent here). Returns the
 * number of items (>= 0), or CS_EPARSE with err->line the 1-based item
 * number and err->column its column, CS_ERANGE (more than `cap` items),
 * CS_EINVAL (NULL text or out with a non-zero size).
 */
CS_API int64_t cs_prefix_parse_lines(const char *text, size_t len,
                                     unsigned flags, bool addresses,
                                     cs_prefix *out, size_t cap, cs_error *err);

/*
 * Writes the canonical text of `p` into buf: dotted quad for IPv4, RFC 5952
 * for IPv6 (lower case, no leading zeros, the longest run of two or more zero
 * groups — the first one on a tie — as "::", and ::ffff:a.b.c.d for
 * IPv4-mapped addresses), then "/len". Always NUL-terminates when cap > 0.
 * Returns the length of the full text (as snprintf); CS_PREFIX_STRCAP always
 * suffices.
 */
CS_API size_t cs_prefix_format(const cs_prefix *p, char *buf, size_t cap);

/* As cs_prefix_format, without the "/len". */
CS_API size_t cs_address_format(const cs_prefix *p, char *buf, size_t cap);

/* Total order: family (v4 before v6), then address, then length (shorter
 * first). So a prefix sorts before every prefix it contains. Returns <0, 0,
 * >0. */
CS_API int cs_prefix_compare(const cs_prefix *a, const cs_prefix *b);

/* True when both are of one family and every address of `inner` is in
 * `outer` (equal prefixes contain each other). */
CS_API bool cs_prefix_contains(const cs_prefix *outer, const cs_prefix *inner);

/* True when both are of one family and they share at least one address
 * (for prefixes: one contains the other). */
CS_API bool cs_prefix_overlaps(const cs_prefix *a, const cs_prefix *b);

/* First and last address of `p`, as /32 or /128 prefixes. */
CS_API cs_prefix cs_prefix_first(const cs_prefix *p);
CS_API cs_prefix cs_prefix_last(const cs_prefix *p);

/* Width in bits of the family's addresses: 32 or 128. */
static inline unsigned cs_family_bits(uint8_t family)
{
    return family == CS_AF_V4 ? 32u : 128u;
}

/* Bit `i` (0 = most significant) of p's address. i < 128. */
static inline unsigned cs_prefix_bit(const cs_prefix *p, unsigned i)
{
    return i < 64 ? (unsigned)(p->hi >> (63 - i)) & 1u
                  : (unsigned)(p->lo >> (127 - i)) & 1u;
}

/* Builds a prefix from a host-order IPv4 address and a length, clearing host
 * bits. len <= 32. */
CS_API cs_prefix cs_prefix_from_v4(uint32_t addr, unsigned len);
/* The same for IPv6 from two host-order halves. len <= 128. */
CS_API cs_prefix cs_prefix_from_v6(uint64_t hi, uint64_t lo, unsigned len);

#ifdef __cplusplus
}
#endif
#endif
