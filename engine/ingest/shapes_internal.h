/*
 * engine/ingest/shapes_internal.h — the JSON inventories beyond EC2's
 * describe-* output, and how a JSON source is told apart by its content:
 *
 *   engine/ingest/json_shapes.c  classification by top-level key, the
 *                                dispatch of a JSON source (a file named on
 *                                the command line, a file of an estate
 *                                directory) and what the two readers below
 *                                share (record errors, keep-going, pages,
 *                                prefixes, positions);
 *   engine/ingest/ipam_cidrs.c   aws ec2 get-ipam-resource-cidrs output,
 *                                and IPAM's OverlapStatus checked against
 *                                the CIDRs of the same output;
 *   engine/ingest/config_vpcs.c  AWS Config advanced-query output for
 *                                AWS::EC2::VPC ({"Results": ["<json>"]}).
 *
 * The readers follow ingest_internal.h's keep-going contract.
 */
#ifndef CS_SHAPES_INTERNAL_H
#define CS_SHAPES_INTERNAL_H

#include "ingest/aws_json_internal.h"
#include "ingest/json_pull_internal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a JSON inventory holds, told by its top-level keys. */
enum cs_json_shape {
    CS_SHAPE_EC2 = 0,     /* Vpcs / VpcPeeringConnections (aws_json.c);
                             also anything not recognised, which that
                             reader reports or skips */
    CS_SHAPE_IPAM = 1,    /* IpamResourceCidrs */
    CS_SHAPE_CONFIG = 2,  /* Results (AWS Config select-resource-config /
                             select-aggregate-resource-config) */
};

/* The shape of the JSON text starting buf[0..len) (a whole file or its
 * first bytes): the first top-level key that names one (the keys of the
 * first page of a `jq -s` array of pages). Returns a CS_SHAPE_*, or -1 when
 * buf ends before a deciding key (read more, or take CS_SHAPE_EC2). Pure. */
int cs_ingest_json_shape(const char *buf, size_t len);

/*
 * Reads the JSON source open on `fd` (named `path`, left open) after
 * head[0..head_len), the bytes already read from it: reads on until its
 * shape is known, then hands it to its reader. `region` / `account` are the
 * defaults for records without them (a directory's, or the command line's
 * --source-region / --source-account). `res` is the EC2 reader's resources
 * when reused across the files of a directory (NULL: its own). Returns as
 * the CSV readers (rejections >= 0, or a negative code).
 */
int cs_ingest_json_fd(cs_estate *e, const char *path, int fd,
                      const void *head, size_t head_len, const char *region,
                      const char *account, aj_res *res,
                      const cs_load_options *opts, cs_error *err);

/* The readers, from the whole text buf[0..len) of `source` (in memory: the
 * fuzzers and tests call these). region / account as above (NULL: records
 * must carry their own). */
int cs_ingest_ipam_cidrs_buf(cs_estate *e, const char *source, const char *buf,
                             size_t len, const char *region,
                             const char *account, const cs_load_options *opts,
                             cs_error *err);
int cs_ingest_config_vpcs_buf(cs_estate *e, const char *source,
                              const char *buf, size_t len, const char *region,
                              const char *account, const cs_load_options *opts,
                              cs_error *err);

/*
 * IPAM's question, answered by a sweep: for each of n prefixes owned by
 * VPC vpc[i] (small integers), whether another VPC's prefix among them
 * contains it or lies inside it (prefixes overlap only so). out[i] is the
 * answer. O(n log n). Returns 0 or CS_ENOMEM.
 */
int cs_ingest_overlap_other(const cs_prefix *pfx, const uint32_t *vpc, size_t n,
                            bool *out);

/* ---- what the readers share (json_shapes.c) ------------------------------- */

/* A reader of one file. */
typedef struct jr {
    cs_estate *e;
    const cs_load_options *opts;
    const char *source;
    const char *region;      /* default region; NULL none */
    const char *account;     /* default account; NULL none */
    jp p;                    /* the file's parser (errors into tmp) */
    cs_error tmp;            /* the error being built */
    cs_error rec_err;        /* the current record's first error */
    bool rec_failed;
    int rejected;
    bool incomplete;         /* the last page read carried a NextToken */
    cs_error *err;           /* the caller's */
    /* line counting for locations, forward only */
    size_t lc_off, lc_line_start;
    uint64_t lc_line;
} jr;

void cs_jr_init(jr *r, cs_estate *e, const char *source, const char *buf,
                size_t len, const char *region, const char *account,
                const cs_load_options *opts, cs_error *err);
void cs_jr_free(jr *r);

/* The location (line, column) of file offset `off`. */
cs_srcloc cs_jr_loc(jr *r, size_t off);

/* The error in r->tmp belongs to the current record: kept as its first
 * error (the record is rejected when it ends). Returns 0 (go on). */
int cs_jr_record_error(jr *r);

/* The current record ended: rejected (keep-going; returns 0) or the load
 * stops with its error (< 0); 0 when it had none. The record state is
 * reset. */
int cs_jr_record_end(jr *r);

/* The error in r->tmp (code rc) stops the file: with keep-going one
 * rejection and r->rejected is returned; else the caller's err gets it and
 * rc is returned. CS_ENOMEM and a dead builder always stop. */
int cs_jr_file_error(jr *r, int rc);

/* A builder call failed with rc (its error in r->tmp): the record's error,
 * or fatal for CS_ENOMEM / CS_ESTATE (returns rc < 0 then, 0 else). */
int cs_jr_builder_error(jr *r, int rc);

/* A finding at file offset `off`. Returns 0 or a fatal code (r->tmp set). */
int cs_jr_finding(jr *r, const char *kind, size_t off, const char *fmt, ...)
    CS_PRINTF(4, 5);

/* The next value of parser q is a string (or null: *have = false) for
 * `key`; any other type is the record's error and the value is skipped.
 * Returns 0 or a syntax error (< 0, stops the file). */
int cs_jr_str(jr *r, jp *q, const char *key, jp_str *out, bool *have);

/* As cs_jr_str for a boolean. */
int cs_jr_bool(jr *r, jp *q, const char *key, bool *out, bool *have);

/* Parses string s of parser q as a prefix of family flags `fam`
 * (CS_PARSE_V4_ONLY / _V6_ONLY / 0) for `key`: a bad prefix is the
 * record's error (*ok false); host bits are cleared with a finding in
 * lenient mode. Returns 0 or a fatal code. */
int cs_jr_prefix(jr *r, jp *q, jp_str s, const char *key, unsigned fam,
                 cs_prefix *out, bool *ok);

/* A NextToken value of a page: a non-empty one is an incomplete-page
 * finding (and sets r->incomplete). Returns 0 or a fatal code. */
int cs_jr_next_token(jr *r, jp *q, jp_str tok);

/* The next value of parser q for `what` opens a container of kind `kind`
 * (JP_OBJ or JP_ARR): 1 (opened), 0 (null, or another type: the record's
 * error, skipped), < 0 a syntax error. */
int cs_jr_open(jr *r, jp *q, const char *what, int kind);

/* Tags [{KEY, VALUE}] (key names `kname` / `vname`: "Key"/"Value" in EC2
 * shapes, "key"/"value" in Config items) into k[], v[] (*n of them, at most
 * CS_AWS_TAG_MAX); a tag without its key is the record's error. Returns 0
 * or a syntax error. */
int cs_jr_tags(jr *r, jp *q, const char *what, const char *kname,
               const char *vname, jp_str *k, jp_str *v, size_t *n);

/* Reads the documents of the file: concatenated JSON documents, each an
 * object (a page) or an array of pages. A page is {LIST_KEY: [record...],
 * "NextToken": s, ...}: `record` is called with the parser on each element
 * of the list (any value) and returns 0 or < 0; a non-empty NextToken is an
 * incomplete-page finding (r->incomplete set for the page); other keys are
 * skipped; a page without LIST_KEY is an error naming `what`. Returns the
 * rejections (>= 0) or the stopping code (errors settled through
 * cs_jr_file_error). */
int cs_jr_pages(jr *r, const char *list_key, const char *what,
                int (*on_record)(jr *r, void *ctx), void *ctx);

#endif
