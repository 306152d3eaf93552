/*
 * bench/bench_ipam.c — allocation latency of cs_ipam_alloc (first,
 * best-fit, spread) on pools holding 10k, 100k and 1M stored blocks, IPv4
 * (a /8 pool; blocks /24../28, allocations /24; at 1M blocks /28 ones,
 * allocations /28, as 1M larger blocks do not fit a /8) and IPv6 (a /32
 * pool, blocks /48../64, allocations /56).
 * Two figures per strategy, in microseconds of CPU time (the machine is
 * shared): the median of R calls allocating one block ("1 block"), and the
 * median of R calls allocating 1,000 blocks divided by 1,000 ("per block of
 * 1,000"). Before them, on the fresh snapshot: "cold first", the first
 * cs_ipam_alloc (one `first` block: a one-shot command's cost), then "cold
 * best-fit", the first best-fit call (one block), which builds the image's
 * index of free holes (engine/query/ipam_index.c) if the first did not;
 * every later call reuses it. The
 * snapshot's blocks are avoided; nothing is reserved between calls.
 * Seeded; figures go to bench/results-ipam.md.
 *
 * usage: bench_ipam [R]   (default 21)
 */
#define _POSIX_C_SOURCE 200809L
#include <cidrscope/ipam.h>
#include <cidrscope/snapshot.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* n random blocks inside pool (v4 10.0.0.0/8 or v6 2600:1f00::/32). */
static cs_snapshot *estate(int v6, size_t n, uint64_t seed)
{
    cs_snapshot_builder *b = cs_snapshot_builder_new();
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) {
        cs_prefix p;
        if (!v6) {
            unsigned len = n >= 1000000 ? 28 : 24 + (unsigned)(rng(&s) % 5);
            p = cs_prefix_from_v4(0x0a000000u | ((uint32_t)rng(&s) & 0x00ffffffu), len);
        } else {
            unsigned len = 48 + (unsigned)(rng(&s) % 17);
            uint64_t hi = 0x26001f0000000000ull | (rng(&s) & 0x00000000ffffffffull);
            p = cs_prefix_from_v6(hi, rng(&s), len);
        }
        if (cs_snapshot_builder_add(b, &p, (uint32_t)i, NULL) != 0)
            exit(1);
    }
    cs_snapshot *snap = NULL;
    if (cs_snapshot_builder_freeze(b, &snap, NULL) != 0)
        exit(1);
    cs_snapshot_builder_free(b);
    return snap;
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 21;
    if (reps < 1 || reps > 1000)
        reps = 21;
    static const size_t sizes[] = {10000, 100000, 1000000};
    static const char *const sname[] = {"first", "best-fit", "spread"};
    double *t = calloc((size_t)reps, sizeof *t);
    printf("| family | pool | blocks | length | cold first | cold best-fit | first 1 | "
           "first /1000 | best-fit 1 | best-fit /1000 | spread 1 | spread /1000 |\n");
    printf("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    enum { MANY = 1000 };
    cs_ipam_allocation *a = calloc(MANY, sizeof *a);
    for (int v6 = 0; v6 < 2; v6++)
        for (size_t k = 0; k < 3; k++) {
            cs_snapshot *s = estate(v6, sizes[k], 0x9e3779b97f4a7c15ull + k);
            cs_prefix pool;
            cs_prefix_parse(v6 ? "2600:1f00::/32" : "10.0.0.0/8", v6 ? 14 : 10, 0, &pool, NULL);
            unsigned len = v6 ? 56 : sizes[k] >= 1000000 ? 28 : 24;
            double med[3][2];
            double cold[2];
            for (unsigned st = 0; st < 2; st++) {
                cs_ipam_request q0 = {.pools = &pool, .n_pools = 1, .length = len, .count = 1,
                                      .strategy = st};
                double t0 = now_us();
                if (cs_ipam_alloc(s, &q0, a, NULL) != 1)
                    return 1;
                cold[st] = now_us() - t0;
            }
            for (unsigned st = 0; st < 3; st++)
                for (int many = 0; many < 2; many++) {
                    size_t count = many ? MANY : 1;
                    for (int r = 0; r < reps; r++) {
                        cs_ipam_request q = {.pools = &pool, .n_pools = 1, .length = len,
                                             .count = count, .strategy = st};
                        double t1 = now_us();
                        int64_t n = cs_ipam_alloc(s, &q, a, NULL);
                        t[r] = (now_us() - t1) / (double)count;
                        if (n != (int64_t)count) {
                            fprintf(stderr, "%s: %lld blocks\n", sname[st], (long long)n);
                            return 1;
                        }
                    }
                    qsort(t, (size_t)reps, sizeof *t, cmp_d);
                    med[st][many] = t[reps / 2];
                }
            printf("| IPv%d | %s | %zu | /%u | %.1f | %.1f | %.2f | %.2f | %.2f | %.2f | %.2f | "
                   "%.2f |\n",
                   v6 ? 6 : 4, v6 ? "2600:1f00::/32" : "10.0.0.0/8", sizes[k], len, cold[0],
                   cold[1], med[0][0],
                   med[0][1], med[1][0], med[1][1], med[2][0], med[2][1]);
            fflush(stdout);
            cs_snapshot_close(s);
        }
    free(a);
    free(t);
    return 0;
}
