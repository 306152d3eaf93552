/*
 * cli/peer_cli.h — what the peering verbs (check, candidates, mesh, reach)
 * share: the --format, --quota and -o/--output options, the messages for a
 * missing value or an unknown option, the output stream, and finding a VPC
 * by the id the user typed.
 */
#ifndef CS_CLI_PEER_CLI_H
#define CS_CLI_PEER_CLI_H

#include <cidrscope/cidrscope.h>

#include <stdbool.h>
#include <stdio.h>

enum { PEER_OPT_FORMAT = 0x280, PEER_OPT_QUOTA };

/* For a verb's `struct option` table (with CLI_SOURCE_LONGOPTS). */
#define PEER_CLI_LONGOPTS                                                     \
    {"format", required_argument, NULL, PEER_OPT_FORMAT},                     \
    {"output", required_argument, NULL, 'o'}
#define PEER_CLI_QUOTA_LONGOPT {"quota", required_argument, NULL, PEER_OPT_QUOTA}

/* Help lines for the options above. */
#define PEER_CLI_OUTPUT_HELP                                                  \
    "  -o, --output FILE      write the report to FILE (default stdout)\n"
#define PEER_CLI_QUOTA_HELP                                                   \
    "      --quota N          active peering connections allowed per VPC\n"   \
    "                         (default 50; AWS allows at most 125)\n"

typedef struct peer_cli {
    const char *verb;
    unsigned formats;            /* allowed: bits 1u << CS_REPORT_* */
    enum cs_report_format fmt;   /* --format (text by default) */
    long quota;                  /* --quota (CS_PEERING_QUOTA_DEFAULT) */
    const char *output;          /* -o FILE, or NULL for stdout */
    FILE *out;                   /* after peer_cli_open */
} peer_cli;

void peer_cli_init(peer_cli *p, const char *verb, unsigned formats);

/*
 * Consumes getopt_long's code c (getopt run with opterr = 0 and ":" first
 * in its short options) when it is one of the shared options or a getopt
 * error (':' a missing value, '?' an unknown option: both printed with the
 * option as typed). Returns 1 consumed, 0 not a shared option, -1 after
 * printing a usage error (exit 2).
 */
int peer_cli_option(peer_cli *p, int c, const char *arg, char *const *argv, int optind_now);

/* The estate index of a VPC id, or CS_IDX_NONE (an unknown id is an
 * answer, unknown-vpc, not an error, for check and mesh). */
uint32_t peer_cli_vpc(const cs_snapshot *s, const char *id);

/* The VPC named `id`, required: a prefix-list owner or an unknown id is a
 * usage error ("ID is not a VPC of the estate"). Returns 0 or the exit code. */
int peer_cli_require_vpc(const peer_cli *p, const cs_snapshot *s, const char *id, uint32_t *out);

/* Opens -o FILE (or takes stdout) into p->out. Returns 0 or the exit code
 * (2: the file cannot be created, named once with the reason). */
int peer_cli_open(peer_cli *p);
/* Closes -o FILE; a failed write or close turns exit code rc 0 or 1 into 3.
 * Returns the exit code to use. */
int peer_cli_close(peer_cli *p, int rc);

#endif
