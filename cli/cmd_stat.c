/*
 * cli/cmd_stat.c — `cidrscope stat SOURCE...`: what an estate holds.
 *
 * Option parsing and two library calls: cs_estate_stats_get (the counts,
 * engine/query/stats.c; counting rules in estate.h) and cs_stat_report_write
 * (text or JSON, engine/report/stat_report.c). A snapshot file answers
 * exactly as its sources.
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
            "Exit: 0 ok, 2 usage or bad input (file:line:column), 3 internal error.\n");
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
    cs_estate_stats st;
    cs_error err;
    cs_error_clear(&err);
    rc = cs_estate_stats_get(est.snap, &st);
    if (rc < 0) {
        cli_errorf("stat", "reading the estate tables: %s", cs_strerror(rc));
        cs_estate_stats_free(&st);
        cli_estate_close(&est);
        return cli_exit_code(rc);
    }
    rc = cs_stat_report_write(stdout, est.snap, &st, fmt, findings, &err);
    cs_estate_stats_free(&st);
    cli_estate_close(&est);
    if (rc < 0)
        return cli_report_error("stat", &err);
    return CLI_OK;
}
