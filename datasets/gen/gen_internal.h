/*
 * datasets/gen/gen_internal.h — what the generator's files share: the
 * model (a VPC, its blocks, a peering link, the generator's state), the
 * deterministic random streams, and the calls between the shapes
 * (gen_shape.c, gen_org.c), the file writers (gen_write.c) and the
 * builder sink (gen_build.c). Private to datasets/gen.
 */
#ifndef CS_GEN_INTERNAL_H
#define CS_GEN_INTERNAL_H

#include "gen_estate.h"

#include <cidrscope/cidrscope.h>
#include <cidrscope/estate.h>

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* ---- deterministic randomness ----------------------------------------------- */

/* splitmix64's finaliser: a bijection of 64-bit words. */
static inline uint64_t mix64(uint64_t x)
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

static inline uint64_t rnext(grng *r)
{
    r->s += 0x9e3779b97f4a7c15ull;
    return mix64(r->s);
}

/* Uniform in [0, n). */
static inline uint32_t rbelow(grng *r, uint32_t n)
{
    return (uint32_t)(((rnext(r) >> 32) * (uint64_t)n) >> 32);
}

static inline bool rchance(grng *r, unsigned permille)
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

enum { L_HUB_SPOKE, L_INTER_REGION, L_CHAIN, L_MESH, L_OVERLAP, L_PARTNER, L_DENSE };

typedef struct glink {
    uint8_t kind;
    uint8_t ord;
    uint8_t status;      /* enum cs_pcx_status */
    gref req, acc;
} glink;

/* Per account-region; the dense shape's whole estate has at most
 * 2 * GEN_DENSE_MAX_VPCS connections. */
#define MAX_LINKS 256

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

/* The real region names, in the order --regions takes them. */
#define GEN_N_REGIONS 32u
extern const char *const gen_region_names[GEN_N_REGIONS];
/* Tag values the shapes draw and the writers print. */
extern const char *const gen_envs[4];
extern const char *const gen_teams[6];

static inline uint64_t vcode(uint32_t a, uint32_t r, uint32_t j)
{
    return ((uint64_t)a << 24) | ((uint64_t)r << 16) | j;
}

static inline grng rng_for(const gen *g, uint64_t code, unsigned salt)
{
    grng r = {mix64(g->o.seed ^ mix64(code * 8 + salt))};
    return r;
}

static inline gblock v4block(uint32_t addr, unsigned len, uint8_t state)
{
    gblock b;
    memset(&b, 0, sizeof b);
    b.p = cs_prefix_from_v4(addr, len);
    b.state = state;
    return b;
}

static inline void add4(gvpc *v, gblock b)
{
    if (v->n4 < sizeof v->v4 / sizeof *v->v4) {
        b.ord = (uint8_t)(v->n4 + v->n6);
        v->v4[v->n4++] = b;
    }
}

/* VPC (a, r, j) of the estate. */
static inline gref ref(uint32_t a, uint32_t r, uint32_t j)
{
    gref x = {a, r, j, false};
    return x;
}

/* ---- gen_shape.c: the default shape (personas) and the links ---- */

/* The 12-digit account id of account a. */
void gen_account_id(const gen *g, uint64_t a, char out[13]);
/* Everything about VPC (a, r, j), recomputed at will (either shape). */
void gen_vpc_make(const gen *g, uint32_t a, uint32_t r, uint32_t j, gvpc *v);
/* Adds an IPv6 /56 of kind BK_* to v. */
void gen_add6(const gen *g, gvpc *v, int kind);
/* Sets v's Name tag. */
void gen_make_name(gvpc *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The code naming a connection (its id's seed). */
uint64_t gen_link_code(const glink *l);
/* Every connection with a side in account-region (a, r), each once;
 * out holds MAX_LINKS. */
size_t gen_links_at(const gen *g, uint32_t a, uint32_t r, glink *out);

/* ---- gen_org.c: the organisation shape ---- */

void gen_org_vpc(const gen *g, gvpc *v, grng *rg, const char *app);

/* ---- gen_dense.c: the dense shape ---- */

void gen_dense_vpc(const gen *g, gvpc *v, grng *rg);
size_t gen_dense_links_at(const gen *g, uint32_t a, uint32_t r, glink *out);

/* ---- gen_write.c: options, ids, failures ---- */

/* Validates the options and derives the keys: 0 or CS_EINVAL. */
int gen_setup(gen *g, const gen_opts *o, cs_error *err, bool files);
/* A bad option: records CS_EINVAL with the message, returns it. */
int gen_fail_usage(gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* PREFIX0<16 hex> */
void gen_hex_id(char *out, size_t cap, const char *prefix, uint64_t v);
void gen_vpc_id(const gen *g, const gref *x, char out[32]);
void gen_ref_account(const gen *g, const gref *x, char out[13]);

#endif
