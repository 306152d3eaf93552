/*
 * cli/cmd_stat.c — `cidrscope stat SOURCE...`: what an estate holds.
 *
 * Reads the sources (estate directories, AWS CLI JSON, CSV, prefix lists) or
 * one snapshot file, and prints counts: accounts, regions, VPCs (default
 * ones apart), live and dead CIDR blocks per family, peering connections by
 * status, edges by kind, findings by kind (with --findings, every finding
 * with its location). Everything comes from the frozen estate's read
 * accessors (estate.h), so a snapshot file answers exactly as its sources.
 *
 * Counting rules: `accounts` are the accounts that own a VPC or were seen as
 * a directory of the collection, not accounts only named by a peering side
 * (`external_accounts`) nor prefix-list owners (`prefix_list_owners`, which
 * are also not `vpcs`); `regions` are the distinct non-empty region names;
 * `peering_connections` counts distinct connections of every status.
 *
 * Exit codes (cli.h): 0, 2 bad input or usage, 3 internal error.
 */
#include "cli.h"
#include "shm_source.h"
#include "source.h"
#include "verbs.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: cidrscope stat SOURCE... [options]\n"
            "       cidrscope stat --shm NAME [--format text|json]\n\n"
            "Counts what an estate holds: accounts, regions, VPCs, live and dead\n"
            "CIDR blocks per family, peering connections by status, findings by\n"
            "kind. SOURCE is an ESTATE/<account>/<region>/ directory, AWS CLI JSON,\n"
            "CSV (VPC CIDRs or peerings), a prefix list, or one snapshot file.\n"
            "With --shm NAME it reports the shared-memory service instead: current\n"
            "generation, image size, the serving process, every reader and the\n"
            "generation it pins, and every image segment.\n\n"
            "      --format text|json output for a person or a machine (default text)\n"
            "      --findings         also list every finding with its location\n"
            "      --lenient          clear host bits (reported) instead of failing\n"
            "      --keep-going       report bad records and files, read the rest\n"
            "      --source-region R  region of describe-vpcs output (which carries\n"
            "                         none) for the SOURCEs after it, up to the next\n"
            "      --source-account A account of the SOURCEs after it whose VPCs\n"
            "                         carry no OwnerId\n"
            "      --no-verify        skip snapshot checksums (bounds still checked)\n"
            "  -h, --help             this text\n\n"
            "Exit codes: 0 ok, 2 usage or bad input (file:line:column), 3 internal error.\n");
}

typedef struct kind_count {
    const char *kind;
    uint32_t n;
} kind_count;

typedef struct stats {
    cs_estate_counts c;
    cs_snapshot_info info;
    uint32_t accounts, external_accounts, regions, vpcs, prefix_owners, default_vpcs;
    uint32_t by_status[CS_PCX_STATUS_COUNT];
    uint32_t by_edge[CS_EDGE_KIND_COUNT];
    kind_count *findings;
    size_t n_kinds;
    bool has_estate;
} stats;

static int cmp_kind(const void *a, const void *b)
{
    return strcmp(((const kind_count *)a)->kind, ((const kind_count *)b)->kind);
}

static int collect(const cs_snapshot *s, stats *st)
{
    memset(st, 0, sizeof *st);
    cs_estate_counts_get(s, &st->c);
    cs_snapshot_get_info(s, &st->info);
    st->has_estate = cs_estate_present(s);
    for (uint32_t i = 0; i < st->c.accounts; i++) {
        cs_account a;
        if (cs_estate_account(s, i, &a))
            return -1;
        if (a.flags & CS_ACCOUNT_PSEUDO)
            continue;
        if (a.flags & CS_ACCOUNT_EXTERNAL)
            st->external_accounts++;
        else
            st->accounts++;
    }
    for (uint32_t i = 0; i < st->c.regions; i++) {
        cs_region r;
        if (cs_estate_region(s, i, &r))
            return -1;
        st->regions += r.name[0] != '\0';
    }
    st->prefix_owners = st->c.pseudo_vpcs;
    st->vpcs = st->c.vpcs - st->c.pseudo_vpcs;
    st->default_vpcs = st->c.default_vpcs;
    for (uint32_t i = 0; i < st->c.peerings; i++) {
        cs_peering p;
        if (cs_estate_peering(s, i, &p))
            return -1;
        st->by_status[p.status]++;
    }
    for (uint32_t i = 0; i < st->c.edges; i++) {
        cs_edge e;
        if (cs_estate_edge(s, i, &e))
            return -1;
        st->by_edge[e.kind]++;
    }
    size_t cap = 0;
    for (uint32_t i = 0; i < st->c.findings; i++) {
        cs_finding f;
        if (cs_estate_finding(s, i, &f))
            return -1;
        size_t k = 0;
        while (k < st->n_kinds && strcmp(st->findings[k].kind, f.kind) != 0)
            k++;
        if (k == st->n_kinds) {
            if (st->n_kinds == cap) {
                cap = cap ? cap * 2 : 16;
                kind_count *n = realloc(st->findings, cap * sizeof *n);
                if (!n)
                    return -1;
                st->findings = n;
            }
            st->findings[st->n_kinds++] = (kind_count){f.kind, 0};
        }
        st->findings[k].n++;
    }
    if (st->n_kinds)
        qsort(st->findings, st->n_kinds, sizeof *st->findings, cmp_kind);
    return 0;
}

static void print_text(const stats *st)
{
    const cs_estate_counts *c = &st->c;
    printf("accounts             %u", st->accounts);
    if (st->external_accounts)
        printf("  (+%u only named by a peering connection)", st->external_accounts);
    printf("\nregions              %u\n", st->regions);
    printf("vpcs                 %u  (%u default)\n", st->vpcs, st->default_vpcs);
    if (st->prefix_owners)
        printf("prefix-list owners   %u\n", st->prefix_owners);
    printf("cidr blocks          %10s %10s\n", "live", "dead");
    printf("  ipv4               %10u %10u\n", c->live[0], c->dead[0]);
    printf("  ipv6               %10u %10u\n", c->live[1], c->dead[1]);
    printf("peering connections  %u\n", c->peerings);
    for (unsigned i = 0; i < CS_PCX_STATUS_COUNT; i++)
        if (st->by_status[i])
            printf("  %-19s%u\n", cs_pcx_status_name(i), st->by_status[i]);
    if (c->edges) {
        printf("edges                %u\n", c->edges);
        for (unsigned i = 0; i < CS_EDGE_KIND_COUNT; i++)
            if (st->by_edge[i])
                printf("  %-19s%u\n", cs_edge_kind_name(i), st->by_edge[i]);
    }
    printf("findings             %u\n", c->findings);
    for (size_t i = 0; i < st->n_kinds; i++)
        printf("  %-25s%u\n", st->findings[i].kind, st->findings[i].n);
    if (!st->has_estate)
        printf("prefix entries       %u ipv4, %u ipv6 (a snapshot without estate tables)\n",
               st->info.entries[0], st->info.entries[1]);
}

static void json_counts(const char *name, const uint32_t *v, unsigned n,
                        const char *(*namef)(unsigned), bool all)
{
    printf("  \"%s\": {", name);
    bool first = true;
    for (unsigned i = 0; i < n; i++) {
        if (!all && !v[i])
            continue;
        printf("%s", first ? "" : ", ");
        cli_json_string(stdout, namef(i));
        printf(": %u", v[i]);
        first = false;
    }
    printf("},\n");
}

static void print_json(const stats *st)
{
    const cs_estate_counts *c = &st->c;
    printf("{\n");
    printf("  \"accounts\": %u,\n", st->accounts);
    printf("  \"external_accounts\": %u,\n", st->external_accounts);
    printf("  \"regions\": %u,\n", st->regions);
    printf("  \"vpcs\": %u,\n", st->vpcs);
    printf("  \"default_vpcs\": %u,\n", st->default_vpcs);
    printf("  \"prefix_list_owners\": %u,\n", st->prefix_owners);
    printf("  \"cidr_blocks\": {\"ipv4\": {\"live\": %u, \"dead\": %u}, "
           "\"ipv6\": {\"live\": %u, \"dead\": %u}},\n",
           c->live[0], c->dead[0], c->live[1], c->dead[1]);
    printf("  \"peering_connections\": %u,\n", c->peerings);
    json_counts("peering_by_status", st->by_status, CS_PCX_STATUS_COUNT, cs_pcx_status_name,
                true);
    printf("  \"edges\": %u,\n", c->edges);
    json_counts("edges_by_kind", st->by_edge, CS_EDGE_KIND_COUNT, cs_edge_kind_name, false);
    printf("  \"tags\": %u,\n", c->tags);
    printf("  \"findings\": %u,\n", c->findings);
    printf("  \"findings_by_kind\": {");
    for (size_t i = 0; i < st->n_kinds; i++) {
        printf("%s", i ? ", " : "");
        cli_json_string(stdout, st->findings[i].kind);
        printf(": %u", st->findings[i].n);
    }
    printf("},\n");
    printf("  \"rejected\": %u,\n", c->rejected);
    printf("  \"entries\": {\"ipv4\": %u, \"ipv6\": %u},\n", st->info.entries[0],
           st->info.entries[1]);
    printf("  \"estate_tables\": %s,\n", st->has_estate ? "true" : "false");
    printf("  \"image_bytes\": %llu\n", (unsigned long long)st->info.image_len);
    printf("}\n");
}

/* --findings: every finding, in image order. */
static void list_findings(const cs_snapshot *s, const stats *st, enum cs_report_format fmt)
{
    if (fmt == CS_REPORT_JSON)
        return; /* listed inside the JSON document by print_json_findings */
    for (uint32_t i = 0; i < st->c.findings; i++) {
        cs_finding f;
        if (cs_estate_finding(s, i, &f))
            return;
        if (f.source[0] && f.line)
            printf("%s:%llu:%u: %s: %s\n", f.source, (unsigned long long)f.line, f.column, f.kind,
                   f.message);
        else if (f.source[0])
            printf("%s: %s: %s\n", f.source, f.kind, f.message);
        else
            printf("%s: %s\n", f.kind, f.message);
    }
}

static void print_json_findings(const cs_snapshot *s, const stats *st)
{
    printf("[\n");
    for (uint32_t i = 0; i < st->c.findings; i++) {
        cs_finding f;
        if (cs_estate_finding(s, i, &f))
            break;
        printf("  {\"kind\": ");
        cli_json_string(stdout, f.kind);
        printf(", \"message\": ");
        cli_json_string(stdout, f.message);
        printf(", \"source\": ");
        cli_json_string(stdout, f.source);
        printf(", \"line\": %llu, \"column\": %u", (unsigned long long)f.line, f.column);
        if (f.vpc_idx != CS_IDX_NONE) {
            cs_vpc v;
            if (cs_estate_vpc(s, f.vpc_idx, &v) == 0) {
                printf(", \"vpc\": ");
                cli_json_string(stdout, v.id);
            }
        }
        printf("}%s\n", i + 1 < st->c.findings ? "," : "");
    }
    printf("]");
}

enum { OPT_FINDINGS = 0x300 };

int cmd_stat(int argc, char **argv)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {"format", required_argument, NULL, 'f'},
        {"findings", no_argument, NULL, OPT_FINDINGS},
        CLI_SOURCE_LONGOPTS,
        {NULL, 0, NULL, 0}};
    cli_sources src;
    cli_sources_init(&src);
    enum cs_report_format fmt = CS_REPORT_TEXT;
    bool findings = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hf:e:", opts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return CLI_OK;
        }
        if (c == 'f') {
            if (cli_parse_format("stat", optarg, 1u << CS_REPORT_TEXT | 1u << CS_REPORT_JSON, &fmt))
                return CLI_USAGE;
            continue;
        }
        if (c == OPT_FINDINGS) {
            findings = true;
            continue;
        }
        int r = cli_source_option("stat", &src, c, optarg);
        if (r < 0)
            return CLI_USAGE;
        if (r == 0) {
            usage(stderr);
            return CLI_USAGE;
        }
    }
    for (int i = optind; i < argc; i++)
        if (cli_source_add("stat", &src, argv[i]))
            return CLI_USAGE;
    if (src.shm && src.n_paths == 0)
        return cli_shm_stat(src.shm, src.shm_owner, fmt == CS_REPORT_JSON);
    if (src.n_paths == 0 && !src.shm) {
        cli_errorf("stat", "no SOURCE given (see cidrscope stat --help)");
        return CLI_USAGE;
    }
    cli_estate est;
    int rc = cli_estate_open("stat", &src, &est);
    if (rc != CLI_OK)
        return rc;
    stats st;
    if (collect(est.snap, &st) != 0) {
        cli_errorf("stat", "out of memory or inconsistent estate tables");
        free(st.findings);
        cli_estate_close(&est);
        return CLI_INTERNAL;
    }
    if (fmt == CS_REPORT_JSON) {
        if (findings) {
            /* One document: the counts and the list. */
            printf("{\"stat\": ");
            fflush(stdout);
        }
        print_json(&st);
        if (findings) {
            printf(", \"findings\": ");
            print_json_findings(est.snap, &st);
            printf("}\n");
        }
    } else {
        print_text(&st);
        if (findings)
            list_findings(est.snap, &st, fmt);
    }
    free(st.findings);
    cli_estate_close(&est);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_errorf("stat", "writing the output failed");
        return CLI_INTERNAL;
    }
    return CLI_OK;
}
