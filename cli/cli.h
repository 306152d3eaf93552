/*
 * cli/cli.h — what every verb of the cidrscope command shares.
 *
 * Conventions (DESIGN.md, "Command line"): `cidrscope VERB [options]
 * [inputs]`; exit 0 success and nothing to flag, 1 findings when --fail-on
 * asks, 2 usage or bad input, 3 internal or system error. Progress goes to
 * stderr only when stderr is a terminal. The CLI includes the <cidrscope/...> headers
 * and nothing from engine/.
 */
#ifndef CS_CLI_H
#define CS_CLI_H

#include <cidrscope/cidrscope.h>

#include <stdbool.h>
#include <stdio.h>

enum { CLI_OK = 0, CLI_FINDINGS = 1, CLI_USAGE = 2, CLI_INTERNAL = 3 };

/* One verb: name, one-line summary, entry point (argv[0] is the verb). */
typedef struct cli_verb {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} cli_verb;

/* Parses a --format value; `allowed` is a bit set of (1u << CS_REPORT_*). Prints a
 * usage error naming the verb and returns -1 when the value is not allowed. */
int cli_parse_format(const char *verb, const char *value, unsigned allowed,
                     enum cs_report_format *out);

/* Prints a library error to stderr as "cidrscope VERB: file:line:col:
 * message", with the offending text and a caret where known. Returns the exit
 * code it maps to (2 for bad input, 3 for system/internal errors). */
int cli_report_error(const char *verb, const cs_error *err);

/* Maps a library status to an exit code (CS_EPARSE, CS_EINVAL, CS_ECORRUPT,
 * CS_EVERSION, CS_ENOTFOUND -> 2; others -> 3). */
int cli_exit_code(int status);

/* A whole decimal number in [lo, hi] (no sign, no trailing text), or -1. */
long cli_parse_count(const char *s, long lo, long hi);

/* Parses --mode MODE: octal permission bits 1..0777 into *mode. Returns 0,
 * or -1 after printing "cidrscope VERB: --mode ...". */
int cli_parse_mode(const char *verb, const char *arg, unsigned *mode);

/* --quota N: active peering connections per VPC, 1..CS_PEERING_QUOTA_MAX
 * (AWS's hard maximum). Prints a usage error and returns -1 otherwise. */
int cli_parse_quota(const char *verb, const char *arg, long *quota);

/* True when progress may be printed (stderr is a terminal). */
bool cli_progress_enabled(void);

/* Prints "cidrscope VERB: " + message to stderr (printf-style). */
void cli_errorf(const char *verb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Writes s as a JSON string literal (quotes and escapes) to f. */
void cli_json_string(FILE *f, const char *s);

/*
 * Reads items (one a line) from `path` ("-" = stdin) and calls fn(line, len,
 * line_no, ctx) for each non-empty line with trailing CR/LF and surrounding
 * blanks removed; lines starting with '#' are skipped. Stops when fn returns
 * non-zero and returns that value; returns -1 (after printing a message) when
 * the file cannot be read.
 */
typedef int (*cli_line_fn)(const char *line, size_t len, unsigned long line_no,
                           void *ctx);
int cli_for_each_line(const char *verb, const char *path, cli_line_fn fn,
                      void *ctx);

/*
 * Feeds a verb's items to fn, in input order: each positional argument (an
 * item itself, or "-" for stdin's lines), then each line of every FILE of
 * `files` ("-" = stdin). Before each source, *src names it ("(command line)",
 * "(stdin)" or the file) for fn's error messages. Stops once *failed is
 * non-zero; a source that cannot be read sets *failed = CLI_USAGE.
 */
void cli_feed_items(const char *verb, char **args, int n_args,
                    const char *const *files, int n_files, cli_line_fn fn,
                    void *ctx, const char **src, int *failed);

/*
 * Bytes written to memory and kept for a later in-order write (--threads:
 * a job's or a part's output). The buffer is kept and reused: `len` = 0
 * empties it without giving its pages back.
 */
typedef struct cli_membuf {
    char *p;
    size_t len, cap;
} cli_membuf;

/* A stream's target: the membuf `to` names when a write happens (so one
 * stream can fill one buffer after another); `oom` is set when a write did
 * not fit in memory (the write then fails). */
typedef struct cli_sink {
    cli_membuf *to;
    bool oom;
} cli_sink;

/* A write-only stream (fopencookie) into k->to. NULL when out of memory.
 * Closed with fclose; the membuf stays the caller's. */
FILE *cli_sink_open(cli_sink *k);

#endif
