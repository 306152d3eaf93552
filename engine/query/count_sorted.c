/*
 * engine/query/count_sorted.c — overlap counts for queries in address
 * order: one walk down the trie that resumes each query from the path the
 * previous one left, instead of from the root (cs_query_count_lines sorts
 * its queries and asks here).
 *
 * Does: the count of engine/query/query.c's walk (x, the deepest node that
 * strictly contains Q; r, the first node of length >= |Q| on Q's path when
 * it agrees with Q on |Q| bits; then the same two COLD reads), for one
 * query at a time. Does not: allocate, sort, or use the direct indexes (a
 * sorted stream rarely climbs above the /16 where they would resume).
 *
 * The state is the chain of nodes that strictly contained the previous
 * query, root first. Nested prefixes are one chain of the trie, so the
 * nodes that strictly contain the next query Q are a prefix of that
 * chain plus nodes below it:
 *
 *   path:  root ── 10.0.0.0/8 ── 10.1.0.0/16 ── 10.1.2.0/24   (after 10.1.2.8/29)
 *   Q = 10.1.3.0/24: pop 10.1.2.0/24 (does not contain Q), resume the walk
 *                    below 10.1.0.0/16 at its child on Q's bit 16
 *
 * Popping stops at the first node that contains Q strictly; the walk then
 * goes on exactly as query.c's does from that node, pushing every node it
 * goes down through. In address order a query pops and pushes a few nodes
 * whose records the previous queries brought into the cache.
 *
 * Records read: the HOT record's key, length, left flag and right link and
 * the COLD record's cov / ent_begin / ent_end, through snapshot_internal.h's
 * snap_* readers and walk_internal.h's cs_walk_count_of (the count
 * query.c's walks finish with).
 *
 * Thread-safety: the state is the caller's; the image is only read.
 * Tests: tests/test_prefix_lines.c (against cs_query_count on seeded
 * estates of both families with duplicates and deep nesting, queries in
 * address, reverse and random order).
 */
#include "query/count_sorted_internal.h"

#include "core/key_internal.h"
#include "query/walk_internal.h"

/* ---- record reads ---------------------------------------------------------- */

/* How many leading bits node i's key shares with Q's (hi, lo; IPv4 in the
 * top 32 bits of hi): 128 when all. */
static inline unsigned node_common(const cs_famview *f, unsigned fam, uint32_t i, uint64_t hi,
                                   uint64_t lo)
{
    if (fam)
        return cs_key_common_bits(f->hot6[i].key_hi, f->hot6[i].key_lo, hi, lo, 128);
    return cs_key_common_bits((uint64_t)f->hot4[i].key << 32, 0, hi, lo, 128);
}

/* Node i's child on side `bit` (0: none; the left child is the next node). */
static inline uint32_t node_child(const cs_famview *f, unsigned fam, uint32_t i, unsigned bit)
{
    return bit ? snap_right(f, fam, i) : (snap_flags(f, fam, i) & CS_FN_LEFT) ? i + 1 : 0;
}

/* ---- the walk ---------------------------------------------------------------- */

void cs_sorted_count_init(cs_sorted_count *w, const cs_snapshot *s, unsigned fam,
                          unsigned kind)
{
    w->f = snap_family(s, fam);
    w->kind = kind;
    w->sp = 0;
}

/*
 * The walk of Q = hi:lo/len (IPv4 in the top 32 bits of hi) from the
 * deepest node of the path that strictly contains it: pops the nodes that
 * do not, then goes down as query.c's walk does, pushing every node it
 * passes. `fam` is a constant at each call.
 */
static inline __attribute__((always_inline)) uint32_t
walk(cs_sorted_count *w, unsigned fam, uint64_t hi, uint64_t lo, unsigned len)
{
    const cs_famview *f = w->f;
    if (f->n_nodes == 0)
        return 0;
    unsigned sp = w->sp;
    while (sp) {
        const uint32_t t = w->path[sp - 1];
        const unsigned tl = snap_len(f, fam, t);
        if (tl < len && node_common(f, fam, t, hi, lo) >= tl)
            break;
        sp--;
    }
    uint32_t i = 0, r = CS_NO_NODE;
    unsigned rlen = 0;
    if (sp) {
        const uint32_t t = w->path[sp - 1];
        i = node_child(f, fam, t, cs_key_bit(hi, lo, snap_len(f, fam, t)));
    }
    if (sp == 0 || i != 0) {
        for (;;) {
            const unsigned hl = snap_len(f, fam, i);
            const unsigned common = node_common(f, fam, i, hi, lo);
            if (hl >= len) {
                if (common >= len) {
                    r = i;
                    rlen = hl;
                }
                break;
            }
            if (common < hl)
                break;
            w->path[sp++] = i;
            i = node_child(f, fam, i, cs_key_bit(hi, lo, hl));
            if (i == 0)
                break;
        }
    }
    w->sp = sp;
    return cs_walk_count_of(f->cold, sp ? w->path[sp - 1] : CS_NO_NODE, r, rlen == len, w->kind);
}

uint32_t cs_sorted_count_v4(cs_sorted_count *w, uint32_t addr, unsigned len)
{
    return walk(w, 0, (uint64_t)addr << 32, 0, len);
}

uint32_t cs_sorted_count_v6(cs_sorted_count *w, uint64_t hi, uint64_t lo, unsigned len)
{
    return walk(w, 1, hi, lo, len);
}
