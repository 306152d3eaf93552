/*
 * cidrscope/report.h — the one output-format enum every report writer of the
 * library takes (audit, query/lookup rows, peering verdicts, IPAM), its names
 * as the `--format` flag spells them, and the row writer of `query` and
 * `lookup`.
 *
 * Not every writer offers every format: each writer's header says which it
 * accepts; the others are refused with CS_EINVAL (or a NULL writer).
 *
 * Thread-safety: the name functions are pure; a cs_match_report is owned by
 * one thread at a time.
 */
#ifndef CIDRSCOPE_REPORT_H
#define CIDRSCOPE_REPORT_H

#include "error.h"
#include "estate.h"
#include "snapshot.h"
#include "query.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

enum cs_report_format {
    CS_REPORT_TEXT = 0,   /* for a person: summary first, 80 columns, valid
                             UTF-8 */
    CS_REPORT_JSON = 1,   /* one document */
    CS_REPORT_CSV = 2,    /* RFC 4180: a header row, then one row per finding
                             or result; lists inside a field joined by ';' */
    CS_REPORT_NDJSON = 3, /* one JSON object per line, each with a "type"
                             member */
    CS_REPORT_HTML = 4,   /* one self-contained file (inline CSS, a small
                             inline script for the maps' hover, zoom,
                             filters and sorting; no external resources) */
    CS_REPORT_FORMAT_COUNT
};

/* "text", "json", "csv", "ndjson", "html" (the --format values); NULL out of
 * range. */
CS_API const char *cs_report_format_name(enum cs_report_format f);

/* Parses a --format value. `allowed` is a bit set of (1u << CS_REPORT_*);
 * 0 allows every format. Returns 0 and sets *out, or CS_EINVAL (err names
 * the value and lists the allowed ones). */
CS_API int cs_report_format_parse(const char *value, unsigned allowed,
                                  enum cs_report_format *out, cs_error *err);

/* ---- `stat`: what an estate holds ------------------------------------------- */

/*
 * Writes the statistics `st` of snapshot `s` (cs_estate_stats_get,
 * estate.h) to f as CS_REPORT_TEXT (aligned lines for a person) or
 * CS_REPORT_JSON (one object; keys as docs/schema/stat.schema.json names
 * them). With `findings`, every finding is listed too: text appends one
 * "file:line:column: kind: message" line each; JSON becomes
 * {"stat": {...}, "findings": [...]}. Returns 0, CS_EINVAL (another
 * format), CS_EIO (writing failed; err says so).
 */
CS_API int cs_stat_report_write(FILE *f, const cs_snapshot *s,
                                const cs_estate_stats *st,
                                enum cs_report_format format, bool findings,
                                cs_error *err);

/* ---- row writers of `query` and `lookup` ------------------------------------ */

/*
 * A streaming writer of query/lookup answers. Per item: zero or more
 * cs_match_report_match() calls (every entry of the match becomes one row:
 * prefix, VPC id, account, region, relation), then cs_match_report_end().
 * Count mode writes one number per item (cs_match_report_count). An item
 * that could not be read is written in its place by cs_match_report_error.
 * Formats: CS_REPORT_TEXT, _JSON (one document: an array of items),
 * _NDJSON (every record has "type": "result", "count" or "error"), _CSV
 * (the last column, "error", is empty but on error rows). The shapes are
 * docs/schema/query.schema.json and lookup.schema.json (and -ndjson).
 * Prefixes, ids and addresses are never cut in any format. Errors are
 * sticky and returned by cs_match_report_close, which also frees the
 * writer. One writer per thread.
 */
typedef struct cs_match_report cs_match_report;

enum {
    CS_MR_COUNT = 1u << 0,    /* counts only */
    CS_MR_LOOKUP = 1u << 1,   /* items are addresses (column "address") */
    CS_MR_BARE = 1u << 2,     /* text, CSV, NDJSON: continue another
                                 writer's output (no CSV header), so the
                                 bytes of several writers concatenate into
                                 one report; not for JSON */
};

/* NULL when out of memory or the format is not one of the four. */
CS_API cs_match_report *cs_match_report_open(FILE *f, enum cs_report_format format,
                                             unsigned flags);
/* Lists at most `limit` rows per item (0 = all, the default); the rest is
 * counted: text "  N more (use --limit 0 for all)", JSON/NDJSON "omitted". */
CS_API void cs_match_report_set_limit(cs_match_report *w, uint64_t limit);
/* Starts item `text` (the query as given). */
CS_API void cs_match_report_item(cs_match_report *w, const char *text);
/* One match of the current item, on snapshot s. */
CS_API void cs_match_report_match(cs_match_report *w, const cs_snapshot *s,
                                  const cs_match *m);
CS_API void cs_match_report_end(cs_match_report *w);
/* A hint for bulk callers: match m (on snapshot s) will be written soon,
 * so start loading what its first row reads (its entry's VPC, text mode),
 * a few matches ahead, once m->values is in cache (prefetch it first, a
 * few matches earlier still). Writes nothing; any m is safe. */
CS_API void cs_match_report_prefetch(const cs_match_report *w, const cs_snapshot *s,
                                     const cs_match *m);
/* Count mode: the item's count. */
CS_API void cs_match_report_count(cs_match_report *w, const char *text,
                                  uint64_t count);
/* An item that could not be read (`text` as given, its line number in its
 * source, the parse error's message), written where its answer would be. */
CS_API void cs_match_report_error(cs_match_report *w, const char *text,
                                  unsigned long line, const char *message);
/* Hands what the writer holds buffered to its FILE (stdio buffers it
 * further), so that other writes to the FILE come after it. */
CS_API void cs_match_report_flush(cs_match_report *w);
CS_API int cs_match_report_close(cs_match_report *w, cs_error *err);

#ifdef __cplusplus
}
#endif
#endif
