/*
 * cli/ipam_opts.c — the options the IPAM verbs share: --format, --pool (a
 * prefix or an AWS IPAM pool id), --ipam-pools, --exclude, and the prefix
 * lists (cli/ipam_opts.h).
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

/* ---- the shared options ------------------------------------------------------ */

bool cli_ipam_option(const char *verb, cli_ipam *o, int c, const char *arg, char **argv,
                     int *rc)
{
    *rc = CLI_OK;
    switch (c) {
    case CLI_OPT_IPAM_FORMAT:
        if (cli_parse_format(verb, arg,
                             1u << CS_REPORT_TEXT | 1u << CS_REPORT_JSON | 1u << CS_REPORT_CSV,
                             &o->fmt))
            *rc = CLI_USAGE;
        return true;
    case CLI_OPT_IPAM_POOL:
        if (o->n_pool_args == CLI_IPAM_MAX_POOL_ARGS) {
            cli_errorf(verb, "at most %d --pool options", CLI_IPAM_MAX_POOL_ARGS);
            *rc = CLI_USAGE;
        } else {
            o->pool_args[o->n_pool_args++] = arg;
        }
        return true;
    case CLI_OPT_IPAM_EXCLUDE:
        *rc = cli_prefixes_add_arg(verb, &o->excl, "--exclude", arg);
        return true;
    case CLI_OPT_IPAM_POOLS: {
        cs_error err;
        cs_error_clear(&err);
        if (!o->aws && cs_ipam_pools_new(&o->aws) != 0) {
            cli_errorf(verb, "out of memory");
            *rc = CLI_INTERNAL;
        } else if (cs_ipam_pools_read(o->aws, arg, &err) != 0) {
            *rc = cli_report_error(verb, &err);
        }
        return true;
    }
    case ':':
        cli_errorf(verb, "option %s needs a value (see --help)", argv[optind - 1]);
        *rc = CLI_USAGE;
        return true;
    case '?':
        cli_errorf(verb, "unknown option %s (see --help)", argv[optind - 1]);
        *rc = CLI_USAGE;
        return true;
    default:
        return false;
    }
}

/* Appends pool p named `name` (NULL: a plain prefix). */
static int add_pool(const char *verb, cli_ipam *o, const cs_prefix *p, const char *name)
{
    if (o->pools.n == o->pools.cap) {
        size_t cap = o->pools.cap ? 2 * o->pools.cap : 16;
        cs_prefix *q = realloc(o->pools.p, cap * sizeof *q);
        const char **nq = q ? realloc(o->names, cap * sizeof *nq) : NULL;
        if (q)
            o->pools.p = q;
        if (!q || !nq) {
            cli_errorf(verb, "out of memory");
            return CLI_INTERNAL;
        }
        o->names = nq;
        o->pools.cap = cap;
    }
    o->names[o->pools.n] = name;
    o->pools.p[o->pools.n++] = *p;
    return CLI_OK;
}

/* Appends pool `id`'s CIDRs (from cs_ipam_pools_cidrs or _allocations) to
 * the pools or to the excludes. */
static int add_aws(const char *verb, cli_ipam *o, const char *id, bool allocations)
{
    int64_t n = allocations ? cs_ipam_pools_allocations(o->aws, id, NULL, 0)
                            : cs_ipam_pools_cidrs(o->aws, id, NULL, 0);
    cs_prefix *tmp = n > 0 ? malloc((size_t)n * sizeof *tmp) : NULL;
    if (n > 0 && !tmp) {
        cli_errorf(verb, "out of memory");
        return CLI_INTERNAL;
    }
    if (n > 0 && allocations)
        cs_ipam_pools_allocations(o->aws, id, tmp, (size_t)n);
    else if (n > 0)
        cs_ipam_pools_cidrs(o->aws, id, tmp, (size_t)n);
    int rc = CLI_OK;
    for (int64_t i = 0; rc == CLI_OK && i < n; i++) {
        if (!allocations) {
            rc = add_pool(verb, o, &tmp[i], id);
            continue;
        }
        char pb[CS_PREFIX_STRCAP];
        cs_prefix_format(&tmp[i], pb, sizeof pb);
        rc = cli_prefixes_add(verb, &o->excl, id, pb);
    }
    free(tmp);
    return rc;
}

int cli_ipam_resolve(const char *verb, cli_ipam *o, long *length)
{
    if (!o->n_pool_args) {
        cli_errorf(verb, "at least one --pool is needed (see --help)");
        return CLI_USAGE;
    }
    if (o->aws) {
        cs_error err;
        cs_error_clear(&err);
        if (cs_ipam_pools_check(o->aws, &err) != 0)
            return cli_report_error(verb, &err);
    }
    int rc = CLI_OK;
    for (size_t i = 0; rc == CLI_OK && i < o->n_pool_args; i++) {
        const char *a = o->pool_args[i];
        if (strncmp(a, "ipam-pool-", 10) != 0) {
            cs_prefix p;
            cs_error err;
            cs_error_clear(&err);
            if (cs_prefix_parse(a, strlen(a), 0, &p, &err) != 0) {
                snprintf(err.source, sizeof err.source, "--pool");
                return cli_report_error(verb, &err);
            }
            rc = add_pool(verb, o, &p, NULL);
            continue;
        }
        const cs_ipam_pool_info *info = cs_ipam_pools_find(o->aws, a);
        if (!info) {
            cli_errorf(verb, "--pool %s: %s", a,
                       o->aws ? "not in the --ipam-pools read (describe-ipam-pools output)"
                              : "an AWS IPAM pool id needs --ipam-pools PATH");
            return CLI_USAGE;
        }
        if (cs_ipam_pools_cidrs(o->aws, a, NULL, 0) <= 0) {
            cli_errorf(verb, "--pool %s: the pool has no provisioned CIDR", a);
            return CLI_USAGE;
        }
        if (length) {
            cs_error err;
            cs_error_clear(&err);
            unsigned l;
            if (cs_ipam_pool_length(info, (int)*length, &l, &err) != 0) {
                cli_errorf(verb, "--length: %s", err.message);
                return CLI_USAGE;
            }
            *length = (long)l;
        }
        rc = add_aws(verb, o, a, false);
        if (rc == CLI_OK)
            rc = add_aws(verb, o, a, true);
    }
    return rc;
}

void cli_ipam_free(cli_ipam *o)
{
    cli_prefixes_free(&o->pools);
    cli_prefixes_free(&o->excl);
    free(o->names);
    cs_ipam_pools_free(o->aws);
    memset(o, 0, sizeof *o);
}

/* ---- reservations as planned blocks (audit --shm) ---------------------------- */

int cli_ledger_rows(const char *verb, const char *shm,
                    int (*add)(void *ctx, const char *row, size_t len), void *ctx)
{
    cs_ledger *l = NULL;
    if (cs_ledger_open(shm, &l, NULL) != 0)
        return CLI_OK; /* a service without a ledger */
    cs_error err;
    cs_error_clear(&err);
    int rc = CLI_OK;
    int64_t n = cs_ledger_list(l, NULL, 0, &err);
    cs_reservation *r = n > 0 ? calloc((size_t)n, sizeof *r) : NULL;
    if (n < 0)
        rc = cli_report_error(verb, &err);
    else if (n > 0 && !r) {
        cli_errorf(verb, "out of memory");
        rc = CLI_INTERNAL;
    } else if (n > 0) {
        int64_t m = cs_ledger_list(l, r, (size_t)n, &err);
        if (m < 0)
            rc = cli_report_error(verb, &err);
        for (int64_t i = 0; rc == CLI_OK && i < m && i < n; i++) {
            if (r[i].state != CS_RES_ACTIVE)
                continue;
            char pb[CS_PREFIX_STRCAP], row[128];
            cs_prefix_format(&r[i].prefix, pb, sizeof pb);
            int len = snprintf(row, sizeof row, "000000000000,ledger,vpc-1ed9e4%011llx,%s",
                               (unsigned long long)r[i].seq & 0xfffffffffffull, pb);
            if (add(ctx, row, (size_t)len)) {
                cli_errorf(verb, "out of memory");
                rc = CLI_INTERNAL;
            }
        }
    }
    free(r);
    cs_ledger_close(l);
    return rc;
}
