/*
 * engine/ingest/plan.c — the two small inputs of the audit that name things
 * of an estate already read: WHAT-IF PLANS (rows of planned VPCs and
 * blocks, added to a builder thawed from the estate: cs_plan_*) and DOMAIN
 * FILES (named sets of VPCs that must be mutually disjoint: cs_domain_set_*).
 *
 * Does: parse each line, resolve what it names against the frozen estate,
 * and fail with the file, line, column and span of the offending field and
 * the line for a caret (jq's locfile manner): "plan.csv:3:22: host bits
 * set ...". Does not: audit, print, or read anything but the one file.
 *
 *   plan row     account,region,vpc_id,cidr      (optional header
 *                                                 account,region,vpc_id,cidr)
 *   domain line  DOMAIN,MEMBER                   (optional header
 *                                                 domain,member)
 *   MEMBER       vpc-...            one VPC
 *                account:ID         every VPC of the account
 *                region:NAME        every VPC in the region
 *                tag:KEY=VALUE      every VPC carrying the tag
 *
 * In files, blank lines and lines starting with '#' are skipped, and
 * spaces and tabs around a line are ignored. A planned VPC the estate
 * already holds must be named with its own account and region; a new one
 * is added (state available). A domain member that matches nothing (a VPC,
 * account or region the estate does not know, a tag no VPC carries) is an
 * error: a typo must not pass as an empty domain.
 *
 * Invariants: a domain set's VPC indices are indices of the snapshot it was
 * resolved against, which must outlive nothing (they are plain numbers) but
 * mean something only with that snapshot.
 *
 * Concurrency: none; a builder or domain set is used by one thread at a
 * time; the snapshot is only read. Tests: tests/test_audit.c (plan__*,
 * domains__*), tests/cli/test_audit_scope.sh.
 */
#include <cidrscope/audit.h>
#include <cidrscope/estate.h>

#include "core/error_internal.h"
#include "ingest/ingest_internal.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Plan and domain files are small: refuse anything over 64 MiB. */
#define PLAN_FILE_MAX ((size_t)64 << 20)

/* Where a line came from, for messages. */
typedef struct lineloc {
    const char *source;
    uint64_t line;
    uint64_t offset;        /* byte offset of line[0] in the source */
    uint32_t column;        /* 1-based column of line[0] */
    const char *text;       /* the line */
    size_t len;
} lineloc;

/* Points err at bytes [col0, col0 + span) of the line; returns code. */
static int at(cs_error *err, const lineloc *l, size_t col0, size_t span, int code)
{
    if (!err)
        return code;
    uint64_t col = (uint64_t)l->column + col0;
    cs_error_locate(err, l->source, l->line, col > UINT32_MAX ? UINT32_MAX : (uint32_t)col,
                    l->offset + col0, span > UINT32_MAX ? UINT32_MAX : (uint32_t)span,
                    l->text, l->len);
    err->code = code;
    return code;
}

/* Calls fn on every line of `path` worth reading (trimmed; not blank, not a
 * '#' comment), stopping at the first negative return, which it returns. */
typedef int (*line_fn)(const lineloc *l, bool first, void *ctx, cs_error *err);

static int for_each_line(const char *path, line_fn fn, void *ctx, cs_error *err)
{
    cs_ingest_file f;
    int rc = cs_ingest_file_read(path, PLAN_FILE_MAX, &f, err);
    if (rc < 0)
        return rc;
    const char *buf = f.data;
    size_t pos = 0;
    uint64_t no = 0;
    bool first = true;
    while (pos < f.len && rc >= 0) {
        const char *nl = memchr(buf + pos, '\n', f.len - pos);
        size_t end = nl ? (size_t)(nl - buf) : f.len;
        size_t a = pos, b = end;
        no++;
        while (b > a && (buf[b - 1] == '\r' || buf[b - 1] == ' ' || buf[b - 1] == '\t'))
            b--;
        while (a < b && (buf[a] == ' ' || buf[a] == '\t'))
            a++;
        if (a < b && buf[a] != '#') {
            if (memchr(buf + a, '\0', b - a)) {
                cs_ingest_locate(err, path, buf, f.len, a, (uint32_t)(b - a));
                rc = cs_fail(err, CS_EPARSE, "a NUL byte inside the line");
                break;
            }
            lineloc l = {path, no, a, (uint32_t)(a - pos) + 1, buf + a, b - a};
            rc = fn(&l, first, ctx, err);
            first = false;
        }
        pos = end + 1;
    }
    cs_ingest_file_free(&f);
    return rc;
}

static bool same(const char *s, const char *p, size_t n)
{
    return strlen(s) == n && memcmp(s, p, n) == 0;
}

/* ---- what-if plans ----------------------------------------------------------- */

typedef struct plan_ctx {
    cs_estate *e;
    const cs_snapshot *base;
    unsigned parse_flags;
    int rows;
} plan_ctx;

static int plan_line(const lineloc *l, bool first, void *ctx, cs_error *err)
{
    plan_ctx *pc = ctx;
    const char *line = l->text;
    size_t len = l->len;
    const char *f[4];
    size_t fl[4], fo[4];
    size_t start = 0, nf = 0;
    for (size_t i = 0; i <= len && nf < 5; i++) {
        if (i == len || line[i] == ',') {
            if (nf < 4) {
                f[nf] = line + start;
                fl[nf] = i - start;
                fo[nf] = start;
            }
            nf++;
            start = i + 1;
        }
    }
    if (nf != 4) {
        cs_fail(err, CS_EPARSE, "expected 4 fields: account,region,vpc_id,cidr");
        return at(err, l, 0, len, CS_EPARSE);
    }
    if (first && same("account", f[0], fl[0]))
        return 0; /* header */
    cs_error perr;
    cs_error_clear(&perr);
    cs_prefix p;
    int rc = cs_prefix_parse(f[3], fl[3], pc->parse_flags, &p, &perr);
    if (rc < 0) {
        cs_fail(err, rc, "%s", perr.message);
        return at(err, l, fo[3] + (perr.column ? perr.column - 1 : 0),
                  perr.span ? perr.span : fl[3], rc);
    }
    cs_srcloc loc = {l->source, l->line, l->column};
    cs_str id = {f[2], fl[2]};
    uint32_t v;
    if (pc->base && cs_estate_present(pc->base) &&
        cs_estate_vpc_find(pc->base, f[2], fl[2], &v) == 1) {
        cs_vpc vp;
        cs_account a;
        cs_region rg;
        if (cs_estate_vpc(pc->base, v, &vp) == 0 &&
            cs_estate_account(pc->base, vp.account_idx, &a) == 0 &&
            cs_estate_region(pc->base, vp.region_idx, &rg) == 0 &&
            (!same(a.id, f[0], fl[0]) || !same(rg.name, f[1], fl[1]))) {
            cs_fail(err, CS_ECONFLICT, "%.*s is in account %s, region %s", (int)fl[2], f[2],
                    a.id, rg.name);
            return at(err, l, 0, fo[2] + fl[2], CS_ECONFLICT);
        }
    } else {
        /* new to the estate (or named twice in the plan): the builder
         * merges equal sightings and refuses different ones */
        cs_vpc_desc d = {.id = id, .owner = {f[0], fl[0]}, .region = {f[1], fl[1]},
                         .state = CS_VPC_AVAILABLE};
        rc = cs_estate_add_vpc(pc->e, &d, &loc, err);
        if (rc < 0)
            return at(err, l, 0, fo[2] + fl[2], rc);
    }
    cs_cidr_desc cd = {.vpc_id = id, .prefix = p, .state = CS_ASSOC_ASSOCIATED};
    rc = cs_estate_add_cidr(pc->e, &cd, &loc, err);
    if (rc < 0)
        return at(err, l, fo[3], fl[3], rc);
    pc->rows++;
    return 0;
}

int cs_plan_add_row(cs_estate *e, const cs_snapshot *base, const char *row, size_t len,
                    unsigned parse_flags, const cs_srcloc *loc, cs_error *err)
{
    if (!e || !row)
        return cs_fail(err, CS_EINVAL, "cs_plan_add_row: NULL estate or row");
    plan_ctx pc = {e, base, parse_flags, 0};
    lineloc l = {loc && loc->source ? loc->source : "(plan)", loc && loc->line ? loc->line : 1,
                 0, loc && loc->column ? loc->column : 1, row, len};
    int rc = plan_line(&l, false, &pc, err);
    return rc < 0 ? rc : 0;
}

int cs_plan_load(cs_estate *e, const cs_snapshot *base, const char *path,
                 unsigned parse_flags, cs_error *err)
{
    if (!e || !path)
        return cs_fail(err, CS_EINVAL, "cs_plan_load: NULL estate or path");
    plan_ctx pc = {e, base, parse_flags, 0};
    int rc = for_each_line(path, plan_line, &pc, err);
    return rc < 0 ? rc : pc.rows;
}

/* ---- domain files -------------------------------------------------------------- */

typedef struct domain_rec {
    char *name;
    uint32_t *vpcs;
    size_t n, cap;
} domain_rec;

struct cs_domain_set {
    domain_rec *d;
    size_t n, cap;
    cs_audit_domain *view;  /* rebuilt by cs_domain_set_domains */
    size_t view_cap;
};

cs_domain_set *cs_domain_set_new(void)
{
    return calloc(1, sizeof(cs_domain_set));
}

void cs_domain_set_free(cs_domain_set *ds)
{
    if (!ds)
        return;
    for (size_t i = 0; i < ds->n; i++) {
        free(ds->d[i].name);
        free(ds->d[i].vpcs);
    }
    free(ds->d);
    free(ds->view);
    free(ds);
}

static int dom_add_vpc(domain_rec *d, uint32_t v)
{
    if (d->n == d->cap) {
        size_t nc = d->cap ? 2 * d->cap : 16;
        uint32_t *nv = realloc(d->vpcs, nc * sizeof *nv);
        if (!nv)
            return CS_ENOMEM;
        d->vpcs = nv;
        d->cap = nc;
    }
    d->vpcs[d->n++] = v;
    return 0;
}

static domain_rec *dom_get(cs_domain_set *ds, const char *name, size_t len)
{
    for (size_t i = 0; i < ds->n; i++)
        if (same(ds->d[i].name, name, len))
            return &ds->d[i];
    if (ds->n == ds->cap) {
        size_t nc = ds->cap ? 2 * ds->cap : 8;
        domain_rec *nd = realloc(ds->d, nc * sizeof *nd);
        if (!nd)
            return NULL;
        ds->d = nd;
        ds->cap = nc;
    }
    domain_rec *d = &ds->d[ds->n];
    memset(d, 0, sizeof *d);
    d->name = malloc(len + 1);
    if (!d->name)
        return NULL;
    memcpy(d->name, name, len);
    d->name[len] = '\0';
    ds->n++;
    return d;
}

static bool vpc_has_tag(const cs_snapshot *s, const cs_vpc *vp, const char *k, size_t kl,
                        const char *v, size_t vl)
{
    for (uint32_t t = 0; t < vp->tag_count; t++) {
        const char *key, *val;
        if (cs_estate_tag(s, vp->tag_begin + t, &key, &val) == 0 && same(key, k, kl) &&
            same(val, v, vl))
            return true;
    }
    return false;
}

typedef struct dom_ctx {
    cs_domain_set *ds;
    const cs_snapshot *s;
} dom_ctx;

#define ADD_OR_FAIL(d, v)                                                          \
    do {                                                                           \
        if (dom_add_vpc((d), (v)))                                                 \
            return cs_fail(err, CS_ENOMEM, "domains: out of memory");              \
    } while (0)

static int domain_line(const lineloc *l, bool first, void *ctx, cs_error *err)
{
    dom_ctx *dc = ctx;
    const char *line = l->text;
    size_t len = l->len;
    const char *comma = memchr(line, ',', len);
    if (!comma || comma == line || comma + 1 == line + len) {
        cs_fail(err, CS_EPARSE, "expected DOMAIN,MEMBER");
        return at(err, l, 0, len, CS_EPARSE);
    }
    size_t nl = (size_t)(comma - line);
    const char *m = comma + 1;
    size_t ml = len - nl - 1, mo = nl + 1;
    if (first && same("domain", line, nl))
        return 0; /* header */
    domain_rec *d = dom_get(dc->ds, line, nl);
    if (!d)
        return cs_fail(err, CS_ENOMEM, "domains: out of memory");
    cs_estate_counts ec;
    cs_estate_counts_get(dc->s, &ec);
    uint64_t matched = 0;
    const char *what = "VPC";
    if (ml > 8 && memcmp(m, "account:", 8) == 0) {
        what = "account";
        uint32_t ai;
        cs_account a;
        if (cs_estate_account_find(dc->s, m + 8, ml - 8, &ai) == 1 &&
            cs_estate_account(dc->s, ai, &a) == 0) {
            for (uint32_t v = a.vpc_begin; v < a.vpc_begin + a.vpc_count; v++)
                ADD_OR_FAIL(d, v);
            matched = 1; /* a known account with no VPC: an empty member */
        }
    } else if (ml > 7 && memcmp(m, "region:", 7) == 0) {
        what = "region";
        for (uint32_t v = 0; v < ec.vpcs; v++) {
            cs_vpc vp;
            cs_region rg;
            if (cs_estate_vpc(dc->s, v, &vp) == 0 &&
                cs_estate_region(dc->s, vp.region_idx, &rg) == 0 &&
                same(rg.name, m + 7, ml - 7)) {
                ADD_OR_FAIL(d, v);
                matched++;
            }
        }
    } else if (ml > 4 && memcmp(m, "tag:", 4) == 0) {
        what = "tag on any VPC";
        const char *eq = memchr(m + 4, '=', ml - 4);
        if (!eq) {
            cs_fail(err, CS_EPARSE, "expected tag:KEY=VALUE");
            return at(err, l, mo, ml, CS_EPARSE);
        }
        size_t kl = (size_t)(eq - (m + 4)), vl = ml - 4 - kl - 1;
        for (uint32_t v = 0; v < ec.vpcs; v++) {
            cs_vpc vp;
            if (cs_estate_vpc(dc->s, v, &vp) == 0 &&
                vpc_has_tag(dc->s, &vp, m + 4, kl, eq + 1, vl)) {
                ADD_OR_FAIL(d, v);
                matched++;
            }
        }
    } else {
        uint32_t v;
        if (cs_estate_vpc_find(dc->s, m, ml, &v) == 1) {
            ADD_OR_FAIL(d, v);
            matched = 1;
        }
    }
    if (!matched) {
        cs_fail(err, CS_ENOTFOUND, "no such %s in the estate: %.*s", what, (int)ml, m);
        return at(err, l, mo, ml, CS_ENOTFOUND);
    }
    return 0;
}

static int domain_args(const cs_domain_set *ds, const cs_snapshot *s, cs_error *err)
{
    if (!ds || !s)
        return cs_fail(err, CS_EINVAL, "domains: NULL set or snapshot");
    if (!cs_estate_present(s))
        return cs_fail(err, CS_EINVAL, "domains name VPCs: the snapshot holds no estate");
    return 0;
}

int cs_domain_set_add_line(cs_domain_set *ds, const cs_snapshot *s, const char *line,
                           size_t len, const cs_srcloc *loc, cs_error *err)
{
    int rc = domain_args(ds, s, err);
    if (rc < 0)
        return rc;
    if (!line)
        return cs_fail(err, CS_EINVAL, "cs_domain_set_add_line: NULL line");
    dom_ctx dc = {ds, s};
    lineloc l = {loc && loc->source ? loc->source : "(domains)",
                 loc && loc->line ? loc->line : 1, 0, loc && loc->column ? loc->column : 1,
                 line, len};
    rc = domain_line(&l, false, &dc, err);
    return rc < 0 ? rc : 0;
}

int cs_domain_set_load(cs_domain_set *ds, const cs_snapshot *s, const char *path,
                       cs_error *err)
{
    int rc = domain_args(ds, s, err);
    if (rc < 0)
        return rc;
    if (!path)
        return cs_fail(err, CS_EINVAL, "cs_domain_set_load: NULL path");
    dom_ctx dc = {ds, s};
    rc = for_each_line(path, domain_line, &dc, err);
    return rc < 0 ? rc : 0;
}

int cs_domain_set_domains(cs_domain_set *ds, const cs_audit_domain **out, size_t *n)
{
    if (!ds || !out || !n)
        return cs_fail(NULL, CS_EINVAL, "cs_domain_set_domains: NULL argument");
    *out = NULL;
    *n = 0;
    if (ds->view_cap < ds->n) {
        cs_audit_domain *nv = realloc(ds->view, ds->n * sizeof *nv);
        if (!nv)
            return CS_ENOMEM;
        ds->view = nv;
        ds->view_cap = ds->n;
    }
    for (size_t i = 0; i < ds->n; i++) {
        ds->view[i].name = ds->d[i].name;
        ds->view[i].vpcs = ds->d[i].vpcs;
        ds->view[i].vpc_count = ds->d[i].n;
    }
    *out = ds->view;
    *n = ds->n;
    return 0;
}
