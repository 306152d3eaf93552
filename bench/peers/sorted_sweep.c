/*
 * bench/peers/sorted_sweep.c — the plain sorted-array baseline.
 *
 *   peer_sorted_sweep DIR RUNS LIMIT
 *
 * The strongest simple alternative to a trie, written the way a careful
 * engineer would in an afternoon, and sharing no code with cidrscope (it
 * parses with inet_pton). Per family:
 *
 *   build     sort the rows' prefixes by (address, length), merge equal ones
 *             into (prefix, multiplicity), prefix sums of multiplicities,
 *             and the set of lengths present;
 *   count     overlap(Q) = covered + strictly covering. Everything inside Q
 *             is one slice of the sorted array: [lower_bound(first(Q), |Q|),
 *             upper_bound(last(Q), max)) — its entries are a difference of
 *             prefix sums. Strictly covering prefixes are found by walking up
 *             the lengths present below |Q|: one binary search for Q cut to
 *             each length;
 *   lookup    walk the lengths present from the longest down, one binary
 *             search each, stop at the first hit;
 *   pairs     one sweep in sorted order with a stack of open ancestors:
 *             pairs += C(m,2) + m x (entries on the stack).
 *
 * Reads DIR's files (written by peer_cidrscope; see its header), checks every
 * answer of the first LIMIT queries (0 = all) against the expected files
 * first — a mismatch exits 1 with the offending line — then times each
 * workload RUNS times and prints TSV lines as peer_cidrscope does.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct key {
    uint64_t hi, lo; /* address, left-aligned in 128 bits */
    uint32_t len;
} key;

typedef struct family_set {
    key *k;           /* distinct prefixes, sorted */
    uint64_t *cum;    /* cum[i] = entries of k[0..i) */
    size_t n;
    unsigned lens[129]; /* lengths present, ascending */
    unsigned n_lens;
} family_set;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("sorted-sweep: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* CPU time of this process (every peer is timed by its own CPU time). */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die("out of memory");
    return p;
}

/* Parses "ADDR/LEN" or a bare "ADDR" into a key; returns the family (4/6). */
static int parse(char *s, key *out)
{
    char *slash = strchr(s, '/');
    unsigned len = 0;
    int has_len = slash != NULL;
    if (slash) {
        *slash = '\0';
        len = (unsigned)strtoul(slash + 1, NULL, 10);
    }
    unsigned char b[16];
    if (strchr(s, ':')) {
        if (inet_pton(AF_INET6, s, b) != 1)
            die("bad IPv6 text '%s'", s);
        uint64_t hi = 0, lo = 0;
        for (int i = 0; i < 8; i++) {
            hi = hi << 8 | b[i];
            lo = lo << 8 | b[i + 8];
        }
        out->hi = hi;
        out->lo = lo;
        out->len = has_len ? len : 128;
        return 6;
    }
    if (inet_pton(AF_INET, s, b) != 1)
        die("bad IPv4 text '%s'", s);
    out->hi = ((uint64_t)b[0] << 56) | ((uint64_t)b[1] << 48) | ((uint64_t)b[2] << 40) |
              ((uint64_t)b[3] << 32);
    out->lo = 0;
    out->len = has_len ? len : 32;
    return 4;
}

static int cmp_key(const key *a, const key *b)
{
    if (a->hi != b->hi)
        return a->hi < b->hi ? -1 : 1;
    if (a->lo != b->lo)
        return a->lo < b->lo ? -1 : 1;
    return (a->len > b->len) - (a->len < b->len);
}

static int qcmp_key(const void *a, const void *b)
{
    return cmp_key(a, b);
}

/* First index whose key is >= x. */
static size_t lower_bound(const family_set *f, const key *x)
{
    size_t lo = 0, hi = f->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_key(&f->k[mid], x) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static key cut(const key *x, unsigned len)
{
    key r = *x;
    r.len = len;
    if (len == 0) {
        r.hi = r.lo = 0;
    } else if (len < 64) {
        r.hi &= ~0ull << (64 - len);
        r.lo = 0;
    } else if (len == 64) {
        r.lo = 0;
    } else if (len < 128) {
        r.lo &= ~0ull << (128 - len);
    }
    return r;
}

/* The last address of x, as a key of length `bits`. */
static key last_of(const key *x, unsigned bits)
{
    key r = *x;
    if (x->len < 64) {
        r.hi |= x->len ? ~(~0ull << (64 - x->len)) : ~0ull;
        r.lo = ~0ull;
    } else if (x->len == 64) {
        r.lo = ~0ull;
    } else if (x->len < 128) {
        r.lo |= ~(~0ull << (128 - x->len));
    }
    if (bits == 32) {
        r.hi &= 0xffffffff00000000ull;
        r.lo = 0;
    }
    r.len = bits;
    return r;
}

static uint64_t multiplicity_of(const family_set *f, const key *x)
{
    size_t i = lower_bound(f, x);
    return i < f->n && cmp_key(&f->k[i], x) == 0 ? f->cum[i + 1] - f->cum[i] : 0;
}

static void build(family_set *f, const key *rows, size_t n, unsigned bits)
{
    key *k = xmalloc(n * sizeof *k);
    memcpy(k, rows, n * sizeof *k);
    qsort(k, n, sizeof *k, qcmp_key);
    uint64_t *cum = xmalloc((n + 1) * sizeof *cum);
    int present[129] = {0};
    size_t d = 0;
    cum[0] = 0;
    for (size_t i = 0; i < n; i++) {
        if (d && cmp_key(&k[d - 1], &k[i]) == 0) {
            cum[d]++;
            continue;
        }
        k[d] = k[i];
        cum[d + 1] = cum[d] + 1;
        present[k[i].len] = 1;
        d++;
    }
    f->k = k;
    f->cum = cum;
    f->n = d;
    f->n_lens = 0;
    for (unsigned l = 0; l <= bits; l++)
        if (present[l])
            f->lens[f->n_lens++] = l;
}

static void release(family_set *f)
{
    free(f->k);
    free(f->cum);
    memset(f, 0, sizeof *f);
}

static uint64_t count(const family_set *f, const key *q, unsigned bits)
{
    if (!f->n)
        return 0;
    key hi = last_of(q, bits);
    size_t b = lower_bound(f, q), e = lower_bound(f, &hi);
    if (e < f->n && cmp_key(&f->k[e], &hi) == 0)
        e++;
    uint64_t c = f->cum[e] - f->cum[b];
    for (unsigned i = 0; i < f->n_lens && f->lens[i] < q->len; i++) {
        key up = cut(q, f->lens[i]);
        c += multiplicity_of(f, &up);
    }
    return c;
}

static int lookup(const family_set *f, const key *a)
{
    for (unsigned i = f->n_lens; i-- > 0;) {
        if (f->lens[i] > a->len)
            continue;
        key up = cut(a, f->lens[i]);
        if (multiplicity_of(f, &up))
            return (int)f->lens[i];
    }
    return -1;
}

static int contains(const key *outer, const key *inner)
{
    if (outer->len > inner->len)
        return 0;
    key c = cut(inner, outer->len);
    return c.hi == outer->hi && c.lo == outer->lo;
}

static uint64_t pairs(const family_set *f)
{
    size_t *stack = xmalloc((f->n + 1) * sizeof *stack);
    uint64_t *above = xmalloc((f->n + 1) * sizeof *above);
    size_t top = 0;
    uint64_t p = 0;
    for (size_t i = 0; i < f->n; i++) {
        while (top && !contains(&f->k[stack[top - 1]], &f->k[i]))
            top--;
        uint64_t a = top ? above[top - 1] : 0, m = f->cum[i + 1] - f->cum[i];
        p += m * (m - 1) / 2 + m * a;
        stack[top] = i;
        above[top] = a + m;
        top++;
    }
    free(stack);
    free(above);
    return p;
}

/* ---- files ---- */

typedef struct lines {
    key *k;
    int *fam;
    size_t n;
} lines;

static lines read_keys(const char *path, size_t limit)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        die("cannot read %s: %s", path, strerror(errno));
    size_t cap = 1 << 16;
    lines L = {xmalloc(cap * sizeof(key)), xmalloc(cap * sizeof(int)), 0};
    char buf[128];
    while ((!limit || L.n < limit) && fgets(buf, sizeof buf, fp)) {
        buf[strcspn(buf, "\n")] = '\0';
        if (L.n == cap) {
            cap *= 2;
            L.k = realloc(L.k, cap * sizeof(key));
            L.fam = realloc(L.fam, cap * sizeof(int));
            if (!L.k || !L.fam)
                die("out of memory");
        }
        L.fam[L.n] = parse(buf, &L.k[L.n]);
        L.n++;
    }
    fclose(fp);
    return L;
}

static long long *read_numbers(const char *path, size_t n)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        die("cannot read %s: %s", path, strerror(errno));
    long long *v = xmalloc((n ? n : 1) * sizeof *v);
    for (size_t i = 0; i < n; i++)
        if (fscanf(fp, "%lld", &v[i]) != 1)
            die("%s: too few lines", path);
    fclose(fp);
    return v;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void emit(const char *ds, const char *fam, const char *workload, size_t items,
                 double *t, unsigned n, const char *note)
{
    qsort(t, n, sizeof *t, cmp_double);
    double med = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
    printf("%s\t%s\t%s\tsorted-sweep\t%zu\t%.9f\t%.9f\t%.9f\t%u\t%s\n", ds, fam,
           workload, items, med, t[0], t[n - 1], n, note);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s DIR RUNS LIMIT\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    unsigned runs = (unsigned)atoi(argv[2]);
    size_t limit = (size_t)strtoull(argv[3], NULL, 10);
    if (runs < 1 || runs > 64)
        die("RUNS must be 1..64, not %s", argv[2]);
    char path[4096], ds[64] = "?";
    snprintf(path, sizeof path, "%s/info.txt", dir);
    FILE *fp = fopen(path, "r");
    if (!fp || fscanf(fp, "dataset %63s", ds) != 1)
        die("cannot read %s", path);
    fclose(fp);

    /* Rows, split by family. */
    snprintf(path, sizeof path, "%s/rows.txt", dir);
    lines rows = read_keys(path, 0);
    key *fam_rows[2];
    size_t n_fam[2] = {0, 0};
    fam_rows[0] = xmalloc(rows.n * sizeof(key));
    fam_rows[1] = xmalloc(rows.n * sizeof(key));
    for (size_t i = 0; i < rows.n; i++) {
        unsigned f = rows.fam[i] == 6;
        fam_rows[f][n_fam[f]++] = rows.k[i];
    }
    const unsigned bits[2] = {32, 128};
    static const char *fname[2] = {"v4", "v6"};
    family_set set[2];
    double t[64];

    /* Build, timed (the first build is the one queried). */
    for (unsigned r = 0; r < runs; r++) {
        double t0 = now_s();
        for (unsigned f = 0; f < 2; f++)
            build(&set[f], fam_rows[f], n_fam[f], bits[f]);
        t[r] = now_s() - t0;
        if (r + 1 < runs)
            for (unsigned f = 0; f < 2; f++)
                release(&set[f]);
    }
    emit(ds, "all", "build", rows.n, t, runs, "qsort + merge + prefix sums");

    /* Pairs: check, then time. */
    snprintf(path, sizeof path, "%s/expect-pairs.txt", dir);
    fp = fopen(path, "r");
    unsigned long long want[2];
    if (!fp || fscanf(fp, "v4 %llu v6 %llu", &want[0], &want[1]) != 2)
        die("cannot read %s", path);
    fclose(fp);
    uint64_t got = 0;
    for (unsigned f = 0; f < 2; f++) {
        uint64_t p = pairs(&set[f]);
        if (p != want[f]) {
            fprintf(stderr, "sorted-sweep: %s %s pair count %llu, cidrscope %llu\n", ds,
                    fname[f], (unsigned long long)p, want[f]);
            return 1;
        }
        got += p;
    }
    for (unsigned r = 0; r < runs; r++) {
        double t0 = now_s();
        uint64_t p = pairs(&set[0]) + pairs(&set[1]);
        t[r] = now_s() - t0;
        if (p != got)
            die("pair count changed between runs");
    }
    char note[96];
    snprintf(note, sizeof note, "pairs=%llu (stack sweep)", (unsigned long long)got);
    emit(ds, "all", "pairs", rows.n, t, runs, note);

    for (unsigned f = 0; f < 2; f++) {
        if (!set[f].n)
            continue;
        snprintf(path, sizeof path, "%s/queries-%s.txt", dir, fname[f]);
        lines q = read_keys(path, limit);
        snprintf(path, sizeof path, "%s/expect-count-%s.txt", dir, fname[f]);
        long long *expect = read_numbers(path, q.n);
        for (size_t i = 0; i < q.n; i++) {
            uint64_t c = count(&set[f], &q.k[i], bits[f]);
            if ((long long)c != expect[i]) {
                fprintf(stderr,
                        "sorted-sweep: %s %s query line %zu: count %llu, cidrscope %lld\n",
                        ds, fname[f], i + 1, (unsigned long long)c, expect[i]);
                return 1;
            }
        }
        volatile uint64_t sink = 0;
        for (unsigned r = 0; r < runs; r++) {
            double t0 = now_s();
            uint64_t s = 0;
            for (size_t i = 0; i < q.n; i++)
                s += count(&set[f], &q.k[i], bits[f]);
            t[r] = now_s() - t0;
            sink += s;
        }
        emit(ds, fname[f], "count", q.n, t, runs, "binary search + length walk");
        free(q.k);
        free(q.fam);
        free(expect);

        snprintf(path, sizeof path, "%s/addrs-%s.txt", dir, fname[f]);
        lines a = read_keys(path, limit);
        snprintf(path, sizeof path, "%s/expect-lpm-%s.txt", dir, fname[f]);
        expect = read_numbers(path, a.n);
        for (size_t i = 0; i < a.n; i++) {
            int l = lookup(&set[f], &a.k[i]);
            if (l != expect[i]) {
                fprintf(stderr,
                        "sorted-sweep: %s %s address line %zu: /%d, cidrscope /%lld\n",
                        ds, fname[f], i + 1, l, expect[i]);
                return 1;
            }
        }
        for (unsigned r = 0; r < runs; r++) {
            double t0 = now_s();
            int64_t s = 0;
            for (size_t i = 0; i < a.n; i++)
                s += lookup(&set[f], &a.k[i]);
            t[r] = now_s() - t0;
            sink += (uint64_t)s;
        }
        (void)sink;
        emit(ds, fname[f], "lpm", a.n, t, runs, "length walk, longest first");
        free(a.k);
        free(a.fam);
        free(expect);
    }
    for (unsigned f = 0; f < 2; f++) {
        release(&set[f]);
        free(fam_rows[f]);
    }
    free(rows.k);
    free(rows.fam);
    return 0;
}
