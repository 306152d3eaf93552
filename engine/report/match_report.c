/*
 * engine/report/match_report.c — rows of the `query` and `lookup` verbs.
 *
 * Does: stream the answers of overlap queries and longest-prefix lookups,
 * one item (a query prefix or an address, as the user typed it) at a time:
 * every entry of every match becomes one row (stored prefix, VPC id,
 * account, region, VPC name, relation to the item), or, in count mode, one
 * number per item. Formats:
 *
 *   text    item line, then "  RELATION  PREFIX  VPC  ACCOUNT  REGION
 *           NAME" rows ("  no match" when none); count mode: the number
 *   json    [ {"query"|"address": ITEM, "matches": [ {prefix, relation,
 *           vpc, account, region, name} ] } ... ]; count mode adds "count"
 *           and no matches
 *   ndjson  one such object per line
 *   csv     query|address,prefix,relation,vpc_id,account,region,name (one
 *           row per entry; an item without a match gets one row with empty
 *           match columns); count mode: query|address,count
 *
 * In an image without estate tables the VPC columns hold the entry's value.
 * Does not: allocate per row, or read anything but the snapshot.
 * Tests: tests/cli/test_query*.sh.
 */
#include "report/writer.h"

#include "core/error_internal.h"

#include <cidrscope/audit.h>
#include <cidrscope/estate.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct cs_match_report {
    FILE *f;
    enum cs_report_format format;
    unsigned flags;
    cs_json j;
    cs_csv c;
    char *item;          /* the current item (copy) */
    size_t item_cap;
    uint64_t rows;       /* rows of the current item */
    bool started;        /* JSON: the outer array is open */
};

static const char *rel_name(uint8_t rel)
{
    switch (rel) {
    case CS_REL_COVERS: return "covers";
    case CS_REL_EQUAL: return "equal";
    case CS_REL_COVERED: return "covered";
    default: return "?";
    }
}

cs_match_report *cs_match_report_open(FILE *f, enum cs_report_format format, unsigned flags)
{
    if (!f || (format != CS_REPORT_TEXT && format != CS_REPORT_JSON &&
               format != CS_REPORT_NDJSON && format != CS_REPORT_CSV))
        return NULL;
    cs_match_report *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->f = f;
    w->format = format;
    w->flags = flags;
    const char *key = (flags & CS_MR_LOOKUP) ? "address" : "query";
    if (format == CS_REPORT_JSON) {
        cs_json_init(&w->j, f, CS_JSON_PRETTY);
        cs_json_begin_array(&w->j);
        w->started = true;
    } else if (format == CS_REPORT_NDJSON) {
        cs_json_init(&w->j, f, 0);
    } else if (format == CS_REPORT_CSV) {
        cs_csv_init(&w->c, f);
        if (flags & CS_MR_COUNT) {
            const char *cols[] = {key, "count", NULL};
            cs_csv_header(&w->c, cols);
        } else {
            const char *cols[] = {key, "prefix", "relation", "vpc_id", "account", "region",
                                  "name", NULL};
            cs_csv_header(&w->c, cols);
        }
    }
    return w;
}

static void set_item(cs_match_report *w, const char *text)
{
    size_t n = strlen(text) + 1;
    if (n > w->item_cap) {
        char *p = realloc(w->item, n);
        if (!p) {
            /* keep the old buffer: the row is written with what fits */
            if (w->item && w->item_cap)
                w->item[0] = '\0';
            return;
        }
        w->item = p;
        w->item_cap = n;
    }
    memcpy(w->item, text, n);
}

void cs_match_report_item(cs_match_report *w, const char *text)
{
    if (!w)
        return;
    set_item(w, text ? text : "");
    w->rows = 0;
    const char *key = (w->flags & CS_MR_LOOKUP) ? "address" : "query";
    const char *item = w->item ? w->item : "";
    switch (w->format) {
    case CS_REPORT_TEXT:
        fprintf(w->f, "%s\n", item);
        break;
    case CS_REPORT_JSON:
    case CS_REPORT_NDJSON:
        cs_json_begin_object(&w->j);
        cs_json_kv_string(&w->j, key, item);
        cs_json_key(&w->j, "matches");
        cs_json_begin_array(&w->j);
        break;
    default:
        break;
    }
}

/* The VPC facts of an entry; in an image without estate tables the VPC
 * column holds the entry's value (`value` is the buffer for its digits). */
static cs_vpc_facts owner_of(const cs_snapshot *s, uint32_t value, char value_buf[CS_FMT_U64_CAP])
{
    uint32_t v = cs_estate_present(s) ? cs_estate_assoc_vpc(s, value) : CS_IDX_NONE;
    cs_vpc_facts f = cs_report_vpc(s, v);
    if (!f.known) {
        cs_fmt_u64(value_buf, value);
        f.id = value_buf;
    }
    return f;
}

void cs_match_report_match(cs_match_report *w, const cs_snapshot *s, const cs_match *m)
{
    if (!w || !s || !m)
        return;
    char pfx[CS_PREFIX_STRCAP];
    cs_prefix_format(&m->prefix, pfx, sizeof pfx);
    const char *rel = rel_name(m->relation);
    for (uint32_t k = 0; k < m->count; k++) {
        char vbuf[CS_FMT_U64_CAP];
        cs_vpc_facts o = owner_of(s, m->values[k], vbuf);
        w->rows++;
        switch (w->format) {
        case CS_REPORT_TEXT:
            fputs("  ", w->f);
            cs_text_col(w->f, rel, 8);
            fputc(' ', w->f);
            cs_text_col(w->f, pfx, 20);
            fputc(' ', w->f);
            cs_text_col(w->f, o.id, 22);
            fputc(' ', w->f);
            cs_text_col(w->f, o.account, 13);
            fputc(' ', w->f);
            cs_text_col(w->f, o.region, o.name[0] ? 14 : 0);
            if (o.name[0]) {
                fputc(' ', w->f);
                cs_text_name(w->f, o.name, CS_TEXT_NAME_WIDTH);
            }
            fputc('\n', w->f);
            break;
        case CS_REPORT_JSON:
        case CS_REPORT_NDJSON:
            cs_json_begin_object(&w->j);
            cs_json_kv_prefix(&w->j, "prefix", &m->prefix);
            cs_json_kv_string(&w->j, "relation", rel);
            cs_json_kv_string(&w->j, "vpc", o.id);
            cs_json_kv_string(&w->j, "account", o.account);
            cs_json_kv_string(&w->j, "region", o.region);
            cs_json_kv_string(&w->j, "name", o.name);
            cs_json_end(&w->j);
            break;
        case CS_REPORT_CSV:
            cs_csv_field(&w->c, w->item);
            cs_csv_field(&w->c, pfx);
            cs_csv_field(&w->c, rel);
            cs_csv_field(&w->c, o.id);
            cs_csv_field(&w->c, o.account);
            cs_csv_field(&w->c, o.region);
            cs_csv_field(&w->c, o.name);
            cs_csv_end_row(&w->c);
            break;
        default:
            break;
        }
    }
}

void cs_match_report_end(cs_match_report *w)
{
    if (!w)
        return;
    switch (w->format) {
    case CS_REPORT_TEXT:
        if (!w->rows)
            fputs("  no match\n", w->f);
        break;
    case CS_REPORT_JSON:
    case CS_REPORT_NDJSON:
        cs_json_end(&w->j); /* matches */
        cs_json_end(&w->j); /* item */
        if (w->format == CS_REPORT_NDJSON)
            cs_json_newline(&w->j);
        break;
    case CS_REPORT_CSV:
        if (!w->rows) {
            cs_csv_field(&w->c, w->item);
            for (int i = 0; i < 6; i++)
                cs_csv_field(&w->c, NULL);
            cs_csv_end_row(&w->c);
        }
        break;
    default:
        break;
    }
}

void cs_match_report_count(cs_match_report *w, const char *text, uint64_t count)
{
    if (!w)
        return;
    const char *key = (w->flags & CS_MR_LOOKUP) ? "address" : "query";
    switch (w->format) {
    case CS_REPORT_TEXT:
        fprintf(w->f, "%" PRIu64 "\n", count);
        break;
    case CS_REPORT_JSON:
    case CS_REPORT_NDJSON:
        cs_json_begin_object(&w->j);
        cs_json_kv_string(&w->j, key, text ? text : "");
        cs_json_kv_u64(&w->j, "count", count);
        cs_json_end(&w->j);
        if (w->format == CS_REPORT_NDJSON)
            cs_json_newline(&w->j);
        break;
    case CS_REPORT_CSV:
        cs_csv_field(&w->c, text);
        cs_csv_u64(&w->c, count);
        cs_csv_end_row(&w->c);
        break;
    default:
        break;
    }
}

int cs_match_report_close(cs_match_report *w, cs_error *err)
{
    if (!w)
        return 0;
    if (w->format == CS_REPORT_JSON && w->started) {
        cs_json_end(&w->j);
        cs_json_newline(&w->j);
    }
    int rc = cs_out_finish(w->f, "query output", err);
    free(w->item);
    free(w);
    return rc;
}
