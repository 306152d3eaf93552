/*
 * engine/report/peering_report.c — prints the answers of engine/query/peering.c:
 * check verdicts (streaming, any number of pairs) as text, JSON, CSV and
 * NDJSON, and the sentence of every reason code. The other peering
 * documents below are written by peering_plan_report.c (candidates, mesh,
 * can-add) and reach_report.c (reach), on the helpers of peering_report.h.
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
 *   check, NDJSON   one result object a line ("type": "result"), then
 *                    {"type": "summary", "summary": {...}}
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

#include "core/error_internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- check: sentences ----------------------------------------------------------- */

size_t cs_peering_reason_message(const cs_snapshot *s, const char *a_id, const char *b_id,
                                 uint32_t a, uint32_t b, uint32_t quota, unsigned code,
                                 const cs_peering_reason *ev, size_t n, uint64_t total,
                                 char *buf, size_t cap)
{
    cs_sbuf sb = {buf, cap, 0};
    if (cap)
        buf[0] = '\0';
    char p1[CS_PREFIX_STRCAP], p2[CS_PREFIX_STRCAP];
    switch (code) {
    case CS_PEER_SAME_VPC:
        cs_sbuf_printf(&sb, "%s and %s are one VPC: a VPC cannot be peered with itself", a_id,
                  b_id);
        break;
    case CS_PEER_UNKNOWN_VPC:
        for (size_t i = 0; i < n; i++) {
            uint32_t v = ev[i].side ? b : a;
            const char *id = ev[i].side ? b_id : a_id;
            cs_vpc x;
            bool pseudo = v != CS_IDX_NONE && cs_estate_vpc(s, v, &x) == 0 && x.pseudo;
            cs_sbuf_printf(&sb, "%s%s %s", i ? "; " : "", id,
                      pseudo ? "is a prefix-list owner, not a VPC"
                             : "is not a VPC of the estate");
        }
        cs_sbuf_printf(&sb, "; no other rule can be checked");
        break;
    case CS_PEER_OVERLAP_V4:
    case CS_PEER_OVERLAP_V6:
        if (n) {
            cs_sbuf_printf(&sb, "%s's %s overlaps %s's %s", a_id, assoc_text(s, ev[0].assoc[0], p1),
                      b_id, assoc_text(s, ev[0].assoc[1], p2));
            if (total > 1)
                cs_sbuf_printf(&sb, " (and %" PRIu64 " more pair%s)", total - 1, plural(total - 1));
        }
        cs_sbuf_printf(&sb,
                  "%sAWS refuses a peering connection when any live %s block of one VPC "
                  "overlaps or equals one of the other's, even if only non-overlapping blocks "
                  "would be routed; the request would end in 'failed'",
                  n ? ": " : "", code == CS_PEER_OVERLAP_V4 ? "IPv4" : "IPv6");
        break;
    case CS_PEER_ALREADY_PEERED:
        if (n)
            cs_sbuf_printf(&sb, "%s already joins %s and %s and is %s", pcx_id(s, ev[0].pcx), a_id,
                      b_id, cs_pcx_status_name(ev[0].status));
        if (total > 1)
            cs_sbuf_printf(&sb, " (%" PRIu64 " such connections)", total);
        cs_sbuf_printf(&sb, ": AWS allows one peering connection between two VPCs at a time");
        break;
    case CS_PEER_QUOTA:
        for (size_t i = 0; i < n; i++)
            cs_sbuf_printf(&sb, "%s%s already has %u active peering connection%s", i ? " and " : "",
                      ev[i].side ? b_id : a_id, ev[i].count, plural(ev[i].count));
        cs_sbuf_printf(&sb,
                  " (quota %u): a new connection could not become active; raise the quota "
                  "(AWS allows up to %u) or delete a connection",
                  quota, CS_PEERING_QUOTA_MAX);
        break;
    case CS_PEER_CROSS_REGION:
        cs_sbuf_printf(&sb,
                  "%s is in %s and %s in %s: allowed, but security groups cannot be "
                  "referenced across the connection and its MTU is 1500 bytes (no jumbo "
                  "frames)",
                  a_id, cs_report_vpc(s, a).region, b_id, cs_report_vpc(s, b).region);
        break;
    case CS_PEER_CROSS_ACCOUNT:
        cs_sbuf_printf(&sb,
                  "%s belongs to account %s and %s to %s: allowed, but the accepter's owner "
                  "must accept the request within 7 days",
                  a_id, cs_report_vpc(s, a).account, b_id, cs_report_vpc(s, b).account);
        break;
    case CS_PEER_ROUTING_AMBIGUITY:
        if (n) {
            const cs_peering_reason *r = &ev[0];
            const char *hub = r->side ? b_id : a_id, *other = r->side ? a_id : b_id;
            cs_sbuf_printf(&sb,
                      "%s is already peered with %s (%s), whose %s overlaps %s's %s: %s would "
                      "need more specific routes, since AWS does no reverse-path check and "
                      "replies can go to the wrong VPC",
                      hub, cs_report_vpc(s, r->third).id, pcx_id(s, r->pcx), assoc_text(s, r->assoc[0], p1),
                      other, assoc_text(s, r->assoc[1], p2), hub);
            if (total > 1)
                cs_sbuf_printf(&sb, " (%" PRIu64 " overlapping block pairs in all)", total);
        }
        break;
    default:
        cs_sbuf_printf(&sb, "unknown reason");
        break;
    }
    return sb.len;
}

/* ---- check: documents ------------------------------------------------------------ */

struct cs_peering_report {
    FILE *f;
    enum cs_report_format format;
    const cs_snapshot *s;
    cs_peering_opts opts;
    uint32_t quota;
    cs_json j;
    cs_csv c;
    cs_peering_reason ev[REPORT_EV_CAP];
    char msg[2048];
};

cs_peering_report *cs_peering_report_new(FILE *f, enum cs_report_format format, const cs_snapshot *s,
                                         const cs_peering_opts *opts)
{
    if (!f || !s || format > CS_REPORT_NDJSON)
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
    case CS_REPORT_JSON: {
        cs_peering_summary none;
        memset(&none, 0, sizeof none);
        cs_json_begin_object(&r->j);
        cs_json_key(&r->j, "summary");
        json_summary(&r->j, sum ? sum : &none, r->quota);
        cs_json_key(&r->j, "results");
        cs_json_begin_array(&r->j);
        break;
    }
    case CS_REPORT_CSV:
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
        cs_json_kv_string(j, "a_region", cs_report_vpc(s, a).region);
        cs_json_kv_string(j, "b_region", cs_report_vpc(s, b).region);
        break;
    case CS_PEER_CROSS_ACCOUNT:
        cs_json_kv_string(j, "a_account", cs_report_vpc(s, a).account);
        cs_json_kv_string(j, "b_account", cs_report_vpc(s, b).account);
        break;
    case CS_PEER_ROUTING_AMBIGUITY:
        cs_json_kv_string(j, "hub", e->side ? b_id : a_id);
        cs_json_kv_string(j, "third_vpc", cs_report_vpc(s, e->third).id);
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
    case CS_REPORT_JSON:
    case CS_REPORT_NDJSON: {
        cs_json *j = &r->j;
        cs_json_begin_object(j);
        if (r->format == CS_REPORT_NDJSON)
            cs_json_kv_string(j, "type", "result");
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
        if (r->format == CS_REPORT_NDJSON)
            cs_json_newline(j);
        break;
    }
    case CS_REPORT_CSV: {
        char codes[256];
        cs_sbuf cb = {codes, sizeof codes, 0};
        codes[0] = '\0';
        for (unsigned c = 0; c < CS_PEER_CODE_COUNT; c++)
            if ((v->reasons >> c) & 1u)
                cs_sbuf_printf(&cb, "%s%s", cb.len ? ";" : "", cs_peering_code_name(c));
        cs_csv_field(&r->c, a_id);
        cs_csv_field(&r->c, b_id);
        cs_csv_field(&r->c, verdict);
        cs_csv_field(&r->c, codes);
        /* The sentences, joined. */
        char all[4096];
        cs_sbuf ab = {all, sizeof all, 0};
        all[0] = '\0';
        for (unsigned c = 0; c < CS_PEER_CODE_COUNT; c++) {
            if (!((v->reasons >> c) & 1u))
                continue;
            evslice e = code_evidence(r, a, b, v->reasons, c, total, &fresh);
            cs_peering_reason_message(r->s, a_id, b_id, a, b, r->quota, c, e.ev, e.n, e.total,
                                      r->msg, sizeof r->msg);
            cs_sbuf_printf(&ab, "%s%s", ab.len ? " | " : "", r->msg);
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
    case CS_REPORT_JSON:
        cs_json_end(&r->j);
        cs_json_end(&r->j);
        cs_json_newline(&r->j);
        break;
    case CS_REPORT_NDJSON:
        cs_json_begin_object(&r->j);
        cs_json_kv_string(&r->j, "type", "summary");
        cs_json_key(&r->j, "summary");
        json_summary(&r->j, sum, r->quota);
        cs_json_end(&r->j);
        cs_json_newline(&r->j);
        break;
    case CS_REPORT_TEXT: {
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

