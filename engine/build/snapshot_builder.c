/*
 * engine/build/snapshot_builder.c — the snapshot builder (cs_snapshot_builder_*
 * of snapshot.h): entries appended to one array per family, sorted and
 * handed to the sorted freeze when frozen.
 *
 * Does: accept canonical (prefix, value) entries, count the entries of one
 * prefix, and freeze: sort each family's entries by (prefix, value), plan
 * the trie's shape and write its arrays straight into the image
 * (cs_freeze_plan / cs_freeze_write, engine/build/freeze.c), the VALUES
 * array from the sorted entries. Does not: build a pointer trie (a Patricia
 * trie's preorder is its prefixes in (key, length) order, so the sorted
 * array already is the frozen trie's node order), or answer queries.
 *
 * Why no trie: inserting 100k real prefixes into a build-side trie was half
 * of a build (a cache miss per level per insert), and validating the result
 * again at open a quarter; a sort of the entries reads and writes them a
 * few times in order. The image is sealed CS_DRAFT_TRUSTED (opened without
 * the walk of its tries): tests/test_trie.c compares every image this
 * builder makes with an independent trie freeze and opens it with every
 * check.
 *
 * Structure, one array per family:
 *
 *   ent[i] = { hi, lo (the key, left-aligned, as cs_prefix), value, len }
 *
 * in the order added; IPv4 keys have lo = 0 and the address in the top 32
 * bits of hi. The freeze sorts a copy by (hi, lo, len) (the builder stays
 * unchanged and may be frozen again): entries added in at most 32 ascending
 * runs (a sorted export) are merged run by run; others go to an LSD radix
 * sort by 8-bit digits, skipping every digit equal in all entries (an IPv4
 * set sorts in at most five passes). The entries of one prefix are then
 * ordered by value when they are not already (the VALUES order of a node).
 *
 * Invariants: every stored key is canonical (no bits past len) and of its
 * array's family; n < 2^32 - 1 per family. A failed allocation marks the
 * builder failed: it then refuses everything but _free.
 *
 * Single-threaded per builder; a frozen image is independent of it. Tests:
 * tests/test_trie.c (the freeze equals a trie's preorder freeze byte for
 * byte, and validates), tests/test_snapshot.c (sorted freeze, find).
 */
#include "build/freeze_internal.h"

#include "core/error_internal.h"
#include "core/grow_internal.h"
#include "core/key_internal.h"

#include <stdlib.h>
#include <string.h>

#define BUILDER_MAX_ENTRIES 0xfffffffeu

typedef struct bent {
    uint64_t hi, lo;
    uint32_t value;
    uint8_t len;
} bent;

typedef struct bfamily {
    bent *ent;
    uint32_t n, cap;
} bfamily;

struct cs_snapshot_builder {
    bfamily fam[2]; /* IPv4, IPv6 */
    int failed;     /* an allocation failed: refuse everything but _free */
};

cs_snapshot_builder *cs_snapshot_builder_new(void)
{
    return calloc(1, sizeof(cs_snapshot_builder));
}

void cs_snapshot_builder_free(cs_snapshot_builder *b)
{
    if (!b)
        return;
    free(b->fam[0].ent);
    free(b->fam[1].ent);
    free(b);
}

static bool prefix_canonical(const cs_prefix *p)
{
    if (p->family != CS_AF_V4 && p->family != CS_AF_V6)
        return false;
    if (p->len > cs_family_bits(p->family))
        return false;
    if (p->family == CS_AF_V4 && (p->lo != 0 || (p->hi & 0xffffffffull)))
        return false;
    return cs_key_is_canonical(p->hi, p->lo, p->len);
}

int cs_snapshot_builder_add(cs_snapshot_builder *b, const cs_prefix *p,
                            uint32_t value, cs_error *err)
{
    if (!b || !p)
        return cs_fail(err, CS_EINVAL, "NULL builder or prefix");
    if (b->failed)
        return cs_fail(err, CS_ESTATE, "builder failed earlier; only _free is allowed");
    if (!prefix_canonical(p))
        return cs_fail(err, CS_EINVAL, "prefix is not canonical (host bits set or bad family/length)");
    bfamily *f = &b->fam[cs_family_index(p->family)];
    if (f->n == f->cap) {
        int rc = cs_grow32((void **)&f->ent, &f->cap, (size_t)f->n + 1, sizeof *f->ent,
                           BUILDER_MAX_ENTRIES);
        if (rc == CS_ENOMEM) {
            b->failed = 1;
            return cs_fail(err, rc, "out of memory adding entry %llu",
                           (unsigned long long)cs_snapshot_builder_entries(b) + 1);
        }
        if (rc)
            return cs_fail(err, rc, "more than 2^32-2 entries in one family");
    }
    f->ent[f->n++] = (bent){.hi = p->hi, .lo = p->lo, .value = value, .len = p->len};
    return 0;
}

/* A scan: the builder keeps no index (its entries are sorted only when
 * frozen), and exact finds are rare next to adds. */
int64_t cs_snapshot_builder_find(const cs_snapshot_builder *b, const cs_prefix *p)
{
    if (!b || !p || !prefix_canonical(p))
        return CS_EINVAL;
    const bfamily *f = &b->fam[cs_family_index(p->family)];
    int64_t n = 0;
    for (uint32_t i = 0; i < f->n; i++)
        n += f->ent[i].hi == p->hi && f->ent[i].lo == p->lo && f->ent[i].len == p->len;
    return n;
}

uint64_t cs_snapshot_builder_entries(const cs_snapshot_builder *b)
{
    return b ? (uint64_t)b->fam[0].n + b->fam[1].n : 0;
}

/* ---- freeze ------------------------------------------------------------- */

/* Digit k of the sort key, least significant first: 0 is len, 1..8 lo's
 * bytes, 9..16 hi's. */
static inline unsigned key_digit(const bent *e, unsigned k)
{
    if (k == 0)
        return e->len;
    return (unsigned)((k <= 8 ? e->lo >> (8 * (k - 1)) : e->hi >> (8 * (k - 9))) & 0xff);
}

enum { DIGITS = 17 };

/*
 * Sorts in[0..n) by (hi, lo, len), stably, into a or b (n entries each;
 * returns the one the result is in). A digit the same in every entry
 * (OR == AND) is skipped, so IPv4 sorts in at most five passes; the counts
 * of the others are taken in one pass. (16-bit digits made the counts
 * sparse and the real prefixes' sort slower.)
 */
static bent *radix_sort(const bent *in, bent *a, bent *b, uint32_t n)
{
    uint64_t or_hi = 0, or_lo = 0, and_hi = ~0ull, and_lo = ~0ull;
    unsigned or_len = 0, and_len = 0xff;
    for (uint32_t i = 0; i < n; i++) {
        or_hi |= in[i].hi, and_hi &= in[i].hi;
        or_lo |= in[i].lo, and_lo &= in[i].lo;
        or_len |= in[i].len, and_len &= in[i].len;
    }
    const bent diff = {.hi = or_hi ^ and_hi, .lo = or_lo ^ and_lo,
                       .len = (uint8_t)(or_len ^ and_len)};
    unsigned digit[DIGITS], nd = 0;
    for (unsigned k = 0; k < DIGITS; k++)
        if (key_digit(&diff, k))
            digit[nd++] = k;
    if (nd == 0) {
        memcpy(a, in, (size_t)n * sizeof *a);
        return a;
    }
    uint32_t cnt[DIGITS][256];
    memset(cnt, 0, nd * sizeof cnt[0]);
    for (uint32_t i = 0; i < n; i++)
        for (unsigned d = 0; d < nd; d++)
            cnt[d][key_digit(&in[i], digit[d])]++;
    const bent *src = in;
    bent *dst = a;
    for (unsigned d = 0; d < nd; d++) {
        uint32_t sum = 0;
        for (unsigned v = 0; v < 256; v++) {
            uint32_t x = cnt[d][v];
            cnt[d][v] = sum;
            sum += x;
        }
        const unsigned k = digit[d];
        for (uint32_t i = 0; i < n; i++)
            dst[cnt[d][key_digit(&src[i], k)]++] = src[i];
        src = dst;
        dst = dst == a ? b : a;
    }
    return (bent *)src;
}

/* The sort's order: (hi, lo, len). */
static inline bool entry_less(const bent *x, const bent *y)
{
    if (x->hi != y->hi)
        return x->hi < y->hi;
    if (x->lo != y->lo)
        return x->lo < y->lo;
    return x->len < y->len;
}

/* At most this many ascending runs are merged (five passes); more go to
 * the radix sort. */
#define MERGE_RUNS_MAX 32u

/*
 * Sorts in[0..n) by (hi, lo, len), stably, into a or b (n entries each;
 * returns the one the result is in). Entries added in a few ascending runs
 * (a sorted export; the real cloud prefixes file has 22 runs in 117k IPv4
 * lines) are merged run by run, a sequential pass per halving of the runs,
 * and sorted ones only copied; anything else is radix sorted.
 */
static bent *sort_entries(const bent *in, bent *a, bent *b, uint32_t n)
{
    uint32_t start[MERGE_RUNS_MAX + 1], runs = 1;
    start[0] = 0;
    for (uint32_t i = 1; i < n && runs <= MERGE_RUNS_MAX; i++)
        if (entry_less(&in[i], &in[i - 1])) {
            if (runs < MERGE_RUNS_MAX)
                start[runs] = i;
            runs++;
        }
    if (runs > MERGE_RUNS_MAX)
        return radix_sort(in, a, b, n);
    start[runs] = n;
    if (runs == 1) {
        if (n) /* an empty family has no array (NULL) */
            memcpy(a, in, (size_t)n * sizeof *a);
        return a;
    }
    const bent *src = in;
    bent *dst = a;
    while (runs > 1) {
        uint32_t k = 0;
        for (uint32_t r = 0; r < runs; r += 2) {
            uint32_t i = start[r];
            uint32_t mid = start[r + 1 < runs ? r + 1 : runs];
            uint32_t end = start[r + 2 < runs ? r + 2 : runs];
            uint32_t j = mid, o = i;
            while (i < mid && j < end) /* ties from the left run: stable */
                dst[o++] = entry_less(&src[j], &src[i]) ? src[j++] : src[i++];
            while (i < mid)
                dst[o++] = src[i++];
            while (j < end)
                dst[o++] = src[j++];
            start[k++] = start[r];
        }
        start[k] = n;
        runs = k;
        src = dst;
        dst = dst == a ? b : a;
    }
    return (bent *)src;
}

static int cmp_value(const void *a, const void *b)
{
    uint32_t x = ((const bent *)a)->value, y = ((const bent *)b)->value;
    return (x > y) - (x < y);
}

/* Orders each run of one prefix by value (the image's VALUES order within a
 * node); runs added in value order, the common case, are left as they are. */
static void sort_runs_by_value(bent *e, uint32_t n)
{
    for (uint32_t i = 0; i < n;) {
        uint32_t j = i + 1;
        bool sorted = true;
        while (j < n && e[j].hi == e[i].hi && e[j].lo == e[i].lo && e[j].len == e[i].len) {
            sorted &= e[j].value >= e[j - 1].value;
            j++;
        }
        if (!sorted)
            qsort(e + i, j - i, sizeof *e, cmp_value);
        i = j;
    }
}

static void prefix_of_sorted(const void *ctx, uint32_t i, cs_prefix *p)
{
    const bent *e = (const bent *)ctx + i;
    /* hi and lo in one 16-byte copy: the freeze reads them back as one
     * 16-byte load, which two 8-byte stores could not forward to. */
    memcpy(&p->hi, &e->hi, 2 * sizeof(uint64_t));
    p->len = e->len;
    p->family = 0; /* one family per freeze: the plan compares only keys */
}

int cs_snapshot_build_image(const cs_snapshot_builder *b,
                            const cs_section_blob *extra, size_t n_extra,
                            cs_snapshot **out, cs_error *err)
{
    if (!b || !out)
        return cs_fail(err, CS_EINVAL, "NULL builder or out");
    if (b->failed)
        return cs_fail(err, CS_ESTATE, "builder failed earlier; only _free is allowed");
    uint32_t nmax = b->fam[0].n > b->fam[1].n ? b->fam[0].n : b->fam[1].n;
    bent *sorted[2] = {NULL, NULL};
    bent *buf[2];
    buf[0] = malloc(((size_t)b->fam[0].n + 1) * sizeof(bent));
    buf[1] = malloc(((size_t)b->fam[1].n + 1) * sizeof(bent));
    bent *tmp = malloc(((size_t)nmax + 1) * sizeof(bent));
    /* The plan and the write read entry e's prefix as prefix_of(ctx, e). */
    uint32_t *iota = malloc(((size_t)nmax + 1) * sizeof *iota);
    cs_freeze_family fam[2];
    memset(fam, 0, sizeof fam);
    int rc = CS_ENOMEM;
    if (!buf[0] || !buf[1] || !tmp || !iota) {
        cs_fail(err, rc, "out of memory for the freeze's scratch");
        goto done;
    }
    for (uint32_t i = 0; i < nmax; i++)
        iota[i] = i;
    cs_image_counts counts;
    for (int f = 0; f < 2; f++) {
        const bfamily *bf = &b->fam[f];
        sorted[f] = sort_entries(bf->ent, buf[f], tmp, bf->n);
        if (sorted[f] == tmp) { /* keep tmp free for the other family */
            memcpy(buf[f], tmp, (size_t)bf->n * sizeof(bent));
            sorted[f] = buf[f];
        }
        sort_runs_by_value(sorted[f], bf->n);
        fam[f] = (cs_freeze_family){.values = iota, .n = bf->n, .prefix_of = prefix_of_sorted,
                                    .ctx = sorted[f]};
        if ((rc = cs_freeze_plan(&fam[f], err)))
            goto done;
        counts.nodes[f] = fam[f].nodes;
        counts.entries[f] = bf->n;
        counts.prefixes[f] = fam[f].prefixes;
    }
    free(tmp);
    tmp = NULL;
    cs_image_draft d;
    const unsigned draft_flags = CS_DRAFT_RAW | CS_DRAFT_TRUSTED; /* test_trie checks it */
    if ((rc = cs_image_build_begin(&d, &counts, extra, n_extra, draft_flags, err)))
        goto done;
    for (int f = 0; f < 2; f++) {
        for (uint32_t i = 0; i < fam[f].n; i++)
            d.values[f][i] = sorted[f][i].value;
        cs_freeze_write(&fam[f], f ? NULL : d.hot4, f ? d.hot6 : NULL, d.cold[f]);
    }
    rc = cs_image_build_seal(&d, out, err);
done:
    free(fam[0].glue);
    free(fam[1].glue);
    free(buf[0]);
    free(buf[1]);
    free(tmp);
    free(iota);
    return rc;
}

int cs_snapshot_builder_freeze(const cs_snapshot_builder *b, cs_snapshot **out,
                               cs_error *err)
{
    return cs_snapshot_build_image(b, NULL, 0, out, err);
}
