/*
 * engine/report/reach_report.c — the report of `reach`: may traffic go from
 * a VPC to a VPC, prefix or address over peering, with every finding
 * (connection, route, overlap, edge rule) as a sentence; text, JSON (with
 * what a long answer omitted) and CSV. Reachability is never transitive and
 * never edge-to-edge (DESIGN.md, "Peering rules").
 * Tests: tests/test_peering.c, tests/cli/test_edges.sh.
 */
#include "report/peering_report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "core/error_internal.h"

/* ---- reach ------------------------------------------------------------------------------- */

typedef struct reach_rep {
    FILE *f;
    enum cs_report_format format;
    const cs_snapshot *s;
    const cs_reach_end *src, *dst;
    const char *src_text, *dst_text;
    cs_json j;
    cs_csv c;
    uint64_t no_conn;
    uint64_t limit;           /* no-connection findings listed; UINT64_MAX all */
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
    cs_sbuf sb = {rr->msg, sizeof rr->msg, 0};
    rr->msg[0] = '\0';
    char p[CS_PREFIX_STRCAP];
    /* The source by its VPC id when it is one (an address given for SRC
     * stands for the VPC holding it); the destination VPC X, and when DST
     * is a prefix or address, where X holds it. */
    const char *src = rr->src->vpc != CS_IDX_NONE ? cs_report_vpc(s, rr->src->vpc).id : rr->src_text;
    const char *dst = rr->dst_text;
    const char *x = fd->vpc != CS_IDX_NONE ? cs_report_vpc(s, fd->vpc).id : "?";
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
            cs_sbuf_printf(&sb, "part of %s is %s's own block %s: the local route carries it; no "
                           "peering is involved",
                      dst, src, assoc_text(s, fd->assoc, p));
        else if (fd->assoc != CS_IDX_NONE)
            cs_sbuf_printf(&sb, "%s is inside %s's own block %s: the local route carries it; no "
                           "peering is involved",
                      dst, src, assoc_text(s, fd->assoc, p));
        else
            cs_sbuf_printf(&sb, "source and destination are the same VPC %s: no peering is involved",
                      src);
        break;
    case CS_REACH_PEERED:
        cs_sbuf_printf(&sb,
                  "the active connection %s joins %s and %s: reachable once both route tables "
                  "send the other's range to it; security-group references across it are %s",
                  pcx_id(s, fd->pcx), src, xs,
                  fd->sg_refs ? "possible (same region, active)"
                              : "not possible (different or unknown regions): use CIDR rules");
        break;
    case CS_REACH_NOT_ACTIVE:
        cs_sbuf_printf(&sb, "%s joins %s and %s but is %s: only active connections carry traffic",
                  pcx_id(s, fd->pcx), src, xs, cs_pcx_status_name(fd->status));
        break;
    case CS_REACH_TRANSITIVE:
    case CS_REACH_NO_CONNECTION: {
        cs_peering_verdict v;
        cs_peering_check(s, rr->src->vpc, fd->vpc, NULL, &v);
        if (fd->code == CS_REACH_TRANSITIVE)
            cs_sbuf_printf(&sb,
                      "%s is peered with %s (%s), and %s with %s (%s), but peering is not "
                      "transitive: traffic cannot pass through %s. A direct connection %s-%s is "
                      "needed",
                      src, cs_report_vpc(s, fd->via).id, pcx_id(s, fd->pcx), cs_report_vpc(s, fd->via).id, xs,
                      pcx_id(s, fd->via_pcx), cs_report_vpc(s, fd->via).id, src, x);
        else
            cs_sbuf_printf(&sb, "no peering connection joins %s and %s: a direct connection is "
                           "needed",
                      src, xs);
        cs_sbuf_printf(&sb, " (it would be %s", cs_peering_verdict_name(v.verdict));
        for (unsigned c = 0, first = 1; c < CS_PEER_CODE_COUNT; c++)
            if ((v.reasons >> c) & 1u) {
                cs_sbuf_printf(&sb, "%s%s", first ? ": " : ", ", cs_peering_code_name(c));
                first = 0;
            }
        cs_sbuf_printf(&sb, ")");
        break;
    }
    case CS_REACH_EDGE_TO_EDGE: {
        const char *kind = edge ? cs_edge_kind_name(e.kind) : "edge";
        const char *eid = edge ? e.id : "?";
        if (rr->src->vpc != CS_IDX_NONE)
            cs_sbuf_printf(&sb,
                      "%s's %s %s cannot carry %s's traffic to %s: the peering connection %s "
                      "does not extend to the peer's gateways or private connections "
                      "(edge-to-edge routing is not supported)",
                      x, kind, eid, src, dst, pcx_id(s, fd->pcx));
        else
            cs_sbuf_printf(&sb,
                      "traffic from %s entering %s through its %s %s cannot continue over %s "
                      "to its peer: edge-to-edge routing is not supported",
                      src, x, kind, eid, pcx_id(s, fd->pcx));
        break;
    }
    case CS_REACH_OWN_EDGE:
        cs_sbuf_printf(&sb, "%s's own %s %s may carry this traffic; that path is not peering", x,
                  edge ? cs_edge_kind_name(e.kind) : "edge", edge ? e.id : "?");
        break;
    case CS_REACH_OUTSIDE:
        cs_sbuf_printf(&sb, "%s is outside every VPC of the estate, and %s has no gateway or "
                       "private connection of its own nor an active peer with one: nothing "
                       "carries this traffic",
                  rr->src->vpc != CS_IDX_NONE ? dst : src, x);
        break;
    case CS_REACH_UNKNOWN_VPC:
        cs_sbuf_printf(&sb, "%s or %s names no VPC of the estate", rr->src_text, dst);
        break;
    default:
        break;
    }
}

static int reach_cb(const cs_reach_finding *fd, void *ctx)
{
    reach_rep *rr = ctx;
    if (fd->code == CS_REACH_NO_CONNECTION && ++rr->no_conn > rr->limit)
        return 0;
    reach_message(rr, fd);
    const cs_snapshot *s = rr->s;
    bool ok = fd->code == CS_REACH_LOCAL || fd->code == CS_REACH_PEERED;
    char p[CS_PREFIX_STRCAP];
    if (rr->format == CS_REPORT_JSON) {
        cs_json *j = &rr->j;
        cs_json_begin_object(j);
        cs_json_kv_string(j, "code", cs_reach_code_name(fd->code));
        cs_json_kv_bool(j, "reachable", ok);
        if (fd->vpc != CS_IDX_NONE)
            cs_json_kv_string(j, "vpc", cs_report_vpc(s, fd->vpc).id);
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
            cs_json_kv_string(j, "via", cs_report_vpc(s, fd->via).id);
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
    } else if (rr->format == CS_REPORT_CSV) {
        cs_csv_field(&rr->c, cs_reach_code_name(fd->code));
        cs_csv_field(&rr->c, ok ? "yes" : "no");
        cs_csv_field(&rr->c, fd->vpc != CS_IDX_NONE ? cs_report_vpc(s, fd->vpc).id : "");
        cs_csv_field(&rr->c, fd->pcx != CS_IDX_NONE ? pcx_id(s, fd->pcx) : "");
        cs_csv_field(&rr->c, fd->via != CS_IDX_NONE ? cs_report_vpc(s, fd->via).id : "");
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

int cs_peering_report_reach(FILE *f, enum cs_report_format format, const cs_snapshot *s, const char *src_text,
                            const cs_reach_end *src, const char *dst_text,
                            const cs_reach_end *dst, cs_reach_summary *sum, cs_error *err)
{
    return cs_peering_report_reach_limit(f, format, s, src_text, src, dst_text, dst,
                                         format == CS_REPORT_CSV ? 0 : REACH_SHOW_MAX, sum, err);
}

int cs_peering_report_reach_limit(FILE *f, enum cs_report_format format, const cs_snapshot *s,
                                  const char *src_text, const cs_reach_end *src,
                                  const char *dst_text, const cs_reach_end *dst, uint64_t limit,
                                  cs_reach_summary *sum, cs_error *err)
{
    if (!f || !s || !src || !dst || format > CS_REPORT_CSV)
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
    rr.limit = limit ? limit : UINT64_MAX;
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
    if (format == CS_REPORT_JSON) {
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
    } else if (format == CS_REPORT_CSV) {
        static const char *const header[] = {"code", "reachable", "vpc", "connection", "via",
                                             "message", NULL};
        cs_csv_init(&rr.c, f);
        cs_csv_header(&rr.c, header);
    } else {
        fprintf(f, "%s -> %s: %s\n", src_text, dst_text, answer);
    }
    cs_peering_reach(s, src, dst, reach_cb, &rr, NULL);
    if (format == CS_REPORT_JSON) {
        cs_json_end(&rr.j);
        if (rr.no_conn > rr.limit)
            cs_json_kv_u64(&rr.j, "omitted", rr.no_conn - rr.limit);
        cs_json_end(&rr.j);
        cs_json_newline(&rr.j);
    } else if (format == CS_REPORT_TEXT && rr.no_conn > rr.limit) {
        fprintf(f, "  ... and %" PRIu64 " more VPCs holding it with no connection (use --limit 0 "
                   "for all)\n",
                rr.no_conn - rr.limit);
    }
    return cs_out_finish(f, "reach report", err);
}

