/*
 * engine/query/audit_scope.c — the audit's view of the estate: per-VPC
 * facts, the scope, and the global tables every VPC-level module reads.
 *
 * Does: resolve the scope (accounts, regions, tags) to one flag per VPC;
 * number the nodes and entries of both families globally (IPv4 first);
 * link every entry-bearing node to its nearest entry-bearing ancestor
 * (gup) and the end of its subtree (gnend); list every VPC's live in-scope
 * blocks in node preorder and its TOPS (blocks with no other block of the
 * VPC above them), once over every block and once outside reused ranges.
 * Does not: count or list pairs (audit_count.c, audit_pairs.c).
 *
 * Invariants: blk[blk_off[v]..blk_off[v+1]) ascends (preorder), so a block
 * lies under one of the VPC's earlier tops exactly when it lies under the
 * last one; tops of one VPC form an antichain. The ancestor stack holds at
 * most 129 entry-bearing nodes (prefix lengths strictly increase).
 *
 * Concurrency: none inside; reads the snapshot only. Tests:
 * tests/test_audit.c (scoped audits against the brute force).
 */
#include "query/audit_ctx_internal.h"

#include "core/error_internal.h"

#include <cidrscope/estate.h>

#include <stdlib.h>
#include <string.h>

/* ---- VPC level: the context ------------------------------------------------------- */

static bool vpc_has_tag(const cs_snapshot *s, const cs_vpc *vp, const cs_audit_tag *t)
{
    for (uint32_t k = 0; k < vp->tag_count; k++) {
        const char *key, *val;
        if (cs_estate_tag(s, vp->tag_begin + k, &key, &val) != 0)
            continue;
        if (strcmp(key, t->key ? t->key : "") == 0 &&
            strcmp(val, t->value ? t->value : "") == 0)
            return true;
    }
    return false;
}

/* Per-VPC facts and the scope. */
int audit_scope_build(actx *c)
{
    const cs_audit_options *o = c->o;
    bool strict = !(o->flags & CS_AUDIT_EMPTY_SCOPE_OK);
    cs_estate_counts ec;
    cs_estate_counts_get(c->s, &ec);
    c->n_vpcs = ec.vpcs;
    c->n_regions = ec.regions;
    c->n_assocs = 0;
    c->a2v = cs_estate_assoc_vpc_map(c->s, &c->n_assocs);
    c->v = calloc(c->n_vpcs ? c->n_vpcs : 1, sizeof *c->v);
    if (!c->v)
        return CS_ENOMEM;

    /* Accounts and regions named by the scope, as index sets. */
    uint8_t *acc_ok = NULL, *reg_ok = NULL;
    if (o->account_count) {
        acc_ok = calloc(ec.accounts ? ec.accounts : 1, 1);
        if (!acc_ok)
            return CS_ENOMEM;
        for (size_t i = 0; i < o->account_count; i++) {
            uint32_t idx;
            const char *a = o->accounts[i] ? o->accounts[i] : "";
            if (cs_estate_account_find(c->s, a, strlen(a), &idx) == 1 && idx < ec.accounts)
                acc_ok[idx] = 1;
            else if (strict) {
                free(acc_ok);
                return cs_fail(c->err, CS_ENOTFOUND,
                               "audit scope: account '%s' is not in the estate", a);
            }
        }
    }
    if (o->region_count) {
        reg_ok = calloc(ec.regions ? ec.regions : 1, 1);
        if (!reg_ok) {
            free(acc_ok);
            return CS_ENOMEM;
        }
        for (size_t i = 0; i < o->region_count; i++) {
            bool hit = false;
            for (uint32_t ri = 0; ri < ec.regions; ri++) {
                cs_region rg;
                if (cs_estate_region(c->s, ri, &rg) == 0 && o->regions[i] &&
                    strcmp(o->regions[i], rg.name) == 0) {
                    reg_ok[ri] = 1;
                    hit = true;
                }
            }
            if (!hit && strict) {
                free(acc_ok);
                free(reg_ok);
                return cs_fail(c->err, CS_ENOTFOUND,
                               "audit scope: region '%s' is not in the estate",
                               o->regions[i] ? o->regions[i] : "");
            }
        }
    }
    /* A tag nobody carries is a typo (Environmnet=prod), not an empty
     * scope: each tag must be carried by some VPC on its own. */
    for (size_t t = 0; strict && t < o->tag_count; t++) {
        bool hit = false;
        for (uint32_t v = 0; v < c->n_vpcs && !hit; v++) {
            cs_vpc vp;
            hit = cs_estate_vpc(c->s, v, &vp) == 0 && vpc_has_tag(c->s, &vp, &o->tags[t]);
        }
        if (!hit) {
            free(acc_ok);
            free(reg_ok);
            return cs_fail(c->err, CS_ENOTFOUND, "audit scope: no VPC carries tag %s=%s",
                           o->tags[t].key ? o->tags[t].key : "",
                           o->tags[t].value ? o->tags[t].value : "");
        }
    }
    /* A region named "" is unknown: never "the same region" as another. */
    uint8_t *reg_known = calloc(ec.regions ? ec.regions : 1, 1);
    if (!reg_known) {
        free(acc_ok);
        free(reg_ok);
        return CS_ENOMEM;
    }
    for (uint32_t ri = 0; ri < ec.regions; ri++) {
        cs_region rg;
        reg_known[ri] = cs_estate_region(c->s, ri, &rg) == 0 && rg.name[0];
    }
    uint32_t prev_acc = UINT32_MAX, prev_reg = UINT32_MAX, accreg = 0;
    uint64_t in_scope = 0, defaults = 0;
    for (uint32_t v = 0; v < c->n_vpcs; v++) {
        cs_vpc vp;
        vinfo *vi = &c->v[v];
        if (cs_estate_vpc(c->s, v, &vp) != 0)
            continue;
        vi->account = vp.account_idx;
        vi->region = vp.region_idx;
        /* VPCs are sorted by (account, region, id): equal pairs are
         * consecutive, so a dense id is a running count. */
        if (v == 0 || vp.account_idx != prev_acc || vp.region_idx != prev_reg)
            accreg = v == 0 ? 0 : accreg + 1;
        prev_acc = vp.account_idx;
        prev_reg = vp.region_idx;
        vi->acc_reg = accreg;
        if (vp.region_idx >= ec.regions || !reg_known[vp.region_idx]) {
            vi->region = CS_IDX_NONE;
            vi->acc_reg = CS_IDX_NONE;
        }
        vi->flags = (vp.is_default ? VF_DEFAULT : 0) | (vp.pseudo ? VF_PSEUDO : 0);
        bool ok = true;
        if (acc_ok && (vp.account_idx >= ec.accounts || !acc_ok[vp.account_idx]))
            ok = false;
        if (ok && reg_ok && (vp.region_idx >= ec.regions || !reg_ok[vp.region_idx]))
            ok = false;
        for (size_t t = 0; ok && t < o->tag_count; t++)
            ok = vpc_has_tag(c->s, &vp, &o->tags[t]);
        if (ok) {
            vi->flags |= VF_SCOPE;
            in_scope++;
            defaults += vp.is_default;
        }
    }
    c->n_accreg = c->n_vpcs ? accreg + 1 : 0;
    free(reg_known);
    free(acc_ok);
    free(reg_ok);
    c->r->sum.vpcs = in_scope;
    c->r->sum.default_vpcs = defaults;

    /* Accounts and regions owning the VPCs in scope. */
    uint8_t *seen_a = calloc(ec.accounts ? ec.accounts : 1, 1);
    uint8_t *seen_r = calloc(ec.regions ? ec.regions : 1, 1);
    if (!seen_a || !seen_r) {
        free(seen_a);
        free(seen_r);
        return CS_ENOMEM;
    }
    for (uint32_t v = 0; v < c->n_vpcs; v++) {
        if (!(c->v[v].flags & VF_SCOPE))
            continue;
        if (c->v[v].account < ec.accounts && !seen_a[c->v[v].account]) {
            seen_a[c->v[v].account] = 1;
            c->r->sum.accounts++;
        }
        if (c->v[v].region < ec.regions && !seen_r[c->v[v].region]) {
            seen_r[c->v[v].region] = 1;
            c->r->sum.regions++;
        }
    }
    free(seen_a);
    free(seen_r);

    if (c->scoped) {
        c->r->in_scope = malloc(c->n_vpcs ? c->n_vpcs : 1);
        if (!c->r->in_scope)
            return CS_ENOMEM;
        for (uint32_t v = 0; v < c->n_vpcs; v++)
            c->r->in_scope[v] = (c->v[v].flags & VF_SCOPE) != 0;
        c->r->n_vpcs = c->n_vpcs;
    }
    return 0;
}

/* Global entry/node tables, the ancestor links, every VPC's blocks and
 * tops. */
int audit_tables_build(actx *c)
{
    c->ent_vpc = malloc((size_t)(c->ge ? c->ge : 1) * sizeof *c->ent_vpc);
    c->ent_node = malloc((size_t)(c->ge ? c->ge : 1) * sizeof *c->ent_node);
    c->gnend = malloc((size_t)(c->gn ? c->gn : 1) * sizeof *c->gnend);
    c->nb = malloc((size_t)(c->gn ? c->gn : 1) * sizeof *c->nb);
    c->noe = malloc((size_t)(c->gn ? c->gn : 1) * sizeof *c->noe);
    c->ne = malloc((size_t)(c->gn ? c->gn : 1) * sizeof *c->ne);
    c->gup = malloc((size_t)(c->gn ? c->gn : 1) * sizeof *c->gup);
    c->greused = calloc(c->gn ? c->gn : 1, 1);
    c->blk_off = calloc((size_t)c->n_vpcs + 1, sizeof *c->blk_off);
    if (!c->ent_vpc || !c->ent_node || !c->gnend || !c->gup || !c->greused || !c->blk_off ||
        !c->nb || !c->noe || !c->ne)
        return CS_ENOMEM;
    /* The scope as one byte per VPC: looked up once per entry, at random,
     * from a table 16 times smaller than the VPC facts. */
    uint8_t *scope = malloc(c->n_vpcs ? c->n_vpcs : 1);
    if (!scope)
        return CS_ENOMEM;
    for (uint32_t v = 0; v < c->n_vpcs; v++)
        scope[v] = (c->v[v].flags & VF_SCOPE) != 0;
    for (unsigned f = 0; f < 2; f++) {
        uint32_t eo = c->ent_off[f], no = c->node_off[f];
        for (uint32_t e = 0; e < c->n_ent[f]; e++) {
            uint32_t a = c->vals[f][e];
            uint32_t v = a < c->n_assocs ? c->a2v[a] : CS_IDX_NONE;
            if (v >= c->n_vpcs || !scope[v])
                v = CS_IDX_NONE;
            c->ent_vpc[eo + e] = v;
            if (v != CS_IDX_NONE)
                c->blk_off[v + 1]++;
        }
        for (uint32_t i = 0; i < c->n_nodes[f]; i++) {
            c->gup[no + i] = CS_NO_NODE;
            c->gnend[no + i] = no + i + 1;
            c->nb[no + i] = c->noe[no + i] = c->ne[no + i] = 0;
        }
        /* Entry-bearing nodes in preorder (the query layer's visit): their
         * entries, ancestor links and subtree ends. */
        uint32_t st_g[130], st_e[130];
        unsigned sp = 0;
        cs_wvisit w;
        cs_wnode nd;
        cs_walk_visit_init(&w, c->s, f, NULL);
        while (cs_walk_visit_next(&w, &nd)) {
            uint32_t g = no + nd.node;
            uint32_t b = nd.ent_begin, e = nd.ent_end;
            c->nb[g] = eo + b;
            c->noe[g] = eo + nd.own_end;
            c->ne[g] = eo + e;
            for (uint32_t x = b; x < nd.own_end; x++)
                c->ent_node[eo + x] = g;
            while (sp && b >= st_e[sp - 1])
                c->gnend[st_g[--sp]] = g;
            c->gup[g] = sp ? st_g[sp - 1] : CS_NO_NODE;
            if (f == 0)
                c->greused[g] = audit_prefix_reused(&nd.prefix);
            if (sp < 130) {
                st_g[sp] = g;
                st_e[sp] = e;
                sp++;
            }
        }
        while (sp)
            c->gnend[st_g[--sp]] = no + c->n_nodes[f];
    }
    free(scope);
    for (uint32_t v = 0; v < c->n_vpcs; v++) {
        if (c->blk_off[v + 1] > c->max_blk)
            c->max_blk = c->blk_off[v + 1];
        c->blk_off[v + 1] += c->blk_off[v];
    }
    uint32_t nb = c->blk_off[c->n_vpcs];
    c->stk_a = malloc(((size_t)c->max_blk + 1) * sizeof *c->stk_a);
    c->stk_b = malloc(((size_t)c->max_blk + 1) * sizeof *c->stk_b);
    c->vstamp = calloc((size_t)c->n_vpcs + 1, sizeof *c->vstamp);
    if (!c->stk_a || !c->stk_b || !c->vstamp)
        return CS_ENOMEM;
    c->blk = malloc((size_t)(nb ? nb : 1) * sizeof *c->blk);
    /* each block's node beside it, in VPC order: the tops below read it in
     * order instead of ent_node at random */
    uint32_t *bnode = malloc((size_t)(nb ? nb : 1) * sizeof *bnode);
    uint32_t *fill = malloc((size_t)(c->n_vpcs ? c->n_vpcs : 1) * sizeof *fill);
    if (!c->blk || !bnode || !fill) {
        free(bnode);
        free(fill);
        return CS_ENOMEM;
    }
    memcpy(fill, c->blk_off, (size_t)c->n_vpcs * sizeof *fill);
    for (uint32_t ge = 0; ge < c->ge; ge++)
        if (c->ent_vpc[ge] != CS_IDX_NONE) {
            uint32_t k = fill[c->ent_vpc[ge]]++;
            c->blk[k] = ge;
            bnode[k] = c->ent_node[ge];
        }
    free(fill);

    /* Tops of both filters in one pass over the blocks (each block's
     * reuse flag and the last tops' subtree ends read once, at random):
     * blocks come in node preorder, so a block is under an earlier top
     * exactly when it is under the last one. */
    c->topinc = calloc(c->ge ? c->ge : 1, 1);
    for (int F = 0; F < F_COUNT; F++) {
        c->top_off[F] = malloc(((size_t)c->n_vpcs + 1) * sizeof(uint32_t));
        c->top[F] = malloc((size_t)(nb ? nb : 1) * sizeof(uint32_t));
        if (!c->top_off[F] || !c->top[F])
            break;
    }
    if (!c->topinc || !c->top_off[F_COUNT - 1] || !c->top[F_COUNT - 1]) {
        free(bnode);
        return CS_ENOMEM;
    }
    uint32_t nt[F_COUNT] = {0};
    for (uint32_t v = 0; v < c->n_vpcs; v++) {
        uint32_t last[F_COUNT];
        for (int F = 0; F < F_COUNT; F++) {
            c->top_off[F][v] = nt[F];
            last[F] = CS_NO_NODE;
        }
        for (uint32_t k = c->blk_off[v]; k < c->blk_off[v + 1]; k++) {
            uint32_t ge = c->blk[k], g = bnode[k];
            bool reused = c->greused[g] != 0;
            for (int F = 0; F < F_COUNT; F++) {
                if (F == F_NONREUSED && reused)
                    continue;
                if (last[F] != CS_NO_NODE && g < c->gnend[last[F]])
                    continue;
                c->top[F][nt[F]++] = g;
                c->topinc[ge] |= (uint8_t)(1u << F);
                last[F] = g;
            }
        }
    }
    for (int F = 0; F < F_COUNT; F++)
        c->top_off[F][c->n_vpcs] = nt[F];
    free(bnode);
    return 0;
}


/* The public read of a result's scope (audit.h), so report writers need not
 * include audit_internal.h. */
bool cs_audit_vpc_in_scope(const cs_audit_result *r, uint32_t v)
{
    return r && audit_in_scope(r, v);
}
