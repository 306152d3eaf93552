/*
 * engine/report/peering_report.c — prints the answers of engine/query/peering.c:
 * check verdicts (streaming, any number of pairs), candidates, mesh plans,
 * reachability and block additions, as text, JSON, CSV and NDJSON.
 *
 * Does: turn verdicts and evidence records into sentences and documents.
 * Does not: decide anything (every fact comes from the peering API), read
 * input, allocate per result (a check report owns one fixed evidence buffer
 * of REPORT_EV_CAP records, reused for every pair).
 *
 * DOCUMENTS.
 *
 *   check, JSON     {"summary": {"pairs", "eligible", "eligible_with_warnings",
 *                    "ineligible", "quota", "reasons": {code: pairs}},
 *                    "results": [{"a", "b", "verdict", "reasons": [{"code",
 *                    "kind", "message", "evidence": [...],
 *                    "evidence_total"?}]}]}   (results in input order)
 *   check, NDJSON   one result object a line, then {"summary": {...}}
 *   check, CSV      a,b,verdict,reasons,messages (codes joined by ';',
 *                    sentences by ' | ')
 *   check, text     "A  B  verdict", then one wrapped line per reason; a
 *                    summary line at the end
 *   evidence        overlap: {"a_block", "b_block"}; already-peered:
 *                    {"connection", "status", "requester", "accepter"};
 *                    quota: {"vpc", "active", "quota"}; cross-region:
 *                    {"a_region", "b_region"}; cross-account: {"a_account",
 *                    "b_account"}; routing-ambiguity: {"hub", "third_vpc",
 *                    "connection", "third_block", "other", "other_block"};
 *                    unknown-vpc / same-vpc: {"vpc"}
 *   candidates      {"summary": {...}, "results": [{"vpc", "name",
 *                    "account", "region", "verdict", "warnings": [code]}]}
 *   mesh            {"summary", "vpcs": [row], "results": [pair]}
 *   reach           {"summary": {"src", "dst", "reachable", "answer",
 *                    "holders", "findings": {code: n}}, "results": [...]}
 *   can-add         {"summary": {"vpc", "cidr", "verdict"}, "results":
 *                    [{"code", "kind", "message", ...}]}
 *
 * Every string goes through writer.h (JSON escaping, RFC 4180 quoting), so
 * a hostile Name tag cannot break a document. Concurrency: a report object
 * belongs to one thread; the other functions are reentrant.
 * Tests: tests/test_peering.c (messages, JSON parsed back with yajl),
 * tests/cli/test_peering*.sh.
 */
#include "report/peering_report.h"

#include <cidrscope/query.h>

#include "core/error_internal.h"
#include "core/aws_rules_internal.h"
#include "report/writer.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Evidence records kept per pair; more are counted ("evidence_total"). */
#define REPORT_EV_CAP 64
/* No-connection findings of a reach question printed before summarising. */
#define REACH_SHOW_MAX 20
/* Mesh plans of more VPCs than this list their conflicts instead of
 * drawing the matrix in text. */
#define MESH_TEXT_MATRIX 24

/* ---- small helpers ------------------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t cap, len;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) CS_PRINTF(2, 3);

static void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = b->len < b->cap ? b->cap - b->len : 0;
    int n = vsnprintf(room ? b->p + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        b->len += (size_t)n;
}

static const char *vpc_id(const cs_snapshot *s, uint32_t v)
{
    cs_vpc x;
    return cs_estate_vpc(s, v, &x) == 0 ? x.id : "?";
}

static const char *vpc_account(const cs_snapshot *s, uint32_t v)
{
    cs_vpc x;
    cs_account a;
    if (cs_estate_vpc(s, v, &x) != 0 || cs_estate_account(s, x.account_idx, &a) != 0)
        return "?";
    return a.id;
}

static const char *vpc_region(const cs_snapshot *s, uint32_t v)
{
    cs_vpc x;
    cs_region r;
    if (cs_estate_vpc(s, v, &x) != 0 || cs_estate_region(s, x.region_idx, &r) != 0 ||
        !r.name[0])
        return "unknown";
    return r.name;
}

static const char *vpc_name(const cs_snapshot *s, uint32_t v)
{
    cs_vpc x;
    return cs_estate_vpc(s, v, &x) == 0 ? x.name : "";
}

static const char *pcx_id(const cs_snapshot *s, uint32_t pcx)
{
    cs_peering p;
    return cs_estate_peering(s, pcx, &p) == 0 ? p.id : "?";
}

static const char *assoc_text(const cs_snapshot *s, uint32_t assoc, char buf[CS_PREFIX_STRCAP])
{
    cs_assoc a;
    if (assoc == CS_IDX_NONE || cs_estate_assoc(s, assoc, &a) != 0)
        snprintf(buf, CS_PREFIX_STRCAP, "?");
    else
        cs_prefix_format(&a.prefix, buf, CS_PREFIX_STRCAP);
    return buf;
}

static const char *plural(uint64_t n)
{
    return n == 1 ? "" : "s";
}

static void json_init(cs_json *j, FILE *f, unsigned format)
{
    cs_json_init(j, f, format == CS_PFMT_JSON ? CS_JSON_PRETTY : 0);
}

/* ---- check: sentences ----------------------------------------------------------- */

size_t cs_peering_reason_message(const cs_snapshot *s, const char *a_id, const char *b_id,
                                 uint32_t a, uint32_t b, uint32_t quota, unsigned code,
                                 const cs_peering_reason *ev, size_t n, uint64_t total,
                                 char *buf, size_t cap)
{
    sbuf sb = {buf, cap, 0};
    if (cap)
        buf[0] = '\0';
    char p1[CS_PREFIX_STRCAP], p2[CS_PREFIX_STRCAP];
    switch (code) {
    case CS_PEER_SAME_VPC:
        sb_printf(&sb, "%s and %s are one VPC: a VPC cannot be peered with itself", a_id,
                  b_id);
        break;
    case CS_PEER_UNKNOWN_VPC:
        for (size_t i = 0; i < n; i++) {
            uint32_t v = ev[i].side ? b : a;
            const char *id = ev[i].side ? b_id : a_id;
            cs_vpc x;
            bool pseudo = v != CS_IDX_NONE && cs_estate_vpc(s, v, &x) == 0 && x.pseudo;
            sb_printf(&sb, "%s%s %s", i ? "; " : "", id,
                      pseudo ? "is a prefix-list owner, not a VPC"
                             : "is not a VPC of the estate");
        }
        sb_printf(&sb, "; no other rule can be checked");
        break;
    case CS_PEER_OVERLAP_V4:
    case CS_PEER_OVERLAP_V6:
        if (n) {
            sb_printf(&sb, "%s's %s overlaps %s's %s", a_id, assoc_text(s, ev[0].assoc[0], p1),
                      b_id, assoc_text(s, ev[0].assoc[1], p2));
            if (total > 1)
                sb_printf(&sb, " (and %" PRIu64 " more pair%s)", total - 1, plural(total - 1));
        }
        sb_printf(&sb,
                  "%sAWS refuses a peering connection when any live %s block of one VPC "
                  "overlaps or equals one of the other's, even if only non-overlapping blocks "
                  "would be routed; the request would end in 'failed'",
                  n ? ": " : "", code == CS_PEER_OVERLAP_V4 ? "IPv4" : "IPv6");
        break;
    case CS_PEER_ALREADY_PEERED:
        if (n)
            sb_printf(&sb, "%s already joins %s and %s and is %s", pcx_id(s, ev[0].pcx), a_id,
                      b_id, cs_pcx_status_name(ev[0].status));
        if (total > 1)
            sb_printf(&sb, " (%" PRIu64 " such connections)", total);
        sb_printf(&sb, ": AWS allows one peering connection between two VPCs at a time");
        break;
    case CS_PEER_QUOTA:
        for (size_t i = 0; i < n; i++)
            sb_printf(&sb, "%s%s already has %u active peering connection%s", i ? " and " : "",
                      ev[i].side ? b_id : a_id, ev[i].count, plural(ev[i].count));
        sb_printf(&sb,
                  " (quota %u): a new connection could not become active; raise the quota "
                  "(AWS allows up to %u) or delete a connection",
                  quota, CS_PEERING_QUOTA_MAX);
        break;
    case CS_PEER_CROSS_REGION:
        sb_printf(&sb,
                  "%s is in %s and %s in %s: allowed, but security groups cannot be "
                  "referenced across the connection and its MTU is 1500 bytes (no jumbo "
                  "frames)",
                  a_id, vpc_region(s, a), b_id, vpc_region(s, b));
        break;
    case CS_PEER_CROSS_ACCOUNT:
        sb_printf(&sb,
                  "%s belongs to account %s and %s to %s: allowed, but the accepter's owner "
                  "must accept the request within 7 days",
                  a_id, vpc_account(s, a), b_id, vpc_account(s, b));
        break;
    case CS_PEER_ROUTING_AMBIGUITY:
        if (n) {
            const cs_peering_reason *r = &ev[0];
            const char *hub = r->side ? b_id : a_id, *other = r->side ? a_id : b_id;
            sb_printf(&sb,
                      "%s is already peered with %s (%s), whose %s overlaps %s's %s: %s would "
                      "need more specific routes, since AWS does no reverse-path check and "
                      "replies can go to the wrong VPC",
                      hub, vpc_id(s, r->third), pcx_id(s, r->pcx), assoc_text(s, r->assoc[0], p1),
                      other, assoc_text(s, r->assoc[1], p2), hub);
            if (total > 1)
                sb_printf(&sb, " (%" PRIu64 " overlapping block pairs in all)", total);
        }
        break;
    default:
        sb_printf(&sb, "unknown reason");
        break;
    }
    return sb.len;
}

/* ---- check: documents ------------------------------------------------------------ */

struct cs_peering_report {
    FILE *f;
    unsigned format;
    const cs_snapshot *s;
    cs_peering_opts opts;
    uint32_t quota;
    cs_json j;
    cs_csv c;
    cs_peering_reason ev[REPORT_EV_CAP];
    char msg[2048];
};

cs_peering_report *cs_peering_report_new(FILE *f, unsigned format, const cs_snapshot *s,
                                         const cs_peering_opts *opts)
{
    if (!f || !s || format > CS_PFMT_NDJSON)
        return NULL;
    uint32_t q = opts && opts->quota ? opts->quota : CS_PEERING_QUOTA_DEFAULT;
    if (q > CS_PEERING_QUOTA_MAX)
        return NULL;
    cs_peering_report *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->f = f;
    r->format = format;
    r->s = s;
    r->opts.quota = q;
    r->quota = q;
    json_init(&r->j, f, format);
    cs_csv_init(&r->c, f);
    return r;
}

void cs_peering_report_free(cs_peering_report *r)
{
    free(r);
}

void cs_peering_summary_add(cs_peering_summary *sum, const cs_peering_verdict *v)
{
    sum->pairs++;
    if (v->verdict < 3)
        sum->verdicts[v->verdict]++;
    for (unsigned c = 0; c < CS_PEER_CODE_COUNT; c++)
        sum->reasons[c] += (v->reasons >> c) & 1u;
}

static void json_summary(cs_json *j, const cs_peering_summary *sum, uint32_t quota)
{
    cs_json_begin_object(j);
    cs_json_kv_u64(j, "pairs", sum->pairs);
    cs_json_kv_u64(j, "eligible", sum->verdicts[CS_PEER_ELIGIBLE]);
    cs_json_kv_u64(j, "eligible_with_warnings", sum->verdicts[CS_PEER_ELIGIBLE_WARN]);
    cs_json_kv_u64(j, "ineligible", sum->verdicts[CS_PEER_INELIGIBLE]);
    cs_json_kv_u64(j, "quota", quota);
    cs_json_key(j, "reasons");
    cs_json_begin_object(j);
    for (unsigned c = 0; c < CS_PEER_CODE_COUNT; c++)
        cs_json_kv_u64(j, cs_peering_code_name(c), sum->reasons[c]);
    cs_json_end(j);
    cs_json_end(j);
}

void cs_peering_report_begin(cs_peering_report *r, const cs_peering_summary *sum)
{
    static const char *const header[] = {"a", "b", "verdict", "reasons", "messages", NULL};
    switch (r->format) {
    case CS_PFMT_JSON: {
        cs_peering_summary none;
        memset(&none, 0, sizeof none);
        cs_json_begin_object(&r->j);
        cs_json_key(&r->j, "summary");
        json_summary(&r->j, sum ? sum : &none, r->quota);
        cs_json_key(&r->j, "results");
        cs_json_begin_array(&r->j);
        break;
    }
    case CS_PFMT_CSV:
        cs_csv_header(&r->c, header);
        break;
    default:
        break;
    }
}

static void json_evidence(cs_peering_report *r, const char *a_id, const char *b_id, uint32_t a,
                          uint32_t b, const cs_peering_reason *e)
{
    const cs_snapshot *s = r->s;
    cs_json *j = &r->j;
    char p[CS_PREFIX_STRCAP];
    cs_json_begin_object(j);
    switch (e->code) {
    case CS_PEER_SAME_VPC:
        cs_json_kv_string(j, "vpc", a_id);
        break;
    case CS_PEER_UNKNOWN_VPC:
        cs_json_kv_string(j, "vpc", e->side ? b_id : a_id);
        cs_json_kv_string(j, "side", e->side ? "b" : "a");
        break;
    case CS_PEER_OVERLAP_V4:
    case CS_PEER_OVERLAP_V6:
        cs_json_kv_string(j, "a_block", assoc_text(s, e->assoc[0], p));
        cs_json_kv_string(j, "b_block", assoc_text(s, e->assoc[1], p));
        break;
    case CS_PEER_ALREADY_PEERED: {
        cs_peering pc;
        bool ok = cs_estate_peering(s, e->pcx, &pc) == 0;
        cs_json_kv_string(j, "connection", ok ? pc.id : "?");
        cs_json_kv_string(j, "status", cs_pcx_status_name(e->status));
        cs_json_kv_string(j, "requester", ok ? pc.requester.vpc_id : "?");
        cs_json_kv_string(j, "accepter", ok ? pc.accepter.vpc_id : "?");
        break;
    }
    case CS_PEER_QUOTA:
        cs_json_kv_string(j, "vpc", e->side ? b_id : a_id);
        cs_json_kv_u64(j, "active", e->count);
        cs_json_kv_u64(j, "quota", r->quota);
        break;
    case CS_PEER_CROSS_REGION:
        cs_json_kv_string(j, "a_region", vpc_region(s, a));
        cs_json_kv_string(j, "b_region", vpc_region(s, b));
        break;
    case CS_PEER_CROSS_ACCOUNT:
        cs_json_kv_string(j, "a_account", vpc_account(s, a));
        cs_json_kv_string(j, "b_account", vpc_account(s, b));
        break;
    case CS_PEER_ROUTING_AMBIGUITY:
        cs_json_kv_string(j, "hub", e->side ? b_id : a_id);
        cs_json_kv_string(j, "third_vpc", vpc_id(s, e->third));
        cs_json_kv_string(j, "connection", pcx_id(s, e->pcx));
        cs_json_kv_string(j, "third_block", assoc_text(s, e->assoc[0], p));
        cs_json_kv_string(j, "other", e->side ? a_id : b_id);
        cs_json_kv_string(j, "other_block", assoc_text(s, e->assoc[1], p));
        break;
    default:
        break;
    }
    cs_json_end(j);
}

/* The evidence of one code of a pair, into r->ev: a slice of the list
 * explained for every code when it was complete, else the code explained on
 * its own (a long run of one code, say 100 overlapping block pairs, must
 * not leave the codes after it without evidence). */
typedef struct evslice {
    const cs_peering_reason *ev;
    size_t n;        /* records kept */
    uint64_t total;  /* records there were */
} evslice;

static evslice code_evidence(cs_peering_report *r, uint32_t a, uint32_t b, unsigned reasons,
                             unsigned code, int64_t all_total, bool *fresh)
{
    evslice e = {r->ev, 0, 0};
    if (*fresh && all_total >= 0 && (uint64_t)all_total <= REPORT_EV_CAP) {
        size_t i = 0, n = (size_t)all_total;
        while (i < n && r->ev[i].code != code)
            i++;
        size_t k = i;
        while (k < n && r->ev[k].code == code)
            k++;
        e.ev = r->ev + i;
        e.n = k - i;
        e.total = e.n;
        return e;
    }
    /* The shared list is cut or already overwritten: this code alone. */
    *fresh = false;
    int64_t t = cs_peering_explain(r->s, a, b, &r->opts, reasons & (1u << code), r->ev,
                                   REPORT_EV_CAP);
    if (t > 0) {
        e.total = (uint64_t)t;
        e.n = (uint64_t)t < REPORT_EV_CAP ? (size_t)t : REPORT_EV_CAP;
    }
    return e;
}

void cs_peering_report_pair(cs_peering_report *r, const char *a_id, const char *b_id,
                            uint32_t a, uint32_t b, const cs_peering_verdict *v)
{
    /* One explain for every code; `fresh` says r->ev still holds it. */
    int64_t total = v->reasons ? cs_peering_explain(r->s, a, b, &r->opts, v->reasons, r->ev,
                                                    REPORT_EV_CAP)
                               : 0;
    bool fresh = total >= 0 && (uint64_t)total <= REPORT_EV_CAP;
    const char *verdict = cs_peering_verdict_name(v->verdict);
    FILE *f = r->f;

    switch (r->format) {
    case CS_PFMT_JSON:
    case CS_PFMT_NDJSON: {
        cs_json *j = &r->j;
        cs_json_begin_object(j);
        cs_json_kv_string(j, "a", a_id);
        cs_json_kv_string(j, "b", b_id);
        cs_json_kv_string(j, "verdict", verdict);
        cs_json_key(j, "reasons");
        cs_json_begin_array(j);
        for (unsigned c = 0; c < CS_PEER_CODE_COUNT; c++) {
            if (!((v->reasons >> c) & 1u))
                continue;
            evslice e = code_evidence(r, a, b, v->reasons, c, total, &fresh);
            cs_peering_reason_message(r->s, a_id, b_id, a, b, r->quota, c, e.ev, e.n, e.total,
                                      r->msg, sizeof r->msg);
            cs_json_begin_object(j);
            cs_json_kv_string(j, "code", cs_peering_code_name(c));
            cs_json_kv_string(j, "kind", cs_peering_code_kind(c));
            cs_json_kv_string(j, "message", r->msg);
            cs_json_key(j, "evidence");
            cs_json_begin_array(j);
            for (size_t i = 0; i < e.n; i++)
                json_evidence(r, a_id, b_id, a, b, &e.ev[i]);
            cs_json_end(j);
            if (e.total > e.n)
                cs_json_kv_u64(j, "evidence_total", e.total);
            cs_json_end(j);
        }
        cs_json_end(j);
        cs_json_end(j);
        if (r->format == CS_PFMT_NDJSON)
            cs_json_newline(j);
        break;
    }
    case CS_PFMT_CSV: {
        char codes[256];
        sbuf cb = {codes, sizeof codes, 0};
        codes[0] = '\0';
        for (unsigned c = 0; c < CS_PEER_CODE_COUNT; c++)
            if ((v->reasons >> c) & 1u)
                sb_printf(&cb, "%s%s", cb.len ? ";" : "", cs_peering_code_name(c));
        cs_csv_field(&r->c, a_id);
        cs_csv_field(&r->c, b_id);
        cs_csv_field(&r->c, verdict);
        cs_csv_field(&r->c, codes);
        /* The sentences, joined. */
        char all[4096];
        sbuf ab = {all, sizeof all, 0};
        all[0] = '\0';
        for (unsigned c = 0; c < CS_PEER_CODE_COUNT; c++) {
            if (!((v->reasons >> c) & 1u))
                continue;
            evslice e = code_evidence(r, a, b, v->reasons, c, total, &fresh);
            cs_peering_reason_message(r->s, a_id, b_id, a, b, r->quota, c, e.ev, e.n, e.total,
                                      r->msg, sizeof r->msg);
            sb_printf(&ab, "%s%s", ab.len ? " | " : "", r->msg);
        }
        cs_csv_field(&r->c, all);
        cs_csv_end_row(&r->c);
        break;
    }
    default:
        fprintf(f, "%s  %s  %s\n", a_id, b_id, verdict);
        for (unsigned c = 0; c < CS_PEER_CODE_COUNT; c++) {
            if (!((v->reasons >> c) & 1u))
                continue;
            evslice e = code_evidence(r, a, b, v->reasons, c, total, &fresh);
            int len = snprintf(r->msg, sizeof r->msg, "%s (%s): ", cs_peering_code_name(c),
                               cs_peering_code_kind(c));
            size_t off = len > 0 && (size_t)len < sizeof r->msg ? (size_t)len : 0;
            cs_peering_reason_message(r->s, a_id, b_id, a, b, r->quota, c, e.ev, e.n, e.total,
                                      r->msg + off, sizeof r->msg - off);
            cs_text_wrap(f, r->msg, 4, CS_TEXT_WIDTH);
        }
        break;
    }
}

int cs_peering_report_end(cs_peering_report *r, const cs_peering_summary *sum, cs_error *err)
{
    cs_peering_summary none;
    memset(&none, 0, sizeof none);
    if (!sum)
        sum = &none;
    switch (r->format) {
    case CS_PFMT_JSON:
        cs_json_end(&r->j);
        cs_json_end(&r->j);
        cs_json_newline(&r->j);
        break;
    case CS_PFMT_NDJSON:
        cs_json_begin_object(&r->j);
        cs_json_key(&r->j, "summary");
        json_summary(&r->j, sum, r->quota);
        cs_json_end(&r->j);
        cs_json_newline(&r->j);
        break;
    case CS_PFMT_TEXT: {
        char b1[CS_TEXT_COUNT_CAP], b2[CS_TEXT_COUNT_CAP], b3[CS_TEXT_COUNT_CAP],
            b4[CS_TEXT_COUNT_CAP];
        fprintf(r->f, "\n%s pair%s: %s eligible, %s with warnings, %s ineligible (quota %u)\n",
                cs_text_count(sum->pairs, b1), plural(sum->pairs),
                cs_text_count(sum->verdicts[CS_PEER_ELIGIBLE], b2),
                cs_text_count(sum->verdicts[CS_PEER_ELIGIBLE_WARN], b3),
                cs_text_count(sum->verdicts[CS_PEER_INELIGIBLE], b4), r->quota);
        break;
    }
    default:
        break;
    }
    return cs_out_finish(r->f, "peering report", err);
}

/* ---- candidates ------------------------------------------------------------------------ */

int cs_peering_report_candidates(FILE *f, unsigned format, const cs_snapshot *s, uint32_t vpc,
                                 const cs_peering_filter *filter, const cs_peering_opts *opts,
                                 const uint32_t *cands, const cs_peering_verdict *verdicts,
                                 size_t n, uint64_t total, const cs_peering_cand_stats *stats,
                                 cs_error *err)
{
    if (!f || !s || format == CS_PFMT_NDJSON || format > CS_PFMT_NDJSON || (n && (!cands || !verdicts)) ||
        !stats)
        return cs_fail(err, CS_EINVAL, "bad arguments to the candidates report");
    uint32_t q = opts && opts->quota ? opts->quota : CS_PEERING_QUOTA_DEFAULT;
    const char *id = vpc_id(s, vpc);
    cs_account acc;
    cs_region reg;
    const char *f_acc = filter && filter->account != CS_IDX_NONE &&
                                cs_estate_account(s, filter->account, &acc) == 0
                            ? acc.id
                            : NULL;
    const char *f_reg = filter && filter->region != CS_IDX_NONE &&
                                cs_estate_region(s, filter->region, &reg) == 0
                            ? reg.name
                            : NULL;
    if (format == CS_PFMT_JSON) {
        cs_json j;
        json_init(&j, f, format);
        cs_json_begin_object(&j);
        cs_json_key(&j, "summary");
        cs_json_begin_object(&j);
        cs_json_kv_string(&j, "vpc", id);
        cs_json_kv_string(&j, "account", vpc_account(s, vpc));
        cs_json_kv_string(&j, "region", vpc_region(s, vpc));
        cs_json_key(&j, "filter");
        cs_json_begin_object(&j);
        cs_json_key(&j, "account");
        if (f_acc)
            cs_json_string(&j, f_acc);
        else
            cs_json_null(&j);
        cs_json_key(&j, "region");
        if (f_reg)
            cs_json_string(&j, f_reg);
        else
            cs_json_null(&j);
        cs_json_end(&j);
        cs_json_kv_u64(&j, "candidates", total);
        cs_json_kv_u64(&j, "considered", stats->considered);
        cs_json_key(&j, "excluded");
        cs_json_begin_object(&j);
        cs_json_kv_u64(&j, "cidr-overlap", stats->overlap);
        cs_json_kv_u64(&j, "already-peered", stats->peered);
        cs_json_kv_u64(&j, "quota-exceeded", stats->quota);
        cs_json_kv_u64(&j, "other", stats->other);
        cs_json_end(&j);
        cs_json_kv_bool(&j, "self_at_quota", stats->self_at_quota);
        cs_json_kv_u64(&j, "active", cs_peering_active_count(s, vpc));
        cs_json_kv_u64(&j, "quota", q);
        cs_json_kv_string(&j, "overlap_strategy", stats->used_trie ? "trie" : "scan");
        cs_json_kv_u64(&j, "overlap_entries", stats->overlap_entries);
        cs_json_end(&j);
        cs_json_key(&j, "results");
        cs_json_begin_array(&j);
        for (size_t i = 0; i < n; i++) {
            cs_json_begin_object(&j);
            cs_json_kv_string(&j, "vpc", vpc_id(s, cands[i]));
            cs_json_kv_string(&j, "name", vpc_name(s, cands[i]));
            cs_json_kv_string(&j, "account", vpc_account(s, cands[i]));
            cs_json_kv_string(&j, "region", vpc_region(s, cands[i]));
            cs_json_kv_string(&j, "verdict", cs_peering_verdict_name(verdicts[i].verdict));
            cs_json_key(&j, "warnings");
            cs_json_begin_array(&j);
            for (unsigned c = 0; c < CS_PEER_CODE_COUNT; c++)
                if ((verdicts[i].reasons >> c) & 1u)
                    cs_json_string(&j, cs_peering_code_name(c));
            cs_json_end(&j);
            cs_json_end(&j);
        }
        cs_json_end(&j);
        cs_json_end(&j);
        cs_json_newline(&j);
    } else if (format == CS_PFMT_CSV) {
        static const char *const header[] = {"vpc", "name", "account", "region", "verdict",
                                             "warnings", NULL};
        cs_csv c;
        cs_csv_init(&c, f);
        cs_csv_header(&c, header);
        for (size_t i = 0; i < n; i++) {
            char w[256];
            sbuf wb = {w, sizeof w, 0};
            w[0] = '\0';
            for (unsigned k = 0; k < CS_PEER_CODE_COUNT; k++)
                if ((verdicts[i].reasons >> k) & 1u)
                    sb_printf(&wb, "%s%s", wb.len ? ";" : "", cs_peering_code_name(k));
            cs_csv_field(&c, vpc_id(s, cands[i]));
            cs_csv_field(&c, vpc_name(s, cands[i]));
            cs_csv_field(&c, vpc_account(s, cands[i]));
            cs_csv_field(&c, vpc_region(s, cands[i]));
            cs_csv_field(&c, cs_peering_verdict_name(verdicts[i].verdict));
            cs_csv_field(&c, w);
            cs_csv_end_row(&c);
        }
    } else {
        char b1[CS_TEXT_COUNT_CAP], b2[CS_TEXT_COUNT_CAP];
        fprintf(f, "%s (account %s, %s) could peer now with %s of %s VPC%s", id,
                vpc_account(s, vpc), vpc_region(s, vpc), cs_text_count(total, b1),
                cs_text_count(stats->considered, b2), plural(stats->considered));
        if (f_acc || f_reg)
            fprintf(f, " (%s%s%s%s%s)", f_acc ? "account " : "", f_acc ? f_acc : "",
                    f_acc && f_reg ? ", " : "", f_reg ? "region " : "", f_reg ? f_reg : "");
        fputs(".\n", f);
        if (stats->self_at_quota) {
            fprintf(f, "  %s already has %u active connections (quota %u): it cannot take "
                       "another.\n",
                    id, cs_peering_active_count(s, vpc), q);
        } else {
            fprintf(f,
                    "  left out: %" PRIu64 " overlapping, %" PRIu64 " already peered, %" PRIu64
                    " at quota, %" PRIu64 " itself or not VPCs\n",
                    stats->overlap, stats->peered, stats->quota, stats->other);
        }
        if (n)
            fputc('\n', f);
        for (size_t i = 0; i < n; i++) {
            cs_text_col(f, vpc_id(s, cands[i]), 24);
            fputc(' ', f);
            cs_text_col(f, vpc_account(s, cands[i]), 13);
            fputc(' ', f);
            cs_text_col(f, vpc_region(s, cands[i]), 15);
            const char *sep = " ";
            for (unsigned k = 0; k < CS_PEER_CODE_COUNT; k++)
                if ((verdicts[i].reasons >> k) & 1u) {
                    fprintf(f, "%s%s", sep, cs_peering_code_name(k));
                    sep = ",";
                }
            if (vpc_name(s, cands[i])[0])
                fprintf(f, " \"%s\"", vpc_name(s, cands[i]));
            fputc('\n', f);
        }
        if (total > n)
            fprintf(f, "... and %" PRIu64 " more\n", total - n);
    }
    return cs_out_finish(f, "candidates report", err);
}

/* ---- mesh ------------------------------------------------------------------------------ */

int cs_peering_report_mesh(FILE *f, unsigned format, const cs_snapshot *s,
                           const char *const *ids, size_t n, size_t hub_pos,
                           const cs_peering_mesh_row *rows, const cs_peering_verdict *matrix,
                           const cs_peering_mesh_summary *sum, const cs_peering_opts *opts,
                           cs_error *err)
{
    if (!f || !s || !sum || format > CS_PFMT_CSV || (n && (!ids || !rows || !matrix)))
        return cs_fail(err, CS_EINVAL, "bad arguments to the mesh report");
    (void)opts;
    const char *topology = hub_pos == CS_MESH_FULL ? "full-mesh" : "hub-and-spoke";
    /* Spokes that overlap each other: the hub could not route to both
     * without specific routes (routing ambiguity at the hub). */
    uint32_t spoke_overlaps = 0;
    if (hub_pos != CS_MESH_FULL)
        for (size_t i = 0; i < n; i++)
            for (size_t k = i + 1; k < n; k++)
                if (i != hub_pos && k != hub_pos &&
                    (matrix[i * n + k].reasons &
                     ((1u << CS_PEER_OVERLAP_V4) | (1u << CS_PEER_OVERLAP_V6))))
                    spoke_overlaps++;
    if (format == CS_PFMT_JSON) {
        cs_json j;
        json_init(&j, f, format);
        cs_json_begin_object(&j);
        cs_json_key(&j, "summary");
        cs_json_begin_object(&j);
        cs_json_kv_string(&j, "topology", topology);
        if (hub_pos != CS_MESH_FULL)
            cs_json_kv_string(&j, "hub", ids[hub_pos]);
        cs_json_kv_u64(&j, "vpcs", sum->vpcs);
        cs_json_kv_u64(&j, "links", sum->links);
        cs_json_kv_u64(&j, "existing", sum->existing);
        cs_json_kv_u64(&j, "pending", sum->pending);
        cs_json_kv_u64(&j, "needed", sum->needed);
        cs_json_kv_u64(&j, "conflicts", sum->conflicts);
        cs_json_kv_u64(&j, "over_quota", sum->over_quota);
        cs_json_kv_u64(&j, "spoke_overlaps", spoke_overlaps);
        cs_json_kv_u64(&j, "quota", sum->quota);
        cs_json_kv_bool(&j, "feasible", !sum->conflicts && !sum->over_quota);
        cs_json_end(&j);
        cs_json_key(&j, "vpcs");
        cs_json_begin_array(&j);
        for (size_t i = 0; i < n; i++) {
            const cs_peering_mesh_row *r = &rows[i];
            cs_json_begin_object(&j);
            cs_json_kv_string(&j, "vpc", ids[i]);
            cs_json_kv_bool(&j, "known", r->vpc != CS_IDX_NONE);
            cs_json_kv_u64(&j, "active", r->active);
            cs_json_kv_u64(&j, "planned", r->planned);
            cs_json_kv_u64(&j, "existing", r->existing);
            cs_json_kv_u64(&j, "pending", r->pending);
            cs_json_kv_u64(&j, "needed", r->needed);
            cs_json_kv_u64(&j, "conflicts", r->conflicts);
            cs_json_kv_u64(&j, "after", r->after);
            cs_json_kv_u64(&j, "quota", sum->quota);
            cs_json_kv_bool(&j, "over_quota", r->over_quota);
            cs_json_end(&j);
        }
        cs_json_end(&j);
        cs_json_key(&j, "results");
        cs_json_begin_array(&j);
        for (size_t i = 0; i < n; i++)
            for (size_t k = i + 1; k < n; k++) {
                const cs_peering_verdict *v = &matrix[i * n + k];
                bool planned = hub_pos == CS_MESH_FULL || i == hub_pos || k == hub_pos;
                cs_json_begin_object(&j);
                cs_json_kv_string(&j, "a", ids[i]);
                cs_json_kv_string(&j, "b", ids[k]);
                cs_json_kv_string(&j, "verdict", cs_peering_verdict_name(v->verdict));
                cs_json_key(&j, "reasons");
                cs_json_begin_array(&j);
                for (unsigned c = 0; c < CS_PEER_CODE_COUNT; c++)
                    if ((v->reasons >> c) & 1u)
                        cs_json_string(&j, cs_peering_code_name(c));
                cs_json_end(&j);
                cs_json_kv_bool(&j, "planned", planned);
                if (planned) {
                    uint32_t pcx;
                    int link = cs_peering_mesh_link(s, rows[i].vpc, rows[k].vpc, v, &pcx);
                    cs_json_kv_string(&j, "link", cs_mesh_link_name((unsigned)link));
                    if (pcx != CS_IDX_NONE)
                        cs_json_kv_string(&j, "connection", pcx_id(s, pcx));
                }
                cs_json_end(&j);
            }
        cs_json_end(&j);
        cs_json_end(&j);
        cs_json_newline(&j);
    } else if (format == CS_PFMT_CSV) {
        static const char *const header[] = {"a", "b", "planned", "link", "verdict", "reasons",
                                             NULL};
        cs_csv c;
        cs_csv_init(&c, f);
        cs_csv_header(&c, header);
        for (size_t i = 0; i < n; i++)
            for (size_t k = i + 1; k < n; k++) {
                const cs_peering_verdict *v = &matrix[i * n + k];
                bool planned = hub_pos == CS_MESH_FULL || i == hub_pos || k == hub_pos;
                char w[256];
                sbuf wb = {w, sizeof w, 0};
                w[0] = '\0';
                for (unsigned m = 0; m < CS_PEER_CODE_COUNT; m++)
                    if ((v->reasons >> m) & 1u)
                        sb_printf(&wb, "%s%s", wb.len ? ";" : "", cs_peering_code_name(m));
                cs_csv_field(&c, ids[i]);
                cs_csv_field(&c, ids[k]);
                cs_csv_field(&c, planned ? "yes" : "no");
                cs_csv_field(&c, planned ? cs_mesh_link_name((unsigned)cs_peering_mesh_link(
                                               s, rows[i].vpc, rows[k].vpc, v, NULL))
                                         : "");
                cs_csv_field(&c, cs_peering_verdict_name(v->verdict));
                cs_csv_field(&c, w);
                cs_csv_end_row(&c);
            }
    } else {
        fprintf(f, "%s of %u VPC%s", topology, sum->vpcs, plural(sum->vpcs));
        if (hub_pos != CS_MESH_FULL)
            fprintf(f, " (hub %s)", ids[hub_pos]);
        fprintf(f, ": %u link%s, %u existing, %u pending, %u to request, %u conflicting; "
                   "%u VPC%s over the quota of %u\n\n",
                sum->links, plural(sum->links), sum->existing, sum->pending, sum->needed,
                sum->conflicts, sum->over_quota, plural(sum->over_quota), sum->quota);
        /* The matrix: one row and column per VPC, numbered; past
         * MESH_TEXT_MATRIX VPCs it would not fit a screen, so the links
         * that cannot be made are listed instead. */
        if (n > MESH_TEXT_MATRIX) {
            fputs("  links that cannot be made:\n", f);
            uint32_t shown = 0;
            for (size_t i = 0; i < n; i++)
                for (size_t k = i + 1; k < n; k++) {
                    const cs_peering_verdict *v = &matrix[i * n + k];
                    bool planned = hub_pos == CS_MESH_FULL || i == hub_pos || k == hub_pos;
                    if (!planned || cs_peering_mesh_link(s, rows[i].vpc, rows[k].vpc, v, NULL) !=
                                        CS_LINK_CONFLICT)
                        continue;
                    fprintf(f, "    %s  %s ", ids[i], ids[k]);
                    const char *sep = " ";
                    for (unsigned m = 0; m < CS_PEER_CODE_COUNT; m++)
                        if ((v->reasons >> m) & 1u) {
                            fprintf(f, "%s%s", sep, cs_peering_code_name(m));
                            sep = ",";
                        }
                    fputc('\n', f);
                    shown++;
                }
            if (!shown)
                fputs("    none\n", f);
            fputc('\n', f);
        } else {
        fputs("      ", f);
        for (size_t k = 0; k < n; k++)
            fprintf(f, "%3zu", k + 1);
        fputc('\n', f);
        for (size_t i = 0; i < n; i++) {
            fprintf(f, "%4zu  ", i + 1);
            for (size_t k = 0; k < n; k++) {
                const cs_peering_verdict *v = &matrix[i * n + k];
                char ch;
                if (i == k)
                    ch = '\\';
                else if (v->reasons & (1u << CS_PEER_UNKNOWN_VPC))
                    ch = '?';
                else if (v->reasons & ((1u << CS_PEER_OVERLAP_V4) | (1u << CS_PEER_OVERLAP_V6)))
                    ch = 'X';
                else if (v->reasons & (1u << CS_PEER_ALREADY_PEERED))
                    ch = '=';
                else if (v->reasons & (1u << CS_PEER_QUOTA))
                    ch = 'Q';
                else
                    ch = v->verdict == CS_PEER_ELIGIBLE ? '.' : 'w';
                fprintf(f, "  %c", ch);
            }
            fprintf(f, "  %s\n", ids[i]);
        }
        fputs("\n  . eligible  w eligible with warnings  X overlapping blocks  = already "
              "peered\n  Q at the quota  ? unknown VPC\n\n",
              f);
        }
        fprintf(f, "  %-24s %6s %7s %8s %7s %6s %5s %5s\n", "vpc", "active", "planned",
                "existing", "pending", "needed", "after", "quota");
        for (size_t i = 0; i < n; i++) {
            const cs_peering_mesh_row *r = &rows[i];
            fputs("  ", f);
            cs_text_col(f, ids[i], 24);
            fprintf(f, " %6u %7u %8u %7u %6u %5u %5u%s%s\n", r->active, r->planned, r->existing,
                    r->pending, r->needed, r->after, sum->quota,
                    r->over_quota ? "  OVER QUOTA" : "", r->vpc == CS_IDX_NONE ? "  unknown" : "");
        }
        if (spoke_overlaps)
            fprintf(f, "\n  %u pair%s of spokes overlap: the hub needs routes more specific "
                       "than their blocks to reach both (routing-ambiguity)\n",
                    spoke_overlaps, plural(spoke_overlaps));
    }
    return cs_out_finish(f, "mesh report", err);
}

/* ---- reach ------------------------------------------------------------------------------- */

typedef struct reach_rep {
    FILE *f;
    unsigned format;
    const cs_snapshot *s;
    const cs_reach_end *src, *dst;
    const char *src_text, *dst_text;
    cs_json j;
    cs_csv c;
    uint64_t no_conn;
    char msg[1024];
} reach_rep;

static const char *relation_name(unsigned rel)
{
    switch (rel) {
    case CS_REL_COVERS: return "covers";
    case CS_REL_EQUAL: return "equal";
    case CS_REL_COVERED: return "covered";
    default: return NULL;
    }
}

static void reach_message(reach_rep *rr, const cs_reach_finding *fd)
{
    const cs_snapshot *s = rr->s;
    sbuf sb = {rr->msg, sizeof rr->msg, 0};
    rr->msg[0] = '\0';
    char p[CS_PREFIX_STRCAP];
    /* The source by its VPC id when it is one (an address given for SRC
     * stands for the VPC holding it); the destination VPC X, and when DST
     * is a prefix or address, where X holds it. */
    const char *src = rr->src->vpc != CS_IDX_NONE ? vpc_id(s, rr->src->vpc) : rr->src_text;
    const char *dst = rr->dst_text;
    const char *x = fd->vpc != CS_IDX_NONE ? vpc_id(s, fd->vpc) : "?";
    char xs[256];
    if (fd->assoc != CS_IDX_NONE)
        snprintf(xs, sizeof xs,
                 fd->relation == CS_REL_COVERED ? "%s (which holds part of %s: its block %s)"
                                                : "%s (which holds %s in its block %s)",
                 x, dst, assoc_text(s, fd->assoc, p));
    else
        snprintf(xs, sizeof xs, "%s", x);
    cs_edge e;
    bool edge = fd->edge != CS_IDX_NONE && cs_estate_edge(s, fd->edge, &e) == 0;
    switch (fd->code) {
    case CS_REACH_LOCAL:
        if (fd->assoc != CS_IDX_NONE && fd->relation == CS_REL_COVERED)
            sb_printf(&sb, "part of %s is %s's own block %s: the local route carries it; no "
                           "peering is involved",
                      dst, src, assoc_text(s, fd->assoc, p));
        else if (fd->assoc != CS_IDX_NONE)
            sb_printf(&sb, "%s is inside %s's own block %s: the local route carries it; no "
                           "peering is involved",
                      dst, src, assoc_text(s, fd->assoc, p));
        else
            sb_printf(&sb, "source and destination are the same VPC %s: no peering is involved",
                      src);
        break;
    case CS_REACH_PEERED:
        sb_printf(&sb,
                  "the active connection %s joins %s and %s: reachable once both route tables "
                  "send the other's range to it; security-group references across it are %s",
                  pcx_id(s, fd->pcx), src, xs,
                  fd->sg_refs ? "possible (same region, active)"
                              : "not possible (different or unknown regions): use CIDR rules");
        break;
    case CS_REACH_NOT_ACTIVE:
        sb_printf(&sb, "%s joins %s and %s but is %s: only active connections carry traffic",
                  pcx_id(s, fd->pcx), src, xs, cs_pcx_status_name(fd->status));
        break;
    case CS_REACH_TRANSITIVE:
    case CS_REACH_NO_CONNECTION: {
        cs_peering_verdict v;
        cs_peering_check(s, rr->src->vpc, fd->vpc, NULL, &v);
        if (fd->code == CS_REACH_TRANSITIVE)
            sb_printf(&sb,
                      "%s is peered with %s (%s), and %s with %s (%s), but peering is not "
                      "transitive: traffic cannot pass through %s. A direct connection %s-%s is "
                      "needed",
                      src, vpc_id(s, fd->via), pcx_id(s, fd->pcx), vpc_id(s, fd->via), xs,
                      pcx_id(s, fd->via_pcx), vpc_id(s, fd->via), src, x);
        else
            sb_printf(&sb, "no peering connection joins %s and %s: a direct connection is "
                           "needed",
                      src, xs);
        sb_printf(&sb, " (it would be %s", cs_peering_verdict_name(v.verdict));
        for (unsigned c = 0, first = 1; c < CS_PEER_CODE_COUNT; c++)
            if ((v.reasons >> c) & 1u) {
                sb_printf(&sb, "%s%s", first ? ": " : ", ", cs_peering_code_name(c));
                first = 0;
            }
        sb_printf(&sb, ")");
        break;
    }
    case CS_REACH_EDGE_TO_EDGE: {
        const char *kind = edge ? cs_edge_kind_name(e.kind) : "edge";
        const char *eid = edge ? e.id : "?";
        if (rr->src->vpc != CS_IDX_NONE)
            sb_printf(&sb,
                      "%s's %s %s cannot carry %s's traffic to %s: the peering connection %s "
                      "does not extend to the peer's gateways or private connections "
                      "(edge-to-edge routing is not supported)",
                      x, kind, eid, src, dst, pcx_id(s, fd->pcx));
        else
            sb_printf(&sb,
                      "traffic from %s entering %s through its %s %s cannot continue over %s "
                      "to its peer: edge-to-edge routing is not supported",
                      src, x, kind, eid, pcx_id(s, fd->pcx));
        break;
    }
    case CS_REACH_OWN_EDGE:
        sb_printf(&sb, "%s's own %s %s may carry this traffic; that path is not peering", x,
                  edge ? cs_edge_kind_name(e.kind) : "edge", edge ? e.id : "?");
        break;
    case CS_REACH_OUTSIDE:
        sb_printf(&sb, "%s is outside every VPC of the estate, and %s has no gateway or "
                       "private connection of its own nor an active peer with one: nothing "
                       "carries this traffic",
                  rr->src->vpc != CS_IDX_NONE ? dst : src, x);
        break;
    case CS_REACH_UNKNOWN_VPC:
        sb_printf(&sb, "%s or %s names no VPC of the estate", rr->src_text, dst);
        break;
    default:
        break;
    }
}

static int reach_cb(const cs_reach_finding *fd, void *ctx)
{
    reach_rep *rr = ctx;
    if (fd->code == CS_REACH_NO_CONNECTION && ++rr->no_conn > REACH_SHOW_MAX)
        return 0;
    reach_message(rr, fd);
    const cs_snapshot *s = rr->s;
    bool ok = fd->code == CS_REACH_LOCAL || fd->code == CS_REACH_PEERED;
    char p[CS_PREFIX_STRCAP];
    if (rr->format == CS_PFMT_JSON) {
        cs_json *j = &rr->j;
        cs_json_begin_object(j);
        cs_json_kv_string(j, "code", cs_reach_code_name(fd->code));
        cs_json_kv_bool(j, "reachable", ok);
        if (fd->vpc != CS_IDX_NONE)
            cs_json_kv_string(j, "vpc", vpc_id(s, fd->vpc));
        if (fd->assoc != CS_IDX_NONE)
            cs_json_kv_string(j, "block", assoc_text(s, fd->assoc, p));
        if (relation_name(fd->relation))
            cs_json_kv_string(j, "relation", relation_name(fd->relation));
        if (fd->pcx != CS_IDX_NONE) {
            cs_json_kv_string(j, "connection", pcx_id(s, fd->pcx));
            cs_peering pc;
            if (cs_estate_peering(s, fd->pcx, &pc) == 0)
                cs_json_kv_string(j, "status", cs_pcx_status_name(pc.status));
        }
        if (fd->via != CS_IDX_NONE) {
            cs_json_kv_string(j, "via", vpc_id(s, fd->via));
            cs_json_kv_string(j, "via_connection", pcx_id(s, fd->via_pcx));
        }
        cs_edge e;
        if (fd->edge != CS_IDX_NONE && cs_estate_edge(s, fd->edge, &e) == 0) {
            cs_json_key(j, "edge");
            cs_json_begin_object(j);
            cs_json_kv_string(j, "id", e.id);
            cs_json_kv_string(j, "kind", cs_edge_kind_name(e.kind));
            cs_json_end(j);
        }
        if (fd->code == CS_REACH_PEERED)
            cs_json_kv_bool(j, "security_group_references", fd->sg_refs);
        cs_json_kv_string(j, "message", rr->msg);
        cs_json_end(j);
    } else if (rr->format == CS_PFMT_CSV) {
        cs_csv_field(&rr->c, cs_reach_code_name(fd->code));
        cs_csv_field(&rr->c, ok ? "yes" : "no");
        cs_csv_field(&rr->c, fd->vpc != CS_IDX_NONE ? vpc_id(s, fd->vpc) : "");
        cs_csv_field(&rr->c, fd->pcx != CS_IDX_NONE ? pcx_id(s, fd->pcx) : "");
        cs_csv_field(&rr->c, fd->via != CS_IDX_NONE ? vpc_id(s, fd->via) : "");
        cs_csv_field(&rr->c, rr->msg);
        cs_csv_end_row(&rr->c);
    } else {
        char line[sizeof rr->msg + 64];
        snprintf(line, sizeof line, "%s: %s", cs_reach_code_name(fd->code), rr->msg);
        cs_text_wrap(rr->f, line, 2, CS_TEXT_WIDTH);
    }
    return 0;
}

static int count_partial(const cs_reach_finding *fd, void *ctx)
{
    uint32_t *partial = ctx;
    if ((fd->code == CS_REACH_LOCAL || fd->code == CS_REACH_PEERED) &&
        fd->relation == CS_REL_COVERED)
        (*partial)++;
    return 0;
}

int cs_peering_report_reach(FILE *f, unsigned format, const cs_snapshot *s, const char *src_text,
                            const cs_reach_end *src, const char *dst_text,
                            const cs_reach_end *dst, cs_reach_summary *sum, cs_error *err)
{
    if (!f || !s || !src || !dst || format > CS_PFMT_CSV)
        return cs_fail(err, CS_EINVAL, "bad arguments to the reach report");
    reach_rep rr;
    memset(&rr, 0, sizeof rr);
    rr.f = f;
    rr.format = format;
    rr.s = s;
    rr.src = src;
    rr.dst = dst;
    rr.src_text = src_text;
    rr.dst_text = dst_text;
    cs_reach_summary local;
    if (!sum)
        sum = &local;
    /* The verdict comes first in every format, so a dry run counts; it also
     * counts the holders whose block is only part of DST. */
    uint32_t partial = 0;
    int rc = cs_peering_reach(s, src, dst, count_partial, &partial, sum);
    if (rc < 0)
        return cs_fail(err, rc,
                       "cannot answer: %s and %s are both outside every VPC, or the source "
                       "address lies inside a VPC (name that VPC instead)",
                       src_text, dst_text);
    /* Reachable: every holder is (and DST lies inside their blocks);
     * partly: some part of DST is. */
    uint64_t ok = sum->count[CS_REACH_LOCAL] + sum->count[CS_REACH_PEERED];
    const char *answer = !sum->reachable                      ? "not reachable over peering"
                         : ok < sum->holders || partial != 0 ? "partly reachable"
                                                               : "reachable";
    if (format == CS_PFMT_JSON) {
        json_init(&rr.j, f, format);
        cs_json *j = &rr.j;
        cs_json_begin_object(j);
        cs_json_key(j, "summary");
        cs_json_begin_object(j);
        cs_json_kv_string(j, "src", src_text);
        cs_json_kv_string(j, "dst", dst_text);
        cs_json_kv_bool(j, "reachable", sum->reachable);
        cs_json_kv_string(j, "answer", answer);
        cs_json_kv_u64(j, "holders", sum->holders);
        cs_json_key(j, "findings");
        cs_json_begin_object(j);
        for (unsigned c = 0; c < CS_REACH_CODE_COUNT; c++)
            if (sum->count[c])
                cs_json_kv_u64(j, cs_reach_code_name(c), sum->count[c]);
        cs_json_end(j);
        cs_json_end(j);
        cs_json_key(j, "results");
        cs_json_begin_array(j);
    } else if (format == CS_PFMT_CSV) {
        static const char *const header[] = {"code", "reachable", "vpc", "connection", "via",
                                             "message", NULL};
        cs_csv_init(&rr.c, f);
        cs_csv_header(&rr.c, header);
    } else {
        fprintf(f, "%s -> %s: %s\n", src_text, dst_text, answer);
    }
    cs_peering_reach(s, src, dst, reach_cb, &rr, NULL);
    if (format == CS_PFMT_JSON) {
        cs_json_end(&rr.j);
        if (rr.no_conn > REACH_SHOW_MAX)
            cs_json_kv_u64(&rr.j, "omitted", rr.no_conn - REACH_SHOW_MAX);
        cs_json_end(&rr.j);
        cs_json_newline(&rr.j);
    } else if (format == CS_PFMT_TEXT && rr.no_conn > REACH_SHOW_MAX) {
        fprintf(f, "  ... and %" PRIu64 " more VPCs holding it with no connection\n",
                rr.no_conn - REACH_SHOW_MAX);
    }
    return cs_out_finish(f, "reach report", err);
}

/* ---- can-add ----------------------------------------------------------------------------- */

size_t cs_can_add_message(const cs_snapshot *s, const char *vpc_id_text, const cs_prefix *p,
                          const cs_can_add_reason *r, char *buf, size_t cap)
{
    sbuf sb = {buf, cap, 0};
    if (cap)
        buf[0] = '\0';
    char pb[CS_PREFIX_STRCAP], ab[CS_PREFIX_STRCAP];
    cs_prefix_format(p, pb, sizeof pb);
    const char *peer = r->peer != CS_IDX_NONE ? vpc_id(s, r->peer) : NULL;
    cs_peering pc;
    if (r->pcx != CS_IDX_NONE && cs_estate_peering(s, r->pcx, &pc) == 0 && !peer)
        peer = pc.requester.vpc_idx == r->peer ? pc.requester.vpc_id : pc.accepter.vpc_id;
    switch (r->code) {
    case CS_ADD_UNKNOWN_VPC:
        sb_printf(&sb, "%s is not a VPC of the estate", vpc_id_text);
        break;
    case CS_ADD_BLOCK_SIZE:
        sb_printf(&sb, "%s is a /%u; AWS associates %s", pb, p->len,
                  cs_aws_block_sizes_text(p->family));
        break;
    case CS_ADD_LINK_LOCAL:
        sb_printf(&sb, "%s is link-local (169.254.0.0/16), which AWS never assigns to VPCs", pb);
        break;
    case CS_ADD_RESERVED:
        sb_printf(&sb, "%s is inside %s, which AWS never assigns to VPCs", pb,
                  cs_aws_reserved_range(p, NULL));
        break;
    case CS_ADD_OWN_OVERLAP:
        sb_printf(&sb, "%s overlaps %s, already associated with %s", pb,
                  assoc_text(s, r->assoc, ab), vpc_id_text);
        break;
    case CS_ADD_RESTRICTED:
        sb_printf(&sb, "%s is restricted for %s (its block %s): %s", pb, vpc_id_text,
                  assoc_text(s, r->assoc, ab), cs_aws_rule_text(r->rule));
        break;
    case CS_ADD_BLOCK_QUOTA:
        sb_printf(&sb, "%s already has %u live %s block%s (quota %u; AWS allows up to 50 on "
                       "request)",
                  vpc_id_text, r->count, p->family == CS_AF_V4 ? "IPv4" : "IPv6",
                  plural(r->count), r->limit);
        break;
    case CS_ADD_PEER_OVERLAP:
        sb_printf(&sb, "%s overlaps %s of %s, peered through %s (%s): blocks must not overlap "
                       "a peer's while the connection is active",
                  pb, assoc_text(s, r->assoc, ab), peer ? peer : "?", pcx_id(s, r->pcx),
                  cs_pcx_status_name(r->status));
        break;
    case CS_ADD_PENDING_REQUESTER:
        sb_printf(&sb, "%s requested %s (%s, to %s): while it is pending the requester can add "
                       "no IPv4 block; accept it, or delete the request, add the block and "
                       "request again",
                  vpc_id_text, pcx_id(s, r->pcx), cs_pcx_status_name(r->status),
                  peer ? peer : "?");
        break;
    case CS_ADD_PENDING_FAILS:
        sb_printf(&sb, "%s overlaps %s of %s, whose request %s is %s: the block can be added, "
                       "but the request then fails and cannot be accepted",
                  pb, assoc_text(s, r->assoc, ab), peer ? peer : "?", pcx_id(s, r->pcx),
                  cs_pcx_status_name(r->status));
        break;
    case CS_ADD_PEER_UNKNOWN:
        sb_printf(&sb, "the peer of %s (%s) is not in the estate: its blocks were not checked",
                  pcx_id(s, r->pcx), cs_pcx_status_name(r->status));
        break;
    default:
        sb_printf(&sb, "unknown reason");
        break;
    }
    return sb.len;
}

int cs_peering_report_can_add(FILE *f, unsigned format, const cs_snapshot *s,
                              const char *vpc_id_text, uint32_t vpc, const cs_prefix *p,
                              const cs_can_add_opts *o, bool *blocked, cs_error *err)
{
    if (!f || !s || !p || format > CS_PFMT_CSV)
        return cs_fail(err, CS_EINVAL, "bad arguments to the can-add report");
    cs_can_add_reason rs[REPORT_EV_CAP];
    int64_t total = cs_peering_can_add(s, vpc, p, o, rs, REPORT_EV_CAP);
    if (total < 0)
        return cs_fail(err, (int)total, "cannot evaluate the block");
    size_t n = (uint64_t)total < REPORT_EV_CAP ? (size_t)total : REPORT_EV_CAP;
    bool block = false, warn = false;
    for (size_t i = 0; i < n; i++) {
        if (cs_can_add_code_blocks(rs[i].code))
            block = true;
        else
            warn = true;
    }
    if (blocked)
        *blocked = block;
    const char *verdict = block ? "blocked" : warn ? "allowed-with-warnings" : "allowed";
    char pb[CS_PREFIX_STRCAP], ab[CS_PREFIX_STRCAP], msg[1024];
    cs_prefix_format(p, pb, sizeof pb);
    if (format == CS_PFMT_JSON) {
        cs_json j;
        json_init(&j, f, format);
        cs_json_begin_object(&j);
        cs_json_key(&j, "summary");
        cs_json_begin_object(&j);
        cs_json_kv_string(&j, "vpc", vpc_id_text);
        cs_json_kv_string(&j, "cidr", pb);
        cs_json_kv_string(&j, "verdict", verdict);
        cs_json_kv_u64(&j, "reasons", (uint64_t)total);
        cs_json_end(&j);
        cs_json_key(&j, "results");
        cs_json_begin_array(&j);
        for (size_t i = 0; i < n; i++) {
            const cs_can_add_reason *r = &rs[i];
            cs_can_add_message(s, vpc_id_text, p, r, msg, sizeof msg);
            cs_json_begin_object(&j);
            cs_json_kv_string(&j, "code", cs_can_add_code_name(r->code));
            cs_json_kv_string(&j, "kind", cs_can_add_code_blocks(r->code) ? "blocks" : "warns");
            cs_json_kv_string(&j, "message", msg);
            if (r->assoc != CS_IDX_NONE)
                cs_json_kv_string(&j, "block", assoc_text(s, r->assoc, ab));
            if (r->pcx != CS_IDX_NONE) {
                cs_json_kv_string(&j, "connection", pcx_id(s, r->pcx));
                cs_json_kv_string(&j, "status", cs_pcx_status_name(r->status));
            }
            if (r->peer != CS_IDX_NONE)
                cs_json_kv_string(&j, "peer", vpc_id(s, r->peer));
            if (r->code == CS_ADD_BLOCK_QUOTA) {
                cs_json_kv_u64(&j, "count", r->count);
                cs_json_kv_u64(&j, "quota", r->limit);
            }
            cs_json_end(&j);
        }
        cs_json_end(&j);
        cs_json_end(&j);
        cs_json_newline(&j);
    } else if (format == CS_PFMT_CSV) {
        static const char *const header[] = {"vpc", "cidr", "verdict", "code", "kind",
                                             "message", NULL};
        cs_csv c;
        cs_csv_init(&c, f);
        cs_csv_header(&c, header);
        for (size_t i = 0; i < (n ? n : 1); i++) {
            cs_csv_field(&c, vpc_id_text);
            cs_csv_field(&c, pb);
            cs_csv_field(&c, verdict);
            if (n) {
                cs_can_add_message(s, vpc_id_text, p, &rs[i], msg, sizeof msg);
                cs_csv_field(&c, cs_can_add_code_name(rs[i].code));
                cs_csv_field(&c, cs_can_add_code_blocks(rs[i].code) ? "blocks" : "warns");
                cs_csv_field(&c, msg);
            } else {
                cs_csv_field(&c, "");
                cs_csv_field(&c, "");
                cs_csv_field(&c, "");
            }
            cs_csv_end_row(&c);
        }
    } else {
        fprintf(f, "%s + %s: %s\n", vpc_id_text, pb, verdict);
        for (size_t i = 0; i < n; i++) {
            int hl = snprintf(msg, sizeof msg, "%s (%s): ", cs_can_add_code_name(rs[i].code),
                              cs_can_add_code_blocks(rs[i].code) ? "blocks" : "warns");
            size_t off = hl > 0 && (size_t)hl < sizeof msg ? (size_t)hl : 0;
            cs_can_add_message(s, vpc_id_text, p, &rs[i], msg + off, sizeof msg - off);
            cs_text_wrap(f, msg, 2, CS_TEXT_WIDTH);
        }
    }
    return cs_out_finish(f, "can-add report", err);
}
