/*
 * engine/query/audit_drift.c — what changed between two audits
 * (cs_audit_diff).
 *
 * Does: compare two audits on the IDENTITY OF VPC PAIRS, with a group
 * standing for the set of pairs that overlap through its prefix; order what
 * appeared, changed and disappeared. Does not: run audits or print.
 *
 * A listed pair is keyed by its two VPC ids, a group by its prefix. Listing
 * is a choice of representation, not the overlap itself: the pair of
 * 10.1.0.0/16 (vpc-a) and 10.1.2.0/24 (vpc-b) is listed alone until a third
 * VPC adds 10.1.0.0/16; from then the group 10.1.0.0/16 stands for it. So
 *
 *   - a pair listed only in OLD DISAPPEARED only when the two VPCs no longer
 *     overlap in NEW (or one is gone or out of scope); still overlapping, it
 *     is represented by a NEW group and is no change of its own;
 *   - a pair listed only in NEW APPEARED when the two VPCs did not overlap
 *     in OLD, or overlapped there at a lesser severity (it got worse: a
 *     peering was made); otherwise a group of OLD represented it;
 *   - a group is matched among all groups of both sides (listed or not):
 *     present on one side only it appeared or disappeared; on both, it
 *     CHANGED when its severity or its number of VPCs differs and it is
 *     listed on either side.
 *
 * Hence adding a VPC never makes an overlap disappear (its VPCs keep their
 * blocks, a group only gains holders, severities only rise) and removing one
 * never makes an overlap appear; tests/test_audit.c checks both on generated
 * estates. The severity of a pair on the other side is computed from the
 * estate directly (blocks, peerings, hubs), as audit_pairs.c judges it, at
 * a cost of the two VPCs' blocks and peerings.
 *
 * Concurrency: none inside; reads both results and snapshots. Tests:
 * tests/test_audit.c (drift__*).
 */
#include "query/audit_ctx_internal.h"

#include "core/error_internal.h"

#include <cidrscope/estate.h>

#include <stdlib.h>
#include <string.h>

/* ---- a pair judged from the estate --------------------------------------------- */

/* The VPC at the other end of live connection p of v, or CS_IDX_NONE. */
static uint32_t live_peer(const cs_snapshot *s, uint32_t p, uint32_t v)
{
    cs_peering pr;
    if (cs_estate_peering(s, p, &pr) != 0 || !audit_pcx_live(pr.status))
        return CS_IDX_NONE;
    uint32_t o = pr.requester.vpc_idx == v ? pr.accepter.vpc_idx : pr.requester.vpc_idx;
    return o == v ? CS_IDX_NONE : o;
}

/*
 * The severity of VPCs `ida` and `idb` in snapshot s as audited in r: a
 * CS_SEV_* when both are in r's scope and some live blocks overlap, -1
 * otherwise. The rules of pair_severity() in audit_pairs.c: critical when
 * peered or both peered to a common hub; informational when both are
 * default VPCs or every overlap lies in a reused range; high for the same
 * account or (a named) region; else medium.
 */
static int pair_state(const cs_snapshot *s, const cs_audit_result *r, const char *ida,
                      const char *idb)
{
    uint32_t a, b;
    if (cs_estate_vpc_find(s, ida, strlen(ida), &a) != 1 ||
        cs_estate_vpc_find(s, idb, strlen(idb), &b) != 1 || a == b ||
        !audit_in_scope(r, a) || !audit_in_scope(r, b))
        return -1;
    cs_vpc va, vb;
    if (cs_estate_vpc(s, a, &va) || cs_estate_vpc(s, b, &vb))
        return -1;
    bool overlap = false, nonreused = false;
    for (uint32_t i = 0; i < va.assoc_count && !nonreused; i++) {
        cs_assoc x;
        if (cs_estate_assoc(s, va.assoc_begin + i, &x) || !x.live)
            continue;
        for (uint32_t j = 0; j < vb.assoc_count && !nonreused; j++) {
            cs_assoc y;
            if (cs_estate_assoc(s, vb.assoc_begin + j, &y) || !y.live ||
                x.prefix.family != y.prefix.family)
                continue;
            const cs_prefix *inner = NULL;
            if (cs_prefix_contains(&x.prefix, &y.prefix))
                inner = &y.prefix;
            else if (cs_prefix_contains(&y.prefix, &x.prefix))
                inner = &x.prefix;
            if (!inner)
                continue;
            overlap = true;
            nonreused = !audit_prefix_reused(inner);
        }
    }
    if (!overlap)
        return -1;
    uint32_t na, nb;
    const uint32_t *pa = cs_estate_vpc_peerings(s, a, &na);
    const uint32_t *pb = cs_estate_vpc_peerings(s, b, &nb);
    for (uint32_t i = 0; i < na; i++) {
        uint32_t h = live_peer(s, pa[i], a);
        if (h == b)
            return CS_SEV_CRITICAL;
        for (uint32_t j = 0; h != CS_IDX_NONE && j < nb; j++)
            if (live_peer(s, pb[j], b) == h)
                return CS_SEV_CRITICAL;
    }
    if ((va.is_default && vb.is_default) || !nonreused)
        return CS_SEV_INFO;
    cs_region ra, rb;
    bool same_region = cs_estate_region(s, va.region_idx, &ra) == 0 &&
                       cs_estate_region(s, vb.region_idx, &rb) == 0 && ra.name[0] &&
                       va.region_idx == vb.region_idx;
    if (va.account_idx == vb.account_idx || same_region)
        return CS_SEV_HIGH;
    return CS_SEV_MEDIUM;
}

/* ---- drift ---------------------------------------------------------------------------- */

/* A listed pair or a group, keyed across snapshots by VPC ids or prefix. */
typedef struct dkey {
    uint8_t what;           /* cs_change_what */
    const char *a, *b;      /* pair: ids, a < b */
    cs_prefix p;            /* group */
    size_t idx;
    uint8_t sev;
    bool listed;
    uint32_t vpcs;
} dkey;

static int cmp_dkey(const void *x, const void *y)
{
    const dkey *a = x, *b = y;
    if (a->what != b->what)
        return a->what < b->what ? -1 : 1;
    if (a->what == CS_CHANGE_GROUP)
        return cs_prefix_compare(&a->p, &b->p);
    int c = strcmp(a->a, b->a);
    return c ? c : strcmp(a->b, b->b);
}

/* The listed pairs and every group of r, sorted: 0 or CS_ENOMEM. */
static int drift_keys(const cs_snapshot *s, const cs_audit_result *r, dkey **out, size_t *n)
{
    size_t cnt = r->n_pairs + r->n_groups;
    dkey *k = calloc(cnt + 1, sizeof *k);
    if (!k)
        return CS_ENOMEM;
    size_t m = 0;
    for (size_t i = 0; i < r->n_pairs; i++) {
        const cs_audit_pair *p = &r->pairs[i].p;
        cs_vpc va, vb;
        if (cs_estate_vpc(s, p->vpc_a, &va) || cs_estate_vpc(s, p->vpc_b, &vb))
            continue;
        bool swap = strcmp(va.id, vb.id) > 0;
        k[m] = (dkey){CS_CHANGE_PAIR, swap ? vb.id : va.id, swap ? va.id : vb.id,
                      {0, 0, 0, 0}, i, p->severity, true, 2};
        m++;
    }
    for (size_t i = 0; i < r->n_groups; i++) {
        const cs_audit_group *g = &r->groups[i];
        k[m] = (dkey){CS_CHANGE_GROUP, NULL, NULL, g->prefix, i, g->severity, g->listed,
                      g->vpcs};
        m++;
    }
    qsort(k, m, sizeof *k, cmp_dkey);
    *out = k;
    *n = m;
    return 0;
}

typedef struct drow {
    cs_audit_change c;
    uint8_t sev;
    size_t order;
} drow;

static int cmp_drow(const void *x, const void *y)
{
    static const int rank[3] = {0, 2, 1}; /* appeared, changed, disappeared */
    const drow *a = x, *b = y;
    if (a->c.kind != b->c.kind)
        return rank[a->c.kind] < rank[b->c.kind] ? -1 : 1;
    if (a->sev != b->sev)
        return a->sev < b->sev ? -1 : 1;
    if (a->c.what != b->c.what)
        return a->c.what < b->c.what ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

/* Records one change; `worse` says whether it counts for drift_worst. */
static void put_row(cs_audit_drift *d, drow *rows, size_t *m, unsigned kind, const dkey *o,
                    const dkey *n, bool worse)
{
    drow *w = &rows[*m];
    w->c.kind = (uint8_t)kind;
    w->c.what = (n ? n : o)->what;
    w->c.old_idx = o ? o->idx : SIZE_MAX;
    w->c.new_idx = n ? n->idx : SIZE_MAX;
    w->sev = (n ? n : o)->sev;
    w->order = *m;
    if (worse && w->sev < d->worst)
        d->worst = w->sev;
    (*m)++;
}

int cs_audit_diff(const cs_snapshot *old_s, const cs_audit_result *old_r,
                  const cs_snapshot *new_s, const cs_audit_result *new_r,
                  cs_audit_drift **out, cs_error *err)
{
    if (!old_s || !old_r || !new_s || !new_r || !out)
        return cs_fail(err, CS_EINVAL, "cs_audit_diff: NULL argument");
    *out = NULL;
    size_t no = 0, nn = 0;
    dkey *ko = NULL, *kn = NULL;
    int rc = drift_keys(old_s, old_r, &ko, &no);
    if (rc == 0)
        rc = drift_keys(new_s, new_r, &kn, &nn);
    drow *rows = calloc(no + nn + 1, sizeof *rows);
    cs_audit_drift *d = calloc(1, sizeof *d);
    if (rc || !rows || !d) {
        free(ko);
        free(kn);
        free(rows);
        free(d);
        return cs_fail(err, CS_ENOMEM, "audit drift: out of memory");
    }
    d->worst = CS_SEV_COUNT;
    size_t i = 0, j = 0, m = 0;
    while (i < no || j < nn) {
        int c = i == no ? 1 : j == nn ? -1 : cmp_dkey(&ko[i], &kn[j]);
        if (c < 0) {
            const dkey *o = &ko[i++];
            if (o->what == CS_CHANGE_PAIR) {
                if (pair_state(new_s, new_r, o->a, o->b) < 0)
                    put_row(d, rows, &m, CS_CHANGE_DISAPPEARED, o, NULL, false);
            } else if (o->listed) {
                put_row(d, rows, &m, CS_CHANGE_DISAPPEARED, o, NULL, false);
            }
            continue;
        }
        if (c > 0) {
            const dkey *n = &kn[j++];
            if (n->what == CS_CHANGE_PAIR) {
                int was = pair_state(old_s, old_r, n->a, n->b);
                if (was < 0 || n->sev < was)
                    put_row(d, rows, &m, CS_CHANGE_APPEARED, NULL, n, true);
            } else if (n->listed) {
                put_row(d, rows, &m, CS_CHANGE_APPEARED, NULL, n, true);
            }
            continue;
        }
        const dkey *o = &ko[i++], *n = &kn[j++];
        if ((o->listed || n->listed) && (o->sev != n->sev || o->vpcs != n->vpcs))
            /* worse: a higher severity, or a group that gained VPCs */
            put_row(d, rows, &m, CS_CHANGE_CHANGED, o, n, n->sev < o->sev || n->vpcs > o->vpcs);
    }
    qsort(rows, m, sizeof *rows, cmp_drow);
    d->changes = calloc(m + 1, sizeof *d->changes);
    if (!d->changes) {
        free(ko);
        free(kn);
        free(rows);
        free(d);
        return cs_fail(err, CS_ENOMEM, "audit drift: out of memory");
    }
    for (size_t q = 0; q < m; q++) {
        d->changes[q] = rows[q].c;
        d->by_kind[rows[q].c.kind]++;
    }
    d->n = d->cap = m;
    free(ko);
    free(kn);
    free(rows);
    *out = d;
    return 0;
}

void cs_audit_drift_free(cs_audit_drift *d)
{
    if (!d)
        return;
    free(d->changes);
    free(d);
}

size_t cs_audit_change_count(const cs_audit_drift *d) { return d ? d->n : 0; }

int cs_audit_get_change(const cs_audit_drift *d, size_t i, cs_audit_change *out)
{
    if (!d || !out)
        return CS_EINVAL;
    if (i >= d->n)
        return CS_ERANGE;
    *out = d->changes[i];
    return 0;
}

uint64_t cs_audit_change_kind_count(const cs_audit_drift *d, unsigned kind)
{
    return d && kind < 3 ? d->by_kind[kind] : 0;
}

unsigned cs_audit_drift_worst(const cs_audit_drift *d)
{
    return d ? d->worst : CS_SEV_COUNT;
}
