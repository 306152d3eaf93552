/*
 * engine/build/freeze.c — the snapshot builder: two build-side tries (one
 * per family, engine/build/trie.c) and their freeze into an image.
 *
 * Does: accept canonical (prefix, value) entries, answer exact finds, and
 * freeze: number the nodes in DFS preorder and write the HOT, COLD and VALUES
 * arrays straight into the sections the image writer
 * (engine/image/snapshot.c, cs_image_build_*) allocated, then let it seal
 * and open the image. Does not: know the image's header, section table or
 * checksums (the writer does), or answer queries.
 *
 * Memory: the freeze writes in place; its only scratch is two u32 arrays of
 * the larger family's node count. Single-threaded. Tests:
 * tests/test_snapshot.c, tests/test_trie.c.
 *
 * The SORTED freeze (cs_freeze_plan / cs_freeze_write) makes the same arrays
 * with no build-side trie at all, from one family's entries sorted by
 * (prefix, value) (the estate freeze's path, engine/build/estate_freeze.c:
 * a 5M-entry trie is ~300 MB of scratch it never allocates). A Patricia
 * trie's preorder is the order of its nodes' (key, length), so the sorted
 * entries already are the stored nodes in preorder; what is missing are
 * the glue nodes, where two neighbours diverge below the last node that
 * contains both (10.0.0.0/24 and 10.0.1.0/24 meet in glue 10.0.0.0/23).
 * The plan finds them with a stack of the current path (each glue is met
 * after its left subtree, so it is recorded as (first entry of that
 * subtree, length) and placed before that entry); the write walks entries
 * and glues in one merged preorder with a stack of ancestors. The result is
 * byte for byte the trie freeze's (tests/test_snapshot.c compares them on
 * random and real prefix sets).
 */
#include "build/freeze_internal.h"

#include "build/trie_internal.h"
#include "core/error_internal.h"
#include "core/key_internal.h"

#include <stdlib.h>
#include <string.h>

struct cs_snapshot_builder {
    cs_trie trie[2];
    int failed;       /* an allocation failed: refuse everything but _free */
};

cs_snapshot_builder *cs_snapshot_builder_new(void)
{
    cs_snapshot_builder *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    trie_init(&b->trie[0], 32);
    trie_init(&b->trie[1], 128);
    return b;
}

void cs_snapshot_builder_free(cs_snapshot_builder *b)
{
    if (!b)
        return;
    trie_release(&b->trie[0]);
    trie_release(&b->trie[1]);
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
    uint64_t hi = p->hi, lo = p->lo;
    cs_key_truncate(&hi, &lo, p->len);
    return hi == p->hi && lo == p->lo;
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
    int rc = trie_insert(&b->trie[cs_family_index(p->family)], p, value);
    if (rc == CS_ENOMEM) {
        b->failed = 1;
        return cs_fail(err, rc, "out of memory adding entry %llu",
                       (unsigned long long)cs_snapshot_builder_entries(b) + 1);
    }
    if (rc)
        return cs_fail(err, rc, "more than 2^32-2 entries or nodes in one family");
    return 0;
}

int64_t cs_snapshot_builder_find(const cs_snapshot_builder *b, const cs_prefix *p)
{
    if (!b || !p || !prefix_canonical(p))
        return CS_EINVAL;
    const cs_trie *t = &b->trie[cs_family_index(p->family)];
    uint32_t n = trie_find(t, p);
    return n == TRIE_NONE ? 0 : t->nodes[n].n_entries;
}

uint64_t cs_snapshot_builder_entries(const cs_snapshot_builder *b)
{
    return b ? (uint64_t)b->trie[0].n_ents + b->trie[1].n_ents : 0;
}

/* ---- freeze ------------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Extends each node's ent_end (its own entries so far) to its subtree's:
 * children have higher preorder indices than their parent, so one reverse
 * sweep sees every child's final end before its parent's. */
static void subtree_ends(const cs_hot4 *hot4, const cs_hot6 *hot6, cs_cold *cold, uint32_t nn)
{
    for (uint32_t j = nn; j-- > 0;) {
        uint32_t right = hot4 ? hot4[j].right : hot6[j].right;
        uint8_t flags = hot4 ? hot4[j].flags : hot6[j].flags;
        if (right)
            cold[j].ent_end = cold[right].ent_end;
        else if (flags & CS_FN_LEFT)
            cold[j].ent_end = cold[j + 1].ent_end;
    }
}

/*
 * Writes one family's HOT, COLD and VALUES arrays into their
 * sections (hot4 for IPv4, hot6 for IPv6; the arrays come zeroed). `order`
 * and `fill` are scratch of the builder's node count. The DFS uses an
 * explicit stack: a Patricia path has at most 129 nodes, with at most one
 * pending right sibling per level.
 */
static void freeze_family(const cs_trie *t, cs_hot4 *hot4, cs_hot6 *hot6,
                          cs_cold *cold, uint32_t *values, uint32_t *order, uint32_t *fill)
{
    struct { uint32_t node, parent; } stack[2 * 130];
    unsigned sp = 0;
    uint32_t k = 0, ent = 0;
    if (t->root != TRIE_NONE) {
        stack[sp].node = t->root;
        stack[sp++].parent = CS_NO_NODE;
    }
    /* Pass 1, preorder: numbering, keys, own entry offsets, and the path
     * sums (a parent is numbered before its children). */
    while (sp) {
        sp--;
        uint32_t i = stack[sp].node, parent = stack[sp].parent;
        const trie_node *n = &t->nodes[i];
        order[i] = k;
        uint8_t flags = n->child[0] != TRIE_NONE ? CS_FN_LEFT : 0;
        if (hot4) {
            hot4[k].key = (uint32_t)(n->hi >> 32);
            hot4[k].len = n->len;
            hot4[k].flags = flags;
        } else {
            hot6[k].key_hi = n->hi;
            hot6[k].key_lo = n->lo;
            hot6[k].len = n->len;
            hot6[k].flags = flags;
        }
        cs_cold *c = &cold[k];
        c->ent_begin = ent;
        fill[k] = ent; /* where this node's values go */
        ent += n->n_entries;
        c->ent_end = ent; /* own entries; extended to the subtree below */
        uint32_t up_cov = parent == CS_NO_NODE ? 0 : cold[parent].cov;
        uint32_t up_best = parent == CS_NO_NODE ? CS_NO_NODE : cold[parent].best;
        c->cov = up_cov + n->n_entries;
        c->best = n->n_entries ? k : up_best;
        if (n->child[1] != TRIE_NONE) {
            stack[sp].node = n->child[1];
            stack[sp++].parent = k;
        }
        if (n->child[0] != TRIE_NONE) {
            stack[sp].node = n->child[0];
            stack[sp++].parent = k;
        }
        k++;
    }
    uint32_t nn = k;
    /* Pass 2: right-child links become preorder indices. */
    for (uint32_t i = 1; i < t->n_nodes; i++) {
        const trie_node *n = &t->nodes[i];
        if (n->child[1] != TRIE_NONE) {
            if (hot4)
                hot4[order[i]].right = order[n->child[1]];
            else
                hot6[order[i]].right = order[n->child[1]];
        }
    }
    subtree_ends(hot4, hot6, cold, nn);
    /* Pass 3: scatter values by node (stable), then sort within a node. */
    for (uint32_t e = 0; e < t->n_ents; e++) {
        uint32_t j = order[t->ents[e].node];
        uint32_t at = fill[j]++;
        values[at] = t->ents[e].value;
    }
    for (uint32_t j = 0; j < nn; j++) {
        uint32_t b = cold[j].ent_begin, n = fill[j] - b;
        if (n > 1)
            qsort(values + b, n, sizeof *values, cmp_u32);
    }
}

int cs_snapshot_build_image(const cs_snapshot_builder *b,
                            const cs_section_blob *extra, size_t n_extra,
                            cs_snapshot **out, cs_error *err)
{
    if (!b || !out)
        return cs_fail(err, CS_EINVAL, "NULL builder or out");
    if (b->failed)
        return cs_fail(err, CS_ESTATE, "builder failed earlier; only _free is allowed");
    cs_image_counts counts;
    for (int f = 0; f < 2; f++) {
        counts.nodes[f] = b->trie[f].n_nodes - 1;
        counts.entries[f] = b->trie[f].n_ents;
        counts.prefixes[f] = b->trie[f].n_prefixes;
    }
    size_t scratch_n = b->trie[0].n_nodes > b->trie[1].n_nodes ? b->trie[0].n_nodes
                                                                : b->trie[1].n_nodes;
    uint32_t *order = malloc(scratch_n * sizeof *order);
    uint32_t *fill = malloc(scratch_n * sizeof *fill);
    if (!order || !fill) {
        free(order);
        free(fill);
        return cs_fail(err, CS_ENOMEM, "out of memory for the freeze's scratch");
    }
    cs_image_draft d;
    int rc = cs_image_build_begin(&d, &counts, extra, n_extra, 0, err);
    if (rc == 0) {
        for (int f = 0; f < 2; f++)
            freeze_family(&b->trie[f], f ? NULL : d.hot4, f ? d.hot6 : NULL, d.cold[f],
                          d.values[f], order, fill);
    }
    free(order);
    free(fill);
    return rc ? rc : cs_image_build_seal(&d, out, err);
}

/* ---- sorted freeze --------------------------------------------------------- */

/* The prefix of entry e (its value read through the caller's accessor). */
static cs_prefix fam_prefix(const cs_freeze_family *f, uint32_t e)
{
    cs_prefix p;
    f->prefix_of(f->ctx, f->values[e], &p);
    return p;
}

/* Does (hi, lo, len) contain (qhi, qlo, qlen)? */
static bool key_contains(uint64_t hi, uint64_t lo, unsigned len, uint64_t qhi, uint64_t qlo,
                         unsigned qlen)
{
    return len <= qlen && cs_key_common_bits(hi, lo, qhi, qlo, len) == len;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Packs the sorted glue list in place (the format: freeze_internal.h) and
 * gives the rest of the buffer back. Glue g is read before anything is
 * written past byte 6g + 6 <= 8(g + 1) (a varint of a u32 is at most 5
 * bytes), so no unread glue is overwritten. */
static uint8_t *pack_glue(uint64_t *glue, uint32_t n)
{
    uint8_t *out = (uint8_t *)glue;
    size_t w = 0;
    uint32_t prev = 0;
    for (uint32_t g = 0; g < n; g++) {
        uint64_t x;
        memcpy(&x, out + (size_t)g * 8, 8);
        uint32_t e = (uint32_t)(x >> 8), delta = e - prev;
        prev = e;
        while (delta >= 0x80) {
            out[w++] = (uint8_t)(delta | 0x80);
            delta >>= 7;
        }
        out[w++] = (uint8_t)delta;
        out[w++] = (uint8_t)(x & 0xff);
    }
    uint8_t *shrunk = realloc(out, w ? w : 1);
    return shrunk ? shrunk : out;
}

/* The next glue of a packed list at *pos: its entry (advancing *entry by
 * the stored distance) and its length. */
static unsigned unpack_glue(const uint8_t *glue, size_t *pos, uint32_t *entry)
{
    uint32_t delta = 0;
    for (unsigned shift = 0;; shift += 7) {
        uint8_t b = glue[(*pos)++];
        delta |= (uint32_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
    }
    *entry += delta;
    return glue[(*pos)++];
}

int cs_freeze_plan(cs_freeze_family *f, cs_error *err)
{
    f->nodes = f->prefixes = f->n_glue = 0;
    f->glue = NULL;
    if (f->n == 0)
        return 0;
    /* At most one glue per distinct prefix after the first. */
    uint64_t *glue = malloc((size_t)f->n * sizeof *glue);
    if (!glue)
        return cs_fail(err, CS_ENOMEM, "out of memory planning the freeze");
    struct { uint64_t hi, lo; uint32_t first; uint8_t len; } st[130];
    unsigned sp = 0;
    uint32_t n_glue = 0, prefixes = 0;
    cs_prefix prev = {0};
    for (uint32_t e = 0; e < f->n; e++) {
        cs_prefix p = fam_prefix(f, e);
        if (e && cs_prefix_compare(&prev, &p) == 0)
            continue; /* another entry of the same node */
        prev = p;
        prefixes++;
        bool popped = false;
        uint64_t lhi = 0, llo = 0;
        unsigned llen = 0;
        uint32_t lfirst = 0;
        while (sp && !key_contains(st[sp - 1].hi, st[sp - 1].lo, st[sp - 1].len, p.hi, p.lo,
                                   p.len)) {
            sp--;
            popped = true;
            lhi = st[sp].hi, llo = st[sp].lo, llen = st[sp].len, lfirst = st[sp].first;
        }
        if (popped) {
            /* p sorts after the closed subtree and is not inside it, nor
             * does it contain it: they diverge at bit d, below the node
             * that contains both (which is the branch itself when d is its
             * length). */
            unsigned lim = llen < p.len ? llen : p.len;
            unsigned d = cs_key_common_bits(lhi, llo, p.hi, p.lo, lim);
            if (!sp || st[sp - 1].len != d) {
                uint64_t ghi = p.hi, glo = p.lo;
                cs_key_truncate(&ghi, &glo, d);
                glue[n_glue++] = (uint64_t)lfirst << 8 | d;
                st[sp].hi = ghi, st[sp].lo = glo, st[sp].len = (uint8_t)d, st[sp].first = lfirst;
                sp++;
            }
        }
        st[sp].hi = p.hi, st[sp].lo = p.lo, st[sp].len = p.len, st[sp].first = e;
        sp++;
    }
    /* Preorder among glues: by the entry they precede, the outer (shorter)
     * one first. */
    qsort(glue, n_glue, sizeof *glue, cmp_u64);
    if ((uint64_t)prefixes + n_glue >= CS_NO_NODE) {
        free(glue);
        return cs_fail(err, CS_ERANGE, "more than 2^32-2 nodes in one family");
    }
    f->glue = pack_glue(glue, n_glue);
    f->n_glue = n_glue;
    f->prefixes = prefixes;
    f->nodes = prefixes + n_glue;
    return 0;
}

void cs_freeze_write(const cs_freeze_family *f, cs_hot4 *hot4, cs_hot6 *hot6, cs_cold *cold)
{
    uint32_t st[130];
    unsigned sp = 0;
    uint32_t k = 0, g = 0;
    /* the next glue: before entry g_entry, of length g_len */
    size_t g_pos = 0;
    uint32_t g_entry = 0;
    unsigned g_len = f->n_glue ? unpack_glue(f->glue, &g_pos, &g_entry) : 0;
    for (uint32_t e = 0; e < f->n || g < f->n_glue;) {
        /* The next node in preorder: a glue placed before entry e, or the
         * node of entries e.. */
        bool is_glue = g < f->n_glue && g_entry == e;
        cs_prefix p = fam_prefix(f, e);
        uint32_t own = 0;
        if (is_glue) {
            unsigned d = g_len;
            if (++g < f->n_glue)
                g_len = unpack_glue(f->glue, &g_pos, &g_entry);
            cs_key_truncate(&p.hi, &p.lo, d);
            p.len = (uint8_t)d;
        } else {
            own = 1;
            while (e + own < f->n) {
                cs_prefix q = fam_prefix(f, e + own);
                if (cs_prefix_compare(&p, &q) != 0)
                    break;
                own++;
            }
        }
        /* Its parent: the deepest node on the stack that contains it. */
        while (sp) {
            uint32_t t = st[sp - 1];
            uint64_t thi = hot4 ? (uint64_t)hot4[t].key << 32 : hot6[t].key_hi;
            uint64_t tlo = hot4 ? 0 : hot6[t].key_lo;
            unsigned tlen = hot4 ? hot4[t].len : hot6[t].len;
            if (key_contains(thi, tlo, tlen, p.hi, p.lo, p.len)) {
                if (cs_key_bit(p.hi, p.lo, tlen) == 0) {
                    if (hot4)
                        hot4[t].flags |= CS_FN_LEFT; /* k == t + 1 */
                    else
                        hot6[t].flags |= CS_FN_LEFT;
                } else if (hot4) {
                    hot4[t].right = k;
                } else {
                    hot6[t].right = k;
                }
                break;
            }
            sp--;
        }
        uint32_t parent = sp ? st[sp - 1] : CS_NO_NODE;
        if (hot4)
            hot4[k] = (cs_hot4){.key = (uint32_t)(p.hi >> 32), .len = p.len};
        else
            hot6[k] = (cs_hot6){.key_hi = p.hi, .key_lo = p.lo, .len = p.len};
        uint32_t up_cov = parent == CS_NO_NODE ? 0 : cold[parent].cov;
        uint32_t up_best = parent == CS_NO_NODE ? CS_NO_NODE : cold[parent].best;
        cold[k] = (cs_cold){.ent_begin = e, .ent_end = e + own, .cov = up_cov + own,
                            .best = own ? k : up_best};
        st[sp++] = k++;
        e += own;
    }
    subtree_ends(hot4, hot6, cold, k);
}

int cs_snapshot_builder_freeze(const cs_snapshot_builder *b, cs_snapshot **out,
                               cs_error *err)
{
    return cs_snapshot_build_image(b, NULL, 0, out, err);
}
