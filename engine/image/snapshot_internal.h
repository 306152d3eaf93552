/*
 * engine/image/snapshot_internal.h — what other engine modules may know of an
 * image: the frozen node record, extra sections (the estate's tables), and
 * read-side accessors. Build-side helpers are named *_build_*, read-side
 * helpers snap_*, so a call from the wrong context shows in review.
 */
#ifndef CS_SNAPSHOT_INTERNAL_H
#define CS_SNAPSHOT_INTERNAL_H

#include <cidrscope/snapshot.h>

#include <assert.h>
#include <stddef.h>

/*
 * A trie node of the frozen image is split in two records with one index:
 * the HOT record holds what a search step reads (key, length, links), the
 * COLD record what only the last one or two nodes of a walk need (entry
 * ranges and the per-path sums). Nodes are in DFS preorder: the left child,
 * when present (CS_FN_LEFT), is the next node (index + 1); the right child
 * is at `right` (0 = none: node 0 is the root, never a child).
 */
typedef struct cs_hot4 {   /* IPv4 search record, 12 bytes */
    uint32_t key;          /*  0: address, host order; bits past len zero */
    uint32_t right;        /*  4: right child index, 0 = none */
    uint8_t len;           /*  8: prefix length 0..32 */
    uint8_t flags;         /*  9: CS_FN_* */
    uint8_t pad[2];        /* 10: zero */
} cs_hot4;
/* 12 bytes, not 16: a third of a 5M-prefix image's IPv4 nodes are glue, and
 * the 4 bytes of padding were 5.5 bytes per stored prefix. A record may
 * straddle two cache lines (1 in 16); bench/results-memory.md has the query
 * rows measured before and after. */
static_assert(sizeof(cs_hot4) == 12, "cs_hot4 is 12 bytes in the image");

typedef struct cs_hot6 {   /* IPv6 search record, 24 bytes */
    uint64_t key_hi;       /*  0: address bits 0..63 */
    uint64_t key_lo;       /*  8: address bits 64..127 */
    uint32_t right;        /* 16 */
    uint8_t len;           /* 20: 0..128 */
    uint8_t flags;         /* 21 */
    uint8_t pad[2];        /* 22: zero */
} cs_hot6;
static_assert(sizeof(cs_hot6) == 24, "cs_hot6 is 24 bytes in the image");

/* Per-node data read once per query, 12 bytes, both families. */
typedef struct cs_cold {
    uint32_t ent_begin;    /*  0: first entry of the subtree (and of the
                                  node's own entries) */
    uint32_t ent_end;      /*  4: one past the subtree's last entry */
    uint32_t path;         /*  8: the sums of the path from the root, read
                                  through snap_cov / snap_best below */
} cs_cold;
static_assert(sizeof(cs_cold) == 12, "cs_cold is 12 bytes in the image");

#define CS_NO_NODE UINT32_MAX

/*
 * `path` holds one of two things. Write cov(k) for the entries stored at
 * node k and at every ancestor (all entries whose prefix contains k's), and
 * best(k) for the deepest node among k and its ancestors that has entries
 * of its own (the longest-prefix match of anything k contains; CS_NO_NODE:
 * none). A node with entries of its own is its own best, so it stores cov
 * (bit 31 clear: at most 2^31 - 1 entries per family); a node without (a
 * glue node) has the cov of its best, so it stores best with bit 31 set
 * (CS_COLD_GLUE | best, CS_NO_NODE when there is none and cov is 0: at most
 * 2^31 - 1 nodes per family). Format 2 stored both in 16-byte records; the
 * one field is 4 bytes less per node (bench/results-memory.md), for one
 * more load when cov is asked of a glue node below a stored prefix.
 */
#define CS_COLD_GLUE 0x80000000u
#define CS_COLD_MAX 0x7fffffffu /* more entries or nodes in a family: refused */

static inline uint32_t snap_best(const cs_cold *c, uint32_t i)
{
    const uint32_t p = c[i].path;
    const uint32_t b = p == CS_NO_NODE ? CS_NO_NODE : p & ~CS_COLD_GLUE;
    return p & CS_COLD_GLUE ? b : i; /* selects, no branch: glue and entry
                                        nodes alternate along any walk */
}
static inline uint32_t snap_cov(const cs_cold *c, uint32_t i)
{
    /* Read the field of best for a glue node that has one, else (a node
     * with entries, or glue without best: CS_NO_NODE) the node's own again
     * (the same record: no miss); a glue value there means cov 0. */
    const uint32_t p = c[i].path;
    const uint32_t via = (p >> 31) & (p != CS_NO_NODE);
    const uint32_t j = i ^ ((i ^ (p & ~CS_COLD_GLUE)) & (0u - via));
    const uint32_t q = c[j].path;
    return q & ((q >> 31) - 1u);
}
/* Build side: the `path` of node k from its cov and best. */
static inline uint32_t cs_image_build_path(uint32_t k, uint32_t cov, uint32_t best)
{
    return best == k ? cov : best == CS_NO_NODE ? CS_NO_NODE : CS_COLD_GLUE | best;
}


enum { CS_FN_LEFT = 1u };

/* Section ids. 1..0xff: the core (tries, entries); 0x100..0x1ff: the
 * estate's tables (engine/image/estate_image.c owns their format). */
enum {
    CS_SEC_HOT_V4 = 1,     /* cs_hot4 per node */
    CS_SEC_HOT_V6 = 2,     /* cs_hot6 per node */
    CS_SEC_COLD_V4 = 3,    /* cs_cold per node */
    CS_SEC_COLD_V6 = 4,
    CS_SEC_VALUES_V4 = 5,  /* u32 value per entry */
    CS_SEC_VALUES_V6 = 6,
    /* 7, 8: the entry -> node maps of format 1, gone since format 2 (an
     * entry's node is found by snap_entry_node); refused as unknown ids */
    CS_SEC_CORE_LAST = 6,
    CS_SEC_ESTATE_FIRST = 0x100,
    CS_SEC_ESTATE_LAST = 0x1ff,
};

/* An extra section handed to the image writer: copied into the image,
 * 64-byte aligned, checksummed. `data` NULL: the section is reserved and the
 * caller writes it in place (cs_image_draft.extra) before sealing. */
typedef struct cs_section_blob {
    uint32_t id;
    const void *data;
    uint64_t len;
} cs_section_blob;

/* At most this many extra sections in one image. */
#define CS_DRAFT_MAX_EXTRA 32u

/* cs_image_build_begin flags. CS_DRAFT_RAW: the caller writes every byte of
 * the core sections and of every extra section reserved without data, so
 * the writer zeroes only the header, the section table and the padding
 * between sections: pages of a large image are touched only as the caller
 * fills them (the estate freeze releases its builder before it writes the
 * tries). Without it the whole image starts zeroed. CS_DRAFT_TRUSTED: the
 * seal opens the image with CS_OPEN_TRUSTED (no walk of the tries), for a
 * writer whose output tests check byte for byte against an independent
 * freeze and validate (the snapshot builder: tests/test_trie.c). */
enum { CS_DRAFT_RAW = 1u, CS_DRAFT_TRUSTED = 2u };

/*
 * The image writer: the only code that lays out an image. The build side
 * (engine/build/freeze.c) calls it; it never calls the build side.
 *
 *   cs_image_build_begin   allocates the whole image, zeroed (see
 *                          CS_DRAFT_RAW), lays out the core sections for
 *                          `counts` and the extra sections (copied in now,
 *                          or reserved), writes the section table, and
 *                          points the draft's arrays at the core sections
 *                          and the extra sections;
 *   (the caller fills hot/cold/values and the reserved extra
 *   sections, nothing else)
 *   cs_image_build_seal    writes the header and every checksum, then opens
 *                          the image through the one validating path
 *                          (cs_snapshot_from_memory): what was built is what
 *                          any reader of a file or segment sees. The draft is
 *                          consumed, on success (the snapshot owns the
 *                          memory) and on failure (freed);
 *   cs_image_build_abort   frees a draft that will not be sealed.
 */
typedef struct cs_image_counts {
    uint32_t nodes[2];     /* per family: IPv4, IPv6 */
    uint32_t entries[2];
    uint32_t prefixes[2];  /* nodes with entries of their own */
} cs_image_counts;

typedef struct cs_image_draft {
    cs_hot4 *hot4;         /* nodes[0] records */
    cs_hot6 *hot6;         /* nodes[1] records */
    cs_cold *cold[2];
    uint32_t *values[2];
    void *extra[CS_DRAFT_MAX_EXTRA]; /* extra section i, in place */
    /* the writer's own */
    uint8_t *img;
    size_t len;
    uint32_t n_sections;
    uint32_t n_extra;
    unsigned flags;
    cs_image_counts counts;
} cs_image_draft;

int cs_image_build_begin(cs_image_draft *d, const cs_image_counts *counts,
                         const cs_section_blob *extra, size_t n_extra,
                         unsigned flags, cs_error *err);
int cs_image_build_seal(cs_image_draft *d, cs_snapshot **out, cs_error *err);
void cs_image_build_abort(cs_image_draft *d);

/* Read side: the bytes of section `id` (NULL and *len = 0 when absent).
 * Bounds were checked at open; the estate validates its own content. */
const void *snap_section(const cs_snapshot *s, uint32_t id, uint64_t *len);

/* Read side: the per-family arrays. */
typedef struct cs_famview {
    const cs_hot4 *hot4;   /* IPv4 only */
    const cs_hot6 *hot6;   /* IPv6 only */
    const cs_cold *cold;
    const uint32_t *values;
    uint32_t n_nodes;
    uint32_t n_entries;
} cs_famview;
const cs_famview *snap_family(const cs_snapshot *s, unsigned fam_idx);

/*
 * Direct indexes, derived at open from the validated tries (never read from
 * the image; engine/image/direct.c builds them). A record tells where a walk
 * for any query of length >= L inside one block resumes: `resume`, the first
 * node of the block's search path of length >= L (CS_NO_NODE: the walk is
 * over), and `x`, the deepest node of length < L containing the block
 * (CS_NO_NODE: none).
 */
typedef struct cs_dir16 {
    uint32_t resume;
    uint32_t x;
} cs_dir16;

/* IPv4 records: CS_DIR4_RECORDS in `dir` (65536 /16 blocks, then 256 /8
 * blocks, then 4096 /12 blocks), CS_DIR_L2_RECORDS per busy /16 in `dir24`
 * (16 /20 blocks, then 256 /24 blocks). The shm blob (snapshot.c) copies
 * them as they are. */
#define CS_DIR4_RECORDS (65536u + 256u + 4096u)
#define CS_DIR4_AT8 65536u
#define CS_DIR4_AT12 (65536u + 256u)
#define CS_DIR_L2_RECORDS (16u + 256u)
/* IPv6 records in `dir6`, by the bits of the query after base: 65536 for 16
 * bits (L = base_len + 16), then 4096 for 12, 256 for 8, 16 for 4, and 1 for
 * none (the base node itself). */
#define CS_DIR6_AT12 65536u
#define CS_DIR6_AT8 (CS_DIR6_AT12 + 4096u)
#define CS_DIR6_AT4 (CS_DIR6_AT8 + 256u)
#define CS_DIR6_AT0 (CS_DIR6_AT4 + 16u)
#define CS_DIR6_RECORDS (CS_DIR6_AT0 + 1u)
/* IPv6 second level, per busy record of the 16-bit level (L = base_len +
 * 16): 16 records for the 4 bits after it (L = base_len + 20), then 256 for
 * 8 (+ 24), then 4096 for 12 (+ 28). */
#define CS_DIR6_L2_AT8 16u
#define CS_DIR6_L2_AT12 (16u + 256u)
#define CS_DIR6_L2_RECORDS (16u + 256u + 4096u)

typedef struct snap_direct {
    /* IPv4, NULL for small tries: 65536 records for the /16 blocks (L = 16),
     * then 256 for the /8 blocks (L = 8), then 4096 for the /12 blocks
     * (L = 12). */
    cs_dir16 *dir;
    /* IPv4 second level under the busy /16s: l2[v] is the first of v's
     * CS_DIR_L2_RECORDS records in dir24 (16 for its /20 blocks, L = 20,
     * then 256 for its /24 blocks, L = 24), or CS_NO_NODE. NULL when no /16
     * is busy enough. */
    uint32_t *l2;
    cs_dir16 *dir24;
    uint32_t n_l2;        /* /16 blocks with a second level */
    /* IPv6, NULL for small tries: CS_DIR6_RECORDS records over the 16, 12,
     * 8, 4 and 0 bits after the `base` prefix (the deepest node holding most
     * entries; L = base_len + those bits), for queries inside base. */
    cs_dir16 *dir6;
    uint64_t base_hi, base_lo;
    uint32_t base_len;
    uint32_t base_x;      /* x of a walk that reaches base: its parent */
    /* IPv6 second level under the busy 16-bit records: l2_6[v] is the first
     * of dir6[v]'s CS_DIR6_L2_RECORDS records in dir6_l2, or CS_NO_NODE.
     * NULL when no record is busy enough (or base is longer than /96). */
    uint32_t *l2_6;
    cs_dir16 *dir6_l2;
    uint32_t n_l2_6;      /* 16-bit records with a second level */
} snap_direct;

/* Every family's indexes, built now if they were not (a shm publisher
 * copying them, tests). */
const snap_direct *snap_direct_of(const cs_snapshot *s);
/*
 * The indexes for a call about to walk n queries of the families in `fams`
 * (bit f: family f). Built lazily, per family: once the queries of a
 * family walked from the root without its index reach
 * CS_DIRECT_LAZY_QUERIES (on org-83k a walk from the root costs 75-120 ns
 * more than from a record, a family's build 1.2-1.5 ms: a one-item or
 * 200-line run never pays for it, a 200,000-line run loses 0.2 ms to the
 * wait, a few IPv6 items among IPv4 ones build no IPv6 index), this call
 * builds it, unless another thread is building (then it goes on without
 * rather than wait). A call's n counts for each family in `fams`. The result is immutable
 * and holds the families built so far (a family not built: its first level
 * NULL, as for a small trie); any may be used. Thread-safe.
 */
const snap_direct *snap_direct_for(const cs_snapshot *s, unsigned fams, size_t n);
#define CS_DIRECT_LAZY_QUERIES 2048u
/* The families whose indexes were built (bit f: family f; tests). */
unsigned snap_direct_built(const cs_snapshot *s);
/* Builds the indexes of the families in `fams` (bit f: family f, none of
 * them built in d yet) of a validated image's tries into d, leaving the
 * other family's as they are (0, or CS_ENOMEM: the family that failed
 * left without). snap_direct_free frees every family's. */
int snap_direct_build(snap_direct *d, const cs_famview *f4, const cs_famview *f6, unsigned fams);
void snap_direct_free(snap_direct *d);

/*
 * Derived state a reader module caches with the snapshot, one object per
 * slot: snap_derived returns the slot's object, calling build(s, slot) the
 * first time (outside any lock: threads that race may each build; the first
 * to publish wins by compare-and-swap, the others release theirs) and
 * release(obj) when the snapshot is closed. NULL when build returns NULL
 * (nothing cached: the next call builds again); with build NULL, never
 * builds (the object if it was built, else NULL). The object is read-only
 * once published. Slots: engine/query/ipam_index.c's free-hole index, one
 * per family.
 */
enum { SNAP_DERIVED_IPAM_V4 = 0, SNAP_DERIVED_IPAM_V6 = 1, SNAP_DERIVED_COUNT = 2 };
typedef void *(*snap_derive_fn)(const cs_snapshot *s, unsigned slot);
void *snap_derived(const cs_snapshot *s, unsigned slot, snap_derive_fn build,
                   void (*release)(void *));

/* The prefix stored at node i of a family. */
static inline cs_prefix snap_node_prefix(const cs_famview *f, unsigned fam_idx,
                                         uint32_t i)
{
    cs_prefix p;
    if (fam_idx) {
        p.hi = f->hot6[i].key_hi;
        p.lo = f->hot6[i].key_lo;
        p.len = f->hot6[i].len;
        p.family = CS_AF_V6;
    } else {
        p.hi = (uint64_t)f->hot4[i].key << 32;
        p.lo = 0;
        p.len = f->hot4[i].len;
        p.family = CS_AF_V4;
    }
    return p;
}

/* Length, left-child flag and right link of node i. */
static inline unsigned snap_len(const cs_famview *f, unsigned fam_idx, uint32_t i)
{
    return fam_idx ? f->hot6[i].len : f->hot4[i].len;
}
static inline uint8_t snap_flags(const cs_famview *f, unsigned fam_idx, uint32_t i)
{
    return fam_idx ? f->hot6[i].flags : f->hot4[i].flags;
}
static inline uint32_t snap_right(const cs_famview *f, unsigned fam_idx, uint32_t i)
{
    return fam_idx ? f->hot6[i].right : f->hot4[i].right;
}

/* End of node i's own entries (= start of its first child's). */
static inline uint32_t snap_own_end(const cs_famview *f, unsigned fam_idx, uint32_t i)
{
    if (snap_flags(f, fam_idx, i) & CS_FN_LEFT)
        return f->cold[i + 1].ent_begin;
    uint32_t r = snap_right(f, fam_idx, i);
    return r ? f->cold[r].ent_begin : f->cold[i].ent_end;
}

/* The node whose own entries hold entry e (e < n_entries) of a validated
 * family: the last node k with ent_begin(k) <= e. In preorder the nodes'
 * own ranges follow each other ([ent_begin(k), ent_begin(k + 1)), the last
 * node's ending at n_entries), so ent_begin never decreases and a node
 * without entries of its own shares its begin with the next node; the
 * search lands on the node whose range holds e. O(log nodes): read once
 * per audit group and per cs_snapshot_entry call that asks for a prefix,
 * never on a query's path. */
static inline uint32_t snap_entry_node(const cs_famview *f, uint32_t e)
{
    uint32_t lo = 0, n = f->n_nodes; /* answer in [lo, lo + n) */
    while (n > 1) {
        uint32_t half = n / 2;
        if (f->cold[lo + half].ent_begin <= e)
            lo += half;
        n -= half;
    }
    return lo;
}

#endif
