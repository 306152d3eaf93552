/*
 * tests/test_shm.c — the shared-memory service under fire: reader processes
 * and threads querying while a publisher switches generations every few
 * milliseconds (every answer checked against a brute-force scan of the set
 * of the generation it was pinned to); kill -9 of the publisher after each
 * publish step and of pinned readers; damaged control and image segments;
 * heap, file and shm images answering alike.
 *
 * Every generation g of a test service holds the random entry set of seed
 * (suite seed, g), so any process can rebuild what g must answer. Segment
 * names start with "cstest<pid>-" and are removed (with any child process
 * still alive) after every test, failed or not. The suite is Linux-specific
 * where it looks at /dev/shm.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "support/testutil.h"

#include <cidrscope/shm.h>

#include "serve/shm_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t g_seed;
static char g_prefix[32];          /* "cstest<pid>-" */
static pid_t g_children[32];
static int g_nchildren;
static char g_tmpdir[64];          /* a test's temporary directory, or "" */

/* ---- helpers -------------------------------------------------------------- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void svc_name(char *buf, size_t cap, const char *what)
{
    snprintf(buf, cap, "%s%s", g_prefix, what);
}

static void track_child(pid_t pid)
{
    if (g_nchildren < (int)(sizeof g_children / sizeof *g_children))
        g_children[g_nchildren++] = pid;
}

static int reap(pid_t pid)
{
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    for (int i = 0; i < g_nchildren; i++)
        if (g_children[i] == pid)
            g_children[i] = 0;
    return st;
}

/* Removes a directory tree (a test's temporary files). */
static void rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            char sub[512];
            snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
            rm_rf(sub);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* Kills every child still tracked and removes every segment of this run:
 * runs after each test, so a failed assertion leaves nothing behind. */
static int cleanup(void **state)
{
    (void)state;
    for (int i = 0; i < g_nchildren; i++) {
        if (g_children[i] > 0) {
            kill(g_children[i], SIGKILL);
            reap(g_children[i]);
        }
    }
    g_nchildren = 0;
    if (g_tmpdir[0]) {
        rm_rf(g_tmpdir);
        g_tmpdir[0] = '\0';
    }
    DIR *d = opendir("/dev/shm");
    if (!d)
        return 0;
    struct dirent *de;
    size_t pl = strlen(g_prefix);
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, g_prefix, pl) == 0) {
            char path[512];
            snprintf(path, sizeof path, "/dev/shm/%s", de->d_name);
            unlink(path);
        }
    }
    closedir(d);
    return 0;
}

static void sort_gens(uint64_t *g, size_t n)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && g[j - 1] > g[j]; j--) {
            uint64_t t = g[j];
            g[j] = g[j - 1];
            g[j - 1] = t;
        }
}

/* The generations whose image segments ("NAME@<gen>.<hex>") exist for
 * service `name` (sorted), and how many of its control segment and reader
 * table ("NAME@readers.<hex>") exist (0, 1 or 2). */
static size_t list_images(const char *name, uint64_t *gens, size_t cap, int *has_ctl)
{
    DIR *d = opendir("/dev/shm");
    assert_non_null(d);
    size_t n = 0, nl = strlen(name);
    *has_ctl = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, name, nl) != 0)
            continue;
        const char *rest = de->d_name + nl;
        if (*rest == '\0') {
            *has_ctl += 1;
        } else if (strncmp(rest, "@readers.", 9) == 0 && strlen(rest + 9) == 16) {
            *has_ctl += 1;
        } else if (*rest == '@' && rest[1] >= '0' && rest[1] <= '9') {
            char *end;
            unsigned long long g = strtoull(rest + 1, &end, 10);
            if (*end == '.' && strlen(end + 1) == 16 && n < cap)
                gens[n++] = g;
        }
    }
    closedir(d);
    sort_gens(gens, n);
    return n;
}

static void assert_images(const char *name, const uint64_t *want, size_t nwant)
{
    uint64_t got[64];
    int has_ctl;
    size_t n = list_images(name, got, 64, &has_ctl);
    char gs[256] = "", ws[256] = "";
    for (size_t i = 0; i < n; i++)
        snprintf(gs + strlen(gs), sizeof gs - strlen(gs), " %llu", (unsigned long long)got[i]);
    for (size_t i = 0; i < nwant; i++)
        snprintf(ws + strlen(ws), sizeof ws - strlen(ws), " %llu", (unsigned long long)want[i]);
    if (has_ctl != 2 || n != nwant || (n && memcmp(got, want, n * sizeof *got) != 0))
        fail_msg("%s: image segments {%s } (control %s), want {%s }", name, gs,
                 has_ctl ? "present" : "missing", ws);
}

/* The entry set of generation `gen`: its size and content follow from the
 * seed and gen, so consecutive generations answer differently. */
static tu_entry *gen_entries(uint64_t gen, size_t *n)
{
    tu_rng r = {g_seed ^ (gen * 0x9e3779b97f4a7c15ull)};
    *n = 150 + (size_t)(gen % 7) * 25;
    return tu_random_entries(&r, *n, 4);
}

static cs_snapshot *gen_snapshot(uint64_t gen)
{
    size_t n;
    tu_entry *e = gen_entries(gen, &n);
    cs_snapshot *s = tu_build(e, n);
    free(e);
    return s;
}

/* Brute force: entries overlapping each query. */
static void brute_counts(const tu_entry *e, size_t n, const cs_prefix *q, size_t nq, uint32_t *out)
{
    for (size_t i = 0; i < nq; i++) {
        uint32_t c = 0;
        for (size_t k = 0; k < n; k++)
            c += tu_relation(&e[k].p, &q[i]) != 0;
        out[i] = c;
    }
}

/* A query mix drawn from several generations' sets, plus the two /0s,
 * whose counts differ from one generation to the next. */
static void make_queries(uint64_t seed, cs_prefix *q, size_t nq)
{
    tu_rng r = {seed};
    size_t per = (nq - 2) / 4, k = 0;
    for (uint64_t g = 1; g <= 4; g++) {
        size_t n;
        tu_entry *e = gen_entries(g * 7 + seed % 5, &n);
        size_t take = g == 4 ? nq - 2 - k : per;
        tu_random_queries(&r, e, n, q + k, take);
        k += take;
        free(e);
    }
    q[k++] = tu_truncate(&(cs_prefix){.family = CS_AF_V4, .len = 32}, 0);
    q[k++] = tu_truncate(&(cs_prefix){.family = CS_AF_V6, .len = 128}, 0);
}

static cs_shm_publisher *open_pub(const char *name, const cs_shm_options *o)
{
    cs_shm_publisher *p = NULL;
    cs_error err;
    cs_error_clear(&err);
    int rc = cs_shm_publisher_open(name, o, &p, &err);
    if (rc < 0)
        fail_msg("publisher_open %s: %d %s", name, rc, err.message);
    return p;
}

static uint64_t publish_gen(cs_shm_publisher *p)
{
    uint64_t want = cs_shm_publisher_generation(p) + 1, got = 0;
    cs_snapshot *s = gen_snapshot(want);
    cs_error err;
    cs_error_clear(&err);
    int rc = cs_shm_publish(p, s, &got, &err);
    cs_snapshot_close(s);
    if (rc != 0)
        fail_msg("publish: %d %s", rc, err.message);
    assert_int_equal(got, want);
    return got;
}

/* "/dev/shm/NAME@<gen>.<hex>" of a live generation, from the image table. */
static void image_path(const char *name, uint64_t gen, char *path, size_t cap)
{
    cs_shm *h = NULL;
    assert_int_equal(cs_shm_attach(name, 0, &h, NULL), 0);
    cs_shm_image_info im[16];
    size_t n = cs_shm_get_images(h, im, 16);
    path[0] = '\0';
    for (size_t i = 0; i < n && i < 16; i++)
        if (im[i].generation == gen)
            snprintf(path, cap, "/dev/shm%s", im[i].segment);
    cs_shm_detach(h);
    if (!path[0])
        fail_msg("%s: no image segment of generation %llu", name, (unsigned long long)gen);
}

/* "/dev/shm/NAME@readers.<hex>" of service `name`; fails when there is not
 * exactly one. */
static void reader_table_path(const char *name, char *path, size_t cap)
{
    DIR *d = opendir("/dev/shm");
    assert_non_null(d);
    struct dirent *de;
    size_t nl = strlen(name);
    int seen = 0;
    while ((de = readdir(d)) != NULL)
        if (strncmp(de->d_name, name, nl) == 0 && strncmp(de->d_name + nl, "@readers.", 9) == 0) {
            snprintf(path, cap, "/dev/shm/%s", de->d_name);
            seen++;
        }
    closedir(d);
    if (seen != 1)
        fail_msg("%s: %d reader tables", name, seen);
}

static cs_shm *attach(const char *name)
{
    cs_shm *h = NULL;
    cs_error err;
    cs_error_clear(&err);
    int rc = cs_shm_attach(name, 0, &h, &err);
    if (rc != 0)
        fail_msg("attach %s: %d %s", name, rc, err.message);
    return h;
}

/* Checks that pinned image is generation `want` and answers like a
 * brute-force scan of its set. */
static void check_pinned(const cs_pin *pin, uint64_t want)
{
    assert_int_equal(pin->generation, want);
    cs_snapshot_info info;
    cs_snapshot_get_info(pin->snap, &info);
    assert_int_equal(info.generation, want);
    enum { NQ = 200 };
    cs_prefix q[NQ];
    uint32_t got[NQ], exp[NQ];
    make_queries(g_seed + want, q, NQ);
    size_t n;
    tu_entry *e = gen_entries(want, &n);
    brute_counts(e, n, q, NQ, exp);
    assert_int_equal(cs_query_count_bulk(pin->snap, q, NQ, CS_Q_OVERLAPPING, got), 0);
    for (size_t i = 0; i < NQ; i++)
        if (got[i] != exp[i])
            fail_msg("generation %llu query %zu: %u entries, brute force %u (seed %llu)",
                     (unsigned long long)want, i, got[i], exp[i], (unsigned long long)g_seed);
    free(e);
}

/* Pins through a fresh attachment, and checks that the pinned image is
 * generation `want` and answers like a brute-force scan of its set. */
static void check_serving(const char *name, uint64_t want)
{
    cs_shm *h = attach(name);
    cs_pin pin;
    cs_error err;
    cs_error_clear(&err);
    int rc = cs_shm_pin(h, &pin, &err);
    if (rc != 0)
        fail_msg("pin %s: %d %s", name, rc, err.message);
    check_pinned(&pin, want);
    cs_shm_unpin(&pin);
    cs_shm_detach(h);
}

/* Pins generation `want` through h, which has an older one mapped: pins
 * get that one (whose image must say so) until the library thread has
 * mapped `want`; fails after 10 s. */
static void pin_when_mapped(cs_shm *h, uint64_t want, cs_pin *pin)
{
    uint64_t t0 = now_ns();
    for (;;) {
        cs_error err;
        cs_error_clear(&err);
        int rc = cs_shm_pin(h, pin, &err);
        if (rc != 0)
            fail_msg("pin: %d %s", rc, err.message);
        if (pin->generation == want)
            return;
        assert_true(pin->generation < want);
        cs_snapshot_info info;
        cs_snapshot_get_info(pin->snap, &info);
        assert_int_equal(info.generation, pin->generation);
        cs_shm_unpin(pin);
        if (now_ns() - t0 > 10000000000ull)
            fail_msg("generation %llu still not mapped ahead after 10 s", (unsigned long long)want);
        usleep(1000);
    }
}

/* ---- readers racing a publisher ------------------------------------------- */

enum { RQ = 256, ROUNDS = 16, EXP_CACHE = 8 };

/* What one reader (process or thread) reports; lives in shared memory. */
typedef struct reader_report {
    uint64_t queries, wrong, pins, pin_fail, attach_fail, gens_seen;
    uint64_t max_pin_ns;        /* longest cs_shm_pin, any */
    uint64_t max_fast_pin_ns;   /* longest pin of an already-mapped generation */
    uint64_t wrong_gen, wrong_q; /* first wrong answer */
    uint64_t hist[64];          /* pin durations: hist[k] counts [2^k, 2^(k+1)) ns */
    char first_error[400];
} reader_report;

typedef struct race_ctl {
    _Atomic int stop;           /* set by the parent: publisher stops */
    unsigned pub_flags;         /* the publisher's cs_shm_options.flags */
    _Atomic uint64_t publishes;
    _Atomic uint64_t publish_fail;
    uint64_t max_publish_ns;
    reader_report r[8];
} race_ctl;

typedef struct exp_cache {
    uint64_t gen[EXP_CACHE];
    uint32_t counts[EXP_CACHE][RQ];
    unsigned next;
} exp_cache;

static const uint32_t *expected_for(exp_cache *c, uint64_t gen, const cs_prefix *q, bool *fresh)
{
    for (unsigned i = 0; i < EXP_CACHE; i++)
        if (c->gen[i] == gen) {
            *fresh = false;
            return c->counts[i];
        }
    unsigned k = c->next++ % EXP_CACHE;
    size_t n;
    tu_entry *e = gen_entries(gen, &n);
    brute_counts(e, n, q, RQ, c->counts[k]);
    free(e);
    c->gen[k] = gen;
    *fresh = true;
    return c->counts[k];
}

/*
 * One reader: pins whatever is current, checks ROUNDS bulk counts of RQ
 * queries against the brute-force answers of the pinned generation, unpins;
 * until `min_queries` are done and `min_ns` have passed. With `shared` it
 * pins through that attachment (threads); otherwise it attaches itself and
 * re-attaches every 64 pins.
 */
static void run_reader(const char *name, cs_shm *shared, unsigned id, bool mapped_only,
                       uint64_t min_queries, uint64_t min_ns, reader_report *rep)
{
    cs_prefix q[RQ];
    uint32_t got[RQ];
    make_queries(g_seed * 31 + id, q, RQ);
    exp_cache *cache = calloc(1, sizeof *cache);
    cs_shm *h = shared;
    cs_error err;
    uint64_t t_end = now_ns() + min_ns;
    uint64_t last_gen = 0;
    while (rep->queries < min_queries || now_ns() < t_end) {
        if (!h) {
            cs_error_clear(&err);
            if (cs_shm_attach(name, 0, &h, &err) != 0) {
                if (!rep->attach_fail++)
                    snprintf(rep->first_error, sizeof rep->first_error, "attach: %s", err.message);
                continue;
            }
        }
        cs_pin pin;
        cs_error_clear(&err);
        uint64_t t0 = now_ns();
        int rc = mapped_only ? cs_shm_pin_mapped(h, &pin, &err) : cs_shm_pin(h, &pin, &err);
        uint64_t dt = now_ns() - t0;
        if (rc != 0) {
            if (!rep->pin_fail++)
                snprintf(rep->first_error, sizeof rep->first_error, "pin: %d %s", rc, err.message);
            continue;
        }
        rep->pins++;
        rep->hist[dt ? 63 - __builtin_clzll(dt) : 0]++;
        if (dt > rep->max_pin_ns)
            rep->max_pin_ns = dt;
        if (pin.generation == last_gen && dt > rep->max_fast_pin_ns)
            rep->max_fast_pin_ns = dt;
        last_gen = pin.generation;
        cs_snapshot_info info;
        cs_snapshot_get_info(pin.snap, &info);
        bool fresh;
        const uint32_t *exp = expected_for(cache, info.generation, q, &fresh);
        rep->gens_seen += fresh;
        if (info.generation != pin.generation && !rep->wrong++) {
            rep->wrong_gen = pin.generation;
            snprintf(rep->first_error, sizeof rep->first_error, "pin says generation %llu, image %llu",
                     (unsigned long long)pin.generation, (unsigned long long)info.generation);
        }
        for (int round = 0; round < ROUNDS; round++) {
            cs_query_count_bulk(pin.snap, q, RQ, CS_Q_OVERLAPPING, got);
            for (size_t i = 0; i < RQ; i++) {
                if (got[i] != exp[i] && !rep->wrong++) {
                    rep->wrong_gen = info.generation;
                    rep->wrong_q = i;
                    snprintf(rep->first_error, sizeof rep->first_error,
                             "generation %llu query %zu: %u entries, brute force %u",
                             (unsigned long long)info.generation, i, got[i], exp[i]);
                }
            }
            rep->queries += RQ;
        }
        cs_shm_unpin(&pin);
        if (!shared && rep->pins % 64 == 0) {
            cs_shm_detach(h);
            h = NULL;
            last_gen = 0; /* a new attachment maps afresh */
        }
    }
    if (!shared)
        cs_shm_detach(h);
    free(cache);
}

/* The publisher process: a new generation every ~2 ms until told to stop. */
static void run_publisher(const char *name, race_ctl *ctl)
{
    cs_shm_publisher *p = NULL;
    cs_shm_options o = {.flags = ctl->pub_flags};
    if (cs_shm_publisher_open(name, &o, &p, NULL) < 0) {
        atomic_fetch_add(&ctl->publish_fail, 1);
        return;
    }
    while (!atomic_load(&ctl->stop)) {
        uint64_t want = cs_shm_publisher_generation(p) + 1, got = 0;
        cs_snapshot *s = gen_snapshot(want);
        uint64_t t0 = now_ns();
        int rc = cs_shm_publish(p, s, &got, NULL);
        uint64_t dt = now_ns() - t0;
        cs_snapshot_close(s);
        if (rc != 0 || got != want)
            atomic_fetch_add(&ctl->publish_fail, 1);
        else
            atomic_fetch_add(&ctl->publishes, 1);
        if (dt > ctl->max_publish_ns)
            ctl->max_publish_ns = dt;
        nanosleep(&(struct timespec){0, 2000000}, NULL);
    }
    cs_shm_publisher_close(p);
}

static pid_t fork_publisher(const char *name, race_ctl *ctl)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        run_publisher(name, ctl);
        _exit(0);
    }
    track_child(pid);
    return pid;
}

/* Upper bound (ns) of the pin duration below which a fraction `q` of pins
 * fall, from the power-of-two histogram. */
static double pin_quantile(const reader_report *r, double q)
{
    uint64_t seen = 0;
    for (int k = 0; k < 64; k++) {
        seen += r->hist[k];
        if (seen >= q * (double)r->pins)
            return (double)(2ull << k);
    }
    return 0;
}

static void print_report(const char *who, unsigned i, const reader_report *r)
{
    printf("  %s %u: %llu queries, %llu pins, %llu generations checked; pin p50 < %.1f us, "
           "p99 < %.1f us, longest %.1f us (already mapped: %.1f us); wrong %llu, failed pins %llu, "
           "failed attaches %llu\n",
           who, i, (unsigned long long)r->queries, (unsigned long long)r->pins,
           (unsigned long long)r->gens_seen, pin_quantile(r, 0.5) / 1e3, pin_quantile(r, 0.99) / 1e3,
           r->max_pin_ns / 1e3, r->max_fast_pin_ns / 1e3,
           (unsigned long long)r->wrong, (unsigned long long)r->pin_fail,
           (unsigned long long)r->attach_fail);
    if (r->first_error[0])
        printf("    first error: %s (seed %llu)\n", r->first_error, (unsigned long long)g_seed);
}

static void check_reports(const race_ctl *ctl, unsigned n, uint64_t min_queries)
{
    for (unsigned i = 0; i < n; i++) {
        const reader_report *r = &ctl->r[i];
        assert_int_equal(r->wrong, 0);
        assert_int_equal(r->pin_fail, 0);
        assert_int_equal(r->attach_fail, 0);
        assert_true(r->queries >= min_queries);
    }
    assert_int_equal(atomic_load(&ctl->publish_fail), 0);
}

static void readers_race(unsigned pub_flags)
{
    enum { READERS = 4 };
    char name[64];
    svc_name(name, sizeof name, "race");
    cs_shm_publisher *p = open_pub(name, NULL);
    publish_gen(p);
    cs_shm_publisher_close(p);

    race_ctl *ctl = mmap(NULL, sizeof *ctl, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(ctl != MAP_FAILED);
    memset(ctl, 0, sizeof *ctl);
    ctl->pub_flags = pub_flags;
    pid_t pub = fork_publisher(name, ctl);
    pid_t readers[READERS];
    for (unsigned i = 0; i < READERS; i++) {
        readers[i] = fork();
        assert_true(readers[i] >= 0);
        if (readers[i] == 0) {
            run_reader(name, NULL, i, false, 300000, 2500000000ull, &ctl->r[i]);
            _exit(0);
        }
        track_child(readers[i]);
    }
    for (unsigned i = 0; i < READERS; i++) {
        int st = reap(readers[i]);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    atomic_store(&ctl->stop, 1);
    int st = reap(pub);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);

    printf("shm race%s: %llu generations published (longest publish %.2f ms) while %d reader processes queried\n",
           pub_flags & CS_SHM_REUSE ? " (segments reused)" : "",
           (unsigned long long)atomic_load(&ctl->publishes), ctl->max_publish_ns / 1e6, READERS);
    for (unsigned i = 0; i < READERS; i++)
        print_report("reader process", i, &ctl->r[i]);
    check_reports(ctl, READERS, 300000);
    assert_true(atomic_load(&ctl->publishes) >= 50);

    /* Readers are gone: one reclaim leaves only the current generation. */
    p = open_pub(name, NULL);
    uint64_t cur = cs_shm_publisher_generation(p);
    assert_int_equal(cs_shm_reclaim(p, NULL) >= 0, 1);
    assert_images(name, &cur, 1);
    cs_shm_publisher_close(p);
    munmap(ctl, sizeof *ctl);
}

static void shm__readers_agree_with_their_generation_under_publishing(void **state)
{
    (void)state;
    readers_race(0);
}

/* The same race with a publisher that rewrites retired segments: no
 * reader process may ever read one while it is rewritten. */
static void shm__readers_agree_while_segments_are_reused(void **state)
{
    (void)state;
    readers_race(CS_SHM_REUSE);
}

typedef struct thread_arg {
    cs_shm *h;
    const char *name;
    unsigned id;
    bool mapped_only;
    reader_report *rep;
} thread_arg;

static void *reader_thread(void *arg)
{
    thread_arg *a = arg;
    run_reader(a->name, a->h, a->id, a->mapped_only, 100000, 1500000000ull, a->rep);
    return NULL;
}

typedef struct refresher_arg {
    cs_shm *h;
    _Atomic int stop;
    uint64_t refreshes, mapped, failed;
} refresher_arg;

/* The pattern shm.h recommends: map new generations off the query path. */
static void *refresher_thread(void *arg)
{
    refresher_arg *a = arg;
    uint64_t seen = 0;
    while (!atomic_load(&a->stop)) {
        uint64_t g = cs_shm_generation(a->h);
        if (g != seen) {
            int rc = cs_shm_refresh(a->h, NULL);
            a->refreshes++;
            a->mapped += rc == 1;
            a->failed += rc < 0;
            seen = g;
        }
        nanosleep(&(struct timespec){0, 200000}, NULL);
    }
    return NULL;
}

static void threads_race(unsigned pub_flags)
{
    enum { THREADS = 4 };
    char name[64];
    svc_name(name, sizeof name, "threads");
    cs_shm_publisher *p = open_pub(name, NULL);
    publish_gen(p);
    cs_shm_publisher_close(p);
    race_ctl *ctl = mmap(NULL, sizeof *ctl, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(ctl != MAP_FAILED);
    memset(ctl, 0, sizeof *ctl);
    ctl->pub_flags = pub_flags;
    pid_t pub = fork_publisher(name, ctl);

    /* Threads 0 and 1 pin the current generation (mapping it when they are
     * first); 2 and 3 pin whatever is mapped, which a refresher thread keeps
     * current. */
    cs_shm *h = attach(name);
    pthread_t t[THREADS], rt;
    thread_arg args[THREADS];
    refresher_arg ra = {.h = h};
    assert_int_equal(pthread_create(&rt, NULL, refresher_thread, &ra), 0);
    for (unsigned i = 0; i < THREADS; i++) {
        args[i] = (thread_arg){h, name, 10 + i, i >= 2, &ctl->r[i]};
        assert_int_equal(pthread_create(&t[i], NULL, reader_thread, &args[i]), 0);
    }
    for (unsigned i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    atomic_store(&ra.stop, 1);
    pthread_join(rt, NULL);
    atomic_store(&ctl->stop, 1);
    int st = reap(pub);
    assert_true(WIFEXITED(st));
    printf("shm threads%s: %llu generations published while %d threads pinned through one attachment\n",
           pub_flags & CS_SHM_REUSE ? " (segments reused)" : "",
           (unsigned long long)atomic_load(&ctl->publishes), THREADS);
    printf("  refresher: %llu refreshes, %llu generations mapped ahead\n",
           (unsigned long long)ra.refreshes, (unsigned long long)ra.mapped);
    for (unsigned i = 0; i < THREADS; i++)
        print_report(i >= 2 ? "thread (pin_mapped)" : "thread (pin)", i, &ctl->r[i]);
    check_reports(ctl, THREADS, 100000);
    assert_int_equal(ra.failed, 0);
    cs_shm_info info;
    cs_shm_get_info(h, &info);
    assert_int_equal(info.slots_used, 0);
    cs_shm_detach(h);
    munmap(ctl, sizeof *ctl);
}

static void shm__threads_pin_through_one_attachment(void **state)
{
    (void)state;
    threads_race(0);
}

/* pin_mapped and the library's own mapping ahead fall back to older
 * mapped generations all the time: with segments reused under them. */
static void shm__threads_pin_while_segments_are_reused(void **state)
{
    (void)state;
    threads_race(CS_SHM_REUSE);
}

/* ---- crash safety --------------------------------------------------------- */

typedef struct kill_at {
    int step;
} kill_at;

static void kill_hook(int step, void *ctx)
{
    if (step == ((kill_at *)ctx)->step)
        raise(SIGKILL);
}

/* A publisher process (options o, may be NULL) publishing generation gen
 * of the test sets, killed after `step`; returns its pid once reaped. */
static pid_t publisher_killed_at(const char *name, const cs_shm_options *o, uint64_t gen, int step)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        cs_shm_publisher *cp = NULL;
        if (cs_shm_publisher_open(name, o, &cp, NULL) < 0)
            _exit(3);
        cs_snapshot *s = gen_snapshot(gen);
        kill_at k = {step};
        cs_shm_publish_hooked(cp, s, kill_hook, &k, NULL, NULL);
        _exit(4); /* the hook should have killed us */
    }
    track_child(pid);
    int st = reap(pid);
    if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL))
        fail_msg("step %d: publisher was not killed (status %#x)", step, st);
    return pid;
}

static void shm__publisher_killed_at_every_step_leaves_previous_generation(void **state)
{
    (void)state;
    char name[64];
    svc_name(name, sizeof name, "crash");
    cs_shm_publisher *p = open_pub(name, NULL);
    uint64_t cur = publish_gen(p);
    cs_shm_publisher_close(p);

    for (int step = CS_SHM_STEP_LOCKED; step <= CS_SHM_STEP_COUNT; step++) {
        pid_t pid = publisher_killed_at(name, NULL, cur + 1, step);

        uint64_t serving = step >= CS_SHM_STEP_PUBLISHED ? cur + 1 : cur;
        /* What the crash left: the lock held by a dead pid, and the new
         * segment as an orphan once created. */
        cs_shm *h = attach(name);
        cs_shm_info info;
        cs_shm_get_info(h, &info);
        assert_int_equal(info.writer_pid, pid);
        assert_int_equal(info.generation, serving);
        cs_shm_detach(h);
        uint64_t left[2] = {cur, cur + 1};
        if (step >= CS_SHM_STEP_CREATED && step < CS_SHM_STEP_RECLAIMED)
            assert_images(name, left, 2);
        else if (step == CS_SHM_STEP_RECLAIMED)
            assert_images(name, left + 1, 1);
        else
            assert_images(name, left, 1);

        /* The previous (or, past the store, the new) generation serves. */
        check_serving(name, serving);

        /* A restarted publisher takes the dead lock, removes the orphan and
         * publishes the next generation. */
        p = open_pub(name, NULL);
        assert_int_equal(cs_shm_publisher_generation(p), serving);
        assert_images(name, &serving, 1);
        cur = publish_gen(p);
        assert_int_equal(cur, serving + 1);
        cs_shm_publisher_close(p);
        assert_images(name, &cur, 1);
        check_serving(name, cur);
        h = attach(name);
        cs_shm_get_info(h, &info);
        assert_int_equal(info.writer_pid, 0);
        assert_int_equal(info.images, 1);
        cs_shm_detach(h);
    }
}

static void shm__killed_readers_slots_are_reclaimed(void **state)
{
    (void)state;
    enum { KIDS = 3 };
    char name[64];
    svc_name(name, sizeof name, "deadreaders");
    cs_shm_publisher *p = open_pub(name, NULL);
    uint64_t a = publish_gen(p);

    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t kids[KIDS];
    for (int i = 0; i < KIDS; i++) {
        kids[i] = fork();
        assert_true(kids[i] >= 0);
        if (kids[i] == 0) {
            close(fds[0]);
            cs_shm *h = NULL;
            cs_pin pin;
            uint64_t g = 0;
            if (cs_shm_attach(name, 0, &h, NULL) == 0 && cs_shm_pin(h, &pin, NULL) == 0)
                g = pin.generation;
            if (write(fds[1], &g, sizeof g) != sizeof g)
                _exit(5);
            for (;;)
                pause();
        }
        track_child(kids[i]);
    }
    close(fds[1]);
    for (int i = 0; i < KIDS; i++) {
        uint64_t g = 0;
        assert_int_equal(read(fds[0], &g, sizeof g), sizeof g);
        assert_int_equal(g, a);
    }
    close(fds[0]);

    /* Pinned by live readers: a survives the next publish. */
    uint64_t b = publish_gen(p);
    uint64_t ab[2] = {a, b};
    assert_images(name, ab, 2);
    cs_shm *h = attach(name);
    cs_shm_reader_info ri[8];
    assert_int_equal(cs_shm_get_readers(h, ri, 8), KIDS);
    for (int i = 0; i < KIDS; i++) {
        assert_true(ri[i].alive);
        assert_int_equal(ri[i].generation, a);
    }

    for (int i = 0; i < KIDS; i++) {
        kill(kids[i], SIGKILL);
        reap(kids[i]);
    }
    assert_int_equal(cs_shm_get_readers(h, ri, 8), KIDS);
    for (int i = 0; i < KIDS; i++)
        assert_false(ri[i].alive);

    /* We pin b; the next publish reclaims the dead slots and unlinks a,
     * keeps b for us. */
    cs_pin pin;
    assert_int_equal(cs_shm_pin(h, &pin, NULL), 0);
    assert_int_equal(pin.generation, b);
    uint64_t c = publish_gen(p);
    uint64_t bc[2] = {b, c};
    assert_images(name, bc, 2);
    assert_int_equal(cs_shm_get_readers(h, ri, 8), 1);
    assert_int_equal(ri[0].pid, getpid());
    assert_int_equal(ri[0].generation, b);
    /* b is still fully readable through the pin. */
    cs_snapshot_info info;
    cs_snapshot_get_info(pin.snap, &info);
    assert_int_equal(info.generation, b);
    cs_shm_unpin(&pin);

    /* Unpinned: a reclaim without publishing frees b. */
    assert_int_equal(cs_shm_reclaim(p, NULL), 1);
    assert_images(name, &c, 1);
    cs_shm_info si;
    cs_shm_get_info(h, &si);
    assert_int_equal(si.slots_used, 0);
    assert_int_equal(si.images, 1);
    cs_shm_detach(h);
    cs_shm_publisher_close(p);
}

static void shm__full_slot_table_reuses_dead_slots(void **state)
{
    (void)state;
    char name[64];
    svc_name(name, sizeof name, "slots");
    cs_shm_publisher *p = open_pub(name, &(cs_shm_options){.readers = 2});
    publish_gen(p);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t kid = fork();
    assert_true(kid >= 0);
    if (kid == 0) {
        cs_shm *h = NULL;
        cs_pin a, b;
        char ok = cs_shm_attach(name, 0, &h, NULL) == 0 && cs_shm_pin(h, &a, NULL) == 0 &&
                  cs_shm_pin(h, &b, NULL) == 0;
        if (write(fds[1], &ok, 1) != 1)
            _exit(5);
        for (;;)
            pause();
    }
    track_child(kid);
    char ok = 0;
    assert_int_equal(read(fds[0], &ok, 1), 1);
    assert_true(ok);
    close(fds[0]);
    close(fds[1]);

    cs_shm *h = NULL;
    cs_shm_attach_options ao = {.owner_uid = -1, .slot_wait_ms = 150};
    assert_int_equal(cs_shm_attach_with(name, &ao, &h, NULL), 0);
    cs_pin pin;
    cs_error err;
    cs_error_clear(&err);
    uint64_t t0 = now_ns();
    assert_int_equal(cs_shm_pin(h, &pin, &err), CS_EBUSY);
    /* it waited, then named the holder */
    if (now_ns() - t0 < 140000000ull) /* the wait counts whole milliseconds */
        fail_msg("full table: failed after %llu ns: %s", (unsigned long long)(now_ns() - t0), err.message);
    char kidpid[32];
    snprintf(kidpid, sizeof kidpid, "pids %d, %d", (int)kid, (int)kid);
    if (!strstr(err.message, "reader slots") || !strstr(err.message, kidpid))
        fail_msg("full table: '%s', want the holders' pids (%s)", err.message, kidpid);
    assert_null(pin.snap);
    kill(kid, SIGKILL);
    reap(kid);
    /* The table is full of a dead process's slots: a pin takes one. */
    assert_int_equal(cs_shm_pin(h, &pin, &err), 0);
    cs_pin pin2;
    assert_int_equal(cs_shm_pin(h, &pin2, &err), 0);
    assert_int_equal(pin.generation, pin2.generation);
    assert_ptr_equal(pin.snap, pin2.snap); /* one mapping per generation */
    cs_shm_unpin(&pin);
    cs_shm_unpin(&pin2);
    cs_shm_unpin(&pin2); /* a second unpin is a no-op */
    cs_shm_detach(h);
    cs_shm_publisher_close(p);
}

static void shm__pin_mapped_keeps_the_mapped_generation_until_refresh(void **state)
{
    (void)state;
    char name[64];
    svc_name(name, sizeof name, "mapped");
    cs_shm_publisher *p = open_pub(name, NULL);
    uint64_t g1 = publish_gen(p);
    cs_shm *h = attach(name);
    cs_pin pin;
    /* Nothing mapped yet: it maps, like cs_shm_pin. */
    assert_int_equal(cs_shm_pin_mapped(h, &pin, NULL), 0);
    assert_int_equal(pin.generation, g1);
    cs_shm_unpin(&pin);
    /* Two publishes later g1's segment is gone (nobody pinned it), yet
     * pin_mapped still serves it from this process's mapping. */
    publish_gen(p);
    uint64_t g3 = publish_gen(p);
    assert_images(name, &g3, 1);
    assert_int_equal(cs_shm_pin_mapped(h, &pin, NULL), 0);
    assert_int_equal(pin.generation, g1);
    cs_snapshot_info info;
    cs_snapshot_get_info(pin.snap, &info);
    assert_int_equal(info.generation, g1);
    cs_shm_reader_info ri[2];
    assert_int_equal(cs_shm_get_readers(h, ri, 2), 1);
    assert_int_equal(ri[0].generation, g1); /* the slot says what we read */
    cs_shm_unpin(&pin);
    check_serving(name, g3);
    /* A refresh maps g3; then pin_mapped serves it. A second refresh has
     * nothing to do. */
    assert_int_equal(cs_shm_refresh(h, NULL), 1);
    assert_int_equal(cs_shm_refresh(h, NULL), 0);
    assert_int_equal(cs_shm_pin_mapped(h, &pin, NULL), 0);
    assert_int_equal(pin.generation, g3);
    cs_shm_unpin(&pin);
    cs_shm_detach(h);
    cs_shm_publisher_close(p);
}


/* ---- damaged segments ----------------------------------------------------- */

static void write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

static void poke(const char *path, off_t off, const void *data, size_t len)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, data, len, off), (ssize_t)len);
    close(fd);
}

static void peek(const char *path, off_t off, void *data, size_t len)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, data, len, off), (ssize_t)len);
    close(fd);
}

/* The inode of generation gen's segment (it stays the same when the
 * segment is reused under a new name). */
static ino_t image_inode(const char *name, uint64_t gen)
{
    char path[300];
    image_path(name, gen, path, sizeof path);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_ino;
}

/* CS_SHM_REUSE: the two newest retired generations' segments are kept and
 * the older of them takes the next generation when nobody pins it, under
 * that generation's name (fresh random suffix); a pinned one is never
 * rewritten. Ignored on a service others may read (they may pin, so their
 * pins may lie). */
static void shm__reuse_rewrites_only_unpinned_segments(void **state)
{
    (void)state;
    char name[64];
    svc_name(name, sizeof name, "reuse");
    cs_shm_options ro = {.flags = CS_SHM_REUSE};
    cs_shm_publisher *p = open_pub(name, &ro);
    uint64_t g1 = publish_gen(p);
    ino_t i1 = image_inode(name, g1);
    uint64_t g2 = publish_gen(p);
    uint64_t g3 = publish_gen(p);
    uint64_t kept[4] = {g1, g2, g3};
    assert_images(name, kept, 3); /* g1, g2: the spares */
    assert_int_equal(cs_shm_reclaim(p, NULL), 0); /* kept by reclaim too */
    ino_t i2 = image_inode(name, g2), i3 = image_inode(name, g3);
    uint64_t g4 = publish_gen(p);
    kept[0] = g2, kept[1] = g3, kept[2] = g4;
    assert_images(name, kept, 3);
    assert_true(image_inode(name, g4) == i1); /* g1's pages, g4's name */
    check_serving(name, g4);

    /* A reader pins g4: g2 and g3 are reused for g5 and g6; then g4 is the
     * older spare but pinned, so g7 gets a new segment. */
    cs_shm *h = attach(name);
    cs_pin held;
    assert_int_equal(cs_shm_pin(h, &held, NULL), 0);
    check_pinned(&held, g4);
    uint64_t g5 = publish_gen(p);
    assert_true(image_inode(name, g5) == i2);
    uint64_t g6 = publish_gen(p);
    assert_true(image_inode(name, g6) == i3);
    uint64_t g7 = publish_gen(p);
    uint64_t four[4] = {g4, g5, g6, g7};
    assert_images(name, four, 4);
    assert_true(image_inode(name, g7) != i1);
    check_pinned(&held, g4); /* untouched all along */
    cs_shm_unpin(&held);
    /* Unpinned, g4 goes at the next reclaim; g5 and g6 stay as spares. */
    assert_int_equal(cs_shm_reclaim(p, NULL), 1);
    kept[0] = g5, kept[1] = g6, kept[2] = g7;
    assert_images(name, kept, 3);
    cs_shm_detach(h);
    cs_shm_publisher_close(p);

/* Readable by the group: every reader may write the reader table, so
     * no pin can be trusted to protect a segment: nothing is reused. */
    svc_name(name, sizeof name, "reuse-group");
    ro.mode = 0640;
    p = open_pub(name, &ro);
    publish_gen(p);
    publish_gen(p);
    uint64_t g = publish_gen(p);
    assert_images(name, &g, 1);
    cs_shm_publisher_close(p);
}

/* An attachment falling back to an older mapped generation (pin_mapped
 * here; cs_shm_pin while mapping ahead) must not read it once its segment
 * has been reused: its mapping then shows another generation's bytes. */
static void shm__fallback_refuses_a_reused_segment(void **state)
{
    (void)state;
    char name[64];
    svc_name(name, sizeof name, "reuse-fallback");
    cs_shm_options ro = {.flags = CS_SHM_REUSE};
    cs_shm_publisher *p = open_pub(name, &ro);
    uint64_t g1 = publish_gen(p);
    cs_shm *h = attach(name);
    cs_pin pin;
    assert_int_equal(cs_shm_pin_mapped(h, &pin, NULL), 0);
    check_pinned(&pin, g1);
    cs_shm_unpin(&pin);
    /* g2, g3: g1 is a spare, still g1: pin_mapped serves it. */
    publish_gen(p);
    publish_gen(p);
    assert_int_equal(cs_shm_pin_mapped(h, &pin, NULL), 0);
    check_pinned(&pin, g1);
    cs_shm_unpin(&pin);
    /* g4 reuses g1's segment: this process's g1 mapping now shows g4's
     * bytes, so pin_mapped maps g4 instead. */
    uint64_t g4 = publish_gen(p);
    assert_int_equal(cs_shm_pin_mapped(h, &pin, NULL), 0);
    check_pinned(&pin, g4);
    cs_shm_unpin(&pin);
    cs_shm_detach(h);
    cs_shm_publisher_close(p);
}

/* A reusing publisher killed after every step leaves nothing the next
 * publisher does not know of: the segments in /dev/shm are exactly the
 * recorded ones, the right generation serves, and after removal nothing of
 * the service is left. */
static void shm__reusing_publisher_killed_at_every_step_leaks_nothing(void **state)
{
    (void)state;
    char name[64];
    svc_name(name, sizeof name, "reuse-crash");
    cs_shm_options ro = {.flags = CS_SHM_REUSE};
    cs_shm_publisher *p = open_pub(name, &ro);
    publish_gen(p);
    publish_gen(p);
    uint64_t cur = publish_gen(p); /* and two spares */
    cs_shm_publisher_close(p);
    for (int step = CS_SHM_STEP_LOCKED; step <= CS_SHM_STEP_COUNT; step++) {
        publisher_killed_at(name, &ro, cur + 1, step);
        uint64_t serving = step >= CS_SHM_STEP_PUBLISHED ? cur + 1 : cur;
        check_serving(name, serving);
        /* on disk = in the table */
        uint64_t disk[16], table[16];
        int has_ctl;
        size_t nd = list_images(name, disk, 16, &has_ctl);
        cs_shm *h = attach(name);
        cs_shm_image_info im[16];
        size_t nt = cs_shm_get_images(h, im, 16);
        cs_shm_detach(h);
        assert_int_equal(nd, nt);
        for (size_t i = 0; i < nt; i++)
            table[i] = im[i].generation;
        sort_gens(table, nt);
        if (nd && memcmp(disk, table, nd * sizeof *disk) != 0)
            fail_msg("step %d: segments on disk differ from the image table", step);
        p = open_pub(name, &ro);
        cur = publish_gen(p);
        assert_int_equal(cur, serving + 1);
        cs_shm_publisher_close(p);
        check_serving(name, cur);
    }
    p = open_pub(name, &ro);
    assert_int_equal(cs_shm_unlink(p, NULL), 0);
    cs_shm_publisher_close(p);
    uint64_t none[4];
    int has_ctl;
    assert_int_equal(list_images(name, none, 4, &has_ctl), 0);
    assert_int_equal(has_ctl, 0);
}

/* cs_shm_pin never maps on the calling thread once a generation is mapped
 * here: a library thread maps (and faults in) the new one while pins get
 * the newest mapped, each answering as its own generation and its slot
 * saying which; then pins get the new one. A generation that thread cannot
 * map is mapped by the pins themselves, which then say what is wrong. */
static void shm__pin_maps_new_generations_ahead(void **state)
{
    (void)state;
    char name[64];
    svc_name(name, sizeof name, "ahead");
    /* Two reader slots, so that the library thread can be kept waiting
     * for one: then what the pins get does not depend on timing. */
    cs_shm_publisher *p = open_pub(name, &(cs_shm_options){.readers = 2});
    uint64_t g1 = publish_gen(p);
    cs_shm *h = NULL;
    cs_shm_attach_options ao = {.owner_uid = -1, .slot_wait_ms = 10000};
    assert_int_equal(cs_shm_attach_with(name, &ao, &h, NULL), 0);
    cs_pin pin, held;
    /* Nothing mapped yet: the pin maps g1 itself. */
    assert_int_equal(cs_shm_pin(h, &held, NULL), 0);
    check_pinned(&held, g1);
    uint64_t g2 = publish_gen(p);
    /* Both slots are ours now: the library thread waits for one, so this
     * pin gets g1 (mapping g2 here would have given g2). */
    assert_int_equal(cs_shm_pin(h, &pin, NULL), 0);
    check_pinned(&pin, g1);
    cs_shm_reader_info ri[2];
    assert_int_equal(cs_shm_get_readers(h, ri, 2), 2);
    assert_int_equal(ri[0].generation, g1); /* the slots say what we read */
    assert_int_equal(ri[1].generation, g1);
    cs_shm_unpin(&pin);
    cs_shm_unpin(&held);
    pin_when_mapped(h, g2, &pin);
    check_pinned(&pin, g2);
    cs_shm_unpin(&pin);

    /* g3's segment says it is another generation: the library thread
     * refuses it, and pins go on with g2 until they map g3 themselves and
     * report the damage. */
    uint64_t g3 = publish_gen(p);
    char path[300];
    image_path(name, g3, path, sizeof path);
    uint8_t orig, bad;
    peek(path, 32, &orig, 1);
    bad = orig ^ 0x10;
    poke(path, 32, &bad, 1);
    uint64_t t0 = now_ns();
    cs_error err;
    for (;;) {
        cs_error_clear(&err);
        int rc = cs_shm_pin(h, &pin, &err);
        if (rc != 0) {
            if (rc != CS_ECORRUPT || !strstr(err.message, "carries generation"))
                fail_msg("damaged g3: %d '%s'", rc, err.message);
            break;
        }
        check_pinned(&pin, g2);
        cs_shm_unpin(&pin);
        if (now_ns() - t0 > 10000000000ull)
            fail_msg("the damage of g3 was never reported");
        usleep(1000);
    }
    /* Repaired: the next pin maps g3 itself. */
    poke(path, 32, &orig, 1);
    assert_int_equal(cs_shm_pin(h, &pin, NULL), 0);
    check_pinned(&pin, g3);
    cs_shm_unpin(&pin);
    cs_shm_detach(h);
    cs_shm_publisher_close(p);
}

static void expect_attach(const char *name, int want, const char *msg_part)
{
    cs_shm *h = NULL;
    cs_error err;
    cs_error_clear(&err);
    int rc = cs_shm_attach(name, 0, &h, &err);
    if (rc != want || (msg_part && !strstr(err.message, msg_part)))
        fail_msg("attach %s: %d '%s', want %d '%s'", name, rc, err.message, want, msg_part ? msg_part : "");
    assert_null(h);
}

static void shm__bad_names_are_refused(void **state)
{
    (void)state;
    const char *bad[] = {"", "/", "a/b", "x.12", ".hidden", "sp ace", "caf\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        expect_attach(bad[i], CS_EINVAL, NULL);
        cs_shm_publisher *p = NULL;
        assert_int_equal(cs_shm_publisher_open(bad[i], NULL, &p, NULL), CS_EINVAL);
        assert_null(p);
    }
    char name[64];
    svc_name(name, sizeof name, "absent");
    expect_attach(name, CS_ENOTFOUND, "no shared-memory service");
    char slashed[80];
    snprintf(slashed, sizeof slashed, "/%s", name);
    expect_attach(slashed, CS_ENOTFOUND, NULL);
    /* A name with dots but not ending in .digits is fine. */
    svc_name(name, sizeof name, "v1.prod");
    cs_shm_publisher *p = open_pub(name, NULL);
    cs_shm *h = attach(name);
    cs_pin pin;
    assert_int_equal(cs_shm_pin(h, &pin, NULL), CS_ENOTFOUND); /* nothing published */
    cs_shm_detach(h);
    cs_shm_publisher_close(p);
    assert_int_equal(cs_shm_publisher_open(name, &(cs_shm_options){.mode = 01777}, &p, NULL), CS_EINVAL);
    assert_int_equal(cs_shm_publisher_open(name, &(cs_shm_options){.readers = 5000}, &p, NULL), CS_EINVAL);
}

static void shm__damaged_control_segments_are_refused(void **state)
{
    (void)state;
    char name[64], path[128];
    /* Garbage: not ours, and a publisher does not overwrite it either. */
    svc_name(name, sizeof name, "garbage");
    snprintf(path, sizeof path, "/dev/shm/%s", name);
    uint8_t junk[4096];
    tu_rng r = {g_seed};
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)tu_next(&r);
    write_file(path, junk, sizeof junk);
    expect_attach(name, CS_ECORRUPT, "bad magic");
    cs_shm_publisher *p = NULL;
    assert_int_equal(cs_shm_publisher_open(name, NULL, &p, NULL), CS_ECORRUPT);
    /* Shorter than a header. */
    write_file(path, junk, 100);
    expect_attach(name, CS_ECORRUPT, "shorter");
    unlink(path);

    /* A good one, then each header field broken in turn. */
    svc_name(name, sizeof name, "ctl");
    snprintf(path, sizeof path, "/dev/shm/%s", name);
    p = open_pub(name, NULL);
    publish_gen(p);
    cs_shm_publisher_close(p);
    char magic[8];
    peek(path, 0, magic, 8);
    assert_memory_equal(magic, "CSSHMCTL", 8);

    uint32_t v2, v1;
    peek(path, 8, &v1, 4);
    v2 = v1 + 1;
    poke(path, 8, &v2, 4);
    char vmsg[32];
    snprintf(vmsg, sizeof vmsg, "version %u", v2);
    expect_attach(name, CS_EVERSION, vmsg);
    assert_int_equal(cs_shm_publisher_open(name, NULL, &p, NULL), CS_EVERSION);
    poke(path, 8, &v1, 4);

    uint16_t slot32 = 32, slot64;
    peek(path, 20, &slot64, 2);
    poke(path, 20, &slot32, 2);
    expect_attach(name, CS_EVERSION, "layout");
    poke(path, 20, &slot64, 2);

    uint32_t bo = 0x04030201, bo_ok;
    peek(path, 16, &bo_ok, 4);
    poke(path, 16, &bo, 4);
    expect_attach(name, CS_EVERSION, "byte order");
    poke(path, 16, &bo_ok, 4);

    uint32_t slots_bad = 100000, slots_ok;
    peek(path, 28, &slots_ok, 4);
    poke(path, 28, &slots_bad, 4);
    expect_attach(name, CS_ECORRUPT, "slot count");
    poke(path, 28, &slots_ok, 4);

    magic[0] ^= 1;
    poke(path, 0, magic, 8);
    expect_attach(name, CS_ECORRUPT, "bad magic");
    magic[0] ^= 1;
    poke(path, 0, magic, 8);
    check_serving(name, 1);

    /* Truncated: the header is intact, the image table is not. */
    assert_int_equal(truncate(path, 1024), 0);
    expect_attach(name, CS_ECORRUPT, "truncated");
    /* Emptied (a creator that crashed before sizing it): not found for
     * readers after a short wait, replaced by a publisher. */
    assert_int_equal(truncate(path, 0), 0);
    expect_attach(name, CS_ENOTFOUND, "not initialised");
    p = open_pub(name, NULL);
    cs_shm_publisher_close(p);
}

static void shm__damaged_image_segments_are_refused(void **state)
{
    (void)state;
    char name[64], path[160];
    svc_name(name, sizeof name, "img");
    cs_shm_publisher *p = open_pub(name, NULL);
    uint64_t g = publish_gen(p);
    image_path(name, g, path, sizeof path);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    size_t len = (size_t)st.st_size;
    uint8_t *orig = malloc(len);
    peek(path, 0, orig, len);

    /* A byte inside the first section (its offset is in the section
     * table at 128; engine/image/snapshot.c has the format). */
    uint64_t sec0;
    memcpy(&sec0, orig + 128 + 8, sizeof sec0);
    assert_true(sec0 + 1 < len);
    cs_shm *h;
    cs_pin pin;
    cs_error err;
    /* Each check uses a fresh attachment: a process validates a generation
     * once, when it first maps it. */
    struct {
        const char *what;
        off_t off;
        int rc;
        const char *msg;
        unsigned flags;
    } flips[] = {
        {"a section byte", (off_t)(sec0 + 1), CS_ECORRUPT, "checksum", CS_SHM_VERIFY},
        {"the magic", 0, CS_ECORRUPT, "magic", 0},
        {"the generation", 32, CS_ECORRUPT, "carries generation", CS_SHM_VERIFY},
        {"the generation, trusted", 32, CS_ECORRUPT, "carries generation", 0},
        {"the format version", 8, CS_EVERSION, "version", 0},
    };
    for (size_t i = 0; i < sizeof flips / sizeof *flips; i++) {
        uint8_t b = orig[flips[i].off] ^ 0x10;
        poke(path, flips[i].off, &b, 1);
        assert_int_equal(cs_shm_attach(name, flips[i].flags, &h, NULL), 0);
        cs_error_clear(&err);
        int rc = cs_shm_pin(h, &pin, &err);
        if (rc != flips[i].rc || !strstr(err.message, flips[i].msg))
            fail_msg("flipped %s: %d '%s', want %d", flips[i].what, rc, err.message, flips[i].rc);
        assert_null(pin.snap);
        assert_non_null(strstr(err.source, name));
        cs_shm_info info;
        cs_shm_get_info(h, &info);
        assert_int_equal(info.slots_used, 0); /* a failed pin frees its slot */
        cs_shm_detach(h);
        poke(path, flips[i].off, &orig[flips[i].off], 1);
    }
    check_serving(name, g);

    /* Truncated at a few lengths: bounds are checked even unverified. */
    size_t cuts[] = {len / 2, len - 64, 200, 127, 0};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        assert_int_equal(truncate(path, (off_t)cuts[i]), 0);
        assert_int_equal(cs_shm_attach(name, CS_OPEN_NO_VERIFY, &h, NULL), 0);
        cs_error_clear(&err);
        int rc = cs_shm_pin(h, &pin, &err);
        if (rc != CS_ECORRUPT)
            fail_msg("cut at %zu of %zu: %d %s", cuts[i], len, rc, err.message);
        cs_shm_detach(h);
        write_file(path, orig, len);
    }
    /* Gone (removed by hand): reported, not retried forever. */
    unlink(path);
    assert_int_equal(cs_shm_attach(name, 0, &h, NULL), 0);
    cs_error_clear(&err);
    assert_int_equal(cs_shm_pin(h, &pin, &err), CS_ECORRUPT);
    assert_non_null(strstr(err.message, "missing"));
    cs_shm_detach(h);
    /* The next publish repairs the service. */
    g = publish_gen(p);
    check_serving(name, g);
    cs_shm_publisher_close(p);
    free(orig);
}

/* ---- metamorphic: heap, file, shm ----------------------------------------- */

typedef struct walk_hash {
    uint64_t h;
    uint64_t n;
} walk_hash;

static uint64_t mix(uint64_t h, uint64_t x)
{
    h ^= x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h * 0xbf58476d1ce4e5b9ull;
}

static int hash_match(size_t qi, const cs_match *m, void *ctx)
{
    walk_hash *w = ctx;
    w->h = mix(w->h, qi);
    w->h = mix(w->h, m->prefix.hi);
    w->h = mix(w->h, m->prefix.lo);
    w->h = mix(w->h, (uint64_t)m->prefix.len << 8 | m->relation);
    w->h = mix(w->h, (uint64_t)m->first_entry << 32 | m->count);
    for (uint32_t k = 0; k < m->count; k++)
        w->h = mix(w->h, m->values[k]);
    w->n++;
    return 0;
}

typedef struct answers {
    uint32_t *counts[3];
    walk_hash walks[3];
    int64_t hits;
    uint64_t lookup_hash;
} answers;

static void answer_all(const cs_snapshot *s, const cs_prefix *q, size_t nq, answers *a)
{
    static const unsigned kinds[3] = {CS_Q_COVERING, CS_Q_COVERED, CS_Q_OVERLAPPING};
    for (int k = 0; k < 3; k++) {
        a->counts[k] = malloc(nq * sizeof(uint32_t));
        assert_int_equal(cs_query_count_bulk(s, q, nq, kinds[k], a->counts[k]), 0);
        a->walks[k] = (walk_hash){0, 0};
        assert_int_equal(cs_query_walk_bulk(s, q, nq, kinds[k], hash_match, &a->walks[k]), 0);
    }
    cs_match *m = malloc(nq * sizeof *m);
    a->hits = cs_lookup_bulk(s, q, nq, m);
    walk_hash w = {0, 0};
    for (size_t i = 0; i < nq; i++)
        if (m[i].count)
            hash_match(i, &m[i], &w);
    a->lookup_hash = w.h;
    free(m);
}

static void answers_equal(const answers *x, const answers *y, size_t nq, const char *what)
{
    for (int k = 0; k < 3; k++) {
        if (memcmp(x->counts[k], y->counts[k], nq * sizeof(uint32_t)) != 0)
            fail_msg("%s: counts of kind %d differ (seed %llu)", what, k + 1, (unsigned long long)g_seed);
        if (x->walks[k].h != y->walks[k].h || x->walks[k].n != y->walks[k].n)
            fail_msg("%s: walks of kind %d differ (seed %llu)", what, k + 1, (unsigned long long)g_seed);
    }
    assert_int_equal(x->hits, y->hits);
    assert_int_equal(x->lookup_hash, y->lookup_hash);
}

static void answers_free(answers *a)
{
    for (int k = 0; k < 3; k++)
        free(a->counts[k]);
}

static void shm__heap_file_and_shm_images_answer_alike(void **state)
{
    (void)state;
    enum { N = 4000, NQ = 6000 };
    tu_rng r = {g_seed + 5};
    tu_entry *e = tu_random_entries(&r, N, 6);
    cs_snapshot *heap = tu_build(e, N);
    cs_prefix *q = malloc(NQ * sizeof *q);
    tu_random_queries(&r, e, N, q, NQ);

    char dir[] = "/tmp/cstest-shm-XXXXXX";
    assert_non_null(mkdtemp(dir));
    snprintf(g_tmpdir, sizeof g_tmpdir, "%s", dir);
    char path[128];
    snprintf(path, sizeof path, "%s/image.snap", dir);
    assert_int_equal(cs_snapshot_write(heap, path, NULL), 0);
    cs_snapshot *file = NULL;
    assert_int_equal(cs_snapshot_open(path, 0, &file, NULL), 0);

    char name[64];
    svc_name(name, sizeof name, "alike");
    cs_shm_publisher *p = open_pub(name, NULL);
    uint64_t g1;
    assert_int_equal(cs_shm_publish(p, heap, &g1, NULL), 0);
    cs_shm *h = attach(name);
    cs_pin pin;
    assert_int_equal(cs_shm_pin(h, &pin, NULL), 0);

    answers ah, af, as;
    answer_all(heap, q, NQ, &ah);
    answer_all(file, q, NQ, &af);
    answer_all(pin.snap, q, NQ, &as);
    answers_equal(&ah, &af, NQ, "heap vs file");
    answers_equal(&ah, &as, NQ, "heap vs shm");

    /* The images are the same bytes but for the generation. */
    size_t lh, ls;
    const uint8_t *ih = cs_snapshot_image(heap, &lh);
    const uint8_t *is = cs_snapshot_image(pin.snap, &ls);
    assert_int_equal(lh, ls);
    assert_memory_equal(ih, is, 32);
    assert_memory_equal(ih + 40, is + 40, lh - 40);
    cs_snapshot_info ia, ib;
    cs_snapshot_get_info(heap, &ia);
    cs_snapshot_get_info(pin.snap, &ib);
    assert_int_equal(ib.generation, g1);
    ib.generation = ia.generation;
    assert_memory_equal(&ia, &ib, sizeof ia);

    /* Republishing the file image and the pinned shm image itself gives
     * the same answers again. */
    uint64_t g2, g3;
    assert_int_equal(cs_shm_publish(p, file, &g2, NULL), 0);
    assert_int_equal(cs_shm_publish(p, pin.snap, &g3, NULL), 0);
    assert_int_equal(g3, g1 + 2);
    cs_pin pin3;
    pin_when_mapped(h, g3, &pin3);
    answers a3;
    answer_all(pin3.snap, q, NQ, &a3);
    answers_equal(&ah, &a3, NQ, "heap vs republished shm");
    /* The first pin still reads g1, untouched. */
    answers a1;
    answer_all(pin.snap, q, NQ, &a1);
    answers_equal(&ah, &a1, NQ, "heap vs the old pinned generation");
    cs_snapshot_get_info(pin.snap, &ib);
    assert_int_equal(ib.generation, g1);

    cs_shm_unpin(&pin3);
    cs_shm_unpin(&pin);
    cs_shm_detach(h);
    cs_shm_publisher_close(p);
    answers_free(&ah);
    answers_free(&af);
    answers_free(&as);
    answers_free(&a3);
    answers_free(&a1);
    cs_snapshot_close(file);
    cs_snapshot_close(heap);
    unlink(path);
    rmdir(dir);
    free(q);
    free(e);
}

/* ---- roles, modes, removal ------------------------------------------------ */

/* The direct indexes a trusted reader takes from the publisher's blob
 * (every index present: a busy IPv4 /12 with second levels, IPv6 under one
 * /24) answer as the ones a verifying reader builds and as the heap
 * image's; a damaged blob is refused by trusted readers and ignored by
 * verifying ones (CS_SHM_VERIFY flag or environment). */
static void shm__direct_indexes_travel_with_the_image(void **state)
{
    (void)state;
    enum { N4 = 40000, N6 = 20000, NQ = 20000 };
    tu_rng r = {g_seed + 11};
    tu_entry *e = malloc((N4 + N6) * sizeof *e);
    for (size_t i = 0; i < N4 + N6; i++) {
        bool v6 = i >= N4;
        unsigned len = v6 ? 40 + (unsigned)tu_below(&r, 25) : 16 + (unsigned)tu_below(&r, 13);
        cs_prefix p = tu_random_prefix(&r, v6 ? CS_AF_V6 : CS_AF_V4, len);
        if (v6)
            p.hi = ((p.hi & ((1ull << 40) - 1)) | 0x26001full << 40) & (~0ull << (64 - len));
        else
            p.hi = ((p.hi & ~(0xfffull << 52)) | 0x0a0ull << 52) & (~0ull << (64 - len));
        e[i] = (tu_entry){p, (uint32_t)i};
    }
    cs_snapshot *heap = tu_build(e, N4 + N6);
    cs_prefix *q = malloc(NQ * sizeof *q);
    tu_random_queries(&r, e, N4 + N6, q, NQ);
    char name[64], path[160];
    svc_name(name, sizeof name, "dx");
    cs_shm_publisher *p = open_pub(name, NULL);
    uint64_t g;
    assert_int_equal(cs_shm_publish(p, heap, &g, NULL), 0);
    cs_shm *ht, *hv;
    assert_int_equal(cs_shm_attach(name, 0, &ht, NULL), 0);
    assert_int_equal(cs_shm_attach(name, CS_SHM_VERIFY, &hv, NULL), 0);
    cs_pin pt, pv;
    assert_int_equal(cs_shm_pin(ht, &pt, NULL), 0);
    assert_int_equal(cs_shm_pin(hv, &pv, NULL), 0);
    answers ah, at, av;
    answer_all(heap, q, NQ, &ah);
    answer_all(pt.snap, q, NQ, &at);
    answer_all(pv.snap, q, NQ, &av);
    answers_equal(&ah, &at, NQ, "heap vs trusted shm (indexes from the blob)");
    answers_equal(&ah, &av, NQ, "heap vs verifying shm (indexes built)");
    answers_free(&ah);
    answers_free(&at);
    answers_free(&av);
    cs_shm_unpin(&pt);
    cs_shm_unpin(&pv);
    cs_shm_detach(ht);
    cs_shm_detach(hv);

    /* the blob starts right after the image: damage its magic */
    image_path(name, g, path, sizeof path);
    uint64_t image_len;
    peek(path, 48, &image_len, sizeof image_len);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    uint8_t m0, bad;
    peek(path, (off_t)image_len, &m0, 1);
    bad = m0 ^ 0x20;
    poke(path, (off_t)image_len, &bad, 1);
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_shm_attach(name, 0, &ht, NULL), 0);
    assert_int_equal(cs_shm_pin(ht, &pt, &err), CS_ECORRUPT);
    assert_non_null(strstr(err.message, "direct-index"));
    cs_shm_detach(ht);
    assert_int_equal(cs_shm_attach(name, CS_SHM_VERIFY, &hv, NULL), 0);
    assert_int_equal(cs_shm_pin(hv, &pv, NULL), 0);
    cs_shm_unpin(&pv);
    cs_shm_detach(hv);
    setenv("CS_SHM_VERIFY", "1", 1);
    assert_int_equal(cs_shm_attach(name, 0, &hv, NULL), 0);
    cs_error_clear(&err);
    int rc = cs_shm_pin(hv, &pv, &err);
    unsetenv("CS_SHM_VERIFY");
    if (rc)
        fail_msg("CS_SHM_VERIFY=1: pin %d %s", rc, err.message);
    cs_shm_unpin(&pv);
    cs_shm_detach(hv);
    poke(path, (off_t)image_len, &m0, 1);
    cs_shm_publisher_close(p);
    cs_snapshot_close(heap);
    free(q);
    free(e);
}

static void shm__second_server_is_refused(void **state)
{
    (void)state;
    char name[64];
    svc_name(name, sizeof name, "serve");
    cs_shm_options serve = {.flags = CS_SHM_SERVE};
    cs_shm_publisher *s1 = open_pub(name, &serve);
    cs_shm_publisher *s2 = NULL;
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_shm_publisher_open(name, &serve, &s2, &err), CS_EBUSY);
    assert_non_null(strstr(err.message, "serve"));
    /* A one-shot publisher may publish into the running service. */
    cs_shm_publisher *once = open_pub(name, NULL);
    assert_int_equal(publish_gen(once), 1);
    cs_shm_publisher_close(once);
    assert_int_equal(publish_gen(s1), 2);
    cs_shm_publisher_close(s1);

    /* A server in another process that dies: its role is taken over. */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t kid = fork();
    assert_true(kid >= 0);
    if (kid == 0) {
        cs_shm_publisher *cp = NULL;
        char ok = cs_shm_publisher_open(name, &serve, &cp, NULL) >= 0;
        if (write(fds[1], &ok, 1) != 1)
            _exit(5);
        for (;;)
            pause();
    }
    track_child(kid);
    char ok = 0;
    assert_int_equal(read(fds[0], &ok, 1), 1);
    assert_true(ok);
    close(fds[0]);
    close(fds[1]);
    assert_int_equal(cs_shm_publisher_open(name, &serve, &s2, NULL), CS_EBUSY);
    cs_shm *h = attach(name);
    cs_shm_info info;
    cs_shm_get_info(h, &info);
    assert_int_equal(info.server_pid, kid);
    assert_true(info.server_alive);
    kill(kid, SIGKILL);
    reap(kid);
    s2 = open_pub(name, &serve);
    cs_shm_get_info(h, &info);
    assert_int_equal(info.server_pid, getpid());
    cs_shm_publisher_close(s2);
    cs_shm_get_info(h, &info);
    assert_int_equal(info.server_pid, 0);
    cs_shm_detach(h);
}

static void shm__segments_get_the_requested_mode(void **state)
{
    (void)state;
    mode_t old = umask(077); /* the mode must win over the umask */
    /* requested, control and image segments (never writable but by the
     * owner), reader table (writable wherever readable) */
    unsigned modes[][4] = {{0, 0600, 0600, 0600},
                           {0640, 0640, 0640, 0660},
                           {0660, 0640, 0640, 0660},
                           {0666, 0644, 0644, 0666},
                           {0604, 0604, 0604, 0606}};
    for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
        char name[64], path[300], what[16];
        snprintf(what, sizeof what, "mode%o", modes[i][0]);
        svc_name(name, sizeof name, what);
        cs_shm_publisher *p = open_pub(name, &(cs_shm_options){.mode = modes[i][0]});
        uint64_t g = publish_gen(p);
        cs_shm_publisher_close(p);
        struct stat st;
        snprintf(path, sizeof path, "/dev/shm/%s", name);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, modes[i][1]);
        image_path(name, g, path, sizeof path);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, modes[i][2]);
        reader_table_path(name, path, sizeof path);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, modes[i][3]);
    }
    umask(old);
}

/* The same user cannot make a segment another's, but can give it a mode no
 * service would: what fstat sees decides, before any byte is read. */
static void shm__loose_or_foreign_segments_are_refused(void **state)
{
    (void)state;
    char name[64], path[160];
    svc_name(name, sizeof name, "loose");
    snprintf(path, sizeof path, "/dev/shm/%s", name);
    cs_shm_publisher *p = open_pub(name, NULL);
    uint64_t g = publish_gen(p);
    cs_shm_publisher_close(p);
    check_serving(name, g);
    /* A control segment others may write: readers and publishers refuse. */
    assert_int_equal(chmod(path, 0622), 0);
    expect_attach(name, CS_ECONFLICT, "mode 0622");
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_shm_publisher_open(name, NULL, &p, &err), CS_ECONFLICT);
    assert_non_null(strstr(err.message, "no write bit for group or other"));
    assert_int_equal(chmod(path, 0600), 0);
    check_serving(name, g);
    /* An image segment others may write: that pin is refused. */
    char img[160];
    image_path(name, g, img, sizeof img);
    assert_int_equal(chmod(img, 0646), 0);
    cs_shm *h = attach(name);
    cs_pin pin;
    cs_error_clear(&err);
    assert_int_equal(cs_shm_pin(h, &pin, &err), CS_ECONFLICT);
    assert_non_null(strstr(err.message, "mode 0646"));
    cs_shm_detach(h);
    assert_int_equal(chmod(img, 0600), 0);
    /* A reader naming another owner refuses ours; naming us accepts. */
    cs_shm_attach_options ao = {.owner_uid = (int64_t)geteuid() + 1};
    h = NULL;
    cs_error_clear(&err);
    assert_int_equal(cs_shm_attach_with(name, &ao, &h, &err), CS_ECONFLICT);
    assert_null(h);
    assert_non_null(strstr(err.message, "expected owner"));
    ao.owner_uid = (int64_t)geteuid();
    assert_int_equal(cs_shm_attach_with(name, &ao, &h, NULL), 0);
    assert_int_equal(cs_shm_pin(h, &pin, NULL), 0);
    cs_shm_unpin(&pin);
    cs_shm_detach(h);
}

/* Names of the old scheme, or guesses of the new one, pre-created by
 * someone else do not stop a publish; every publish picks a fresh name. */
static void shm__image_names_are_unpredictable(void **state)
{
    (void)state;
    char name[64], path[200];
    svc_name(name, sizeof name, "squat");
    const char *squats[] = {"%s.2", "%s.3", "%s@2", "%s@2.0000000000000000", "%s@3.ffffffffffffffff"};
    for (size_t i = 0; i < sizeof squats / sizeof *squats; i++) {
        char seg[96];
        snprintf(seg, sizeof seg, squats[i], name);
        snprintf(path, sizeof path, "/dev/shm/%s", seg);
        write_file(path, "x", 1);
    }
    cs_shm_publisher *p = open_pub(name, NULL);
    char seen[4][160];
    for (int k = 0; k < 4; k++) {
        uint64_t g = publish_gen(p);
        image_path(name, g, seen[k], sizeof seen[k]);
        for (int j = 0; j < k; j++)
            assert_string_not_equal(seen[j] + strlen("/dev/shm/") + strlen(name) + 3,
                                    seen[k] + strlen("/dev/shm/") + strlen(name) + 3);
        check_serving(name, g);
    }
    cs_shm_publisher_close(p);
}

/* Other readers write the reader table: garbage there must not stop a
 * reader or a publisher. */
static void shm__garbage_in_the_reader_table_is_survived(void **state)
{
    (void)state;
    char name[64];
    svc_name(name, sizeof name, "garbage-slots");
    cs_shm_publisher *p = open_pub(name, &(cs_shm_options){.readers = 4});
    publish_gen(p);
    char rdr[300];
    reader_table_path(name, rdr, sizeof rdr);
    assert_true(rdr[0]);
    /* Every slot: a pid that names no process (negative, too large) or a
     * dead one, and a generation that never existed. */
    int32_t pids[4] = {-7, 0x7ffffff0, 999999999, -1};
    for (int sl = 0; sl < 4; sl++) {
        uint64_t gen = 0xdeadbeef00ull + (uint64_t)sl;
        poke(rdr, 64 + 64 * sl, &pids[sl], 4);
        poke(rdr, 64 + 64 * sl + 8, &gen, 8);
    }
    uint8_t junk[64];
    memset(junk, 0xa5, sizeof junk);
    poke(rdr, 0, junk, sizeof junk); /* the header too: nothing trusts it */
    for (int k = 0; k < 3; k++)
        check_serving(name, publish_gen(p));
    assert_int_equal(cs_shm_reclaim(p, NULL) >= 0, 1);
    cs_shm *h = attach(name);
    cs_shm_info info;
    cs_shm_get_info(h, &info);
    assert_int_equal(info.images, 1); /* the garbage kept nothing alive */
    cs_shm_detach(h);
    cs_shm_publisher_close(p);
}

/* Whoever may pin may also ftruncate the reader table: readers and the
 * publisher must survive it (no SIGBUS), and the publisher repairs it. */
static void shm__truncated_reader_table_is_survived(void **state)
{
    (void)state;
    char name[64];
    svc_name(name, sizeof name, "trunc");
    cs_shm_publisher *p = open_pub(name, &(cs_shm_options){.readers = 8});
    uint64_t g = publish_gen(p);
    char rdr[300];
    reader_table_path(name, rdr, sizeof rdr);
    cs_shm *h = attach(name);
    cs_pin pin;
    assert_int_equal(cs_shm_pin(h, &pin, NULL), 0);
    cs_shm_unpin(&pin);
    assert_int_equal(truncate(rdr, 0), 0);
    /* the reader's next slot access faults: it carries on */
    for (int k = 0; k < 3; k++) {
        cs_error err;
        cs_error_clear(&err);
        if (cs_shm_pin(h, &pin, &err) != 0)
            fail_msg("pin after truncation: %s", err.message);
        assert_int_equal(pin.generation, g);
        cs_shm_unpin(&pin);
    }
    /* the publisher faults too, carries on, and repairs at its reclaim */
    g = publish_gen(p);
    assert_int_equal(cs_shm_reclaim(p, NULL) >= 0, 1);
    struct stat st;
    assert_int_equal(stat(rdr, &st), 0);
    assert_true(st.st_size >= 64 + 8 * 64);
    check_serving(name, g);
    pin_when_mapped(h, g, &pin);
    cs_shm_unpin(&pin);
    cs_shm_detach(h);
    /* a fault outside any reader table still kills, as SIGBUS always did */
    pid_t kid = fork();
    assert_true(kid >= 0);
    if (kid == 0) {
        /* no handler but the guard (cmocka's would catch it) */
        signal(SIGBUS, SIG_DFL);
        cs_shm *guarded = NULL;
        if (cs_shm_attach(name, 0, &guarded, NULL) != 0)
            _exit(2);
        char path[] = "/tmp/cstest-bus-XXXXXX";
        int fd = mkstemp(path);
        unlink(path);
        if (fd < 0 || ftruncate(fd, 4096) != 0)
            _exit(3);
        volatile char *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
        if (m == MAP_FAILED || ftruncate(fd, 0) != 0)
            _exit(4);
        char c = m[10];
        _exit(c == 0 ? 5 : 6);
    }
    int status = reap(kid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGBUS);
    cs_shm_publisher_close(p);
}

/* A generation losing more than max_shrink percent of the VPCs is refused
 * (and shown) until forced. */
static void shm__shrink_guard_refuses_until_forced(void **state)
{
    (void)state;
    char name[64];
    svc_name(name, sizeof name, "shrink");
    cs_shm_publisher *p = open_pub(name, &(cs_shm_options){.max_shrink = 10});
    tu_rng r = {g_seed + 77};
    tu_entry *e = tu_random_entries(&r, 1000, 4);
    cs_snapshot *full = tu_build(e, 1000), *less = tu_build(e, 905), *half = tu_build(e, 500);
    uint64_t g;
    assert_int_equal(cs_shm_publish(p, full, &g, NULL), 0);
    cs_shm *h = attach(name);
    cs_shm_info info;
    cs_shm_get_info(h, &info);
    uint64_t vpcs_full = info.vpcs;
    assert_true(vpcs_full > 0);
    assert_int_equal(info.refused_unix, 0);
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_shm_publish(p, half, &g, &err), CS_ERANGE);
    assert_non_null(strstr(err.message, "keeps serving"));
    cs_shm_get_info(h, &info);
    assert_int_equal(info.generation, 1);
    assert_true(info.refused_unix > 0);
    assert_int_equal(info.refused_prev_vpcs, vpcs_full);
    assert_true(info.refused_vpcs < vpcs_full);
    /* 9.5% fewer: within the guard. */
    assert_int_equal(cs_shm_publish(p, less, &g, &err), 0);
    assert_int_equal(g, 2);
    cs_shm_get_info(h, &info);
    assert_int_equal(info.refused_unix, 0); /* a publish clears the refusal */
    assert_int_equal(cs_shm_publish(p, half, &g, &err), CS_ERANGE);
    assert_int_equal(cs_shm_publish_with(p, half, CS_SHM_FORCE, &g, &err), 0);
    assert_int_equal(g, 3);
    cs_shm_get_info(h, &info);
    assert_int_equal(info.refused_unix, 0);
    cs_shm_detach(h);
    cs_snapshot_close(full);
    cs_snapshot_close(less);
    cs_snapshot_close(half);
    free(e);
    cs_shm_publisher_close(p);
}

static void shm__removed_service_keeps_pinned_images(void **state)
{
    (void)state;
    char name[64];
    svc_name(name, sizeof name, "removed");
    cs_shm_publisher *p = open_pub(name, NULL);
    uint64_t g = publish_gen(p);
    publish_gen(p);
    cs_shm *h = attach(name);
    cs_pin pin;
    assert_int_equal(cs_shm_pin(h, &pin, NULL), 0);
    assert_int_equal(cs_shm_unlink(p, NULL), 0);
    int has_ctl;
    uint64_t gens[4];
    assert_int_equal(list_images(name, gens, 4, &has_ctl), 0);
    assert_false(has_ctl);
    /* The pinned image is still mapped and whole. */
    cs_snapshot_info info;
    cs_snapshot_get_info(pin.snap, &info);
    assert_int_equal(info.generation, g + 1);
    uint32_t c;
    cs_prefix all = {.family = CS_AF_V4, .len = 0};
    assert_int_equal(cs_query_count_bulk(pin.snap, &all, 1, CS_Q_COVERED, &c), 0);
    assert_int_equal(c, info.entries[0]);
    cs_pin pin2;
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_shm_pin(h, &pin2, &err), CS_ENOTFOUND);
    assert_non_null(strstr(err.message, "removed"));
    cs_shm_unpin(&pin);
    cs_shm_detach(h);
    assert_int_equal(cs_shm_publish(p, NULL, NULL, NULL), CS_EINVAL);
    cs_snapshot *s = gen_snapshot(9);
    assert_int_equal(cs_shm_publish(p, s, NULL, NULL), CS_ESTATE);
    cs_snapshot_close(s);
    cs_shm_publisher_close(p);
    expect_attach(name, CS_ENOTFOUND, NULL);
}

/* ---- the serve and publish verbs ------------------------------------------ */

/* Runs the cidrscope binary with argv (argv[0] included), stdout and stderr
 * to `out` (or /dev/null). Background when `bg`: returns the pid; else the
 * exit status (-1 when it did not exit). */
static int run_cli(const char *const *argv, const char *out, bool bg)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(out ? out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(CS_CLI_PATH, (char *const *)argv);
        _exit(127);
    }
    track_child(pid);
    if (bg)
        return pid;
    int st = reap(pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int stop_cli(pid_t pid, int sig)
{
    kill(pid, sig);
    int st = reap(pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Replaces `path` atomically (as an editor or a deploy would). */
static void replace_file(const char *path, const char *text)
{
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s.new", path);
    write_file(tmp, text, strlen(text));
    assert_int_equal(rename(tmp, path), 0);
}

/* Waits up to 10 s for the service to reach generation `want`. */
static void wait_generation(const char *name, uint64_t want)
{
    uint64_t deadline = now_ns() + 10000000000ull, g = 0;
    cs_shm *h = NULL;
    while (now_ns() < deadline) {
        if (!h && cs_shm_attach(name, 0, &h, NULL) != 0)
            h = NULL;
        if (h && (g = cs_shm_generation(h)) >= want)
            break;
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    }
    cs_shm_detach(h);
    if (g != want)
        fail_msg("%s: generation %llu, waited for %llu", name, (unsigned long long)g, (unsigned long long)want);
}

/* Entries of the current generation, and the value of the longest prefix
 * holding `addr` (UINT32_MAX when none). */
static uint32_t served_entries(const char *name, const char *addr, uint32_t *value)
{
    cs_shm *h = attach(name);
    cs_pin pin;
    assert_int_equal(cs_shm_pin(h, &pin, NULL), 0);
    cs_snapshot_info info;
    cs_snapshot_get_info(pin.snap, &info);
    cs_prefix a;
    assert_int_equal(cs_address_parse(addr, strlen(addr), 0, &a, NULL), 0);
    cs_match m;
    *value = cs_lookup(pin.snap, &a, &m) == 1 ? m.values[0] : UINT32_MAX;
    cs_shm_unpin(&pin);
    cs_shm_detach(h);
    return info.entries[0] + info.entries[1];
}

static void shm__cli_serve_and_publish(void **state)
{
    (void)state;
    char dir[] = "/tmp/cstest-cli-XXXXXX";
    assert_non_null(mkdtemp(dir));
    snprintf(g_tmpdir, sizeof g_tmpdir, "%s", dir);
    char list[128], bad[128], snap[128], log[128];
    snprintf(list, sizeof list, "%s/vpcs.csv", dir);
    snprintf(bad, sizeof bad, "%s/bad.csv", dir);
    snprintf(snap, sizeof snap, "%s/image.snap", dir);
    snprintf(log, sizeof log, "%s/serve.log", dir);
    char name[64];
    svc_name(name, sizeof name, "cli");
    uint32_t v;

    write_file(list, "owner,prefix\nvpc-a,10.0.0.0/16\nvpc-b,10.0.1.0/24\n# comment\nvpc-c,2001:db8::/32\n", 79);
    const char *pub[] = {"cidrscope", "publish", name, list, NULL};
    assert_int_equal(run_cli(pub, NULL, false), 0);
    wait_generation(name, 1);
    assert_int_equal(served_entries(name, "10.0.1.7", &v), 3);
    assert_int_equal(v, 1); /* vpc-b: the second entry */

    /* Bad input is refused before the service is touched. */
    write_file(bad, "vpc-x,10.0.0.1/16\n", 18);
    const char *pub_bad[] = {"cidrscope", "publish", name, bad, NULL};
    assert_int_equal(run_cli(pub_bad, NULL, false), 2);
    wait_generation(name, 1);

    /* serve publishes at start, then follows the list. */
    const char *serve[] = {"cidrscope", "serve", name, list, "--interval", "0.05", "--settle", "0.2", NULL};
    pid_t server = run_cli(serve, log, true);
    wait_generation(name, 2);
    assert_int_equal(run_cli(serve, NULL, false), 3); /* one server per NAME */
    replace_file(list, "vpc-a,10.0.0.0/16\nvpc-b,10.0.1.0/24\nvpc-c,2001:db8::/32\nvpc-d,10.9.0.0/16\n");
    wait_generation(name, 3);
    assert_int_equal(served_entries(name, "10.9.3.4", &v), 4);
    assert_int_equal(v, 3);

    /* publish into the running service: a snapshot file. */
    tu_rng r = {g_seed + 9};
    tu_entry *e = tu_random_entries(&r, 500, 4);
    cs_snapshot *heap = tu_build(e, 500);
    assert_int_equal(cs_snapshot_write(heap, snap, NULL), 0);
    const char *pub_snap[] = {"cidrscope", "publish", name, snap, NULL};
    assert_int_equal(run_cli(pub_snap, NULL, false), 0);
    wait_generation(name, 4);
    assert_int_equal(served_entries(name, "10.9.3.4", &v), 500);

    /* A broken source: reported, generation 4 keeps serving. */
    replace_file(list, "vpc-a,10.0.0.0/33\n");
    nanosleep(&(struct timespec){0, 600000000}, NULL);
    wait_generation(name, 4);

    /* SIGTERM: stops cleanly, the service stays. */
    assert_int_equal(stop_cli(server, SIGTERM), 0);
    int has_ctl;
    uint64_t gens[8];
    assert_int_equal(list_images(name, gens, 8, &has_ctl), 1);
    assert_true(has_ctl);
    assert_int_equal(gens[0], 4);
    FILE *f = fopen(log, "r");
    assert_non_null(f);
    char text[4096];
    size_t tl = fread(text, 1, sizeof text - 1, f);
    text[tl] = '\0';
    fclose(f);
    assert_non_null(strstr(text, "generation 3 published"));
    assert_non_null(strstr(text, "keeps serving"));
    assert_non_null(strstr(text, "stays published"));

    /* --unlink-on-exit: SIGINT removes everything. */
    replace_file(list, "vpc-a,10.0.0.0/16\n");
    const char *serve_rm[] = {"cidrscope", "serve", name, list, "--interval", "0", "--settle", "0.2", "--max-shrink", "0", "--unlink-on-exit", NULL};
    server = run_cli(serve_rm, NULL, true);
    wait_generation(name, 5);
    assert_int_equal(stop_cli(server, SIGINT), 0);
    assert_int_equal(list_images(name, gens, 8, &has_ctl), 0);
    assert_false(has_ctl);

    const char *help[] = {"cidrscope", "serve", "--help", NULL};
    assert_int_equal(run_cli(help, NULL, false), 0);
    const char *usage[] = {"cidrscope", "publish", name, NULL};
    assert_int_equal(run_cli(usage, NULL, false), 2);
    const char *mode[] = {"cidrscope", "publish", "--mode", "999", name, list, NULL};
    assert_int_equal(run_cli(mode, NULL, false), 2);

    cs_snapshot_close(heap);
    free(e);
    unlink(list);
    unlink(bad);
    unlink(snap);
    unlink(log);
    rmdir(dir);
}

static void write_vpcs(const char *dir, const char *account, const char *region, const char *vpc,
                       const char *cidr)
{
    char path[256], tmp[256], text[512];
    snprintf(path, sizeof path, "%s/%s", dir, account);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/%s/%s", dir, account, region);
    mkdir(path, 0700);
    int n = snprintf(text, sizeof text,
                     "{\"Vpcs\": [{\"OwnerId\": \"%s\", \"IsDefault\": false, \"VpcId\": \"%s\", "
                     "\"State\": \"available\", \"CidrBlock\": \"%s\"}]}\n",
                     account, vpc, cidr);
    /* Written beside the tree, then renamed in: the server never reads
     * half a file. */
    snprintf(tmp, sizeof tmp, "%s.vpcs.tmp", dir);
    write_file(tmp, text, (size_t)n);
    snprintf(path, sizeof path, "%s/%s/%s/vpcs.json", dir, account, region);
    assert_int_equal(rename(tmp, path), 0);
}

static void shm__cli_serve_follows_an_estate_directory(void **state)
{
    (void)state;
    char dir[] = "/tmp/cstest-dir-XXXXXX";
    assert_non_null(mkdtemp(dir));
    snprintf(g_tmpdir, sizeof g_tmpdir, "%s", dir);
    char tree[128], log[128];
    snprintf(tree, sizeof tree, "%s/estate", dir);
    snprintf(log, sizeof log, "%s/serve.log", dir);
    assert_int_equal(mkdir(tree, 0700), 0);
    write_vpcs(tree, "111122223333", "us-east-1", "vpc-0a000000000000001", "10.140.0.0/16");
    char name[64];
    svc_name(name, sizeof name, "tree");
    const char *serve[] = {"cidrscope", "serve", name, tree, "--interval", "0.05", "--settle", "0.2", NULL};
    pid_t server = run_cli(serve, log, true);
    wait_generation(name, 1);
    uint32_t v;
    assert_int_equal(served_entries(name, "10.140.1.1", &v), 1);
    /* A new account/region two levels down is noticed and served. */
    write_vpcs(tree, "444455556666", "eu-west-1", "vpc-0b000000000000002", "10.150.0.0/16");
    wait_generation(name, 2);
    assert_int_equal(served_entries(name, "10.150.9.9", &v), 2);
    cs_shm *h = attach(name);
    cs_pin pin;
    assert_int_equal(cs_shm_pin(h, &pin, NULL), 0);
    cs_snapshot_info info;
    cs_snapshot_get_info(pin.snap, &info);
    assert_true(info.has_estate); /* the estate's tables are served too */
    cs_shm_unpin(&pin);
    cs_shm_detach(h);
    assert_int_equal(stop_cli(server, SIGTERM), 0);
}

int main(void)
{
    g_seed = tu_seed("test_shm", 0x5eed5bbull);
    snprintf(g_prefix, sizeof g_prefix, "cstest%d-", (int)getpid());
    setvbuf(stdout, NULL, _IOLBF, 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(shm__bad_names_are_refused, cleanup),
        cmocka_unit_test_teardown(shm__segments_get_the_requested_mode, cleanup),
        cmocka_unit_test_teardown(shm__loose_or_foreign_segments_are_refused, cleanup),
        cmocka_unit_test_teardown(shm__image_names_are_unpredictable, cleanup),
        cmocka_unit_test_teardown(shm__garbage_in_the_reader_table_is_survived, cleanup),
        cmocka_unit_test_teardown(shm__shrink_guard_refuses_until_forced, cleanup),
        cmocka_unit_test_teardown(shm__truncated_reader_table_is_survived, cleanup),
        cmocka_unit_test_teardown(shm__heap_file_and_shm_images_answer_alike, cleanup),
        cmocka_unit_test_teardown(shm__direct_indexes_travel_with_the_image, cleanup),
        cmocka_unit_test_teardown(shm__damaged_control_segments_are_refused, cleanup),
        cmocka_unit_test_teardown(shm__damaged_image_segments_are_refused, cleanup),
        cmocka_unit_test_teardown(shm__removed_service_keeps_pinned_images, cleanup),
        cmocka_unit_test_teardown(shm__second_server_is_refused, cleanup),
        cmocka_unit_test_teardown(shm__full_slot_table_reuses_dead_slots, cleanup),
        cmocka_unit_test_teardown(shm__pin_mapped_keeps_the_mapped_generation_until_refresh, cleanup),
        cmocka_unit_test_teardown(shm__pin_maps_new_generations_ahead, cleanup),
        cmocka_unit_test_teardown(shm__reuse_rewrites_only_unpinned_segments, cleanup),
        cmocka_unit_test_teardown(shm__fallback_refuses_a_reused_segment, cleanup),
        cmocka_unit_test_teardown(shm__reusing_publisher_killed_at_every_step_leaks_nothing, cleanup),
        cmocka_unit_test_teardown(shm__cli_serve_and_publish, cleanup),
        cmocka_unit_test_teardown(shm__cli_serve_follows_an_estate_directory, cleanup),
        cmocka_unit_test_teardown(shm__killed_readers_slots_are_reclaimed, cleanup),
        cmocka_unit_test_teardown(shm__publisher_killed_at_every_step_leaves_previous_generation, cleanup),
        cmocka_unit_test_teardown(shm__threads_pin_through_one_attachment, cleanup),
        cmocka_unit_test_teardown(shm__threads_pin_while_segments_are_reused, cleanup),
        cmocka_unit_test_teardown(shm__readers_agree_with_their_generation_under_publishing, cleanup),
        cmocka_unit_test_teardown(shm__readers_agree_while_segments_are_reused, cleanup),
    };
    int failed = cmocka_run_group_tests(tests, NULL, cleanup);
    cleanup(NULL);
    return failed;
}
