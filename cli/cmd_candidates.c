/*
 * cli/cmd_candidates.c — `cidrscope candidates VPC [--region R] [--account
 * A]`: every VPC of the estate that VPC could peer with now (verdict
 * eligible or eligible-with-warnings), with the warnings of each.
 *
 * The work is cs_peering_candidates on the bulk index: the VPCs overlapping
 * VPC come from one trie overlap query per live block (or, when that set
 * would be larger than the filtered VPCs, from testing those VPCs); already
 * peered, quota and same-VPC come from the index. Each candidate's warnings
 * come from cs_peering_check_bulk. Here --region and --account filter the
 * candidates; the region of single describe-vpcs sources is
 * --source-region.
 *
 * Exit: 0 done; 2 usage or bad input (an unknown VPC, account or region);
 * 3 internal error.
 */
#include "cli.h"
#include "peer_cli.h"
#include "source.h"
#include "verbs.h"

#include <cidrscope/peering.h>

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define VERB "candidates"

enum { OPT_FILTER_REGION = 0x300, OPT_FILTER_ACCOUNT, OPT_LIMIT };
/* Candidates listed in text unless --limit says otherwise. */
#define TEXT_LIMIT 50

static void usage(FILE *f)
{
    fprintf(f,
        "usage: cidrscope candidates [options] -e SOURCE VPC\n"
        "\n"
        "Every VPC of the estate that VPC could request a peering connection with\n"
        "now: no overlapping live IPv4 or IPv6 block, no connection already\n"
        "pending or active, neither side at its quota of active connections. Each\n"
        "candidate is listed with its warnings (cross-region, cross-account,\n"
        "routing-ambiguity).\n"
        "\n"
        "      --region R         only candidates in region R\n"
        "      --account A        only candidates owned by account A\n"
        PEER_CLI_QUOTA_HELP
        "      --limit N          list at most N candidates, then say how many more\n"
        "                         (the count is exact; text default 50, 0 = all)\n"
        "      --format F         text (default), json or csv\n"
        PEER_CLI_OUTPUT_HELP
        "\n" CLI_SOURCE_HELP
        "\nExit: 0 done, 2 usage or bad input (unknown VPC, account or region),\n"
        "3 internal error.\n");
}

int cmd_candidates(int argc, char **argv)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        PEER_CLI_LONGOPTS,
        PEER_CLI_QUOTA_LONGOPT,
        {"region", required_argument, NULL, OPT_FILTER_REGION},
        {"account", required_argument, NULL, OPT_FILTER_ACCOUNT},
        {"limit", required_argument, NULL, OPT_LIMIT},
        CLI_SOURCE_LONGOPTS,
        {NULL, 0, NULL, 0}};
    cli_sources src;
    cli_sources_init(&src);
    peer_cli p;
    peer_cli_init(&p, VERB, 1u << CS_REPORT_TEXT | 1u << CS_REPORT_JSON | 1u << CS_REPORT_CSV);
    long limit = -1;
    const char *want_region = NULL, *want_account = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":he:o:", opts, NULL)) != -1) {
        int used = cli_source_option(VERB, &src, c, optarg);
        if (used == 0)
            used = peer_cli_option(&p, c, optarg, argv, optind);
        if (used < 0)
            return CLI_USAGE;
        if (used)
            continue;
        switch (c) {
        case 'h':
            usage(stdout);
            return CLI_OK;
        case OPT_LIMIT:
            limit = cli_parse_count(optarg, 0, 1L << 30);
            if (limit < 0) {
                cli_errorf(VERB, "--limit %s: expected a number", optarg);
                return CLI_USAGE;
            }
            break;
        case OPT_FILTER_REGION:
            want_region = optarg;
            break;
        case OPT_FILTER_ACCOUNT:
            want_account = optarg;
            break;
        default:
            usage(stderr);
            return CLI_USAGE;
        }
    }
    if (argc - optind != 1) {
        cli_errorf(VERB, "expected one VPC id (see --help)");
        return CLI_USAGE;
    }
    const char *id = argv[optind];
    cli_estate est;
    int rc = cli_estate_open(VERB, &src, &est);
    if (rc)
        return rc;
    const cs_snapshot *s = est.snap;
    cs_peering_filter filter = {CS_IDX_NONE, CS_IDX_NONE, 0};
    uint32_t vpc = CS_IDX_NONE;
    if ((rc = peer_cli_require_vpc(&p, s, id, &vpc)) != 0 || (rc = peer_cli_open(&p)) != 0) {
        cli_estate_close(&est);
        return rc;
    }
    if (want_account &&
        cs_estate_account_find(s, want_account, strlen(want_account), &filter.account) != 1) {
        cli_errorf(VERB, "--account %s: no such account in the estate", want_account);
        cli_estate_close(&est);
        return CLI_USAGE;
    }
    if (want_region) {
        cs_estate_counts cnt;
        cs_estate_counts_get(s, &cnt);
        for (uint32_t r = 0; r < cnt.regions; r++) {
            cs_region reg;
            if (cs_estate_region(s, r, &reg) == 0 && strcmp(reg.name, want_region) == 0)
                filter.region = r;
        }
        if (filter.region == CS_IDX_NONE) {
            cli_errorf(VERB, "--region %s: no VPC of the estate is in that region", want_region);
            cli_estate_close(&est);
            return CLI_USAGE;
        }
    }
    cs_error err;
    cs_error_clear(&err);
    cs_peering_index *ix = NULL;
    if (cs_peering_index_new(s, &ix, &err) < 0) {
        rc = cli_report_error(VERB, &err);
        cli_estate_close(&est);
        return rc;
    }
    cs_peering_opts po = {(uint32_t)p.quota};
    if (limit < 0)
        limit = p.fmt == CS_REPORT_TEXT ? TEXT_LIMIT : 0;
    cs_estate_counts cnt;
    cs_estate_counts_get(s, &cnt);
    size_t cap = limit > 0 && (uint64_t)limit < cnt.vpcs ? (size_t)limit : cnt.vpcs;
    uint32_t *cands = malloc((cap ? cap : 1) * sizeof *cands);
    cs_peering_pair *pairs = malloc((cap ? cap : 1) * sizeof *pairs);
    cs_peering_verdict *verdicts = malloc((cap ? cap : 1) * sizeof *verdicts);
    cs_peering_cand_stats st;
    int64_t total = cands && pairs && verdicts
                        ? cs_peering_candidates(ix, vpc, &filter, &po, cands, cap, &st)
                        : CS_ENOMEM;
    if (total < 0) {
        cli_errorf(VERB, "%s", cs_strerror((int)total));
        rc = cli_exit_code((int)total);
    } else {
        size_t n = (uint64_t)total < cap ? (size_t)total : cap;
        for (size_t i = 0; i < n; i++) {
            pairs[i].a = vpc;
            pairs[i].b = cands[i];
        }
        int brc = cs_peering_check_bulk(ix, pairs, n, &po, verdicts);
        if (brc < 0) {
            cli_errorf(VERB, "cs_peering_check_bulk: %s", cs_strerror(brc));
            rc = CLI_INTERNAL;
        } else if (cs_peering_report_candidates(p.out, p.fmt, s, vpc, &filter, &po, cands,
                                         verdicts, n, (uint64_t)total, &st, &err) < 0)
            rc = cli_report_error(VERB, &err);
    }
    free(cands);
    free(pairs);
    free(verdicts);
    cs_peering_index_free(ix);
    cli_estate_close(&est);
    return peer_cli_close(&p, rc);
}
