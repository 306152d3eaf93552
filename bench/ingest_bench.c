/*
 * bench/ingest_bench.c — CPU time of cs_estate_load on one source, through
 * the public API only, so the same file builds against this tree and
 * against a80251a (bench/ingest_bench.sh compiles it twice, side by side).
 *
 * usage: ingest_bench [--reps N] [--threads T] PATH
 *   Loads PATH into a fresh estate N times (default 5) and prints one line:
 *   "PATH records=R cpu_ms_median=C wall_ms_median=W records_per_cpu_s=X"
 *   where R is the estate's record count (cs_estate_build_counts: VPCs +
 *   associations + peerings + edges) of the last load. --threads T sets
 *   cs_load_options.threads where the library has it (CS_BENCH_HAS_THREADS),
 *   else is refused. CPU time is the process's (all threads), so a two-thread
 *   load is compared by wall time.
 * Exit: 0, 1 load failure (message on stderr), 2 usage.
 */
#include <cidrscope/estate.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    int reps = 5, threads = 0;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!path)
            path = argv[i];
        else
            path = NULL, i = argc;
    }
    if (!path || reps < 1 || reps > 100) {
        fprintf(stderr, "usage: ingest_bench [--reps N] [--threads T] PATH\n");
        return 2;
    }
    cs_load_options opts;
    memset(&opts, 0, sizeof opts);
#ifdef CS_BENCH_HAS_THREADS
    opts.threads = (unsigned)threads;
#else
    if (threads > 1) {
        fprintf(stderr, "ingest_bench: this library has no threaded load\n");
        return 2;
    }
#endif
    double cpu[100], wall[100];
    uint64_t records = 0;
    for (int r = 0; r < reps; r++) {
        cs_estate *e = cs_estate_new();
        cs_error err;
        memset(&err, 0, sizeof err);
        double c0 = now_ms(CLOCK_PROCESS_CPUTIME_ID), w0 = now_ms(CLOCK_MONOTONIC);
        int rc = e ? cs_estate_load(e, path, &opts, &err) : -1;
        double c1 = now_ms(CLOCK_PROCESS_CPUTIME_ID), w1 = now_ms(CLOCK_MONOTONIC);
        if (rc < 0) {
            fprintf(stderr, "ingest_bench: %s: %s\n", path, err.message);
            cs_estate_free(e);
            return 1;
        }
        cs_estate_counts n;
        cs_estate_build_counts(e, &n);
        records = (uint64_t)n.vpcs + n.assocs + n.peerings + n.edges;
        cs_estate_free(e);
        cpu[r] = c1 - c0;
        wall[r] = w1 - w0;
    }
    qsort(cpu, (size_t)reps, sizeof *cpu, cmp_d);
    qsort(wall, (size_t)reps, sizeof *wall, cmp_d);
    double c = cpu[reps / 2], w = wall[reps / 2];
    printf("%s records=%llu cpu_ms_median=%.1f wall_ms_median=%.1f records_per_cpu_s=%.0f\n",
           path, (unsigned long long)records, c, w, c > 0 ? (double)records / (c / 1e3) : 0.0);
    return 0;
}
