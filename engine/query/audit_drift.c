/*
 * engine/query/audit_drift.c — what changed between two audits
 * (cs_audit_diff).
 *
 * Does: match the listed pairs of two audits by their VPC ids and the
 * listed groups by prefix, and order what appeared, changed and
 * disappeared. Does not: run audits or print.
 *
 * Concurrency: none inside; reads both results and snapshots. Tests:
 * tests/test_audit.c (drift).
 */
#include "query/audit_ctx_internal.h"

#include "core/error_internal.h"

#include <cidrscope/estate.h>

#include <stdlib.h>
#include <string.h>

/* ---- drift ---------------------------------------------------------------------------- */

/* A listed pair or a group, keyed across snapshots by VPC ids or prefix. */
typedef struct dkey {
    uint8_t what;           /* cs_change_what */
    const char *a, *b;      /* pair: ids, a < b */
    cs_prefix p;            /* group */
    size_t idx;
    uint8_t sev;
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

static dkey *drift_keys(const cs_snapshot *s, const cs_audit_result *r, size_t *n)
{
    size_t cnt = r->n_pairs + r->n_groups;
    dkey *k = calloc(cnt + 1, sizeof *k);
    if (!k)
        return NULL;
    size_t m = 0;
    for (size_t i = 0; i < r->n_pairs; i++) {
        const cs_audit_pair *p = &r->pairs[i].p;
        cs_vpc va, vb;
        if (cs_estate_vpc(s, p->vpc_a, &va) || cs_estate_vpc(s, p->vpc_b, &vb))
            continue;
        bool swap = strcmp(va.id, vb.id) > 0;
        k[m] = (dkey){CS_CHANGE_PAIR, swap ? vb.id : va.id, swap ? va.id : vb.id,
                      {0, 0, 0, 0}, i, p->severity, 2};
        m++;
    }
    for (size_t i = 0; i < r->n_groups; i++) {
        const cs_audit_group *g = &r->groups[i];
        if (!g->listed)
            continue;
        k[m] = (dkey){CS_CHANGE_GROUP, NULL, NULL, g->prefix, i, g->severity, g->vpcs};
        m++;
    }
    qsort(k, m, sizeof *k, cmp_dkey);
    *n = m;
    return k;
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

int cs_audit_diff(const cs_snapshot *old_s, const cs_audit_result *old_r,
                  const cs_snapshot *new_s, const cs_audit_result *new_r,
                  cs_audit_drift **out, cs_error *err)
{
    if (!old_s || !old_r || !new_s || !new_r || !out)
        return cs_fail(err, CS_EINVAL, "cs_audit_diff: NULL argument");
    *out = NULL;
    size_t no, nn;
    dkey *ko = drift_keys(old_s, old_r, &no);
    dkey *kn = drift_keys(new_s, new_r, &nn);
    drow *rows = calloc(no + nn + 1, sizeof *rows);
    cs_audit_drift *d = calloc(1, sizeof *d);
    if (!ko || !kn || !rows || !d) {
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
        drow *w = &rows[m];
        w->c.old_idx = w->c.new_idx = SIZE_MAX;
        if (c < 0) {
            w->c.kind = CS_CHANGE_DISAPPEARED;
            w->c.what = ko[i].what;
            w->c.old_idx = ko[i].idx;
            w->sev = ko[i].sev;
            w->order = m;
            i++;
            m++;
            continue;
        }
        if (c > 0) {
            w->c.kind = CS_CHANGE_APPEARED;
            w->c.what = kn[j].what;
            w->c.new_idx = kn[j].idx;
            w->sev = kn[j].sev;
            w->order = m;
            if (w->sev < d->worst)
                d->worst = w->sev;
            j++;
            m++;
            continue;
        }
        if (ko[i].sev != kn[j].sev || ko[i].vpcs != kn[j].vpcs) {
            w->c.kind = CS_CHANGE_CHANGED;
            w->c.what = kn[j].what;
            w->c.old_idx = ko[i].idx;
            w->c.new_idx = kn[j].idx;
            w->sev = kn[j].sev;
            w->order = m;
            /* worse: a higher severity, or a group that gained VPCs */
            if ((kn[j].sev < ko[i].sev || kn[j].vpcs > ko[i].vpcs) && w->sev < d->worst)
                d->worst = w->sev;
            m++;
        }
        i++;
        j++;
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
    if (!d || !out || i >= d->n)
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
