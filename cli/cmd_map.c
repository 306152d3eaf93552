/*
 * cli/cmd_map.c — `cidrscope map -e SOURCE [--pool PREFIX ...] -o map.html`:
 * the address-space maps and the peering graph as one self-contained HTML
 * page (the picture of `audit --format html` without the tables).
 *
 * Opens the estate, audits it (the audit gives each block its severity, the
 * clusters to zoom into and the critical pairs of the graph) and hands both
 * to cs_map_write (include/cidrscope/map.h), which does all the drawing.
 *
 * Exit codes (cli.h): 0, 2 bad input or usage, 3 internal or system error.
 */
#include "cli.h"
#include "source.h"
#include "verbs.h"

#include <cidrscope/map.h>

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define VERB "map"
#define MAX_POOLS 64

static void usage(FILE *f)
{
    fprintf(f,
            "usage: cidrscope map -e SOURCE... [--pool PREFIX]... [-o map.html]\n\n"
            "Draws the estate's address space as one self-contained HTML page that\n"
            "opens offline: a Hilbert-curve map per occupied private or reused range\n"
            "(10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10), per --pool\n"
            "and per occupied IPv6 /32, each live block a shape (hover: VPC, account,\n"
            "region, CIDR, overlapping blocks; click a cluster to zoom), overlaps\n"
            "hatched in their severity's colour and pattern, and the peering graph of\n"
            "the VPCs in critical findings.\n\n"
            "  -o, --output FILE      write the page to FILE (default: standard output)\n"
            "      --pool PREFIX      also draw a map of PREFIX (repeatable)\n"
            "      --color-by account|region|severity\n"
            "                         the initial colouring (default account; the page\n"
            "                         switches)\n"
            "      --budget N         shapes per map before blocks are aggregated into\n"
            "                         density cells (default %u)\n"
            "  -h, --help             this text\n"
            CLI_SOURCE_HELP
            "\nExit: 0 written, 2 usage or bad input, 3 internal error.\n",
            CS_MAP_SHAPE_BUDGET);
}

enum { OPT_POOL = 0x300, OPT_COLOR, OPT_BUDGET };

int cmd_map(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"pool", required_argument, NULL, OPT_POOL},
        {"color-by", required_argument, NULL, OPT_COLOR},
        {"budget", required_argument, NULL, OPT_BUDGET},
        {"help", no_argument, NULL, 'h'},
        CLI_SOURCE_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    cli_sources src;
    cli_sources_init(&src);
    cs_prefix pools[MAX_POOLS];
    cs_map_options mo = {.pools = pools};
    const char *output = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "ho:e:", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            usage(stdout);
            return CLI_OK;
        case 'o':
            output = optarg;
            continue;
        case OPT_POOL: {
            cs_error err;
            cs_error_clear(&err);
            if (mo.pool_count == MAX_POOLS) {
                cli_errorf(VERB, "--pool: at most %d pools", MAX_POOLS);
                return CLI_USAGE;
            }
            if (cs_prefix_parse(optarg, strlen(optarg), 0, &pools[mo.pool_count], &err) != 0) {
                cli_errorf(VERB, "--pool %s: %s", optarg, err.message);
                return CLI_USAGE;
            }
            mo.pool_count++;
            continue;
        }
        case OPT_COLOR:
            if (strcmp(optarg, "account") == 0)
                mo.color_by = CS_MAP_BY_ACCOUNT;
            else if (strcmp(optarg, "region") == 0)
                mo.color_by = CS_MAP_BY_REGION;
            else if (strcmp(optarg, "severity") == 0)
                mo.color_by = CS_MAP_BY_SEVERITY;
            else {
                cli_errorf(VERB, "--color-by %s: expected account, region or severity", optarg);
                return CLI_USAGE;
            }
            continue;
        case OPT_BUDGET: {
            long b = cli_parse_count(optarg, 16, 10000000);
            if (b < 0) {
                cli_errorf(VERB, "--budget %s: expected a number from 16 to 10000000", optarg);
                return CLI_USAGE;
            }
            mo.shape_budget = (uint32_t)b;
            continue;
        }
        default:
            break;
        }
        int r = cli_source_option(VERB, &src, c, optarg);
        if (r == 1)
            continue;
        if (r == 0)
            usage(stderr);
        return CLI_USAGE;
    }
    for (int i = optind; i < argc; i++)
        if (cli_source_add(VERB, &src, argv[i]))
            return CLI_USAGE;
    if (src.n_paths == 0 && !src.shm) {
        cli_errorf(VERB, "no estate: give -e SOURCE (or --shm NAME)");
        return CLI_USAGE;
    }
    cli_estate est;
    int rc = cli_estate_open(VERB, &src, &est);
    if (rc != CLI_OK)
        return rc;
    cs_error err;
    cs_error_clear(&err);
    cs_audit_result *res = NULL;
    if (cs_audit_run(est.snap, NULL, &res, &err) < 0) {
        rc = cli_report_error(VERB, &err);
        cli_estate_close(&est);
        return rc;
    }
    mo.title = src.n_paths ? src.paths[0] : src.shm;
    FILE *out = output ? fopen(output, "w") : stdout;
    if (!out) {
        cli_errorf(VERB, "%s: %s", output, strerror(errno));
        rc = CLI_USAGE;
    } else {
        if (cs_map_write(out, est.snap, res, &mo, &err) < 0)
            rc = cli_report_error(VERB, &err);
        if (out != stdout && fclose(out) != 0 && rc == CLI_OK) {
            cli_errorf(VERB, "%s: %s", output, strerror(errno));
            rc = CLI_INTERNAL;
        }
    }
    cs_audit_free(res);
    cli_estate_close(&est);
    return rc;
}
