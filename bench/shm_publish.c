/*
 * bench/shm_publish.c — what one publish of a large image costs the
 * publisher (issue 13: the soak's publish every 200 ms), for
 * bench/results-shm.md.
 *
 * Does: opens two snapshot files once, creates a fresh service, publishes
 * them in turn --warmup times untimed (so a reusing publisher has its spare,
 * as a running one always does), then --count times timed, each publish in
 * wall time (CLOCK_MONOTONIC) and in the process's CPU time (getrusage:
 * user + system, which is where writing and freeing tmpfs pages shows);
 * prints one line "publish N wall_ms cpu_ms" per publish and the medians;
 * removes the service. No reader runs, so the publisher frees the retired
 * segments' pages itself. --reuse publishes with CS_SHM_REUSE.
 * Does not: run under ctest (timing lives in bench/).
 *
 * usage: bench_shm_publish A.snap B.snap [--count N] [--warmup W] [--reuse]
 * It uses only the public API, so the same source built against another
 * commit's library measures that commit (bench/shm_stall.sh does).
 */
#include <cidrscope/shm.h>
#include <cidrscope/snapshot.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#ifndef CS_SHM_REUSE
#define CS_SHM_REUSE (1u << 2) /* an older header: the library ignores it */
#endif

static double wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double cpu_ms(void)
{
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return (double)(r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e3 +
           (double)(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e3;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, unsigned n)
{
    qsort(v, n, sizeof *v, cmp_d);
    return n ? (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2) : 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_shm_publish A.snap B.snap [--count N] [--warmup W] [--reuse]\n");
        return 2;
    }
    unsigned count = 20, warmup = 2;
    cs_shm_options o = {0};
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--count") && i + 1 < argc)
            count = (unsigned)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--warmup") && i + 1 < argc)
            warmup = (unsigned)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reuse"))
            o.flags |= CS_SHM_REUSE;
        else {
            fprintf(stderr, "bench_shm_publish: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    cs_error err;
    cs_snapshot *s[2];
    for (int k = 0; k < 2; k++)
        if (cs_snapshot_open(argv[1 + k], CS_OPEN_NO_VERIFY, &s[k], &err)) {
            fprintf(stderr, "bench_shm_publish: %s: %s\n", argv[1 + k], err.message);
            return 1;
        }
    char name[64];
    snprintf(name, sizeof name, "csbench_publish_%d", (int)getpid());
    cs_shm_publisher *p = NULL;
    if (cs_shm_publisher_open(name, &o, &p, &err) < 0) {
        fprintf(stderr, "bench_shm_publish: %s\n", err.message);
        return 1;
    }
    double *w = calloc(count ? count : 1, sizeof *w), *c = calloc(count ? count : 1, sizeof *c);
    int rc = 0;
    for (unsigned i = 0; i < warmup + count && rc == 0; i++) {
        double w0 = wall_ms(), c0 = cpu_ms();
        rc = cs_shm_publish(p, s[i & 1], NULL, &err);
        double dw = wall_ms() - w0, dc = cpu_ms() - c0;
        if (rc)
            fprintf(stderr, "bench_shm_publish: publish: %s\n", err.message);
        else if (i >= warmup) {
            w[i - warmup] = dw;
            c[i - warmup] = dc;
            printf("publish %u %.2f %.2f\n", i - warmup, dw, dc);
        }
    }
    size_t len;
    cs_snapshot_image(s[0], &len);
    if (rc == 0)
        printf("bench_shm_publish: image %.1f MB, %u publishes%s: median wall %.2f ms, cpu %.2f ms\n",
               (double)len / 1e6, count, o.flags & CS_SHM_REUSE ? " (CS_SHM_REUSE)" : "",
               median(w, count), median(c, count));
    cs_shm_unlink(p, NULL);
    cs_shm_publisher_close(p);
    cs_snapshot_close(s[0]);
    cs_snapshot_close(s[1]);
    free(w);
    free(c);
    return rc ? 1 : 0;
}
