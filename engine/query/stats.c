/*
 * engine/query/stats.c — cs_estate_stats_get: what a frozen estate holds,
 * counted once for `cidrscope stat` and any library caller (estate.h states
 * the counting rules).
 *
 * Does: one pass over the read accessors of the estate tables (accounts,
 * regions, peerings, edges, findings); findings grouped by kind, kinds
 * sorted by byte order so the report does not depend on finding order.
 * Does not: print (engine/report/stat_report.c writes it), or look at the
 * trie. Thread-safety: reads the snapshot only; the result is the caller's.
 * Tests: tests/test_estate.c (estate__stats_count_what_stat_reports),
 * tests/cli/test_stat.sh.
 */
#include <cidrscope/estate.h>
#include <cidrscope/snapshot.h>

#include "core/grow_internal.h"

#include <stdlib.h>
#include <string.h>

static int cmp_kind(const void *a, const void *b)
{
    return strcmp(((const cs_finding_kind_count *)a)->kind,
                  ((const cs_finding_kind_count *)b)->kind);
}

/* Counts one finding of `kind`. */
static int count_kind(cs_estate_stats *st, size_t *cap, const char *kind)
{
    uint32_t k = 0;
    while (k < st->kind_count && strcmp(st->kinds[k].kind, kind) != 0)
        k++;
    if (k == st->kind_count) {
        if (cs_grow((void **)&st->kinds, cap, (size_t)k + 1, sizeof *st->kinds,
                    UINT32_MAX))
            return CS_ENOMEM;
        st->kinds[st->kind_count++] = (cs_finding_kind_count){kind, 0};
    }
    st->kinds[k].count++;
    return 0;
}

int cs_estate_stats_get(const cs_snapshot *s, cs_estate_stats *st)
{
    if (!st)
        return CS_EINVAL;
    memset(st, 0, sizeof *st);
    if (!s)
        return CS_EINVAL;
    cs_estate_counts_get(s, &st->counts);
    st->has_estate = cs_estate_present(s);
    const cs_estate_counts *c = &st->counts;
    for (uint32_t i = 0; i < c->accounts; i++) {
        cs_account a;
        if (cs_estate_account(s, i, &a))
            return CS_ECORRUPT;
        if (a.flags & CS_ACCOUNT_PSEUDO)
            continue;
        if (a.flags & CS_ACCOUNT_EXTERNAL)
            st->external_accounts++;
        else
            st->accounts++;
    }
    for (uint32_t i = 0; i < c->regions; i++) {
        cs_region r;
        if (cs_estate_region(s, i, &r))
            return CS_ECORRUPT;
        st->regions += r.name[0] != '\0';
    }
    st->prefix_list_owners = c->pseudo_vpcs;
    st->vpcs = c->vpcs - c->pseudo_vpcs;
    st->default_vpcs = c->default_vpcs;
    for (uint32_t i = 0; i < c->peerings; i++) {
        cs_peering p;
        if (cs_estate_peering(s, i, &p) || p.status >= CS_PCX_STATUS_COUNT)
            return CS_ECORRUPT;
        st->by_status[p.status]++;
    }
    for (uint32_t i = 0; i < c->edges; i++) {
        cs_edge e;
        if (cs_estate_edge(s, i, &e) || e.kind >= CS_EDGE_KIND_COUNT)
            return CS_ECORRUPT;
        st->by_edge[e.kind]++;
    }
    size_t cap = 0;
    for (uint32_t i = 0; i < c->findings; i++) {
        cs_finding f;
        if (cs_estate_finding(s, i, &f))
            return CS_ECORRUPT;
        if (count_kind(st, &cap, f.kind))
            return CS_ENOMEM;
        if (strcmp(f.kind, CS_FINDING_REJECTED) == 0) {
            if (f.line)
                st->rejected_records++;
            else
                st->rejected_files++;
        } else if (strcmp(f.kind, CS_FINDING_INCOMPLETE_PAGE) == 0) {
            st->incomplete_pages++;
        }
    }
    if (st->kind_count > 1)
        qsort(st->kinds, st->kind_count, sizeof *st->kinds, cmp_kind);
    return 0;
}

void cs_estate_stats_free(cs_estate_stats *st)
{
    if (!st)
        return;
    free(st->kinds);
    st->kinds = NULL;
    st->kind_count = 0;
}
