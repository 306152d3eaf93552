/*
 * cli/gen_estate.h — the synthetic estate generator behind `cidrscope gen`
 * (cli/gen_estate.c documents the estate it draws).
 */
#ifndef CS_GEN_ESTATE_H
#define CS_GEN_ESTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum gen_format {
    GEN_DIR, /* OUT/<account>/<region>/{vpcs,peering}.json, AWS CLI JSON */
    GEN_CSV, /* OUT (VPC CIDRs) and OUT-peering.csv (connections) */
};

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

/* Failures of gen_estate. */
enum { GEN_EIO = -1, GEN_EUSAGE = -2 };

/*
 * Writes the estate. Same options, same bytes. Returns 0; GEN_EUSAGE (bad
 * options, an OUT directory that is not empty) or GEN_EIO (a file system
 * error naming the path), with a message in errbuf.
 */
int gen_estate(const gen_opts *o, gen_stats *st, char *errbuf, size_t errcap);

#endif
