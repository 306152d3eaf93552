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

enum { OPT_COUNT = 0x300, OPT_COVERING, OPT_COVERED };

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

static int on_option(cli_items_opts *o, int code)
{
    switch (code) {
    case OPT_COUNT: o->count = true; return 0;
    case OPT_COVERING: o->kind |= CS_Q_COVERING; return 0;
    case OPT_COVERED: o->kind |= CS_Q_COVERED; return 0;
    default: return -1;
    }
}

int cmd_query(int argc, char **argv)
{
    static const struct option own[] = {
        {"count", no_argument, NULL, OPT_COUNT},
        {"covering", no_argument, NULL, OPT_COVERING},
        {"covered", no_argument, NULL, OPT_COVERED},
        {NULL, 0, NULL, 0}};
    cli_items_opts o;
    memset(&o, 0, sizeof o);
    o.verb = VERB;
    o.format = CS_REPORT_TEXT;
    o.threads = 1;
    return cli_items_main(&o, argc, argv, own, on_option, usage, TEXT_LIMIT);
}
