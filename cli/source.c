/*
 * cli/source.c — opening a verb's sources as one frozen snapshot (see
 * source.h).
 */
#include "source.h"
#include "progress.h"

#include "shm_source.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void cli_sources_init(cli_sources *s)
{
    memset(s, 0, sizeof *s);
    s->load.progress = cli_progress_load; /* prints only when enabled */
}

/* The command line as given, and the --source-region / --source-account in
 * force at each argument (NULL: none yet). */
static struct {
    const char **argv; /* a copy of the pointers: getopt permutes argv */
    int argc;
    const char **region;
    const char **account;
} given;

/* The value of option `name` at argv[*i] ("--name V" or "--name=V"), moving
 * *i past a separate value; NULL when argv[*i] is not that option. */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] == '\0' && *i + 1 < argc)
        return argv[++*i];
    return NULL;
}

void cli_sources_scan_argv(int argc, char **argv)
{
    given.argc = argc;
    given.argv = calloc((size_t)argc + 1, sizeof *given.argv);
    given.region = calloc((size_t)argc + 1, sizeof *given.region);
    given.account = calloc((size_t)argc + 1, sizeof *given.account);
    if (!given.argv || !given.region || !given.account) {
        free(given.argv);
        free(given.region);
        free(given.account);
        given.argv = NULL;
        given.region = given.account = NULL;
        return; /* then every source gets the last value, as getopt leaves it */
    }
    for (int i = 0; i < argc; i++)
        given.argv[i] = argv[i];
    const char *region = NULL, *account = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            for (int k = i; k < argc; k++) {
                given.region[k] = region;
                given.account[k] = account;
            }
            break;
        }
        const char *v;
        if ((v = opt_value(argc, argv, &i, "--source-region")) != NULL) {
            region = v;
            continue;
        }
        if ((v = opt_value(argc, argv, &i, "--source-account")) != NULL) {
            account = v;
            continue;
        }
        given.region[i] = region;
        given.account[i] = account;
    }
}

int cli_source_add(const char *verb, cli_sources *s, const char *path)
{
    if (s->n_paths >= CLI_MAX_SOURCES) {
        cli_errorf(verb, "too many sources (at most %d)", CLI_MAX_SOURCES);
        return -1;
    }
    cs_source *src = &s->src[s->n_paths];
    src->path = path;
    /* The options written before this argument (getopt permutes the
     * pointers, never the strings, so the pointer finds its position). */
    src->region = s->load.region;
    src->account = s->load.account;
    for (int i = 1; given.region && i < given.argc; i++)
        if (given.argv[i] == path) {
            src->region = given.region[i];
            src->account = given.account[i];
            break;
        }
    s->paths[s->n_paths++] = path;
    return 0;
}

int cli_source_option(const char *verb, cli_sources *s, int code, const char *arg)
{
    switch (code) {
    case 'e': return cli_source_add(verb, s, arg) ? -1 : 1;
    case OPT_SRC_SHM: s->shm = arg; return 1;
    case OPT_SRC_LENIENT: s->load.lenient = true; return 1;
    case OPT_SRC_KEEP_GOING: s->load.keep_going = true; return 1;
    case OPT_SRC_REGION: s->load.region = arg; return 1;
    case OPT_SRC_ACCOUNT: s->load.account = arg; return 1;
    case OPT_SRC_NO_VERIFY: s->no_verify = true; return 1;
    case OPT_SRC_OWNER: s->shm_owner = arg; return 1;
    case OPT_SRC_REGION_REFUSED:
    case OPT_SRC_ACCOUNT_REFUSED: {
        bool r = code == OPT_SRC_REGION_REFUSED;
        cli_errorf(verb,
                   "--%s is a filter, and %s has nothing to filter: to give "
                   "the sources that follow %s %s, write --source-%s %s "
                   "before them",
                   r ? "region" : "account", verb, r ? "a" : "an",
                   r ? "region" : "account", r ? "region" : "account",
                   arg ? arg : "");
        return -1;
    }
    default: return 0;
    }
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Prints the rejected records of a keep-going load (the first 20, then a
 * count), so nothing is skipped silently. */
static void print_rejections(const char *verb, const cs_estate *e, uint32_t rejected)
{
    cs_estate_counts c;
    cs_estate_build_counts(e, &c);
    uint32_t shown = 0;
    for (uint32_t i = 0; i < c.findings && shown < 20; i++) {
        cs_finding f;
        if (cs_estate_build_finding(e, i, &f) != 0 || strcmp(f.kind, CS_FINDING_REJECTED) != 0)
            continue;
        if (f.source && f.source[0] && f.line)
            fprintf(stderr, "cidrscope %s: rejected: %s:%llu:%u: %s\n", verb, f.source,
                    (unsigned long long)f.line, f.column, f.message);
        else
            fprintf(stderr, "cidrscope %s: rejected: %s\n", verb, f.message);
        shown++;
    }
    fprintf(stderr, "cidrscope %s: %u record(s) rejected (--keep-going); `cidrscope stat` lists them all\n",
            verb, rejected);
}

int cli_estate_open(const char *verb, const cli_sources *s, cli_estate *out)
{
    memset(out, 0, sizeof *out);
    cs_error err;
    cs_error_clear(&err);
    if (s->shm) {
        if (s->n_paths) {
            cli_errorf(verb, "give either --shm or sources, not both");
            return CLI_USAGE;
        }
        /* a generation's checksums are verified when it is first mapped */
        cli_shm_handle *h = NULL;
        int code = cli_shm_open(verb, s->shm, s->shm_owner, &h, &out->snap);
        out->shm = h;
        return code;
    }
    if (s->n_paths == 0) {
        cli_errorf(verb, "no estate given (use -e SOURCE or --shm NAME; see --help)");
        return CLI_USAGE;
    }
    /* A snapshot file is opened in place; it cannot be mixed with sources
     * that would need a rebuild. */
    int n_snap = 0;
    for (int i = 0; i < s->n_paths; i++) {
        if (strcmp(s->paths[i], "-") == 0)
            continue; /* standard input: read once, by the loader */
        int kind = cs_estate_detect(s->paths[i], &err);
        if (kind < 0) {
            /* a source the user named that cannot be read is bad input */
            cli_report_error(verb, &err);
            return CLI_USAGE;
        }
        n_snap += kind == CS_SRC_SNAPSHOT;
    }
    if (n_snap) {
        if (s->n_paths != 1) {
            cli_errorf(verb, "a snapshot file must be the only source (build one snapshot from all sources with `cidrscope build`)");
            return CLI_USAGE;
        }
        cs_snapshot *snap = NULL;
        if (cs_snapshot_open(s->paths[0], s->no_verify ? CS_OPEN_NO_VERIFY : 0, &snap, &err) < 0)
            return cli_report_error(verb, &err);
        out->snap = out->owned = snap;
        return CLI_OK;
    }
    cs_estate *e = cs_estate_new();
    if (!e) {
        cli_errorf(verb, "out of memory");
        return CLI_INTERNAL;
    }
    bool progress = cli_progress_enabled();
    double t0 = now_s();
    cli_progress_begin(verb);
    /* Each source carries the region and account written before it; the
     * last value getopt left in s->load applies to none of the others. */
    cs_load_options lo = s->load;
    lo.region = lo.account = NULL;
    /* An estate directory's files are parsed on every CPU, up to 4: the
     * estate, errors and findings are the same as on one. */
    if (!lo.threads) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        lo.threads = cpus > 4 ? 4 : cpus > 1 ? (unsigned)cpus : 1;
    }
    /* One source read from a pipe may be a snapshot: read into memory. */
    cs_snapshot *streamed = NULL;
    if (s->n_paths == 1)
        lo.snapshot = &streamed;
    int rc = cs_estate_load_sources(e, s->src, (size_t)s->n_paths, &lo, &err);
    if (streamed) {
        cli_progress_end();
        cs_estate_free(e);
        out->snap = out->owned = streamed;
        return CLI_OK;
    }
    uint32_t rejected = rc > 0 ? (uint32_t)rc : 0;
    cli_progress_end();
    if (rc < 0) {
        int code = cli_report_error(verb, &err);
        cs_estate_free(e);
        return code;
    }
    if (rejected)
        print_rejections(verb, e, rejected);
    cs_snapshot *snap = NULL;
    rc = cs_estate_freeze(e, &snap, &err);
    cs_estate_free(e);
    if (rc < 0)
        return cli_report_error(verb, &err);
    if (progress)
        fprintf(stderr, "cidrscope %s: estate read and frozen in %.2f s\n", verb, now_s() - t0);
    out->snap = out->owned = snap;
    out->rejected = rejected;
    return CLI_OK;
}

void cli_estate_idle(cli_estate *e)
{
    if (e->shm) {
        cli_shm_unpin(e->shm);
        e->snap = NULL;
    }
}

int cli_estate_resume(const char *verb, cli_estate *e)
{
    if (!e->shm || e->snap)
        return CLI_OK;
    return cli_shm_repin(verb, e->shm, &e->snap);
}

void cli_estate_close(cli_estate *e)
{
    if (!e)
        return;
    cli_shm_close(e->shm);
    cs_snapshot_close(e->owned);
    memset(e, 0, sizeof *e);
}
