/*
 * engine/image/snapshot.c — the image format: writing, opening, validating.
 *
 * Does: lay out one flat, position-independent, read-only image from the
 * arrays the build side fills (engine/build/freeze.c calls the writer,
 * cs_image_build_*; this file never calls the build side); open an image
 * from a heap buffer or caller memory (shm) after checking every bound.
 * Files and streams (atomic writes, reading whole) are snapshot_file.c's; the
 * header and section records are in snapshot_format_internal.h. Does not:
 * answer queries
 * (engine/query/query.c), or know the estate's tables beyond carrying them as
 * extra sections (their content is validated by engine/image/estate_image.c).
 *
 * IMAGE FORMAT (version 3; version 2 had 16-byte cs_cold records {ent_begin,
 * ent_end, cov, best}, version 1 also 16-byte cs_hot4 records and the
 * ENTNODE sections 7 and 8; both are refused with CS_EVERSION). All fields
 * little-endian, fixed width; the
 * header's byte_order field holds 0x01020304 so a big-endian reader refuses
 * the image (CS_EVERSION). Sections start on 64-byte boundaries.
 *
 * Header, at offset 0 (128 bytes):
 *   OFFSET SIZE FIELD
 *        0    8 magic "CIDRSCP\0"
 *        8    4 format_version (3)
 *       12    4 header_len (128)
 *       16    4 byte_order (0x01020304)
 *       20    2 hot4_record_len (12, sizeof cs_hot4)
 *       22    2 section_record_len (32)
 *       24    2 value_record_len (4)
 *       26    2 section_align (64)
 *       28    4 section_count
 *       32    8 generation (set by the shm publisher; 0 after a freeze)
 *       40    8 created_unix
 *       48    8 image_len (bytes, a multiple of 64)
 *       56    8 entries[2] (u32 each: IPv4, IPv6)
 *       64    8 prefixes[2] (u32 each)
 *       72    8 nodes[2] (u32 each)
 *       80    4 flags (bit 0: estate tables present)
 *       84    2 hot6_record_len (24, sizeof cs_hot6)
 *       86    2 cold_record_len (12, sizeof cs_cold)
 *       88    8 section_table_off (128)
 *       96    8 header_xxh3: XXH3-64 of bytes [0, 96) and of the section
 *                table, with generation read as 0 (so a publisher can stamp
 *                a generation without rehashing the image)
 *      104   24 reserved (0)
 *
 * Every byte not in a field or a section (reserved fields, the padding
 * before each 64-byte aligned section and after the last one) must be zero:
 * with the checksums, that makes any single flipped bit outside `generation`
 * a refused image. Sections are laid out in table order.
 *
 * Section table, at section_table_off, section_count records of 32 bytes:
 *   OFFSET SIZE FIELD
 *        0    4 id (CS_SEC_*; unique)
 *        4    4 reserved (0)
 *        8    8 offset (from image start; multiple of 64)
 *       16    8 length (bytes)
 *       24    8 xxh3 (XXH3-64 of the section bytes)
 *
 * Core sections, per family f (v4, v6), node records in DFS preorder
 * (engine/image/snapshot_internal.h has the records):
 *   HOT_f      the search records: cs_hot4 {key u32, right u32, len u8,
 *              flags u8, pad[2]} (12 bytes) or cs_hot6 {key_hi u64, key_lo u64,
 *              right u32, len u8, flags u8, pad} (24 bytes). Left child =
 *              next node; right child at `right`.
 *   COLD_f     cs_cold {ent_begin, ent_end, path} (12 bytes): the
 *              subtree's entry range [ent_begin, ent_end), and `path`: for a
 *              node with entries of its own, cov = the entries at this node
 *              and all its ancestors (bit 31 clear); for a node without,
 *              0x80000000 | best, best = the deepest ancestor with entries
 *              (longest-prefix match; its cov is this node's), or
 *              0xffffffff if none (cov 0). At most 2^31 - 1 nodes and
 *              entries per family.
 *   VALUES_f   u32[entries[f]]: entry values, grouped by node in preorder,
 *              ascending within one node (so the image does not depend on
 *              insertion order). An entry's node (its prefix) is the last
 *              node whose ent_begin is <= the entry (snap_entry_node): own
 *              ranges follow each other in preorder, so it is not stored.
 *
 * Invariants checked at open (a failure is CS_ECORRUPT): every section inside
 * the image, aligned, non-overlapping with the header; record counts match
 * section lengths; every child index is greater than its parent's and in
 * range; a child is longer than its parent, agrees with it on the parent's
 * bits and continues with the right bit; no key has bits past its length;
 * entry ranges nest exactly (parent = own + left + right); `path` equals its
 * definition. Queries may then
 * walk the arrays with no further checks and always terminate.
 *
 * The estate's sections are validated by cs_estate_image_validate
 * (engine/image/estate_image.c, which documents their format) as part of every
 * open, heap images included.
 *
 * Concurrency: an image is immutable once built; any number of threads and
 * processes read it. Tests: tests/test_snapshot.c, tests/fuzz/fuzz_snapshot.c.
 */
#include "image/snapshot_internal.h"

#include "core/error_internal.h"
#include "core/key_internal.h"
#include "image/direct_blob_internal.h"
#include "image/estate_image_internal.h"
#include "image/pages_internal.h"
#include "image/snapshot_format_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include <xxhash.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "cidrscope images are little-endian; this build targets a big-endian CPU"
#endif



enum { CS_HDR_ESTATE = 1u };
enum { SNAP_HEAP, SNAP_MMAP, SNAP_MEMORY, SNAP_PAGES };

struct cs_snapshot {
    const uint8_t *base;
    size_t len;       /* bytes mapped or allocated */
    int kind;
    const cs_header *hdr;
    const cs_section *sections;
    cs_famview fam[2];
    snap_direct dx;   /* direct indexes (direct.c): a publisher's blob, or
                         the families derived so far (snap_direct_for) */
    bool dx_borrowed; /* dx points into a publisher's blob: not ours */
    /* dx is built per family by the queries that need it, not at open: a
     * build that only writes its image (`cidrscope build -o`, freeze in the
     * benchmarks), an audit or a short run never pays for it. Builders
     * take dx_lock and write dx, then dx_view[m], a copy of dx holding the
     * families in m, then publish m in dx_built (release); readers load
     * dx_built (acquire) and read dx_view[dx_built] only, which is never
     * written again. dx_asked[f] counts the queries walked without family
     * f's index. */
    snap_direct dx_view[4];
    atomic_uint dx_built;
    atomic_size_t dx_asked[2];
    pthread_mutex_t dx_lock;
    /* snap_derived's objects and, once published, how to release each */
    _Atomic(void *) derived[SNAP_DERIVED_COUNT];
    void (*derived_release[SNAP_DERIVED_COUNT])(void *);
};

/* ---- writer --------------------------------------------------------------- */

/* The header checksum: bytes [0, 96) with generation read as 0, then the
 * section table. One function for the writer and the reader. */
static uint64_t header_hash(const cs_header *h, const cs_section *st, size_t n)
{
    XXH3_state_t s;
    XXH3_64bits_reset(&s);
    cs_header tmp = *h;
    tmp.generation = 0;
    XXH3_64bits_update(&s, &tmp, offsetof(cs_header, header_xxh3));
    XXH3_64bits_update(&s, st, n * sizeof(cs_section));
    return XXH3_64bits_digest(&s);
}

int cs_image_build_begin(cs_image_draft *d, const cs_image_counts *c,
                         const cs_section_blob *extra, size_t n_extra,
                         unsigned flags, cs_error *err)
{
    memset(d, 0, sizeof *d);
    if (!c || (n_extra && !extra))
        return cs_fail(err, CS_EINVAL, "NULL counts or extra sections");
    if (n_extra > CS_MAX_SECTIONS - CS_SEC_CORE_LAST || n_extra > CS_DRAFT_MAX_EXTRA)
        return cs_fail(err, CS_ERANGE, "too many extra sections");
    /* Core sections first, in id order: ids 1..6 at table slots 0..5. */
    const size_t ncore = CS_SEC_CORE_LAST;
    size_t nsec = ncore + n_extra;
    uint64_t sec_len[CS_MAX_SECTIONS];
    uint32_t sec_id[CS_MAX_SECTIONS];
    for (int f = 0; f < 2; f++) {
        sec_len[CS_SEC_HOT_V4 - 1 + f] =
            (uint64_t)c->nodes[f] * (f ? sizeof(cs_hot6) : sizeof(cs_hot4));
        sec_len[CS_SEC_COLD_V4 - 1 + f] = (uint64_t)c->nodes[f] * sizeof(cs_cold);
        sec_len[CS_SEC_VALUES_V4 - 1 + f] = (uint64_t)c->entries[f] * 4;
        if (c->nodes[f] > CS_COLD_MAX || c->entries[f] > CS_COLD_MAX)
            return cs_fail(err, CS_ERANGE, "more than %u nodes or entries in one family",
                           CS_COLD_MAX);
    }
    for (size_t i = 0; i < ncore; i++)
        sec_id[i] = (uint32_t)(i + 1);
    for (size_t i = 0; i < n_extra; i++) {
        if (extra[i].id < CS_SEC_ESTATE_FIRST || extra[i].id > CS_SEC_ESTATE_LAST)
            return cs_fail(err, CS_EINVAL, "extra section id %u outside the estate range",
                           extra[i].id);
        sec_id[ncore + i] = extra[i].id;
        sec_len[ncore + i] = extra[i].len;
    }
    size_t off = align_up(CS_HEADER_LEN + nsec * sizeof(cs_section));
    uint64_t sec_off[CS_MAX_SECTIONS];
    for (size_t i = 0; i < nsec; i++) {
        sec_off[i] = off;
        off = align_up(off + (size_t)sec_len[i]);
    }
    size_t total = off;
    uint8_t *img = aligned_alloc(CS_ALIGN, total);
    if (!img)
        return cs_fail(err, CS_ENOMEM, "out of memory for a %zu-byte image", total);
    memset(img, 0, flags & CS_DRAFT_RAW ? (size_t)sec_off[0] : total); /* RAW: header, table */
    d->flags = flags;
    cs_section *st = (cs_section *)(img + CS_HEADER_LEN);
    for (size_t i = 0; i < nsec; i++) {
        st[i].id = sec_id[i];
        st[i].offset = sec_off[i];
        st[i].length = sec_len[i];
        size_t end = (size_t)(sec_off[i] + sec_len[i]); /* and the padding after it */
        memset(img + end, 0, (i + 1 < nsec ? (size_t)sec_off[i + 1] : total) - end);
    }
    for (size_t i = 0; i < n_extra; i++)
        if ((d->extra[i] = img + sec_off[ncore + i]) && extra[i].len && extra[i].data)
            memcpy(d->extra[i], extra[i].data, (size_t)extra[i].len);
    d->img = img;
    d->len = total;
    d->n_sections = (uint32_t)nsec;
    d->n_extra = (uint32_t)n_extra;
    d->counts = *c;
    d->hot4 = (cs_hot4 *)(img + sec_off[CS_SEC_HOT_V4 - 1]);
    d->hot6 = (cs_hot6 *)(img + sec_off[CS_SEC_HOT_V6 - 1]);
    for (int f = 0; f < 2; f++) {
        d->cold[f] = (cs_cold *)(img + sec_off[CS_SEC_COLD_V4 - 1 + f]);
        d->values[f] = (uint32_t *)(img + sec_off[CS_SEC_VALUES_V4 - 1 + f]);
    }
    return 0;
}

void cs_image_build_abort(cs_image_draft *d)
{
    free(d->img);
    memset(d, 0, sizeof *d);
}

int cs_image_build_seal(cs_image_draft *d, cs_snapshot **out, cs_error *err)
{
    if (!d->img || !out) {
        cs_image_build_abort(d);
        return cs_fail(err, CS_EINVAL, "no image draft or NULL out");
    }
    uint8_t *img = d->img;
    size_t total = d->len;
    cs_header *h = (cs_header *)img;
    memcpy(h->magic, CS_MAGIC, 8);
    h->format_version = CS_FORMAT_VERSION;
    h->header_len = CS_HEADER_LEN;
    h->byte_order = CS_BYTE_ORDER;
    h->hot4_record_len = sizeof(cs_hot4);
    h->hot6_record_len = sizeof(cs_hot6);
    h->cold_record_len = sizeof(cs_cold);
    h->section_record_len = sizeof(cs_section);
    h->value_record_len = 4;
    h->section_align = CS_ALIGN;
    h->section_count = d->n_sections;
    h->created_unix = (uint64_t)time(NULL);
    h->image_len = total;
    for (int f = 0; f < 2; f++) {
        h->entries[f] = d->counts.entries[f];
        h->prefixes[f] = d->counts.prefixes[f];
        h->nodes[f] = d->counts.nodes[f];
    }
    h->flags = d->n_extra ? CS_HDR_ESTATE : 0;
    h->section_table_off = CS_HEADER_LEN;
    cs_section *st = (cs_section *)(img + CS_HEADER_LEN);
    for (uint32_t i = 0; i < d->n_sections; i++)
        st[i].xxh3 = XXH3_64bits(img + st[i].offset, (size_t)st[i].length);
    h->header_xxh3 = header_hash(h, st, d->n_sections);
    unsigned open_flags = CS_OPEN_NO_VERIFY | (d->flags & CS_DRAFT_TRUSTED ? CS_OPEN_TRUSTED : 0);
    memset(d, 0, sizeof *d);
    /* The checksums were just computed: open without recomputing them, but
     * with every structural check, as any reader would (unless the writer
     * is CS_DRAFT_TRUSTED). */
    cs_snapshot *opened = NULL;
    int rc = cs_snapshot_from_memory(img, total, open_flags, &opened, err);
    if (rc) {
        free(img);
        return rc;
    }
    opened->kind = SNAP_HEAP;
    *out = opened;
    return 0;
}

/* ---- open and validate -------------------------------------------------- */

static bool memchr_nonzero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return true;
    return false;
}

static int corrupt(cs_error *err, const char *what)
{
    return cs_fail(err, CS_ECORRUPT, "corrupt image: %s", what);
}

/* Key, length and flags of node i, whatever the family. */
typedef struct vnode {
    uint64_t hi, lo;
    uint32_t right;
    uint8_t len, flags;
    bool pad_zero;
} vnode;

static vnode vnode_at(const cs_famview *f, unsigned fam, uint32_t i)
{
    vnode v;
    if (fam) {
        const cs_hot6 *h = &f->hot6[i];
        v = (vnode){h->key_hi, h->key_lo, h->right, h->len, h->flags,
                    !h->pad[0] && !h->pad[1]};
    } else {
        const cs_hot4 *h = &f->hot4[i];
        v = (vnode){(uint64_t)h->key << 32, 0, h->right, h->len, h->flags,
                    !memchr_nonzero(h->pad, sizeof h->pad)};
    }
    return v;
}

/* Checks one family's trie: structure, key agreement, entry ranges, path
 * sums. After it, no query can leave its arrays, loop, or
 * answer from inconsistent counts. */
static int validate_family(const cs_famview *f, unsigned fam, cs_error *err)
{
    const unsigned bits = fam ? 128 : 32;
    const cs_cold *cold = f->cold;
    uint32_t n = f->n_nodes;
    if (n > CS_COLD_MAX || f->n_entries > CS_COLD_MAX)
        return corrupt(err, "more nodes or entries than a family may hold");
    if (n == 0)
        return f->n_entries == 0 ? 0 : corrupt(err, "entries without nodes");
    if (cold[0].ent_begin != 0 || cold[0].ent_end != f->n_entries)
        return corrupt(err, "root entry range does not cover every entry");
    /* own counts first: needed for the root's sums */
    for (uint32_t i = 0; i < n; i++) {
        vnode x = vnode_at(f, fam, i);
        if (x.len > bits)
            return corrupt(err, "node prefix length beyond the family's width");
        uint64_t hi = x.hi, lo = x.lo;
        cs_key_truncate(&hi, &lo, x.len);
        if (hi != x.hi || lo != x.lo)
            return corrupt(err, "node key has bits past its length");
        if (x.flags & ~(unsigned)CS_FN_LEFT || !x.pad_zero)
            return corrupt(err, "node has unknown flags");
        if (cold[i].ent_begin > cold[i].ent_end || cold[i].ent_end > f->n_entries)
            return corrupt(err, "node entry range out of bounds");
        uint32_t kids[2] = {0, 0};
        if (x.flags & CS_FN_LEFT) {
            if (i + 1 >= n)
                return corrupt(err, "left child out of range");
            kids[0] = i + 1;
        }
        if (x.right) {
            if (x.right <= i || x.right >= n || x.right == kids[0])
                return corrupt(err, "right child index out of order");
            kids[1] = x.right;
        }
        uint32_t expect = cold[i].ent_end, own_end = cold[i].ent_end;
        for (int c = 1; c >= 0; c--) {
            if (!kids[c])
                continue;
            vnode k = vnode_at(f, fam, kids[c]);
            if (k.len <= x.len || k.len > bits)
                return corrupt(err, "child not longer than its parent");
            if (cs_key_common_bits(k.hi, k.lo, x.hi, x.lo, x.len) < x.len ||
                cs_key_bit(k.hi, k.lo, x.len) != (unsigned)c)
                return corrupt(err, "child key does not continue its parent's");
            if (cold[kids[c]].ent_end != expect)
                return corrupt(err, "child entry ranges do not nest");
            expect = cold[kids[c]].ent_begin;
            own_end = expect;
        }
        if (own_end < cold[i].ent_begin)
            return corrupt(err, "node entry ranges do not nest");
        uint32_t own = own_end - cold[i].ent_begin;
        /* A node with no entries and fewer than two children is never
         * written (glue has two); a leaf must carry entries. */
        if (own == 0 && !(kids[0] && kids[1]))
            return corrupt(err, "empty node without two children");
        if (i == 0 && cold[0].path != (own ? own : CS_NO_NODE))
            return corrupt(err, "root path sums wrong");
        /* i's own path field was checked when i was met as a child (or
         * as the root), but a node met here before any parent names it
         * is refused below (preorder) only after this loop: read its best
         * only if it lies above i. */
        uint32_t i_best = snap_best(cold, i);
        if (i_best != CS_NO_NODE && i_best > i)
            return corrupt(err, "node path sums disagree with the entries");
        const uint32_t i_cov = snap_cov(cold, i);
        for (int c = 0; c < 2; c++) {
            if (!kids[c])
                continue;
            /* the child's own count, from its first child or its range */
            uint32_t k = kids[c];
            vnode kv = vnode_at(f, fam, k);
            uint32_t k_own_end = (kv.flags & CS_FN_LEFT) && k + 1 < n ? cold[k + 1].ent_begin
                                 : kv.right && kv.right < n        ? cold[kv.right].ent_begin
                                                                   : cold[k].ent_end;
            if (k_own_end < cold[k].ent_begin)
                return corrupt(err, "node entry ranges do not nest");
            uint32_t k_own = k_own_end - cold[k].ent_begin;
            /* the path field as the writer makes it from cov and best;
                 * cov stays below CS_COLD_MAX (entries are at most that) */
            if (cold[k].path != cs_image_build_path(k, i_cov + k_own, k_own ? k : i_best) ||
                (k_own && cold[k].path & CS_COLD_GLUE))
                return corrupt(err, "node path sums disagree with the entries");
        }
    }
    /* Every node is reached from the root exactly once, in preorder. */
    uint32_t reached = 0;
    uint32_t stack[2 * 130];
    unsigned sp = 0;
    stack[sp++] = 0;
    while (sp) {
        uint32_t i = stack[--sp];
        if (i != reached)
            return corrupt(err, "nodes are not in DFS preorder");
        reached++;
        vnode x = vnode_at(f, fam, i);
        if (sp + 2 > sizeof stack / sizeof *stack)
            return corrupt(err, "trie deeper than any prefix length");
        if (x.right)
            stack[sp++] = x.right;
        if (x.flags & CS_FN_LEFT)
            stack[sp++] = i + 1;
    }
    if (reached != n)
        return corrupt(err, "nodes unreachable from the root");
    return 0;
}

/* cs_snapshot_from_memory, taking the direct indexes from `given` when
 * non-NULL (borrowed) instead of building them. */
static int open_memory(const void *base, size_t len, unsigned flags, const snap_direct *given,
                       cs_snapshot **out, cs_error *err);

int cs_snapshot_from_memory(const void *base, size_t len, unsigned flags,
                            cs_snapshot **out, cs_error *err)
{
    return open_memory(base, len, flags, NULL, out, err);
}

static int open_memory(const void *base, size_t len, unsigned flags, const snap_direct *given,
                       cs_snapshot **out, cs_error *err)
{
    if (!base || !out)
        return cs_fail(err, CS_EINVAL, "NULL image or out");
    if (((uintptr_t)base & (CS_ALIGN - 1)) != 0)
        return cs_fail(err, CS_EINVAL, "image is not 64-byte aligned");
    const uint8_t *img = base;
    if (len < CS_HEADER_LEN)
        return cs_fail(err, CS_ECORRUPT, "image of %zu bytes is shorter than its 128-byte header", len);
    const cs_header *h = base;
    if (memcmp(h->magic, CS_MAGIC, 8) != 0)
        return cs_fail(err, CS_ECORRUPT, "not a cidrscope image (bad magic)");
    if (h->byte_order != CS_BYTE_ORDER)
        return cs_fail(err, CS_EVERSION, "image byte order differs from this machine's");
    if (h->format_version != CS_FORMAT_VERSION)
        return cs_fail(err, CS_EVERSION, "image format version %u; this build reads version %u",
                       h->format_version, CS_FORMAT_VERSION);
    if (h->header_len != CS_HEADER_LEN || h->hot4_record_len != sizeof(cs_hot4) ||
        h->hot6_record_len != sizeof(cs_hot6) || h->cold_record_len != sizeof(cs_cold) ||
        h->section_record_len != sizeof(cs_section) || h->value_record_len != 4 ||
        h->section_align != CS_ALIGN)
        return cs_fail(err, CS_EVERSION,
                       "image layout (record sizes %u/%u/%u/%u/%u, align %u) differs from this build's",
                       h->hot4_record_len, h->hot6_record_len, h->cold_record_len,
                       h->section_record_len, h->value_record_len, h->section_align);
    if (h->image_len > len)
        return cs_fail(err, CS_ECORRUPT, "image truncated: header says %llu bytes, have %zu",
                       (unsigned long long)h->image_len, len);
    if (h->image_len % CS_ALIGN || h->section_count > CS_MAX_SECTIONS ||
        h->section_table_off != CS_HEADER_LEN ||
        CS_HEADER_LEN + (uint64_t)h->section_count * sizeof(cs_section) > h->image_len)
        return corrupt(err, "section table out of bounds");
    const cs_section *st = (const cs_section *)(img + CS_HEADER_LEN);
    if (!(flags & CS_OPEN_NO_VERIFY) && header_hash(h, st, h->section_count) != h->header_xxh3)
        return cs_fail(err, CS_ECORRUPT, "corrupt image: header checksum mismatch");
    uint64_t table_end = CS_HEADER_LEN + (uint64_t)h->section_count * sizeof(cs_section);
    if (memchr_nonzero(h->reserved1, sizeof h->reserved1))
        return corrupt(err, "reserved header bytes are not zero");
    uint64_t gap_start = table_end;
    cs_snapshot s = {.base = img, .len = len, .kind = SNAP_MEMORY, .hdr = h, .sections = st};
    bool seen_core[CS_SEC_CORE_LAST + 1] = {false};
    for (uint32_t i = 0; i < h->section_count; i++) {
        const cs_section *x = &st[i];
        if (x->offset % CS_ALIGN || x->offset < table_end || x->offset > h->image_len ||
            x->length > h->image_len - x->offset)
            return cs_fail(err, CS_ECORRUPT, "corrupt image: section %u (id %u) out of bounds", i, x->id);
        if (x->reserved)
            return corrupt(err, "reserved section-table bytes are not zero");
        /* Sections follow each other in table order, so they cannot
         * overlap, and the gap before each is zero padding. */
        if (x->offset < gap_start || memchr_nonzero(img + gap_start, (size_t)(x->offset - gap_start)))
            return cs_fail(err, CS_ECORRUPT, "corrupt image: section %u (id %u) out of order or padding not zero", i, x->id);
        gap_start = x->offset + x->length;
        for (uint32_t j = 0; j < i; j++)
            if (st[j].id == x->id)
                return cs_fail(err, CS_ECORRUPT, "corrupt image: section id %u twice", x->id);
        if (x->id >= 1 && x->id <= CS_SEC_CORE_LAST)
            seen_core[x->id] = true;
        else if (x->id < CS_SEC_ESTATE_FIRST || x->id > CS_SEC_ESTATE_LAST)
            return cs_fail(err, CS_ECORRUPT, "corrupt image: unknown section id %u", x->id);
        if (!(flags & CS_OPEN_NO_VERIFY) &&
            XXH3_64bits(img + x->offset, (size_t)x->length) != x->xxh3)
            return cs_fail(err, CS_ECORRUPT, "corrupt image: checksum mismatch in section %u (id %u)", i, x->id);
    }
    if (memchr_nonzero(img + gap_start, (size_t)(h->image_len - gap_start)))
        return corrupt(err, "padding after the last section is not zero");
    for (int id = 1; id <= CS_SEC_CORE_LAST; id++)
        if (!seen_core[id])
            return cs_fail(err, CS_ECORRUPT, "corrupt image: core section %d missing", id);
    for (unsigned f = 0; f < 2; f++) {
        uint64_t hl, cl, vl;
        const void *hp = snap_section(&s, CS_SEC_HOT_V4 + f, &hl);
        const void *cp = snap_section(&s, CS_SEC_COLD_V4 + f, &cl);
        const void *vp = snap_section(&s, CS_SEC_VALUES_V4 + f, &vl);
        uint64_t hot_rec = f ? sizeof(cs_hot6) : sizeof(cs_hot4);
        if (hl != (uint64_t)h->nodes[f] * hot_rec || cl != (uint64_t)h->nodes[f] * sizeof(cs_cold) ||
            vl != (uint64_t)h->entries[f] * 4 || h->prefixes[f] > h->nodes[f] ||
            h->prefixes[f] > h->entries[f])
            return corrupt(err, "section lengths disagree with the header's counts");
        s.fam[f] = (cs_famview){.hot4 = f ? NULL : hp, .hot6 = f ? hp : NULL, .cold = cp,
                                .values = vp,
                                .n_nodes = h->nodes[f], .n_entries = h->entries[f]};
        if (flags & CS_OPEN_TRUSTED)
            continue;
        int rc = validate_family(&s.fam[f], f, err);
        if (rc)
            return rc;
        uint32_t stored = 0;
        for (uint32_t i = 0; i < s.fam[f].n_nodes; i++)
            stored += snap_own_end(&s.fam[f], f, i) > s.fam[f].cold[i].ent_begin;
        if (stored != h->prefixes[f])
            return corrupt(err, "prefix count disagrees with the trie");
    }
    /* The estate's tables (section ids 0x100..0x1ff) are checked by their
     * owner, against the tries checked above: after this every accessor of
     * estate.h is safe on the image. */
    int erc = (flags & CS_OPEN_TRUSTED) ? 0 : cs_estate_image_validate(&s, err);
    if (erc)
        return erc;
    cs_snapshot *r = malloc(sizeof *r);
    if (!r)
        return cs_fail(err, CS_ENOMEM, "out of memory");
    *r = s;
    memset(&r->dx, 0, sizeof r->dx);
    memset(r->dx_view, 0, sizeof r->dx_view);
    r->dx_borrowed = given != NULL;
    if (given)
        r->dx = r->dx_view[3] = *given;
    atomic_init(&r->dx_built, given ? 3u : 0u);
    atomic_init(&r->dx_asked[0], 0);
    atomic_init(&r->dx_asked[1], 0);
    for (unsigned i = 0; i < SNAP_DERIVED_COUNT; i++) {
        atomic_init(&r->derived[i], NULL);
        r->derived_release[i] = NULL;
    }
    if (pthread_mutex_init(&r->dx_lock, NULL) != 0) {
        free(r);
        return cs_fail(err, CS_ENOMEM, "out of memory for a mutex");
    }
    *out = r;
    return 0;
}

const void *snap_section(const cs_snapshot *s, uint32_t id, uint64_t *len)
{
    for (uint32_t i = 0; i < s->hdr->section_count; i++) {
        if (s->sections[i].id == id) {
            if (len)
                *len = s->sections[i].length;
            return s->base + s->sections[i].offset;
        }
    }
    if (len)
        *len = 0;
    return NULL;
}

const cs_famview *snap_family(const cs_snapshot *s, unsigned fam_idx)
{
    return &s->fam[fam_idx & 1u];
}

/* Builds the families in `fams` not built yet (dx_lock held) and
 * publishes them; a build that runs out of memory leaves its family
 * without, which every query handles as "no index" (the same answers by
 * the trie walk alone, as for a small image), and is not tried again. */
static void dx_build_locked(cs_snapshot *s, unsigned fams)
{
    unsigned built = atomic_load_explicit(&s->dx_built, memory_order_relaxed);
    const unsigned need = fams & ~built & 3u;
    if (!need)
        return;
    (void)snap_direct_build(&s->dx, &s->fam[0], &s->fam[1], need);
    built |= need;
    s->dx_view[built] = s->dx;
    atomic_store_explicit(&s->dx_built, built, memory_order_release);
}

static const snap_direct *dx_of(const cs_snapshot *cs)
{
    cs_snapshot *s = (cs_snapshot *)cs; /* dx is derived state, not the image */
    if (atomic_load_explicit(&s->dx_built, memory_order_acquire) != 3u) {
        pthread_mutex_lock(&s->dx_lock);
        dx_build_locked(s, 3u);
        pthread_mutex_unlock(&s->dx_lock);
    }
    return &s->dx_view[3];
}

const snap_direct *snap_direct_of(const cs_snapshot *s)
{
    return dx_of(s);
}

const snap_direct *snap_direct_for(const cs_snapshot *cs, unsigned fams, size_t n)
{
    cs_snapshot *s = (cs_snapshot *)cs; /* dx is derived state, not the image */
    unsigned built = atomic_load_explicit(&s->dx_built, memory_order_acquire);
    unsigned due = 0;
    for (unsigned f = 0; f < 2; f++)
        if ((fams & ~built) >> f & 1u &&
            atomic_fetch_add_explicit(&s->dx_asked[f], n, memory_order_relaxed) + n >=
                CS_DIRECT_LAZY_QUERIES)
            due |= 1u << f;
    if (due && pthread_mutex_trylock(&s->dx_lock) == 0) {
        dx_build_locked(s, due);
        pthread_mutex_unlock(&s->dx_lock);
        built = atomic_load_explicit(&s->dx_built, memory_order_acquire);
    }
    return &s->dx_view[built];
}

unsigned snap_direct_built(const cs_snapshot *s)
{
    return atomic_load_explicit(&s->dx_built, memory_order_acquire);
}

void *snap_derived(const cs_snapshot *cs, unsigned slot, snap_derive_fn build,
                   void (*release)(void *))
{
    cs_snapshot *s = (cs_snapshot *)cs; /* derived state, not the image */
    void *obj = atomic_load_explicit(&s->derived[slot], memory_order_acquire);
    if (obj || !build)
        return obj;
    void *mine = build(cs, slot), *none = NULL;
    if (!mine)
        return NULL;
    if (atomic_compare_exchange_strong_explicit(&s->derived[slot], &none, mine,
                                                memory_order_acq_rel, memory_order_acquire)) {
        s->derived_release[slot] = release; /* read by close only */
        return mine;
    }
    release(mine);
    return none;
}

void cs_snapshot_close(cs_snapshot *s)
{
    if (!s)
        return;
    for (unsigned i = 0; i < SNAP_DERIVED_COUNT; i++) {
        void *obj = atomic_load_explicit(&s->derived[i], memory_order_acquire);
        if (obj && s->derived_release[i])
            s->derived_release[i](obj);
    }
    if (!s->dx_borrowed)
        snap_direct_free(&s->dx);
    pthread_mutex_destroy(&s->dx_lock);
    if (s->kind == SNAP_HEAP)
        free((void *)s->base);
    else if (s->kind == SNAP_PAGES)
        cs_pages_free((void *)s->base);
    else if (s->kind == SNAP_MMAP)
        munmap((void *)s->base, s->len);
    free(s);
}

/* ---- the direct indexes as a blob (direct_blob_internal.h) -------------- */

static_assert(sizeof(cs_dir16) == 8, "cs_dir16 changed: update the direct blob");
static_assert(sizeof(snap_direct) == 88,
              "snap_direct changed: update the direct blob (direct_blob_internal.h) so readers get every index");

enum { BLOB_DIR = 1u, BLOB_L2 = 2u, BLOB_DIR6 = 4u, BLOB_L2_6 = 8u };
#define BLOB_PARTS 6
#define BLOB_HEADER_LEN 64u
#define BLOB_DIR_RECORDS CS_DIR4_RECORDS

typedef struct blob_header {
    char magic[8];
    uint64_t blob_len;
    uint64_t image_xxh3;
    uint32_t parts;
    uint32_t n_l2;
    uint64_t base_hi, base_lo;
    uint32_t base_len, base_x;
    uint16_t record_len;
    uint16_t reserved;
    uint32_t n_l2_6;
} blob_header;
static_assert(sizeof(blob_header) == BLOB_HEADER_LEN, "blob header is 64 bytes");

/* The parts' lengths (unpadded) of a blob with these parts, n_l2 and
 * n_l2_6. */
static void blob_parts(uint32_t parts, uint64_t n_l2, uint64_t n_l2_6, uint64_t part_len[BLOB_PARTS])
{
    part_len[0] = parts & BLOB_DIR ? (uint64_t)BLOB_DIR_RECORDS * sizeof(cs_dir16) : 0;
    part_len[1] = parts & BLOB_L2 ? 65536u * sizeof(uint32_t) : 0;
    part_len[2] = parts & BLOB_L2 ? n_l2 * CS_DIR_L2_RECORDS * sizeof(cs_dir16) : 0;
    part_len[3] = parts & BLOB_DIR6 ? CS_DIR6_RECORDS * sizeof(cs_dir16) : 0;
    part_len[4] = parts & BLOB_L2_6 ? 65536u * sizeof(uint32_t) : 0;
    part_len[5] = parts & BLOB_L2_6 ? n_l2_6 * CS_DIR6_L2_RECORDS * sizeof(cs_dir16) : 0;
}

static uint32_t blob_parts_of(const snap_direct *d)
{
    return (d->dir ? BLOB_DIR : 0) | (d->l2 && d->n_l2 ? BLOB_L2 : 0) | (d->dir6 ? BLOB_DIR6 : 0) |
           (d->l2_6 && d->n_l2_6 ? BLOB_L2_6 : 0);
}

size_t snap_direct_blob_len(const cs_snapshot *s)
{
    uint64_t pl[BLOB_PARTS];
    const snap_direct *d = dx_of(s);
    blob_parts(blob_parts_of(d), d->n_l2, d->n_l2_6, pl);
    size_t n = BLOB_HEADER_LEN;
    for (int i = 0; i < BLOB_PARTS; i++)
        n += align_up((size_t)pl[i]);
    return n;
}

size_t snap_direct_blob_pieces(const cs_snapshot *s, uint8_t header[64], const void *piece[CS_BLOB_PIECES],
                               size_t piece_len[CS_BLOB_PIECES])
{
    static_assert(BLOB_HEADER_LEN == 64, "the caller's header buffer is 64 bytes");
    static const uint8_t zeros[CS_ALIGN];
    const snap_direct *d = dx_of(s);
    static_assert(CS_BLOB_PIECES == 1 + 2 * BLOB_PARTS, "a header, then each part and its padding");
    blob_header h = {.magic = "CSDIRX3", .blob_len = snap_direct_blob_len(s), .image_xxh3 = s->hdr->header_xxh3,
                     .parts = blob_parts_of(d), .n_l2 = d->n_l2, .base_hi = d->base_hi,
                     .base_lo = d->base_lo, .base_len = d->base_len, .base_x = d->base_x,
                     .record_len = sizeof(cs_dir16), .n_l2_6 = d->n_l2_6};
    memcpy(header, &h, sizeof h);
    uint64_t pl[BLOB_PARTS];
    blob_parts(h.parts, h.n_l2, h.n_l2_6, pl);
    const void *src[BLOB_PARTS] = {d->dir, d->l2, d->dir24, d->dir6, d->l2_6, d->dir6_l2};
    size_t n = 0;
    piece[n] = header;
    piece_len[n++] = BLOB_HEADER_LEN;
    for (int i = 0; i < BLOB_PARTS; i++) {
        if (!pl[i])
            continue;
        piece[n] = src[i];
        piece_len[n++] = (size_t)pl[i];
        /* zeros up to the next line (the 69,905 IPv6 records end inside one) */
        size_t pad = align_up((size_t)pl[i]) - (size_t)pl[i];
        if (pad) {
            piece[n] = zeros;
            piece_len[n++] = pad;
        }
    }
    return n;
}

int snap_from_memory_with_blob(const void *base, size_t len, const void *blob, size_t blob_len,
                               unsigned flags, cs_snapshot **out, cs_error *err)
{
    if (!blob || ((uintptr_t)blob & (CS_ALIGN - 1)) || blob_len < BLOB_HEADER_LEN)
        return corrupt(err, "direct-index blob missing or misaligned");
    blob_header h;
    memcpy(&h, blob, sizeof h);
    const cs_header *ih = base;
    if (memcmp(h.magic, "CSDIRX3", 8) != 0 || h.record_len != sizeof(cs_dir16) ||
        (h.parts & ~(uint32_t)(BLOB_DIR | BLOB_L2 | BLOB_DIR6 | BLOB_L2_6)) || h.n_l2 > 65536u ||
        h.n_l2_6 > 65536u || ((h.parts & BLOB_L2) && !(h.parts & BLOB_DIR)) ||
        ((h.parts & BLOB_L2_6) && !(h.parts & BLOB_DIR6)) || h.reserved)
        return corrupt(err, "not a direct-index blob of this build");
    if (len < CS_HEADER_LEN || h.image_xxh3 != ih->header_xxh3)
        return corrupt(err, "direct-index blob of another image");
    uint64_t pl[BLOB_PARTS];
    blob_parts(h.parts, h.n_l2, h.n_l2_6, pl);
    uint64_t need = BLOB_HEADER_LEN;
    const uint8_t *part[BLOB_PARTS];
    for (int i = 0; i < BLOB_PARTS; i++) {
        part[i] = pl[i] ? (const uint8_t *)blob + need : NULL;
        need += align_up((size_t)pl[i]);
    }
    if (need != h.blob_len || need != blob_len)
        return corrupt(err, "direct-index blob length disagrees with its parts");
    snap_direct d = {.dir = (cs_dir16 *)part[0], .l2 = (uint32_t *)part[1], .dir24 = (cs_dir16 *)part[2],
                     .n_l2 = (h.parts & BLOB_L2) ? h.n_l2 : 0, .dir6 = (cs_dir16 *)part[3],
                     .base_hi = h.base_hi, .base_lo = h.base_lo, .base_len = h.base_len, .base_x = h.base_x,
                     .l2_6 = (uint32_t *)part[4], .dir6_l2 = (cs_dir16 *)part[5],
                     .n_l2_6 = (h.parts & BLOB_L2_6) ? h.n_l2_6 : 0};
    return open_memory(base, len, flags | CS_OPEN_TRUSTED, &d, out, err);
}

const void *cs_snapshot_image(const cs_snapshot *s, size_t *len)
{
    if (len)
        *len = (size_t)s->hdr->image_len;
    return s->base;
}

void cs_snapshot_get_info(const cs_snapshot *s, cs_snapshot_info *out)
{
    const cs_header *h = s->hdr;
    memset(out, 0, sizeof *out);
    out->format_version = h->format_version;
    out->generation = h->generation;
    out->created_unix = h->created_unix;
    out->image_len = h->image_len;
    for (int f = 0; f < 2; f++) {
        out->entries[f] = h->entries[f];
        out->prefixes[f] = h->prefixes[f];
        out->nodes[f] = h->nodes[f];
    }
    out->has_estate = (h->flags & CS_HDR_ESTATE) != 0;
}

int cs_snapshot_entry(const cs_snapshot *s, uint8_t family, uint32_t idx,
                      cs_prefix *prefix, uint32_t *value)
{
    const cs_famview *f = &s->fam[cs_family_index(family)];
    if (idx >= f->n_entries)
        return CS_ERANGE;
    if (prefix)
        *prefix = snap_node_prefix(f, cs_family_index(family), snap_entry_node(f, idx));
    if (value)
        *value = f->values[idx];
    return 0;
}

/* ---- an image in memory the snapshot owns (snapshot_format_internal.h) -- */

/* Opens the image in buf[0..len) (from cs_pages_alloc, ours) as a snapshot
 * that owns buf: validated, and its recorded size equal to len. Frees buf
 * on failure. */
int snap_open_owned(uint8_t *buf, size_t len, unsigned flags, cs_snapshot **out, cs_error *err)
{
    cs_snapshot *s = NULL;
    int rc = cs_snapshot_from_memory(buf, len, flags & ~(unsigned)CS_OPEN_TRUSTED, &s, err);
    if (rc == 0 && s->hdr->image_len != len) {
        rc = cs_fail(err, CS_ECORRUPT, "more than the image's %llu bytes (%zu read): bytes appended or another image concatenated",
                     (unsigned long long)s->hdr->image_len, len);
        cs_snapshot_close(s);
        s = NULL;
    }
    if (rc) {
        cs_pages_free(buf);
        return rc;
    }
    s->kind = SNAP_PAGES;
    *out = s;
    return 0;
}
