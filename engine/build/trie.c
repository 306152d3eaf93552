/*
 * engine/build/trie.c — the build-side Patricia trie.
 *
 * Does: insert (prefix, value) entries and find a prefix exactly, for one
 * address family; many entries may share a prefix (85,000 default VPCs on
 * 172.31.0.0/16 are one node with 85,000 entries). Does not: answer queries
 * (the frozen image does, engine/query/query.c), free single nodes, or delete
 * (trie_clear empties it whole, for reuse). The one read the build side
 * needs, "does anything stored overlap p" (the estate freeze's same-VPC
 * check, engine/build/estate_freeze.c), is trie_overlap_any. The snapshot
 * builder does not use it (snapshot_builder.c sorts its entries).
 *
 * Structure: a path-compressed binary trie. Every node is a prefix; a node
 * with entries is a stored prefix, a node without is a "glue" node created
 * where two stored prefixes diverge, and always has two children:
 *
 *              10.0.0.0/8 (entries)
 *              /             \
 *      10.0.0.0/14 (glue)   10.128.0.0/9 (entries)
 *        /         \
 *   10.0.0.0/16  10.2.0.0/16
 *
 * Invariants: a child is longer than its parent and agrees with it on the
 * parent's bits; child[b] continues with bit b at position parent.len; keys
 * have no bits past len; a glue node has two children. So depth <= 33 (v4)
 * or 129 (v6) nodes, and the node count is < 2 x distinct prefixes.
 *
 * Memory: nodes and entries are two growable arrays indexed by u32 (index 0
 * unused = "none"); growth doubles, so N inserts make O(log N) allocations.
 * Single-threaded. Tests: tests/test_trie.c.
 */
#include "build/trie_internal.h"

#include "core/grow_internal.h"

#include <cidrscope/error.h>

#include <stdlib.h>
#include <string.h>

#define TRIE_MAX_INDEX 0xfffffffeu

void trie_init(cs_trie *t, unsigned bits)
{
    memset(t, 0, sizeof *t);
    t->bits = (uint8_t)bits;
    t->n_nodes = 1; /* index 0 reserved */
}

void trie_release(cs_trie *t)
{
    free(t->nodes);
    free(t->ents);
    memset(t, 0, sizeof *t);
}

static uint32_t new_node(cs_trie *t, uint64_t hi, uint64_t lo, unsigned len)
{
    uint32_t i = t->n_nodes++;
    trie_node *n = &t->nodes[i];
    n->hi = hi;
    n->lo = lo;
    n->len = (uint8_t)len;
    n->child[0] = n->child[1] = TRIE_NONE;
    n->n_entries = 0;
    return i;
}

int trie_insert(cs_trie *t, const cs_prefix *p, uint32_t value)
{
    /* Reserve room first so a failed allocation leaves the trie unchanged:
     * an insert adds at most 2 nodes (the prefix and one glue) and 1 entry. */
    if (t->n_nodes > TRIE_MAX_INDEX - 2 || t->n_ents >= TRIE_MAX_INDEX)
        return CS_ERANGE;
    int rc = cs_grow32((void **)&t->nodes, &t->cap_nodes, (size_t)t->n_nodes + 2,
                       sizeof(trie_node), TRIE_MAX_INDEX + 1u);
    if (rc)
        return rc;
    rc = cs_grow32((void **)&t->ents, &t->cap_ents, (size_t)t->n_ents + 1,
                   sizeof(trie_entry), TRIE_MAX_INDEX + 1u);
    if (rc)
        return rc;

    const uint64_t hi = p->hi, lo = p->lo;
    const unsigned len = p->len;
    uint32_t *slot = &t->root; /* the link that leads to `cur` */
    uint32_t target;
    for (;;) {
        uint32_t cur = *slot;
        if (cur == TRIE_NONE) {
            target = new_node(t, hi, lo, len);
            *slot = target;
            break;
        }
        trie_node *n = &t->nodes[cur];
        unsigned lim = n->len < len ? n->len : len;
        unsigned d = cs_key_common_bits(n->hi, n->lo, hi, lo, lim);
        if (d == n->len && n->len == len) { /* the prefix itself */
            target = cur;
            break;
        }
        if (d == n->len) { /* n contains p: go down by p's next bit */
            slot = &n->child[cs_key_bit(hi, lo, n->len)];
            continue;
        }
        if (d == len) { /* p contains n: p goes in between */
            target = new_node(t, hi, lo, len);
            trie_node *m = &t->nodes[target];
            n = &t->nodes[cur];
            m->child[cs_key_bit(n->hi, n->lo, len)] = cur;
            *slot = target;
            break;
        }
        /* They diverge at bit d: a glue node of length d takes both. */
        uint64_t ghi = hi, glo = lo;
        cs_key_truncate(&ghi, &glo, d);
        uint32_t glue = new_node(t, ghi, glo, d);
        target = new_node(t, hi, lo, len);
        unsigned pb = cs_key_bit(hi, lo, d);
        t->nodes[glue].child[pb] = target;
        t->nodes[glue].child[!pb] = cur;
        *slot = glue;
        break;
    }
    trie_node *tn = &t->nodes[target];
    if (tn->n_entries++ == 0)
        t->n_prefixes++;
    t->ents[t->n_ents].node = target;
    t->ents[t->n_ents].value = value;
    t->n_ents++;
    return 0;
}

uint32_t trie_find(const cs_trie *t, const cs_prefix *p)
{
    uint32_t cur = t->root;
    while (cur != TRIE_NONE) {
        const trie_node *n = &t->nodes[cur];
        if (n->len > p->len)
            return TRIE_NONE;
        unsigned d = cs_key_common_bits(n->hi, n->lo, p->hi, p->lo, n->len);
        if (d < n->len)
            return TRIE_NONE;
        if (n->len == p->len)
            return n->n_entries ? cur : TRIE_NONE;
        cur = n->child[cs_key_bit(p->hi, p->lo, n->len)];
    }
    return TRIE_NONE;
}

void trie_clear(cs_trie *t)
{
    t->n_nodes = 1;
    t->n_ents = 0;
    t->root = TRIE_NONE;
    t->n_prefixes = 0;
}

uint32_t trie_overlap_any(const cs_trie *t, const cs_prefix *p)
{
    uint32_t cur = t->root;
    while (cur != TRIE_NONE) {
        const trie_node *n = &t->nodes[cur];
        if (n->len > p->len) {
            /* n is inside p, or the walk left p's path */
            if (cs_key_common_bits(n->hi, n->lo, p->hi, p->lo, p->len) < p->len)
                return TRIE_NONE;
            break;
        }
        if (cs_key_common_bits(n->hi, n->lo, p->hi, p->lo, n->len) < n->len)
            return TRIE_NONE;
        if (n->n_entries)
            return cur; /* contains p */
        if (n->len == p->len)
            break; /* glue equal to p: everything below is inside p */
        cur = n->child[cs_key_bit(p->hi, p->lo, n->len)];
    }
    /* cur heads a subtree inside p: its first stored prefix is down the
     * leftmost path (a node without entries is glue, with two children). */
    while (cur != TRIE_NONE && t->nodes[cur].n_entries == 0)
        cur = t->nodes[cur].child[0];
    return cur;
}
