/*
 * cli/cmd_can_add.c — `cidrscope can-add VPC CIDR`: may this block be
 * associated with the VPC now? (cs_peering_can_add: block size, link-local,
 * the VPC's own live blocks, AWS's association-restriction table, the
 * VPC's quota of blocks, and every active or pending peer's blocks.)
 *
 * CIDR must be canonical (10.0.0.1/16 is refused with the block it was
 * probably meant to be). An unknown VPC is answered (unknown-vpc), not
 * refused.
 *
 * Exit: 0 done; 1 with --fail-on blocked when a rule forbids the block; 2
 * usage or bad input; 3 internal error.
 */
#include "cli.h"
#include "source.h"
#include "verbs.h"

#include <cidrscope/peering.h>

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define VERB "can-add"

enum { OPT_FORMAT = 0x300, OPT_FAIL_ON, OPT_QUOTA4, OPT_QUOTA6 };

static void usage(FILE *f)
{
    fprintf(f,
        "usage: cidrscope can-add [options] -e SOURCE VPC CIDR\n"
        "\n"
        "Whether CIDR may be associated with VPC now, and why not:\n"
        "  blocks: unknown-vpc, block-size (IPv4 /16../28, IPv6 /44../60 in steps\n"
        "          of /4), link-local, reserved-range (0.0.0.0/8, 127.0.0.0/8,\n"
        "          224.0.0.0/4), own-overlap, association-restricted (AWS's table\n"
        "          for the VPC's primary range), block-quota, peer-overlap (an\n"
        "          active or provisioning peer's block), pending-requester (the\n"
        "          VPC requested a connection still pending)\n"
        "  warns:  pending-request-fails (an overlap with the requester of a\n"
        "          pending request makes it fail), peer-not-in-estate\n"
        "Route tables are not in the estate: a route whose destination the block\n"
        "would cover is not checked.\n"
        "\n"
        "      --block-quota N    IPv4 blocks allowed per VPC (default 5; AWS allows\n"
        "                         up to 50)\n"
        "      --ipv6-block-quota N  IPv6 blocks allowed per VPC (default 5, max 50)\n"
        "      --fail-on blocked  exit 1 when the block may not be added\n"
        "      --format F         text (default), json or csv\n"
        "\n" CLI_SOURCE_HELP
        "\nExit: 0 done, 1 blocked with --fail-on blocked, 2 usage or bad input,\n"
        "3 internal error.\n");
}

int cmd_can_add(int argc, char **argv)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"fail-on", required_argument, NULL, OPT_FAIL_ON},
        {"block-quota", required_argument, NULL, OPT_QUOTA4},
        {"ipv6-block-quota", required_argument, NULL, OPT_QUOTA6},
        CLI_SOURCE_REFUSED_OPTIONS,
        CLI_SOURCE_LONGOPTS,
        {NULL, 0, NULL, 0}};
    cli_sources src;
    cli_sources_init(&src);
    enum cs_report_format fmt = CS_REPORT_TEXT;
    bool fail_on = false;
    cs_can_add_opts co = {0, 0};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":he:", opts, NULL)) != -1) {
        int used = cli_source_option(VERB, &src, c, optarg);
        if (used < 0)
            return CLI_USAGE;
        if (used)
            continue;
        switch (c) {
        case 'h':
            usage(stdout);
            return CLI_OK;
        case OPT_FORMAT:
            if (cli_parse_format(VERB, optarg, 1u << CS_REPORT_TEXT | 1u << CS_REPORT_JSON | 1u << CS_REPORT_CSV,
                                 &fmt))
                return CLI_USAGE;
            break;
        case OPT_FAIL_ON:
            if (strcmp(optarg, "blocked") != 0) {
                cli_errorf(VERB, "--fail-on %s: the only condition is 'blocked'", optarg);
                return CLI_USAGE;
            }
            fail_on = true;
            break;
        case OPT_QUOTA4:
        case OPT_QUOTA6: {
            long q = cli_parse_count(optarg, 1, 50);
            if (q < 0) {
                cli_errorf(VERB, "%s %s: expected a number from 1 to 50 (the most AWS allows)",
                           c == OPT_QUOTA4 ? "--block-quota" : "--ipv6-block-quota", optarg);
                return CLI_USAGE;
            }
            if (c == OPT_QUOTA4)
                co.v4_quota = (uint32_t)q;
            else
                co.v6_quota = (uint32_t)q;
            break;
        }
        case ':':
            cli_errorf(VERB, "option %s needs a value (see --help)", argv[optind - 1]);
            return CLI_USAGE;
        default:
            cli_errorf(VERB, "unknown option %s (see --help)", argv[optind - 1]);
            return CLI_USAGE;
        }
    }
    if (argc - optind != 2) {
        cli_errorf(VERB, "expected a VPC id and a CIDR block (see --help)");
        return CLI_USAGE;
    }
    const char *id = argv[optind], *cidr = argv[optind + 1];
    cs_prefix p;
    cs_error err;
    cs_error_clear(&err);
    if (cs_prefix_parse(cidr, strlen(cidr), 0, &p, &err) != 0) {
        snprintf(err.source, sizeof err.source, "CIDR argument");
        return cli_report_error(VERB, &err);
    }
    cli_estate est;
    int rc = cli_estate_open(VERB, &src, &est);
    if (rc)
        return rc;
    uint32_t vpc = CS_IDX_NONE;
    if (cs_estate_vpc_find(est.snap, id, strlen(id), &vpc) != 1)
        vpc = CS_IDX_NONE;
    bool blocked = false;
    if (cs_peering_report_can_add(stdout, fmt, est.snap, id, vpc, &p, &co, &blocked, &err) <
        0)
        rc = cli_report_error(VERB, &err);
    else if (fail_on && blocked)
        rc = CLI_FINDINGS;
    cli_estate_close(&est);
    return rc;
}
