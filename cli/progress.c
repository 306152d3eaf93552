/*
 * cli/progress.c — the progress line (cli/progress.h).
 *
 * One line on stderr, rewritten in place ("\r" ... "\033[K"), at most ten
 * times a second so a fast load is not slowed by its own reporting:
 *
 *   cidrscope audit: 3 files, 1,204,224 rows (402,113 rows/s), 52.4 MB, 3.0 s, ~1.9 s left
 *
 * Rows and bytes come from the loader's callback (cs_load_options.progress:
 * every file as it finishes, and every CS_LOAD_PROGRESS_ROWS records inside
 * a CSV file); the estimate is the unread part of the current file at the
 * current byte rate, shown only when the file's size is known. Nothing is
 * printed when disabled (stderr not a terminal, or --no-progress), so the
 * tests' captured stderr never holds a progress line.
 */
#include "cli.h"
#include "progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int forced = -1; /* -1: when stderr is a terminal; 0 never; 1 always */

static struct {
    const char *verb;
    double t0, last;
    uint64_t files, rows_done, bytes_done; /* files finished */
    uint64_t rows, bytes, size;            /* the current file */
    bool shown;
} line;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define COUNT_CAP 32

/* v with thousands separators ("1,204,224") in buf. */
static const char *count(uint64_t v, char buf[COUNT_CAP])
{
    char tmp[COUNT_CAP];
    int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v), w = 0;
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            buf[w++] = ',';
        buf[w++] = tmp[i];
    }
    buf[w] = 0;
    return buf;
}

int cli_progress_args(int argc, char **argv)
{
    int w = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            while (i < argc)
                argv[w++] = argv[i++];
            break;
        }
        if (strcmp(argv[i], "--progress") == 0)
            forced = 1;
        else if (strcmp(argv[i], "--no-progress") == 0)
            forced = 0;
        else
            argv[w++] = argv[i];
    }
    argv[w] = NULL;
    return w;
}

bool cli_progress_enabled(void)
{
    return forced >= 0 ? forced == 1 : isatty(STDERR_FILENO) == 1;
}

void cli_progress_begin(const char *verb)
{
    memset(&line, 0, sizeof line);
    line.verb = verb;
    line.t0 = now_s();
}

/* Starts the clock on the first report when no verb began a line (serve's
 * reloads call the loader directly). */
static bool due(bool force)
{
    if (!cli_progress_enabled())
        return false;
    double t = now_s();
    if (line.t0 == 0)
        line.t0 = t;
    if (!force && t - line.last < 0.1)
        return false;
    line.last = t;
    return true;
}

static void head(void)
{
    fprintf(stderr, "\rcidrscope%s%s: ", line.verb ? " " : "", line.verb ? line.verb : "");
    line.shown = true;
}

static void tail(double el, double left)
{
    fprintf(stderr, ", %.1f s", el);
    if (left >= 0)
        fprintf(stderr, ", ~%.1f s left", left);
    fputs("\033[K", stderr);
    fflush(stderr);
}

void cli_progress_load(const cs_load_progress *p, void *ctx)
{
    (void)ctx;
    if (p->done) {
        line.files++;
        line.rows_done += p->rows;
        line.bytes_done += p->bytes;
        line.rows = line.bytes = line.size = 0;
    } else {
        line.rows = p->rows;
        line.bytes = p->bytes;
        line.size = p->size;
    }
    /* A finished file always shows, so the count of files read is never
     * hidden by the 0.1 s throttle on a fast machine. */
    if (!due(p->done))
        return;
    double el = now_s() - line.t0;
    uint64_t rows = line.rows_done + line.rows, bytes = line.bytes_done + line.bytes;
    char n[COUNT_CAP], r[COUNT_CAP];
    head();
    fprintf(stderr, "%s file%s", count(line.files, n), line.files == 1 ? "" : "s");
    if (rows)
        fprintf(stderr, ", %s rows (%s rows/s)", count(rows, n),
                count(el > 0 ? (uint64_t)((double)rows / el) : 0, r));
    fprintf(stderr, ", %.1f MB", (double)bytes / 1e6);
    double left = -1;
    if (line.size > line.bytes && bytes && el > 0)
        left = (double)(line.size - line.bytes) / ((double)bytes / el);
    tail(el, left);
}

void cli_progress_count(const char *what, uint64_t done, uint64_t total)
{
    if (!due(total && done == total))
        return;
    double el = now_s() - line.t0;
    char n[COUNT_CAP], r[COUNT_CAP], t[COUNT_CAP];
    head();
    fprintf(stderr, "%s", count(done, n));
    if (total)
        fprintf(stderr, " of %s", count(total, t));
    double rate = el > 0 ? (double)done / el : 0;
    fprintf(stderr, " %s (%s/s)", what, count((uint64_t)rate, r));
    tail(el, total > done && rate > 0 ? (double)(total - done) / rate : -1);
}

void cli_progress_end(void)
{
    if (line.shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    memset(&line, 0, sizeof line);
}
