/*
 * cli/cmd_gen.c — `cidrscope gen`: writes a synthetic estate (the one
 * generator is datasets/gen/; gen_shape.c describes its estates) as an
 * ESTATE/<account>/<region>/ tree of AWS CLI JSON or as CSV. Options and
 * the call only.
 */
#include "cli.h"
#include "gen_estate.h"
#include "progress.h"
#include "verbs.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: cidrscope gen --seed S --accounts N --regions R "
            "[--vpcs-per-region K]\n"
            "                     --out PATH [--format dir|csv] [--shape default|org|dense]\n\n"
            "Writes a realistic synthetic AWS estate: N accounts x R regions "
            "x K VPCs\n"
            "(default K = 4), with default VPCs, colliding template CIDRs, "
            "IPAM\n"
            "allocations with nested mistakes, reused secondary and IPv6 "
            "blocks, dead\n"
            "blocks, and hub-and-spoke and mesh peering in every status. "
            "The same\n"
            "options always give the same bytes.\n\n"
            "  --format dir   PATH/<account-id>/<region>/vpcs.json and "
            "peering.json,\n"
            "                 as `aws ec2 describe-vpcs` and `aws ec2 "
            "describe-vpc-\n"
            "                 peering-connections` print them (default); "
            "PATH must\n"
            "                 not exist or be empty\n"
            "  --format csv   PATH (account,region,vpc_id,cidr,state,"
            "is_default,name)\n"
            "                 and PATH-peering.csv (pcx_id,requester_vpc,"
            "accepter_vpc,\n"
            "                 status,...), PATH's .csv suffix dropped "
            "before -peering\n"
            "  --shape org    one large organisation: 30%% of VPCs on template "
            "CIDRs\n"
            "                 (10.0.0.0/16 with /20 and /24 nested, "
            "192.168.0.0/16 and /24,\n"
            "                 172.16.0.0/16), 20%% with CGNAT secondaries "
            "(100.64.0.0/10,\n"
            "                 /16, /17), business-unit IPAM pools that overlap; "
            "--accounts\n"
            "                 and --regions default to 38000 and 17, K to 1\n"
            "  --shape dense  at most 128 VPCs where every peering rule fires: "
            "overlapping\n"
            "                 blocks in every state, connections in every "
            "status, hubs,\n"
            "                 partners outside the estate\n"
            "  -q, --quiet    no summary on stderr\n\n"
            "Exit: 0 written, 2 bad options (also --out -), 3 a file system "
            "error.\n\n"
            "Regions are real region names, the first R of:");
    for (unsigned i = 0; i < gen_region_count(); i++)
        fprintf(f, "%s%s", i % 6 ? " " : "\n  ", gen_region_name(i));
    fprintf(f, "\n");
}

static int parse_u64(const char *opt, const char *s, uint64_t max,
                     uint64_t *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-') {
        cli_errorf("gen", "%s needs a number", opt);
        return -1;
    }
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max) {
        cli_errorf("gen", "%s '%s': expected a number up to %llu", opt, s,
                   (unsigned long long)max);
        return -1;
    }
    *out = v;
    return 0;
}

static void gen_progress(uint64_t done, uint64_t total, void *ctx)
{
    (void)ctx;
    cli_progress_count("accounts", done, total);
}

int cmd_gen(int argc, char **argv)
{
    static const struct option longs[] = {
        {"seed", required_argument, NULL, 's'},
        {"accounts", required_argument, NULL, 'a'},
        {"regions", required_argument, NULL, 'r'},
        {"vpcs-per-region", required_argument, NULL, 'k'},
        {"out", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, 'f'},
        {"shape", required_argument, NULL, 'S'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    gen_opts o;
    memset(&o, 0, sizeof o);
    o.vpcs = 4;
    o.format = GEN_DIR;
    bool have_seed = false, have_accounts = false, have_regions = false, have_k = false;
    bool quiet = false;
    uint64_t v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "s:a:r:k:o:f:S:qh", longs, NULL)) != -1) {
        switch (c) {
        case 's':
            if (parse_u64("--seed", optarg, UINT64_MAX, &o.seed))
                return CLI_USAGE;
            have_seed = true;
            break;
        case 'a':
            if (parse_u64("--accounts", optarg, GEN_MAX_ACCOUNTS, &v))
                return CLI_USAGE;
            o.accounts = (uint32_t)v;
            have_accounts = true;
            break;
        case 'r':
            if (parse_u64("--regions", optarg, gen_region_count(), &v))
                return CLI_USAGE;
            o.regions = (uint32_t)v;
            have_regions = true;
            break;
        case 'k':
            if (parse_u64("--vpcs-per-region", optarg,
                          GEN_MAX_VPCS_PER_REGION, &v))
                return CLI_USAGE;
            o.vpcs = (uint32_t)v;
            have_k = true;
            break;
        case 'o':
            o.out = optarg;
            break;
        case 'f':
            if (strcmp(optarg, "dir") == 0) {
                o.format = GEN_DIR;
            } else if (strcmp(optarg, "csv") == 0) {
                o.format = GEN_CSV;
            } else {
                cli_errorf("gen", "unknown --format '%s' (expected dir|csv)",
                           optarg);
                return CLI_USAGE;
            }
            break;
        case 'S':
            if (strcmp(optarg, "default") == 0) {
                o.shape = GEN_SHAPE_DEFAULT;
            } else if (strcmp(optarg, "org") == 0) {
                o.shape = GEN_SHAPE_ORG;
            } else if (strcmp(optarg, "dense") == 0) {
                o.shape = GEN_SHAPE_DENSE;
            } else {
                cli_errorf("gen", "unknown --shape '%s' (expected default|org|dense)", optarg);
                return CLI_USAGE;
            }
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            usage(stdout);
            return CLI_OK;
        default:
            usage(stderr);
            return CLI_USAGE;
        }
    }
    if (optind < argc) {
        cli_errorf("gen", "unexpected argument '%s'", argv[optind]);
        return CLI_USAGE;
    }
    if (o.shape == GEN_SHAPE_ORG) {
        if (!have_accounts)
            o.accounts = GEN_ORG_ACCOUNTS;
        if (!have_regions)
            o.regions = GEN_ORG_REGIONS;
        if (!have_k)
            o.vpcs = 1;
        have_accounts = have_regions = true;
    }
    if (!have_seed || !have_accounts || !have_regions || !o.out) {
        cli_errorf("gen", "--seed, --accounts, --regions and --out are "
                          "required (see cidrscope gen --help)");
        return CLI_USAGE;
    }
    if (strcmp(o.out, "-") == 0) {
        /* a tree and a CSV with its -peering.csv are several files: there
         * is no one stream to write, and a file named "-" is never meant */
        cli_errorf("gen", "--out -: gen writes files (a directory tree, or a CSV "
                          "and its -peering.csv), not standard output; give a path");
        return CLI_USAGE;
    }
    if (o.accounts == 0 || o.regions == 0 || o.vpcs == 0) {
        cli_errorf("gen", "--accounts, --regions and --vpcs-per-region must "
                          "be at least 1");
        return CLI_USAGE;
    }
    cs_error err;
    gen_stats st;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    o.progress = gen_progress; /* shows only when enabled (cli/progress.c) */
    cli_progress_begin("gen");
    int rc = gen_estate(&o, &st, &err);
    cli_progress_end();
    if (rc != 0) {
        cli_errorf("gen", "%s", err.message);
        return rc == CS_EINVAL ? CLI_USAGE : CLI_INTERNAL;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (!quiet) {
        double s = (double)(t1.tv_sec - t0.tv_sec) +
                   (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        fprintf(stderr,
                "cidrscope gen: %llu VPCs, %llu CIDR blocks, %llu peering "
                "connections, %llu files, %.1f MB in %.2f s\n",
                (unsigned long long)st.vpcs, (unsigned long long)st.assocs,
                (unsigned long long)st.peerings, (unsigned long long)st.files,
                (double)st.bytes / 1e6, s);
    }
    return CLI_OK;
}
