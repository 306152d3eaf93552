/*
 * engine/snapshot_internal.h — what other engine modules may know of an
 * image: the frozen node record, extra sections (the estate's tables), and
 * read-side accessors. Build-side helpers are named *_build_*, read-side
 * helpers snap_*, so a call from the wrong context shows in review.
 */
#ifndef CS_SNAPSHOT_INTERNAL_H
#define CS_SNAPSHOT_INTERNAL_H

#include <cidrscope/snapshot.h>

#include <assert.h>

/* One trie node of the frozen image, in DFS preorder. Its left child, when
 * present (CS_FN_LEFT), is the next node (index + 1); its right child is at
 * `right` (0 = none: node 0 is the root, never a child). Its own entries are
 * [ent_begin, first child's ent_begin) — or [ent_begin, ent_end) for a leaf —
 * and its whole subtree's entries are [ent_begin, ent_end). */
typedef struct cs_fnode {
    uint64_t key_hi;    /*  0: address bits 0..63 */
    uint64_t key_lo;    /*  8: address bits 64..127 */
    uint32_t right;     /* 16: right child index, 0 = none */
    uint32_t ent_begin; /* 20: first entry of this subtree */
    uint32_t ent_end;   /* 24: one past the last entry of this subtree */
    uint8_t len;        /* 28: prefix length */
    uint8_t flags;      /* 29: CS_FN_* */
    uint8_t pad[2];     /* 30: zero */
} cs_fnode;
static_assert(sizeof(cs_fnode) == 32, "cs_fnode is 32 bytes in the image");

enum { CS_FN_LEFT = 1u };

/* Section ids. 1..0xff: the core (tries, entries); 0x100..0x1ff: the
 * estate's tables (engine/estate_image.c owns their format). */
enum {
    CS_SEC_NODES_V4 = 1,
    CS_SEC_NODES_V6 = 2,
    CS_SEC_VALUES_V4 = 3,  /* u32 value per entry */
    CS_SEC_VALUES_V6 = 4,
    CS_SEC_ENTNODE_V4 = 5, /* u32 node index per entry (entry -> prefix) */
    CS_SEC_ENTNODE_V6 = 6,
    CS_SEC_DIR_V4 = 7,     /* 65536 u32: node to start from per top 16 bits */
    CS_SEC_ESTATE_FIRST = 0x100,
    CS_SEC_ESTATE_LAST = 0x1ff,
};

/* An extra section handed to the image writer: copied into the image,
 * 64-byte aligned, checksummed. */
typedef struct cs_section_blob {
    uint32_t id;
    const void *data;
    uint64_t len;
} cs_section_blob;

/* Freezes the builder plus `n_extra` extra sections into a new heap image.
 * Returns as cs_snapshot_builder_freeze. */
int cs_snapshot_build_image(const cs_snapshot_builder *b,
                            const cs_section_blob *extra, size_t n_extra,
                            cs_snapshot **out, cs_error *err);

/* Read side: the bytes of section `id` (NULL and *len = 0 when absent).
 * Bounds were checked at open; the estate validates its own content. */
const void *snap_section(const cs_snapshot *s, uint32_t id, uint64_t *len);

/* Read side: the per-family arrays. */
typedef struct cs_famview {
    const cs_fnode *nodes;
    const uint32_t *values;
    const uint32_t *entnode;
    const uint32_t *dir;   /* NULL for IPv6 */
    uint32_t n_nodes;
    uint32_t n_entries;
} cs_famview;
const cs_famview *snap_family(const cs_snapshot *s, unsigned fam_idx);

/* The prefix stored at node `i` of a family. */
static inline cs_prefix snap_node_prefix(const cs_fnode *n, unsigned fam_idx)
{
    cs_prefix p;
    p.hi = n->key_hi;
    p.lo = n->key_lo;
    p.len = n->len;
    p.family = fam_idx ? CS_AF_V6 : CS_AF_V4;
    return p;
}

/* End of node i's own entries (= start of its first child's). */
static inline uint32_t snap_own_end(const cs_famview *f, uint32_t i)
{
    const cs_fnode *n = &f->nodes[i];
    if (n->flags & CS_FN_LEFT)
        return f->nodes[i + 1].ent_begin;
    if (n->right)
        return f->nodes[n->right].ent_begin;
    return n->ent_end;
}

#endif
