/*
 * engine/report/audit_report_json.c — the audit report as one JSON document
 * or as NDJSON (one object per line, each with a "type": summary, group,
 * pair, domain, domain_pair, cluster, change).
 *
 * Layout of the JSON document (NDJSON objects carry the same members;
 * docs/schema/audit.schema.json and audit-ndjson.schema.json are the
 * contract):
 *
 *   { "cidrscope": "0.1.0", "title": ...,
 *     "summary":   { vpcs, default_vpcs, accounts, regions, entries,
 *                    entries_ipv4, entries_ipv6, prefixes,
 *                    overlapping_entry_pairs, overlapping_vpc_pairs,
 *                    overlapping_vpc_pairs_excluding_default,
 *                    vpc_pairs_by_severity {critical, high, medium,
 *                    informational}, clusters, entries_in_clusters,
 *                    max_nesting, groups, listed_pairs, domain_violations },
 *     "severities": { critical: sentence, ... },
 *     "rejected":  [ { source, line, column, message } ]  (--keep-going;
 *                    counted in summary.rejected_records / rejected_files)
 *     "incomplete": [ { source, line, column, message } ]  (pages naming a
 *                    NextToken; counted in summary.incomplete_pages;
 *                    NDJSON records of type "incomplete-page")
 *     "clusters":  [ { top, entries, prefixes, depth, vpcs, entry_pairs,
 *                      members: [ { prefix, depth, entries, vpcs,
 *                                   vpc_ids (<= 8), more_vpcs } ] } ],
 *     "groups":    [ { prefix, severity, listed, vpcs, default_vpcs,
 *                      entries, vpc_pairs, same_account_pairs,
 *                      same_region_pairs, peered_pairs, reused,
 *                      vpc_ids (listed groups only) } ],
 *     "pairs":     [ { severity, reasons [..], a {vpc, name, account,
 *                      region, default}, b {...}, peering, hub,
 *                      block_pairs, blocks [ {a, b, relation} ] } ],
 *     "domains":   [ { name, vpcs, violations, pairs [...] } ],
 *     "drift":     { baseline, what_if, appeared, changed, disappeared,
 *                    changes [ { change, type, severity, ... } ] } }
 *
 * Tests: tests/cli/test_audit.sh (fresh output validated against the
 * schemas), tests/test_report.c.
 */
#include "report/audit_report_internal.h"

#include <cidrscope/estate.h>

static void json_summary(cs_json *j, const audit_rep *R)
{
    const cs_audit_summary *m = &R->sum;
    cs_json_begin_object(j);
    cs_json_kv_u64(j, "vpcs", m->vpcs);
    cs_json_kv_u64(j, "default_vpcs", m->default_vpcs);
    cs_json_kv_u64(j, "accounts", m->accounts);
    cs_json_kv_u64(j, "regions", m->regions);
    cs_json_kv_u64(j, "entries", m->entries);
    cs_json_kv_u64(j, "entries_ipv4", m->entries_by_family[0]);
    cs_json_kv_u64(j, "entries_ipv6", m->entries_by_family[1]);
    cs_json_kv_u64(j, "prefixes", m->prefixes);
    cs_json_kv_u64(j, "overlapping_entry_pairs", m->overlapping_entry_pairs);
    cs_json_kv_bool(j, "vpc_level", m->vpc_level);
    cs_json_kv_u64(j, "overlapping_vpc_pairs", m->overlapping_vpc_pairs);
    cs_json_kv_u64(j, "overlapping_vpc_pairs_excluding_default",
                   m->overlapping_vpc_pairs_excluding_default);
    cs_json_key(j, "vpc_pairs_by_severity");
    cs_json_begin_object(j);
    for (unsigned k = 0; k < CS_SEV_COUNT; k++)
        cs_json_kv_u64(j, cs_severity_name(k), m->vpc_pairs_by_severity[k]);
    cs_json_end(j);
    cs_json_kv_u64(j, "clusters", m->clusters);
    cs_json_kv_u64(j, "entries_in_clusters", m->entries_in_clusters);
    cs_json_kv_u64(j, "max_nesting", m->max_nesting);
    cs_json_kv_u64(j, "groups", m->groups);
    cs_json_kv_u64(j, "listed_pairs", m->listed_pairs);
    cs_json_kv_u64(j, "domain_violations", m->domain_violations);
    cs_json_kv_u64(j, "rejected_records", R->rejected_records);
    cs_json_kv_u64(j, "rejected_files", R->rejected_files);
    cs_json_kv_u64(j, "incomplete_pages", R->incomplete_pages);
    cs_json_end(j);
}

/* One rejected input: {source, line, column, message} (NDJSON: with
 * "type": "rejected"). */
typedef struct rej_ctx {
    cs_json *j;
    bool nd;
} rej_ctx;

static int json_rejected(const cs_finding *f, void *vctx)
{
    rej_ctx *c = vctx;
    cs_json_begin_object(c->j);
    if (c->nd)
        cs_json_kv_string(c->j, "type",
                          strcmp(f->kind, CS_FINDING_INCOMPLETE_PAGE) == 0 ? "incomplete-page"
                                                                            : "rejected");
    cs_json_kv_string(c->j, "source", f->source ? f->source : "");
    cs_json_kv_u64(c->j, "line", f->line);
    cs_json_kv_u64(c->j, "column", f->column);
    cs_json_kv_string(c->j, "message", f->message ? f->message : "");
    cs_json_end(c->j);
    if (c->nd)
        cs_json_newline(c->j);
    return 0;
}

static void json_severities(cs_json *j)
{
    cs_json_begin_object(j);
    for (unsigned k = 0; k < CS_SEV_COUNT; k++)
        cs_json_kv_string(j, cs_severity_name(k), cs_severity_explanation(k));
    cs_json_end(j);
}

static void json_pair_body(cs_json *j, const pair_ref *pr)
{
    const cs_audit_pair *p = &pr->p;
    cs_json_kv_string(j, "severity", cs_severity_name(p->severity));
    cs_json_key(j, "reasons");
    cs_json_begin_array(j);
    for (unsigned k = 0; k < AUDIT_N_WHY; k++)
        if (p->why & (1u << k))
            cs_json_string(j, audit_why_names[k]);
    cs_json_end(j);
    cs_vpc_facts fa = cs_report_vpc(pr->s, p->vpc_a), fb = cs_report_vpc(pr->s, p->vpc_b);
    cs_json_key(j, "a");
    cs_json_vpc(j, &fa);
    cs_json_key(j, "b");
    cs_json_vpc(j, &fb);
    const char *st;
    const char *pcx = audit_rep_pcx(pr->s, p->peering_idx, &st);
    cs_json_key(j, "peering");
    if (pcx) {
        cs_json_begin_object(j);
        cs_json_kv_string(j, "id", pcx);
        cs_json_kv_string(j, "status", st);
        cs_json_end(j);
    } else {
        cs_json_null(j);
    }
    cs_json_key(j, "hub");
    if (p->hub_vpc != CS_IDX_NONE)
        cs_json_string(j, cs_report_vpc_id(pr->s, p->hub_vpc));
    else
        cs_json_null(j);
    cs_json_kv_u64(j, "block_pairs", p->block_pairs);
    cs_json_key(j, "blocks");
    cs_json_begin_array(j);
    cs_prefix a[CS_AUDIT_MAX_WITNESSES], b[CS_AUDIT_MAX_WITNESSES];
    unsigned n = audit_rep_blocks(pr, a, b);
    for (unsigned k = 0; k < n; k++) {
        cs_json_begin_object(j);
        cs_json_kv_prefix(j, "a", &a[k]);
        cs_json_kv_prefix(j, "b", &b[k]);
        cs_json_kv_string(j, "relation", audit_rep_relation(&a[k], &b[k]));
        cs_json_end(j);
    }
    cs_json_end(j);
}

static void json_pair(cs_json *j, const pair_ref *pr, const char *type)
{
    cs_json_begin_object(j);
    if (type)
        cs_json_kv_string(j, "type", type);
    json_pair_body(j, pr);
    cs_json_end(j);
}

/* Writes VPC ids as strings until `max` are written, then counts. */
typedef struct ids_ctx {
    cs_json *j;
    const audit_rep *R;
    uint64_t max, written, skipped;
} ids_ctx;

static int ids_cb(uint32_t v, void *vctx)
{
    ids_ctx *c = vctx;
    if (c->written < c->max) {
        audit_rep_json_vpc_id(c->j, c->R, v);
        c->written++;
    } else {
        c->skipped++;
    }
    return 0;
}

static void json_group(cs_json *j, const audit_rep *R, const cs_audit_group *g, const char *type)
{
    cs_json_begin_object(j);
    if (type)
        cs_json_kv_string(j, "type", type);
    cs_json_kv_prefix(j, "prefix", &g->prefix);
    cs_json_kv_string(j, "severity", cs_severity_name(g->severity));
    cs_json_kv_bool(j, "listed", g->listed);
    cs_json_kv_u64(j, "vpcs", g->vpcs);
    cs_json_kv_u64(j, "default_vpcs", g->default_vpcs);
    cs_json_kv_u64(j, "entries", g->entries);
    cs_json_kv_u64(j, "vpc_pairs", g->vpc_pairs);
    cs_json_kv_u64(j, "same_account_pairs", g->same_account_pairs);
    cs_json_kv_u64(j, "same_region_pairs", g->same_region_pairs);
    cs_json_kv_u64(j, "peered_pairs", g->peered_pairs);
    cs_json_kv_bool(j, "reused", g->reused);
    cs_json_kv_u64(j, "blocks_inside", g->blocks_inside);
    cs_json_kv_u64(j, "blocks_around", g->blocks_around);
    uint32_t ids[8];
    static const char *const nest_keys[2] = {"vpcs_around", "vpcs_inside"};
    for (int k = 0; k < 2; k++) {
        unsigned n = audit_rep_nested(R, &g->prefix, k ? CS_Q_COVERED : CS_Q_COVERING,
                                      k ? (g->blocks_inside ? 8 : 0) : (g->blocks_around ? 8 : 0),
                                      ids);
        cs_json_key(j, nest_keys[k]);
        cs_json_begin_array(j);
        for (unsigned i = 0; i < n; i++)
            audit_rep_json_vpc_id(j, R, ids[i]);
        cs_json_end(j);
    }
    if (g->listed) {
        cs_json_key(j, "vpc_ids");
        cs_json_begin_array(j);
        ids_ctx c = {j, R, UINT64_MAX, 0, 0};
        audit_rep_entry_vpcs(R, g->prefix.family, g->first_entry, g->span, ids_cb, &c);
        cs_json_end(j);
    }
    cs_json_end(j);
}

/* Members of a cluster: its distinct prefixes in preorder, with nesting
 * depth inside the cluster and up to 8 VPC ids each. */
typedef struct member_ctx {
    cs_json *j;
    const audit_rep *R;
    cs_prefix stack[130];
    unsigned sp;
} member_ctx;

static int json_member(const cs_match *m, void *vctx)
{
    member_ctx *mc = vctx;
    const audit_rep *R = mc->R;
    uint32_t in_scope = 0;
    for (uint32_t k = 0; k < m->count; k++) {
        uint32_t v = cs_estate_present(R->s) ? audit_rep_assoc_vpc(R, m->values[k]) : 0;
        in_scope += cs_audit_vpc_in_scope(R->r, v);
    }
    if (in_scope == 0)
        return 0;
    while (mc->sp && !cs_prefix_contains(&mc->stack[mc->sp - 1], &m->prefix))
        mc->sp--;
    if (mc->sp < 130)
        mc->stack[mc->sp++] = m->prefix;
    cs_json *j = mc->j;
    cs_json_begin_object(j);
    cs_json_kv_prefix(j, "prefix", &m->prefix);
    cs_json_kv_u64(j, "depth", mc->sp);
    cs_json_kv_u64(j, "entries", in_scope);
    if (cs_estate_present(R->s)) {
        uint32_t prev = CS_IDX_NONE, n = 0;
        for (uint32_t k = 0; k < m->count; k++) {
            uint32_t v = audit_rep_assoc_vpc(R, m->values[k]);
            if (v != prev && cs_audit_vpc_in_scope(R->r, v))
                n++;
            prev = v;
        }
        cs_json_kv_u64(j, "vpcs", n);
        cs_json_key(j, "vpc_ids");
        cs_json_begin_array(j);
        ids_ctx c = {j, R, 8, 0, 0};
        audit_rep_entry_vpcs(R, m->prefix.family, m->first_entry, m->count, ids_cb, &c);
        cs_json_end(j);
        cs_json_kv_u64(j, "more_vpcs", c.skipped);
    }
    cs_json_end(j);
    return 0;
}

static void json_cluster(cs_json *j, const audit_rep *R, const cs_audit_cluster *c,
                         const char *type)
{
    cs_json_begin_object(j);
    if (type)
        cs_json_kv_string(j, "type", type);
    cs_json_kv_prefix(j, "top", &c->top);
    cs_json_kv_u64(j, "entries", c->entries);
    cs_json_kv_u64(j, "prefixes", c->prefixes);
    cs_json_kv_u64(j, "depth", c->depth);
    cs_json_kv_u64(j, "vpcs", c->vpcs);
    cs_json_kv_u64(j, "entry_pairs", c->entry_pairs);
    cs_json_key(j, "members");
    cs_json_begin_array(j);
    member_ctx mc;
    mc.j = j;
    mc.R = R;
    mc.sp = 0;
    cs_query_walk(R->s, &c->top, CS_Q_COVERED, json_member, &mc);
    cs_json_end(j);
    cs_json_end(j);
}

static void json_change(cs_json *j, const audit_rep *R, const change_ref *cr, const char *type)
{
    const cs_audit_report_options *o = R->o;
    cs_json_begin_object(j);
    if (type)
        cs_json_kv_string(j, "type", type);
    cs_json_kv_string(j, "change", audit_change_names[cr->ch.kind]);
    if (cr->ch.what == CS_CHANGE_PAIR) {
        cs_json_kv_string(j, "finding", "pair");
        cs_audit_pair old;
        if (cr->ch.kind == CS_CHANGE_CHANGED &&
            cs_audit_get_pair(o->baseline, cr->ch.old_idx, &old) == 0)
            cs_json_kv_string(j, "old_severity", cs_severity_name(old.severity));
        pair_ref pr;
        if (audit_rep_pair(cr->s, cr->r, -1, cr->idx, &pr))
            json_pair_body(j, &pr);
    } else {
        cs_audit_group g, og;
        cs_json_kv_string(j, "finding", "group");
        if (cs_audit_get_group(cr->r, cr->idx, &g) == 0) {
            cs_json_kv_prefix(j, "prefix", &g.prefix);
            cs_json_kv_string(j, "severity", cs_severity_name(g.severity));
            cs_json_kv_u64(j, "vpcs", g.vpcs);
        }
        if (cr->ch.kind == CS_CHANGE_CHANGED &&
            cs_audit_get_group(o->baseline, cr->ch.old_idx, &og) == 0) {
            cs_json_kv_string(j, "old_severity", cs_severity_name(og.severity));
            cs_json_kv_u64(j, "old_vpcs", og.vpcs);
        }
    }
    cs_json_end(j);
}

int audit_rep_json(const audit_rep *R)
{
    const cs_audit_result *r = R->r;
    cs_json j;
    cs_json_init(&j, R->f, CS_JSON_PRETTY);
    cs_json_begin_object(&j);
    cs_json_kv_string(&j, "cidrscope", CIDRSCOPE_REPORT_VERSION);
    cs_json_kv_string(&j, "title", R->o->title ? R->o->title : "");
    cs_json_key(&j, "summary");
    json_summary(&j, R);
    cs_json_key(&j, "severities");
    json_severities(&j);
    cs_json_key(&j, "rejected");
    cs_json_begin_array(&j);
    rej_ctx rc = {&j, false};
    audit_rep_rejected(R, json_rejected, &rc);
    cs_json_end(&j);
    cs_json_key(&j, "incomplete");
    cs_json_begin_array(&j);
    audit_rep_findings(R, CS_FINDING_INCOMPLETE_PAGE, json_rejected, &rc);
    cs_json_end(&j);
    cs_json_key(&j, "clusters");
    cs_json_begin_array(&j);
    for (size_t i = 0; i < audit_rep_cap(R, R->n_clusters); i++) {
        cs_audit_cluster c;
        if (cs_audit_get_cluster(r, i, &c) == 0)
            json_cluster(&j, R, &c, NULL);
    }
    cs_json_end(&j);
    cs_json_kv_u64(&j, "clusters_omitted", R->n_clusters - audit_rep_cap(R, R->n_clusters));
    cs_json_key(&j, "groups");
    cs_json_begin_array(&j);
    for (size_t i = 0; i < audit_rep_cap(R, R->n_groups); i++) {
        cs_audit_group g;
        if (cs_audit_get_group(r, i, &g) == 0)
            json_group(&j, R, &g, NULL);
    }
    cs_json_end(&j);
    cs_json_kv_u64(&j, "groups_omitted", R->n_groups - audit_rep_cap(R, R->n_groups));
    cs_json_key(&j, "pairs");
    cs_json_begin_array(&j);
    for (size_t i = 0; i < audit_rep_cap(R, R->n_pairs); i++) {
        pair_ref pr;
        if (audit_rep_pair(R->s, r, -1, i, &pr))
            json_pair(&j, &pr, NULL);
    }
    cs_json_end(&j);
    cs_json_kv_u64(&j, "pairs_omitted", R->n_pairs - audit_rep_cap(R, R->n_pairs));
    cs_json_key(&j, "domains");
    cs_json_begin_array(&j);
    for (size_t d = 0; d < R->n_domains; d++) {
        cs_audit_domain_info dm;
        if (cs_audit_get_domain(r, d, &dm) != 0)
            continue;
        cs_json_begin_object(&j);
        cs_json_kv_string(&j, "name", dm.name);
        cs_json_kv_u64(&j, "vpcs", dm.vpcs);
        cs_json_kv_u64(&j, "violations", dm.violations);
        cs_json_key(&j, "pairs");
        cs_json_begin_array(&j);
        for (uint64_t i = 0; i < audit_rep_cap(R, dm.violations); i++) {
            pair_ref pr;
            if (audit_rep_pair(R->s, r, (long)d, i, &pr))
                json_pair(&j, &pr, NULL);
        }
        cs_json_end(&j);
        cs_json_end(&j);
    }
    cs_json_end(&j);
    if (R->o->drift) {
        const cs_audit_drift *dr = R->o->drift;
        cs_json_key(&j, "drift");
        cs_json_begin_object(&j);
        cs_json_kv_string(&j, "baseline", R->o->baseline_title ? R->o->baseline_title : "");
        cs_json_kv_bool(&j, "what_if", R->o->what_if);
        for (unsigned k = 0; k < 3; k++)
            cs_json_kv_u64(&j, audit_change_names[k], cs_audit_change_kind_count(dr, k));
        cs_json_key(&j, "changes");
        cs_json_begin_array(&j);
        for (size_t i = 0; i < audit_rep_cap(R, R->n_changes); i++) {
            change_ref cr;
            if (audit_rep_change(R, i, &cr))
                json_change(&j, R, &cr, NULL);
        }
        cs_json_end(&j);
        cs_json_end(&j);
    }
    cs_json_end(&j);
    cs_json_newline(&j);
    return 0;
}

int audit_rep_ndjson(const audit_rep *R)
{
    const cs_audit_result *r = R->r;
    cs_json j;
    cs_json_init(&j, R->f, 0);
    cs_json_begin_object(&j);
    cs_json_kv_string(&j, "type", "summary");
    cs_json_kv_string(&j, "cidrscope", CIDRSCOPE_REPORT_VERSION);
    cs_json_kv_string(&j, "title", R->o->title ? R->o->title : "");
    cs_json_key(&j, "summary");
    json_summary(&j, R);
    cs_json_key(&j, "severities");
    json_severities(&j);
    cs_json_end(&j);
    cs_json_newline(&j);
    rej_ctx rc = {&j, true};
    audit_rep_rejected(R, json_rejected, &rc);
    audit_rep_findings(R, CS_FINDING_INCOMPLETE_PAGE, json_rejected, &rc);
    /* findings, most severe first: groups and pairs of each severity */
    for (unsigned sev = 0; sev < CS_SEV_COUNT; sev++) {
        uint64_t ng = 0, np = 0;
        for (size_t i = 0; i < R->n_groups; i++) {
            cs_audit_group g;
            if (cs_audit_get_group(r, i, &g) == 0 && g.severity == sev && ng++ < R->limit) {
                json_group(&j, R, &g, "group");
                cs_json_newline(&j);
            }
        }
        for (size_t i = 0; i < R->n_pairs; i++) {
            pair_ref pr;
            if (audit_rep_pair(R->s, r, -1, i, &pr) && pr.p.severity == sev && np++ < R->limit) {
                json_pair(&j, &pr, "pair");
                cs_json_newline(&j);
            }
        }
    }
    for (size_t d = 0; d < R->n_domains; d++) {
        cs_audit_domain_info dm;
        if (cs_audit_get_domain(r, d, &dm) != 0)
            continue;
        cs_json_begin_object(&j);
        cs_json_kv_string(&j, "type", "domain");
        cs_json_kv_string(&j, "name", dm.name);
        cs_json_kv_u64(&j, "vpcs", dm.vpcs);
        cs_json_kv_u64(&j, "violations", dm.violations);
        cs_json_end(&j);
        cs_json_newline(&j);
        for (uint64_t i = 0; i < audit_rep_cap(R, dm.violations); i++) {
            pair_ref pr;
            if (!audit_rep_pair(R->s, r, (long)d, i, &pr))
                continue;
            cs_json_begin_object(&j);
            cs_json_kv_string(&j, "type", "domain_pair");
            cs_json_kv_string(&j, "domain", dm.name);
            json_pair_body(&j, &pr);
            cs_json_end(&j);
            cs_json_newline(&j);
        }
    }
    for (size_t i = 0; i < audit_rep_cap(R, R->n_clusters); i++) {
        cs_audit_cluster c;
        if (cs_audit_get_cluster(r, i, &c) != 0)
            continue;
        json_cluster(&j, R, &c, "cluster");
        cs_json_newline(&j);
    }
    for (size_t i = 0; i < audit_rep_cap(R, R->n_changes); i++) {
        change_ref cr;
        if (!audit_rep_change(R, i, &cr))
            continue;
        json_change(&j, R, &cr, "change");
        cs_json_newline(&j);
    }
    return 0;
}
