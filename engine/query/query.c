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
 * most 33 (IPv4) or 129 (IPv6) nodes, each longer than its parent. An IPv4
 * query of length >= 8 resumes from the direct index (engine/image/direct.c:
 * one 8-byte record per /8, /12 or /16 block, and per /20 or /24 block under
 * the /16s where walks run deep), skipping the top of the trie; an IPv6 one
 * inside the estate's base prefix likewise (per 4 bits of the 16 after
 * base, and of 12 more under the records where walks run deep).
 *
 * One walk: a `lane` record and one step per family (step4, branch-free;
 * step6). Single calls, the iterator, the bulk loop and the read-side
 * primitives of walk_internal.h (covering chain, covered slice, DFS visit of
 * entry-bearing nodes, for audit, peering and IPAM) all run it. Bulk calls
 * start 32 walks at once (bulk walks 16), prefetching every lane's first
 * node, so their cache misses overlap (after DPDK's
 * rte_lpm_lookup_bulk); one bulk loop serves counts and longest-prefix
 * matches.
 *
 * Thread-safety: pure reads of an immutable image. Tests: tests/test_query.c
 * (differential against a brute-force scan), tests/test_snapshot.c.
 */
#include "query/walk_internal.h"

#include "core/key_internal.h"
#include "image/snapshot_internal.h"

#include <string.h>

/* Walks in flight: counts and lookups keep 32 (their answers are two cold
 * reads, so more misses overlap); bulk walks 16, each of whose queries then
 * reads a range, and whose ranges' first lines are all brought in before
 * the first is read (with 32, the last ones' lines may be gone again). */
#define LANES 32
#define WALK_LANES 16

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

/* One query's walk: at node i (0 once over: the root is never a child), x
 * the deepest node passed that strictly contains Q (CS_NO_NODE: none), r the
 * stopping node inside Q (CS_NO_NODE: none). Single calls, the iterator and
 * the bulk lanes all run this record through step4/step6. */
typedef struct lane {
    uint32_t i, x, r, qlen;
    uint32_t q32;     /* IPv4: Q's address as u32 */
    uint64_t hi, lo;  /* IPv6: Q's key */
} lane;

/* Bits [p, p + 16) of a left-aligned 128-bit key (p <= 112). */
static inline uint32_t key_bits16(uint64_t hi, uint64_t lo, unsigned p)
{
    if (p <= 48)
        return (uint32_t)(hi >> (48 - p)) & 0xffffu;
    if (p >= 64)
        return (uint32_t)(lo >> (112 - p)) & 0xffffu;
    return (uint32_t)((hi << (p - 48)) | (lo >> (112 - p))) & 0xffffu;
}

/* The direct-index record where the walk of q may resume, or NULL: start
 * at the root (engine/image/direct.c builds them). IPv4: the /24 or /20
 * record under a busy /16, else the /16, /12 or /8 one; IPv6: the record of
 * the 16 (or 12, 8, 4, 0: as many as Q has) bits after the base prefix, for
 * queries inside it, or the one of the 12, 8 or 4 bits after those under a
 * busy 16-bit record. */
static inline const cs_dir16 *direct_entry(const snap_direct *d, unsigned fam,
                                           const lane *L)
{
    const unsigned qlen = L->qlen;
    if (fam == 0) {
        if (!d->dir || qlen < 8)
            return NULL;
        if (qlen < 16)
            return &d->dir[qlen < 12 ? CS_DIR4_AT8 + (L->q32 >> 24) : CS_DIR4_AT12 + (L->q32 >> 20)];
        const uint32_t v = L->q32 >> 16;
        if (qlen >= 20 && d->l2) {
            const uint32_t b = d->l2[v];
            if (b != CS_NO_NODE)
                return &d->dir24[b + (qlen >= 24 ? 16 + ((L->q32 >> 8) & 0xffu)
                                                 : (L->q32 >> 12) & 0xfu)];
        }
        return &d->dir[v];
    }
    if (!d->dir6 || qlen < d->base_len ||
        cs_key_common_bits(d->base_hi, d->base_lo, L->hi, L->lo, d->base_len) < d->base_len)
        return NULL;
    const uint32_t v = key_bits16(L->hi, L->lo, d->base_len);
    const unsigned k = qlen - d->base_len;
    if (k >= 16) {
        if (k >= 20 && d->l2_6) {
            const uint32_t b = d->l2_6[v];
            if (b != CS_NO_NODE) {
                const uint32_t w = key_bits16(L->hi, L->lo, d->base_len + 16);
                return &d->dir6_l2[b + (k >= 28   ? CS_DIR6_L2_AT12 + (w >> 4)
                                        : k >= 24 ? CS_DIR6_L2_AT8 + (w >> 8)
                                                  : w >> 12)];
            }
        }
        return &d->dir6[v];
    }
    static const uint32_t at6[4] = {CS_DIR6_AT0, CS_DIR6_AT4, CS_DIR6_AT8, CS_DIR6_AT12};
    return &d->dir6[at6[k >> 2] + (v >> (16 - (k & ~3u)))];
}

/* Sets up the walk of q (valid, of family `fam`) from the root. */
static inline void lane_init(lane *L, const cs_prefix *q)
{
    L->i = 0;
    L->x = CS_NO_NODE;
    L->r = CS_NO_NODE;
    L->qlen = q->len;
    L->q32 = (uint32_t)(q->hi >> 32);
    L->hi = q->hi;
    L->lo = q->lo;
}

/* Resumes a walk from direct-index record d (NULL: from the root) and
 * prefetches its first node. Returns 1 when it must walk, 0 when the answer
 * (x, r) is already known. The family has nodes. */
static inline uint32_t lane_resume(const cs_famview *f, unsigned fam, lane *L,
                                   const cs_dir16 *d)
{
    if (d) {
        L->x = d->x;
        if (d->resume == CS_NO_NODE)
            return 0;
        L->i = d->resume;
    }
    if (fam)
        prefetch(&f->hot6[L->i]);
    else
        prefetch(&f->hot4[L->i]);
    return 1;
}

/* Sets up the walk of q, resuming from a direct index when there is one.
 * Returns as lane_resume. */
static inline uint32_t lane_start(const cs_snapshot *s, const cs_famview *f,
                                  unsigned fam, lane *L, const cs_prefix *q)
{
    lane_init(L, q);
    if (f->n_nodes == 0)
        return 0;
    return lane_resume(f, fam, L, direct_entry(snap_direct_for(s, 1u << fam, 1), fam, L));
}

/* The top `len` bits of a 32-bit word set (len 0..32), without a branch
 * or an undefined shift. */
static inline uint32_t mask32(unsigned len)
{
    return (uint32_t)(~0ull << (32 - len));
}

/*
 * One IPv4 step; returns the next node, 0 when the walk is over.
 *
 * No data-dependent branch: which way the walk goes, and whether this node
 * is x or r, is computed with masks and conditional moves (its outcomes are
 * coin flips to a branch predictor).
 */
static inline __attribute__((always_inline)) uint32_t step4(const cs_hot4 *H, lane *L)
{
    const uint32_t i = L->i;
    const cs_hot4 *h = &H[i];
    const unsigned len = h->len;
    const uint32_t diff = L->q32 ^ h->key;
    const uint32_t ge = len >= L->qlen;                      /* r candidate */
    const uint32_t agree_q = (diff & mask32(L->qlen)) == 0;  /* on |Q| bits */
    const uint32_t agree_n = (diff & mask32(len)) == 0;      /* on its bits */
    const uint32_t go = (ge ^ 1u) & agree_n;                 /* contains Q */
    L->r = (ge & agree_q) ? i : L->r;
    L->x = go ? i : L->x;
    /* bit `len` of Q (len < 32 whenever go is set) */
    const uint32_t bit = (uint32_t)(((uint64_t)L->q32 << len) >> 31) & 1u;
    const uint32_t left = (h->flags & CS_FN_LEFT) ? i + 1 : 0;
    uint32_t next = bit ? h->right : left;
    next = go ? next : 0;
    prefetch(&H[next]);
    L->i = next;
    return next;
}

/* One IPv6 step; returns the next node, 0 when the walk is over. */
static inline __attribute__((always_inline)) uint32_t step6(const cs_hot6 *H, lane *L)
{
    const uint32_t i = L->i;
    const cs_hot6 *h = &H[i];
    const unsigned len = h->len;
    const unsigned common = cs_key_common_bits(h->key_hi, h->key_lo, L->hi, L->lo, 128);
    uint32_t next = 0;
    if (len >= L->qlen) {
        if (common >= L->qlen)
            L->r = i;
    } else if (common >= len) {
        L->x = i;
        next = cs_key_bit(L->hi, L->lo, len) ? h->right
               : (h->flags & CS_FN_LEFT)     ? i + 1
                                             : 0;
        prefetch(&H[next]);
    }
    L->i = next;
    return next;
}

static inline __attribute__((always_inline)) uint32_t lane_step(const cs_famview *f,
                                                                unsigned fam, lane *L)
{
    return fam ? step6(f->hot6, L) : step4(f->hot4, L);
}

/* Runs a started walk to its end. Below the direct index a walk stays
 * inside one subtree, which DFS preorder keeps contiguous (the left child is
 * the next record), so its later steps mostly hit the lines the first one
 * brought in. */
static inline __attribute__((always_inline)) void lane_run(const cs_famview *f,
                                                           unsigned fam, lane *L)
{
    if (fam)
        while (step6(f->hot6, L))
            ;
    else
        while (step4(f->hot4, L))
            ;
}

/* ---- finishing a walk: counts and longest-prefix matches ----------------- */

static inline uint32_t count_from(const cs_famview *f, unsigned fam, const lane *L,
                                  unsigned kind)
{
    return cs_walk_count_of(f->cold, L->x, L->r,
                            L->r != CS_NO_NODE && snap_len(f, fam, L->r) == L->qlen, kind);
}

static void fill_match(const cs_famview *f, unsigned fam, uint32_t i,
                       uint32_t begin, uint32_t end, uint8_t rel, cs_match *m)
{
    m->prefix = snap_node_prefix(f, fam, i);
    m->values = f->values + begin;
    m->count = end - begin;
    m->first_entry = begin;
    m->relation = rel;
}

/* The longest match once a walk is over: r when it equals Q and has entries
 * of its own, else the deepest node with entries at or above x. */
static int lpm_from(const cs_famview *f, unsigned fam, const lane *L, cs_match *m)
{
    const cs_cold *c = f->cold;
    const uint32_t x = L->x, r = L->r;
    uint32_t cov_x = x != CS_NO_NODE ? snap_cov(c, x) : 0;
    uint32_t own;
    if (r != CS_NO_NODE && snap_len(f, fam, r) == L->qlen &&
        (own = snap_cov(c, r) - cov_x) != 0) {
        fill_match(f, fam, r, c[r].ent_begin, c[r].ent_begin + own, CS_REL_EQUAL, m);
        return 1;
    }
    uint32_t best = x != CS_NO_NODE ? snap_best(c, x) : CS_NO_NODE;
    if (best == CS_NO_NODE) {
        memset(m, 0, sizeof *m);
        return 0;
    }
    fill_match(f, fam, best, c[best].ent_begin, snap_own_end(f, fam, best), CS_REL_COVERS, m);
    return 1;
}

/*
 * The next match of a covered range, scanning nodes from *node on in
 * preorder: they come in the order of their entries, and node i's own
 * entries end where node i + 1's begin (its first child or the next
 * subtree), so the scan reads the cold and hot arrays in sequence and never
 * the entry -> node map. Fills *m, advances *node and returns 1; 0 at the
 * range's end (`ent_end`).
 */
static inline int range_next(const cs_famview *f, unsigned fam, unsigned qlen,
                             uint32_t *node, uint32_t ent_end, cs_match *m)
{
    const cs_cold *c = f->cold;
    const uint32_t n = f->n_nodes;
    for (uint32_t i = *node; i < n; i++) {
        const uint32_t b = c[i].ent_begin;
        if (b >= ent_end)
            break;
        uint32_t end = i + 1 < n ? c[i + 1].ent_begin : c[i].ent_end;
        if (end > ent_end)
            end = ent_end;
        if (end == b)
            continue;
        fill_match(f, fam, i, b, end,
                   snap_len(f, fam, i) == qlen ? CS_REL_EQUAL : CS_REL_COVERED, m);
        *node = i + 1;
        return 1;
    }
    *node = n;
    return 0;
}

/* ---- single and bulk ------------------------------------------------------ */

int64_t cs_query_count(const cs_snapshot *s, const cs_prefix *q, unsigned kind)
{
    if (!s || !q || !valid_kind(kind) || !valid_query(q))
        return CS_EINVAL;
    const unsigned fam = cs_family_index(q->family);
    const cs_famview *f = snap_family(s, fam);
    lane L;
    if (lane_start(s, f, fam, &L, q))
        lane_run(f, fam, &L);
    return (int64_t)count_from(f, fam, &L, kind);
}

int cs_lookup(const cs_snapshot *s, const cs_prefix *addr, cs_match *m)
{
    if (!s || !addr || !m || !valid_query(addr))
        return CS_EINVAL;
    const unsigned fam = cs_family_index(addr->family);
    const cs_famview *f = snap_family(s, fam);
    lane L;
    if (lane_start(s, f, fam, &L, addr))
        lane_run(f, fam, &L);
    return lpm_from(f, fam, &L, m);
}

enum { BULK_COUNT, BULK_LPM };

/*
 * Walks qs[0 .. m) (m <= LANES) at once, lane l answering qs[l]: every lane
 * is started first (second-level slots prefetched, then its direct-index
 * record, then its first node
 * prefetched, so the LANES first misses overlap), then the busy lanes step
 * round robin to their ends, and the cold records of every lane's x and r
 * are prefetched before any is read. Returns the mask of valid queries;
 * fams[l] is lane l's family index.
 */
static inline __attribute__((always_inline)) uint32_t
batch_walk(const cs_famview *const fv[2], const snap_direct *dx, const cs_prefix *qs,
           unsigned m, lane *lanes, uint8_t *fams)
{
    const cs_dir16 *dp[LANES];
    uint32_t busy[2] = {0, 0}, live = 0, walkable = 0;
    /* Start in three passes: prefetch the IPv4 second-level slots, find
     * and prefetch every lane's direct-index record, then read them (their
     * misses overlap) and prefetch every lane's first node. */
    if (dx->l2)
        for (unsigned l = 0; l < m; l++)
            if (qs[l].family == CS_AF_V4 && qs[l].len >= 20)
                prefetch(&dx->l2[(uint32_t)(qs[l].hi >> 48)]);
    /* The same for IPv6's second level (any 16 bits index l2_6's 65536
     * slots, so a query outside base only wastes a prefetch): without it
     * each lane's direct_entry waited for its own miss in turn, 7% of
     * org-83k's IPv6 lookups (bench/results-count.md). */
    if (dx->l2_6)
        for (unsigned l = 0; l < m; l++)
            if (qs[l].family == CS_AF_V6 && qs[l].len >= dx->base_len + 20)
                prefetch(&dx->l2_6[key_bits16(qs[l].hi, qs[l].lo, dx->base_len)]);
    for (unsigned l = 0; l < m; l++) {
        const cs_prefix *q = &qs[l];
        if (!valid_query(q))
            continue;
        const unsigned fam = q->family == CS_AF_V6;
        fams[l] = (uint8_t)fam;
        live |= 1u << l;
        lane_init(&lanes[l], q);
        dp[l] = NULL;
        if (fv[fam]->n_nodes == 0)
            continue;
        walkable |= 1u << l;
        dp[l] = direct_entry(dx, fam, &lanes[l]);
        if (dp[l])
            prefetch(dp[l]);
    }
    for (uint32_t b = walkable; b; b &= b - 1) {
        const unsigned l = (unsigned)__builtin_ctz(b);
        busy[fams[l]] |= lane_resume(fv[fams[l]], fams[l], &lanes[l], dp[l]) << l;
    }
    /* Round robin: one step of every busy lane in turn, so the misses of
     * different lanes overlap. */
    for (uint32_t b4 = busy[0]; b4;)
        for (uint32_t b = b4; b; b &= b - 1) {
            const unsigned l = (unsigned)__builtin_ctz(b);
            if (!step4(fv[0]->hot4, &lanes[l]))
                b4 &= ~(1u << l);
        }
    for (uint32_t b6 = busy[1]; b6;)
        for (uint32_t b = b6; b; b &= b - 1) {
            const unsigned l = (unsigned)__builtin_ctz(b);
            if (!step6(fv[1]->hot6, &lanes[l]))
                b6 &= ~(1u << l);
        }
    for (uint32_t b = live; b; b &= b - 1) {
        const lane *L = &lanes[__builtin_ctz(b)];
        const cs_cold *C = fv[fams[__builtin_ctz(b)]]->cold;
        if (L->x != CS_NO_NODE)
            prefetch(&C[L->x]);
        if (L->r != CS_NO_NODE)
            prefetch(&C[L->r]);
    }
    return live;
}

/* The families of qs[0..n) (bit f: family f), for snap_direct_for. */
static unsigned families_of(const cs_prefix *qs, size_t n)
{
    unsigned m = 0;
    for (size_t i = 0; i < n && m != 3u; i++)
        m |= qs[i].family == CS_AF_V6 ? 2u : 1u;
    return m;
}

/*
 * The one bulk loop, for counts and longest-prefix matches: LANES queries
 * at a time through batch_walk, then each lane's answer from its cold
 * records. `mode` is a constant at each call, so each caller gets its own
 * copy without the other's finish. Invalid queries answer 0 / a miss.
 */
static inline __attribute__((always_inline)) int64_t
bulk(const cs_snapshot *s, const cs_prefix *qs, size_t n, unsigned kind, int mode,
     uint32_t *counts, cs_match *out)
{
    const cs_famview *fv[2] = {snap_family(s, 0), snap_family(s, 1)};
    const snap_direct *dx = snap_direct_for(s, families_of(qs, n), n);
    lane lanes[LANES];
    uint8_t fams[LANES];
    int64_t hits = 0;
    for (size_t base = 0; base < n; base += LANES) {
        const unsigned m = n - base < LANES ? (unsigned)(n - base) : LANES;
        const uint32_t live = batch_walk(fv, dx, qs + base, m, lanes, fams);
        for (unsigned l = 0; l < m; l++) {
            const bool ok = (live >> l) & 1u;
            if (mode == BULK_COUNT)
                counts[base + l] = ok ? count_from(fv[fams[l]], fams[l], &lanes[l], kind) : 0;
            else if (ok)
                hits += lpm_from(fv[fams[l]], fams[l], &lanes[l], &out[base + l]);
            else
                memset(&out[base + l], 0, sizeof out[base + l]);
        }
    }
    return hits;
}

int cs_query_count_bulk(const cs_snapshot *s, const cs_prefix *qs, size_t n,
                        unsigned kind, uint32_t *counts)
{
    if (!s || (n && (!qs || !counts)) || !valid_kind(kind))
        return CS_EINVAL;
    bulk(s, qs, n, kind, BULK_COUNT, counts, NULL);
    return 0;
}

int64_t cs_lookup_bulk(const cs_snapshot *s, const cs_prefix *addrs, size_t n,
                       cs_match *out)
{
    if (!s || (n && (!addrs || !out)))
        return CS_EINVAL;
    return bulk(s, addrs, n, 0, BULK_LPM, NULL, out);
}

/* ---- iterator, walks ----------------------------------------------------- */

enum { PH_PATH = 0, PH_RANGE = 1, PH_DONE = 2 };

/* The end of the path walk: r (CS_NO_NODE: none) heads what is inside Q;
 * the iterator goes on with the covered range, or Q's own entries, or ends. */
static void iter_path_over(cs_query_iter *it, const cs_famview *f, unsigned fam, uint32_t r)
{
    it->phase = PH_DONE;
    if (r == CS_NO_NODE)
        return;
    const cs_cold *c = &f->cold[r];
    if (it->kind & CS_Q_COVERED) {
        it->ent = c->ent_begin;
        it->ent_end = c->ent_end;
        it->phase = PH_RANGE;
    } else if (snap_len(f, fam, r) == it->q.len) {
        it->ent = c->ent_begin;
        it->ent_end = c->ent_begin + (snap_cov(f->cold, r) - it->prev_cov);
        it->phase = PH_RANGE;
    }
    it->node = r; /* the range's nodes are r, r + 1, ... (DFS preorder) */
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
    const cs_famview *f = snap_family(s, it->fam);
    if (f->n_nodes == 0)
        return;
    it->phase = PH_PATH;
    /* Covering matches come from the root down; but when nothing above a
     * direct index's resume point has entries (cov(x) == 0, the common
     * case), the path walk may start there. */
    lane L;
    const uint32_t walk = lane_start(s, f, it->fam, &L, q);
    if (L.x != CS_NO_NODE && snap_cov(f->cold, L.x) != 0)
        return; /* it->node = 0: from the root */
    if (walk)
        it->node = L.i;
    else
        iter_path_over(it, f, it->fam, CS_NO_NODE);
}

int cs_query_iter_next(cs_query_iter *it, cs_match *m)
{
    if (it->phase == PH_DONE)
        return 0;
    const cs_famview *f = snap_family(it->snap, it->fam);
    const unsigned fam = it->fam;
    const cs_prefix *q = &it->q;
    /* The path walk, one step per loop, emitting each node that contains
     * Q and has entries of its own (from the root, or from a direct index's
     * resume point when nothing above it has entries: see _init). */
    while (it->phase == PH_PATH) {
        lane L;
        lane_init(&L, q);
        L.i = it->node;
        uint32_t next = lane_step(f, fam, &L);
        if (L.x != CS_NO_NODE) {
            /* L.x == it->node: it contains Q strictly */
            uint32_t cov = snap_cov(f->cold, L.x), own = cov - it->prev_cov;
            it->prev_cov = cov;
            it->node = next;
            if (!next)
                it->phase = PH_DONE;
            if ((it->kind & CS_Q_COVERING) && own) {
                uint32_t b = f->cold[L.x].ent_begin;
                fill_match(f, fam, L.x, b, b + own, CS_REL_COVERS, m);
                return 1;
            }
            continue;
        }
        iter_path_over(it, f, fam, L.r);
    }
    if (it->phase == PH_RANGE && range_next(f, fam, q->len, &it->node, it->ent_end, m)) {
        it->ent = m->first_entry + m->count;
        return 1;
    }
    it->phase = PH_DONE;
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

/*
 * Bulk walks: WALK_LANES queries' paths at a time through batch_walk (their
 * misses overlap), then each query's matches in order. A query with
 * entries above it (cov(x) != 0) that asks for covering matches takes them
 * from best(x) when that one node holds them all, else from the iterator's
 * path walk; every other one has none, so its matches are the range under
 * r straight away, exactly what the iterator gives.
 */
int cs_query_walk_bulk(const cs_snapshot *s, const cs_prefix *qs, size_t n,
                       unsigned kind, cs_bulk_match_fn cb, void *ctx)
{
    if (!s || !cb || (n && !qs) || !valid_kind(kind))
        return CS_EINVAL;
    const cs_famview *fv[2] = {snap_family(s, 0), snap_family(s, 1)};
    const snap_direct *dx = snap_direct_for(s, families_of(qs, n), n);
    lane lanes[WALK_LANES];
    uint8_t fams[WALK_LANES];
    for (size_t base = 0; base < n; base += WALK_LANES) {
        const unsigned m = n - base < WALK_LANES ? (unsigned)(n - base) : WALK_LANES;
        const uint32_t live = batch_walk(fv, dx, qs + base, m, lanes, fams);
        /* The ranges are read in node order: bring in the first lines of
         * every lane's range (cold and hot records) before reading any. */
        for (uint32_t b = live; b; b &= b - 1) {
            const unsigned l = (unsigned)__builtin_ctz(b);
            const uint32_t r = lanes[l].r, x = lanes[l].x;
            const cs_famview *f = fv[fams[l]];
            const uint32_t bx = x != CS_NO_NODE ? snap_best(f->cold, x) : CS_NO_NODE;
            if (bx != CS_NO_NODE && (kind & CS_Q_COVERING)) /* cov(x) != 0 */
                prefetch(&f->values[f->cold[bx].ent_begin]);
            if (r == CS_NO_NODE)
                continue;
            uint32_t k = f->cold[r].ent_end - f->cold[r].ent_begin;
            k = k < 16 ? k : 16;
            if (k > f->n_nodes - 1 - r)
                k = f->n_nodes - 1 - r; /* stay inside the arrays */
            for (uint32_t j = 0; j <= k; j += 4)
                prefetch(&f->cold[r + j]);
            prefetch(&f->values[f->cold[r].ent_begin]);
            if (fams[l])
                for (uint32_t j = 0; j <= k; j += 2)
                    prefetch(&f->hot6[r + j]);
            else
                for (uint32_t j = 0; j <= k; j += 4)
                    prefetch(&f->hot4[r + j]);
        }
        for (uint32_t b = live; b; b &= b - 1) {
            const unsigned l = (unsigned)__builtin_ctz(b);
            const lane *L = &lanes[l];
            const cs_famview *f = fv[fams[l]];
            const uint32_t cov_x = L->x != CS_NO_NODE ? snap_cov(f->cold, L->x) : 0;
            cs_match mt;
            if (cov_x && (kind & CS_Q_COVERING)) {
                /* The common case, one stored prefix above Q (a /56 block
                 * over a /64 query): best(x) holds every covering entry,
                 * so it is the only covering match; else the iterator's
                 * path walk gives them all, and what is inside Q. */
                const uint32_t best = snap_best(f->cold, L->x), first = f->cold[best].ent_begin;
                const uint32_t own_end = snap_own_end(f, fams[l], best);
                if (own_end - first == cov_x) {
                    fill_match(f, fams[l], best, first, own_end, CS_REL_COVERS, &mt);
                    int rc = cb(base + l, &mt, ctx);
                    if (rc)
                        return rc;
                } else {
                    cs_query_iter it;
                    cs_query_iter_init(&it, s, &qs[base + l], kind);
                    while (cs_query_iter_next(&it, &mt) > 0) {
                        int rc = cb(base + l, &mt, ctx);
                        if (rc)
                            return rc;
                    }
                    continue;
                }
            }
            /* as iter_path_over: everything under r, or r's own entries */
            const uint32_t r = L->r;
            if (r == CS_NO_NODE)
                continue;
            uint32_t ent_end;
            if (kind & CS_Q_COVERED)
                ent_end = f->cold[r].ent_end;
            else if (snap_len(f, fams[l], r) == L->qlen)
                ent_end = f->cold[r].ent_begin + (snap_cov(f->cold, r) - cov_x);
            else
                continue;
            uint32_t node = r;
            while (range_next(f, fams[l], L->qlen, &node, ent_end, &mt)) {
                int rc = cb(base + l, &mt, ctx);
                if (rc)
                    return rc;
            }
        }
    }
    return 0;
}

/* ---- the pair count ------------------------------------------------------------ */

/*
 * Twice the overlapping entry pairs of one family. Node i (DFS preorder)
 * holds own = b(i + 1) - b(i) entries (b = ent_begin; the last node, a
 * leaf, holds its whole range) and has e(i) - b(i + 1) entries strictly
 * below it, so its pairs are own (own - 1) / 2 + own (e(i) - b(i + 1)): a
 * glue node's are 0 whatever the second factor. Summed doubled, each
 * product is of two 32-bit numbers, which the compiler vectorises
 * (pmuludq) over the sequential records; no branch, so the glue of a
 * sparse estate costs what its neighbours do.
 */
static uint64_t pairs_twice(const cs_cold *c, uint32_t n)
{
    if (n == 0)
        return 0;
    uint64_t same = 0, below = 0;
    for (uint32_t i = 0; i + 1 < n; i++) {
        const uint32_t ob = c[i + 1].ent_begin, own = ob - c[i].ent_begin;
        same += (uint64_t)own * (uint32_t)(own - 1u);
        below += (uint64_t)own * (c[i].ent_end - ob);
    }
    const uint32_t own = c[n - 1].ent_end - c[n - 1].ent_begin;
    same += (uint64_t)own * (uint32_t)(own - 1u);
    return same + 2 * below;
}

int cs_query_count_pairs(const cs_snapshot *s, uint8_t family, uint64_t *pairs)
{
    if (!s || !pairs || (family && family != CS_AF_V4 && family != CS_AF_V6))
        return CS_EINVAL;
    uint64_t twice = 0;
    for (unsigned f = 0; f < 2; f++)
        if (!family || cs_family_index(family) == f) {
            const cs_famview *v = snap_family(s, f);
            twice += pairs_twice(v->cold, v->n_nodes);
        }
    *pairs = twice / 2;
    return 0;
}

/* ---- read-side primitives (walk_internal.h) -------------------------------- */

static void fill_wnode(const cs_famview *f, unsigned fam, uint32_t i, cs_wnode *out)
{
    out->prefix = snap_node_prefix(f, fam, i);
    out->node = i;
    out->ent_begin = f->cold[i].ent_begin;
    out->own_end = snap_own_end(f, fam, i);
    out->ent_end = f->cold[i].ent_end;
    out->up = CS_NO_NODE;
    out->depth = 0;
}

const uint32_t *cs_walk_values(const cs_snapshot *s, unsigned fam, uint32_t *n_entries)
{
    const cs_famview *f = snap_family(s, fam);
    if (n_entries)
        *n_entries = f->n_entries;
    return f->values;
}

void cs_walk_entry_node(const cs_snapshot *s, unsigned fam, uint32_t e, cs_wnode *out)
{
    const cs_famview *f = snap_family(s, fam);
    fill_wnode(f, fam, snap_entry_node(f, e), out);
}

uint32_t cs_walk_covered(const cs_snapshot *s, const cs_prefix *q, uint32_t *begin,
                         uint32_t *end)
{
    *begin = *end = 0;
    if (!valid_query(q))
        return CS_NO_NODE;
    const unsigned fam = cs_family_index(q->family);
    const cs_famview *f = snap_family(s, fam);
    lane L;
    if (lane_start(s, f, fam, &L, q))
        lane_run(f, fam, &L);
    if (L.r == CS_NO_NODE)
        return CS_NO_NODE;
    *begin = f->cold[L.r].ent_begin;
    *end = f->cold[L.r].ent_end;
    return L.r;
}

unsigned cs_walk_covering(const cs_snapshot *s, const cs_prefix *q, cs_wnode *out,
                          unsigned cap)
{
    if (!valid_query(q))
        return 0;
    const unsigned fam = cs_family_index(q->family);
    const cs_famview *f = snap_family(s, fam);
    if (f->n_nodes == 0)
        return 0;
    lane L;
    lane_init(&L, q);
    unsigned count = 0;
    uint32_t prev_cov = 0, up = CS_NO_NODE;
    for (;;) {
        const uint32_t i = L.i, x_before = L.x;
        const uint32_t next = lane_step(f, fam, &L);
        uint32_t hit = CS_NO_NODE;
        if (L.x != x_before) { /* i strictly contains Q */
            if (snap_cov(f->cold, i) != prev_cov)
                hit = i;
            prev_cov = snap_cov(f->cold, i);
        } else if (L.r == i && snap_len(f, fam, i) == L.qlen && snap_cov(f->cold, i) != prev_cov) {
            hit = i; /* Q itself */
        }
        if (hit != CS_NO_NODE) {
            if (count < cap) {
                fill_wnode(f, fam, hit, &out[count]);
                out[count].up = up;
                out[count].depth = count + 1;
            }
            up = hit;
            count++;
        }
        if (!next)
            return count;
    }
}

void cs_walk_visit_init(cs_wvisit *v, const cs_snapshot *s, unsigned fam,
                        const cs_prefix *within)
{
    v->f = snap_family(s, fam);
    v->fam = fam;
    v->n = v->f->n_nodes;
    v->sp = 0;
    v->i = 0;
    v->end_ent = v->f->n_entries;
    if (within) {
        uint32_t b, e;
        uint32_t r = cs_walk_covered(s, within, &b, &e);
        if (r == CS_NO_NODE || cs_family_index(within->family) != fam) {
            v->i = v->n;
            return;
        }
        v->i = r;
        v->end_ent = e;
    }
}

int cs_walk_visit_next(cs_wvisit *v, cs_wnode *out)
{
    const cs_cold *cold = v->f->cold;
    while (v->i < v->n) {
        const uint32_t i = v->i++;
        const uint32_t b = cold[i].ent_begin;
        if (b >= v->end_ent) {
            v->i = v->n;
            return 0;
        }
        /* Node i + 1, when there is one, is i's first child or the next
         * subtree: either way its entries start where i's own end. */
        const uint32_t oe = i + 1 < v->n ? cold[i + 1].ent_begin : cold[i].ent_end;
        if (oe == b)
            continue;
        while (v->sp && b >= v->st_end[v->sp - 1])
            v->sp--;
        out->prefix = snap_node_prefix(v->f, v->fam, i);
        out->node = i;
        out->ent_begin = b;
        out->own_end = oe;
        out->ent_end = cold[i].ent_end;
        out->up = v->sp ? v->st_node[v->sp - 1] : CS_NO_NODE;
        out->depth = v->sp ? v->st_depth[v->sp - 1] + 1 : 1;
        if (v->sp < 130) {
            v->st_node[v->sp] = i;
            v->st_end[v->sp] = cold[i].ent_end;
            v->st_depth[v->sp] = out->depth;
            v->sp++;
        }
        return 1;
    }
    return 0;
}
