/*
 * engine/core/key_internal.h — bit operations on left-aligned 128-bit keys
 * (a cs_prefix's hi/lo halves: IPv4 in the top 32 bits of hi). Pure, inline;
 * shared by the builder (engine/build/trie.c), the image validator
 * (engine/image/snapshot.c) and the walk (engine/query/query.c), so the three
 * agree on what "continues with bit b" means.
 */
#ifndef CS_KEY_INTERNAL_H
#define CS_KEY_INTERNAL_H

#include <stdint.h>

/* Length of the common leading bits of two keys, at most `limit`. */
static inline unsigned cs_key_common_bits(uint64_t ahi, uint64_t alo,
                                          uint64_t bhi, uint64_t blo,
                                          unsigned limit)
{
    uint64_t x = ahi ^ bhi;
    unsigned c;
    if (x)
        c = (unsigned)__builtin_clzll(x);
    else {
        uint64_t y = alo ^ blo;
        c = y ? 64u + (unsigned)__builtin_clzll(y) : 128u;
    }
    return c < limit ? c : limit;
}

/* Bit i (0 = most significant, i < 128) of a left-aligned key. */
static inline unsigned cs_key_bit(uint64_t hi, uint64_t lo, unsigned i)
{
    return i < 64 ? (unsigned)(hi >> (63 - i)) & 1u
                  : (unsigned)(lo >> (127 - i)) & 1u;
}

/* Clears the bits of a key past `len` (len <= 128). */
static inline void cs_key_truncate(uint64_t *hi, uint64_t *lo, unsigned len)
{
    if (len == 0) {
        *hi = 0;
        *lo = 0;
    } else if (len < 64) {
        *hi &= ~0ull << (64 - len);
        *lo = 0;
    } else if (len == 64) {
        *lo = 0;
    } else if (len < 128) {
        *lo &= ~0ull << (128 - len);
    }
}

/* Whether a key has no bit set past `len` (len <= 128): a canonical
 * prefix's address. */
static inline int cs_key_is_canonical(uint64_t hi, uint64_t lo, unsigned len)
{
    uint64_t t_hi = hi, t_lo = lo;
    cs_key_truncate(&t_hi, &t_lo, len);
    return t_hi == hi && t_lo == lo;
}

#endif
