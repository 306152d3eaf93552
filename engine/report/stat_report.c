/*
 * engine/report/stat_report.c — the `stat` report: the statistics of an
 * estate (cs_estate_stats, engine/query/stats.c) as text or JSON, and with
 * --findings every finding with its location.
 *
 * Does: format only; every figure comes from cs_estate_stats and every
 * finding from cs_estate_finding, so a snapshot file reports exactly as its
 * sources. Does not: count (stats.c does) or decide exit codes (the CLI).
 *
 * TEXT: "accounts N", "regions N", "vpcs N  (D default)", blocks live/dead
 * per family, peering connections by status, edges by kind, findings by
 * kind; with findings, one line per finding. JSON: one object (counts,
 * peering_by_status with every status, edges_by_kind and findings_by_kind
 * with the non-zero ones, rejected, rejected_records, rejected_files,
 * incomplete_pages, entries, estate_tables, image_bytes);
 * with findings {"stat": OBJECT, "findings": [{kind, message, source, line,
 * column[, vpc]}]}.
 *
 * Thread-safety: one call writes one FILE. Tests: tests/cli/test_stat.sh
 * (text and JSON figures, a snapshot file answering as its sources).
 */
#include <cidrscope/report.h>

#include "core/error_internal.h"
#include "report/writer.h"

#include <string.h>

static void json_str(FILE *f, const char *s)
{
    cs_json_write_string(f, s, strlen(s));
}

static void print_text(FILE *f, const cs_snapshot *s, const cs_estate_stats *st)
{
    const cs_estate_counts *c = &st->counts;
    fprintf(f, "accounts             %u", st->accounts);
    if (st->external_accounts)
        fprintf(f, "  (+%u only named by a peering connection)", st->external_accounts);
    fprintf(f, "\nregions              %u\n", st->regions);
    fprintf(f, "vpcs                 %u  (%u default)\n", st->vpcs, st->default_vpcs);
    if (st->prefix_list_owners)
        fprintf(f, "prefix-list owners   %u\n", st->prefix_list_owners);
    fprintf(f, "cidr blocks          %10s %10s\n", "live", "dead");
    fprintf(f, "  ipv4               %10u %10u\n", c->live[0], c->dead[0]);
    fprintf(f, "  ipv6               %10u %10u\n", c->live[1], c->dead[1]);
    fprintf(f, "peering connections  %u\n", c->peerings);
    for (unsigned i = 0; i < CS_PCX_STATUS_COUNT; i++)
        if (st->by_status[i])
            fprintf(f, "  %-19s%u\n", cs_pcx_status_name(i), st->by_status[i]);
    if (c->edges) {
        fprintf(f, "edges                %u\n", c->edges);
        for (unsigned i = 0; i < CS_EDGE_KIND_COUNT; i++)
            if (st->by_edge[i])
                fprintf(f, "  %-19s%u\n", cs_edge_kind_name(i), st->by_edge[i]);
    }
    fprintf(f, "findings             %u\n", c->findings);
    for (uint32_t i = 0; i < st->kind_count; i++)
        fprintf(f, "  %-25s%u\n", st->kinds[i].kind, st->kinds[i].count);
    if (st->rejected_records || st->rejected_files)
        fprintf(f, "rejected input       %u records, %u files (--keep-going)\n",
                st->rejected_records, st->rejected_files);
    if (st->incomplete_pages)
        fprintf(f, "incomplete pages     %u (a NextToken: the inventory is incomplete)\n",
                st->incomplete_pages);
    if (!st->has_estate) {
        cs_snapshot_info info;
        cs_snapshot_get_info(s, &info);
        fprintf(f, "prefix entries       %u ipv4, %u ipv6 (a snapshot without estate tables)\n",
                info.entries[0], info.entries[1]);
    }
}

static void json_counts(FILE *f, const char *name, const uint32_t *v, unsigned n,
                        const char *(*namef)(unsigned), bool all)
{
    fprintf(f, "  \"%s\": {", name);
    bool first = true;
    for (unsigned i = 0; i < n; i++) {
        if (!all && !v[i])
            continue;
        fprintf(f, "%s", first ? "" : ", ");
        json_str(f, namef(i));
        fprintf(f, ": %u", v[i]);
        first = false;
    }
    fprintf(f, "},\n");
}

static void print_json(FILE *f, const cs_snapshot *s, const cs_estate_stats *st)
{
    const cs_estate_counts *c = &st->counts;
    cs_snapshot_info info;
    cs_snapshot_get_info(s, &info);
    fprintf(f, "{\n");
    fprintf(f, "  \"accounts\": %u,\n", st->accounts);
    fprintf(f, "  \"external_accounts\": %u,\n", st->external_accounts);
    fprintf(f, "  \"regions\": %u,\n", st->regions);
    fprintf(f, "  \"vpcs\": %u,\n", st->vpcs);
    fprintf(f, "  \"default_vpcs\": %u,\n", st->default_vpcs);
    fprintf(f, "  \"prefix_list_owners\": %u,\n", st->prefix_list_owners);
    fprintf(f, "  \"cidr_blocks\": {\"ipv4\": {\"live\": %u, \"dead\": %u}, "
               "\"ipv6\": {\"live\": %u, \"dead\": %u}},\n",
            c->live[0], c->dead[0], c->live[1], c->dead[1]);
    fprintf(f, "  \"peering_connections\": %u,\n", c->peerings);
    json_counts(f, "peering_by_status", st->by_status, CS_PCX_STATUS_COUNT,
                cs_pcx_status_name, true);
    fprintf(f, "  \"edges\": %u,\n", c->edges);
    json_counts(f, "edges_by_kind", st->by_edge, CS_EDGE_KIND_COUNT, cs_edge_kind_name, false);
    fprintf(f, "  \"tags\": %u,\n", c->tags);
    fprintf(f, "  \"findings\": %u,\n", c->findings);
    fprintf(f, "  \"findings_by_kind\": {");
    for (uint32_t i = 0; i < st->kind_count; i++) {
        fprintf(f, "%s", i ? ", " : "");
        json_str(f, st->kinds[i].kind);
        fprintf(f, ": %u", st->kinds[i].count);
    }
    fprintf(f, "},\n");
    fprintf(f, "  \"rejected\": %u,\n", c->rejected);
    fprintf(f, "  \"rejected_records\": %u,\n", st->rejected_records);
    fprintf(f, "  \"rejected_files\": %u,\n", st->rejected_files);
    fprintf(f, "  \"incomplete_pages\": %u,\n", st->incomplete_pages);
    fprintf(f, "  \"entries\": {\"ipv4\": %u, \"ipv6\": %u},\n", info.entries[0],
            info.entries[1]);
    fprintf(f, "  \"estate_tables\": %s,\n", st->has_estate ? "true" : "false");
    fprintf(f, "  \"image_bytes\": %llu\n", (unsigned long long)info.image_len);
    fprintf(f, "}\n");
}

static void list_findings_text(FILE *f, const cs_snapshot *s, const cs_estate_stats *st)
{
    for (uint32_t i = 0; i < st->counts.findings; i++) {
        cs_finding x;
        if (cs_estate_finding(s, i, &x))
            return;
        if (x.source[0] && x.line)
            fprintf(f, "%s:%llu:%u: %s: %s\n", x.source, (unsigned long long)x.line, x.column,
                    x.kind, x.message);
        else if (x.source[0])
            fprintf(f, "%s: %s: %s\n", x.source, x.kind, x.message);
        else
            fprintf(f, "%s: %s\n", x.kind, x.message);
    }
}

static void list_findings_json(FILE *f, const cs_snapshot *s, const cs_estate_stats *st)
{
    fprintf(f, "[\n");
    for (uint32_t i = 0; i < st->counts.findings; i++) {
        cs_finding x;
        if (cs_estate_finding(s, i, &x))
            break;
        fprintf(f, "  {\"kind\": ");
        json_str(f, x.kind);
        fprintf(f, ", \"message\": ");
        json_str(f, x.message);
        fprintf(f, ", \"source\": ");
        json_str(f, x.source);
        fprintf(f, ", \"line\": %llu, \"column\": %u", (unsigned long long)x.line, x.column);
        if (x.vpc_idx != CS_IDX_NONE) {
            cs_vpc v;
            if (cs_estate_vpc(s, x.vpc_idx, &v) == 0) {
                fprintf(f, ", \"vpc\": ");
                json_str(f, v.id);
            }
        }
        fprintf(f, "}%s\n", i + 1 < st->counts.findings ? "," : "");
    }
    fprintf(f, "]");
}

int cs_stat_report_write(FILE *f, const cs_snapshot *s, const cs_estate_stats *st,
                         enum cs_report_format format, bool findings, cs_error *err)
{
    if (!f || !s || !st)
        return cs_fail(err, CS_EINVAL, "cs_stat_report_write: NULL argument");
    if (format == CS_REPORT_JSON) {
        if (findings)
            fprintf(f, "{\"stat\": "); /* one document: the counts and the list */
        print_json(f, s, st);
        if (findings) {
            fprintf(f, ", \"findings\": ");
            list_findings_json(f, s, st);
            fprintf(f, "}\n");
        }
    } else if (format == CS_REPORT_TEXT) {
        print_text(f, s, st);
        if (findings)
            list_findings_text(f, s, st);
    } else {
        return cs_fail(err, CS_EINVAL, "stat writes text or json, not %s",
                       cs_report_format_name(format) ? cs_report_format_name(format) : "?");
    }
    return cs_out_finish(f, "the stat report", err);
}
