/*
 * engine/build/estate_freeze.c — freezing an estate builder: every table
 * sorted into the canonical order of estate.h ("FROZEN ORDER") with a stable
 * merge sort on index arrays (so the image does not depend on input order,
 * and each VPC's associations, edges and tags are contiguous ranges), the
 * estate-wide AWS checks run, the live associations put into the trie, and
 * the tables handed to engine/image/estate_image.c.
 *
 * AWS checks at freeze (live blocks of non-pseudo VPCs only), by the one
 * copy of AWS's block rules, engine/core/aws_rules.c (sources cited there):
 *   - block sizes (IPv4 /16../28; IPv6 /44../60 in steps of /4);
 *   - nothing inside 0.0.0.0/8, 127.0.0.0/8, 224.0.0.0/4 (reserved-range
 *     finding) or 169.254.0.0/16 (link-local finding);
 *   - at most 5 live IPv4 blocks per VPC (the default quota);
 *   - secondary IPv4 blocks per the association-restriction table, its row
 *     chosen by the primary's range, the 10.0.0.0/15 clause by the VPC's
 *     other blocks; and a secondary may not overlap another block of the
 *     same VPC;
 *   - a peering side whose VPC is not in the inventory.
 *
 * Concurrency: freeze only reads the builder. Tests: tests/test_estate.c
 * (rules, round trips, differential overlap queries), tests/test_snapshot.c.
 */
#include <cidrscope/estate.h>

#include "core/error_internal.h"
#include "build/estate_builder_internal.h"
#include "build/freeze_internal.h"
#include "build/trie_internal.h"
#include "core/aws_rules_internal.h"
#include "core/sort_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- freeze: canonical order ---------------------------------------------- */

typedef int (*cmp_fn)(const void *ctx, uint32_t a, uint32_t b);

/* Stable bottom-up merge sort of idx[0..n) under cmp (insertion-sorted runs
 * of 16 first; two halves already in order are copied, not merged, so
 * sorted stretches cost one comparison per merge). O(n log n); `tmp` holds
 * n elements. */
static void sort_idx(uint32_t *idx, uint32_t *tmp, uint32_t n, cmp_fn cmp, const void *ctx)
{
    const uint32_t run = 16;
    for (uint32_t lo = 0; lo < n; lo += run) {
        uint32_t hi = lo + run < n ? lo + run : n;
        for (uint32_t i = lo + 1; i < hi; i++) {
            uint32_t x = idx[i], j = i;
            while (j > lo && cmp(ctx, idx[j - 1], x) > 0) {
                idx[j] = idx[j - 1];
                j--;
            }
            idx[j] = x;
        }
    }
    uint32_t *src = idx, *dst = tmp;
    for (uint64_t w = run; w < n; w *= 2) {
        for (uint64_t lo = 0; lo < n; lo += 2 * w) {
            uint64_t mid = lo + w < n ? lo + w : n;
            uint64_t hi = lo + 2 * w < n ? lo + 2 * w : n;
            uint64_t i = lo, j = mid, k = lo;
            if (mid < hi && cmp(ctx, src[mid], src[mid - 1]) >= 0) {
                /* already in order (runs of one VPC's blocks): copy */
                memcpy(dst + lo, src + lo, (size_t)(hi - lo) * sizeof *dst);
                continue;
            }
            while (i < mid && j < hi)
                dst[k++] = cmp(ctx, src[j], src[i]) < 0 ? src[j++] : src[i++];
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
        }
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != idx)
        memcpy(idx, src, (size_t)n * sizeof *idx);
}

typedef struct order_ctx {
    const cs_estate *e;
    const uint32_t *acct_new, *reg_new, *vpc_new;
} order_ctx;

static int cmp_u32v(uint32_t a, uint32_t b)
{
    return (a > b) - (a < b);
}

static int cmp_account(const void *c, uint32_t a, uint32_t b)
{
    const cs_estate *e = ((const order_ctx *)c)->e;
    return strcmp(cs_intern_str(&e->accounts, a), cs_intern_str(&e->accounts, b));
}

static int cmp_region(const void *c, uint32_t a, uint32_t b)
{
    const cs_estate *e = ((const order_ctx *)c)->e;
    return strcmp(cs_intern_str(&e->regions, a), cs_intern_str(&e->regions, b));
}

static int cmp_vpc(const void *c, uint32_t a, uint32_t b)
{
    const order_ctx *o = c;
    const vpc_b *x = &o->e->vpc[a], *y = &o->e->vpc[b];
    int r = cmp_u32v(o->acct_new[x->account], o->acct_new[y->account]);
    if (!r)
        r = cmp_u32v(o->reg_new[x->region], o->reg_new[y->region]);
    return r ? r : strcmp(cs_intern_str(&o->e->vpcs, a), cs_intern_str(&o->e->vpcs, b));
}

static const char *assoc_id_str(const cs_estate *e, const assoc_b *x)
{
    return x->sid == CS_INTERN_NONE ? "" : cs_intern_str(&e->assoc_ids, x->sid);
}

static int cmp_assoc(const void *c, uint32_t a, uint32_t b)
{
    const order_ctx *o = c;
    const assoc_b *x = &CS_ASSOC(o->e, a), *y = &CS_ASSOC(o->e, b);
    int r = cmp_u32v(o->vpc_new[x->vpc], o->vpc_new[y->vpc]);
    if (!r)
        r = cmp_u32v(x->family, y->family);
    if (!r)
        r = cmp_u32v(!x->primary, !y->primary);
    if (!r)
        r = x->hi != y->hi ? (x->hi < y->hi ? -1 : 1) : x->lo != y->lo ? (x->lo < y->lo ? -1 : 1) : 0;
    if (!r)
        r = cmp_u32v(x->len, y->len);
    return r ? r : strcmp(assoc_id_str(o->e, x), assoc_id_str(o->e, y));
}

static int cmp_pcx(const void *c, uint32_t a, uint32_t b)
{
    const cs_estate *e = ((const order_ctx *)c)->e;
    return strcmp(cs_intern_str(&e->pcxs, a), cs_intern_str(&e->pcxs, b));
}

static int cmp_edge(const void *c, uint32_t a, uint32_t b)
{
    const order_ctx *o = c;
    const edge_b *x = &o->e->edge[a], *y = &o->e->edge[b];
    int r = cmp_u32v(o->vpc_new[x->vpc], o->vpc_new[y->vpc]);
    if (!r)
        r = cmp_u32v(x->kind, y->kind);
    return r ? r : strcmp(cs_intern_str(&o->e->misc, x->ref), cs_intern_str(&o->e->misc, y->ref));
}

static int cmp_tag(const void *c, uint32_t a, uint32_t b)
{
    const order_ctx *o = c;
    const tag_b *x = &o->e->tag[a], *y = &o->e->tag[b];
    int r = cmp_u32v(o->vpc_new[x->vpc], o->vpc_new[y->vpc]);
    return r ? r : strcmp(cs_intern_str(&o->e->misc, x->key), cs_intern_str(&o->e->misc, y->key));
}

/* A record's group key for the linear-time passes below. */
typedef uint64_t (*key_fn)(const void *ctx, uint32_t i);

/* Stable counting sort of ord[0..n) by key(ord[i]) (< nb). O(n + nb). */
static int bucket_sort(uint32_t *ord, uint32_t *tmp, uint32_t n, uint32_t nb, key_fn key,
                       const void *ctx)
{
    uint32_t *cnt = calloc((size_t)nb + 1, sizeof *cnt);
    if (!cnt)
        return CS_ENOMEM;
    for (uint32_t i = 0; i < n; i++)
        cnt[(uint32_t)key(ctx, ord[i]) + 1]++;
    for (uint32_t b = 0; b < nb; b++)
        cnt[b + 1] += cnt[b];
    for (uint32_t i = 0; i < n; i++)
        tmp[cnt[(uint32_t)key(ctx, ord[i])]++] = ord[i];
    memcpy(ord, tmp, (size_t)n * sizeof *ord);
    free(cnt);
    return 0;
}

/* Sorts each run of equal key(.) in ord[0..n) under cmp: after a bucket
 * sort by the major key, only the (small) groups need comparisons. */
static void sort_runs(uint32_t *ord, uint32_t *tmp, uint32_t n, key_fn key, cmp_fn cmp,
                      const void *ctx)
{
    for (uint32_t i = 0; i < n;) {
        uint64_t k = key(ctx, ord[i]);
        uint32_t j = i + 1;
        while (j < n && key(ctx, ord[j]) == k)
            j++;
        if (j - i > 1)
            sort_idx(ord + i, tmp, j - i, cmp, ctx);
        i = j;
    }
}

static uint64_t key_vpc_region(const void *c, uint32_t v)
{
    const order_ctx *o = c;
    return o->reg_new[o->e->vpc[v].region];
}

static uint64_t key_vpc_account(const void *c, uint32_t v)
{
    const order_ctx *o = c;
    return o->acct_new[o->e->vpc[v].account];
}

static uint64_t key_vpc_group(const void *c, uint32_t v)
{
    const order_ctx *o = c;
    return (uint64_t)o->acct_new[o->e->vpc[v].account] << 32 | o->reg_new[o->e->vpc[v].region];
}

static uint64_t key_assoc_vpc(const void *c, uint32_t a)
{
    const order_ctx *o = c;
    return o->vpc_new[CS_ASSOC(o->e, a).vpc];
}

static uint64_t key_edge_vpc(const void *c, uint32_t a)
{
    const order_ctx *o = c;
    return o->vpc_new[o->e->edge[a].vpc];
}

static uint64_t key_tag_vpc(const void *c, uint32_t a)
{
    const order_ctx *o = c;
    return o->vpc_new[o->e->tag[a].vpc];
}

/* Orders ord (identity on entry) by a major key in [0, nb) with a bucket
 * sort, then each group under cmp. */
static int group_order(uint32_t n, uint32_t nb, key_fn major, key_fn group, cmp_fn cmp,
                       const order_ctx *o, uint32_t *ord, uint32_t *tmp)
{
    for (uint32_t i = 0; i < n; i++)
        ord[i] = i;
    int rc = bucket_sort(ord, tmp, n, nb, major, o);
    if (rc)
        return rc;
    sort_runs(ord, tmp, n, group, cmp, o);
    return 0;
}

/* Sorts 0..n-1 under cmp into ord (new -> old) and fills inv (old -> new,
 * may be NULL). */
static void make_order(uint32_t n, cmp_fn cmp, const order_ctx *o, uint32_t *ord, uint32_t *inv,
                       uint32_t *tmp)
{
    for (uint32_t i = 0; i < n; i++)
        ord[i] = i;
    sort_idx(ord, tmp, n, cmp, o);
    if (inv)
        for (uint32_t i = 0; i < n; i++)
            inv[ord[i]] = i;
}

/* ---- freeze: estate-wide checks --------------------------------------------- */

/* Findings made at freeze: records plus their own strings, which land after
 * the builder's arena in the image's string section. */
typedef struct fz_findings {
    const cs_estate *e;    /* the builder (stored locations) */
    cs_efinding *f;
    uint32_t n, cap;
    cs_strbuf extra;       /* offsets are relative: add base */
    uint64_t base;         /* the builder arena's length */
    uint32_t kind_off[8];  /* per check kind, cached */
    int rc;
    cs_trie blocks;        /* one VPC's live IPv4 blocks so far (check_vpc) */
} fz_findings;

enum {
    K_V4_SIZE, K_V6_SIZE, K_V4_QUOTA, K_RESTRICTED, K_LINK_LOCAL, K_UNKNOWN_VPC, K_RESERVED,
    K_COUNT
};
static const char *const fz_kind[K_COUNT] = {
    CS_FINDING_V4_SIZE,    CS_FINDING_V6_SIZE,     CS_FINDING_V4_QUOTA, CS_FINDING_RESTRICTED,
    CS_FINDING_LINK_LOCAL, CS_FINDING_UNKNOWN_VPC, CS_FINDING_RESERVED};

static void fz_add(fz_findings *z, unsigned kind, const loc_b *loc, uint32_t vpc,
                   const char *fmt, ...) CS_PRINTF(5, 6);

static void fz_add(fz_findings *z, unsigned kind, const loc_b *loc, uint32_t vpc,
                   const char *fmt, ...)
{
    if (z->rc)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    uint32_t off;
    int rc = grow((void **)&z->f, &z->cap, sizeof *z->f, (uint64_t)z->n + 1);
    if (!rc && !z->kind_off[kind]) {
        rc = cs_strbuf_add(&z->extra, fz_kind[kind], strlen(fz_kind[kind]), &off);
        if (!rc)
            z->kind_off[kind] = off;
    }
    if (!rc)
        rc = cs_strbuf_add(&z->extra, msg, strlen(msg), &off);
    if (!rc && z->base + z->extra.len > UINT32_MAX)
        rc = CS_ERANGE;
    if (rc) {
        z->rc = rc;
        return;
    }
    cs_efinding *f = &z->f[z->n++];
    memset(f, 0, sizeof *f);
    f->kind_off = (uint32_t)(z->base + z->kind_off[kind]);
    f->msg_off = (uint32_t)(z->base + off);
    f->src_off = loc->src_off;
    f->line = cs_estate_loc_line(z->e, loc);
    f->column = cs_estate_loc_column(z->e, loc);
    f->vpc_idx = vpc;
}

/* The AWS checks on VPC `vn` (new index) whose associations are
 * ord[begin..end) (new -> old). */
static void check_vpc(const cs_estate *e, uint32_t vn, uint32_t vold, const uint32_t *ord,
                      uint32_t begin, uint32_t end, fz_findings *z)
{
    if (e->vpc[vold].pseudo)
        return;
    const char *vid = cs_intern_str(&e->vpcs, vold);
    uint32_t live4 = 0, primary = CS_IDX_NONE;
    char pb[CS_PREFIX_STRCAP], qb[CS_PREFIX_STRCAP];
    for (uint32_t i = begin; i < end; i++) {
        const assoc_b *a = &CS_ASSOC(e, ord[i]);
        if (!cs_assoc_state_live(a->state))
            continue;
        cs_prefix p;
        cs_estate_assoc_prefix(a, &p);
        cs_prefix_format(&p, pb, sizeof pb);
        if (!cs_aws_block_size_ok(&p))
            fz_add(z, a->family == CS_AF_V4 ? K_V4_SIZE : K_V6_SIZE, &a->loc, vn,
                   "VPC %s: block %s is not among the sizes AWS allows (%s)", vid, pb,
                   cs_aws_block_sizes_text(a->family));
        if (a->family != CS_AF_V4)
            continue;
        live4++;
        if (a->primary && primary == CS_IDX_NONE)
            primary = ord[i];
        bool link_local;
        const char *range = cs_aws_reserved_range(&p, &link_local);
        if (range)
            fz_add(z, link_local ? K_LINK_LOCAL : K_RESERVED, &a->loc, vn,
                   "VPC %s: block %s is inside %s%s, which AWS never associates", vid, pb, range,
                   link_local ? " (link-local)" : "");
    }
    if (live4 > CS_AWS_BLOCK_QUOTA)
        fz_add(z, K_V4_QUOTA, &e->vpc[vold].loc, vn,
               "VPC %s has %u live IPv4 blocks; the default quota is %u", vid, live4,
               CS_AWS_BLOCK_QUOTA);
    if (primary == CS_IDX_NONE)
        return;
    cs_prefix pp;
    cs_estate_assoc_prefix(&CS_ASSOC(e, primary), &pp);
    cs_prefix_format(&pp, qb, sizeof qb);
    /* Secondaries: the restriction table, and no overlap within the VPC
     * (among the first 64 live IPv4 blocks; more is a quota finding
     * already). */
    cs_prefix blk[64];
    uint32_t blk_ord[64], nb = 0;
    for (uint32_t i = begin; i < end && nb < 64; i++) {
        const assoc_b *a = &CS_ASSOC(e, ord[i]);
        if (a->family != CS_AF_V4 || !cs_assoc_state_live(a->state))
            continue;
        cs_estate_assoc_prefix(a, &blk[nb]);
        blk_ord[nb++] = ord[i];
    }
    trie_clear(&z->blocks);
    for (uint32_t i = 0; i < nb; i++) {
        const cs_prefix s = blk[i];
        /* an earlier live block of the VPC that this one overlaps */
        uint32_t hit = blk_ord[i] == primary ? TRIE_NONE : trie_overlap_any(&z->blocks, &s);
        int trc = trie_insert(&z->blocks, &s, i);
        if (trc) {
            z->rc = trc;
            return;
        }
        if (blk_ord[i] == primary)
            continue;
        const assoc_b *a = &CS_ASSOC(e, blk_ord[i]);
        cs_prefix_format(&s, pb, sizeof pb);
        /* The table sees the VPC's other blocks: s itself moved out of the
         * way by swapping it with the first. */
        cs_prefix others[64];
        memcpy(others, blk, nb * sizeof *blk);
        others[i] = others[0];
        size_t culprit;
        unsigned rule = cs_aws_restriction(&pp, others + 1, nb - 1, &s, &culprit);
        if (rule) {
            char cb[CS_PREFIX_STRCAP];
            if (culprit != (size_t)-1)
                cs_prefix_format(&others[culprit + 1], cb, sizeof cb);
            else
                memcpy(cb, qb, sizeof cb);
            fz_add(z, K_RESTRICTED, &a->loc, vn,
                   "VPC %s: secondary block %s is not allowed with %s %s: %s", vid, pb,
                   culprit != (size_t)-1 ? "block" : "primary", cb, cs_aws_rule_text(rule));
            continue;
        }
        if (hit != TRIE_NONE) {
            char tb[CS_PREFIX_STRCAP];
            cs_prefix t = trie_node_prefix(&z->blocks, hit);
            cs_prefix_format(&t, tb, sizeof tb);
            fz_add(z, K_RESTRICTED, &a->loc, vn,
                   "VPC %s: secondary block %s overlaps %s of the same VPC", vid, pb, tb);
        }
    }
}

/* ---- freeze ------------------------------------------------------------------ */

/* An association out of the builder: its image record (IPv6: addr indexes
 * the IPv6 keys in builder order until the image renumbers it), its VPC's
 * new index and its pool string. 20 bytes where the builder's are 48. */
typedef struct compact_assoc {
    cs_eassoc r;
    uint32_t vpc;
    uint32_t pool_off;
} compact_assoc;

/* Prefix accessors for the sorted freeze (engine/build/freeze.c): a live
 * association's prefix by its new index, read from the compact records
 * (planning, before the image exists; through the new -> old order) or from
 * the image's ASSOCS (writing, after the compact records are gone). */
typedef struct assoc_prefixes {
    const cs_eassoc *assocs;  /* ASSOCS, or compact_assoc's r by stride */
    size_t stride;            /* bytes from one record to the next */
    const cs_eaddr6 *v6;
    const uint32_t *as_ord;   /* new -> old, or NULL: records in new order */
} assoc_prefixes;

static void prefix_of_assoc(const void *ctx, uint32_t i, cs_prefix *p)
{
    const assoc_prefixes *m = ctx;
    if (m->as_ord)
        i = m->as_ord[i];
    const cs_eassoc *a = (const cs_eassoc *)((const char *)m->assocs + (size_t)i * m->stride);
    memset(p, 0, sizeof *p);
    if (a->family == CS_AF_V4) {
        p->hi = (uint64_t)a->addr << 32;
    } else {
        p->hi = m->v6[a->addr].hi;
        p->lo = m->v6[a->addr].lo;
    }
    p->len = a->len;
    p->family = a->family;
}

static int cmp_entry(const void *ctx, uint32_t a, uint32_t b)
{
    cs_prefix x, y;
    prefix_of_assoc(ctx, a, &x);
    prefix_of_assoc(ctx, b, &y);
    return cs_prefix_compare(&x, &y);
}

/* IPv4 entries sort as one u64 each, address << 32 | length << 26 | value,
 * while values are below 2^26 (67M associations): the keys are read from
 * the records once, in order, where a comparison sort read two random
 * records per comparison (a quarter of a 5M-line freeze). */
#define ENT_V4_IDX_MASK ((1u << 26) - 1)

/* Sorts ent[0..n) (IPv4 association indices, each <= ENT_V4_IDX_MASK) by
 * (prefix, index): cs_sort_u64 of packed keys. 0 or
 * CS_ENOMEM. */
static int sort_v4_entries(uint32_t *ent, uint32_t n, const assoc_prefixes *bp)
{
    uint64_t *key = malloc(((size_t)n + 1) * sizeof *key);
    uint64_t *tmp = malloc(((size_t)n + 1) * sizeof *tmp);
    if (!key || !tmp) {
        free(key);
        free(tmp);
        return CS_ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++) {
        cs_prefix p;
        prefix_of_assoc(bp, ent[i], &p);
        key[i] = (p.hi >> 32) << 32 | (uint64_t)p.len << 26 | ent[i];
    }
    cs_sort_u64(key, tmp, n);
    for (uint32_t i = 0; i < n; i++)
        ent[i] = (uint32_t)(key[i] & ENT_V4_IDX_MASK);
    free(key);
    free(tmp);
    return 0;
}

/*
 * The freeze, in the order that keeps its peak low (issue 13 item 12): every
 * table's order, every small table and the AWS checks first, with the
 * builder whole; then the associations copied out of the builder into
 * 20-byte records (when `mut` is given, cs_estate_freeze_consume, each
 * chunk of the builder's 48-byte records freed as soon as it is read);
 * then the trie's shape planned from the live entries sorted by prefix (no
 * build-side trie); then the image laid out at its exact size, the
 * association sections written into it, the 20-byte records freed, and the
 * tries written from the image's own records. The image's pages are
 * touched only as they are written (CS_DRAFT_RAW), so the builder and the
 * image are never resident at once.
 */
static int freeze(cs_estate *mut, const cs_estate *e, cs_snapshot **out, cs_error *err)
{
    if (!e || !out)
        return cs_fail(err, CS_EINVAL, "NULL estate or out");
    if (e->failed)
        return cs_fail(err, CS_ESTATE, "the estate failed earlier (out of memory); it cannot "
                                       "be frozen");
    const uint32_t na = e->accounts.count, nr = e->regions.count, nv = e->vpcs.count,
                   nas = e->n_assoc, np = e->pcxs.count, ne = e->n_edge, nt = e->n_tag;
    uint32_t nmax = na;
    const uint32_t ns[] = {nr, nv, nas, np, ne, nt};
    for (size_t i = 0; i < sizeof ns / sizeof *ns; i++)
        if (ns[i] > nmax)
            nmax = ns[i];

    /* The builder's look-up indexes first, before this allocates anything:
     * the freeze never probes them, and a consuming freeze's peak is then
     * below the load's (a 5M-line list: -40 MB while the orders are made). */
    if (mut)
        cs_estate_release_assocs(mut, false);
    int rc = CS_ENOMEM;
    fz_findings z;
    memset(&z, 0, sizeof z);
    z.e = e;
    trie_init(&z.blocks, 32);
    /* Check-made strings follow the builder's arena in the image; z.extra
     * starts with its own "" at offset 0, which is dropped, hence the -1. */
    z.base = e->strs.len - 1;
    cs_estate_tables t;
    memset(&t, 0, sizeof t);
    cs_image_draft d;
    memset(&d, 0, sizeof d);
    cs_freeze_family fam[2];
    memset(fam, 0, sizeof fam);
    uint32_t *ent[2] = {NULL, NULL};
    compact_assoc *ca = NULL;
    cs_eaddr6 *ca6 = NULL;
    char *strings = NULL;
    cs_efinding *efind = NULL;
    uint32_t *tmp = malloc(((size_t)nmax + 1) * sizeof *tmp);
    uint32_t *acct_ord = malloc(((size_t)na + 1) * sizeof *acct_ord);
    uint32_t *acct_new = malloc(((size_t)na + 1) * sizeof *acct_new);
    uint32_t *reg_ord = malloc(((size_t)nr + 1) * sizeof *reg_ord);
    uint32_t *reg_new = malloc(((size_t)nr + 1) * sizeof *reg_new);
    uint32_t *vpc_ord = malloc(((size_t)nv + 1) * sizeof *vpc_ord);
    uint32_t *vpc_new = malloc(((size_t)nv + 1) * sizeof *vpc_new);
    uint32_t *as_ord = malloc(((size_t)nas + 1) * sizeof *as_ord);
    uint32_t *pcx_ord = malloc(((size_t)np + 1) * sizeof *pcx_ord);
    uint32_t *edge_ord = malloc(((size_t)ne + 1) * sizeof *edge_ord);
    uint32_t *tag_ord = malloc(((size_t)nt + 1) * sizeof *tag_ord);
    uint32_t *pcx_cnt = calloc((size_t)nv + 1, sizeof *pcx_cnt);
    cs_eaccount *eacc = calloc((size_t)na + 1, sizeof *eacc);
    cs_eregion *ereg = calloc((size_t)nr + 1, sizeof *ereg);
    cs_evpc *evpc = calloc((size_t)nv + 1, sizeof *evpc);
    cs_epeering *epcx = calloc((size_t)np + 1, sizeof *epcx);
    uint32_t *vpc_pcx = calloc((size_t)np * 2 + 1, sizeof *vpc_pcx);
    cs_eedge *eedge = calloc((size_t)ne + 1, sizeof *eedge);
    cs_etag *etag = calloc((size_t)nt + 1, sizeof *etag);
    uint32_t *tag_vpc = malloc(((size_t)nt + 1) * sizeof *tag_vpc);
    cs_evpc_extra *evx = calloc((size_t)nv + 1, sizeof *evx);
    cs_evpc_dir *vdir = calloc((size_t)nv / CS_EVPC_DIR_SPAN + 1, sizeof *vdir);
    if (!tmp || !acct_ord || !acct_new || !reg_ord || !reg_new || !vpc_ord || !vpc_new ||
        !as_ord || !pcx_ord || !edge_ord || !tag_ord || !pcx_cnt || !eacc || !ereg || !evpc ||
        !epcx || !vpc_pcx || !eedge || !etag || !tag_vpc || !evx || !vdir)
        goto out;
    if (nr > CS_EREGION_MAX) {
        rc = cs_fail(err, CS_ERANGE, "more than %u regions", CS_EREGION_MAX);
        goto out_rc;
    }
    if (cs_strbuf_init(&z.extra))
        goto out;

    /* 1. Canonical order of every table. */
    order_ctx o = {e, acct_new, reg_new, vpc_new};
    make_order(na, cmp_account, &o, acct_ord, acct_new, tmp);
    make_order(nr, cmp_region, &o, reg_ord, reg_new, tmp);
    make_order(np, cmp_pcx, &o, pcx_ord, NULL, tmp);
    /* VPCs: by region, then (stably) by account, then by id within each
     * (account, region); the per-VPC tables: by VPC, then within it. Linear
     * but for the small groups, where 1M VPCs would otherwise spend most of
     * freeze in comparisons. */
    for (uint32_t i = 0; i < nv; i++)
        vpc_ord[i] = i;
    if (bucket_sort(vpc_ord, tmp, nv, nr, key_vpc_region, &o) ||
        bucket_sort(vpc_ord, tmp, nv, na, key_vpc_account, &o))
        goto out;
    sort_runs(vpc_ord, tmp, nv, key_vpc_group, cmp_vpc, &o);
    for (uint32_t i = 0; i < nv; i++)
        vpc_new[vpc_ord[i]] = i;
    if (group_order(nas, nv, key_assoc_vpc, key_assoc_vpc, cmp_assoc, &o, as_ord, tmp) ||
        group_order(ne, nv, key_edge_vpc, key_edge_vpc, cmp_edge, &o, edge_ord, tmp) ||
        group_order(nt, nv, key_tag_vpc, key_tag_vpc, cmp_tag, &o, tag_ord, tmp))
        goto out;

    /* 2. Accounts, regions, VPCs. VPCs are sorted by account, then region,
     * so an account's VPCs are one range. */
    for (uint32_t i = 0; i < na; i++) {
        uint32_t a = acct_ord[i];
        uint8_t fl = e->acct_flags[a];
        eacc[i].id_off = cs_intern_off(&e->accounts, a);
        eacc[i].flags = ((fl & ACCT_PSEUDO) ? CS_ACCOUNT_PSEUDO : 0) |
                        ((fl & (ACCT_OWNS_VPC | ACCT_REGISTERED)) ? 0 : CS_ACCOUNT_EXTERNAL);
        eacc[i].vpc_begin = CS_IDX_NONE;
    }
    for (uint32_t i = 0; i < nr; i++)
        ereg[i].name_off = cs_intern_off(&e->regions, reg_ord[i]);
    uint32_t default_vpcs = 0, pseudo_vpcs = 0;
    for (uint32_t i = 0; i < nv; i++) {
        const vpc_b *x = &e->vpc[vpc_ord[i]];
        cs_evpc *r = &evpc[i];
        r->id_off = cs_intern_off(&e->vpcs, vpc_ord[i]);
        r->name_off = x->name_off;
        const uint32_t ai = acct_new[x->account];
        if (i % CS_EVPC_DIR_SPAN == 0)
            vdir[i / CS_EVPC_DIR_SPAN].account_idx = ai;
        r->region_idx = (uint16_t)reg_new[x->region];
        r->state = x->state;
        r->flags = (uint8_t)((x->is_default ? CS_EVPC_DEFAULT : 0) | (x->pseudo ? CS_EVPC_PSEUDO : 0));
        default_vpcs += x->is_default;
        pseudo_vpcs += x->pseudo;
        cs_eaccount *acc = &eacc[ai];
        if (acc->vpc_begin == CS_IDX_NONE)
            acc->vpc_begin = i;
        acc->vpc_count++;
        ereg[r->region_idx].vpc_count++;
    }
    /* An account without VPCs gets an empty range where it would be. */
    for (uint32_t i = 0, next = 0; i < na; i++) {
        if (eacc[i].vpc_begin == CS_IDX_NONE)
            eacc[i].vpc_begin = next;
        next = eacc[i].vpc_begin + eacc[i].vpc_count;
    }

    /* 3. Associations (contiguous per VPC): ranges and counts now, records
     * and the tries' entries in 8 and 10. */
    uint32_t live[2] = {0, 0}, dead[2] = {0, 0}, n_pools = 0;
    uint32_t v = 0;
    for (uint32_t i = 0; i < nas; i++) {
        const assoc_b *x = &CS_ASSOC(e, as_ord[i]);
        uint32_t vn = vpc_new[x->vpc];
        while (v <= vn && v < nv)
            evpc[v++].assoc_begin = i;
        n_pools += x->pool_off != 0;
        unsigned f = cs_family_index(x->family);
        if (cs_assoc_state_live(x->state ? x->state : CS_ASSOC_ASSOCIATED))
            live[f]++;
        else
            dead[f]++;
    }
    for (; v < nv; v++)
        evpc[v].assoc_begin = nas;
    free(tmp); /* the orders are done; the entry sorts bring their own */
    tmp = NULL;

    /* 4. Edges and tags (contiguous per VPC; their ranges are set with the
     * peering lists in 5). */
    for (uint32_t i = 0; i < ne; i++) {
        const edge_b *x = &e->edge[edge_ord[i]];
        eedge[i].vpc_idx = vpc_new[x->vpc];
        eedge[i].id_off = cs_intern_off(&e->misc, x->ref);
        eedge[i].kind = x->kind;
    }
    /* Only tags still attached to their VPC count (a VPC keeps the tags of
     * the first sighting that had any). */
    uint32_t ntags = 0;
    for (uint32_t i = 0; i < nt; i++) {
        uint32_t old = tag_ord[i];
        const tag_b *x = &e->tag[old];
        const vpc_b *owner = &e->vpc[x->vpc];
        if (old < owner->tag_first || old >= owner->tag_first + owner->tag_count)
            continue;
        tag_vpc[ntags] = vpc_new[x->vpc];
        etag[ntags].key_off = cs_intern_off(&e->misc, x->key);
        etag[ntags].value_off = cs_intern_off(&e->misc, x->value);
        ntags++;
    }

    /* 5. Peering connections, their sides resolved against the inventory, and
     * the per-VPC lists (CSR). */
    for (uint32_t i = 0; i < np; i++) {
        const pcx_b *x = &e->pcx[pcx_ord[i]];
        cs_epeering *r = &epcx[i];
        r->id_off = cs_intern_off(&e->pcxs, pcx_ord[i]);
        r->status = x->status;
        for (int k = 0; k < 2; k++) {
            const side_b *s = &x->side[k];
            r->vpc_id_off[k] = cs_intern_off(&e->misc, s->vpc_ref);
            r->dns[k] = s->dns;
            uint32_t vo = cs_intern_find(&e->vpcs, cs_intern_str(&e->misc, s->vpc_ref),
                                         cs_intern_len(&e->misc, s->vpc_ref));
            r->vpc_idx[k] = vo == CS_INTERN_NONE ? CS_IDX_NONE : vpc_new[vo];
            r->account_idx[k] = s->account != CS_IDX_NONE ? acct_new[s->account]
                                : vo != CS_INTERN_NONE   ? acct_new[e->vpc[vo].account]
                                                         : CS_IDX_NONE;
            r->region_idx[k] = s->region != CS_IDX_NONE ? reg_new[s->region]
                               : vo != CS_INTERN_NONE  ? reg_new[e->vpc[vo].region]
                                                       : CS_IDX_NONE;
        }
        for (int k = 0; k < 2; k++) {
            if (r->vpc_idx[k] == CS_IDX_NONE) {
                uint32_t other = r->vpc_idx[1 - k];
                fz_add(&z, K_UNKNOWN_VPC, &x->loc, other,
                       "peering connection %s (%s): %s VPC %s is not in the inventory",
                       cs_intern_str(&e->pcxs, pcx_ord[i]), cs_pcx_status_name(x->status),
                       k ? "accepter" : "requester", cs_intern_str(&e->misc, x->side[k].vpc_ref));
            }
        }
        if (r->vpc_idx[0] != CS_IDX_NONE)
            pcx_cnt[r->vpc_idx[0]]++;
        if (r->vpc_idx[1] != CS_IDX_NONE && r->vpc_idx[1] != r->vpc_idx[0])
            pcx_cnt[r->vpc_idx[1]]++;
    }
    /* Each VPC with edges, tags or peering connections gets a VPC_EXTRA
     * record of where they begin; the others only the count of records
     * before them. */
    uint32_t n_vpc_pcx = 0, n_extra = 0, ei = 0, ti = 0;
    for (v = 0; v < nv; v++) {
        uint32_t e0 = ei, t0 = ti;
        while (ei < ne && eedge[ei].vpc_idx == v)
            ei++;
        while (ti < ntags && tag_vpc[ti] == v)
            ti++;
        cs_evpc_dir *vd = &vdir[v / CS_EVPC_DIR_SPAN];
        if (v % CS_EVPC_DIR_SPAN == 0)
            vd->extra_before = n_extra;
        if (ei > e0 || ti > t0 || pcx_cnt[v]) {
            evx[n_extra++] = (cs_evpc_extra){e0, t0, n_vpc_pcx};
            vd->extra_bits |= 1ull << (v % CS_EVPC_DIR_SPAN);
        }
        uint32_t c = pcx_cnt[v];
        pcx_cnt[v] = n_vpc_pcx; /* now: fill position */
        n_vpc_pcx += c;
    }
    for (uint32_t i = 0; i < np; i++) {
        const cs_epeering *r = &epcx[i];
        if (r->vpc_idx[0] != CS_IDX_NONE)
            vpc_pcx[pcx_cnt[r->vpc_idx[0]]++] = i;
        if (r->vpc_idx[1] != CS_IDX_NONE && r->vpc_idx[1] != r->vpc_idx[0])
            vpc_pcx[pcx_cnt[r->vpc_idx[1]]++] = i;
    }

    /* 6. AWS checks per VPC, in VPC order. */
    for (v = 0; v < nv; v++) {
        uint32_t end = v + 1 < nv ? evpc[v + 1].assoc_begin : nas;
        check_vpc(e, v, vpc_ord[v], as_ord, evpc[v].assoc_begin, end, &z);
    }
    if (z.rc) {
        rc = cs_fail(err, z.rc, "out of memory (or strings over 4 GiB) recording findings");
        goto out_rc;
    }

    /* 7. Findings: the builder's, then the checks'. One string section:
     * the builder's arena followed by the checks' strings. */
    uint64_t nf = (uint64_t)e->n_finding + z.n;
    if (nf > UINT32_MAX - 1) {
        rc = cs_fail(err, CS_ERANGE, "more than 2^32-2 findings");
        goto out_rc;
    }
    efind = calloc((size_t)nf + 1, sizeof *efind);
    if (!efind)
        goto out;
    for (uint32_t i = 0; i < e->n_finding; i++) {
        const finding_b *f = &e->finding[i];
        efind[i] = (cs_efinding){.line = cs_estate_loc_line(e, &f->loc), .kind_off = f->kind_off,
                                 .msg_off = f->msg_off, .src_off = f->loc.src_off,
                                 .column = cs_estate_loc_column(e, &f->loc), .vpc_idx = CS_IDX_NONE};
    }
    if (z.n)
        memcpy(efind + e->n_finding, z.f, (size_t)z.n * sizeof *efind);
    uint64_t slen = e->strs.len + (z.extra.len - 1);
    strings = malloc((size_t)slen);
    if (!strings)
        goto out;
    memcpy(strings, e->strs.data, (size_t)e->strs.len);
    memcpy(strings + e->strs.len, z.extra.data + 1, (size_t)(z.extra.len - 1));

    /* 8. The associations leave the builder, which nothing reads after
     * this: each becomes its image record (compact_assoc) in builder order,
     * and a consuming freeze frees each chunk of builder records once read,
     * so the 48-byte records and the 20-byte ones are never resident
     * together (issue 13 item 12: the peak of a large prefix list). Then the
     * live ones, in new order, become the tries' entries (value =
     * association index) sorted by (prefix, value), and the tries' shapes
     * are planned from them. */
    ca = malloc(((size_t)nas + 1) * sizeof *ca);
    ca6 = malloc(((size_t)live[1] + dead[1] + 1) * sizeof *ca6);
    if (!ca || !ca6)
        goto out;
    for (uint32_t i = 0, n6 = 0; i < nas; i++) {
        const assoc_b *x = &CS_ASSOC(e, i);
        cs_eassoc r = {.len = x->len, .family = x->family};
        if (x->family == CS_AF_V4) {
            r.addr = (uint32_t)(x->hi >> 32);
        } else {
            ca6[n6] = (cs_eaddr6){x->hi, x->lo};
            r.addr = n6++;
        }
        r.id_off = x->sid == CS_INTERN_NONE ? 0 : cs_intern_off(&e->assoc_ids, x->sid);
        r.state = x->state ? x->state : CS_ASSOC_ASSOCIATED;
        r.flags = (uint8_t)((x->primary ? CS_EASSOC_PRIMARY : 0) |
                            (x->ip_source << CS_EASSOC_IPSRC_SHIFT) |
                            (x->ipv6_attr << CS_EASSOC_V6ATTR_SHIFT) |
                            (x->pool_off ? CS_EASSOC_POOL : 0));
        ca[i] = (compact_assoc){r, vpc_new[x->vpc], x->pool_off};
        if (mut && (i + 1 == nas || ((i + 1) & (CS_ASSOC_CHUNK - 1)) == 0)) {
            free(mut->assoc[i >> CS_ASSOC_CHUNK_BITS]);
            mut->assoc[i >> CS_ASSOC_CHUNK_BITS] = NULL;
        }
    }
    if (mut)
        cs_estate_release_assocs(mut, true);
    assoc_prefixes cp = {&ca->r, sizeof *ca, ca6, as_ord};
    for (unsigned f = 0; f < 2; f++) {
        ent[f] = malloc(((size_t)live[f] + 1) * sizeof *ent[f]);
        if (!ent[f])
            goto out;
    }
    {
        uint32_t k[2] = {0, 0};
        for (uint32_t i = 0; i < nas; i++) {
            const cs_eassoc *x = &ca[as_ord[i]].r;
            if (cs_assoc_state_live(x->state)) {
                unsigned f = cs_family_index(x->family);
                ent[f][k[f]++] = i;
            }
        }
    }
    for (unsigned f = 0; f < 2; f++) {
        if (f == 0 && nas <= ENT_V4_IDX_MASK) {
            if (sort_v4_entries(ent[0], live[0], &cp))
                goto out;
        } else {
            /* Stable, and ent[f] ascends: equal prefixes stay in value order. */
            uint32_t *t6 = malloc(((size_t)live[f] + 1) * sizeof *t6);
            if (!t6)
                goto out;
            sort_idx(ent[f], t6, live[f], cmp_entry, &cp);
            free(t6);
        }
        fam[f] = (cs_freeze_family){.values = ent[f], .n = live[f],
                                    .prefix_of = prefix_of_assoc, .ctx = &cp};
        if ((rc = cs_freeze_plan(&fam[f], err)))
            goto out_rc;
    }

    /* 9. The image at its exact size; the association sections are
     * reserved (NULL) and written in place below. */
    t.strings = strings;
    t.strings_len = slen;
    t.accounts = eacc;
    t.regions = ereg;
    t.vpcs = evpc;
    t.peerings = epcx;
    t.vpc_pcx = vpc_pcx;
    t.edges = eedge;
    t.tags = etag;
    t.findings = efind;
    t.vpc_extra = evx;
    t.vpc_dir = vdir;
    t.hdr.n_vpc_extra = n_extra;
    t.hdr.n_pools = n_pools;
    t.hdr.n_accounts = na;
    t.hdr.n_regions = nr;
    t.hdr.n_vpcs = nv;
    t.hdr.n_assocs = nas;
    t.hdr.n_peerings = np;
    t.hdr.n_edges = ne;
    t.hdr.n_tags = ntags;
    t.hdr.n_findings = (uint32_t)nf;
    t.hdr.n_vpc_pcx = n_vpc_pcx;
    t.hdr.live[0] = live[0];
    t.hdr.live[1] = live[1];
    t.hdr.dead[0] = dead[0];
    t.hdr.dead[1] = dead[1];
    t.hdr.default_vpcs = default_vpcs;
    t.hdr.pseudo_vpcs = pseudo_vpcs;
    t.hdr.rejected = e->rejected;
    cs_section_blob blobs[CS_ESEC_COUNT];
    if ((rc = cs_estate_image_sections(&t, blobs, err)))
        goto out_rc;
    cs_image_counts counts;
    for (unsigned f = 0; f < 2; f++) {
        counts.nodes[f] = fam[f].nodes;
        counts.entries[f] = live[f];
        counts.prefixes[f] = fam[f].prefixes;
    }
    if ((rc = cs_image_build_begin(&d, &counts, blobs, CS_ESEC_COUNT, CS_DRAFT_RAW, err)))
        goto out_rc;

    /* 10. Association records in frozen order (IPv6 keys renumbered in
     * that order), then the compact ones are gone: everything left reads
     * the image. Then the tries, from the sorted entries. */
    cs_eassoc *eas = d.extra[CS_ESEC_ASSOCS - CS_ESEC_HEADER];
    uint32_t *eas_vpc = d.extra[CS_ESEC_ASSOC_VPC - CS_ESEC_HEADER];
    cs_eaddr6 *eas6 = d.extra[CS_ESEC_ASSOC_V6 - CS_ESEC_HEADER];
    cs_eassoc_pool *epool = d.extra[CS_ESEC_ASSOC_POOL - CS_ESEC_HEADER];
    uint32_t n6 = 0, npool = 0;
    for (uint32_t i = 0; i < nas; i++) {
        const compact_assoc *x = &ca[as_ord[i]];
        cs_eassoc r = x->r;
        if (r.family != CS_AF_V4) {
            eas6[n6] = ca6[r.addr];
            r.addr = n6++;
        }
        if (x->pool_off)
            epool[npool++] = (cs_eassoc_pool){i, x->pool_off};
        eas[i] = r;
        eas_vpc[i] = x->vpc;
    }
    free(ca);
    ca = NULL;
    free(ca6);
    ca6 = NULL;
    free(as_ord);
    as_ord = NULL;
    assoc_prefixes ip = {eas, sizeof *eas, eas6, NULL};
    for (unsigned f = 0; f < 2; f++) {
        memcpy(d.values[f], ent[f], (size_t)live[f] * sizeof *ent[f]);
        free(ent[f]);
        ent[f] = NULL;
        fam[f].values = d.values[f];
        fam[f].ctx = &ip;
        cs_freeze_write(&fam[f], f ? NULL : d.hot4, f ? d.hot6 : NULL, d.cold[f]);
    }
    rc = cs_image_build_seal(&d, out, err);
    goto out_rc;

out:
    rc = cs_fail(err, CS_ENOMEM, "out of memory freezing the estate");
out_rc:
    if (d.img)
        cs_image_build_abort(&d);
    for (unsigned f = 0; f < 2; f++) {
        free(ent[f]);
        free(fam[f].glue);
    }
    free(ca);
    free(ca6);
    free(efind);
    free(t.hash);
    free(strings);
    cs_strbuf_release(&z.extra);
    trie_release(&z.blocks);
    free(z.f);
    free(tmp);
    free(acct_ord);
    free(acct_new);
    free(reg_ord);
    free(reg_new);
    free(vpc_ord);
    free(vpc_new);
    free(as_ord);
    free(pcx_ord);
    free(edge_ord);
    free(tag_ord);
    free(pcx_cnt);
    free(eacc);
    free(ereg);
    free(evpc);
    free(epcx);
    free(vpc_pcx);
    free(eedge);
    free(etag);
    free(tag_vpc);
    free(evx);
    free(vdir);
    if (mut)
        cs_estate_release_assocs(mut, true);
    return rc;
}

int cs_estate_freeze(const cs_estate *e, cs_snapshot **out, cs_error *err)
{
    return freeze(NULL, e, out, err);
}

int cs_estate_freeze_consume(cs_estate *e, cs_snapshot **out, cs_error *err)
{
    return freeze(e, e, out, err);
}
