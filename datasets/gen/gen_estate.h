/*
 * datasets/gen/gen_estate.h — the one synthetic estate generator: behind
 * `cidrscope gen`, the tests and the benchmarks (the static library cs_gen;
 * datasets/gen/gen_shape.c and gen_org.c document the estates it draws,
 * gen_write.c the files, gen_build.c the builder sink). Errors are the
 * library's codes with a message in a cs_error.
 */
#ifndef CS_GEN_ESTATE_H
#define CS_GEN_ESTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cidrscope/error.h>
#include <cidrscope/estate.h>

enum gen_format {
    GEN_DIR, /* OUT/<account>/<region>/{vpcs,peering}.json, AWS CLI JSON */
    GEN_CSV, /* OUT (VPC CIDRs) and OUT-peering.csv (connections) */
};

enum gen_shape {
    GEN_SHAPE_DEFAULT = 0, /* personas: hubs, templates, EKS, IPAM (default) */
    GEN_SHAPE_ORG = 1,     /* one large organisation: templates, CGNAT
                              secondaries, overlapping business-unit pools */
    GEN_SHAPE_DENSE = 2,   /* a small estate where every peering rule
                              fires (gen_dense.c); at most
                              GEN_DENSE_MAX_VPCS VPCs */
};

/* The organisation shape's defaults (issue 14): 38,000 accounts x 17
 * regions x 1 VPC, about a million CIDR rows. */
#define GEN_ORG_ACCOUNTS 38000u
#define GEN_ORG_REGIONS 17u

/* The dense shape's largest estate (accounts x regions x VPCs). */
#define GEN_DENSE_MAX_VPCS 128u

/* Largest parameters (ids pack account:24, region:8, vpc:16 bits). */
#define GEN_MAX_ACCOUNTS (1u << 24)
#define GEN_MAX_VPCS_PER_REGION 4096u

typedef struct gen_opts {
    uint64_t seed;
    uint32_t accounts;   /* N >= 1 */
    uint32_t regions;    /* R in 1..gen_region_count() */
    uint32_t vpcs;       /* K >= 1 VPCs per account-region */
    const char *out;     /* GEN_DIR: a directory that does not exist or is
                            empty; GEN_CSV: the VPC CSV file */
    int format;          /* enum gen_format */
    int shape;           /* enum gen_shape */
    /* gen_estate calls progress(accounts written, accounts in all, ctx)
     * as it goes and once at the end, when set; it prints nothing itself
     * (the CLI's progress line decides: cli/progress.c). */
    void (*progress)(uint64_t done, uint64_t total, void *ctx);
    void *progress_ctx;
} gen_opts;

typedef struct gen_stats {
    uint64_t vpcs;
    uint64_t assocs;       /* every association, every state */
    uint64_t peerings;     /* distinct connections */
    uint64_t files;
    uint64_t bytes;
} gen_stats;

/* How many real region names the generator knows (and the i-th one). */
unsigned gen_region_count(void);
const char *gen_region_name(unsigned i);

/*
 * Writes the estate to o->out. Same options, same bytes. Returns 0;
 * CS_EINVAL (bad options, an OUT directory that is not empty), CS_EIO (a
 * file system error naming the path) or CS_ENOMEM, with err's message set
 * (err may be NULL).
 */
int gen_estate(const gen_opts *o, gen_stats *st, cs_error *err);

/*
 * Adds the same estate (o->out and o->format ignored) straight to builder
 * e: the VPCs with their tags and every CIDR association, and each peering
 * connection once; ids as the files carry them, so loading the files and
 * this give the same frozen estate. Returns 0, CS_EINVAL, or the builder's
 * code (err from the builder).
 */
int gen_estate_build(const gen_opts *o, cs_estate *e, gen_stats *st, cs_error *err);

/*
 * The row shape (gen_rows.c; the benchmarks' `estate-N` datasets): n CIDR
 * rows in an AWS organisation's mix of default VPCs, template collisions,
 * CGNAT reuse, overlapping IPAM scopes and IPv6, written to out[0..n). A
 * pure function of the seed: the first k rows are the same for every
 * n >= k, and the bytes for a seed never change.
 */
void gen_prefix_rows(uint64_t seed, size_t n, cs_prefix *out);

/*
 * Adds the estate those rows make to builder e (gen_rows.c says how: a
 * VPC per primary row, IPv6 and CGNAT rows as secondaries, 3% of VPCs
 * peered with the previous one; seed draws the peerings). rows[i] is at
 * (const char *)rows + i * stride, so callers can pass a field of their
 * own records. *vpcs (may be NULL) receives the VPC count. Returns 0,
 * CS_EINVAL, or the builder's code (err from the builder).
 */
int gen_rows_estate_build(const cs_prefix *rows, size_t n, size_t stride, uint64_t seed,
                          cs_estate *e, size_t *vpcs, cs_error *err);

#endif
