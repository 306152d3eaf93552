/*
 * engine/query/audit_ctx_internal.h — the audit run's context, shared by
 * the audit modules (audit.c, audit_entry.c, audit_scope.c, audit_groups.c,
 * audit_count.c, audit_pairs.c) and nothing else: the global node and entry numbering,
 * the per-VPC tables built once per run, and the entry points each module
 * offers the driver. engine/query/audit.c's opening comment describes the
 * modules and the trie as read here.
 */
#ifndef CS_AUDIT_CTX_INTERNAL_H
#define CS_AUDIT_CTX_INTERNAL_H

#include "query/audit_internal.h"
#include "query/walk_internal.h"

#include "core/grow_internal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* VPCs with more tops than this are counted by walking (audit_count.c). */
#define BIG_TOPS 10

/* Grows arr (capacity cap) to hold `need` elements: 0 or CS_ENOMEM, through
 * the engine's one growth helper (core/grow_internal.h). */
#define GROW(arr, n, cap, need)                                                \
    cs_grow((void **)&(arr), &(cap), (need), sizeof *(arr), SIZE_MAX)

static inline uint64_t choose2(uint64_t n)
{
    return n < 2 ? 0 : n * (n - 1) / 2;
}

/* A peering connection that routes traffic or is about to: initiating-
 * request, pending-acceptance, provisioning, active (a critical pair). */
static inline bool audit_pcx_live(uint8_t st)
{
    return st <= CS_PCX_ACTIVE;
}

/* A 64-bit key and a payload; audit_sort_kw orders a[0..n) by key (stable),
 * through tmp[0..n). */
typedef struct kw {
    uint64_t key;
    uint64_t w;
} kw;
void audit_sort_kw(kw *a, kw *tmp, size_t n);

/* True when p lies inside one of the reused ranges (cs_audit_reused_ranges). */
bool audit_prefix_reused(const cs_prefix *p);

/* ---- the audit context ---------------------------------------------------------- */

enum { VF_DEFAULT = 1, VF_SCOPE = 2, VF_PSEUDO = 4 };

typedef struct vinfo {
    uint32_t account;
    uint32_t region;
    uint32_t acc_reg;   /* dense id of (account, region) */
    uint8_t flags;      /* VF_* */
} vinfo;

/* Block filters: every live block, or the blocks outside reused ranges. */
enum { F_ALL = 0, F_NONREUSED = 1, F_COUNT = 2 };

typedef struct actx {
    const cs_snapshot *s;
    const cs_audit_options *o;
    cs_audit_result *r;
    cs_error *err;
    const uint32_t *vals[2];/* per family: entry values (cs_walk_values) */
    uint32_t n_nodes[2], n_ent[2];
    uint32_t node_off[2];   /* global node id = node_off[fam] + node */
    uint32_t ent_off[2];    /* global entry id = ent_off[fam] + entry */
    uint32_t gn, ge;        /* global nodes, entries */
    bool estate;
    bool scoped;            /* a scope filter is active */

    /* VPC level */
    uint32_t n_vpcs, n_assocs, n_accreg, n_regions;
    const uint32_t *a2v;
    vinfo *v;
    uint32_t *ent_vpc;      /* per global entry: its VPC, CS_IDX_NONE out of
                               scope */
    uint32_t *ent_node;     /* per global entry: its global node */
    uint32_t *nb, *noe, *ne;/* per entry-bearing global node: its own
                               entries [nb, noe) and subtree [nb, ne), as
                               global entry ids (from the walk's visit) */
    uint32_t *gnend;        /* per entry-bearing global node: the first
                               entry-bearing node past its subtree */
    uint32_t *gup;          /* per global node: nearest strict ancestor with
                               own entries, CS_NO_NODE */
    uint8_t *greused;       /* per global node: prefix in a reused range */
    uint32_t *blk_off;      /* per VPC: its live in-scope entries */
    uint32_t *blk;          /*   blk[blk_off[v] .. blk_off[v+1]), ascending */
    uint32_t *top_off[F_COUNT]; /* per VPC and filter: its tops */
    uint32_t *top[F_COUNT];
    uint8_t *topinc;        /* per global entry: bit F set when it is the
                               first entry of its VPC at one of the VPC's
                               tops under filter F */
    uint32_t max_blk;       /* most blocks of one VPC */
    uint32_t *stk_a, *stk_b;/* witness-walk stacks, max_blk each */
    uint32_t *group_of;     /* per global node: its group index, or NONE */
    uint32_t *nvpc;         /* per global node: distinct VPCs in scope among
                               its own entries (1 = solo, >= 2 = a group) */
    uint32_t *onevpc;       /* per global node: that VPC when nvpc == 1 */
    uint8_t *ent_lst;       /* per global entry: at a solo node with another
                               solo node strictly above or below it (the
                               only blocks that list a pair by nesting) */
    uint32_t *psin;         /* prefix sums over global entries of in scope */
    uint32_t *gm_off;       /* per group: its VPCs gm[gm_off[i]..gm_off[i+1]) */
    uint32_t *gm;           /*   ascending (so accounts come in runs) */
    uint32_t *gm_nd;        /* nondefault VPCs among gm[0..k) */
    uint32_t *gr_off;       /* per group: its region counts */
    struct rcount *grc;
    uint32_t *gstamp;       /* per group: last critical pair counted */
    uint32_t *vstamp;       /* per VPC: listing stamps */
    uint32_t epoch;
} actx;

static inline uint32_t gfam(const actx *c, uint32_t g)
{
    return g >= c->node_off[1] && c->n_nodes[1] ? 1u : 0u;
}

/* Entry ranges of entry-bearing global node g in global entry ids: own
 * [b, oe), subtree [b, e). */
static inline void node_range(const actx *c, uint32_t g, uint32_t *b,
                              uint32_t *oe, uint32_t *e)
{
    *b = c->nb[g];
    *oe = c->noe[g];
    *e = c->ne[g];
}

/* The prefix of entry-bearing global node g. */
static inline cs_prefix gprefix(const actx *c, uint32_t g)
{
    unsigned f = gfam(c, g);
    cs_wnode w;
    cs_walk_entry_node(c->s, f, c->nb[g] - c->ent_off[f], &w);
    return w.prefix;
}

/* y in the subtree of x (x itself included); both entry-bearing. */
static inline bool in_sub(const actx *c, uint32_t x, uint32_t y)
{
    return x <= y && y < c->gnend[x];
}

static inline bool comparable(const actx *c, uint32_t x, uint32_t y)
{
    return in_sub(c, x, y) || in_sub(c, y, x);
}

static inline const uint32_t *tops_of(const actx *c, int F, uint32_t v,
                                      uint32_t *n)
{
    *n = c->top_off[F][v + 1] - c->top_off[F][v];
    return c->top[F] + c->top_off[F][v];
}

/* A fresh value for the per-VPC stamps (vstamp), which are cleared when
 * the counter wraps. */
static inline uint32_t audit_next_epoch(actx *c)
{
    if (++c->epoch == UINT32_MAX) {
        memset(c->vstamp, 0, ((size_t)c->n_vpcs + 1) * sizeof *c->vstamp);
        c->epoch = 1;
    }
    return c->epoch;
}

/* ---- what each module offers the run ------------------------------------- */

/* audit_entry.c: the entry-level figures of the summary and the clusters
 * (r->clusters), of every entry or, with a scope, of those in scope (then
 * after audit_scope_build). 0 or CS_ENOMEM. */
int audit_entry_level(actx *c);

/* audit_scope.c: per-VPC facts and the scope (c->v, the result's in_scope
 * and VPC/account/region counts); then the global tables (ent_vpc,
 * ent_node, gnend, gup, greused, blocks and tops). 0 or CS_ENOMEM. */
int audit_scope_build(actx *c);
int audit_tables_build(actx *c);

/* audit_groups.c: the identical-prefix groups (r->groups, c->group_of,
 * nvpc, onevpc, psin, gm*, grc). 0 or CS_ENOMEM. */
int audit_groups_build(actx *c);

/* audit_count.c: exact VPC-pair counts over sub-populations. */
typedef struct sev_counts {
    uint64_t all, nondefault, nonreused, nonreused_dd;
    uint64_t same_ar_noninfo;   /* same account or region, not informational */
} sev_counts;
int audit_count_severities(actx *c, sev_counts *sc);
/* Relation of two top antichains ta[0..la), tb[0..lb) (node order): *e
 * identical tops shared, *n strictly comparable top pairs, *from_b (may be
 * NULL) = some strictly comparable pair uses a top of B other than
 * tstar_b. */
void audit_relate(const actx *c, const uint32_t *ta, uint32_t la,
                  const uint32_t *tb, uint32_t lb, uint32_t tstar_b,
                  uint32_t *e, uint32_t *n, bool *from_b);

/* audit_pairs.c: a set of VPC pairs (a < b) with a value each. */
typedef struct pairset {
    uint64_t *key;   /* (a << 32 | b) + 1; 0 = empty */
    uint32_t *val;
    size_t cap, n;
} pairset;
int audit_pairset_put(pairset *ps, uint32_t a, uint32_t b, uint32_t val);
void audit_pairset_free(pairset *ps);
/* Critical pairs into r->pairs and `crit`; then every other listed pair;
 * then the domains' violating pairs. 0 or CS_ENOMEM. */
int audit_critical_find(actx *c, pairset *crit);
int audit_pairs_list(actx *c, const pairset *crit);
int audit_domains(actx *c, const pairset *crit);


#endif
