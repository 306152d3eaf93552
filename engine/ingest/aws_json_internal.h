/*
 * engine/ingest/aws_json_internal.h — what the three files of the AWS CLI
 * JSON reader share: json_stream.c (bytes, yajl, positions, errors, file
 * entry points), aws_json.c (the EC2 shapes: yajl callbacks and records),
 * estate_dir.c (the ESTATE/<account>/<region>/ walk); and the in-memory
 * entry point for the fuzzer and the tests. Everything outside these files
 * reads through cs_ingest_aws_json and cs_ingest_estate_dir
 * (ingest_internal.h).
 */
#ifndef CS_AWS_JSON_INTERNAL_H
#define CS_AWS_JSON_INTERNAL_H

#include "ingest/ingest_internal.h"
#include "ingest/replay_internal.h"

#include "core/error_internal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_parse.h>

/* ---- limits ------------------------------------------------------------- */

#define AJ_CHUNK (1u << 20)     /* bytes per read() */
#define AJ_TAIL 96              /* bytes of the previous chunk kept for carets */
#define CS_AWS_ASSOC_MAX 1024   /* CIDR associations of one VPC (AWS: 5+5 by
                                   default, 50 at most per family) */
#define CS_AWS_TAG_MAX 1024     /* tags of one record (AWS: 50) */
#define AJ_FRAMES 16            /* known shapes nest 7 deep */


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

/* True when s[0..len) is a 12-digit AWS account id. Pure. */
bool cs_aws_account_valid(const char *s, size_t len);

/* ---- the reader's state (json_stream.c and aws_json.c) -------------------- */

enum { V_STR = 1, V_BOOL, V_NUM, V_NULL, V_OBJ, V_ARR };

/* ---- parser state --------------------------------------------------------- */

typedef struct aj_pos {
    uint64_t off;   /* absolute byte offset in the file */
    uint64_t line;  /* 1-based */
    uint32_t col;   /* 1-based, in bytes; 0 = unknown */
} aj_pos;

/* A string in the record arena; off == UINT32_MAX: absent. */
typedef struct astr {
    uint32_t off;
    uint32_t len;
} astr;
static const astr ASTR_NONE = {UINT32_MAX, 0};

typedef struct assoc {
    cs_prefix prefix;
    astr id, pool, raw;   /* raw: the text as read, kept when normalised */
    aj_pos at;               /* its '{', then its CIDR value once read */
    uint8_t family;       /* CS_AF_V4 (CidrBlockAssociationSet) or V6 */
    uint8_t state;        /* enum cs_assoc_state */
    uint8_t ip_source;
    uint8_t ipv6_attr;
    bool have_prefix;
    bool primary;
    bool normalised;      /* lenient: host bits were cleared */
} assoc;

typedef struct tag {
    astr key, value;
    aj_pos at;
} tag;

typedef struct side {
    astr vpc, owner, region;
    uint8_t allow_dns;    /* enum cs_tri */
    bool present;
} side;

/* The record being read. */
typedef struct record {
    aj_pos at;               /* its '{' */
    unsigned vpc_keys;    /* how many Vpc-only keys it had (bare arrays) */
    unsigned pcx_keys;
    /* Vpc */
    astr vpc_id, owner;
    bool is_default;
    uint8_t vpc_state;
    bool have_primary, primary_normalised;
    cs_prefix primary;
    astr primary_raw;
    aj_pos primary_at;
    /* Pcx */
    astr pcx_id;
    bool have_status;
    uint8_t status;
    side sides[2];        /* [0] requester, [1] accepter */
} record;

typedef struct frame {
    uint8_t ctx;      /* X_* */
    int8_t key;       /* index in ctxs[ctx].keys of the pending key; -1 none
                         or unknown */
    uint64_t seen;    /* keys seen so far, by index */
    aj_pos open;         /* where its '{' or '[' is */
} frame;

/* Resources reused from file to file (a directory walk reads thousands). */
typedef struct aj_res {
    unsigned char *buf;   /* AJ_CHUNK bytes */
    char *arena;
    size_t arena_len, arena_cap;
    assoc *assocs;
    size_t n_assoc, cap_assoc;
    tag *tags;
    size_t n_tag, cap_tag;
    cs_tag *desc_tags;    /* cs_tag views handed to the builder */
    size_t cap_desc_tags;
    bool in_dir;          /* files of a region directory (estate_dir.c) */
    unsigned char *carry; /* a token split across reads, made whole */
    size_t cap_carry;
} aj_res;

/* Return codes of the state machine's handlers (yajl goes on for any
 * non-zero value). */
enum { H_STOP = 0, H_OK = 1, H_REJECTED = 2 };

typedef struct aj {
    /* what and where */
    cs_estate *e;
    const cs_load_options *opts;
    const char *source;
    const char *region;   /* VPCs' region now; NULL = unknown */
    const char *base_region; /* the caller's (or the directory's) region,
                                region of each new document or page */
    char doc_region[32];  /* a document's own "Region" (wrapper) */
    bool region_from_dir; /* base_region is a directory's: a "Region"
                             that differs is an error */
    bool foreign_ok;      /* a JSON document with neither list is skipped
                             with a finding (files of a region directory),
                             not an error */
    const char *account;  /* owner of VPCs without OwnerId; NULL = none */
    aj_res *res;
    cs_error *err;        /* the caller's */
    yajl_handle y;

    /* The span yajl is parsing: always whole tokens (see feed). */
    const unsigned char *chunk;
    size_t chunk_len;
    uint64_t base;        /* absolute offset of chunk[0] */
    /* The read chunk, the bytes just before it, and the token carried from
     * the previous read (for carets; the carry also for yajl). */
    const unsigned char *rd;
    size_t rd_len;
    uint64_t rd_base;
    unsigned char tail[AJ_TAIL];
    size_t tail_len;      /* tail ends at rd_base */
    uint64_t fed;         /* absolute offset up to which yajl has the text */
    size_t carry_len;     /* res->carry holds [fed, fed + carry_len) */
    const unsigned char *scr; /* the last carried span given to yajl */
    size_t scr_len;
    uint64_t scr_base;
    bool any_bytes;       /* the file is not empty (BOM aside) */
    bool completing;      /* inside yajl_complete_parse: a number that ends
                             the input is delivered there, ending at fed */
    uint64_t prev_tok;    /* where snap_token would put the last byte of
                             the previous span (UINT64_MAX: blank, or none) */

    /* line counting: newlines before lc_off are counted */
    uint64_t lc_off, line, line_start;

    /* prescan state, carried across chunks */
    bool in_str, esc, in_bare;
    uint64_t tok_start;   /* abs offset of the open string's quote or of
                             the open bare token */
    uint8_t u8_need;      /* continuation bytes still expected */
    uint8_t u8_lo, u8_hi; /* allowed range of the next one */
    uint64_t u8_start;    /* abs offset of the sequence's lead byte */
    size_t close_idx;     /* where the token open at the chunk's start ends
                             in it (index of the byte after), SIZE_MAX: not
                             in this chunk */
    uint64_t bare_s, bare_e; /* the last bare token (number, literal) that
                                ended: [bare_s, bare_e) */
    bool flagged;         /* the prescan has a complaint: */
    uint64_t bad_off;     /* where it points */
    char bad_msg[160];

    /* the state machine */
    frame st[AJ_FRAMES];
    int sp;               /* index of the innermost frame */
    uint64_t skip;        /* > 0: inside a skipped subtree, this deep */
    int item_sp;          /* frame of the current record, -1 none */
    record rec;
    bool saw_value;       /* any token at all */

    /* outcome */
    int status;           /* < 0: the error returned */
    bool stopped;         /* this file is done (error or rejection) */
    int rejected;
    cs_error tmp;         /* the error being built */
} aj;


static inline bool cs_aj_keep_going(const aj *p)
{
    return p->opts && p->opts->keep_going;
}

/* Underline at most 64 bytes; print at most 64 bytes of a value. */
static inline uint32_t cs_aj_clamp_span(size_t n)
{
    return n > 64 ? 64 : (uint32_t)n;
}

static inline int cs_aj_shown(size_t len)
{
    return len > 64 ? 64 : (int)len;
}

/* ---- json_stream.c ---------------------------------------------------------- */

/* The position of absolute offset `off` (asked for in increasing order, or
 * on the current line). */
aj_pos cs_aj_locate(aj *p, uint64_t off);

/* Start of the token yajl just delivered: `kind` V_STR (strings and keys),
 * V_NUM / V_BOOL / V_NULL with the length of its text, V_OBJ / V_ARR. */
uint64_t cs_aj_token_start(aj *p, int kind, size_t len);

/* Starts an error in p->tmp at `at` (NULL: no line, just the source). */
void cs_aj_error(aj *p, const aj_pos *at, uint32_t span, int code,
                 const char *fmt, ...) CS_PRINTF(5, 6);

/* Records p->tmp as the outcome: with keep_going (and a rejectable error)
 * as a rejection, else into the caller's err. Returns true when reading may
 * go on. */
bool cs_aj_settle(aj *p, bool rejectable);

/* p->tmp stops this file (one rejection with keep_going): H_STOP. */
int cs_aj_fail_file(aj *p);
/* p->tmp stops everything (out of memory, a dead builder): H_STOP. */
int cs_aj_fail_fatal(aj *p);
/* Out of memory: H_STOP. */
int cs_aj_oom(aj *p);

/* Reads the open descriptor `fd` (named `path`, left open) with resources
 * `res` reused across files, after `head[0..head_len)`, the bytes already
 * read from it (may be 0); `region` / `account` as for
 * cs_ingest_aws_json_buf. Returns rejections (>= 0) or a negative code. */
int cs_aj_read_fd(aj_res *res, cs_estate *e, int fd, const void *head,
                  size_t head_len, const char *path, const char *region,
                  const char *account, const cs_load_options *opts,
                  cs_error *err);
/* Opens `path` and reads it as cs_aj_read_fd. */
int cs_aj_read_file(aj_res *res, cs_estate *e, const char *path,
                    const char *region, const char *account,
                    const cs_load_options *opts, cs_error *err);
/* A file that could not be opened (errno `en`): reported like any bad input
 * of that file (one rejection with keep_going). */
int cs_aj_open_failed(aj_res *res, cs_estate *e, const char *path, int en,
                      const cs_load_options *opts, cs_error *err);
void cs_aj_res_free(aj_res *r);

/* ---- aws_json.c ------------------------------------------------------------- */

/* The EC2 state machine's yajl callbacks (ctx: the aj). */
extern const yajl_callbacks cs_aj_callbacks;

/* Resets the record being read (and its arena). */
void cs_aj_rec_reset(aj *p);

#endif
