/*
 * tests/test_query.c — every query kind, single and bulk, on seeded random
 * sets and on the real published prefixes, against a brute-force scan of the
 * entry list; plus metamorphic checks (insertion order, bulk = single,
 * iterator = walk, heap = file image).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "support/testutil.h"

#include "image/direct_blob_internal.h"
#include "image/snapshot_internal.h"
#include "query/walk_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct triple {
    uint64_t hi, lo;
    uint32_t value;
    uint8_t len, rel;
    uint8_t pad[2]; /* named, so compound literals zero it for memcmp */
} triple;

static int cmp_triple(const void *a, const void *b)
{
    const triple *x = a, *y = b;
    if (x->hi != y->hi) return x->hi < y->hi ? -1 : 1;
    if (x->lo != y->lo) return x->lo < y->lo ? -1 : 1;
    if (x->len != y->len) return x->len < y->len ? -1 : 1;
    if (x->value != y->value) return x->value < y->value ? -1 : 1;
    return (int)x->rel - (int)y->rel;
}

typedef struct collect {
    triple *t;
    size_t n, cap;
    const cs_prefix *q;
    int order_ok;
    uint8_t last_rel;
    cs_prefix last;
} collect;

static void push(collect *c, const cs_match *m, uint32_t k)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 1024;
        c->t = realloc(c->t, c->cap * sizeof *c->t);
    }
    c->t[c->n++] = (triple){m->prefix.hi, m->prefix.lo, m->values[k], m->prefix.len, m->relation, {0, 0}};
}

static int collect_cb(const cs_match *m, void *ctx)
{
    collect *c = ctx;
    /* documented order: covers (shortest first), equal, covered in prefix
     * order */
    if (c->n && m->relation < c->last_rel)
        c->order_ok = 0;
    if (c->n && m->relation == c->last_rel && cs_prefix_compare(&c->last, &m->prefix) >= 0)
        c->order_ok = 0;
    c->last_rel = m->relation;
    c->last = m->prefix;
    if (m->count == 0)
        c->order_ok = 0;
    for (uint32_t k = 0; k < m->count; k++)
        push(c, m, k);
    return 0;
}

static void sort_triples(triple *t, size_t n)
{
    if (n > 1) /* qsort(NULL, 0, ...) is undefined */
        qsort(t, n, sizeof *t, cmp_triple);
}

static size_t brute(const tu_entry *e, size_t n, const cs_prefix *q,
                    unsigned kind, triple *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int rel = tu_relation(&e[i].p, q);
        if (!rel)
            continue;
        if (rel == CS_REL_COVERS && !(kind & CS_Q_COVERING))
            continue;
        if (rel == CS_REL_COVERED && !(kind & CS_Q_COVERED))
            continue;
        if (out)
            out[k] = (triple){e[i].p.hi, e[i].p.lo, e[i].value, e[i].p.len, (uint8_t)rel, {0, 0}};
        k++;
    }
    return k;
}

typedef struct bulk_collect {
    collect *per;  /* one per query */
} bulk_collect;

static int bulk_cb(size_t qi, const cs_match *m, void *ctx)
{
    bulk_collect *b = ctx;
    return collect_cb(m, &b->per[qi]);
}

static void fail_at(uint64_t seed, size_t qi, const cs_prefix *q, unsigned kind, const char *what)
{
    char buf[CS_PREFIX_STRCAP];
    cs_prefix_format(q, buf, sizeof buf);
    fail_msg("seed %llu: query %zu (%s, kind %u): %s", (unsigned long long)seed, qi, buf, kind, what);
}

/*
 * Checks every query kind on `s` (built from e[0..n)) for nq queries: count
 * (single, bulk), walk, iterator, bulk walk, and lookup, each against the
 * brute-force scan.
 */
static void check_all(uint64_t seed, const cs_snapshot *s, const tu_entry *e, size_t n,
                      const cs_prefix *qs, size_t nq)
{
    static const unsigned kinds[3] = {CS_Q_COVERING, CS_Q_COVERED, CS_Q_OVERLAPPING};
    triple *ref = malloc((n + 1) * sizeof *ref);
    uint32_t *bulk = malloc(nq * sizeof *bulk);
    cs_match *lk = malloc(nq * sizeof *lk);
    for (int ki = 0; ki < 3; ki++) {
        unsigned kind = kinds[ki];
        assert_int_equal(cs_query_count_bulk(s, qs, nq, kind, bulk), 0);
        collect *per = calloc(nq, sizeof *per);
        bulk_collect bc = {per};
        for (size_t i = 0; i < nq; i++)
            per[i].order_ok = 1;
        assert_int_equal(cs_query_walk_bulk(s, qs, nq, kind, bulk_cb, &bc), 0);
        for (size_t i = 0; i < nq; i++) {
            const cs_prefix *q = &qs[i];
            size_t nref = brute(e, n, q, kind, ref);
            int64_t c = cs_query_count(s, q, kind);
            if (c != (int64_t)nref)
                fail_at(seed, i, q, kind, "count differs from brute force");
            if (bulk[i] != nref)
                fail_at(seed, i, q, kind, "bulk count differs from brute force");
            collect w = {.order_ok = 1, .q = q};
            assert_int_equal(cs_query_walk(s, q, kind, collect_cb, &w), 0);
            if (!w.order_ok)
                fail_at(seed, i, q, kind, "walk order or empty match");
            if (w.n != nref)
                fail_at(seed, i, q, kind, "walk size differs from brute force");
            sort_triples(w.t, w.n);
            sort_triples(ref, nref);
            if (nref && memcmp(w.t, ref, nref * sizeof *ref) != 0)
                fail_at(seed, i, q, kind, "walk content differs from brute force");
            /* the caller-owned iterator gives the same as the walk */
            collect it = {.order_ok = 1};
            cs_query_iter iter;
            cs_query_iter_init(&iter, s, q, kind);
            cs_match m;
            while (cs_query_iter_next(&iter, &m) > 0)
                collect_cb(&m, &it);
            /* the bulk walk's lanes give the iterator's matches in its order */
            if (per[i].n != it.n ||
                (it.n && memcmp(per[i].t, it.t, it.n * sizeof *it.t) != 0))
                fail_at(seed, i, q, kind, "bulk walk order differs from the iterator");
            sort_triples(it.t, it.n);
            if (it.n != nref || (nref && memcmp(it.t, ref, nref * sizeof *ref) != 0))
                fail_at(seed, i, q, kind, "iterator differs from brute force");
            sort_triples(per[i].t, per[i].n);
            if (!per[i].order_ok || per[i].n != nref ||
                (nref && memcmp(per[i].t, ref, nref * sizeof *ref) != 0))
                fail_at(seed, i, q, kind, "bulk walk differs from brute force");
            free(w.t);
            free(it.t);
            free(per[i].t);
        }
        free(per);
    }
    /* longest-prefix match, single and bulk */
    int64_t hits = cs_lookup_bulk(s, qs, nq, lk);
    int64_t want_hits = 0;
    for (size_t i = 0; i < nq; i++) {
        const cs_prefix *q = &qs[i];
        int best = -1;
        for (size_t j = 0; j < n; j++) {
            int rel = tu_relation(&e[j].p, q);
            if ((rel == CS_REL_COVERS || rel == CS_REL_EQUAL) && (best < 0 || e[j].p.len > e[best].p.len))
                best = (int)j;
        }
        cs_match m;
        int rc = cs_lookup(s, q, &m);
        if (rc != (best >= 0))
            fail_at(seed, i, q, 0, "lookup hit/miss differs from brute force");
        if (lk[i].count != (best >= 0 ? m.count : 0))
            fail_at(seed, i, q, 0, "bulk lookup differs from single");
        if (best < 0)
            continue;
        want_hits++;
        if (m.prefix.len != e[best].p.len || m.prefix.hi != e[best].p.hi || m.prefix.lo != e[best].p.lo)
            fail_at(seed, i, q, 0, "lookup found another prefix than brute force");
        uint32_t cnt = 0;
        for (size_t j = 0; j < n; j++)
            if (tu_relation(&e[j].p, &m.prefix) == CS_REL_EQUAL)
                cnt++;
        if (cnt != m.count || lk[i].first_entry != m.first_entry)
            fail_at(seed, i, q, 0, "lookup entry run differs");
    }
    assert_int_equal(hits, want_hits);
    free(ref);
    free(bulk);
    free(lk);
}

static void query__random_sets_match_brute_force(void **state)
{
    (void)state;
    uint64_t seed = tu_seed("query__random_sets_match_brute_force", 20261127);
    for (int round = 0; round < 3; round++) {
        tu_rng r = {seed + (uint64_t)round};
        size_t n = round == 0 ? 100000 : round == 1 ? 3000 : 40;
        tu_entry *e = tu_random_entries(&r, n, 12);
        cs_snapshot *s = tu_build(e, n);
        cs_snapshot_info info;
        cs_snapshot_get_info(s, &info);
        assert_int_equal((size_t)info.entries[0] + info.entries[1], n);
        size_t nq = round == 0 ? 1500 : 2000;
        cs_prefix *qs = malloc(nq * sizeof *qs);
        tu_random_queries(&r, e, n, qs, nq);
        check_all(seed + (uint64_t)round, s, e, n, qs, nq);
        free(qs);
        cs_snapshot_close(s);
        free(e);
    }
}

static void query__random_sets_have_deep_chains_and_duplicates(void **state)
{
    (void)state;
    /* The generator must really produce what the differential test claims
     * to cover: chains 10+ deep, /0 and full-width prefixes, duplicates. */
    tu_rng r = {20261127};
    size_t n = 100000;
    tu_entry *e = tu_random_entries(&r, n, 12);
    cs_snapshot *s = tu_build(e, n);
    int deep4 = 0, deep6 = 0, zero = 0, full = 0, dup = 0;
    for (size_t i = 0; i < n; i++) {
        if (e[i].p.len == 0) zero = 1;
        if (e[i].p.len == cs_family_bits(e[i].p.family)) full = 1;
        int64_t cov = cs_query_count(s, &e[i].p, CS_Q_COVERING);
        cs_match m;
        cs_lookup(s, &e[i].p, &m);
        if (m.count >= 50) dup = 1;
        /* distinct covering prefixes = nesting depth */
        int depth = 0;
        cs_query_iter it;
        cs_query_iter_init(&it, s, &e[i].p, CS_Q_COVERING);
        while (cs_query_iter_next(&it, &m) > 0)
            depth++;
        (void)cov;
        if (depth >= 11 && e[i].p.family == CS_AF_V4) deep4 = 1;
        if (depth >= 11 && e[i].p.family == CS_AF_V6) deep6 = 1;
    }
    assert_true(deep4 && deep6 && zero && full && dup);
    cs_snapshot_close(s);
    free(e);
}

static void query__real_prefixes_match_brute_force(void **state)
{
    (void)state;
    size_t n;
    tu_entry *e = tu_load_real(CS_SHARED_PREFIXES, &n);
    if (!e) {
        fprintf(stderr, "real-prefix dataset %s absent: skipped\n", CS_SHARED_PREFIXES);
        skip();
    }
    assert_int_equal(n, 142121); /* every row, bare addresses as /32, /128 */
    uint64_t seed = tu_seed("query__real_prefixes_match_brute_force", 142121);
    tu_rng r = {seed};
    cs_snapshot *s = tu_build(e, n);
    size_t nq = 1500;
    cs_prefix *qs = malloc(nq * sizeof *qs);
    tu_random_queries(&r, e, n, qs, nq);
    check_all(seed, s, e, n, qs, nq);
    /* every stored prefix is found by an exact covering walk */
    for (size_t i = 0; i < n; i += 7) {
        cs_match m;
        assert_int_equal(cs_lookup(s, &e[i].p, &m), 1);
        assert_int_equal(m.relation, CS_REL_EQUAL);
    }
    free(qs);
    cs_snapshot_close(s);
    free(e);
}

static void query__insertion_order_does_not_change_the_image(void **state)
{
    (void)state;
    uint64_t seed = tu_seed("query__insertion_order_does_not_change_the_image", 7);
    tu_rng r = {seed};
    size_t n = 20000;
    tu_entry *e = tu_random_entries(&r, n, 10);
    cs_snapshot *a = tu_build(e, n);
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = tu_below(&r, i + 1);
        tu_entry t = e[i];
        e[i] = e[j];
        e[j] = t;
    }
    cs_snapshot *b = tu_build(e, n);
    size_t la, lb;
    const uint8_t *ia = cs_snapshot_image(a, &la), *ib = cs_snapshot_image(b, &lb);
    assert_int_equal(la, lb);
    /* everything past the header (section table and sections) is equal;
     * the header differs only in its creation time and checksum */
    assert_memory_equal(ia + 128, ib + 128, la - 128);
    cs_snapshot_close(a);
    cs_snapshot_close(b);
    free(e);
}

static void query__file_image_answers_as_heap_image(void **state)
{
    (void)state;
    uint64_t seed = tu_seed("query__file_image_answers_as_heap_image", 99);
    tu_rng r = {seed};
    size_t n = 5000;
    tu_entry *e = tu_random_entries(&r, n, 10);
    cs_snapshot *s = tu_build(e, n);
    char path[] = "/tmp/cs_test_query_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    cs_error err;
    assert_int_equal(cs_snapshot_write(s, path, &err), 0);
    cs_snapshot *f = NULL;
    assert_int_equal(cs_snapshot_open(path, 0, &f, &err), 0);
    size_t nq = 3000;
    cs_prefix *qs = malloc(nq * sizeof *qs);
    tu_random_queries(&r, e, n, qs, nq);
    uint32_t *ca = malloc(nq * 4), *cb = malloc(nq * 4);
    for (unsigned kind = 1; kind <= 3; kind++) {
        cs_query_count_bulk(s, qs, nq, kind, ca);
        cs_query_count_bulk(f, qs, nq, kind, cb);
        assert_memory_equal(ca, cb, nq * 4);
    }
    check_all(seed, f, e, n, qs, 300);
    free(ca);
    free(cb);
    free(qs);
    cs_snapshot_close(f);
    cs_snapshot_close(s);
    unlink(path);
    free(e);
}

static void query__empty_snapshot_and_bad_arguments(void **state)
{
    (void)state;
    cs_snapshot *s = tu_build(NULL, 0);
    cs_prefix q = cs_prefix_from_v4(0x0a000000u, 8);
    assert_int_equal(cs_query_count(s, &q, CS_Q_OVERLAPPING), 0);
    cs_match m;
    assert_int_equal(cs_lookup(s, &q, &m), 0);
    assert_int_equal(cs_query_count(s, &q, 0), CS_EINVAL);
    assert_int_equal(cs_query_count(NULL, &q, CS_Q_COVERED), CS_EINVAL);
    cs_prefix bad = q;
    bad.len = 33;
    assert_int_equal(cs_query_count(s, &bad, CS_Q_COVERED), CS_EINVAL);
    bad.family = 5;
    assert_int_equal(cs_query_count(s, &bad, CS_Q_COVERED), CS_EINVAL);
    uint32_t c = 7;
    assert_int_equal(cs_query_count_bulk(s, &q, 1, CS_Q_COVERED, &c), 0);
    assert_int_equal(c, 0);
    cs_snapshot_close(s);
}

static void query__families_never_mix(void **state)
{
    (void)state;
    tu_entry e[2];
    e[0].p = cs_prefix_from_v4(0, 0);        /* 0.0.0.0/0 */
    e[0].value = 1;
    e[1].p = cs_prefix_from_v6(0, 0, 0);     /* ::/0 */
    e[1].value = 2;
    cs_snapshot *s = tu_build(e, 2);
    cs_prefix q4 = cs_prefix_from_v4(0x0a000001u, 32);
    cs_prefix q6 = cs_prefix_from_v6(0xffff0a000001ull, 0, 128);
    cs_match m;
    assert_int_equal(cs_lookup(s, &q4, &m), 1);
    assert_int_equal(m.values[0], 1);
    assert_int_equal(cs_lookup(s, &q6, &m), 1);
    assert_int_equal(m.values[0], 2);
    assert_int_equal(cs_query_count(s, &q4, CS_Q_OVERLAPPING), 1);
    cs_snapshot_close(s);
}

static void query__broad_query_counts_default_vpcs_in_one_walk(void **state)
{
    (void)state;
    /* 85,000 default VPCs on 172.31.0.0/16 are one prefix with 85,000
     * entries: counted from one node, delivered as one contiguous run. */
    size_t n = 85000;
    tu_entry *e = malloc((n + 1) * sizeof *e);
    for (size_t i = 0; i < n; i++) {
        e[i].p = cs_prefix_from_v4(0xac1f0000u, 16);
        e[i].value = (uint32_t)(n - i);
    }
    e[n].p = cs_prefix_from_v4(0xac1f0100u, 24);
    e[n].value = 0;
    cs_snapshot *s = tu_build(e, n + 1);
    cs_prefix q = cs_prefix_from_v4(0xac000000u, 8);
    assert_int_equal(cs_query_count(s, &q, CS_Q_COVERED), n + 1);
    cs_match m;
    assert_int_equal(cs_lookup(s, &e[0].p, &m), 1);
    assert_int_equal(m.count, n);
    for (uint32_t i = 1; i < m.count; i++)
        assert_true(m.values[i - 1] < m.values[i]); /* ascending values */
    cs_snapshot_close(s);
    free(e);
}

/* The IPv4 record of block (key, len) by its definition (snapshot_internal.h,
 * cs_dir16), from a scan of every node: x is the longest node shorter than
 * the block that contains it; the walk goes on to x's child on the block's
 * side, which is where it resumes when that child is at least as long as
 * the block (a shorter one does not contain the block: the walk is over). */
static cs_dir16 brute_dir4(const cs_famview *f, uint32_t key, unsigned len)
{
    uint32_t x = CS_NO_NODE;
    for (uint32_t i = 0; i < f->n_nodes; i++) {
        const cs_hot4 *h = &f->hot4[i];
        if (h->len < len && (h->len == 0 || ((key ^ h->key) >> (32 - h->len)) == 0) &&
            (x == CS_NO_NODE || h->len > f->hot4[x].len))
            x = i;
    }
    uint32_t c;
    if (x == CS_NO_NODE) {
        c = 0; /* the root, which then does not contain the block */
    } else {
        const cs_hot4 *h = &f->hot4[x];
        c = (key >> (31 - h->len)) & 1u ? h->right : (h->flags & CS_FN_LEFT) ? x + 1 : 0;
        if (c == 0)
            return (cs_dir16){CS_NO_NODE, x};
    }
    return (cs_dir16){f->hot4[c].len >= len ? c : CS_NO_NODE, x};
}

static void expect_dir4(uint64_t seed, const cs_famview *f, const cs_dir16 *got, uint32_t key,
                        unsigned len)
{
    cs_dir16 want = brute_dir4(f, key, len);
    if (got->resume != want.resume || got->x != want.x)
        fail_msg("seed %llu: direct record of %u.%u.%u.%u/%u is (%u, %u), want (%u, %u)",
                 (unsigned long long)seed, key >> 24, key >> 16 & 255, key >> 8 & 255,
                 key & 255, len, got->resume, got->x, want.resume, want.x);
}

/* Every IPv4 direct-index level (/8, /12, /16, and /20, /24 under the busy
 * /16s) against brute_dir4, on samples; and the second level goes only to
 * /16s whose walk goes on inside them (a regression: blocks such as
 * 192.0.0.0/16, whose walk stops at 192.168.0.0/16, once took the second
 * level by that node's entry count and left the busy /16s without one). */
static void check_dir4_records(uint64_t seed, const cs_snapshot *s, tu_rng *r)
{
    const cs_famview *f = snap_family(s, 0);
    const snap_direct *d = snap_direct_of(s);
    for (uint32_t v = 0; v < 256; v++)
        expect_dir4(seed, f, &d->dir[CS_DIR4_AT8 + v], v << 24, 8);
    for (int k = 0; k < 300; k++) {
        uint32_t v = (uint32_t)tu_below(r, 4096);
        expect_dir4(seed, f, &d->dir[CS_DIR4_AT12 + v], v << 20, 12);
        v = k & 1 ? (uint32_t)tu_below(r, 65536) : 0x0a00u | (uint32_t)tu_below(r, 256);
        expect_dir4(seed, f, &d->dir[v], v << 16, 16);
    }
    uint32_t with_l2 = 0;
    for (uint32_t v = 0; v < 65536; v++) {
        const uint32_t b = d->l2[v];
        if (b == CS_NO_NODE)
            continue;
        with_l2++;
        const uint32_t res = d->dir[v].resume;
        if (res == CS_NO_NODE || f->hot4[res].key >> 16 != v || f->hot4[res].len >= 24)
            fail_msg("seed %llu: %u.%u.0.0/16 has a second level, but its walk does not go "
                     "on inside it", (unsigned long long)seed, v >> 8, v & 255);
        for (int k = 0; k < 4; k++) {
            uint32_t w = (uint32_t)tu_below(r, 16);
            expect_dir4(seed, f, &d->dir24[b + w], v << 16 | w << 12, 20);
            w = (uint32_t)tu_below(r, 256);
            expect_dir4(seed, f, &d->dir24[b + 16 + w], v << 16 | w << 8, 24);
        }
    }
    assert_int_equal(with_l2, d->n_l2);
}

/* The IPv6 record of block (hi, lo, len), by the same definition as
 * brute_dir4. */
static cs_dir16 brute_dir6(const cs_famview *f, uint64_t hi, uint64_t lo, unsigned len)
{
    uint32_t x = CS_NO_NODE;
    for (uint32_t i = 0; i < f->n_nodes; i++) {
        const cs_hot6 *h = &f->hot6[i];
        if (h->len < len && cs_prefix_contains(&(cs_prefix){h->key_hi, h->key_lo, h->len, CS_AF_V6},
                                               &(cs_prefix){hi, lo, (uint8_t)len, CS_AF_V6}) &&
            (x == CS_NO_NODE || h->len > f->hot6[x].len))
            x = i;
    }
    uint32_t c = 0;
    if (x != CS_NO_NODE) {
        const cs_hot6 *h = &f->hot6[x];
        const unsigned bit = h->len < 64 ? (unsigned)(hi >> (63 - h->len)) & 1u
                                         : (unsigned)(lo >> (127 - h->len)) & 1u;
        c = bit ? h->right : (h->flags & CS_FN_LEFT) ? x + 1 : 0;
        if (c == 0)
            return (cs_dir16){CS_NO_NODE, x};
    }
    return (cs_dir16){f->hot6[c].len >= len ? c : CS_NO_NODE, x};
}

/* The IPv6 key of base followed by the k-bit value v. */
static void dir6_block(const snap_direct *d, uint64_t v, unsigned k, uint64_t *hi, uint64_t *lo)
{
    const unsigned sh = 128 - d->base_len - k;
    *hi = d->base_hi;
    *lo = d->base_lo;
    if (sh >= 64)
        *hi |= v << (sh - 64);
    else if (sh + k > 64)
        *hi |= v >> (64 - sh), *lo |= v << sh;
    else
        *lo |= v << sh;
}

static void expect_dir6(uint64_t seed, const cs_famview *f, const snap_direct *d,
                        const cs_dir16 *got, uint64_t v, unsigned k)
{
    uint64_t hi, lo;
    dir6_block(d, v, k, &hi, &lo);
    const cs_dir16 want = brute_dir6(f, hi, lo, d->base_len + k);
    if (got->resume != want.resume || got->x != want.x)
        fail_msg("seed %llu: IPv6 direct record %llx of level +%u is (%u, %u), want (%u, %u)",
                 (unsigned long long)seed, (unsigned long long)v, k, got->resume, got->x,
                 want.resume, want.x);
}

/* Every IPv6 level (0, 4, 8, 12 and 16 bits after base) against
 * brute_dir6, on samples; and, under the 16-bit records with a second
 * level, its 20, 24 and 28 bits, where each such record's walk goes on
 * inside its block. Returns the records with a second level. */
static uint32_t check_dir6_records(uint64_t seed, const cs_snapshot *s, tu_rng *r)
{
    const cs_famview *f = snap_family(s, 1);
    const snap_direct *d = snap_direct_of(s);
    static const uint32_t at[5] = {CS_DIR6_AT0, CS_DIR6_AT4, CS_DIR6_AT8, CS_DIR6_AT12, 0};
    for (unsigned lv = 0; lv <= 4; lv++) {
        const unsigned k = 4 * lv;
        for (int j = 0; j < 200; j++) {
            const uint32_t v = (uint32_t)tu_below(r, 1u << k);
            expect_dir6(seed, f, d, &d->dir6[at[lv] + v], v, k);
        }
    }
    if (!d->l2_6)
        return 0;
    static const uint32_t at2[3] = {0, CS_DIR6_L2_AT8, CS_DIR6_L2_AT12};
    uint32_t with_l2 = 0;
    for (uint32_t v = 0; v < 65536; v++) {
        const uint32_t b = d->l2_6[v];
        if (b == CS_NO_NODE)
            continue;
        with_l2++;
        const uint32_t res = d->dir6[v].resume;
        uint64_t hi, lo;
        dir6_block(d, v, 16, &hi, &lo);
        if (res == CS_NO_NODE || f->hot6[res].len >= d->base_len + 28 ||
            !cs_prefix_contains(&(cs_prefix){hi, lo, (uint8_t)(d->base_len + 16), CS_AF_V6},
                                &(cs_prefix){f->hot6[res].key_hi, f->hot6[res].key_lo,
                                             f->hot6[res].len, CS_AF_V6}))
            fail_msg("seed %llu: IPv6 record %u has a second level, but its walk does not go "
                     "on inside it", (unsigned long long)seed, v);
        for (unsigned lv = 0; lv < 3; lv++) {
            const unsigned k = 4 + 4 * lv;
            for (int j = 0; j < 24; j++) {
                const uint32_t w = (uint32_t)tu_below(r, 1u << k);
                expect_dir6(seed, f, d, &d->dir6_l2[b + at2[lv] + w], (uint64_t)v << k | w, 16 + k);
            }
        }
    }
    assert_int_equal(with_l2, d->n_l2_6);
    return with_l2;
}

/* An estate-shaped set large enough for every direct index: busy /16s full
 * of /17../28 blocks (the IPv4 /24 second level), and IPv6 blocks under one
 * provider prefix (the IPv6 index after its base), plus scattered others. */
static void query__direct_indexes_match_brute_force(void **state)
{
    (void)state;
    uint64_t seed = tu_seed("query__direct_indexes_match_brute_force", 20261205);
    tu_rng r = {seed};
    size_t n = 0, cap = 40000;
    tu_entry *e = malloc(cap * sizeof *e);
    for (int b = 0; b < 300; b++) {
        uint32_t base = 0x0a000000u | (uint32_t)tu_below(&r, 256) << 16;
        unsigned k = 10 + (unsigned)tu_below(&r, 60);
        for (unsigned j = 0; j < k && n < cap; j++) {
            unsigned len = 17 + (unsigned)tu_below(&r, 12);
            uint32_t a = base | (uint32_t)tu_below(&r, 65536);
            e[n].p = cs_prefix_from_v4(a, len);
            e[n].value = (uint32_t)n;
            n++;
        }
    }
    for (int j = 0; j < 12000 && n < cap; j++) {
        unsigned len = 44 + (unsigned)tu_below(&r, 21);
        uint64_t hi = 0x26001f0000000000ull | (tu_next(&r) & 0x000000ffffffffffull);
        e[n].p = cs_prefix_from_v6(hi, 0, len);
        e[n].value = (uint32_t)n;
        n++;
    }
    for (int j = 0; j < 2000 && n < cap; j++) {
        uint8_t fam = j & 1 ? CS_AF_V6 : CS_AF_V4;
        e[n].p = tu_random_prefix(&r, fam, fam == CS_AF_V4 ? 8 + (unsigned)tu_below(&r, 25)
                                                           : 20 + (unsigned)tu_below(&r, 60));
        e[n].value = (uint32_t)n;
        n++;
    }
    cs_snapshot *s = tu_build(e, n);
    const snap_direct *d = snap_direct_of(s);
    assert_non_null(d->dir);
    assert_non_null(d->l2);
    assert_true(d->n_l2 > 0);
    assert_non_null(d->dir6);
    assert_true(d->base_len >= 16);
    check_dir4_records(seed, s, &r);
    assert_int_equal(check_dir6_records(seed, s, &r), 0); /* random IPv6 is never busy */
    size_t nq = 3000;
    cs_prefix *qs = malloc(nq * sizeof *qs);
    tu_random_queries(&r, e, n, qs, nq);
    check_all(seed, s, e, n, qs, nq);
    free(qs);
    cs_snapshot_close(s);
    free(e);
}

/* s opened again with its direct indexes taken from its shm blob
 * (snap_direct_blob_pieces, snap_from_memory_with_blob, as a trusted shm
 * reader does) answers every count and lookup as s. */
static void check_blob_answers(uint64_t seed, const cs_snapshot *s, const cs_prefix *qs, size_t nq)
{
    uint8_t header[64];
    const void *piece[CS_BLOB_PIECES];
    size_t piece_len[CS_BLOB_PIECES];
    const size_t len = snap_direct_blob_len(s);
    const size_t pieces = snap_direct_blob_pieces(s, header, piece, piece_len);
    uint8_t *blob = aligned_alloc(64, len);
    assert_non_null(blob);
    size_t at = 0;
    for (size_t i = 0; i < pieces; i++) {
        assert_true(at + piece_len[i] <= len);
        memcpy(blob + at, piece[i], piece_len[i]);
        at += piece_len[i];
    }
    assert_int_equal(at, len);
    size_t img_len;
    const void *img = cs_snapshot_image(s, &img_len);
    cs_snapshot *t = NULL;
    assert_int_equal(snap_from_memory_with_blob(img, img_len, blob, len, 0, &t, NULL), 0);
    const snap_direct *a = snap_direct_of(s), *b = snap_direct_of(t);
    assert_int_equal(a->n_l2, b->n_l2);
    assert_int_equal(a->n_l2_6, b->n_l2_6);
    assert_true(b->l2_6 == NULL || (b->l2_6 != a->l2_6 && (const uint8_t *)b->l2_6 >= blob &&
                                    (const uint8_t *)b->l2_6 < blob + len));
    uint32_t *ca = malloc(nq * sizeof *ca), *cb = malloc(nq * sizeof *cb);
    cs_match *la = calloc(nq, sizeof *la), *lb = calloc(nq, sizeof *lb);
    assert_int_equal(cs_query_count_bulk(s, qs, nq, CS_Q_OVERLAPPING, ca), 0);
    assert_int_equal(cs_query_count_bulk(t, qs, nq, CS_Q_OVERLAPPING, cb), 0);
    assert_int_equal(cs_lookup_bulk(s, qs, nq, la), cs_lookup_bulk(t, qs, nq, lb));
    for (size_t i = 0; i < nq; i++)
        if (ca[i] != cb[i] || la[i].count != lb[i].count || la[i].first_entry != lb[i].first_entry)
            fail_at(seed, i, &qs[i], CS_Q_OVERLAPPING, "the blob's indexes answer otherwise");
    cs_snapshot_close(t);
    free(blob);
    free(ca);
    free(cb);
    free(la);
    free(lb);
}

/* An organisation's IPv6 (gen --shape org): per region a /32 of AWS space
 * (2600:1f10::/32 .. 2600:1f1f::/32), a few hundred /56 blocks per region
 * in its 2600:1f1R:0..1f:..00::/56, plus a region outside the others
 * (2600:1f20::/32) and scattered IPv6 and IPv4. The walks from the 16-bit
 * records of the regions go 9 to 11 steps deep, so they get the second
 * level (20, 24, 28 bits after base); every answer against brute force. */
static void query__ipv6_second_level_matches_brute_force(void **state)
{
    (void)state;
    uint64_t seed = tu_seed("query__ipv6_second_level_matches_brute_force", 20261206);
    tu_rng r = {seed};
    size_t n = 0, cap = 12000;
    tu_entry *e = malloc(cap * sizeof *e);
    for (uint64_t region = 0x10; region <= 0x20; region++) {
        unsigned k = 300 + (unsigned)tu_below(&r, 100);
        for (unsigned j = 0; j < k && n < cap; j++) {
            /* bits 32..55: a block number under 0x2000 (bits 43..55) */
            uint64_t blk = tu_below(&r, 0x2000);
            uint64_t hi = 0x26001f0000000000ull | region << 32 | blk << 8;
            unsigned len = j % 50 ? 56 : 48 + (unsigned)tu_below(&r, 16);
            e[n].p = cs_prefix_from_v6(hi, 0, len);
            e[n].value = (uint32_t)n;
            n++;
        }
    }
    for (int j = 0; j < 3000 && n < cap; j++) {
        uint8_t fam = j % 3 ? CS_AF_V4 : CS_AF_V6;
        e[n].p = tu_random_prefix(&r, fam, fam == CS_AF_V4 ? 8 + (unsigned)tu_below(&r, 25)
                                                           : 20 + (unsigned)tu_below(&r, 60));
        e[n].value = (uint32_t)n;
        n++;
    }
    cs_snapshot *s = tu_build(e, n);
    const snap_direct *d = snap_direct_of(s);
    assert_non_null(d->dir6);
    assert_non_null(d->l2_6);
    /* the base holds every region: 2600:1f10::/28 holds 16 of the 17
     * (94% of the blocks), but the lookups in 2600:1f20::/32 would then
     * walk from the root */
    const cs_prefix base = {d->base_hi, d->base_lo, (uint8_t)d->base_len, CS_AF_V6};
    for (uint64_t region = 0x10; region <= 0x20; region += 0x10)
        assert_true(cs_prefix_contains(&base, &(cs_prefix){0x26001f0000000000ull | region << 32, 0, 32,
                                                           CS_AF_V6}));
    assert_true(check_dir6_records(seed, s, &r) >= 8);
    size_t nq = 4000;
    cs_prefix *qs = malloc(nq * sizeof *qs);
    tu_random_queries(&r, e, n, qs, nq);
    check_all(seed, s, e, n, qs, nq);
    /* the same answers from an image whose indexes come from a shm
     * publisher's blob (engine/image/direct_blob_internal.h) */
    check_blob_answers(seed, s, qs, nq);
    free(qs);
    cs_snapshot_close(s);
    free(e);
}

/* The direct indexes are built by the first query that needs them
 * (snapshot.c, dx_of): threads that all start querying a fresh snapshot at
 * once must race to one build and all get the answers of a snapshot whose
 * indexes were built before any thread ran. */
typedef struct lazy_job {
    const cs_snapshot *s;
    const cs_prefix *qs;
    size_t nq;
    uint32_t *counts;
    cs_match *lpm;
    pthread_barrier_t *go;
    int rc;
} lazy_job;

static void *lazy_thread(void *arg)
{
    lazy_job *j = arg;
    pthread_barrier_wait(j->go);
    j->rc = cs_query_count_bulk(j->s, j->qs, j->nq, CS_Q_OVERLAPPING, j->counts);
    if (j->rc == 0 && cs_lookup_bulk(j->s, j->qs, j->nq, j->lpm) < 0)
        j->rc = -1;
    return NULL;
}

static void query__lazy_direct_indexes_race_to_one_build(void **state)
{
    (void)state;
    uint64_t seed = tu_seed("query__lazy_direct_indexes_race_to_one_build", 20261203);
    tu_rng r = {seed};
    size_t n = 30000;
    tu_entry *e = malloc(n * sizeof *e);
    for (size_t i = 0; i < n; i++) {
        uint8_t fam = i % 3 == 2 ? CS_AF_V6 : CS_AF_V4;
        e[i].p = tu_random_prefix(&r, fam, fam == CS_AF_V4 ? 12 + (unsigned)tu_below(&r, 17)
                                                            : 32 + (unsigned)tu_below(&r, 33));
        e[i].value = (uint32_t)i;
    }
    size_t nq = 4000;
    cs_prefix *qs = malloc(nq * sizeof *qs);
    tu_random_queries(&r, e, n, qs, nq);
    /* the reference: indexes built before any query */
    cs_snapshot *ref = tu_build(e, n);
    assert_non_null(snap_direct_of(ref)->dir);
    uint32_t *want = malloc(nq * sizeof *want);
    cs_match *want_lpm = calloc(nq, sizeof *want_lpm);
    assert_int_equal(cs_query_count_bulk(ref, qs, nq, CS_Q_OVERLAPPING, want), 0);
    assert_true(cs_lookup_bulk(ref, qs, nq, want_lpm) >= 0);
    enum { T = 4 };
    for (int round = 0; round < 5; round++) {
        cs_snapshot *s = tu_build(e, n);
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, T);
        pthread_t t[T];
        lazy_job j[T];
        for (int k = 0; k < T; k++) {
            j[k] = (lazy_job){.s = s, .qs = qs, .nq = nq, .go = &go,
                              .counts = malloc(nq * sizeof(uint32_t)),
                              .lpm = calloc(nq, sizeof(cs_match))};
            assert_int_equal(pthread_create(&t[k], NULL, lazy_thread, &j[k]), 0);
        }
        for (int k = 0; k < T; k++) {
            pthread_join(t[k], NULL);
            assert_int_equal(j[k].rc, 0);
            for (size_t i = 0; i < nq; i++) {
                if (j[k].counts[i] != want[i] || j[k].lpm[i].count != want_lpm[i].count ||
                    (want_lpm[i].count &&
                     cs_prefix_compare(&j[k].lpm[i].prefix, &want_lpm[i].prefix) != 0))
                    fail_at(seed, i, &qs[i], CS_Q_OVERLAPPING, "lazy indexes under threads");
            }
            free(j[k].counts);
            free(j[k].lpm);
        }
        pthread_barrier_destroy(&go);
        assert_non_null(snap_direct_of(s)->dir);
        cs_snapshot_close(s);
    }
    cs_snapshot_close(ref);
    free(want);
    free(want_lpm);
    free(qs);
    free(e);
}

/* ---- the read-side primitives (engine/query/walk_internal.h) ------------- */

static int cmp_entry_prefix(const void *a, const void *b)
{
    return cs_prefix_compare(&((const tu_entry *)a)->p, &((const tu_entry *)b)->p);
}

/* Distinct prefixes of e (sorted by cs_prefix_compare, which is DFS
 * preorder) with their multiplicities. */
static size_t distinct_prefixes(tu_entry *e, size_t n, cs_prefix *out, uint32_t *mult)
{
    qsort(e, n, sizeof *e, cmp_entry_prefix);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k && cs_prefix_compare(&out[k - 1], &e[i].p) == 0) {
            mult[k - 1]++;
            continue;
        }
        out[k] = e[i].p;
        mult[k++] = 1;
    }
    return k;
}

static void check_visit(uint64_t seed, const cs_snapshot *s, const cs_prefix *d,
                        const uint32_t *mult, size_t nd, unsigned fam,
                        const cs_prefix *within)
{
    cs_wvisit v;
    cs_walk_visit_init(&v, s, fam, within);
    cs_wnode w, prev[130];
    size_t k = 0;
    uint8_t want_family = fam ? CS_AF_V6 : CS_AF_V4;
    for (size_t j = 0; j < nd; j++) {
        if (d[j].family != want_family || (within && !cs_prefix_contains(within, &d[j])))
            continue;
        if (!cs_walk_visit_next(&v, &w))
            fail_msg("seed %llu: visit ended early at distinct prefix %zu", (unsigned long long)seed, j);
        if (cs_prefix_compare(&w.prefix, &d[j]) != 0 || w.own_end - w.ent_begin != mult[j])
            fail_msg("seed %llu: visit node %zu is not the next stored prefix", (unsigned long long)seed, k);
        /* depth: stored prefixes containing it inside the visited range */
        uint32_t depth = 1;
        for (size_t i = 0; i < j; i++)
            if (d[i].family == want_family && d[i].len < d[j].len && cs_prefix_contains(&d[i], &d[j]) &&
                (!within || cs_prefix_contains(within, &d[i])))
                depth++;
        if (w.depth != depth)
            fail_msg("seed %llu: visit depth %u, want %u", (unsigned long long)seed, w.depth, depth);
        if (depth > 1 && (w.up == CS_NO_NODE || depth - 2 >= 130 || prev[depth - 2].node != w.up))
            fail_msg("seed %llu: visit up link is not the enclosing prefix", (unsigned long long)seed);
        if (depth == 1 && w.up != CS_NO_NODE)
            fail_msg("seed %llu: top-level node has an up link", (unsigned long long)seed);
        if (depth - 1 < 130)
            prev[depth - 1] = w;
        k++;
    }
    if (cs_walk_visit_next(&v, &w))
        fail_msg("seed %llu: visit returned more nodes than stored prefixes", (unsigned long long)seed);
}

static void query__walk_primitives_match_brute_force(void **state)
{
    (void)state;
    uint64_t seed = tu_seed("query__walk_primitives_match_brute_force", 20261203);
    for (int round = 0; round < 2; round++) {
        tu_rng r = {seed + (uint64_t)round};
        size_t n = round == 0 ? 30000 : 500;
        tu_entry *e = tu_random_entries(&r, n, 12);
        cs_snapshot *s = tu_build(e, n);
        cs_prefix *d = malloc(n * sizeof *d);
        uint32_t *mult = malloc(n * sizeof *mult);
        size_t nd = distinct_prefixes(e, n, d, mult);
        check_visit(seed, s, d, mult, nd, 0, NULL);
        check_visit(seed, s, d, mult, nd, 1, NULL);
        size_t nq = 400;
        cs_prefix *qs = malloc(nq * sizeof *qs);
        tu_random_queries(&r, e, n, qs, nq);
        uint32_t values_n[2];
        cs_walk_values(s, 0, &values_n[0]);
        cs_walk_values(s, 1, &values_n[1]);
        assert_int_equal((size_t)values_n[0] + values_n[1], n);
        for (size_t qi = 0; qi < nq; qi++) {
            const cs_prefix *q = &qs[qi];
            unsigned fam = cs_family_index(q->family);
            /* covering chain: the distinct stored prefixes containing q */
            cs_wnode chain[130];
            unsigned nc = cs_walk_covering(s, q, chain, 130);
            unsigned want = 0;
            for (size_t j = 0; j < nd; j++) {
                if (!cs_prefix_contains(&d[j], q))
                    continue;
                if (want >= nc || cs_prefix_compare(&chain[want].prefix, &d[j]) != 0 ||
                    chain[want].own_end - chain[want].ent_begin != mult[j] ||
                    chain[want].depth != want + 1 ||
                    chain[want].up != (want ? chain[want - 1].node : CS_NO_NODE))
                    fail_at(seed, qi, q, CS_Q_COVERING, "covering chain differs from brute force");
                want++;
            }
            if (nc != want)
                fail_at(seed, qi, q, CS_Q_COVERING, "covering chain length differs");
            /* covered slice: every entry inside q, one range */
            uint32_t b, en;
            uint32_t node = cs_walk_covered(s, q, &b, &en);
            size_t inside = brute(e, n, q, CS_Q_COVERED, NULL);
            if (en - b != inside || (inside == 0) != (node == CS_NO_NODE))
                fail_at(seed, qi, q, CS_Q_COVERED, "covered slice size differs from brute force");
            for (uint32_t x = b; x < en; x++) {
                cs_wnode w;
                cs_walk_entry_node(s, fam, x, &w);
                if (!cs_prefix_contains(q, &w.prefix) || x < w.ent_begin || x >= w.own_end ||
                    x >= values_n[fam])
                    fail_at(seed, qi, q, CS_Q_COVERED, "covered slice holds an entry outside q");
            }
            if (qi % 8 == 0)
                check_visit(seed, s, d, mult, nd, fam, q);
        }
        free(qs);
        free(d);
        free(mult);
        cs_snapshot_close(s);
        free(e);
    }
}

/* ---- the pair count ----------------------------------------------------------- */

/* Overlapping entry pairs per family ([0] IPv4, [1] IPv6), pairwise: what
 * cs_query_count_pairs must return, by the definition. */
static void brute_pairs(const tu_entry *e, size_t n, uint64_t out[2])
{
    out[0] = out[1] = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (e[i].p.family == e[j].p.family && tu_relation(&e[i].p, &e[j].p) != 0)
                out[e[i].p.family == CS_AF_V6]++;
}

/* The same, asked another way through the query API: each entry overlaps
 * cs_query_count(OVERLAPPING) entries, itself included, and each pair is
 * seen from both of its entries. */
static void pairs_by_counts(const cs_snapshot *s, const tu_entry *e, size_t n, uint64_t out[2])
{
    uint64_t twice[2] = {0, 0};
    for (size_t i = 0; i < n; i++)
        twice[e[i].p.family == CS_AF_V6] +=
            (uint64_t)cs_query_count(s, &e[i].p, CS_Q_OVERLAPPING) - 1;
    out[0] = twice[0] / 2;
    out[1] = twice[1] / 2;
}

static void expect_pairs(uint64_t seed, const cs_snapshot *s, const tu_entry *e, size_t n,
                         int pairwise)
{
    uint64_t want[2];
    if (pairwise)
        brute_pairs(e, n, want);
    else
        pairs_by_counts(s, e, n, want);
    static const uint8_t fams[3] = {0, CS_AF_V4, CS_AF_V6};
    const uint64_t wants[3] = {want[0] + want[1], want[0], want[1]};
    for (int k = 0; k < 3; k++) {
        uint64_t got = UINT64_MAX;
        assert_int_equal(cs_query_count_pairs(s, fams[k], &got), 0);
        if (got != wants[k])
            fail_msg("seed %llu, %zu entries, family %u: %llu pairs, want %llu",
                     (unsigned long long)seed, n, fams[k], (unsigned long long)got,
                     (unsigned long long)wants[k]);
    }
}

static void query__count_pairs_matches_brute_force(void **state)
{
    (void)state;
    uint64_t seed = tu_seed("query__count_pairs_matches_brute_force", 1414);
    /* tiny sets first (one node, a leaf last in preorder, one prefix many
     * times), then seeded sets nested 12+ deep with many duplicates, then
     * the real prefixes (142k: pairwise is too slow, the counts agree) */
    for (int round = 0; round < 24; round++) {
        tu_rng r = {seed + (uint64_t)round};
        size_t n = round < 8 ? (size_t)round : round < 20 ? 50 + tu_below(&r, 2000) : 60000;
        tu_entry *e = tu_random_entries(&r, n ? n : 1, round < 8 ? 1 + (unsigned)round : 12);
        if (round >= 4 && round < 8)
            for (size_t i = 1; i < n; i++)
                e[i].p = e[0].p; /* one prefix, n entries: C(n, 2) */
        cs_snapshot *s = tu_build(e, n);
        expect_pairs(seed + (uint64_t)round, s, e, n, n <= 2050);
        cs_snapshot_close(s);
        free(e);
    }
    size_t n;
    tu_entry *e = tu_load_real(CS_SHARED_PREFIXES, &n);
    if (e) {
        cs_snapshot *s = tu_build(e, n);
        expect_pairs(seed, s, e, n, 0);
        cs_snapshot_close(s);
        free(e);
    }
    /* bad arguments */
    cs_snapshot *s = tu_build(NULL, 0);
    uint64_t p = 7;
    assert_int_equal(cs_query_count_pairs(s, 0, &p), 0);
    assert_int_equal(p, 0);
    assert_int_equal(cs_query_count_pairs(s, 5, &p), CS_EINVAL);
    assert_int_equal(cs_query_count_pairs(NULL, 0, &p), CS_EINVAL);
    assert_int_equal(cs_query_count_pairs(s, CS_AF_V4, NULL), CS_EINVAL);
    cs_snapshot_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(query__empty_snapshot_and_bad_arguments),
        cmocka_unit_test(query__families_never_mix),
        cmocka_unit_test(query__broad_query_counts_default_vpcs_in_one_walk),
        cmocka_unit_test(query__insertion_order_does_not_change_the_image),
        cmocka_unit_test(query__file_image_answers_as_heap_image),
        cmocka_unit_test(query__random_sets_have_deep_chains_and_duplicates),
        cmocka_unit_test(query__random_sets_match_brute_force),
        cmocka_unit_test(query__real_prefixes_match_brute_force),
        cmocka_unit_test(query__walk_primitives_match_brute_force),
        cmocka_unit_test(query__count_pairs_matches_brute_force),
        cmocka_unit_test(query__direct_indexes_match_brute_force),
        cmocka_unit_test(query__ipv6_second_level_matches_brute_force),
        cmocka_unit_test(query__lazy_direct_indexes_race_to_one_build),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
