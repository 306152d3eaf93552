/*
 * engine/build/trie_internal.h — the mutable Patricia trie of the build side
 * (the estate freeze's overlap probe, estate_freeze.c; the tests' reference
 * freeze, tests/test_trie.c). Never queried by users: every read goes
 * through the frozen image, and the snapshot builder freezes sorted
 * entries (snapshot_builder.c). Build-side names: trie_*.
 */
#ifndef CS_TRIE_INTERNAL_H
#define CS_TRIE_INTERNAL_H

#include <cidrscope/prefix.h>

#include "core/key_internal.h"

#include <stdint.h>
#include <string.h>

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

/* Empties the trie, keeping its arrays for the next inserts. */
void trie_clear(cs_trie *t);

/* A node with entries whose prefix overlaps p (p of the trie's family), or
 * TRIE_NONE: the shortest stored prefix containing p (equal included) when
 * there is one, else the first stored prefix inside p in address order. One
 * walk down p's path, then down the leftmost path under it. */
uint32_t trie_overlap_any(const cs_trie *t, const cs_prefix *p);

/* The prefix of node i (of a trie with `bits` 32 or 128). */
static inline cs_prefix trie_node_prefix(const cs_trie *t, uint32_t i)
{
    cs_prefix p;
    memset(&p, 0, sizeof p);
    p.hi = t->nodes[i].hi;
    p.lo = t->nodes[i].lo;
    p.len = t->nodes[i].len;
    p.family = t->bits == 32 ? CS_AF_V4 : CS_AF_V6;
    return p;
}

#endif
