/*
 * engine/report/peering_report.h — the sentences of the peering reports,
 * exposed to the tests (the report functions themselves are public, in
 * include/cidrscope/peering.h).
 */
#ifndef CS_PEERING_REPORT_H
#define CS_PEERING_REPORT_H

#include "report/writer.h"

#include <cidrscope/estate.h>
#include <cidrscope/peering.h>
#include <cidrscope/query.h>

#include <stdio.h>

#include <stddef.h>
#include <stdint.h>

/*
 * Writes into buf (always NUL-terminated when cap > 0) the sentence that
 * explains reason `code` of the pair (a, b) named a_id, b_id, from its
 * evidence ev[0..n) (the records of that code, as cs_peering_explain gives
 * them; `total` is how many there were before any cut). Returns the length
 * it wanted (as snprintf).
 */
size_t cs_peering_reason_message(const cs_snapshot *s, const char *a_id, const char *b_id,
                                 uint32_t a, uint32_t b, uint32_t quota, unsigned code,
                                 const cs_peering_reason *ev, size_t n, uint64_t total,
                                 char *buf, size_t cap);

/* The same for a can-add reason of block p added to VPC vpc_id. */
size_t cs_can_add_message(const cs_snapshot *s, const char *vpc_id, const cs_prefix *p,
                          const cs_can_add_reason *r, char *buf, size_t cap);

/* ---- what the peering report files share (peering_report.c: check;
 * peering_plan_report.c: candidates, mesh, can-add; reach_report.c) ---- */

/* Evidence records kept per pair; more are counted ("evidence_total"). */
#define REPORT_EV_CAP 64
/* No-connection findings of a reach question printed before summarising. */
#define REACH_SHOW_MAX 20
/* Mesh plans of more VPCs than this list their conflicts instead of
 * drawing the matrix in text. */
#define MESH_TEXT_MATRIX 24

/* A connection's id, "?" when the index names none. */
static inline const char *pcx_id(const cs_snapshot *s, uint32_t pcx)
{
    cs_peering p;
    return cs_estate_peering(s, pcx, &p) == 0 ? p.id : "?";
}

/* An association's prefix in canonical text, "?" when there is none. */
static inline const char *assoc_text(const cs_snapshot *s, uint32_t assoc,
                                     char buf[CS_PREFIX_STRCAP])
{
    cs_assoc a;
    if (assoc == CS_IDX_NONE || cs_estate_assoc(s, assoc, &a) != 0)
        snprintf(buf, CS_PREFIX_STRCAP, "?");
    else
        cs_prefix_format(&a.prefix, buf, CS_PREFIX_STRCAP);
    return buf;
}

static inline const char *plural(uint64_t n)
{
    return n == 1 ? "" : "s";
}

/* JSON pretty for a document, one line per record for NDJSON. */
static inline void json_init(cs_json *j, FILE *f, enum cs_report_format format)
{
    cs_json_init(j, f, format == CS_REPORT_JSON ? CS_JSON_PRETTY : 0);
}

#endif
