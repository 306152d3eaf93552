/*
 * cli/cmd_query.c — `cidrscope query PREFIX... | -`: for each prefix, every
 * stored entry that overlaps it (a stored prefix covering it, equal to it,
 * or covered by it), with VPC, account, region and relation.
 *
 * Items come from the command line, from stdin ("-") or from files
 * (--items FILE), one per line, and are answered in input order by the
 * bulk item pipeline (cli/items.c): cs_query_walk_bulk for the rows,
 * cs_query_count_bulk (the bulk fast path) for --count, which prints one
 * number per item; --threads N answers parts of the input on N threads
 * with the same output. A bad item stops the verb with exit 2 and a message
 * naming file, line and column (the items before it answered); with
 * --keep-going it becomes an error record in its place and the verb exits
 * 2 after answering the rest.
 */
#include "cli.h"
#include "items.h"
#include "source.h"
#include "verbs.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define VERB "query"
/* Rows listed per prefix in text unless --limit says otherwise. */
#define TEXT_LIMIT 50

enum { OPT_FORMAT = 0x300, OPT_COUNT, OPT_COVERING, OPT_COVERED, OPT_LIMIT, OPT_THREADS };

static void usage(FILE *f)
{
    fprintf(f,
        "usage: cidrscope query [options] -e SOURCE PREFIX... | -\n"
        "\n"
        "For each PREFIX (IPv4 or IPv6), every live CIDR block of the estate that\n"
        "overlaps it: one that covers it, is equal to it, or lies inside it, with its\n"
        "VPC, account, region and that relation. '-' reads prefixes from stdin, one\n"
        "a line ('#' starts a comment, also after a prefix); answers come in input\n"
        "order.\n"
        "\n"
        "      --count            print only the number of matching blocks per prefix,\n"
        "                         one a line (the bulk fast path)\n"
        "      --covering         only blocks covering or equal to the prefix\n"
        "      --covered          only blocks equal to or inside the prefix\n"
        "  -i, --items FILE       read prefixes from FILE too ('-' = stdin)\n"
        "      --limit N          list at most N blocks per prefix, then count the\n"
        "                         rest (text default %d; 0 = all, the default of\n"
        "                         json, ndjson and csv)\n"
        "      --threads N        answer on N threads (same output, same order;\n"
        "                         json is written by one)\n"
        "      --format F         text (default), json, ndjson or csv\n"
        "      --keep-going       also: a bad prefix gets an error record in its\n"
        "                         place (line, message), the rest is answered\n"
        "\n" CLI_SOURCE_HELP
        "\n"
        "Exit: 0 done; 2 usage, bad input or a bad prefix (after answering the\n"
        "rest with --keep-going); 3 internal or system error.\n",
        TEXT_LIMIT);
}

int cmd_query(int argc, char **argv)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"count", no_argument, NULL, OPT_COUNT},
        {"covering", no_argument, NULL, OPT_COVERING},
        {"covered", no_argument, NULL, OPT_COVERED},
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
        case OPT_COVERING: o.kind |= CS_Q_COVERING; break;
        case OPT_COVERED: o.kind |= CS_Q_COVERED; break;
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
    if (!o.kind)
        o.kind = CS_Q_OVERLAPPING;
    o.lenient = src.load.lenient;
    o.keep_going = src.load.keep_going;
    o.limit = limit >= 0 ? (uint64_t)limit : o.format == CS_REPORT_TEXT ? TEXT_LIMIT : 0;
    exit_code = cli_items_run(&o, argv + optind, argc - optind, items, n_items);
    cli_estate_close(&est);
    return exit_code;
}
