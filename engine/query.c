/*
 * engine/query.c — the one query implementation: overlap counts, walks,
 * iterators and longest-prefix lookups on a frozen image.
 *
 * Does: answer covering / covered / overlapping / lookup for a prefix, single
 * or in bulk, on any image (heap, file, shm). Does not: allocate, lock, or
 * validate the image (cs_snapshot_from_memory did, once, at open).
 *
 * Every question is one walk from the root along Q's bits (DFS-preorder image,
 * engine/snapshot.c):
 *
 *   root ── 10.0.0.0/8 ── 10.0.0.0/14 (glue) ── 10.1.0.0/16 ── [subtree]
 *           covers Q       on the path           first node with len >= |Q|
 *
 * - nodes on the path with len < |Q| whose key agrees with Q on their own
 *   bits contain Q: their own entries COVER Q;
 * - the first node with len >= |Q| whose key agrees with Q on |Q| bits is the
 *   root of everything inside Q: its subtree's entries are the contiguous
 *   range [ent_begin, ent_end) — EQUAL (its own, when len == |Q|) plus
 *   COVERED. A count is then ent_end - ent_begin, whatever its size: a /8
 *   query over a million entries costs what a /32 does.
 * The walk stops at the first node that disagrees with Q; it visits at most
 * 33 (IPv4) or 129 (IPv6) nodes, since each is longer than its parent.
 *
 * A node's own-entry count needs its first child's ent_begin (snap_own_end).
 * Bulk paths defer that read by one step, to when the child — prefetched one
 * step earlier — has arrived, so the interleaved lanes never wait on it.
 *
 * Thread-safety: pure reads of an immutable image. Tests: tests/test_query.c
 * (differential against a brute-force scan), tests/test_snapshot.c.
 */
#include <cidrscope/query.h>

#include "snapshot_internal.h"
#include "trie_internal.h"

#include <string.h>

#define NO_NODE UINT32_MAX
#define BULK_LANES 16 /* searches in flight in bulk calls */

static inline bool agrees(const cs_fnode *x, const cs_prefix *q, unsigned bits)
{
    return trie_common_bits(x->key_hi, x->key_lo, q->hi, q->lo, bits) >= bits;
}

/* The child of node i towards bit b, or 0 when there is none. */
static inline uint32_t child_of(const cs_fnode *x, uint32_t i, unsigned b)
{
    return b ? x->right : (x->flags & CS_FN_LEFT) ? i + 1 : 0;
}

static inline void prefetch_node(const cs_fnode *n)
{
    __builtin_prefetch(n, 0, 3);
}

static bool valid_query(const cs_prefix *q)
{
    return (q->family == CS_AF_V4 || q->family == CS_AF_V6) &&
           q->len <= cs_family_bits(q->family);
}

static void fill_match(const cs_famview *f, unsigned fam, uint32_t i,
                       uint32_t begin, uint32_t end, uint8_t rel, cs_match *m)
{
    m->prefix = snap_node_prefix(&f->nodes[i], fam);
    m->values = f->values + begin;
    m->count = end - begin;
    m->first_entry = begin;
    m->relation = rel;
}

/* ---- counts -------------------------------------------------------------- */

typedef struct count_lane {
    const cs_famview *f;
    const cs_prefix *q;
    size_t qi;
    uint64_t total;
    uint32_t node;
    uint32_t pending; /* node whose own count is still to be added */
} count_lane;

/* One step of a count walk. Returns 1 when the lane's answer is final. */
static inline int count_step(count_lane *L, unsigned kind)
{
    const cs_famview *f = L->f;
    const cs_fnode *N = f->nodes;
    if (L->pending != NO_NODE) {
        L->total += snap_own_end(f, L->pending) - N[L->pending].ent_begin;
        L->pending = NO_NODE;
    }
    const uint32_t i = L->node;
    const cs_fnode *x = &N[i];
    const cs_prefix *q = L->q;
    if (x->len >= q->len) {
        if (agrees(x, q, q->len)) {
            if (kind & CS_Q_COVERED)
                L->total += x->ent_end - x->ent_begin;
            else if (x->len == q->len)
                L->total += snap_own_end(f, i) - x->ent_begin;
        }
        return 1;
    }
    if (!agrees(x, q, x->len))
        return 1;
    uint32_t next = child_of(x, i, trie_key_bit(q->hi, q->lo, x->len));
    if (!next) {
        if (kind & CS_Q_COVERING)
            L->total += snap_own_end(f, i) - x->ent_begin;
        return 1;
    }
    prefetch_node(&N[next]);
    if (kind & CS_Q_COVERING) {
        L->pending = i;
        /* snap_own_end(i) reads node i+1 when i has a left child; when we go
         * right it is not the node prefetched above, but it sits right after
         * node i, usually on the line just loaded. */
        if ((x->flags & CS_FN_LEFT) && next != i + 1)
            prefetch_node(&N[i + 1]);
    }
    L->node = next;
    return 0;
}

static inline bool lane_start(count_lane *L, const cs_snapshot *s,
                              const cs_prefix *q, size_t qi)
{
    L->q = q;
    L->qi = qi;
    L->total = 0;
    L->pending = NO_NODE;
    L->node = 0;
    if (!valid_query(q))
        return false;
    L->f = snap_family(s, cs_family_index(q->family));
    if (L->f->n_nodes == 0)
        return false;
    prefetch_node(&L->f->nodes[0]);
    return true;
}

int64_t cs_query_count(const cs_snapshot *s, const cs_prefix *q, unsigned kind)
{
    if (!s || !q || !(kind & CS_Q_OVERLAPPING) || (kind & ~CS_Q_OVERLAPPING) ||
        !valid_query(q))
        return CS_EINVAL;
    count_lane L;
    if (!lane_start(&L, s, q, 0))
        return 0;
    while (!count_step(&L, kind))
        ;
    return (int64_t)L.total;
}

int cs_query_count_bulk(const cs_snapshot *s, const cs_prefix *qs, size_t n,
                        unsigned kind, uint32_t *counts)
{
    if (!s || (n && (!qs || !counts)) || !(kind & CS_Q_OVERLAPPING) ||
        (kind & ~CS_Q_OVERLAPPING))
        return CS_EINVAL;
    count_lane lanes[BULK_LANES];
    unsigned active = 0;
    size_t next_q = 0;
    /* Fill lanes; queries that need no walk are answered at once. */
    for (;;) {
        while (active < BULK_LANES && next_q < n) {
            size_t qi = next_q++;
            if (lane_start(&lanes[active], s, &qs[qi], qi))
                active++;
            else
                counts[qi] = 0;
        }
        if (!active)
            break;
        for (unsigned l = 0; l < active;) {
            if (count_step(&lanes[l], kind)) {
                counts[lanes[l].qi] = (uint32_t)lanes[l].total;
                /* Refill this lane in place so every lane keeps a search in
                 * flight until the input runs out. */
                int refilled = 0;
                while (next_q < n) {
                    size_t qi = next_q++;
                    if (lane_start(&lanes[l], s, &qs[qi], qi)) {
                        refilled = 1;
                        break;
                    }
                    counts[qi] = 0;
                }
                if (!refilled)
                    lanes[l] = lanes[--active];
                else
                    l++;
            } else {
                l++;
            }
        }
    }
    return 0;
}

/* ---- iterator, walks ----------------------------------------------------- */

enum { PH_PATH = 0, PH_RANGE = 1, PH_DONE = 2 };

void cs_query_iter_init(cs_query_iter *it, const cs_snapshot *s,
                        const cs_prefix *q, unsigned kind)
{
    memset(it, 0, sizeof *it);
    it->snap = s;
    it->kind = kind & CS_Q_OVERLAPPING;
    it->phase = PH_DONE;
    if (!s || !q || !valid_query(q) || !it->kind)
        return;
    it->q = *q;
    it->fam = cs_family_index(q->family);
    if (snap_family(s, it->fam)->n_nodes)
        it->phase = PH_PATH;
}

int cs_query_iter_next(cs_query_iter *it, cs_match *m)
{
    if (it->phase == PH_DONE)
        return 0;
    const cs_famview *f = snap_family(it->snap, it->fam);
    const cs_fnode *N = f->nodes;
    const cs_prefix *q = &it->q;
    while (it->phase == PH_PATH) {
        const uint32_t i = it->node;
        const cs_fnode *x = &N[i];
        if (x->len >= q->len) {
            it->phase = PH_DONE;
            if (agrees(x, q, q->len)) {
                if (it->kind & CS_Q_COVERED) {
                    it->ent = x->ent_begin;
                    it->ent_end = x->ent_end;
                    it->phase = PH_RANGE;
                } else if (x->len == q->len) {
                    it->ent = x->ent_begin;
                    it->ent_end = snap_own_end(f, i);
                    it->phase = PH_RANGE;
                }
            }
            break;
        }
        if (!agrees(x, q, x->len)) {
            it->phase = PH_DONE;
            break;
        }
        uint32_t next = child_of(x, i, trie_key_bit(q->hi, q->lo, x->len));
        uint32_t own_end = snap_own_end(f, i);
        if (next)
            it->node = next;
        else
            it->phase = PH_DONE;
        if ((it->kind & CS_Q_COVERING) && own_end > x->ent_begin) {
            fill_match(f, it->fam, i, x->ent_begin, own_end, CS_REL_COVERS, m);
            return 1;
        }
    }
    if (it->phase == PH_RANGE) {
        if (it->ent >= it->ent_end) {
            it->phase = PH_DONE;
            return 0;
        }
        uint32_t nd = f->entnode[it->ent];
        uint32_t end = snap_own_end(f, nd);
        if (end > it->ent_end)
            end = it->ent_end;
        fill_match(f, it->fam, nd, it->ent, end,
                   N[nd].len == q->len ? CS_REL_EQUAL : CS_REL_COVERED, m);
        it->ent = end;
        return 1;
    }
    return 0;
}

int cs_query_walk(const cs_snapshot *s, const cs_prefix *q, unsigned kind,
                  cs_match_fn cb, void *ctx)
{
    if (!s || !q || !cb || !(kind & CS_Q_OVERLAPPING) || (kind & ~CS_Q_OVERLAPPING) ||
        !valid_query(q))
        return CS_EINVAL;
    cs_query_iter it;
    cs_query_iter_init(&it, s, q, kind);
    cs_match m;
    while (cs_query_iter_next(&it, &m) > 0) {
        int rc = cb(&m, ctx);
        if (rc)
            return rc;
    }
    return 0;
}

int cs_query_walk_bulk(const cs_snapshot *s, const cs_prefix *qs, size_t n,
                       unsigned kind, cs_bulk_match_fn cb, void *ctx)
{
    if (!s || !cb || (n && !qs) || !(kind & CS_Q_OVERLAPPING) ||
        (kind & ~CS_Q_OVERLAPPING))
        return CS_EINVAL;
    for (size_t i = 0; i < n; i++) {
        /* Start fetching the next query's first nodes below the root while
         * this one's results are delivered. */
        if (i + 1 < n && valid_query(&qs[i + 1])) {
            const cs_famview *f = snap_family(s, cs_family_index(qs[i + 1].family));
            if (f->n_nodes)
                prefetch_node(&f->nodes[0]);
        }
        cs_query_iter it;
        cs_query_iter_init(&it, s, &qs[i], kind);
        cs_match m;
        while (cs_query_iter_next(&it, &m) > 0) {
            int rc = cb(i, &m, ctx);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* ---- longest-prefix match ------------------------------------------------ */

typedef struct lpm_lane {
    const cs_famview *f;
    const cs_prefix *q;
    size_t qi;
    uint32_t node;
    uint32_t pending; /* node whose own count decides if it is a candidate */
    uint32_t best;
} lpm_lane;

static inline void lpm_settle(lpm_lane *L)
{
    if (L->pending != NO_NODE) {
        if (snap_own_end(L->f, L->pending) > L->f->nodes[L->pending].ent_begin)
            L->best = L->pending;
        L->pending = NO_NODE;
    }
}

/* One step of a longest-prefix walk; 1 when final (result in L->best). */
static inline int lpm_step(lpm_lane *L)
{
    lpm_settle(L);
    const cs_fnode *N = L->f->nodes;
    const uint32_t i = L->node;
    const cs_fnode *x = &N[i];
    const cs_prefix *q = L->q;
    if (x->len > q->len || !agrees(x, q, x->len))
        return 1;
    uint32_t next = x->len < q->len
                        ? child_of(x, i, trie_key_bit(q->hi, q->lo, x->len))
                        : 0;
    L->pending = i;
    if (!next) {
        lpm_settle(L);
        return 1;
    }
    prefetch_node(&N[next]);
    if ((x->flags & CS_FN_LEFT) && next != i + 1)
        prefetch_node(&N[i + 1]);
    L->node = next;
    return 0;
}

static inline bool lpm_start(lpm_lane *L, const cs_snapshot *s,
                             const cs_prefix *q, size_t qi)
{
    L->q = q;
    L->qi = qi;
    L->node = 0;
    L->pending = NO_NODE;
    L->best = NO_NODE;
    if (!valid_query(q))
        return false;
    L->f = snap_family(s, cs_family_index(q->family));
    if (L->f->n_nodes == 0)
        return false;
    prefetch_node(&L->f->nodes[0]);
    return true;
}

static int lpm_finish(const lpm_lane *L, cs_match *m)
{
    if (L->best == NO_NODE) {
        memset(m, 0, sizeof *m);
        return 0;
    }
    const cs_fnode *x = &L->f->nodes[L->best];
    fill_match(L->f, cs_family_index(L->q->family), L->best, x->ent_begin,
               snap_own_end(L->f, L->best),
               x->len == L->q->len ? CS_REL_EQUAL : CS_REL_COVERS, m);
    return 1;
}

int cs_lookup(const cs_snapshot *s, const cs_prefix *addr, cs_match *m)
{
    if (!s || !addr || !m || !valid_query(addr))
        return CS_EINVAL;
    lpm_lane L;
    if (!lpm_start(&L, s, addr, 0)) {
        memset(m, 0, sizeof *m);
        return 0;
    }
    while (!lpm_step(&L))
        ;
    return lpm_finish(&L, m);
}

int64_t cs_lookup_bulk(const cs_snapshot *s, const cs_prefix *addrs, size_t n,
                       cs_match *out)
{
    if (!s || (n && (!addrs || !out)))
        return CS_EINVAL;
    lpm_lane lanes[BULK_LANES];
    unsigned active = 0;
    size_t next_q = 0;
    int64_t hits = 0;
    for (;;) {
        while (active < BULK_LANES && next_q < n) {
            size_t qi = next_q++;
            if (lpm_start(&lanes[active], s, &addrs[qi], qi))
                active++;
            else
                memset(&out[qi], 0, sizeof out[qi]);
        }
        if (!active)
            break;
        for (unsigned l = 0; l < active;) {
            if (lpm_step(&lanes[l])) {
                hits += lpm_finish(&lanes[l], &out[lanes[l].qi]);
                lanes[l] = lanes[--active];
            } else {
                l++;
            }
        }
    }
    return hits;
}
