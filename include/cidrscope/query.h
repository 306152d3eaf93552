/*
 * cidrscope/query.h — overlap queries and longest-prefix lookup on a frozen
 * snapshot. The one query implementation: every read of every image (heap,
 * file, shared memory) goes through these functions.
 *
 * For a query prefix Q and a stored prefix P (same family):
 *   P COVERS Q      when P contains Q and P != Q (P is shorter),
 *   P EQUALS Q,
 *   P IS COVERED    when Q contains P and P != Q (P is longer).
 * covering(Q) = COVERS + EQUALS; covered(Q) = EQUALS + IS COVERED;
 * overlapping(Q) = the union, each entry once. Prefixes of the other family
 * never match.
 *
 * Results are grouped by stored prefix: a cs_match is one stored prefix and
 * the contiguous run of its entries' values (pointing into the snapshot).
 * Order: covering prefixes from the shortest down, then the equal prefix, then
 * covered prefixes in prefix order (cs_prefix_compare).
 *
 * Cost: counts and the first match are one root-to-leaf walk (O(depth), at
 * most 33 or 129 nodes) whatever the number of entries covered: every node
 * knows the entry range of its subtree. Enumeration adds O(output).
 *
 * No function here allocates, blocks or writes anything but its out
 * arguments; all are thread-safe on a shared snapshot.
 * Tests: tests/test_query.c (differential against a brute-force scan).
 */
#ifndef CIDRSCOPE_QUERY_H
#define CIDRSCOPE_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "prefix.h"
#include "snapshot.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What to match: a bit set. */
enum cs_query_kind {
    CS_Q_COVERING = 1u,    /* stored prefixes containing Q (equal included) */
    CS_Q_COVERED = 2u,     /* stored prefixes inside Q (equal included) */
    CS_Q_OVERLAPPING = 3u, /* the union, equal counted once */
};

/* How a matched stored prefix relates to the query. */
enum cs_relation {
    CS_REL_COVERS = 1,  /* stored prefix strictly contains Q */
    CS_REL_EQUAL = 2,
    CS_REL_COVERED = 3, /* stored prefix strictly inside Q */
};

typedef struct cs_match {
    cs_prefix prefix;        /* the stored prefix */
    const uint32_t *values;  /* its entries' values; points into the image */
    uint32_t count;          /* number of values (>= 1) */
    uint32_t first_entry;    /* entry index of values[0] in its family */
    uint8_t relation;        /* enum cs_relation */
} cs_match;

/* Number of entries matching Q. 0 for an empty snapshot or a family with no
 * entries. Negative only for CS_EINVAL (NULL, kind 0, bad family). */
CS_API int64_t cs_query_count(const cs_snapshot *s, const cs_prefix *q,
                              unsigned kind);

/*
 * Bulk count: counts[i] = cs_query_count(s, &qs[i], kind) for i < n. Searches
 * are interleaved with software prefetch so their memory latency overlaps.
 * No allocation. Returns 0 or CS_EINVAL.
 */
CS_API int cs_query_count_bulk(const cs_snapshot *s, const cs_prefix *qs,
                               size_t n, unsigned kind, uint32_t *counts);

/*
 * Calls cb once per matching stored prefix, in the order above. cb returns 0
 * to go on, anything else to stop; that value is then returned. Returns 0
 * when the walk completed, CS_EINVAL for bad arguments.
 */
typedef int (*cs_match_fn)(const cs_match *m, void *ctx);
CS_API int cs_query_walk(const cs_snapshot *s, const cs_prefix *q,
                         unsigned kind, cs_match_fn cb, void *ctx);

/*
 * Bulk walk: for each i < n, the matches of qs[i], delivered to
 * cb(i, m, ctx) in query order. Same stop rule and returns as cs_query_walk.
 */
typedef int (*cs_bulk_match_fn)(size_t query_index, const cs_match *m,
                                void *ctx);
CS_API int cs_query_walk_bulk(const cs_snapshot *s, const cs_prefix *qs,
                              size_t n, unsigned kind, cs_bulk_match_fn cb,
                              void *ctx);

/*
 * A resumable iterator whose state the caller owns (on its stack; no
 * allocation, no cleanup). Valid while the snapshot is open.
 *
 *   cs_query_iter it;
 *   cs_query_iter_init(&it, s, &q, CS_Q_OVERLAPPING);
 *   cs_match m;
 *   while (cs_query_iter_next(&it, &m) > 0) ...
 */
typedef struct cs_query_iter {
    const cs_snapshot *snap;
    cs_prefix q;
    unsigned kind;
    uint32_t fam;        /* family index */
    uint32_t node;       /* next node of the covering walk */
    uint32_t prev_cov;   /* entries at the nodes passed so far */
    uint32_t ent;        /* next entry of the covered range */
    uint32_t ent_end;    /* end of the covered range */
    uint8_t phase;       /* 0 covering walk, 1 entry range, 2 done */
} cs_query_iter;

CS_API void cs_query_iter_init(cs_query_iter *it, const cs_snapshot *s,
                               const cs_prefix *q, unsigned kind);
/* Fills *m with the next match: returns 1, or 0 when there is no more. */
CS_API int cs_query_iter_next(cs_query_iter *it, cs_match *m);

/*
 * Longest-prefix match: the longest stored prefix containing `addr` (an
 * address as a /32 or /128 prefix; any prefix is accepted, and then the
 * longest stored prefix containing it is returned). Returns 1 and fills *m,
 * or 0 when no stored prefix contains it; CS_EINVAL for bad arguments.
 * The whole covering chain is cs_query_walk(s, addr, CS_Q_COVERING, ...).
 */
CS_API int cs_lookup(const cs_snapshot *s, const cs_prefix *addr, cs_match *m);

/*
 * Parse-and-count in one call (engine/query/count_lines.c), for bindings
 * that hold the queries as text: `text[0..len)` holds one prefix a line,
 * parsed as cs_prefix_parse_lines does (with `flags`); counts[i] =
 * cs_query_count(s, item i, kind). Large inputs are counted in address
 * order (sorted, each distinct query counted once, then scattered back), so
 * the rate does not depend on the input's order. Returns the number of
 * items (<= cap), or CS_EPARSE (err: the item's line and column), CS_ERANGE
 * (more than cap items), CS_EINVAL (also a bad kind), CS_ENOMEM. Maps
 * scratch address space for cap items (64 bytes each, of which only what is
 * written is backed: 16 bytes per item, 48 more per IPv6 item), unmapped
 * before it returns. Thread-safe.
 */
CS_API int64_t cs_query_count_lines(const cs_snapshot *s, const char *text, size_t len,
                                    unsigned flags, unsigned kind, uint32_t *counts,
                                    size_t cap, cs_error *err);

/*
 * A scratch for the calls below that sort (cs_query_count_lines_with,
 * cs_query_count_items): the address space of the last largest call kept
 * for the next, so a caller counting many times pays the kernel's fresh
 * pages once (up to 64 bytes of address space per item, of which 16 per
 * IPv4 and 48 per IPv6 item stay resident until _free). _new returns NULL
 * when out of memory; _free(NULL) is a no-op. One call at a time per
 * scratch: calls in several threads need one each (or NULL).
 */
typedef struct cs_query_scratch cs_query_scratch;
CS_API cs_query_scratch *cs_query_scratch_new(void);
CS_API void cs_query_scratch_free(cs_query_scratch *sc);

/*
 * cs_query_count_lines with a scratch kept by the caller (sc; NULL: one for
 * this call only, as cs_query_count_lines). Same answers and statuses.
 */
CS_API int64_t cs_query_count_lines_with(const cs_snapshot *s, cs_query_scratch *sc,
                                         const char *text, size_t len, unsigned flags,
                                         unsigned kind, uint32_t *counts, size_t cap,
                                         cs_error *err);

/*
 * Where a binding's runtime keeps a sequence of strings, for
 * cs_query_count_items to read them in place instead of having them joined
 * (the Python binding describes a CPython list or tuple of str this way).
 * The sequence record holds its item count (a size_t at count_off) and its
 * item pointers: an array starting at items_off, or, with items_indirect,
 * at the pointer stored at items_off. An item record is one this call
 * reads only when the 64-bit word at tag_off equals tag and the 32-bit word
 * at flags_off, masked by flags_mask, equals flags_want; its text is then
 * the size_t at len_off bytes from text_off. Offsets are from a record's
 * start, words in host byte order.
 */
typedef struct cs_item_layout {
    size_t count_off;
    size_t items_off;
    uint32_t items_indirect;
    size_t tag_off;
    uint64_t tag;
    size_t flags_off;
    uint32_t flags_mask;
    uint32_t flags_want;
    size_t len_off;
    size_t text_off;
} cs_item_layout;

/*
 * cs_query_count_lines_with over the items of the sequence record `seq`,
 * read through *layout (each item one prefix, with one line's rules of
 * cs_prefix_parse_lines and `flags`; a line break inside an item is
 * CS_EPARSE); counts[0..n) receives the counts. The caller keeps seq and
 * its items alive and unchanged for the call (Python: the call holds the
 * GIL). Every item record must be readable up to tag_off + 8; its flags
 * word is read only when the tag matches, its length and text only when
 * both do; nothing is written or kept. An item's text may be read up to
 * 64 bytes from its start when that stays on its first byte's memory page
 * (never past the page: it cannot fault).
 * Returns n, or CS_ERANGE (n > cap), CS_EPARSE (err: the item's number as
 * line, its column), CS_EINVAL (err->line: the first item not of the
 * layout, before any count is written: pass the items as text instead;
 * also NULL arguments and a bad kind), CS_ENOMEM. Thread-safe as
 * cs_query_count_lines_with.
 */
CS_API int64_t cs_query_count_items(const cs_snapshot *s, cs_query_scratch *sc, const void *seq,
                                    const cs_item_layout *layout, unsigned flags, unsigned kind,
                                    uint32_t *counts, size_t cap, cs_error *err);

/*
 * Bulk longest-prefix match: out[i] is the match of addrs[i]; a miss is
 * out[i].count == 0 (and values NULL). Interleaved with prefetch; no
 * allocation. Returns the number of hits, or CS_EINVAL.
 */
CS_API int64_t cs_lookup_bulk(const cs_snapshot *s, const cs_prefix *addrs,
                              size_t n, cs_match *out);

/*
 * The overlapping entry pairs of the snapshot: unordered pairs of distinct
 * entries whose prefixes are equal or one contains the other (what the
 * audit's summary calls overlapping_entry_pairs, without its clusters or
 * scope). `family` is CS_AF_V4 or CS_AF_V6 for one family, 0 for both
 * (pairs never cross families). Arithmetic over the DFS-ordered image, one
 * sequential read of the node records: at each stored prefix with `own`
 * entries and `below` entries strictly inside it, C(own, 2) + own x below;
 * no pair is looked at. Sets *pairs and returns 0, or CS_EINVAL (NULL s or
 * pairs, another family). No allocation; thread-safe.
 */
CS_API int cs_query_count_pairs(const cs_snapshot *s, uint8_t family,
                                uint64_t *pairs);

#ifdef __cplusplus
}
#endif
#endif
