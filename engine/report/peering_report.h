/*
 * engine/report/peering_report.h — the sentences of the peering reports,
 * exposed to the tests (the report functions themselves are public, in
 * include/cidrscope/peering.h).
 */
#ifndef CS_PEERING_REPORT_H
#define CS_PEERING_REPORT_H

#include <cidrscope/peering.h>

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

#endif
