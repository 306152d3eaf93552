/*
 * cli/cmd_serve.c — `cidrscope serve NAME SOURCE...` and `cidrscope publish
 * NAME SOURCE...`: an estate as a shared-memory service (cidrscope/shm.h).
 *
 * serve: loads the sources into one image (cli_estate_open: a snapshot file
 * is read into memory and validated, never mapped; estate sources are read
 * and frozen), and only then creates or opens the service, taking its
 * serving role, and publishes the image as the next generation — bad input
 * leaves nothing in /dev/shm. Then, every --interval seconds, it scans the
 * sources (path, inode, size and modification time of every file,
 * directories walked, dot files skipped) and publishes again once a change
 * is COMPLETE: every changed file was renamed into place (a new inode) or
 * has not been modified for --settle seconds, and every text file ends with
 * a complete record (a final newline, or '}' / ']' for JSON). The same rule
 * holds for the first load: serve waits until its sources are complete.
 * A load that fails is reported and the current generation keeps serving;
 * the same broken state is not retried until the sources change again. A
 * generation that would lose more than --max-shrink percent of the VPCs
 * served is refused (visible in `stat --shm`) until SIGHUP, which publishes
 * it anyway. At every check it also reclaims generations that readers have
 * let go of. SIGTERM and SIGINT stop it after the current step, leaving the
 * last generation published (a crash leaves it too) unless
 * --unlink-on-exit; SIGHUP reloads now (and confirms a refused shrink).
 *
 * publish: loads and publishes once, into a running service or a stopped
 * one (creating it when it does not exist); --force confirms a shrink.
 *
 * Tests: tests/test_shm.c (shm__cli_serve_and_publish), tests/cli/test_shm.sh,
 * tests/security/.
 */
#include "cli.h"
#include "serve_ledger.h"
#include "source.h"
#include "verbs.h"

#include <cidrscope/estate.h>
#include <cidrscope/shm.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_DEPTH 16

typedef struct serve_opts {
    cs_shm_options shm;
    cli_sources src;      /* the sources and --lenient, --keep-going, ... */
    double interval;      /* seconds between source checks; 0 = never */
    double settle;        /* --settle: seconds a changed file must rest */
    bool unlink_on_exit;
    bool force;           /* publish --force */
} serve_opts;

/* ---- watching ------------------------------------------------------------- */

/* One file of a scan. */
typedef struct src_file {
    uint64_t path_hash;
    uint64_t ino;
    int64_t mtime_ns;
    bool complete;        /* ends with a complete record */
} src_file;

/* A scan of the sources: every file, in walk order, and their fingerprint. */
typedef struct src_scan {
    src_file *f;
    size_t n, cap;
    uint64_t fp;
} src_scan;

static uint64_t mix(uint64_t h, uint64_t x)
{
    h ^= x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h * 0xbf58476d1ce4e5b9ull;
}

static uint64_t mix_str(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = mix(h, (unsigned char)*s);
    return mix(h, 0);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A text source is complete when its last byte ends a record: a newline,
 * or the closing '}' / ']' of JSON. A snapshot file is checked whole when
 * it is opened (its size must equal its image's). */
static bool file_complete(const char *path, const struct stat *st)
{
    if (st->st_size == 0)
        return false;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return false;
    char head[8] = {0}, last = 0;
    bool ok = pread(fd, head, sizeof head, 0) > 0 && pread(fd, &last, 1, st->st_size - 1) == 1;
    close(fd);
    if (!ok)
        return false;
    if (memcmp(head, "CIDRSCP", 7) == 0)
        return true;
    return last == '\n' || last == '}' || last == ']';
}

static void scan_add(src_scan *sc, const src_file *f)
{
    if (sc->n == sc->cap) {
        size_t cap = sc->cap ? sc->cap * 2 : 64;
        src_file *nf = realloc(sc->f, cap * sizeof *nf);
        if (!nf) {
            sc->fp = mix(sc->fp, 0xe0e0); /* unknown: never "settled" */
            return;
        }
        sc->f = nf;
        sc->cap = cap;
    }
    sc->f[sc->n++] = *f;
}

/* Folds path (and, for a directory, everything below it, in name order)
 * into the scan: a change of any file's size, time, inode or presence
 * changes the fingerprint. */
static void scan_path(src_scan *sc, const char *path, int depth)
{
    struct stat st;
    uint64_t ph = mix_str(0x5eed, path);
    sc->fp = mix(sc->fp, ph);
    if (stat(path, &st) != 0) {
        sc->fp = mix(sc->fp, 0xdead0000u + (unsigned)errno);
        return;
    }
    sc->fp = mix(sc->fp, (uint64_t)st.st_size);
    sc->fp = mix(sc->fp, (uint64_t)st.st_mtim.tv_sec);
    sc->fp = mix(sc->fp, (uint64_t)st.st_mtim.tv_nsec);
    sc->fp = mix(sc->fp, (uint64_t)st.st_ino);
    sc->fp = mix(sc->fp, (uint64_t)st.st_mode);
    if (!S_ISDIR(st.st_mode)) {
        src_file f = {ph, (uint64_t)st.st_ino,
                      (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec,
                      S_ISREG(st.st_mode) ? file_complete(path, &st) : true};
        scan_add(sc, &f);
        return;
    }
    if (depth >= MAX_DEPTH)
        return;
    DIR *d = opendir(path);
    if (!d) {
        sc->fp = mix(sc->fp, 0xd1e0000u + (unsigned)errno);
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue; /* ".", "..", editors' swap and temporary files */
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn)
                break;
            names = nn;
        }
        size_t pl = strlen(path), nl = strlen(de->d_name);
        char *full = malloc(pl + nl + 2);
        if (!full)
            break;
        memcpy(full, path, pl);
        full[pl] = '/';
        memcpy(full + pl + 1, de->d_name, nl + 1);
        names[n++] = full;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n; i++) {
        scan_path(sc, names[i], depth + 1);
        free(names[i]);
    }
    free(names);
}

static void scan_sources(src_scan *sc, const char *const *paths, int n)
{
    sc->n = 0;
    sc->fp = 0x5eed;
    for (int i = 0; i < n; i++)
        scan_path(sc, paths[i], 0);
}

/*
 * The completeness rule (top of the file): every file ends with a complete
 * record, and each was renamed into place since `prev` (a new inode at the
 * same path) or has not been modified for `settle` seconds. Returns NULL
 * when complete, else what is still awaited.
 */
static const char *scan_incomplete(const src_scan *sc, const src_scan *prev, double settle)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    for (size_t i = 0; i < sc->n; i++) {
        const src_file *f = &sc->f[i];
        if (!f->complete)
            return "a source does not end with a complete record";
        bool renamed = false;
        for (size_t j = 0; prev && j < prev->n; j++)
            if (prev->f[j].path_hash == f->path_hash) {
                renamed = prev->f[j].ino != f->ino;
                break;
            }
        if (!renamed && (double)(now_ns - f->mtime_ns) < settle * 1e9)
            return "a source was modified less than --settle seconds ago";
    }
    return NULL;
}

/* ---- publishing ----------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Publishes an opened estate; prints one line saying what is now served.
 * *refused (may be NULL) tells a refusal of the shrink guard. */
static int publish_image(const char *verb, const char *name, cs_shm_publisher *p,
                         const cs_snapshot *s, unsigned flags, double load_ms, bool *refused)
{
    double t1 = now_s();
    cs_error err;
    cs_error_clear(&err);
    uint64_t gen = 0;
    int rc = cs_shm_publish_with(p, s, flags, &gen, &err);
    if (refused)
        *refused = rc == CS_ERANGE;
    if (rc < 0)
        return cli_report_error(verb, &err);
    cs_snapshot_info info;
    cs_snapshot_get_info(s, &info);
    printf("%s: generation %llu published: %u IPv4 + %u IPv6 entries, %llu bytes "
           "(loaded in %.1f ms, published in %.1f ms)\n",
           name, (unsigned long long)gen, info.entries[0], info.entries[1],
           (unsigned long long)info.image_len, load_ms, (now_s() - t1) * 1e3);
    fflush(stdout);
    return CLI_OK;
}

static int load_and_publish(const char *verb, const char *name, cs_shm_publisher *p,
                            const serve_opts *o, unsigned flags)
{
    double t0 = now_s();
    cli_estate est;
    int code = cli_estate_open(verb, &o->src, &est);
    if (code != CLI_OK)
        return code;
    code = publish_image(verb, name, p, est.snap, flags, (now_s() - t0) * 1e3, NULL);
    cli_estate_close(&est);
    return code;
}

static int parse_common(const char *verb, int c, const char *arg, serve_opts *o)
{
    int used = cli_source_option(verb, &o->src, c, arg);
    if (used)
        return used < 0 ? -1 : 0;
    switch (c) {
    case 'm':
        return cli_parse_mode(verb, arg, &o->shm.mode);
    case 'r': {
        long r = cli_parse_count(arg, 1, CS_SHM_MAX_READERS);
        if (r < 0) {
            cli_errorf(verb, "--readers '%s': expected 1 to %u", arg, CS_SHM_MAX_READERS);
            return -1;
        }
        o->shm.readers = (uint32_t)r;
        return 0;
    }
    case 'S': {
        long r = cli_parse_count(arg, 0, 100);
        if (r < 0) {
            cli_errorf(verb, "--max-shrink '%s': expected a percentage, 0 (no guard) to 100", arg);
            return -1;
        }
        o->shm.max_shrink = (uint32_t)r;
        return 0;
    }
    case 'R':
        o->shm.flags |= CS_SHM_REUSE;
        return 0;
    default: return -1;
    }
}

#define COMMON_LONGOPTS                                                     \
    {"help", no_argument, NULL, 'h'}, {"mode", required_argument, NULL, 'm'}, \
    {"readers", required_argument, NULL, 'r'},                              \
    {"max-shrink", required_argument, NULL, 'S'},                           \
    {"reuse", no_argument, NULL, 'R'},                                      \
    {"no-verify", no_argument, NULL, OPT_SRC_NO_VERIFY},                    \
    {"lenient", no_argument, NULL, OPT_SRC_LENIENT},                        \
    {"keep-going", no_argument, NULL, OPT_SRC_KEEP_GOING},                  \
    {"source-region", required_argument, NULL, OPT_SRC_REGION},             \
    {"source-account", required_argument, NULL, OPT_SRC_ACCOUNT}

#define COMMON_HELP                                                                       \
    "SOURCE is one snapshot file (cidrscope build -o FILE), or estate sources\n"        \
    "read into one estate: directories (ACCOUNT/REGION/vpcs.json, peering.json),\n"     \
    "AWS CLI describe-vpcs / describe-vpc-peering-connections JSON, CSV, and\n"         \
    "prefix lists (owner,prefix or provider,family,prefix). Sources are read\n"        \
    "into memory and validated before anything is published.\n\n"                      \
    "  --mode MODE       who may read (octal; 0600). Segments are never writable\n"   \
    "                    by anyone but you: 0640 lets your group read (and pin);\n"    \
    "                    see SECURITY.md\n"                                            \
    "  --readers N       reader slots when it creates the service (126)\n"              \
    "  --max-shrink PCT  refuse a generation with more than PCT%% fewer VPCs than\n"   \
    "                    the one served (default 10; 0: no guard)\n"                  \
    "  --reuse           keep the two newest retired images and write a new\n"         \
    "                    generation into the older one's memory when no reader\n"     \
    "                    holds it (2-3x less CPU per publish; two more images in\n"   \
    "                    /dev/shm; only with a --mode others cannot read)\n"          \
    "  --no-verify       skip the snapshot file's checksums (bounds still checked)\n"  \
    "  --lenient         clear host bits (recorded as findings) instead of failing\n"  \
    "  --keep-going      report bad records and files, serve the rest\n"              \
    "  --source-region R region of single describe-vpcs files (they carry none)\n"     \
    "  --source-account A account of sources that carry none\n"

static void serve_usage(FILE *f)
{
    fprintf(f,
            "usage: cidrscope serve NAME SOURCE... [options]\n\n"
            "Publishes SOURCE... as the shared-memory service NAME (segments\n"
            "/dev/shm/NAME, NAME@readers.* and NAME@<generation>.*) and keeps it\n"
            "current: every --interval seconds it checks the sources and publishes\n"
            "a new generation once a change is complete: each changed file was\n"
            "renamed into place, or has not changed for --settle seconds, and ends\n"
            "with a complete record (a final newline; '}' or ']' for JSON).\n"
            "Readers attach with --shm NAME (query, lookup, check, audit, stat) and\n"
            "are never blocked by a publish. A source that fails to load is\n"
            "reported; the current generation keeps serving. A generation losing\n"
            "more than --max-shrink percent of the VPCs is refused until SIGHUP.\n"
            "SIGTERM or SIGINT stops it and the last generation stays published (as\n"
            "after a crash) unless --unlink-on-exit; SIGHUP reloads now.\n"
            "Only one serve per NAME runs at a time.\n\n"
            COMMON_HELP
            "  --interval SEC    seconds between source checks (default 2; 0: never)\n"
            "  --settle SEC      seconds a changed source must rest (default 2)\n"
            "  --unlink-on-exit  remove every segment of NAME when stopping\n"
            "  --ledger FILE     keep the reservation ledger of `alloc --shm NAME\n"
            "                    --commit`, journaled in FILE (replayed at start)\n"
            "\nExit: 0 stopped by a signal, 2 usage or bad input (nothing is left\n"
            "behind), 3 internal or system error.\n");
}

static void publish_usage(FILE *f)
{
    fprintf(f,
            "usage: cidrscope publish NAME SOURCE... [options]\n\n"
            "Publishes SOURCE... once as the next generation of the shared-memory\n"
            "service NAME, creating the service when it does not exist. Works whether\n"
            "`cidrscope serve NAME` runs or not (a running server publishes its own\n"
            "sources again when they change).\n\n"
            COMMON_HELP
            "  --force           publish even when --max-shrink would refuse\n"
            "\nExit: 0 published, 2 usage, bad input or a generation --max-shrink\n"
            "refuses (nothing is left behind), 3 internal or system error.\n");
}

static volatile sig_atomic_t g_stop, g_reload;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        g_reload = 1;
    else
        g_stop = 1;
}

/* Sleeps `sec` seconds or until a signal arrives. */
static void nap(double sec)
{
    struct timespec ts = {(time_t)sec, (long)((sec - (double)(time_t)sec) * 1e9)};
    nanosleep(&ts, NULL); /* EINTR on a signal: the caller looks at the flags */
}

static int open_publisher(const char *verb, const char *name, const serve_opts *o,
                          cs_shm_publisher **p)
{
    cs_error err;
    cs_error_clear(&err);
    int rc = cs_shm_publisher_open(name, &o->shm, p, &err);
    if (rc < 0)
        return cli_report_error(verb, &err);
    if (rc == 1)
        printf("%s: created the service\n", name);
    else
        printf("%s: opened the service at generation %llu\n", name,
               (unsigned long long)cs_shm_publisher_generation(*p));
    fflush(stdout);
    return CLI_OK;
}

static bool parse_seconds(const char *opt, const char *arg, double *out)
{
    char *end;
    double v = strtod(arg, &end);
    if (*end || end == arg || !(v >= 0 && v <= 86400)) {
        cli_errorf("serve", "%s '%s': expected seconds, 0 to 86400", opt, arg);
        return false;
    }
    *out = v;
    return true;
}

/* Collects NAME and SOURCE... Returns the name or NULL after usage. */
static const char *take_operands(const char *verb, int argc, char **argv, serve_opts *o)
{
    if (argc - optind < 2)
        return NULL;
    for (int i = optind + 1; i < argc; i++)
        if (cli_source_add(verb, &o->src, argv[i]))
            return NULL;
    return argv[optind];
}

/* The first load: waits until the sources are complete (or a signal). */
static int first_load(const char *name, serve_opts *o, src_scan *sc, cli_estate *est)
{
    const char *why;
    bool told = false;
    for (;;) {
        scan_sources(sc, o->src.paths, o->src.n_paths);
        why = scan_incomplete(sc, NULL, o->settle);
        if (!why || g_stop || g_reload)
            break;
        if (!told)
            fprintf(stderr, "cidrscope serve: %s: waiting: %s\n", name, why);
        told = true;
        nap(0.1);
    }
    if (g_stop)
        return CLI_OK;
    g_reload = 0;
    return cli_estate_open("serve", &o->src, est);
}

int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {COMMON_LONGOPTS,
                                         {"interval", required_argument, NULL, 'i'},
                                         {"settle", required_argument, NULL, 's'},
                                         {"unlink-on-exit", no_argument, NULL, 'u'},
                                         {"ledger", required_argument, NULL, 'L'},
                                         {NULL, 0, NULL, 0}};
    serve_opts o = {.interval = 2.0, .settle = 2.0, .shm.max_shrink = 10};
    cli_sources_init(&o.src);
    const char *ledger_path = NULL;
    cs_ledger *ledger = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            serve_usage(stdout);
            return CLI_OK;
        }
        if (c == 'i') {
            if (!parse_seconds("--interval", optarg, &o.interval))
                return CLI_USAGE;
        } else if (c == 's') {
            if (!parse_seconds("--settle", optarg, &o.settle))
                return CLI_USAGE;
        } else if (c == 'u') {
            o.unlink_on_exit = true;
        } else if (c == 'L') {
            ledger_path = optarg;
        } else if (c == '?' || parse_common("serve", c, optarg, &o) != 0) {
            serve_usage(stderr);
            return CLI_USAGE;
        }
    }
    const char *name = take_operands("serve", argc, argv, &o);
    if (!name) {
        serve_usage(stderr);
        return CLI_USAGE;
    }
    o.shm.flags |= CS_SHM_SERVE;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* no SA_RESTART: a signal cuts the nap short */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    /* Load and validate first: bad input never creates the service. */
    src_scan sc = {0}, seen = {0};
    cli_estate est;
    double t0 = now_s();
    int code = first_load(name, &o, &sc, &est);
    if (code != CLI_OK || g_stop) {
        free(sc.f);
        return code;
    }
    cs_shm_publisher *p = NULL;
    code = open_publisher("serve", name, &o, &p);
    bool refused = false;
    if (code == CLI_OK)
        code = publish_image("serve", name, p, est.snap, 0, (now_s() - t0) * 1e3, &refused);
    cli_estate_close(&est);
    uint64_t fp = sc.fp, failed_fp = 0;
    if (refused) {
        /* An existing service keeps its generation until SIGHUP. */
        fprintf(stderr, "cidrscope serve: %s: generation %llu keeps serving (SIGHUP publishes the sources anyway)\n",
                name, (unsigned long long)cs_shm_publisher_generation(p));
        failed_fp = sc.fp;
        code = CLI_OK;
    }
    if (code == CLI_OK && ledger_path)
        code = serve_ledger_open(name, ledger_path, &ledger);
    if (code != CLI_OK) {
        cs_shm_publisher_close(p);
        free(sc.f);
        return code;
    }
    if (o.interval > 0)
        printf("%s: serving; checking %d source%s every %g s\n", name, o.src.n_paths,
               o.src.n_paths == 1 ? "" : "s", o.interval);
    else
        printf("%s: serving; sources are not watched (SIGHUP reloads)\n", name);
    fflush(stdout);

    const char *waiting = NULL;
    while (!g_stop) {
        /* A change awaiting completeness is looked at again soon. */
        nap(waiting ? (o.interval > 0 && o.interval < 0.1 ? o.interval : 0.1)
                    : (o.interval > 0 ? o.interval : 1.0));
        if (g_stop)
            break;
        cs_error err;
        cs_error_clear(&err);
        if (cs_shm_reclaim(p, &err) < 0)
            cli_report_error("serve", &err);
        bool reload = g_reload;
        if (o.interval <= 0 && !reload)
            continue;
        /* keep the previous scan to see which files were renamed in */
        src_scan tmp = seen;
        seen = sc;
        sc = tmp;
        scan_sources(&sc, o.src.paths, o.src.n_paths);
        if (!reload && (sc.fp == fp || sc.fp == failed_fp)) {
            waiting = NULL;
            continue;
        }
        const char *why = reload ? NULL : scan_incomplete(&sc, &seen, o.settle);
        if (why) {
            if (waiting != why)
                fprintf(stderr, "cidrscope serve: %s: change seen, waiting: %s\n", name, why);
            waiting = why;
            /* compare with the scan before the change, so a rename seen
             * once still counts as a rename */
            tmp = seen;
            seen = sc;
            sc = tmp;
            continue;
        }
        waiting = NULL;
        g_reload = 0;
        if (load_and_publish("serve", name, p, &o, reload ? CS_SHM_FORCE : 0) == CLI_OK) {
            fp = sc.fp;
            failed_fp = 0;
            serve_ledger_sync(name, ledger);
        } else {
            failed_fp = sc.fp;
            fprintf(stderr, "cidrscope serve: %s: generation %llu keeps serving\n", name,
                    (unsigned long long)cs_shm_publisher_generation(p));
        }
    }
    free(sc.f);
    free(seen.f);

    code = CLI_OK;
    if (o.unlink_on_exit) {
        cs_error err;
        cs_error_clear(&err);
        if (cs_shm_unlink(p, &err) < 0)
            code = cli_report_error("serve", &err);
        else
            printf("%s: stopped; the service was removed\n", name);
    } else {
        printf("%s: stopped; generation %llu stays published\n", name,
               (unsigned long long)cs_shm_publisher_generation(p));
    }
    cs_shm_publisher_close(p);
    serve_ledger_close(name, ledger, o.unlink_on_exit);
    return code;
}

int cmd_publish(int argc, char **argv)
{
    static const struct option opts[] = {COMMON_LONGOPTS,
                                         {"force", no_argument, NULL, 'f'},
                                         {NULL, 0, NULL, 0}};
    serve_opts o = {.shm.max_shrink = 10};
    cli_sources_init(&o.src);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            publish_usage(stdout);
            return CLI_OK;
        }
        if (c == 'f') {
            o.force = true;
        } else if (c == '?' || parse_common("publish", c, optarg, &o) != 0) {
            publish_usage(stderr);
            return CLI_USAGE;
        }
    }
    const char *name = take_operands("publish", argc, argv, &o);
    if (!name) {
        publish_usage(stderr);
        return CLI_USAGE;
    }
    /* Load first: bad input never touches the service. */
    double t0 = now_s();
    cli_estate est;
    int code = cli_estate_open("publish", &o.src, &est);
    if (code != CLI_OK)
        return code;
    double load_ms = (now_s() - t0) * 1e3;
    cs_shm_publisher *p = NULL;
    code = open_publisher("publish", name, &o, &p);
    if (code == CLI_OK)
        code = publish_image("publish", name, p, est.snap, o.force ? CS_SHM_FORCE : 0, load_ms, NULL);
    cs_shm_publisher_close(p);
    cli_estate_close(&est);
    return code;
}
