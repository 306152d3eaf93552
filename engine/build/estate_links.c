/*
 * engine/build/estate_links.c — the estate builder's records that tie VPCs
 * together or annotate the estate: peering connections (one per pcx id,
 * merged from both sides' sightings, conflicts kept with both locations),
 * edge attachments, registered account/region scopes, caller findings and
 * rejected records; and the builder's counts and findings as read before
 * freeze.
 * Does not: freeze (estate_freeze.c), hold VPCs or blocks (estate.c).
 * Concurrency: one thread per builder. Tests: tests/test_estate.c,
 * tests/test_csv.c, tests/test_aws_json.c.
 */
#include <cidrscope/estate.h>

#include "core/error_internal.h"
#include "build/estate_builder_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_side(const cs_peering_side *s, const char *which, cs_error *err)
{
    char what[48];
    int rc;
    snprintf(what, sizeof what, "%s VPC id", which);
    if ((rc = cs_estate_check_str(s->vpc_id, what, true, err)))
        return rc;
    snprintf(what, sizeof what, "%s owner", which);
    if ((rc = cs_estate_check_str(s->owner, what, false, err)))
        return rc;
    if (s->owner.len && !cs_estate_is_account_id(s->owner))
        return cs_fail(err, CS_EINVAL, "%s owner '%.*s' is not a 12-digit account id", which,
                       (int)(s->owner.len > 64 ? 64 : s->owner.len), s->owner.ptr);
    snprintf(what, sizeof what, "%s region", which);
    if ((rc = cs_estate_check_str(s->region, what, false, err)))
        return rc;
    if (s->allow_dns > CS_TRI_TRUE)
        return cs_fail(err, CS_EINVAL, "%s DNS option %u out of range", which, s->allow_dns);
    return 0;
}

static bool side_str_eq(const cs_intern *t, uint32_t id, cs_str s)
{
    return id != CS_IDX_NONE && cs_intern_len(t, id) == s.len &&
           memcmp(cs_intern_str(t, id), s.ptr, s.len) == 0;
}

int cs_estate_add_peering(cs_estate *e, const cs_peering_desc *d, const cs_srcloc *loc,
                          cs_error *err)
{
    int rc = cs_estate_refuse(e, err);
    if (rc)
        return rc;
    if (!d)
        return cs_fail(err, CS_EINVAL, "NULL peering descriptor");
    if ((rc = cs_estate_check_str(d->id, "peering connection id", true, err)) ||
        (rc = check_side(&d->requester, "requester", err)) ||
        (rc = check_side(&d->accepter, "accepter", err))) {
        cs_estate_locate(err, loc);
        return rc;
    }
    if (d->status >= CS_PCX_STATUS_COUNT) {
        cs_fail(err, CS_EINVAL, "peering connection %.*s: status %u out of range",
                (int)(d->id.len > 64 ? 64 : d->id.len), d->id.ptr, d->status);
        cs_estate_locate(err, loc);
        return CS_EINVAL;
    }
    const cs_peering_side *in[2] = {&d->requester, &d->accepter};
    static const char *const side_name[2] = {"requester", "accepter"};
    uint32_t x = cs_intern_find(&e->pcxs, d->id.ptr, d->id.len);
    if (x != CS_INTERN_NONE) {
        pcx_b *c = &e->pcx[x];
        for (int k = 0; k < 2; k++) {
            const side_b *s = &c->side[k];
            const char *field = NULL, *was = NULL;
            cs_str now = {0};
            if (!side_str_eq(&e->misc, s->vpc_ref, in[k]->vpc_id)) {
                field = "VPC";
                was = cs_intern_str(&e->misc, s->vpc_ref);
                now = in[k]->vpc_id;
            } else if (in[k]->owner.len && s->account != CS_IDX_NONE &&
                       !side_str_eq(&e->accounts, s->account, in[k]->owner)) {
                field = "owner";
                was = cs_intern_str(&e->accounts, s->account);
                now = in[k]->owner;
            } else if (in[k]->region.len && s->region != CS_IDX_NONE &&
                       !side_str_eq(&e->regions, s->region, in[k]->region)) {
                field = "region";
                was = cs_intern_str(&e->regions, s->region);
                now = in[k]->region;
            }
            if (field) {
                char l1[300], l2[300];
                cs_estate_loc_text(e, &c->loc, l1, sizeof l1);
                cs_estate_cur_loc_text(loc, l2, sizeof l2);
                cs_fail(err, CS_ECONFLICT,
                        "peering connection %.*s seen twice with a different %s %s: '%.64s' at "
                        "%s, '%.*s' at %s",
                        (int)(d->id.len > 64 ? 64 : d->id.len), d->id.ptr, side_name[k], field,
                        was, l1, (int)(now.len > 64 ? 64 : now.len), now.ptr, l2);
                cs_estate_locate(err, loc);
                return CS_ECONFLICT;
            }
        }
        /* One connection: fill in what the first sighting did not give. */
        for (int k = 0; k < 2; k++) {
            if (e->pcx[x].side[k].account == CS_IDX_NONE && in[k]->owner.len) {
                uint32_t a;
                if ((rc = cs_estate_account_get(e, in[k]->owner, 0, &a)))
                    return cs_estate_fail_alloc(e, rc, err, "accounts");
                e->pcx[x].side[k].account = a;
            }
            if (e->pcx[x].side[k].region == CS_IDX_NONE && in[k]->region.len) {
                uint32_t r;
                if ((rc = cs_estate_region_get(e, in[k]->region, &r)))
                    return cs_estate_fail_alloc(e, rc, err, "regions");
                e->pcx[x].side[k].region = r;
            }
            if (!e->pcx[x].side[k].dns)
                e->pcx[x].side[k].dns = in[k]->allow_dns;
        }
        if (d->status != e->pcx[x].status) {
            char l1[300], l2[300], msg[800];
            cs_estate_loc_text(e, &e->pcx[x].loc, l1, sizeof l1);
            cs_estate_cur_loc_text(loc, l2, sizeof l2);
            snprintf(msg, sizeof msg,
                     "peering connection %.*s has status '%s' at %s but '%s' at %s; keeping '%s'",
                     (int)(d->id.len > 64 ? 64 : d->id.len), d->id.ptr,
                     cs_pcx_status_name(e->pcx[x].status), l1, cs_pcx_status_name(d->status), l2,
                     cs_pcx_status_name(e->pcx[x].status));
            if ((rc = cs_estate_add_finding(e, CS_FINDING_PCX_STATUS, loc, msg)))
                return cs_estate_fail_alloc(e, rc, err, "findings");
        }
        return 1;
    }
    pcx_b c;
    memset(&c, 0, sizeof c);
    c.status = d->status;
    for (int k = 0; k < 2; k++) {
        int64_t ref = cs_estate_misc_put(e, in[k]->vpc_id);
        if (ref < 0)
            return cs_estate_fail_alloc(e, (int)ref, err, "strings");
        c.side[k].vpc_ref = (uint32_t)ref;
        c.side[k].account = CS_IDX_NONE;
        c.side[k].region = CS_IDX_NONE;
        c.side[k].dns = in[k]->allow_dns;
        if (in[k]->owner.len && (rc = cs_estate_account_get(e, in[k]->owner, 0, &c.side[k].account)))
            return cs_estate_fail_alloc(e, rc, err, "accounts");
        if (in[k]->region.len && (rc = cs_estate_region_get(e, in[k]->region, &c.side[k].region)))
            return cs_estate_fail_alloc(e, rc, err, "regions");
    }
    if ((rc = cs_estate_make_loc(e, loc, &c.loc)))
        return cs_estate_fail_alloc(e, rc, err, "strings");
    if ((rc = grow((void **)&e->pcx, &e->pcx_cap, sizeof *e->pcx, (uint64_t)e->pcxs.count + 1)))
        return cs_estate_fail_alloc(e, rc, err, "peering connections");
    int64_t id = cs_intern_put(&e->pcxs, d->id.ptr, d->id.len, NULL);
    if (id < 0)
        return cs_estate_fail_alloc(e, (int)id, err, "peering connections");
    e->pcx[id] = c;
    return 0;
}

/* ---- edges, scopes, findings -------------------------------------------------- */

int cs_estate_add_edge(cs_estate *e, const cs_edge_desc *d, const cs_srcloc *loc,
                       cs_error *err)
{
    int rc = cs_estate_refuse(e, err);
    if (rc)
        return rc;
    if (!d)
        return cs_fail(err, CS_EINVAL, "NULL edge descriptor");
    if ((rc = cs_estate_check_str(d->vpc_id, "VPC id of an edge", true, err)) ||
        (rc = cs_estate_check_str(d->id, "edge id", true, err))) {
        cs_estate_locate(err, loc);
        return rc;
    }
    if (d->kind >= CS_EDGE_KIND_COUNT) {
        cs_fail(err, CS_EINVAL, "edge %.*s: kind %u out of range",
                (int)(d->id.len > 64 ? 64 : d->id.len), d->id.ptr, d->kind);
        cs_estate_locate(err, loc);
        return CS_EINVAL;
    }
    uint32_t v = cs_intern_find(&e->vpcs, d->vpc_id.ptr, d->vpc_id.len);
    if (v == CS_INTERN_NONE) {
        cs_fail(err, CS_ENOTFOUND, "edge %.*s names VPC %.*s, which has not been read",
                (int)(d->id.len > 64 ? 64 : d->id.len), d->id.ptr,
                (int)(d->vpc_id.len > 64 ? 64 : d->vpc_id.len), d->vpc_id.ptr);
        cs_estate_locate(err, loc);
        return CS_ENOTFOUND;
    }
    int64_t ref = cs_estate_misc_put(e, d->id);
    if (ref < 0)
        return cs_estate_fail_alloc(e, (int)ref, err, "strings");
    if ((rc = cs_estate_keymap_reserve(&e->emap)))
        return cs_estate_fail_alloc(e, rc, err, "edges");
    uint32_t h = cs_estate_edge_hash(v, d->kind, (uint32_t)ref);
    uint64_t j = h & e->emap.mask;
    for (; e->emap.slots[j]; j = (j + 1) & e->emap.mask) {
        uint64_t s = e->emap.slots[j];
        const edge_b *x = &e->edge[(uint32_t)s - 1];
        if ((uint32_t)(s >> 32) == h && x->vpc == v && x->kind == d->kind &&
            x->ref == (uint32_t)ref)
            return 1;
    }
    loc_b lb;
    if ((rc = cs_estate_make_loc(e, loc, &lb)))
        return cs_estate_fail_alloc(e, rc, err, "strings");
    if ((rc = grow((void **)&e->edge, &e->edge_cap, sizeof *e->edge, (uint64_t)e->n_edge + 1)))
        return cs_estate_fail_alloc(e, rc, err, "edges");
    uint32_t a = e->n_edge++;
    e->edge[a] = (edge_b){.vpc = v, .ref = (uint32_t)ref, .kind = d->kind, .loc = lb};
    e->emap.slots[j] = ((uint64_t)h << 32) | ((uint64_t)a + 1);
    e->emap.count++;
    return 0;
}

int cs_estate_add_scope(cs_estate *e, cs_str account, cs_str region, cs_error *err)
{
    int rc = cs_estate_refuse(e, err);
    if (rc)
        return rc;
    if ((rc = cs_estate_check_str(account, "account", false, err)) ||
        (rc = cs_estate_check_str(region, "region", false, err)))
        return rc;
    if (account.len && !cs_estate_is_account_id(account))
        return cs_fail(err, CS_EINVAL, "account '%.*s' is not a 12-digit account id",
                       (int)(account.len > 64 ? 64 : account.len), account.ptr);
    uint32_t idx;
    if (account.len && (rc = cs_estate_account_get(e, account, ACCT_REGISTERED, &idx)))
        return cs_estate_fail_alloc(e, rc, err, "accounts");
    if (region.len && (rc = cs_estate_region_get(e, region, &idx)))
        return cs_estate_fail_alloc(e, rc, err, "regions");
    return 0;
}

int cs_estate_add_finding(cs_estate *e, const char *kind, const cs_srcloc *loc,
                          const char *message)
{
    int rc = cs_estate_refuse(e, NULL);
    if (rc)
        return rc;
    if (!kind || !kind[0])
        return CS_EINVAL;
    if (!message)
        message = "";
    finding_b f;
    memset(&f, 0, sizeof f);
    f.vpc = CS_IDX_NONE;
    int64_t k = cs_estate_misc_off(e, (cs_str){kind, strnlen(kind, CS_ESTATE_STR_MAX)});
    if (k < 0)
        return cs_estate_fail_alloc(e, (int)k, NULL, "strings");
    f.kind_off = (uint32_t)k;
    if ((rc = cs_strbuf_add(&e->strs, message, strnlen(message, CS_ESTATE_STR_MAX), &f.msg_off)))
        return cs_estate_fail_alloc(e, rc, NULL, "strings");
    if ((rc = cs_estate_make_loc(e, loc, &f.loc)))
        return cs_estate_fail_alloc(e, rc, NULL, "strings");
    if ((rc = grow((void **)&e->finding, &e->finding_cap, sizeof *e->finding,
                   (uint64_t)e->n_finding + 1)))
        return cs_estate_fail_alloc(e, rc, NULL, "findings");
    e->finding[e->n_finding++] = f;
    return 0;
}

int cs_estate_reject(cs_estate *e, const cs_error *rejected)
{
    int rc = cs_estate_refuse(e, NULL);
    if (rc)
        return rc;
    if (!rejected)
        return CS_EINVAL;
    cs_srcloc loc = {rejected->source, rejected->line, rejected->column};
    char msg[CS_ERROR_MSG_CAP + 64];
    snprintf(msg, sizeof msg, "%s", rejected->message[0] ? rejected->message
                                                         : cs_strerror(rejected->code));
    if ((rc = cs_estate_add_finding(e, CS_FINDING_REJECTED, &loc, msg)))
        return rc;
    e->rejected++;
    return 0;
}

void cs_estate_build_counts(const cs_estate *e, cs_estate_counts *out)
{
    memset(out, 0, sizeof *out);
    if (!e)
        return;
    out->accounts = e->accounts.count;
    out->regions = e->regions.count;
    out->vpcs = e->vpcs.count;
    for (uint32_t v = 0; v < e->vpcs.count; v++) {
        out->default_vpcs += e->vpc[v].is_default;
        out->pseudo_vpcs += e->vpc[v].pseudo;
    }
    out->assocs = e->n_assoc;
    for (uint32_t a = 0; a < e->n_assoc; a++) {
        unsigned f = cs_family_index(CS_ASSOC(e, a).family);
        if (cs_assoc_state_live(CS_ASSOC(e, a).state))
            out->live[f]++;
        else
            out->dead[f]++;
    }
    out->peerings = e->pcxs.count;
    out->edges = e->n_edge;
    out->tags = e->n_tag;
    out->findings = e->n_finding;
    out->rejected = e->rejected;
}

int cs_estate_build_finding(const cs_estate *e, uint32_t i, cs_finding *out)
{
    if (!e || !out || i >= e->n_finding)
        return CS_ERANGE;
    const finding_b *f = &e->finding[i];
    out->kind = cs_strbuf_at(&e->strs, f->kind_off);
    out->message = cs_strbuf_at(&e->strs, f->msg_off);
    out->source = cs_strbuf_at(&e->strs, f->loc.src_off);
    out->line = cs_estate_loc_line(e, &f->loc);
    out->column = cs_estate_loc_column(e, &f->loc);
    out->vpc_idx = CS_IDX_NONE;
    return 0;
}

