/*
 * cli/verbs.h — the verb table. Each line declares a verb implemented in
 * cli/cmd_<verb>.c; main.c expands this list into its dispatch table. To add
 * a verb, add one CS_VERB line (keep the order: the usage text follows it).
 */
#ifndef CS_VERB
#ifndef CS_VERBS_H
#define CS_VERBS_H
#define CS_VERB(name, fn, summary) int fn(int argc, char **argv);
#include "verbs.h"
#undef CS_VERB
#endif
#else
CS_VERB("build", cmd_build, "read estate sources and write one snapshot file")
CS_VERB("audit", cmd_audit, "audit the estate for overlapping VPCs, by severity")
CS_VERB("query", cmd_query, "every live CIDR block overlapping each prefix")
CS_VERB("lookup", cmd_lookup, "the VPC owning each address (longest-prefix match)")
CS_VERB("check", cmd_check, "may VPC pairs be peered now, and why not (one pair or a million)")
CS_VERB("candidates", cmd_candidates, "every VPC a VPC could peer with now")
CS_VERB("mesh", cmd_mesh, "plan a full mesh or hub-and-spoke: conflicts and quotas")
CS_VERB("reach", cmd_reach, "can traffic go from a VPC to a VPC, prefix or address over peering")
CS_VERB("can-add", cmd_can_add, "may a CIDR block be associated with a VPC now")
CS_VERB("free", cmd_free, "the free space of pools: minimal CIDR list, size, used, largest")
CS_VERB("alloc", cmd_alloc, "allocate blocks in pools that overlap nothing in the estate")
CS_VERB("release", cmd_release, "free a reservation of a service's ledger")
CS_VERB("serve", cmd_serve, "publish sources as a shared-memory service and keep it current")
CS_VERB("publish", cmd_publish, "publish sources once as the next generation of a shared-memory service")
CS_VERB("gen", cmd_gen, "write a synthetic estate (AWS CLI JSON tree or CSV)")
CS_VERB("map", cmd_map, "draw the address space and the peering graph as one HTML page")
CS_VERB("stat", cmd_stat, "count accounts, regions, VPCs, CIDR blocks, peerings and findings")
#endif
