/*
 * cli/ipam_opts.h — what the IPAM verbs (free, alloc, release) share: the
 * list of --pool prefixes and of --exclude / --allowed blocks (a prefix, or
 * a file of prefixes one a line, '#' comments), parsed once here.
 */
#ifndef CS_CLI_IPAM_OPTS_H
#define CS_CLI_IPAM_OPTS_H

#include <cidrscope/ipam.h>

#include <stddef.h>

/* A growable list of prefixes. */
typedef struct cli_prefixes {
    cs_prefix *p;
    size_t n, cap;
} cli_prefixes;

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

#endif
