/*
 * bench/audit_bench.c — CPU time of the org-wide audit (cs_audit_run) on an
 * estate read from sources, for bench/results-audit.md. Uses only the
 * public API that a80251a already had, so the same file builds against an
 * old library and the new one and both are timed in one run
 * (bench/audit_bench.sh).
 *
 * usage: audit_bench REPEAT SOURCE...
 * prints: blocks, VPCs, then per mode (entry level; VPC level = summary,
 * clusters, groups, listed pairs) the median and the best CPU time of
 * REPEAT runs (at most 64) in ms and the overlapping VPC pairs found (the
 * two builds must agree). AB_ENTRY_ONLY=1 skips the VPC level,
 * AB_VPC_ONLY=1 the entry level.
 */
#define _POSIX_C_SOURCE 200809L

#include <cidrscope/audit.h>
#include <cidrscope/estate.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: audit_bench REPEAT SOURCE...\n");
        return 2;
    }
    int repeat = atoi(argv[1]);
    if (repeat < 1)
        repeat = 1;
    if (repeat > 64)
        repeat = 64;
    cs_estate *e = cs_estate_new();
    cs_error err;
    cs_error_clear(&err);
    cs_load_options lo;
    memset(&lo, 0, sizeof lo);
    for (int i = 2; i < argc; i++)
        if (cs_estate_load(e, argv[i], &lo, &err) < 0) {
            fprintf(stderr, "%s: %s\n", argv[i], err.message);
            return 1;
        }
    cs_snapshot *s = NULL;
    if (cs_estate_freeze(e, &s, &err) < 0) {
        fprintf(stderr, "freeze: %s\n", err.message);
        return 1;
    }
    cs_estate_free(e);
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    printf("blocks %u vpcs %u\n", c.live[0] + c.live[1], c.vpcs);
    const unsigned modes[2] = {CS_AUDIT_ENTRY_LEVEL, 0};
    int m0 = getenv("AB_VPC_ONLY") ? 1 : 0;
    int nm = getenv("AB_ENTRY_ONLY") ? 1 : 2;
    const char *names[2] = {"entry-level", "vpc-level"};
    for (int m = m0; m < nm; m++) {
        double ts[64];
        cs_audit_summary sum;
        for (int k = 0; k < repeat; k++) {
            cs_audit_options o;
            memset(&o, 0, sizeof o);
            o.flags = modes[m];
            cs_audit_result *r = NULL;
            double t0 = cpu_ms();
            if (cs_audit_run(s, &o, &r, &err) < 0) {
                fprintf(stderr, "audit: %s\n", err.message);
                return 1;
            }
            ts[k] = cpu_ms() - t0;
            cs_audit_get_summary(r, &sum);
            cs_audit_free(r);
        }
        for (int i = 1; i < repeat; i++) /* insertion sort: a few runs */
            for (int j = i; j > 0 && ts[j - 1] > ts[j]; j--) {
                double x = ts[j];
                ts[j] = ts[j - 1];
                ts[j - 1] = x;
            }
        double med = repeat % 2 ? ts[repeat / 2] : (ts[repeat / 2 - 1] + ts[repeat / 2]) / 2;
        printf("%s median %.1f ms best %.1f ms vpc_pairs %llu entry_pairs %llu clusters %llu\n",
               names[m], med, ts[0],
               (unsigned long long)sum.overlapping_vpc_pairs,
               (unsigned long long)sum.overlapping_entry_pairs,
               (unsigned long long)sum.clusters);
    }
    cs_snapshot_close(s);
    return 0;
}
