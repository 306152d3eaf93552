/*
 * tests/test_direct.c — the direct indexes built lazily (snapshot.c,
 * snap_direct_for; engine/image/direct.c): none before the queries walked
 * without them reach CS_DIRECT_LAZY_QUERIES, then only the families asked
 * for, byte for byte the indexes an eager build makes, under threads that
 * race past the threshold; every answer on the way equal to a snapshot
 * whose indexes were built before any query, and a sample to brute force.
 * Every IPv4 record against a walk from the root. Also the buffers they
 * and file images live in (engine/image/pages.c).
 * The records themselves are checked against their definition in
 * tests/test_query.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "support/testutil.h"

#include "image/pages_internal.h"
#include "image/snapshot_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An estate with both families large enough for every index level: busy
 * /16s of 10.0.0.0/8 full of /17../28 blocks, an organisation's IPv6 /56
 * blocks under 2600:1f10::/28 .. 2600:1f1f::/32, scattered others. */
static tu_entry *estate(tu_rng *r, size_t *n_out)
{
    size_t n = 0, cap = 30000;
    tu_entry *e = malloc(cap * sizeof *e);
    assert_non_null(e);
    for (int b = 0; b < 250; b++) {
        uint32_t base = 0x0a000000u | (uint32_t)tu_below(r, 256) << 16;
        unsigned k = 10 + (unsigned)tu_below(r, 60);
        for (unsigned j = 0; j < k && n < cap; j++) {
            e[n].p = cs_prefix_from_v4(base | (uint32_t)tu_below(r, 65536),
                                       17 + (unsigned)tu_below(r, 12));
            e[n].value = (uint32_t)n;
            n++;
        }
    }
    for (uint64_t region = 0x10; region <= 0x1f; region++) {
        for (unsigned j = 0; j < 400 && n < cap; j++) {
            uint64_t hi = 0x26001f0000000000ull | region << 32 | tu_below(r, 0x2000) << 8;
            e[n].p = cs_prefix_from_v6(hi, 0, j % 50 ? 56 : 48 + (unsigned)tu_below(r, 9));
            e[n].value = (uint32_t)n;
            n++;
        }
    }
    for (int j = 0; j < 2000 && n < cap; j++) {
        uint8_t fam = j & 1 ? CS_AF_V6 : CS_AF_V4;
        e[n].p = tu_random_prefix(r, fam, fam == CS_AF_V4 ? 8 + (unsigned)tu_below(r, 25)
                                                         : 20 + (unsigned)tu_below(r, 60));
        e[n].value = (uint32_t)n;
        n++;
    }
    *n_out = n;
    return e;
}

/* Queries of one family (CS_AF_V4 / CS_AF_V6) drawn as tu_random_queries
 * draws them. */
static cs_prefix *queries_of(tu_rng *r, const tu_entry *e, size_t n, uint8_t fam, size_t nq)
{
    cs_prefix *q = malloc(nq * sizeof *q), *pool = malloc(64 * sizeof *pool);
    assert_non_null(q);
    assert_non_null(pool);
    size_t k = 0;
    while (k < nq) {
        tu_random_queries(r, e, n, pool, 64);
        for (size_t i = 0; i < 64 && k < nq; i++)
            if (pool[i].family == fam)
                q[k++] = pool[i];
    }
    free(pool);
    return q;
}

static size_t brute_count(const tu_entry *e, size_t n, const cs_prefix *q)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += tu_relation(&e[i].p, q) != 0;
    return k;
}

/* s answers qs[0..nq) as ref does (counts and longest matches, bulk), and
 * every 16th count as brute force. */
static void same_answers(uint64_t seed, const char *when, const cs_snapshot *s,
                         const cs_snapshot *ref, const tu_entry *e, size_t n, const cs_prefix *qs,
                         size_t nq)
{
    uint32_t *got = malloc(nq * sizeof *got), *want = malloc(nq * sizeof *want);
    cs_match *gl = calloc(nq, sizeof *gl), *wl = calloc(nq, sizeof *wl);
    assert_true(got && want && gl && wl);
    assert_int_equal(cs_query_count_bulk(s, qs, nq, CS_Q_OVERLAPPING, got), 0);
    assert_int_equal(cs_query_count_bulk(ref, qs, nq, CS_Q_OVERLAPPING, want), 0);
    assert_int_equal(cs_lookup_bulk(s, qs, nq, gl), cs_lookup_bulk(ref, qs, nq, wl));
    for (size_t i = 0; i < nq; i++) {
        char t[64];
        cs_prefix_format(&qs[i], t, sizeof t);
        if (got[i] != want[i] || gl[i].count != wl[i].count ||
            (wl[i].count && cs_prefix_compare(&gl[i].prefix, &wl[i].prefix) != 0))
            fail_msg("seed %llu, %s: query %zu (%s): count %u / lpm %u, want %u / %u",
                     (unsigned long long)seed, when, i, t, got[i], gl[i].count, want[i],
                     wl[i].count);
        if (i % 16 == 0 && got[i] != brute_count(e, n, &qs[i]))
            fail_msg("seed %llu, %s: query %zu (%s): count %u, brute force %zu",
                     (unsigned long long)seed, when, i, t, got[i], brute_count(e, n, &qs[i]));
    }
    free(got);
    free(want);
    free(gl);
    free(wl);
}

/* Every record of a and b equal (families both built or both absent). */
static void same_indexes(const snap_direct *a, const snap_direct *b)
{
    assert_int_equal(a->dir == NULL, b->dir == NULL);
    assert_int_equal(a->dir6 == NULL, b->dir6 == NULL);
    assert_int_equal(a->n_l2, b->n_l2);
    assert_int_equal(a->n_l2_6, b->n_l2_6);
    if (a->dir) {
        assert_memory_equal(a->dir, b->dir, CS_DIR4_RECORDS * sizeof(cs_dir16));
        if (a->n_l2) {
            assert_memory_equal(a->l2, b->l2, 65536 * sizeof(uint32_t));
            assert_memory_equal(a->dir24, b->dir24,
                                (size_t)a->n_l2 * CS_DIR_L2_RECORDS * sizeof(cs_dir16));
        }
    }
    if (a->dir6) {
        assert_true(a->base_hi == b->base_hi && a->base_lo == b->base_lo);
        assert_int_equal(a->base_len, b->base_len);
        assert_int_equal(a->base_x, b->base_x);
        assert_memory_equal(a->dir6, b->dir6, CS_DIR6_RECORDS * sizeof(cs_dir16));
        if (a->n_l2_6) {
            assert_memory_equal(a->l2_6, b->l2_6, 65536 * sizeof(uint32_t));
            assert_memory_equal(a->dir6_l2, b->dir6_l2,
                                (size_t)a->n_l2_6 * CS_DIR6_L2_RECORDS * sizeof(cs_dir16));
        }
    }
}

/* The record of IPv4 block (key, len) by a walk from the root: down the
 * block's side while the node is shorter than the block and agrees with
 * it; the first node not shorter is where a walk resumes, the last one
 * passed is x (snapshot_internal.h, cs_dir16). */
static cs_dir16 root_walk4(const cs_famview *f, uint32_t key, unsigned len)
{
    uint32_t i = 0, x = CS_NO_NODE;
    for (;;) {
        const cs_hot4 *h = &f->hot4[i];
        if (h->len >= len)
            return (cs_dir16){i, x};
        if (h->len && (key ^ h->key) >> (32 - h->len))
            return (cs_dir16){CS_NO_NODE, x};
        x = i;
        i = key >> (31 - h->len) & 1u ? h->right : (h->flags & CS_FN_LEFT) ? i + 1 : 0;
        if (!i)
            return (cs_dir16){CS_NO_NODE, x};
    }
}

static void expect_record(uint64_t seed, const cs_famview *f, const cs_dir16 *got, uint32_t key,
                          unsigned len)
{
    const cs_dir16 want = root_walk4(f, key, len);
    if (got->resume != want.resume || got->x != want.x)
        fail_msg("seed %llu: record of %u.%u.%u.%u/%u is (%u, %u), a walk from the root "
                 "gives (%u, %u)", (unsigned long long)seed, key >> 24, key >> 16 & 255,
                 key >> 8 & 255, key & 255, len, got->resume, got->x, want.resume, want.x);
}

/* Every IPv4 record (the /8, /12 and /16 levels, and the /20 and /24
 * records of every busy /16), filled a subtree at a time, against a walk
 * from the root per block. */
static void direct__every_ipv4_record_is_its_walk_from_the_root(void **state)
{
    (void)state;
    uint64_t seed = tu_seed("direct__every_ipv4_record_is_its_walk_from_the_root", 20261207);
    tu_rng r = {seed};
    size_t n;
    tu_entry *e = estate(&r, &n);
    cs_snapshot *s = tu_build(e, n);
    const snap_direct *d = snap_direct_of(s);
    const cs_famview *f = snap_family(s, 0);
    assert_true(d->n_l2 > 0);
    for (uint32_t v = 0; v < 256; v++)
        expect_record(seed, f, &d->dir[CS_DIR4_AT8 + v], v << 24, 8);
    for (uint32_t v = 0; v < 4096; v++)
        expect_record(seed, f, &d->dir[CS_DIR4_AT12 + v], v << 20, 12);
    for (uint32_t v = 0; v < 65536; v++) {
        expect_record(seed, f, &d->dir[v], v << 16, 16);
        if (d->l2[v] == CS_NO_NODE)
            continue;
        const cs_dir16 *rec = &d->dir24[d->l2[v]];
        for (uint32_t w = 0; w < 16; w++)
            expect_record(seed, f, &rec[w], v << 16 | w << 12, 20);
        for (uint32_t w = 0; w < 256; w++)
            expect_record(seed, f, &rec[16 + w], v << 16 | w << 8, 24);
    }
    cs_snapshot_close(s);
    free(e);
}

/* Bulk calls of IPv4 queries build nothing until the queries walked
 * without an index reach the threshold, then IPv4's alone; IPv6 queries
 * count on their own: a few build nothing, IPv6's index follows once they
 * reach the threshold too. Each stage answers as the eager snapshot, and
 * the lazy indexes equal the eager ones record for record. */
static void direct__built_per_family_once_the_queries_pay(void **state)
{
    (void)state;
    uint64_t seed = tu_seed("direct__built_per_family_once_the_queries_pay", 20261203);
    tu_rng r = {seed};
    size_t n;
    tu_entry *e = estate(&r, &n);
    cs_snapshot *s = tu_build(e, n), *ref = tu_build(e, n);
    const snap_direct *eager = snap_direct_of(ref);
    assert_int_equal(snap_direct_built(ref), 3);
    assert_non_null(eager->dir);
    assert_true(eager->n_l2 > 0);
    assert_non_null(eager->dir6);
    assert_true(eager->n_l2_6 > 0);
    assert_int_equal(snap_direct_built(s), 0);
    const size_t batch = CS_DIRECT_LAZY_QUERIES / 4;
    cs_prefix *q4 = queries_of(&r, e, n, CS_AF_V4, batch);
    cs_prefix *q6 = queries_of(&r, e, n, CS_AF_V6, batch);
    /* same_answers asks s 2 * batch queries a call (count, then lookup) */
    size_t asked = 0;
    while (asked + 2 * batch < CS_DIRECT_LAZY_QUERIES) {
        same_answers(seed, "IPv4, before the threshold", s, ref, e, n, q4, batch);
        asked += 2 * batch;
        assert_int_equal(snap_direct_built(s), 0);
        assert_null(snap_direct_for(s, 0, 0)->dir);
    }
    same_answers(seed, "IPv4, crossing the threshold", s, ref, e, n, q4, batch);
    assert_int_equal(snap_direct_built(s), 1); /* IPv4 only */
    const snap_direct *v4 = snap_direct_for(s, 0, 0);
    assert_non_null(v4->dir);
    assert_null(v4->dir6);
    same_answers(seed, "IPv4 built", s, ref, e, n, q4, batch);
    same_answers(seed, "a few IPv6", s, ref, e, n, q6, 16);
    assert_int_equal(snap_direct_built(s), 1); /* 32 IPv6 queries: not yet */
    for (asked = 32; asked + 2 * batch < CS_DIRECT_LAZY_QUERIES; asked += 2 * batch)
        same_answers(seed, "IPv6, before its threshold", s, ref, e, n, q6, batch);
    assert_int_equal(snap_direct_built(s), 1);
    same_answers(seed, "IPv6, crossing its threshold", s, ref, e, n, q6, batch);
    assert_int_equal(snap_direct_built(s), 3);
    /* what a reader took before IPv6's build still holds IPv4 alone */
    assert_null(v4->dir6);
    same_indexes(snap_direct_for(s, 3, 0), eager);
    same_indexes(snap_direct_of(s), eager);
    same_answers(seed, "both built", s, ref, e, n, q4, batch);
    free(q4);
    free(q6);
    cs_snapshot_close(s);
    cs_snapshot_close(ref);
    free(e);
}

/* One query at a time (cs_query_count, cs_lookup) counts toward the
 * threshold as bulk calls do, and builds only its family. */
static void direct__single_queries_build_their_family(void **state)
{
    (void)state;
    uint64_t seed = tu_seed("direct__single_queries_build_their_family", 20261204);
    tu_rng r = {seed};
    size_t n;
    tu_entry *e = estate(&r, &n);
    cs_snapshot *s = tu_build(e, n), *ref = tu_build(e, n);
    (void)snap_direct_of(ref);
    cs_prefix *q6 = queries_of(&r, e, n, CS_AF_V6, 512);
    /* two queries an iteration: built by the call that brings them to the
     * threshold, so from iteration i = threshold / 2 on */
    for (size_t i = 0; i < CS_DIRECT_LAZY_QUERIES / 2 + 16; i++) {
        const cs_prefix *q = &q6[i % 512];
        if (snap_direct_built(s) != (2 * i >= CS_DIRECT_LAZY_QUERIES ? 2u : 0u))
            fail_msg("seed %llu: after %zu single queries, built %u", (unsigned long long)seed,
                     2 * i, snap_direct_built(s));
        cs_match a, b;
        if (cs_query_count(s, q, CS_Q_OVERLAPPING) != cs_query_count(ref, q, CS_Q_OVERLAPPING) ||
            cs_lookup(s, q, &a) != cs_lookup(ref, q, &b) || a.count != b.count)
            fail_msg("seed %llu: single query %zu answers otherwise", (unsigned long long)seed, i);
    }
    assert_int_equal(snap_direct_built(s), 2); /* IPv6 only */
    same_indexes(snap_direct_of(s), snap_direct_of(ref));
    free(q6);
    cs_snapshot_close(s);
    cs_snapshot_close(ref);
    free(e);
}

/* Threads that all query a fresh snapshot race past the threshold: one
 * builds, the others go on walking without (trylock) or take the indexes
 * once published; every answer is the eager snapshot's. */
typedef struct race {
    const cs_snapshot *s;
    const cs_prefix *qs;
    size_t nq;
    const uint32_t *want;
    const cs_match *want_lpm;
    pthread_barrier_t *go;
    size_t wrong; /* answers that differ from the eager snapshot's */
} race;

static void *racer(void *arg)
{
    race *j = arg;
    uint32_t *got = malloc(j->nq * sizeof *got);
    cs_match *lpm = calloc(j->nq, sizeof *lpm);
    pthread_barrier_wait(j->go);
    for (int k = 0; k < 6; k++) {
        if (!got || !lpm || cs_query_count_bulk(j->s, j->qs, j->nq, CS_Q_OVERLAPPING, got) != 0 ||
            cs_lookup_bulk(j->s, j->qs, j->nq, lpm) < 0) {
            j->wrong++;
            break;
        }
        for (size_t i = 0; i < j->nq; i++)
            j->wrong += got[i] != j->want[i] || lpm[i].count != j->want_lpm[i].count ||
                        (lpm[i].count && cs_prefix_compare(&lpm[i].prefix, &j->want_lpm[i].prefix));
    }
    free(got);
    free(lpm);
    return NULL;
}

static void direct__threads_race_past_the_threshold(void **state)
{
    (void)state;
    uint64_t seed = tu_seed("direct__threads_race_past_the_threshold", 20261205);
    tu_rng r = {seed};
    size_t n;
    tu_entry *e = estate(&r, &n);
    cs_snapshot *ref = tu_build(e, n);
    (void)snap_direct_of(ref);
    size_t nq = 900; /* 4 threads * 6 rounds * 2 calls * 900 > the threshold */
    cs_prefix *qs = malloc(nq * sizeof *qs);
    tu_random_queries(&r, e, n, qs, nq);
    uint32_t *want = malloc(nq * sizeof *want);
    cs_match *want_lpm = calloc(nq, sizeof *want_lpm);
    assert_int_equal(cs_query_count_bulk(ref, qs, nq, CS_Q_OVERLAPPING, want), 0);
    assert_true(cs_lookup_bulk(ref, qs, nq, want_lpm) >= 0);
    for (int round = 0; round < 3; round++) {
        cs_snapshot *s = tu_build(e, n);
        enum { T = 4 };
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, T);
        pthread_t t[T];
        race j[T];
        for (int k = 0; k < T; k++) {
            j[k] = (race){s, qs, nq, want, want_lpm, &go, 0};
            assert_int_equal(pthread_create(&t[k], NULL, racer, &j[k]), 0);
        }
        for (int k = 0; k < T; k++) {
            pthread_join(t[k], NULL);
            if (j[k].wrong)
                fail_msg("seed %llu, round %d: thread %d got %zu answers wrong",
                         (unsigned long long)seed, round, k, j[k].wrong);
        }
        pthread_barrier_destroy(&go);
        /* the queries hold both families: whoever built, built both */
        assert_int_equal(snap_direct_built(s), 3);
        same_indexes(snap_direct_for(s, 0, 0), snap_direct_of(ref));
        same_answers(seed, "after the threads", s, ref, e, n, qs, nq);
        cs_snapshot_close(s);
    }
    free(want);
    free(want_lpm);
    free(qs);
    cs_snapshot_close(ref);
    free(e);
}

/* A trie too small for an index: past the threshold the family counts as
 * built, with no index, and answers stay right. */
static void direct__small_tries_get_none(void **state)
{
    (void)state;
    uint64_t seed = tu_seed("direct__small_tries_get_none", 20261206);
    tu_rng r = {seed};
    size_t n = 600;
    tu_entry *e = tu_random_entries(&r, n, 6);
    cs_snapshot *s = tu_build(e, n), *ref = tu_build(e, n);
    size_t nq = CS_DIRECT_LAZY_QUERIES / 2 + 8;
    cs_prefix *qs = malloc(nq * sizeof *qs);
    tu_random_queries(&r, e, n, qs, nq);
    same_answers(seed, "small trie", s, ref, e, n, qs, nq);
    assert_int_equal(snap_direct_built(s), 3);
    assert_null(snap_direct_for(s, 3, 0)->dir);
    assert_null(snap_direct_for(s, 3, 0)->dir6);
    free(qs);
    cs_snapshot_close(s);
    cs_snapshot_close(ref);
    free(e);
}

/* cs_pages_alloc: 64-byte aligned, every byte writable and kept, at sizes
 * around its thresholds; a trimmed buffer keeps what is below the trim. */
static void direct__page_buffers_hold_what_is_written(void **state)
{
    (void)state;
    const size_t huge = (size_t)2 << 20;
    const size_t sizes[] = {0, 1, 4096, CS_PAGES_MIN - 64, CS_PAGES_MIN, huge - 64, huge,
                            huge + CS_PAGES_ROUND_UP - 65, huge + CS_PAGES_ROUND_UP, 5 * huge + 12345};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        const size_t len = sizes[i];
        uint8_t *p = cs_pages_alloc(len);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 64, 0);
        for (size_t j = 0; j < len; j++)
            p[j] = (uint8_t)(j * 31 + i);
        cs_pages_trim(p, len / 2);
        for (size_t j = 0; j < len / 2; j++)
            if (p[j] != (uint8_t)(j * 31 + i))
                fail_msg("buffer of %zu bytes: byte %zu changed", len, j);
        cs_pages_free(p);
    }
    cs_pages_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(direct__page_buffers_hold_what_is_written),
        cmocka_unit_test(direct__small_tries_get_none),
        cmocka_unit_test(direct__every_ipv4_record_is_its_walk_from_the_root),
        cmocka_unit_test(direct__built_per_family_once_the_queries_pay),
        cmocka_unit_test(direct__single_queries_build_their_family),
        cmocka_unit_test(direct__threads_race_past_the_threshold),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
