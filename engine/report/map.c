/*
 * engine/report/map.c — the address-space maps and the peering graph as one
 * self-contained HTML section (cidrscope/map.h): SVG drawn here, CSS and a
 * small script inline, nothing fetched.
 *
 * Does: choose the maps (occupied private/reused IPv4 ranges, caller pools,
 * the most populated IPv6 /32s), collect each map's live blocks with one
 * trie walk (cs_query_walk over the range, so the cost grows with the blocks
 * inside, never with the range's size), place each block on a Hilbert
 * curve, aggregate when a map would hold more shapes than its budget, and
 * write shapes, legends, controls and each map's free space as the `free`
 * verb gives it (cs_ipam_free; the peering graph: map_graph.c). Does not: compute
 * overlaps or severities beyond reading the audit result and counting a
 * block's overlapping entries (cs_query_count), lay out the graph
 * (graph_layout.c), or close the stream.
 *
 * Geometry. A map of range R (length L, A = 32 - L or 128 - L address bits)
 * is a grid of 2^n x 2^n cells, n = min(floor(A / 2), 12); a cell holds
 * 2^c addresses, c = A - 2n (0 for every private IPv4 range; 72 for an IPv6
 * /32: a cell is a /56). Cell index d = the 2n address bits after R's
 * prefix; d -> (x, y) is the Hilbert curve of order n (hilbert_d2xy, the
 * iterative form in Hacker's Delight 2nd ed. 16-2 / Wikipedia "Hilbert
 * curve"). An aligned block of 2^h addresses covers cells [d, d + 2^(h-c)):
 * when h - c is even that run is the aligned square of side 2^((h-c)/2)
 * holding (x, y); when odd, it is two such squares side by side, a 2:1
 * rectangle. A block shorter than a cell is drawn as its cell; a block
 * containing R as the whole map.
 *
 *   10.0.0.0/8:  4096 x 4096 cells of 1 address, drawn 512 px wide:
 *                1 px = 64 addresses; a /16 is a 256-cell square,
 *                a /17 a 256 x 128 rectangle.
 *
 * Aggregation (a 1M-block estate must stay a page a browser opens): when a
 * map has more blocks than the budget, identical prefixes become one
 * stacked shape (data-count = blocks); when that is still too many, blocks
 * longer than D become density cells (one aligned /D square per occupied
 * /D, data-count), D the longest length whose shapes + cells fit. Entries
 * come from the walk in DFS preorder (address order, shorter first), so
 * identical prefixes and the blocks under one /D are contiguous. Counts of
 * shapes and cells always sum to the map's live blocks (tests/browser).
 * Overlap survives aggregation: a cell holding a block that overlaps another
 * live block (in the cell, or a block at or around the cell) is <rect
 * class="d kN o sS"> outlined in its severity's colour (S: the worst severity
 * naming one of its blocks, else informational) and hatched like a shape.
 *
 * Shapes: <rect class="b aA rR sS [o]"> (A = account index % 8, R = region
 * index % 8: palette entries; S = severity, 0 critical .. 3 informational,
 * 4 none; o = overlaps another block; the section's data-color attribute
 * says which class fills, so switching colours is one attribute, not a
 * pass over 30,000 shapes) with data-cidr, data-vpc, data-name,
 * data-account, data-region, and when overlapping data-ov (other blocks it
 * overlaps) and data-ovl (up to 2 of them); a stack adds data-count and
 * data-accounts / data-regions (up to 8). An overlapping block is followed
 * by a <rect class="hx"> hatched with its severity's pattern. Severity of a
 * block: the worst pair whose witnesses name it or group holding its
 * prefix, else the worst listed pair of its VPC, else informational when it
 * overlaps anything, else none.
 *
 * Palette: Okabe & Ito, "Color Universal Design" (2008), distinguishable
 * under the common colour-vision deficiencies; severities also differ by
 * pattern (cross-hatch, diagonal, dots, horizontal lines), not colour alone.
 *
 * Tests: tests/test_map.c (each drawn rectangle covers exactly the block's
 * cells under an independent xy -> d; aggregation sums; layout), the
 * browser test tests/cli/test_map_browser.sh (tests/browser/).
 */
#include "report/writer.h"

#include "core/error_internal.h"
#include "core/grow_internal.h"
#include "report/map_internal.h"

#include <cidrscope/cidrscope.h>
#include <cidrscope/ipam.h>
#include <cidrscope/map.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ORDER 12    /* grid side 4096 cells */
#define DRAW_PX 512     /* a map's drawn width in CSS pixels */
#define SEV_NONE CS_SEV_COUNT
#define OV_LISTED 2     /* overlapping blocks named per shape */
#define MAP_FLOOR 2048  /* budget share every map gets while the budget lasts */
#define FREE_LISTED 8   /* largest free blocks listed beside a map */
#define FREE_CAP 64     /* holes asked of cs_ipam_free at a time */
#define STACK_NAMES 8   /* accounts/regions named per stack */

const char *const cs_map_palette[8] = {"#0072B2", "#E69F00", "#009E73", "#CC79A7",
                                       "#56B4E9", "#D55E00", "#F0E442", "#999999"};
static const char *const sev_color[CS_SEV_COUNT + 1] = {"#D55E00", "#E69F00", "#CC79A7",
                                                        "#56B4E9", "#BBBBBB"};

/* ---- geometry ---------------------------------------------------------------- */

/* Cell d of the Hilbert curve of order `order` (side 2^order) -> (x, y). */
static void hilbert_d2xy(unsigned order, uint64_t d, uint32_t *x, uint32_t *y)
{
    uint32_t rx, ry, px = 0, py = 0;
    uint64_t t = d;
    for (uint32_t s = 1; s < (1u << order); s *= 2) {
        rx = (uint32_t)(1 & (t / 2));
        ry = (uint32_t)(1 & (t ^ rx));
        if (ry == 0) {
            if (rx == 1) {
                px = s - 1 - px;
                py = s - 1 - py;
            }
            uint32_t tmp = px;
            px = py;
            py = tmp;
        }
        px += s * rx;
        py += s * ry;
        t /= 4;
    }
    *x = px;
    *y = py;
}

typedef struct mgeom {
    cs_prefix range;
    unsigned bits;    /* 32 or 128 */
    unsigned abits;   /* address bits below the range */
    unsigned order;   /* grid side 2^order */
    unsigned cbits;   /* address bits per cell */
} mgeom;

typedef struct mrect {
    uint32_t x, y, w, h;
} mrect;

static void geom_init(mgeom *g, const cs_prefix *range)
{
    g->range = *range;
    g->bits = range->family == CS_AF_V6 ? 128 : 32;
    g->abits = g->bits - range->len;
    g->order = g->abits / 2 > MAX_ORDER ? MAX_ORDER : g->abits / 2;
    g->cbits = g->abits - 2 * g->order;
}

/* Bits [pos, pos + n) of p's address (left-aligned in hi:lo), n <= 64. */
static uint64_t addr_bits(const cs_prefix *p, unsigned pos, unsigned n)
{
    if (n == 0)
        return 0;
    if (pos + n <= 64)
        return (p->hi << pos) >> (64 - n);
    if (pos >= 64)
        return (p->lo << (pos - 64)) >> (64 - n);
    unsigned nh = 64 - pos, nl = n - nh;
    return ((p->hi << pos) >> (64 - nh)) << nl | (p->lo >> (64 - nl));
}

static mrect block_rect(const mgeom *g, const cs_prefix *p)
{
    uint32_t side = 1u << g->order;
    if (p->len <= g->range.len)
        return (mrect){0, 0, side, side};
    unsigned host = g->bits - p->len;
    unsigned k2 = host > g->cbits ? host - g->cbits : 0; /* 2^k2 cells */
    uint64_t d = addr_bits(p, g->range.len, 2 * g->order);
    uint32_t s = 1u << (k2 / 2), x, y;
    hilbert_d2xy(g->order, d, &x, &y);
    mrect r = {x & ~(s - 1), y & ~(s - 1), s, s};
    if (k2 % 2) {
        hilbert_d2xy(g->order, d + ((uint64_t)s * s), &x, &y);
        x &= ~(s - 1);
        y &= ~(s - 1);
        uint32_t x1 = (x > r.x ? x : r.x) + s, y1 = (y > r.y ? y : r.y) + s;
        r.x = x < r.x ? x : r.x;
        r.y = y < r.y ? y : r.y;
        r.w = x1 - r.x;
        r.h = y1 - r.y;
    }
    return r;
}

static cs_prefix truncate_to(const cs_prefix *p, unsigned len)
{
    cs_prefix t = *p;
    if (len >= t.len)
        return t;
    t.len = (uint8_t)len;
    if (len < 64) {
        t.hi = len ? p->hi & ~(UINT64_MAX >> len) : 0;
        t.lo = 0;
    } else {
        t.lo = len > 64 ? p->lo & ~(UINT64_MAX >> (len - 64)) : 0;
    }
    return t;
}

static bool same_prefix(const cs_prefix *a, const cs_prefix *b)
{
    return a->len == b->len && a->hi == b->hi && a->lo == b->lo && a->family == b->family;
}

/* ---- the estate, read once ------------------------------------------------------ */

typedef struct unit {
    cs_prefix p;
    uint32_t assoc;   /* first block's association */
    uint32_t count;   /* blocks it stands for */
    bool density;
    /* a density cell: some block in it overlaps another live block, and the
     * worst severity naming one of its blocks (SEV_NONE: none named) */
    bool ovl;
    uint8_t sev;
} unit;

typedef struct mapper {
    FILE *f;
    const cs_snapshot *s;
    const cs_audit_result *r;
    uint32_t budget;      /* shapes + cells, whole section */
    uint32_t map_budget;  /* this map's share */
    uint32_t n_assoc, n_vpc;
    uint8_t *sev_assoc;   /* per association: worst severity it is named in */
    uint8_t *sev_vpc;     /* per VPC: worst listed pair */
    unit *u;
    size_t n, cap;
    unsigned map_no;
    bool oom;
} mapper;

typedef struct vfacts {
    const char *id, *name, *account, *region;
    uint32_t ai, ri, vpc;
} vfacts;

/* The names of an association's VPC (the report writers' cs_report_vpc)
 * and its account and region indices (the palette's). */
static vfacts facts_of(const cs_snapshot *s, uint32_t assoc)
{
    vfacts v = {"", "", "", "", 0, 0, CS_IDX_NONE};
    v.vpc = cs_estate_assoc_vpc(s, assoc);
    cs_vpc vp;
    if (v.vpc == CS_IDX_NONE || cs_estate_vpc(s, v.vpc, &vp) != 0)
        return v;
    cs_vpc_facts x = cs_report_vpc(s, v.vpc);
    v.id = x.id;
    v.name = x.name;
    v.account = x.account;
    v.region = x.region;
    v.ai = vp.account_idx;
    v.ri = vp.region_idx;
    return v;
}

static void worse(uint8_t *slot, unsigned sev)
{
    if (sev < *slot)
        *slot = (uint8_t)sev;
}

static int severities(mapper *M)
{
    M->sev_assoc = malloc(M->n_assoc ? M->n_assoc : 1);
    M->sev_vpc = malloc(M->n_vpc ? M->n_vpc : 1);
    if (!M->sev_assoc || !M->sev_vpc)
        return CS_ENOMEM;
    memset(M->sev_assoc, SEV_NONE, M->n_assoc);
    memset(M->sev_vpc, SEV_NONE, M->n_vpc);
    if (!M->r)
        return 0;
    size_t np = cs_audit_pair_count(M->r);
    for (size_t i = 0; i < np; i++) {
        cs_audit_pair p;
        if (cs_audit_get_pair(M->r, i, &p) != 0)
            continue;
        if (p.vpc_a < M->n_vpc)
            worse(&M->sev_vpc[p.vpc_a], p.severity);
        if (p.vpc_b < M->n_vpc)
            worse(&M->sev_vpc[p.vpc_b], p.severity);
        for (uint32_t j = 0; j < p.witness_count; j++) {
            cs_audit_witness w;
            if (cs_audit_pair_witness(M->r, i, j, &w) != 0)
                continue;
            if (w.assoc_a < M->n_assoc)
                worse(&M->sev_assoc[w.assoc_a], p.severity);
            if (w.assoc_b < M->n_assoc)
                worse(&M->sev_assoc[w.assoc_b], p.severity);
        }
    }
    size_t ng = cs_audit_group_count(M->r);
    for (size_t i = 0; i < ng; i++) {
        cs_audit_group g;
        if (cs_audit_get_group(M->r, i, &g) != 0)
            continue;
        for (uint32_t k = 0; k < g.span; k++) {
            cs_prefix p;
            uint32_t v;
            if (cs_snapshot_entry(M->s, g.prefix.family, g.first_entry + k, &p, &v) == 0 &&
                v < M->n_assoc)
                worse(&M->sev_assoc[v], g.severity);
        }
    }
    return 0;
}

static int collect(const cs_match *m, void *ctx)
{
    mapper *M = ctx;
    if (cs_grow((void **)&M->u, &M->cap, M->n + m->count, sizeof *M->u, SIZE_MAX)) {
        M->oom = true;
        return 1;
    }
    for (uint32_t i = 0; i < m->count; i++)
        M->u[M->n++] = (unit){m->prefix, m->values[i], 1, false, false, SEV_NONE};
    return 0;
}

/* Merges consecutive units with the same prefix (identical blocks). */
static void stack_identical(mapper *M)
{
    size_t w = 0;
    for (size_t i = 0; i < M->n; i++) {
        if (w && !M->u[w - 1].density && same_prefix(&M->u[w - 1].p, &M->u[i].p))
            M->u[w - 1].count += M->u[i].count;
        else
            M->u[w++] = M->u[i];
    }
    M->n = w;
}

/* Shapes + cells if blocks longer than d become /d density cells. */
static size_t units_at(const mapper *M, unsigned d)
{
    size_t k = 0;
    cs_prefix last = {0, 0, 0, 0};
    bool have = false;
    for (size_t i = 0; i < M->n; i++) {
        if (M->u[i].p.len <= d) {
            k++;
            continue;
        }
        cs_prefix t = truncate_to(&M->u[i].p, d);
        if (!have || !same_prefix(&t, &last)) {
            k++;
            last = t;
            have = true;
        }
    }
    return k;
}

static void aggregate(mapper *M, const mgeom *g)
{
    if (M->n <= M->map_budget)
        return;
    stack_identical(M);
    if (M->n <= M->map_budget)
        return;
    unsigned d = g->range.len + 2 * g->order;
    while (d > g->range.len && units_at(M, d) > M->map_budget)
        d--;
    size_t w = 0;
    cs_prefix far = {0, 0, 0, 0}; /* the folded unit of the cell reaching furthest */
    for (size_t i = 0; i < M->n; i++) {
        unit x = M->u[i];
        if (x.p.len > d) {
            /* Units come in address order, shorter first: a unit overlaps
             * an earlier one of its cell exactly when it lies inside the one
             * reaching furthest (aligned blocks nest or are disjoint). */
            cs_prefix own = x.p;
            unsigned sev = x.assoc < M->n_assoc ? M->sev_assoc[x.assoc] : SEV_NONE;
            x.p = truncate_to(&x.p, d);
            x.density = true;
            if (w && M->u[w - 1].density && same_prefix(&M->u[w - 1].p, &x.p)) {
                unit *c = &M->u[w - 1];
                c->count += x.count;
                if (x.count > 1 || cs_prefix_overlaps(&far, &own))
                    c->ovl = true;
                else
                    far = own;
                if (sev < c->sev)
                    c->sev = (uint8_t)sev;
                continue;
            }
            far = own;
            x.ovl = x.count > 1;
            x.sev = (uint8_t)sev;
        }
        M->u[w++] = x;
    }
    M->n = w;
    /* a block at or around the cell (drawn as a shape) overlaps all of it */
    for (size_t i = 0; i < w; i++)
        if (M->u[i].density && !M->u[i].ovl &&
            cs_query_count(M->s, &M->u[i].p, CS_Q_COVERING) > 0)
            M->u[i].ovl = true;
}

/* ---- writing ------------------------------------------------------------------ */

void cs_map_attr(FILE *f, const char *name, const char *v)
{
    fprintf(f, " %s=\"", name);
    cs_html_escape(f, v);
    fputc('"', f);
}

typedef struct ovctx {
    FILE *f;
    const cs_snapshot *s;
    cs_prefix self;
    uint32_t self_assoc;
    unsigned listed;
} ovctx;

static int list_overlap(const cs_match *m, void *ctx)
{
    ovctx *o = ctx;
    for (uint32_t i = 0; i < m->count && o->listed < OV_LISTED; i++) {
        if (m->values[i] == o->self_assoc)
            continue;
        char t[CS_PREFIX_STRCAP];
        cs_prefix_format(&m->prefix, t, sizeof t);
        vfacts v = facts_of(o->s, m->values[i]);
        fprintf(o->f, "%s%s ", o->listed ? "; " : "", t);
        cs_html_escape(o->f, v.id);
        o->listed++;
    }
    return o->listed >= OV_LISTED;
}

/* data-accounts / data-regions of a stack: its first STACK_NAMES distinct
 * ones, from the trie's values for its prefix. */
static void stack_names(mapper *M, const unit *x)
{
    const char *acc[STACK_NAMES], *reg[STACK_NAMES];
    unsigned na = 0, nr = 0;
    cs_query_iter it;
    cs_query_iter_init(&it, M->s, &x->p, CS_Q_COVERED);
    cs_match m;
    while (cs_query_iter_next(&it, &m) > 0 && (na < STACK_NAMES || nr < STACK_NAMES)) {
        if (!same_prefix(&m.prefix, &x->p))
            continue;
        for (uint32_t i = 0; i < m.count && (na < STACK_NAMES || nr < STACK_NAMES); i++) {
            vfacts v = facts_of(M->s, m.values[i]);
            unsigned k;
            for (k = 0; k < na && strcmp(acc[k], v.account); k++)
                ;
            if (k == na && na < STACK_NAMES)
                acc[na++] = v.account;
            for (k = 0; k < nr && strcmp(reg[k], v.region); k++)
                ;
            if (k == nr && nr < STACK_NAMES)
                reg[nr++] = v.region;
        }
        break;
    }
    fputs(" data-accounts=\"", M->f);
    for (unsigned k = 0; k < na; k++) {
        fputs(k ? " " : "", M->f);
        cs_html_escape(M->f, acc[k]);
    }
    fputs("\" data-regions=\"", M->f);
    for (unsigned k = 0; k < nr; k++) {
        fputs(k ? " " : "", M->f);
        cs_html_escape(M->f, reg[k]);
    }
    fputc('"', M->f);
}

/* Shade of a density cell: floor(log2(blocks)), 0..7 (1 .. 128+ blocks). */
static unsigned density_class(uint32_t count)
{
    unsigned k = 0;
    while (count > 1 && k < 7) {
        count >>= 1;
        k++;
    }
    return k;
}

static void write_unit(mapper *M, const mgeom *g, const unit *x)
{
    FILE *f = M->f;
    mrect r = block_rect(g, &x->p);
    char t[CS_PREFIX_STRCAP];
    cs_prefix_format(&x->p, t, sizeof t);
    if (x->density) {
        /* overlap inside stays visible: outlined (class o s<severity>) and
         * hatched like an overlapping shape */
        unsigned sev = x->sev != SEV_NONE ? x->sev : CS_SEV_INFO;
        fprintf(f, "<rect class=\"d k%u", density_class(x->count));
        if (x->ovl)
            fprintf(f, " o s%u", sev);
        fprintf(f, "\" x=\"%u\" y=\"%u\" width=\"%u\" height=\"%u\" data-cidr=\"%s\" "
                   "data-count=\"%u\"/>\n",
                r.x, r.y, r.w, r.h, t, x->count);
        if (x->ovl)
            fprintf(f,
                    "<rect class=\"hx\" x=\"%u\" y=\"%u\" width=\"%u\" height=\"%u\" "
                    "fill=\"url(#h%u-%u)\"/>\n",
                    r.x, r.y, r.w, r.h, M->map_no, sev);
        return;
    }
    vfacts v = facts_of(M->s, x->assoc);
    int64_t ov = cs_query_count(M->s, &x->p, CS_Q_OVERLAPPING) - (int64_t)x->count;
    if (ov < 0)
        ov = 0;
    unsigned sev = x->assoc < M->n_assoc ? M->sev_assoc[x->assoc] : SEV_NONE;
    if (sev == SEV_NONE && v.vpc < M->n_vpc && (ov > 0 || x->count > 1))
        sev = M->sev_vpc[v.vpc];
    if (sev == SEV_NONE && (ov > 0 || x->count > 1))
        sev = CS_SEV_INFO;
    bool overlapping = ov > 0 || x->count > 1;
    /* colour classes: a<account % 8> r<region % 8> s<severity>; the section's
     * data-color attribute picks which one fills (CSS), o = overlapping */
    fprintf(f, "<rect class=\"b a%u r%u s%u%s\" x=\"%u\" y=\"%u\" width=\"%u\" height=\"%u\"",
            v.ai % 8, v.ri % 8, sev, overlapping ? " o" : "", r.x, r.y, r.w, r.h);
    fprintf(f, " data-cidr=\"%s\"", t);
    cs_map_attr(f, "data-vpc", v.id);
    if (v.name[0])
        cs_map_attr(f, "data-name", v.name);
    cs_map_attr(f, "data-account", v.account);
    cs_map_attr(f, "data-region", v.region);
    if (ov > 0)
        fprintf(f, " data-ov=\"%" PRId64 "\"", ov);
    if (x->count > 1) {
        fprintf(f, " data-count=\"%u\"", x->count);
        stack_names(M, x);
    }
    if (ov > 0) {
        fputs(" data-ovl=\"", f);
        ovctx o = {f, M->s, x->p, x->assoc, 0};
        cs_query_walk(M->s, &x->p, CS_Q_OVERLAPPING, list_overlap, &o);
        if (ov > o.listed)
            fprintf(f, "; +%" PRId64 " more", ov - o.listed);
        fputc('"', f);
    }
    fputs("/>\n", f);
    if (overlapping)
        fprintf(f,
                "<rect class=\"hx\" x=\"%u\" y=\"%u\" width=\"%u\" height=\"%u\" "
                "fill=\"url(#h%u-%u)\"/>\n",
                r.x, r.y, r.w, r.h, M->map_no, sev);
}

/* Addresses per drawn pixel as text: "64" or "2^40". */
static void per_pixel(FILE *f, const mgeom *g)
{
    /* 2^abits addresses on DRAW_PX^2 = 2^18 pixels */
    int lg = (int)g->abits - 18;
    if (lg < 0)
        fprintf(f, "1 address = %u px", 1u << -lg);
    else if (lg < 53)
        fprintf(f, "1 px = %" PRIu64 " addresses", (uint64_t)1 << lg);
    else
        fprintf(f, "1 px = 2^%d addresses", lg);
}

static void patterns(FILE *f, unsigned no, uint32_t side)
{
    /* one hatch tile = 1/64 of the map, so it reads the same at any size */
    unsigned t = side >= 64 ? side / 64 : 1;
    fputs("<defs>", f);
    for (unsigned s = 0; s <= CS_SEV_COUNT; s++) {
        fprintf(f, "<pattern id=\"h%u-%u\" patternUnits=\"userSpaceOnUse\" width=\"%u\" "
                   "height=\"%u\">", no, s, t, t);
        const char *c = sev_color[s];
        double w = t / 6.0;
        switch (s) {
        case CS_SEV_CRITICAL: /* cross-hatch */
            fprintf(f, "<path d=\"M0 0L%u %uM%u 0L0 %u\" stroke=\"%s\" stroke-width=\"%.2f\"/>", t,
                    t, t, t, c, w);
            break;
        case CS_SEV_HIGH: /* diagonal */
            fprintf(f, "<path d=\"M0 %uL%u 0\" stroke=\"%s\" stroke-width=\"%.2f\"/>", t, t, c, w);
            break;
        case CS_SEV_MEDIUM: /* dots */
            fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%.2f\" fill=\"%s\"/>", t / 2.0,
                    t / 2.0, t / 4.0, c);
            break;
        default: /* horizontal lines */
            fprintf(f, "<path d=\"M0 %.2fH%u\" stroke=\"%s\" stroke-width=\"%.2f\"/>", t / 2.0, t,
                    c, w);
        }
        fputs("</pattern>", f);
    }
    fputs("</defs>\n", f);
}

typedef struct legend_ent {
    uint32_t idx, count;
} legend_ent;

static int by_count_desc(const void *a, const void *b)
{
    const legend_ent *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The legend of one colouring: the 10 most frequent accounts or regions of
 * the map's units (by blocks), with their swatches. */
static void legend_of(mapper *M, bool regions)
{
    FILE *f = M->f;
    legend_ent top[10];
    size_t nt = 0;
    legend_ent *all = NULL;
    size_t na = 0, cap = 0;
    for (size_t i = 0; i < M->n; i++) {
        if (M->u[i].density)
            continue;
        vfacts v = facts_of(M->s, M->u[i].assoc);
        uint32_t k = regions ? v.ri : v.ai;
        size_t j;
        for (j = 0; j < na && all[j].idx != k; j++)
            ;
        if (j == na) {
            if (cs_grow((void **)&all, &cap, na + 1, sizeof *all, SIZE_MAX)) {
                M->oom = true;
                break;
            }
            all[na++] = (legend_ent){k, 0};
        }
        all[j].count += M->u[i].count;
        if (na > 4096) /* enough to rank the top ten of any real estate */
            break;
    }
    if (na)
        qsort(all, na, sizeof *all, by_count_desc);
    nt = na < 10 ? na : 10;
    if (nt)
        memcpy(top, all, nt * sizeof *top);
    fprintf(f, "<div class=\"csm-leg\" data-mode=\"%s\"%s>", regions ? "region" : "account",
            regions ? " hidden" : "");
    for (size_t i = 0; i < nt; i++) {
        const char *name = "";
        if (regions) {
            cs_region rg;
            if (cs_estate_region(M->s, top[i].idx, &rg) == 0)
                name = rg.name[0] ? rg.name : "(unknown)";
        } else {
            cs_account a;
            if (cs_estate_account(M->s, top[i].idx, &a) == 0)
                name = a.id;
        }
        fprintf(f, "<span><i style=\"background:%s\"></i>", cs_map_palette[top[i].idx % 8]);
        cs_html_escape(f, name);
        fprintf(f, " (%u)</span> ", top[i].count);
    }
    if (na > nt)
        fprintf(f, "<span>%s%zu more (colours repeat every 8)</span>",
                na > 4096 ? "over " : "", na - nt);
    fputs("</div>\n", f);
    free(all);
}

static void legend_severity(FILE *f, unsigned no)
{
    static const char *const what[] = {"critical", "high", "medium", "informational",
                                       "no overlap"};
    fputs("<div class=\"csm-leg\" data-mode=\"severity\" hidden>", f);
    for (unsigned s = 0; s <= CS_SEV_COUNT; s++)
        fprintf(f, "<span><i style=\"background:%s\"></i>%s</span> ", sev_color[s], what[s]);
    fputs("</div>\n<div class=\"csm-hat\">overlapping blocks: ", f);
    for (unsigned s = 0; s < CS_SEV_COUNT; s++)
        fprintf(f, "<span><svg width=\"14\" height=\"14\" viewBox=\"0 0 64 64\"><rect width=\"64\" "
                   "height=\"64\" fill=\"url(#h%u-%u)\" stroke=\"%s\" stroke-width=\"6\"/></svg>"
                   "%s</span> ",
                no, s, sev_color[s], what[s]);
    fputs("</div>\n", f);
}

static int by_size(const void *a, const void *b)
{
    const cs_prefix *x = a, *y = b;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return cs_prefix_compare(x, y);
}

static double u128_double(cs_u128 n)
{
    return (double)n.hi * 18446744073709551616.0 + (double)n.lo;
}

/* The map's free space as the `free` verb gives it (cs_ipam_free over the
 * map's range): free addresses, free blocks, largest free block and
 * fragmentation, then the FREE_LISTED largest free blocks, largest first,
 * each a link that zooms the map onto it. The list is `free --pool RANGE
 * --min-length L` for the shortest L that names FREE_LISTED blocks. */
static void free_space(mapper *M, const mgeom *g)
{
    FILE *f = M->f;
    cs_ipam_pool_stats st;
    cs_prefix hole[FREE_CAP];
    if (cs_ipam_free(M->s, &g->range, NULL, 0, g->range.len, hole, FREE_CAP, &st) < 0)
        return;
    char a[48], b[48];
    cs_u128_format(st.free, a, sizeof a);
    cs_u128_format(st.addresses, b, sizeof b);
    double pct = 100.0 * u128_double(st.free) / u128_double(st.addresses);
    fprintf(f, "<div class=\"csm-free\">free: %s of %s addresses (%.1f%%)", a, b, pct);
    if (!st.has_free) {
        fputs(", no free block</div>\n", f);
        return;
    }
    char t[CS_PREFIX_STRCAP];
    cs_prefix_format(&st.largest_free, t, sizeof t);
    fprintf(f, " in %" PRIu64 " blocks; largest %s; fragmentation %.2f<br>largest free blocks:",
            st.free_blocks, t, st.fragmentation);
    /* the shortest --min-length that names FREE_LISTED holes (or all) */
    unsigned use = st.largest_free.len;
    for (unsigned ml = st.largest_free.len; ml <= g->bits; ml++) {
        int64_t k = cs_ipam_free(M->s, &g->range, NULL, 0, ml, hole, FREE_CAP, NULL);
        if (k < 0)
            return;
        if (k > FREE_CAP && ml > st.largest_free.len)
            break; /* too many to ask for at once: the previous length */
        use = ml;
        if (k >= FREE_LISTED)
            break;
    }
    int64_t n = cs_ipam_free(M->s, &g->range, NULL, 0, use, hole, FREE_CAP, NULL);
    if (n < 0)
        return;
    if (n > FREE_CAP)
        n = FREE_CAP;
    qsort(hole, (size_t)n, sizeof *hole, by_size);
    for (int64_t i = 0; i < n && i < FREE_LISTED; i++) {
        mrect r = block_rect(g, &hole[i]);
        cs_prefix_format(&hole[i], t, sizeof t);
        fprintf(f, " <a class=\"csm-hole\" data-cidr=\"%s\" data-x=\"%u\" data-y=\"%u\" "
                   "data-w=\"%u\" data-h=\"%u\">%s</a>",
                t, r.x, r.y, r.w, r.h, t);
    }
    fputs("</div>\n", f);
}

static int write_map(mapper *M, const cs_prefix *range, const char *kind)
{
    FILE *f = M->f;
    mgeom g;
    geom_init(&g, range);
    M->n = 0;
    M->oom = false;
    cs_query_walk(M->s, range, CS_Q_OVERLAPPING, collect, M);
    if (M->oom)
        return CS_ENOMEM;
    size_t blocks = M->n;
    aggregate(M, &g);
    uint32_t side = 1u << g.order;
    char t[CS_PREFIX_STRCAP];
    cs_prefix_format(range, t, sizeof t);
    unsigned no = M->map_no;
    fprintf(f, "<figure class=\"csm-fig\" id=\"csm-map-%u\">\n<figcaption><b>%s</b> %s &mdash; "
               "%zu live block%s; ",
            no, t, kind, blocks, blocks == 1 ? "" : "s");
    per_pixel(f, &g);
    size_t dens = 0;
    for (size_t i = 0; i < M->n; i++)
        dens += M->u[i].density;
    if (dens)
        fprintf(f, "; %zu density cells (blocks too many to draw one by one)", dens);
    fprintf(f, "</figcaption>\n<svg class=\"csm\" viewBox=\"0 0 %u %u\" data-side=\"%u\" "
               "data-range=\"%s\" data-blocks=\"%zu\" width=\"%u\" height=\"%u\" "
               "xmlns=\"http://www.w3.org/2000/svg\">\n",
            side, side, side, t, blocks, DRAW_PX, DRAW_PX);
    patterns(f, no, side);
    fprintf(f, "<rect class=\"bg\" width=\"%u\" height=\"%u\"/>\n<g class=\"cls\">", side, side);
    size_t nc = M->r ? cs_audit_cluster_count(M->r) : 0;
    for (size_t i = 0; i < nc; i++) {
        cs_audit_cluster c;
        if (cs_audit_get_cluster(M->r, i, &c) != 0 || c.top.family != range->family ||
            !cs_prefix_contains(range, &c.top) || c.top.len <= range->len)
            continue;
        mrect r = block_rect(&g, &c.top);
        char ct[CS_PREFIX_STRCAP];
        cs_prefix_format(&c.top, ct, sizeof ct);
        fprintf(f, "<rect class=\"cl\" x=\"%u\" y=\"%u\" width=\"%u\" height=\"%u\" "
                   "data-top=\"%s\" data-entries=\"%u\"/>",
                r.x, r.y, r.w, r.h, ct, c.entries);
    }
    fputs("</g>\n<g class=\"blks\">\n", f);
    for (size_t i = 0; i < M->n; i++)
        write_unit(M, &g, &M->u[i]);
    fputs("</g>\n</svg>\n<div class=\"csm-side\">", f);
    legend_of(M, false);
    legend_of(M, true);
    legend_severity(f, no);
    free_space(M, &g);
    fputs("</div>\n</figure>\n", f);
    M->map_no++;
    return M->oom ? CS_ENOMEM : 0;
}

/* ---- which maps -------------------------------------------------------------------- */

typedef struct v6slash {
    uint64_t key;     /* the /32's top 32 bits */
    uint32_t count;
} v6slash;

static int count_v6(const cs_match *m, void *ctx)
{
    struct {
        v6slash *v;
        size_t n, cap;
        bool oom;
    } *c = ctx;
    uint64_t key = m->prefix.hi >> 32;
    if (c->n && c->v[c->n - 1].key == key) {
        c->v[c->n - 1].count += m->count;
        return 0;
    }
    if (cs_grow((void **)&c->v, &c->cap, c->n + 1, sizeof *c->v, SIZE_MAX)) {
        c->oom = true;
        return 1;
    }
    c->v[c->n++] = (v6slash){key, m->count};
    return 0;
}

static int v6_by_count(const void *a, const void *b)
{
    const v6slash *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return x->key < y->key ? -1 : x->key > y->key;
}

static int v6_by_key(const void *a, const void *b)
{
    const v6slash *x = a, *y = b;
    return x->key < y->key ? -1 : x->key > y->key;
}

typedef struct mapdef {
    cs_prefix range;
    const char *kind;
    uint64_t blocks;
    uint32_t budget;
} mapdef;

static int by_blocks(const void *a, const void *b)
{
    const mapdef *x = *(mapdef *const *)a, *y = *(mapdef *const *)b;
    return x->blocks < y->blocks ? -1 : x->blocks > y->blocks;
}

/* Shares the section's budget out in proportion to the maps' blocks, but
 * at least MAP_FLOOR each (while the budget lasts), smallest map first, each
 * taking at most what it needs (water filling): a map of 1,500 blocks is
 * never aggregated because a map of 1M is, and what the small ones leave
 * goes to the crowded ones. */
static int share_budget(mapdef *d, size_t n, uint32_t total)
{
    mapdef **order = malloc((n ? n : 1) * sizeof *order);
    if (!order)
        return CS_ENOMEM;
    for (size_t i = 0; i < n; i++)
        order[i] = &d[i];
    qsort(order, n, sizeof *order, by_blocks);
    uint64_t left = total, blocks_left = 0;
    for (size_t i = 0; i < n; i++)
        blocks_left += d[i].blocks;
    for (size_t i = 0; i < n; i++) {
        uint64_t fair = blocks_left ? left * order[i]->blocks / blocks_left : 0;
        uint64_t floor = left / (n - i) < MAP_FLOOR ? left / (n - i) : MAP_FLOOR;
        if (fair < floor)
            fair = floor;
        blocks_left -= order[i]->blocks;
        uint64_t give = order[i]->blocks < fair ? order[i]->blocks : fair;
        order[i]->budget = (uint32_t)(give < 16 ? 16 : give);
        left -= give;
    }
    free(order);
    return 0;
}

static int write_maps(mapper *M, const cs_map_options *o)
{
    static const char *const ranges[] = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                         "100.64.0.0/10"};
    static const char *const kinds[] = {"(RFC 1918)", "(RFC 1918)", "(RFC 1918)",
                                        "(RFC 6598 shared, reused)"};
    struct {
        v6slash *v;
        size_t n, cap;
        bool oom;
    } c = {NULL, 0, 0, false};
    cs_prefix all6 = cs_prefix_from_v6(0, 0, 0);
    cs_query_walk(M->s, &all6, CS_Q_COVERED, count_v6, &c);
    size_t shown = c.n < CS_MAP_MAX_V6_MAPS ? c.n : CS_MAP_MAX_V6_MAPS;
    mapdef *d = malloc((o->pool_count + 4 + shown + 1) * sizeof *d);
    if (c.oom || !d) {
        free(c.v);
        free(d);
        return CS_ENOMEM;
    }
    size_t nd = 0;
    for (size_t i = 0; i < o->pool_count; i++)
        d[nd++] = (mapdef){o->pools[i], "(pool)", 0, 0};
    for (size_t i = 0; i < 4; i++) {
        cs_prefix p;
        cs_prefix_parse(ranges[i], strlen(ranges[i]), 0, &p, NULL);
        if (cs_query_count(M->s, &p, CS_Q_COVERED) > 0)
            d[nd++] = (mapdef){p, kinds[i], 0, 0};
    }
    if (c.n) { /* no IPv6 at all: c.v is NULL */
        qsort(c.v, c.n, sizeof *c.v, v6_by_count);
        qsort(c.v, shown, sizeof *c.v, v6_by_key);
    }
    for (size_t i = 0; i < shown; i++)
        d[nd++] = (mapdef){cs_prefix_from_v6(c.v[i].key << 32, 0, 32), "(IPv6 /32)", 0, 0};
    for (size_t i = 0; i < nd; i++) {
        int64_t k = cs_query_count(M->s, &d[i].range, CS_Q_OVERLAPPING);
        d[i].blocks = k > 0 ? (uint64_t)k : 0;
    }
    int rc = share_budget(d, nd, M->budget);
    for (size_t i = 0; i < nd && !rc; i++) {
        M->map_budget = d[i].budget;
        rc = write_map(M, &d[i].range, d[i].kind);
    }
    if (!rc && c.n > shown)
        fprintf(M->f, "<p class=\"csm-note\">%zu more occupied IPv6 /32s are not drawn (the %zu "
                      "most populated are).</p>\n",
                c.n - shown, shown);
    free(d);
    free(c.v);
    return rc;
}

/* ---- the section ------------------------------------------------------------------------ */

static const char css[] =
    "#csmap .csm-ctl{position:sticky;top:0;background:#fff;padding:.4em 0;z-index:2;"
    "border-bottom:1px solid #ddd}\n"
    "#csmap .csm-ctl label,#csmap .csm-ctl select{margin-right:.8em}\n"
    "#csmap .csm-fig{display:inline-block;vertical-align:top;width:520px;margin:0 1.2em 1.2em 0}\n"
    "#csmap figcaption{font-size:13px;margin-bottom:.3em}\n"
    "#csmap svg.csm{border:1px solid #888;background:#fff;cursor:zoom-in;display:block}\n"
    "#csmap svg.csm .bg{fill:#fafafa}\n"
    "#csmap svg.csm .cl{fill:none;stroke:#555;stroke-dasharray:4 3;stroke-width:1px;"
    "vector-effect:non-scaling-stroke}\n"
    "#csmap svg.csm .b{stroke:#333;stroke-opacity:.45;stroke-width:.5px;"
    "vector-effect:non-scaling-stroke}\n"
    "#csmap svg.csm .hx{pointer-events:none}\n"
    "#csmap svg.csm .d{fill:#1a3a5a;stroke:#fff;stroke-opacity:.6;stroke-width:.5px;"
    "vector-effect:non-scaling-stroke}\n"
    "#csmap .k0{fill-opacity:.15}#csmap .k1{fill-opacity:.25}#csmap .k2{fill-opacity:.35}"
    "#csmap .k3{fill-opacity:.45}#csmap .k4{fill-opacity:.55}#csmap .k5{fill-opacity:.65}"
    "#csmap .k6{fill-opacity:.75}#csmap .k7{fill-opacity:.85}\n"
    "#csmap .off{display:none}\n#csmap .dim{opacity:.25}\n"
    "#csmap .csm-side{font-size:12px}\n#csmap .csm-leg span,#csmap .csm-hat span{"
    "white-space:nowrap;margin-right:.6em}\n"
    "#csmap .csm-leg i{display:inline-block;width:10px;height:10px;margin-right:3px;"
    "border:1px solid #666}\n"
    "#csmap .csm-hat svg{vertical-align:middle;margin-right:3px}\n"
    "#csmap svg.csg{border:1px solid #888;background:#fff}\n"
    "#csmap svg.csg .pe line{stroke:#999;stroke-width:2}\n"
    "#csmap svg.csg .ov line{stroke:#D55E00;stroke-width:3;stroke-dasharray:10 6}\n"
    "#csmap svg.csg text{font-size:14px}\n"
    "#csm-tip{position:absolute;z-index:9;background:#fffff0;border:1px solid #888;"
    "padding:.3em .5em;font:12px/1.35 ui-monospace,monospace;white-space:pre;"
    "pointer-events:none;max-width:40em}\n"
    "table code,table th,#csmap .csm-hole{cursor:pointer}\n"
    "#csmap .csm-free{margin-top:.3em}#csmap .csm-hole{font:12px ui-monospace,monospace;"
    "text-decoration:underline dotted;margin-left:.4em;white-space:nowrap}\n"
    ".csm-flash{outline:3px solid #000}\n"
    /* maps off screen are neither laid out nor painted until scrolled to */
    "#csmap .csm-fig{content-visibility:auto;contain-intrinsic-size:520px 660px}\n"
    "@media print{#csmap .csm-ctl,#csm-tip{display:none}#csmap .csm-fig{width:46%;"
    "break-inside:avoid}#csmap svg.csm{width:100%;height:auto}}\n";

/* Hover, zoom, colour switch, filters and links from the tables' VPC ids
 * and prefixes to their shapes. No library, no network. */
static const char script_view[] =
    "(function(){\n"
    "var SN=['critical','high','medium','informational','none'];\n"
    "var root=document.getElementById('csmap'),tip=document.getElementById('csm-tip');\n"
    "function A(e,n){return e.getAttribute(n);}\n"
    "function sev(e){var m=/ s([0-4])/.exec(e.getAttribute('class'));return m?+m[1]:4;}\n"
    "function recolor(m){root.setAttribute('data-color',m);"
    "root.querySelectorAll('.csm-leg').forEach(function(l){l.hidden=A(l,'data-mode')!==m;});}\n"
    "recolor(A(root,'data-color'));\n"
    "root.querySelectorAll('input[name=csm-color]').forEach(function(r){"
    "r.addEventListener('change',function(){recolor(r.value);});});\n"
    "function describe(e){if(e.classList.contains('d'))return A(e,'data-count')+' blocks in '+"
    "A(e,'data-cidr')+(e.classList.contains('o')?'\\nsome overlap, worst '+SN[sev(e)]:'')+"
    "'\\n(density cell: click to zoom)';\n"
    " var t=A(e,'data-vpc')+(A(e,'data-name')?'  '+A(e,'data-name'):'')+'\\naccount '+"
    "A(e,'data-account')+'  region '+A(e,'data-region')+'\\n'+A(e,'data-cidr');\n"
    " if(A(e,'data-count'))t+='\\n'+A(e,'data-count')+' blocks hold this prefix (accounts: '+"
    "A(e,'data-accounts')+')';\n"
    " if(A(e,'data-ovl'))t+='\\noverlaps '+A(e,'data-ov')+' block(s), '+SN[sev(e)]+"
    "':\\n  '+A(e,'data-ovl');\n return t;}\n"
    "root.addEventListener('mouseover',function(ev){var e=ev.target;"
    "if(!e.classList||!(e.classList.contains('b')||e.classList.contains('d'))){tip.hidden=true;"
    "return;}tip.textContent=describe(e);tip.hidden=false;"
    "tip.style.left=(ev.pageX+14)+'px';tip.style.top=(ev.pageY+14)+'px';});\n"
    "root.addEventListener('mousemove',function(ev){if(!tip.hidden){"
    "tip.style.left=(ev.pageX+14)+'px';tip.style.top=(ev.pageY+14)+'px';}});\n"
    "root.addEventListener('mouseleave',function(){tip.hidden=true;});\n"
    "function vb(s){return A(s,'viewBox').split(' ').map(Number);}\n"
    "function zoom(s,x,y,w,h){var m=Math.max(w,h,1),p=m*0.08;s.setAttribute('viewBox',"
    "(x+w/2-m/2-p)+' '+(y+h/2-m/2-p)+' '+(m+2*p)+' '+(m+2*p));}\n"
    "function R(c){return[+A(c,'x'),+A(c,'y'),+A(c,'width'),+A(c,'height')];}\n"
    "root.querySelectorAll('svg.csm').forEach(function(s){s.addEventListener('click',"
    "function(ev){var pt=s.createSVGPoint();pt.x=ev.clientX;pt.y=ev.clientY;"
    "var q=pt.matrixTransform(s.getScreenCTM().inverse()),cur=vb(s),best=null,ba=0;\n"
    " s.querySelectorAll('.cl,.d').forEach(function(c){var r=R(c),a=r[2]*r[3];"
    "if(q.x>=r[0]&&q.x<=r[0]+r[2]&&q.y>=r[1]&&q.y<=r[1]+r[3]&&a<0.8*cur[2]*cur[3]&&a>ba)"
    "{best=r;ba=a;}});\n"
    " if(!best){var w=cur[2]/4;if(w<1)return;best=[q.x-w/2,q.y-w/2,w,w];}\n"
    " zoom(s,best[0],best[1],best[2],best[3]);});});\n"
    "document.getElementById('csm-reset').addEventListener('click',function(){"
    "root.querySelectorAll('svg.csm').forEach(function(s){var d=A(s,'data-side');"
    "s.setAttribute('viewBox','0 0 '+d+' '+d);});});\n"
    "})();\n";

/* filters and links: a second literal (C99 guarantees 4,095 bytes) */
static const char script_tables[] =
    "(function(){\n"
    "var SN=['critical','high','medium','informational','none'];\n"
    "var root=document.getElementById('csmap');\n"
    "var shapes=Array.prototype.slice.call(root.querySelectorAll('svg.csm .b'));\n"
    "var cells=Array.prototype.slice.call(root.querySelectorAll('svg.csm .d'));\n"
    "function A(e,n){return e.getAttribute(n);}\n"
    "function sev(e){var m=/ s([0-4])/.exec(e.getAttribute('class'));return m?+m[1]:4;}\n"
    "function R(c){return[+A(c,'x'),+A(c,'y'),+A(c,'width'),+A(c,'height')];}\n"
    "function zoom(s,x,y,w,h){var m=Math.max(w,h,1),p=m*0.08;s.setAttribute('viewBox',"
    "(x+w/2-m/2-p)+' '+(y+h/2-m/2-p)+' '+(m+2*p)+' '+(m+2*p));}\n"
    "var fa=document.getElementById('csm-f-account'),fr=document.getElementById('csm-f-region'),"
    "fs=document.getElementById('csm-f-sev');\n"
    "function filt(){var a=fa.value,r=fr.value,v=fs.value,any=a||r||v;\n"
    " shapes.forEach(function(e){var ac=(A(e,'data-accounts')||A(e,'data-account')).split(' '),"
    "rg=(A(e,'data-regions')||A(e,'data-region')).split(' ');"
    "var ok=(!a||ac.indexOf(a)>=0)&&(!r||rg.indexOf(r)>=0)&&(!v||SN[sev(e)]===v);"
    "e.classList.toggle('off',!ok);var h=e.nextElementSibling;"
    "if(h&&h.classList.contains('hx'))h.classList.toggle('off',!ok);});\n"
    " cells.forEach(function(e){e.classList.toggle('dim',!!any);var h=e.nextElementSibling;"
    "if(h&&h.classList.contains('hx'))h.classList.toggle('dim',!!any);});\n"
    " root.querySelectorAll('svg.csg .n').forEach(function(e){e.classList.toggle('dim',"
    "!!((a&&A(e,'data-account')!==a)||(r&&A(e,'data-region')!==r)));});\n"
    /* the report's tables filter themselves over all their rows, paged or
     * not (report/audit_report_html.c) */
    " document.dispatchEvent(new CustomEvent('csm-filter',{detail:{account:a,region:r,"
    "severity:v}}));}\n"
    "[fa,fr,fs].forEach(function(e){e.addEventListener('change',filt);});\n"
    /* one listener for the whole page (nothing is touched per row or cell at
     * load, which matters with thousands of findings): a VPC id or prefix in
     * a table shows its shape on the map */
    "var idx={};shapes.forEach(function(e){var v=A(e,'data-vpc'),c=A(e,'data-cidr');"
    "if(!idx[v])idx[v]=e;if(!idx[c])idx[c]=e;});\n"
    "function show(e){var s=e.ownerSVGElement,r=R(e);s.scrollIntoView({block:'center'});"
    "zoom(s,r[0]-r[2],r[1]-r[3],3*r[2],3*r[3]);e.classList.add('csm-flash');"
    "setTimeout(function(){e.classList.remove('csm-flash');},1500);}\n"
    "document.addEventListener('click',function(ev){var t=ev.target;"
    "if(t.tagName==='CODE'&&t.closest('table')&&idx[t.textContent])show(idx[t.textContent]);"
    "else if(t.classList&&t.classList.contains('csm-hole')){var s=t.closest('figure')"
    ".querySelector('svg.csm');zoom(s,+A(t,'data-x'),+A(t,'data-y'),+A(t,'data-w'),"
    "+A(t,'data-h'));s.scrollIntoView({block:'nearest'});}});\n"
    "})();\n";

static void options_of(FILE *f, const cs_snapshot *s)
{
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    fputs("<select id=\"csm-f-account\" aria-label=\"account\"><option value=\"\">all accounts"
          "</option>",
          f);
    for (uint32_t i = 0; i < c.accounts; i++) {
        cs_account a;
        if (cs_estate_account(s, i, &a) != 0 || !a.vpc_count)
            continue;
        fputs("<option>", f);
        cs_html_escape(f, a.id);
        fputs("</option>", f);
    }
    fputs("</select><select id=\"csm-f-region\" aria-label=\"region\"><option value=\"\">all "
          "regions</option>",
          f);
    for (uint32_t i = 0; i < c.regions; i++) {
        cs_region r;
        if (cs_estate_region(s, i, &r) != 0 || !r.name[0] || !r.vpc_count)
            continue;
        fputs("<option>", f);
        cs_html_escape(f, r.name);
        fputs("</option>", f);
    }
    fputs("</select><select id=\"csm-f-sev\" aria-label=\"severity\"><option value=\"\">all "
          "severities</option>",
          f);
    for (unsigned k = 0; k < CS_SEV_COUNT; k++)
        fprintf(f, "<option>%s</option>", cs_severity_name(k));
    fputs("<option value=\"none\">no overlap</option></select>", f);
}

int cs_map_write_section(FILE *f, const cs_snapshot *s, const cs_audit_result *r,
                         const cs_map_options *o, cs_error *err)
{
    if (!f || !s)
        return cs_fail(err, CS_EINVAL, "cs_map_write_section: NULL argument");
    if (!cs_estate_present(s))
        return cs_fail(err, CS_EINVAL, "map: the snapshot holds no estate (VPCs and accounts)");
    cs_map_options def = {0};
    if (!o)
        o = &def;
    for (size_t i = 0; i < o->pool_count; i++) {
        const cs_prefix *p = &o->pools[i];
        if (!same_prefix(p, (cs_prefix[]){truncate_to(p, p->len)}) ||
            (p->family != CS_AF_V4 && p->family != CS_AF_V6) ||
            p->len > (p->family == CS_AF_V6 ? 128 : 32))
            return cs_fail(err, CS_EINVAL, "map: pool %zu is not a canonical prefix", i);
    }
    cs_estate_counts c;
    cs_estate_counts_get(s, &c);
    mapper M = {.f = f, .s = s, .r = r, .budget = o->shape_budget ? o->shape_budget
                                                                  : CS_MAP_SHAPE_BUDGET,
                .n_assoc = c.assocs, .n_vpc = c.vpcs};
    int rc = severities(&M);
    if (!rc) {
        static const char *const modes[] = {"account", "region", "severity"};
        fprintf(f, "<section id=\"csmap\" data-color=\"%s\">\n<style>\n%s",
                modes[o->color_by >= 0 && o->color_by <= 2 ? o->color_by : 0], css);
        for (unsigned k = 0; k < 8; k++)
            fprintf(f, "#csmap[data-color=account] .b.a%u,#csmap[data-color=region] .b.r%u"
                       "{fill:%s}\n",
                    k, k, cs_map_palette[k]);
        for (unsigned k = 0; k <= CS_SEV_COUNT; k++)
            fprintf(f, "#csmap[data-color=severity] .b.s%u{fill:%s}\n"
                       "#csmap svg.csm .o.s%u{stroke:%s;stroke-width:2px;stroke-opacity:1}\n",
                    k, sev_color[k], k, sev_color[k]);
        fprintf(f, "</style>\n<h2>Address space</h2>\n"
                   "<div class=\"csm-ctl\">colour by <label><input type=\"radio\" "
                   "name=\"csm-color\" value=\"account\"%s>account</label><label><input "
                   "type=\"radio\" name=\"csm-color\" value=\"region\"%s>region</label><label>"
                   "<input type=\"radio\" name=\"csm-color\" value=\"severity\"%s>severity"
                   "</label> show ",
                o->color_by == CS_MAP_BY_ACCOUNT ? " checked" : "",
                o->color_by == CS_MAP_BY_REGION ? " checked" : "",
                o->color_by == CS_MAP_BY_SEVERITY ? " checked" : "");
        options_of(f, s);
        fputs(" <button type=\"button\" id=\"csm-reset\">reset zoom</button></div>\n"
              "<p class=\"csm-note\">Each map is a Hilbert curve through its range: addresses "
              "that are close stay close, and every aligned block is a square or a 2:1 "
              "rectangle. Empty space is free. Dashed outlines are overlap clusters: click one "
              "to zoom. Hatched, outlined blocks overlap another live block.</p>\n",
              f);
        rc = write_maps(&M, o);
    }
    if (!rc && r)
        rc = cs_map_write_graph(f, s, r, M.n_vpc, err);
    if (!rc) {
        fprintf(f, "<div id=\"csm-tip\" hidden></div>\n<script>\n%s%s</script>\n", script_view,
                script_tables);
        fputs("</section>\n", f);
    }
    free(M.sev_assoc);
    free(M.sev_vpc);
    free(M.u);
    if (rc == CS_ENOMEM)
        return cs_fail(err, CS_ENOMEM, "map: out of memory");
    if (rc)
        return rc;
    return cs_out_finish(f, "map", err);
}

int cs_map_write(FILE *f, const cs_snapshot *s, const cs_audit_result *r,
                 const cs_map_options *o, cs_error *err)
{
    if (!f || !s)
        return cs_fail(err, CS_EINVAL, "cs_map_write: NULL argument");
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width\">\n<title>cidrscope map",
          f);
    if (o && o->title) {
        fputs(": ", f);
        cs_html_escape(f, o->title);
    }
    fputs("</title>\n<style>body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}"
          "</style>\n</head><body>\n<h1>cidrscope map",
          f);
    if (o && o->title) {
        fputs(": ", f);
        cs_html_escape(f, o->title);
    }
    fputs("</h1>\n", f);
    int rc = cs_map_write_section(f, s, r, o, err);
    if (rc)
        return rc;
    fputs("</body></html>\n", f);
    return cs_out_finish(f, "map", err);
}
