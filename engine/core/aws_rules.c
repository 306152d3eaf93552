/*
 * engine/core/aws_rules.c — AWS's rules for the CIDR blocks of a VPC, the
 * one copy (engine/core/aws_rules_internal.h).
 *
 * Does: answer "may this block belong to this VPC" the way AWS does: block
 * sizes, ranges no VPC may use, the IPv4 association-restriction table.
 * Does not: know the estate, peering connections (engine/query/), quotas
 * beyond the constants, allocate or do I/O.
 *
 * SOURCES (Amazon VPC User Guide, vpc-cidr-blocks.html, "VPC CIDR blocks"):
 *
 *   sizes        "IPv4 VPC CIDR blocks": "The allowed block size is between
 *                a /16 netmask (65,536 IP addresses) and /28 netmask (16 IP
 *                addresses)". "IPv6 VPC CIDR blocks": BYOIP and IPAM blocks
 *                "from /44 to /60 in increments of /4" (Amazon-provided
 *                blocks are /56).
 *   reserved     "VPC CIDR blocks" considerations: blocks a VPC cannot use
 *                are 0.0.0.0/8, 127.0.0.0/8, 169.254.0.0/16 and
 *                224.0.0.0/4 ("Add an IPv4 CIDR block to your VPC"; the
 *                link-local range "cannot be assigned to VPCs").
 *   restriction  "IPv4 CIDR block association restrictions": the row is the
 *                range "in which your primary VPC CIDR block resides":
 *
 *   row  primary in              restricted associations
 *   R1   10.0.0.0/8              other RFC 1918 ranges (172.16.0.0/12,
 *                                192.168.0.0/16); "If any of the CIDR blocks
 *                                associated with the VPC are from the
 *                                10.0.0.0/15 range, you cannot add a CIDR
 *                                block from the 10.0.0.0/16 range";
 *                                198.19.0.0/16
 *   R2   172.16.0.0/12           other RFC 1918 ranges (10.0.0.0/8,
 *                                192.168.0.0/16); a CIDR block from
 *                                172.31.0.0/16; 198.19.0.0/16
 *   R3   192.168.0.0/16          other RFC 1918 ranges (172.16.0.0/12,
 *                                10.0.0.0/8); 198.19.0.0/16
 *   R4   198.19.0.0/16           the RFC 1918 ranges
 *   R5   anything else (publicly the RFC 1918 ranges; 198.19.0.0/16
 *        routable, 100.64.0.0/10)
 *
 *   Permitted is everything else: "any other CIDR block from the
 *   [primary's] range that's not restricted", publicly routable blocks and
 *   100.64.0.0/10. So a default VPC (172.31.0.0/16) may add 172.16.0.0/16;
 *   no row restricts 172.16.0.0/15.
 *
 * Tests: tests/test_aws_rules.c (every row, sizes, reserved ranges, and
 * that can-add and the estate's findings give the same answer per row).
 */
#include "core/aws_rules_internal.h"

#include <stdint.h>

/* An IPv4 range of the table. */
typedef struct range4 {
    uint32_t addr;
    uint8_t len;
} range4;

static const range4 R10 = {0x0a000000u, 8}, R172 = {0xac100000u, 12},
                    R192 = {0xc0a80000u, 16}, R198 = {0xc6130000u, 16},
                    R10_15 = {0x0a000000u, 15}, R10_16 = {0x0a000000u, 16},
                    R172_31 = {0xac1f0000u, 16};

/* A restricted range of a row and the rule it reports. */
typedef struct restricted {
    const range4 *range;
    uint8_t rule;
} restricted;

/* A row: the range of the primary (NULL: anything else), its restricted
 * ranges, and whether the 10.0.0.0/15 clause applies. */
typedef struct row {
    const range4 *primary;
    restricted deny[4];
    unsigned n_deny;
    bool clause_10_15;
} row;

static const row rows[] = {
    /* R1 */ {&R10,
              {{&R172, CS_AWS_OTHER_RFC1918}, {&R192, CS_AWS_OTHER_RFC1918},
               {&R198, CS_AWS_198_19}},
              3, true},
    /* R2 */ {&R172,
              {{&R10, CS_AWS_OTHER_RFC1918}, {&R192, CS_AWS_OTHER_RFC1918},
               {&R172_31, CS_AWS_172_31_16}, {&R198, CS_AWS_198_19}},
              4, false},
    /* R3 */ {&R192,
              {{&R10, CS_AWS_OTHER_RFC1918}, {&R172, CS_AWS_OTHER_RFC1918},
               {&R198, CS_AWS_198_19}},
              3, false},
    /* R4 */ {&R198,
              {{&R10, CS_AWS_NON_RFC1918}, {&R172, CS_AWS_NON_RFC1918},
               {&R192, CS_AWS_NON_RFC1918}},
              3, false},
    /* R5 */ {NULL,
              {{&R10, CS_AWS_NON_RFC1918}, {&R172, CS_AWS_NON_RFC1918},
               {&R192, CS_AWS_NON_RFC1918}, {&R198, CS_AWS_198_19}},
              4, false},
};

/* Ranges no VPC may use. */
static const struct {
    range4 r;
    const char *name;
} reserved[] = {
    {{0x00000000u, 8}, "0.0.0.0/8"},
    {{0x7f000000u, 8}, "127.0.0.0/8"},
    {{0xa9fe0000u, 16}, "169.254.0.0/16"},
    {{0xe0000000u, 4}, "224.0.0.0/4"},
};
enum { LINK_LOCAL_ROW = 2 };

static cs_prefix pfx(const range4 *r)
{
    return cs_prefix_from_v4(r->addr, r->len);
}

static bool overlaps(const cs_prefix *p, const range4 *r)
{
    cs_prefix q = pfx(r);
    return cs_prefix_overlaps(p, &q);
}

static bool inside(const cs_prefix *p, const range4 *r)
{
    cs_prefix q = pfx(r);
    return cs_prefix_contains(&q, p);
}

bool cs_aws_block_size_ok(const cs_prefix *p)
{
    if (p->family == CS_AF_V4)
        return p->len >= 16 && p->len <= 28;
    return p->family == CS_AF_V6 && p->len >= 44 && p->len <= 60 && (p->len - 44) % 4 == 0;
}

const char *cs_aws_block_sizes_text(unsigned family)
{
    return family == CS_AF_V4 ? "IPv4 blocks from /16 to /28"
                              : "IPv6 blocks from /44 to /60 in steps of /4 (Amazon's are /56)";
}

const char *cs_aws_reserved_range(const cs_prefix *p, bool *link_local)
{
    if (link_local)
        *link_local = false;
    if (p->family != CS_AF_V4)
        return NULL;
    for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
        if (overlaps(p, &reserved[i].r)) {
            if (link_local)
                *link_local = i == LINK_LOCAL_ROW;
            return reserved[i].name;
        }
    return NULL;
}

unsigned cs_aws_restriction(const cs_prefix *primary, const cs_prefix *blocks, size_t n,
                            const cs_prefix *s, size_t *culprit)
{
    *culprit = (size_t)-1;
    if (primary->family != CS_AF_V4 || s->family != CS_AF_V4)
        return CS_AWS_ALLOWED;
    const size_t nrows = sizeof rows / sizeof *rows;
    const row *w = &rows[nrows - 1];
    for (size_t i = 0; i + 1 < nrows; i++)
        if (inside(primary, rows[i].primary)) {
            w = &rows[i];
            break;
        }
    for (unsigned i = 0; i < w->n_deny; i++)
        if (overlaps(s, w->deny[i].range))
            return w->deny[i].rule;
    if (w->clause_10_15 && overlaps(s, &R10_16))
        for (size_t i = 0; i < n; i++)
            if (blocks[i].family == CS_AF_V4 && inside(&blocks[i], &R10_15)) {
                *culprit = i;
                return CS_AWS_10_0_16;
            }
    return CS_AWS_ALLOWED;
}

size_t cs_aws_refused_ranges(const cs_prefix *primary, const cs_prefix *blocks, size_t n,
                             cs_prefix *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++, k++)
        if (k < cap)
            out[k] = pfx(&reserved[i].r);
    if (primary->family != CS_AF_V4)
        return k;
    const size_t nrows = sizeof rows / sizeof *rows;
    const row *w = &rows[nrows - 1];
    for (size_t i = 0; i + 1 < nrows; i++)
        if (inside(primary, rows[i].primary)) {
            w = &rows[i];
            break;
        }
    for (unsigned i = 0; i < w->n_deny; i++, k++)
        if (k < cap)
            out[k] = pfx(w->deny[i].range);
    bool clause = false;
    for (size_t i = 0; w->clause_10_15 && i < n; i++)
        clause |= blocks[i].family == CS_AF_V4 && inside(&blocks[i], &R10_15);
    if (clause) {
        if (k < cap)
            out[k] = pfx(&R10_16);
        k++;
    }
    return k;
}

const char *cs_aws_rule_text(unsigned rule)
{
    switch (rule) {
    case CS_AWS_OTHER_RFC1918:
        return "a VPC whose primary block is in one RFC 1918 range cannot take blocks from "
               "the other RFC 1918 ranges";
    case CS_AWS_10_0_16:
        return "a VPC with a block in 10.0.0.0/15 cannot take a block from 10.0.0.0/16";
    case CS_AWS_172_31_16:
        return "a VPC whose primary block is in 172.16.0.0/12 cannot take a block from "
               "172.31.0.0/16";
    case CS_AWS_198_19:
        return "198.19.0.0/16 can be added only to a VPC whose primary block is in "
               "198.19.0.0/16";
    case CS_AWS_NON_RFC1918:
        return "a VPC whose primary block is publicly routable, in 100.64.0.0/10 or in "
               "198.19.0.0/16 cannot take RFC 1918 blocks";
    default:
        return "restricted";
    }
}
