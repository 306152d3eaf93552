/*
 * cli/cmd_free.c — `cidrscope free --pool POOL ...`: the free space of
 * each pool as its minimal list of aligned CIDR blocks (the exact
 * complement of the estate's blocks inside it), with size, used, free,
 * largest free block and fragmentation (cs_ipam_free, cs_ipam_report_free);
 * a pool is a prefix or an AWS IPAM pool id (cli/ipam_opts.c).
 *
 * Exit: 0 done; 2 usage or bad input; 3 internal error.
 */
#include "cli.h"
#include "ipam_opts.h"
#include "source.h"
#include "verbs.h"

#include <cidrscope/ipam.h>
#include <cidrscope/peering.h>

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define VERB "free"

enum { OPT_MIN_LENGTH = 0x300 };

static void usage(FILE *f)
{
    fprintf(f,
        "usage: cidrscope free [options] -e SOURCE --pool POOL [--pool POOL ...]\n"
        "\n"
        "The free space of each pool: the minimal list of aligned CIDR blocks that\n"
        "overlap no block of the estate, with the pool's size, used and free\n"
        "addresses, its largest free block and a fragmentation figure\n"
        "(1 - largest free / free).\n"
        "\n" CLI_IPAM_HELP
        "      --min-length L     list only free blocks of length L or shorter (that\n"
        "                         can hold a /L); the figures count every block\n"
        "With --shm NAME, the reservations of the service's ledger count as used.\n"
        "\n" CLI_SOURCE_HELP
        "\nExit: 0 done, 2 usage or bad input, 3 internal error.\n");
}

int cmd_free(int argc, char **argv)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {"min-length", required_argument, NULL, OPT_MIN_LENGTH},
        CLI_IPAM_LONGOPTS,
        CLI_SOURCE_LONGOPTS,
        {NULL, 0, NULL, 0}};
    cli_sources src;
    cli_sources_init(&src);
    cli_ipam o = {.fmt = CS_REPORT_TEXT};
    long min_len = 0;
    int c, rc = CLI_OK;
    optind = 1;
    opterr = 0;
    while (rc == CLI_OK && (c = getopt_long(argc, argv, ":he:", opts, NULL)) != -1) {
        int used = cli_source_option(VERB, &src, c, optarg);
        if (used < 0) {
            rc = CLI_USAGE;
            break;
        }
        if (used || cli_ipam_option(VERB, &o, c, optarg, argv, &rc))
            continue;
        switch (c) {
        case 'h':
            usage(stdout);
            cli_ipam_free(&o);
            return CLI_OK;
        case OPT_MIN_LENGTH:
            if ((min_len = cli_parse_count(optarg, 0, 128)) < 0) {
                cli_errorf(VERB, "--min-length %s: expected a prefix length from 0 to 128",
                           optarg);
                rc = CLI_USAGE;
            }
            break;
        }
    }
    if (rc == CLI_OK && optind != argc) {
        cli_errorf(VERB, "unexpected argument (see --help)");
        rc = CLI_USAGE;
    }
    if (rc == CLI_OK)
        rc = cli_ipam_resolve(VERB, &o, NULL);
    cli_estate est = {0};
    if (rc == CLI_OK)
        rc = cli_estate_open(VERB, &src, &est);
    /* A service's ledger: its reservations are used space too. */
    if (rc == CLI_OK && src.shm) {
        cs_ledger *ledger = NULL;
        if (cs_ledger_open(src.shm, &ledger, NULL) == 0)
            rc = cli_add_reservations(VERB, ledger, &o.excl);
        cs_ledger_close(ledger);
    }
    const cli_prefixes *pools = &o.pools;
    cs_ipam_free_pool *fp = rc == CLI_OK ? calloc(pools->n, sizeof *fp) : NULL;
    if (rc == CLI_OK && !fp) {
        cli_errorf(VERB, "out of memory");
        rc = CLI_INTERNAL;
    }
    for (size_t i = 0; rc == CLI_OK && i < pools->n; i++) {
        fp[i].pool = pools->p[i];
        fp[i].name = o.names[i];
        int64_t n = cs_ipam_free(est.snap, &pools->p[i], o.excl.p, o.excl.n, (unsigned)min_len,
                                 NULL, 0, &fp[i].stats);
        cs_prefix *blocks = n > 0 ? malloc((size_t)n * sizeof *blocks) : NULL;
        if (n < 0) {
            char pb[CS_PREFIX_STRCAP];
            cs_prefix_format(&pools->p[i], pb, sizeof pb);
            cli_errorf(VERB, "--pool %s: not a pool (an IPv6 /0 is too large)", pb);
            rc = CLI_USAGE;
        } else if (n > 0 && !blocks) {
            cli_errorf(VERB, "out of memory");
            rc = CLI_INTERNAL;
        } else if (n > 0) {
            cs_ipam_free(est.snap, &pools->p[i], o.excl.p, o.excl.n, (unsigned)min_len, blocks,
                         (size_t)n, NULL);
            fp[i].blocks = blocks;
            fp[i].n_blocks = (size_t)n;
        }
    }
    if (rc == CLI_OK) {
        cs_error err;
        cs_error_clear(&err);
        if (cs_ipam_report_free(stdout, o.fmt, fp, pools->n, &err) < 0)
            rc = cli_report_error(VERB, &err);
    }
    for (size_t i = 0; fp && i < pools->n; i++)
        free((void *)fp[i].blocks);
    free(fp);
    if (est.snap)
        cli_estate_close(&est);
    cli_ipam_free(&o);
    return rc;
}
