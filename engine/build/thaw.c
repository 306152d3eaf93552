/*
 * engine/build/thaw.c — thaw: a frozen estate back into a builder
 * (cs_estate_thaw), so a caller can add planned VPCs and blocks to an
 * estate read from anywhere (directories, CSV, a snapshot file, shared
 * memory) and freeze the result; the what-if audit does exactly that.
 *
 * Does: add every record of the image's estate to a builder through the
 * builder's own calls (cs_estate_add_*), so every rule of the builder
 * (dedupe, conflicts) applies to the copy as to the sources: accounts and
 * regions that hold no VPC (as scopes), VPCs with their tags, CIDR
 * associations (dead ones too), edge attachments, peering connections with
 * both sides' owner and region. Does not: copy findings (the estate-wide
 * ones are recomputed at freeze; the input-side ones belong to the sources
 * that were read), touch the trie (freeze rebuilds it from the
 * associations), or read the node arrays.
 *
 * Invariant: freeze(thaw(S)) has the same accounts, regions, VPCs,
 * associations, peerings, edges and tags as S, in the same frozen order
 * (freeze sorts), hence the same indices.
 *
 * Concurrency: reads the snapshot only; the builder is the caller's, one
 * thread at a time. Tests: tests/test_audit.c (thaw__*).
 */
#include <cidrscope/estate.h>

#include "core/error_internal.h"

#include <stdlib.h>

/* The location every thawed record carries in messages. */
static const cs_srcloc thaw_loc = {"(estate)", 0, 0};

/* Accounts and regions known to the estate that hold no VPC. */
static int thaw_scopes(const cs_snapshot *s, const cs_estate_counts *ec, cs_estate *e,
                       cs_error *err)
{
    for (uint32_t i = 0; i < ec->accounts; i++) {
        cs_account a;
        if (cs_estate_account(s, i, &a) == 0 &&
            !(a.flags & (CS_ACCOUNT_PSEUDO | CS_ACCOUNT_EXTERNAL)) && a.vpc_count == 0) {
            int rc = cs_estate_add_scope(e, cs_str_c(a.id), cs_str_c(NULL), err);
            if (rc < 0)
                return rc;
        }
    }
    for (uint32_t i = 0; i < ec->regions; i++) {
        cs_region rg;
        if (cs_estate_region(s, i, &rg) == 0 && rg.name[0] && rg.vpc_count == 0) {
            int rc = cs_estate_add_scope(e, cs_str_c(NULL), cs_str_c(rg.name), err);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

/* VPC v with its tags, blocks and edges. tags: room for every tag. */
static int thaw_vpc(const cs_snapshot *s, uint32_t v, cs_tag *tags, cs_estate *e,
                    cs_error *err)
{
    cs_vpc vp;
    cs_account a;
    cs_region rg;
    if (cs_estate_vpc(s, v, &vp) || cs_estate_account(s, vp.account_idx, &a) ||
        cs_estate_region(s, vp.region_idx, &rg))
        return cs_fail(err, CS_ECORRUPT, "thaw: VPC %u has no account or region", v);
    for (uint32_t k = 0; k < vp.tag_count; k++) {
        const char *key = "", *val = "";
        cs_estate_tag(s, vp.tag_begin + k, &key, &val);
        tags[k].key = cs_str_c(key);
        tags[k].value = cs_str_c(val);
    }
    cs_vpc_desc d = {.id = cs_str_c(vp.id), .owner = cs_str_c(a.id),
                     .region = cs_str_c(rg.name), .name = cs_str_c(vp.name),
                     .tags = tags, .tag_count = vp.tag_count, .state = vp.state,
                     .is_default = vp.is_default, .flags = vp.pseudo ? CS_VPC_PSEUDO : 0};
    int rc = cs_estate_add_vpc(e, &d, &thaw_loc, err);
    for (uint32_t k = 0; k < vp.assoc_count && rc >= 0; k++) {
        cs_assoc as;
        if (cs_estate_assoc(s, vp.assoc_begin + k, &as))
            continue;
        cs_cidr_desc cd = {.vpc_id = cs_str_c(vp.id), .prefix = as.prefix,
                           .association_id = cs_str_c(as.id), .state = as.state,
                           .primary = as.primary, .ip_source = as.ip_source,
                           .ipv6_attr = as.ipv6_attr, .pool = cs_str_c(as.pool)};
        rc = cs_estate_add_cidr(e, &cd, &thaw_loc, err);
    }
    for (uint32_t k = 0; k < vp.edge_count && rc >= 0; k++) {
        cs_edge ed;
        if (cs_estate_edge(s, vp.edge_begin + k, &ed))
            continue;
        cs_edge_desc dd = {.vpc_id = cs_str_c(vp.id), .kind = ed.kind, .id = cs_str_c(ed.id)};
        rc = cs_estate_add_edge(e, &dd, &thaw_loc, err);
    }
    return rc < 0 ? rc : 0;
}

static int thaw_peering(const cs_snapshot *s, uint32_t p, cs_estate *e, cs_error *err)
{
    cs_peering pr;
    if (cs_estate_peering(s, p, &pr))
        return 0;
    cs_peering_desc d = {.id = cs_str_c(pr.id), .status = pr.status};
    const cs_peering_end *ends[2] = {&pr.requester, &pr.accepter};
    cs_peering_side *sides[2] = {&d.requester, &d.accepter};
    for (int k = 0; k < 2; k++) {
        cs_account a;
        cs_region rg;
        sides[k]->vpc_id = cs_str_c(ends[k]->vpc_id);
        sides[k]->allow_dns = ends[k]->allow_dns;
        if (ends[k]->account_idx != CS_IDX_NONE &&
            cs_estate_account(s, ends[k]->account_idx, &a) == 0)
            sides[k]->owner = cs_str_c(a.id);
        if (ends[k]->region_idx != CS_IDX_NONE &&
            cs_estate_region(s, ends[k]->region_idx, &rg) == 0)
            sides[k]->region = cs_str_c(rg.name);
    }
    int rc = cs_estate_add_peering(e, &d, &thaw_loc, err);
    return rc < 0 ? rc : 0;
}

int cs_estate_thaw(const cs_snapshot *s, cs_estate *e, cs_error *err)
{
    if (!s || !e)
        return cs_fail(err, CS_EINVAL, "cs_estate_thaw: NULL snapshot or estate");
    if (!cs_estate_present(s))
        return cs_fail(err, CS_EINVAL, "thaw: the snapshot holds no estate (a prefix image)");
    cs_estate_counts ec;
    cs_estate_counts_get(s, &ec);
    int rc = thaw_scopes(s, &ec, e, err);
    uint32_t most_tags = 0;
    for (uint32_t v = 0; v < ec.vpcs; v++) {
        cs_vpc vp;
        if (cs_estate_vpc(s, v, &vp) == 0 && vp.tag_count > most_tags)
            most_tags = vp.tag_count;
    }
    cs_tag *tags = malloc(((size_t)most_tags + 1) * sizeof *tags);
    if (!tags)
        return cs_fail(err, CS_ENOMEM, "thaw: out of memory");
    for (uint32_t v = 0; v < ec.vpcs && rc == 0; v++)
        rc = thaw_vpc(s, v, tags, e, err);
    free(tags);
    for (uint32_t p = 0; p < ec.peerings && rc == 0; p++)
        rc = thaw_peering(s, p, e, err);
    return rc;
}
