/*
 * cli/cmd_mesh.c — `cidrscope mesh VPC... | --from FILE [--hub VPC]`: a
 * planned full mesh (every pair peered) or hub-and-spoke (the hub peered
 * with every spoke): the matrix of conflicts between the VPCs, and the
 * connections the plan needs against each VPC's quota of active ones
 * (cs_peering_mesh).
 *
 * VPC ids come from the command line and/or --from FILE ('-' = stdin, one
 * id a line, '#' comments); a repeated id is an error; an unknown id is
 * kept (its links are conflicts). --hub names the hub (added to the list
 * when absent). At most MAX_VPCS VPCs (the matrix is n * n checks).
 *
 * Exit: 0 done; 1 with --fail-on conflict|quota|any when the plan has a
 * conflicting link or a VPC over its quota; 2 usage or bad input; 3
 * internal error.
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

#define VERB "mesh"
#define MAX_VPCS 1000

enum { OPT_FROM = 0x300, OPT_HUB, OPT_FAIL_ON };

static void usage(FILE *f)
{
    fprintf(f,
        "usage: cidrscope mesh [options] -e SOURCE VPC VPC... | --from FILE\n"
        "\n"
        "Plans a full mesh of the VPCs (every pair peered) or, with --hub, a\n"
        "hub-and-spoke: prints the matrix of conflicts between them (overlapping\n"
        "blocks, existing connections, quotas), then per VPC the connections it\n"
        "has, the plan's links that exist, are pending or must be requested, and\n"
        "its active connections once done against the quota.\n"
        "\n"
        "      --from FILE        read VPC ids from FILE, one a line ('-' = stdin)\n"
        "      --hub VPC          hub-and-spoke around VPC instead of a full mesh\n"
        PEER_CLI_QUOTA_HELP
        "      --fail-on C        exit 1 when the plan has: conflict (a link that\n"
        "                         cannot be made), quota (a VPC over its quota), any\n"
        "      --format F         text (default), json or csv\n"
        PEER_CLI_OUTPUT_HELP
        "\n" CLI_SOURCE_HELP
        "\nExit: 0 done, 1 a conflict or quota problem with --fail-on, 2 usage or bad\n"
        "input, 3 internal error.\n");
}

typedef struct idlist {
    char **ids;
    size_t n, cap;
    int rc;
} idlist;

static int add_id(idlist *l, const char *id, size_t len)
{
    if (l->n == MAX_VPCS) {
        cli_errorf(VERB, "more than %d VPCs in one plan", MAX_VPCS);
        l->rc = CLI_USAGE;
        return -1;
    }
    for (size_t i = 0; i < l->n; i++)
        if (strlen(l->ids[i]) == len && memcmp(l->ids[i], id, len) == 0) {
            cli_errorf(VERB, "%.*s is named twice", (int)len, id);
            l->rc = CLI_USAGE;
            return -1;
        }
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 64;
        char **p = realloc(l->ids, nc * sizeof *p);
        if (!p) {
            l->rc = CLI_INTERNAL;
            return -1;
        }
        l->ids = p;
        l->cap = nc;
    }
    char *copy = malloc(len + 1);
    if (!copy) {
        l->rc = CLI_INTERNAL;
        return -1;
    }
    memcpy(copy, id, len);
    copy[len] = '\0';
    l->ids[l->n++] = copy;
    return 0;
}

static int on_line(const char *line, size_t len, unsigned long no, void *ctx)
{
    (void)no;
    return add_id(ctx, line, len);
}

static void idlist_free(idlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->ids[i]);
    free(l->ids);
}

int cmd_mesh(int argc, char **argv)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        PEER_CLI_LONGOPTS,
        PEER_CLI_QUOTA_LONGOPT,
        {"from", required_argument, NULL, OPT_FROM},
        {"hub", required_argument, NULL, OPT_HUB},
        {"fail-on", required_argument, NULL, OPT_FAIL_ON},
        CLI_SOURCE_REFUSED_OPTIONS,
        CLI_SOURCE_LONGOPTS,
        {NULL, 0, NULL, 0}};
    cli_sources src;
    cli_sources_init(&src);
    peer_cli p;
    peer_cli_init(&p, VERB, 1u << CS_REPORT_TEXT | 1u << CS_REPORT_JSON | 1u << CS_REPORT_CSV);
    const char *from = NULL, *hub = NULL;
    bool fail_conflict = false, fail_quota = false;
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
        case OPT_FROM:
            from = optarg;
            break;
        case OPT_HUB:
            hub = optarg;
            break;
        case OPT_FAIL_ON:
            if (strcmp(optarg, "conflict") == 0)
                fail_conflict = true;
            else if (strcmp(optarg, "quota") == 0)
                fail_quota = true;
            else if (strcmp(optarg, "any") == 0)
                fail_conflict = fail_quota = true;
            else {
                cli_errorf(VERB, "--fail-on %s: expected conflict, quota or any", optarg);
                return CLI_USAGE;
            }
            break;
        default:
            usage(stderr);
            return CLI_USAGE;
        }
    }
    idlist l = {NULL, 0, 0, 0};
    for (int i = optind; i < argc && !l.rc; i++)
        add_id(&l, argv[i], strlen(argv[i]));
    if (!l.rc && from && cli_for_each_line(VERB, from, on_line, &l) == -1 && !l.rc)
        l.rc = CLI_USAGE;
    size_t hub_pos = CS_MESH_FULL;
    if (!l.rc && hub) {
        for (size_t i = 0; i < l.n; i++)
            if (strcmp(l.ids[i], hub) == 0)
                hub_pos = i;
        if (hub_pos == CS_MESH_FULL && add_id(&l, hub, strlen(hub)) == 0)
            hub_pos = l.n - 1;
    }
    if (!l.rc && l.n < 2) {
        cli_errorf(VERB, "a plan needs at least two VPCs (see --help)");
        l.rc = CLI_USAGE;
    }
    if (l.rc) {
        idlist_free(&l);
        return l.rc;
    }
    cli_estate est;
    int rc = cli_estate_open(VERB, &src, &est);
    if (rc) {
        idlist_free(&l);
        return rc;
    }
    const cs_snapshot *s = est.snap;
    uint32_t *vpcs = malloc(l.n * sizeof *vpcs);
    cs_peering_mesh_row *rows = malloc(l.n * sizeof *rows);
    cs_peering_verdict *matrix = malloc(l.n * l.n * sizeof *matrix);
    cs_error err;
    cs_error_clear(&err);
    if (!vpcs || !rows || !matrix) {
        cli_errorf(VERB, "out of memory");
        rc = CLI_INTERNAL;
    } else {
        for (size_t i = 0; i < l.n; i++)
            vpcs[i] = peer_cli_vpc(s, l.ids[i]);
        cs_peering_opts po = {(uint32_t)p.quota};
        cs_peering_mesh_summary sum;
        rc = cs_peering_mesh(s, vpcs, l.n, hub_pos, &po, rows, matrix, &sum);
        if (rc < 0) {
            cli_errorf(VERB, "%s", cs_strerror(rc));
            rc = CLI_INTERNAL;
        } else {
            rc = peer_cli_open(&p);
            if (rc == 0)
                rc = cs_peering_report_mesh(p.out, p.fmt, s, (const char *const *)l.ids, l.n,
                                        hub_pos, rows, matrix, &sum, &po, &err);
            if (rc < 0)
                rc = cli_report_error(VERB, &err);
            else if (rc > 0)
                ; /* -o FILE could not be created: said so */
            else if ((fail_conflict && sum.conflicts) || (fail_quota && sum.over_quota))
                rc = CLI_FINDINGS;
        }
    }
    free(vpcs);
    free(rows);
    free(matrix);
    idlist_free(&l);
    cli_estate_close(&est);
    return peer_cli_close(&p, rc);
}
