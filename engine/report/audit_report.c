/*
 * engine/report/audit_report.c — the audit report: entry point, the helpers
 * its format writers share, and the CSV writer.
 *
 * Does: format a cs_audit_result (and optionally the drift against a
 * baseline) as text for a person (audit_report_text.c: summary first,
 * findings most severe first, 80 columns), one JSON document or NDJSON
 * (audit_report_json.c: one object per line, each with a "type"), CSV
 * (here), or one self-contained HTML file (audit_report_html.c). Does not:
 * compute anything the audit did not (it only looks names up in the
 * snapshot and reads the audit through <cidrscope/audit.h>'s accessors), or
 * close the stream.
 *
 * CSV: one row per finding, most severe first, then domain violations,
 * then drift changes; lists inside a field are joined by ';':
 *
 *   column      pair row                      group row
 *   finding     "pair" / "domain" / change    "group" / change
 *   kind        "pair"                        "group"
 *   severity    the pair's                    the group's
 *   prefix      (empty)                       the shared prefix
 *   vpcs        2                             VPCs holding it
 *   vpc_pairs   1                             pairs it stands for
 *   vpc_a..default_b  both VPCs               (empty)
 *   reasons     CS_WHY_* names                (empty)
 *   peering, hub, block_pairs, blocks ("A=B", "A>B" A contains B, "A<B")
 *   domain      the domain of a violation
 *   message     (rejected rows) "SOURCE:LINE:COL: why", kind "rejected",
 *               finding "rejected-record" or "rejected-file", severity high;
 *               (incomplete pages) kind "incomplete", finding
 *               "incomplete-page", severity high
 *
 * `limit` caps the clusters, groups and pairs written per section (the
 * summary always counts everything); a capped section says how many were
 * left out. Every string goes through the shared writer (report/writer.h).
 * Tests: tests/test_report.c (CSV one row per finding, formats agree),
 * tests/cli/test_audit.sh (golden files, JSON validated against
 * docs/schema/audit.schema.json), tests/test_audit.c (heap and file images
 * give identical bytes).
 */
#include "report/audit_report_internal.h"

#include "core/error_internal.h"

#include <cidrscope/estate.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

const char *const audit_why_names[AUDIT_N_WHY] = {"peered", "hub", "same-account", "same-region",
                                                  "default-only", "reused-only", "nested",
                                                  "identical"};
const char *const audit_change_names[3] = {"appeared", "disappeared", "changed"};

uint64_t audit_rep_cap(const audit_rep *R, uint64_t n)
{
    return n < R->limit ? n : R->limit;
}

bool audit_rep_pair(const cs_snapshot *s, const cs_audit_result *r, long domain, size_t i,
                    pair_ref *out)
{
    out->s = s;
    out->r = r;
    out->domain = domain;
    out->idx = i;
    int rc = domain < 0 ? cs_audit_get_pair(r, i, &out->p)
                        : cs_audit_domain_pair(r, (size_t)domain, i, &out->p);
    return rc == 0;
}

bool audit_rep_change(const audit_rep *R, size_t i, change_ref *out)
{
    if (!R->o->drift || cs_audit_get_change(R->o->drift, i, &out->ch) != 0)
        return false;
    bool in_new = out->ch.new_idx != SIZE_MAX;
    out->s = in_new ? R->s : R->o->baseline_snap;
    out->r = in_new ? R->r : R->o->baseline;
    out->idx = in_new ? out->ch.new_idx : out->ch.old_idx;
    return true;
}

unsigned audit_rep_blocks(const pair_ref *pr, cs_prefix a[CS_AUDIT_MAX_WITNESSES],
                          cs_prefix b[CS_AUDIT_MAX_WITNESSES])
{
    unsigned n = 0;
    for (uint32_t k = 0; k < pr->p.witness_count && k < CS_AUDIT_MAX_WITNESSES; k++) {
        cs_audit_witness w;
        int rc = pr->domain < 0
                     ? cs_audit_pair_witness(pr->r, pr->idx, k, &w)
                     : cs_audit_domain_pair_witness(pr->r, (size_t)pr->domain, pr->idx, k, &w);
        cs_assoc x, y;
        if (rc || cs_estate_assoc(pr->s, w.assoc_a, &x) || cs_estate_assoc(pr->s, w.assoc_b, &y))
            continue;
        a[n] = x.prefix;
        b[n] = y.prefix;
        n++;
    }
    return n;
}

const char *audit_rep_relation(const cs_prefix *a, const cs_prefix *b)
{
    if (cs_prefix_compare(a, b) == 0)
        return "equal";
    return a->len < b->len ? "covers" : "covered";
}

const char *audit_rep_pcx(const cs_snapshot *s, uint32_t p, const char **status)
{
    cs_peering pr;
    *status = "";
    if (p == CS_IDX_NONE || cs_estate_peering(s, p, &pr) != 0)
        return NULL;
    *status = cs_pcx_status_name(pr.status);
    return pr.id;
}

void audit_rep_reasons(uint32_t why, unsigned from, const char *sep, char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = '\0';
    for (unsigned k = from; k < AUDIT_N_WHY; k++) {
        if (!(why & (1u << k)))
            continue;
        size_t need = (o ? strlen(sep) : 0) + strlen(audit_why_names[k]);
        if (o + need + 1 > cap)
            break;
        if (o) {
            memcpy(buf + o, sep, strlen(sep));
            o += strlen(sep);
        }
        memcpy(buf + o, audit_why_names[k], strlen(audit_why_names[k]));
        o += strlen(audit_why_names[k]);
        buf[o] = '\0';
    }
}

/* Slot v of the id cache, filled. */
static void qid_fill(const audit_rep *R, uint32_t v)
{
    unsigned char *slot = R->qid[v];
    size_t n = cs_json_quote_plain((char *)slot + 1, AUDIT_QID_LEN - 1, cs_report_vpc_id(R->s, v));
    slot[0] = n ? (unsigned char)n : AUDIT_QID_NONE;
}

void audit_rep_json_vpc_id(cs_json *j, const audit_rep *R, uint32_t v)
{
    if (!R->qid || R->a2v_s != R->s || v >= R->n_qid) {
        cs_json_string(j, cs_report_vpc_id(R->s, v));
        return;
    }
    const unsigned char *slot = R->qid[v];
    if (slot[0] == 0) {
        qid_fill(R, v);
        slot = R->qid[v];
    }
    if (slot[0] == AUDIT_QID_NONE)
        cs_json_string(j, cs_report_vpc_id(R->s, v));
    else
        cs_json_token(j, (const char *)slot + 1, slot[0]);
}

void audit_rep_entry_vpcs(const audit_rep *R, uint8_t family, uint32_t first, uint32_t count,
                          int (*fn)(uint32_t vpc, void *ctx), void *ctx)
{
    uint32_t prev = CS_IDX_NONE;
    for (uint32_t e = first; e < first + count; e++) {
        uint32_t val;
        if (cs_snapshot_entry(R->s, family, e, NULL, &val) != 0)
            break;
        uint32_t v = audit_rep_assoc_vpc(R, val);
        if (v == CS_IDX_NONE || v == prev || !cs_audit_vpc_in_scope(R->r, v))
            continue;
        prev = v;
        if (fn(v, ctx))
            break;
    }
}

/* Up to `max` distinct VPCs in scope holding blocks strictly around or
 * inside a prefix, in the order of the walk; the walk stops once they are
 * found. */
typedef struct nest_ctx {
    const audit_rep *R;
    uint32_t ids[8];
    unsigned n, max;
} nest_ctx;

static int nest_cb(const cs_match *m, void *vctx)
{
    nest_ctx *nc = vctx;
    if (m->relation == CS_REL_EQUAL)
        return 0;
    for (uint32_t k = 0; k < m->count; k++) {
        uint32_t v = audit_rep_assoc_vpc(nc->R, m->values[k]);
        if (v == CS_IDX_NONE || !cs_audit_vpc_in_scope(nc->R->r, v))
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

unsigned audit_rep_nested(const audit_rep *R, const cs_prefix *p, unsigned kind, unsigned max,
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

/* ---- rejected input ------------------------------------------------------------------- */

void audit_rep_findings(const audit_rep *R, const char *kind,
                        int (*fn)(const cs_finding *f, void *ctx), void *ctx)
{
    if (!cs_estate_present(R->s))
        return;
    cs_estate_counts cnt;
    cs_estate_counts_get(R->s, &cnt);
    for (uint32_t i = 0; i < cnt.findings; i++) {
        cs_finding f;
        if (cs_estate_finding(R->s, i, &f) == 0 && strcmp(f.kind, kind) == 0 && fn(&f, ctx))
            break;
    }
}

void audit_rep_rejected(const audit_rep *R, int (*fn)(const cs_finding *f, void *ctx), void *ctx)
{
    audit_rep_findings(R, CS_FINDING_REJECTED, fn, ctx);
}

void audit_rep_rejected_text(const cs_finding *f, char *buf, size_t cap)
{
    cs_sbuf b = {buf, cap, 0};
    buf[0] = '\0';
    if (f->source && f->source[0])
        cs_sbuf_printf(&b, "%s:", f->source);
    if (f->line)
        cs_sbuf_printf(&b, "%" PRIu64 ":", f->line);
    if (f->line && f->column)
        cs_sbuf_printf(&b, "%u:", f->column);
    cs_sbuf_printf(&b, "%s%s", b.len ? " " : "", f->message ? f->message : "");
}

/* ---- CSV ------------------------------------------------------------------------------ */

static const char *const csv_cols[] = {
    "finding", "kind", "severity", "prefix", "vpcs", "vpc_pairs", "vpc_a", "account_a",
    "region_a", "name_a", "default_a", "vpc_b", "account_b", "region_b", "name_b", "default_b",
    "reasons", "peering", "hub", "block_pairs", "blocks", "domain", "message", NULL};

static void csv_pair(cs_csv *c, const pair_ref *pr, const char *finding, const char *dom)
{
    const cs_audit_pair *p = &pr->p;
    cs_csv_field(c, finding);
    cs_csv_field(c, "pair");
    cs_csv_field(c, cs_severity_name(p->severity));
    cs_csv_field(c, NULL);
    cs_csv_u64(c, 2);
    cs_csv_u64(c, 1);
    for (int side = 0; side < 2; side++) {
        cs_vpc_facts f = cs_report_vpc(pr->s, side ? p->vpc_b : p->vpc_a);
        cs_csv_field(c, f.id);
        cs_csv_field(c, f.account);
        cs_csv_field(c, f.region);
        cs_csv_field(c, f.name);
        cs_csv_field(c, f.is_default ? "true" : "false");
    }
    char why[256];
    audit_rep_reasons(p->why, 0, CS_CSV_LIST_SEP, why, sizeof why);
    cs_csv_field(c, why);
    const char *st;
    cs_csv_field(c, audit_rep_pcx(pr->s, p->peering_idx, &st));
    cs_csv_field(c, p->hub_vpc != CS_IDX_NONE ? cs_report_vpc(pr->s, p->hub_vpc).id : NULL);
    cs_csv_u64(c, p->block_pairs);
    cs_prefix a[CS_AUDIT_MAX_WITNESSES], b[CS_AUDIT_MAX_WITNESSES];
    unsigned n = audit_rep_blocks(pr, a, b);
    char blocks[CS_AUDIT_MAX_WITNESSES * (2 * CS_PREFIX_STRCAP + 2)];
    size_t o = 0;
    for (unsigned k = 0; k < n; k++) {
        const char *rel = audit_rep_relation(&a[k], &b[k]);
        if (k)
            blocks[o++] = CS_CSV_LIST_SEP[0];
        o += cs_prefix_format(&a[k], blocks + o, sizeof blocks - o);
        blocks[o++] = rel[0] == 'e' ? '=' : rel[5] == 's' ? '>' : '<';
        o += cs_prefix_format(&b[k], blocks + o, sizeof blocks - o);
    }
    cs_csv_field_n(c, blocks, o);
    cs_csv_field(c, dom);
    cs_csv_field(c, NULL);
    cs_csv_end_row(c);
}

static void csv_group(cs_csv *c, const cs_audit_group *g, const char *finding)
{
    cs_csv_field(c, finding);
    cs_csv_field(c, "group");
    cs_csv_field(c, cs_severity_name(g->severity));
    cs_csv_prefix(c, &g->prefix);
    cs_csv_u64(c, g->vpcs);
    cs_csv_u64(c, g->vpc_pairs);
    for (int k = 0; k < 10 + 3; k++)
        cs_csv_field(c, NULL);
    cs_csv_field(c, NULL); /* block_pairs */
    cs_csv_field(c, NULL); /* blocks */
    cs_csv_field(c, NULL); /* domain */
    cs_csv_field(c, NULL); /* message */
    cs_csv_end_row(c);
}

/* A rejected input (kind "rejected") or an incomplete page (kind
 * "incomplete"): severity high (what --fail-on counts it as), the message
 * with its location. */
static int csv_input_gap(const cs_finding *f, void *ctx)
{
    cs_csv *c = ctx;
    char msg[2 * CS_ERROR_MSG_CAP];
    audit_rep_rejected_text(f, msg, sizeof msg);
    bool page = strcmp(f->kind, CS_FINDING_INCOMPLETE_PAGE) == 0;
    cs_csv_field(c, page ? CS_FINDING_INCOMPLETE_PAGE
                         : f->line ? "rejected-record" : "rejected-file");
    cs_csv_field(c, page ? "incomplete" : "rejected");
    cs_csv_field(c, "high");
    for (int k = 0; k < 19; k++)
        cs_csv_field(c, NULL);
    cs_csv_field(c, msg);
    cs_csv_end_row(c);
    return 0;
}

static int write_csv(const audit_rep *R)
{
    cs_csv c;
    cs_csv_init(&c, R->f);
    cs_csv_header(&c, csv_cols);
    /* findings, most severe first, as the text report lists them */
    uint64_t shown = 0;
    for (unsigned sev = 0; sev < CS_SEV_COUNT; sev++) {
        for (size_t i = 0; i < R->n_groups && shown < R->limit; i++) {
            cs_audit_group g;
            if (cs_audit_get_group(R->r, i, &g) == 0 && g.severity == sev) {
                csv_group(&c, &g, "group");
                shown++;
            }
        }
        for (size_t i = 0; i < R->n_pairs && shown < R->limit; i++) {
            pair_ref pr;
            if (audit_rep_pair(R->s, R->r, -1, i, &pr) && pr.p.severity == sev) {
                csv_pair(&c, &pr, "pair", NULL);
                shown++;
            }
        }
    }
    for (size_t d = 0; d < R->n_domains; d++) {
        cs_audit_domain_info dm;
        if (cs_audit_get_domain(R->r, d, &dm) != 0)
            continue;
        for (uint64_t i = 0; i < audit_rep_cap(R, dm.violations); i++) {
            pair_ref pr;
            if (audit_rep_pair(R->s, R->r, (long)d, i, &pr))
                csv_pair(&c, &pr, "domain", dm.name);
        }
    }
    audit_rep_rejected(R, csv_input_gap, &c);
    audit_rep_findings(R, CS_FINDING_INCOMPLETE_PAGE, csv_input_gap, &c);
    for (size_t i = 0; i < audit_rep_cap(R, R->n_changes); i++) {
        change_ref cr;
        if (!audit_rep_change(R, i, &cr))
            continue;
        const char *finding = audit_change_names[cr.ch.kind];
        if (cr.ch.what == CS_CHANGE_PAIR) {
            pair_ref pr;
            if (audit_rep_pair(cr.s, cr.r, -1, cr.idx, &pr))
                csv_pair(&c, &pr, finding, NULL);
        } else {
            cs_audit_group g;
            if (cs_audit_get_group(cr.r, cr.idx, &g) == 0)
                csv_group(&c, &g, finding);
        }
    }
    return 0;
}

/* ---- entry ------------------------------------------------------------------------------ */

int cs_audit_report_write(FILE *f, const cs_snapshot *s, const cs_audit_result *r,
                          const cs_audit_report_options *o, cs_error *err)
{
    if (!f || !s || !r || !o)
        return cs_fail(err, CS_EINVAL, "cs_audit_report_write: NULL argument");
    if (o->drift && (!o->baseline || !o->baseline_snap))
        return cs_fail(err, CS_EINVAL, "cs_audit_report_write: a drift needs its baseline");
    audit_rep R;
    memset(&R, 0, sizeof R);
    R.f = f;
    R.s = s;
    R.r = r;
    R.o = o;
    R.limit = o->limit ? o->limit : UINT64_MAX;
    if (cs_estate_present(s)) {
        R.a2v_s = s;
        R.a2v = cs_estate_assoc_vpc_map(s, &R.n_a2v);
        cs_estate_counts ec;
        cs_estate_counts_get(s, &ec);
        R.qid = calloc((size_t)ec.vpcs + 1, sizeof *R.qid);
        R.n_qid = R.qid ? ec.vpcs : 0;
    }
    cs_audit_get_summary(r, &R.sum);
    R.n_clusters = cs_audit_cluster_count(r);
    R.n_groups = cs_audit_group_count(r);
    R.n_pairs = cs_audit_pair_count(r);
    R.n_domains = cs_audit_domain_count(r);
    R.n_changes = o->drift ? cs_audit_change_count(o->drift) : 0;
    cs_estate_stats st; /* the rejected and incomplete input, counted */
    if (cs_estate_stats_get(s, &st) == 0) {
        R.rejected_records = st.rejected_records;
        R.rejected_files = st.rejected_files;
        R.incomplete_pages = st.incomplete_pages;
    }
    cs_estate_stats_free(&st);
    /* A JSON report of every group and cluster names most VPCs, each
     * first met at random (its id's text a cache miss): fill the id cache
     * in VPC order instead, one stream over the VPC records and their
     * strings (org shape, 1M blocks: 2.09M ids over 782,000 VPCs). */
    if (R.qid && (o->format == CS_REPORT_JSON || o->format == CS_REPORT_NDJSON) &&
        R.limit == UINT64_MAX && R.n_groups + R.n_clusters >= (uint64_t)R.n_qid / 8)
        for (uint32_t v = 0; v < R.n_qid; v++)
            qid_fill(&R, v);
    int rc;
    switch (o->format) {
    case CS_REPORT_TEXT: rc = audit_rep_text(&R); break;
    case CS_REPORT_JSON: rc = audit_rep_json(&R); break;
    case CS_REPORT_NDJSON: rc = audit_rep_ndjson(&R); break;
    case CS_REPORT_CSV: rc = write_csv(&R); break;
    case CS_REPORT_HTML: rc = audit_rep_html(&R); break;
    default:
        free(R.qid);
        return cs_fail(err, CS_EINVAL, "cs_audit_report_write: unknown format %d", (int)o->format);
    }
    free(R.qid);
    if (rc)
        return cs_fail(err, rc, "audit report: %s", cs_strerror(rc));
    return cs_out_finish(f, "audit report", err);
}
