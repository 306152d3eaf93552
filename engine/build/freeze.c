/*
 * engine/build/freeze.c — the sorted freeze: a family's trie arrays written
 * straight into the image from its entries sorted by prefix.
 *
 * Does: plan the trie's shape (node and prefix counts, glue nodes) and
 * write the HOT and COLD arrays into the sections the image writer
 * (engine/image/snapshot.c, cs_image_build_*) allocated. Does not: know the
 * image's header, section table or checksums (the writer does), hold
 * entries (the snapshot builder, engine/build/snapshot_builder.c, and the
 * estate freeze, engine/build/estate_freeze.c, do), or answer queries.
 *
 * Memory: the write works in place; the plan's only scratch is its glue
 * list. Single-threaded. Tests: tests/test_snapshot.c, tests/test_trie.c.
 *
 * The freeze (cs_freeze_plan / cs_freeze_write) makes a trie's frozen arrays
 * with no build-side trie at all, from one family's entries sorted by
 * (prefix, value) (a 5M-entry build-side trie is ~300 MB of scratch it
 * never allocates). A Patricia trie's preorder is the order of its nodes'
 * (key, length), so the sorted entries already are the stored nodes in
 * preorder; what is missing are the glue nodes, where two neighbours
 * diverge below the last node that contains both (10.0.0.0/24 and
 * 10.0.1.0/24 meet in glue 10.0.0.0/23).
 * The plan finds them with a stack of the current path (each glue is met
 * after its left subtree, so it is recorded as (first entry of that
 * subtree, length) and placed before that entry); the write walks entries
 * and glues in one merged preorder with a stack of ancestors. The result is
 * byte for byte a pointer trie's preorder freeze (tests/test_trie.c and
 * tests/test_snapshot.c compare them on random and real prefix sets).
 */
#include "build/freeze_internal.h"

#include "core/error_internal.h"
#include "core/key_internal.h"
#include "core/sort_internal.h"

#include <stdlib.h>
#include <string.h>

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

/* ---- sorted freeze --------------------------------------------------------- */

/* The prefix of entry e (its value read through the caller's accessor). */
static cs_prefix fam_prefix(const cs_freeze_family *f, uint32_t e)
{
    cs_prefix p;
    f->prefix_of(f->ctx, f->values[e], &p);
    return p;
}

/* Same prefix? (One family: the keys and lengths say it, inline.) */
static inline bool same_prefix(const cs_prefix *a, const cs_prefix *b)
{
    return a->hi == b->hi && a->lo == b->lo && a->len == b->len;
}

/* Does (hi, lo, len) contain (qhi, qlo, qlen)? */
static bool key_contains(uint64_t hi, uint64_t lo, unsigned len, uint64_t qhi, uint64_t qlo,
                         unsigned qlen)
{
    return len <= qlen && cs_key_common_bits(hi, lo, qhi, qlo, len) == len;
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
        if (e && same_prefix(&prev, &p))
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
    uint64_t *tmp = malloc(((size_t)n_glue + 1) * sizeof *tmp);
    if (!tmp) {
        free(glue);
        return cs_fail(err, CS_ENOMEM, "out of memory planning the freeze");
    }
    cs_sort_u64(glue, tmp, n_glue);
    free(tmp);
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
                if (!same_prefix(&p, &q))
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
        uint32_t up_cov = parent == CS_NO_NODE ? 0 : snap_cov(cold, parent);
        uint32_t up_best = parent == CS_NO_NODE ? CS_NO_NODE : snap_best(cold, parent);
        cold[k] = (cs_cold){.ent_begin = e, .ent_end = e + own,
                            .path = cs_image_build_path(k, up_cov + own, own ? k : up_best)};
        st[sp++] = k++;
        e += own;
    }
    subtree_ends(hot4, hot6, cold, k);
}
