/*
 * engine/query/audit_internal.h — the audit result as the report writers
 * (engine/report/audit_*.c) read it, and the audit modules through
 * audit_ctx_internal.h.
 */
#ifndef CS_AUDIT_INTERNAL_H
#define CS_AUDIT_INTERNAL_H

#include <cidrscope/audit.h>

/* A listed pair and where its witnesses are. */
typedef struct audit_pair_rec {
    cs_audit_pair p;
    uint64_t wit_begin;       /* index into the witness array */
} audit_pair_rec;

typedef struct audit_domain_rec {
    char *name;
    uint32_t vpcs;
    uint64_t pair_begin;      /* its pairs: dpairs[pair_begin, pair_end) */
    uint64_t pair_end;
} audit_domain_rec;

struct cs_audit_result {
    cs_audit_summary sum;
    unsigned flags;                 /* options.flags */

    cs_audit_cluster *clusters;
    size_t n_clusters, cap_clusters;
    cs_audit_group *groups;
    size_t n_groups, cap_groups;

    audit_pair_rec *pairs;
    size_t n_pairs, cap_pairs;
    cs_audit_witness *wit;
    size_t n_wit, cap_wit;

    audit_domain_rec *domains;
    size_t n_domains;
    audit_pair_rec *dpairs;
    size_t n_dpairs, cap_dpairs;
    cs_audit_witness *dwit;
    size_t n_dwit, cap_dwit;

    /* Scope, one byte per VPC (NULL: everything in scope, or no estate).
     * Report writers use it to list only in-scope members of a cluster. */
    uint8_t *in_scope;
    uint32_t n_vpcs;
};

struct cs_audit_drift {
    cs_audit_change *changes;
    size_t n, cap;
    uint64_t by_kind[3];            /* changes per cs_change_kind */
    unsigned worst;                 /* most severe appeared or worsened */
};

/* Orders listed pairs: most severe first, then by VPC indices (a qsort
 * comparator over audit_pair_rec). */
int audit_pair_cmp(const void *x, const void *y);

/* Sorts listed pairs p[0..n) (distinct (severity, vpc_a, vpc_b)) most
 * severe first, then by VPC indices: by a radix sort of packed keys when
 * they fit, else qsort. 0 or CS_ENOMEM (p unchanged). Exposed for
 * tests/test_audit.c. */
int audit_pairs_sort(audit_pair_rec *p, size_t n);

/* True when VPC v is in the result's scope. */
static inline bool audit_in_scope(const cs_audit_result *r, uint32_t v)
{
    return !r->in_scope || (v < r->n_vpcs && r->in_scope[v]);
}

#endif
