/*
 * engine/image/direct.c — the direct indexes a walk may resume from, derived
 * at open from a validated image's tries (never stored in the image, so the
 * format does not change with them).
 *
 * Does: for IPv4, a record per /8, /12 and /16 block, and a second level
 * under the /16s whose walks go on deepest inside them (16 records for its
 * /20 blocks, 256 for its /24 blocks); for IPv6, records over the 4, 8, 12 and
 * 16 bits after `base`, a node on the path from the root through the
 * children holding 3/4 of the family's entries (AWS space sits under a few
 * short prefixes, so base is where the estate's addresses start to differ),
 * the one under which lookups take the fewest steps (choose_base6), and a
 * second level under
 * the 16-bit records whose walks go on deepest inside them (16, 256 and 4096
 * records for the 4, 8 and 12 bits after). Each record is the state
 * of a walk stopped at the first node of length >= L (see snap_direct in
 * snapshot_internal.h). An IPv4 level is filled a subtree at a time from
 * the record of the block above it (fill4: each node read once per level,
 * not once per block under it); an IPv6 level from the records of the
 * level above it, a walk per record. Does not: answer queries
 * (engine/query/query.c resumes from the records).
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
 * When: per family, and only once the queries walked without it pay for
 * it (snap_direct_for in snapshot.c: a one-item CLI run or a 200-line batch
 * never builds one; an IPv4-only run never builds IPv6's).
 *
 * Memory: 560 KiB (IPv4 first level) + 256 KiB + 2176 B per busy /16 (at
 * most one per 32 IPv4 nodes, so at most 68 B per node) + 546 KiB (IPv6)
 * + 256 KiB + 34 KiB per busy IPv6 record (at most one per 512 IPv6 nodes:
 * at most 68 B per node); none for families under CS_DIRECT_MIN_NODES
 * nodes, whose top levels sit in cache. Each family's parts are one buffer
 * of cs_pages_alloc (huge pages: their 1,700 fresh 4 KiB pages cost more
 * than computing the records), the second level's map counting the busy
 * blocks before it holds them.
 *
 * Tests: tests/test_direct.c (built lazily, per family, under threads,
 * against brute force), tests/test_query.c (every fast path against brute force, on tries
 * large enough to get every index).
 */
#include "image/snapshot_internal.h"

#include "core/key_internal.h"
#include "image/pages_internal.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* An index pays once a trie's top levels no longer sit in L1. */
#define CS_DIRECT_MIN_NODES 2048u
/* A /16 gets a second level when the subtree its walks resume in holds this
 * many nodes. */
#define CS_DIR24_MIN_NODES 16u
/* An IPv6 16-bit record gets a second level (4368 records, 34 KiB) when
 * the subtree its walks resume in holds this many nodes. */
#define CS_DIR6_L2_MIN_NODES 128u

/*
 * The records of the 2^(bits - len) blocks of length `bits` inside block
 * (key, len), in rec[0..): (i, x) is the block's own record (a walk of it
 * stopped at the first node of length >= len; i CS_NO_NODE when the walk
 * is over). What a walk per block gives (walk6 below, for IPv4), with each
 * node read once: a block whose walk reached a node of length >= bits
 * resumes there; at a shorter node i, the blocks that disagree with i's
 * key on its length are over (x as it was), the others go on under i's
 * child on their side (x = i), or are over where there is none.
 */
static void fill4(const cs_famview *f, uint32_t i, uint32_t x, uint32_t key, unsigned len,
                  unsigned bits, cs_dir16 *rec)
{
    const uint32_t n = 1u << (bits - len);
    if (i == CS_NO_NODE || f->hot4[i].len >= bits) {
        for (uint32_t k = 0; k < n; k++)
            rec[k] = (cs_dir16){i, x};
        return;
    }
    const cs_hot4 *h = &f->hot4[i];
    const unsigned hl = h->len; /* len <= hl < bits */
    /* the blocks that agree with i's key: [at, at + m) */
    uint32_t at = 0, m = n;
    if (len && ((key ^ h->key) >> (32 - len)) != 0)
        m = 0;
    else if (hl > len)
        at = (h->key >> (32 - hl) & ((1u << (hl - len)) - 1)) << (bits - hl), m = 1u << (bits - hl);
    for (uint32_t k = 0; k < at; k++)
        rec[k] = (cs_dir16){CS_NO_NODE, x};
    for (uint32_t k = at + m; k < n; k++)
        rec[k] = (cs_dir16){CS_NO_NODE, x};
    if (!m)
        return;
    const uint32_t kids[2] = {(h->flags & CS_FN_LEFT) ? i + 1 : 0, h->right};
    for (unsigned c = 0; c < 2; c++) {
        cs_dir16 *half = rec + at + c * (m / 2);
        if (kids[c])
            fill4(f, kids[c], i, h->key | (uint32_t)c << (31 - hl), hl + 1, bits, half);
        else
            for (uint32_t k = 0; k < m / 2; k++)
                half[k] = (cs_dir16){CS_NO_NODE, i};
    }
}

/* The IPv6 walk of a query inside block (hi, lo) (its top `bits` bits
 * set), from node i with x, stopped at the first node of length >= bits. */
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
static uint32_t subtree_end(const cs_famview *f, unsigned fam, uint32_t i)
{
    for (;;) {
        const uint32_t right = snap_right(f, fam, i);
        if (right)
            i = right;
        else if (snap_flags(f, fam, i) & CS_FN_LEFT)
            i++;
        else
            return i + 1;
    }
}

/* The record of a block from the record `up` of the block containing it
 * (fewer bits): its walk goes on from where up's stopped. */
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

/*
 * The blocks that get a second level, from busy[v], the nodes under block
 * v's resume node (0: none, or not inside the block): those with at least
 * `min` nodes, at most `cap` of them, the busiest. Sets *n to how many and
 * *threshold to the least count that qualifies; the caller takes blocks in
 * order while busy[v] >= *threshold, until it has *n (ties at the threshold
 * go to the lower v). Returns 0 or CS_ENOMEM.
 */
static int pick_busy(const uint32_t *busy, uint32_t min, uint32_t cap, uint32_t *n,
                     uint32_t *threshold)
{
    uint32_t k = 0;
    for (uint32_t v = 0; v < 65536; v++)
        k += busy[v] >= min;
    *n = k;
    *threshold = min;
    if (k <= cap)
        return 0;
    /* the cap-th largest count: sort a copy of the qualifying ones */
    uint32_t *c = malloc((size_t)k * sizeof *c);
    if (!c)
        return CS_ENOMEM;
    k = 0;
    for (uint32_t v = 0; v < 65536; v++)
        if (busy[v] >= min)
            c[k++] = busy[v];
    qsort(c, k, sizeof *c, cmp_desc);
    *threshold = cap ? c[cap - 1] : UINT32_MAX;
    *n = cap;
    free(c);
    return 0;
}

/* Byte offsets of a family's parts in its one buffer (cs_pages_alloc):
 * the first level, the second level's map (65536 u32: busy[] while the
 * blocks are picked), then up to `cap` second-level blocks of `per`
 * records; each part starts on a 64-byte line. */
typedef struct layout {
    size_t map_off, rec_off, len;
} layout;

static layout layout_of(size_t first_records, bool second, size_t cap, size_t per)
{
    layout l;
    l.map_off = (first_records * sizeof(cs_dir16) + 63) & ~(size_t)63;
    l.rec_off = l.map_off + (second ? 65536 * sizeof(uint32_t) : 0);
    l.len = l.rec_off + (second ? cap * per * sizeof(cs_dir16) : 0);
    return l;
}

static int build4(snap_direct *d, const cs_famview *f)
{
    const uint32_t cap = f->n_nodes / 32;
    const layout l = layout_of(CS_DIR4_RECORDS, true, cap, CS_DIR_L2_RECORDS);
    uint8_t *buf = cs_pages_alloc(l.len);
    if (!buf)
        return CS_ENOMEM;
    d->dir = (cs_dir16 *)buf;
    /* each level from the root's record (the walk of block 0.0.0.0/0) */
    fill4(f, 0, CS_NO_NODE, 0, 0, 8, &d->dir[CS_DIR4_AT8]);
    fill4(f, 0, CS_NO_NODE, 0, 0, 12, &d->dir[CS_DIR4_AT12]);
    fill4(f, 0, CS_NO_NODE, 0, 0, 16, d->dir);
    /* The second level, for the /16s whose walks go on deepest inside them:
     * at most one per 32 IPv4 nodes (68 B of index per node), chosen by the
     * nodes under their resume node, counted in the map's place. */
    uint32_t *busy = (uint32_t *)(buf + l.map_off);
    for (uint32_t v = 0; v < 65536; v++) {
        const cs_dir16 *r = &d->dir[v];
        busy[v] = 0;
        if (r->resume != CS_NO_NODE && f->hot4[r->resume].len < 24 &&
            (f->hot4[r->resume].key >> 16) == v)
            busy[v] = subtree_end(f, 0, r->resume) - r->resume;
    }
    uint32_t n, threshold;
    if (pick_busy(busy, CS_DIR24_MIN_NODES, cap, &n, &threshold))
        return CS_ENOMEM;
    if (n == 0)
        return 0;
    d->l2 = busy; /* written over busy[v] once it is read */
    d->dir24 = (cs_dir16 *)(buf + l.rec_off);
    uint32_t b = 0;
    for (uint32_t v = 0; v < 65536; v++) {
        const cs_dir16 *r = &d->dir[v];
        const uint32_t nodes = busy[v];
        d->l2[v] = CS_NO_NODE;
        if (b == n || nodes < threshold)
            continue;
        cs_dir16 *rec = &d->dir24[b * CS_DIR_L2_RECORDS];
        d->l2[v] = b * CS_DIR_L2_RECORDS;
        fill4(f, r->resume, r->x, v << 16, 16, 20, rec);
        fill4(f, r->resume, r->x, v << 16, 16, 24, rec + 16);
        b++;
    }
    d->n_l2 = n;
    cs_pages_trim(buf, l.rec_off + (size_t)n * CS_DIR_L2_RECORDS * sizeof(cs_dir16));
    return 0;
}

/* ORs the k-bit value v (k <= 32) into bits [at, at + k) of the
 * left-aligned 128-bit key (hi, lo); at + k <= 128. */
static void put_bits(uint64_t *hi, uint64_t *lo, uint64_t v, unsigned k, unsigned at)
{
    const unsigned sh = 128 - at - k; /* where v's lowest bit goes */
    if (sh >= 64) {
        *hi |= v << (sh - 64);
    } else if (sh + k > 64) {
        *hi |= v >> (64 - sh);
        *lo |= v << sh;
    } else {
        *lo |= v << sh;
    }
}

/*
 * The IPv6 second level, for the 16-bit records whose walks go on deepest
 * inside their block (an organisation's IPv6: a few /56 per account under
 * one /44 per region, 2600:1f13::/44 holding 2600:1f13:0:100::/56 ...; the
 * walk from the /44 record takes 9 to 11 steps): 4368 records each (the
 * 4, 8 and 12 bits after the block), so a /56 lookup resumes at its block.
 * At most one per 512 IPv6 nodes (68 B of index per node), chosen by the
 * nodes under their resume node.
 */
static int build6_l2(snap_direct *d, const cs_famview *f, uint8_t *buf, const layout *l,
                     uint32_t cap)
{
    const unsigned l16 = d->base_len + 16;
    uint32_t *busy = (uint32_t *)(buf + l->map_off); /* in the map's place */
    for (uint32_t v = 0; v < 65536; v++) {
        const uint32_t r = d->dir6[v].resume;
        uint64_t hi = d->base_hi, lo = d->base_lo;
        put_bits(&hi, &lo, v, 16, d->base_len);
        busy[v] = 0;
        if (r != CS_NO_NODE && f->hot6[r].len < l16 + 12 &&
            cs_key_common_bits(f->hot6[r].key_hi, f->hot6[r].key_lo, hi, lo, l16) >= l16)
            busy[v] = subtree_end(f, 1, r) - r;
    }
    uint32_t n, threshold;
    if (pick_busy(busy, CS_DIR6_L2_MIN_NODES, cap, &n, &threshold))
        return CS_ENOMEM;
    if (n == 0)
        return 0;
    d->l2_6 = busy; /* written over busy[v] once it is read */
    d->dir6_l2 = (cs_dir16 *)(buf + l->rec_off);
    uint32_t b = 0;
    for (uint32_t v = 0; v < 65536; v++) {
        const uint32_t nodes = busy[v];
        d->l2_6[v] = CS_NO_NODE;
        if (b == n || nodes < threshold)
            continue;
        cs_dir16 *rec = &d->dir6_l2[(size_t)b * CS_DIR6_L2_RECORDS];
        d->l2_6[v] = b * CS_DIR6_L2_RECORDS;
        static const uint32_t at[3] = {0, CS_DIR6_L2_AT8, CS_DIR6_L2_AT12};
        for (unsigned lv = 0; lv < 3; lv++) {
            const unsigned k = 4 + 4 * lv;
            for (uint32_t w = 0; w < 1u << k; w++) {
                const cs_dir16 *up = lv ? &rec[at[lv - 1] + (w >> 4)] : &d->dir6[v];
                uint64_t hi = d->base_hi, lo = d->base_lo;
                put_bits(&hi, &lo, (uint64_t)v << k | w, 16 + k, d->base_len);
                rec[at[lv] + w] = below6(f, up, hi, lo, l16 + k);
            }
        }
        b++;
    }
    d->n_l2_6 = n;
    cs_pages_trim(buf, l->rec_off + (size_t)n * CS_DIR6_L2_RECORDS * sizeof(cs_dir16));
    return 0;
}

/*
 * The IPv6 base. Candidates: the nodes from the root down while one child
 * holds 3/4 of the entries (AWS space sits under a few short prefixes).
 * Each is scored by the steps a lookup of an address inside each stored
 * prefix would take: from the root (one per node on its path) for prefixes
 * outside the candidate, from the first node of its path at or past
 * candidate + 28 bits (the second level's deepest records) for those
 * inside. The cheapest wins, the deepest of equals. An organisation's
 * 2600:1f10::/28 holds 16 of its 17 regions (94%), but 2600:1f20::/32's
 * lookups would then walk 11 steps from the root: 2600:1f00::/26 holding
 * all 17 scores better. Sets *x to the base's parent.
 */
static uint32_t choose_base6(const cs_famview *f, uint32_t *x)
{
    enum { DEPTH = 130 }; /* nodes on a path: lengths 0..128 strictly rising */
    uint32_t cand[DEPTH], up[DEPTH];
    unsigned nc = 0;
    const uint64_t total = f->n_entries;
    uint32_t i = 0, parent = CS_NO_NODE;
    for (;;) {
        const cs_hot6 *h = &f->hot6[i];
        if (h->len + 16 > 128)
            break;
        cand[nc] = i;
        up[nc++] = parent;
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
        parent = i;
        i = next;
    }
    if (nc <= 1) {
        *x = nc ? up[0] : CS_NO_NODE;
        return 0;
    }
    /* One pass in preorder with the path to the current node on a stack:
     * its lengths (rising), and how many candidates it holds (a prefix of
     * cand[], the candidates being one path from the root). */
    uint64_t cost[DEPTH] = {0};
    uint8_t len[DEPTH];
    uint32_t node[DEPTH], held[DEPTH];
    unsigned sp = 0;
    for (uint32_t n = 0; n < f->n_nodes; n++) {
        const cs_hot6 *h = &f->hot6[n];
        while (sp && cs_key_common_bits(f->hot6[node[sp - 1]].key_hi, f->hot6[node[sp - 1]].key_lo,
                                        h->key_hi, h->key_lo, len[sp - 1]) < len[sp - 1])
            sp--;
        const uint32_t j = sp ? held[sp - 1] : 0;
        node[sp] = n;
        len[sp] = h->len;
        held[sp] = j + (j < nc && cand[j] == n);
        sp++;
        if (snap_own_end(f, 1, n) == f->cold[n].ent_begin)
            continue; /* no entries of its own */
        /* k: the path nodes shorter than candidate c's + 28 bits, which
         * rise with c, as the path's lengths do */
        unsigned k = 0;
        for (unsigned c = 0; c < nc; c++) {
            if (c >= held[sp - 1]) {
                cost[c] += sp;
                continue;
            }
            const unsigned t = f->hot6[cand[c]].len + 28;
            while (k < sp && len[k] < t)
                k++;
            cost[c] += sp - k;
        }
    }
    unsigned best = nc - 1;
    for (unsigned c = nc - 1; c-- > 0;)
        if (cost[c] < cost[best])
            best = c;
    *x = up[best];
    return cand[best];
}

static int build6(snap_direct *d, const cs_famview *f)
{
    uint32_t x;
    const uint32_t i = choose_base6(f, &x);
    const cs_hot6 *b = &f->hot6[i];
    d->base_hi = b->key_hi;
    d->base_lo = b->key_lo;
    d->base_len = b->len;
    d->base_x = x;
    const bool second = b->len <= 96;
    const uint32_t cap = f->n_nodes / 512;
    const layout l = layout_of(CS_DIR6_RECORDS, second, cap, CS_DIR6_L2_RECORDS);
    uint8_t *buf = cs_pages_alloc(l.len);
    if (!buf)
        return CS_ENOMEM;
    d->dir6 = (cs_dir16 *)buf;
    /* Level k (bits after base: 0, 4, 8, 12, 16) from level k - 4. */
    static const uint32_t at[5] = {CS_DIR6_AT0, CS_DIR6_AT4, CS_DIR6_AT8, CS_DIR6_AT12, 0};
    d->dir6[CS_DIR6_AT0] = (cs_dir16){i, x};
    for (unsigned lv = 1; lv <= 4; lv++) {
        const unsigned k = 4 * lv;
        for (uint32_t v = 0; v < 1u << k; v++) {
            const cs_dir16 *up = &d->dir6[at[lv - 1] + (v >> 4)];
            uint64_t hi = b->key_hi, lo = b->key_lo;
            put_bits(&hi, &lo, v, k, b->len);
            d->dir6[at[lv] + v] = below6(f, up, hi, lo, b->len + k);
        }
    }
    return second ? build6_l2(d, f, buf, &l, cap) : 0;
}

/* Frees family fam's indexes and clears its fields. */
static void free_family(snap_direct *d, unsigned fam)
{
    if (fam == 0) {
        cs_pages_free(d->dir); /* l2 and dir24 live in its buffer */
        d->dir = NULL;
        d->l2 = NULL;
        d->dir24 = NULL;
        d->n_l2 = 0;
    } else {
        cs_pages_free(d->dir6); /* l2_6 and dir6_l2 live in its buffer */
        d->dir6 = NULL;
        d->l2_6 = NULL;
        d->dir6_l2 = NULL;
        d->n_l2_6 = 0;
        d->base_hi = d->base_lo = 0;
        d->base_len = d->base_x = 0;
    }
}

int snap_direct_build(snap_direct *d, const cs_famview *f4, const cs_famview *f6, unsigned fams)
{
    const cs_famview *f[2] = {f4, f6};
    int rc = 0;
    for (unsigned fam = 0; fam < 2; fam++) {
        if (!(fams >> fam & 1u) || f[fam]->n_nodes < CS_DIRECT_MIN_NODES)
            continue;
        const int frc = fam ? build6(d, f6) : build4(d, f4);
        if (frc) {
            free_family(d, fam);
            rc = frc;
        }
    }
    return rc;
}

void snap_direct_free(snap_direct *d)
{
    free_family(d, 0);
    free_family(d, 1);
    memset(d, 0, sizeof *d);
}
