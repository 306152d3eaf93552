/*
 * bench/harness.c — datasets, query mixes, measured loops and self-checks for
 * the benchmarks (interface and dataset shapes: bench/harness.h).
 *
 * Does: generate seeded estate-shaped rows, sample the real prefixes, build
 * snapshots, produce query mixes, run every measured loop through the public
 * API, check bulk against single answers before anything is timed, and write
 * the peers' input files. Does not: time anything (the callers do: Google
 * Benchmark in bench_main.cc, the peer driver in peers/peer_cidrscope.c) or
 * reach into engine/ internals.
 *
 * THE ESTATE MODEL (drawn by the one generator, datasets/gen/gen_rows.c;
 * this file only calls it). Each row is one VPC CIDR association of an
 * organisation with thousands of accounts x regions; every IPv4 block is
 * /16../28 and every IPv6 block /44../56, as AWS allows. A row is, by a
 * seeded roll:
 *
 *   share  what                            distinct prefixes it yields
 *   24.0%  default VPC 172.31.0.0/16       1 (most account-regions have one)
 *    6.0%  template collision: 10.0.0.0/16, 192.168.0.0/16, 10.1.0.0/16 ...
 *                                          9
 *    5.0%  100.64.0.0/10 reuse (secondary  ~130 (every team picks the same
 *          CIDRs for pods): /16s, /20s of   few blocks)
 *          100.64.0.0/14
 *   50.0%  IPAM allocation, /16../24       the bulk of IPv4: four scopes
 *          carved sequentially (aligned,   (business units, acquisitions)
 *          disjoint inside one scope pass) each carve the same pools, so
 *          from 10.0.0.0/8, 172.16.0.0/12, scopes overlap one another and
 *          192.168.0.0/16, wrapping around  pools get reused as they fill
 *   15.0%  IPv6: 95% an Amazon-provided    one each; ULA templates are
 *          /56 from 2600:1f00::/24,         shared
 *           5% a ULA template (fd00::/48 ...)
 *
 * At 1M rows that gives about 243k distinct prefixes (100k IPv4, 142k
 * IPv6), 240k entries on 172.31.0.0/16, and nesting from 10.0.0.0/8 down
 * over tens of thousands of IPAM blocks: the shape the peer
 * measurements were taken on (10k rows: 6.2k distinct; 100k rows: 45k).
 *
 * Thread-safety: none needed (benchmarks are single-threaded).
 */
#include "harness.h"

#include "gen_estate.h"

#include <cidrscope/audit.h>
#include <cidrscope/estate.h>
#include <jemalloc/jemalloc.h>

#include <cidrscope/shm.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CS_BENCH_REAL_CSV_DEFAULT
#define CS_BENCH_REAL_CSV_DEFAULT "../shared/datasets/cloud-prefixes/prefixes.csv"
#endif

/* ---- basics ---------------------------------------------------------------- */

uint64_t hb_next(hb_rng *r)
{
    /* splitmix64: good statistics, trivially seedable. */
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t hb_below(hb_rng *r, uint64_t n)
{
    return n ? hb_next(r) % n : 0;
}

uint64_t hb_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t hb_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t hb_mem_allocated(void)
{
    /* jemalloc caches its statistics; bumping "epoch" refreshes them. */
    uint64_t epoch = 1;
    size_t sz = sizeof epoch;
    mallctl("epoch", &epoch, &sz, &epoch, sz);
    size_t allocated = 0;
    sz = sizeof allocated;
    if (mallctl("stats.allocated", &allocated, &sz, NULL, 0) != 0)
        return 0;
    return allocated;
}

void hb_limit_memory(void)
{
    const char *env = getenv("CS_BENCH_MEM_LIMIT_MB");
    uint64_t limit;
    if (env && *env) {
        limit = strtoull(env, NULL, 10) << 20;
    } else {
        long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
        if (pages <= 0 || page <= 0)
            return;
        limit = (uint64_t)pages * (uint64_t)page / 10 * 6;
    }
    struct rlimit rl;
    if (limit == 0 || getrlimit(RLIMIT_AS, &rl) != 0)
        return;
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > limit) {
        rl.rlim_cur = (rlim_t)limit;
        if (setrlimit(RLIMIT_AS, &rl) != 0)
            fprintf(stderr, "bench: cannot cap memory at %llu MiB: %s\n",
                    (unsigned long long)(limit >> 20), strerror(errno));
    }
}

void hb_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(3);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        hb_die("out of memory (%zu bytes)", n);
    return p;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        hb_die("out of memory (%zu x %zu bytes)", n, size);
    return p;
}

size_t hb_parse_scale(const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v <= 0)
        return 0;
    if (*end == 'k' || *end == 'K') {
        v *= 1e3;
        end++;
    } else if (*end == 'm' || *end == 'M') {
        v *= 1e6;
        end++;
    }
    if (*end != '\0' || v > 4e9)
        return 0;
    return (size_t)(v + 0.5);
}

void hb_scale_label(size_t rows, char *buf, size_t cap)
{
    if (rows >= 1000000 && rows % 1000000 == 0)
        snprintf(buf, cap, "%zuM", rows / 1000000);
    else if (rows >= 1000 && rows % 1000 == 0)
        snprintf(buf, cap, "%zuk", rows / 1000);
    else if (rows >= 1000)
        snprintf(buf, cap, "%zuk", (rows + 500) / 1000);
    else
        snprintf(buf, cap, "%zu", rows);
}

const char *hb_real_csv_path(void)
{
    const char *env = getenv("CS_BENCH_REAL_CSV");
    return env && *env ? env : CS_BENCH_REAL_CSV_DEFAULT;
}

/* ---- prefix helpers --------------------------------------------------------- */

/* Clears the bits of (hi, lo) past len. */
static void clear_past(uint64_t *hi, uint64_t *lo, unsigned len)
{
    if (len == 0) {
        *hi = *lo = 0;
    } else if (len < 64) {
        *hi &= ~0ull << (64 - len);
        *lo = 0;
    } else if (len == 64) {
        *lo = 0;
    } else if (len < 128) {
        *lo &= ~0ull << (128 - len);
    }
}

static cs_prefix truncate_to(const cs_prefix *p, unsigned len)
{
    cs_prefix q = *p;
    q.len = (uint8_t)len;
    clear_past(&q.hi, &q.lo, len);
    return q;
}

/* p's first p->len bits, then random bits, as a prefix of length len. */
static cs_prefix extend_random(hb_rng *r, const cs_prefix *p, unsigned len)
{
    uint64_t rhi = hb_next(r), rlo = p->family == CS_AF_V6 ? hb_next(r) : 0;
    if (p->family == CS_AF_V4)
        rhi &= 0xffffffff00000000ull;
    uint64_t mhi = ~0ull, mlo = ~0ull; /* mask of p's own bits */
    clear_past(&mhi, &mlo, p->len);
    cs_prefix q = *p;
    q.hi = (p->hi & mhi) | (rhi & ~mhi);
    q.lo = (p->lo & mlo) | (rlo & ~mlo);
    q.len = (uint8_t)len;
    clear_past(&q.hi, &q.lo, len);
    return q;
}

static cs_prefix random_prefix(hb_rng *r, uint8_t family, unsigned len)
{
    cs_prefix z = {0};
    z.family = family;
    return extend_random(r, &z, len);
}

static int cmp_prefix(const void *a, const void *b)
{
    return cs_prefix_compare((const cs_prefix *)a, (const cs_prefix *)b);
}

/* ---- the estate generator ---------------------------------------------------- */

/* The rows are the one generator's row shape (datasets/gen/gen_rows.c,
 * "THE ROWS"): the same bytes this file drew before the generator moved. */
hb_row *hb_estate_rows(size_t rows, uint64_t seed)
{
    hb_row *out = xmalloc((rows ? rows : 1) * sizeof *out);
    cs_prefix *p = xmalloc((rows ? rows : 1) * sizeof *p);
    gen_prefix_rows(seed, rows, p);
    for (size_t i = 0; i < rows; i++) {
        out[i].p = p[i];
        out[i].value = (uint32_t)i;
    }
    free(p);
    return out;
}

/* ---- the real prefixes --------------------------------------------------------- */

hb_row *hb_real_rows(const char *path, size_t limit, uint64_t seed, size_t *n)
{
    FILE *f = fopen(path, "r");
    if (!f)
        hb_die("cannot open the real-prefix dataset %s: %s (set CS_BENCH_REAL_CSV)",
               path, strerror(errno));
    size_t cap = 1 << 18, k = 0;
    hb_row *all = xmalloc(cap * sizeof *all);
    char line[512];
    char providers[64][32];
    unsigned np = 0;
    unsigned long lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *c1 = strchr(line, ',');
        char *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        if (!c2)
            hb_die("%s:%lu: expected provider,family,prefix", path, lineno);
        *c1 = '\0';
        char *pfx = c2 + 1;
        size_t pl = strcspn(pfx, "\r\n");
        cs_prefix p;
        cs_error err;
        /* A few providers list bare addresses (pingdom, protonvpn): /32 or
         * /128, as they mean. */
        if (cs_prefix_parse(pfx, pl, CS_PARSE_BARE_ADDRESS, &p, &err) != 0) {
            if (lineno == 1)
                continue; /* the header */
            hb_die("%s:%lu: %s", path, lineno, err.message);
        }
        unsigned pi = 0;
        while (pi < np && strcmp(providers[pi], line) != 0)
            pi++;
        if (pi == np && np < 64)
            snprintf(providers[np++], sizeof providers[0], "%.31s", line);
        if (k == cap) {
            cap *= 2;
            hb_row *g = realloc(all, cap * sizeof *all);
            if (!g)
                hb_die("out of memory reading %s", path);
            all = g;
        }
        all[k].p = p;
        all[k].value = pi;
        k++;
    }
    fclose(f);
    if (limit >= k) {
        *n = k;
        return all;
    }
    /* Selection sampling (Knuth's algorithm S): a uniform sample of `limit`
     * rows that keeps file order. */
    hb_rng r = {seed};
    size_t kept = 0;
    for (size_t i = 0; i < k && kept < limit; i++)
        if (hb_below(&r, k - i) < limit - kept)
            all[kept++] = all[i];
    *n = kept;
    return all;
}

/* ---- datasets ------------------------------------------------------------------ */

cs_snapshot *hb_build(const hb_row *rows, size_t n)
{
    cs_snapshot_builder *b = cs_snapshot_builder_new();
    if (!b)
        hb_die("cs_snapshot_builder_new: out of memory");
    cs_error err;
    for (size_t i = 0; i < n; i++)
        if (cs_snapshot_builder_add(b, &rows[i].p, rows[i].value, &err) < 0)
            hb_die("cs_snapshot_builder_add (row %zu): %s", i, err.message);
    cs_snapshot *s = NULL;
    if (cs_snapshot_builder_freeze(b, &s, &err) < 0)
        hb_die("cs_snapshot_builder_freeze: %s", err.message);
    cs_snapshot_builder_free(b);
    return s;
}

hb_dataset *hb_dataset_from_rows(const char *name, enum hb_kind kind,
                                 hb_row *rows, size_t n)
{
    hb_dataset *d = xcalloc(1, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", name);
    d->kind = kind;
    d->rows = rows;
    d->n_rows = n;

    /* Distinct prefixes per family and their multiplicities: sort a copy. */
    cs_prefix *all = xmalloc(n * sizeof *all);
    for (size_t i = 0; i < n; i++)
        all[i] = rows[i].p;
    qsort(all, n, sizeof *all, cmp_prefix);
    for (unsigned fam = 0; fam < 2; fam++) {
        d->distinct[fam] = xmalloc(n * sizeof(cs_prefix));
        d->multiplicity[fam] = xmalloc(n * sizeof(uint32_t));
    }
    for (size_t i = 0; i < n; i++) {
        unsigned fam = cs_family_index(all[i].family);
        size_t *k = &d->n_distinct[fam];
        d->n_family_rows[fam]++;
        if (*k && cs_prefix_compare(&d->distinct[fam][*k - 1], &all[i]) == 0) {
            d->multiplicity[fam][*k - 1]++;
        } else {
            d->distinct[fam][*k] = all[i];
            d->multiplicity[fam][*k] = 1;
            (*k)++;
        }
    }
    free(all);

    /* Build once with the allocator's figures around each phase. */
    uint64_t m0 = hb_mem_allocated();
    cs_snapshot_builder *b = cs_snapshot_builder_new();
    if (!b)
        hb_die("cs_snapshot_builder_new: out of memory");
    cs_error err;
    for (size_t i = 0; i < n; i++)
        if (cs_snapshot_builder_add(b, &rows[i].p, rows[i].value, &err) < 0)
            hb_die("cs_snapshot_builder_add (row %zu): %s", i, err.message);
    uint64_t m1 = hb_mem_allocated();
    if (cs_snapshot_builder_freeze(b, &d->snap, &err) < 0)
        hb_die("cs_snapshot_builder_freeze: %s", err.message);
    uint64_t m2 = hb_mem_allocated();
    cs_snapshot_builder_free(b);
    d->builder_bytes = m1 - m0;
    d->image_bytes = m2 - m1;
    cs_snapshot_image(d->snap, &d->image_len);

    cs_snapshot_info info;
    cs_snapshot_get_info(d->snap, &info);
    for (unsigned fam = 0; fam < 2; fam++)
        if (info.entries[fam] != d->n_family_rows[fam] ||
            info.prefixes[fam] != d->n_distinct[fam])
            hb_die("%s: the snapshot holds %u entries / %u prefixes of family "
                   "%u, the rows %zu / %zu",
                   d->name, info.entries[fam], info.prefixes[fam], fam,
                   d->n_family_rows[fam], d->n_distinct[fam]);
    return d;
}

hb_dataset *hb_dataset_new(enum hb_kind kind, size_t rows, uint64_t seed)
{
    char label[32], name[48];
    size_t n = rows;
    hb_row *r;
    if (kind == HB_ESTATE) {
        r = hb_estate_rows(rows, seed);
    } else {
        r = hb_real_rows(hb_real_csv_path(), rows, seed, &n);
    }
    hb_scale_label(n, label, sizeof label);
    snprintf(name, sizeof name, "%s-%s", kind == HB_ESTATE ? "estate" : "real", label);
    return hb_dataset_from_rows(name, kind, r, n);
}

void hb_dataset_free(hb_dataset *d)
{
    if (!d)
        return;
    cs_snapshot_close(d->snap);
    free(d->rows);
    for (unsigned fam = 0; fam < 2; fam++) {
        free(d->distinct[fam]);
        free(d->multiplicity[fam]);
    }
    free(d);
}

/* ---- query mixes ---------------------------------------------------------------- */

cs_prefix *hb_overlap_queries(const hb_dataset *d, unsigned fam, size_t n,
                              uint64_t seed)
{
    hb_rng r = {seed};
    const uint8_t family = fam ? CS_AF_V6 : CS_AF_V4;
    const unsigned lo = fam ? 32 : 8, span = fam ? 33 : 25; /* /8../32, /32../64 */
    cs_prefix *q = xmalloc(n * sizeof *q);
    for (size_t i = 0; i < n; i++) {
        unsigned len = lo + (unsigned)hb_below(&r, span);
        if (d->n_distinct[fam] && hb_below(&r, 100) < 85) {
            const cs_prefix *p = &d->distinct[fam][hb_below(&r, d->n_distinct[fam])];
            q[i] = len <= p->len ? truncate_to(p, len) : extend_random(&r, p, len);
        } else {
            q[i] = random_prefix(&r, family, len);
        }
    }
    return q;
}

cs_prefix *hb_lookup_addrs(const hb_dataset *d, unsigned fam, size_t n,
                           uint64_t seed)
{
    hb_rng r = {seed};
    const uint8_t family = fam ? CS_AF_V6 : CS_AF_V4;
    const unsigned bits = fam ? 128 : 32;
    cs_prefix *a = xmalloc(n * sizeof *a);
    for (size_t i = 0; i < n; i++) {
        if (d->n_distinct[fam] && hb_below(&r, 100) < 90) {
            const cs_prefix *p = &d->distinct[fam][hb_below(&r, d->n_distinct[fam])];
            a[i] = extend_random(&r, p, bits);
        } else {
            a[i] = random_prefix(&r, family, bits);
        }
    }
    return a;
}

/* ---- measured loops --------------------------------------------------------------- */

uint64_t hb_count_bulk(const cs_snapshot *s, const cs_prefix *qs, size_t n,
                       uint32_t *counts)
{
    if (cs_query_count_bulk(s, qs, n, CS_Q_OVERLAPPING, counts) < 0)
        hb_die("cs_query_count_bulk failed");
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += counts[i];
    return sum;
}

uint64_t hb_count_single(const cs_snapshot *s, const cs_prefix *qs, size_t n,
                         uint32_t *counts)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t c = cs_query_count(s, &qs[i], CS_Q_OVERLAPPING);
        if (c < 0)
            hb_die("cs_query_count failed");
        counts[i] = (uint32_t)c;
        sum += (uint64_t)c;
    }
    return sum;
}

typedef struct enum_state {
    uint64_t entries;
    uint64_t xor;
} enum_state;

static int enum_cb(size_t qi, const cs_match *m, void *ctx)
{
    (void)qi;
    enum_state *st = ctx;
    uint64_t x = 0;
    for (uint32_t j = 0; j < m->count; j++)
        x ^= m->values[j];
    st->xor ^= x;
    st->entries += m->count;
    return 0;
}

uint64_t hb_enumerate(const cs_snapshot *s, const cs_prefix *qs, size_t n,
                      uint64_t *checksum)
{
    enum_state st = {0, 0};
    if (cs_query_walk_bulk(s, qs, n, CS_Q_OVERLAPPING, enum_cb, &st) != 0)
        hb_die("cs_query_walk_bulk failed");
    *checksum = st.xor;
    return st.entries;
}

uint64_t hb_lookup_bulk(const cs_snapshot *s, const cs_prefix *as, size_t n,
                        cs_match *out)
{
    int64_t hits = cs_lookup_bulk(s, as, n, out);
    if (hits < 0)
        hb_die("cs_lookup_bulk failed");
    return (uint64_t)hits;
}

uint64_t hb_lookup_single(const cs_snapshot *s, const cs_prefix *as, size_t n,
                          cs_match *out)
{
    uint64_t hits = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = cs_lookup(s, &as[i], &out[i]);
        if (rc < 0)
            hb_die("cs_lookup failed");
        hits += (uint64_t)rc;
    }
    return hits;
}

/* ---- overlapping entry pairs ------------------------------------------------------ */

struct hb_pairs_scratch {
    cs_prefix *p;     /* distinct prefixes of one family */
    uint32_t *own;    /* entries on exactly p[i] */
    uint32_t *inside; /* entries inside p[i] (own included) */
    size_t cap, k;
};

hb_pairs_scratch *hb_pairs_scratch_new(const cs_snapshot *s)
{
    cs_snapshot_info info;
    cs_snapshot_get_info(s, &info);
    size_t cap = info.prefixes[0] > info.prefixes[1] ? info.prefixes[0] : info.prefixes[1];
    hb_pairs_scratch *sc = xcalloc(1, sizeof *sc);
    sc->cap = cap;
    sc->p = xmalloc(cap * sizeof *sc->p);
    sc->own = xmalloc(cap * sizeof *sc->own);
    sc->inside = xmalloc(cap * sizeof *sc->inside);
    return sc;
}

void hb_pairs_scratch_free(hb_pairs_scratch *sc)
{
    if (!sc)
        return;
    free(sc->p);
    free(sc->own);
    free(sc->inside);
    free(sc);
}

static int pairs_collect(const cs_match *m, void *ctx)
{
    hb_pairs_scratch *sc = ctx;
    if (sc->k == sc->cap)
        return 1; /* more prefixes than the snapshot said: caught below */
    sc->p[sc->k] = m->prefix;
    sc->own[sc->k] = m->count;
    sc->k++;
    return 0;
}

uint64_t hb_pairs(const cs_snapshot *s, unsigned fam, hb_pairs_scratch *sc)
{
    cs_prefix all = {0};
    all.family = fam ? CS_AF_V6 : CS_AF_V4;
    sc->k = 0;
    if (cs_query_walk(s, &all, CS_Q_COVERED, pairs_collect, sc) != 0)
        hb_die("pair count: the /0 walk returned more prefixes than the image holds");
    if (cs_query_count_bulk(s, sc->p, sc->k, CS_Q_COVERED, sc->inside) < 0)
        hb_die("pair count: cs_query_count_bulk failed");
    uint64_t pairs = 0;
    for (size_t i = 0; i < sc->k; i++) {
        uint64_t n = sc->own[i];
        pairs += n * (n - 1) / 2 + n * (uint64_t)(sc->inside[i] - sc->own[i]);
    }
    return pairs;
}

/* ---- shared-memory readers ------------------------------------------------------- */

/* What a reader child sends back: fixed size, written with one write() of
 * less than PIPE_BUF bytes, so it arrives whole. */
typedef struct reader_report {
    int32_t ok;              /* 1, or 0 with msg set */
    uint32_t index;
    uint64_t queries, sum, generations;
    uint64_t max_batch_ns, median_batch_ns;
    char msg[400];       /* room for a cs_error message (320) and a prefix */
} reader_report;

static void write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            _exit(4);
        p += w;
        len -= (size_t)w;
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* A reader child's failure: the parent first counts it as ready (so it
 * never waits for it), then reads its message. */
static void child_fail(reader_report *rep, int ready_fd, int report_fd, int ready_sent)
{
    char c = 'f';
    if (!ready_sent)
        write_all(ready_fd, &c, 1);
    write_all(report_fd, rep, sizeof *rep);
    _exit(0);
}

/* A reader's refresher thread (HB_READ_PIN_MAPPED): maps each new
 * generation as soon as it is published, so the query thread's
 * cs_shm_pin_mapped never has to. */
typedef struct refresher {
    cs_shm *h;
    volatile int stop; /* set by the query thread when it is done; a plain
                        * flag read every millisecond: pthread_join orders
                        * everything after it */
    int failed;
    char msg[CS_ERROR_MSG_CAP];
} refresher;

static void *refresher_main(void *arg)
{
    refresher *rf = arg;
    uint64_t seen = cs_shm_generation(rf->h);
    const struct timespec ms = {0, 1000000};
    while (!rf->stop) {
        uint64_t g = cs_shm_generation(rf->h);
        if (g != seen) {
            cs_error err;
            if (cs_shm_refresh(rf->h, &err) < 0) {
                rf->failed = 1;
                snprintf(rf->msg, sizeof rf->msg, "%s", err.message);
                return NULL;
            }
            seen = g;
        }
        nanosleep(&ms, NULL);
    }
    return NULL;
}

/* The body of one reader child; never returns. */
static void reader_child(unsigned index, const cs_snapshot *heap, const char *name,
                         int mapped, const cs_prefix *qs, size_t nq, size_t batch,
                         const uint64_t *batch_sums, double seconds, int ready_fd,
                         int go_fd, int report_fd)
{
    reader_report rep;
    memset(&rep, 0, sizeof rep);
    rep.index = index;
    cs_shm *h = NULL;
    cs_error err;
    if (name && cs_shm_attach(name, 0, &h, &err) != 0) {
        snprintf(rep.msg, sizeof rep.msg, "reader %u: cs_shm_attach: %s", index,
                 err.message);
        child_fail(&rep, ready_fd, report_fd, 0);
    }
    /* One pass over the queries, or as many batches as fit in `seconds`
     * (at most 64 passes). */
    const size_t per_pass = (nq + batch - 1) / batch;
    const size_t cap = seconds > 0 ? per_pass * 64 : per_pass;
    const uint64_t until_ns = (uint64_t)(seconds * 1e9);
    size_t nb = 0;
    uint32_t *counts = malloc(batch * sizeof *counts);
    uint64_t *lat = malloc((cap ? cap : 1) * sizeof *lat);
    if (!counts || !lat) {
        snprintf(rep.msg, sizeof rep.msg, "reader %u: out of memory", index);
        child_fail(&rep, ready_fd, report_fd, 0);
    }
    if (h) {
        /* Map the current generation before the clock starts. */
        cs_pin warm;
        memset(&warm, 0, sizeof warm);
        if (cs_shm_pin(h, &warm, &err) != 0) {
            snprintf(rep.msg, sizeof rep.msg, "reader %u: cs_shm_pin: %s", index,
                     err.message);
            child_fail(&rep, ready_fd, report_fd, 0);
        }
        cs_shm_unpin(&warm);
    }
    refresher rf;
    memset(&rf, 0, sizeof rf);
    rf.h = h;
    pthread_t rt;
    if (h && mapped && pthread_create(&rt, NULL, refresher_main, &rf) != 0) {
        snprintf(rep.msg, sizeof rep.msg, "reader %u: pthread_create failed", index);
        child_fail(&rep, ready_fd, report_fd, 0);
    }
    char c = 'r';
    write_all(ready_fd, &c, 1);
    while (read(go_fd, &c, 1) < 0 && errno == EINTR)
        ;
    uint64_t last_gen = 0;
    const uint64_t start = hb_now_ns();
    for (size_t b = 0; b < cap; b++) {
        if (seconds > 0 && hb_now_ns() - start >= until_ns)
            break;
        size_t off = (b % per_pass) * batch, n = nq - off < batch ? nq - off : batch;
        uint64_t t0 = hb_now_ns();
        const cs_snapshot *s = heap;
        cs_pin pin;
        memset(&pin, 0, sizeof pin);
        if (h) {
            if ((mapped ? cs_shm_pin_mapped(h, &pin, &err) : cs_shm_pin(h, &pin, &err)) !=
                0) {
                snprintf(rep.msg, sizeof rep.msg, "reader %u: cs_shm_pin: %s", index,
                         err.message);
                child_fail(&rep, ready_fd, report_fd, 1);
            }
            s = pin.snap;
            if (pin.generation != last_gen) {
                rep.generations++;
                last_gen = pin.generation;
            }
        }
        if (cs_query_count_bulk(s, qs + off, n, CS_Q_OVERLAPPING, counts) != 0) {
            snprintf(rep.msg, sizeof rep.msg, "reader %u: cs_query_count_bulk failed",
                     index);
            child_fail(&rep, ready_fd, report_fd, 1);
        }
        uint64_t sum = 0;
        for (size_t i = 0; i < n; i++)
            sum += counts[i];
        if (sum != batch_sums[b % per_pass]) {
            snprintf(rep.msg, sizeof rep.msg,
                     "reader %u: batch %zu (generation %llu) counts sum to %llu, "
                     "in-process %llu",
                     index, b % per_pass, (unsigned long long)pin.generation,
                     (unsigned long long)sum, (unsigned long long)batch_sums[b % per_pass]);
            child_fail(&rep, ready_fd, report_fd, 1);
        }
        rep.sum += sum;
        if (h)
            cs_shm_unpin(&pin);
        lat[b] = hb_now_ns() - t0;
        rep.queries += n;
        nb++;
    }
    if (h && mapped) {
        rf.stop = 1;
        pthread_join(rt, NULL);
        if (rf.failed) {
            snprintf(rep.msg, sizeof rep.msg, "reader %u: cs_shm_refresh: %s", index,
                     rf.msg);
            child_fail(&rep, ready_fd, report_fd, 1);
        }
    }
    qsort(lat, nb, sizeof *lat, cmp_u64);
    rep.max_batch_ns = nb ? lat[nb - 1] : 0;
    rep.median_batch_ns = nb ? lat[nb / 2] : 0;
    rep.ok = 1;
    cs_shm_detach(h);
    write_all(report_fd, &rep, sizeof rep);
    _exit(0);
}

void hb_shm_readers(const cs_snapshot *s, const cs_prefix *qs, size_t nq,
                    size_t batch, double seconds, unsigned readers,
                    enum hb_read_mode mode, unsigned publish_every_ms,
                    hb_shm_result *out)
{
    const int use_shm = mode != HB_READ_HEAP;
    static unsigned serial;
    char name[64];
    cs_shm_publisher *pub = NULL;
    cs_error err;
    memset(out, 0, sizeof *out);
    if (readers < 1 || readers > 64 || batch < 1 || nq < 1)
        hb_die("hb_shm_readers: 1..64 readers, at least one query and a batch of 1+");
    /* Every batch's answer, in-process, for the readers to check theirs. */
    const size_t per_pass = (nq + batch - 1) / batch;
    uint64_t *batch_sums = xcalloc(per_pass, sizeof *batch_sums);
    uint32_t *counts = xmalloc(batch * sizeof *counts);
    for (size_t b = 0; b < per_pass; b++) {
        size_t off = b * batch, n = nq - off < batch ? nq - off : batch;
        batch_sums[b] = hb_count_bulk(s, qs + off, n, counts);
    }
    free(counts);
    if (use_shm) {
        snprintf(name, sizeof name, "cidrscope-bench-%ld-%u", (long)getpid(), serial++);
        if (cs_shm_publisher_open(name, NULL, &pub, &err) < 0)
            hb_die("cs_shm_publisher_open(%s): %s", name, err.message);
        if (cs_shm_publish(pub, s, NULL, &err) != 0)
            hb_die("cs_shm_publish(%s): %s", name, err.message);
    }
    int ready[2], go[2], rep[2];
    if (pipe(ready) || pipe(go) || pipe(rep))
        hb_die("pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t pids[64];
    for (unsigned i = 0; i < readers; i++) {
        pids[i] = fork();
        if (pids[i] < 0)
            hb_die("fork: %s", strerror(errno));
        if (pids[i] == 0) {
            close(ready[0]);
            close(go[1]);
            close(rep[0]);
            reader_child(i, s, use_shm ? name : NULL, mode == HB_READ_PIN_MAPPED, qs, nq,
                         batch, batch_sums, seconds, ready[1], go[0], rep[1]);
        }
    }
    close(ready[1]);
    close(go[0]);
    close(rep[1]);
    for (unsigned i = 0; i < readers; i++) {
        char c;
        ssize_t r;
        while ((r = read(ready[0], &c, 1)) < 0 && errno == EINTR)
            ;
        if (r != 1)
            hb_die("a reader process died before getting ready");
    }
    uint64_t t0 = hb_now_ns(), next_pub = t0 + publish_every_ms * 1000000ull;
    char gobuf[64];
    memset(gobuf, 'g', sizeof gobuf);
    if (write(go[1], gobuf, readers) != (ssize_t)readers)
        hb_die("cannot start the readers: %s", strerror(errno));
    unsigned got = 0;
    reader_report r0;
    memset(&r0, 0, sizeof r0);
    reader_report cur;
    char failure[sizeof cur.msg + 64] = "";
    size_t have = 0;
    while (got < readers) {
        int timeout = -1;
        if (use_shm && publish_every_ms) {
            uint64_t now = hb_now_ns();
            if (now >= next_pub) {
                if (cs_shm_publish(pub, s, NULL, &err) != 0)
                    hb_die("cs_shm_publish during reads: %s", err.message);
                out->publishes++;
                next_pub = now + publish_every_ms * 1000000ull;
            }
            uint64_t later = hb_now_ns();
            /* Round up, so the loop sleeps instead of spinning on the last
             * fraction of a millisecond; 0 when the publish is already due. */
            timeout = later >= next_pub ? 0 : (int)((next_pub - later + 999999) / 1000000);
        }
        struct pollfd pfd = {rep[0], POLLIN, 0};
        int pr = poll(&pfd, 1, timeout);
        if (pr < 0 && errno != EINTR)
            hb_die("poll: %s", strerror(errno));
        if (pr <= 0)
            continue;
        ssize_t n = read(rep[0], (char *)&cur + have, sizeof cur - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(failure, sizeof failure, "a reader exited without a report");
            break;
        }
        have += (size_t)n;
        if (have < sizeof cur)
            continue;
        have = 0;
        got++;
        if (!cur.ok && !failure[0])
            snprintf(failure, sizeof failure, "%s", cur.msg);
        out->queries += cur.queries;
        double mb = (double)cur.max_batch_ns / 1e9;
        if (mb > out->max_batch_s)
            out->max_batch_s = mb;
        if (cur.index == 0)
            r0 = cur;
    }
    out->wall_s = (double)(hb_now_ns() - t0) / 1e9;
    for (unsigned i = 0; i < readers; i++) {
        int st;
        while (waitpid(pids[i], &st, 0) < 0 && errno == EINTR)
            ;
    }
    close(ready[0]);
    close(go[1]);
    close(rep[0]);
    free(batch_sums);
    out->median_batch_s = (double)r0.median_batch_ns / 1e9;
    out->generations = r0.generations;
    if (pub) {
        if (cs_shm_unlink(pub, &err) != 0)
            hb_die("cs_shm_unlink(%s): %s", name, err.message);
        cs_shm_publisher_close(pub);
    }
    if (failure[0])
        hb_die("shared-memory readers: %s", failure);
}

/* ---- the audit --------------------------------------------------------------------- */

/* The rows as an estate: datasets/gen/gen_rows.c ("THE ESTATE"). */
cs_snapshot *hb_estate_image(const hb_dataset *d, uint64_t seed, size_t *vpcs)
{
    cs_estate *e = cs_estate_new();
    if (!e)
        hb_die("cs_estate_new: out of memory");
    cs_error err;
    if (gen_rows_estate_build(d->n_rows ? &d->rows[0].p : NULL, d->n_rows, sizeof(hb_row), seed,
                              e, vpcs, &err) != 0)
        hb_die("gen_rows_estate_build: %s", err.message);
    cs_snapshot *s = NULL;
    if (cs_estate_freeze(e, &s, &err) < 0)
        hb_die("cs_estate_freeze: %s", err.message);
    cs_estate_free(e);
    return s;
}

void hb_audit(const cs_snapshot *s, int entry_level, hb_audit_figures *out)
{
    cs_audit_options o;
    memset(&o, 0, sizeof o);
    o.flags = entry_level ? CS_AUDIT_ENTRY_LEVEL : 0;
    cs_audit_result *r = NULL;
    cs_error err;
    if (cs_audit_run(s, &o, &r, &err) != 0)
        hb_die("cs_audit_run: %s", err.message);
    cs_audit_summary sum;
    cs_audit_get_summary(r, &sum);
    cs_audit_free(r);
    out->entries = sum.entries;
    out->entry_pairs = sum.overlapping_entry_pairs;
    out->clusters = sum.clusters;
    out->vpc_pairs = sum.overlapping_vpc_pairs;
    out->vpc_level = sum.vpc_level;
}

/* ---- peering ---------------------------------------------------------------------- */

cs_peering_pair *hb_peering_pairs(size_t vpcs, size_t n, uint64_t seed)
{
    hb_rng r = {seed};
    cs_peering_pair *p = xmalloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) {
        unsigned roll = (unsigned)hb_below(&r, 100);
        uint32_t a = (uint32_t)hb_below(&r, vpcs);
        uint32_t b;
        if (roll < 70)
            b = (uint32_t)hb_below(&r, vpcs);
        else if (roll < 90)
            b = a + 1 < vpcs ? a + 1 : 0;
        else if (roll < 95)
            b = a;
        else
            b = CS_IDX_NONE;
        p[i].a = a;
        p[i].b = b;
    }
    return p;
}

uint64_t hb_peering_bulk(const cs_peering_index *ix, const cs_peering_pair *pairs,
                         size_t n, size_t batch, cs_peering_verdict *out)
{
    uint64_t bad = 0;
    for (size_t off = 0; off < n; off += batch) {
        size_t m = n - off < batch ? n - off : batch;
        if (cs_peering_check_bulk(ix, pairs + off, m, NULL, out + off) != 0)
            hb_die("cs_peering_check_bulk failed");
    }
    for (size_t i = 0; i < n; i++)
        bad += out[i].verdict == CS_PEER_INELIGIBLE;
    return bad;
}

uint64_t hb_peering_single(const cs_snapshot *s, const cs_peering_pair *pairs,
                           size_t n, cs_peering_verdict *out)
{
    uint64_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (cs_peering_check(s, pairs[i].a, pairs[i].b, NULL, &out[i]) != 0)
            hb_die("cs_peering_check failed");
        bad += out[i].verdict == CS_PEER_INELIGIBLE;
    }
    return bad;
}

void hb_peering_verify(const cs_peering_index *ix, const cs_peering_pair *pairs,
                       size_t n)
{
    cs_peering_verdict *b = xmalloc(n * sizeof *b), *o = xmalloc(n * sizeof *o);
    hb_peering_bulk(ix, pairs, n, 8192, b);
    hb_peering_single(cs_peering_index_snapshot(ix), pairs, n, o);
    for (size_t i = 0; i < n; i++)
        if (b[i].verdict != o[i].verdict || b[i].reasons != o[i].reasons)
            hb_die("peering verdict of VPCs %u and %u: bulk %s (reasons %#x), single %s "
                   "(reasons %#x)",
                   pairs[i].a, pairs[i].b, cs_peering_verdict_name(b[i].verdict),
                   b[i].reasons, cs_peering_verdict_name(o[i].verdict), o[i].reasons);
    free(b);
    free(o);
}

/* ---- self-checks ------------------------------------------------------------------- */

/* The pair count by a stack sweep over the sorted distinct table: an
 * algorithm that shares nothing with the query path. */
static uint64_t pairs_by_sweep(const hb_dataset *d, unsigned fam)
{
    size_t n = d->n_distinct[fam];
    const cs_prefix *p = d->distinct[fam];
    const uint32_t *m = d->multiplicity[fam];
    size_t *stack = xmalloc((n + 1) * sizeof *stack);
    uint64_t *above = xmalloc((n + 1) * sizeof *above); /* entries on the stack */
    size_t top = 0;
    uint64_t pairs = 0;
    for (size_t i = 0; i < n; i++) {
        while (top && !cs_prefix_contains(&p[stack[top - 1]], &p[i]))
            top--;
        uint64_t a = top ? above[top - 1] : 0, k = m[i];
        pairs += k * (k - 1) / 2 + k * a;
        stack[top] = i;
        above[top] = a + k;
        top++;
    }
    free(stack);
    free(above);
    return pairs;
}

static int iter_count(const cs_snapshot *s, const cs_prefix *q, uint64_t *total)
{
    cs_query_iter it;
    cs_query_iter_init(&it, s, q, CS_Q_OVERLAPPING);
    cs_match m;
    *total = 0;
    int rc;
    while ((rc = cs_query_iter_next(&it, &m)) > 0)
        *total += m.count;
    return rc;
}

typedef struct walk_counts {
    uint64_t *per_query;
} walk_counts;

static int walk_count_cb(size_t qi, const cs_match *m, void *ctx)
{
    walk_counts *w = ctx;
    w->per_query[qi] += m->count;
    return 0;
}

void hb_verify(const hb_dataset *d, const cs_prefix *qs, size_t nq,
               const cs_prefix *as, size_t na, unsigned fam)
{
    const cs_snapshot *s = d->snap;
    const char *fname = fam ? "IPv6" : "IPv4";
    uint32_t *bulk = xmalloc(nq * sizeof *bulk), *single = xmalloc(nq * sizeof *single);
    hb_count_bulk(s, qs, nq, bulk);
    hb_count_single(s, qs, nq, single);
    /* Enumeration can be large (a /8 over 10.0.0.0/8); check a prefix of
     * the list with the iterator and the bulk walk. */
    size_t nw = nq < 20000 ? nq : 20000;
    uint64_t *walked = xcalloc(nw, sizeof *walked);
    walk_counts wc = {walked};
    if (cs_query_walk_bulk(s, qs, nw, CS_Q_OVERLAPPING, walk_count_cb, &wc) != 0)
        hb_die("%s %s: cs_query_walk_bulk failed", d->name, fname);
    for (size_t i = 0; i < nq; i++) {
        char buf[CS_PREFIX_STRCAP];
        if (bulk[i] != single[i]) {
            cs_prefix_format(&qs[i], buf, sizeof buf);
            hb_die("%s: count of %s: bulk %u, single %u", d->name, buf, bulk[i],
                   single[i]);
        }
        if (i < nw) {
            uint64_t it = 0;
            if (iter_count(s, &qs[i], &it) < 0 || it != bulk[i] || walked[i] != bulk[i]) {
                cs_prefix_format(&qs[i], buf, sizeof buf);
                hb_die("%s: count of %s: bulk %u, iterator %llu, bulk walk %llu",
                       d->name, buf, bulk[i], (unsigned long long)it,
                       (unsigned long long)walked[i]);
            }
        }
    }
    free(bulk);
    free(single);
    free(walked);

    cs_match *mb = xmalloc(na * sizeof *mb), *ms = xmalloc(na * sizeof *ms);
    uint64_t hb = hb_lookup_bulk(s, as, na, mb), hs = hb_lookup_single(s, as, na, ms);
    if (hb != hs)
        hb_die("%s %s: lookup hits: bulk %llu, single %llu", d->name, fname,
               (unsigned long long)hb, (unsigned long long)hs);
    for (size_t i = 0; i < na; i++)
        if (mb[i].count != ms[i].count ||
            (mb[i].count && (mb[i].first_entry != ms[i].first_entry ||
                             mb[i].prefix.len != ms[i].prefix.len))) {
            char buf[CS_PREFIX_STRCAP];
            cs_address_format(&as[i], buf, sizeof buf);
            hb_die("%s: lookup of %s: bulk /%u (%u entries), single /%u (%u entries)",
                   d->name, buf, mb[i].prefix.len, mb[i].count, ms[i].prefix.len,
                   ms[i].count);
        }
    free(mb);
    free(ms);

    hb_pairs_scratch *sc = hb_pairs_scratch_new(s);
    uint64_t via_api = hb_pairs(s, fam, sc), via_sweep = pairs_by_sweep(d, fam);
    hb_pairs_scratch_free(sc);
    if (via_api != via_sweep)
        hb_die("%s %s: overlapping entry pairs: via queries %llu, by sweep %llu",
               d->name, fname, (unsigned long long)via_api,
               (unsigned long long)via_sweep);
}

/* ---- peer files ---------------------------------------------------------------------- */

static FILE *open_out(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        hb_die("cannot write %s: %s", path, strerror(errno));
    return f;
}

static void close_out(FILE *f, const char *path)
{
    if (ferror(f) || fclose(f) != 0)
        hb_die("error writing %s", path);
}

void hb_write_prefixes(const char *path, const cs_prefix *ps, size_t n)
{
    FILE *f = open_out(path);
    char buf[CS_PREFIX_STRCAP];
    for (size_t i = 0; i < n; i++) {
        cs_prefix_format(&ps[i], buf, sizeof buf);
        fputs(buf, f);
        fputc('\n', f);
    }
    close_out(f, path);
}

void hb_write_addrs(const char *path, const cs_prefix *as, size_t n)
{
    FILE *f = open_out(path);
    char buf[CS_PREFIX_STRCAP];
    for (size_t i = 0; i < n; i++) {
        cs_address_format(&as[i], buf, sizeof buf);
        fputs(buf, f);
        fputc('\n', f);
    }
    close_out(f, path);
}

void hb_write_rows(const char *path, const hb_row *rows, size_t n)
{
    FILE *f = open_out(path);
    char buf[CS_PREFIX_STRCAP];
    for (size_t i = 0; i < n; i++) {
        cs_prefix_format(&rows[i].p, buf, sizeof buf);
        fputs(buf, f);
        fputc('\n', f);
    }
    close_out(f, path);
}

void hb_write_u32s(const char *path, const uint32_t *v, size_t n)
{
    FILE *f = open_out(path);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%u\n", v[i]);
    close_out(f, path);
}

void hb_write_lpm(const char *path, const cs_match *m, size_t n)
{
    FILE *f = open_out(path);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%d\n", m[i].count ? (int)m[i].prefix.len : -1);
    close_out(f, path);
}
