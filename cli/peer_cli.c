/*
 * cli/peer_cli.c — the options and lookups the peering verbs share (see
 * peer_cli.h): one place for --format, --quota, -o, getopt's errors and the
 * VPC lookup that check, candidates, mesh and reach each had a copy of.
 */
#include "peer_cli.h"

#include "cli.h"

#include <cidrscope/peering.h>

#include <errno.h>
#include <getopt.h>
#include <string.h>

void peer_cli_init(peer_cli *p, const char *verb, unsigned formats)
{
    memset(p, 0, sizeof *p);
    p->verb = verb;
    p->formats = formats;
    p->fmt = CS_REPORT_TEXT;
    p->quota = CS_PEERING_QUOTA_DEFAULT;
}

int peer_cli_option(peer_cli *p, int c, const char *arg, char *const *argv, int optind_now)
{
    switch (c) {
    case PEER_OPT_FORMAT:
        return cli_parse_format(p->verb, arg, p->formats, &p->fmt) ? -1 : 1;
    case PEER_OPT_QUOTA:
        return cli_parse_quota(p->verb, arg, &p->quota) ? -1 : 1;
    case 'o':
        p->output = arg;
        return 1;
    case ':':
        cli_errorf(p->verb, "option %s needs a value (see --help)", argv[optind_now - 1]);
        return -1;
    case '?':
        cli_errorf(p->verb, "unknown option %s (see --help)", argv[optind_now - 1]);
        return -1;
    default:
        return 0;
    }
}

uint32_t peer_cli_vpc(const cs_snapshot *s, const char *id)
{
    uint32_t idx = CS_IDX_NONE;
    if (cs_estate_vpc_find(s, id, strlen(id), &idx) != 1)
        return CS_IDX_NONE;
    return idx;
}

int peer_cli_require_vpc(const peer_cli *p, const cs_snapshot *s, const char *id, uint32_t *out)
{
    uint32_t v = peer_cli_vpc(s, id);
    cs_vpc x;
    if (v == CS_IDX_NONE || cs_estate_vpc(s, v, &x) != 0 || x.pseudo) {
        cli_errorf(p->verb, "%s is not a VPC of the estate", id);
        return CLI_USAGE;
    }
    *out = v;
    return 0;
}

int peer_cli_open(peer_cli *p)
{
    p->out = stdout;
    if (!p->output || strcmp(p->output, "-") == 0)
        return 0;
    p->out = fopen(p->output, "w");
    if (!p->out) {
        cli_errorf(p->verb, "%s: %s", p->output, strerror(errno));
        return CLI_USAGE;
    }
    return 0;
}

int peer_cli_close(peer_cli *p, int rc)
{
    if (!p->out || p->out == stdout)
        return rc;
    if (fclose(p->out) != 0 && rc <= CLI_FINDINGS) {
        cli_errorf(p->verb, "%s: %s", p->output, strerror(errno));
        rc = CLI_INTERNAL;
    }
    p->out = NULL;
    return rc;
}
