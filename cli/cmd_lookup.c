/*
 * cli/cmd_lookup.c — `cidrscope lookup ADDRESS... | -`: the VPC that owns
 * each address, by longest-prefix match over the live CIDR blocks; with
 * --all the whole covering chain (shortest prefix first).
 *
 * Items come from the command line, stdin ("-") or --items files, one per
 * line, and are answered in input order in batches of BATCH through
 * cs_lookup_bulk (interleaved searches with prefetch). An item may also be a
 * prefix (10.0.0.0/24): its longest covering block is looked up. --count
 * prints one number per item: the blocks at the longest match (with --all:
 * every covering block). A bad item stops the verb with exit 2 naming file,
 * line and column; the items before it have been answered.
 */
#include "cli.h"
#include "source.h"
#include "verbs.h"

#include <cidrscope/audit.h>

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define VERB "lookup"
#define BATCH 4096

enum { OPT_FORMAT = 0x300, OPT_COUNT, OPT_ALL };

static void usage(FILE *f)
{
    fprintf(f,
        "usage: cidrscope lookup [options] -e SOURCE ADDRESS... | -\n"
        "\n"
        "For each ADDRESS (IPv4 or IPv6; a prefix is accepted too), the VPC whose\n"
        "live CIDR block is the longest one containing it, with account, region and\n"
        "block. '-' reads addresses from stdin, one a line ('#' comments); answers\n"
        "come in input order.\n"
        "\n"
        "      --all              every block containing the address (the covering\n"
        "                         chain, shortest first), not only the longest\n"
        "      --count            print only the number of matching blocks per\n"
        "                         address, one a line\n"
        "  -i, --items FILE       read addresses from FILE too ('-' = stdin)\n"
        "      --format F         text (default), json, ndjson or csv\n"
        "\n" CLI_SOURCE_HELP);
}

typedef struct lctx {
    const cs_snapshot *s;
    cs_match_report *w;
    bool all, count;
    cs_prefix a[BATCH];
    char *text[BATCH];
    cs_match m[BATCH];
    size_t n;
    const char *src;
    int failed;
} lctx;

static int on_chain(const cs_match *m, void *ctx)
{
    lctx *c = ctx;
    cs_match_report_match(c->w, c->s, m);
    return 0;
}

static void flush(lctx *c)
{
    if (!c->n)
        return;
    if (c->all && c->count) {
        uint32_t counts[BATCH];
        cs_query_count_bulk(c->s, c->a, c->n, CS_Q_COVERING, counts);
        for (size_t i = 0; i < c->n; i++)
            cs_match_report_count(c->w, c->text[i], counts[i]);
    } else if (c->all) {
        for (size_t i = 0; i < c->n; i++) {
            cs_match_report_item(c->w, c->text[i]);
            cs_query_walk(c->s, &c->a[i], CS_Q_COVERING, on_chain, c);
            cs_match_report_end(c->w);
        }
    } else {
        cs_lookup_bulk(c->s, c->a, c->n, c->m);
        for (size_t i = 0; i < c->n; i++) {
            if (c->count) {
                cs_match_report_count(c->w, c->text[i], c->m[i].count);
                continue;
            }
            cs_match_report_item(c->w, c->text[i]);
            if (c->m[i].count)
                cs_match_report_match(c->w, c->s, &c->m[i]);
            cs_match_report_end(c->w);
        }
    }
    for (size_t i = 0; i < c->n; i++)
        free(c->text[i]);
    c->n = 0;
}

static int add_item(const char *line, size_t len, unsigned long no, void *ctx)
{
    lctx *c = ctx;
    cs_error err;
    cs_error_clear(&err);
    int rc = memchr(line, '/', len) ? cs_prefix_parse(line, len, 0, &c->a[c->n], &err)
                                    : cs_address_parse(line, len, 0, &c->a[c->n], &err);
    if (rc < 0) {
        snprintf(err.source, sizeof err.source, "%s", c->src);
        err.line = no;
        c->failed = cli_report_error(VERB, &err);
        return -1;
    }
    c->text[c->n] = strndup(line, len);
    if (!c->text[c->n]) {
        c->failed = CLI_INTERNAL;
        return -1;
    }
    if (++c->n == BATCH)
        flush(c);
    return 0;
}

int cmd_lookup(int argc, char **argv)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"count", no_argument, NULL, OPT_COUNT},
        {"all", no_argument, NULL, OPT_ALL},
        {"items", required_argument, NULL, 'i'},
        CLI_SOURCE_LONGOPTS,
        {NULL, 0, NULL, 0}};
    cli_sources src;
    cli_sources_init(&src);
    enum cs_report_format fmt = CS_REPORT_TEXT;
    bool all = false, count = false;
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
                                 1u << CS_REPORT_TEXT | 1u << CS_REPORT_JSON | 1u << CS_REPORT_NDJSON | 1u << CS_REPORT_CSV,
                                 &fmt))
                return CLI_USAGE;
            break;
        case OPT_COUNT: count = true; break;
        case OPT_ALL: all = true; break;
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
    lctx *l = calloc(1, sizeof *l);
    cs_match_report *w = cs_match_report_open(stdout, fmt,
                                              CS_MR_LOOKUP | (count ? CS_MR_COUNT : 0));
    if (!l || !w) {
        free(l);
        cs_match_report_close(w, NULL);
        cli_estate_close(&est);
        cli_errorf(VERB, "out of memory");
        return CLI_INTERNAL;
    }
    l->s = est.snap;
    l->w = w;
    l->all = all;
    l->count = count;
    cli_feed_items(VERB, argv + optind, argc - optind, items, n_items, add_item, l,
                   &l->src, &l->failed);
    flush(l); /* the items before a bad one are answered */
    exit_code = l->failed;
    cs_error err;
    cs_error_clear(&err);
    if (cs_match_report_close(w, &err) < 0 && exit_code == CLI_OK)
        exit_code = cli_report_error(VERB, &err);
    free(l);
    cli_estate_close(&est);
    return exit_code;
}
