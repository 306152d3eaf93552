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
 * Scratch: one anonymous mapping (scratch_reserve below), asking for
 * transparent huge pages: fresh 4 KB pages cost more than the sort. A
 * caller's cs_query_scratch keeps it from call to call; without one, each
 * call maps and unmaps its own.
 *
 * Items come from a buffer of lines (cs_query_count_lines[_with]) or from
 * the caller's own records (cs_query_count_items: a binding's string
 * objects, read in place through a cs_item_layout, each checked against
 * the layout's tag and flags before its length and text are read; a record
 * that fails is CS_EINVAL, and the caller passes text instead).
 *
 * The sort is least-significant-digit first, 11-bit digits, stable; every
 * digit's histogram is made while the records are written (no counting
 * pass), and a pass where all records share the digit is skipped (the
 * IPv6 queries of one estate mostly share their top bits).
 *
 * Inputs of fewer than SORT_MIN items, or more than 2^26, are parsed into
 * one array and counted in input order with cs_query_count_bulk.
 *
 * Thread-safety: the snapshot is only read; a cs_query_scratch serves one
 * call at a time (the binding keeps one per Snapshot behind a lock and
 * gives a concurrent call none).
 *
 * Tests: tests/test_prefix_lines.c (counts equal cs_query_count item by
 * item on seeded estates of both families with duplicates and deep
 * nesting, above and below SORT_MIN, from lines and from records, with one
 * scratch reused across calls of different sizes and families; errors'
 * lines), python/tests.
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

/* ---- where the items come from ------------------------------------------------- */

/* One buffer of lines (text), or the caller's records (objs, read through
 * lay): the items in order, a chunk at a time. */
typedef struct source {
    const char *text;
    size_t len, pos;
    const void *const *objs;
    size_t n, next;
    const cs_item_layout *lay;
} source;

#define PREFETCH 12u /* records ahead: a cache miss each, on a million-item call */

/* Item k of the chunk (src->objs[src->next]) into *out; CS_EINVAL when its
 * record is not of the layout. */
static int record_item(const source *src, unsigned flags, cs_prefix *out, cs_error *err)
{
    const cs_item_layout *lay = src->lay;
    const char *o = src->objs[src->next];
    if (src->next + PREFETCH < src->n) {
        const char *ahead = src->objs[src->next + PREFETCH];
        __builtin_prefetch(ahead);
        __builtin_prefetch(ahead + 64);
    }
    uint64_t tag;
    uint32_t fl;
    size_t len;
    memcpy(&tag, o + lay->tag_off, sizeof tag);
    if (tag != lay->tag)
        return cs_fail(err, CS_EINVAL, "item %zu is not a record of the layout", src->next + 1);
    memcpy(&fl, o + lay->flags_off, sizeof fl);
    if ((fl & lay->flags_mask) != lay->flags_want)
        return cs_fail(err, CS_EINVAL, "item %zu is not a record of the layout", src->next + 1);
    memcpy(&len, o + lay->len_off, sizeof len);
    return cs_prefix_item_parse(o + lay->text_off, len, flags, false, out, err);
}

/* Up to want items from src into out: how many (fewer only at the end), or
 * a status with err->line the bad item's number within this chunk. */
static int64_t source_chunk(source *src, unsigned flags, cs_prefix *out, size_t want,
                            cs_error *err)
{
    if (!src->objs)
        return cs_prefix_lines_chunk(src->text, src->len, &src->pos, flags, false, out, want,
                                     err);
    size_t k = 0;
    for (; k < want && src->next < src->n; k++, src->next++) {
        int rc = record_item(src, flags, &out[k], err);
        if (rc < 0) {
            if (err)
                err->line = k + 1;
            return rc;
        }
    }
    return (int64_t)k;
}

static bool source_done(const source *src)
{
    return src->objs ? src->next == src->n : src->pos == src->len;
}

/* Small or huge inputs: one parsed array, counted in input order. */
static int64_t count_in_order(const cs_snapshot *s, source *src, unsigned flags, unsigned kind,
                              uint32_t *counts, size_t cap, cs_error *err)
{
    cs_prefix *qs = malloc((cap ? cap : 1) * sizeof *qs);
    if (!qs)
        return cs_fail(err, CS_ENOMEM, "out of memory for %zu queries", cap);
    int64_t n = source_chunk(src, flags, qs, cap, err);
    if (n >= 0 && !source_done(src))
        n = cs_fail(err, CS_ERANGE, "more than %zu items", cap);
    if (n >= 0) {
        int rc = cs_query_count_bulk(s, qs, (size_t)n, kind, counts);
        if (rc < 0)
            n = cs_fail(err, rc, "cs_query_count_lines: bad kind");
    }
    free(qs);
    return n;
}

/*
 * The scratch, one anonymous mapping: the histograms, then IPv4 records for
 * cap items and as many for the sort, then IPv6 records likewise. Only the
 * pages written are ever backed (an all-IPv4 input never touches the IPv6
 * part), and nothing is copied to grow. Where the kernel has transparent
 * huge pages the mapping asks for them: a million queries then fault 2 MB
 * pages a dozen times instead of 4 KB pages thousands of times, and the
 * radix sort's scattered writes stay within the TLB's reach. A
 * cs_query_scratch keeps its mapping from call to call (grown, never
 * shrunk), so a caller counting again pays neither the faults nor the
 * kernel's clearing of fresh pages (a fresh page costs ~4 us on a VM);
 * only the histograms are cleared per call.
 */
#define HUGE_PAGE ((size_t)2 << 20)
#define HIST_LEN ((V4_PASSES + V6_PASSES) * DIGITS * sizeof(uint32_t))

struct cs_query_scratch {
    void *base;
    size_t len;
    size_t cap; /* items the mapping holds; 0: none yet */
    uint32_t *hist;
    uint64_t *r4; /* 2 * cap records: the parse's and the sort's */
    rec6 *r6;     /* likewise */
};

static void scratch_unmap(cs_query_scratch *sc)
{
    if (sc->cap)
        munmap(sc->base, sc->len);
    sc->cap = 0;
}

/* Room for cap items in sc (reused when it has it), histograms zeroed. */
static int scratch_reserve(cs_query_scratch *sc, size_t cap)
{
    if (sc->cap >= cap) {
        memset(sc->hist, 0, HIST_LEN);
        return 0;
    }
    scratch_unmap(sc);
    const size_t per_item = 2 * (sizeof(uint64_t) + sizeof(rec6));
    if (cap > (SIZE_MAX - HUGE_PAGE - HIST_LEN) / per_item)
        return -1; /* more than the address space (32-bit hosts) */
    sc->len = HUGE_PAGE + HIST_LEN + cap * per_item;
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
    sc->cap = cap;
    sc->hist = (uint32_t *)(void *)a; /* fresh pages: zero */
    sc->r4 = (uint64_t *)(void *)(a + HIST_LEN);
    sc->r6 = (rec6 *)(void *)(sc->r4 + 2 * cap);
    return 0;
}

cs_query_scratch *cs_query_scratch_new(void)
{
    return calloc(1, sizeof(cs_query_scratch));
}

void cs_query_scratch_free(cs_query_scratch *sc)
{
    if (!sc)
        return;
    scratch_unmap(sc);
    free(sc);
}

/* The parse: every item of src as a record (IPv4 in r4[0..*m4), IPv6 in
 * r6[0..*m6)) and its digits counted in hist (V4_PASSES histograms, then
 * V6_PASSES). Returns the item count or a status with err set. */
static int64_t parse_records(source *src, unsigned flags, size_t cap, uint64_t *r4, size_t *m4,
                             rec6 *r6, size_t *m6, uint32_t *hist, cs_error *err)
{
    uint32_t *h4 = hist, *h6 = hist + V4_PASSES * DIGITS;
    cs_prefix buf[CHUNK];
    size_t n = 0;
    while (!source_done(src)) {
        if (n == cap)
            return cs_fail(err, CS_ERANGE, "more than %zu items", cap);
        size_t want = cap - n < CHUNK ? cap - n : CHUNK;
        int64_t got = source_chunk(src, flags, buf, want, err);
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

/* The whole call for any source: sorted in sc's scratch (or a mapping of
 * this call's when sc is NULL), else in input order. */
static int64_t count_source(const cs_snapshot *s, cs_query_scratch *sc, source *src,
                            size_t items, unsigned flags, unsigned kind, uint32_t *counts,
                            size_t cap, cs_error *err)
{
    if (cap < SORT_MIN || cap > (1u << IDX_BITS) || items < SORT_MIN)
        return count_in_order(s, src, flags, kind, counts, cap, err);
    cs_query_scratch own = {0};
    cs_query_scratch *use = sc ? sc : &own;
    if (scratch_reserve(use, cap) < 0) /* no address space: the unsorted way */
        return count_in_order(s, src, flags, kind, counts, cap, err);
    size_t m4 = 0, m6 = 0;
    const size_t room = use->cap; /* >= cap: the sort's half starts there */
    int64_t n = parse_records(src, flags, cap, use->r4, &m4, use->r6, &m6, use->hist, err);
    if (n >= 0) {
        uint64_t *s4;
        rec6 *s6;
        RADIX_PASSES(uint64_t, KEY4, use->r4, use->r4 + room, m4, IDX_BITS, V4_PASSES,
                     use->hist, &s4);
        RADIX_PASSES(rec6, KEY6, use->r6, use->r6 + m6, m6, 0u, V6_PASSES,
                     use->hist + V4_PASSES * DIGITS, &s6);
        count_v4(s, s4, m4, kind, counts);
        count_v6(s, s6, m6, kind, counts);
    }
    scratch_unmap(&own);
    return n;
}

static int check_args(const cs_snapshot *s, bool missing, unsigned kind, cs_error *err)
{
    if (!s || missing)
        return cs_fail(err, CS_EINVAL, "cs_query_count_lines: NULL argument");
    if (!(kind & CS_Q_OVERLAPPING) || (kind & ~CS_Q_OVERLAPPING))
        return cs_fail(err, CS_EINVAL, "cs_query_count_lines: bad kind");
    return 0;
}

int64_t cs_query_count_lines_with(const cs_snapshot *s, cs_query_scratch *sc, const char *text,
                                  size_t len, unsigned flags, unsigned kind, uint32_t *counts,
                                  size_t cap, cs_error *err)
{
    int rc = check_args(s, (!text && len) || (!counts && cap), kind, err);
    if (rc < 0)
        return rc;
    source src = {.text = text, .len = len};
    /* fewer bytes than SORT_MIN: fewer items than SORT_MIN */
    return count_source(s, sc, &src, len, flags, kind, counts, cap, err);
}

int64_t cs_query_count_items(const cs_snapshot *s, cs_query_scratch *sc, const void *seq,
                             const cs_item_layout *layout, unsigned flags, unsigned kind,
                             uint32_t *counts, size_t cap, cs_error *err)
{
    int rc = check_args(s, !seq || !layout || (!counts && cap), kind, err);
    if (rc < 0)
        return rc;
    const char *q = seq;
    size_t n;
    const void *const *items;
    memcpy(&n, q + layout->count_off, sizeof n);
    if (layout->items_indirect)
        memcpy(&items, q + layout->items_off, sizeof items);
    else
        items = (const void *const *)(const void *)(q + layout->items_off);
    if (n > cap)
        return cs_fail(err, CS_ERANGE, "more than %zu items", cap);
    if (n == 0)
        return 0;
    source src = {.objs = items, .n = n, .lay = layout};
    return count_source(s, sc, &src, n, flags, kind, counts, cap, err);
}

int64_t cs_query_count_lines(const cs_snapshot *s, const char *text, size_t len,
                             unsigned flags, unsigned kind, uint32_t *counts, size_t cap,
                             cs_error *err)
{
    return cs_query_count_lines_with(s, NULL, text, len, flags, kind, counts, cap, err);
}
