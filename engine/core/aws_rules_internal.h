/* engine/core/aws_rules_internal.h — AWS's rules for a VPC's CIDR blocks,
 * written once (engine/core/aws_rules.c): block sizes, the ranges a VPC can
 * never use, the IPv4 association-restriction table and the block quota.
 * Used by the estate's freeze-time findings (engine/build/estate.c),
 * can-add (engine/query/peering_add.c), and IPAM allocation for a VPC
 * (engine/query/ipam.c). Pure: no allocation, no I/O, no state. */
#ifndef CS_AWS_RULES_INTERNAL_H
#define CS_AWS_RULES_INTERNAL_H

#include <cidrscope/prefix.h>

#include <stdbool.h>
#include <stddef.h>

/* Default and largest number of IPv4 (and of IPv6) blocks per VPC. */
#define CS_AWS_BLOCK_QUOTA 5u
#define CS_AWS_BLOCK_QUOTA_MAX 50u

/* Rows of the association-restriction table; the values are those of the
 * public enum cs_add_rule (include/cidrscope/peering.h). 0 = allowed. */
enum cs_aws_rule {
    CS_AWS_ALLOWED = 0,
    CS_AWS_OTHER_RFC1918 = 1,  /* an RFC 1918 primary: the other RFC 1918 ranges */
    CS_AWS_10_0_16 = 2,        /* a block in 10.0.0.0/15: nothing in 10.0.0.0/16 */
    CS_AWS_172_31_16 = 3,      /* a 172.16.0.0/12 primary: nothing in 172.31.0.0/16 */
    CS_AWS_198_19 = 4,         /* 198.19.0.0/16 only beside a 198.19.0.0/16 primary */
    CS_AWS_NON_RFC1918 = 5,    /* a public, 100.64.0.0/10 or 198.19.0.0/16
                                  primary: no RFC 1918 block */
    CS_AWS_RULE_COUNT = 6
};

/* True when AWS associates a block of p's length with a VPC: IPv4 /16 to
 * /28; IPv6 /44 to /60 in steps of /4. */
bool cs_aws_block_size_ok(const cs_prefix *p);

/* The sizes allowed for p's family, as a phrase ("IPv4 blocks from /16 to
 * /28", ...). */
const char *cs_aws_block_sizes_text(unsigned family);

/* If p overlaps a range no VPC can use (0.0.0.0/8, 127.0.0.0/8,
 * 169.254.0.0/16, 224.0.0.0/4), returns that range's name
 * ("169.254.0.0/16") and sets *link_local when it is 169.254.0.0/16 (which
 * has its own finding and can-add code); else NULL. */
const char *cs_aws_reserved_range(const cs_prefix *p, bool *link_local);

/*
 * The association-restriction rule forbidding IPv4 block `s` in a VPC whose
 * primary block is `primary` and whose other live IPv4 blocks are
 * blocks[0..n) (s itself excluded; the primary may be among them). Returns
 * an enum cs_aws_rule (0: allowed). *culprit is set to the index in blocks
 * of the block that triggers the 10.0.0.0/15 clause, else (size_t)-1 (the
 * primary is the culprit). IPv6 blocks are never restricted.
 */
unsigned cs_aws_restriction(const cs_prefix *primary, const cs_prefix *blocks, size_t n,
                            const cs_prefix *s, size_t *culprit);

/* The ranges a VPC whose primary is `primary` and whose other live IPv4
 * blocks are blocks[0..n) may not add a block overlapping, as written by
 * cs_aws_restriction (the row's restricted ranges and, when the
 * 10.0.0.0/15 clause holds, 10.0.0.0/16), and the reserved ranges: written
 * to out (at most cap; 12 always suffices). Returns their number. */
size_t cs_aws_refused_ranges(const cs_prefix *primary, const cs_prefix *blocks, size_t n,
                             cs_prefix *out, size_t cap);

/* One sentence stating rule `rule` (enum cs_aws_rule), for findings and
 * reports; "restricted" for an unknown value. */
const char *cs_aws_rule_text(unsigned rule);

#endif
