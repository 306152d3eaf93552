/*
 * cli/cmd_overlaps.c — `cidrscope overlaps LIST...`: which prefixes of an
 * `owner,prefix` list overlap which, grouped.
 *
 * Two prefixes overlap exactly when one contains the other, so every group
 * (maximal set of entries tied by overlap) is the subtree of one top-level
 * stored prefix. We find each top-level prefix (nothing strictly covers it)
 * and list its covered range; a group is reported when it has 2+ entries.
 */
#include "cli.h"
#include "verbs.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

typedef struct owners {
    char **names;
    size_t n, cap;
    int lenient;
    const char *path;
    cs_snapshot_builder *b;
    unsigned long rejected;
} owners;

static int add_line(const char *line, size_t len, unsigned long no, void *ctx)
{
    owners *o = ctx;
    const char *comma = memchr(line, ',', len);
    if (!comma) {
        fprintf(stderr, "cidrscope overlaps: %s:%lu: expected 'owner,prefix'\n", o->path, no);
        return -2;
    }
    size_t olen = (size_t)(comma - line);
    const char *pfx = comma + 1;
    size_t plen = len - olen - 1;
    /* A header line names the columns; skip it. */
    if (no == 1 && olen == 5 && memcmp(line, "owner", 5) == 0)
        return 0;
    cs_prefix p;
    cs_error err;
    cs_error_clear(&err);
    int rc = cs_prefix_parse(pfx, plen, o->lenient ? CS_PARSE_LENIENT : 0, &p, &err);
    if (rc < 0) {
        err.line = no;
        err.column += (uint32_t)olen + 1;
        err.text_col = 0; /* the caret points into the prefix; show the line */
        snprintf(err.text, sizeof err.text, "%.*s", (int)(len < sizeof err.text - 1 ? len : sizeof err.text - 1), line);
        err.text_col = err.column;
        snprintf(err.source, sizeof err.source, "%s", o->path);
        cli_report_error("overlaps", &err);
        return -2;
    }
    if (rc == CS_PARSE_NORMALISED)
        fprintf(stderr, "cidrscope overlaps: %s:%lu: warning: %s\n", o->path, no, err.message);
    if (o->n == o->cap) {
        size_t nc = o->cap ? o->cap * 2 : 256;
        char **nn = realloc(o->names, nc * sizeof *nn);
        if (!nn)
            return -3;
        o->names = nn;
        o->cap = nc;
    }
    char *name = strndup(line, olen);
    if (!name)
        return -3;
    o->names[o->n] = name;
    rc = cs_snapshot_builder_add(o->b, &p, (uint32_t)o->n, &err);
    if (rc < 0) {
        free(name);
        cli_report_error("overlaps", &err);
        return -3;
    }
    o->n++;
    return 0;
}

typedef struct group_ctx {
    const owners *o;
    const cs_prefix *top;
    int json;
    int first;
} group_ctx;

static int print_member(const cs_match *m, void *ctx)
{
    group_ctx *g = ctx;
    char buf[CS_PREFIX_STRCAP];
    cs_prefix_format(&m->prefix, buf, sizeof buf);
    unsigned depth = 0;
    /* Nesting depth below the group's top prefix, for indentation. */
    depth = (unsigned)(m->prefix.len - g->top->len);
    for (uint32_t k = 0; k < m->count; k++) {
        const char *owner = g->o->names[m->values[k]];
        if (g->json) {
            printf("%s{\"prefix\":\"%s\",\"owner\":", g->first ? "" : ",", buf);
            cli_json_string(stdout, owner);
            printf("}");
            g->first = 0;
        } else {
            printf("  %*s%-*s %s\n", depth ? 2 : 0, "", 20, buf, owner);
        }
    }
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: cidrscope overlaps [--lenient] [--format text|json] LIST...\n\n"
            "Reads `owner,prefix` lines (IPv4 and IPv6; '#' comments, an optional\n"
            "'owner,prefix' header) and prints every group of overlapping prefixes:\n"
            "a top-level prefix and every entry inside it, when the group has two\n"
            "or more entries. LIST may be '-' for stdin.\n\n"
            "  --lenient        clear host bits (with a warning) instead of failing\n"
            "  --format F       text (default) or json\n");
}

int cmd_overlaps(int argc, char **argv)
{
    static const struct option opts[] = {{"help", no_argument, NULL, 'h'},
                                         {"lenient", no_argument, NULL, 'l'},
                                         {"format", required_argument, NULL, 'f'},
                                         {NULL, 0, NULL, 0}};
    enum cli_format fmt = FMT_TEXT;
    owners o = {0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hlf:", opts, NULL)) != -1) {
        switch (c) {
        case 'h': usage(stdout); return CLI_OK;
        case 'l': o.lenient = 1; break;
        case 'f':
            if (cli_parse_format("overlaps", optarg, 1u << FMT_TEXT | 1u << FMT_JSON, &fmt))
                return CLI_USAGE;
            break;
        default: usage(stderr); return CLI_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return CLI_USAGE;
    }
    o.b = cs_snapshot_builder_new();
    if (!o.b) {
        cli_errorf("overlaps", "out of memory");
        return CLI_INTERNAL;
    }
    int exit_code = CLI_OK;
    for (int i = optind; i < argc && exit_code == CLI_OK; i++) {
        o.path = argv[i];
        int rc = cli_for_each_line("overlaps", argv[i], add_line, &o);
        if (rc == -3)
            exit_code = CLI_INTERNAL;
        else if (rc)
            exit_code = CLI_USAGE;
    }
    cs_snapshot *s = NULL;
    cs_error err;
    cs_error_clear(&err);
    if (exit_code == CLI_OK && cs_snapshot_builder_freeze(o.b, &s, &err) < 0)
        exit_code = cli_report_error("overlaps", &err);
    if (exit_code == CLI_OK) {
        cs_snapshot_info info;
        cs_snapshot_get_info(s, &info);
        size_t groups = 0, grouped = 0;
        if (fmt == FMT_JSON)
            printf("{\"entries\":%zu,\"groups\":[", o.n);
        else
            printf("%zu entries, %u distinct prefixes\n\n", o.n,
                   info.prefixes[0] + info.prefixes[1]);
        for (int fam = 0; fam < 2; fam++) {
            uint8_t family = fam ? CS_AF_V6 : CS_AF_V4;
            /* Entries are in preorder: landing on the first entry of a
             * prefix after skipping whole subtrees, nothing before covers
             * it, so it is top-level and its subtree is its group. */
            for (uint32_t e = 0; e < info.entries[fam];) {
                cs_prefix p;
                cs_snapshot_entry(s, family, e, &p, NULL);
                int64_t covered = cs_query_count(s, &p, CS_Q_COVERED);
                if (covered >= 2) {
                    group_ctx g = {&o, &p, fmt == FMT_JSON, 1};
                    char buf[CS_PREFIX_STRCAP];
                    cs_prefix_format(&p, buf, sizeof buf);
                    if (fmt == FMT_JSON)
                        printf("%s{\"top\":\"%s\",\"entries\":%lld,\"members\":[",
                               groups ? "," : "", buf, (long long)covered);
                    else
                        printf("group %zu: %s (%lld entries)\n", groups + 1, buf,
                               (long long)covered);
                    cs_query_walk(s, &p, CS_Q_COVERED, print_member, &g);
                    printf(fmt == FMT_JSON ? "]}" : "\n");
                    groups++;
                    grouped += (size_t)covered;
                }
                e += (uint32_t)covered;
            }
        }
        if (fmt == FMT_JSON)
            printf("],\"group_count\":%zu,\"entries_in_groups\":%zu}\n", groups, grouped);
        else
            printf("%zu overlap groups covering %zu of %zu entries\n", groups, grouped, o.n);
    }
    cs_snapshot_close(s);
    cs_snapshot_builder_free(o.b);
    for (size_t i = 0; i < o.n; i++)
        free(o.names[i]);
    free(o.names);
    return exit_code;
}
