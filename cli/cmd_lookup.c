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

enum { OPT_COUNT = 0x300, OPT_ALL };

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

static int on_option(cli_items_opts *o, int code)
{
    switch (code) {
    case OPT_COUNT: o->count = true; return 0;
    case OPT_ALL: o->all = true; return 0;
    default: return -1;
    }
}

int cmd_lookup(int argc, char **argv)
{
    static const struct option own[] = {
        {"count", no_argument, NULL, OPT_COUNT},
        {"all", no_argument, NULL, OPT_ALL},
        {NULL, 0, NULL, 0}};
    cli_items_opts o;
    memset(&o, 0, sizeof o);
    o.verb = VERB;
    o.format = CS_REPORT_TEXT;
    o.threads = 1;
    o.lookup = true;
    return cli_items_main(&o, argc, argv, own, on_option, usage, TEXT_LIMIT);
}
