/*
 * bench/shm_stall.c — the reader stall while generations are published
 * (issue 14: "longest query batch <= 1.2x the batch without publishes, with
 * plain cs_shm_pin").
 *
 * Does: a child process publishes A.snap and B.snap in turn into a fresh
 * service every --interval-ms (default 50) during the PUBLISHING phases and
 * not at all during the QUIET phases (they alternate, --rounds of each, so
 * machine noise falls on both alike); the parent is one reader looping
 * pin (plain cs_shm_pin) -> cs_query_count_bulk of --batch random IPv4
 * prefixes -> unpin, timing every batch in wall time and in the thread's
 * CPU time (CLOCK_THREAD_CPUTIME_ID: what the reader itself spent, not the
 * time the 2-core box gave to others). Prints per phase the batch count,
 * median, p99 and longest batch, the pins that mapped a new generation and
 * what those pins cost, and the ratio of the longest batches. Every
 * batch's counts are checked against the counts of the snapshot the pin's
 * generation came from (A for odd, B for even generations), so a fast but
 * wrong pin shows as an error, not as speed.
 * Does not: run under ctest (timing lives in bench/).
 *
 * usage: bench_shm_stall A.snap B.snap [--seconds S] [--rounds R]
 *        [--batch Q] [--interval-ms MS] [--verify] [--reuse]
 * --reuse: the publisher reuses retired segments (CS_SHM_REUSE).
 * bench/shm_stall.sh makes the snapshots and runs it; figures in
 * bench/results-shm.md.
 */
#define _GNU_SOURCE
#include <cidrscope/prefix.h>
#include <cidrscope/query.h>
#include <cidrscope/shm.h>
#include <cidrscope/snapshot.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void die(const char *what, const cs_error *err)
{
    fprintf(stderr, "bench_shm_stall: %s: %s\n", what, err ? err->message : strerror(errno));
    exit(1);
}

/* The publisher child: 'p' on the pipe starts publishing every interval,
 * 'q' stops, EOF ends. Publishes A for odd generations, B for even. */
static void publisher(const char *name, cs_snapshot *s[2], int ctl, int ready, unsigned interval_ms,
                      unsigned pub_flags)
{
    cs_error err;
    cs_shm_publisher *p = NULL;
    cs_shm_options o = {.flags = pub_flags};
    if (cs_shm_publisher_open(name, &o, &p, &err) < 0)
        die("publisher_open", &err);
    uint64_t gen = 0;
    if (cs_shm_publish(p, s[0], &gen, &err))
        die("publish", &err);
    if (write(ready, "r", 1) != 1)
        die("ready", NULL);
    bool on = false;
    for (;;) {
        struct pollfd pfd = {.fd = ctl, .events = POLLIN};
        int r = poll(&pfd, 1, on ? (int)interval_ms : -1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r > 0) {
            char c;
            if (read(ctl, &c, 1) != 1)
                break;
            on = c == 'p';
            continue;
        }
        if (cs_shm_publish(p, s[(gen + 1) & 1 ? 0 : 1], &gen, &err))
            die("publish", &err);
    }
    cs_shm_unlink(p, &err);
    cs_shm_publisher_close(p);
    _exit(0);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct phase {
    double *wall, *cpu; /* per batch */
    size_t n, cap;
    double newpin_wall_max, newpin_cpu_max, newpin_cpu_sum;
    size_t newpins;
} phase;

static void add(phase *ph, double w, double c)
{
    if (ph->n == ph->cap) {
        ph->cap = ph->cap ? ph->cap * 2 : 4096;
        ph->wall = realloc(ph->wall, ph->cap * sizeof *ph->wall);
        ph->cpu = realloc(ph->cpu, ph->cap * sizeof *ph->cpu);
        if (!ph->wall || !ph->cpu)
            die("realloc", NULL);
    }
    ph->wall[ph->n] = w;
    ph->cpu[ph->n++] = c;
}

static void stats(double *v, size_t n, double *med, double *p99, double *max)
{
    qsort(v, n, sizeof *v, cmp_d);
    *med = n ? v[n / 2] : 0;
    *p99 = n ? v[(size_t)((double)(n - 1) * 0.99)] : 0;
    *max = n ? v[n - 1] : 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_shm_stall A.snap B.snap [--seconds S] [--rounds R] [--batch Q] [--interval-ms MS] [--verify] [--reuse]\n");
        return 2;
    }
    double seconds = 20;
    unsigned rounds = 5, batch = 2048, interval_ms = 50, flags = 0, pub_flags = 0;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = (unsigned)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc)
            batch = (unsigned)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--interval-ms") && i + 1 < argc)
            interval_ms = (unsigned)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--verify"))
            flags |= CS_SHM_VERIFY;
        else if (!strcmp(argv[i], "--reuse"))
            pub_flags |= CS_SHM_REUSE;
        else {
            fprintf(stderr, "bench_shm_stall: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    cs_error err;
    cs_snapshot *s[2];
    for (int k = 0; k < 2; k++)
        if (cs_snapshot_open(argv[1 + k], CS_OPEN_NO_VERIFY, &s[k], &err))
            die(argv[1 + k], &err);
    /* queries: random /16../28 inside 10.0.0.0/8 (where generated estates
     * live) and a few anywhere */
    cs_prefix *q = malloc(batch * sizeof *q);
    uint32_t *got = malloc(batch * sizeof *got), *want[2];
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (unsigned i = 0; i < batch; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        char t[32];
        unsigned len = 16 + (unsigned)(x % 13);
        uint32_t a = (i % 8) ? (10u << 24) | (uint32_t)(x >> 40 & 0xffffff) : (uint32_t)(x >> 32);
        a &= len ? ~0u << (32 - len) : 0;
        snprintf(t, sizeof t, "%u.%u.%u.%u/%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255, len);
        if (cs_prefix_parse(t, strlen(t), 0, &q[i], &err) < 0)
            die(t, &err);
    }
    for (int k = 0; k < 2; k++) {
        want[k] = malloc(batch * sizeof *want[k]);
        if (cs_query_count_bulk(s[k], q, batch, CS_Q_OVERLAPPING, want[k]))
            die("count", NULL);
    }
    if (!memcmp(want[0], want[1], batch * sizeof *want[0]))
        fprintf(stderr, "bench_shm_stall: warning: A and B answer alike; wrong generations would go unseen\n");

    char name[64];
    snprintf(name, sizeof name, "csbench_stall_%d", (int)getpid());
    int ctl[2], ready[2];
    if (pipe(ctl) || pipe(ready))
        die("pipe", NULL);
    pid_t child = fork();
    if (child < 0)
        die("fork", NULL);
    if (child == 0) {
        close(ctl[1]);
        close(ready[0]);
        publisher(name, s, ctl[0], ready[1], interval_ms, pub_flags);
    }
    close(ctl[0]);
    close(ready[1]);
    char c;
    if (read(ready[0], &c, 1) != 1)
        die("publisher did not start", NULL);
    cs_shm_attach_options ao = {.flags = flags, .owner_uid = -1};
    cs_shm *h = NULL;
    if (cs_shm_attach_with(name, &ao, &h, &err))
        die("attach", &err);

    phase ph[2] = {{0}}; /* [0] quiet, [1] publishing */
    size_t wrong = 0;
    uint64_t last_gen = 0, gens_seen = 0;
    double per = seconds * 1e3 / (2.0 * rounds);
    for (unsigned r = 0; r < 2 * rounds; r++) {
        int pub = r & 1;
        if (write(ctl[1], pub ? "p" : "q", 1) != 1)
            die("control", NULL);
        double end = now(CLOCK_MONOTONIC) + per;
        while (now(CLOCK_MONOTONIC) < end) {
            double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_THREAD_CPUTIME_ID);
            cs_pin pin;
            if (cs_shm_pin(h, &pin, &err))
                die("pin", &err);
            double w1 = now(CLOCK_MONOTONIC), c1 = now(CLOCK_THREAD_CPUTIME_ID);
            bool fresh = pin.generation != last_gen;
            if (cs_query_count_bulk(pin.snap, q, batch, CS_Q_OVERLAPPING, got))
                die("count", NULL);
            uint64_t g = pin.generation;
            cs_shm_unpin(&pin);
            double w2 = now(CLOCK_MONOTONIC), c2 = now(CLOCK_THREAD_CPUTIME_ID);
            if (memcmp(got, want[g & 1 ? 0 : 1], batch * sizeof *got))
                wrong++;
            if (fresh) {
                gens_seen++;
                last_gen = g;
            }
            if (!pub && fresh)
                continue; /* a publish of the phase before, mapped late */
            add(&ph[pub], w2 - w0, c2 - c0);
            if (fresh && pub) {
                ph[1].newpins++;
                ph[1].newpin_cpu_sum += c1 - c0;
                if (w1 - w0 > ph[1].newpin_wall_max)
                    ph[1].newpin_wall_max = w1 - w0;
                if (c1 - c0 > ph[1].newpin_cpu_max)
                    ph[1].newpin_cpu_max = c1 - c0;
            }
        }
    }
    close(ctl[1]);
    int status;
    waitpid(child, &status, 0);
    cs_shm_detach(h);

    size_t img_len;
    cs_snapshot_image(s[0], &img_len);
    printf("bench_shm_stall: image %.1f MB, batch %u queries, publish every %u ms, %g s in %u+%u phases%s%s\n",
           (double)img_len / 1e6, batch, interval_ms, seconds, rounds, rounds,
           flags & CS_SHM_VERIFY ? ", CS_SHM_VERIFY (full validation)" : ", plain cs_shm_pin (trusted)",
           pub_flags & CS_SHM_REUSE ? ", publisher CS_SHM_REUSE" : "");
    double m[2][2][3];
    for (int p = 0; p < 2; p++) {
        stats(ph[p].wall, ph[p].n, &m[p][0][0], &m[p][0][1], &m[p][0][2]);
        stats(ph[p].cpu, ph[p].n, &m[p][1][0], &m[p][1][1], &m[p][1][2]);
        printf("  %-10s %7zu batches  cpu ms: median %.3f p99 %.3f longest %.3f   wall ms: median %.3f p99 %.3f longest %.3f\n",
               p ? "publishing" : "quiet", ph[p].n, m[p][1][0], m[p][1][1], m[p][1][2], m[p][0][0], m[p][0][1],
               m[p][0][2]);
    }
    printf("  new generations pinned while publishing: %zu; those pins cost cpu ms mean %.3f, longest %.3f (wall longest %.3f)\n",
           ph[1].newpins, ph[1].newpins ? ph[1].newpin_cpu_sum / (double)ph[1].newpins : 0, ph[1].newpin_cpu_max,
           ph[1].newpin_wall_max);
    printf("  longest batch publishing / quiet: cpu %.2fx, wall %.2fx; p99 cpu %.2fx; wrong batches %zu of %zu\n",
           m[1][1][2] / m[0][1][2], m[1][0][2] / m[0][0][2], m[1][1][1] / m[0][1][1], wrong, ph[0].n + ph[1].n);
    cs_snapshot_close(s[0]);
    cs_snapshot_close(s[1]);
    return wrong ? 1 : 0;
}
