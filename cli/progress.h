/*
 * cli/progress.h — the one progress line of long work on standard error
 * (DESIGN.md, "Command line"): files read, rows and rows per second, bytes,
 * elapsed time and, when the size of what remains is known, an estimate of
 * the time left. Shown only when stderr is a terminal, unless the command
 * line says --progress (always) or --no-progress (never); main.c takes those
 * two flags off argv before any verb parses it (cli_progress_args), so every
 * verb accepts them.
 *
 * Single-threaded: the state is one static line (the CLI runs one verb).
 */
#ifndef CS_CLI_PROGRESS_H
#define CS_CLI_PROGRESS_H
#include <cidrscope/estate.h>
#include <stdbool.h>
#include <stdint.h>

/* Removes --progress / --no-progress from argv[1..] (up to a "--"), records
 * the last one, and returns the new argc (argv stays NULL-terminated). */
int cli_progress_args(int argc, char **argv);

/* Starts a line for `verb` (a static string); later updates print
 * "cidrscope VERB: ...". */
void cli_progress_begin(const char *verb);

/* The cs_load_options progress callback (ctx unused): files, rows, bytes. */
void cli_progress_load(const cs_load_progress *p, void *ctx);

/* Generic count: `done` `what` so far of `total` (0 = unknown), with the
 * rate and, when total is known, the time left. Throttled to 10 lines/s. */
void cli_progress_count(const char *what, uint64_t done, uint64_t total);

/* Clears the line (when one was shown) and forgets the counts. */
void cli_progress_end(void);

#endif
