/*
 * engine/build/trie_internal.h — the mutable Patricia trie used only to build
 * snapshots (never queried by users: every read goes through the frozen
 * image). Build-side names: trie_*.
 */
#ifndef CS_TRIE_INTERNAL_H
#define CS_TRIE_INTERNAL_H

#include <cidrscope/prefix.h>

#include <stdint.h>

#define TRIE_NONE 0u /* node index 0 is never used, so 0 means "no node" */

typedef struct trie_node {
    uint64_t hi, lo;      /* key, left-aligned; bits past len are zero */
    uint32_t child[2];    /* by the bit at position len; TRIE_NONE = none */
    uint32_t n_entries;   /* entries stored at exactly this prefix */
    uint8_t len;
} trie_node;

typedef struct trie_entry {
    uint32_t node;        /* builder node index */
    uint32_t value;
} trie_entry;

/* One family's trie. Nodes and entries live in two growable arrays (bulk
 * allocation, doubling): an insert never calls malloc unless an array is
 * full. */
typedef struct cs_trie {
    trie_node *nodes;     /* [0] unused */
    uint32_t n_nodes, cap_nodes;
    trie_entry *ents;
    uint32_t n_ents, cap_ents;
    uint32_t root;        /* TRIE_NONE when empty */
    uint32_t n_prefixes;  /* nodes with n_entries > 0 */
    uint8_t bits;         /* 32 or 128 */
} cs_trie;

void trie_init(cs_trie *t, unsigned bits);
void trie_release(cs_trie *t);

/* Adds entry (p, value); p canonical, of the trie's family. Returns 0,
 * CS_ENOMEM (trie unchanged), CS_ERANGE (2^32-2 entries or nodes). */
int trie_insert(cs_trie *t, const cs_prefix *p, uint32_t value);

/* Node holding exactly p, or TRIE_NONE. */
uint32_t trie_find(const cs_trie *t, const cs_prefix *p);

/* Length of the common leading bits of two keys, at most `limit`. */
static inline unsigned trie_common_bits(uint64_t ahi, uint64_t alo,
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

/* Bit i (0 = most significant) of a left-aligned key. */
static inline unsigned trie_key_bit(uint64_t hi, uint64_t lo, unsigned i)
{
    return i < 64 ? (unsigned)(hi >> (63 - i)) & 1u
                  : (unsigned)(lo >> (127 - i)) & 1u;
}

/* Clears the bits of a key past `len`. */
static inline void trie_key_truncate(uint64_t *hi, uint64_t *lo, unsigned len)
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

#endif
