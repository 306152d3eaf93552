/*
 * cli/ipam_opts.c — --pool, --exclude and --allowed lists of the IPAM
 * verbs (cli/ipam_opts.h).
 */
#include "cli.h"
#include "ipam_opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_prefixes_add(const char *verb, cli_prefixes *l, const char *what, const char *text)
{
    cs_prefix p;
    cs_error err;
    cs_error_clear(&err);
    if (cs_prefix_parse(text, strlen(text), 0, &p, &err) != 0) {
        snprintf(err.source, sizeof err.source, "%s", what);
        return cli_report_error(verb, &err);
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        cs_prefix *q = realloc(l->p, cap * sizeof *q);
        if (!q) {
            cli_errorf(verb, "out of memory");
            return CLI_INTERNAL;
        }
        l->p = q;
        l->cap = cap;
    }
    l->p[l->n++] = p;
    return 0;
}

typedef struct line_ctx {
    const char *verb, *path;
    cli_prefixes *l;
    int rc;
} line_ctx;

static int add_line(const char *line, size_t len, unsigned long line_no, void *ctx)
{
    line_ctx *c = ctx;
    char buf[128], what[256];
    if (len >= sizeof buf) {
        cli_errorf(c->verb, "%s:%lu: not a prefix", c->path, line_no);
        return c->rc = CLI_USAGE;
    }
    memcpy(buf, line, len);
    buf[len] = '\0';
    snprintf(what, sizeof what, "%s:%lu", c->path, line_no);
    return c->rc = cli_prefixes_add(c->verb, c->l, what, buf);
}

int cli_prefixes_add_arg(const char *verb, cli_prefixes *l, const char *what, const char *arg)
{
    cs_prefix p;
    if (cs_prefix_parse(arg, strlen(arg), 0, &p, NULL) != 0 && access(arg, R_OK) == 0) {
        line_ctx c = {verb, arg, l, 0};
        if (cli_for_each_line(verb, arg, add_line, &c) == -1)
            return CLI_USAGE;
        return c.rc;
    }
    return cli_prefixes_add(verb, l, what, arg);
}

void cli_prefixes_free(cli_prefixes *l)
{
    free(l->p);
    memset(l, 0, sizeof *l);
}

int cli_add_reservations(const char *verb, cs_ledger *ledger, cli_prefixes *l)
{
    cs_error err;
    cs_error_clear(&err);
    for (;;) {
        size_t room = l->cap - l->n;
        int64_t n = cs_ledger_active(ledger, l->p ? l->p + l->n : NULL, room, &err);
        if (n < 0)
            return cli_report_error(verb, &err);
        if ((size_t)n <= room) {
            l->n += (size_t)n;
            return 0;
        }
        cs_prefix *q = realloc(l->p, (l->n + (size_t)n + 64) * sizeof *q);
        if (!q) {
            cli_errorf(verb, "out of memory");
            return CLI_INTERNAL;
        }
        l->p = q;
        l->cap = l->n + (size_t)n + 64;
    }
}
