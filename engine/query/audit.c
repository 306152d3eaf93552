/*
 * engine/query/audit.c — the org-wide overlap audit on a frozen snapshot:
 * the driver, the entry level, and the result's accessors.
 *
 * Does: severity names and the reused ranges; entry-level figures and
 * clusters in one pass over the trie's node records; the run that chains
 * the VPC-level modules (below); the result's accessors. Does not: print
 * (engine/report/ writes the reports), read files, or modify the snapshot.
 * Reads the trie only through the query layer's read-side primitives
 * (engine/query/walk_internal.h: the entry-bearing nodes in DFS preorder,
 * entry values) and the estate only through estate.h.
 *
 * THE MODULES of the audit, in the order a run calls them:
 *
 *     audit.c          driver, entry level, accessors
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
 * ENTRY LEVEL (one pass over the node records):
 *
 *     overlapping_entry_pairs = sum over nodes of
 *                               C(own, 2) + own * (subtree - own)
 *
 * (pairs at one prefix, and every entry with each entry strictly below it);
 * a node with own entries and no entry-bearing ancestor is top-level, and
 * it tops a cluster when its subtree holds >= 2 entries. Outside clusters
 * every term is 0, so the pass finds the tops with a branch-free scan and
 * runs an ancestor stack (at most 129 entry-bearing nodes) only inside each
 * cluster's subtree (entry_pass below).
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

/* ---- entry level: one pass over the node records ------------------------------- */

static int add_cluster(cs_audit_result *r, const cs_prefix *top, uint32_t first,
                       uint32_t span, uint32_t entries)
{
    if (GROW(r->clusters, r->n_clusters, r->cap_clusters, r->n_clusters + 1))
        return CS_ENOMEM;
    cs_audit_cluster *cl = &r->clusters[r->n_clusters++];
    memset(cl, 0, sizeof *cl);
    cl->top = *top;
    cl->first_entry = first;
    cl->span = span;
    cl->entries = entries;
    return 0;
}

/* The prefixes of clusters [first, n_clusters) of family f, whose `top.hi`
 * holds the top's node index until then: a cache miss each, so prefetched
 * a few ahead (in the pass they would stall one at a time). */
static void cluster_tops(cs_audit_result *r, const cs_famview *fv, unsigned f, size_t first)
{
    for (size_t k = first; k < r->n_clusters; k++) {
        if (k + 8 < r->n_clusters) {
            uint32_t ahead = (uint32_t)r->clusters[k + 8].top.hi;
            __builtin_prefetch(f ? (const void *)&fv->hot6[ahead] : (const void *)&fv->hot4[ahead]);
        }
        r->clusters[k].top = snap_node_prefix(fv, f, (uint32_t)r->clusters[k].top.hi);
    }
}

/* Node i's own entries end where node i + 1's begin (preorder: i + 1 is i's
 * first child or the next subtree); the last node's end with its subtree. */
static inline uint32_t own_end(const cs_cold *cold, uint32_t n, uint32_t i, uint32_t e)
{
    return i + 1 < n ? cold[i + 1].ent_begin : e;
}

#define ENTRY_CHUNK 64 /* nodes scanned for cluster tops before their clusters */

/*
 * Entry-level figures and clusters of family f, every entry counted (no
 * scope). Two kinds of node need nothing but a count: glue nodes (no own
 * entries) and top-level leaves holding one entry; together they are most
 * of an estate's nodes outside its clusters (10.0.0.0/16 of one VPC and
 * nothing else near it). So the pass alternates:
 *
 *   scan     ENTRY_CHUNK nodes, branch-free: a node with own entries tops a
 *            cluster when no earlier top's subtree holds it (its first
 *            entry is at or past that top's ent_end) and its subtree holds
 *            >= 2 entries; noted, and every other top-level prefix counted;
 *   cluster  for each top noted, its subtree's nodes (contiguous in
 *            preorder, until a node begins at or past the top's ent_end),
 *            with a stack of the entry-bearing ancestors that have entries
 *            below them (a leaf never has a node under it, so it is never
 *            pushed, and popping is rare); the scan resumes after it.
 *
 * Per entry-bearing node: pairs C(own, 2) + own x (entries strictly below),
 * depth 1 + the stack's height. The top stays at the bottom of the stack
 * (every node of the subtree begins before its end), so the pop loop needs
 * no bound. A subtree never holds more than 33 (IPv4) or 129 nested
 * entry-bearing nodes (lengths strictly increase); the push is bounded all
 * the same.
 */
static int entry_pass(actx *c, unsigned f)
{
    cs_audit_result *r = c->r;
    const cs_famview *fv = snap_family(c->s, f);
    const cs_cold *cold = fv->cold;
    const uint32_t n = fv->n_nodes;
    uint32_t starts[ENTRY_CHUNK];
    uint32_t st_end[130];
    uint64_t pairs = 0, prefixes = 0;
    uint32_t top_end = 0, max_depth = 0;
    for (uint32_t c0 = 0, next = 0; c0 < n; c0 = next) {
        uint32_t c1 = c0 + ENTRY_CHUNK < n ? c0 + ENTRY_CHUNK : n;
        uint32_t body = c1 < n ? c1 : n - 1; /* nodes with a next one */
        unsigned ns = 0;
        for (uint32_t i = c0; i < c1; i++) {
            uint32_t b = cold[i].ent_begin, e = cold[i].ent_end;
            uint32_t nb = i < body ? cold[i + 1].ent_begin : e;
            /* big: could top a cluster (own entries, >= 2 in the subtree);
             * a top when no earlier top's subtree holds it. top_end grows
             * by a max, so the loop-carried chain is one compare: a node
             * inside a top's subtree never ends past it. */
            uint32_t big = (nb != b) & (e - b >= 2);
            uint32_t start = big & (b >= top_end);
            prefixes += (nb != b) & (b >= top_end) & (big ^ 1u);
            uint32_t cand = e & (0u - big);
            top_end = cand > top_end ? cand : top_end;
            starts[ns] = i;
            ns += start;
        }
        next = c1;
        if (ns == 0)
            continue;
        if (GROW(r->clusters, r->n_clusters, r->cap_clusters, r->n_clusters + ns))
            return CS_ENOMEM;
        /* the tops' search records (their prefixes), a cache miss each:
         * asked for now, read when each cluster is written */
        for (unsigned k = 0; k < ns; k++)
            __builtin_prefetch(f ? (const void *)&fv->hot6[starts[k]]
                                 : (const void *)&fv->hot4[starts[k]]);
        for (unsigned k = 0; k < ns; k++) {
            uint32_t i = starts[k];
            uint32_t b = cold[i].ent_begin, te = cold[i].ent_end;
            uint32_t ob = own_end(cold, n, i, te), own = ob - b;
            uint64_t c_pairs = choose2(own) + (uint64_t)own * (te - ob);
            uint32_t c_pref = 1, c_depth = 1;
            unsigned sp = 1;
            st_end[0] = te;
            for (i++, b = ob; i < n && b < te; i++, b = ob) {
                uint32_t e = cold[i].ent_end;
                ob = own_end(cold, n, i, e);
                own = ob - b;
                while (b >= st_end[sp - 1])
                    sp--;
                uint32_t has = own != 0, inner = has & (e != ob);
                c_pairs += (uint64_t)own * (own - 1) / 2 + (uint64_t)own * (e - ob);
                c_pref += has;
                uint32_t d = (sp + 1) & -has;
                c_depth = d > c_depth ? d : c_depth;
                st_end[sp] = e;
                sp += inner & (sp < 129);
            }
            if (i > next)
                next = i;
            cs_audit_cluster *cl = &r->clusters[r->n_clusters++];
            memset(cl, 0, sizeof *cl);
            cl->top = snap_node_prefix(fv, f, starts[k]);
            cl->first_entry = cold[starts[k]].ent_begin;
            cl->span = te - cl->first_entry;
            cl->entries = cl->span;
            cl->prefixes = c_pref;
            cl->depth = c_depth;
            cl->entry_pairs = c_pairs;
            r->sum.entries_in_clusters += cl->span;
            max_depth = c_depth > max_depth ? c_depth : max_depth;
            pairs += c_pairs;
            prefixes += c_pref;
        }
    }
    if (max_depth > r->sum.max_nesting)
        r->sum.max_nesting = max_depth;
    r->sum.overlapping_entry_pairs += pairs;
    r->sum.prefixes += prefixes;
    r->sum.entries += fv->n_entries;
    r->sum.entries_by_family[f] += fv->n_entries;
    return 0;
}

/*
 * The same figures under a scope: `ps` is a prefix sum over the family's
 * entries of "in scope", so own and subtree counts are differences of it,
 * and a node whose own entries are all out of scope counts as glue. One
 * pass with a stack of every in-scope entry-bearing ancestor (at most 33 or
 * 129: their lengths strictly increase); a node is under the stack top
 * while its first entry is before the top's subtree end.
 */
static int entry_pass_scoped(actx *c, unsigned f, const uint32_t *ps)
{
    cs_audit_result *r = c->r;
    const cs_famview *fv = snap_family(c->s, f);
    const cs_cold *cold = fv->cold;
    const uint32_t n = fv->n_nodes;
    uint32_t st_end[130];
    uint32_t st_depth[130];
    unsigned sp = 0;
    size_t cur = SIZE_MAX; /* the cluster being filled */
    uint64_t pairs = 0, prefixes = 0, entries = 0;
    size_t first_cluster = r->n_clusters;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t b = cold[i].ent_begin, e = cold[i].ent_end;
        uint32_t oe = own_end(cold, n, i, e);
        uint64_t own = ps[oe] - ps[b], sub = ps[e] - ps[b];
        if (own == 0)
            continue;
        while (sp && b >= st_end[sp - 1])
            sp--;
        uint64_t np = own * (own - 1) / 2 + own * (sub - own);
        pairs += np;
        prefixes++;
        entries += own;
        uint32_t depth = sp ? st_depth[sp - 1] + 1 : 1;
        if (sp == 0) {
            cur = SIZE_MAX;
            if (sub >= 2) {
                cs_prefix top = {.hi = i}; /* the node for now */
                if (add_cluster(r, &top, b, e - b, (uint32_t)sub))
                    return CS_ENOMEM;
                cur = r->n_clusters - 1;
                r->sum.entries_in_clusters += sub;
            }
        }
        if (cur != SIZE_MAX) {
            cs_audit_cluster *cl = &r->clusters[cur];
            cl->prefixes++;
            cl->entry_pairs += np;
            if (depth > cl->depth)
                cl->depth = depth;
            if (depth > r->sum.max_nesting)
                r->sum.max_nesting = depth;
        }
        if (sp < 130) {
            st_end[sp] = e;
            st_depth[sp] = depth;
            sp++;
        }
    }
    cluster_tops(r, fv, f, first_cluster);
    r->sum.overlapping_entry_pairs += pairs;
    r->sum.prefixes += prefixes;
    r->sum.entries += entries;
    r->sum.entries_by_family[f] += entries;
    return 0;
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
    /* Entry level. With a scope: prefix sums of "in scope" per family. */
    for (unsigned f = 0; f < 2 && rc == 0; f++) {
        uint32_t *ps = NULL;
        if (c->scoped) {
            ps = malloc(((size_t)c->n_ent[f] + 1) * sizeof *ps);
            if (!ps)
                return CS_ENOMEM;
            ps[0] = 0;
            for (uint32_t e = 0; e < c->n_ent[f]; e++) {
                uint32_t a = c->vals[f][e];
                uint32_t v = a < c->n_assocs ? c->a2v[a] : CS_IDX_NONE;
                ps[e + 1] = ps[e] + (v < c->n_vpcs && (c->v[v].flags & VF_SCOPE));
            }
        }
        rc = ps ? entry_pass_scoped(c, f, ps) : entry_pass(c, f);
        free(ps);
    }
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

