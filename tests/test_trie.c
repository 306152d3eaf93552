/*
 * tests/test_trie.c — the build-side Patricia trie (engine/build/trie.c):
 * insert, exact find, duplicates, both families, clear and reuse, and the
 * overlap probe the freeze uses, against a brute-force scan of what was
 * inserted (seeds printed; replay with CS_TEST_SEED); and the snapshot
 * builder (engine/build/snapshot_builder.c: sorted entries, no trie)
 * against a freeze of this trie in preorder, byte for byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "support/testutil.h"

#include "build/freeze_internal.h"
#include "build/trie_internal.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
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

/* ---- the snapshot builder against a trie freeze ---------------------------- */

static int cmp_value(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/*
 * The reference freeze: number the trie's nodes in DFS preorder (left child
 * first) and write every record as snapshot_internal.h defines it: keys,
 * CS_FN_LEFT and the right child's index; each node's entry range [begin,
 * end) over its subtree; cov = entries on the path from the root; best =
 * the deepest node on that path with entries of its own; the node's values
 * ascending. Recursive and slow on purpose: it shares nothing with the
 * sorted freeze.
 */
typedef struct ref_freeze {
    const cs_trie *t;
    cs_hot4 *hot4;
    cs_hot6 *hot6;
    cs_cold *cold;
    uint32_t *values;
    uint32_t *first, *by_node; /* node i's values: by_node[first[i]..first[i + 1]) */
    uint32_t k, ent;
} ref_freeze;

static uint32_t ref_node(ref_freeze *z, uint32_t i, uint32_t cov, uint32_t best)
{
    const trie_node *n = &z->t->nodes[i];
    uint32_t k = z->k++;
    uint32_t begin = z->ent, own = 0;
    for (uint32_t e = z->first[i]; e < z->first[i + 1]; e++) {
        z->values[z->ent++] = z->by_node[e];
        own++;
    }
    qsort(z->values + begin, own, sizeof *z->values, cmp_value);
    cov += own;
    best = own ? k : best;
    if (z->hot4)
        z->hot4[k] = (cs_hot4){.key = (uint32_t)(n->hi >> 32), .len = n->len};
    else
        z->hot6[k] = (cs_hot6){.key_hi = n->hi, .key_lo = n->lo, .len = n->len};
    if (n->child[0] != TRIE_NONE) {
        if (z->hot4)
            z->hot4[k].flags |= CS_FN_LEFT;
        else
            z->hot6[k].flags |= CS_FN_LEFT;
        ref_node(z, n->child[0], cov, best);
    }
    if (n->child[1] != TRIE_NONE) {
        uint32_t r = ref_node(z, n->child[1], cov, best);
        if (z->hot4)
            z->hot4[k].right = r;
        else
            z->hot6[k].right = r;
    }
    z->cold[k] = (cs_cold){.ent_begin = begin, .ent_end = z->ent,
                           .path = cs_image_build_path(k, cov, best)};
    return k;
}

static cs_snapshot *trie_reference_image(const tu_entry *e, size_t n)
{
    cs_trie t[2];
    cs_image_counts counts;
    for (unsigned f = 0; f < 2; f++) {
        trie_init(&t[f], f ? 128 : 32);
        fill_family(e, n, &t[f], f ? CS_AF_V6 : CS_AF_V4);
        counts.nodes[f] = t[f].n_nodes - 1;
        counts.entries[f] = t[f].n_ents;
        counts.prefixes[f] = t[f].n_prefixes;
    }
    cs_image_draft d;
    cs_error err;
    assert_int_equal(cs_image_build_begin(&d, &counts, NULL, 0, 0, &err), 0);
    for (unsigned f = 0; f < 2; f++) {
        ref_freeze z = {.t = &t[f], .hot4 = f ? NULL : d.hot4, .hot6 = f ? d.hot6 : NULL,
                        .cold = d.cold[f], .values = d.values[f]};
        z.first = calloc((size_t)t[f].n_nodes + 1, sizeof *z.first);
        z.by_node = calloc((size_t)t[f].n_ents + 1, sizeof *z.by_node);
        assert_true(z.first && z.by_node);
        for (uint32_t x = 0; x < t[f].n_ents; x++)
            z.first[t[f].ents[x].node + 1]++;
        for (uint32_t i = 0; i < t[f].n_nodes; i++)
            z.first[i + 1] += z.first[i];
        for (uint32_t x = 0; x < t[f].n_ents; x++)
            z.by_node[z.first[t[f].ents[x].node]++] = t[f].ents[x].value;
        for (uint32_t i = t[f].n_nodes; i > 0; i--) /* back to each node's start */
            z.first[i] = z.first[i - 1];
        z.first[0] = 0;
        if (t[f].root != TRIE_NONE)
            ref_node(&z, t[f].root, 0, CS_NO_NODE);
        free(z.first);
        free(z.by_node);
        assert_int_equal(z.k, counts.nodes[f]);
        trie_release(&t[f]);
    }
    cs_snapshot *s = NULL;
    /* The seal validates the reference with every structural check. */
    if (cs_image_build_seal(&d, &s, &err) != 0)
        fail_msg("reference image refused: %s", err.message);
    return s;
}

/* Equal bytes but for the creation time and the header checksum over it;
 * and the builder's image (sealed trusted) passes every check of an open,
 * checksums included. */
static void assert_builder_image(const tu_entry *e, size_t n, const char *what)
{
    cs_snapshot *a = trie_reference_image(e, n);
    cs_snapshot *b = tu_build(e, n);
    size_t la, lb;
    const uint8_t *pa = cs_snapshot_image(a, &la), *pb = cs_snapshot_image(b, &lb);
    if (la != lb)
        fail_msg("%s: %zu bytes against the trie freeze's %zu", what, lb, la);
    for (size_t i = 0; i < la; i++) {
        if ((i >= 40 && i < 48) || (i >= 96 && i < 104))
            continue; /* created_unix, header_xxh3 */
        if (pa[i] != pb[i])
            fail_msg("%s: byte %zu of %zu differs (%#x, trie freeze %#x)", what, i, la, pb[i],
                     pa[i]);
    }
    void *copy = aligned_alloc(64, lb);
    assert_non_null(copy);
    memcpy(copy, pb, lb);
    cs_snapshot *c = NULL;
    cs_error err;
    if (cs_snapshot_from_memory(copy, lb, 0, &c, &err) != 0)
        fail_msg("%s: the builder's image does not open: %s", what, err.message);
    cs_snapshot_close(c);
    free(copy);
    cs_snapshot_close(a);
    cs_snapshot_close(b);
}

static void trie__builder_freeze_equals_trie_preorder_freeze(void **state)
{
    (void)state;
#ifdef __GLIBC__
    /* Fresh heap memory is 0xa5, kept off mmap: a byte the builder's raw
     * draft leaves unwritten shows as a difference. */
    mallopt(M_PERTURB, 0xa5);
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
#endif
    uint64_t seed = tu_seed("trie__builder_freeze_equals_trie_preorder_freeze", 20261203);
    tu_rng r = {seed};
    const size_t sizes[] = {0, 1, 2, 5, 64, 900, 6000};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        for (unsigned depth = 0; depth < 12; depth += 4) {
            size_t n = sizes[k];
            tu_entry *e = tu_random_entries(&r, n, depth);
            /* values out of order, some repeated: a node's run is sorted */
            for (size_t i = 0; i < n; i++)
                e[i].value = (uint32_t)tu_below(&r, depth ? n + 1 : 4);
            char what[96];
            snprintf(what, sizeof what, "%zu random entries, depth %u, seed %llu", n, depth,
                     (unsigned long long)seed);
            assert_builder_image(e, n, what);
            free(e);
        }
    }
    /* Host routes and /0s (every digit of the sort), one prefix only, and
     * a run added in descending value order. */
    const char *fixed[] = {"0.0.0.0/0", "255.255.255.255/32", "0.0.0.0/32", "128.0.0.0/1",
                           "10.0.0.0/8", "10.0.0.0/8", "10.0.0.0/8", "::/0", "::/128",
                           "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", "8000::/1",
                           "2001:db8::/64", "2001:db8::1/128", "2001:db8::/64"};
    size_t nf = sizeof fixed / sizeof *fixed;
    tu_entry *e = calloc(nf, sizeof *e);
    for (size_t i = 0; i < nf; i++) {
        assert_int_equal(cs_prefix_parse(fixed[i], strlen(fixed[i]), 0, &e[i].p, NULL), 0);
        e[i].value = (uint32_t)(nf - i);
    }
    assert_builder_image(e, nf, "fixed edges");
    assert_builder_image(e + 4, 3, "one prefix, values descending");
    free(e);
    size_t n = 0;
    e = tu_load_real(CS_SHARED_PREFIXES, &n);
    if (e) {
        for (size_t i = 0; i < n; i++)
            e[i].value = (uint32_t)(n - i);
        assert_builder_image(e, n, "real prefixes");
        free(e);
    }
#ifdef __GLIBC__
    mallopt(M_PERTURB, 0);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(trie__clear_keeps_memory_and_forgets_entries),
        cmocka_unit_test(trie__insert_and_find_match_brute_force),
        cmocka_unit_test(trie__overlap_probe_matches_brute_force),
        cmocka_unit_test(trie__builder_freeze_equals_trie_preorder_freeze),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
