/*
 * datasets/gen/gen_estate.c — the one seeded generator of realistic AWS
 * estates, written exactly as an org-wide collection of AWS CLI output
 * (OUT/<account-id>/<region>/vpcs.json and peering.json), as CSV, or
 * straight into an estate builder (gen_estate_build: tests and benchmarks).
 * Two shapes: the personas below (default) and one large organisation
 * (GEN_SHAPE_ORG, described at org_vpc()).
 *
 * Does: draws N accounts x R regions x K VPCs, every VPC and connection a
 * pure function of (seed, account, region, index), so any VPC can be
 * recomputed in O(1) when a peering connection on the other side of the
 * estate needs its CIDRs, and generation streams: one account-region at a
 * time, no table of the estate in memory, linear in the output. Same
 * options, same bytes. Does not: read anything, or call the AWS API.
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
 * 2600:1f1R:xxxx:xx00::/56, unique per region below 2^24 VPCs.
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
 * OUTPUT. JSON exactly as `aws ec2 describe-vpcs` and `aws ec2
 * describe-vpc-peering-connections` print it (Python json.dumps, indent 4,
 * ensure_ascii off, keys in the botocore model's member order, empty or
 * absent lists omitted as the CLI omits them). CSV: one row per CIDR
 * association (account,region,vpc_id,cidr,state,is_default,name; the
 * primary first) and one per connection (pcx_id,requester_vpc,
 * accepter_vpc,status plus the sides' accounts and regions), RFC 4180
 * quoting.
 *
 * Tests: tests/cli/test_gen.sh (determinism, layout), tests/test_gen.c
 * (generate -> load -> freeze: every VPC, CIDR and connection found again;
 * files and builder agree; the org shape's promises), tests/test_audit.c
 * (the audit against brute force on every shape).
 */
#include "gen_estate.h"

#include <cidrscope/cidrscope.h>
#include <cidrscope/estate.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const region_names[] = {
    "us-east-1",      "us-west-2",      "eu-west-1",      "eu-central-1",
    "ap-southeast-1", "ap-northeast-1", "us-east-2",      "eu-west-2",
    "ap-southeast-2", "ca-central-1",   "ap-south-1",     "sa-east-1",
    "eu-north-1",     "us-west-1",      "eu-west-3",      "ap-northeast-2",
    "ap-east-1",      "me-south-1",     "af-south-1",     "eu-south-1",
    "ap-northeast-3", "eu-central-2",   "eu-south-2",     "ap-south-2",
    "ap-southeast-3", "ap-southeast-4", "me-central-1",   "il-central-1",
    "ca-west-1",      "ap-southeast-5", "mx-central-1",   "ap-southeast-7",
};
#define N_REGIONS (sizeof region_names / sizeof *region_names)

unsigned gen_region_count(void)
{
    return (unsigned)N_REGIONS;
}

const char *gen_region_name(unsigned i)
{
    return i < N_REGIONS ? region_names[i] : NULL;
}

/* ---- deterministic randomness ----------------------------------------------- */

/* splitmix64's finaliser: a bijection of 64-bit words. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

typedef struct grng {
    uint64_t s;
} grng;

static uint64_t rnext(grng *r)
{
    r->s += 0x9e3779b97f4a7c15ull;
    return mix64(r->s);
}

/* Uniform in [0, n). */
static uint32_t rbelow(grng *r, uint32_t n)
{
    return (uint32_t)(((rnext(r) >> 32) * (uint64_t)n) >> 32);
}

static bool rchance(grng *r, unsigned permille)
{
    return rbelow(r, 1000) < permille;
}

/* ---- the model ---------------------------------------------------------------- */

enum { P_NETWORK, P_LEGACY, P_PLATFORM, P_WORKLOAD, P_SANDBOX, P_ACQUIRED,
       P_COUNT };
enum { R_DEFAULT, R_HUB, R_SHARED, R_IPAM, R_TEMPLATE10, R_TEMPLATE192,
       R_NESTED, R_EKS, R_ACQUIRED, R_SANDBOX };
/* IPv6 block kinds. */
enum { BK_AMAZON, BK_ULA, BK_BYOIP };
enum { TAGS_NONE, TAGS_NAME, TAGS_STD, TAGS_MANY };
/* Salts: one stream per purpose. */
enum { S_VPC = 1, S_REGION, S_LINK, S_ACCOUNT };

typedef struct gblock {
    cs_prefix p;
    uint8_t state;       /* enum cs_assoc_state */
    uint8_t kind;        /* BK_* (IPv6) */
    uint8_t ord;         /* association ordinal: its id */
    const char *msg;     /* StatusMessage, or NULL */
} gblock;

typedef struct gvpc {
    uint32_t a, r, j;
    uint64_t code;       /* a:24 r:8 j:16 */
    uint8_t persona, role, tags, env, team;
    bool is_default, pending, dedicated;
    gblock v4[6];
    unsigned n4;
    gblock v6[3];
    unsigned n6;
    char name[160];
} gvpc;

typedef struct gref {
    uint32_t a, r, j;
    bool external;       /* a partner's VPC, outside the estate (a = ours) */
} gref;

enum { L_HUB_SPOKE, L_INTER_REGION, L_CHAIN, L_MESH, L_OVERLAP, L_PARTNER };

typedef struct glink {
    uint8_t kind;
    uint8_t ord;
    uint8_t status;      /* enum cs_pcx_status */
    gref req, acc;
} glink;

#define MAX_LINKS 96

typedef struct gbuf {
    char *b;
    size_t len, cap;
    int fd;
    const char *path;
    uint64_t total;
    int err;             /* errno of the first failed write */
} gbuf;

typedef struct gen {
    gen_opts o;
    uint64_t key_vpc, key_assoc, key_pcx, key_dopt, key_pool;
    uint64_t acct_base;
    unsigned slot_len;
    uint64_t slot_mask;
    gbuf w;
    gen_stats st;
    cs_error *err;
    cs_estate *sink;     /* gen_estate_build: records go here, no files */
    int rc;              /* the code of the first failure */
} gen;

static uint64_t vcode(uint32_t a, uint32_t r, uint32_t j)
{
    return ((uint64_t)a << 24) | ((uint64_t)r << 16) | j;
}

static grng rng_for(const gen *g, uint64_t code, unsigned salt)
{
    grng r = {mix64(g->o.seed ^ mix64(code * 8 + salt))};
    return r;
}

static void account_id(const gen *g, uint64_t a, char out[13])
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

static gblock v4block(uint32_t addr, unsigned len, uint8_t state)
{
    gblock b;
    memset(&b, 0, sizeof b);
    b.p = cs_prefix_from_v4(addr, len);
    b.state = state;
    return b;
}

static void add4(gvpc *v, gblock b)
{
    if (v->n4 < sizeof v->v4 / sizeof *v->v4) {
        b.ord = (uint8_t)(v->n4 + v->n6);
        v->v4[v->n4++] = b;
    }
}

static void add6(const gen *g, gvpc *v, int kind)
{
    if (v->n6 >= sizeof v->v6 / sizeof *v->v6)
        return;
    uint64_t hi;
    if (kind == BK_AMAZON) {
        /* 2600:1f1R:xxxx:xx00::/56, one per VPC of the region. */
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
static const char *const envs[] = {"prod", "staging", "dev", "test"};
static const char *const teams[] = {"platform", "payments", "data",
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

static void make_name(gvpc *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void make_name(gvpc *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->name, sizeof v->name, fmt, ap);
    va_end(ap);
}

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
static void org_vpc(const gen *g, gvpc *v, grng *rg, const char *app)
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
        make_name(v, "template-%s-%u", app, v->j);
    } else {
        uint32_t bu = (uint32_t)(mix64(v->a ^ g->key_pool) % 16);
        uint32_t pool = 0x0a000000u + bu * (3u << 19);
        unsigned len = 22 + rbelow(rg, 3);
        uint32_t slots = 1u << (len - 11);
        uint32_t slot = (uint32_t)(mix64(v->code ^ g->key_pool) % slots);
        v->role = R_IPAM;
        add4(v, v4block(pool + (slot << (32 - len)), len, CS_ASSOC_ASSOCIATED));
        make_name(v, "bu%u-%s-%s-%u", bu, app, envs[v->env], v->j);
    }
    if (rchance(rg, 200))
        add4(v, v4block(0x64400000u, cgnat_len[rbelow(rg, 3)], CS_ASSOC_ASSOCIATED));
    if (rchance(rg, 100))
        add6(g, v, BK_AMAZON);
    v->pending = rchance(rg, 5);
}

/* Everything about VPC (a, r, j), recomputed at will. */
static void vpc_make(const gen *g, uint32_t a, uint32_t r, uint32_t j,
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
    const char *rn = region_names[r];
    const char *app = apps[rbelow(&rg, sizeof apps / sizeof *apps)];

    int role;
    if (g->o.shape == GEN_SHAPE_ORG) {
        org_vpc(g, v, &rg, app);
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
        add6(g, v, BK_AMAZON);
        make_name(v, "network-hub-%s", rn);
        break;
    case R_SHARED:
        ipam_blocks(g, v, &rg, false);
        if (rchance(&rg, 500))
            add6(g, v, BK_AMAZON);
        make_name(v, "shared-services-%u", j - 1);
        break;
    case R_TEMPLATE10:
        /* The console's "VPC and more" default. */
        add4(v, v4block(0x0a000000u, 16, CS_ASSOC_ASSOCIATED));
        if (v->persona == P_LEGACY && j == 1)
            add4(v, v4block(0x0a010000u, 16, CS_ASSOC_DISASSOCIATED));
        make_name(v, "legacy-%s-%u", app, j);
        break;
    case R_TEMPLATE192:
        add4(v, v4block(0xc0a80000u, 16, CS_ASSOC_ASSOCIATED));
        make_name(v, "onprem-lab-%u", j);
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
        make_name(v, "%s-%s-manual", app, envs[v->env]);
        break;
    }
    case R_EKS:
        ipam_blocks(g, v, &rg, true);
        add4(v, v4block(0x64400000u, 16, CS_ASSOC_ASSOCIATED));
        add6(g, v, BK_ULA);
        make_name(v, "eks-%s-%u", envs[v->env], j);
        break;
    case R_ACQUIRED:
        add4(v, v4block(0x0a000000u, 16, CS_ASSOC_ASSOCIATED));
        make_name(v, "acquired-corp-main");
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
            add6(g, v, BK_AMAZON);
            add6(g, v, BK_BYOIP);
        } else if (rchance(&rg, 400)) {
            add6(g, v, BK_AMAZON);
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
        make_name(v, "%s-%s-%u", app, envs[v->env], j);
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

static gref ref(uint32_t a, uint32_t r, uint32_t j)
{
    gref x = {a, r, j, false};
    return x;
}

/* The VPC whose code names the connection: its requester, or our side
 * when a partner outside the estate requested it. */
static uint64_t link_code(const glink *l)
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
    grng rg = rng_for(g, link_code(l), S_LINK);
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
static size_t links_at(const gen *g, uint32_t a, uint32_t r, glink *out)
{
    size_t n = 0;
    uint32_t N = g->o.accounts, R = g->o.regions, K = g->o.vpcs;
    uint32_t p = a % P_COUNT, h = a - p;
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

/* ---- output -------------------------------------------------------------------- */

static void gflush(gbuf *w)
{
    size_t off = 0;
    while (off < w->len && !w->err) {
        ssize_t k = write(w->fd, w->b + off, w->len - off);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            w->err = errno;
            break;
        }
        off += (size_t)k;
    }
    w->total += w->len;
    w->len = 0;
}

static void put(gbuf *w, const char *s, size_t n)
{
    while (n) {
        if (w->len == w->cap)
            gflush(w);
        size_t k = w->cap - w->len < n ? w->cap - w->len : n;
        memcpy(w->b + w->len, s, k);
        w->len += k;
        s += k;
        n -= k;
    }
}

static void puts_(gbuf *w, const char *s)
{
    put(w, s, strlen(s));
}

static void putc_(gbuf *w, char c)
{
    if (w->len == w->cap)
        gflush(w);
    w->b[w->len++] = c;
}

/* A JSON string as Python's json.dumps(ensure_ascii=False) writes it. */
static void put_jstr(gbuf *w, const char *s)
{
    putc_(w, '"');
    const char *run = s;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        const char *esc = NULL;
        char u[8];
        switch (*p) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        default:
            if (*p < 0x20) {
                snprintf(u, sizeof u, "\\u%04x", *p);
                esc = u;
            }
        }
        if (!esc)
            continue;
        put(w, run, (size_t)((const char *)p - run));
        puts_(w, esc);
        run = (const char *)p + 1;
    }
    puts_(w, run);
    putc_(w, '"');
}

/* A JSON writer with Python's indent=4 layout. */
typedef struct jw {
    gbuf *o;
    int depth;
    unsigned count[16];
    bool after_key;
} jw;

static void jw_pre(jw *w)
{
    static const char spaces[] = "                                        "
                                 "                        ";
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth == 0)
        return;
    if (w->count[w->depth]++)
        putc_(w->o, ',');
    putc_(w->o, '\n');
    put(w->o, spaces, (size_t)w->depth * 4);
}

static void jw_open(jw *w, char c)
{
    jw_pre(w);
    putc_(w->o, c);
    w->depth++;
    w->count[w->depth] = 0;
}

static void jw_close(jw *w, char c)
{
    static const char spaces[] = "                                        "
                                 "                        ";
    unsigned n = w->count[w->depth];
    w->depth--;
    if (n) {
        putc_(w->o, '\n');
        put(w->o, spaces, (size_t)w->depth * 4);
    }
    putc_(w->o, c);
}

static void jw_key(jw *w, const char *k)
{
    jw_pre(w);
    put_jstr(w->o, k);
    puts_(w->o, ": ");
    w->after_key = true;
}

static void jw_str(jw *w, const char *s)
{
    jw_pre(w);
    put_jstr(w->o, s);
}

static void jw_kstr(jw *w, const char *k, const char *s)
{
    jw_key(w, k);
    jw_str(w, s);
}

static void jw_kbool(jw *w, const char *k, bool b)
{
    jw_key(w, k);
    jw_pre(w);
    puts_(w->o, b ? "true" : "false");
}

static void hex_id(char *out, size_t cap, const char *prefix, uint64_t v)
{
    snprintf(out, cap, "%s0%016llx", prefix, (unsigned long long)v);
}

static void vpc_id(const gen *g, const gref *x, char out[32])
{
    if (x->external)
        hex_id(out, 32, "vpc-", mix64(((1ull << 48) | x->a) ^ g->key_vpc));
    else
        hex_id(out, 32, "vpc-", mix64(vcode(x->a, x->r, x->j) ^ g->key_vpc));
}

static void ref_account(const gen *g, const gref *x, char out[13])
{
    /* A partner's account: an id past the estate's, never one of ours. */
    account_id(g, x->external ? (uint64_t)g->o.accounts + x->a : x->a, out);
}

static void pfx_text(const cs_prefix *p, char out[CS_PREFIX_STRCAP])
{
    cs_prefix_format(p, out, CS_PREFIX_STRCAP);
}

static void json_vpc(const gen *g, jw *w, const gvpc *v)
{
    char buf[64], acct[13];
    account_id(g, v->a, acct);
    jw_open(w, '{');
    jw_kstr(w, "OwnerId", acct);
    jw_kstr(w, "InstanceTenancy", v->dedicated ? "dedicated" : "default");
    if (v->n6) {
        jw_key(w, "Ipv6CidrBlockAssociationSet");
        jw_open(w, '[');
        for (unsigned i = 0; i < v->n6; i++) {
            const gblock *b = &v->v6[i];
            jw_open(w, '{');
            hex_id(buf, sizeof buf, "vpc-cidr-assoc-",
                   mix64(((v->code << 8) | b->ord) ^ g->key_assoc));
            jw_kstr(w, "AssociationId", buf);
            pfx_text(&b->p, buf);
            jw_kstr(w, "Ipv6CidrBlock", buf);
            jw_key(w, "Ipv6CidrBlockState");
            jw_open(w, '{');
            jw_kstr(w, "State", cs_assoc_state_name(b->state));
            jw_close(w, '}');
            jw_kstr(w, "NetworkBorderGroup", region_names[v->r]);
            if (b->kind == BK_AMAZON) {
                jw_kstr(w, "Ipv6Pool", "Amazon");
                jw_kstr(w, "Ipv6AddressAttribute", "public");
                jw_kstr(w, "IpSource", "amazon");
            } else if (b->kind == BK_BYOIP) {
                hex_id(buf, sizeof buf, "ipv6pool-ec2-",
                       mix64((uint64_t)v->a ^ g->key_pool));
                jw_kstr(w, "Ipv6Pool", buf);
                jw_kstr(w, "Ipv6AddressAttribute", "public");
                jw_kstr(w, "IpSource", "byoip");
            } else {
                hex_id(buf, sizeof buf, "ipam-pool-",
                       mix64(((uint64_t)v->a << 1 | 1) ^ g->key_pool));
                jw_kstr(w, "Ipv6Pool", buf);
                jw_kstr(w, "Ipv6AddressAttribute", "private");
                jw_kstr(w, "IpSource", "none");
            }
            jw_close(w, '}');
        }
        jw_close(w, ']');
    }
    jw_key(w, "CidrBlockAssociationSet");
    jw_open(w, '[');
    for (unsigned i = 0; i < v->n4; i++) {
        const gblock *b = &v->v4[i];
        jw_open(w, '{');
        hex_id(buf, sizeof buf, "vpc-cidr-assoc-",
               mix64(((v->code << 8) | b->ord) ^ g->key_assoc));
        jw_kstr(w, "AssociationId", buf);
        pfx_text(&b->p, buf);
        jw_kstr(w, "CidrBlock", buf);
        jw_key(w, "CidrBlockState");
        jw_open(w, '{');
        jw_kstr(w, "State", cs_assoc_state_name(b->state));
        if (b->msg)
            jw_kstr(w, "StatusMessage", b->msg);
        jw_close(w, '}');
        jw_close(w, '}');
    }
    jw_close(w, ']');
    jw_kbool(w, "IsDefault", v->is_default);
    if (v->tags != TAGS_NONE) {
        jw_key(w, "Tags");
        jw_open(w, '[');
        jw_open(w, '{');
        jw_kstr(w, "Key", "Name");
        jw_kstr(w, "Value", v->name);
        jw_close(w, '}');
        if (v->tags == TAGS_STD) {
            char cc[16];
            snprintf(cc, sizeof cc, "cc-%04u", (unsigned)(v->a % 9000 + 1000));
            const char *kv[][2] = {
                {"Environment", envs[v->env]},
                {"Team", teams[v->team]},
                {"CostCenter", cc},
                {"ManagedBy", v->j % 3 ? "terraform" : "cloudformation"},
            };
            for (size_t i = 0; i < sizeof kv / sizeof *kv; i++) {
                jw_open(w, '{');
                jw_kstr(w, "Key", kv[i][0]);
                jw_kstr(w, "Value", kv[i][1]);
                jw_close(w, '}');
            }
        } else if (v->tags == TAGS_MANY) {
            /* AWS allows 50 tags per resource. */
            for (unsigned i = 1; i < 50; i++) {
                char k[32], val[32];
                snprintf(k, sizeof k, "sandbox:label-%02u", i);
                snprintf(val, sizeof val, "value %u/49", i);
                jw_open(w, '{');
                jw_kstr(w, "Key", k);
                jw_kstr(w, "Value", val);
                jw_close(w, '}');
            }
        }
        jw_close(w, ']');
    }
    jw_key(w, "BlockPublicAccessStates");
    jw_open(w, '{');
    jw_kstr(w, "InternetGatewayBlockMode", "off");
    jw_close(w, '}');
    hex_id(buf, sizeof buf, "vpc-",
           mix64(v->code ^ g->key_vpc));
    jw_kstr(w, "VpcId", buf);
    jw_kstr(w, "State", v->pending ? "pending" : "available");
    pfx_text(&v->v4[0].p, buf);
    jw_kstr(w, "CidrBlock", buf);
    hex_id(buf, sizeof buf, "dopt-",
           mix64(((uint64_t)v->a << 8 | v->r) ^ g->key_dopt));
    jw_kstr(w, "DhcpOptionsId", buf);
    jw_close(w, '}');
}

static bool live(uint8_t st)
{
    return st == CS_ASSOC_ASSOCIATED || st == CS_ASSOC_ASSOCIATING;
}

/* RequesterVpcInfo / AccepterVpcInfo. CIDRs as AWS prints them: both
 * sides' once active, only the requester's before. */
static void json_side(const gen *g, jw *w, const glink *l, bool requester)
{
    const gref *x = requester ? &l->req : &l->acc;
    bool cidrs = l->status == CS_PCX_ACTIVE || requester;
    char buf[64], acct[13];
    gvpc v;
    if (x->external) {
        memset(&v, 0, sizeof v);
        v.v4[0] = v4block(0xac140000u, 16, CS_ASSOC_ASSOCIATED);
        v.n4 = 1;
    } else {
        vpc_make(g, x->a, x->r, x->j, &v);
    }
    jw_open(w, '{');
    if (cidrs) {
        pfx_text(&v.v4[0].p, buf);
        jw_kstr(w, "CidrBlock", buf);
        unsigned n6 = 0;
        for (unsigned i = 0; i < v.n6; i++)
            n6 += live(v.v6[i].state);
        if (n6 && l->status == CS_PCX_ACTIVE) {
            jw_key(w, "Ipv6CidrBlockSet");
            jw_open(w, '[');
            for (unsigned i = 0; i < v.n6; i++) {
                if (!live(v.v6[i].state))
                    continue;
                jw_open(w, '{');
                pfx_text(&v.v6[i].p, buf);
                jw_kstr(w, "Ipv6CidrBlock", buf);
                jw_close(w, '}');
            }
            jw_close(w, ']');
        }
        jw_key(w, "CidrBlockSet");
        jw_open(w, '[');
        for (unsigned i = 0; i < v.n4; i++) {
            if (!live(v.v4[i].state))
                continue;
            jw_open(w, '{');
            pfx_text(&v.v4[i].p, buf);
            jw_kstr(w, "CidrBlock", buf);
            jw_close(w, '}');
        }
        jw_close(w, ']');
    }
    ref_account(g, x, acct);
    jw_kstr(w, "OwnerId", acct);
    if (l->status == CS_PCX_ACTIVE) {
        /* DNS resolution is on for hub links, off elsewhere. */
        bool dns = l->kind == L_HUB_SPOKE || l->kind == L_INTER_REGION;
        jw_key(w, "PeeringOptions");
        jw_open(w, '{');
        jw_kbool(w, "AllowDnsResolutionFromRemoteVpc", dns);
        jw_kbool(w, "AllowEgressFromLocalClassicLinkToRemoteVpc", false);
        jw_kbool(w, "AllowEgressFromLocalVpcToRemoteClassicLink", false);
        jw_close(w, '}');
    }
    vpc_id(g, x, buf);
    jw_kstr(w, "VpcId", buf);
    jw_kstr(w, "Region", region_names[x->external ? 0 : x->r]);
    jw_close(w, '}');
}

static void json_link(const gen *g, jw *w, const glink *l)
{
    char buf[96], acct[13];
    jw_open(w, '{');
    jw_key(w, "AccepterVpcInfo");
    json_side(g, w, l, false);
    if (l->status == CS_PCX_PENDING_ACCEPTANCE) {
        /* A request expires after a week. */
        grng rg = rng_for(g, link_code(l), S_LINK);
        /* One draw per statement: the order of evaluation of function
         * arguments is unspecified (gcc and clang differ), and the same
         * seed must give the same bytes from every build. */
        unsigned day = 15 + rbelow(&rg, 7);
        unsigned hour = rbelow(&rg, 24);
        unsigned minute = rbelow(&rg, 60);
        snprintf(buf, sizeof buf, "2025-01-%02uT%02u:%02u:00+00:00", day, hour, minute);
        jw_kstr(w, "ExpirationTime", buf);
    }
    jw_key(w, "RequesterVpcInfo");
    json_side(g, w, l, true);
    jw_key(w, "Status");
    jw_open(w, '{');
    jw_kstr(w, "Code", cs_pcx_status_name(l->status));
    ref_account(g, &l->acc, acct);
    switch (l->status) {
    case CS_PCX_INITIATING_REQUEST:
        snprintf(buf, sizeof buf, "Initiating Request to %s", acct);
        break;
    case CS_PCX_PENDING_ACCEPTANCE:
        snprintf(buf, sizeof buf, "Pending Acceptance by %s", acct);
        break;
    case CS_PCX_REJECTED:
        snprintf(buf, sizeof buf, "Rejected by %s", acct);
        break;
    case CS_PCX_DELETED:
        snprintf(buf, sizeof buf, "Deleted by %s", acct);
        break;
    case CS_PCX_FAILED:
        snprintf(buf, sizeof buf, "Failed due to incorrect VPC-ID, Account "
                                  "ID, or overlapping CIDR range");
        break;
    case CS_PCX_PROVISIONING:
        snprintf(buf, sizeof buf, "Provisioning");
        break;
    case CS_PCX_DELETING:
        snprintf(buf, sizeof buf, "Deleting");
        break;
    case CS_PCX_EXPIRED:
        snprintf(buf, sizeof buf, "Expired");
        break;
    default:
        snprintf(buf, sizeof buf, "Active");
        break;
    }
    jw_kstr(w, "Message", buf);
    jw_close(w, '}');
    if (l->kind == L_HUB_SPOKE || l->kind == L_INTER_REGION) {
        char acct2[13];
        ref_account(g, &l->req, acct2);
        snprintf(buf, sizeof buf, "hub-%s-to-%s-%s", acct2, acct,
                 region_names[l->acc.r]);
        jw_key(w, "Tags");
        jw_open(w, '[');
        jw_open(w, '{');
        jw_kstr(w, "Key", "Name");
        jw_kstr(w, "Value", buf);
        jw_close(w, '}');
        jw_close(w, ']');
    }
    hex_id(buf, sizeof buf, "pcx-", mix64(link_code(l) ^ g->key_pcx));
    jw_kstr(w, "VpcPeeringConnectionId", buf);
    jw_close(w, '}');
}

/* ---- files -------------------------------------------------------------------- */

static int failv(gen *g, int code, const char *fmt, va_list ap)
{
    g->rc = code;
    if (g->err) {
        g->err->code = code;
        vsnprintf(g->err->message, sizeof g->err->message, fmt, ap);
    }
    return code;
}

/* An I/O failure. */
static int fail(gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(gen *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = failv(g, CS_EIO, fmt, ap);
    va_end(ap);
    return rc;
}

/* A bad option. */
static int fail_usage(gen *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int fail_usage(gen *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = failv(g, CS_EINVAL, fmt, ap);
    va_end(ap);
    return rc;
}

static int file_open(gen *g, const char *path)
{
    g->w.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (g->w.fd < 0)
        return fail(g, "%s: %s", path, strerror(errno));
    g->w.path = path;
    g->w.err = 0;
    g->w.len = 0;
    return 0;
}

static int file_close(gen *g)
{
    gflush(&g->w);
    int rc = 0;
    if (g->w.err)
        rc = fail(g, "%s: write: %s", g->w.path, strerror(g->w.err));
    if (close(g->w.fd) != 0 && rc == 0)
        rc = fail(g, "%s: close: %s", g->w.path, strerror(errno));
    g->w.fd = -1;
    g->st.files++;
    return rc;
}

static int make_dir(gen *g, const char *path)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return fail(g, "%s: mkdir: %s", path, strerror(errno));
    return 0;
}

static int write_region_dir(gen *g, uint32_t a, uint32_t r, const char *dir)
{
    char path[4096 + 16];
    jw w;
    memset(&w, 0, sizeof w);
    w.o = &g->w;

    snprintf(path, sizeof path, "%s/vpcs.json", dir);
    if (file_open(g, path))
        return g->rc;
    jw_open(&w, '{');
    jw_key(&w, "Vpcs");
    jw_open(&w, '[');
    for (uint32_t j = 0; j < g->o.vpcs; j++) {
        gvpc v;
        vpc_make(g, a, r, j, &v);
        json_vpc(g, &w, &v);
        g->st.vpcs++;
        g->st.assocs += v.n4 + v.n6;
    }
    jw_close(&w, ']');
    jw_close(&w, '}');
    putc_(&g->w, '\n');
    if (file_close(g))
        return g->rc;

    glink links[MAX_LINKS];
    size_t n = links_at(g, a, r, links);
    snprintf(path, sizeof path, "%s/peering.json", dir);
    if (file_open(g, path))
        return g->rc;
    memset(&w, 0, sizeof w);
    w.o = &g->w;
    jw_open(&w, '{');
    jw_key(&w, "VpcPeeringConnections");
    jw_open(&w, '[');
    for (size_t i = 0; i < n; i++) {
        json_link(g, &w, &links[i]);
        /* Count each connection once: at its requester (ours) side. */
        const gref *home = links[i].req.external ? &links[i].acc
                                                 : &links[i].req;
        if (home->a == a && home->r == r)
            g->st.peerings++;
    }
    jw_close(&w, ']');
    jw_close(&w, '}');
    putc_(&g->w, '\n');
    return file_close(g);
}

/* A CSV field (RFC 4180: quoted when it holds a comma, quote, line break or
 * surrounding blanks). */
static void put_csv(gbuf *w, const char *s)
{
    size_t n = strlen(s);
    bool q = n && (s[0] == ' ' || s[n - 1] == ' ');
    for (size_t i = 0; i < n && !q; i++)
        q = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!q) {
        put(w, s, n);
        return;
    }
    putc_(w, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            putc_(w, '"');
        putc_(w, s[i]);
    }
    putc_(w, '"');
}

static void csv_vpc(const gen *g, gbuf *o, const gvpc *v)
{
    char acct[13], id[32], pfx[CS_PREFIX_STRCAP];
    account_id(g, v->a, acct);
    gref x = ref(v->a, v->r, v->j);
    vpc_id(g, &x, id);
    for (unsigned i = 0; i < v->n4 + v->n6; i++) {
        const gblock *b = i < v->n4 ? &v->v4[i] : &v->v6[i - v->n4];
        pfx_text(&b->p, pfx);
        puts_(o, acct);
        putc_(o, ',');
        puts_(o, region_names[v->r]);
        putc_(o, ',');
        puts_(o, id);
        putc_(o, ',');
        puts_(o, pfx);
        putc_(o, ',');
        puts_(o, cs_assoc_state_name(b->state));
        puts_(o, v->is_default ? ",true," : ",false,");
        if (v->tags != TAGS_NONE)
            put_csv(o, v->name);
        putc_(o, '\n');
    }
}

static void csv_link(const gen *g, gbuf *o, const glink *l)
{
    char id[32], ra[13], aa[13];
    hex_id(id, sizeof id, "pcx-", mix64(link_code(l) ^ g->key_pcx));
    puts_(o, id);
    putc_(o, ',');
    vpc_id(g, &l->req, id);
    puts_(o, id);
    putc_(o, ',');
    vpc_id(g, &l->acc, id);
    puts_(o, id);
    putc_(o, ',');
    puts_(o, cs_pcx_status_name(l->status));
    ref_account(g, &l->req, ra);
    ref_account(g, &l->acc, aa);
    putc_(o, ',');
    puts_(o, ra);
    putc_(o, ',');
    puts_(o, aa);
    putc_(o, ',');
    puts_(o, region_names[l->req.external ? 0 : l->req.r]);
    putc_(o, ',');
    puts_(o, region_names[l->acc.r]);
    putc_(o, '\n');
}

static bool dir_empty(const char *path, bool *exists)
{
    DIR *d = opendir(path);
    *exists = d != NULL || errno != ENOENT;
    if (!d)
        return errno == ENOENT;
    struct dirent *de;
    bool empty = true;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            empty = false;
            break;
        }
    closedir(d);
    return empty;
}

static void progress(const gen *g, uint32_t a)
{
    if (g->o.progress)
        g->o.progress(a, g->o.accounts, g->o.progress_ctx);
}

static int gen_dir(gen *g)
{
    bool exists;
    if (!dir_empty(g->o.out, &exists))
        return fail_usage(g, "%s: exists and is not empty (give a new "
                             "directory)", g->o.out);
    if (!exists && make_dir(g, g->o.out))
        return g->rc;
    char adir[4096], rdir[4096];
    for (uint32_t a = 0; a < g->o.accounts; a++) {
        char acct[13];
        account_id(g, a, acct);
        progress(g, a);
        if ((size_t)snprintf(adir, sizeof adir, "%s/%s", g->o.out, acct) >=
            sizeof adir)
            return fail(g, "%s: path too long", g->o.out);
        if (make_dir(g, adir))
            return g->rc;
        for (uint32_t r = 0; r < g->o.regions; r++) {
            if ((size_t)snprintf(rdir, sizeof rdir, "%s/%s", adir,
                                 region_names[r]) >= sizeof rdir - 16)
                return fail(g, "%s: path too long", g->o.out);
            if (make_dir(g, rdir) || write_region_dir(g, a, r, rdir))
                return g->rc;
        }
    }
    return 0;
}

static int gen_csv(gen *g)
{
    const char *out = g->o.out;
    size_t n = strlen(out);
    char ppath[4096];
    if (n > 4 && strcmp(out + n - 4, ".csv") == 0)
        snprintf(ppath, sizeof ppath, "%.*s-peering.csv", (int)(n - 4), out);
    else
        snprintf(ppath, sizeof ppath, "%s-peering.csv", out);

    if (file_open(g, out))
        return g->rc;
    puts_(&g->w, "account,region,vpc_id,cidr,state,is_default,name\n");
    for (uint32_t a = 0; a < g->o.accounts; a++) {
        progress(g, a);
        for (uint32_t r = 0; r < g->o.regions; r++)
            for (uint32_t j = 0; j < g->o.vpcs; j++) {
                gvpc v;
                vpc_make(g, a, r, j, &v);
                csv_vpc(g, &g->w, &v);
                g->st.vpcs++;
                g->st.assocs += v.n4 + v.n6;
            }
    }
    if (file_close(g))
        return g->rc;

    if (file_open(g, ppath))
        return g->rc;
    puts_(&g->w, "pcx_id,requester_vpc,accepter_vpc,status,"
                 "requester_account,accepter_account,requester_region,"
                 "accepter_region\n");
    glink links[MAX_LINKS];
    for (uint32_t a = 0; a < g->o.accounts; a++)
        for (uint32_t r = 0; r < g->o.regions; r++) {
            size_t k = links_at(g, a, r, links);
            for (size_t i = 0; i < k; i++) {
                const gref *home = links[i].req.external ? &links[i].acc
                                                         : &links[i].req;
                if (home->a != a || home->r != r)
                    continue;
                csv_link(g, &g->w, &links[i]);
                g->st.peerings++;
            }
        }
    return file_close(g);
}

static unsigned ceil_log2(uint64_t v)
{
    unsigned k = 0;
    while (k < 64 && (1ull << k) < v)
        k++;
    return k;
}

/* Validates the options and derives the keys: 0 or CS_EINVAL. */
static int gen_setup(gen *g, const gen_opts *o, cs_error *err, bool files)
{
    memset(g, 0, sizeof *g);
    g->o = *o;
    g->err = err;
    if (err)
        cs_error_clear(err);
    if (o->accounts < 1 || o->accounts > GEN_MAX_ACCOUNTS)
        return fail_usage(g, "--accounts must be 1..%u", GEN_MAX_ACCOUNTS);
    if (o->regions < 1 || o->regions > N_REGIONS)
        return fail_usage(g, "--regions must be 1..%u", (unsigned)N_REGIONS);
    if (o->vpcs < 1 || o->vpcs > GEN_MAX_VPCS_PER_REGION)
        return fail_usage(g, "--vpcs-per-region must be 1..%u",
                          GEN_MAX_VPCS_PER_REGION);
    if (o->shape != GEN_SHAPE_DEFAULT && o->shape != GEN_SHAPE_ORG)
        return fail_usage(g, "unknown shape %d", o->shape);
    if (files && (!o->out || !o->out[0]))
        return fail_usage(g, "--out is required");

    grng k = {mix64(o->seed ^ 0x63696472736370ull)};
    g->key_vpc = rnext(&k);
    g->key_assoc = rnext(&k);
    g->key_pcx = rnext(&k);
    g->key_dopt = rnext(&k);
    g->key_pool = rnext(&k);
    g->acct_base = rnext(&k) % 1000000000000ull;
    uint64_t total = (uint64_t)o->accounts * o->regions * o->vpcs;
    unsigned len = 8 + ceil_log2(total);
    g->slot_len = len < 16 ? 16 : len > 28 ? 28 : len;
    g->slot_mask = (1ull << (g->slot_len - 8)) - 1;
    return 0;
}

int gen_estate(const gen_opts *o, gen_stats *st, cs_error *err)
{
    gen g;
    int rc = gen_setup(&g, o, err, true);
    if (rc)
        return rc;
    g.w.cap = 1u << 20;
    g.w.b = malloc(g.w.cap);
    g.w.fd = -1;
    if (!g.w.b) {
        fail(&g, "out of memory");
        return g.rc = CS_ENOMEM;
    }
    rc = o->format == GEN_CSV ? gen_csv(&g) : gen_dir(&g);
    if (g.w.fd >= 0)
        close(g.w.fd);
    free(g.w.b);
    if (rc == 0)
        progress(&g, g.o.accounts);
    g.st.bytes = g.w.total;
    if (st)
        *st = g.st;
    return rc;
}

/* ---- straight into a builder ------------------------------------------------------ */

/* A builder call failed: its err already says why. */
static int sink_failed(gen *g, int rc)
{
    g->rc = rc;
    return rc;
}

static int sink_vpc(gen *g, const gvpc *v)
{
    char id[32], acct[13], cc[16];
    gref x = {v->a, v->r, v->j, false};
    vpc_id(g, &x, id);
    account_id(g, v->a, acct);
    snprintf(cc, sizeof cc, "cc-%04u", (unsigned)(v->a % 9000 + 1000));
    cs_tag tags[50];
    size_t nt = 0;
    char kbuf[49][32], vbuf[49][32];
    if (v->tags != TAGS_NONE) {
        tags[nt++] = (cs_tag){cs_str_c("Name"), cs_str_c(v->name)};
        if (v->tags == TAGS_STD) {
            tags[nt++] = (cs_tag){cs_str_c("Environment"), cs_str_c(envs[v->env])};
            tags[nt++] = (cs_tag){cs_str_c("Team"), cs_str_c(teams[v->team])};
            tags[nt++] = (cs_tag){cs_str_c("CostCenter"), cs_str_c(cc)};
            tags[nt++] = (cs_tag){cs_str_c("ManagedBy"),
                                  cs_str_c(v->j % 3 ? "terraform" : "cloudformation")};
        } else if (v->tags == TAGS_MANY) {
            for (unsigned i = 1; i < 50; i++) {
                snprintf(kbuf[i - 1], sizeof kbuf[i - 1], "sandbox:label-%02u", i);
                snprintf(vbuf[i - 1], sizeof vbuf[i - 1], "value %u/49", i);
                tags[nt++] = (cs_tag){cs_str_c(kbuf[i - 1]), cs_str_c(vbuf[i - 1])};
            }
        }
    }
    cs_srcloc loc = {"(gen)", 0, 0};
    cs_vpc_desc d = {.id = cs_str_c(id), .owner = cs_str_c(acct),
                     .region = cs_str_c(region_names[v->r]),
                     .name = cs_str_c(v->tags != TAGS_NONE ? v->name : NULL),
                     .tags = tags, .tag_count = nt,
                     .state = v->pending ? CS_VPC_PENDING : CS_VPC_AVAILABLE,
                     .is_default = v->is_default};
    int rc = cs_estate_add_vpc(g->sink, &d, &loc, g->err);
    if (rc < 0)
        return sink_failed(g, rc);
    const gblock *bl[2] = {v->v4, v->v6};
    unsigned nb[2] = {v->n4, v->n6};
    for (int f = 0; f < 2; f++)
        for (unsigned i = 0; i < nb[f]; i++) {
            char aid[48];
            hex_id(aid, sizeof aid, "vpc-cidr-assoc-",
                   mix64(((v->code << 8) | bl[f][i].ord) ^ g->key_assoc));
            cs_cidr_desc cd = {.vpc_id = cs_str_c(id), .prefix = bl[f][i].p,
                               .association_id = cs_str_c(aid), .state = bl[f][i].state,
                               .primary = f == 0 && i == 0};
            rc = cs_estate_add_cidr(g->sink, &cd, &loc, g->err);
            if (rc < 0)
                return sink_failed(g, rc);
        }
    g->st.vpcs++;
    g->st.assocs += v->n4 + v->n6;
    return 0;
}

static int sink_link(gen *g, const glink *l)
{
    char pcx[48], rid[32], aid[32], racct[13], aacct[13];
    hex_id(pcx, sizeof pcx, "pcx-", mix64(link_code(l) ^ g->key_pcx));
    vpc_id(g, &l->req, rid);
    vpc_id(g, &l->acc, aid);
    ref_account(g, &l->req, racct);
    ref_account(g, &l->acc, aacct);
    cs_peering_desc d = {
        .id = cs_str_c(pcx),
        .requester = {.vpc_id = cs_str_c(rid), .owner = cs_str_c(racct),
                      .region = cs_str_c(region_names[l->req.external ? 0 : l->req.r])},
        .accepter = {.vpc_id = cs_str_c(aid), .owner = cs_str_c(aacct),
                     .region = cs_str_c(region_names[l->acc.external ? 0 : l->acc.r])},
        .status = l->status};
    cs_srcloc loc = {"(gen)", 0, 0};
    int rc = cs_estate_add_peering(g->sink, &d, &loc, g->err);
    if (rc < 0)
        return sink_failed(g, rc);
    g->st.peerings++;
    return 0;
}

int gen_estate_build(const gen_opts *o, cs_estate *e, gen_stats *st, cs_error *err)
{
    gen g;
    int rc = gen_setup(&g, o, err, false);
    if (rc)
        return rc;
    if (!e)
        return fail_usage(&g, "gen_estate_build: NULL estate");
    g.sink = e;
    glink links[MAX_LINKS];
    for (uint32_t a = 0; a < g.o.accounts && rc == 0; a++)
        for (uint32_t r = 0; r < g.o.regions && rc == 0; r++) {
            for (uint32_t j = 0; j < g.o.vpcs && rc == 0; j++) {
                gvpc v;
                vpc_make(&g, a, r, j, &v);
                rc = sink_vpc(&g, &v);
            }
            size_t k = links_at(&g, a, r, links);
            for (size_t i = 0; i < k && rc == 0; i++) {
                /* once, at its home side (as the CSV writes it) */
                const gref *home = links[i].req.external ? &links[i].acc : &links[i].req;
                if (home->a == a && home->r == r)
                    rc = sink_link(&g, &links[i]);
            }
        }
    if (st)
        *st = g.st;
    return rc;
}
