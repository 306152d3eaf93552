/*
 * bench/peers/peer_cidrscope.c — cidrscope's side of `make bench-peers`.
 *
 *   peer_cidrscope DIR estate|real|org ROWS RUNS QUERIES
 *
 * (org: the prefix list named by CS_BENCH_ORG_CSV, `gen --shape org`'s
 * blocks as bench/peers/run.sh writes them)
 *
 * Builds the dataset (bench/harness.c, the same seed as cs_bench), checks
 * cidrscope against itself (bulk == single == iterator, pairs via queries ==
 * a sweep), and writes every peer's inputs and the expected answers to DIR:
 *
 *   rows.txt             one prefix per row (duplicates kept), row order
 *   queries-v4.txt       QUERIES overlap queries (and -v6)
 *   expect-count-v4.txt  overlapping entries per query, one a line
 *   addrs-v4.txt         QUERIES addresses for longest-prefix match
 *   expect-lpm-v4.txt    matched prefix length per address, -1 for a miss
 *   expect-pairs.txt     "v4 N", "v6 N", "all N": overlapping entry pairs
 *   info.txt             dataset name, rows, distinct prefixes per family
 *
 * Then it reads those files back (so cidrscope is timed on exactly what the
 * peers read) and times each workload RUNS times (CPU time of this process),
 * printing one TSV line per workload on stdout:
 *
 *   dataset family workload impl items median_s min_s max_s runs note
 *
 * Slow peers answer only the first K lines of the same query files; rates
 * are per query, so they compare with the rate measured here on all of them.
 */
#include "harness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SEED 0x636964727363ull /* as bench_main.cc */
#define ENUM_QUERIES 10000     /* enumeration is output-bound */

static const char *fam_name[2] = {"v4", "v6"};

static void path_in(char *buf, size_t cap, const char *dir, const char *file)
{
    if ((size_t)snprintf(buf, cap, "%s/%s", dir, file) >= cap)
        hb_die("path too long: %s/%s", dir, file);
}

/* Reads one prefix (or address, with CS_PARSE_BARE_ADDRESS) per line. */
static cs_prefix *read_prefixes(const char *path, size_t expect, unsigned flags)
{
    FILE *f = fopen(path, "r");
    if (!f)
        hb_die("cannot read %s: %s", path, strerror(errno));
    cs_prefix *out = malloc((expect ? expect : 1) * sizeof *out);
    if (!out)
        hb_die("out of memory");
    char line[128];
    size_t k = 0;
    while (fgets(line, sizeof line, f)) {
        size_t len = strcspn(line, "\n");
        cs_error err;
        if (k == expect)
            hb_die("%s: more than %zu lines", path, expect);
        if (cs_prefix_parse(line, len, flags, &out[k], &err) != 0)
            hb_die("%s:%zu: %s", path, k + 1, err.message);
        k++;
    }
    fclose(f);
    if (k != expect)
        hb_die("%s: %zu lines, expected %zu", path, k, expect);
    return out;
}

static void same_prefixes(const char *what, const cs_prefix *a, const cs_prefix *b,
                          size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i].hi != b[i].hi || a[i].lo != b[i].lo || a[i].len != b[i].len ||
            a[i].family != b[i].family)
            hb_die("%s: line %zu does not read back as written", what, i + 1);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* One workload's timings, seconds. */
typedef struct timing {
    double t[64];
    unsigned n;
} timing;

static void emit(const char *ds, const char *fam, const char *workload, size_t items,
                 timing *tm, const char *note)
{
    qsort(tm->t, tm->n, sizeof tm->t[0], cmp_double);
    double med = tm->n % 2 ? tm->t[tm->n / 2]
                           : (tm->t[tm->n / 2 - 1] + tm->t[tm->n / 2]) / 2;
    printf("%s\t%s\t%s\tcidrscope\t%zu\t%.9f\t%.9f\t%.9f\t%u\t%s\n", ds, fam, workload,
           items, med, tm->t[0], tm->t[tm->n - 1], tm->n, note);
    fflush(stdout);
}

/* Seconds of this process's CPU since t0 (hb_cpu_ns): every peer is timed
 * by its own CPU time, so the load of a shared machine does not count. */
static double secs(uint64_t t0)
{
    return (double)(hb_cpu_ns() - t0) / 1e9;
}

int main(int argc, char **argv)
{
    hb_limit_memory();
    if (argc != 6) {
        fprintf(stderr, "usage: %s DIR estate|real|org ROWS RUNS QUERIES\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    enum hb_kind kind;
    const char *org_csv = NULL;
    if (strcmp(argv[2], "estate") == 0)
        kind = HB_ESTATE;
    else if (strcmp(argv[2], "real") == 0)
        kind = HB_REAL;
    else if (strcmp(argv[2], "org") == 0 && (org_csv = getenv("CS_BENCH_ORG_CSV")) != NULL)
        kind = HB_REAL; /* a prefix list (`gen --shape org`'s blocks), read as the real one */
    else
        hb_die("dataset kind must be estate, real or org (with CS_BENCH_ORG_CSV), not '%s'",
               argv[2]);
    size_t rows = hb_parse_scale(argv[3]), nq = hb_parse_scale(argv[5]);
    unsigned runs = (unsigned)atoi(argv[4]);
    if (!rows || !nq || runs < 1 || runs > 64)
        hb_die("bad ROWS, RUNS (1..64) or QUERIES");
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        hb_die("cannot create %s: %s", dir, strerror(errno));

    /* ---- the dataset, checked, and the peers' files ---- */
    hb_dataset *d;
    if (org_csv) {
        size_t n;
        hb_row *r = hb_real_rows(org_csv, rows, SEED, &n);
        char label[32], dsname[48];
        hb_scale_label(n, label, sizeof label);
        snprintf(dsname, sizeof dsname, "org-%s", label);
        d = hb_dataset_from_rows(dsname, kind, r, n);
    } else {
        d = hb_dataset_new(kind, rows, SEED);
    }
    char path[4096], name[64];
    path_in(path, sizeof path, dir, "rows.txt");
    hb_write_rows(path, d->rows, d->n_rows);
    cs_prefix *q[2], *a[2];
    uint32_t *counts = malloc(nq * sizeof *counts);
    cs_match *matches = malloc(nq * sizeof *matches);
    if (!counts || !matches)
        hb_die("out of memory");
    uint64_t pairs[2] = {0, 0};
    hb_pairs_scratch *sc = hb_pairs_scratch_new(d->snap);
    for (unsigned f = 0; f < 2; f++) {
        q[f] = hb_overlap_queries(d, f, nq, SEED + 1 + f);
        a[f] = hb_lookup_addrs(d, f, nq, SEED + 3 + f);
        if (d->n_distinct[f])
            hb_verify(d, q[f], nq, a[f], nq, f);
        snprintf(name, sizeof name, "queries-%s.txt", fam_name[f]);
        path_in(path, sizeof path, dir, name);
        hb_write_prefixes(path, q[f], nq);
        snprintf(name, sizeof name, "addrs-%s.txt", fam_name[f]);
        path_in(path, sizeof path, dir, name);
        hb_write_addrs(path, a[f], nq);
        hb_count_bulk(d->snap, q[f], nq, counts);
        snprintf(name, sizeof name, "expect-count-%s.txt", fam_name[f]);
        path_in(path, sizeof path, dir, name);
        hb_write_u32s(path, counts, nq);
        hb_lookup_bulk(d->snap, a[f], nq, matches);
        snprintf(name, sizeof name, "expect-lpm-%s.txt", fam_name[f]);
        path_in(path, sizeof path, dir, name);
        hb_write_lpm(path, matches, nq);
        pairs[f] = hb_pairs(d->snap, f, sc);
    }
    path_in(path, sizeof path, dir, "expect-pairs.txt");
    FILE *pf = fopen(path, "w");
    if (!pf)
        hb_die("cannot write %s", path);
    fprintf(pf, "v4 %llu\nv6 %llu\nall %llu\n", (unsigned long long)pairs[0],
            (unsigned long long)pairs[1], (unsigned long long)(pairs[0] + pairs[1]));
    fclose(pf);
    path_in(path, sizeof path, dir, "info.txt");
    pf = fopen(path, "w");
    if (!pf)
        hb_die("cannot write %s", path);
    fprintf(pf, "dataset %s\nrows %zu\nrows_v4 %zu\nrows_v6 %zu\ndistinct_v4 %zu\n"
                "distinct_v6 %zu\nimage_bytes %zu\nqueries %zu\n",
            d->name, d->n_rows, d->n_family_rows[0], d->n_family_rows[1],
            d->n_distinct[0], d->n_distinct[1], d->image_len, nq);
    fclose(pf);

    /* ---- read the files back: cidrscope is timed on what the peers read ---- */
    path_in(path, sizeof path, dir, "rows.txt");
    cs_prefix *rp = read_prefixes(path, d->n_rows, 0);
    hb_row *rows_in = malloc(d->n_rows * sizeof *rows_in);
    if (!rows_in)
        hb_die("out of memory");
    for (size_t i = 0; i < d->n_rows; i++) {
        rows_in[i].p = rp[i];
        rows_in[i].value = (uint32_t)i;
    }
    for (size_t i = 0; i < d->n_rows; i++)
        if (cs_prefix_compare(&rp[i], &d->rows[i].p) != 0)
            hb_die("rows.txt: line %zu does not read back as written", i + 1);
    free(rp);
    for (unsigned f = 0; f < 2; f++) {
        snprintf(name, sizeof name, "queries-%s.txt", fam_name[f]);
        path_in(path, sizeof path, dir, name);
        cs_prefix *back = read_prefixes(path, nq, 0);
        same_prefixes(path, back, q[f], nq);
        free(q[f]);
        q[f] = back;
        snprintf(name, sizeof name, "addrs-%s.txt", fam_name[f]);
        path_in(path, sizeof path, dir, name);
        back = read_prefixes(path, nq, CS_PARSE_BARE_ADDRESS);
        same_prefixes(path, back, a[f], nq);
        free(a[f]);
        a[f] = back;
    }

    /* ---- timings ---- */
    const char *ds = d->name;
    char note[160];
    timing tm;
    volatile uint64_t sink = 0;

    tm.n = 0;
    for (unsigned r = 0; r < runs; r++) {
        uint64_t t0 = hb_cpu_ns();
        cs_snapshot *s = hb_build(rows_in, d->n_rows);
        tm.t[tm.n++] = secs(t0);
        cs_snapshot_close(s);
    }
    snprintf(note, sizeof note, "image %zu B = %.1f B/entry; builder %.1f MiB",
             d->image_len, (double)d->image_len / (double)d->n_rows,
             (double)d->builder_bytes / 1048576.0);
    emit(ds, "all", "build", d->n_rows, &tm, note);

    for (unsigned f = 0; f < 2; f++) {
        if (!d->n_distinct[f])
            continue;
        const cs_snapshot *s = d->snap;
        tm.n = 0;
        for (unsigned r = 0; r < runs; r++) {
            uint64_t t0 = hb_cpu_ns();
            sink += hb_count_bulk(s, q[f], nq, counts);
            tm.t[tm.n++] = secs(t0);
        }
        emit(ds, fam_name[f], "count", nq, &tm, "cs_query_count_bulk");
        tm.n = 0;
        for (unsigned r = 0; r < runs; r++) {
            uint64_t t0 = hb_cpu_ns();
            sink += hb_count_single(s, q[f], nq, counts);
            tm.t[tm.n++] = secs(t0);
        }
        emit(ds, fam_name[f], "count-single", nq, &tm, "cs_query_count");
        size_t ne = nq < ENUM_QUERIES ? nq : ENUM_QUERIES;
        uint64_t entries = 0;
        tm.n = 0;
        for (unsigned r = 0; r < runs; r++) {
            uint64_t x = 0, t0 = hb_cpu_ns();
            entries = hb_enumerate(s, q[f], ne, &x);
            tm.t[tm.n++] = secs(t0);
            sink ^= x;
        }
        snprintf(note, sizeof note, "entries=%llu", (unsigned long long)entries);
        emit(ds, fam_name[f], "enumerate", ne, &tm, note);
        tm.n = 0;
        for (unsigned r = 0; r < runs; r++) {
            uint64_t t0 = hb_cpu_ns();
            sink += hb_lookup_bulk(s, a[f], nq, matches);
            tm.t[tm.n++] = secs(t0);
        }
        emit(ds, fam_name[f], "lpm", nq, &tm, "cs_lookup_bulk");
        tm.n = 0;
        for (unsigned r = 0; r < runs; r++) {
            uint64_t t0 = hb_cpu_ns();
            sink += hb_lookup_single(s, a[f], nq, matches);
            tm.t[tm.n++] = secs(t0);
        }
        emit(ds, fam_name[f], "lpm-single", nq, &tm, "cs_lookup");
    }

    /* The overlapping entry pairs, counted (cs_query_count_pairs: what the
     * sorted sweep's timed loop computes, over a structure already built);
     * then the audit's entry level, which also builds every cluster, timed
     * apart; and the query API's count as a cross-check of both. */
    tm.n = 0;
    uint64_t counted = 0;
    for (unsigned r = 0; r < runs; r++) {
        uint64_t t0 = hb_cpu_ns();
        if (cs_query_count_pairs(d->snap, 0, &counted) != 0)
            hb_die("cs_query_count_pairs failed");
        tm.t[tm.n++] = secs(t0);
    }
    if (counted != pairs[0] + pairs[1])
        hb_die("%s: cs_query_count_pairs counts %llu overlapping entry pairs, the query API "
               "%llu",
               ds, (unsigned long long)counted, (unsigned long long)(pairs[0] + pairs[1]));
    snprintf(note, sizeof note, "pairs=%llu (cs_query_count_pairs: the count alone)",
             (unsigned long long)counted);
    emit(ds, "all", "pairs", d->n_rows, &tm, note);

    hb_audit_figures af;
    tm.n = 0;
    for (unsigned r = 0; r < runs; r++) {
        uint64_t t0 = hb_cpu_ns();
        hb_audit(d->snap, 1, &af);
        tm.t[tm.n++] = secs(t0);
    }
    if (af.entry_pairs != pairs[0] + pairs[1])
        hb_die("%s: the audit counts %llu overlapping entry pairs, the query API %llu",
               ds, (unsigned long long)af.entry_pairs,
               (unsigned long long)(pairs[0] + pairs[1]));
    snprintf(note, sizeof note, "pairs=%llu, clusters=%llu (cs_audit_run, entry level)",
             (unsigned long long)af.entry_pairs, (unsigned long long)af.clusters);
    emit(ds, "all", "audit-entry", d->n_rows, &tm, note);

    tm.n = 0;
    uint64_t total = 0;
    for (unsigned r = 0; r < runs; r++) {
        uint64_t t0 = hb_cpu_ns();
        total = hb_pairs(d->snap, 0, sc) + hb_pairs(d->snap, 1, sc);
        tm.t[tm.n++] = secs(t0);
    }
    if (total != pairs[0] + pairs[1])
        hb_die("pair count changed between runs");
    snprintf(note, sizeof note, "pairs=%llu (/0 walk + bulk covered counts)",
             (unsigned long long)total);
    emit(ds, "all", "pairs-query-api", d->n_rows, &tm, note);

    /* The full audit (VPC level) on the rows as an estate image. */
    if (kind == HB_ESTATE) {
        size_t vpcs = 0;
        cs_snapshot *est = hb_estate_image(d, SEED + 7, &vpcs);
        hb_pairs_scratch *esc = hb_pairs_scratch_new(est);
        uint64_t want = hb_pairs(est, 0, esc) + hb_pairs(est, 1, esc);
        hb_pairs_scratch_free(esc);
        tm.n = 0;
        for (unsigned r = 0; r < runs; r++) {
            uint64_t t0 = hb_cpu_ns();
            hb_audit(est, 0, &af);
            tm.t[tm.n++] = secs(t0);
        }
        if (af.entry_pairs != want)
            hb_die("%s estate image: the audit counts %llu overlapping entry pairs, the "
                   "query API %llu",
                   ds, (unsigned long long)af.entry_pairs, (unsigned long long)want);
        snprintf(note, sizeof note, "%zu VPCs, %llu overlapping VPC pairs, clusters=%llu",
                 vpcs, (unsigned long long)af.vpc_pairs, (unsigned long long)af.clusters);
        emit(ds, "all", "audit-vpc", (size_t)af.entries, &tm, note);
        cs_snapshot_close(est);
    }

    (void)sink;
    hb_pairs_scratch_free(sc);
    for (unsigned f = 0; f < 2; f++) {
        free(q[f]);
        free(a[f]);
    }
    free(counts);
    free(matches);
    free(rows_in);
    hb_dataset_free(d);
    return 0;
}
