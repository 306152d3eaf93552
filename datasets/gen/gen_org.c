/*
 * datasets/gen/gen_org.c — the organisation shape of the one estate
 * generator (gen --shape org, GEN_SHAPE_ORG): one VPC's blocks and name
 * drawn from one large organisation's habits, described below. The
 * default shape, the ids and the links are gen_shape.c's.
 *
 * Tests: tests/test_gen.c (the org shape's promises), tests/cli/test_gen.sh
 * (determinism, golden bytes), tests/test_audit.c (audit vs brute force).
 */
#include "gen_internal.h"

/*
 * The organisation shape (gen --shape org): one large organisation's
 * habits rather than the personas. Per VPC, first match wins:
 *
 *   8%   the default VPC 172.31.0.0/16 (VPC 0 of an account-region)
 *   30%  a template CIDR: 10.0.0.0/16, 10.0.0.0/20, 10.0.0.0/24 (nested in
 *        each other), 192.168.0.0/16, 192.168.0.0/24, 172.16.0.0/16
 *   rest an allocation from its business unit's IPAM pool: 16 units, unit
 *        b's pool is the /11 at 10.0.0.0 + b * 1.5 * 2^20, so neighbouring
 *        units' pools overlap by a quarter; allocations are /22../24 at a
 *        slot drawn from the VPC's code, so big units reuse slots
 *
 * and 20% of the non-default VPCs carry a CGNAT secondary at one of three
 * nesting levels (100.64.0.0/10, 100.64.0.0/16, 100.64.0.0/17), 10% an
 * Amazon IPv6 /56. Deterministic per (seed, account, region, index).
 */
void gen_org_vpc(const gen *g, gvpc *v, grng *rg, const char *app)
{
    static const uint32_t tmpl_addr[] = {0x0a000000u, 0x0a000000u, 0x0a000000u,
                                         0xc0a80000u, 0xc0a80000u, 0xac100000u};
    static const uint8_t tmpl_len[] = {16, 20, 24, 16, 24, 16};
    static const uint16_t tmpl_cum[] = {350, 500, 600, 750, 850, 1000};
    static const uint8_t cgnat_len[] = {10, 16, 17};
    v->tags = TAGS_STD;
    if (v->j == 0 && rchance(rg, 80)) {
        v->role = R_DEFAULT;
        v->is_default = true;
        v->tags = TAGS_NONE;
        add4(v, v4block(0xac1f0000u, 16, CS_ASSOC_ASSOCIATED));
        return;
    }
    if (rchance(rg, 300)) {
        unsigned u = rbelow(rg, 1000), t = 0;
        while (u >= tmpl_cum[t])
            t++;
        v->role = R_TEMPLATE10;
        add4(v, v4block(tmpl_addr[t], tmpl_len[t], CS_ASSOC_ASSOCIATED));
        gen_make_name(v, "template-%s-%u", app, v->j);
    } else {
        uint32_t bu = (uint32_t)(mix64(v->a ^ g->key_pool) % 16);
        uint32_t pool = 0x0a000000u + bu * (3u << 19);
        unsigned len = 22 + rbelow(rg, 3);
        uint32_t slots = 1u << (len - 11);
        uint32_t slot = (uint32_t)(mix64(v->code ^ g->key_pool) % slots);
        v->role = R_IPAM;
        add4(v, v4block(pool + (slot << (32 - len)), len, CS_ASSOC_ASSOCIATED));
        gen_make_name(v, "bu%u-%s-%s-%u", bu, app, gen_envs[v->env], v->j);
    }
    if (rchance(rg, 200))
        add4(v, v4block(0x64400000u, cgnat_len[rbelow(rg, 3)], CS_ASSOC_ASSOCIATED));
    if (rchance(rg, 100))
        gen_add6(g, v, BK_AMAZON);
    v->pending = rchance(rg, 5);
}

