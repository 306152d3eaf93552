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
 * An argument that names a VPC of the estate is that VPC; one that looks
 * like an address or prefix (a digit first, or a ':' or '/' in it) but does
 * not parse (10.0.0.0/33, 010.0.0.1) is refused with the parse error and a
 * caret, exit 2; anything else names no VPC and is answered (unknown-vpc),
 * not refused.
 *
 * Exit: 0 done; 1 with --fail-on unreachable when not reachable; 2 usage or
 * bad input; 3 internal error.
 */
#include "cli.h"
#include "peer_cli.h"
#include "source.h"
#include "verbs.h"

#include <cidrscope/peering.h>
#include <cidrscope/query.h>

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define VERB "reach"

enum { OPT_FAIL_ON = 0x300, OPT_LIMIT };
/* No-connection findings listed unless --limit says otherwise (text, JSON). */
#define DEFAULT_LIMIT 20

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
        PEER_CLI_OUTPUT_HELP
        "      --limit N          list at most N VPCs holding DST with no connection,\n"
        "                         then count the rest (default 20, csv all; 0 = all)\n"
        "\n" CLI_SOURCE_HELP
        "\nExit: 0 done, 1 not reachable with --fail-on unreachable, 2 usage or bad\n"
        "input, 3 internal error.\n");
}

/* True when text is meant as an address or prefix rather than a VPC id. */
static bool looks_like_address(const char *text)
{
    return (text[0] >= '0' && text[0] <= '9') || strchr(text, ':') || strchr(text, '/');
}

/* Reads one end (argument `pos`, 1 or 2): an address, a prefix, else a VPC
 * id. Returns 0, or the exit code after printing a parse error. */
static int parse_end(const cs_snapshot *s, const char *text, int pos, cs_reach_end *e)
{
    memset(e, 0, sizeof *e);
    e->vpc = CS_IDX_NONE;
    size_t len = strlen(text);
    cs_error err;
    cs_error_clear(&err);
    if (cs_address_parse(text, len, 0, &e->prefix, &err) == 0 ||
        cs_prefix_parse(text, len, 0, &e->prefix, &err) == 0)
        return 0;
    uint32_t idx = peer_cli_vpc(s, text);
    if (idx != CS_IDX_NONE) {
        e->vpc = idx;
        return 0;
    }
    if (looks_like_address(text)) {
        /* the error of the form it has: a prefix with '/', else an address */
        cs_error_clear(&err);
        if (strchr(text, '/'))
            cs_prefix_parse(text, len, 0, &e->prefix, &err);
        else
            cs_address_parse(text, len, 0, &e->prefix, &err);
        snprintf(err.source, sizeof err.source, "(command line)");
        err.line = (unsigned long)pos;
        return cli_report_error(VERB, &err);
    }
    e->unknown = true;
    return 0;
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
        PEER_CLI_LONGOPTS,
        {"fail-on", required_argument, NULL, OPT_FAIL_ON},
        {"limit", required_argument, NULL, OPT_LIMIT},
        CLI_SOURCE_REFUSED_OPTIONS,
        CLI_SOURCE_LONGOPTS,
        {NULL, 0, NULL, 0}};
    cli_sources src;
    cli_sources_init(&src);
    peer_cli p;
    peer_cli_init(&p, VERB, 1u << CS_REPORT_TEXT | 1u << CS_REPORT_JSON | 1u << CS_REPORT_CSV);
    bool fail_on = false;
    long limit = -1;
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
        case OPT_FAIL_ON:
            if (strcmp(optarg, "unreachable") != 0) {
                cli_errorf(VERB, "--fail-on %s: the only condition is 'unreachable'", optarg);
                return CLI_USAGE;
            }
            fail_on = true;
            break;
        case OPT_LIMIT:
            if ((limit = cli_parse_count(optarg, 0, 1L << 40)) < 0) {
                cli_errorf(VERB, "--limit %s: expected a whole number (0 = all)", optarg);
                return CLI_USAGE;
            }
            break;
        default:
            usage(stderr);
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
    if ((rc = parse_end(s, st, 1, &se)) != 0 || (rc = parse_end(s, dt, 2, &de)) != 0) {
        cli_estate_close(&est);
        return rc;
    }
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
    uint64_t lim = limit >= 0 ? (uint64_t)limit : p.fmt == CS_REPORT_CSV ? 0 : DEFAULT_LIMIT;
    if ((rc = peer_cli_open(&p)) != 0)
        ; /* -o FILE could not be created: said so */
    else if (cs_peering_report_reach_limit(p.out, p.fmt, s, st, &se, dt, &de, lim, &sum, &err) < 0)
        rc = cli_report_error(VERB, &err);
    else if (fail_on && !sum.reachable)
        rc = CLI_FINDINGS;
    cli_estate_close(&est);
    return peer_cli_close(&p, rc);
}
