/*
 * cli/cmd_build.c — `cidrscope build SOURCE... -o FILE`: reads every source
 * into one estate, freezes it, and writes the image atomically (a temporary
 * file, fsync, rename), so `query`, `audit`, `serve`, ... can map it in place.
 */
#include "cli.h"
#include "source.h"
#include "verbs.h"

#include <getopt.h>
#include <string.h>
#include <time.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: cidrscope build SOURCE... -o FILE [options]\n\n"
            "Reads estate sources (an ESTATE/<account>/<region>/ directory of\n"
            "describe-vpcs and describe-vpc-peering-connections JSON, single JSON\n"
            "files, CSV, prefix lists) and writes one snapshot image to FILE,\n"
            "atomically. Every other verb opens FILE in place with -e FILE.\n\n"
            "  -o, --output FILE      the snapshot to write (required; replaced by\n"
            "                         rename, never written in place)\n"
            "      --mode MODE        its permission bits (octal; default 0666\n"
            "                         minus the umask)\n"
            "      --lenient          clear host bits (reported) instead of failing\n"
            "      --keep-going       report bad records and files, read the rest\n"
            "      --source-region R  region of describe-vpcs output (which carries\n"
            "                         none) for the SOURCEs after it, up to the next\n"
            "      --source-account A account of the SOURCEs after it whose VPCs\n"
            "                         carry no OwnerId\n"
            "      --format text|json what to print about the image (default text)\n"
            "\nExit: 0 written, 2 usage or bad input (nothing is written), 3 internal\n"
            "or system error.\n");
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int cmd_build(int argc, char **argv)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {"output", required_argument, NULL, 'o'},
        {"mode", required_argument, NULL, 'm'},
        {"format", required_argument, NULL, 'f'},
        {"source-region", required_argument, NULL, OPT_SRC_REGION},
        {"source-account", required_argument, NULL, OPT_SRC_ACCOUNT},
        {"lenient", no_argument, NULL, OPT_SRC_LENIENT},
        {"keep-going", no_argument, NULL, OPT_SRC_KEEP_GOING},
        {NULL, 0, NULL, 0}};
    cli_sources src;
    cli_sources_init(&src);
    const char *out_path = NULL;
    unsigned mode = 0; /* 0: 0666 minus the umask */
    enum cs_report_format fmt = CS_REPORT_TEXT;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "ho:f:", opts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return CLI_OK;
        }
        if (c == 'o') {
            out_path = optarg;
            continue;
        }
        if (c == 'm') {
            if (cli_parse_mode("build", optarg, &mode))
                return CLI_USAGE;
            continue;
        }
        if (c == 'f') {
            if (cli_parse_format("build", optarg, 1u << CS_REPORT_TEXT | 1u << CS_REPORT_JSON, &fmt))
                return CLI_USAGE;
            continue;
        }
        int r = cli_source_option("build", &src, c, optarg);
        if (r < 0)
            return CLI_USAGE;
        if (r == 0) {
            usage(stderr);
            return CLI_USAGE;
        }
    }
    for (int i = optind; i < argc; i++)
        if (cli_source_add("build", &src, argv[i]))
            return CLI_USAGE;
    if (!out_path || src.n_paths == 0) {
        cli_errorf("build", "%s", !out_path ? "missing -o FILE" : "no SOURCE given");
        usage(stderr);
        return CLI_USAGE;
    }
    double t0 = now_s();
    cli_estate est;
    int rc = cli_estate_open("build", &src, &est);
    if (rc)
        return rc;
    cs_error err;
    cs_error_clear(&err);
    if (cs_snapshot_write_mode(est.snap, out_path, mode, &err) < 0) {
        rc = cli_report_error("build", &err);
        cli_estate_close(&est);
        return rc;
    }
    double secs = now_s() - t0;
    cs_snapshot_info info;
    cs_snapshot_get_info(est.snap, &info);
    /* The figures `stat` prints, counted by the same library call, so build
     * and stat never disagree (accounts that own a VPC, not the ones only
     * named by a peering side or prefix-list owners). */
    cs_estate_stats st;
    rc = cs_estate_stats_get(est.snap, &st);
    if (rc < 0) {
        cli_errorf("build", "reading the estate tables: %s", cs_strerror(rc));
        cs_estate_stats_free(&st);
        cli_estate_close(&est);
        return cli_exit_code(rc);
    }
    const cs_estate_counts *ec = &st.counts;
    if (fmt == CS_REPORT_JSON) {
        printf("{\"output\":");
        cli_json_string(stdout, out_path);
        printf(",\"image_bytes\":%llu,\"entries\":{\"ipv4\":%u,\"ipv6\":%u},"
               "\"prefixes\":{\"ipv4\":%u,\"ipv6\":%u},\"vpcs\":%u,\"accounts\":%u,"
               "\"regions\":%u,\"peering_connections\":%u,\"rejected\":%u,\"seconds\":%.3f}\n",
               (unsigned long long)info.image_len, info.entries[0], info.entries[1],
               info.prefixes[0], info.prefixes[1], st.vpcs, st.accounts, st.regions,
               ec->peerings, est.rejected, secs);
    } else {
        printf("wrote %s: %llu bytes, %u VPCs in %u accounts and %u regions,\n"
               "%u live IPv4 and %u live IPv6 blocks (%u + %u distinct prefixes), "
               "%u peering connections, in %.2f s\n",
               out_path, (unsigned long long)info.image_len, st.vpcs, st.accounts, st.regions,
               info.entries[0], info.entries[1], info.prefixes[0], info.prefixes[1], ec->peerings,
               secs);
        if (est.rejected)
            printf("%u records rejected (--keep-going)\n", est.rejected);
    }
    cs_estate_stats_free(&st);
    cli_estate_close(&est);
    return CLI_OK;
}
