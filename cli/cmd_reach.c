/*
 * cli/cmd_reach.c — `cidrscope reach SRC DST`: can traffic go from SRC to
 * DST over VPC peering, and why (not)? (cs_peering_reach.)
 *
 * SRC is a VPC id, or an address/prefix: inside a VPC it stands for that
 * VPC (the one VPC holding it; when several VPCs hold it, name the VPC);
 * outside every VPC it is traffic coming in from the internet or a private
 * network (then DST must be in a VPC). DST is a VPC id, a prefix or an
 * address. Only active connections carry traffic; peering is never
 * transitive and never edge-to-edge (a peer's internet gateway, NAT, VPN,
 * Direct Connect or gateway endpoint cannot be used, in either direction).
 * An argument that parses as neither address nor prefix is a VPC id; one
 * that names no VPC is answered (unknown-vpc), not refused.
 *
 * Exit: 0 done; 1 with --fail-on unreachable when not reachable; 2 usage or
 * bad input; 3 internal error.
 */
#include "cli.h"
#include "source.h"
#include "verbs.h"

#include <cidrscope/peering.h>
#include <cidrscope/query.h>

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define VERB "reach"

enum { OPT_FORMAT = 0x300, OPT_FAIL_ON };

static void usage(FILE *f)
{
    fprintf(f,
        "usage: cidrscope reach [options] -e SOURCE SRC DST\n"
        "\n"
        "Whether traffic can go from SRC to DST over VPC peering, and why (not).\n"
        "SRC is a VPC id, or an address outside every VPC (traffic coming in);\n"
        "DST is a VPC id, a prefix or an address. Only active connections carry\n"
        "traffic; peering is never transitive (A-B and B-C do not join A and C)\n"
        "and never edge-to-edge (a peer's internet gateway, NAT device, VPN,\n"
        "Direct Connect or gateway endpoint is not usable, either way). Security\n"
        "groups can be referenced across a connection only within one region.\n"
        "\n"
        "      --fail-on unreachable  exit 1 when DST is not reachable\n"
        "      --format F         text (default), json or csv\n"
        "      --region R         same as --source-region\n"
        "\n" CLI_SOURCE_HELP
        "\nExit: 0 done, 1 not reachable with --fail-on unreachable, 2 usage or bad\n"
        "input, 3 internal error.\n");
}

/* Reads one end: an address, a prefix, else a VPC id. */
static void parse_end(const cs_snapshot *s, const char *text, cs_reach_end *e)
{
    memset(e, 0, sizeof *e);
    e->vpc = CS_IDX_NONE;
    size_t len = strlen(text);
    cs_error err;
    if (cs_address_parse(text, len, 0, &e->prefix, &err) == 0 ||
        cs_prefix_parse(text, len, 0, &e->prefix, &err) == 0)
        return;
    uint32_t idx;
    if (cs_estate_vpc_find(s, text, len, &idx) == 1)
        e->vpc = idx;
    else
        e->unknown = true;
}

typedef struct holder_scan {
    const cs_snapshot *s;
    const uint32_t *map;
    uint32_t vpc;
    uint32_t count;
} holder_scan;

static int on_cover(const cs_match *m, void *ctx)
{
    holder_scan *h = ctx;
    /* count: 0 none, 1 one VPC (h->vpc), 2 more than one. */
    for (uint32_t i = 0; i < m->count; i++) {
        uint32_t v = h->map[m->values[i]];
        cs_vpc x;
        if (cs_estate_vpc(h->s, v, &x) != 0 || x.pseudo)
            continue; /* a prefix-list owner's range is not a VPC */
        if (!h->count) {
            h->vpc = v;
            h->count = 1;
        } else if (v != h->vpc) {
            h->count = 2;
            return 1;
        }
    }
    return 0;
}

int cmd_reach(int argc, char **argv)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"fail-on", required_argument, NULL, OPT_FAIL_ON},
        {"region", required_argument, NULL, OPT_SRC_REGION},
        CLI_SOURCE_LONGOPTS,
        {NULL, 0, NULL, 0}};
    cli_sources src;
    cli_sources_init(&src);
    enum cs_report_format fmt = CS_REPORT_TEXT;
    bool fail_on = false;
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
            if (strcmp(optarg, "unreachable") != 0) {
                cli_errorf(VERB, "--fail-on %s: the only condition is 'unreachable'", optarg);
                return CLI_USAGE;
            }
            fail_on = true;
            break;
        case ':':
            cli_errorf(VERB, "option %s needs a value (see --help)", argv[optind - 1]);
            return CLI_USAGE;
        default:
            cli_errorf(VERB, "unknown option %s (see --help)", argv[optind - 1]);
            return CLI_USAGE;
        }
    }
    if (argc - optind != 2) {
        cli_errorf(VERB, "expected SRC and DST (see --help)");
        return CLI_USAGE;
    }
    const char *st = argv[optind], *dt = argv[optind + 1];
    cli_estate est;
    int rc = cli_estate_open(VERB, &src, &est);
    if (rc)
        return rc;
    const cs_snapshot *s = est.snap;
    cs_reach_end se, de;
    parse_end(s, st, &se);
    parse_end(s, dt, &de);
    if (se.vpc == CS_IDX_NONE && !se.unknown) {
        /* An address inside a VPC stands for that VPC, when there is one. */
        holder_scan h = {s, cs_estate_assoc_vpc_map(s, NULL), CS_IDX_NONE, 0};
        cs_query_walk(s, &se.prefix, CS_Q_OVERLAPPING, on_cover, &h);
        if (h.count > 1) {
            cli_errorf(VERB, "%s lies in more than one VPC; name the source VPC instead", st);
            cli_estate_close(&est);
            return CLI_USAGE;
        }
        if (h.count == 1)
            se.vpc = h.vpc;
    }
    cs_reach_summary sum;
    cs_error err;
    cs_error_clear(&err);
    if (cs_peering_report_reach(stdout, fmt, s, st, &se, dt, &de, &sum, &err) < 0)
        rc = cli_report_error(VERB, &err);
    else if (fail_on && !sum.reachable)
        rc = CLI_FINDINGS;
    cli_estate_close(&est);
    return rc;
}
