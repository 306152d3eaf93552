/*
 * tests/test_trie.c — the build-side Patricia trie (engine/build/trie.c):
 * insert, exact find, duplicates, both families, clear and reuse, and the
 * overlap probe the freeze uses, against a brute-force scan of what was
 * inserted (seeds printed; replay with CS_TEST_SEED).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "support/testutil.h"

#include "build/trie_internal.h"

#include <stdlib.h>
#include <string.h>

/* Checks the structural invariants of trie_internal.h from the root: a
 * child is longer than its parent, agrees with it on the parent's bits and
 * continues with its side's bit; keys have no bits past len; a node without
 * entries has two children. Returns the number of nodes reached. */
static uint32_t check_shape(const cs_trie *t, uint32_t i, uint64_t *entries, uint32_t *stored)
{
    if (i == TRIE_NONE)
        return 0;
    const trie_node *n = &t->nodes[i];
    uint64_t hi = n->hi, lo = n->lo;
    cs_key_truncate(&hi, &lo, n->len);
    assert_true(hi == n->hi && lo == n->lo);
    assert_true(n->len <= t->bits);
    if (n->n_entries == 0)
        assert_true(n->child[0] != TRIE_NONE && n->child[1] != TRIE_NONE);
    *entries += n->n_entries;
    *stored += n->n_entries != 0;
    uint32_t reached = 1;
    for (unsigned b = 0; b < 2; b++) {
        uint32_t c = n->child[b];
        if (c == TRIE_NONE)
            continue;
        const trie_node *k = &t->nodes[c];
        assert_true(k->len > n->len);
        assert_true(cs_key_common_bits(k->hi, k->lo, n->hi, n->lo, n->len) == n->len);
        assert_int_equal(cs_key_bit(k->hi, k->lo, n->len), b);
        reached += check_shape(t, c, entries, stored);
    }
    return reached;
}

static void fill_family(const tu_entry *e, size_t n, cs_trie *t, uint8_t fam)
{
    for (size_t i = 0; i < n; i++)
        if (e[i].p.family == fam)
            assert_int_equal(trie_insert(t, &e[i].p, e[i].value), 0);
}

static void trie__insert_and_find_match_brute_force(void **state)
{
    (void)state;
    uint64_t seed = tu_seed("trie__insert_and_find_match_brute_force", 20261203);
    for (int round = 0; round < 3; round++) {
        tu_rng r = {seed + (uint64_t)round};
        size_t n = round == 0 ? 20000 : round == 1 ? 700 : 9;
        tu_entry *e = tu_random_entries(&r, n, 10);
        for (unsigned f = 0; f < 2; f++) {
            uint8_t fam = f ? CS_AF_V6 : CS_AF_V4;
            cs_trie t;
            trie_init(&t, f ? 128 : 32);
            fill_family(e, n, &t, fam);
            size_t want_entries = 0;
            for (size_t i = 0; i < n; i++)
                want_entries += e[i].p.family == fam;
            assert_int_equal(t.n_ents, want_entries);
            uint64_t entries = 0;
            uint32_t stored = 0;
            uint32_t reached = check_shape(&t, t.root, &entries, &stored);
            assert_int_equal(reached, t.n_nodes - 1); /* every node on a path */
            assert_int_equal(entries, want_entries);
            assert_int_equal(stored, t.n_prefixes);
            /* every entry points at the node of its prefix, and find counts
             * the duplicates */
            for (uint32_t k = 0; k < t.n_ents; k++) {
                cs_prefix p = trie_node_prefix(&t, t.ents[k].node);
                const tu_entry *src = &e[t.ents[k].value];
                assert_int_equal(cs_prefix_compare(&p, &src->p), 0);
            }
            for (size_t i = 0; i < n; i += 3) {
                if (e[i].p.family != fam)
                    continue;
                uint32_t nd = trie_find(&t, &e[i].p);
                assert_true(nd != TRIE_NONE);
                uint32_t dup = 0;
                for (size_t j = 0; j < n; j++)
                    dup += e[j].p.family == fam && cs_prefix_compare(&e[j].p, &e[i].p) == 0;
                if (t.nodes[nd].n_entries != dup)
                    fail_msg("seed %llu: entry %zu found with %u entries, want %u",
                             (unsigned long long)(seed + (uint64_t)round), i,
                             t.nodes[nd].n_entries, dup);
            }
            /* random prefixes: found exactly when inserted */
            for (int q = 0; q < 2000; q++) {
                unsigned len = (unsigned)tu_below(&r, (f ? 128u : 32u) + 1);
                cs_prefix p = tu_random_prefix(&r, fam, len);
                bool present = false;
                for (size_t j = 0; j < n && !present; j++)
                    present = cs_prefix_compare(&e[j].p, &p) == 0;
                if ((trie_find(&t, &p) != TRIE_NONE) != present)
                    fail_msg("seed %llu: find disagrees with brute force",
                             (unsigned long long)(seed + (uint64_t)round));
            }
            trie_release(&t);
        }
        free(e);
    }
}

static void trie__overlap_probe_matches_brute_force(void **state)
{
    (void)state;
    uint64_t seed = tu_seed("trie__overlap_probe_matches_brute_force", 20261204);
    tu_rng r = {seed};
    size_t n = 4000;
    tu_entry *e = tu_random_entries(&r, n, 10);
    size_t nq = 3000;
    cs_prefix *qs = malloc(nq * sizeof *qs);
    tu_random_queries(&r, e, n, qs, nq);
    for (unsigned f = 0; f < 2; f++) {
        uint8_t fam = f ? CS_AF_V6 : CS_AF_V4;
        cs_trie t;
        trie_init(&t, f ? 128 : 32);
        fill_family(e, n, &t, fam);
        for (size_t qi = 0; qi < nq; qi++) {
            const cs_prefix *q = &qs[qi];
            if (q->family != fam)
                continue;
            /* the shortest stored prefix containing q, else the first
             * stored prefix inside q in cs_prefix_compare order */
            int best = -1;
            for (size_t j = 0; j < n; j++) {
                if (e[j].p.family != fam || !cs_prefix_contains(&e[j].p, q))
                    continue;
                if (best < 0 || e[j].p.len < e[best].p.len)
                    best = (int)j;
            }
            if (best < 0)
                for (size_t j = 0; j < n; j++) {
                    if (e[j].p.family != fam || !cs_prefix_contains(q, &e[j].p))
                        continue;
                    if (best < 0 || cs_prefix_compare(&e[j].p, &e[best].p) < 0)
                        best = (int)j;
                }
            uint32_t nd = trie_overlap_any(&t, q);
            if ((nd != TRIE_NONE) != (best >= 0))
                fail_msg("seed %llu: query %zu: overlap probe hit/miss differs", (unsigned long long)seed, qi);
            if (nd == TRIE_NONE)
                continue;
            cs_prefix got = trie_node_prefix(&t, nd);
            if (cs_prefix_compare(&got, &e[best].p) != 0 || t.nodes[nd].n_entries == 0)
                fail_msg("seed %llu: query %zu: overlap probe found another prefix", (unsigned long long)seed, qi);
        }
        trie_release(&t);
    }
    free(qs);
    free(e);
}

static void trie__clear_keeps_memory_and_forgets_entries(void **state)
{
    (void)state;
    cs_trie t;
    trie_init(&t, 32);
    cs_prefix a = cs_prefix_from_v4(0x0a000000u, 8), b = cs_prefix_from_v4(0x0a010000u, 16);
    assert_int_equal(trie_insert(&t, &a, 1), 0);
    assert_int_equal(trie_insert(&t, &b, 2), 0);
    assert_int_equal(trie_insert(&t, &b, 3), 0);
    assert_true(trie_overlap_any(&t, &b) != TRIE_NONE);
    trie_node *nodes = t.nodes;
    trie_clear(&t);
    assert_ptr_equal(t.nodes, nodes);
    assert_int_equal(t.n_ents, 0);
    assert_int_equal(t.n_prefixes, 0);
    assert_int_equal(trie_overlap_any(&t, &b), TRIE_NONE);
    assert_int_equal(trie_find(&t, &a), TRIE_NONE);
    /* reuse: a sibling that does not overlap, then one that does */
    cs_prefix c = cs_prefix_from_v4(0x0b000000u, 8);
    assert_int_equal(trie_insert(&t, &c, 4), 0);
    assert_int_equal(trie_overlap_any(&t, &b), TRIE_NONE);
    assert_int_equal(trie_insert(&t, &a, 5), 0);
    uint32_t hit = trie_overlap_any(&t, &b);
    assert_true(hit != TRIE_NONE);
    cs_prefix got = trie_node_prefix(&t, hit);
    assert_int_equal(cs_prefix_compare(&got, &a), 0);
    trie_release(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(trie__clear_keeps_memory_and_forgets_entries),
        cmocka_unit_test(trie__insert_and_find_match_brute_force),
        cmocka_unit_test(trie__overlap_probe_matches_brute_force),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
