/*
 * cli/cmd_audit.c — `cidrscope audit SOURCE...`: the org-wide overlap audit
 * (include/cidrscope/audit.h) with scopes, domains, drift against a
 * baseline and what-if planned blocks, written as text, JSON, NDJSON, CSV or
 * HTML, with --fail-on for CI gates.
 *
 * WHAT-IF. Planned rows (account,region,vpc_id,cidr) are audited "as if
 * they existed": the estate is opened as usual (any source: directories,
 * CSV, prefix lists, a snapshot file, --shm), copied record by record into
 * a fresh estate builder through the estate accessors, the planned VPCs and
 * blocks are added to it, and the result is frozen and audited. That one
 * estate is the simplest thing that is exactly right: every rule (dedupe,
 * conflicts, scopes) applies to planned rows as to real ones. The report is
 * the audit of the planned estate plus a "what-if" section: the drift from
 * the estate as it is, i.e. the findings the plan adds or changes; with
 * --fail-on the exit status looks only at those.
 *
 * DOMAIN FILES (--domain FILE): one membership per line, `DOMAIN,MEMBER`;
 * '#' starts a comment line; an optional header `domain,member`. MEMBER is a
 * VPC id (vpc-...), `account:ID` (every VPC of the account),
 * `region:NAME`, or `tag:KEY=VALUE`. A VPC id, account or region the
 * estate does not know is an error naming file, line and column. Every
 * pair of overlapping VPCs inside one domain is a violation, whatever its
 * severity.
 *
 * Exit: 0 ok, 1 --fail-on found something, 2 bad input, 3 internal error.
 */
#include "cli.h"
#include "source.h"
#include "verbs.h"

#include <cidrscope/audit.h>
#include <cidrscope/estate.h>

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define VERB "audit"

enum {
    OPT_FORMAT = 0x300, OPT_FAIL_ON, OPT_INCLUDE_DEFAULT, OPT_ALL_PAIRS, OPT_LIMIT,
    OPT_ACCOUNTS, OPT_REGIONS, OPT_TAG, OPT_DOMAIN, OPT_BASELINE, OPT_WHAT_IF,
    OPT_ENTRIES_ONLY, OPT_OUTPUT,
};

static void usage(FILE *f)
{
    fprintf(f,
        "usage: cidrscope audit [options] SOURCE...\n"
        "\n"
        "Audits every VPC of the estate for overlapping CIDR blocks: which VPCs\n"
        "overlap, how badly, and which overlaps hurt. SOURCE is an estate directory,\n"
        "AWS CLI JSON, CSV, a prefix list, or a snapshot file (or --shm NAME).\n"
        "\n"
        "Severity: critical (peered, or both peered to one hub), high (same account\n"
        "or region), medium (any other), informational (default VPCs only, or only\n"
        "inside reused ranges 100.64.0.0/10 and 198.18.0.0/15; summarised).\n"
        "\n"
        "output:\n"
        "      --format F         text (default on a terminal), json (default\n"
        "                         otherwise), ndjson, csv (one row per VPC pair),\n"
        "                         html (one self-contained file)\n"
        "  -o, --output FILE      write the report to FILE\n"
        "      --limit N          list at most N findings per section (text: 50;\n"
        "                         others: all; 0 = all)\n"
        "      --include-default  list informational pairs too (and count them for\n"
        "                         --fail-on any)\n"
        "      --all-pairs        list every pair one by one, also those that share\n"
        "                         an identical prefix (normally summarised per group)\n"
        "      --entries-only     block-level figures and clusters only (fastest)\n"
        "      --fail-on LEVEL    exit 1 when a finding of LEVEL or worse exists:\n"
        "                         critical, high (also: domain violations), or any\n"
        "\n"
        "scope:\n"
        "      --accounts A,B     only VPCs of these accounts (repeatable)\n"
        "      --regions R,S      only VPCs in these regions (repeatable)\n"
        "      --tag KEY=VALUE    only VPCs carrying this tag (repeatable: all)\n"
        "      --domain FILE      named sets of VPCs that must be mutually disjoint:\n"
        "                         lines DOMAIN,MEMBER with MEMBER a VPC id,\n"
        "                         account:ID, region:NAME or tag:KEY=VALUE\n"
        "\n"
        "changes:\n"
        "      --baseline OLD     also audit OLD (any source) and report the findings\n"
        "                         that appeared, changed or disappeared since;\n"
        "                         --fail-on then looks at what appeared or worsened\n"
        "      --what-if ROW|FILE audit as if planned blocks existed: ROW is\n"
        "                         account,region,vpc_id,cidr; FILE a CSV of such rows\n"
        "                         (repeatable); reports what the plan adds, and\n"
        "                         --fail-on looks only at that\n"
        "\n"
        "estate:\n" CLI_SOURCE_HELP);
}

/* ---- small helpers ------------------------------------------------------------- */

typedef struct strlist {
    char **v;
    size_t n, cap;
} strlist;

static int strlist_add(strlist *l, const char *s, size_t len)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? 2 * l->cap : 16;
        char **nv = realloc(l->v, nc * sizeof *nv);
        if (!nv)
            return -1;
        l->v = nv;
        l->cap = nc;
    }
    l->v[l->n] = strndup(s, len);
    if (!l->v[l->n])
        return -1;
    l->n++;
    return 0;
}

static int strlist_split(strlist *l, const char *csv)
{
    const char *p = csv;
    while (*p) {
        const char *q = strchr(p, ',');
        size_t len = q ? (size_t)(q - p) : strlen(p);
        if (len && strlist_add(l, p, len))
            return -1;
        p += len + (q != NULL);
    }
    return 0;
}

static void strlist_free(strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Reports a bad field of a line read from `src`: file, line, column, caret. */
static void field_error(const char *src, unsigned long line_no, const char *line, size_t len,
                        size_t col0, size_t span, const char *msg)
{
    cs_error err;
    cs_error_clear(&err);
    err.code = CS_EPARSE;
    snprintf(err.message, sizeof err.message, "%s", msg);
    snprintf(err.source, sizeof err.source, "%s", src);
    err.line = line_no;
    err.column = (uint32_t)col0 + 1;
    err.span = (uint32_t)span;
    size_t show = len < sizeof err.text - 1 ? len : sizeof err.text - 1;
    memcpy(err.text, line, show);
    err.text[show] = '\0';
    err.text_col = err.column <= show ? err.column : 0;
    cli_report_error(VERB, &err);
}

/* ---- what-if: copy the estate and add the planned rows ------------------------------ */

static cs_str sv(const char *s)
{
    return cs_str_c(s);
}

/* Copies every record of the frozen estate `s` into builder `e`. */
static int copy_estate(const cs_snapshot *s, cs_estate *e, cs_error *err)
{
    cs_estate_counts ec;
    cs_estate_counts_get(s, &ec);
    cs_srcloc loc = {"(estate)", 0, 0};
    for (uint32_t i = 0; i < ec.accounts; i++) {
        cs_account a;
        if (cs_estate_account(s, i, &a) == 0 &&
            !(a.flags & (CS_ACCOUNT_PSEUDO | CS_ACCOUNT_EXTERNAL)) && a.vpc_count == 0) {
            int rc = cs_estate_add_scope(e, sv(a.id), sv(NULL), err);
            if (rc < 0)
                return rc;
        }
    }
    cs_tag *tags = NULL;
    size_t tag_cap = 0;
    int rc = 0;
    for (uint32_t v = 0; v < ec.vpcs && rc >= 0; v++) {
        cs_vpc vp;
        cs_account a;
        cs_region rg;
        if (cs_estate_vpc(s, v, &vp) || cs_estate_account(s, vp.account_idx, &a) ||
            cs_estate_region(s, vp.region_idx, &rg))
            continue;
        if (vp.tag_count > tag_cap) {
            cs_tag *nt = realloc(tags, vp.tag_count * sizeof *nt);
            if (!nt) {
                rc = CS_ENOMEM;
                break;
            }
            tags = nt;
            tag_cap = vp.tag_count;
        }
        for (uint32_t k = 0; k < vp.tag_count; k++) {
            const char *key = "", *val = "";
            cs_estate_tag(s, vp.tag_begin + k, &key, &val);
            tags[k].key = sv(key);
            tags[k].value = sv(val);
        }
        cs_vpc_desc d = {.id = sv(vp.id), .owner = sv(a.id), .region = sv(rg.name),
                         .name = sv(vp.name), .tags = tags, .tag_count = vp.tag_count,
                         .state = vp.state, .is_default = vp.is_default,
                         .flags = vp.pseudo ? CS_VPC_PSEUDO : 0};
        rc = cs_estate_add_vpc(e, &d, &loc, err);
        for (uint32_t k = 0; k < vp.assoc_count && rc >= 0; k++) {
            cs_assoc as;
            if (cs_estate_assoc(s, vp.assoc_begin + k, &as))
                continue;
            cs_cidr_desc cd = {.vpc_id = sv(vp.id), .prefix = as.prefix,
                               .association_id = sv(as.id), .state = as.state,
                               .primary = as.primary, .ip_source = as.ip_source,
                               .ipv6_attr = as.ipv6_attr, .pool = sv(as.pool)};
            rc = cs_estate_add_cidr(e, &cd, &loc, err);
        }
        for (uint32_t k = 0; k < vp.edge_count && rc >= 0; k++) {
            cs_edge ed;
            if (cs_estate_edge(s, vp.edge_begin + k, &ed))
                continue;
            cs_edge_desc dd = {.vpc_id = sv(vp.id), .kind = ed.kind, .id = sv(ed.id)};
            rc = cs_estate_add_edge(e, &dd, &loc, err);
        }
    }
    free(tags);
    for (uint32_t p = 0; p < ec.peerings && rc >= 0; p++) {
        cs_peering pr;
        if (cs_estate_peering(s, p, &pr))
            continue;
        cs_peering_desc d = {.id = sv(pr.id), .status = pr.status};
        const cs_peering_end *ends[2] = {&pr.requester, &pr.accepter};
        cs_peering_side *sides[2] = {&d.requester, &d.accepter};
        for (int k = 0; k < 2; k++) {
            cs_account a;
            cs_region rg;
            sides[k]->vpc_id = sv(ends[k]->vpc_id);
            sides[k]->allow_dns = ends[k]->allow_dns;
            if (ends[k]->account_idx != CS_IDX_NONE &&
                cs_estate_account(s, ends[k]->account_idx, &a) == 0)
                sides[k]->owner = sv(a.id);
            if (ends[k]->region_idx != CS_IDX_NONE &&
                cs_estate_region(s, ends[k]->region_idx, &rg) == 0)
                sides[k]->region = sv(rg.name);
        }
        rc = cs_estate_add_peering(e, &d, &loc, err);
    }
    return rc < 0 ? rc : 0;
}

typedef struct plan {
    cs_estate *e;
    const cs_snapshot *base;
    bool lenient;
    const char *src;
    unsigned long rows;
    bool seen;           /* a line of the current file was read */
    int failed;          /* exit code of the first error, 0 = none */
} plan;

/* One planned row "account,region,vpc_id,cidr". */
static int plan_row(const char *line, size_t len, unsigned long no, void *ctx)
{
    plan *pl = ctx;
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
        field_error(pl->src, no, line, len, 0, len,
                    "expected 4 fields: account,region,vpc_id,cidr");
        pl->failed = CLI_USAGE;
        return -1;
    }
    bool first = !pl->seen;
    pl->seen = true;
    if (first && fl[0] == 7 && memcmp(f[0], "account", 7) == 0)
        return 0; /* header */
    cs_error err;
    cs_error_clear(&err);
    cs_prefix p;
    int rc = cs_prefix_parse(f[3], fl[3], pl->lenient ? CS_PARSE_LENIENT : 0, &p, &err);
    if (rc < 0) {
        field_error(pl->src, no, line, len, fo[3] + (err.column ? err.column - 1 : 0),
                    err.span ? err.span : fl[3], err.message);
        pl->failed = CLI_USAGE;
        return -1;
    }
    cs_srcloc loc = {pl->src, no, 1};
    cs_str id = {f[2], fl[2]};
    uint32_t v;
    bool known = false;
    if (pl->base && cs_estate_vpc_find(pl->base, f[2], fl[2], &v) == 1)
        known = true;
    /* A VPC new to the estate (or named twice in the plan) is added; the
     * builder merges equal sightings and refuses different ones. */
    cs_vpc_desc d = {.id = id, .owner = {f[0], fl[0]}, .region = {f[1], fl[1]},
                     .state = CS_VPC_AVAILABLE};
    if (known) {
        cs_vpc vp;
        cs_account a;
        cs_region rg;
        cs_estate_vpc(pl->base, v, &vp);
        cs_estate_account(pl->base, vp.account_idx, &a);
        cs_estate_region(pl->base, vp.region_idx, &rg);
        if (strlen(a.id) != fl[0] || memcmp(a.id, f[0], fl[0]) != 0 ||
            strlen(rg.name) != fl[1] || memcmp(rg.name, f[1], fl[1]) != 0) {
            char msg[256];
            snprintf(msg, sizeof msg, "%.*s is in account %s, region %s", (int)fl[2], f[2],
                     a.id, rg.name);
            field_error(pl->src, no, line, len, 0, fo[2] + fl[2], msg);
            pl->failed = CLI_USAGE;
            return -1;
        }
    } else {
        rc = cs_estate_add_vpc(pl->e, &d, &loc, &err);
        if (rc < 0) {
            field_error(pl->src, no, line, len, 0, len, err.message);
            pl->failed = cli_exit_code(rc);
            return -1;
        }
    }
    cs_cidr_desc cd = {.vpc_id = id, .prefix = p, .state = CS_ASSOC_ASSOCIATED};
    rc = cs_estate_add_cidr(pl->e, &cd, &loc, &err);
    if (rc < 0) {
        field_error(pl->src, no, line, len, fo[3], fl[3], err.message);
        pl->failed = cli_exit_code(rc);
        return -1;
    }
    pl->rows++;
    return 0;
}

/* Builds the planned estate: `base` plus every --what-if row or file. */
static int build_plan(const cs_snapshot *base, const strlist *what_if, bool lenient,
                      cs_snapshot **out)
{
    cs_error err;
    cs_error_clear(&err);
    plan pl = {cs_estate_new(), base, lenient, NULL, 0, false, 0};
    if (!pl.e) {
        cli_errorf(VERB, "out of memory");
        return CLI_INTERNAL;
    }
    int rc = copy_estate(base, pl.e, &err);
    if (rc < 0) {
        int code = cli_report_error(VERB, &err);
        cs_estate_free(pl.e);
        return code;
    }
    for (size_t i = 0; i < what_if->n && !pl.failed; i++) {
        const char *w = what_if->v[i];
        pl.seen = false;
        if (access(w, R_OK) == 0) {
            pl.src = w;
            if (cli_for_each_line(VERB, w, plan_row, &pl) == -1 && !pl.failed)
                pl.failed = CLI_USAGE;
        } else {
            pl.src = "--what-if";
            plan_row(w, strlen(w), 1, &pl);
        }
    }
    if (pl.failed) {
        cs_estate_free(pl.e);
        return pl.failed;
    }
    rc = cs_estate_freeze(pl.e, out, &err);
    cs_estate_free(pl.e);
    if (rc < 0)
        return cli_report_error(VERB, &err);
    return CLI_OK;
}

/* ---- domains ------------------------------------------------------------------------ */

typedef struct dom {
    char *name;
    uint32_t *vpcs;
    size_t n, cap;
} dom;

typedef struct domset {
    dom *d;
    size_t n, cap;
    const cs_snapshot *s;
    const char *src;
    bool seen;           /* a line of the current file was read */
    int failed;
} domset;

static int dom_add_vpc(dom *d, uint32_t v)
{
    if (d->n == d->cap) {
        size_t nc = d->cap ? 2 * d->cap : 16;
        uint32_t *nv = realloc(d->vpcs, nc * sizeof *nv);
        if (!nv)
            return -1;
        d->vpcs = nv;
        d->cap = nc;
    }
    d->vpcs[d->n++] = v;
    return 0;
}

static dom *dom_get(domset *ds, const char *name, size_t len)
{
    for (size_t i = 0; i < ds->n; i++)
        if (strlen(ds->d[i].name) == len && memcmp(ds->d[i].name, name, len) == 0)
            return &ds->d[i];
    if (ds->n == ds->cap) {
        size_t nc = ds->cap ? 2 * ds->cap : 8;
        dom *nd = realloc(ds->d, nc * sizeof *nd);
        if (!nd)
            return NULL;
        ds->d = nd;
        ds->cap = nc;
    }
    dom *d = &ds->d[ds->n];
    memset(d, 0, sizeof *d);
    d->name = strndup(name, len);
    if (!d->name)
        return NULL;
    ds->n++;
    return d;
}

static bool vpc_has_tag(const cs_snapshot *s, const cs_vpc *vp, const char *k, size_t kl,
                        const char *v, size_t vl)
{
    for (uint32_t t = 0; t < vp->tag_count; t++) {
        const char *key, *val;
        if (cs_estate_tag(s, vp->tag_begin + t, &key, &val))
            continue;
        if (strlen(key) == kl && memcmp(key, k, kl) == 0 && strlen(val) == vl &&
            memcmp(val, v, vl) == 0)
            return true;
    }
    return false;
}

static int domain_line(const char *line, size_t len, unsigned long no, void *ctx)
{
    domset *ds = ctx;
    const char *comma = memchr(line, ',', len);
    if (!comma || comma == line || comma + 1 == line + len) {
        field_error(ds->src, no, line, len, 0, len, "expected DOMAIN,MEMBER");
        ds->failed = CLI_USAGE;
        return -1;
    }
    size_t nl = (size_t)(comma - line);
    const char *m = comma + 1;
    size_t ml = len - nl - 1, mo = nl + 1;
    bool first = !ds->seen;
    ds->seen = true;
    if (first && nl == 6 && memcmp(line, "domain", 6) == 0)
        return 0; /* header */
    dom *d = dom_get(ds, line, nl);
    if (!d) {
        ds->failed = CLI_INTERNAL;
        return -1;
    }
    cs_estate_counts ec;
    cs_estate_counts_get(ds->s, &ec);
    uint32_t matched = 0;
    const char *what = "VPC";
    if (ml > 8 && memcmp(m, "account:", 8) == 0) {
        what = "account";
        uint32_t ai;
        if (cs_estate_account_find(ds->s, m + 8, ml - 8, &ai) == 1) {
            cs_account a;
            cs_estate_account(ds->s, ai, &a);
            for (uint32_t v = a.vpc_begin; v < a.vpc_begin + a.vpc_count; v++, matched++)
                if (dom_add_vpc(d, v))
                    return ds->failed = CLI_INTERNAL, -1;
            matched += a.vpc_count == 0; /* a known account with no VPC: not an error */
        }
    } else if (ml > 7 && memcmp(m, "region:", 7) == 0) {
        what = "region";
        bool known = false;
        for (uint32_t v = 0; v < ec.vpcs; v++) {
            cs_vpc vp;
            cs_region rg;
            if (cs_estate_vpc(ds->s, v, &vp) || cs_estate_region(ds->s, vp.region_idx, &rg))
                continue;
            if (strlen(rg.name) == ml - 7 && memcmp(rg.name, m + 7, ml - 7) == 0) {
                known = true;
                if (dom_add_vpc(d, v))
                    return ds->failed = CLI_INTERNAL, -1;
            }
        }
        matched = known;
    } else if (ml > 4 && memcmp(m, "tag:", 4) == 0) {
        what = "tag";
        const char *eq = memchr(m + 4, '=', ml - 4);
        if (!eq) {
            field_error(ds->src, no, line, len, mo, ml, "expected tag:KEY=VALUE");
            ds->failed = CLI_USAGE;
            return -1;
        }
        size_t kl = (size_t)(eq - (m + 4)), vl = ml - 4 - kl - 1;
        for (uint32_t v = 0; v < ec.vpcs; v++) {
            cs_vpc vp;
            if (cs_estate_vpc(ds->s, v, &vp) == 0 && vpc_has_tag(ds->s, &vp, m + 4, kl, eq + 1, vl))
                if (dom_add_vpc(d, v))
                    return ds->failed = CLI_INTERNAL, -1;
        }
        matched = 1; /* a tag nobody carries makes an empty member, not an error */
    } else {
        uint32_t v;
        if (cs_estate_vpc_find(ds->s, m, ml, &v) == 1) {
            if (dom_add_vpc(d, v))
                return ds->failed = CLI_INTERNAL, -1;
            matched = 1;
        }
    }
    if (!matched) {
        char msg[160];
        snprintf(msg, sizeof msg, "no such %s in the estate", what);
        field_error(ds->src, no, line, len, mo, ml, msg);
        ds->failed = CLI_USAGE;
        return -1;
    }
    return 0;
}

static void domset_free(domset *ds)
{
    for (size_t i = 0; i < ds->n; i++) {
        free(ds->d[i].name);
        free(ds->d[i].vpcs);
    }
    free(ds->d);
    memset(ds, 0, sizeof *ds);
}

/* ---- the verb ------------------------------------------------------------------------- */

typedef struct audit_args {
    cli_sources src;
    cli_sources base_src;
    enum cs_report_format fmt;
    bool fmt_given;
    const char *output;
    uint64_t limit;
    bool limit_given;
    unsigned flags;
    int fail_on;             /* -1 none, else CS_SEV_* threshold */
    strlist accounts, regions, tag_kv, domains, what_if;
    bool baseline;
} audit_args;

static int run_audit(const cs_snapshot *s, const audit_args *a, const domset *ds,
                     cs_audit_result **out)
{
    cs_audit_tag *tags = calloc(a->tag_kv.n + 1, sizeof *tags);
    cs_audit_domain *doms = calloc(ds ? ds->n + 1 : 1, sizeof *doms);
    if (!tags || !doms) {
        free(tags);
        free(doms);
        cli_errorf(VERB, "out of memory");
        return CLI_INTERNAL;
    }
    for (size_t i = 0; i < a->tag_kv.n; i++) {
        char *kv = a->tag_kv.v[i];
        char *eq = strchr(kv, '=');
        tags[i].key = kv;
        tags[i].value = eq + 1;
        *eq = '\0';
    }
    for (size_t i = 0; ds && i < ds->n; i++) {
        doms[i].name = ds->d[i].name;
        doms[i].vpcs = ds->d[i].vpcs;
        doms[i].vpc_count = ds->d[i].n;
    }
    cs_audit_options o = {.flags = a->flags,
                          .accounts = (const char *const *)a->accounts.v,
                          .account_count = a->accounts.n,
                          .regions = (const char *const *)a->regions.v,
                          .region_count = a->regions.n,
                          .tags = tags,
                          .tag_count = a->tag_kv.n,
                          .domains = doms,
                          .domain_count = ds ? ds->n : 0};
    cs_error err;
    cs_error_clear(&err);
    int rc = cs_audit_run(s, &o, out, &err);
    /* restore the KEY=VALUE strings for a second run */
    for (size_t i = 0; i < a->tag_kv.n; i++)
        a->tag_kv.v[i][strlen(a->tag_kv.v[i])] = '=';
    free(tags);
    free(doms);
    if (rc < 0)
        return cli_report_error(VERB, &err);
    return CLI_OK;
}

static char *join_title(const char *const *paths, int n, const char *shm)
{
    if (shm) {
        size_t l = strlen(shm) + 8;
        char *t = malloc(l);
        if (t)
            snprintf(t, l, "shm:%s", shm);
        return t;
    }
    size_t total = 1;
    for (int i = 0; i < n; i++)
        total += strlen(paths[i]) + 1;
    char *t = malloc(total);
    if (!t)
        return NULL;
    t[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (i)
            strcat(t, " ");
        strcat(t, paths[i]);
    }
    return t;
}

/* Would the result trip --fail-on? */
static bool fails(const audit_args *a, const cs_audit_result *r, const cs_audit_drift *dr)
{
    if (a->fail_on < 0)
        return false;
    unsigned worst_ok = (unsigned)a->fail_on; /* severities <= this trip it */
    if (dr)
        return cs_audit_drift_worst(dr) <= worst_ok;
    cs_audit_summary m;
    cs_audit_get_summary(r, &m);
    for (unsigned k = 0; k <= worst_ok && k < CS_SEV_COUNT; k++)
        if (m.vpc_pairs_by_severity[k])
            return true;
    return a->fail_on >= CS_SEV_HIGH && m.domain_violations > 0;
}

int cmd_audit(int argc, char **argv)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"output", required_argument, NULL, 'o'},
        {"fail-on", required_argument, NULL, OPT_FAIL_ON},
        {"include-default", no_argument, NULL, OPT_INCLUDE_DEFAULT},
        {"all-pairs", no_argument, NULL, OPT_ALL_PAIRS},
        {"entries-only", no_argument, NULL, OPT_ENTRIES_ONLY},
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"accounts", required_argument, NULL, OPT_ACCOUNTS},
        {"regions", required_argument, NULL, OPT_REGIONS},
        {"tag", required_argument, NULL, OPT_TAG},
        {"domain", required_argument, NULL, OPT_DOMAIN},
        {"baseline", required_argument, NULL, OPT_BASELINE},
        {"what-if", required_argument, NULL, OPT_WHAT_IF},
        CLI_SOURCE_LONGOPTS,
        {NULL, 0, NULL, 0}};
    audit_args a;
    memset(&a, 0, sizeof a);
    cli_sources_init(&a.src);
    cli_sources_init(&a.base_src);
    a.fail_on = -1;
    int exit_code = CLI_OK;
    int c;
    optind = 1;
    while (exit_code == CLI_OK && (c = getopt_long(argc, argv, "ho:e:", opts, NULL)) != -1) {
        int used = cli_source_option(VERB, &a.src, c, optarg);
        if (used < 0) {
            exit_code = CLI_USAGE;
            break;
        }
        if (used > 0) {
            /* the reading options apply to the baseline too; its sources
             * are the --baseline ones */
            if (c != 'e' && c != OPT_SRC_SHM)
                cli_source_option(VERB, &a.base_src, c, optarg);
            continue;
        }
        switch (c) {
        case 'h':
            usage(stdout);
            return CLI_OK;
        case OPT_FORMAT:
            if (cli_parse_format(VERB, optarg,
                                 1u << CS_REPORT_TEXT | 1u << CS_REPORT_JSON | 1u << CS_REPORT_NDJSON |
                                     1u << CS_REPORT_CSV | 1u << CS_REPORT_HTML,
                                 &a.fmt))
                exit_code = CLI_USAGE;
            a.fmt_given = true;
            break;
        case 'o': a.output = optarg; break;
        case OPT_FAIL_ON:
            if (strcmp(optarg, "critical") == 0)
                a.fail_on = CS_SEV_CRITICAL;
            else if (strcmp(optarg, "high") == 0)
                a.fail_on = CS_SEV_HIGH;
            else if (strcmp(optarg, "any") == 0)
                a.fail_on = CS_SEV_MEDIUM; /* raised to INFO by --include-default */
            else {
                cli_errorf(VERB, "unknown --fail-on '%s' (expected critical|high|any)", optarg);
                exit_code = CLI_USAGE;
            }
            break;
        case OPT_INCLUDE_DEFAULT: a.flags |= CS_AUDIT_INCLUDE_DEFAULT; break;
        case OPT_ALL_PAIRS: a.flags |= CS_AUDIT_ALL_PAIRS; break;
        case OPT_ENTRIES_ONLY: a.flags |= CS_AUDIT_ENTRY_LEVEL; break;
        case OPT_LIMIT: {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (errno || *end || optarg[0] == '-' || !optarg[0]) {
                cli_errorf(VERB, "--limit expects a number, got '%s'", optarg);
                exit_code = CLI_USAGE;
            }
            a.limit = v;
            a.limit_given = true;
            break;
        }
        case OPT_ACCOUNTS:
            if (strlist_split(&a.accounts, optarg))
                exit_code = CLI_INTERNAL;
            break;
        case OPT_REGIONS:
            if (strlist_split(&a.regions, optarg))
                exit_code = CLI_INTERNAL;
            break;
        case OPT_TAG:
            if (!strchr(optarg, '=') || optarg[0] == '=') {
                cli_errorf(VERB, "--tag expects KEY=VALUE, got '%s'", optarg);
                exit_code = CLI_USAGE;
            } else if (strlist_add(&a.tag_kv, optarg, strlen(optarg))) {
                exit_code = CLI_INTERNAL;
            }
            break;
        case OPT_DOMAIN:
            if (strlist_add(&a.domains, optarg, strlen(optarg)))
                exit_code = CLI_INTERNAL;
            break;
        case OPT_BASELINE:
            if (cli_source_add(VERB, &a.base_src, optarg))
                exit_code = CLI_USAGE;
            a.baseline = true;
            break;
        case OPT_WHAT_IF:
            if (strlist_add(&a.what_if, optarg, strlen(optarg)))
                exit_code = CLI_INTERNAL;
            break;
        default:
            usage(stderr);
            exit_code = CLI_USAGE;
        }
    }
    for (int i = optind; exit_code == CLI_OK && i < argc; i++)
        if (cli_source_add(VERB, &a.src, argv[i]))
            exit_code = CLI_USAGE;
    if (exit_code == CLI_OK && a.src.n_paths == 0 && !a.src.shm) {
        usage(stderr);
        exit_code = CLI_USAGE;
    }
    if (exit_code == CLI_OK && a.baseline && a.what_if.n) {
        cli_errorf(VERB, "give --baseline or --what-if, not both");
        exit_code = CLI_USAGE;
    }
    if (exit_code == CLI_OK && (a.flags & CS_AUDIT_ENTRY_LEVEL) &&
        (a.domains.n || a.baseline || a.what_if.n || a.fail_on >= 0)) {
        cli_errorf(VERB, "--entries-only does no VPC-level work: it cannot take --domain, "
                         "--baseline, --what-if or --fail-on");
        exit_code = CLI_USAGE;
    }
    if (a.fail_on == CS_SEV_MEDIUM && (a.flags & CS_AUDIT_INCLUDE_DEFAULT))
        a.fail_on = CS_SEV_INFO;
    if (!a.fmt_given)
        a.fmt = isatty(STDOUT_FILENO) ? CS_REPORT_TEXT : CS_REPORT_JSON;
    if (!a.limit_given)
        a.limit = a.fmt == CS_REPORT_TEXT ? 50 : 0;

    bool progress = cli_progress_enabled();
    cli_estate est, base;
    memset(&est, 0, sizeof est);
    memset(&base, 0, sizeof base);
    cs_snapshot *planned = NULL;
    cs_audit_result *res = NULL, *bres = NULL;
    cs_audit_drift *drift = NULL;
    domset ds;
    memset(&ds, 0, sizeof ds);
    char *title = NULL, *btitle = NULL;
    FILE *out = NULL;
    double t0 = now_s();

    if (exit_code == CLI_OK)
        exit_code = cli_estate_open(VERB, &a.src, &est);
    if (exit_code == CLI_OK && a.baseline)
        exit_code = cli_estate_open(VERB, &a.base_src, &base);
    const cs_snapshot *snap = est.snap;
    if (exit_code == CLI_OK && a.what_if.n) {
        exit_code = build_plan(est.snap, &a.what_if, a.src.load.lenient, &planned);
        snap = planned;
    }
    if (exit_code == CLI_OK && a.domains.n) {
        ds.s = snap;
        for (size_t i = 0; i < a.domains.n && !ds.failed; i++) {
            ds.src = a.domains.v[i];
            ds.seen = false;
            if (cli_for_each_line(VERB, ds.src, domain_line, &ds) == -1 && !ds.failed)
                ds.failed = CLI_USAGE;
        }
        exit_code = ds.failed;
    }
    double t1 = now_s();
    if (exit_code == CLI_OK)
        exit_code = run_audit(snap, &a, &ds, &res);
    double t2 = now_s();
    if (exit_code == CLI_OK && (a.baseline || a.what_if.n)) {
        /* the baseline is audited with the same scope, without domains */
        const cs_snapshot *old = a.baseline ? base.snap : est.snap;
        exit_code = run_audit(old, &a, NULL, &bres);
        cs_error err;
        cs_error_clear(&err);
        if (exit_code == CLI_OK && cs_audit_diff(old, bres, snap, res, &drift, &err) < 0)
            exit_code = cli_report_error(VERB, &err);
    }
    if (exit_code == CLI_OK) {
        title = join_title(a.src.paths, a.src.n_paths, a.src.shm);
        btitle = a.baseline ? join_title(a.base_src.paths, a.base_src.n_paths, NULL) : NULL;
        out = a.output ? fopen(a.output, "w") : stdout;
        if (!out) {
            cli_errorf(VERB, "%s: %s", a.output, strerror(errno));
            exit_code = CLI_USAGE;
        }
    }
    if (exit_code == CLI_OK) {
        cs_audit_report_options ro = {.format = a.fmt,
                                      .limit = a.limit,
                                      .title = title,
                                      .baseline_snap = drift ? (a.baseline ? base.snap : est.snap)
                                                             : NULL,
                                      .baseline = drift ? bres : NULL,
                                      .drift = drift,
                                      .baseline_title = a.what_if.n ? "the estate as it is"
                                                                    : btitle,
                                      .what_if = a.what_if.n > 0};
        cs_error err;
        cs_error_clear(&err);
        if (cs_audit_report_write(out, snap, res, &ro, &err) < 0)
            exit_code = cli_report_error(VERB, &err);
        if (out != stdout && fclose(out) != 0 && exit_code == CLI_OK) {
            cli_errorf(VERB, "%s: %s", a.output, strerror(errno));
            exit_code = CLI_INTERNAL;
        }
        if (progress)
            fprintf(stderr, "cidrscope audit: opened in %.3f s, audited in %.3f s, report in "
                            "%.3f s\n",
                    t1 - t0, t2 - t1, now_s() - t2);
        if (exit_code == CLI_OK && fails(&a, res, drift))
            exit_code = CLI_FINDINGS;
    }
    free(title);
    free(btitle);
    cs_audit_drift_free(drift);
    cs_audit_free(res);
    cs_audit_free(bres);
    cs_snapshot_close(planned);
    domset_free(&ds);
    cli_estate_close(&base);
    cli_estate_close(&est);
    strlist_free(&a.accounts);
    strlist_free(&a.regions);
    strlist_free(&a.tag_kv);
    strlist_free(&a.domains);
    strlist_free(&a.what_if);
    return exit_code;
}
