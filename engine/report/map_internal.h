/*
 * engine/report/map_internal.h — what the map section's files share:
 * map.c (the maps, the page) and map_graph.c (the peering graph).
 */
#ifndef CS_REPORT_MAP_INTERNAL_H
#define CS_REPORT_MAP_INTERNAL_H

#include <cidrscope/audit.h>
#include <cidrscope/error.h>
#include <cidrscope/snapshot.h>

#include <stdint.h>
#include <stdio.h>

/* Okabe & Ito's eight colours (map.c): accounts and regions cycle through
 * them. */
extern const char *const cs_map_palette[8];

/* Writes ` name="v"` with v HTML-escaped. */
void cs_map_attr(FILE *f, const char *name, const char *v);

/* Writes the peering graph's heading, note and SVG for audit r of s (n_vpc
 * VPCs). Returns 0, CS_ENOMEM, or what cs_graph_layout returns. */
int cs_map_write_graph(FILE *f, const cs_snapshot *s, const cs_audit_result *r, uint32_t n_vpc,
                       cs_error *err);

#endif
