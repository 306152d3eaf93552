/*
 * engine/query/audit_entry.c — the audit's entry level: the summary's
 * entry figures (live blocks, distinct prefixes, overlapping entry pairs,
 * deepest nesting) and the clusters, in one pass over a family's node
 * records.
 *
 * Does: those figures, of every entry or of the entries in a scope. Does
 * not: anything at VPC level (the other audit modules; audit.c chains
 * them), print, or allocate beyond the cluster list (and, with a scope, one
 * prefix sum per family). Reads the trie as engine/query/audit.c's opening
 * comment says: per family the nodes in DFS preorder, node i's subtree
 * holding the contiguous entries [ent_begin, ent_end), its own entries
 * [ent_begin, own_end) first, own_end being node i + 1's ent_begin (its
 * first child or the next subtree) or, for the last node, its ent_end.
 *
 *     overlapping_entry_pairs = sum over nodes of
 *                               C(own, 2) + own * (subtree - own)
 *
 * (pairs at one prefix, and every entry with each entry strictly below it);
 * a node with own entries and no entry-bearing ancestor is top-level, and
 * it tops a cluster when its subtree holds >= 2 entries. Outside clusters
 * every term is 0, so the pass finds the tops with a branch-free scan and
 * runs an ancestor stack (at most 129 entry-bearing nodes) only inside each
 * cluster's subtree (entry_pass below). The pair count alone, without
 * clusters, is cs_query_count_pairs (engine/query/query.c).
 *
 * Concurrency: none inside; reads only. Tests: tests/test_audit.c
 * (audit__entry_pass_matches_brute_force_across_chunks and the
 * differential tests against a pairwise comparison of all live blocks).
 */
#include "query/audit_ctx_internal.h"

#include <stdlib.h>
#include <string.h>

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

/* A cluster's figures (cs_audit_cluster's). */
typedef struct cluster_fig {
    uint64_t pairs;
    uint32_t prefixes, depth;
} cluster_fig;

/*
 * The figures of the cluster topped by node t, whose subtree's entries end
 * at te: its nodes are t, t + 1, ... (preorder) until one begins at or past
 * te. Returns that node (or n). `fam` is a constant at each call, so each
 * family gets its own copy of the loop.
 *
 * What the walk carries from node to node is D, the number of
 * entry-bearing proper ancestors inside the cluster: a node's depth is
 * D + 1 when it has own entries. D follows the tree's shape, not the entry
 * ranges: node i + 1 is i's left child (CS_FN_LEFT), else its right child
 * (right != 0), and either gets D(i) + "i has own entries"; else i is a
 * leaf and i + 1 is the right child of the deepest ancestor with both
 * children, which pushed that value on `pend` when it was passed. So per
 * node one push, one pop or neither, chosen by masks: which way the tree
 * goes is a coin flip to a branch predictor, and a stack of ancestors'
 * ends popped in a loop cost 9 ns a node on estate-100k's one big IPv4
 * cluster (bench/results-count.md). The pending stack holds at most one
 * entry per level of the path (33 or 129: lengths strictly increase); the
 * push is bounded all the same, and pend[0] = 0 stands under it.
 */
static inline __attribute__((always_inline)) uint32_t
cluster_walk(const cs_famview *fv, unsigned fam, uint32_t t, uint32_t te, cluster_fig *out)
{
    const cs_cold *cold = fv->cold;
    const uint32_t n = fv->n_nodes;
    uint32_t pend[131];
    unsigned sp = 0;
    uint32_t D = 0, prefixes = 0, depth = 0;
    uint64_t pairs = 0;
    pend[0] = 0;
    uint32_t i = t;
    for (uint32_t b = cold[t].ent_begin; i < n && b < te; i++) {
        const uint32_t e = cold[i].ent_end, ob = own_end(cold, n, i, e), own = ob - b;
        const uint32_t has = own != 0, dn = D + has;
        pairs += (uint64_t)own * (own - 1) / 2 + (uint64_t)own * (e - ob);
        prefixes += has;
        depth = dn > depth ? dn : depth;
        const uint32_t left = snap_flags(fv, fam, i) & CS_FN_LEFT;
        const uint32_t right = snap_right(fv, fam, i) != 0;
        const uint32_t leaf = (left | right) ^ 1u;
        /* the top, read before this node's push is written (a leaf pushes
         * nothing), and always: no branch on leaf */
        const uint32_t top = pend[sp];
        pend[sp + 1] = dn;
        sp += left & right & (sp < 129);
        D = (top & (0u - leaf)) | (dn & (leaf - 1u));
        sp -= leaf & (sp != 0);
        b = ob;
    }
    out->pairs = pairs;
    out->prefixes = prefixes;
    out->depth = depth;
    return i;
}

/*
 * The same figures for a cluster of few entries (a template VPC's
 * 10.0.0.0/16 with its /20 and /24 inside), where cluster_walk's per-node
 * bookkeeping costs more than the branches it saves: a stack of the ends of
 * the entry-bearing ancestors that have entries below them (a leaf never
 * has a node under it, so it is never pushed, and popping is rare). The top
 * stays at the bottom (every node of the subtree begins before its end), so
 * the pop loop needs no bound; the push is bounded as cluster_walk's.
 */
#define BIG_CLUSTER 64 /* entries from which cluster_walk pays */
static uint32_t small_cluster_walk(const cs_cold *cold, uint32_t n, uint32_t t, uint32_t te,
                                   cluster_fig *out)
{
    uint32_t st_end[130];
    uint32_t b = cold[t].ent_begin, ob = own_end(cold, n, t, te), own = ob - b;
    uint64_t pairs = choose2(own) + (uint64_t)own * (te - ob);
    uint32_t prefixes = 1, depth = 1;
    unsigned sp = 1;
    st_end[0] = te;
    uint32_t i = t + 1;
    for (b = ob; i < n && b < te; i++, b = ob) {
        const uint32_t e = cold[i].ent_end;
        ob = own_end(cold, n, i, e);
        own = ob - b;
        while (b >= st_end[sp - 1])
            sp--;
        const uint32_t has = own != 0, inner = has & (e != ob);
        pairs += (uint64_t)own * (own - 1) / 2 + (uint64_t)own * (e - ob);
        prefixes += has;
        const uint32_t d = (sp + 1) & -has;
        depth = d > depth ? d : depth;
        st_end[sp] = e;
        sp += inner & (sp < 129);
    }
    out->pairs = pairs;
    out->prefixes = prefixes;
    out->depth = depth;
    return i;
}

#define ENTRY_CHUNK 64 /* nodes scanned for cluster tops before their clusters */

static int entry_pass(actx *c, unsigned f)
{
    cs_audit_result *r = c->r;
    const cs_famview *fv = snap_family(c->s, f);
    const cs_cold *cold = fv->cold;
    const uint32_t n = fv->n_nodes;
    uint64_t pairs = 0, prefixes = 0;
    uint32_t top_end = 0, max_depth = 0;
    for (uint32_t c0 = 0, next = 0; c0 < n; c0 = next) {
        const uint32_t c1 = c0 + ENTRY_CHUNK < n ? c0 + ENTRY_CHUNK : n;
        const uint32_t body = c1 < n ? c1 : n - 1; /* nodes with a next one */
        /* bit k: node c0 + k has own entries (hasm); could top a cluster,
         * own entries and >= 2 in its subtree (bigm). No loop-carried
         * chain but the two ORs. */
        uint64_t hasm = 0, bigm = 0;
        for (uint32_t i = c0; i < c1; i++) {
            const uint32_t b = cold[i].ent_begin, e = cold[i].ent_end;
            const uint32_t nb = i < body ? cold[i + 1].ent_begin : e;
            const uint64_t has = nb != b;
            hasm |= has << (i - c0);
            bigm |= (has & (e - b >= 2)) << (i - c0);
        }
        next = c1;
        /* A big node tops a cluster when no earlier top's subtree holds it
         * (its first entry is at or past top_end): only a cluster started
         * in this chunk can hold it, since the scan resumes after each
         * cluster. The has-nodes no cluster covers are the top-level
         * prefixes of one entry; the clusters count their own. */
        uint64_t covered = 0;
        for (uint64_t m = bigm; m; m &= m - 1) {
            const uint32_t k = (uint32_t)__builtin_ctzll(m), t = c0 + k;
            if (cold[t].ent_begin < top_end)
                continue;
            const uint32_t te = cold[t].ent_end;
            top_end = te;
            cluster_fig cf;
            uint32_t i;
            if (te - cold[t].ent_begin < BIG_CLUSTER)
                i = small_cluster_walk(cold, n, t, te, &cf);
            else
                i = f ? cluster_walk(fv, 1, t, te, &cf) : cluster_walk(fv, 0, t, te, &cf);
            /* nodes [t, i) of this chunk are the cluster's */
            const uint32_t hi = i - c0 < 64 ? i - c0 : 64;
            covered |= (hi == 64 ? ~0ull : (1ull << hi) - 1) & ~((1ull << k) - 1);
            if (i > next)
                next = i;
            if (add_cluster(r, &(cs_prefix){0}, cold[t].ent_begin, te - cold[t].ent_begin,
                            te - cold[t].ent_begin))
                return CS_ENOMEM;
            cs_audit_cluster *cl = &r->clusters[r->n_clusters - 1];
            cl->top = snap_node_prefix(fv, f, t);
            cl->prefixes = cf.prefixes;
            cl->depth = cf.depth;
            cl->entry_pairs = cf.pairs;
            r->sum.entries_in_clusters += cl->span;
            max_depth = cf.depth > max_depth ? cf.depth : max_depth;
            pairs += cf.pairs;
            prefixes += cf.prefixes;
        }
        prefixes += (uint64_t)__builtin_popcountll(hasm & ~covered);
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

/* ---- the entry level of a run ------------------------------------------------------ */

int audit_entry_level(actx *c)
{
    int rc = 0;
    /* With a scope: prefix sums of "in scope" per family. */
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
    return rc;
}
