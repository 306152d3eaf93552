/*
 * engine/report/audit_report.c — the audit report in five formats.
 *
 * Does: format a cs_audit_result (and optionally the drift against a
 * baseline) as text for a person (summary first, findings most severe
 * first, 80 columns), one JSON document, NDJSON (one object per line: the
 * summary, then every finding with a "type"), CSV (one row per VPC pair),
 * or one self-contained HTML file. Does not: compute anything the audit did
 * not (it only looks names up in the snapshot), or close the stream.
 *
 * Layout of the JSON document (NDJSON objects carry the same members):
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
 * `limit` caps the clusters, groups and pairs written per section (the
 * summary always counts everything); a capped section says how many were
 * left out ("omitted"). Every string goes through the shared writer
 * (report/writer.h). Tests: tests/cli/test_audit*.sh (golden files, JSON
 * parsed back), tests/test_audit.c (heap and file images give identical
 * bytes).
 */
#include "report/writer.h"

#include "query/audit_internal.h"
#include "core/error_internal.h"

#include <cidrscope/cidrscope.h>
#include <cidrscope/estate.h>
#include <cidrscope/map.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define CIDRSCOPE_REPORT_VERSION CIDRSCOPE_VERSION

typedef struct rep {
    FILE *f;
    const cs_snapshot *s;
    const cs_audit_result *r;
    const cs_audit_report_options *o;
    uint64_t limit;          /* UINT64_MAX = all */
} rep;

/* ---- names --------------------------------------------------------------------- */

typedef struct vfacts {
    const char *id, *name, *account, *region;
    bool is_default, pseudo;
} vfacts;

static vfacts facts(const cs_snapshot *s, uint32_t v)
{
    vfacts f = {"?", "", "", "", false, false};
    cs_vpc vp;
    if (cs_estate_vpc(s, v, &vp) != 0)
        return f;
    f.id = vp.id;
    f.name = vp.name;
    f.is_default = vp.is_default;
    f.pseudo = vp.pseudo;
    cs_account a;
    if (cs_estate_account(s, vp.account_idx, &a) == 0)
        f.account = a.id;
    cs_region rg;
    if (cs_estate_region(s, vp.region_idx, &rg) == 0)
        f.region = rg.name;
    return f;
}

static const char *const why_names[] = {"peered", "hub", "same-account", "same-region",
                                        "default-only", "reused-only", "nested",
                                        "identical"};
#define N_WHY (sizeof why_names / sizeof *why_names)

static const char *pcx_id(const cs_snapshot *s, uint32_t p, const char **status)
{
    cs_peering pr;
    *status = "";
    if (p == CS_IDX_NONE || cs_estate_peering(s, p, &pr) != 0)
        return NULL;
    *status = cs_pcx_status_name(pr.status);
    return pr.id;
}

static bool witness_prefixes(const cs_snapshot *s, const cs_audit_witness *w, cs_prefix *a,
                             cs_prefix *b)
{
    cs_assoc x, y;
    if (cs_estate_assoc(s, w->assoc_a, &x) || cs_estate_assoc(s, w->assoc_b, &y))
        return false;
    *a = x.prefix;
    *b = y.prefix;
    return true;
}

static const char *relation(const cs_prefix *a, const cs_prefix *b)
{
    if (cs_prefix_compare(a, b) == 0)
        return "equal";
    return a->len < b->len ? "covers" : "covered";
}

/* Pair record i of the listed pairs (domain < 0) or of domain d. */
static const audit_pair_rec *pair_rec(const cs_audit_result *r, long domain, size_t i)
{
    if (domain < 0)
        return &r->pairs[i];
    return &r->dpairs[r->domains[domain].pair_begin + i];
}

static const cs_audit_witness *pair_wit(const cs_audit_result *r, long domain,
                                        const audit_pair_rec *p)
{
    return (domain < 0 ? r->wit : r->dwit) + p->wit_begin;
}

static uint64_t cap_of(const rep *R, uint64_t n)
{
    return n < R->limit ? n : R->limit;
}

/* ---- JSON pieces ----------------------------------------------------------------- */

static void json_summary(cs_json *j, const cs_audit_summary *m)
{
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
    cs_json_end(j);
}

static void json_severities(cs_json *j)
{
    cs_json_begin_object(j);
    for (unsigned k = 0; k < CS_SEV_COUNT; k++)
        cs_json_kv_string(j, cs_severity_name(k), cs_severity_explanation(k));
    cs_json_end(j);
}

static void json_vpc(cs_json *j, const cs_snapshot *s, uint32_t v)
{
    vfacts f = facts(s, v);
    cs_json_begin_object(j);
    cs_json_kv_string(j, "vpc", f.id);
    cs_json_kv_string(j, "name", f.name);
    cs_json_kv_string(j, "account", f.account);
    cs_json_kv_string(j, "region", f.region);
    cs_json_kv_bool(j, "default", f.is_default);
    cs_json_end(j);
}

static void json_pair_body(cs_json *j, const cs_snapshot *s, const cs_audit_result *r,
                           long domain, const audit_pair_rec *rec)
{
    const cs_audit_pair *p = &rec->p;
    cs_json_kv_string(j, "severity", cs_severity_name(p->severity));
    cs_json_key(j, "reasons");
    cs_json_begin_array(j);
    for (unsigned k = 0; k < N_WHY; k++)
        if (p->why & (1u << k))
            cs_json_string(j, why_names[k]);
    cs_json_end(j);
    cs_json_key(j, "a");
    json_vpc(j, s, p->vpc_a);
    cs_json_key(j, "b");
    json_vpc(j, s, p->vpc_b);
    const char *st;
    const char *pcx = pcx_id(s, p->peering_idx, &st);
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
        cs_json_string(j, facts(s, p->hub_vpc).id);
    else
        cs_json_null(j);
    cs_json_kv_u64(j, "block_pairs", p->block_pairs);
    cs_json_key(j, "blocks");
    cs_json_begin_array(j);
    const cs_audit_witness *w = pair_wit(r, domain, rec);
    for (uint32_t k = 0; k < p->witness_count; k++) {
        cs_prefix a, b;
        if (!witness_prefixes(s, &w[k], &a, &b))
            continue;
        cs_json_begin_object(j);
        cs_json_kv_prefix(j, "a", &a);
        cs_json_kv_prefix(j, "b", &b);
        cs_json_kv_string(j, "relation", relation(&a, &b));
        cs_json_end(j);
    }
    cs_json_end(j);
}

static void json_pair(cs_json *j, const cs_snapshot *s, const cs_audit_result *r, long domain,
                      const audit_pair_rec *rec, const char *type)
{
    cs_json_begin_object(j);
    if (type)
        cs_json_kv_string(j, "type", type);
    json_pair_body(j, s, r, domain, rec);
    cs_json_end(j);
}

/* Distinct VPC ids of a group's (or member prefix's) entries, ascending. */
static void json_entry_vpcs(cs_json *j, const rep *R, uint8_t family, uint32_t first,
                            uint32_t count, uint64_t max, uint64_t *more)
{
    uint32_t prev = CS_IDX_NONE;
    uint64_t written = 0, skipped = 0;
    for (uint32_t e = first; e < first + count; e++) {
        uint32_t val;
        if (cs_snapshot_entry(R->s, family, e, NULL, &val) != 0)
            break;
        uint32_t v = cs_estate_assoc_vpc(R->s, val);
        if (v == CS_IDX_NONE || v == prev || !audit_in_scope(R->r, v))
            continue;
        prev = v;
        if (written < max) {
            cs_json_string(j, facts(R->s, v).id);
            written++;
        } else {
            skipped++;
        }
    }
    if (more)
        *more = skipped;
}

/* Up to `max` distinct VPCs in scope holding blocks strictly around
 * (CS_Q_COVERING) or strictly inside (CS_Q_COVERED) a prefix, in the
 * order of the walk; the walk stops once they are found. */
typedef struct nest_ctx {
    const rep *R;
    uint32_t ids[8];
    unsigned n, max;
} nest_ctx;

static int nest_cb(const cs_match *m, void *vctx)
{
    nest_ctx *nc = vctx;
    if (m->relation == CS_REL_EQUAL)
        return 0;
    for (uint32_t k = 0; k < m->count; k++) {
        uint32_t v = cs_estate_assoc_vpc(nc->R->s, m->values[k]);
        if (v == CS_IDX_NONE || !audit_in_scope(nc->R->r, v))
            continue;
        bool seen = false;
        for (unsigned i = 0; i < nc->n && !seen; i++)
            seen = nc->ids[i] == v;
        if (!seen)
            nc->ids[nc->n++] = v;
        if (nc->n == nc->max)
            return 1;
    }
    return 0;
}

static unsigned nested_vpcs(const rep *R, const cs_prefix *p, unsigned kind, unsigned max,
                            uint32_t ids[8])
{
    nest_ctx nc;
    nc.R = R;
    nc.n = 0;
    nc.max = max > 8 ? 8 : max;
    if (nc.max)
        cs_query_walk(R->s, p, kind, nest_cb, &nc);
    memcpy(ids, nc.ids, nc.n * sizeof *ids);
    return nc.n;
}

static void json_group(cs_json *j, const rep *R, const cs_audit_group *g, const char *type)
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
        unsigned n = nested_vpcs(R, &g->prefix, k ? CS_Q_COVERED : CS_Q_COVERING,
                                 k ? (g->blocks_inside ? 8 : 0) : (g->blocks_around ? 8 : 0),
                                 ids);
        cs_json_key(j, nest_keys[k]);
        cs_json_begin_array(j);
        for (unsigned i = 0; i < n; i++)
            cs_json_string(j, facts(R->s, ids[i]).id);
        cs_json_end(j);
    }
    if (g->listed) {
        cs_json_key(j, "vpc_ids");
        cs_json_begin_array(j);
        json_entry_vpcs(j, R, g->prefix.family, g->first_entry, g->span, UINT64_MAX, NULL);
        cs_json_end(j);
    }
    cs_json_end(j);
}

/* Members of a cluster: its distinct prefixes in preorder, with nesting
 * depth inside the cluster and up to 8 VPC ids each. */
typedef struct member_ctx {
    cs_json *j;
    const rep *R;
    cs_prefix stack[130];
    unsigned sp;
} member_ctx;

static int json_member(const cs_match *m, void *vctx)
{
    member_ctx *mc = vctx;
    const rep *R = mc->R;
    uint32_t in_scope = 0;
    for (uint32_t k = 0; k < m->count; k++) {
        uint32_t v = cs_estate_present(R->s) ? cs_estate_assoc_vpc(R->s, m->values[k]) : 0;
        in_scope += audit_in_scope(R->r, v);
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
            uint32_t v = cs_estate_assoc_vpc(R->s, m->values[k]);
            if (v != prev && audit_in_scope(R->r, v))
                n++;
            prev = v;
        }
        cs_json_kv_u64(j, "vpcs", n);
        cs_json_key(j, "vpc_ids");
        cs_json_begin_array(j);
        uint64_t more = 0;
        json_entry_vpcs(j, R, m->prefix.family, m->first_entry, m->count, 8, &more);
        cs_json_end(j);
        cs_json_kv_u64(j, "more_vpcs", more);
    }
    cs_json_end(j);
    return 0;
}

static void json_cluster(cs_json *j, const rep *R, const cs_audit_cluster *c, const char *type)
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

static const char *const change_names[3] = {"appeared", "disappeared", "changed"};

static void json_change(cs_json *j, const rep *R, const cs_audit_change *ch, const char *type)
{
    const cs_audit_report_options *o = R->o;
    cs_json_begin_object(j);
    if (type)
        cs_json_kv_string(j, "type", type);
    cs_json_kv_string(j, "change", change_names[ch->kind]);
    bool in_new = ch->new_idx != SIZE_MAX;
    const cs_snapshot *s = in_new ? R->s : o->baseline_snap;
    const cs_audit_result *r = in_new ? R->r : o->baseline;
    size_t idx = in_new ? ch->new_idx : ch->old_idx;
    if (ch->what == CS_CHANGE_PAIR) {
        cs_json_kv_string(j, "finding", "pair");
        if (ch->kind == CS_CHANGE_CHANGED)
            cs_json_kv_string(j, "old_severity",
                              cs_severity_name(o->baseline->pairs[ch->old_idx].p.severity));
        json_pair_body(j, s, r, -1, &r->pairs[idx]);
    } else {
        const cs_audit_group *g = &r->groups[idx];
        cs_json_kv_string(j, "finding", "group");
        cs_json_kv_prefix(j, "prefix", &g->prefix);
        cs_json_kv_string(j, "severity", cs_severity_name(g->severity));
        cs_json_kv_u64(j, "vpcs", g->vpcs);
        if (ch->kind == CS_CHANGE_CHANGED) {
            const cs_audit_group *og = &o->baseline->groups[ch->old_idx];
            cs_json_kv_string(j, "old_severity", cs_severity_name(og->severity));
            cs_json_kv_u64(j, "old_vpcs", og->vpcs);
        }
    }
    cs_json_end(j);
}

static int write_json(const rep *R)
{
    const cs_audit_result *r = R->r;
    cs_json j;
    cs_json_init(&j, R->f, CS_JSON_PRETTY);
    cs_json_begin_object(&j);
    cs_json_kv_string(&j, "cidrscope", CIDRSCOPE_REPORT_VERSION);
    cs_json_kv_string(&j, "title", R->o->title ? R->o->title : "");
    cs_json_key(&j, "summary");
    json_summary(&j, &r->sum);
    cs_json_key(&j, "severities");
    json_severities(&j);
    cs_json_key(&j, "clusters");
    cs_json_begin_array(&j);
    for (size_t i = 0; i < cap_of(R, r->n_clusters); i++)
        json_cluster(&j, R, &r->clusters[i], NULL);
    cs_json_end(&j);
    cs_json_kv_u64(&j, "clusters_omitted", r->n_clusters - cap_of(R, r->n_clusters));
    cs_json_key(&j, "groups");
    cs_json_begin_array(&j);
    for (size_t i = 0; i < cap_of(R, r->n_groups); i++)
        json_group(&j, R, &r->groups[i], NULL);
    cs_json_end(&j);
    cs_json_kv_u64(&j, "groups_omitted", r->n_groups - cap_of(R, r->n_groups));
    cs_json_key(&j, "pairs");
    cs_json_begin_array(&j);
    for (size_t i = 0; i < cap_of(R, r->n_pairs); i++)
        json_pair(&j, R->s, r, -1, &r->pairs[i], NULL);
    cs_json_end(&j);
    cs_json_kv_u64(&j, "pairs_omitted", r->n_pairs - cap_of(R, r->n_pairs));
    cs_json_key(&j, "domains");
    cs_json_begin_array(&j);
    for (size_t d = 0; d < r->n_domains; d++) {
        const audit_domain_rec *dm = &r->domains[d];
        uint64_t n = dm->pair_end - dm->pair_begin;
        cs_json_begin_object(&j);
        cs_json_kv_string(&j, "name", dm->name);
        cs_json_kv_u64(&j, "vpcs", dm->vpcs);
        cs_json_kv_u64(&j, "violations", n);
        cs_json_key(&j, "pairs");
        cs_json_begin_array(&j);
        for (uint64_t i = 0; i < cap_of(R, n); i++)
            json_pair(&j, R->s, r, (long)d, pair_rec(r, (long)d, i), NULL);
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
            cs_json_kv_u64(&j, change_names[k], dr->by_kind[k]);
        cs_json_key(&j, "changes");
        cs_json_begin_array(&j);
        for (size_t i = 0; i < cap_of(R, dr->n); i++)
            json_change(&j, R, &dr->changes[i], NULL);
        cs_json_end(&j);
        cs_json_end(&j);
    }
    cs_json_end(&j);
    cs_json_newline(&j);
    return 0;
}

static int write_ndjson(const rep *R)
{
    const cs_audit_result *r = R->r;
    cs_json j;
    cs_json_init(&j, R->f, 0);
    cs_json_begin_object(&j);
    cs_json_kv_string(&j, "type", "summary");
    cs_json_kv_string(&j, "cidrscope", CIDRSCOPE_REPORT_VERSION);
    cs_json_kv_string(&j, "title", R->o->title ? R->o->title : "");
    cs_json_key(&j, "summary");
    json_summary(&j, &r->sum);
    cs_json_key(&j, "severities");
    json_severities(&j);
    cs_json_end(&j);
    cs_json_newline(&j);
    /* findings, most severe first: groups and pairs of each severity */
    for (unsigned sev = 0; sev < CS_SEV_COUNT; sev++) {
        uint64_t ng = 0, np = 0;
        for (size_t i = 0; i < r->n_groups; i++)
            if (r->groups[i].severity == sev && ng++ < R->limit) {
                json_group(&j, R, &r->groups[i], "group");
                cs_json_newline(&j);
            }
        for (size_t i = 0; i < r->n_pairs; i++)
            if (r->pairs[i].p.severity == sev && np++ < R->limit) {
                json_pair(&j, R->s, r, -1, &r->pairs[i], "pair");
                cs_json_newline(&j);
            }
    }
    for (size_t d = 0; d < r->n_domains; d++) {
        const audit_domain_rec *dm = &r->domains[d];
        uint64_t n = dm->pair_end - dm->pair_begin;
        cs_json_begin_object(&j);
        cs_json_kv_string(&j, "type", "domain");
        cs_json_kv_string(&j, "name", dm->name);
        cs_json_kv_u64(&j, "vpcs", dm->vpcs);
        cs_json_kv_u64(&j, "violations", n);
        cs_json_end(&j);
        cs_json_newline(&j);
        for (uint64_t i = 0; i < cap_of(R, n); i++) {
            const audit_pair_rec *p = pair_rec(r, (long)d, i);
            cs_json_begin_object(&j);
            cs_json_kv_string(&j, "type", "domain_pair");
            cs_json_kv_string(&j, "domain", dm->name);
            json_pair_body(&j, R->s, r, (long)d, p);
            cs_json_end(&j);
            cs_json_newline(&j);
        }
    }
    for (size_t i = 0; i < cap_of(R, r->n_clusters); i++) {
        json_cluster(&j, R, &r->clusters[i], "cluster");
        cs_json_newline(&j);
    }
    if (R->o->drift)
        for (size_t i = 0; i < cap_of(R, R->o->drift->n); i++) {
            json_change(&j, R, &R->o->drift->changes[i], "change");
            cs_json_newline(&j);
        }
    return 0;
}

/* ---- CSV ------------------------------------------------------------------------------ */

static const char *const csv_cols[] = {
    "finding", "severity", "vpc_a", "account_a", "region_a", "name_a", "default_a",
    "vpc_b", "account_b", "region_b", "name_b", "default_b", "reasons", "peering",
    "hub", "block_pairs", "blocks", "domain", NULL};

static void csv_pair(cs_csv *c, const cs_snapshot *s, const cs_audit_result *r, long domain,
                     const audit_pair_rec *rec, const char *finding, const char *dom)
{
    const cs_audit_pair *p = &rec->p;
    cs_csv_field(c, finding);
    cs_csv_field(c, cs_severity_name(p->severity));
    for (int side = 0; side < 2; side++) {
        vfacts f = facts(s, side ? p->vpc_b : p->vpc_a);
        cs_csv_field(c, f.id);
        cs_csv_field(c, f.account);
        cs_csv_field(c, f.region);
        cs_csv_field(c, f.name);
        cs_csv_field(c, f.is_default ? "true" : "false");
    }
    char buf[256];
    size_t o = 0;
    buf[0] = '\0';
    for (unsigned k = 0; k < N_WHY; k++)
        if (p->why & (1u << k))
            o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", o ? " " : "", why_names[k]);
    cs_csv_field(c, buf);
    const char *st;
    const char *pcx = pcx_id(s, p->peering_idx, &st);
    cs_csv_field(c, pcx);
    cs_csv_field(c, p->hub_vpc != CS_IDX_NONE ? facts(s, p->hub_vpc).id : NULL);
    cs_csv_u64(c, p->block_pairs);
    /* blocks: "A=B" / "A>B" (A contains B) / "A<B", separated by spaces */
    char blocks[CS_AUDIT_MAX_WITNESSES * 2 * CS_PREFIX_STRCAP];
    o = 0;
    blocks[0] = '\0';
    const cs_audit_witness *w = pair_wit(r, domain, rec);
    for (uint32_t k = 0; k < p->witness_count; k++) {
        cs_prefix a, b;
        if (!witness_prefixes(s, &w[k], &a, &b))
            continue;
        char ta[CS_PREFIX_STRCAP], tb[CS_PREFIX_STRCAP];
        cs_prefix_format(&a, ta, sizeof ta);
        cs_prefix_format(&b, tb, sizeof tb);
        const char *rel = relation(&a, &b);
        o += (size_t)snprintf(blocks + o, sizeof blocks - o, "%s%s%s%s", o ? " " : "", ta,
                              rel[0] == 'e' ? "=" : rel[5] == 's' ? ">" : "<",
                              tb);
        if (o >= sizeof blocks)
            break;
    }
    cs_csv_field(c, blocks);
    cs_csv_field(c, dom);
    cs_csv_end_row(c);
}

static int write_csv(const rep *R)
{
    const cs_audit_result *r = R->r;
    cs_csv c;
    cs_csv_init(&c, R->f);
    cs_csv_header(&c, csv_cols);
    for (size_t i = 0; i < cap_of(R, r->n_pairs); i++)
        csv_pair(&c, R->s, r, -1, &r->pairs[i], "pair", NULL);
    for (size_t d = 0; d < r->n_domains; d++) {
        const audit_domain_rec *dm = &r->domains[d];
        for (uint64_t i = 0; i < cap_of(R, dm->pair_end - dm->pair_begin); i++)
            csv_pair(&c, R->s, r, (long)d, pair_rec(r, (long)d, i), "domain", dm->name);
    }
    if (R->o->drift) {
        const cs_audit_drift *dr = R->o->drift;
        for (size_t i = 0; i < cap_of(R, dr->n); i++) {
            const cs_audit_change *ch = &dr->changes[i];
            if (ch->what != CS_CHANGE_PAIR)
                continue;
            bool in_new = ch->new_idx != SIZE_MAX;
            const cs_audit_result *rr = in_new ? r : R->o->baseline;
            csv_pair(&c, in_new ? R->s : R->o->baseline_snap, rr, -1,
                     &rr->pairs[in_new ? ch->new_idx : ch->old_idx], change_names[ch->kind],
                     NULL);
        }
    }
    return 0;
}

/* ---- text ---------------------------------------------------------------------------- */

static void t_line(FILE *f, const char *label, uint64_t v, const char *note)
{
    char n[CS_TEXT_COUNT_CAP];
    fputs("  ", f);
    cs_text_col(f, label, 28);
    cs_text_rcol(f, cs_text_count(v, n), 15);
    if (note && note[0])
        fprintf(f, "   %s", note);
    fputc('\n', f);
}

static void t_heading(FILE *f, const char *h)
{
    fprintf(f, "\n%s\n", h);
    cs_text_repeat(f, '-', (unsigned)strlen(h));
    fputc('\n', f);
}

static const char *upper_sev(unsigned sev)
{
    static const char *const u[] = {"CRITICAL", "HIGH", "MEDIUM", "INFO"};
    return sev < CS_SEV_COUNT ? u[sev] : "?";
}

/* "vpc-0a1b (123456789012, us-east-1, name)" cut to `width` columns. */
static void t_vpc(FILE *f, const cs_snapshot *s, uint32_t v, unsigned width)
{
    vfacts x = facts(s, v);
    char buf[512];
    if (x.pseudo) /* a prefix-list owner: id, owner and name are one */
        snprintf(buf, sizeof buf, "%s (prefix list)", x.id);
    else
        snprintf(buf, sizeof buf, "%s (%s%s%s%s%s%s)", x.id, x.account,
                 x.region[0] ? ", " : "", x.region, x.name[0] ? ", " : "", x.name,
                 x.is_default ? ", default" : "");
    if (strlen(buf) > width)
        cs_text_col(f, buf, width);
    else
        fputs(buf, f);
    fputc('\n', f);
}

static void t_pair(FILE *f, const cs_snapshot *s, const cs_audit_result *r, long domain,
                   const audit_pair_rec *rec, const char *mark)
{
    const cs_audit_pair *p = &rec->p;
    fprintf(f, "  %s%-8s  ", mark ? mark : "", upper_sev(p->severity));
    unsigned used = 2 + (mark ? (unsigned)strlen(mark) : 0) + 10;
    t_vpc(f, s, p->vpc_a, CS_TEXT_WIDTH - used);
    cs_text_repeat(f, ' ', used - 5);
    fputs("and  ", f);
    t_vpc(f, s, p->vpc_b, CS_TEXT_WIDTH - used);
    /* reasons */
    char why[600];
    size_t o = 0;
    why[0] = '\0';
    const char *st;
    const char *pcx = pcx_id(s, p->peering_idx, &st);
    if (pcx)
        o += (size_t)snprintf(why + o, sizeof why - o, "peered via %s (%s);", pcx, st);
    if (p->hub_vpc != CS_IDX_NONE)
        o += (size_t)snprintf(why + o, sizeof why - o, "both peered to %s;",
                              facts(s, p->hub_vpc).id);
    for (unsigned k = 2; k < N_WHY && o < sizeof why; k++)
        if (p->why & (1u << k))
            o += (size_t)snprintf(why + o, sizeof why - o, "%s%s", o ? " " : "", why_names[k]);
    cs_text_wrap(f, why, used, CS_TEXT_WIDTH);
    /* blocks */
    char blocks[CS_AUDIT_MAX_WITNESSES * (2 * CS_PREFIX_STRCAP + 16) + 64];
    o = 0;
    blocks[0] = '\0';
    const cs_audit_witness *w = pair_wit(r, domain, rec);
    for (uint32_t k = 0; k < p->witness_count && o < sizeof blocks; k++) {
        cs_prefix a, b;
        if (!witness_prefixes(s, &w[k], &a, &b))
            continue;
        char ta[CS_PREFIX_STRCAP], tb[CS_PREFIX_STRCAP];
        cs_prefix_format(&a, ta, sizeof ta);
        cs_prefix_format(&b, tb, sizeof tb);
        const char *rel = relation(&a, &b);
        o += (size_t)snprintf(blocks + o, sizeof blocks - o, "%s%s %s %s", o ? "; " : "", ta,
                              rel[0] == 'e' ? "=" : rel[5] == 's' ? "contains" : "inside", tb);
    }
    if (p->block_pairs > p->witness_count && o < sizeof blocks)
        snprintf(blocks + o, sizeof blocks - o, "; +%u more block pairs",
                 p->block_pairs - p->witness_count);
    cs_text_wrap(f, blocks, used, CS_TEXT_WIDTH);
}

static void t_group(FILE *f, const rep *R, const cs_audit_group *g, const char *mark)
{
    char pfx[CS_PREFIX_STRCAP], n1[CS_TEXT_COUNT_CAP], n2[CS_TEXT_COUNT_CAP];
    cs_prefix_format(&g->prefix, pfx, sizeof pfx);
    fprintf(f, "  %s%-8s  %s held by %s VPCs", mark ? mark : "", upper_sev(g->severity), pfx,
            cs_text_count(g->vpcs, n1));
    if (g->default_vpcs)
        fprintf(f, " (%s default)", cs_text_count(g->default_vpcs, n2));
    fputc('\n', f);
    unsigned used = 2 + (mark ? (unsigned)strlen(mark) : 0) + 10;
    char line[400], a[CS_TEXT_COUNT_CAP], b[CS_TEXT_COUNT_CAP], c[CS_TEXT_COUNT_CAP],
        d[CS_TEXT_COUNT_CAP];
    snprintf(line, sizeof line, "%s pair%s: %s in one account, %s in one region%s",
             cs_text_count(g->vpc_pairs, a), g->vpc_pairs == 1 ? "" : "s",
             cs_text_count(g->same_account_pairs, b),
             cs_text_count(g->same_region_pairs, c), g->reused ? "; a reused range" : "");
    cs_text_wrap(f, line, used, CS_TEXT_WIDTH);
    if (g->peered_pairs || g->blocks_inside || g->blocks_around) {
        char e[CS_TEXT_COUNT_CAP];
        snprintf(line, sizeof line, "%s blocks inside it, %s around it; %s critical pair%s",
                 cs_text_count(g->blocks_inside, a), cs_text_count(g->blocks_around, b),
                 cs_text_count(g->peered_pairs, e), g->peered_pairs == 1 ? "" : "s");
        cs_text_wrap(f, line, used, CS_TEXT_WIDTH);
    }
    (void)d;
    if (!g->listed)
        return;
    /* the first VPC ids */
    char ids[CS_TEXT_WIDTH * 3];
    size_t o = 0;
    uint32_t shown = 0, prev = CS_IDX_NONE;
    ids[0] = '\0';
    for (uint32_t e = g->first_entry; e < g->first_entry + g->span; e++) {
        uint32_t val;
        if (cs_snapshot_entry(R->s, g->prefix.family, e, NULL, &val) != 0)
            break;
        uint32_t v = cs_estate_assoc_vpc(R->s, val);
        if (v == prev || v == CS_IDX_NONE || !audit_in_scope(R->r, v))
            continue;
        prev = v;
        const char *id = facts(R->s, v).id;
        if (shown >= 6 || o + strlen(id) + 2 >= sizeof ids)
            break;
        o += (size_t)snprintf(ids + o, sizeof ids - o, "%s%s", o ? " " : "", id);
        shown++;
    }
    if (g->vpcs > shown)
        snprintf(ids + o, sizeof ids - o, " and %u more", g->vpcs - shown);
    cs_text_wrap(f, ids, used, CS_TEXT_WIDTH);
    /* who is nested with it */
    for (int k = 0; k < 2; k++) {
        uint32_t nb = k ? g->blocks_inside : g->blocks_around;
        if (!nb)
            continue;
        uint32_t vid[8];
        unsigned n = nested_vpcs(R, &g->prefix, k ? CS_Q_COVERED : CS_Q_COVERING, 3, vid);
        o = (size_t)snprintf(ids, sizeof ids, "%s:", k ? "inside" : "around");
        for (unsigned i = 0; i < n; i++)
            o += (size_t)snprintf(ids + o, sizeof ids - o, " %s", facts(R->s, vid[i]).id);
        if (n == 3)
            snprintf(ids + o, sizeof ids - o, " ...");
        cs_text_wrap(f, ids, used, CS_TEXT_WIDTH);
    }
}

static int cmp_cluster_size(const void *x, const void *y)
{
    const cs_audit_cluster *a = *(const cs_audit_cluster *const *)x;
    const cs_audit_cluster *b = *(const cs_audit_cluster *const *)y;
    if (a->entries != b->entries)
        return a->entries > b->entries ? -1 : 1;
    return cs_prefix_compare(&a->top, &b->top);
}

static void t_change(FILE *f, const rep *R, const cs_audit_change *ch)
{
    static const char *const mark[3] = {"+ ", "- ", "~ "};
    const cs_audit_report_options *o = R->o;
    bool in_new = ch->new_idx != SIZE_MAX;
    const cs_snapshot *s = in_new ? R->s : o->baseline_snap;
    const cs_audit_result *r = in_new ? R->r : o->baseline;
    size_t idx = in_new ? ch->new_idx : ch->old_idx;
    if (ch->what == CS_CHANGE_PAIR) {
        t_pair(f, s, r, -1, &r->pairs[idx], mark[ch->kind]);
        if (ch->kind == CS_CHANGE_CHANGED)
            fprintf(f, "              (was %s)\n",
                    cs_severity_name(o->baseline->pairs[ch->old_idx].p.severity));
    } else {
        rep R2 = *R;
        R2.s = s;
        R2.r = r;
        t_group(f, &R2, &r->groups[idx], mark[ch->kind]);
        if (ch->kind == CS_CHANGE_CHANGED) {
            const cs_audit_group *og = &o->baseline->groups[ch->old_idx];
            fprintf(f, "              (was %s, %u VPCs)\n", cs_severity_name(og->severity),
                    og->vpcs);
        }
    }
}

static int write_text(const rep *R)
{
    FILE *f = R->f;
    const cs_audit_result *r = R->r;
    const cs_audit_summary *m = &r->sum;
    char note[160], a[CS_TEXT_COUNT_CAP], b[CS_TEXT_COUNT_CAP];
    fputs("cidrscope audit\n===============\n", f);
    if (R->o->title && R->o->title[0]) {
        size_t tl = strlen(R->o->title) + 8;
        char *t = malloc(tl);
        if (!t)
            return CS_ENOMEM;
        snprintf(t, tl, "of: %s", R->o->title);
        cs_text_wrap(f, t, 0, CS_TEXT_WIDTH);
        free(t);
    }

    t_heading(f, "Summary");
    t_line(f, "VPCs", m->vpcs, NULL);
    t_line(f, "  default VPCs", m->default_vpcs, NULL);
    if (m->vpc_level) {
        t_line(f, "accounts", m->accounts, NULL);
        t_line(f, "regions", m->regions, NULL);
    }
    snprintf(note, sizeof note, "(%s IPv4, %s IPv6)",
             cs_text_count(m->entries_by_family[0], a),
             cs_text_count(m->entries_by_family[1], b));
    t_line(f, "live CIDR blocks", m->entries, note);
    t_line(f, "distinct prefixes", m->prefixes, NULL);
    t_line(f, "overlapping block pairs", m->overlapping_entry_pairs, NULL);
    t_line(f, "overlap clusters", m->clusters, NULL);
    t_line(f, "  blocks in clusters", m->entries_in_clusters, NULL);
    t_line(f, "  deepest nesting", m->max_nesting, NULL);
    if (m->vpc_level) {
        t_line(f, "overlapping VPC pairs", m->overlapping_vpc_pairs, NULL);
        t_line(f, "  excluding default VPCs", m->overlapping_vpc_pairs_excluding_default, NULL);
        for (unsigned k = 0; k < CS_SEV_COUNT; k++) {
            char lab[40];
            snprintf(lab, sizeof lab, "  %s", cs_severity_name(k));
            t_line(f, lab, m->vpc_pairs_by_severity[k], NULL);
        }
        t_line(f, "identical-prefix groups", m->groups, "prefixes held by 2+ VPCs");
        t_line(f, "pairs listed below", m->listed_pairs, NULL);
        if (r->n_domains)
            t_line(f, "domain violations", m->domain_violations, NULL);
    }

    if (m->vpc_level) {
        t_heading(f, "Severities");
        for (unsigned k = 0; k < CS_SEV_COUNT; k++)
            cs_text_wrap(f, cs_severity_explanation(k), 2, CS_TEXT_WIDTH);
        cs_text_wrap(f,
                     "A prefix held by several VPCs is a group: it stands for every pair "
                     "overlapping through it, sharing it or nested with it. Pairs "
                     "overlapping through prefixes each held by one VPC, and every "
                     "critical pair, are listed one by one.",
                     2, CS_TEXT_WIDTH);
    }

    /* largest clusters */
    if (r->n_clusters) {
        t_heading(f, "Largest overlap clusters");
        size_t n = r->n_clusters;
        const cs_audit_cluster **order = malloc(n * sizeof *order);
        if (!order)
            return CS_ENOMEM;
        for (size_t i = 0; i < n; i++)
            order[i] = &r->clusters[i];
        qsort(order, n, sizeof *order, cmp_cluster_size);
        size_t show = n < 10 ? n : 10;
        if (show > R->limit)
            show = (size_t)R->limit;
        fprintf(f, "  %-30s %10s %10s %7s%s\n", "top prefix", "blocks", "prefixes", "depth",
                m->vpc_level ? "       VPCs" : "");
        for (size_t i = 0; i < show; i++) {
            const cs_audit_cluster *c = order[i];
            char pfx[CS_PREFIX_STRCAP];
            cs_prefix_format(&c->top, pfx, sizeof pfx);
            fputs("  ", f);
            cs_text_col(f, pfx, 30);
            fprintf(f, " %10s %10u %7u", cs_text_count(c->entries, a), c->prefixes, c->depth);
            if (m->vpc_level)
                fprintf(f, " %10s", cs_text_count(c->vpcs, b));
            fputc('\n', f);
        }
        if (n > show)
            fprintf(f, "  ... and %s more clusters\n", cs_text_count(n - show, a));
        free(order);
    }

    if (m->vpc_level) {
        t_heading(f, "Findings, most severe first");
        uint64_t shown = 0, total = 0;
        for (unsigned sev = 0; sev < CS_SEV_COUNT; sev++) {
            for (size_t i = 0; i < r->n_groups; i++) {
                const cs_audit_group *g = &r->groups[i];
                if (g->severity != sev)
                    continue;
                total++;
                if (shown < R->limit) {
                    t_group(f, R, g, NULL);
                    shown++;
                }
            }
            for (size_t i = 0; i < r->n_pairs; i++) {
                if (r->pairs[i].p.severity != sev)
                    continue;
                total++;
                if (shown < R->limit) {
                    t_pair(f, R->s, r, -1, &r->pairs[i], NULL);
                    shown++;
                }
            }
        }
        if (total == 0)
            fputs("  none: no two VPCs overlap\n", f);
        if (total > shown)
            fprintf(f, "  ... and %s more (--limit 0 lists all)\n",
                    cs_text_count(total - shown, a));
    }

    if (r->n_domains) {
        t_heading(f, "Domains (VPC sets that must be mutually disjoint)");
        for (size_t d = 0; d < r->n_domains; d++) {
            const audit_domain_rec *dm = &r->domains[d];
            uint64_t n = dm->pair_end - dm->pair_begin;
            fprintf(f, "  %s: %u VPC%s, %s overlapping pair%s\n", dm->name, dm->vpcs,
                    dm->vpcs == 1 ? "" : "s", cs_text_count(n, a), n == 1 ? "" : "s");
            for (uint64_t i = 0; i < cap_of(R, n); i++)
                t_pair(f, R->s, r, (long)d, pair_rec(r, (long)d, i), NULL);
            if (n > cap_of(R, n))
                fprintf(f, "  ... and %s more\n", cs_text_count(n - cap_of(R, n), a));
        }
    }

    if (R->o->drift) {
        const cs_audit_drift *dr = R->o->drift;
        char h[CS_TEXT_WIDTH * 2];
        snprintf(h, sizeof h, R->o->what_if ? "What-if: changes the planned blocks make"
                                            : "Drift since the baseline");
        t_heading(f, h);
        if (R->o->baseline_title && !R->o->what_if)
            fprintf(f, "  baseline: %s\n", R->o->baseline_title);
        fprintf(f, "  %s appeared, %s changed, %s disappeared\n",
                cs_text_count(dr->by_kind[CS_CHANGE_APPEARED], a),
                cs_text_count(dr->by_kind[CS_CHANGE_CHANGED], b),
                cs_text_count(dr->by_kind[CS_CHANGE_DISAPPEARED],
                              (char[CS_TEXT_COUNT_CAP]){0}));
        for (size_t i = 0; i < cap_of(R, dr->n); i++)
            t_change(f, R, &dr->changes[i]);
        if (dr->n > cap_of(R, dr->n))
            fprintf(f, "  ... and %s more\n", cs_text_count(dr->n - cap_of(R, dr->n), a));
    }
    return 0;
}

/* ---- HTML ------------------------------------------------------------------------------- */

static void h_pair_row(FILE *f, const cs_snapshot *s, const cs_audit_result *r, long domain,
                       const audit_pair_rec *rec, const char *extra)
{
    const cs_audit_pair *p = &rec->p;
    fprintf(f, "<tr class=\"%s\"><td>%s", cs_severity_name(p->severity),
            cs_severity_name(p->severity));
    if (extra) {
        fputs(" (", f);
        cs_html_escape(f, extra);
        fputc(')', f);
    }
    fputs("</td>", f);
    for (int side = 0; side < 2; side++) {
        vfacts x = facts(s, side ? p->vpc_b : p->vpc_a);
        fputs("<td><code>", f);
        cs_html_escape(f, x.id);
        fputs("</code><br>", f);
        cs_html_escape(f, x.account);
        fputc(' ', f);
        cs_html_escape(f, x.region);
        if (x.name[0]) {
            fputs("<br>", f);
            cs_html_escape(f, x.name);
        }
        if (x.is_default)
            fputs(" <em>default</em>", f);
        fputs("</td>", f);
    }
    fputs("<td>", f);
    const char *st;
    const char *pcx = pcx_id(s, p->peering_idx, &st);
    if (pcx) {
        fputs("peered via <code>", f);
        cs_html_escape(f, pcx);
        fprintf(f, "</code> (%s) ", st);
    }
    if (p->hub_vpc != CS_IDX_NONE) {
        fputs("both peered to <code>", f);
        cs_html_escape(f, facts(s, p->hub_vpc).id);
        fputs("</code> ", f);
    }
    for (unsigned k = 2; k < N_WHY; k++)
        if (p->why & (1u << k))
            fprintf(f, "%s ", why_names[k]);
    fputs("</td><td>", f);
    const cs_audit_witness *w = pair_wit(r, domain, rec);
    for (uint32_t k = 0; k < p->witness_count; k++) {
        cs_prefix a, b;
        if (!witness_prefixes(s, &w[k], &a, &b))
            continue;
        char ta[CS_PREFIX_STRCAP], tb[CS_PREFIX_STRCAP];
        cs_prefix_format(&a, ta, sizeof ta);
        cs_prefix_format(&b, tb, sizeof tb);
        const char *rel = relation(&a, &b);
        fprintf(f, "%s<code>%s</code> %s <code>%s</code>", k ? "<br>" : "", ta,
                rel[0] == 'e' ? "=" : rel[5] == 's' ? "&sup;" : "&sub;", tb);
    }
    if (p->block_pairs > p->witness_count)
        fprintf(f, "<br>+%u more", p->block_pairs - p->witness_count);
    fputs("</td></tr>\n", f);
}

static int write_html(const rep *R)
{
    FILE *f = R->f;
    const cs_audit_result *r = R->r;
    const cs_audit_summary *m = &r->sum;
    char a[CS_TEXT_COUNT_CAP];
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>cidrscope "
          "audit",
          f);
    if (R->o->title) {
        fputs(": ", f);
        cs_html_escape(f, R->o->title);
    }
    fputs("</title>\n<style>\n"
          "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}\n"
          "table{border-collapse:collapse;margin:.5em 0 1.5em}\n"
          "td,th{border:1px solid #ccc;padding:.25em .6em;vertical-align:top;text-align:left}\n"
          "td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
          "tr.critical td:first-child{background:#f8d0d0;font-weight:bold}\n"
          "tr.high td:first-child{background:#fbe3c4}\n"
          "tr.medium td:first-child{background:#fdf6c4}\n"
          "tr.informational td:first-child{background:#e4eef8}\n"
          "code{font-size:13px}\n"
          "</style></head><body>\n<h1>cidrscope audit",
          f);
    if (R->o->title) {
        fputs(": ", f);
        cs_html_escape(f, R->o->title);
    }
    fputs("</h1>\n<h2>Summary</h2>\n<table>\n", f);
#define HROW(label, v) fprintf(f, "<tr><th>%s</th><td class=\"n\">%s</td></tr>\n", label, \
                               cs_text_count(v, a))
    HROW("VPCs", m->vpcs);
    HROW("default VPCs", m->default_vpcs);
    HROW("live CIDR blocks", m->entries);
    HROW("distinct prefixes", m->prefixes);
    HROW("overlapping block pairs", m->overlapping_entry_pairs);
    HROW("overlap clusters", m->clusters);
    HROW("deepest nesting", m->max_nesting);
    if (m->vpc_level) {
        HROW("overlapping VPC pairs", m->overlapping_vpc_pairs);
        HROW("&nbsp;&nbsp;excluding default VPCs", m->overlapping_vpc_pairs_excluding_default);
        for (unsigned k = 0; k < CS_SEV_COUNT; k++) {
            char lab[64];
            snprintf(lab, sizeof lab, "&nbsp;&nbsp;%s", cs_severity_name(k));
            HROW(lab, m->vpc_pairs_by_severity[k]);
        }
        HROW("identical-prefix groups", m->groups);
        HROW("pairs listed", m->listed_pairs);
        if (r->n_domains)
            HROW("domain violations", m->domain_violations);
    }
#undef HROW
    fputs("</table>\n", f);
    int mrc = cs_estate_present(R->s) ? cs_map_write_section(f, R->s, r, NULL, NULL) : 0;
    if (mrc < 0) /* the maps, the peering graph, filters and sorting (report/map.c) */
        return mrc;
    if (m->vpc_level) {
        fputs("<h2>Severities</h2>\n<ul>\n", f);
        for (unsigned k = 0; k < CS_SEV_COUNT; k++) {
            fputs("<li>", f);
            cs_html_escape(f, cs_severity_explanation(k));
            fputs("</li>\n", f);
        }
        fputs("</ul>\n<h2>Groups: prefixes held by several VPCs</h2>\n<table>\n"
              "<tr><th>severity</th><th>prefix</th><th>VPCs</th><th>default</th>"
              "<th>pairs</th><th>same account</th><th>same region</th><th>critical</th>"
              "<th>blocks inside</th><th>blocks around</th></tr>\n",
              f);
        for (size_t i = 0; i < cap_of(R, r->n_groups); i++) {
            const cs_audit_group *g = &r->groups[i];
            char pfx[CS_PREFIX_STRCAP], n1[CS_TEXT_COUNT_CAP], n2[CS_TEXT_COUNT_CAP],
                n3[CS_TEXT_COUNT_CAP], n4[CS_TEXT_COUNT_CAP], n5[CS_TEXT_COUNT_CAP];
            cs_prefix_format(&g->prefix, pfx, sizeof pfx);
            fprintf(f,
                    "<tr class=\"%s\"><td>%s</td><td><code>%s</code>%s</td><td class=\"n\">%s"
                    "</td><td class=\"n\">%u</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                    "<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%u</td>"
                    "<td class=\"n\">%u</td></tr>\n",
                    cs_severity_name(g->severity), cs_severity_name(g->severity), pfx,
                    g->reused ? " (reused range)" : "", cs_text_count(g->vpcs, n1),
                    g->default_vpcs, cs_text_count(g->vpc_pairs, n2),
                    cs_text_count(g->same_account_pairs, n3),
                    cs_text_count(g->same_region_pairs, n4), cs_text_count(g->peered_pairs, n5),
                    g->blocks_inside, g->blocks_around);
        }
        fputs("</table>\n<h2>Pairs, most severe first</h2>\n<table>\n<tr><th>severity</th>"
              "<th>VPC a</th><th>VPC b</th><th>why</th><th>overlapping blocks</th></tr>\n",
              f);
        for (size_t i = 0; i < cap_of(R, r->n_pairs); i++)
            h_pair_row(f, R->s, r, -1, &r->pairs[i], NULL);
        fputs("</table>\n", f);
        if (r->n_pairs > cap_of(R, r->n_pairs))
            fprintf(f, "<p>%s more pairs not shown.</p>\n",
                    cs_text_count(r->n_pairs - cap_of(R, r->n_pairs), a));
    }
    for (size_t d = 0; d < r->n_domains; d++) {
        const audit_domain_rec *dm = &r->domains[d];
        uint64_t n = dm->pair_end - dm->pair_begin;
        fputs("<h2>Domain ", f);
        cs_html_escape(f, dm->name);
        fprintf(f, "</h2>\n<p>%u VPCs, %s overlapping pairs.</p>\n<table>\n", dm->vpcs,
                cs_text_count(n, a));
        for (uint64_t i = 0; i < cap_of(R, n); i++)
            h_pair_row(f, R->s, r, (long)d, pair_rec(r, (long)d, i), NULL);
        fputs("</table>\n", f);
    }
    if (R->o->drift) {
        const cs_audit_drift *dr = R->o->drift;
        fprintf(f, "<h2>%s</h2>\n<p>%" PRIu64 " appeared, %" PRIu64 " changed, %" PRIu64
                   " disappeared.</p>\n<table>\n",
                R->o->what_if ? "What-if" : "Drift", dr->by_kind[CS_CHANGE_APPEARED],
                dr->by_kind[CS_CHANGE_CHANGED], dr->by_kind[CS_CHANGE_DISAPPEARED]);
        for (size_t i = 0; i < cap_of(R, dr->n); i++) {
            const cs_audit_change *ch = &dr->changes[i];
            bool in_new = ch->new_idx != SIZE_MAX;
            const cs_audit_result *rr = in_new ? r : R->o->baseline;
            const cs_snapshot *ss = in_new ? R->s : R->o->baseline_snap;
            size_t idx = in_new ? ch->new_idx : ch->old_idx;
            if (ch->what == CS_CHANGE_PAIR) {
                h_pair_row(f, ss, rr, -1, &rr->pairs[idx], change_names[ch->kind]);
            } else {
                const cs_audit_group *g = &rr->groups[idx];
                char pfx[CS_PREFIX_STRCAP];
                cs_prefix_format(&g->prefix, pfx, sizeof pfx);
                fprintf(f,
                        "<tr class=\"%s\"><td>%s (%s)</td><td colspan=\"4\">group <code>%s"
                        "</code>: %u VPCs</td></tr>\n",
                        cs_severity_name(g->severity), cs_severity_name(g->severity),
                        change_names[ch->kind], pfx, g->vpcs);
            }
        }
        fputs("</table>\n", f);
    }
    if (r->n_clusters) {
        fputs("<h2>Overlap clusters</h2>\n<table>\n<tr><th>top prefix</th><th>blocks</th>"
              "<th>prefixes</th><th>depth</th><th>VPCs</th><th>block pairs</th></tr>\n",
              f);
        for (size_t i = 0; i < cap_of(R, r->n_clusters); i++) {
            const cs_audit_cluster *c = &r->clusters[i];
            char pfx[CS_PREFIX_STRCAP], n1[CS_TEXT_COUNT_CAP];
            cs_prefix_format(&c->top, pfx, sizeof pfx);
            fprintf(f,
                    "<tr><td><code>%s</code></td><td class=\"n\">%u</td><td class=\"n\">%u</td>"
                    "<td class=\"n\">%u</td><td class=\"n\">%u</td><td class=\"n\">%s</td>"
                    "</tr>\n",
                    pfx, c->entries, c->prefixes, c->depth, c->vpcs,
                    cs_text_count(c->entry_pairs, n1));
        }
        fputs("</table>\n", f);
    }
    fputs("</body></html>\n", f);
    return 0;
}

int cs_audit_report_write(FILE *f, const cs_snapshot *s, const cs_audit_result *r,
                          const cs_audit_report_options *o, cs_error *err)
{
    if (!f || !s || !r || !o)
        return cs_fail(err, CS_EINVAL, "cs_audit_report_write: NULL argument");
    if (o->drift && (!o->baseline || !o->baseline_snap))
        return cs_fail(err, CS_EINVAL, "cs_audit_report_write: a drift needs its baseline");
    rep R = {f, s, r, o, o->limit ? o->limit : UINT64_MAX};
    int rc;
    switch (o->format) {
    case CS_REPORT_TEXT: rc = write_text(&R); break;
    case CS_REPORT_JSON: rc = write_json(&R); break;
    case CS_REPORT_NDJSON: rc = write_ndjson(&R); break;
    case CS_REPORT_CSV: rc = write_csv(&R); break;
    case CS_REPORT_HTML: rc = write_html(&R); break;
    default:
        return cs_fail(err, CS_EINVAL, "cs_audit_report_write: unknown format %d", o->format);
    }
    if (rc)
        return cs_fail(err, rc, "audit report: %s", cs_strerror(rc));
    return cs_out_finish(f, "audit report", err);
}
