/*
 * cli/cmd_query.c — `cidrscope query PREFIX... | -`: for each prefix, every
 * stored entry that overlaps it (a stored prefix covering it, equal to it,
 * or covered by it), with VPC, account, region and relation.
 *
 * Items come from the command line, from stdin ("-") or from files
 * (--items FILE), one per line, and are answered in input order, in
 * batches of BATCH: cs_query_walk_bulk for the rows, cs_query_count_bulk
 * (interleaved searches with prefetch: the bulk fast path) for --count,
 * which prints one number per item. A bad item stops the verb with exit 2
 * and a message naming file, line and column; the items before it have
 * been answered.
 */
#include "cli.h"
#include "source.h"
#include "verbs.h"

#include <cidrscope/audit.h>

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define VERB "query"
#define BATCH 4096

enum { OPT_FORMAT = 0x300, OPT_COUNT, OPT_COVERING, OPT_COVERED, OPT_ITEMS };

static void usage(FILE *f)
{
    fprintf(f,
        "usage: cidrscope query [options] -e SOURCE PREFIX... | -\n"
        "\n"
        "For each PREFIX (IPv4 or IPv6), every live CIDR block of the estate that\n"
        "overlaps it: one that covers it, is equal to it, or lies inside it, with its\n"
        "VPC, account, region and that relation. '-' reads prefixes from stdin, one\n"
        "a line ('#' comments); answers come in input order.\n"
        "\n"
        "      --count            print only the number of matching blocks per prefix,\n"
        "                         one a line (the bulk fast path)\n"
        "      --covering         only blocks covering or equal to the prefix\n"
        "      --covered          only blocks equal to or inside the prefix\n"
        "  -i, --items FILE       read prefixes from FILE too ('-' = stdin)\n"
        "      --format F         text (default), json, ndjson or csv\n"
        "\n" CLI_SOURCE_HELP);
}

typedef struct qctx {
    const cs_snapshot *s;
    cs_match_report *w;
    unsigned kind;
    bool count;
    unsigned parse_flags;
    cs_prefix q[BATCH];
    char *text[BATCH];
    size_t n;
    size_t next;          /* walk_bulk: next item to open */
    const char *src;
    int failed;
    cli_estate *est;      /* --shm: pinned per batch */
} qctx;

static void open_upto(qctx *c, size_t i)
{
    /* items before i got no match: open and close them; then open i */
    while (c->next < i) {
        cs_match_report_item(c->w, c->text[c->next]);
        cs_match_report_end(c->w);
        c->next++;
    }
    if (c->next == i) {
        cs_match_report_item(c->w, c->text[i]);
        c->next++;
    }
}

static int on_match(size_t i, const cs_match *m, void *ctx)
{
    qctx *c = ctx;
    if (c->next <= i) {
        if (c->next > 0 && c->next - 1 < i)
            cs_match_report_end(c->w); /* close the previous item */
        open_upto(c, i);
    }
    cs_match_report_match(c->w, c->s, m);
    return 0;
}

static void flush(qctx *c)
{
    if (!c->n)
        return;
    /* --shm: pinned for this batch only (cli_estate_idle below) */
    int rc = cli_estate_resume(VERB, c->est);
    if (rc != CLI_OK) {
        c->failed = rc;
        for (size_t i = 0; i < c->n; i++)
            free(c->text[i]);
        c->n = 0;
        return;
    }
    c->s = c->est->snap;
    if (c->count) {
        uint32_t counts[BATCH];
        cs_query_count_bulk(c->s, c->q, c->n, c->kind, counts);
        for (size_t i = 0; i < c->n; i++)
            cs_match_report_count(c->w, c->text[i], counts[i]);
    } else {
        c->next = 0;
        cs_query_walk_bulk(c->s, c->q, c->n, c->kind, on_match, c);
        if (c->next > 0)
            cs_match_report_end(c->w);
        while (c->next < c->n) {
            cs_match_report_item(c->w, c->text[c->next]);
            cs_match_report_end(c->w);
            c->next++;
        }
    }
    for (size_t i = 0; i < c->n; i++)
        free(c->text[i]);
    c->n = 0;
    cli_estate_idle(c->est);
}

static int add_item(const char *line, size_t len, unsigned long no, void *ctx)
{
    qctx *c = ctx;
    cs_error err;
    cs_error_clear(&err);
    int rc = cs_prefix_parse(line, len, c->parse_flags, &c->q[c->n], &err);
    if (rc < 0) {
        snprintf(err.source, sizeof err.source, "%s", c->src);
        err.line = no;
        c->failed = cli_report_error(VERB, &err);
        return -1;
    }
    if (rc == CS_PARSE_NORMALISED)
        fprintf(stderr, "cidrscope %s: %s:%lu: warning: %s\n", VERB, c->src, no, err.message);
    c->text[c->n] = strndup(line, len);
    if (!c->text[c->n]) {
        c->failed = CLI_INTERNAL;
        return -1;
    }
    if (++c->n == BATCH)
        flush(c);
    return c->failed ? -1 : 0;
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
        CLI_SOURCE_LONGOPTS,
        {NULL, 0, NULL, 0}};
    cli_sources src;
    cli_sources_init(&src);
    enum cs_report_format fmt = CS_REPORT_TEXT;
    unsigned kind = 0;
    bool count = false;
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
        case OPT_COVERING: kind |= CS_Q_COVERING; break;
        case OPT_COVERED: kind |= CS_Q_COVERED; break;
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
    qctx *q = calloc(1, sizeof *q);
    cs_match_report *w = cs_match_report_open(stdout, fmt, count ? CS_MR_COUNT : 0);
    if (!q || !w) {
        free(q);
        cs_match_report_close(w, NULL);
        cli_estate_close(&est);
        cli_errorf(VERB, "out of memory");
        return CLI_INTERNAL;
    }
    q->s = est.snap;
    q->est = &est;
    cli_estate_idle(&est);
    q->w = w;
    q->kind = kind ? kind : CS_Q_OVERLAPPING;
    q->count = count;
    q->parse_flags = src.load.lenient ? CS_PARSE_LENIENT : 0;
    cli_feed_items(VERB, argv + optind, argc - optind, items, n_items, add_item, q,
                   &q->src, &q->failed);
    flush(q); /* the items before a bad one are answered */
    exit_code = q->failed;
    cs_error err;
    cs_error_clear(&err);
    if (cs_match_report_close(w, &err) < 0 && exit_code == CLI_OK)
        exit_code = cli_report_error(VERB, &err);
    free(q);
    cli_estate_close(&est);
    return exit_code;
}
