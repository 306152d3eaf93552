/*
 * datasets/gen/gen_shape.c — the one estate generator's default shape (the
 * personas below), the region names, and the peering connections. The
 * organisation shape is gen_org.c; gen_write.c prints an estate as AWS CLI
 * JSON or CSV, gen_build.c adds it straight to an estate builder.
 *
 * Does: draws N accounts x R regions x K VPCs, every VPC and connection a
 * pure function of (seed, account, region, index), so any VPC can be
 * recomputed in O(1) when a peering connection on the other side of the
 * estate needs its CIDRs, and generation streams: one account-region at a
 * time, no table of the estate in memory, linear in the output. Same
 * options, same bytes. Does not: read or write anything, or call the AWS
 * API.
 *
 * THE ESTATE. Account a has persona a % 6; six consecutive accounts form a
 * group whose network account is the hub of a hub-and-spoke:
 *
 *   persona   VPC 1 (the spoke; the hub   VPC 2            VPC 3 and on
 *             for network)
 *   network   network-hub: IPAM /len,      shared-services, full mesh of
 *             Amazon IPv6 /56; peered to   mesh             VPCs 2..5
 *             spokes, to itself in every
 *             region, to the next group
 *   legacy    template 10.0.0.0/16 with a  template         random
 *             disassociated 10.1.0.0/16    192.168.0.0/16
 *   platform  EKS: IPAM + 100.64.0.0/16    EKS              random
 *             (reused) + private ULA /56
 *             (reused: IPv6 overlap)
 *   workload  IPAM + Amazon /56 + BYOIP    nested mistake:  VPC 3: a failed
 *             2001:db8:1200::/56 (reused)  a /len+4 inside  198.19.0.0/16
 *                                          the hub's block  secondary
 *   sandbox   Name tag in Unicode (or with IPAM            random
 *             quotes), 50 tags
 *   acquired  IPAM; a partner (outside    10.0.0.0/16,     random
 *             the estate) asks to peer    peered with the
 *             (pending-acceptance)        legacy template:
 *                                         failed (overlap)
 *
 * VPC 0 is the default VPC 172.31.0.0/16 (IsDefault, no tags) in 9 of 10
 * account-regions (never in network accounts); otherwise an IPAM VPC.
 * "Random" VPCs are mostly IPAM allocations, some template defaults, nested
 * mistakes and EKS VPCs, some with slot secondaries, Amazon IPv6, and
 * blocks in the rarer states (associating, disassociating, disassociated,
 * failing); a few are pending or dedicated.
 *
 * IPAM: account-region-VPC (a, r, j) owns slot ((a*R + r)*K + j) of
 * 10.0.0.0/8 cut into /len blocks, len = 8 + ceil(log2(N*R*K)) clamped to
 * /16../28; its VPC takes the slot or its first half or quarter, the rest
 * may hold a secondary. Past 2^20 VPCs the /28 slots wrap around 10.0.0.0/8
 * and overlap, as a real estate that outgrew one pool. Amazon IPv6:
 * 2600:1f10+r::/32 for region r, then a 24-bit VPC counter as bits 32..55,
 * a /56 unique per region below 2^24 VPCs.
 *
 * PEERING. Hub-and-spoke (hub VPC 1 of the network account to VPC 1 of the
 * other five), inter-region hub links, a chain between the groups' hubs in
 * the first region, a full mesh of the network account's VPCs 2..5, one
 * failed overlapping pair per group, one partner request per acquired
 * account. Every connection is printed, identically, in the peering.json of
 * both sides' account-regions. Group 0's hub-and-spoke links run through
 * every status code (with two regions or more); elsewhere statuses are
 * drawn: mostly active, some of each other code.
 *
 * IDS. vpc-0<16 hex> = a bijective 64-bit mix of (a:24, r:8, j:16) keyed by
 * the seed, so ids never collide; association ids mix (VPC, ordinal),
 * connection ids (requester VPC, ordinal), account ids are
 * (base + a * 387420489731) mod 10^12 (a bijection: the multiplier is
 * prime to 10).
 *
 *
 * Tests: tests/cli/test_gen.sh (determinism, layout), tests/test_gen.c
 * (generate -> load -> freeze: every VPC, CIDR and connection found again;
 * files and builder agree; the org shape's promises), tests/test_audit.c
 * (the audit against brute force on every shape).
 */
#include "gen_internal.h"

#include <stdarg.h>
#include <stdio.h>

/* Sized by its initialiser: a count other than the header's
 * GEN_N_REGIONS is a conflicting declaration. */
const char *const gen_region_names[] = {
    "us-east-1",      "us-west-2",      "eu-west-1",      "eu-central-1",
    "ap-southeast-1", "ap-northeast-1", "us-east-2",      "eu-west-2",
    "ap-southeast-2", "ca-central-1",   "ap-south-1",     "sa-east-1",
    "eu-north-1",     "us-west-1",      "eu-west-3",      "ap-northeast-2",
    "ap-east-1",      "me-south-1",     "af-south-1",     "eu-south-1",
    "ap-northeast-3", "eu-central-2",   "eu-south-2",     "ap-south-2",
    "ap-southeast-3", "ap-southeast-4", "me-central-1",   "il-central-1",
    "ca-west-1",      "ap-southeast-5", "mx-central-1",   "ap-southeast-7",
};

unsigned gen_region_count(void)
{
    return (unsigned)GEN_N_REGIONS;
}

const char *gen_region_name(unsigned i)
{
    return i < GEN_N_REGIONS ? gen_region_names[i] : NULL;
}

void gen_account_id(const gen *g, uint64_t a, char out[13])
{
    uint64_t v = (g->acct_base + a * 387420489731ull) % 1000000000000ull;
    snprintf(out, 13, "%012llu", (unsigned long long)v);
}

static bool has_default(const gen *g, uint32_t a, uint32_t r)
{
    if (a % P_COUNT == P_NETWORK)
        return false; /* the network team deleted its default VPCs */
    grng rg = rng_for(g, vcode(a, r, 0xffff), S_REGION);
    return rchance(&rg, 900);
}

/* Base of IPAM slot (a, r, j) in 10.0.0.0/8 (host order). */
static uint32_t slot_addr(const gen *g, uint32_t a, uint32_t r, uint32_t j)
{
    uint64_t s = ((uint64_t)a * g->o.regions + r) * g->o.vpcs + j;
    s &= g->slot_mask;
    return 0x0a000000u + (uint32_t)(s << (32 - g->slot_len));
}

void gen_add6(const gen *g, gvpc *v, int kind)
{
    if (v->n6 >= sizeof v->v6 / sizeof *v->v6)
        return;
    uint64_t hi;
    if (kind == BK_AMAZON) {
        /* 2600:(1f10 + region)::/32 plus the VPC's 24-bit counter: one /56
         * per VPC of the region. */
        uint64_t ctr = ((uint64_t)v->a * g->o.vpcs + v->j) & 0xffffffu;
        hi = (0x2600ull << 48) | ((0x1f10ull + v->r) << 32) | (ctr << 8);
    } else if (kind == BK_ULA) {
        /* Private IPAM ULA space, the same four /56s in every EKS VPC. */
        hi = 0xfd123456789a0000ull | ((uint64_t)(v->j % 4) << 8);
    } else {
        /* One BYOIP /56 attached to every workload spoke: the copy-paste
         * mistake that makes IPv6 overlap. */
        hi = 0x20010db812000000ull;
    }
    gblock b;
    memset(&b, 0, sizeof b);
    b.p = cs_prefix_from_v6(hi, 0, 56);
    b.state = CS_ASSOC_ASSOCIATED;
    b.kind = (uint8_t)kind;
    b.ord = (uint8_t)(v->n4 + v->n6);
    v->v6[v->n6++] = b;
}

static const char *const apps[] = {"payments", "orders", "search", "billing",
                                   "identity", "analytics", "catalog",
                                   "ledger", "checkout", "media"};
const char *const gen_envs[4] = {"prod", "staging", "dev", "test"};
const char *const gen_teams[6] = {"platform", "payments", "data",
                                    "identity", "networking", "security"};
/* Names a person typed: CJK, emoji, Cyrillic, and quotes and a backslash
 * that JSON and CSV must escape. */
static const char *const sandbox_names[] = {
    "開発環境-東京", "data \"lake\", raw \\ sandbox",
    "Entwicklung-München 🚀", "équipe-données", "песочница-1", "Ωmega λab",
};

/* IPAM primary (and perhaps a secondary) in the VPC's own slot. */
static void ipam_blocks(const gen *g, gvpc *v, grng *rg, bool exact)
{
    uint32_t base = slot_addr(g, v->a, v->r, v->j);
    unsigned extra = exact ? 0 : rbelow(rg, 3);
    unsigned len = g->slot_len + extra > 28 ? 28 : g->slot_len + extra;
    add4(v, v4block(base, len, CS_ASSOC_ASSOCIATED));
    if (len > g->slot_len && rchance(rg, 300)) {
        /* The next block of the slot: states mostly associated. */
        uint8_t st = CS_ASSOC_ASSOCIATED;
        unsigned u = rbelow(rg, 1000);
        if (u < 40)
            st = CS_ASSOC_ASSOCIATING;
        else if (u < 60)
            st = CS_ASSOC_DISASSOCIATING;
        else if (u < 75)
            st = CS_ASSOC_FAILING;
        add4(v, v4block(base + (1u << (32 - len)), len, st));
    }
}

void gen_make_name(gvpc *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->name, sizeof v->name, fmt, ap);
    va_end(ap);
}

/* Everything about VPC (a, r, j), recomputed at will. */
void gen_vpc_make(const gen *g, uint32_t a, uint32_t r, uint32_t j,
                     gvpc *v)
{
    memset(v, 0, sizeof *v);
    v->a = a;
    v->r = r;
    v->j = j;
    v->code = vcode(a, r, j);
    v->persona = (uint8_t)(a % P_COUNT);
    grng rg = rng_for(g, v->code, S_VPC);
    v->env = (uint8_t)rbelow(&rg, 4);
    v->team = (uint8_t)rbelow(&rg, 6);
    const char *rn = gen_region_names[r];
    const char *app = apps[rbelow(&rg, sizeof apps / sizeof *apps)];

    int role;
    if (g->o.shape == GEN_SHAPE_ORG) {
        gen_org_vpc(g, v, &rg, app);
        return;
    }
    if (g->o.shape == GEN_SHAPE_DENSE) {
        gen_dense_vpc(g, v, &rg);
        return;
    }
    if (j == 0 && has_default(g, a, r)) {
        role = R_DEFAULT;
    } else if (j == 0) {
        role = R_IPAM;
    } else if (j == 1) {
        static const uint8_t first[P_COUNT] = {R_HUB, R_TEMPLATE10, R_EKS,
                                               R_IPAM, R_SANDBOX, R_IPAM};
        role = first[v->persona];
    } else if (j == 2) {
        static const uint8_t second[P_COUNT] = {R_SHARED, R_TEMPLATE192,
                                                R_EKS, R_NESTED, R_IPAM,
                                                R_ACQUIRED};
        role = second[v->persona];
    } else if (v->persona == P_NETWORK && j < 6) {
        role = R_SHARED;
    } else {
        unsigned u = rbelow(&rg, 1000);
        unsigned eks = v->persona == P_PLATFORM ? 400 : 60;
        role = u < 30 ? R_TEMPLATE10 : u < 45 ? R_TEMPLATE192
             : u < 60 ? R_NESTED : u < 60 + eks ? R_EKS : R_IPAM;
    }
    v->role = (uint8_t)role;
    v->tags = TAGS_STD;
    switch (role) {
    case R_DEFAULT:
        v->is_default = true;
        v->tags = TAGS_NONE;
        add4(v, v4block(0xac1f0000u, 16, CS_ASSOC_ASSOCIATED));
        break;
    case R_HUB:
        ipam_blocks(g, v, &rg, true);
        gen_add6(g, v, BK_AMAZON);
        gen_make_name(v, "network-hub-%s", rn);
        break;
    case R_SHARED:
        ipam_blocks(g, v, &rg, false);
        if (rchance(&rg, 500))
            gen_add6(g, v, BK_AMAZON);
        gen_make_name(v, "shared-services-%u", j - 1);
        break;
    case R_TEMPLATE10:
        /* The console's "VPC and more" default. */
        add4(v, v4block(0x0a000000u, 16, CS_ASSOC_ASSOCIATED));
        if (v->persona == P_LEGACY && j == 1)
            add4(v, v4block(0x0a010000u, 16, CS_ASSOC_DISASSOCIATED));
        gen_make_name(v, "legacy-%s-%u", app, j);
        break;
    case R_TEMPLATE192:
        add4(v, v4block(0xc0a80000u, 16, CS_ASSOC_ASSOCIATED));
        gen_make_name(v, "onprem-lab-%u", j);
        break;
    case R_NESTED: {
        /* Carved by hand from the group hub's allocation in this region. */
        uint32_t h = a - a % P_COUNT;
        uint32_t hub_j = g->o.vpcs > 1 ? 1 : 0;
        uint32_t base = slot_addr(g, h, r, hub_j);
        unsigned len = g->slot_len + 4;
        uint32_t off = 3;
        if (len > 28) {
            len = 28;
            off = 0;
        }
        add4(v, v4block(base + (off << (32 - len)), len,
                        CS_ASSOC_ASSOCIATED));
        gen_make_name(v, "%s-%s-manual", app, gen_envs[v->env]);
        break;
    }
    case R_EKS:
        ipam_blocks(g, v, &rg, true);
        add4(v, v4block(0x64400000u, 16, CS_ASSOC_ASSOCIATED));
        gen_add6(g, v, BK_ULA);
        gen_make_name(v, "eks-%s-%u", gen_envs[v->env], j);
        break;
    case R_ACQUIRED:
        add4(v, v4block(0x0a000000u, 16, CS_ASSOC_ASSOCIATED));
        gen_make_name(v, "acquired-corp-main");
        break;
    case R_SANDBOX:
        ipam_blocks(g, v, &rg, false);
        snprintf(v->name, sizeof v->name, "%s",
                 sandbox_names[(a / P_COUNT + r) %
                               (sizeof sandbox_names / sizeof *sandbox_names)]);
        v->tags = TAGS_MANY;
        break;
    default: /* R_IPAM */
        ipam_blocks(g, v, &rg, false);
        if (v->persona == P_WORKLOAD && j == 1) {
            gen_add6(g, v, BK_AMAZON);
            gen_add6(g, v, BK_BYOIP);
        } else if (rchance(&rg, 400)) {
            gen_add6(g, v, BK_AMAZON);
        }
        if (v->persona == P_WORKLOAD && j == 3) {
            gblock b = v4block(0xc6130000u, 16, CS_ASSOC_FAILED);
            b.msg = "The CIDR '198.19.0.0/16' is restricted. Use a CIDR "
                    "from the same private address range as the current "
                    "VPC CIDR, or use a publicly-routable CIDR.";
            add4(v, b);
        } else if (rchance(&rg, 20)) {
            add4(v, v4block(0x64420000u, 16, CS_ASSOC_DISASSOCIATED));
        }
        gen_make_name(v, "%s-%s-%u", app, gen_envs[v->env], j);
        if (rchance(&rg, 50))
            v->tags = TAGS_NONE;
        else if (rchance(&rg, 300))
            v->tags = TAGS_NAME;
        break;
    }
    if (role != R_DEFAULT) {
        v->pending = rchance(&rg, 5);
        v->dedicated = rchance(&rg, 10);
    }
}

/* ---- peering connections ----------------------------------------------------------- */

static glink mklink(int kind, unsigned ord, gref req, gref acc)
{
    glink l;
    memset(&l, 0, sizeof l);
    l.kind = (uint8_t)kind;
    l.ord = (uint8_t)ord;
    l.req = req;
    l.acc = acc;
    return l;
}

/* The VPC whose code names the connection: its requester, or our side
 * when a partner outside the estate requested it. */
uint64_t gen_link_code(const glink *l)
{
    const gref *h = l->req.external ? &l->acc : &l->req;
    return (vcode(h->a, h->r, h->j) << 8) | l->ord;
}

static uint8_t link_status(const gen *g, const glink *l)
{
    if (l->kind == L_OVERLAP)
        return CS_PCX_FAILED;
    if (l->kind == L_PARTNER)
        return CS_PCX_PENDING_ACCEPTANCE;
    if (l->kind == L_HUB_SPOKE && l->req.a < P_COUNT) {
        /* Group 0 shows every code: five spokes per region. */
        static const uint8_t showcase[] = {
            CS_PCX_ACTIVE, CS_PCX_PENDING_ACCEPTANCE, CS_PCX_PROVISIONING,
            CS_PCX_INITIATING_REQUEST, CS_PCX_DELETING, CS_PCX_DELETED,
            CS_PCX_REJECTED, CS_PCX_EXPIRED};
        unsigned i = (unsigned)(l->ord - 1) + 5u * l->req.r;
        if (i < sizeof showcase)
            return showcase[i];
        return CS_PCX_ACTIVE;
    }
    grng rg = rng_for(g, gen_link_code(l), S_LINK);
    unsigned u = rbelow(&rg, 1000);
    static const struct {
        unsigned upto;
        uint8_t st;
    } w[] = {
        {880, CS_PCX_ACTIVE},   {910, CS_PCX_PENDING_ACCEPTANCE},
        {935, CS_PCX_DELETED},  {950, CS_PCX_REJECTED},
        {960, CS_PCX_FAILED},   {970, CS_PCX_EXPIRED},
        {980, CS_PCX_INITIATING_REQUEST}, {990, CS_PCX_PROVISIONING},
        {1000, CS_PCX_DELETING},
    };
    for (size_t i = 0; i < sizeof w / sizeof *w; i++)
        if (u < w[i].upto)
            return w[i].st;
    return CS_PCX_ACTIVE;
}

/* Every connection with a side in account-region (a, r), each once. */
size_t gen_links_at(const gen *g, uint32_t a, uint32_t r, glink *out)
{
    size_t n = 0;
    uint32_t N = g->o.accounts, R = g->o.regions, K = g->o.vpcs;
    uint32_t p = a % P_COUNT, h = a - p;
    if (g->o.shape == GEN_SHAPE_DENSE)
        return gen_dense_links_at(g, a, r, out);
    if (g->o.shape == GEN_SHAPE_ORG) {
        /* hub-and-spoke of VPC 0 per group of six accounts, and the hubs'
         * inter-region links */
        if (p == P_NETWORK) {
            for (uint32_t s = 1; s < P_COUNT && a + s < N; s++)
                out[n++] = mklink(L_HUB_SPOKE, s, ref(a, r, 0), ref(a + s, r, 0));
            if (R >= 2 && r == 0)
                for (uint32_t r2 = 1; r2 < R; r2++)
                    out[n++] = mklink(L_INTER_REGION, 8 + r2, ref(a, 0, 0), ref(a, r2, 0));
            else if (R >= 2)
                out[n++] = mklink(L_INTER_REGION, 8 + r, ref(a, 0, 0), ref(a, r, 0));
        } else {
            out[n++] = mklink(L_HUB_SPOKE, p, ref(h, r, 0), ref(a, r, 0));
        }
        for (size_t i = 0; i < n; i++)
            out[i].status = link_status(g, &out[i]);
        return n;
    }
    if (K >= 2) {
        if (p == P_NETWORK) {
            for (uint32_t s = 1; s < P_COUNT && a + s < N; s++)
                out[n++] = mklink(L_HUB_SPOKE, s, ref(a, r, 1),
                                  ref(a + s, r, 1));
            if (R >= 2 && r == 0)
                for (uint32_t r2 = 1; r2 < R; r2++)
                    out[n++] = mklink(L_INTER_REGION, 8 + r2, ref(a, 0, 1),
                                      ref(a, r2, 1));
            else if (R >= 2)
                out[n++] = mklink(L_INTER_REGION, 8 + r, ref(a, 0, 1),
                                  ref(a, r, 1));
            if (r == 0 && a >= P_COUNT)
                out[n++] = mklink(L_CHAIN, 48, ref(a - P_COUNT, 0, 1),
                                  ref(a, 0, 1));
            if (r == 0 && a + P_COUNT < N)
                out[n++] = mklink(L_CHAIN, 48, ref(a, 0, 1),
                                  ref(a + P_COUNT, 0, 1));
            uint32_t top = K < 6 ? K : 6;
            for (uint32_t x = 2; x < top; x++)
                for (uint32_t y = x + 1; y < top; y++)
                    out[n++] = mklink(L_MESH, 64 + y, ref(a, r, x),
                                      ref(a, r, y));
        } else {
            out[n++] = mklink(L_HUB_SPOKE, p, ref(h, r, 1), ref(a, r, 1));
        }
        if (p == P_ACQUIRED && r == 0) {
            gref partner = {a, 0, 0, true};
            out[n++] = mklink(L_PARTNER, 200, partner, ref(a, 0, 1));
        }
    }
    if (K >= 3) {
        if (p == P_ACQUIRED)
            out[n++] = mklink(L_OVERLAP, 100, ref(a, r, 2), ref(a - 4, r, 1));
        if (p == P_LEGACY && a + 4 < N)
            out[n++] = mklink(L_OVERLAP, 100, ref(a + 4, r, 2), ref(a, r, 1));
    }
    for (size_t i = 0; i < n; i++)
        out[i].status = link_status(g, &out[i]);
    return n;
}
