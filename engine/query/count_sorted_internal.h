/*
 * engine/query/count_sorted_internal.h — overlap counts of queries that come
 * in address order, each walk resuming from the previous one's path
 * (engine/query/count_sorted.c), for cs_query_count_lines.
 */
#ifndef CS_COUNT_SORTED_INTERNAL_H
#define CS_COUNT_SORTED_INTERNAL_H

#include <cidrscope/query.h>

#include "image/snapshot_internal.h"

/*
 * The walk's state, the caller's (no allocation): the nodes that strictly
 * contain the previous query, root first (at most 33 or 129, a chain of
 * the trie). One per family and per thread.
 */
typedef struct cs_sorted_count {
    const cs_famview *f;
    unsigned kind;
    unsigned sp;
    uint32_t path[130];
} cs_sorted_count;

/* Starts a walk over family `fam` (0 IPv4, 1 IPv6) of s, answering counts
 * of `kind` (a valid CS_Q_* mask). */
void cs_sorted_count_init(cs_sorted_count *w, const cs_snapshot *s, unsigned fam,
                          unsigned kind);

/*
 * cs_query_count(s, Q, kind) for Q = addr/len (IPv4; len <= 32, no host
 * bits) or hi:lo/len (IPv6; len <= 128, no host bits) on the walk's
 * family. Any order of queries gives the right counts; in address order
 * each costs the steps below the path it shares with the previous one.
 * Pure reads of an immutable image.
 */
uint32_t cs_sorted_count_v4(cs_sorted_count *w, uint32_t addr, unsigned len);
uint32_t cs_sorted_count_v6(cs_sorted_count *w, uint64_t hi, uint64_t lo, unsigned len);

#endif
