/*
 * engine/query/walk_internal.h — the read-side primitives the other query
 * modules (audit, peering, IPAM, the sorted count) build on, so that none of
 * them walks the node arrays itself. All but the inline count below are
 * implemented in engine/query/query.c, on the one walk. Read side only; pure reads of an immutable image, thread-safe.
 *
 * A family is given by its index (0 IPv4, 1 IPv6: cs_family_index). Entries
 * are numbered per family in DFS order of their nodes, so everything inside a
 * prefix is one range of entry indices and `values` is the family's array of
 * entry values (cs_walk_values).
 */
#ifndef CS_WALK_INTERNAL_H
#define CS_WALK_INTERNAL_H

#include <cidrscope/query.h>

#include "image/snapshot_internal.h"

/* An entry-bearing node as the primitives report it. */
typedef struct cs_wnode {
    cs_prefix prefix;
    uint32_t node;       /* node index in its family (DFS preorder) */
    uint32_t ent_begin;  /* own entries [ent_begin, own_end) */
    uint32_t own_end;
    uint32_t ent_end;    /* the whole subtree's entries [ent_begin, ent_end) */
    uint32_t up;         /* nearest entry-bearing proper ancestor, CS_NO_NODE */
    uint32_t depth;      /* 1 + the number of entry-bearing proper ancestors */
} cs_wnode;

/*
 * The overlap count (kind: a CS_Q_* mask) of a finished walk of Q: x is the
 * deepest node strictly containing Q (CS_NO_NODE: none), r the first node
 * of length >= |Q| on Q's path that agrees with Q on |Q| bits (CS_NO_NODE:
 * none), r_equal whether r's length is |Q|. The entries of x and its
 * ancestors cover Q strictly; r's subtree is covered by Q, and r's own
 * entries equal Q. Inline: query.c's walks and count_sorted.c's finish
 * every query with it.
 */
static inline uint32_t cs_walk_count_of(const cs_cold *c, uint32_t x, uint32_t r, int r_equal,
                                        unsigned kind)
{
    const uint32_t cov_x = x != CS_NO_NODE ? snap_cov(c, x) : 0;
    uint32_t total = (kind & CS_Q_COVERING) ? cov_x : 0;
    if (r != CS_NO_NODE) {
        if (kind & CS_Q_COVERED)
            total += c[r].ent_end - c[r].ent_begin;
        else if (r_equal)
            total += snap_cov(c, r) - cov_x;
    }
    return total;
}

/* Entry values and entry count of a family. */
const uint32_t *cs_walk_values(const cs_snapshot *s, unsigned fam, uint32_t *n_entries);

/* The node holding entry e (e < n_entries), filled as by the visit below but
 * with up = CS_NO_NODE and depth = 0 (unknown without the path). */
void cs_walk_entry_node(const cs_snapshot *s, unsigned fam, uint32_t e, cs_wnode *out);

/*
 * Visits the entry-bearing nodes of a family, or of the subtree under one
 * prefix, in DFS preorder (so a node comes before everything it contains,
 * and a subtree is contiguous). The state is the caller's (no allocation):
 *
 *   cs_wvisit v;
 *   cs_walk_visit_init(&v, s, fam, NULL);   (or a prefix: only inside it)
 *   cs_wnode n;
 *   while (cs_walk_visit_next(&v, &n)) ...
 *
 * `up` and `depth` count entry-bearing ancestors inside the visited range
 * (for a prefix-restricted visit, those outside it are not counted).
 */
typedef struct cs_wvisit {
    const cs_famview *f;
    unsigned fam;
    uint32_t i;           /* next node */
    uint32_t end_ent;     /* stop at the first node whose entries start here */
    uint32_t n;           /* node count of the family */
    unsigned sp;
    uint32_t st_node[130], st_end[130], st_depth[130];
} cs_wvisit;
void cs_walk_visit_init(cs_wvisit *v, const cs_snapshot *s, unsigned fam,
                        const cs_prefix *within);
int cs_walk_visit_next(cs_wvisit *v, cs_wnode *out);

/*
 * The covering chain of q: the entry-bearing nodes whose prefix contains q
 * (equal included), root first. Fills out[0 .. min(count, cap)) and returns
 * the count (at most 33 or 129). up/depth are set along the chain.
 */
unsigned cs_walk_covering(const cs_snapshot *s, const cs_prefix *q, cs_wnode *out,
                          unsigned cap);

/*
 * The covered slice of q: the entries of every stored prefix inside q (equal
 * included) are the one range [*begin, *end) of the family's entries.
 * Returns the node heading that subtree (CS_NO_NODE and an empty range when
 * nothing is inside q). The first node of the range's own entries may be q
 * itself (relation EQUAL) or a longer prefix.
 */
uint32_t cs_walk_covered(const cs_snapshot *s, const cs_prefix *q, uint32_t *begin,
                         uint32_t *end);

#endif
