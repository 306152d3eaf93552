/*
 * cli/cmd_lookup.c — `cidrscope lookup ADDRESS... | -`: the VPC that owns
 * each address, by longest-prefix match over the live CIDR blocks; with
 * --all the whole covering chain (shortest prefix first).
 *
 * Items come from the command line, stdin ("-") or --items files, one per
 * line, and are answered in input order by the bulk item pipeline
 * (cli/items.c) through cs_lookup_bulk. An item may also be a prefix
 * (10.0.0.0/24): its longest covering block is looked up; with --lenient an
 * address with a length (10.0.0.1/16) is looked up as its address. --count
 * prints one number per item: the blocks at the longest match (with --all:
 * every covering block). A bad item stops the verb with exit 2 naming file,
 * line and column (the items before it answered); with --keep-going it
 * becomes an error record in its place and the verb exits 2 at the end.
 */
#include "cli.h"
#include "items.h"
#include "source.h"
#include "verbs.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define VERB "lookup"
/* Rows listed per address in text (--all) unless --limit says otherwise. */
#define TEXT_LIMIT 50

enum { OPT_FORMAT = 0x300, OPT_COUNT, OPT_ALL, OPT_LIMIT, OPT_THREADS };

static void usage(FILE *f)
{
    fprintf(f,
        "usage: cidrscope lookup [options] -e SOURCE ADDRESS... | -\n"
        "\n"
        "For each ADDRESS (IPv4 or IPv6; a prefix is accepted too), the VPC whose\n"
        "live CIDR block is the longest one containing it, with account, region and\n"
        "block. '-' reads addresses from stdin, one a line ('#' starts a comment,\n"
        "also after an address); answers come in input order.\n"
        "\n"
        "      --all              every block containing the address (the covering\n"
        "                         chain, shortest first), not only the longest\n"
        "      --count            print only the number of matching blocks per\n"
        "                         address, one a line\n"
        "  -i, --items FILE       read addresses from FILE too ('-' = stdin)\n"
        "      --limit N          list at most N blocks per address, then count the\n"
        "                         rest (text default %d; 0 = all)\n"
        "      --threads N        answer on N threads (same output, same order;\n"
        "                         json is written by one)\n"
        "      --format F         text (default), json, ndjson or csv\n"
        "      --lenient          also: 10.0.0.1/16 is looked up as 10.0.0.1\n"
        "      --keep-going       also: a bad address gets an error record in its\n"
        "                         place (line, message), the rest is answered\n"
        "\n" CLI_SOURCE_HELP
        "\n"
        "Exit: 0 done; 2 usage, bad input or a bad address (after answering the\n"
        "rest with --keep-going); 3 internal or system error.\n",
        TEXT_LIMIT);
}

int cmd_lookup(int argc, char **argv)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"count", no_argument, NULL, OPT_COUNT},
        {"all", no_argument, NULL, OPT_ALL},
        {"items", required_argument, NULL, 'i'},
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"threads", required_argument, NULL, OPT_THREADS},
        CLI_SOURCE_LONGOPTS,
        {NULL, 0, NULL, 0}};
    cli_sources src;
    cli_sources_init(&src);
    cli_items_opts o;
    memset(&o, 0, sizeof o);
    o.verb = VERB;
    o.format = CS_REPORT_TEXT;
    o.lookup = true;
    o.threads = 1;
    long limit = -1;
    const char *items[CLI_MAX_SOURCES];
    int n_items = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "he:i:", opts, NULL)) != -1) {
        int used = cli_source_option(VERB, &src, c, optarg);
        if (used < 0)
            return CLI_USAGE;
        if (used)
            continue;
        switch (c) {
        case 'h': usage(stdout); return CLI_OK;
        case OPT_FORMAT:
            if (cli_parse_format(VERB, optarg,
                                 1u << CS_REPORT_TEXT | 1u << CS_REPORT_JSON |
                                     1u << CS_REPORT_NDJSON | 1u << CS_REPORT_CSV,
                                 &o.format))
                return CLI_USAGE;
            break;
        case OPT_COUNT: o.count = true; break;
        case OPT_ALL: o.all = true; break;
        case OPT_LIMIT:
            if ((limit = cli_parse_count(optarg, 0, 1L << 40)) < 0) {
                cli_errorf(VERB, "--limit %s: expected a whole number (0 = all)", optarg);
                return CLI_USAGE;
            }
            break;
        case OPT_THREADS: {
            long t = cli_parse_count(optarg, 1, 64);
            if (t < 0) {
                cli_errorf(VERB, "--threads %s: expected a number from 1 to 64", optarg);
                return CLI_USAGE;
            }
            o.threads = (unsigned)t;
            break;
        }
        case 'i':
            if (n_items == CLI_MAX_SOURCES) {
                cli_errorf(VERB, "too many --items files");
                return CLI_USAGE;
            }
            items[n_items++] = optarg;
            break;
        default: usage(stderr); return CLI_USAGE;
        }
    }
    if (optind >= argc && n_items == 0) {
        usage(stderr);
        return CLI_USAGE;
    }
    cli_estate est;
    int exit_code = cli_estate_open(VERB, &src, &est);
    if (exit_code != CLI_OK)
        return exit_code;
    o.s = est.snap;
    o.est = &est;
    cli_estate_idle(&est); /* pinned per chunk by cli_items_run */
    o.lenient = src.load.lenient;
    o.keep_going = src.load.keep_going;
    o.limit = limit >= 0 ? (uint64_t)limit : o.format == CS_REPORT_TEXT ? TEXT_LIMIT : 0;
    exit_code = cli_items_run(&o, argv + optind, argc - optind, items, n_items);
    cli_estate_close(&est);
    return exit_code;
}
