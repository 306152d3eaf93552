/*
 * cli/cmd_serve.c — `cidrscope serve NAME SOURCE...` and `cidrscope publish
 * NAME SOURCE...`: an estate as a shared-memory service (cidrscope/shm.h).
 *
 * serve: loads the sources into one image and publishes it as the next
 * generation of NAME, taking the service's serving role (a second `serve
 * NAME` is refused while this one lives). Then, every --interval seconds, it
 * fingerprints the sources (path, inode, size and modification time of every
 * file, directories walked, dot files skipped) and, when the fingerprint
 * changed and then held still for SETTLE_MS, loads and publishes again. A
 * load that fails is reported and the current generation keeps serving; the
 * same broken state is not retried until the sources change again. At every
 * check it also reclaims generations that readers have let go of.
 * SIGTERM and SIGINT stop it after the current step, leaving the last
 * generation published (a crash leaves it too) unless --unlink-on-exit;
 * SIGHUP reloads now.
 *
 * publish: loads and publishes once, into a running service or a stopped
 * one (creating it when it does not exist).
 *
 * Sources: one snapshot file (`cidrscope build -o`), mapped and validated;
 * or estate sources (directories, AWS CLI JSON, CSV, prefix lists; told
 * apart by cs_estate_detect) read with cs_estate_load into one estate and
 * frozen with cs_estate_freeze, so the served image carries the estate's
 * tables (VPC ids, owners, names) like any other.
 *
 * Tests: tests/test_shm.c (shm__cli_serve_and_publish).
 */
#include "cli.h"
#include "serve_ledger.h"
#include "verbs.h"

#include <cidrscope/estate.h>
#include <cidrscope/shm.h>

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SETTLE_MS 250
#define MAX_DEPTH 16

typedef struct serve_opts {
    cs_shm_options shm;
    cs_load_options load; /* --lenient, --keep-going, --source-region/account */
    double interval;      /* seconds between source checks; 0 = never */
    bool unlink_on_exit;
    bool no_verify;
} serve_opts;

/* ---- loading -------------------------------------------------------------- */

/* Prints what a --keep-going load rejected (the first 20, then a count): a
 * served estate never drops records silently. */
static void print_rejections(const char *verb, const cs_estate *e, int rejected)
{
    cs_estate_counts c;
    cs_estate_build_counts(e, &c);
    int shown = 0;
    for (uint32_t i = 0; i < c.findings && shown < 20; i++) {
        cs_finding f;
        if (cs_estate_build_finding(e, i, &f) != 0 || strcmp(f.kind, CS_FINDING_REJECTED) != 0)
            continue;
        if (f.source[0] && f.line)
            fprintf(stderr, "cidrscope %s: rejected: %s:%llu:%u: %s\n", verb, f.source,
                    (unsigned long long)f.line, f.column, f.message);
        else
            fprintf(stderr, "cidrscope %s: rejected: %s\n", verb, f.message);
        shown++;
    }
    fprintf(stderr, "cidrscope %s: %d record(s) rejected (--keep-going)\n", verb, rejected);
}

/* Loads the sources into one image: a snapshot file alone is mapped and
 * validated; other sources are read into one estate and frozen. Returns
 * CLI_OK with *out, or the exit code after printing why. */
static int load_image(const char *verb, char **paths, int n, const serve_opts *o,
                      cs_snapshot **out)
{
    *out = NULL;
    cs_error err;
    cs_error_clear(&err);
    int snaps = 0;
    for (int i = 0; i < n; i++) {
        int kind = cs_estate_detect(paths[i], &err);
        if (kind < 0)
            return cli_report_error(verb, &err);
        snaps += kind == CS_SRC_SNAPSHOT;
    }
    if (snaps) {
        if (n != 1) {
            cli_errorf(verb, "a snapshot file is a whole image: give it alone, not with other sources");
            return CLI_USAGE;
        }
        if (cs_snapshot_open(paths[0], o->no_verify ? CS_OPEN_NO_VERIFY : 0, out, &err) < 0)
            return cli_report_error(verb, &err);
        return CLI_OK;
    }
    cs_estate *e = cs_estate_new();
    if (!e) {
        cli_errorf(verb, "out of memory");
        return CLI_INTERNAL;
    }
    int code = CLI_OK, rejected = 0;
    for (int i = 0; i < n && code == CLI_OK; i++) {
        int rc = cs_estate_load(e, paths[i], &o->load, &err);
        if (rc < 0)
            code = cli_report_error(verb, &err);
        else
            rejected += rc;
    }
    if (code == CLI_OK && rejected)
        print_rejections(verb, e, rejected);
    if (code == CLI_OK && cs_estate_freeze(e, out, &err) < 0)
        code = cli_report_error(verb, &err);
    cs_estate_free(e);
    return code;
}

/* ---- watching ------------------------------------------------------------- */

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

/* Folds path (and, for a directory, everything below it, in name order)
 * into h: a change of any file's size, time, inode or presence changes it. */
static uint64_t fingerprint_path(const char *path, uint64_t h, int depth)
{
    struct stat st;
    h = mix_str(h, path);
    if (stat(path, &st) != 0)
        return mix(h, 0xdead0000u + (unsigned)errno);
    h = mix(h, (uint64_t)st.st_size);
    h = mix(h, (uint64_t)st.st_mtim.tv_sec);
    h = mix(h, (uint64_t)st.st_mtim.tv_nsec);
    h = mix(h, (uint64_t)st.st_ino);
    h = mix(h, (uint64_t)st.st_mode);
    if (!S_ISDIR(st.st_mode) || depth >= MAX_DEPTH)
        return h;
    DIR *d = opendir(path);
    if (!d)
        return mix(h, 0xd1e0000u + (unsigned)errno);
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
        h = fingerprint_path(names[i], h, depth + 1);
        free(names[i]);
    }
    free(names);
    return h;
}

static uint64_t fingerprint(char **paths, int n)
{
    uint64_t h = 0x5eed;
    for (int i = 0; i < n; i++)
        h = fingerprint_path(paths[i], h, 0);
    return h;
}

/* ---- publishing ----------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Loads and publishes; prints one line saying what is now served. */
static int load_and_publish(const char *verb, const char *name, cs_shm_publisher *p,
                            char **paths, int n, const serve_opts *o)
{
    double t0 = now_s();
    cs_snapshot *s = NULL;
    int code = load_image(verb, paths, n, o, &s);
    if (code != CLI_OK)
        return code;
    double t1 = now_s();
    cs_error err;
    cs_error_clear(&err);
    uint64_t gen = 0;
    int rc = cs_shm_publish(p, s, &gen, &err);
    if (rc < 0) {
        code = cli_report_error(verb, &err);
    } else {
        cs_snapshot_info info;
        cs_snapshot_get_info(s, &info);
        printf("%s: generation %llu published: %u IPv4 + %u IPv6 entries, %llu bytes "
               "(loaded in %.1f ms, published in %.1f ms)\n",
               name, (unsigned long long)gen, info.entries[0], info.entries[1],
               (unsigned long long)info.image_len, (t1 - t0) * 1e3, (now_s() - t1) * 1e3);
        fflush(stdout);
    }
    cs_snapshot_close(s);
    return code;
}

static int parse_common(const char *verb, int c, const char *arg, serve_opts *o)
{
    char *end;
    switch (c) {
    case 'm': {
        errno = 0;
        unsigned long m = strtoul(arg, &end, 8);
        if (errno || *end || end == arg || m == 0 || m > 0777) {
            cli_errorf(verb, "--mode '%s': expected octal permission bits such as 0600 or 0640", arg);
            return -1;
        }
        o->shm.mode = (unsigned)m;
        return 0;
    }
    case 'r': {
        errno = 0;
        unsigned long r = strtoul(arg, &end, 10);
        if (errno || *end || end == arg || r == 0 || r > CS_SHM_MAX_READERS) {
            cli_errorf(verb, "--readers '%s': expected 1 to %u", arg, CS_SHM_MAX_READERS);
            return -1;
        }
        o->shm.readers = (uint32_t)r;
        return 0;
    }
    case 'V': o->no_verify = true; return 0;
    case 'l': o->load.lenient = true; return 0;
    case 'k': o->load.keep_going = true; return 0;
    case 'R': o->load.region = arg; return 0;
    case 'A': o->load.account = arg; return 0;
    default: return -1;
    }
}

#define COMMON_HELP                                                                       \
    "SOURCE is one snapshot file (cidrscope build -o FILE), or estate sources\n"        \
    "read into one estate: directories (ACCOUNT/REGION/vpcs.json, peering.json),\n"     \
    "AWS CLI describe-vpcs / describe-vpc-peering-connections JSON, CSV, and\n"         \
    "prefix lists (owner,prefix or provider,family,prefix).\n\n"                        \
    "  --mode MODE       permission bits of segments it creates (octal; 0600;\n"       \
    "                    0660 lets the group read: readers write their slot)\n"        \
    "  --readers N       reader slots when it creates the service (126)\n"              \
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
            "/dev/shm/NAME and /dev/shm/NAME.<generation>) and keeps it current:\n"
            "every --interval seconds it checks the sources and, once a change has\n"
            "settled, publishes a new generation. Readers attach with --shm NAME\n"
            "(query, lookup, check, audit, stat) and are never blocked by a publish.\n"
            "A source that fails to load is reported; the current generation keeps\n"
            "serving. SIGTERM or SIGINT stops it and the last generation stays\n"
            "published (as after a crash) unless --unlink-on-exit; SIGHUP reloads.\n"
            "Only one serve per NAME runs at a time.\n\n"
            COMMON_HELP
            "  --interval SEC    seconds between source checks (default 2; 0: never)\n"
            "  --unlink-on-exit  remove every segment of NAME when stopping\n"
            "  --ledger FILE     keep the reservation ledger of `alloc --shm NAME\n"
            "                    --commit`, journaled in FILE (replayed at start)\n");
}

static void publish_usage(FILE *f)
{
    fprintf(f,
            "usage: cidrscope publish NAME SOURCE... [options]\n\n"
            "Publishes SOURCE... once as the next generation of the shared-memory\n"
            "service NAME, creating the service when it does not exist. Works whether\n"
            "`cidrscope serve NAME` runs or not (a running server publishes its own\n"
            "sources again when they change).\n\n"
            COMMON_HELP);
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

int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'},
                                         {"mode", required_argument, NULL, 'm'},
                                         {"readers", required_argument, NULL, 'r'},
                                         {"interval", required_argument, NULL, 'i'},
                                         {"unlink-on-exit", no_argument, NULL, 'u'},
                                         {"no-verify", no_argument, NULL, 'V'},
                                         {"lenient", no_argument, NULL, 'l'},
                                         {"keep-going", no_argument, NULL, 'k'},
                                         {"source-region", required_argument, NULL, 'R'},
                                         {"source-account", required_argument, NULL, 'A'},
                                         {"ledger", required_argument, NULL, 'L'},
                                         {NULL, 0, NULL, 0}};
    serve_opts o = {.interval = 2.0};
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
            char *end;
            o.interval = strtod(optarg, &end);
            if (*end || end == optarg || !(o.interval >= 0 && o.interval <= 86400)) {
                cli_errorf("serve", "--interval '%s': expected seconds, 0 to 86400", optarg);
                return CLI_USAGE;
            }
        } else if (c == 'u') {
            o.unlink_on_exit = true;
        } else if (c == 'L') {
            ledger_path = optarg;
        } else if (c == '?' || parse_common("serve", c, optarg, &o) != 0) {
            serve_usage(stderr);
            return CLI_USAGE;
        }
    }
    if (argc - optind < 2) {
        serve_usage(stderr);
        return CLI_USAGE;
    }
    const char *name = argv[optind];
    char **paths = argv + optind + 1;
    int n = argc - optind - 1;
    o.shm.flags = CS_SHM_SERVE;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* no SA_RESTART: a signal cuts the nap short */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    cs_shm_publisher *p = NULL;
    int code = open_publisher("serve", name, &o, &p);
    if (code != CLI_OK)
        return code;
    uint64_t fp = fingerprint(paths, n), failed_fp = 0;
    code = load_and_publish("serve", name, p, paths, n, &o);
    if (code == CLI_OK && ledger_path)
        code = serve_ledger_open(name, ledger_path, &ledger);
    if (code != CLI_OK) {
        cs_shm_publisher_close(p);
        return code;
    }
    if (o.interval > 0)
        printf("%s: serving; checking %d source%s every %g s\n", name, n, n == 1 ? "" : "s", o.interval);
    else
        printf("%s: serving; sources are not watched (SIGHUP reloads)\n", name);
    fflush(stdout);

    while (!g_stop) {
        nap(o.interval > 0 ? o.interval : 1.0);
        if (g_stop)
            break;
        cs_error err;
        cs_error_clear(&err);
        if (cs_shm_reclaim(p, &err) < 0)
            cli_report_error("serve", &err);
        bool reload = g_reload;
        uint64_t now = o.interval > 0 || reload ? fingerprint(paths, n) : fp;
        if (!reload && (now == fp || now == failed_fp))
            continue;
        /* Let a change settle (a copy in progress, an editor's save). */
        if (!reload) {
            nap(SETTLE_MS / 1000.0);
            if (g_stop)
                break;
            if (fingerprint(paths, n) != now)
                continue;
        }
        g_reload = 0;
        if (load_and_publish("serve", name, p, paths, n, &o) == CLI_OK) {
            fp = now;
            failed_fp = 0;
            serve_ledger_sync(name, ledger);
        } else {
            failed_fp = now;
            fprintf(stderr, "cidrscope serve: %s: generation %llu keeps serving\n", name,
                    (unsigned long long)cs_shm_publisher_generation(p));
        }
    }

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
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'},
                                         {"mode", required_argument, NULL, 'm'},
                                         {"readers", required_argument, NULL, 'r'},
                                         {"no-verify", no_argument, NULL, 'V'},
                                         {"lenient", no_argument, NULL, 'l'},
                                         {"keep-going", no_argument, NULL, 'k'},
                                         {"source-region", required_argument, NULL, 'R'},
                                         {"source-account", required_argument, NULL, 'A'},
                                         {NULL, 0, NULL, 0}};
    serve_opts o = {.interval = 0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            publish_usage(stdout);
            return CLI_OK;
        }
        if (c == '?' || parse_common("publish", c, optarg, &o) != 0) {
            publish_usage(stderr);
            return CLI_USAGE;
        }
    }
    if (argc - optind < 2) {
        publish_usage(stderr);
        return CLI_USAGE;
    }
    const char *name = argv[optind];
    /* Load first: bad input never touches the service. */
    cs_snapshot *s = NULL;
    int code = load_image("publish", argv + optind + 1, argc - optind - 1, &o, &s);
    if (code != CLI_OK)
        return code;
    cs_shm_publisher *p = NULL;
    code = open_publisher("publish", name, &o, &p);
    if (code == CLI_OK) {
        cs_error err;
        cs_error_clear(&err);
        uint64_t gen;
        if (cs_shm_publish(p, s, &gen, &err) < 0) {
            code = cli_report_error("publish", &err);
        } else {
            cs_snapshot_info info;
            cs_snapshot_get_info(s, &info);
            printf("%s: generation %llu published: %u IPv4 + %u IPv6 entries, %llu bytes\n", name,
                   (unsigned long long)gen, info.entries[0], info.entries[1],
                   (unsigned long long)info.image_len);
        }
    }
    cs_shm_publisher_close(p);
    cs_snapshot_close(s);
    return code;
}
