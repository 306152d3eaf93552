/*
 * cli/cmd_audit.c — `cidrscope audit SOURCE...`: the org-wide overlap audit
 * (include/cidrscope/audit.h) with scopes, domains, drift against a
 * baseline and what-if planned blocks, written as text, JSON, NDJSON, CSV or
 * HTML, with --fail-on for CI gates.
 *
 * WHAT-IF. Planned rows (account,region,vpc_id,cidr) are audited "as if
 * they existed": the estate (any source) is thawed into a builder
 * (cs_estate_thaw), the plan's rows added (cs_plan_load, cs_plan_add_row),
 * and the result frozen and audited; every rule of the builder applies to
 * planned rows as to real ones. The report is the audit of the planned
 * estate plus a "what-if" section: the drift from the estate as it is; with
 * --fail-on the exit status looks only at that.
 *
 * DOMAIN FILES (--domain FILE) are read by cs_domain_set_load (the format
 * and its errors are in include/cidrscope/audit.h). This file holds only
 * option parsing and the calls.
 *
 * Exit: 0 ok, 1 --fail-on found something, 2 bad input, 3 internal error.
 */
#include "cli.h"
#include "ipam_opts.h"
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
        "                         otherwise), ndjson, csv (one row per finding),\n"
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
        "      (with --shm NAME, the active reservations of the service's ledger are\n"
        "      planned blocks too, as VPCs vpc-1ed9e4<seq> of account 000000000000)\n"
        "\n"
        "estate:\n" CLI_SOURCE_HELP
        "\nExit: 0 done, 1 --fail-on found a finding of its level or worse\n"
        "(rejected input and incomplete pages count as high), 2 usage, bad input\n"
        "or a scope that matches nothing, 3 internal error.\n");
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

/* ---- what-if and domains: the library's plan and domain readers -------------------- */

/* Builds the planned estate: `base` thawed, plus every --what-if row or
 * file (a readable path is a file, anything else a row). */
static int build_plan(const cs_snapshot *base, const strlist *what_if, bool lenient,
                      cs_snapshot **out)
{
    cs_error err;
    cs_error_clear(&err);
    cs_estate *e = cs_estate_new();
    if (!e) {
        cli_errorf(VERB, "out of memory");
        return CLI_INTERNAL;
    }
    unsigned pf = lenient ? CS_PARSE_LENIENT : 0;
    int rc = cs_estate_thaw(base, e, &err);
    for (size_t i = 0; i < what_if->n && rc >= 0; i++) {
        const char *w = what_if->v[i];
        cs_srcloc loc = {"--what-if", 1, 1};
        rc = access(w, R_OK) == 0 ? cs_plan_load(e, base, w, pf, &err)
                                  : cs_plan_add_row(e, base, w, strlen(w), pf, &loc, &err);
    }
    if (rc >= 0)
        rc = cs_estate_freeze_consume(e, out, &err);
    cs_estate_free(e);
    return rc < 0 ? cli_report_error(VERB, &err) : CLI_OK;
}

static int load_domains(const cs_snapshot *s, const strlist *files, cs_domain_set **out)
{
    cs_error err;
    cs_error_clear(&err);
    *out = cs_domain_set_new();
    if (!*out) {
        cli_errorf(VERB, "out of memory");
        return CLI_INTERNAL;
    }
    for (size_t i = 0; i < files->n; i++)
        if (cs_domain_set_load(*out, s, files->v[i], &err) < 0)
            return cli_report_error(VERB, &err);
    return CLI_OK;
}

/* ---- the verb ------------------------------------------------------------------------- */

static int add_what_if(void *ctx, const char *row, size_t len)
{
    return strlist_add(ctx, row, len);
}

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

static int run_audit(const cs_snapshot *s, const audit_args *a, cs_domain_set *ds,
                     unsigned extra_flags, cs_audit_result **out)
{
    const cs_audit_domain *doms = NULL;
    size_t n_doms = 0;
    cs_audit_tag *tags = calloc(a->tag_kv.n + 1, sizeof *tags);
    if (!tags || (ds && cs_domain_set_domains(ds, &doms, &n_doms) < 0)) {
        free(tags);
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
    cs_audit_options o = {.flags = a->flags | extra_flags,
                          .accounts = (const char *const *)a->accounts.v,
                          .account_count = a->accounts.n,
                          .regions = (const char *const *)a->regions.v,
                          .region_count = a->regions.n,
                          .tags = tags,
                          .tag_count = a->tag_kv.n,
                          .domains = doms,
                          .domain_count = n_doms};
    cs_error err;
    cs_error_clear(&err);
    int rc = cs_audit_run(s, &o, out, &err);
    /* restore the KEY=VALUE strings for a second run */
    for (size_t i = 0; i < a->tag_kv.n; i++)
        a->tag_kv.v[i][strlen(a->tag_kv.v[i])] = '=';
    free(tags);
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
    cs_domain_set *ds = NULL;
    char *title = NULL, *btitle = NULL;
    FILE *out = NULL;
    double t0 = now_s();

    /* --shm: the active reservations of the service's ledger are planned
     * blocks, as with --what-if (cli/ipam_opts.c, cli_ledger_rows) */
    if (exit_code == CLI_OK && a.src.shm && !a.baseline)
        exit_code = cli_ledger_rows(VERB, a.src.shm, add_what_if, &a.what_if);
    if (exit_code == CLI_OK)
        exit_code = cli_estate_open(VERB, &a.src, &est);
    if (exit_code == CLI_OK && a.baseline)
        exit_code = cli_estate_open(VERB, &a.base_src, &base);
    const cs_snapshot *snap = est.snap;
    if (exit_code == CLI_OK && a.what_if.n) {
        exit_code = build_plan(est.snap, &a.what_if, a.src.load.lenient, &planned);
        snap = planned;
    }
    if (exit_code == CLI_OK && a.domains.n)
        exit_code = load_domains(snap, &a.domains, &ds);
    double t1 = now_s();
    if (exit_code == CLI_OK)
        exit_code = run_audit(snap, &a, ds, 0, &res);
    double t2 = now_s();
    if (exit_code == CLI_OK && (a.baseline || a.what_if.n)) {
        /* the baseline is audited with the same scope, without domains; a
         * scope value new since the baseline (checked on the estate above)
         * may match nothing there */
        const cs_snapshot *old = a.baseline ? base.snap : est.snap;
        exit_code = run_audit(old, &a, NULL, CS_AUDIT_EMPTY_SCOPE_OK, &bres);
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
        /* input that did not make it in whole (rejected records and files,
         * pages naming a NextToken) counts as a high finding */
        cs_estate_stats st;
        bool gaps = cs_estate_stats_get(est.snap, &st) == 0 &&
                    (st.rejected_records || st.rejected_files || st.incomplete_pages);
        cs_estate_stats_free(&st);
        if (exit_code == CLI_OK &&
            (fails(&a, res, drift) || (a.fail_on >= CS_SEV_HIGH && gaps)))
            exit_code = CLI_FINDINGS;
    }
    free(title);
    free(btitle);
    cs_audit_drift_free(drift);
    cs_audit_free(res);
    cs_audit_free(bres);
    cs_snapshot_close(planned);
    cs_domain_set_free(ds);
    cli_estate_close(&base);
    cli_estate_close(&est);
    strlist_free(&a.accounts);
    strlist_free(&a.regions);
    strlist_free(&a.tag_kv);
    strlist_free(&a.domains);
    strlist_free(&a.what_if);
    return exit_code;
}
