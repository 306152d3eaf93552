/*
 * engine/report/peering_plan_report.c — the reports of the planning
 * verbs: `candidates` (every VPC one could peer with now), `mesh` (a
 * planned full mesh or hub-and-spoke against the quotas), and `can-add`
 * (may a block be associated with a VPC, and why not), in text, JSON and
 * CSV. Does not: decide anything (engine/query/peering*.c does).
 * Tests: tests/test_peering.c, tests/cli/test_peering.sh.
 */
#include "report/peering_report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "core/error_internal.h"
#include "core/aws_rules_internal.h"

/* ---- candidates ------------------------------------------------------------------------ */

int cs_peering_report_candidates(FILE *f, enum cs_report_format format, const cs_snapshot *s, uint32_t vpc,
                                 const cs_peering_filter *filter, const cs_peering_opts *opts,
                                 const uint32_t *cands, const cs_peering_verdict *verdicts,
                                 size_t n, uint64_t total, const cs_peering_cand_stats *stats,
                                 cs_error *err)
{
    if (!f || !s || format == CS_REPORT_NDJSON || format > CS_REPORT_NDJSON || (n && (!cands || !verdicts)) ||
        !stats)
        return cs_fail(err, CS_EINVAL, "bad arguments to the candidates report");
    uint32_t q = opts && opts->quota ? opts->quota : CS_PEERING_QUOTA_DEFAULT;
    const char *id = cs_report_vpc(s, vpc).id;
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
    if (format == CS_REPORT_JSON) {
        cs_json j;
        json_init(&j, f, format);
        cs_json_begin_object(&j);
        cs_json_key(&j, "summary");
        cs_json_begin_object(&j);
        cs_json_kv_string(&j, "vpc", id);
        cs_json_kv_string(&j, "account", cs_report_vpc(s, vpc).account);
        cs_json_kv_string(&j, "region", cs_report_vpc(s, vpc).region);
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
            cs_json_kv_string(&j, "vpc", cs_report_vpc(s, cands[i]).id);
            cs_json_kv_string(&j, "name", cs_report_vpc(s, cands[i]).name);
            cs_json_kv_string(&j, "account", cs_report_vpc(s, cands[i]).account);
            cs_json_kv_string(&j, "region", cs_report_vpc(s, cands[i]).region);
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
    } else if (format == CS_REPORT_CSV) {
        static const char *const header[] = {"vpc", "name", "account", "region", "verdict",
                                             "warnings", NULL};
        cs_csv c;
        cs_csv_init(&c, f);
        cs_csv_header(&c, header);
        for (size_t i = 0; i < n; i++) {
            char w[256];
            cs_sbuf wb = {w, sizeof w, 0};
            w[0] = '\0';
            for (unsigned k = 0; k < CS_PEER_CODE_COUNT; k++)
                if ((verdicts[i].reasons >> k) & 1u)
                    cs_sbuf_printf(&wb, "%s%s", wb.len ? ";" : "", cs_peering_code_name(k));
            cs_csv_field(&c, cs_report_vpc(s, cands[i]).id);
            cs_csv_field(&c, cs_report_vpc(s, cands[i]).name);
            cs_csv_field(&c, cs_report_vpc(s, cands[i]).account);
            cs_csv_field(&c, cs_report_vpc(s, cands[i]).region);
            cs_csv_field(&c, cs_peering_verdict_name(verdicts[i].verdict));
            cs_csv_field(&c, w);
            cs_csv_end_row(&c);
        }
    } else {
        char b1[CS_TEXT_COUNT_CAP], b2[CS_TEXT_COUNT_CAP];
        fprintf(f, "%s (account %s, %s) could peer now with %s of %s VPC%s", id,
                cs_report_vpc(s, vpc).account, cs_report_vpc(s, vpc).region, cs_text_count(total, b1),
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
            cs_vpc_facts cv = cs_report_vpc(s, cands[i]);
            cs_text_col(f, cv.id, 24);
            fputc(' ', f);
            cs_text_col(f, cv.account, 13);
            fputc(' ', f);
            cs_text_col(f, cv.region, 15);
            const char *sep = " ";
            for (unsigned k = 0; k < CS_PEER_CODE_COUNT; k++)
                if ((verdicts[i].reasons >> k) & 1u) {
                    fprintf(f, "%s%s", sep, cs_peering_code_name(k));
                    sep = ",";
                }
            if (cv.name[0]) {
                fputs(" \"", f);
                cs_text_name(f, cv.name, 0);
                fputc('"', f);
            }
            fputc('\n', f);
        }
        if (total > n)
            fprintf(f, "... and %" PRIu64 " more (use --limit 0 for all)\n", total - n);
    }
    return cs_out_finish(f, "candidates report", err);
}

/* ---- mesh ------------------------------------------------------------------------------ */

int cs_peering_report_mesh(FILE *f, enum cs_report_format format, const cs_snapshot *s,
                           const char *const *ids, size_t n, size_t hub_pos,
                           const cs_peering_mesh_row *rows, const cs_peering_verdict *matrix,
                           const cs_peering_mesh_summary *sum, const cs_peering_opts *opts,
                           cs_error *err)
{
    if (!f || !s || !sum || format > CS_REPORT_CSV || (n && (!ids || !rows || !matrix)))
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
    if (format == CS_REPORT_JSON) {
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
    } else if (format == CS_REPORT_CSV) {
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
                cs_sbuf wb = {w, sizeof w, 0};
                w[0] = '\0';
                for (unsigned m = 0; m < CS_PEER_CODE_COUNT; m++)
                    if ((v->reasons >> m) & 1u)
                        cs_sbuf_printf(&wb, "%s%s", wb.len ? ";" : "", cs_peering_code_name(m));
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


/* ---- can-add ----------------------------------------------------------------------------- */

size_t cs_can_add_message(const cs_snapshot *s, const char *vpc_id_text, const cs_prefix *p,
                          const cs_can_add_reason *r, char *buf, size_t cap)
{
    cs_sbuf sb = {buf, cap, 0};
    if (cap)
        buf[0] = '\0';
    char pb[CS_PREFIX_STRCAP], ab[CS_PREFIX_STRCAP];
    cs_prefix_format(p, pb, sizeof pb);
    const char *peer = r->peer != CS_IDX_NONE ? cs_report_vpc(s, r->peer).id : NULL;
    cs_peering pc;
    if (r->pcx != CS_IDX_NONE && cs_estate_peering(s, r->pcx, &pc) == 0 && !peer)
        peer = pc.requester.vpc_idx == r->peer ? pc.requester.vpc_id : pc.accepter.vpc_id;
    switch (r->code) {
    case CS_ADD_UNKNOWN_VPC:
        cs_sbuf_printf(&sb, "%s is not a VPC of the estate", vpc_id_text);
        break;
    case CS_ADD_BLOCK_SIZE:
        cs_sbuf_printf(&sb, "%s is a /%u; AWS associates %s", pb, p->len,
                       cs_aws_block_sizes_text(p->family));
        break;
    case CS_ADD_LINK_LOCAL:
        cs_sbuf_printf(&sb, "%s is link-local (169.254.0.0/16), which AWS never assigns to VPCs", pb);
        break;
    case CS_ADD_RESERVED:
        cs_sbuf_printf(&sb, "%s is inside %s, which AWS never assigns to VPCs", pb,
                       cs_aws_reserved_range(p, NULL));
        break;
    case CS_ADD_OWN_OVERLAP:
        cs_sbuf_printf(&sb, "%s overlaps %s, already associated with %s", pb,
                  assoc_text(s, r->assoc, ab), vpc_id_text);
        break;
    case CS_ADD_RESTRICTED:
        cs_sbuf_printf(&sb, "%s is restricted for %s (its block %s): %s", pb, vpc_id_text,
                  assoc_text(s, r->assoc, ab), cs_aws_rule_text(r->rule));
        break;
    case CS_ADD_BLOCK_QUOTA:
        cs_sbuf_printf(&sb, "%s already has %u live %s block%s (quota %u; AWS allows up to 50 on "
                       "request)",
                  vpc_id_text, r->count, p->family == CS_AF_V4 ? "IPv4" : "IPv6",
                  plural(r->count), r->limit);
        break;
    case CS_ADD_PEER_OVERLAP:
        cs_sbuf_printf(&sb, "%s overlaps %s of %s, peered through %s (%s): blocks must not overlap "
                       "a peer's while the connection is active",
                  pb, assoc_text(s, r->assoc, ab), peer ? peer : "?", pcx_id(s, r->pcx),
                  cs_pcx_status_name(r->status));
        break;
    case CS_ADD_PENDING_REQUESTER:
        cs_sbuf_printf(&sb, "%s requested %s (%s, to %s): while it is pending the requester can add "
                       "no IPv4 block; accept it, or delete the request, add the block and "
                       "request again",
                  vpc_id_text, pcx_id(s, r->pcx), cs_pcx_status_name(r->status),
                  peer ? peer : "?");
        break;
    case CS_ADD_PENDING_FAILS:
        cs_sbuf_printf(&sb, "%s overlaps %s of %s, whose request %s is %s: the block can be added, "
                       "but the request then fails and cannot be accepted",
                  pb, assoc_text(s, r->assoc, ab), peer ? peer : "?", pcx_id(s, r->pcx),
                  cs_pcx_status_name(r->status));
        break;
    case CS_ADD_PEER_UNKNOWN:
        cs_sbuf_printf(&sb, "the peer of %s (%s) is not in the estate: its blocks were not checked",
                  pcx_id(s, r->pcx), cs_pcx_status_name(r->status));
        break;
    default:
        cs_sbuf_printf(&sb, "unknown reason");
        break;
    }
    return sb.len;
}

int cs_peering_report_can_add(FILE *f, enum cs_report_format format, const cs_snapshot *s,
                              const char *vpc_id_text, uint32_t vpc, const cs_prefix *p,
                              const cs_can_add_opts *o, bool *blocked, cs_error *err)
{
    if (!f || !s || !p || format > CS_REPORT_CSV)
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
    if (format == CS_REPORT_JSON) {
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
                cs_json_kv_string(&j, "peer", cs_report_vpc(s, r->peer).id);
            if (r->code == CS_ADD_BLOCK_QUOTA) {
                cs_json_kv_u64(&j, "count", r->count);
                cs_json_kv_u64(&j, "quota", r->limit);
            }
            cs_json_end(&j);
        }
        cs_json_end(&j);
        cs_json_end(&j);
        cs_json_newline(&j);
    } else if (format == CS_REPORT_CSV) {
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

