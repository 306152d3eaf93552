/*
 * tests/test_map.c — the address-space map's geometry against an
 * independent computation, its aggregation arithmetic, and the peering
 * graph's layout.
 *
 * Geometry: the map is written to memory and parsed back; for every drawn
 * block the rectangle must cover exactly the block's run of Hilbert cells,
 * checked cell by cell with this file's own xy -> d (the inverse direction,
 * written top-down, nothing shared with engine/report/map.c), and that
 * xy -> d is itself checked to be a Hilbert curve (a bijection whose
 * consecutive cells are neighbours). Aggregation: with a small budget the
 * shapes and density cells of each map still account for every live block
 * (data-count), and stay within the budget. Seeds are printed (CS_TEST_SEED
 * replays).
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "support/testutil.h"

#include <cidrscope/cidrscope.h>
#include <cidrscope/map.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- an independent Hilbert curve --------------------------------------------- */

/* (x, y) -> d on the curve of side n (a power of two), top-down: at each
 * level take the quadrant, add its quarter of the run, then map the point
 * into the quadrant's own frame (transposed for the first, flipped and
 * transposed for the last). */
static uint64_t xy2d(uint32_t n, uint32_t x, uint32_t y)
{
    uint64_t d = 0;
    for (uint32_t s = n / 2; s > 0; s /= 2) {
        uint32_t rx = (x & s) ? 1 : 0, ry = (y & s) ? 1 : 0;
        d += (uint64_t)s * s * ((3 * rx) ^ ry);
        if (ry == 0) {
            if (rx == 1) {
                x = n - 1 - x;
                y = n - 1 - y;
            }
            uint32_t t = x;
            x = y;
            y = t;
        }
    }
    return d;
}

static void map__test_curve_is_a_hilbert_curve(void **state)
{
    (void)state;
    for (unsigned order = 1; order <= 6; order++) {
        uint32_t n = 1u << order;
        uint64_t cells = (uint64_t)n * n;
        uint32_t *px = calloc(cells, sizeof *px), *py = calloc(cells, sizeof *py);
        uint8_t *seen = calloc(cells, 1);
        assert_non_null(px);
        assert_non_null(py);
        assert_non_null(seen);
        for (uint32_t x = 0; x < n; x++)
            for (uint32_t y = 0; y < n; y++) {
                uint64_t d = xy2d(n, x, y);
                assert_true(d < cells);
                assert_false(seen[d]);
                seen[d] = 1;
                px[d] = x;
                py[d] = y;
            }
        assert_int_equal(px[0], 0);
        assert_int_equal(py[0], 0);
        for (uint64_t d = 1; d < cells; d++) {
            uint32_t dx = px[d] > px[d - 1] ? px[d] - px[d - 1] : px[d - 1] - px[d];
            uint32_t dy = py[d] > py[d - 1] ? py[d] - py[d - 1] : py[d - 1] - py[d];
            assert_int_equal(dx + dy, 1); /* neighbours */
        }
        free(px);
        free(py);
        free(seen);
    }
}

/* ---- estates --------------------------------------------------------------------- */

static cs_prefix PP(const char *text)
{
    cs_prefix p;
    cs_error err;
    cs_error_clear(&err);
    if (cs_prefix_parse(text, strlen(text), 0, &p, &err) != 0)
        fail_msg("prefix %s: %s", text, err.message);
    return p;
}

static void must(int rc, const cs_error *err, const char *what)
{
    if (rc < 0)
        fail_msg("%s: %s", what, err->message);
}

static void vpc(cs_estate *e, const char *id, const char *acct, const char *region)
{
    cs_error err;
    cs_error_clear(&err);
    cs_srcloc l = {"test", 1, 1};
    cs_vpc_desc d = {.id = cs_str_c(id), .owner = cs_str_c(acct), .region = cs_str_c(region),
                     .name = cs_str_c(id), .state = CS_VPC_AVAILABLE};
    must(cs_estate_add_vpc(e, &d, &l, &err), &err, "add_vpc");
}

static void block(cs_estate *e, const char *id, cs_prefix p)
{
    cs_error err;
    cs_error_clear(&err);
    cs_srcloc l = {"test", 1, 1};
    cs_cidr_desc d = {.vpc_id = cs_str_c(id), .prefix = p, .state = CS_ASSOC_ASSOCIATED};
    must(cs_estate_add_cidr(e, &d, &l, &err), &err, "add_cidr");
}

static void peer(cs_estate *e, const char *pcx, const char *a, const char *b)
{
    cs_error err;
    cs_error_clear(&err);
    cs_srcloc l = {"test", 1, 1};
    cs_peering_desc d = {.id = cs_str_c(pcx), .requester = {.vpc_id = cs_str_c(a)},
                         .accepter = {.vpc_id = cs_str_c(b)}, .status = CS_PCX_ACTIVE};
    must(cs_estate_add_peering(e, &d, &l, &err), &err, "add_peering");
}

static cs_snapshot *freeze(cs_estate *e)
{
    cs_snapshot *s = NULL;
    cs_error err;
    cs_error_clear(&err);
    must(cs_estate_freeze(e, &s, &err), &err, "freeze");
    cs_estate_free(e);
    return s;
}

/* The map page of s (audited) as a NUL-terminated string; caller frees. */
static char *render(const cs_snapshot *s, const cs_map_options *o)
{
    cs_audit_result *r = NULL;
    cs_error err;
    cs_error_clear(&err);
    must(cs_audit_run(s, NULL, &r, &err), &err, "audit");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    must(cs_map_write(f, s, r, o, &err), &err, "map");
    fclose(f);
    cs_audit_free(r);
    return buf;
}

/* ---- parsing the page back -------------------------------------------------------- */

/* Value of attribute `name` inside the tag starting at tag (up to '>'), copied
 * into out; false when absent. */
static bool attr_of(const char *tag, const char *name, char *out, size_t cap)
{
    const char *end = strchr(tag, '>');
    char key[64];
    snprintf(key, sizeof key, " %s=\"", name);
    const char *p = strstr(tag, key);
    if (!p || (end && p > end))
        return false;
    p += strlen(key);
    const char *q = strchr(p, '"');
    size_t n = (size_t)(q - p);
    assert_true(n < cap);
    memcpy(out, p, n);
    out[n] = 0;
    return true;
}

static unsigned long num_attr(const char *tag, const char *name)
{
    char v[64];
    if (!attr_of(tag, name, v, sizeof v))
        fail_msg("attribute %s missing in %.120s", name, tag);
    return strtoul(v, NULL, 10);
}

typedef struct mapstat {
    char range[64];
    unsigned long blocks;    /* data-blocks of the svg */
    unsigned long shapes;    /* .b rects */
    unsigned long cells;     /* .d rects */
    unsigned long counted;   /* sum over shapes and cells of data-count (1 default) */
} mapstat;

/* Walks every map of page; for each shape checks the geometry; fills up to
 * cap map statistics. Returns the number of maps. */
static size_t check_page(const char *page, mapstat *ms, size_t cap)
{
    size_t nm = 0;
    const char *p = page;
    while ((p = strstr(p, "<svg class=\"csm\"")) != NULL) {
        assert_true(nm < cap);
        mapstat *m = &ms[nm++];
        memset(m, 0, sizeof *m);
        assert_true(attr_of(p, "data-range", m->range, sizeof m->range));
        m->blocks = num_attr(p, "data-blocks");
        uint32_t side = (uint32_t)num_attr(p, "data-side");
        cs_prefix range = PP(m->range);
        unsigned bits = range.family == CS_AF_V6 ? 128 : 32, abits = bits - range.len;
        unsigned order = abits / 2 > 12 ? 12 : abits / 2, cbits = abits - 2 * order;
        assert_int_equal(side, 1u << order);
        const char *end = strstr(p, "</svg>");
        assert_non_null(end);
        for (const char *t = strstr(p, "<rect class=\""); t && t < end;
             t = strstr(t + 1, "<rect class=\"")) {
            bool shape = strncmp(t, "<rect class=\"b ", 15) == 0;
            bool cell = strncmp(t, "<rect class=\"d ", 15) == 0;
            if (!shape && !cell)
                continue;
            char cidr[64], cnt[32];
            assert_true(attr_of(t, "data-cidr", cidr, sizeof cidr));
            unsigned long count = attr_of(t, "data-count", cnt, sizeof cnt) ? strtoul(cnt, NULL, 10)
                                                                               : 1;
            m->shapes += shape;
            m->cells += cell;
            m->counted += count;
            uint32_t x = (uint32_t)num_attr(t, "x"), y = (uint32_t)num_attr(t, "y"),
                     w = (uint32_t)num_attr(t, "width"), h = (uint32_t)num_attr(t, "height");
            cs_prefix b = PP(cidr);
            assert_true(cs_prefix_overlaps(&b, &range));
            if (b.len <= range.len) { /* holds the whole range */
                assert_true(x == 0 && y == 0 && w == side && h == side);
                continue;
            }
            /* the block's cell run, from its address bits after the range */
            uint64_t first = 0;
            for (unsigned k = 0; k < 2 * order; k++) {
                unsigned bit = range.len + k; /* from the most significant */
                uint64_t word = bit < 64 ? b.hi : b.lo;
                first = first << 1 | ((word >> (63 - bit % 64)) & 1);
            }
            unsigned host = bits - b.len;
            uint64_t run = host > cbits ? (uint64_t)1 << (host - cbits) : 1;
            assert_int_equal((uint64_t)w * h, run);
            assert_true(w == h || w == 2 * h || h == 2 * w); /* square or 2:1 */
            for (uint32_t i = x; i < x + w; i++)
                for (uint32_t j = y; j < y + h; j++) {
                    uint64_t d = xy2d(side, i, j);
                    if (d < first || d >= first + run)
                        fail_msg("%s in %s: cell (%u,%u) is d=%llu, outside [%llu, +%llu)", cidr,
                                 m->range, i, j, (unsigned long long)d,
                                 (unsigned long long)first, (unsigned long long)run);
                }
        }
        p = end;
    }
    return nm;
}

static const mapstat *find_map(const mapstat *ms, size_t n, const char *range)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ms[i].range, range) == 0)
            return &ms[i];
    fail_msg("no map of %s", range);
    return NULL;
}

/* ---- tests ------------------------------------------------------------------------ */

static void map__shapes_sit_on_their_hilbert_cells(void **state)
{
    (void)state;
    cs_estate *e = cs_estate_new();
    assert_non_null(e);
    vpc(e, "vpc-a", "111111111111", "us-east-1");
    vpc(e, "vpc-b", "222222222222", "eu-west-1");
    vpc(e, "vpc-c", "333333333333", "us-east-1");
    block(e, "vpc-a", PP("10.0.0.0/16"));        /* a 256-cell square */
    block(e, "vpc-a", PP("10.1.0.0/17"));        /* a 2:1 rectangle */
    block(e, "vpc-b", PP("10.2.3.0/24"));
    block(e, "vpc-b", PP("10.200.0.16/28"));
    block(e, "vpc-c", PP("10.130.0.0/16"));      /* also in the pool's map */
    block(e, "vpc-c", PP("10.0.128.0/21"));      /* inside vpc-a's block */
    block(e, "vpc-a", PP("172.16.0.0/13"));      /* odd: 2:1 in 172.16/12 */
    block(e, "vpc-b", PP("172.31.0.0/16"));
    block(e, "vpc-c", PP("192.168.1.0/25"));
    block(e, "vpc-b", PP("100.64.0.0/10"));      /* the whole reused range */
    block(e, "vpc-c", PP("100.64.8.0/22"));
    block(e, "vpc-a", PP("2600:1f10:4000::/56")); /* one cell of a /32 map */
    block(e, "vpc-b", PP("2600:1f10::/48"));       /* 256 cells */
    block(e, "vpc-c", PP("2600:1f10:8000:10::/60")); /* inside a cell: drawn as it */
    block(e, "vpc-c", PP("2600:1f10:8000:100::/57")); /* half a cell: drawn as it */
    cs_snapshot *s = freeze(e);
    cs_prefix pools[] = {PP("10.128.0.0/9")};
    cs_map_options o = {.pools = pools, .pool_count = 1};
    char *page = render(s, &o);
    mapstat ms[16];
    size_t nm = check_page(page, ms, 16);
    assert_int_equal(nm, 6); /* pool, 10/8, 172.16/12, 192.168/16, 100.64/10, 2600:1f10::/32 */
    static const struct {
        const char *range;
        unsigned long blocks;
    } want[] = {{"10.128.0.0/9", 2}, {"10.0.0.0/8", 6}, {"172.16.0.0/12", 2},
                {"192.168.0.0/16", 1}, {"100.64.0.0/10", 2}, {"2600:1f10::/32", 4}};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        const mapstat *m = find_map(ms, nm, want[i].range);
        assert_int_equal(m->blocks, want[i].blocks);
        assert_int_equal(m->shapes, want[i].blocks); /* one shape per block, no aggregation */
        assert_int_equal(m->cells, 0);
    }
    /* a shape names its VPC, account and region */
    const char *t = strstr(page, "data-cidr=\"10.2.3.0/24\"");
    assert_non_null(t);
    assert_non_null(strstr(t, "data-vpc=\"vpc-b\" data-name=\"vpc-b\" data-account=\"222222222222\" "
                              "data-region=\"eu-west-1\""));
    /* nested blocks overlap: hatched, and the hover names the other block */
    t = strstr(page, "data-cidr=\"10.0.128.0/21\"");
    assert_non_null(t);
    assert_non_null(strstr(t, "data-ov=\"1\""));
    assert_non_null(strstr(t, "data-ovl=\"10.0.0.0/16 vpc-a\""));
    /* free space beside 192.168.0.0/16, which holds only 192.168.1.0/25: the
     * complement is one block of each length /17../24 plus 192.168.1.128/25;
     * the eight largest are listed, largest first (as `free` prints them) */
    t = strstr(page, "data-range=\"192.168.0.0/16\"");
    assert_non_null(t);
    t = strstr(t, "<div class=\"csm-free\">");
    assert_non_null(t);
    assert_non_null(strstr(t, "free: 65408 of 65536 addresses (99.8%) in 9 blocks; largest "
                              "192.168.128.0/17"));
    static const char *const holes[] = {"192.168.128.0/17", "192.168.64.0/18", "192.168.32.0/19",
                                        "192.168.16.0/20", "192.168.8.0/21", "192.168.4.0/22",
                                        "192.168.2.0/23", "192.168.0.0/24"};
    const char *h = t, *end = strstr(t, "</div>");
    for (size_t i = 0; i < 8; i++) {
        h = strstr(h, "<a class=\"csm-hole\" data-cidr=\"");
        assert_true(h && h < end);
        h += strlen("<a class=\"csm-hole\" data-cidr=\"");
        if (strncmp(h, holes[i], strlen(holes[i])) != 0 || h[strlen(holes[i])] != '"')
            fail_msg("free block %zu: %.20s, want %s", i, h, holes[i]);
    }
    h = strstr(h, "<a class=\"csm-hole\"");
    assert_true(!h || h > end); /* 192.168.1.128/25 is the ninth: not listed */
    /* no external resource anywhere */
    assert_null(strstr(page, "src=\"http"));
    assert_null(strstr(page, "href=\"http"));
    assert_null(strstr(page, "@import"));
    free(page);
    cs_snapshot_close(s);
}

static void map__aggregation_accounts_for_every_block(void **state)
{
    (void)state;
    uint64_t seed = tu_seed("test_map", 0x6d6170);
    tu_rng r = {seed};
    cs_estate *e = cs_estate_new();
    assert_non_null(e);
    char id[32];
    unsigned n_blocks = 0;
    for (unsigned i = 0; i < 1500; i++) {
        snprintf(id, sizeof id, "vpc-%05u", i);
        vpc(e, id, i % 3 ? "111111111111" : "222222222222", i % 2 ? "us-east-1" : "eu-west-1");
        if (i % 5 == 0) {
            block(e, id, PP("10.0.0.0/16")); /* a crowded template block */
            n_blocks++;
            continue;
        }
        cs_prefix p = tu_random_prefix(&r, CS_AF_V4, 32);
        p.hi = (p.hi & 0x00ffffff00000000ull) | 0x0a00000000000000ull;
        p = tu_truncate(&p, 18 + (unsigned)tu_below(&r, 11));
        cs_cidr_desc d = {.vpc_id = cs_str_c(id), .prefix = p, .state = CS_ASSOC_ASSOCIATED};
        cs_srcloc l = {"test", 1, 1};
        int rc = cs_estate_add_cidr(e, &d, &l, NULL);
        assert_true(rc == 0 || rc == 1);
        n_blocks += rc == 0;
    }
    cs_snapshot *s = freeze(e);
    for (unsigned budget = 16; budget <= 4096; budget *= 4) {
        cs_map_options o = {.shape_budget = budget};
        char *page = render(s, &o);
        mapstat ms[4];
        size_t nm = check_page(page, ms, 4);
        assert_int_equal(nm, 1);
        if (ms[0].blocks != n_blocks || ms[0].counted != n_blocks)
            fail_msg("seed %llu budget %u: %lu blocks drawn as %lu, want %u",
                     (unsigned long long)seed, budget, ms[0].blocks, ms[0].counted, n_blocks);
        if (n_blocks <= budget) {
            assert_int_equal(ms[0].shapes, n_blocks);
            assert_int_equal(ms[0].cells, 0);
        } else {
            assert_true(ms[0].shapes + ms[0].cells <= budget);
            assert_true(ms[0].shapes + ms[0].cells < n_blocks);
        }
        free(page);
    }
    cs_snapshot_close(s);
}

/* A random estate of small blocks in 10.0.0.0/8 (nested by chance, some
 * prefixes held twice) plus one /16 that covers some of them; VPC names that
 * would end a script or open a comment if they were not escaped. Returns the
 * live blocks in blocks[] (cap), their count in *n. */
static cs_snapshot *crowded(uint64_t seed, cs_prefix *blocks, size_t cap, size_t *n)
{
    tu_rng r = {seed};
    cs_estate *e = cs_estate_new();
    assert_non_null(e);
    *n = 0;
    cs_srcloc l = {"test", 1, 1};
    cs_error err;
    cs_error_clear(&err);
    for (unsigned i = 0; i < 1200; i++) {
        char id[32], acct[16];
        snprintf(id, sizeof id, "vpc-%05u", i);
        snprintf(acct, sizeof acct, "%012u", 100000000u + i % 7);
        cs_vpc_desc d = {.id = cs_str_c(id), .owner = cs_str_c(acct),
                         .region = cs_str_c(i % 2 ? "us-east-1" : "eu-west-1"),
                         .name = cs_str_c("x</script><!--y"), .state = CS_VPC_AVAILABLE};
        must(cs_estate_add_vpc(e, &d, &l, &err), &err, "add_vpc");
        cs_prefix p;
        if (i == 0) {
            p = PP("10.2.0.0/16");
        } else if (i % 9 == 0 && *n > 1) {
            p = blocks[tu_below(&r, *n - 1) + 1]; /* the same prefix in another VPC */
        } else {
            p = tu_random_prefix(&r, CS_AF_V4, 32);
            p.hi = (p.hi & 0x00ffffff00000000ull) | 0x0a00000000000000ull;
            p = tu_truncate(&p, 20 + (unsigned)tu_below(&r, 9));
        }
        cs_cidr_desc c = {.vpc_id = cs_str_c(id), .prefix = p, .state = CS_ASSOC_ASSOCIATED};
        int rc = cs_estate_add_cidr(e, &c, &l, NULL);
        assert_true(rc == 0 || rc == 1);
        if (rc == 0) {
            assert_true(*n < cap);
            blocks[(*n)++] = p;
        }
    }
    return freeze(e);
}

static void map__density_cells_show_overlap(void **state)
{
    (void)state;
    uint64_t seed = tu_seed("test_map", 0x64656e73);
    static cs_prefix b[1200];
    size_t n;
    cs_snapshot *s = crowded(seed, b, 1200, &n);
    cs_map_options o = {.shape_budget = 1024}; /* fewer than the blocks: cells */
    char *page = render(s, &o);
    mapstat ms[4];
    assert_int_equal(check_page(page, ms, 4), 1);
    assert_true(ms[0].cells > 0);
    unsigned with = 0, without = 0;
    for (const char *t = strstr(page, "<rect class=\"d "); t;
         t = strstr(t + 1, "<rect class=\"d ")) {
        char cls[64], cidr[64];
        assert_true(attr_of(t, "class", cls, sizeof cls));
        assert_true(attr_of(t, "data-cidr", cidr, sizeof cidr));
        cs_prefix cell = PP(cidr);
        /* brute force: does a block in the cell overlap any other block? */
        bool want = false;
        for (size_t i = 0; i < n && !want; i++) {
            if (b[i].len <= cell.len || !cs_prefix_contains(&cell, &b[i]))
                continue;
            for (size_t j = 0; j < n && !want; j++)
                want = j != i && cs_prefix_overlaps(&b[i], &b[j]);
        }
        bool drawn = strstr(cls, " o s") != NULL;
        if (want != drawn)
            fail_msg("seed %llu: cell %s (class \"%s\"): overlap %s, drawn %s",
                     (unsigned long long)seed, cidr, cls, want ? "yes" : "no",
                     drawn ? "yes" : "no");
        const char *next = strstr(t + 1, "<rect");
        bool hatched = next && strncmp(next, "<rect class=\"hx\"", 16) == 0;
        assert_true(hatched == want); /* hatched exactly when overlapping */
        if (want) {
            unsigned sev = (unsigned)(strstr(cls, " o s")[4] - '0');
            assert_true(sev < CS_SEV_COUNT); /* a real severity, its colour */
            char fill[32];
            assert_true(attr_of(next, "fill", fill, sizeof fill));
            char pat[16];
            snprintf(pat, sizeof pat, "-%u)", sev);
            assert_non_null(strstr(fill, pat)); /* the severity's own pattern */
        }
        with += want;
        without += !want;
    }
    if (!with || !without)
        fail_msg("seed %llu: %u cells with overlap, %u without: the test needs both",
                 (unsigned long long)seed, with, without);
    free(page);
    cs_snapshot_close(s);
}

/* Rows (<tr) of the table under heading `h2` of an HTML report: in the DOM
 * (its tbody) and kept as text in the script after it. */
static void table_rows(const char *page, const char *h2, size_t *dom, size_t *rest,
                       const char **first)
{
    const char *h = strstr(page, h2);
    assert_non_null(h);
    const char *tb = strstr(h, "<tbody>"), *te = strstr(h, "</tbody>");
    assert_true(tb && te && tb < te);
    *first = tb;
    *dom = *rest = 0;
    for (const char *t = strstr(tb, "<tr"); t && t < te; t = strstr(t + 1, "<tr"))
        (*dom)++;
    const char *open = "</table>\n<script type=\"text/x-cidrscope-rows\">";
    if (strncmp(te, "</tbody>\n", 9) == 0 && strncmp(te + 9, open, strlen(open)) == 0) {
        const char *sb = te + 9 + strlen(open);
        const char *se = strstr(sb, "</script>"); /* the first one ends it */
        assert_non_null(se);
        assert_non_null(strstr(se, "</script>\n<div class=\"cs-pager\">"));
        for (const char *t = strstr(sb, "<tr"); t && t < se; t = strstr(t + 1, "<tr"))
            (*rest)++;
        const char *c = strstr(sb, "<!--");
        assert_true(!c || c > se); /* no comment opened inside the rows */
    }
}

/* The HTML report pages its findings tables: the first HTML_PAGE_ROWS rows
 * in the DOM, the rest as text after the table, and together they are every
 * group, pair and cluster of the audit, in the audit's order. */
static void report__html_pages_keep_every_finding(void **state)
{
    (void)state;
    uint64_t seed = tu_seed("test_map", 0x70616765);
    static cs_prefix b[1200];
    size_t n;
    cs_snapshot *s = crowded(seed, b, 1200, &n);
    cs_audit_result *r = NULL;
    cs_error err;
    cs_error_clear(&err);
    must(cs_audit_run(s, NULL, &r, &err), &err, "audit");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    cs_audit_report_options o = {.format = CS_REPORT_HTML};
    must(cs_audit_report_write(f, s, r, &o, &err), &err, "report");
    fclose(f);
    static const struct {
        const char *h2;
        size_t (*count)(const cs_audit_result *);
    } t[] = {{"<h2>Groups", cs_audit_group_count},
             {"<h2>Pairs", cs_audit_pair_count},
             {"<h2>Overlap clusters", cs_audit_cluster_count}};
    unsigned paged = 0;
    for (size_t k = 0; k < sizeof t / sizeof *t; k++) {
        size_t dom, rest, want = t[k].count(r);
        const char *first;
        table_rows(buf, t[k].h2, &dom, &rest, &first);
        if (dom + rest != want || dom != (want < 100 ? want : 100))
            fail_msg("seed %llu: %s: %zu rows in the DOM + %zu kept, want %zu",
                     (unsigned long long)seed, t[k].h2, dom, rest, want);
        paged += rest > 0;
    }
    assert_true(paged >= 1); /* the estate is big enough to page */
    /* in the audit's order, across the page break: the i-th group row names
     * the i-th group's prefix */
    size_t dom, rest;
    const char *row;
    table_rows(buf, "<h2>Groups", &dom, &rest, &row);
    for (size_t i = 0; i < dom + rest; i++) {
        row = strstr(row + 1, "<tr");
        cs_audit_group g;
        assert_int_equal(cs_audit_get_group(r, i, &g), 0);
        char pfx[CS_PREFIX_STRCAP], want[CS_PREFIX_STRCAP + 16];
        cs_prefix_format(&g.prefix, pfx, sizeof pfx);
        snprintf(want, sizeof want, "<code>%s</code>", pfx);
        const char *end = strstr(row, "</tr>");
        const char *at = strstr(row, want);
        if (!at || at > end)
            fail_msg("seed %llu: group row %zu does not hold %s", (unsigned long long)seed, i,
                     pfx);
    }
    free(buf);
    cs_audit_free(r);
    cs_snapshot_close(s);
}

/* Severity is told by pattern, not colour alone: each severity's hatch
 * pattern differs from every other's once its colours are taken out, and
 * the account / region palette is Okabe & Ito's colour-blind-safe set. */
static void map__severity_patterns_differ_beyond_colour(void **state)
{
    (void)state;
    cs_estate *e = cs_estate_new();
    assert_non_null(e);
    vpc(e, "vpc-a", "111111111111", "us-east-1");
    vpc(e, "vpc-b", "222222222222", "us-east-1");
    block(e, "vpc-a", PP("10.0.0.0/16"));
    block(e, "vpc-b", PP("10.0.0.0/20"));
    cs_snapshot *s = freeze(e);
    char *page = render(s, NULL);
    char shape[CS_SEV_COUNT][512];
    for (unsigned k = 0; k < CS_SEV_COUNT; k++) {
        char id[32];
        snprintf(id, sizeof id, "<pattern id=\"h0-%u\"", k);
        const char *p = strstr(page, id);
        assert_non_null(p);
        const char *end = strstr(p, "</pattern>");
        assert_non_null(end);
        /* the pattern's markup without its colour values */
        size_t w = 0;
        for (const char *c = p; c < end && w + 1 < sizeof shape[k]; c++) {
            if (*c == '#') {
                while (c + 1 < end && *(c + 1) != '"')
                    c++;
                continue;
            }
            shape[k][w++] = *c;
        }
        shape[k][w] = 0;
        char *dash = strstr(shape[k], "-"); /* h0-K: the id names the severity */
        dash[1] = 'K';
    }
    for (unsigned a = 0; a < CS_SEV_COUNT; a++)
        for (unsigned b = a + 1; b < CS_SEV_COUNT; b++)
            if (strcmp(shape[a], shape[b]) == 0)
                fail_msg("severities %u and %u differ by colour only: %s", a, b, shape[a]);
    /* the account / region fills: Okabe & Ito's colours (grey for black,
     * which would hide the outlines), all different */
    static const char *const okabe_ito[] = {"#0072B2", "#E69F00", "#009E73", "#CC79A7",
                                            "#56B4E9", "#D55E00", "#F0E442", "#999999"};
    char fills[8][16];
    for (unsigned k = 0; k < 8; k++) {
        char rule[96];
        snprintf(rule, sizeof rule, "#csmap[data-color=region] .b.r%u{fill:", k);
        const char *p = strstr(page, rule);
        assert_non_null(p);
        p += strlen(rule);
        size_t n = strcspn(p, "}");
        assert_true(n < sizeof fills[k]);
        memcpy(fills[k], p, n);
        fills[k][n] = 0;
        bool found = false;
        for (unsigned j = 0; j < 8; j++)
            found |= strcmp(fills[k], okabe_ito[j]) == 0;
        if (!found)
            fail_msg("palette entry %u %s is not an Okabe-Ito colour", k, fills[k]);
        for (unsigned j = 0; j < k; j++)
            assert_string_not_equal(fills[k], fills[j]);
    }
    free(page);
    cs_snapshot_close(s);
}

static void map__graph_shows_peered_overlaps(void **state)
{
    (void)state;
    cs_estate *e = cs_estate_new();
    assert_non_null(e);
    vpc(e, "vpc-hub", "111111111111", "us-east-1");
    vpc(e, "vpc-s1", "111111111111", "us-east-1");
    vpc(e, "vpc-s2", "222222222222", "us-east-1");
    vpc(e, "vpc-lone", "333333333333", "us-east-1");
    block(e, "vpc-hub", PP("10.9.0.0/16"));
    block(e, "vpc-s1", PP("10.1.0.0/16"));
    block(e, "vpc-s2", PP("10.1.0.0/20"));
    block(e, "vpc-lone", PP("10.1.0.0/16"));
    peer(e, "pcx-1", "vpc-hub", "vpc-s1");
    peer(e, "pcx-2", "vpc-hub", "vpc-s2");
    cs_snapshot *s = freeze(e);
    char *page = render(s, NULL);
    const char *g = strstr(page, "<svg class=\"csg\"");
    assert_non_null(g);
    assert_non_null(strstr(g, "data-vpc=\"vpc-hub\""));
    assert_non_null(strstr(g, "data-vpc=\"vpc-s1\""));
    assert_non_null(strstr(g, "data-vpc=\"vpc-s2\""));
    assert_null(strstr(g, "data-vpc=\"vpc-lone\"")); /* overlaps, but peered with no one */
    /* two active peerings, one overlapping pair through the hub */
    const char *pe = strstr(g, "<g class=\"pe\">"), *ov = strstr(g, "<g class=\"ov\">");
    assert_non_null(pe);
    assert_non_null(ov);
    unsigned lines = 0;
    for (const char *t = strstr(pe, "<line"); t && t < ov; t = strstr(t + 1, "<line"))
        lines++;
    assert_int_equal(lines, 2);
    assert_non_null(strstr(ov, "<line"));
    free(page);
    cs_snapshot_close(s);
}

static void graph_layout__is_deterministic_and_keeps_edges_short(void **state)
{
    (void)state;
    /* two triangles joined by one edge, and a lone node */
    const uint32_t edges[] = {0, 1, 1, 2, 2, 0, 3, 4, 4, 5, 5, 3, 2, 3};
    size_t n = 7, m = 7;
    double a[14], b[14];
    assert_int_equal(cs_graph_layout(n, edges, m, a, NULL), 0);
    assert_int_equal(cs_graph_layout(n, edges, m, b, NULL), 0);
    assert_memory_equal(a, b, sizeof a);
    double sum = 0, joined = 0;
    unsigned pairs = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(a[2 * i] >= 0 && a[2 * i] <= 1 && a[2 * i + 1] >= 0 && a[2 * i + 1] <= 1);
        for (size_t j = i + 1; j < n; j++) {
            double d = hypot(a[2 * i] - a[2 * j], a[2 * i + 1] - a[2 * j + 1]);
            assert_true(d > 1e-3); /* no two nodes on one spot */
            sum += d;
            pairs++;
        }
    }
    for (size_t k = 0; k < m; k++)
        joined += hypot(a[2 * edges[2 * k]] - a[2 * edges[2 * k + 1]],
                        a[2 * edges[2 * k] + 1] - a[2 * edges[2 * k + 1] + 1]);
    assert_true(joined / (double)m < sum / pairs);
    const uint32_t bad[] = {0, 7};
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_graph_layout(n, bad, 1, a, &err), CS_EINVAL);
}

static void map__refuses_a_snapshot_without_estate(void **state)
{
    (void)state;
    tu_entry ent[] = {{PP("10.0.0.0/16"), 0}};
    cs_snapshot *s = tu_build(ent, 1);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cs_error err;
    cs_error_clear(&err);
    assert_int_equal(cs_map_write(f, s, NULL, NULL, &err), CS_EINVAL);
    assert_non_null(strstr(err.message, "estate"));
    fclose(f);
    free(buf);
    cs_snapshot_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(map__test_curve_is_a_hilbert_curve),
        cmocka_unit_test(map__shapes_sit_on_their_hilbert_cells),
        cmocka_unit_test(map__aggregation_accounts_for_every_block),
        cmocka_unit_test(map__density_cells_show_overlap),
        cmocka_unit_test(report__html_pages_keep_every_finding),
        cmocka_unit_test(map__severity_patterns_differ_beyond_colour),
        cmocka_unit_test(map__graph_shows_peered_overlaps),
        cmocka_unit_test(graph_layout__is_deterministic_and_keeps_edges_short),
        cmocka_unit_test(map__refuses_a_snapshot_without_estate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
