/*
 * cli/common.c — helpers shared by every verb: format flags, error printing
 * with a caret, item files, JSON string escaping, streams into memory.
 */
#define _GNU_SOURCE /* fopencookie */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_parse_format(const char *verb, const char *value, unsigned allowed,
                     enum cs_report_format *out)
{
    cs_error err = {0};
    if (cs_report_format_parse(value, allowed, out, &err) == 0)
        return 0;
    cli_errorf(verb, "%s", err.message);
    return -1;
}

void cli_errorf(const char *verb, const char *fmt, ...)
{
    fprintf(stderr, "cidrscope %s: ", verb);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_exit_code(int status)
{
    switch (status) {
    case CS_EPARSE:
    case CS_EINVAL:
    case CS_ECORRUPT:
    case CS_EVERSION:
    case CS_ENOTFOUND:
    case CS_ECONFLICT:
    case CS_ERANGE:
        return CLI_USAGE;
    default:
        return status < 0 ? CLI_INTERNAL : CLI_OK;
    }
}

int cli_report_error(const char *verb, const cs_error *err)
{
    char buf[1024];
    cs_error_format(err, buf, sizeof buf);
    fprintf(stderr, "cidrscope %s: %s\n", verb, buf[0] ? buf : cs_strerror(err->code));
    return cli_exit_code(err->code);
}

int cli_parse_mode(const char *verb, const char *arg, unsigned *mode)
{
    char *end;
    errno = 0;
    unsigned long m = strtoul(arg, &end, 8);
    if (errno || *end || end == arg || *arg == '-' || m == 0 || m > 0777) {
        cli_errorf(verb, "--mode '%s': expected octal permission bits such as 0600 or 0640", arg);
        return -1;
    }
    *mode = (unsigned)m;
    return 0;
}

long cli_parse_count(const char *s, long lo, long hi)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    errno = 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -1;
    return v;
}

int cli_parse_quota(const char *verb, const char *arg, long *quota)
{
    long q = cli_parse_count(arg, 1, CS_PEERING_QUOTA_MAX);
    if (q < 0) {
        cli_errorf(verb, "--quota %s: expected a number from 1 to %u (AWS allows at most "
                         "%u active peering connections per VPC)",
                   arg, CS_PEERING_QUOTA_MAX, CS_PEERING_QUOTA_MAX);
        return -1;
    }
    *quota = q;
    return 0;
}

void cli_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

int cli_for_each_line(const char *verb, const char *path, cli_line_fn fn,
                      void *ctx)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) {
        cli_errorf(verb, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned long no = 0;
    int rc = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        no++;
        size_t a = 0, b = (size_t)n;
        while (b > a && (line[b - 1] == '\n' || line[b - 1] == '\r' ||
                         line[b - 1] == ' ' || line[b - 1] == '\t'))
            b--;
        while (a < b && (line[a] == ' ' || line[a] == '\t'))
            a++;
        if (a == b || line[a] == '#')
            continue;
        line[b] = '\0';
        rc = fn(line + a, b - a, no, ctx);
        if (rc)
            break;
    }
    if (!rc && ferror(f)) {
        cli_errorf(verb, "%s: read error: %s", path, strerror(errno));
        rc = -1;
    }
    free(line);
    if (f != stdin)
        fclose(f);
    return rc;
}

void cli_feed_items(const char *verb, char **args, int n_args,
                    const char *const *files, int n_files, cli_line_fn fn,
                    void *ctx, const char **src, int *failed)
{
    for (int i = 0; i < n_args && !*failed; i++) {
        if (strcmp(args[i], "-") == 0) {
            *src = "(stdin)";
            if (cli_for_each_line(verb, "-", fn, ctx) == -1 && !*failed)
                *failed = CLI_USAGE;
        } else {
            *src = "(command line)";
            fn(args[i], strlen(args[i]), (unsigned long)i + 1, ctx);
        }
    }
    for (int i = 0; i < n_files && !*failed; i++) {
        *src = strcmp(files[i], "-") == 0 ? "(stdin)" : files[i];
        if (cli_for_each_line(verb, files[i], fn, ctx) == -1 && !*failed)
            *failed = CLI_USAGE;
    }
}

static ssize_t sink_write(void *cookie, const char *data, size_t n)
{
    cli_sink *k = cookie;
    cli_membuf *b = k->to;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (cap < b->len + n)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            k->oom = true;
            return -1;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    return (ssize_t)n;
}

FILE *cli_sink_open(cli_sink *k)
{
    cookie_io_functions_t io = {NULL, sink_write, NULL, NULL};
    return fopencookie(k, "w", io);
}
