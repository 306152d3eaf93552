/*
 * engine/query/audit.c — the org-wide overlap audit on a frozen snapshot:
 * the driver and the result's accessors.
 *
 * Does: severity names and the reused ranges; the run that chains the
 * entry level (audit_entry.c) and the VPC-level modules (below); the
 * result's accessors. Does not: print
 * (engine/report/ writes the reports), read files, or modify the snapshot.
 * Reads the trie only through the query layer's read-side primitives
 * (engine/query/walk_internal.h: the entry-bearing nodes in DFS preorder,
 * entry values) and the estate only through estate.h.
 *
 * THE MODULES of the audit, in the order a run calls them:
 *
 *     audit.c          driver, accessors
 *     audit_entry.c    entry-level figures and clusters (one pass over the
 *                      node records)
 *     audit_scope.c    per-VPC facts, the scope, global node/entry tables,
 *                      every VPC's blocks and tops
 *     audit_groups.c   identical-prefix groups and their severities
 *     audit_count.c    exact VPC-pair counts (total, by severity) by
 *                      arithmetic over tops, never a pair at a time
 *     audit_pairs.c    critical pairs, the pairs listed one by one, domains
 *     audit_drift.c    the diff of two audits (cs_audit_diff)
 *
 * They share the run's context (actx) through audit_ctx_internal.h; the
 * result, as the report writers read it, is in audit_internal.h.
 *
 * THE TRIE, as read here: per family the entry-bearing nodes in DFS
 * preorder (cs_walk_visit); node i's subtree holds the contiguous entries
 * [ent_begin, ent_end), its own entries [ent_begin, own_end) first. Two
 * stored prefixes overlap exactly when one is an ancestor-or-self of the
 * other.
 *
 * ENTRY LEVEL: engine/query/audit_entry.c's opening comment.
 *
 * Concurrency: none inside; reads only. Tests: tests/test_audit.c
 * (differential against a brute-force pairwise comparison of all live
 * blocks on seeded estates and the real-prefix dataset; heap vs file).
 */
#include "query/audit_ctx_internal.h"

#include "core/error_internal.h"

#include <cidrscope/estate.h>

#include <stdlib.h>
#include <string.h>

/* ---- severities and reused ranges ------------------------------------------ */

static const char *const sev_names[CS_SEV_COUNT] = {"critical", "high", "medium",
                                                    "informational"};

static const char *const sev_expl[CS_SEV_COUNT] = {
    "Critical: the two VPCs are peered, or both peered to a common hub VPC; "
    "routing between overlapping ranges is ambiguous and replies can reach "
    "the wrong VPC.",
    "High: the two VPCs are in the same account or the same region; the "
    "overlap blocks any future peering or transit routing between them.",
    "Medium: every other overlap between two VPCs; harmless until someone "
    "connects them, which the overlap then forbids.",
    "Informational: both are default VPCs, or they overlap only inside a "
    "reused range (100.64.0.0/10, 198.18.0.0/15); expected, and summarised.",
};

const char *cs_severity_name(unsigned sev)
{
    return sev < CS_SEV_COUNT ? sev_names[sev] : "?";
}

const char *cs_severity_explanation(unsigned sev)
{
    return sev < CS_SEV_COUNT ? sev_expl[sev] : "?";
}

int cs_severity_parse(const char *s, size_t len)
{
    for (unsigned i = 0; i < CS_SEV_COUNT; i++)
        if (strlen(sev_names[i]) == len && memcmp(s, sev_names[i], len) == 0)
            return (int)i;
    if (len == 4 && memcmp(s, "info", 4) == 0)
        return CS_SEV_INFO;
    return CS_EPARSE;
}

/* RFC 6598 shared address space (EKS custom networking reuses it in every
 * VPC) and RFC 2544 benchmarking space. */
static const cs_prefix reused_ranges[] = {
    {0x6440000000000000ull, 0, 10, CS_AF_V4}, /* 100.64.0.0/10 */
    {0xc612000000000000ull, 0, 15, CS_AF_V4}, /* 198.18.0.0/15 */
};

const cs_prefix *cs_audit_reused_ranges(size_t *n)
{
    if (n)
        *n = sizeof reused_ranges / sizeof *reused_ranges;
    return reused_ranges;
}

bool audit_prefix_reused(const cs_prefix *p)
{
    for (size_t i = 0; i < sizeof reused_ranges / sizeof *reused_ranges; i++)
        if (cs_prefix_contains(&reused_ranges[i], p))
            return true;
    return false;
}

static void actx_free(actx *c)
{
    free(c->v);
    free(c->ent_vpc);
    free(c->ent_node);
    free(c->nb);
    free(c->noe);
    free(c->ne);
    free(c->gnend);
    free(c->gup);
    free(c->greused);
    free(c->blk_off);
    free(c->blk);
    free(c->stk_a);
    free(c->stk_b);
    free(c->group_of);
    free(c->nvpc);
    free(c->onevpc);
    free(c->ent_lst);
    free(c->psin);
    free(c->gm_off);
    free(c->gm);
    free(c->gm_nd);
    free(c->gr_off);
    free(c->grc);
    free(c->gstamp);
    free(c->vstamp);
    free(c->topinc);
    for (int F = 0; F < F_COUNT; F++) {
        free(c->top_off[F]);
        free(c->top[F]);
    }
}

/* Distinct VPCs of every cluster. */
static void cluster_vpcs(actx *c)
{
    cs_audit_result *r = c->r;
    for (size_t i = 0; i < r->n_clusters; i++) {
        cs_audit_cluster *cl = &r->clusters[i];
        unsigned f = cs_family_index(cl->top.family);
        uint32_t b = c->ent_off[f] + cl->first_entry;
        uint32_t ep = audit_next_epoch(c);
        uint32_t n = 0;
        for (uint32_t ge = b; ge < b + cl->span && ge < c->ge; ge++) {
            uint32_t v = c->ent_vpc[ge];
            if (v != CS_IDX_NONE && c->vstamp[v] != ep) {
                c->vstamp[v] = ep;
                n++;
            }
        }
        cl->vpcs = n;
    }
}

/* ---- the run --------------------------------------------------------------------------- */

static int run(actx *c)
{
    cs_audit_result *r = c->r;
    const cs_audit_options *o = c->o;
    int rc = 0;
    bool vpc_level = c->estate && !(o->flags & CS_AUDIT_ENTRY_LEVEL);
    if (c->estate && (vpc_level || c->scoped)) {
        rc = audit_scope_build(c);
        if (rc)
            return rc;
    } else if (c->estate) {
        cs_estate_counts ec;
        cs_estate_counts_get(c->s, &ec);
        r->sum.vpcs = ec.vpcs;
        r->sum.default_vpcs = ec.default_vpcs;
    }
    if (rc == 0)
        rc = audit_entry_level(c); /* audit_entry.c */
    r->sum.clusters = r->n_clusters;
    if (rc || !vpc_level)
        return rc;

    rc = audit_tables_build(c);
    if (rc == 0)
        rc = audit_groups_build(c);
    sev_counts sc;
    if (rc == 0)
        rc = audit_count_severities(c, &sc);
    pairset crit;
    memset(&crit, 0, sizeof crit);
    if (rc == 0)
        rc = audit_critical_find(c, &crit);
    if (rc == 0) {
        uint64_t crit_n = r->n_pairs, crit_info = 0, crit_sar = 0, crit_other = 0;
        for (size_t i = 0; i < r->n_pairs; i++) {
            uint32_t why = r->pairs[i].p.why;
            if (why & (CS_WHY_DEFAULT_ONLY | CS_WHY_REUSED_ONLY))
                crit_info++;
            else if (why & (CS_WHY_SAME_ACCOUNT | CS_WHY_SAME_REGION))
                crit_sar++;
            else
                crit_other++;
        }
        r->sum.vpc_level = true;
        r->sum.overlapping_vpc_pairs = sc.all;
        r->sum.overlapping_vpc_pairs_excluding_default = sc.nondefault;
        uint64_t noninfo = sc.nonreused - sc.nonreused_dd;
        r->sum.vpc_pairs_by_severity[CS_SEV_CRITICAL] = crit_n;
        r->sum.vpc_pairs_by_severity[CS_SEV_INFO] = (sc.all - noninfo) - crit_info;
        r->sum.vpc_pairs_by_severity[CS_SEV_HIGH] = sc.same_ar_noninfo - crit_sar;
        r->sum.vpc_pairs_by_severity[CS_SEV_MEDIUM] =
            noninfo - sc.same_ar_noninfo - crit_other;
        rc = audit_pairs_list(c, &crit);
    }
    if (rc == 0) {
        rc = audit_pairs_sort(r->pairs, r->n_pairs);
        r->sum.listed_pairs = r->n_pairs;
        /* domains look the critical set up by index into r->pairs: rebuild
         * it over the sorted order */
        audit_pairset_free(&crit);
        for (size_t i = 0; i < r->n_pairs && rc == 0 && o->domain_count; i++)
            if (r->pairs[i].p.severity == CS_SEV_CRITICAL)
                rc = audit_pairset_put(&crit, r->pairs[i].p.vpc_a, r->pairs[i].p.vpc_b,
                                 (uint32_t)i);
    }
    if (rc == 0)
        rc = audit_domains(c, &crit);
    if (rc == 0)
        cluster_vpcs(c);
    audit_pairset_free(&crit);
    return rc;
}

int cs_audit_run(const cs_snapshot *s, const cs_audit_options *opts,
                 cs_audit_result **out, cs_error *err)
{
    if (!s || !out)
        return cs_fail(err, CS_EINVAL, "cs_audit_run: NULL snapshot or result");
    *out = NULL;
    static const cs_audit_options none;
    const cs_audit_options *o = opts ? opts : &none;
    actx c;
    memset(&c, 0, sizeof c);
    c.s = s;
    c.o = o;
    c.err = err;
    c.estate = cs_estate_present(s);
    c.scoped = o->account_count || o->region_count || o->tag_count;
    if (c.scoped && !c.estate)
        return cs_fail(err, CS_EINVAL, "audit scope (accounts, regions, tags) needs an estate image");
    if (o->domain_count && !c.estate)
        return cs_fail(err, CS_EINVAL, "audit domains need an estate image");
    if (o->domain_count && (o->flags & CS_AUDIT_ENTRY_LEVEL))
        return cs_fail(err, CS_EINVAL, "audit domains need the VPC level");
    for (unsigned f = 0; f < 2; f++) {
        /* node counts from the image's read view; entries and their
         * values from the query layer's */
        c.n_nodes[f] = snap_family(s, f)->n_nodes;
        c.vals[f] = cs_walk_values(s, f, &c.n_ent[f]);
    }
    if ((uint64_t)c.n_nodes[0] + c.n_nodes[1] >= UINT32_MAX ||
        (uint64_t)c.n_ent[0] + c.n_ent[1] >= UINT32_MAX)
        return cs_fail(err, CS_ERANGE, "audit: more than 2^32-2 nodes or entries");
    c.node_off[1] = c.n_nodes[0];
    c.ent_off[1] = c.n_ent[0];
    c.gn = c.n_nodes[0] + c.n_nodes[1];
    c.ge = c.n_ent[0] + c.n_ent[1];
    if (c.estate) {
        cs_estate_counts ec;
        cs_estate_counts_get(s, &ec);
        for (size_t d = 0; d < o->domain_count; d++)
            for (size_t i = 0; i < o->domains[d].vpc_count; i++)
                if (o->domains[d].vpcs[i] >= ec.vpcs)
                    return cs_fail(err, CS_EINVAL,
                                   "audit domain '%s': VPC index %u out of range",
                                   o->domains[d].name ? o->domains[d].name : "",
                                   o->domains[d].vpcs[i]);
    }
    cs_audit_result *r = calloc(1, sizeof *r);
    if (!r)
        return cs_fail(err, CS_ENOMEM, "audit: out of memory");
    r->flags = o->flags;
    c.r = r;
    int rc = run(&c);
    actx_free(&c);
    if (rc) {
        cs_audit_free(r);
        if (err && err->code == rc)
            return rc; /* a module said what failed */
        return cs_fail(err, rc, "audit: %s", cs_strerror(rc));
    }
    *out = r;
    return 0;
}

void cs_audit_free(cs_audit_result *r)
{
    if (!r)
        return;
    free(r->clusters);
    free(r->groups);
    free(r->pairs);
    free(r->wit);
    for (size_t d = 0; d < r->n_domains; d++)
        free(r->domains[d].name);
    free(r->domains);
    free(r->dpairs);
    free(r->dwit);
    free(r->in_scope);
    free(r);
}

/* ---- accessors --------------------------------------------------------------------------- */

void cs_audit_get_summary(const cs_audit_result *r, cs_audit_summary *out)
{
    if (r && out)
        *out = r->sum;
}

size_t cs_audit_cluster_count(const cs_audit_result *r) { return r ? r->n_clusters : 0; }
size_t cs_audit_group_count(const cs_audit_result *r) { return r ? r->n_groups : 0; }
size_t cs_audit_pair_count(const cs_audit_result *r) { return r ? r->n_pairs : 0; }
size_t cs_audit_domain_count(const cs_audit_result *r) { return r ? r->n_domains : 0; }

int cs_audit_get_cluster(const cs_audit_result *r, size_t i, cs_audit_cluster *out)
{
    if (!r || !out)
        return CS_EINVAL;
    if (i >= r->n_clusters)
        return CS_ERANGE;
    *out = r->clusters[i];
    return 0;
}

int cs_audit_get_group(const cs_audit_result *r, size_t i, cs_audit_group *out)
{
    if (!r || !out)
        return CS_EINVAL;
    if (i >= r->n_groups)
        return CS_ERANGE;
    *out = r->groups[i];
    return 0;
}

int cs_audit_get_pair(const cs_audit_result *r, size_t i, cs_audit_pair *out)
{
    if (!r || !out)
        return CS_EINVAL;
    if (i >= r->n_pairs)
        return CS_ERANGE;
    *out = r->pairs[i].p;
    return 0;
}

int cs_audit_pair_witness(const cs_audit_result *r, size_t i, size_t j,
                          cs_audit_witness *out)
{
    if (!r || !out)
        return CS_EINVAL;
    if (i >= r->n_pairs || j >= r->pairs[i].p.witness_count)
        return CS_ERANGE;
    *out = r->wit[r->pairs[i].wit_begin + j];
    return 0;
}

int cs_audit_get_domain(const cs_audit_result *r, size_t d, cs_audit_domain_info *out)
{
    if (!r || !out)
        return CS_EINVAL;
    if (d >= r->n_domains)
        return CS_ERANGE;
    out->name = r->domains[d].name;
    out->vpcs = r->domains[d].vpcs;
    out->violations = r->domains[d].pair_end - r->domains[d].pair_begin;
    return 0;
}

int cs_audit_domain_pair(const cs_audit_result *r, size_t d, size_t i,
                         cs_audit_pair *out)
{
    if (!r || !out)
        return CS_EINVAL;
    if (d >= r->n_domains || i >= r->domains[d].pair_end - r->domains[d].pair_begin)
        return CS_ERANGE;
    *out = r->dpairs[r->domains[d].pair_begin + i].p;
    return 0;
}

int cs_audit_domain_pair_witness(const cs_audit_result *r, size_t d, size_t i,
                                 size_t j, cs_audit_witness *out)
{
    if (!r || !out)
        return CS_EINVAL;
    if (d >= r->n_domains || i >= r->domains[d].pair_end - r->domains[d].pair_begin)
        return CS_ERANGE;
    const audit_pair_rec *rec = &r->dpairs[r->domains[d].pair_begin + i];
    if (j >= rec->p.witness_count)
        return CS_ERANGE;
    *out = r->dwit[rec->wit_begin + j];
    return 0;
}

