/*
 * engine/image/direct.c — the direct indexes a walk may resume from, derived
 * at open from a validated image's tries (never stored in the image, so the
 * format does not change with them).
 *
 * Does: for IPv4, a record per /8, /12 and /16 block, and a second level
 * under the /16s whose walks go on deepest inside them (16 records for its
 * /20 blocks, 256 for its /24 blocks); for IPv6, records over the 4, 8, 12 and
 * 16 bits after `base`, the deepest node that holds at least 3/4 of the
 * family's entries (AWS space sits under a few short prefixes, so base is
 * where the estate's addresses start to differ). Each record is the state
 * of a walk stopped at the first node of length >= L (see snap_direct in
 * snapshot_internal.h); a level is built from the records of the level
 * above it. Does not: answer queries (engine/query/query.c resumes from the
 * records).
 *
 * Why /12 and /20: an estate's private space is carved densely (10.0.0.0/8
 * into /16s, a /16 into /20s and /24s), so below a record the walk takes
 * about 0.85 steps per bit of query length; a record every 4 bits keeps a
 * walk under 4 steps where the trie is dense. The second level is chosen
 * by the nodes under the /16's resume node, which is what a walk pays for,
 * and only where that node lies inside the /16: a block such as
 * 192.0.0.0/16 resumes at 192.168.0.0/16, whose subtree no query of
 * 192.0.0.0/16 enters.
 *
 * Memory: 560 KiB (IPv4 first level) + 256 KiB + 2176 B per busy /16 (at
 * most one per 32 IPv4 nodes, so at most 68 B per node) + 546 KiB (IPv6);
 * none for families under CS_DIRECT_MIN_NODES nodes, whose top levels sit
 * in cache.
 *
 * Tests: tests/test_query.c (every fast path against brute force, on tries
 * large enough to get every index).
 */
#include "image/snapshot_internal.h"

#include "core/key_internal.h"

#include <stdlib.h>
#include <string.h>

/* An index pays once a trie's top levels no longer sit in L1. */
#define CS_DIRECT_MIN_NODES 2048u
/* A /16 gets a second level when the subtree its walks resume in holds this
 * many nodes. */
#define CS_DIR24_MIN_NODES 16u

/* The IPv4 walk of a query inside block `key` (its top `bits` bits set),
 * from node i with x, stopped at the first node of length >= bits. */
static cs_dir16 walk4(const cs_famview *f, uint32_t i, uint32_t x, uint32_t key,
                      unsigned bits)
{
    for (;;) {
        const cs_hot4 *h = &f->hot4[i];
        if (h->len >= bits)
            break;
        if (h->len && ((key ^ h->key) >> (32 - h->len)) != 0) {
            i = CS_NO_NODE;
            break;
        }
        x = i;
        uint32_t next = (key >> (31 - h->len)) & 1u ? h->right
                        : (h->flags & CS_FN_LEFT) ? i + 1 : 0;
        if (!next) {
            i = CS_NO_NODE;
            break;
        }
        i = next;
    }
    return (cs_dir16){i, x};
}

/* The same for IPv6. */
static cs_dir16 walk6(const cs_famview *f, uint32_t i, uint32_t x, uint64_t hi,
                      uint64_t lo, unsigned bits)
{
    for (;;) {
        const cs_hot6 *h = &f->hot6[i];
        if (h->len >= bits)
            break;
        if (cs_key_common_bits(h->key_hi, h->key_lo, hi, lo, h->len) < h->len) {
            i = CS_NO_NODE;
            break;
        }
        x = i;
        uint32_t next = cs_key_bit(hi, lo, h->len) ? h->right
                        : (h->flags & CS_FN_LEFT) ? i + 1 : 0;
        if (!next) {
            i = CS_NO_NODE;
            break;
        }
        i = next;
    }
    return (cs_dir16){i, x};
}

/* One past the last node of node i's subtree (DFS preorder: the node, its
 * left subtree, its right subtree; so the last is down the rightmost path). */
static uint32_t subtree_end4(const cs_famview *f, uint32_t i)
{
    for (;;) {
        const cs_hot4 *h = &f->hot4[i];
        if (h->right)
            i = h->right;
        else if (h->flags & CS_FN_LEFT)
            i++;
        else
            return i + 1;
    }
}

/* The record of a block from the record `up` of the block containing it
 * (fewer bits): its walk goes on from where up's stopped. */
static cs_dir16 below4(const cs_famview *f, const cs_dir16 *up, uint32_t key, unsigned bits)
{
    return up->resume == CS_NO_NODE ? *up : walk4(f, up->resume, up->x, key, bits);
}

static cs_dir16 below6(const cs_famview *f, const cs_dir16 *up, uint64_t hi, uint64_t lo,
                       unsigned bits)
{
    return up->resume == CS_NO_NODE ? *up : walk6(f, up->resume, up->x, hi, lo, bits);
}

static int cmp_desc(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x < y) - (x > y);
}

static int build4(snap_direct *d, const cs_famview *f)
{
    d->dir = malloc(CS_DIR4_RECORDS * sizeof *d->dir);
    if (!d->dir)
        return CS_ENOMEM;
    for (uint32_t v = 0; v < 256; v++)
        d->dir[CS_DIR4_AT8 + v] = walk4(f, 0, CS_NO_NODE, v << 24, 8);
    for (uint32_t v = 0; v < 4096; v++) {
        const cs_dir16 *up = &d->dir[CS_DIR4_AT8 + (v >> 4)];
        d->dir[CS_DIR4_AT12 + v] = below4(f, up, v << 20, 12);
    }
    for (uint32_t v = 0; v < 65536; v++) {
        const cs_dir16 *up = &d->dir[CS_DIR4_AT12 + (v >> 4)];
        d->dir[v] = below4(f, up, v << 16, 16);
    }
    /* The second level, for the /16s whose walks go on deepest inside them:
     * at most one per 32 IPv4 nodes (68 B of index per node), chosen by the
     * nodes under their resume node. */
    uint32_t *busy = malloc(65536 * sizeof *busy);
    if (!busy)
        return CS_ENOMEM;
    uint32_t n = 0;
    for (uint32_t v = 0; v < 65536; v++) {
        const cs_dir16 *r = &d->dir[v];
        uint32_t e = 0;
        if (r->resume != CS_NO_NODE && f->hot4[r->resume].len < 24 &&
            (f->hot4[r->resume].key >> 16) == v)
            e = subtree_end4(f, r->resume) - r->resume;
        busy[v] = e >= CS_DIR24_MIN_NODES ? e : 0;
        n += busy[v] != 0;
    }
    const uint32_t cap = f->n_nodes / 32;
    uint32_t threshold = CS_DIR24_MIN_NODES;
    if (n > cap) {
        /* the cap-th largest count: sort a copy of the non-zero ones */
        uint32_t *c = malloc((size_t)n * sizeof *c);
        if (!c) {
            free(busy);
            return CS_ENOMEM;
        }
        uint32_t k = 0;
        for (uint32_t v = 0; v < 65536; v++)
            if (busy[v])
                c[k++] = busy[v];
        qsort(c, k, sizeof *c, cmp_desc);
        threshold = cap ? c[cap - 1] : UINT32_MAX;
        free(c);
        n = cap;
    }
    if (n == 0) {
        free(busy);
        return 0;
    }
    d->l2 = malloc(65536 * sizeof *d->l2);
    d->dir24 = malloc((size_t)n * CS_DIR_L2_RECORDS * sizeof *d->dir24);
    if (!d->l2 || !d->dir24) {
        free(busy);
        return CS_ENOMEM;
    }
    uint32_t b = 0;
    for (uint32_t v = 0; v < 65536; v++) {
        const cs_dir16 *r = &d->dir[v];
        d->l2[v] = CS_NO_NODE;
        if (b == n || busy[v] < threshold)
            continue;
        cs_dir16 *rec = &d->dir24[b * CS_DIR_L2_RECORDS];
        d->l2[v] = b * CS_DIR_L2_RECORDS;
        for (uint32_t w = 0; w < 16; w++)
            rec[w] = below4(f, r, v << 16 | w << 12, 20);
        for (uint32_t w = 0; w < 256; w++) {
            const cs_dir16 *up = &rec[w >> 4];
            rec[16 + w] = below4(f, up, v << 16 | w << 8, 24);
        }
        b++;
    }
    free(busy);
    d->n_l2 = n;
    return 0;
}

static int build6(snap_direct *d, const cs_famview *f)
{
    /* base: down from the root while one child holds 3/4 of the entries. */
    const uint64_t total = f->n_entries;
    uint32_t i = 0, x = CS_NO_NODE;
    for (;;) {
        const cs_hot6 *h = &f->hot6[i];
        if (h->len + 16 > 128)
            break;
        uint32_t kids[2] = {(h->flags & CS_FN_LEFT) ? i + 1 : 0, h->right};
        uint32_t next = 0;
        for (int c = 0; c < 2; c++) {
            uint32_t k = kids[c];
            if (k && f->hot6[k].len + 16 <= 128 &&
                (uint64_t)(f->cold[k].ent_end - f->cold[k].ent_begin) * 4 >= total * 3)
                next = k;
        }
        if (!next)
            break;
        x = i;
        i = next;
    }
    const cs_hot6 *b = &f->hot6[i];
    d->base_hi = b->key_hi;
    d->base_lo = b->key_lo;
    d->base_len = b->len;
    d->base_x = x;
    d->dir6 = malloc(CS_DIR6_RECORDS * sizeof *d->dir6);
    if (!d->dir6)
        return CS_ENOMEM;
    /* Level k (bits after base: 0, 4, 8, 12, 16) from level k - 4. */
    static const uint32_t at[5] = {CS_DIR6_AT0, CS_DIR6_AT4, CS_DIR6_AT8, CS_DIR6_AT12, 0};
    d->dir6[CS_DIR6_AT0] = (cs_dir16){i, x};
    for (unsigned lv = 1; lv <= 4; lv++) {
        const unsigned k = 4 * lv, sh = 128 - b->len - k; /* where the k bits go */
        for (uint32_t v = 0; v < 1u << k; v++) {
            const cs_dir16 *up = &d->dir6[at[lv - 1] + (v >> 4)];
            uint64_t hi = b->key_hi, lo = b->key_lo;
            if (sh >= 64)
                hi |= (uint64_t)v << (sh - 64);
            else if (sh + k > 64)
                hi |= (uint64_t)v >> (64 - sh), lo |= (uint64_t)v << sh;
            else
                lo |= (uint64_t)v << sh;
            d->dir6[at[lv] + v] = below6(f, up, hi, lo, b->len + k);
        }
    }
    return 0;
}

int snap_direct_build(snap_direct *d, const cs_famview *f4, const cs_famview *f6)
{
    memset(d, 0, sizeof *d);
    int rc = 0;
    if (f4->n_nodes >= CS_DIRECT_MIN_NODES)
        rc = build4(d, f4);
    if (!rc && f6->n_nodes >= CS_DIRECT_MIN_NODES)
        rc = build6(d, f6);
    if (rc)
        snap_direct_free(d);
    return rc;
}

void snap_direct_free(snap_direct *d)
{
    free(d->dir);
    free(d->l2);
    free(d->dir24);
    free(d->dir6);
    memset(d, 0, sizeof *d);
}
