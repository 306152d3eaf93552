/*
 * engine/query/interval.c — the live blocks of a family grouped by owner,
 * read from the one walk (engine/query/walk_internal.h) in address order:
 * the input of the peering index's interval runs
 * (engine/query/interval_internal.h documents the primitives).
 *
 * Does: one counting pass over the entry values, one visit of the
 * entry-bearing nodes. Does not: allocate, sort, or look at the estate
 * tables beyond the caller's owner map. Thread-safe (pure reads).
 */
#include "query/interval_internal.h"
#include "query/walk_internal.h"

uint64_t cs_ival_by_owner(const cs_snapshot *s, unsigned fam, const uint32_t *owner_of,
                          uint32_t n_values, uint32_t n_owners, uint64_t *at,
                          cs_ival4 *out4, cs_ival6 *out6)
{
    for (uint32_t o = 0; o <= n_owners; o++)
        at[o] = 0;
    uint32_t n_entries = 0;
    const uint32_t *values = cs_walk_values(s, fam, &n_entries);
    if (!values || !n_entries)
        return 0;
    /* Counts into at[o + 1], then starts: at[o] becomes o's write cursor. */
    for (uint32_t e = 0; e < n_entries; e++) {
        uint32_t v = values[e];
        if (v < n_values && owner_of[v] < n_owners)
            at[owner_of[v] + 1]++;
    }
    for (uint32_t o = 0; o < n_owners; o++)
        at[o + 1] += at[o];
    uint64_t total = at[n_owners];
    /* Cursors: shift starts down by one slot so at[o + 1] walks o's run
     * and ends at o's end, which is then o + 1's start. */
    for (uint32_t o = n_owners; o > 0; o--)
        at[o] = at[o - 1];
    cs_wvisit vis;
    cs_walk_visit_init(&vis, s, fam, NULL);
    cs_wnode nd;
    while (cs_walk_visit_next(&vis, &nd)) {
        cs_ival4 b4;
        cs_ival6 b6;
        if (fam == 0)
            cs_ival4_of(&nd.prefix, &b4);
        else
            cs_ival6_of(&nd.prefix, &b6);
        for (uint32_t e = nd.ent_begin; e < nd.own_end; e++) {
            uint32_t v = values[e];
            if (v >= n_values || owner_of[v] >= n_owners)
                continue;
            uint64_t k = at[owner_of[v] + 1]++;
            if (fam == 0)
                out4[k] = b4;
            else
                out6[k] = b6;
        }
    }
    at[0] = 0;
    return total;
}
