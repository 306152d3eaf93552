/*
 * cli/cmd_release.c — `cidrscope release --shm NAME PREFIX|--token T`:
 * frees reservations of a service's ledger (cs_ledger_release), journaled
 * before the answer.
 *
 * Exit: 0 released; 1 nothing matched; 2 usage or bad input (no ledger);
 * 3 internal error.
 */
#include "cli.h"
#include "verbs.h"

#include <cidrscope/ipam.h>

#include <getopt.h>
#include <string.h>

#define VERB "release"

enum { OPT_SHM = 0x300, OPT_TOKEN };

static void usage(FILE *f)
{
    fprintf(f,
        "usage: cidrscope release --shm NAME PREFIX\n"
        "       cidrscope release --shm NAME --token T\n"
        "\n"
        "Frees a reservation made by `alloc --shm NAME --commit`: the active\n"
        "reservation of exactly PREFIX, or every one made under token T.\n"
        "\n"
        "Exit: 0 released, 1 nothing matched, 2 usage or bad input, 3 internal\n"
        "error.\n");
}

int cmd_release(int argc, char **argv)
{
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'},
                                         {"shm", required_argument, NULL, OPT_SHM},
                                         {"token", required_argument, NULL, OPT_TOKEN},
                                         {NULL, 0, NULL, 0}};
    const char *shm = NULL, *token = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            usage(stdout);
            return CLI_OK;
        case OPT_SHM:
            shm = optarg;
            break;
        case OPT_TOKEN:
            token = optarg;
            break;
        case ':':
            cli_errorf(VERB, "option %s needs a value (see --help)", argv[optind - 1]);
            return CLI_USAGE;
        default:
            cli_errorf(VERB, "unknown option %s (see --help)", argv[optind - 1]);
            return CLI_USAGE;
        }
    }
    if (!shm || (token ? argc != optind : argc - optind != 1)) {
        cli_errorf(VERB, "expected --shm NAME and either a PREFIX or --token T (see --help)");
        return CLI_USAGE;
    }
    cs_prefix p;
    cs_error err;
    cs_error_clear(&err);
    if (!token && cs_prefix_parse(argv[optind], strlen(argv[optind]), 0, &p, &err) != 0) {
        snprintf(err.source, sizeof err.source, "PREFIX argument");
        return cli_report_error(VERB, &err);
    }
    cs_ledger *l = NULL;
    if (cs_ledger_open(shm, &l, &err) != 0)
        return cli_report_error(VERB, &err);
    int64_t n = cs_ledger_release(l, token, token ? NULL : &p, &err);
    cs_ledger_close(l);
    if (n < 0)
        return cli_report_error(VERB, &err);
    printf("released %lld reservation%s\n", (long long)n, n == 1 ? "" : "s");
    return n ? CLI_OK : CLI_FINDINGS;
}
