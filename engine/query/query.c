/*
 * engine/query/query.c — the one query implementation: overlap counts, walks,
 * iterators and longest-prefix lookups on a frozen image.
 *
 * Does: answer covering / covered / overlapping / lookup for a prefix, single
 * or in bulk, on any image (heap, file, shm). Does not: allocate, lock, or
 * validate the image (cs_snapshot_from_memory did, once, at open).
 *
 * Every question is one walk from the root along Q's bits over the HOT
 * records (key, length, links; engine/image/snapshot_internal.h):
 *
 *   root ── 10.0.0.0/8 ── 10.0.0.0/14 (glue) ── 10.1.0.0/16 ── [subtree]
 *           contains Q     contains Q            r: first node with len >= |Q|
 *                          = x, the last one
 *
 * The walk ends with two nodes: x, the deepest node shorter than Q that
 * contains Q, and r, x's child on Q's path when its length is >= |Q| and it
 * agrees with Q on |Q| bits (everything inside Q is r's subtree). Then, from
 * their COLD records only:
 *   strictly covering entries = cov(x)       (x and all its ancestors)
 *   equal entries            = cov(r) - cov(x), when len(r) == |Q|
 *   covered (equal included) = ent_end(r) - ent_begin(r)
 *   longest-prefix match     = r when it is equal and has entries, else best(x)
 * so a count is one walk plus two cold reads, whatever the number of entries:
 * a /8 query over a million entries costs what a /32 does. A walk visits at
 * most 33 (IPv4) or 129 (IPv6) nodes, each longer than its parent. For IPv4
 * queries of length >= 16 the walk resumes from the direct index (one 8-byte
 * read per /16 block), skipping the top of the trie.
 *
 * Bulk calls run 16 walks at once, one step each in turn, prefetching every
 * lane's next node, so their cache misses overlap (after DPDK's
 * rte_lpm_lookup_bulk).
 *
 * Thread-safety: pure reads of an immutable image. Tests: tests/test_query.c
 * (differential against a brute-force scan), tests/test_snapshot.c.
 */
#include <cidrscope/query.h>

#include "image/snapshot_internal.h"
#include "core/key_internal.h"

#include <string.h>

#define LANES 16 /* walks in flight in bulk calls */

static inline void prefetch(const void *p)
{
    __builtin_prefetch(p, 0, 3);
}

static bool valid_query(const cs_prefix *q)
{
    return (q->family == CS_AF_V4 || q->family == CS_AF_V6) &&
           q->len <= cs_family_bits(q->family);
}

static bool valid_kind(unsigned kind)
{
    return (kind & CS_Q_OVERLAPPING) && !(kind & ~CS_Q_OVERLAPPING);
}

/* ---- the walk ------------------------------------------------------------ */

/* A walk in progress: at node i (CS_NO_NODE: over), x the deepest node
 * passed that contains Q (CS_NO_NODE: none), r the stopping node inside Q. */
typedef struct walk {
    const cs_famview *f;
    const cs_prefix *q;
    uint32_t i, x, r;
    uint32_t q32;     /* IPv4: Q's address as u32 */
    uint8_t fam;
} walk;

/* The direct-index record where an IPv4 walk for (q32, qlen) may resume,
 * or NULL: start at the root. */
static inline const cs_dir16 *dir_entry(const cs_snapshot *s, uint32_t q32,
                                        unsigned qlen)
{
    const cs_dir16 *dir = snap_dir16(s);
    if (!dir || qlen < 8)
        return NULL;
    return qlen >= 16 ? &dir[q32 >> 16] : &dir[65536 + (q32 >> 24)];
}

/* Starts a walk; false when the family is empty (nothing can match). */
static inline bool walk_start(walk *w, const cs_snapshot *s, const cs_prefix *q)
{
    w->q = q;
    w->fam = (uint8_t)cs_family_index(q->family);
    w->f = snap_family(s, w->fam);
    w->x = CS_NO_NODE;
    w->r = CS_NO_NODE;
    w->i = 0;
    w->q32 = 0;
    if (w->f->n_nodes == 0) {
        w->i = CS_NO_NODE;
        return false;
    }
    if (w->fam == 0) {
        w->q32 = (uint32_t)(q->hi >> 32);
        const cs_dir16 *d = dir_entry(s, w->q32, q->len);
        if (d) {
            w->i = d->resume;
            w->x = d->x;
            if (w->i == CS_NO_NODE)
                return true;
            prefetch(&w->f->hot4[w->i]);
        }
    }
    return true;
}

/* The top `len` bits of a 32-bit word set (len 0..32), without a branch
 * or an undefined shift. */
static inline uint32_t mask32(unsigned len)
{
    return (uint32_t)(~0ull << (32 - len));
}

/*
 * One step; returns 1 when the walk is over (w->i == CS_NO_NODE).
 *
 * The IPv4 step has no data-dependent branch: which way the walk goes, and
 * whether this node is x or r, is computed with masks and conditional moves
 * (its outcomes are coin flips to a branch predictor).
 */
static inline __attribute__((always_inline)) int walk_step(walk *w)
{
    const uint32_t i = w->i;
    const unsigned qlen = w->q->len;
    uint32_t next;
    if (w->fam == 0) {
        const cs_hot4 *h = &w->f->hot4[i];
        const unsigned len = h->len;
        const uint32_t diff = w->q32 ^ h->key;
        const uint32_t ge = len >= qlen;                       /* r candidate */
        const uint32_t agree_q = (diff & mask32(qlen)) == 0;   /* on |Q| bits */
        const uint32_t agree_n = (diff & mask32(len)) == 0;    /* on its bits */
        const uint32_t go = (ge ^ 1u) & agree_n;                    /* contains Q */
        w->r = (ge & agree_q) ? i : w->r;
        w->x = go ? i : w->x;
        /* bit `len` of Q (len < 32 whenever go is set) */
        const uint32_t bit = (uint32_t)(((uint64_t)w->q32 << len) >> 31) & 1u;
        const uint32_t left = (h->flags & CS_FN_LEFT) ? i + 1 : 0;
        next = bit ? h->right : left;
        next = go ? next : 0;
        prefetch(&w->f->hot4[next]);
    } else {
        const cs_hot6 *h = &w->f->hot6[i];
        const unsigned len = h->len;
        const cs_prefix *q = w->q;
        if (len >= qlen) {
            if (cs_key_common_bits(h->key_hi, h->key_lo, q->hi, q->lo, qlen) >= qlen)
                w->r = i;
            w->i = CS_NO_NODE;
            return 1;
        }
        if (cs_key_common_bits(h->key_hi, h->key_lo, q->hi, q->lo, len) < len) {
            w->i = CS_NO_NODE;
            return 1;
        }
        w->x = i;
        next = cs_key_bit(q->hi, q->lo, len) ? h->right
               : (h->flags & CS_FN_LEFT)        ? i + 1
                                                : 0;
        if (next)
            prefetch(&w->f->hot6[next]);
    }
    if (!next) {
        w->i = CS_NO_NODE;
        return 1;
    }
    w->i = next;
    return 0;
}

static inline uint32_t node_len(const cs_famview *f, unsigned fam, uint32_t i)
{
    return fam ? f->hot6[i].len : f->hot4[i].len;
}

static inline uint32_t count_from(const cs_cold *c, uint32_t x, uint32_t r,
                                  uint32_t r_len, unsigned qlen, unsigned kind);

static inline uint32_t walk_count(const walk *w, unsigned kind)
{
    uint32_t r_len = w->r != CS_NO_NODE ? node_len(w->f, w->fam, w->r) : 0;
    return count_from(w->f->cold, w->x, w->r, r_len, w->q->len, kind);
}

/* ---- counts -------------------------------------------------------------- */

int64_t cs_query_count(const cs_snapshot *s, const cs_prefix *q, unsigned kind)
{
    if (!s || !q || !valid_kind(kind) || !valid_query(q))
        return CS_EINVAL;
    walk w;
    if (!walk_start(&w, s, q))
        return 0;
    if (w.i != CS_NO_NODE)
        while (!walk_step(&w))
            ;
    return (int64_t)walk_count(&w, kind);
}

/*
 * The IPv4 bulk kernel: a lane is five integers, every lane walks the same
 * hot4 array, and a step is branch-free (as walk_step's IPv4 half) but for
 * the lane finishing. Fills x and r of each lane; no cold read.
 */
typedef struct lane4 {
    uint32_t i, x, r, q32, qlen;
} lane4;

static inline __attribute__((always_inline)) uint32_t step4(const cs_hot4 *H, lane4 *L)
{
    const uint32_t i = L->i;
    const cs_hot4 *h = &H[i];
    const unsigned len = h->len;
    const uint32_t diff = L->q32 ^ h->key;
    const uint32_t ge = len >= L->qlen;
    const uint32_t agree_q = (diff & mask32(L->qlen)) == 0;
    const uint32_t agree_n = (diff & mask32(len)) == 0;
    const uint32_t go = (ge ^ 1u) & agree_n;
    L->r = (ge & agree_q) ? i : L->r;
    L->x = go ? i : L->x;
    const uint32_t bit = (uint32_t)(((uint64_t)L->q32 << len) >> 31) & 1u;
    const uint32_t left = (h->flags & CS_FN_LEFT) ? i + 1 : 0;
    uint32_t next = bit ? h->right : left;
    next = go ? next : 0;
    prefetch(&H[next]);
    L->i = next;
    return next;
}

/* Walks up to LANES IPv4 queries; lanes[l] must be initialised (i = start
 * node, its first node already prefetched; busy bit clear when there is no
 * walk). Each walk then runs to its end in registers: below the direct index
 * a walk stays inside one subtree, which DFS preorder keeps contiguous (the
 * left child is the next record), so its later steps mostly hit the lines
 * the first one brought in. */
static inline void run_lanes4(const cs_hot4 *H, lane4 *lanes, uint32_t busy)
{
    for (uint32_t b = busy; b; b &= b - 1) {
        lane4 L = lanes[__builtin_ctz(b)];
        while (step4(H, &L))
            ;
        lanes[__builtin_ctz(b)] = L;
    }
}

/* Sets up lane l for IPv4 query q; returns 1 when it must walk. */
static inline uint32_t lane4_start(const cs_snapshot *s, const cs_hot4 *H,
                                   lane4 *L, const cs_prefix *q)
{
    L->q32 = (uint32_t)(q->hi >> 32);
    L->qlen = q->len;
    L->x = CS_NO_NODE;
    L->r = CS_NO_NODE;
    L->i = 0;
    const cs_dir16 *d = dir_entry(s, L->q32, q->len);
    if (d) {
        L->i = d->resume;
        L->x = d->x;
        if (L->i == CS_NO_NODE) {
            L->i = 0;
            return 0;
        }
    }
    prefetch(&H[L->i]);
    return 1;
}

static inline uint32_t count_from(const cs_cold *c, uint32_t x, uint32_t r,
                                  uint32_t r_len, unsigned qlen, unsigned kind)
{
    uint32_t cov_x = x != CS_NO_NODE ? c[x].cov : 0;
    uint32_t total = (kind & CS_Q_COVERING) ? cov_x : 0;
    if (r != CS_NO_NODE) {
        if (kind & CS_Q_COVERED)
            total += c[r].ent_end - c[r].ent_begin;
        else if (r_len == qlen)
            total += c[r].cov - cov_x; /* r's own entries: equal to Q */
    }
    return total;
}

int cs_query_count_bulk(const cs_snapshot *s, const cs_prefix *qs, size_t n,
                        unsigned kind, uint32_t *counts)
{
    if (!s || (n && (!qs || !counts)) || !valid_kind(kind))
        return CS_EINVAL;
    const cs_famview *f4 = snap_family(s, 0);
    const cs_hot4 *H = f4->hot4;
    const cs_cold *C = f4->cold;
    lane4 lanes[LANES];
    size_t slot[LANES];
    for (size_t base = 0; base < n;) {
        /* Gather up to LANES IPv4 queries; others are answered one by one
         * (IPv6 takes the generic walk). */
        unsigned m = 0;
        uint32_t busy = 0;
        for (; base < n && m < LANES; base++) {
            const cs_prefix *q = &qs[base];
            if (q->family != CS_AF_V4 || !valid_query(q) || f4->n_nodes == 0) {
                int64_t c = valid_query(q) ? cs_query_count(s, q, kind) : 0;
                counts[base] = c > 0 ? (uint32_t)c : 0;
                continue;
            }
            slot[m] = base;
            busy |= lane4_start(s, H, &lanes[m], q) << m;
            m++;
        }
        run_lanes4(H, lanes, busy);
        for (unsigned l = 0; l < m; l++) {
            if (lanes[l].x != CS_NO_NODE)
                prefetch(&C[lanes[l].x]);
            if (lanes[l].r != CS_NO_NODE)
                prefetch(&C[lanes[l].r]);
        }
        for (unsigned l = 0; l < m; l++) {
            const lane4 *L = &lanes[l];
            uint32_t r_len = L->r != CS_NO_NODE ? H[L->r].len : 0;
            counts[slot[l]] = count_from(C, L->x, L->r, r_len, L->qlen, kind);
        }
    }
    return 0;
}

/* ---- iterator, walks ----------------------------------------------------- */

enum { PH_PATH = 0, PH_RANGE = 1, PH_DONE = 2 };

static void fill_match(const cs_famview *f, unsigned fam, uint32_t i,
                       uint32_t begin, uint32_t end, uint8_t rel, cs_match *m)
{
    m->prefix = snap_node_prefix(f, fam, i);
    m->values = f->values + begin;
    m->count = end - begin;
    m->first_entry = begin;
    m->relation = rel;
}

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
    const unsigned fam = it->fam;
    const cs_prefix *q = &it->q;
    /* The path walk, one node per call to walk_step, emitting each node
     * that contains Q and has entries of its own. It does not use the
     * direct index: covering matches must come from the root down. */
    while (it->phase == PH_PATH) {
        walk w = {.f = f, .q = q, .i = it->node, .x = CS_NO_NODE, .r = CS_NO_NODE,
                  .q32 = (uint32_t)(q->hi >> 32), .fam = (uint8_t)fam};
        int over = walk_step(&w);
        if (w.x != CS_NO_NODE) {
            /* w.x == it->node: it contains Q strictly */
            uint32_t cov = f->cold[w.x].cov, own = cov - it->prev_cov;
            it->prev_cov = cov;
            it->node = w.i;
            if (over)
                it->phase = PH_DONE;
            if ((it->kind & CS_Q_COVERING) && own) {
                uint32_t b = f->cold[w.x].ent_begin;
                fill_match(f, fam, w.x, b, b + own, CS_REL_COVERS, m);
                return 1;
            }
            continue;
        }
        it->phase = PH_DONE;
        if (w.r != CS_NO_NODE) {
            const cs_cold *c = &f->cold[w.r];
            if (it->kind & CS_Q_COVERED) {
                it->ent = c->ent_begin;
                it->ent_end = c->ent_end;
                it->phase = PH_RANGE;
            } else if (node_len(f, fam, w.r) == q->len) {
                it->ent = c->ent_begin;
                it->ent_end = c->ent_begin + (c->cov - it->prev_cov);
                it->phase = PH_RANGE;
            }
        }
    }
    if (it->phase == PH_RANGE) {
        if (it->ent >= it->ent_end) {
            it->phase = PH_DONE;
            return 0;
        }
        uint32_t nd = f->entnode[it->ent];
        uint32_t end = snap_own_end(f, fam, nd);
        if (end > it->ent_end)
            end = it->ent_end;
        fill_match(f, fam, nd, it->ent, end,
                   node_len(f, fam, nd) == q->len ? CS_REL_EQUAL : CS_REL_COVERED, m);
        it->ent = end;
        return 1;
    }
    return 0;
}

int cs_query_walk(const cs_snapshot *s, const cs_prefix *q, unsigned kind,
                  cs_match_fn cb, void *ctx)
{
    if (!s || !q || !cb || !valid_kind(kind) || !valid_query(q))
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
    if (!s || !cb || (n && !qs) || !valid_kind(kind))
        return CS_EINVAL;
    for (size_t i = 0; i < n; i++) {
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

/* The longest match once a walk is over (x, r as in `walk`): r when it
 * equals Q and has entries of its own, else the deepest node with entries at
 * or above x. */
static int lpm_from(const cs_famview *f, unsigned fam, uint32_t x, uint32_t r,
                    unsigned qlen, cs_match *m)
{
    const cs_cold *c = f->cold;
    uint32_t cov_x = x != CS_NO_NODE ? c[x].cov : 0;
    uint32_t own;
    if (r != CS_NO_NODE && node_len(f, fam, r) == qlen && (own = c[r].cov - cov_x) != 0) {
        fill_match(f, fam, r, c[r].ent_begin, c[r].ent_begin + own, CS_REL_EQUAL, m);
        return 1;
    }
    uint32_t best = x != CS_NO_NODE ? c[x].best : CS_NO_NODE;
    if (best == CS_NO_NODE) {
        memset(m, 0, sizeof *m);
        return 0;
    }
    fill_match(f, fam, best, c[best].ent_begin, snap_own_end(f, fam, best), CS_REL_COVERS, m);
    return 1;
}

static int walk_lpm(const walk *w, cs_match *m)
{
    return lpm_from(w->f, w->fam, w->x, w->r, w->q->len, m);
}

int cs_lookup(const cs_snapshot *s, const cs_prefix *addr, cs_match *m)
{
    if (!s || !addr || !m || !valid_query(addr))
        return CS_EINVAL;
    walk w;
    if (!walk_start(&w, s, addr)) {
        memset(m, 0, sizeof *m);
        return 0;
    }
    if (w.i != CS_NO_NODE)
        while (!walk_step(&w))
            ;
    return walk_lpm(&w, m);
}

int64_t cs_lookup_bulk(const cs_snapshot *s, const cs_prefix *addrs, size_t n,
                       cs_match *out)
{
    if (!s || (n && (!addrs || !out)))
        return CS_EINVAL;
    const cs_famview *f4 = snap_family(s, 0);
    const cs_hot4 *H = f4->hot4;
    const cs_cold *C = f4->cold;
    lane4 lanes[LANES];
    size_t slot[LANES];
    int64_t hits = 0;
    for (size_t base = 0; base < n;) {
        unsigned m = 0;
        uint32_t busy = 0;
        for (; base < n && m < LANES; base++) {
            const cs_prefix *q = &addrs[base];
            if (q->family != CS_AF_V4 || !valid_query(q) || f4->n_nodes == 0) {
                if (valid_query(q))
                    hits += cs_lookup(s, q, &out[base]) > 0;
                else
                    memset(&out[base], 0, sizeof out[base]);
                continue;
            }
            slot[m] = base;
            busy |= lane4_start(s, H, &lanes[m], q) << m;
            m++;
        }
        run_lanes4(H, lanes, busy);
        for (unsigned l = 0; l < m; l++) {
            if (lanes[l].x != CS_NO_NODE)
                prefetch(&C[lanes[l].x]);
            if (lanes[l].r != CS_NO_NODE)
                prefetch(&C[lanes[l].r]);
        }
        for (unsigned l = 0; l < m; l++)
            hits += lpm_from(f4, 0, lanes[l].x, lanes[l].r, lanes[l].qlen, &out[slot[l]]);
    }
    return hits;
}
