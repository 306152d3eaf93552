/*
 * datasets/gen/gen_dense.c — the dense shape of the one estate generator
 * (gen --shape dense, GEN_SHAPE_DENSE): a small estate, at most
 * GEN_DENSE_MAX_VPCS VPCs, where every peering rule fires: most VPCs
 * overlap, blocks sit in every state, connections run through every status
 * and to partners outside the estate, and three hubs carry many active
 * connections. The differential tests of the peering rules
 * (tests/test_peering.c) run on it.
 *
 * VPC (a, r, j), index i = (a * R + r) * K + j, draws from its own stream:
 *   IPv4  1..4 blocks, /16../24, the primary first: a quarter at
 *         10.x.y.z with 20 random bits under /8, a quarter in 172.16/12
 *         with 16 random bits, half in 10/8 with 16 random bits (so blocks
 *         nest and collide often); states 60% associated, 10% each of
 *         associating, disassociated, failed, disassociating
 *   IPv6  a third of the VPCs: 1..2 blocks, /56 or /52, at
 *         2600:1f18:0:xx00:: (256 choices: they collide), 80% associated,
 *         the rest disassociated
 * Connections: VPC i requests 1 or 2; the accepter is one of the three
 * hubs (VPCs 0, T/3, 2T/3 of T) a third of the time, a partner VPC outside
 * the estate one time in twenty, else any other VPC; the status is drawn
 * uniformly from the nine AWS codes with extra weight on active (4 in 13).
 * At most 2T connections, so every account-region's list fits MAX_LINKS.
 *
 * Tests: tests/test_peering.c (bulk == single == brute force on it, every
 * rule and warning exercised), tests/cli/test_gen.sh (golden bytes).
 */
#include "gen_internal.h"

#include <stdio.h>

enum { S_DENSE = 9 };

void gen_dense_vpc(const gen *g, gvpc *v, grng *rg)
{
    v->tags = TAGS_NAME;
    v->role = R_IPAM;
    gen_make_name(v, "dense-%u-%u-%u", v->a, v->r, v->j);
    unsigned nb = 1 + rbelow(rg, 4);
    for (unsigned k = 0; k < nb; k++) {
        unsigned len = 16 + rbelow(rg, 9);
        uint32_t base;
        switch (rbelow(rg, 4)) {
        case 0: base = 0x0a000000u | rbelow(rg, 1u << 20) << 4; break;
        case 1: base = 0xac100000u | rbelow(rg, 1u << 16) << 4; break;
        default: base = 0x0a000000u | rbelow(rg, 1u << 16) << 8; break;
        }
        base &= len ? ~(uint32_t)0 << (32 - len) : 0;
        unsigned st = rbelow(rg, 10);
        uint8_t state = st < 6   ? CS_ASSOC_ASSOCIATED
                        : st < 7 ? CS_ASSOC_ASSOCIATING
                        : st < 8 ? CS_ASSOC_DISASSOCIATED
                        : st < 9 ? CS_ASSOC_FAILED
                                 : CS_ASSOC_DISASSOCIATING;
        add4(v, v4block(base, len, state));
    }
    if (rbelow(rg, 3) == 0) {
        unsigned n6 = 1 + rbelow(rg, 2);
        for (unsigned k = 0; k < n6 && v->n6 < sizeof v->v6 / sizeof *v->v6; k++) {
            unsigned len = rbelow(rg, 2) ? 56 : 52;
            uint64_t hi = 0x26001f1800000000ull | ((uint64_t)rbelow(rg, 256) << 8);
            hi &= ~0ull << (64 - len);
            gblock b;
            memset(&b, 0, sizeof b);
            b.p = cs_prefix_from_v6(hi, 0, len);
            b.state = rbelow(rg, 5) ? CS_ASSOC_ASSOCIATED : CS_ASSOC_DISASSOCIATED;
            b.kind = BK_AMAZON;
            b.ord = (uint8_t)(v->n4 + v->n6);
            v->v6[v->n6++] = b;
        }
    }
    (void)g;
}

/* The links VPC i requests (1 or 2), appended to out. */
static size_t dense_requests(const gen *g, uint32_t i, glink *out)
{
    uint32_t R = g->o.regions, K = g->o.vpcs, T = g->o.accounts * R * K;
    uint32_t a = i / (R * K), r = i / K % R, j = i % K;
    grng rg = rng_for(g, vcode(a, r, j), S_DENSE);
    unsigned m = 1 + rbelow(&rg, 2);
    size_t n = 0;
    for (unsigned k = 0; k < m; k++) {
        glink l;
        memset(&l, 0, sizeof l);
        l.kind = L_DENSE;
        l.ord = (uint8_t)k;
        l.req = ref(a, r, j);
        unsigned roll = rbelow(&rg, 60);
        uint32_t y = i;
        if (roll < 3) {
            /* a partner's VPC outside the estate, one per requester */
            l.acc.a = i;
            l.acc.external = true;
        } else {
            y = roll < 23 ? (rbelow(&rg, 3) * T) / 3 : rbelow(&rg, T);
            if (y == i)
                y = (y + 1) % T;
            l.acc = ref(y / (R * K), y / K % R, y % K);
        }
        unsigned st = rbelow(&rg, 13);
        l.status = (uint8_t)(st < 9 ? st : CS_PCX_ACTIVE);
        if (l.acc.external || y != i)
            out[n++] = l;
    }
    return n;
}

size_t gen_dense_links_at(const gen *g, uint32_t a, uint32_t r, glink *out)
{
    uint32_t R = g->o.regions, K = g->o.vpcs, T = g->o.accounts * R * K;
    size_t n = 0;
    glink mine[2];
    for (uint32_t i = 0; i < T; i++) {
        size_t k = dense_requests(g, i, mine);
        for (size_t x = 0; x < k && n < MAX_LINKS; x++) {
            const glink *l = &mine[x];
            bool here = (l->req.a == a && l->req.r == r) ||
                        (!l->acc.external && l->acc.a == a && l->acc.r == r);
            if (here)
                out[n++] = *l;
        }
    }
    return n;
}
