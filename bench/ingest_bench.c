/*
 * bench/ingest_bench.c — CPU time of cs_estate_load on one source, through
 * the public API only, so the same file builds against this tree and
 * against a80251a (bench/ingest_bench.sh compiles it twice, side by side).
 *
 * usage: ingest_bench [--reps N] [--keep-going] [--threads T] PATH
 *   Loads PATH into a fresh estate N times (default 5) and prints one line:
 *   "PATH records=R rejected=J cpu_ms_median=C wall_ms_median=W
 *   main_thread_cpu_ms_median=M records_per_cpu_s=X peak_kb=K" where M is
 *   the CPU time of the loading thread alone (with --threads T > 1 the
 *   helpers' time is C - M), R is the estate's record count
 *   (cs_estate_build_counts: VPCs + associations + peerings + edges) of the
 *   last load and K the process's peak RSS (getrusage) — with --reps 1 the
 *   peak of one load, which is what a 5M-line prefix list costs to read.
 *   A load that stops at a bad record still counts (issue 13 item 12 reads
 *   a list whose last line is bad); --keep-going sets the load option;
 *   --threads T sets cs_load_options.threads (an estate directory parsed on
 *   T threads; only when built with -DIB_THREADS, as a80251a has no such
 *   option).
 * Exit: 0, 1 load failure other than bad input (message on stderr), 2 usage.
 */
#include <cidrscope/estate.h>

#include <stdbool.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now_ms(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int reps = 5;
    bool keep_going = false;
    int threads = 1;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--keep-going"))
            keep_going = true;
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!path)
            path = argv[i];
        else
            path = NULL, i = argc;
    }
#ifndef IB_THREADS
    if (threads != 1)
        path = NULL; /* this build's library has no threads option */
#endif
    if (!path || reps < 1 || reps > 100 || threads < 1) {
        fprintf(stderr, "usage: ingest_bench [--reps N] [--keep-going] [--threads T] PATH\n");
        return 2;
    }
    cs_load_options opts;
    memset(&opts, 0, sizeof opts);
    opts.keep_going = keep_going;
#ifdef IB_THREADS
    opts.threads = (unsigned)threads;
#endif
    double cpu[100], wall[100], main_cpu[100];
    uint64_t records = 0;
    int rejected = 0;
    for (int r = 0; r < reps; r++) {
        cs_estate *e = cs_estate_new();
        cs_error err;
        memset(&err, 0, sizeof err);
        double c0 = now_ms(CLOCK_PROCESS_CPUTIME_ID), w0 = now_ms(CLOCK_MONOTONIC),
               t0 = now_ms(CLOCK_THREAD_CPUTIME_ID);
        int rc = e ? cs_estate_load(e, path, &opts, &err) : -1;
        double c1 = now_ms(CLOCK_PROCESS_CPUTIME_ID), w1 = now_ms(CLOCK_MONOTONIC),
               t1 = now_ms(CLOCK_THREAD_CPUTIME_ID);
        if (rc < 0 && rc != CS_EPARSE && rc != CS_EINVAL && rc != CS_ECONFLICT) {
            fprintf(stderr, "ingest_bench: %s: %s\n", path, err.message);
            cs_estate_free(e);
            return 1;
        }
        rejected = rc < 0 ? -1 : rc;
        cs_estate_counts n;
        cs_estate_build_counts(e, &n);
        records = (uint64_t)n.vpcs + n.assocs + n.peerings + n.edges;
        cs_estate_free(e);
        cpu[r] = c1 - c0;
        wall[r] = w1 - w0;
        main_cpu[r] = t1 - t0;
    }
    qsort(cpu, (size_t)reps, sizeof *cpu, cmp_d);
    qsort(wall, (size_t)reps, sizeof *wall, cmp_d);
    qsort(main_cpu, (size_t)reps, sizeof *main_cpu, cmp_d);
    double c = cpu[reps / 2], w = wall[reps / 2], m = main_cpu[reps / 2];
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%s records=%llu rejected=%d cpu_ms_median=%.1f wall_ms_median=%.1f "
           "main_thread_cpu_ms_median=%.1f records_per_cpu_s=%.0f peak_kb=%ld\n",
           path, (unsigned long long)records, rejected, c, w, m,
           c > 0 ? (double)records / (c / 1e3) : 0.0, ru.ru_maxrss);
    return 0;
}
