/*
 * cli/items.h — the bulk item pipeline of `query` and `lookup`: items (one a
 * line) from arguments, stdin and --items files, parsed, answered through the
 * bulk calls of <cidrscope/query.h> and written through one cs_match_report,
 * in input order, on one or more threads.
 */
#ifndef CS_CLI_ITEMS_H
#define CS_CLI_ITEMS_H

#include "source.h"

#include <cidrscope/cidrscope.h>

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct cli_items_opts {
    const char *verb;
    const cs_snapshot *s;
    enum cs_report_format format;
    bool lookup;            /* items are addresses (or prefixes) to look up */
    bool all;               /* lookup: the whole covering chain */
    unsigned kind;          /* query: CS_Q_* (CS_Q_OVERLAPPING by default) */
    bool count;             /* one number per item */
    bool lenient;           /* query: clear host bits; lookup: an address
                               with a length (10.0.0.1/16) is its address */
    bool keep_going;        /* a bad item gets an error record in its place */
    uint64_t limit;         /* rows per item (0 = all) */
    unsigned threads;       /* 1.. (JSON is written by one thread) */
    cli_estate *est;        /* optional: with --shm, pinned per chunk of items
                               and unpinned between (s is then ignored), so an
                               idle reader holds no reader slot */
} cli_items_opts;

/*
 * Answers every item of the arguments (an item, or "-" for stdin's lines)
 * and of each FILE of `files` ("-" = stdin), in that order. `# comment`
 * after an item is ignored. A bad item stops the run (its message on
 * stderr with source, line and column; the items before it answered)
 * unless keep_going, which writes an error record in its place and goes on.
 * Returns the exit code: 0, 2 (a bad item, an unreadable file), 3 (out of
 * memory, a failed write or bulk call).
 */
int cli_items_run(const cli_items_opts *o, char **args, int n_args, const char *const *files,
                  int n_files);

/*
 * The whole verb after its own options are known: parses argv with the
 * verb's options `own` (a table ending in a zero entry; their codes go to
 * on_option, which returns 0 or -1 after a usage error) plus the options
 * every item verb shares (-h, --format text|json|ndjson|csv, -i/--items,
 * --limit, --threads and the sources), opens the estate, runs the items
 * and closes it. `text_limit` is --limit's default for text. Returns the
 * exit code.
 */
int cli_items_main(cli_items_opts *o, int argc, char **argv, const struct option *own,
                   int (*on_option)(cli_items_opts *o, int code), void (*usage)(FILE *f),
                   uint64_t text_limit);

#endif
