/*
 * cli/cmd_alloc.c — `cidrscope alloc --pool PREFIX --length L`: N aligned
 * blocks of length L inside the pools that overlap no block of the estate
 * (--avoid all), nothing --excluded, and with --peerable-with nothing of
 * those VPCs or of their peers, under AWS's rules for a VPC's blocks
 * (cs_ipam_alloc, cs_ipam_peer_blocks, cs_ipam_report_alloc).
 *
 * Exit: 0 every block allocated; 1 fewer than --count fit (the ones that
 * fit are printed, with the reason); 2 usage or bad input; 3 internal.
 */
#include "cli.h"
#include "ipam_opts.h"
#include "source.h"
#include "verbs.h"

#include <cidrscope/estate.h>
#include <cidrscope/ipam.h>
#include <cidrscope/peering.h>

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define VERB "alloc"
#define MAX_PEERABLE 256
#define MAX_COUNT 1000000

enum {
    OPT_LENGTH = 0x300,
    OPT_COUNT,
    OPT_STRATEGY,
    OPT_AVOID,
    OPT_PEERABLE,
    OPT_ALLOWED,
    OPT_COMMIT,
    OPT_TOKEN,
    OPT_OWNER,
    OPT_SHM_OWNER,
};

static void usage(FILE *f)
{
    fprintf(f,
        "usage: cidrscope alloc [options] -e SOURCE --pool POOL --length L\n"
        "\n"
        "Allocates aligned blocks of length L inside the pools that overlap no\n"
        "block of the estate, computed from the free space (never by trying\n"
        "candidates one by one).\n"
        "\n"
        "Pools are tried in the order given.\n"
        "\n" CLI_IPAM_HELP
        "      --length L         prefix length of each block (an AWS IPAM pool:\n"
        "                         default its AllocationDefaultNetmaskLength; outside\n"
        "                         its min/max refused)\n"
        "      --count N          blocks to allocate (default 1)\n"
        "      --strategy S       first (lowest blocks, default), best-fit (the\n"
        "                         smallest free block that holds one) or spread (the\n"
        "                         largest, so each has the most room to grow)\n"
        "      --avoid all|none   all (default): no block of the estate may be\n"
        "                         overlapped; none: only --exclude and\n"
        "                         --peerable-with count\n"
        "      --peerable-with VPC  no block of VPC or of the VPCs it is peered\n"
        "                         with, so a new VPC on the blocks could peer with\n"
        "                         all of them; AWS's rules for a VPC's blocks apply\n"
        "                         (IPv4 /16../28, the association-restriction table\n"
        "                         with the first block as primary); repeatable\n"
        "      --allowed PREFIX   blocks only inside these; repeatable\n"
        "\n"
        "With --shm NAME, the reservations of the service's ledger count as used;\n"
        "      --commit           reserve the blocks in the ledger (`serve NAME\n"
        "                         --ledger FILE`): atomically, journaled before the\n"
        "                         answer; two commits never overlap\n"
        "      --token T          idempotency: the same T returns the same blocks\n"
        "      --owner TEXT       with --commit: who reserved them (kept in the\n"
        "                         ledger's journal)\n"
        "      --shm-owner USER   with --shm: the user who must own the service (what\n"
        "                         --owner USER means for the other verbs)\n"
        "\n" CLI_SOURCE_HELP
        "\nExit: 0 all allocated, 1 fewer than --count fit (those that fit are\n"
        "printed with the reason), 2 usage or bad input, 3 internal error.\n");
}

int cmd_alloc(int argc, char **argv)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {"length", required_argument, NULL, OPT_LENGTH},
        {"count", required_argument, NULL, OPT_COUNT},
        {"strategy", required_argument, NULL, OPT_STRATEGY},
        {"avoid", required_argument, NULL, OPT_AVOID},
        {"peerable-with", required_argument, NULL, OPT_PEERABLE},
        {"allowed", required_argument, NULL, OPT_ALLOWED},
        {"commit", no_argument, NULL, OPT_COMMIT},
        {"token", required_argument, NULL, OPT_TOKEN},
        {"owner", required_argument, NULL, OPT_OWNER},
        {"shm-owner", required_argument, NULL, OPT_SHM_OWNER},
        CLI_IPAM_LONGOPTS,
        CLI_SOURCE_LONGOPTS,
        {NULL, 0, NULL, 0}};
    cli_sources src;
    cli_sources_init(&src);
    cli_ipam o = {.fmt = CS_REPORT_TEXT};
    cli_prefixes allowed = {0};
    const char *peerable[MAX_PEERABLE];
    size_t n_peerable = 0;
    long length = -1, count = 1;
    int strategy = CS_IPAM_FIRST;
    bool avoid_none = false, commit = false;
    const char *token = NULL, *owner = NULL;
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
            cli_prefixes_free(&allowed);
            return CLI_OK;
        case OPT_ALLOWED:
            rc = cli_prefixes_add(VERB, &allowed, "--allowed", optarg);
            break;
        case OPT_LENGTH:
            if ((length = cli_parse_count(optarg, 0, 128)) < 0) {
                cli_errorf(VERB, "--length %s: expected a prefix length from 0 to 128", optarg);
                rc = CLI_USAGE;
            }
            break;
        case OPT_COUNT:
            if ((count = cli_parse_count(optarg, 1, MAX_COUNT)) < 0) {
                cli_errorf(VERB, "--count %s: expected a number from 1 to %d", optarg,
                           MAX_COUNT);
                rc = CLI_USAGE;
            }
            break;
        case OPT_STRATEGY:
            if ((strategy = cs_ipam_strategy_parse(optarg, strlen(optarg))) < 0) {
                cli_errorf(VERB, "--strategy %s: expected first, best-fit or spread", optarg);
                rc = CLI_USAGE;
            }
            break;
        case OPT_AVOID:
            if (strcmp(optarg, "all") != 0 && strcmp(optarg, "none") != 0) {
                cli_errorf(VERB, "--avoid %s: expected all or none", optarg);
                rc = CLI_USAGE;
            }
            avoid_none = strcmp(optarg, "none") == 0;
            break;
        case OPT_COMMIT:
            commit = true;
            break;
        case OPT_TOKEN:
            token = optarg;
            break;
        case OPT_OWNER:
            owner = optarg;
            break;
        case OPT_SHM_OWNER:
            src.shm_owner = optarg;
            break;
        case OPT_PEERABLE:
            if (n_peerable == MAX_PEERABLE) {
                cli_errorf(VERB, "at most %d --peerable-with VPCs", MAX_PEERABLE);
                rc = CLI_USAGE;
            } else {
                peerable[n_peerable++] = optarg;
            }
            break;
        }
    }
    if (rc == CLI_OK && optind != argc) {
        cli_errorf(VERB, "unexpected argument (see --help)");
        rc = CLI_USAGE;
    }
    if (rc == CLI_OK)
        rc = cli_ipam_resolve(VERB, &o, &length);
    if (rc == CLI_OK && length < 0) {
        cli_errorf(VERB, "--length L is needed (see --help)");
        rc = CLI_USAGE;
    }
    const cli_prefixes pools = o.pools;
    cli_prefixes excl = o.excl;
    if (rc == CLI_OK && (commit || token) && !src.shm) {
        cli_errorf(VERB, "--commit and --token need --shm NAME (a service with a ledger)");
        rc = CLI_USAGE;
    }
    /* --owner is the reservation's owner (issue 12); the user who must own
     * the service is --shm-owner here (--owner USER for the other verbs). */
    if (rc == CLI_OK && (token || owner) && !commit) {
        cli_errorf(VERB, "%s goes with --commit%s", token ? "--token" : "--owner TEXT",
                   token ? "" : " (the service's owner is --shm-owner USER)");
        rc = CLI_USAGE;
    }
    for (size_t i = 1; rc == CLI_OK && i < pools.n; i++)
        if (pools.p[i].family != pools.p[0].family) {
            cli_errorf(VERB, "--pool: every pool must be of one family");
            rc = CLI_USAGE;
        }
    cli_estate est = {0};
    if (rc == CLI_OK)
        rc = cli_estate_open(VERB, &src, &est);
    /* The blocks of --peerable-with VPCs and their peers join the excludes. */
    uint32_t vidx[MAX_PEERABLE];
    for (size_t i = 0; rc == CLI_OK && i < n_peerable; i++)
        if (cs_estate_vpc_find(est.snap, peerable[i], strlen(peerable[i]), &vidx[i]) != 1) {
            cli_errorf(VERB, "--peerable-with %s: not a VPC of the estate", peerable[i]);
            rc = CLI_USAGE;
        }
    if (rc == CLI_OK && n_peerable) {
        int64_t np = cs_ipam_peer_blocks(est.snap, vidx, n_peerable, NULL, 0);
        cs_prefix *pb = np > 0 ? realloc(excl.p, (excl.n + (size_t)np) * sizeof *pb) : excl.p;
        if (np < 0 || !pb) {
            cli_errorf(VERB, "out of memory");
            rc = CLI_INTERNAL;
        } else {
            excl.p = pb;
            excl.cap = excl.n + (size_t)np;
            cs_ipam_peer_blocks(est.snap, vidx, n_peerable, excl.p + excl.n, (size_t)np);
            excl.n += (size_t)np;
        }
    }
    /* A service's ledger: its reservations count as used (commit adds them
     * itself, under the ledger's lock). */
    cs_ledger *ledger = NULL;
    if (rc == CLI_OK && src.shm) {
        cs_error lerr;
        cs_error_clear(&lerr);
        int lrc = cs_ledger_open(src.shm, &ledger, &lerr);
        if (lrc < 0 && commit)
            rc = cli_report_error(VERB, &lerr);
        else if (lrc == 0 && !commit)
            rc = cli_add_reservations(VERB, ledger, &excl);
    }
    cs_ipam_allocation *out = rc == CLI_OK ? calloc((size_t)count, sizeof *out) : NULL;
    if (rc == CLI_OK && !out) {
        cli_errorf(VERB, "out of memory");
        rc = CLI_INTERNAL;
    }
    if (rc == CLI_OK) {
        cs_ipam_request q = {.pools = pools.p, .n_pools = pools.n, .length = (unsigned)length,
                             .count = (size_t)count, .strategy = (unsigned)strategy,
                             .avoid_none = avoid_none, .vpc_rules = n_peerable > 0,
                             .allowed = allowed.p, .n_allowed = allowed.n, .extra = excl.p,
                             .n_extra = excl.n};
        unsigned why = CS_IPAM_OK;
        cs_error cerr;
        cs_error_clear(&cerr);
        int64_t n = commit ? cs_ledger_commit(ledger, est.snap, &q, token, owner, out, &why, &cerr)
                           : cs_ipam_alloc(est.snap, &q, out, &why);
        if (n < 0 && commit) {
            rc = cli_report_error(VERB, &cerr);
        } else if (n < 0) {
            cli_errorf(VERB, "bad pools or length");
            rc = CLI_USAGE;
        } else {
            cs_snapshot_info info;
            cs_snapshot_get_info(est.snap, &info);
            cs_error err;
            cs_error_clear(&err);
            if (cs_ipam_report_alloc(stdout, o.fmt, pools.p, o.names, out, (size_t)n,
                                     (size_t)count, (unsigned)length, why, info.generation,
                                     &err) < 0)
                rc = cli_report_error(VERB, &err);
            else if (n < count) {
                if (o.fmt != CS_REPORT_TEXT)
                    cli_errorf(VERB, "only %lld of %ld blocks: %s", (long long)n, count,
                               cs_ipam_reason_text(why));
                rc = CLI_FINDINGS;
            }
        }
    }
    free(out);
    cs_ledger_close(ledger);
    if (est.snap)
        cli_estate_close(&est);
    o.excl = excl;
    cli_ipam_free(&o);
    cli_prefixes_free(&allowed);
    return rc;
}
