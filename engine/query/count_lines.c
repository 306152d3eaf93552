/*
 * engine/query/count_lines.c — cs_query_count_lines: parse a buffer of
 * prefixes (one a line) and count each against the snapshot in one call,
 * faster than the queries' own order would allow.
 *
 * Does: parse a chunk of items at a time (cs_prefix_lines_chunk: the rules
 * and errors of cs_prefix_parse_lines, the bad item's line in err), keep
 * each item as one record, put the records in address order by a radix
 * sort, then count them in that order with one resuming walk per family
 * (engine/query/count_sorted.c: each query starts from the path the
 * previous one left), counting each distinct query once (sorting puts
 * equal queries side by side: the real-prefix benchmark's million queries
 * hold 428,678 distinct), and write each count to its item's position.
 * Does not: keep anything, print.
 *
 * RECORDS (one u64 per IPv4 item; 24 bytes per IPv6 item):
 *
 *   IPv4: key (33 bits) << 26 | item index (26 bits), sorted on the key:
 *         key = addr << 1 | 1 << (32 - len), the prefix's in-order position
 *         in a binary trie: one number per (address, length), ordered by
 *         address, so three 11-bit passes sort it and equal queries end
 *         side by side; len = 32 - ctz(key), addr = (key ^ lowest bit) >> 1
 *
 *           10.0.0.0/8   key = 0x14000000 | 1 << 24 = 0x15000000
 *           10.1.0.0/16  key = 0x14020000 | 1 << 16 = 0x14030000
 *
 *   IPv6: {address hi, lo, item index << 8 | len}, sorted on hi (equal
 *         queries that share hi may stay apart: counted twice, still right)
 *
 * Scratch: one anonymous mapping per call (scratch_map below), asking for
 * transparent huge pages: fresh 4 KB pages cost more than the sort.
 *
 * The sort is least-significant-digit first, 11-bit digits, stable; every
 * digit's histogram is made while the records are written (no counting
 * pass), and a pass where all records share the digit is skipped (the
 * IPv6 queries of one estate mostly share their top bits).
 *
 * Inputs of fewer than SORT_MIN items, or more than 2^26, are parsed into
 * one array and counted in input order with cs_query_count_bulk.
 *
 * Tests: tests/test_prefix_lines.c (counts equal cs_query_count item by
 * item on seeded estates of both families with duplicates and deep
 * nesting, above and below SORT_MIN; errors' lines), python/tests.
 */
#include <cidrscope/query.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/error_internal.h"
#include "core/prefix_lines_internal.h"
#include "query/count_sorted_internal.h"

#define SORT_MIN 4096u
#define IDX_BITS 26u
#define IDX_MASK ((1u << IDX_BITS) - 1)
#define DIGIT_BITS 11u
#define DIGITS 2048u
#define CHUNK 256u
#define V4_PASSES 3u /* 33 key bits */
#define V6_PASSES 6u /* 64 bits of hi */

typedef struct rec6 {
    uint64_t hi, lo;
    uint64_t meta; /* item index << 8 | len */
} rec6;

#define KEY4(x, sh) ((x) >> (sh))
#define KEY6(x, sh) ((x).hi >> (sh))

/* The LSD passes of a radix sort of r[0..n) (records of type T) on the
 * digits at shifts lo, lo + 11, ... (`passes` of them), with their
 * histograms hist[pass][digit] already made; tmp holds n more records. A
 * pass whose digit is the same in every record is skipped. The sorted
 * records end in *out (r or tmp). */
#define RADIX_PASSES(T, KEY, r, tmp, n, lo, passes, hist, out)                      \
    do {                                                                           \
        T *a_ = (r), *b_ = (tmp);                                                  \
        for (unsigned p_ = 0; p_ < (passes) && (n); p_++) {                        \
            uint32_t *c_ = (hist) + (size_t)p_ * DIGITS;                           \
            const unsigned sh_ = (lo) + p_ * DIGIT_BITS;                           \
            if (c_[KEY(a_[0], sh_) & (DIGITS - 1)] == (n))                         \
                continue;                                                          \
            uint32_t sum_ = 0;                                                     \
            for (size_t d_ = 0; d_ < DIGITS; d_++) {                               \
                uint32_t k_ = c_[d_];                                              \
                c_[d_] = sum_;                                                     \
                sum_ += k_;                                                        \
            }                                                                      \
            for (size_t i_ = 0; i_ < (n); i_++)                                    \
                b_[c_[KEY(a_[i_], sh_) & (DIGITS - 1)]++] = a_[i_];                \
            T *t_ = a_;                                                            \
            a_ = b_;                                                               \
            b_ = t_;                                                               \
        }                                                                          \
        *(out) = a_;                                                               \
    } while (0)

/* Counts the sorted IPv4 records, each distinct key once, and writes each
 * count to its item. */
static void count_v4(const cs_snapshot *s, const uint64_t *r, size_t n, unsigned kind,
                     uint32_t *counts)
{
    cs_sorted_count w;
    cs_sorted_count_init(&w, s, 0, kind);
    uint64_t prev = UINT64_MAX;
    uint32_t c = 0;
    for (size_t i = 0; i < n; i++) {
        const uint64_t key = r[i] >> IDX_BITS;
        if (key != prev) {
            const unsigned t = (unsigned)__builtin_ctzll(key);
            c = cs_sorted_count_v4(&w, (uint32_t)((key ^ (1ull << t)) >> 1), 32 - t);
            prev = key;
        }
        counts[r[i] & IDX_MASK] = c;
    }
}

static void count_v6(const cs_snapshot *s, const rec6 *r, size_t n, unsigned kind,
                     uint32_t *counts)
{
    cs_sorted_count w;
    cs_sorted_count_init(&w, s, 1, kind);
    uint32_t c = 0;
    for (size_t i = 0; i < n; i++) {
        const unsigned len = (unsigned)(r[i].meta & 0xffu);
        if (i == 0 || r[i].hi != r[i - 1].hi || r[i].lo != r[i - 1].lo ||
            len != (r[i - 1].meta & 0xffu))
            c = cs_sorted_count_v6(&w, r[i].hi, r[i].lo, len);
        counts[r[i].meta >> 8] = c;
    }
}

/* Small or huge inputs: one parsed array, counted in input order. */
static int64_t count_in_order(const cs_snapshot *s, const char *text, size_t len,
                              unsigned flags, unsigned kind, uint32_t *counts, size_t cap,
                              cs_error *err)
{
    cs_prefix *qs = malloc((cap ? cap : 1) * sizeof *qs);
    if (!qs)
        return cs_fail(err, CS_ENOMEM, "out of memory for %zu queries", cap);
    int64_t n = cs_prefix_parse_lines(text, len, flags, false, qs, cap, err);
    if (n >= 0) {
        int rc = cs_query_count_bulk(s, qs, (size_t)n, kind, counts);
        if (rc < 0)
            n = cs_fail(err, rc, "cs_query_count_lines: bad kind");
    }
    free(qs);
    return n;
}

/*
 * The scratch of one call, one anonymous mapping: the histograms, then
 * IPv4 records for cap items and as many for the sort, then IPv6 records
 * likewise. Only the pages written are ever backed (an all-IPv4 input never
 * touches the IPv6 part), they come zeroed (the histograms need no clearing),
 * and nothing is copied to grow. Where the kernel has transparent huge pages
 * the mapping asks for them: a million queries then fault 2 MB pages a
 * dozen times instead of 4 KB pages thousands of times, and the radix
 * sort's scattered writes stay within the TLB's reach.
 */
#define HUGE_PAGE ((size_t)2 << 20)

typedef struct scratch {
    void *base;
    size_t len;
    uint32_t *hist;
    uint64_t *r4;
    rec6 *r6;
} scratch;

static int scratch_map(scratch *sc, size_t cap)
{
    const size_t hist_len = (V4_PASSES + V6_PASSES) * DIGITS * sizeof(uint32_t);
    sc->len = HUGE_PAGE + hist_len + cap * 2 * (sizeof(uint64_t) + sizeof(rec6));
    int extra = 0;
#ifdef MAP_NORESERVE
    extra = MAP_NORESERVE; /* address space only; pages come as written */
#endif
    sc->base = mmap(NULL, sc->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | extra,
                    -1, 0);
    if (sc->base == MAP_FAILED)
        return -1;
    char *a = (char *)(((uintptr_t)sc->base + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
#ifdef MADV_HUGEPAGE
    (void)madvise(a, sc->len - (size_t)(a - (char *)sc->base), MADV_HUGEPAGE); /* a hint */
#endif
    sc->hist = (uint32_t *)(void *)a;
    sc->r4 = (uint64_t *)(void *)(a + hist_len);
    sc->r6 = (rec6 *)(void *)(sc->r4 + 2 * cap);
    return 0;
}

/* The parse: every item of text as a record (IPv4 in r4[0..*m4), IPv6 in
 * r6[0..*m6)) and its digits counted in hist (V4_PASSES histograms, then
 * V6_PASSES). Returns the item count or a status with err set. */
static int64_t parse_records(const char *text, size_t len, unsigned flags, size_t cap,
                             uint64_t *r4, size_t *m4, rec6 *r6, size_t *m6, uint32_t *hist,
                             cs_error *err)
{
    uint32_t *h4 = hist, *h6 = hist + V4_PASSES * DIGITS;
    cs_prefix buf[CHUNK];
    size_t n = 0, pos = 0;
    while (pos < len) {
        if (n == cap)
            return cs_fail(err, CS_ERANGE, "more than %zu items", cap);
        size_t want = cap - n < CHUNK ? cap - n : CHUNK;
        int64_t got = cs_prefix_lines_chunk(text, len, &pos, flags, false, buf, want, err);
        if (got < 0) {
            if (err)
                err->line += n;
            return got;
        }
        for (size_t j = 0; j < (size_t)got; j++, n++) {
            const cs_prefix *p = &buf[j];
            if (p->family == CS_AF_V4) {
                const uint64_t k = (p->hi >> 31) | 1ull << (32 - p->len);
                h4[k & (DIGITS - 1)]++;
                h4[DIGITS + ((k >> 11) & (DIGITS - 1))]++;
                h4[2 * DIGITS + (k >> 22)]++;
                r4[(*m4)++] = k << IDX_BITS | n;
            } else {
                for (unsigned d = 0; d < V6_PASSES; d++)
                    h6[d * DIGITS + ((p->hi >> (d * DIGIT_BITS)) & (DIGITS - 1))]++;
                r6[(*m6)++] = (rec6){p->hi, p->lo, (uint64_t)n << 8 | p->len};
            }
        }
    }
    return (int64_t)n;
}

int64_t cs_query_count_lines(const cs_snapshot *s, const char *text, size_t len,
                             unsigned flags, unsigned kind, uint32_t *counts, size_t cap,
                             cs_error *err)
{
    if (!s || (!text && len) || (!counts && cap))
        return cs_fail(err, CS_EINVAL, "cs_query_count_lines: NULL argument");
    if (!(kind & CS_Q_OVERLAPPING) || (kind & ~CS_Q_OVERLAPPING))
        return cs_fail(err, CS_EINVAL, "cs_query_count_lines: bad kind");
    if (cap < SORT_MIN || cap > (1u << IDX_BITS) || len < SORT_MIN)
        return count_in_order(s, text, len, flags, kind, counts, cap, err);
    scratch sc;
    if (scratch_map(&sc, cap) < 0) /* no address space: the unsorted way */
        return count_in_order(s, text, len, flags, kind, counts, cap, err);
    size_t m4 = 0, m6 = 0;
    int64_t n = parse_records(text, len, flags, cap, sc.r4, &m4, sc.r6, &m6, sc.hist, err);
    if (n >= 0) {
        uint64_t *s4;
        rec6 *s6;
        RADIX_PASSES(uint64_t, KEY4, sc.r4, sc.r4 + cap, m4, IDX_BITS, V4_PASSES, sc.hist, &s4);
        RADIX_PASSES(rec6, KEY6, sc.r6, sc.r6 + m6, m6, 0u, V6_PASSES,
                     sc.hist + V4_PASSES * DIGITS, &s6);
        count_v4(s, s4, m4, kind, counts);
        count_v6(s, s6, m6, kind, counts);
    }
    munmap(sc.base, sc.len);
    return n;
}
