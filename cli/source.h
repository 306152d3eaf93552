/*
 * cli/source.h — how every verb gets its estate: sources (estate directories,
 * AWS CLI JSON files, CSV, prefix lists, snapshot files) or a shared-memory
 * service, opened as the one `const cs_snapshot *` every query takes.
 *
 * Verbs whose positional arguments are sources (build, audit, stat, serve)
 * add them with cli_source_add; verbs whose positional arguments are items
 * (query, lookup, check, ...) take -e/--estate SOURCE (repeatable) or --shm
 * NAME. Both share the options below (CLI_SOURCE_LONGOPTS).
 */
#ifndef CS_CLI_SOURCE_H
#define CS_CLI_SOURCE_H

#include "cli.h"

#include <cidrscope/estate.h>

#define CLI_MAX_SOURCES 256

/* getopt_long codes of the source options (outside the ASCII range). */
enum {
    OPT_SRC_SHM = 0x200,
    OPT_SRC_LENIENT,
    OPT_SRC_KEEP_GOING,
    OPT_SRC_REGION,
    OPT_SRC_ACCOUNT,
    OPT_SRC_NO_VERIFY,
    OPT_SRC_OWNER,
    OPT_SRC_REGION_REFUSED, /* --region / --account in a verb without filters */
    OPT_SRC_ACCOUNT_REFUSED,
};

/* The source options, for a verb's `struct option` table. --source-region
 * and --source-account name the region/account of describe-vpcs output
 * (which carries no region) for the sources that FOLLOW them on the command
 * line, up to the next one: `-e a.json --source-region eu-west-1 -e b.json`
 * reads a.json with no region and b.json in eu-west-1, whether the sources
 * are -e arguments or positional (cli_sources_scan_argv sees the order
 * before getopt permutes it). */
#define CLI_SOURCE_LONGOPTS                                                   \
    {"estate", required_argument, NULL, 'e'},                                 \
    {"shm", required_argument, NULL, OPT_SRC_SHM},                            \
    {"lenient", no_argument, NULL, OPT_SRC_LENIENT},                          \
    {"keep-going", no_argument, NULL, OPT_SRC_KEEP_GOING},                    \
    {"source-region", required_argument, NULL, OPT_SRC_REGION},               \
    {"source-account", required_argument, NULL, OPT_SRC_ACCOUNT},             \
    {"no-verify", no_argument, NULL, OPT_SRC_NO_VERIFY},                      \
    {"owner", required_argument, NULL, OPT_SRC_OWNER}

/* For verbs that filter nothing by region or account (check, mesh, reach,
 * can-add): --region and --account are refused with a message naming
 * --source-region / --source-account (they were once aliases of them, which
 * applied to every source whatever its position). */
#define CLI_SOURCE_REFUSED_OPTIONS                                             \
    {"region", required_argument, NULL, OPT_SRC_REGION_REFUSED},              \
    {"account", required_argument, NULL, OPT_SRC_ACCOUNT_REFUSED}

/* Help text for the options above, to print in a verb's --help. */
#define CLI_SOURCE_HELP                                                       \
    "  -e, --estate SOURCE    an estate directory (ACCOUNT/REGION/vpcs.json,\n" \
    "                         peering.json), AWS CLI JSON, CSV, prefix list or\n" \
    "                         snapshot file; repeatable\n"                     \
    "      --shm NAME         query the image served by `cidrscope serve NAME`\n" \
    "      --owner USER       with --shm: the user who must own the service\n" \
    "                         (default: yourself or root)\n"                 \
    "      --lenient          clear host bits (reported) instead of failing\n" \
    "      --keep-going       report bad records and files, read the rest\n" \
    "      --source-region R  region of single describe-vpcs files\n"       \
    "      --source-account A account of sources that carry none\n"         \
    "      --no-verify        skip snapshot-file checksums (bounds still checked)\n"

typedef struct cli_sources {
    const char *paths[CLI_MAX_SOURCES];
    cs_source src[CLI_MAX_SOURCES]; /* paths[i] with the --source-region /
                                       --source-account in force before it */
    int n_paths;
    const char *shm;          /* --shm NAME, or NULL */
    const char *shm_owner;    /* --owner USER, or NULL */
    cs_load_options load;
    bool no_verify;
} cli_sources;

/* Opened estate: the snapshot, and what must be released with it. */
typedef struct cli_estate {
    const cs_snapshot *snap;
    cs_snapshot *owned;       /* heap or file image we opened */
    struct cli_shm_handle *shm; /* attachment and pin, when --shm */
    uint32_t rejected;        /* records rejected under --keep-going */
} cli_estate;

void cli_sources_init(cli_sources *s);

/* Called once by main with the command line as given (before any getopt
 * permutes it): remembers, for every argument, the --source-region and
 * --source-account in force at its position, so cli_source_add can give a
 * source the ones written before it. */
void cli_sources_scan_argv(int argc, char **argv);

/* Consumes one option code returned by getopt_long if it is a source
 * option: returns 1 (consumed), 0 (not a source option), or -1 after
 * printing a usage error. */
int cli_source_option(const char *verb, cli_sources *s, int code, const char *arg);

/* Adds a positional source. Returns 0, or -1 after printing an error. */
int cli_source_add(const char *verb, cli_sources *s, const char *path);

/*
 * Opens the sources: a single snapshot file is mapped in place; estate
 * sources are loaded (in order) into one estate and frozen; --shm attaches
 * and pins the current generation. Prints errors (file, line, column, caret)
 * and rejections to stderr. Returns 0, or the exit code to use (2 bad input,
 * 3 system error).
 */
int cli_estate_open(const char *verb, const cli_sources *s, cli_estate *out);
void cli_estate_close(cli_estate *e);

/*
 * For verbs that read items in batches: with --shm, cli_estate_idle unpins
 * (e->snap becomes NULL; the reader slot is free while the verb waits for
 * input) and cli_estate_resume pins the current generation again (e->snap).
 * Without --shm both keep the one image. Resume returns CLI_OK or an exit
 * code after printing why.
 */
void cli_estate_idle(cli_estate *e);
int cli_estate_resume(const char *verb, cli_estate *e);

#endif
