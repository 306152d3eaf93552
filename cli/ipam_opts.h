/*
 * cli/ipam_opts.h — what the IPAM verbs (free, alloc, release) share: the
 * options --format, --pool, --exclude and --ipam-pools parsed once here,
 * the list of --pool prefixes (an AWS IPAM pool id stands for its
 * provisioned CIDRs, its allocations joining the used blocks, its rules
 * checking --length), and the --exclude blocks (a prefix, or a file of
 * prefixes one a line, '#' comments).
 */
#ifndef CS_CLI_IPAM_OPTS_H
#define CS_CLI_IPAM_OPTS_H

#include <cidrscope/ipam.h>
#include <cidrscope/report.h>

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

/* A growable list of prefixes. */
typedef struct cli_prefixes {
    cs_prefix *p;
    size_t n, cap;
} cli_prefixes;

#define CLI_IPAM_MAX_POOL_ARGS 256

enum { CLI_OPT_IPAM_FORMAT = 0x380, CLI_OPT_IPAM_POOL, CLI_OPT_IPAM_EXCLUDE, CLI_OPT_IPAM_POOLS };

#define CLI_IPAM_LONGOPTS                                                    \
    {"format", required_argument, NULL, CLI_OPT_IPAM_FORMAT},                \
    {"pool", required_argument, NULL, CLI_OPT_IPAM_POOL},                    \
    {"exclude", required_argument, NULL, CLI_OPT_IPAM_EXCLUDE},              \
    {"ipam-pools", required_argument, NULL, CLI_OPT_IPAM_POOLS}

#define CLI_IPAM_HELP                                                                   \
    "      --pool POOL        a pool: a prefix, or an AWS IPAM pool id\n"             \
    "                         (ipam-pool-...: its provisioned CIDRs, its allocations\n" \
    "                         used, its AllocationMin/Max/DefaultNetmaskLength\n"     \
    "                         rules; needs --ipam-pools); repeatable\n"               \
    "      --ipam-pools PATH  output of `aws ec2 describe-ipam-pools`,\n"             \
    "                         `get-ipam-pool-cidrs` and `get-ipam-pool-allocations`\n" \
    "                         (the last two in files named after the pool id, e.g.\n" \
    "                         ipam-pool-0abc.cidrs.json), or a directory of them;\n"  \
    "                         repeatable\n"                                          \
    "      --exclude X        a prefix, or a file of prefixes, never to overlap\n"    \
    "                         (reserved ranges, on-premises networks); repeatable\n"  \
    "      --format F         text (default), json or csv\n"

/* The shared options of free and alloc. */
typedef struct cli_ipam {
    enum cs_report_format fmt;
    const char *pool_args[CLI_IPAM_MAX_POOL_ARGS]; /* --pool, in order */
    size_t n_pool_args;
    cs_ipam_pools *aws;          /* --ipam-pools, or NULL */
    cli_prefixes pools;          /* after cli_ipam_resolve: every pool prefix */
    const char **names;          /* names[i]: the IPAM pool id of pools.p[i], or NULL */
    cli_prefixes excl;           /* --exclude, IPAM allocations, reservations */
} cli_ipam;

/* Handles c when it is one of CLI_IPAM_LONGOPTS or getopt's ':' / '?'
 * (printing the error): returns true and sets *rc (CLI_OK or an exit code);
 * false when c is another option. */
bool cli_ipam_option(const char *verb, cli_ipam *o, int c, const char *arg, char **argv,
                     int *rc);

/* Turns the --pool arguments into pools.p / names (an IPAM pool: its
 * provisioned CIDRs; its allocations join excl). With length non-NULL (alloc),
 * *length < 0 takes the first IPAM pool's AllocationDefaultNetmaskLength,
 * and every IPAM pool's min/max rule is checked (refused naming the rule).
 * Returns CLI_OK or an exit code after printing the error. */
int cli_ipam_resolve(const char *verb, cli_ipam *o, long *length);

void cli_ipam_free(cli_ipam *o);

/* Appends the canonical prefix `text`; prints the parse error (with `what`,
 * e.g. "--pool") and returns CLI_USAGE, CLI_INTERNAL on out of memory, or 0. */
int cli_prefixes_add(const char *verb, cli_prefixes *l, const char *what, const char *text);

/* `arg` is a prefix or, when it does not parse as one and names a readable
 * file, a file of prefixes (one a line, '#' comments). Returns as above. */
int cli_prefixes_add_arg(const char *verb, cli_prefixes *l, const char *what, const char *arg);

void cli_prefixes_free(cli_prefixes *l);

/* Appends the active reservations of `ledger` to l. Returns 0 or an exit
 * code after printing the error. */
int cli_add_reservations(const char *verb, cs_ledger *ledger, cli_prefixes *l);

/* Calls add(ctx, row, len) with a what-if plan row
 * "000000000000,ledger,vpc-1ed9e4<seq as 11 hex digits>,PREFIX" for each
 * active reservation of service `shm`'s ledger (none when the service has
 * no ledger): how `audit --shm NAME` sees reservations, as planned blocks.
 * Returns CLI_OK or an exit code after printing the error. */
int cli_ledger_rows(const char *verb, const char *shm,
                    int (*add)(void *ctx, const char *row, size_t len), void *ctx);

#endif
