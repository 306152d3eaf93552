/*
 * datasets/gen/gen_rows.c — the one generator's row shape: the benchmarks'
 * `estate-N` datasets (bench/harness.c), N CIDR rows in the mix of an AWS
 * organisation's VPC CIDR associations, and the estate those rows make
 * when each becomes a VPC or a secondary block (the benchmarks' audit and
 * peering images).
 *
 * THE ROWS (gen_prefix_rows), per row, one roll of 1000:
 *   24%  the default VPC 172.31.0.0/16
 *    6%  a template collision: 10.0.0.0/16 (40% of them), 192.168.0.0/16,
 *        10.1.0.0/16, 172.16.0.0/16, 10.10.0.0/16, 10.0.0.0/20, 10.0.0.0/24,
 *        192.168.1.0/24, 172.16.0.0/20
 *    5%  CGNAT reuse: 100.64.0.0/16, one of 64 /16s or /20s in 100.64/10
 *   50%  an IPAM block /16../27 from one of four scopes, each a cursor
 *        carving 10.0.0.0/8, then 172.16.0.0/12, then 192.168.0.0/16 in
 *        aligned blocks (30% leave room to grow), restarting near the
 *        start of 10/8 when all three are full: scopes overlap each other
 *   15%  IPv6: 95% an Amazon /56 from 2600:1f00::/24, 5% one of five ULA
 *        templates copied between teams
 * One splitmix64 stream from the seed, rows in order: the first k rows of
 * any n >= k are the same, and the bytes never change for a given seed (a
 * golden hash in tests/test_gen_rows.c keeps every earlier benchmark figure
 * comparable).
 *
 * THE ESTATE (gen_rows_estate_build): rows in order; a 172.31.0.0/16 row
 * starts a new slot (account 100000000000 + slot / 16, region slot % 16);
 * an IPv6 or CGNAT row is a secondary block of the last non-default VPC
 * (its own VPC before there is one); every other row is a new VPC with
 * that primary block. 3% of non-default VPCs are peered (active) with the
 * previous one.
 *
 * Does not: write files (gen_write.c) or draw the VPC-level shapes
 * (gen_shape.c, gen_org.c). Tests: tests/test_gen_rows.c.
 */
#include "gen_internal.h"

#include <stdio.h>

/* The benchmarks' draw: a modulo on the same stream as rnext. */
static uint64_t rmod(grng *r, uint64_t n)
{
    return n ? rnext(r) % n : 0;
}

static cs_prefix v4(uint32_t a, unsigned len)
{
    return cs_prefix_from_v4(a, len);
}

typedef struct weighted {
    unsigned permille;
    uint32_t addr;
    unsigned len;
} weighted;

static cs_prefix pick_weighted(grng *r, const weighted *w, size_t n)
{
    unsigned roll = (unsigned)rmod(r, 1000), acc = 0;
    for (size_t i = 0; i < n; i++) {
        acc += w[i].permille;
        if (roll < acc)
            return v4(w[i].addr, w[i].len);
    }
    return v4(w[n - 1].addr, w[n - 1].len);
}

/* IPAM pools every scope carves, in order. */
static const struct {
    uint32_t base;
    unsigned len;
} ipam_pools[] = {
    {0x0a000000u, 8},  /* 10.0.0.0/8 */
    {0xac100000u, 12}, /* 172.16.0.0/12 (172.31.0.0/16 included: real
                        * estates do collide with default VPCs) */
    {0xc0a80000u, 16}, /* 192.168.0.0/16 */
};
#define N_POOLS (sizeof ipam_pools / sizeof ipam_pools[0])

/* One IPAM scope: a cursor walking the pools, handing out aligned blocks. */
typedef struct scope {
    unsigned pool;
    uint64_t cursor; /* next free address (64-bit: no wrap) */
} scope;

static void scope_restart(grng *r, scope *s)
{
    s->pool = 0;
    /* A new pass starts somewhere in the first /16s, as a new business unit
     * would, so passes do not line up block for block. */
    s->cursor = ipam_pools[0].base + (rmod(r, 64) << 12);
}

static unsigned ipam_len(grng *r)
{
    /* /16 2%, /17 3%, /18 5%, /19 10%, /20 20%, /21 15%, /22 15%, /23 10%,
     * /24 14%, /25 3%, /26 2%, /27 1% (AWS allows /16../28) */
    static const unsigned cum[] = {20, 50, 100, 200, 400, 550, 700, 800, 940, 970, 990, 1000};
    unsigned roll = (unsigned)rmod(r, 1000);
    for (unsigned i = 0; i < 12; i++)
        if (roll < cum[i])
            return 16 + i;
    return 27;
}

static cs_prefix scope_alloc(grng *r, scope *s)
{
    unsigned len = ipam_len(r);
    uint64_t size = 1ull << (32 - len);
    for (;;) {
        uint64_t end = (uint64_t)ipam_pools[s->pool].base +
                       (1ull << (32 - ipam_pools[s->pool].len));
        uint64_t a = (s->cursor + size - 1) & ~(size - 1);
        if (a + size <= end) {
            s->cursor = a + size;
            /* IPAM leaves room to grow now and then. */
            if (rmod(r, 100) < 30)
                s->cursor += size * (1 + rmod(r, 4));
            return v4((uint32_t)a, len);
        }
        if (++s->pool == N_POOLS)
            scope_restart(r, s);
        else
            s->cursor = ipam_pools[s->pool].base;
    }
}

void gen_prefix_rows(uint64_t seed, size_t n, cs_prefix *out)
{
    static const weighted templates[] = {
        {400, 0x0a000000u, 16}, /* 10.0.0.0/16: the console's default */
        {150, 0xc0a80000u, 16}, /* 192.168.0.0/16 */
        {100, 0x0a010000u, 16}, /* 10.1.0.0/16 */
        {80, 0xac100000u, 16},  /* 172.16.0.0/16 */
        {70, 0x0a0a0000u, 16},  /* 10.10.0.0/16 */
        {50, 0x0a000000u, 20},  /* 10.0.0.0/20 */
        {50, 0x0a000000u, 24},  /* 10.0.0.0/24 */
        {50, 0xc0a80100u, 24},  /* 192.168.1.0/24 */
        {50, 0xac100000u, 20},  /* 172.16.0.0/20 */
    };
    static const struct {
        uint64_t hi;
        unsigned len;
    } ula[] = {
        {0xfd00000000000000ull, 48},
        {0xfd00000000000000ull, 56},
        {0xfd00000000000100ull, 56},
        {0xfd12345678900000ull, 48},
        {0xfd00000000000000ull, 44},
    };
    const uint32_t cgnat = 0x64400000u; /* 100.64.0.0 */
    grng r = {seed};
    scope scopes[4];
    for (unsigned i = 0; i < 4; i++)
        scope_restart(&r, &scopes[i]);
    for (size_t i = 0; i < n; i++) {
        unsigned roll = (unsigned)rmod(&r, 1000);
        cs_prefix p;
        if (roll < 240) {
            p = v4(0xac1f0000u, 16); /* 172.31.0.0/16 */
        } else if (roll < 300) {
            p = pick_weighted(&r, templates, sizeof templates / sizeof templates[0]);
        } else if (roll < 350) {
            unsigned k = (unsigned)rmod(&r, 100);
            if (k < 40)
                p = v4(cgnat, 16);
            else if (k < 80)
                p = v4(cgnat + ((uint32_t)rmod(&r, 64) << 16), 16);
            else
                p = v4(cgnat + ((uint32_t)rmod(&r, 64) << 12), 20);
        } else if (roll < 850) {
            p = scope_alloc(&r, &scopes[rmod(&r, 4)]);
        } else if (rmod(&r, 100) < 95) {
            /* Amazon-provided /56 from 2600:1f00::/24: unique per VPC. */
            uint64_t hi = 0x26001f0000000000ull | (rnext(&r) & 0x000000ffffffff00ull);
            p = cs_prefix_from_v6(hi, 0, 56);
        } else {
            unsigned k = (unsigned)rmod(&r, 5);
            p = cs_prefix_from_v6(ula[k].hi, 0, ula[k].len);
        }
        out[i] = p;
    }
}

/* The regions the row estate's slots cycle through. */
static const char *const row_regions[16] = {
    "us-east-1",      "us-east-2",      "us-west-1",    "us-west-2",
    "eu-west-1",      "eu-west-2",      "eu-west-3",    "eu-central-1",
    "eu-north-1",     "ap-southeast-1", "ap-southeast-2", "ap-northeast-1",
    "ap-northeast-2", "ap-south-1",     "sa-east-1",    "ca-central-1",
};

int gen_rows_estate_build(const cs_prefix *rows, size_t n, size_t stride, uint64_t seed,
                          cs_estate *e, size_t *vpcs, cs_error *err)
{
    if (err)
        cs_error_clear(err);
    if (!e || (n && !rows) || stride < sizeof(cs_prefix)) {
        if (err) {
            err->code = CS_EINVAL;
            snprintf(err->message, sizeof err->message,
                     "gen_rows_estate_build: NULL estate or rows, or a stride "
                     "under sizeof(cs_prefix)");
        }
        return CS_EINVAL;
    }
    grng r = {seed};
    const cs_prefix cgnat = cs_prefix_from_v4(0x64400000u, 10); /* 100.64.0.0/10 */
    const cs_prefix dflt = cs_prefix_from_v4(0xac1f0000u, 16);  /* 172.31.0.0/16 */
    char vpc_id[32], prev_id[32] = "", owner[24], pcx[32];
    uint64_t slot = 0, n_vpcs = 0, n_pcx = 0;
    bool have_prev = false;
    int rc;
    for (size_t i = 0; i < n; i++) {
        const cs_prefix *p = (const cs_prefix *)(const void *)((const char *)rows + i * stride);
        const bool is_default = cs_prefix_compare(p, &dflt) == 0;
        const bool secondary = p->family == CS_AF_V6 || cs_prefix_contains(&cgnat, p);
        if (is_default)
            slot++;
        snprintf(owner, sizeof owner, "%012llu",
                 (unsigned long long)(100000000000ull + slot / 16));
        if (!(secondary && have_prev)) {
            snprintf(vpc_id, sizeof vpc_id, "vpc-%017llx", (unsigned long long)n_vpcs++);
            cs_vpc_desc v;
            memset(&v, 0, sizeof v);
            v.id = cs_str_c(vpc_id);
            v.owner = cs_str_c(owner);
            v.region = cs_str_c(row_regions[slot % 16]);
            v.state = CS_VPC_AVAILABLE;
            v.is_default = is_default;
            if ((rc = cs_estate_add_vpc(e, &v, NULL, err)) < 0)
                return rc;
            if (!is_default) {
                if (have_prev && rmod(&r, 100) < 3) {
                    snprintf(pcx, sizeof pcx, "pcx-%017llx", (unsigned long long)n_pcx++);
                    cs_peering_desc pd;
                    memset(&pd, 0, sizeof pd);
                    pd.id = cs_str_c(pcx);
                    pd.requester.vpc_id = cs_str_c(prev_id);
                    pd.accepter.vpc_id = cs_str_c(vpc_id);
                    pd.status = CS_PCX_ACTIVE;
                    if ((rc = cs_estate_add_peering(e, &pd, NULL, err)) < 0)
                        return rc;
                }
                memcpy(prev_id, vpc_id, sizeof prev_id);
                have_prev = true;
            }
        }
        cs_cidr_desc c;
        memset(&c, 0, sizeof c);
        c.vpc_id = cs_str_c(secondary && have_prev ? prev_id : vpc_id);
        c.prefix = *p;
        c.state = CS_ASSOC_ASSOCIATED;
        c.primary = !(secondary && have_prev) && p->family == CS_AF_V4;
        if ((rc = cs_estate_add_cidr(e, &c, NULL, err)) < 0)
            return rc;
    }
    if (vpcs)
        *vpcs = (size_t)n_vpcs;
    return 0;
}
