/*
 * engine/report/match_report.c — rows of the `query` and `lookup` verbs.
 *
 * Does: stream the answers of overlap queries and longest-prefix lookups,
 * one item (a query prefix or an address, as the user typed it) at a time:
 * every entry of every match becomes one row (stored prefix, VPC id,
 * account, region, VPC name, relation to the item), or, in count mode, one
 * number per item; an item that could not be read (--keep-going) becomes an
 * error record in its place. Formats:
 *
 *   text    item line, then "  RELATION  PREFIX  VPC  ACCOUNT  REGION
 *           NAME" rows ("  no match" when none; "  N more (use --limit 0
 *           for all)" past the limit; "  error: line N: MESSAGE" for a bad
 *           item); count mode: the number, or "error: line N: MESSAGE"
 *   json    [ {"query"|"address": ITEM, "matches": [ {prefix, relation,
 *           vpc, account, region, name} ], "omitted"?: N} ... ]; count mode
 *           has "count" and no matches; a bad item is {ITEM key, "line",
 *           "error"}
 *   ndjson  one such object per line, with "type": "result", "count" or
 *           "error"
 *   csv     query|address,prefix,relation,vpc_id,account,region,name,error
 *           (one row per entry; an item without a match gets one row with
 *           empty match columns; a bad item one row with only the error);
 *           count mode: query|address,count,error
 *
 * Prefixes, ids and addresses are never cut; a name is cut on a character
 * boundary past CS_TEXT_NAME_WIDTH columns. Numbers are formatted without
 * printf (count mode writes millions of lines a second). In an image without
 * estate tables the VPC columns hold the entry's value.
 *
 * Text rows: what follows the prefix column (VPC id, account, region, name,
 * padded, and the newline) depends on the entry's VPC only (on its value
 * when it has none), so it is formatted once and kept in a direct-mapped
 * cache of OWNER_SLOTS rows keyed by VPC index; a bulk lookup writes most
 * rows as two copies (the relation and prefix columns, then the cached
 * owner text). The cache
 * belongs to one image: it is emptied when a match comes from another
 * snapshot, or from the same one re-pinned to another image (base address,
 * generation, creation time and length compared per match). Rows that are
 * not printable ASCII, or longer than OWNER_ROW_CAP, are not cached.
 * Does not: allocate per row, or read anything but the snapshot.
 * Tests: tests/test_report.c, tests/cli/test_query.sh.
 */
#include "report/writer.h"

#include "core/error_internal.h"

#include <cidrscope/estate.h>
#include <cidrscope/report.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* The owner text of a row: " ID ACCOUNT REGION NAME\n", padded as
 * cs_match_report_match writes it (a name is cut at CS_TEXT_NAME_WIDTH). */
#define OWNER_SLOTS 512
#define OWNER_ROW_CAP 160

typedef struct owner_row {
    uint64_t key;        /* VPC index, or 1 << 32 | value (no VPC) */
    uint16_t len;        /* 0 = empty slot */
    char text[OWNER_ROW_CAP];
} owner_row;

/* Which image the owner rows were read from. */
typedef struct image_key {
    const cs_snapshot *s;
    const void *base;
    uint64_t generation, created_unix, image_len;
} image_key;

struct cs_match_report {
    FILE *f;
    enum cs_report_format format;
    unsigned flags;
    cs_json j;
    cs_csv c;
    char *item;          /* the current item (copy) */
    size_t item_cap;
    uint64_t rows;       /* rows of the current item */
    uint64_t limit;      /* rows listed per item; 0 = all */
    bool started;        /* JSON: the outer array is open */
    /* text count mode: digits gathered here and written 64 KiB at a time
     * (one stdio call per number costs more than the lookup); every other
     * write flushes it first, so the order is kept */
    size_t tlen;
    char tbuf[1 << 16];
    image_key owners_of;     /* the image of `owners` */
    owner_row *owners;       /* text: OWNER_SLOTS rows, allocated with the writer */
    const uint32_t *assoc_vpc; /* that image's association -> VPC map, or NULL */
    uint32_t n_assoc;
};

static void tflush(cs_match_report *w)
{
    if (w->tlen) {
        fwrite(w->tbuf, 1, w->tlen, w->f);
        w->tlen = 0;
    }
}

/* Appends s[0..n) to the text buffer (short pieces only). */
static void tput(cs_match_report *w, const char *s, size_t n)
{
    if (w->tlen + n > sizeof w->tbuf)
        tflush(w);
    memcpy(w->tbuf + w->tlen, s, n);
    w->tlen += n;
}

/* True when s is printable ASCII of at most `max` bytes: it can go to the
 * text buffer as is (no UTF-8 repair needed). */
static bool plain(const char *s, size_t *len, size_t max)
{
    size_t i = 0;
    while (s[i] && i <= max) {
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
            return false;
        i++;
    }
    *len = i;
    return i <= max;
}

static const char *rel_name(uint8_t rel)
{
    switch (rel) {
    case CS_REL_COVERS: return "covers";
    case CS_REL_EQUAL: return "equal";
    case CS_REL_COVERED: return "covered";
    default: return "?";
    }
}

static const char *item_key(const cs_match_report *w)
{
    return (w->flags & CS_MR_LOOKUP) ? "address" : "query";
}

cs_match_report *cs_match_report_open(FILE *f, enum cs_report_format format, unsigned flags)
{
    if (!f || (format != CS_REPORT_TEXT && format != CS_REPORT_JSON &&
               format != CS_REPORT_NDJSON && format != CS_REPORT_CSV))
        return NULL;
    cs_match_report *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    if (format == CS_REPORT_TEXT && !(flags & CS_MR_COUNT) &&
        !(w->owners = calloc(OWNER_SLOTS, sizeof *w->owners))) {
        free(w);
        return NULL;
    }
    w->f = f;
    w->format = format;
    w->flags = flags;
    const char *key = item_key(w);
    if (format == CS_REPORT_JSON) {
        cs_json_init(&w->j, f, CS_JSON_PRETTY);
        if (!(flags & CS_MR_BARE)) {
            cs_json_begin_array(&w->j);
            w->started = true;
        }
    } else if (format == CS_REPORT_NDJSON) {
        cs_json_init(&w->j, f, 0);
    } else if (format == CS_REPORT_CSV) {
        cs_csv_init(&w->c, f);
        if (flags & CS_MR_BARE) {
            /* a continuation of another writer's rows: no header */
        } else if (flags & CS_MR_COUNT) {
            const char *cols[] = {key, "count", "error", NULL};
            cs_csv_header(&w->c, cols);
        } else {
            const char *cols[] = {key, "prefix", "relation", "vpc_id", "account", "region",
                                  "name", "error", NULL};
            cs_csv_header(&w->c, cols);
        }
    }
    return w;
}

/* One text column through the buffer: printable ASCII is padded (or, for a
 * name, cut) here; anything else goes through the writer's UTF-8 path. */
static void tcol(cs_match_report *w, const char *s, unsigned width, bool name)
{
    size_t n;
    if (plain(s, &n, 255)) {
        if (name && width && n > width) {
            tput(w, s, width - 1);
            tput(w, "~", 1);
            return;
        }
        tput(w, s, n);
        if (!name && width > n) {
            static const char spaces[64] = "                                                               ";
            tput(w, spaces, width - n < sizeof spaces ? width - n : sizeof spaces - 1);
        }
        return;
    }
    tflush(w);
    if (name)
        cs_text_name(w->f, s, width);
    else
        cs_text_col(w->f, s, width);
}

void cs_match_report_set_limit(cs_match_report *w, uint64_t limit)
{
    if (w)
        w->limit = limit;
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
    w->rows = 0;
    size_t n;
    if (w->format == CS_REPORT_TEXT && text && plain(text, &n, 256)) {
        /* the item line through the buffer; the copy is for CSV only */
        tput(w, text, n);
        tput(w, "\n", 1);
        return;
    }
    tflush(w);
    set_item(w, text ? text : "");
    const char *item = w->item ? w->item : "";
    switch (w->format) {
    case CS_REPORT_TEXT:
        cs_text_col(w->f, item, 0);
        fputc('\n', w->f);
        break;
    case CS_REPORT_JSON:
    case CS_REPORT_NDJSON:
        cs_json_begin_object(&w->j);
        if (w->format == CS_REPORT_NDJSON)
            cs_json_kv_string(&w->j, "type", "result");
        cs_json_kv_string(&w->j, item_key(w), item);
        cs_json_key(&w->j, "matches");
        cs_json_begin_array(&w->j);
        break;
    default:
        break;
    }
}

/* The VPC facts of an entry; in an image without estate tables the VPC
 * column holds the entry's value (value_buf holds its digits). */
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

/* Appends `n` spaces (n < 64) to a text buffer. */
static size_t pad_to(char *out, size_t len, size_t width)
{
    static const char spaces[64] = "                                                               ";
    if (width > len) {
        memcpy(out, spaces, width - len < sizeof spaces ? width - len : sizeof spaces - 1);
        return width - len < sizeof spaces ? width - len : sizeof spaces - 1;
    }
    return 0;
}

/* Appends column s (printable ASCII, `width` as tcol) to row[*len..cap).
 * False when it is not printable ASCII or does not fit. */
static bool row_col(char *row, size_t *len, size_t cap, const char *s, unsigned width, bool name)
{
    size_t n;
    if (!plain(s, &n, 255))
        return false;
    size_t cut = name && width && n > width ? width - 1 : n;
    if (*len + cut + 1 + (width > n ? width - n : 0) + 1 > cap)
        return false;
    memcpy(row + *len, s, cut);
    *len += cut;
    if (cut < n)
        row[(*len)++] = '~';
    else if (!name)
        *len += pad_to(row + *len, n, width);
    return true;
}

/* The owner text of `value` (a cached row), or NULL when it cannot be
 * cached (then the columns go through tcol). */
static const owner_row *owner_text(cs_match_report *w, const cs_snapshot *s, uint32_t value)
{
    uint32_t v = w->assoc_vpc && value < w->n_assoc ? w->assoc_vpc[value] : CS_IDX_NONE;
    uint64_t key = v != CS_IDX_NONE ? v : (uint64_t)1 << 32 | value;
    owner_row *r = &w->owners[(uint32_t)(key * 0x9E3779B97F4A7C15u >> 55) & (OWNER_SLOTS - 1)];
    if (r->len && r->key == key)
        return r;
    r->len = 0; /* refilled below, or left empty */
    char vbuf[CS_FMT_U64_CAP];
    cs_vpc_facts o = cs_report_vpc(s, v);
    if (!o.known) {
        if (v != CS_IDX_NONE)
            return NULL; /* a VPC index the image does not hold: keyed by value below */
        cs_fmt_u64(vbuf, value);
        o.id = vbuf;
    }
    size_t len = 0;
    char *t = r->text;
    const size_t cap = sizeof r->text;
    t[len++] = ' ';
    if (!row_col(t, &len, cap, o.id, 22, false))
        return NULL;
    t[len++] = ' ';
    if (!row_col(t, &len, cap, o.account, 13, false))
        return NULL;
    t[len++] = ' ';
    if (!row_col(t, &len, cap, o.region, o.name[0] ? 14 : 0, false))
        return NULL;
    if (o.name[0]) {
        t[len++] = ' ';
        if (!row_col(t, &len, cap, o.name, CS_TEXT_NAME_WIDTH, true))
            return NULL;
    }
    t[len++] = '\n';
    r->key = key;
    r->len = (uint16_t)len;
    return r;
}

/* Empties the owner rows when s is not the image they were read from. */
static void owners_for(cs_match_report *w, const cs_snapshot *s)
{
    cs_snapshot_info info;
    cs_snapshot_get_info(s, &info);
    image_key k = {s, cs_snapshot_image(s, NULL), info.generation, info.created_unix,
                   info.image_len};
    image_key *c = &w->owners_of;
    if (c->s != k.s || c->base != k.base || c->generation != k.generation ||
        c->created_unix != k.created_unix || c->image_len != k.image_len) {
        for (size_t i = 0; i < OWNER_SLOTS; i++)
            w->owners[i].len = 0;
        *c = k;
        w->assoc_vpc = cs_estate_present(s) ? cs_estate_assoc_vpc_map(s, &w->n_assoc) : NULL;
    }
}

/* Text rows of match m through the buffer: relation and prefix columns,
 * then the owner text (cached per value, or column by column). */
static void text_rows(cs_match_report *w, const cs_snapshot *s, const cs_match *m,
                      const char *pfx, const char *rel)
{
    char head[96];
    size_t hl = 0;
    head[hl++] = ' ';
    head[hl++] = ' ';
    size_t rn = strlen(rel), pn = strlen(pfx);
    memcpy(head + hl, rel, rn);
    hl += rn;
    hl += pad_to(head + hl, rn, 8);
    head[hl++] = ' ';
    bool fits = hl + pn + 20 <= sizeof head;
    if (fits) {
        memcpy(head + hl, pfx, pn);
        hl += pn;
        hl += pad_to(head + hl, pn, 20);
    }
    if (w->owners)
        owners_for(w, s);
    for (uint32_t k = 0; k < m->count; k++) {
        if (w->limit && w->rows++ >= w->limit)
            continue; /* counted, not listed */
        if (!w->limit)
            w->rows++;
        const owner_row *o = fits && w->owners ? owner_text(w, s, m->values[k]) : NULL;
        if (o) {
            if (w->tlen + hl + o->len > sizeof w->tbuf)
                tflush(w);
            memcpy(w->tbuf + w->tlen, head, hl);
            memcpy(w->tbuf + w->tlen + hl, o->text, o->len);
            w->tlen += hl + o->len;
            continue;
        }
        char vbuf[CS_FMT_U64_CAP];
        cs_vpc_facts f = owner_of(s, m->values[k], vbuf);
        tput(w, "  ", 2);
        tcol(w, rel, 8, false);
        tput(w, " ", 1);
        tcol(w, pfx, 20, false);
        tput(w, " ", 1);
        tcol(w, f.id, 22, false);
        tput(w, " ", 1);
        tcol(w, f.account, 13, false);
        tput(w, " ", 1);
        tcol(w, f.region, f.name[0] ? 14 : 0, false);
        if (f.name[0]) {
            tput(w, " ", 1);
            tcol(w, f.name, CS_TEXT_NAME_WIDTH, true);
        }
        tput(w, "\n", 1);
    }
}

void cs_match_report_match(cs_match_report *w, const cs_snapshot *s, const cs_match *m)
{
    if (!w || !s || !m)
        return;
    if (w->format != CS_REPORT_TEXT)
        tflush(w);
    char pfx[CS_PREFIX_STRCAP];
    cs_prefix_format(&m->prefix, pfx, sizeof pfx);
    const char *rel = rel_name(m->relation);
    if (w->format == CS_REPORT_TEXT) {
        text_rows(w, s, m, pfx, rel);
        return;
    }
    for (uint32_t k = 0; k < m->count; k++) {
        if (w->limit && w->rows++ >= w->limit)
            continue; /* counted, not listed */
        if (!w->limit)
            w->rows++;
        char vbuf[CS_FMT_U64_CAP];
        cs_vpc_facts o = owner_of(s, m->values[k], vbuf);
        switch (w->format) {
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
            cs_csv_field(&w->c, NULL);
            cs_csv_end_row(&w->c);
            break;
        default:
            break;
        }
    }
}

void cs_match_report_prefetch(const cs_match_report *w, const cs_snapshot *s,
                              const cs_match *m)
{
    /* the association -> VPC map is read per row at a random index: the
     * row's second cache miss after the entry's value (a prefetch never
     * faults, even on a map of an image re-pinned since) */
    if (w && w->owners && s && m && m->count && m->values && w->assoc_vpc &&
        m->values[0] < w->n_assoc)
        __builtin_prefetch(&w->assoc_vpc[m->values[0]]);
}

void cs_match_report_end(cs_match_report *w)
{
    if (!w)
        return;
    uint64_t omitted = w->limit && w->rows > w->limit ? w->rows - w->limit : 0;
    switch (w->format) {
    case CS_REPORT_TEXT:
        if (!w->rows) {
            tput(w, "  no match\n", 11);
        } else if (omitted) {
            char n[CS_TEXT_COUNT_CAP];
            tflush(w);
            fprintf(w->f, "  %s more (use --limit 0 for all)\n", cs_text_count(omitted, n));
        }
        break;
    case CS_REPORT_JSON:
    case CS_REPORT_NDJSON:
        cs_json_end(&w->j); /* matches */
        if (omitted)
            cs_json_kv_u64(&w->j, "omitted", omitted);
        cs_json_end(&w->j); /* item */
        if (w->format == CS_REPORT_NDJSON)
            cs_json_newline(&w->j);
        break;
    case CS_REPORT_CSV:
        if (!w->rows) {
            cs_csv_field(&w->c, w->item);
            for (int i = 0; i < 7; i++)
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
    if (w->format != CS_REPORT_TEXT)
        tflush(w);
    switch (w->format) {
    case CS_REPORT_TEXT:
        /* the bulk path: digits and a newline into the buffer */
        if (w->tlen > sizeof w->tbuf - CS_FMT_U64_CAP - 1)
            tflush(w);
        w->tlen += cs_fmt_u64(w->tbuf + w->tlen, count);
        w->tbuf[w->tlen++] = '\n';
        break;
    case CS_REPORT_JSON:
    case CS_REPORT_NDJSON:
        cs_json_begin_object(&w->j);
        if (w->format == CS_REPORT_NDJSON)
            cs_json_kv_string(&w->j, "type", "count");
        cs_json_kv_string(&w->j, item_key(w), text ? text : "");
        cs_json_kv_u64(&w->j, "count", count);
        cs_json_end(&w->j);
        if (w->format == CS_REPORT_NDJSON)
            cs_json_newline(&w->j);
        break;
    case CS_REPORT_CSV:
        cs_csv_field(&w->c, text);
        cs_csv_u64(&w->c, count);
        cs_csv_field(&w->c, NULL);
        cs_csv_end_row(&w->c);
        break;
    default:
        break;
    }
}

void cs_match_report_error(cs_match_report *w, const char *text, unsigned long line,
                           const char *message)
{
    if (!w)
        return;
    tflush(w);
    char no[CS_FMT_U64_CAP];
    cs_fmt_u64(no, line);
    const char *msg = message ? message : "";
    switch (w->format) {
    case CS_REPORT_TEXT:
        if (!(w->flags & CS_MR_COUNT)) {
            cs_text_col(w->f, text ? text : "", 0);
            fputs("\n  ", w->f);
        }
        fprintf(w->f, "error: line %s: ", no);
        cs_text_col(w->f, msg, 0);
        fputc('\n', w->f);
        break;
    case CS_REPORT_JSON:
    case CS_REPORT_NDJSON:
        cs_json_begin_object(&w->j);
        if (w->format == CS_REPORT_NDJSON)
            cs_json_kv_string(&w->j, "type", "error");
        cs_json_kv_string(&w->j, item_key(w), text ? text : "");
        cs_json_kv_u64(&w->j, "line", line);
        cs_json_kv_string(&w->j, "error", msg);
        cs_json_end(&w->j);
        if (w->format == CS_REPORT_NDJSON)
            cs_json_newline(&w->j);
        break;
    case CS_REPORT_CSV: {
        cs_csv_field(&w->c, text);
        int empty = (w->flags & CS_MR_COUNT) ? 1 : 6;
        for (int i = 0; i < empty; i++)
            cs_csv_field(&w->c, NULL);
        char full[CS_ERROR_MSG_CAP + 32];
        snprintf(full, sizeof full, "line %s: %s", no, msg);
        cs_csv_field(&w->c, full);
        cs_csv_end_row(&w->c);
        break;
    }
    default:
        break;
    }
}

void cs_match_report_flush(cs_match_report *w)
{
    if (w)
        tflush(w);
}

int cs_match_report_close(cs_match_report *w, cs_error *err)
{
    if (!w)
        return 0;
    tflush(w);
    if (w->format == CS_REPORT_JSON && w->started) {
        cs_json_end(&w->j);
        cs_json_newline(&w->j);
    }
    int rc = cs_out_finish(w->f, "query output", err);
    free(w->item);
    free(w->owners);
    free(w);
    return rc;
}
