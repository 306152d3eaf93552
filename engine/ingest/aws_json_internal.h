/*
 * engine/ingest/aws_json_internal.h — the in-memory entry point of the AWS
 * CLI JSON reader (engine/ingest/aws_json.c), for the fuzzer and the tests.
 * Everything else reads files through cs_ingest_aws_json and
 * cs_ingest_estate_dir (ingest_internal.h).
 */
#ifndef CS_AWS_JSON_INTERNAL_H
#define CS_AWS_JSON_INTERNAL_H

#include "ingest/ingest_internal.h"

#include <stddef.h>

/* Longest single JSON token (a string with its quotes, a number, a literal)
 * the reader accepts: a longer one is an error at its first byte, so yajl
 * never buffers more than this. AWS strings are short (a Name tag is at most
 * 256 characters). */
#define CS_AWS_JSON_TOKEN_MAX (1u << 20)

/* Deepest nesting of arrays and objects accepted (AWS output nests 7). */
#define CS_AWS_JSON_DEPTH_MAX 256

/*
 * Reads describe-vpcs or describe-vpc-peering-connections output held in
 * buf[0..len) exactly as cs_ingest_aws_json reads a file, feeding the parser
 * `chunk` bytes at a time (0 = the whole buffer at once; small values
 * exercise tokens and UTF-8 sequences split across reads). `source` names
 * the input in errors and findings; `region` is the VPCs' region (NULL: the
 * describe-vpcs form is refused, as for a file); `account` the owner of VPCs
 * without OwnerId (NULL: OwnerId is required). Returns the number of records
 * rejected (>= 0, keep-going) or a negative CS_E* code with err filled.
 * Not thread-safe on one estate.
 */
int cs_ingest_aws_json_buf(cs_estate *e, const char *source, const void *buf,
                           size_t len, size_t chunk, const char *region,
                           const char *account, const cs_load_options *opts,
                           cs_error *err);

/* True when `s[0..len)` looks like an AWS region name: lower-case words
 * joined by '-', the first two letters long, the last a 1-2 digit number
 * ("us-east-1", "us-gov-west-1", "ap-southeast-7"). Pure. */
bool cs_aws_region_valid(const char *s, size_t len);

#endif
