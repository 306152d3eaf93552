/*
 * engine/ingest/aws_json.c — reads AWS CLI JSON into the estate builder:
 * `aws ec2 describe-vpcs` and `aws ec2 describe-vpc-peering-connections`
 * output exactly as printed, one file at a time or a whole org-wide
 * collection ESTATE/<account-id>/<region>/{vpcs,peering}.json.
 *
 * Does: streams each file through yajl (a SAX parser: no DOM), 1 MiB at a
 * time, with a small state machine that knows the EC2 shapes; validates
 * types, required keys, CIDRs and enums; hands each VPC, CIDR association
 * and peering connection to the builder (cs_estate_add_*) as soon as its
 * closing brace is read, so memory is bounded by one VPC whatever the file
 * size. Every error names file, line, column and (where the text is still in
 * memory) copies the offending line for a caret.
 * Does not: dedupe or merge (the builder does: a connection printed in both
 * sides' files, a shared VPC seen by every participant account), check AWS
 * limits (the builder does at freeze), or read CIDRs from peering
 * connections (CIDRs always come from the VPC inventory).
 *
 * SHAPES (botocore ec2/2016-11-15 service-2.json; keys in the order the CLI
 * prints them; * = read, others are checked for type and ignored, and any
 * key not listed is skipped whole, at any depth):
 *
 *   {"Vpcs": [Vpc...], "NextToken": s}     describe-vpcs (also a bare
 *   {"VpcPeeringConnections": [Pcx...]}    [Vpc... | Pcx...] array, each
 *                                          element told apart by its keys)
 *   Vpc  { OwnerId*, InstanceTenancy, Ipv6CidrBlockAssociationSet*: [V6],
 *          CidrBlockAssociationSet*: [V4], IsDefault*: bool, Tags*: [Tag],
 *          VpcId* (required), State*, CidrBlock* (primary), DhcpOptionsId }
 *   V4   { AssociationId*, CidrBlock* (required), CidrBlockState: BState }
 *   V6   { AssociationId*, Ipv6CidrBlock* (required), Ipv6CidrBlockState:
 *          BState, NetworkBorderGroup, Ipv6Pool*, Ipv6AddressAttribute*,
 *          IpSource* }
 *   BState { State*, StatusMessage }        Tag { Key* (required), Value* }
 *   Pcx  { AccepterVpcInfo*: Side (required), ExpirationTime,
 *          RequesterVpcInfo*: Side (required), Status*: { Code* (required),
 *          Message }, Tags, VpcPeeringConnectionId* (required) }
 *   Side { CidrBlock, Ipv6CidrBlockSet, CidrBlockSet (skipped unread),
 *          OwnerId*, PeeringOptions: { AllowDnsResolutionFromRemoteVpc*,
 *          AllowEgressFrom... }, VpcId* (required), Region* }
 *
 * STRUCTURE. One file is one pass of three layers over each 1 MiB read:
 *
 *   read() ──> prescan ──> span ──> yajl_parse ──> callbacks ──> state
 *              (bytes)     (whole                               machine
 *                          tokens)
 *
 *   state machine: a frame stack, one frame per open object or array of a
 *   known shape; unknown subtrees are skipped with a depth counter.
 *
 * The prescan walks the raw bytes once, before yajl sees them, and stops at
 * the first byte no JSON text may hold: a NUL or other control byte, a raw
 * newline inside a string, invalid UTF-8 (overlong, surrogate, beyond
 * U+10FFFF, truncated), a non-ASCII byte between tokens, or a token longer
 * than CS_AWS_JSON_TOKEN_MAX. Those errors get an exact column, and a 2 GB
 * string is an error at its first byte, not a 2 GB buffer.
 *
 * Spans: yajl is handed whole tokens only, one span per read. The token
 * still open at the end of a read (and a number or literal just before it,
 * which yajl cannot finish without the next byte) is held back and copied
 * to a carry buffer; the next read's span is the carry plus that read up to
 * its own held-back token. So yajl never buffers a token across calls, and
 * everything it reports (events, error offsets) is the same whatever the
 * read size: tests/test_aws_json.c and the fuzzer check it, one byte to a
 * whole file at a time. yajl's error offsets are snapped to the start of
 * the token they fall in.
 *
 * Positions: yajl_get_bytes_consumed inside a callback is the end of the
 * current token in the span; the token's start is found from it (strings:
 * back to the opening quote; numbers and literals: by their length). Lines
 * are counted lazily with memchr: positions are asked for in increasing
 * order and each span is counted to its end once parsed, so a file is
 * scanned for newlines once whatever its line lengths. Columns count bytes.
 *
 * RECORDS. A record is one element of the top-level list (a Vpc or a Pcx).
 * Its strings go into a per-record arena, its associations and tags into
 * per-record vectors (at most CS_AWS_ASSOC_MAX / CS_AWS_TAG_MAX), all reset
 * when the record ends. On the record's closing brace the reader checks the
 * required keys, folds the top-level CidrBlock into the association that
 * repeats it (the primary block is one association, not two; when no
 * association repeats it, it is added on its own with an unspecified
 * state), then calls cs_estate_add_vpc and cs_estate_add_cidr per block, or
 * cs_estate_add_peering.
 *
 * ERRORS AND KEEP-GOING. An error inside a record (wrong type, missing key,
 * bad CIDR, unknown state, a builder conflict) rejects that record: without
 * opts->keep_going it stops the load with its error; with it, it goes to
 * cs_estate_reject, the rest of the record is skipped (depth counter) and
 * reading goes on with the next record (when the builder refuses one of a
 * VPC's blocks, say an association id it already holds for another VPC,
 * the VPC and the blocks added before stay). An error in the file's structure
 * (invalid JSON, a top level that is neither output) stops the file; with
 * keep_going that is one rejection and the next file is read. A JSON null
 * is read as the key's absence. Enum values the reader does not know are
 * errors for the states that decide overlap (CIDR block State, peering
 * Code, VPC State) and read as "unspecified" for the informational IPv6
 * attributes (IpSource, Ipv6AddressAttribute), which AWS keeps extending.
 *
 * DIRECTORIES. ESTATE/<12-digit account>/<region>/vpcs.json and
 * peering.json, either may be absent but not both; entries are read in
 * byte order (strcmp), so results do not depend on the file system; names
 * starting with '.' are ignored; any other entry of ESTATE or of an account
 * directory that is not a well-named directory is an error (reported, never
 * skipped silently). Other files inside a region directory (subnets.json,
 * ...) are not ours and are left alone. The account of a VPC is its OwnerId
 * (a shared VPC printed in a participant's file keeps its owner), else the
 * directory's account; its region is the directory's region.
 *
 * Concurrency: none inside; one call works on one estate, which must not be
 * used by another thread meanwhile.
 *
 * References: EC2 API Reference, DescribeVpcs / DescribeVpcPeeringConnections
 * and the Vpc, VpcCidrBlockAssociation, VpcIpv6CidrBlockAssociation,
 * VpcPeeringConnection, VpcPeeringConnectionVpcInfo data types; RFC 8259
 * (JSON), RFC 3629 (UTF-8); yajl 2 (yajl_parse.h).
 *
 * Tests: tests/test_aws_json.c (fixtures in tests/fixtures/aws/),
 * tests/cli/test_gen.sh and tests/test_gen.c (generated estates),
 * tests/fuzz/fuzz_aws_json.c (corpus in tests/fuzz/corpus/aws_json/).
 */
#include "ingest/aws_json_internal.h"

#include "core/error_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yajl/yajl_parse.h>

/* ---- limits ------------------------------------------------------------- */

#define AJ_CHUNK (1u << 20)     /* bytes per read() */
#define AJ_TAIL 96              /* bytes of the previous chunk kept for carets */
#define CS_AWS_ASSOC_MAX 1024   /* CIDR associations of one VPC (AWS: 5+5 by
                                   default, 50 at most per family) */
#define CS_AWS_TAG_MAX 1024     /* tags of one record (AWS: 50) */
#define AJ_FRAMES 16            /* known shapes nest 7 deep */

/* ---- the shapes ----------------------------------------------------------- */

/* Contexts: what the innermost open object or array is. */
enum {
    X_ROOT,      /* before the top-level value */
    X_TOP,       /* {"Vpcs": ..., "VpcPeeringConnections": ...} */
    X_VPC_LIST,  /* [Vpc] */
    X_PCX_LIST,  /* [VpcPeeringConnection] */
    X_ANY_LIST,  /* a bare top-level array: each element Vpc or Pcx */
    X_VPC,
    X_PCX,
    X_ITEM,      /* element of a bare array, kind decided at its end */
    X_V4_SET,
    X_V4,
    X_V6_SET,
    X_V6,
    X_BSTATE,    /* CidrBlockState / Ipv6CidrBlockState */
    X_TAGS,
    X_TAG,
    X_STATUS,
    X_SIDE_REQ,
    X_SIDE_ACC,
    X_OPTIONS,
    X_COUNT
};

/* Keys we act on. */
enum {
    K_NONE,
    K_VPCS, K_PCXS,
    K_VPC_ID, K_OWNER, K_CIDR, K_V4_SET, K_V6_SET, K_IS_DEFAULT, K_STATE,
    K_TAGS,
    K_PCX_ID, K_STATUS, K_REQUESTER, K_ACCEPTER,
    K_ASSOC_ID, K_BSTATE, K_V6_CIDR, K_POOL, K_V6_ATTR, K_IP_SOURCE,
    K_BSTATE_STATE,
    K_TAG_KEY, K_TAG_VALUE,
    K_CODE,
    K_SIDE_VPC, K_SIDE_OWNER, K_SIDE_REGION, K_OPTIONS,
    K_ALLOW_DNS,
    K_IGNORED,   /* known, type-checked, value unused */
};

/* Kinds of value events, and the type a slot expects (one of them, or
 * T_ANY). */
enum { V_STR = 1, V_BOOL, V_NUM, V_NULL, V_OBJ, V_ARR };
enum { T_STR = V_STR, T_BOOL = V_BOOL, T_OBJ = V_OBJ, T_ARR = V_ARR,
       T_ANY = 7 };

typedef struct keyspec {
    const char *name;
    uint8_t len;
    uint8_t key;   /* K_* */
    uint8_t type;  /* T_* */
    uint8_t child; /* X_* of the object or array it opens */
    uint8_t rk;    /* which record it marks: R_VPC, R_PCX, 0 either */
} keyspec;

enum { R_VPC = 1, R_PCX = 2 };

#define KS(n, k, t, c) {n, (uint8_t)(sizeof n - 1), k, t, c, 0}
#define KV(n, k, t, c) {n, (uint8_t)(sizeof n - 1), k, t, c, R_VPC}
#define KP(n, k, t, c) {n, (uint8_t)(sizeof n - 1), k, t, c, R_PCX}

static const keyspec top_keys[] = {
    KS("Vpcs", K_VPCS, T_ARR, X_VPC_LIST),
    KS("VpcPeeringConnections", K_PCXS, T_ARR, X_PCX_LIST),
    KS("NextToken", K_IGNORED, T_STR, 0),
};

#define VPC_KEYS                                                           \
    KV("VpcId", K_VPC_ID, T_STR, 0), KV("OwnerId", K_OWNER, T_STR, 0),      \
    KV("CidrBlock", K_CIDR, T_STR, 0),                                      \
    KV("CidrBlockAssociationSet", K_V4_SET, T_ARR, X_V4_SET),              \
    KV("Ipv6CidrBlockAssociationSet", K_V6_SET, T_ARR, X_V6_SET),          \
    KV("IsDefault", K_IS_DEFAULT, T_BOOL, 0),                              \
    KV("State", K_STATE, T_STR, 0),                                        \
    KV("DhcpOptionsId", K_IGNORED, T_STR, 0),                              \
    KV("InstanceTenancy", K_IGNORED, T_STR, 0)
#define PCX_KEYS                                                           \
    KP("VpcPeeringConnectionId", K_PCX_ID, T_STR, 0),                      \
    KP("Status", K_STATUS, T_OBJ, X_STATUS),                               \
    KP("RequesterVpcInfo", K_REQUESTER, T_OBJ, X_SIDE_REQ),                \
    KP("AccepterVpcInfo", K_ACCEPTER, T_OBJ, X_SIDE_ACC),                  \
    KP("ExpirationTime", K_IGNORED, T_STR, 0)

static const keyspec vpc_keys[] = {VPC_KEYS, KS("Tags", K_TAGS, T_ARR, X_TAGS)};
static const keyspec pcx_keys[] = {PCX_KEYS, KS("Tags", K_TAGS, T_ARR, X_TAGS)};
static const keyspec item_keys[] = {VPC_KEYS, PCX_KEYS,
                                    KS("Tags", K_TAGS, T_ARR, X_TAGS)};
static const keyspec v4_keys[] = {
    KS("AssociationId", K_ASSOC_ID, T_STR, 0),
    KS("CidrBlock", K_CIDR, T_STR, 0),
    KS("CidrBlockState", K_BSTATE, T_OBJ, X_BSTATE),
};
static const keyspec v6_keys[] = {
    KS("AssociationId", K_ASSOC_ID, T_STR, 0),
    KS("Ipv6CidrBlock", K_V6_CIDR, T_STR, 0),
    KS("Ipv6CidrBlockState", K_BSTATE, T_OBJ, X_BSTATE),
    KS("NetworkBorderGroup", K_IGNORED, T_STR, 0),
    KS("Ipv6Pool", K_POOL, T_STR, 0),
    KS("Ipv6AddressAttribute", K_V6_ATTR, T_STR, 0),
    KS("IpSource", K_IP_SOURCE, T_STR, 0),
};
static const keyspec bstate_keys[] = {
    KS("State", K_BSTATE_STATE, T_STR, 0),
    KS("StatusMessage", K_IGNORED, T_STR, 0),
};
static const keyspec tag_keys[] = {
    KS("Key", K_TAG_KEY, T_STR, 0),
    KS("Value", K_TAG_VALUE, T_STR, 0),
};
static const keyspec status_keys[] = {
    KS("Code", K_CODE, T_STR, 0),
    KS("Message", K_IGNORED, T_STR, 0),
};
static const keyspec side_keys[] = {
    KS("VpcId", K_SIDE_VPC, T_STR, 0),
    KS("OwnerId", K_SIDE_OWNER, T_STR, 0),
    KS("Region", K_SIDE_REGION, T_STR, 0),
    KS("PeeringOptions", K_OPTIONS, T_OBJ, X_OPTIONS),
    /* Present only for active connections, and never read: CIDRs come from
     * the VPC inventory. */
    KS("CidrBlock", K_IGNORED, T_ANY, 0),
    KS("CidrBlockSet", K_IGNORED, T_ANY, 0),
    KS("Ipv6CidrBlockSet", K_IGNORED, T_ANY, 0),
};
static const keyspec option_keys[] = {
    KS("AllowDnsResolutionFromRemoteVpc", K_ALLOW_DNS, T_BOOL, 0),
    KS("AllowEgressFromLocalClassicLinkToRemoteVpc", K_IGNORED, T_BOOL, 0),
    KS("AllowEgressFromLocalVpcToRemoteClassicLink", K_IGNORED, T_BOOL, 0),
};

typedef struct ctxspec {
    const char *what;      /* for messages: the EC2 shape name */
    const keyspec *keys;   /* objects: their keys */
    uint8_t nkeys;
    uint8_t elem;          /* arrays: X_* of their (object) elements */
} ctxspec;

#define CTX_OBJ(w, k) {w, k, (uint8_t)(sizeof k / sizeof *k), 0}
#define CTX_ARR(w, e) {w, NULL, 0, e}

static const ctxspec ctxs[X_COUNT] = {
    [X_ROOT] = {"document", NULL, 0, 0},
    [X_TOP] = CTX_OBJ("the top-level object", top_keys),
    [X_VPC_LIST] = CTX_ARR("Vpcs", X_VPC),
    [X_PCX_LIST] = CTX_ARR("VpcPeeringConnections", X_PCX),
    [X_ANY_LIST] = CTX_ARR("the top-level array", X_ITEM),
    [X_VPC] = CTX_OBJ("Vpc", vpc_keys),
    [X_PCX] = CTX_OBJ("VpcPeeringConnection", pcx_keys),
    [X_ITEM] = CTX_OBJ("Vpc or VpcPeeringConnection", item_keys),
    [X_V4_SET] = CTX_ARR("CidrBlockAssociationSet", X_V4),
    [X_V4] = CTX_OBJ("VpcCidrBlockAssociation", v4_keys),
    [X_V6_SET] = CTX_ARR("Ipv6CidrBlockAssociationSet", X_V6),
    [X_V6] = CTX_OBJ("VpcIpv6CidrBlockAssociation", v6_keys),
    [X_BSTATE] = CTX_OBJ("VpcCidrBlockState", bstate_keys),
    [X_TAGS] = CTX_ARR("Tags", X_TAG),
    [X_TAG] = CTX_OBJ("Tag", tag_keys),
    [X_STATUS] = CTX_OBJ("Status", status_keys),
    [X_SIDE_REQ] = CTX_OBJ("RequesterVpcInfo", side_keys),
    [X_SIDE_ACC] = CTX_OBJ("AccepterVpcInfo", side_keys),
    [X_OPTIONS] = CTX_OBJ("PeeringOptions", option_keys),
};

/* ---- parser state --------------------------------------------------------- */

typedef struct pos {
    uint64_t off;   /* absolute byte offset in the file */
    uint64_t line;  /* 1-based */
    uint32_t col;   /* 1-based, in bytes; 0 = unknown */
} pos;

/* A string in the record arena; off == UINT32_MAX: absent. */
typedef struct astr {
    uint32_t off;
    uint32_t len;
} astr;
static const astr ASTR_NONE = {UINT32_MAX, 0};

typedef struct assoc {
    cs_prefix prefix;
    astr id, pool, raw;   /* raw: the text as read, kept when normalised */
    pos at;               /* its '{', then its CIDR value once read */
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
    pos at;
} tag;

typedef struct side {
    astr vpc, owner, region;
    uint8_t allow_dns;    /* enum cs_tri */
    bool present;
} side;

/* The record being read. */
typedef struct record {
    pos at;               /* its '{' */
    unsigned vpc_keys;    /* how many Vpc-only keys it had (bare arrays) */
    unsigned pcx_keys;
    /* Vpc */
    astr vpc_id, owner;
    bool is_default;
    uint8_t vpc_state;
    bool have_primary, primary_normalised;
    cs_prefix primary;
    astr primary_raw;
    pos primary_at;
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
    pos open;         /* where its '{' or '[' is */
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
    const char *region;   /* VPCs' region; NULL = unknown */
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

/* ---- small helpers ---------------------------------------------------------- */

static bool keep_going(const aj *p)
{
    return p->opts && p->opts->keep_going;
}

static bool is_digits(const char *s, size_t len, size_t want)
{
    if (len != want)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

bool cs_aws_region_valid(const char *s, size_t len)
{
    /* "us-east-1", "us-gov-west-1", "ap-southeast-7", "us-isob-east-1":
     * lower-case words joined by '-', the first two letters, the last one or
     * two digits, at least three parts. */
    if (!s || len < 6 || len > 32)
        return false;
    size_t parts = 1, word = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '-') {
            if (word == 0 || (parts == 1 && word != 2))
                return false;
            parts++;
            word = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return false;
        word++;
    }
    if (parts < 3 || word == 0 || word > 2)
        return false;
    for (size_t k = len - word; k < len; k++)
        if (s[k] < '0' || s[k] > '9')
            return false;
    return s[0] >= 'a' && s[0] <= 'z' && s[1] >= 'a' && s[1] <= 'z';
}

static uint32_t clamp_span(size_t n)
{
    return n > 64 ? 64 : (uint32_t)n;
}

static int shown(size_t len)
{
    return len > 64 ? 64 : (int)len;
}

/* ---- positions ---------------------------------------------------------------- */

/* Counts newlines up to absolute offset `to`, over bytes of the current
 * span only: every span is counted to its end once parsed (parse_span), so
 * what lies between lc_off and the span is inside a token (one held back
 * at the end of a read), which holds no newline. */
static void advance(aj *p, uint64_t to)
{
    uint64_t end = p->base + p->chunk_len;
    if (to > end)
        to = end;
    if (to <= p->lc_off)
        return;
    uint64_t from = p->lc_off > p->base ? p->lc_off : p->base;
    if (from >= to) {
        /* All of [lc_off, to) is before this span, inside a token. */
        p->lc_off = to;
        return;
    }
    const unsigned char *s = p->chunk + (from - p->base);
    const unsigned char *e = p->chunk + (to - p->base);
    while (s < e) {
        const unsigned char *nl = memchr(s, '\n', (size_t)(e - s));
        if (!nl)
            break;
        p->line++;
        p->line_start = p->base + (uint64_t)(nl - p->chunk) + 1;
        s = nl + 1;
    }
    p->lc_off = to;
}

/* The position of absolute offset `off`: a token start at or after every
 * position asked for before (parse order), or on the current line. */
static pos locate(aj *p, uint64_t off)
{
    advance(p, off);
    pos r;
    r.off = off;
    r.line = p->line;
    r.col = 0;
    if (off >= p->line_start) {
        uint64_t c = off - p->line_start + 1;
        r.col = c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
    }
    return r;
}

/* Byte at absolute offset `off` if still in memory (the span, the read
 * chunk, the last carried span, the end of the previous read), else -1. */
static int byte_at(const aj *p, uint64_t off)
{
    if (off >= p->base && off - p->base < p->chunk_len)
        return p->chunk[off - p->base];
    if (p->rd && off >= p->rd_base && off - p->rd_base < p->rd_len)
        return p->rd[off - p->rd_base];
    if (p->scr && off >= p->scr_base && off - p->scr_base < p->scr_len)
        return p->scr[off - p->scr_base];
    if (off < p->rd_base && p->rd_base - off <= p->tail_len)
        return p->tail[p->tail_len - (p->rd_base - off)];
    return -1;
}

/* Fills tmp's location from `at`, with a window of its line (the bytes
 * still in memory around it, at most CS_ERROR_TEXT_CAP - 1) for the caret,
 * underlining `span` bytes. */
static void set_loc(aj *p, const pos *at, uint32_t span)
{
    char win[CS_ERROR_TEXT_CAP];
    size_t n = 0;
    uint32_t wcol = 0;
    if (at->col) {
        /* The line of `at` starts col - 1 bytes before it (it may be an
         * earlier line than the current one: a record's opening brace). */
        uint64_t ls = at->off - (at->col - 1);
        uint64_t lo = at->off >= 47 ? at->off - 47 : 0;
        if (lo < ls)
            lo = ls;
        while (lo < at->off && byte_at(p, lo) < 0)
            lo++;
        for (uint64_t o = lo; n < sizeof win - 1; o++) {
            int c = byte_at(p, o);
            if (c < 0 || c == '\n' || c == '\r')
                break;
            win[n++] = (char)c;
        }
        if (at->off <= lo + n && (n || byte_at(p, at->off) < 0))
            wcol = (uint32_t)(at->off - lo + 1);
    }
    cs_error_locate(&p->tmp, p->source, at->line, wcol ? wcol : at->col,
                    at->off, span, wcol ? win : NULL, wcol ? n : 0);
    /* cs_error_locate took the column inside the window; the column in the
     * file is the real one. */
    p->tmp.column = at->col;
}

/* Start of the token yajl just delivered: `kind` V_STR (strings and keys),
 * V_NUM / V_BOOL / V_NULL with the length of its text, V_OBJ / V_ARR. */
static uint64_t token_start(aj *p, int kind, size_t len)
{
    uint64_t end = p->completing ? p->fed
                                 : p->base + yajl_get_bytes_consumed(p->y);
    if (kind == V_OBJ || kind == V_ARR)
        return end ? end - 1 : 0;
    if (kind != V_STR)
        return end >= len ? end - len : 0;
    /* end - 1 is the closing quote; walk back to the opening one: the first
     * quote not escaped by an odd run of backslashes. A span holds whole
     * tokens, so it is in the span. */
    size_t i = (size_t)(end - p->base);
    if (i < 1)
        return p->base;
    i--;
    while (i > 0) {
        i--;
        if (p->chunk[i] != '"')
            continue;
        size_t bs = 0;
        while (bs < i && p->chunk[i - 1 - bs] == '\\')
            bs++;
        if (bs % 2 == 0)
            return p->base + i;
    }
    return p->base;
}

/* ---- errors ------------------------------------------------------------------ */

/* Starts an error in p->tmp at `at` (NULL: no line, just the source). */
static void build_error(aj *p, const pos *at, uint32_t span, int code,
                        const char *fmt, ...) CS_PRINTF(5, 6);
static void build_error(aj *p, const pos *at, uint32_t span, int code,
                        const char *fmt, ...)
{
    cs_error_clear(&p->tmp);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->tmp.message, sizeof p->tmp.message, fmt, ap);
    va_end(ap);
    p->tmp.code = code;
    if (at)
        set_loc(p, at, span);
    else
        cs_error_source(&p->tmp, p->source);
}

/* Records p->tmp as the outcome: with keep_going (and a rejectable error)
 * as a rejection, else into the caller's err. Returns true when reading may
 * go on. */
static bool settle(aj *p, bool rejectable)
{
    int code = p->tmp.code < 0 ? p->tmp.code : CS_EPARSE;
    if (keep_going(p) && rejectable && code != CS_ENOMEM &&
        code != CS_ESTATE) {
        int rc = cs_estate_reject(p->e, &p->tmp);
        if (rc >= 0) {
            p->rejected++;
            return true;
        }
        cs_fail(&p->tmp, rc, "%s: recording a rejected record failed: %s",
                p->source, cs_strerror(rc));
        code = rc;
    }
    p->tmp.code = code;
    if (p->err)
        *p->err = p->tmp;
    p->status = code;
    return false;
}

/* An error in p->tmp about the file as a whole: this file stops (with
 * keep_going that is one rejection and the caller reads the next file). */
static int fail_file(aj *p)
{
    settle(p, true);
    p->stopped = true;
    return H_STOP;
}

/* An error that stops everything (out of memory, a dead builder). */
static int fail_fatal(aj *p)
{
    settle(p, false);
    p->stopped = true;
    return H_STOP;
}

static void rec_reset(aj *p)
{
    memset(&p->rec, 0, sizeof p->rec);
    p->rec.vpc_id = p->rec.owner = p->rec.primary_raw = p->rec.pcx_id =
        ASTR_NONE;
    for (int s = 0; s < 2; s++)
        p->rec.sides[s].vpc = p->rec.sides[s].owner =
            p->rec.sides[s].region = ASTR_NONE;
    p->res->arena_len = 0;
    p->res->n_assoc = 0;
    p->res->n_tag = 0;
    p->item_sp = -1;
}

/*
 * An error in p->tmp about a record (or a bad element of a record list).
 * `delta` corrects the count of open containers for the event being
 * handled: +1 when it opens one (not pushed yet), -1 when it closes the
 * innermost frame (still on the stack), 0 otherwise. With keep_going the
 * record is rejected, the stack drops back to its list, the rest of the
 * record is skipped, and H_REJECTED is returned; otherwise H_STOP.
 */
static int fail_record(aj *p, int delta)
{
    if (!settle(p, true)) {
        p->stopped = true;
        return H_STOP;
    }
    int64_t open = delta;
    if (p->item_sp >= 0) {
        open += p->sp - p->item_sp + 1;
        p->sp = p->item_sp - 1;
    }
    p->skip = open > 0 ? (uint64_t)open : 0;
    rec_reset(p);
    return H_REJECTED;
}

/* The error path for a failure at `at` inside a record. */
#define REC_FAIL(p, delta, at, span, ...)                                    \
    (build_error((p), (at), (span), CS_EPARSE, __VA_ARGS__),                \
     fail_record((p), (delta)))

static int oom(aj *p)
{
    build_error(p, NULL, 0, CS_ENOMEM, "%s: out of memory", p->source);
    return fail_fatal(p);
}

/* ---- the record arena ----------------------------------------------------------- */

static bool grow(void **v, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t c = *cap ? *cap * 2 : 16;
    while (c < need)
        c *= 2;
    void *n = realloc(*v, c * elem);
    if (!n)
        return false;
    *v = n;
    *cap = c;
    return true;
}

static bool arena_put(aj *p, const unsigned char *s, size_t len, astr *out)
{
    aj_res *r = p->res;
    if (!grow((void **)&r->arena, &r->arena_cap, r->arena_len + len + 1, 1))
        return false;
    if (len)
        memcpy(r->arena + r->arena_len, s, len);
    out->off = (uint32_t)r->arena_len;
    out->len = (uint32_t)len;
    r->arena_len += len;
    return true;
}

static cs_str view(const aj *p, astr a)
{
    cs_str v = {NULL, 0};
    if (a.off != UINT32_MAX) {
        v.ptr = p->res->arena + a.off;
        v.len = a.len;
    }
    return v;
}

/* ---- delivering records --------------------------------------------------------- */

static cs_srcloc srcloc(const aj *p, const pos *at)
{
    cs_srcloc l;
    l.source = p->source;
    l.line = at->line;
    l.column = at->col;
    return l;
}

/* A builder call failed with rc (details in p->tmp, located by the builder
 * from the srcloc): the record is rejected (keep_going) unless the builder
 * is out of memory or dead. Called on the record's closing brace. */
static int builder_fail(aj *p, int rc)
{
    if (p->tmp.code == 0)
        cs_fail(&p->tmp, rc, "%s", cs_strerror(rc));
    if (!p->tmp.source[0])
        cs_error_source(&p->tmp, p->source);
    if (rc == CS_ENOMEM || rc == CS_ESTATE)
        return fail_fatal(p);
    return fail_record(p, -1);
}

static int host_bits_finding(aj *p, const pos *at, astr raw,
                             const cs_prefix *pfx, const char *key)
{
    char canon[CS_PREFIX_STRCAP], msg[256];
    cs_prefix_format(pfx, canon, sizeof canon);
    cs_str r = view(p, raw);
    snprintf(msg, sizeof msg, "%s \"%.*s\" has host bits set; read as %s",
             key, (int)r.len, r.ptr ? r.ptr : "", canon);
    cs_srcloc l = srcloc(p, at);
    int rc = cs_estate_add_finding(p->e, CS_FINDING_HOST_BITS, &l, msg);
    if (rc < 0) {
        cs_error_clear(&p->tmp);
        return builder_fail(p, rc);
    }
    return H_OK;
}

static int add_cidr(aj *p, const cs_cidr_desc *c, const pos *at)
{
    cs_srcloc l = srcloc(p, at);
    cs_error_clear(&p->tmp);
    int rc = cs_estate_add_cidr(p->e, c, &l, &p->tmp);
    return rc < 0 ? builder_fail(p, rc) : H_OK;
}

/* A Vpc record is complete: check it and hand it to the builder. */
static int deliver_vpc(aj *p)
{
    record *r = &p->rec;
    aj_res *res = p->res;
    if (r->vpc_id.off == UINT32_MAX)
        return REC_FAIL(p, -1, &r->at, 1,
                        "missing required key \"VpcId\" in Vpc");
    cs_str id = view(p, r->vpc_id);
    cs_str owner = view(p, r->owner);
    if (r->owner.off == UINT32_MAX) {
        if (!p->account)
            return REC_FAIL(p, -1, &r->at, 1,
                            "missing key \"OwnerId\" in Vpc %.*s: the account "
                            "comes from OwnerId (or pass --account, or lay "
                            "the files out as ESTATE/ACCOUNT/REGION/vpcs.json)",
                            shown(id.len), id.ptr);
        owner = cs_str_c(p->account);
    }
    if (!p->region) {
        build_error(p, &r->at, 1, CS_EINVAL,
                    "describe-vpcs output carries no region: pass --region "
                    "REGION (or lay the files out as "
                    "ESTATE/ACCOUNT/REGION/vpcs.json)");
        return fail_file(p);
    }

    /* The primary block: the top-level CidrBlock is repeated inside
     * CidrBlockAssociationSet (10.0.0.0/16 twice, the second time with its
     * association id and state): one association. A live repeat wins over
     * a dead one. */
    bool primary_found = false, primary_said = false;
    bool any_v4 = r->have_primary;
    if (r->have_primary) {
        size_t pick = SIZE_MAX;
        for (size_t i = 0; i < res->n_assoc; i++) {
            const assoc *a = &res->assocs[i];
            if (a->family != CS_AF_V4 ||
                cs_prefix_compare(&a->prefix, &r->primary) != 0)
                continue;
            if (pick == SIZE_MAX ||
                (cs_assoc_state_live(a->state) &&
                 !cs_assoc_state_live(res->assocs[pick].state)))
                pick = i;
        }
        if (pick != SIZE_MAX) {
            res->assocs[pick].primary = true;
            primary_found = true;
            /* Its host bits are reported once, at the association. */
            primary_said = res->assocs[pick].normalised;
        }
    }
    for (size_t i = 0; i < res->n_assoc && !any_v4; i++)
        any_v4 = res->assocs[i].family == CS_AF_V4;
    if (!any_v4)
        return REC_FAIL(p, -1, &r->at, 1,
                        "missing key \"CidrBlock\" in Vpc %.*s: it has no "
                        "IPv4 block (CidrBlockAssociationSet is empty or "
                        "absent too)", shown(id.len), id.ptr);

    if (!grow((void **)&res->desc_tags, &res->cap_desc_tags, res->n_tag,
              sizeof *res->desc_tags))
        return oom(p);
    for (size_t i = 0; i < res->n_tag; i++) {
        res->desc_tags[i].key = view(p, res->tags[i].key);
        res->desc_tags[i].value = view(p, res->tags[i].value);
    }

    cs_vpc_desc d;
    memset(&d, 0, sizeof d);
    d.id = id;
    d.owner = owner;
    d.region = cs_str_c(p->region);
    d.tags = res->n_tag ? res->desc_tags : NULL;
    d.tag_count = res->n_tag;
    d.state = r->vpc_state;
    d.is_default = r->is_default;
    cs_srcloc loc = srcloc(p, &r->at);
    cs_error_clear(&p->tmp);
    int rc = cs_estate_add_vpc(p->e, &d, &loc, &p->tmp);
    if (rc < 0)
        return builder_fail(p, rc);

    if (r->have_primary && !primary_found) {
        /* Output of an older CLI, or a trimmed one: the primary block is
         * only the top-level CidrBlock. */
        cs_cidr_desc c;
        memset(&c, 0, sizeof c);
        c.vpc_id = id;
        c.prefix = r->primary;
        c.state = CS_ASSOC_UNSPECIFIED;
        c.primary = true;
        if ((rc = add_cidr(p, &c, &r->primary_at)) != H_OK)
            return rc;
    }
    if (r->primary_normalised && !primary_said &&
        (rc = host_bits_finding(p, &r->primary_at, r->primary_raw,
                                &r->primary, "CidrBlock")) != H_OK)
        return rc;
    for (size_t i = 0; i < res->n_assoc; i++) {
        const assoc *a = &res->assocs[i];
        cs_cidr_desc c;
        memset(&c, 0, sizeof c);
        c.vpc_id = id;
        c.prefix = a->prefix;
        c.association_id = view(p, a->id);
        c.state = a->state;
        c.primary = a->primary;
        c.ip_source = a->ip_source;
        c.ipv6_attr = a->ipv6_attr;
        c.pool = view(p, a->pool);
        if ((rc = add_cidr(p, &c, &a->at)) != H_OK)
            return rc;
        if (a->normalised &&
            (rc = host_bits_finding(p, &a->at, a->raw, &a->prefix,
                                    a->family == CS_AF_V4 ? "CidrBlock"
                                                          : "Ipv6CidrBlock"))
                != H_OK)
            return rc;
    }
    return H_OK;
}

/* A VpcPeeringConnection record is complete. */
static int deliver_pcx(aj *p)
{
    record *r = &p->rec;
    if (r->pcx_id.off == UINT32_MAX)
        return REC_FAIL(p, -1, &r->at, 1,
                        "missing required key \"VpcPeeringConnectionId\" in "
                        "VpcPeeringConnection");
    cs_str id = view(p, r->pcx_id);
    static const char *const side_key[2] = {"RequesterVpcInfo",
                                            "AccepterVpcInfo"};
    for (int s = 0; s < 2; s++)
        if (!r->sides[s].present)
            return REC_FAIL(p, -1, &r->at, 1,
                            "missing required key \"%s\" in "
                            "VpcPeeringConnection %.*s", side_key[s],
                            shown(id.len), id.ptr);
    if (!r->have_status)
        return REC_FAIL(p, -1, &r->at, 1,
                        "missing required key \"Status\" in "
                        "VpcPeeringConnection %.*s", shown(id.len), id.ptr);
    cs_peering_desc d;
    memset(&d, 0, sizeof d);
    d.id = id;
    d.status = r->status;
    cs_peering_side *ds[2] = {&d.requester, &d.accepter};
    for (int s = 0; s < 2; s++) {
        ds[s]->vpc_id = view(p, r->sides[s].vpc);
        ds[s]->owner = view(p, r->sides[s].owner);
        ds[s]->region = view(p, r->sides[s].region);
        ds[s]->allow_dns = r->sides[s].allow_dns;
    }
    cs_srcloc loc = srcloc(p, &r->at);
    cs_error_clear(&p->tmp);
    int rc = cs_estate_add_peering(p->e, &d, &loc, &p->tmp);
    return rc < 0 ? builder_fail(p, rc) : H_OK;
}

/* ---- values ------------------------------------------------------------------- */

static const char *type_name(int t)
{
    switch (t) {
    case V_STR: return "a string";
    case V_BOOL: return "a boolean (true or false)";
    case V_OBJ: return "an object";
    case V_ARR: return "an array";
    case V_NUM: return "a number";
    default: return "null";
    }
}

static bool type_ok(int want, int got)
{
    return want == T_ANY || want == got;
}

/* A string we keep: no control bytes (a decoded \u0000 would reach the
 * builder as a NUL), at most CS_ESTATE_STR_MAX bytes. */
static int keep_str(aj *p, const keyspec *ks, const pos *at,
                    const unsigned char *s, size_t len, astr *out)
{
    if (len > CS_ESTATE_STR_MAX)
        return REC_FAIL(p, 0, at, 1,
                        "\"%s\" is %zu bytes long; at most %u are accepted",
                        ks->name, len, CS_ESTATE_STR_MAX);
    for (size_t i = 0; i < len; i++)
        if (s[i] < 0x20 || s[i] == 0x7f)
            return REC_FAIL(p, 0, at, clamp_span(len + 2),
                            "\"%s\" holds control character U+%04X (escaped "
                            "as \\u%04x); not accepted in ids, names and tags",
                            ks->name, s[i], s[i]);
    if (!arena_put(p, s, len, out))
        return oom(p);
    return H_OK;
}

/* Parses a CIDR value of family `fam` ("CidrBlock": "10.0.0.0/16"). */
static int read_prefix(aj *p, const keyspec *ks, const pos *at,
                       const unsigned char *s, size_t len, uint8_t fam,
                       cs_prefix *out, bool *normalised, astr *raw)
{
    cs_error pe;
    cs_error_clear(&pe);
    unsigned flags = fam == CS_AF_V4 ? CS_PARSE_V4_ONLY : CS_PARSE_V6_ONLY;
    if (p->opts && p->opts->lenient)
        flags |= CS_PARSE_LENIENT;
    int rc = cs_prefix_parse((const char *)s, len, flags, out, &pe);
    if (rc < 0) {
        /* The prefix parser counts columns inside the value: shift them
         * past the opening quote (CIDRs never hold escapes). */
        pos a = *at;
        if (pe.column && a.col) {
            uint64_t c = (uint64_t)a.col + pe.column;
            a.col = c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
            a.off = at->off + pe.column;
        }
        return REC_FAIL(p, 0, &a, pe.span ? pe.span : 1, "\"%s\": %s",
                        ks->name, pe.message);
    }
    *normalised = rc == CS_PARSE_NORMALISED;
    if (*normalised && !arena_put(p, s, len > 64 ? 64 : len, raw))
        return oom(p);
    return H_OK;
}

static int bad_enum(aj *p, const keyspec *ks, const pos *at,
                    const unsigned char *s, size_t len, const char *expected)
{
    return REC_FAIL(p, 0, at, clamp_span(len + 2),
                    "unknown \"%s\" value \"%.*s\" (expected %s)", ks->name,
                    shown(len), (const char *)s, expected);
}

/* "vpc-0a1b2c3d4e5f60718", "pcx-...": the prefix, then letters and digits. */
static int id_check(aj *p, const keyspec *ks, const pos *at,
                    const unsigned char *s, size_t len, const char *prefix)
{
    size_t pl = strlen(prefix);
    bool ok = len > pl && len <= 64 && memcmp(s, prefix, pl) == 0;
    for (size_t i = pl; ok && i < len; i++)
        ok = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
             (s[i] >= 'A' && s[i] <= 'Z');
    if (!ok)
        return REC_FAIL(p, 0, at, clamp_span(len + 2),
                        "\"%s\" value \"%.*s\" is not an id of the form "
                        "%s<letters and digits>", ks->name, shown(len),
                        (const char *)s, prefix);
    return H_OK;
}

static int account_check(aj *p, const keyspec *ks, const pos *at,
                         const unsigned char *s, size_t len)
{
    if (!is_digits((const char *)s, len, 12))
        return REC_FAIL(p, 0, at, clamp_span(len + 2),
                        "\"%s\" value \"%.*s\" is not a 12-digit AWS account "
                        "id", ks->name, shown(len), (const char *)s);
    return H_OK;
}

static assoc *cur_assoc(aj *p)
{
    return &p->res->assocs[p->res->n_assoc - 1];
}

/* A string value for key `ks` of the innermost object. */
static int string_value(aj *p, const keyspec *ks, const pos *at,
                        const unsigned char *s, size_t len)
{
    record *r = &p->rec;
    aj_res *res = p->res;
    frame *f = &p->st[p->sp];
    int rc, v;
    switch (ks->key) {
    case K_VPC_ID:
        if ((rc = id_check(p, ks, at, s, len, "vpc-")) != H_OK)
            return rc;
        return keep_str(p, ks, at, s, len, &r->vpc_id);
    case K_OWNER:
        if ((rc = account_check(p, ks, at, s, len)) != H_OK)
            return rc;
        return keep_str(p, ks, at, s, len, &r->owner);
    case K_STATE:
        if ((v = cs_vpc_state_parse((const char *)s, len)) < 0)
            return bad_enum(p, ks, at, s, len, "pending or available");
        r->vpc_state = (uint8_t)v;
        return H_OK;
    case K_CIDR:
        if (f->ctx == X_V4) {
            assoc *a = cur_assoc(p);
            rc = read_prefix(p, ks, at, s, len, CS_AF_V4, &a->prefix,
                             &a->normalised, &a->raw);
            a->have_prefix = rc == H_OK;
            if (a->have_prefix)
                a->at = *at;
            return rc;
        }
        rc = read_prefix(p, ks, at, s, len, CS_AF_V4, &r->primary,
                         &r->primary_normalised, &r->primary_raw);
        r->have_primary = rc == H_OK;
        r->primary_at = *at;
        return rc;
    case K_V6_CIDR: {
        assoc *a = cur_assoc(p);
        rc = read_prefix(p, ks, at, s, len, CS_AF_V6, &a->prefix,
                         &a->normalised, &a->raw);
        a->have_prefix = rc == H_OK;
        if (a->have_prefix)
            a->at = *at;
        return rc;
    }
    case K_ASSOC_ID:
        return keep_str(p, ks, at, s, len, &cur_assoc(p)->id);
    case K_POOL:
        return keep_str(p, ks, at, s, len, &cur_assoc(p)->pool);
    case K_V6_ATTR:
        v = cs_ipv6_attr_parse((const char *)s, len);
        cur_assoc(p)->ipv6_attr = (uint8_t)(v < 0 ? CS_IPV6ATTR_UNSPECIFIED : v);
        return H_OK;
    case K_IP_SOURCE:
        v = cs_ip_source_parse((const char *)s, len);
        cur_assoc(p)->ip_source = (uint8_t)(v < 0 ? CS_IPSRC_UNSPECIFIED : v);
        return H_OK;
    case K_BSTATE_STATE:
        v = cs_assoc_state_parse((const char *)s, len);
        if (v < 0 || v == CS_ASSOC_UNSPECIFIED)
            return bad_enum(p, ks, at, s, len,
                            "associating, associated, disassociating, "
                            "disassociated, failing or failed");
        cur_assoc(p)->state = (uint8_t)v;
        return H_OK;
    case K_TAG_KEY:
        return keep_str(p, ks, at, s, len, &res->tags[res->n_tag - 1].key);
    case K_TAG_VALUE:
        return keep_str(p, ks, at, s, len, &res->tags[res->n_tag - 1].value);
    case K_PCX_ID:
        if ((rc = id_check(p, ks, at, s, len, "pcx-")) != H_OK)
            return rc;
        return keep_str(p, ks, at, s, len, &r->pcx_id);
    case K_CODE:
        if ((v = cs_pcx_status_parse((const char *)s, len)) < 0)
            return bad_enum(p, ks, at, s, len,
                            "initiating-request, pending-acceptance, "
                            "provisioning, active, deleting, deleted, "
                            "rejected, failed or expired");
        r->status = (uint8_t)v;
        r->have_status = true;
        return H_OK;
    case K_SIDE_VPC:
        if ((rc = id_check(p, ks, at, s, len, "vpc-")) != H_OK)
            return rc;
        return keep_str(p, ks, at, s, len, &r->sides[f->ctx == X_SIDE_ACC].vpc);
    case K_SIDE_OWNER:
        if ((rc = account_check(p, ks, at, s, len)) != H_OK)
            return rc;
        return keep_str(p, ks, at, s, len,
                        &r->sides[f->ctx == X_SIDE_ACC].owner);
    case K_SIDE_REGION:
        if (!cs_aws_region_valid((const char *)s, len))
            return REC_FAIL(p, 0, at, clamp_span(len + 2),
                            "\"Region\" value \"%.*s\" is not an AWS region "
                            "name (such as us-east-1)", shown(len),
                            (const char *)s);
        return keep_str(p, ks, at, s, len,
                        &r->sides[f->ctx == X_SIDE_ACC].region);
    default:
        return H_OK;
    }
}

static int bool_value(aj *p, const keyspec *ks, int v)
{
    if (ks->key == K_IS_DEFAULT) {
        p->rec.is_default = v != 0;
    } else if (ks->key == K_ALLOW_DNS) {
        /* PeeringOptions is open in a side's frame, one below. */
        int side_ctx = p->st[p->sp - 1].ctx;
        p->rec.sides[side_ctx == X_SIDE_ACC].allow_dns =
            (uint8_t)(v ? CS_TRI_TRUE : CS_TRI_FALSE);
    }
    return H_OK;
}

/*
 * A value event in the innermost frame: finds its slot (the pending key of
 * an object, or an element of an array) and checks its type. *out is the
 * key to act on, NULL to ignore the value (containers: skip them). Returns
 * H_OK, H_STOP, or H_REJECTED (the value failed; its record was rejected
 * and the skip counter covers a container it opens).
 */
static int slot(aj *p, int vkind, size_t len, const keyspec **out)
{
    *out = NULL;
    frame *f = &p->st[p->sp];
    const ctxspec *cs = &ctxs[f->ctx];
    int delta = (vkind == V_OBJ || vkind == V_ARR) ? 1 : 0;
    if (f->ctx == X_ROOT) {
        if (delta)
            return H_OK;
        pos at = locate(p, token_start(p, vkind, len));
        build_error(p, &at, 1, CS_EPARSE,
                    "expected describe-vpcs or describe-vpc-peering-"
                    "connections output (an object or an array), found %s",
                    type_name(vkind));
        return fail_file(p);
    }
    if (!cs->keys) {
        /* Arrays (of records, associations, tags) hold objects; a null is
         * nothing. */
        if (vkind == V_OBJ || vkind == V_NULL)
            return H_OK;
        pos at = locate(p, token_start(p, vkind, len));
        build_error(p, &at, vkind == V_STR ? clamp_span(len + 2) : 1,
                    CS_EPARSE,
                    "wrong type: elements of %s must be objects (%s), not %s",
                    cs->what, ctxs[cs->elem].what, type_name(vkind));
        return fail_record(p, delta);
    }
    if (f->key < 0)
        return H_OK; /* a key we do not know: ignored, whatever it holds */
    const keyspec *ks = &cs->keys[f->key];
    if (vkind == V_NULL || ks->type == T_ANY)
        return H_OK;
    if (!type_ok(ks->type, vkind)) {
        pos at = locate(p, token_start(p, vkind, len));
        build_error(p, &at, vkind == V_STR ? clamp_span(len + 2) : 1,
                    CS_EPARSE, "wrong type: \"%s\" in %s must be %s, not %s",
                    ks->name, cs->what, type_name(ks->type), type_name(vkind));
        if (f->ctx == X_TOP)
            return fail_file(p);
        return fail_record(p, delta);
    }
    *out = ks;
    return H_OK;
}

/* ---- yajl callbacks ------------------------------------------------------------- */

static int scalar(aj *p, int vkind, const unsigned char *s, size_t len)
{
    p->saw_value = true;
    if (p->skip)
        return H_OK;
    const keyspec *ks;
    int rc = slot(p, vkind, len, &ks);
    if (rc != H_OK || !ks)
        return rc;
    if (vkind == V_BOOL)
        return bool_value(p, ks, len == 4);
    if (ks->key == K_IGNORED)
        return H_OK;
    pos at = locate(p, token_start(p, V_STR, len));
    return string_value(p, ks, &at, s, len);
}

static int cb_null(void *ctx)
{
    return scalar(ctx, V_NULL, NULL, 4);
}

static int cb_boolean(void *ctx, int v)
{
    /* The length of the literal finds its start ("true" or "false"). */
    return scalar(ctx, V_BOOL, NULL, v ? 4 : 5);
}

static int cb_number(void *ctx, const char *s, size_t len)
{
    return scalar(ctx, V_NUM, (const unsigned char *)s, len);
}

static int cb_string(void *ctx, const unsigned char *s, size_t len)
{
    return scalar(ctx, V_STR, s, len);
}

static int too_deep(aj *p)
{
    pos at = locate(p, token_start(p, V_OBJ, 0));
    build_error(p, &at, 1, CS_EPARSE, "nesting deeper than %d levels",
                CS_AWS_JSON_DEPTH_MAX);
    return fail_file(p);
}

/* Sets up a record, association or tag frame just pushed. */
static int enter(aj *p, int child, const pos *at)
{
    aj_res *res = p->res;
    switch (child) {
    case X_VPC:
    case X_PCX:
    case X_ITEM:
        rec_reset(p);
        p->item_sp = p->sp;
        p->rec.at = *at;
        if (child == X_VPC && !p->region) {
            build_error(p, at, 1, CS_EINVAL,
                        "describe-vpcs output carries no region: pass "
                        "--region REGION (or lay the files out as "
                        "ESTATE/ACCOUNT/REGION/vpcs.json)");
            return fail_file(p);
        }
        return H_OK;
    case X_V4:
    case X_V6: {
        if (res->n_assoc >= CS_AWS_ASSOC_MAX)
            return REC_FAIL(p, 0, at, 1,
                            "more than %d CIDR block associations in one Vpc",
                            CS_AWS_ASSOC_MAX);
        if (!grow((void **)&res->assocs, &res->cap_assoc, res->n_assoc + 1,
                  sizeof *res->assocs))
            return oom(p);
        assoc *a = &res->assocs[res->n_assoc++];
        memset(a, 0, sizeof *a);
        a->id = a->pool = a->raw = ASTR_NONE;
        a->at = *at;
        a->family = child == X_V4 ? CS_AF_V4 : CS_AF_V6;
        /* No CidrBlockState printed: unspecified, which the builder merges
         * with any other sighting and freezes as associated. */
        a->state = CS_ASSOC_UNSPECIFIED;
        return H_OK;
    }
    case X_TAG: {
        if (res->n_tag >= CS_AWS_TAG_MAX)
            return REC_FAIL(p, 0, at, 1, "more than %d tags in one %s",
                            CS_AWS_TAG_MAX, ctxs[p->st[p->item_sp].ctx].what);
        if (!grow((void **)&res->tags, &res->cap_tag, res->n_tag + 1,
                  sizeof *res->tags))
            return oom(p);
        tag *t = &res->tags[res->n_tag++];
        t->key = t->value = ASTR_NONE;
        t->at = *at;
        return H_OK;
    }
    case X_SIDE_REQ:
    case X_SIDE_ACC:
        p->rec.sides[child == X_SIDE_ACC].present = true;
        return H_OK;
    default:
        return H_OK;
    }
}

/* Opens an object or array (vkind V_OBJ / V_ARR). */
static int open_container(aj *p, int vkind)
{
    p->saw_value = true;
    if (p->skip) {
        if (p->skip + (uint64_t)p->sp >= CS_AWS_JSON_DEPTH_MAX)
            return too_deep(p);
        p->skip++;
        return H_OK;
    }
    const keyspec *ks;
    int rc = slot(p, vkind, 1, &ks);
    if (rc != H_OK)
        return rc;
    frame *f = &p->st[p->sp];
    int child = -1;
    if (f->ctx == X_ROOT)
        child = vkind == V_OBJ ? X_TOP : X_ANY_LIST;
    else if (!ctxs[f->ctx].keys)
        child = ctxs[f->ctx].elem;
    else if (ks)
        child = ks->child;
    if (child <= 0) {
        p->skip = 1; /* an unknown key's (or an unread key's) subtree */
        return H_OK;
    }
    if (p->sp + 1 >= AJ_FRAMES)
        return too_deep(p);
    pos at = locate(p, token_start(p, vkind, 0));
    frame *n = &p->st[++p->sp];
    n->ctx = (uint8_t)child;
    n->key = -1;
    n->seen = 0;
    n->open = at;
    return enter(p, child, &at);
}

static int cb_start_map(void *ctx)
{
    return open_container(ctx, V_OBJ);
}

static int cb_start_array(void *ctx)
{
    return open_container(ctx, V_ARR);
}

static int cb_map_key(void *ctx, const unsigned char *s, size_t len)
{
    aj *p = ctx;
    if (p->skip)
        return H_OK;
    frame *f = &p->st[p->sp];
    const ctxspec *cs = &ctxs[f->ctx];
    f->key = -1;
    for (uint8_t i = 0; i < cs->nkeys; i++) {
        const keyspec *ks = &cs->keys[i];
        if (ks->len != len || memcmp(ks->name, s, len) != 0)
            continue;
        if (f->seen & (1ull << i)) {
            pos at = locate(p, token_start(p, V_STR, len));
            build_error(p, &at, clamp_span(len + 2), CS_EPARSE,
                        "duplicate key \"%s\" in %s", ks->name, cs->what);
            return f->ctx == X_TOP ? fail_file(p) : fail_record(p, 0);
        }
        f->seen |= 1ull << i;
        f->key = (int8_t)i;
        if (f->ctx == X_ITEM) {
            /* A bare-array element learns its kind from its keys. */
            if (ks->rk == R_VPC)
                p->rec.vpc_keys++;
            else if (ks->rk == R_PCX)
                p->rec.pcx_keys++;
        }
        break;
    }
    return H_OK;
}

/* Checks the innermost object as it closes: H_OK (pop it), H_STOP, or
 * H_REJECTED (the stack was unwound already). */
static int close_object(aj *p)
{
    frame *f = &p->st[p->sp];
    aj_res *res = p->res;
    switch (f->ctx) {
    case X_TOP:
        if (!(f->seen & 3u)) {
            build_error(p, &f->open, 1, CS_EPARSE,
                        "neither describe-vpcs nor describe-vpc-peering-"
                        "connections output: no \"Vpcs\" or "
                        "\"VpcPeeringConnections\" key");
            return fail_file(p);
        }
        return H_OK;
    case X_V4:
    case X_V6:
        if (!cur_assoc(p)->have_prefix)
            return REC_FAIL(p, -1, &cur_assoc(p)->at, 1,
                            "missing required key \"%s\" in %s",
                            f->ctx == X_V4 ? "CidrBlock" : "Ipv6CidrBlock",
                            ctxs[f->ctx].what);
        return H_OK;
    case X_TAG:
        if (res->tags[res->n_tag - 1].key.off == UINT32_MAX)
            return REC_FAIL(p, -1, &res->tags[res->n_tag - 1].at, 1,
                            "missing required key \"Key\" in Tag");
        return H_OK;
    case X_STATUS:
        if (!p->rec.have_status)
            return REC_FAIL(p, -1, &f->open, 1,
                            "missing required key \"Code\" in Status");
        return H_OK;
    case X_SIDE_REQ:
    case X_SIDE_ACC:
        if (p->rec.sides[f->ctx == X_SIDE_ACC].vpc.off == UINT32_MAX)
            return REC_FAIL(p, -1, &f->open, 1,
                            "missing required key \"VpcId\" in %s",
                            ctxs[f->ctx].what);
        return H_OK;
    case X_VPC:
    case X_PCX:
    case X_ITEM: {
        int kind = f->ctx;
        if (kind == X_ITEM) {
            if (p->rec.vpc_keys && p->rec.pcx_keys)
                return REC_FAIL(p, -1, &p->rec.at, 1,
                                "an element of the top-level array mixes Vpc "
                                "and VpcPeeringConnection keys");
            if (!p->rec.vpc_keys && !p->rec.pcx_keys)
                return REC_FAIL(p, -1, &p->rec.at, 1,
                                "an element of the top-level array is "
                                "neither a Vpc nor a VpcPeeringConnection "
                                "(no VpcId or VpcPeeringConnectionId)");
            kind = p->rec.pcx_keys ? X_PCX : X_VPC;
        }
        int rc = kind == X_VPC ? deliver_vpc(p) : deliver_pcx(p);
        if (rc == H_OK)
            rec_reset(p);
        return rc;
    }
    default:
        return H_OK;
    }
}

static int cb_end_map(void *ctx)
{
    aj *p = ctx;
    if (p->skip) {
        p->skip--;
        return H_OK;
    }
    int rc = close_object(p);
    if (rc == H_OK)
        p->sp--;
    return rc;
}

static int cb_end_array(void *ctx)
{
    aj *p = ctx;
    if (p->skip)
        p->skip--;
    else
        p->sp--;
    return H_OK;
}

static const yajl_callbacks callbacks = {
    cb_null, cb_boolean, NULL, NULL, cb_number, cb_string,
    cb_start_map, cb_map_key, cb_end_map, cb_start_array, cb_end_array,
};

/* ---- prescan ---------------------------------------------------------------- */

/* Byte tables: 1 where a byte needs no attention. Inside a string: printable
 * ASCII but the quote and the backslash. Between tokens: white space and
 * structural characters. In a bare token (number, true, false, null, or
 * garbage yajl will refuse): printable ASCII that ends no token. */
#define R16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
static const uint8_t str_plain[256] = {
    /* 0x00 */ R16(0), R16(0),
    /* 0x20 */ 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x30 */ R16(1), R16(1),
    /* 0x50 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    /* 0x60 */ R16(1), R16(1),
    /* 0x80 */ R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0),
};
static const uint8_t gap_plain[256] = {
    /* 0x00 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 0,
    /* 0x10 */ R16(0),
    /* 0x20 */ 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    /* 0x30 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0,
    /* 0x40 */ R16(0),
    /* 0x50 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0,
    /* 0x60 */ R16(0),
    /* 0x70 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0,
    /* 0x80 */ R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0),
};
static const uint8_t bare_plain[256] = {
    /* 0x00 */ R16(0), R16(0),
    /* 0x20 */ 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    /* 0x30 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1,
    /* 0x40 */ R16(1),
    /* 0x50 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 1,
    /* 0x60 */ R16(1),
    /* 0x70 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 1,
    /* 0x80 */ R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0),
};
#undef R16

/* Notes the prescan's complaint: at absolute offset `off`. */
static void bad(aj *p, uint64_t off, const char *fmt, ...) CS_PRINTF(3, 4);
static void bad(aj *p, uint64_t off, const char *fmt, ...)
{
    p->flagged = true;
    p->bad_off = off;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->bad_msg, sizeof p->bad_msg, fmt, ap);
    va_end(ap);
}

/* A control byte where none may be. */
static void bad_ctrl(aj *p, uint64_t off, unsigned char b, bool in_str)
{
    if (b == 0)
        bad(p, off, "NUL byte in JSON text");
    else if (in_str)
        bad(p, off, "raw control character 0x%02x inside a string (JSON "
                    "needs it escaped; an unterminated string?)", b);
    else
        bad(p, off, "control character 0x%02x in JSON text", b);
}

/*
 * Scans chunk c[0..n) from the carried state, up to the first byte that may
 * not be there: then p->flagged is set (by bad()) and p->bad_off is where
 * the complaint points (the byte, or the lead byte of a broken UTF-8
 * sequence, or the start of an overlong token), and the state is the one at
 * that byte (in_str / in_bare: the token holding it, from tok_start). Notes
 * in p->close_idx where a token open at c[0] ends. The state lives in
 * locals while scanning (the byte pointer could alias *p otherwise).
 */
static void prescan(aj *p, const unsigned char *c, size_t n)
{
    const uint64_t base = p->rd_base;
    bool in_str = p->in_str, esc = p->esc, in_bare = p->in_bare;
    uint64_t tok = p->tok_start;
    unsigned need = p->u8_need, lo = p->u8_lo, hi = p->u8_hi;
    uint64_t u8s = p->u8_start;
    size_t i = 0, close = SIZE_MAX;
    const bool open0 = in_str || in_bare;

    while (i < n) {
        unsigned char b;
        if (need) {
            /* Inside a UTF-8 sequence (RFC 3629): continuation bytes, the
             * first of them in [lo, hi]. */
            b = c[i];
            if (b < lo || b > hi) {
                bad(p, u8s, "invalid UTF-8: the sequence starting here is "
                            "broken by byte 0x%02x", b);
                goto out;
            }
            need--;
            lo = 0x80;
            hi = 0xbf;
            i++;
            continue;
        }
        if (in_str) {
            if (esc) {
                esc = false;
                b = c[i];
                if (b < 0x20) {
                    bad_ctrl(p, base + i, b, true);
                    goto out;
                }
                if (b < 0x80) {
                    i++;
                    continue;
                }
                goto utf8; /* an invalid escape yajl will name */
            }
            while (i < n && str_plain[c[i]])
                i++;
            if (base + i - tok > CS_AWS_JSON_TOKEN_MAX) {
                bad(p, tok, "a string longer than %u bytes starts here",
                    CS_AWS_JSON_TOKEN_MAX);
                goto out;
            }
            if (i == n)
                break;
            b = c[i];
            if (b == '"') {
                in_str = false;
                i++;
                if (open0 && close == SIZE_MAX)
                    close = i;
                continue;
            }
            if (b == '\\') {
                esc = true;
                i++;
                continue;
            }
            if (b < 0x20) {
                bad_ctrl(p, base + i, b, true);
                goto out;
            }
            goto utf8;
        }
        if (in_bare) {
            while (i < n && bare_plain[c[i]])
                i++;
            if (base + i - tok > CS_AWS_JSON_TOKEN_MAX) {
                bad(p, tok, "a token longer than %u bytes starts here",
                    CS_AWS_JSON_TOKEN_MAX);
                goto out;
            }
            if (i == n)
                break;
            in_bare = false;
            p->bare_s = tok;
            p->bare_e = base + i;
            if (open0 && close == SIZE_MAX)
                close = i;
        }
        while (i < n && gap_plain[c[i]])
            i++;
        if (i == n)
            break;
        b = c[i];
        if (b == '"') {
            in_str = true;
            tok = base + i;
            i++;
            continue;
        }
        if (b < 0x20) {
            bad_ctrl(p, base + i, b, false);
            goto out;
        }
        if (b >= 0x80) {
            bad(p, base + i, "byte 0x%02x outside a string (JSON text is "
                             "ASCII between its strings)", b);
            goto out;
        }
        in_bare = true;
        tok = base + i;
        continue;
    utf8:
        b = c[i];
        u8s = base + i;
        lo = 0x80;
        hi = 0xbf;
        if (b >= 0xc2 && b <= 0xdf) {
            need = 1;
        } else if (b >= 0xe0 && b <= 0xef) {
            need = 2;
            if (b == 0xe0)
                lo = 0xa0; /* no overlong 3-byte forms */
            else if (b == 0xed)
                hi = 0x9f; /* no UTF-16 surrogates */
        } else if (b >= 0xf0 && b <= 0xf4) {
            need = 3;
            if (b == 0xf0)
                lo = 0x90; /* no overlong 4-byte forms */
            else if (b == 0xf4)
                hi = 0x8f; /* nothing past U+10FFFF */
        } else {
            bad(p, u8s, "invalid UTF-8: byte 0x%02x cannot start a "
                        "character", b);
            goto out;
        }
        i++;
    }
out:
    p->close_idx = close;
    p->in_str = in_str;
    p->esc = esc;
    p->in_bare = in_bare;
    p->tok_start = tok;
    p->u8_need = (uint8_t)need;
    p->u8_lo = (uint8_t)lo;
    p->u8_hi = (uint8_t)hi;
    p->u8_start = u8s;
}

/* ---- driving yajl ---------------------------------------------------------------- */

/*
 * The start of the JSON token holding byte `q` of the span (q < chunk_len),
 * walking the span from its start (a span starts between tokens); when `q`
 * falls between tokens, the first byte of the next one. ',' and ':' count
 * as tokens (yajl refuses them too). yajl's lexer stops one past the byte
 * it choked on, and its parser one past the token it refused or, for some
 * refusals, rewinds to about that token's start: `q` is the last byte yajl
 * consumed, so the caret lands under the refused token (or under the token
 * just before it), whatever the read boundaries were.
 */
static uint64_t snap_token(aj *p, size_t q)
{
    const unsigned char *c = p->chunk;
    bool in_str = false, esc = false, in_tok = false;
    uint64_t start = p->base;
    for (size_t i = 0; i < p->chunk_len; i++) {
        unsigned char b = c[i];
        if (in_str) {
            if (i == q)
                return start;
            if (esc)
                esc = false;
            else if (b == '\\')
                esc = true;
            else if (b == '"')
                in_str = in_tok = false;
            continue;
        }
        bool tokb = bare_plain[b] || b >= 0x80;
        if (in_tok && !tokb)
            in_tok = false;
        if (b == '"') {
            in_str = in_tok = true;
            start = p->base + i;
        } else if (tokb && !in_tok) {
            in_tok = true;
            start = p->base + i;
        }
        if (i < q)
            continue;
        if (in_tok)
            return start;
        if (b == '[' || b == ']' || b == '{' || b == '}' || b == ',' ||
            b == ':')
            return p->base + i;
    }
    return p->base + q;
}

/* snap_token for the last byte of a span buf[0..len) at `off` (a span ends
 * between tokens, never right after a number or literal): the start of the
 * string or bare token ending there, the offset of a structural character,
 * UINT64_MAX for a blank. */
static uint64_t last_token(const unsigned char *buf, size_t len, uint64_t off)
{
    if (!len)
        return UINT64_MAX;
    size_t i = len - 1;
    unsigned char b = buf[i];
    if (b == ' ' || b == '\t' || b == '\n' || b == '\r')
        return UINT64_MAX;
    if (b == '"') {
        /* Back to the opening quote: the first one not escaped. */
        while (i > 0) {
            i--;
            if (buf[i] != '"')
                continue;
            size_t bs = 0;
            while (bs < i && buf[i - 1 - bs] == '\\')
                bs++;
            if (bs % 2 == 0)
                return off + i;
        }
        return off;
    }
    if (!bare_plain[b] && b < 0x80)
        return off + i;
    while (i > 0 && (bare_plain[buf[i - 1]] || buf[i - 1] >= 0x80))
        i--;
    return off + i;
}

static int report_yajl(aj *p, bool at_eof)
{
    unsigned char *m = yajl_get_error(p->y, 0, NULL, 0);
    char msg[200];
    snprintf(msg, sizeof msg, "%s", m ? (const char *)m : "parse error");
    if (m)
        yajl_free_error(p->y, m);
    size_t ml = strlen(msg);
    while (ml && (msg[ml - 1] == '\n' || msg[ml - 1] == '.' ||
                  msg[ml - 1] == ' '))
        msg[--ml] = '\0';
    if (at_eof) {
        pos at = locate(p, p->fed);
        if (!p->saw_value)
            build_error(p, &at, 1, CS_EPARSE,
                        "no JSON value: the file holds only white space");
        else
            build_error(p, &at, 1, CS_EPARSE,
                        "unexpected end of file: the JSON is truncated (%s)",
                        msg);
        return fail_file(p);
    }
    size_t c = yajl_get_bytes_consumed(p->y);
    if (c > p->chunk_len)
        c = p->chunk_len;
    /* c == 0: yajl rewound to the start of this span; its last consumed
     * byte is the previous span's last. */
    uint64_t off = c                           ? snap_token(p, c - 1)
                   : p->prev_tok != UINT64_MAX ? p->prev_tok
                                               : p->base;
    pos at = locate(p, off);
    build_error(p, &at, 1, CS_EPARSE, "invalid JSON: %s", msg);
    return fail_file(p);
}

/*
 * Gives yajl buf[0..len), text at absolute offset `off` that starts and
 * ends between tokens, then counts its newlines. Returns false when reading
 * stops (an error was reported).
 */
static bool parse_span(aj *p, const unsigned char *buf, size_t len,
                       uint64_t off)
{
    p->chunk = buf;
    p->chunk_len = len;
    p->base = off;
    yajl_status st = yajl_parse(p->y, buf, len);
    if (p->stopped)
        return false;
    if (st != yajl_status_ok) {
        report_yajl(p, false);
        return false;
    }
    advance(p, off + len);
    p->fed = off + len;
    p->prev_tok = last_token(buf, len, off);
    return true;
}

static bool carry_put(aj *p, const unsigned char *c, size_t n)
{
    aj_res *r = p->res;
    /* The carried span already parsed (if any) lives in this buffer: it may
     * move or be overwritten now, so carets stop looking at it. */
    if (p->chunk && p->chunk == r->carry) {
        p->chunk = NULL;
        p->chunk_len = 0;
    }
    p->scr = NULL;
    p->scr_len = 0;
    if (!grow((void **)&r->carry, &r->cap_carry, p->carry_len + n, 1)) {
        oom(p);
        return false;
    }
    memcpy(r->carry + p->carry_len, c, n);
    p->carry_len += n;
    return true;
}

/* Parses the carried text (a token begun in an earlier read, and what
 * follows it in this one) as one span. */
static bool parse_carry(aj *p)
{
    size_t len = p->carry_len;
    p->carry_len = 0;
    p->scr = p->res->carry;
    p->scr_len = len;
    p->scr_base = p->fed;
    return parse_span(p, p->res->carry, len, p->fed);
}

/*
 * One read chunk c[0..n) at absolute offset rd_base. yajl is only ever
 * handed whole tokens, one span per read: a token still open at the end of
 * a read (or holding the prescan's complaint) is held back and carried, and
 * the next read's span starts with it. So yajl never needs a token, or the
 * byte after a number, from another call: its events and error offsets do
 * not depend on where reads split the text. Returns true to go on reading.
 */
static bool feed(aj *p, const unsigned char *c, size_t n)
{
    p->rd = c;
    p->rd_len = n;
    p->any_bytes = true;
    uint64_t end = p->rd_base + n;
    prescan(p, c, n);
    /* How far yajl may read: up to the token open at the end (or holding
     * the complaint), else to the end (or the complaint). A number or
     * literal right before the open token stays with it: yajl needs the byte
     * after one to finish it, and must not get it from another call. */
    uint64_t limit = end;
    if (p->in_str || p->in_bare)
        limit = p->tok_start;
    else if (p->flagged)
        limit = p->bad_off;
    if (!p->flagged && limit < end && p->bare_e == limit && p->bare_s < limit)
        limit = p->bare_s;
    if (p->carry_len) {
        if (limit > p->rd_base || (p->flagged && limit == p->rd_base)) {
            /* The carried text ends here: yajl gets it with what follows
             * up to the limit, as one span. */
            if (!carry_put(p, c, (size_t)(limit - p->rd_base)) ||
                !parse_carry(p))
                return false;
        } else if (p->flagged) {
            /* The complaint is in the carried text: yajl gets what comes
             * before it, as the whole text would have given it. */
            if (limit > p->fed) {
                p->carry_len = (size_t)(limit - p->fed);
                if (!parse_carry(p))
                    return false;
            }
        } else if (!carry_put(p, c, n)) {
            return false; /* the carried text goes on past this read */
        }
    } else if (limit > p->rd_base &&
               !parse_span(p, c, (size_t)(limit - p->rd_base), p->rd_base)) {
        return false;
    }
    if (p->flagged) {
        char msg[sizeof p->bad_msg];
        memcpy(msg, p->bad_msg, sizeof msg);
        /* Between what yajl has and the complaint is one token without a
         * newline: the line is the current one. */
        p->chunk = c;
        p->chunk_len = n;
        p->base = p->rd_base;
        pos where = locate(p, p->bad_off);
        build_error(p, &where, 1, CS_EPARSE, "%s", msg);
        fail_file(p);
        return false;
    }
    if (limit >= p->rd_base && limit < end && !p->carry_len) {
        /* A token opens in this chunk and is not finished: carry it. */
        p->fed = limit;
        if (!carry_put(p, c + (limit - p->rd_base), (size_t)(end - limit)))
            return false;
    }
    /* The last bytes of the read, for carets in the next one. */
    if (n >= AJ_TAIL) {
        memcpy(p->tail, c + n - AJ_TAIL, AJ_TAIL);
        p->tail_len = AJ_TAIL;
    } else {
        size_t keep = AJ_TAIL - n;
        if (keep > p->tail_len)
            keep = p->tail_len;
        memmove(p->tail, p->tail + p->tail_len - keep, keep);
        memcpy(p->tail + keep, c, n);
        p->tail_len = keep + n;
    }
    p->rd = NULL;
    p->rd_len = 0;
    p->rd_base = end;
    return true;
}

/* The end of the input. */
static void finish(aj *p)
{
    if (!p->any_bytes) {
        pos at = {p->rd_base, 1, 1};
        build_error(p, &at, 0, CS_EPARSE,
                    "empty file: expected describe-vpcs or "
                    "describe-vpc-peering-connections JSON output");
        fail_file(p);
        return;
    }
    if (p->u8_need) {
        pos at = locate(p, p->u8_start);
        build_error(p, &at, 1, CS_EPARSE,
                    "invalid UTF-8: the file ends inside a character");
        fail_file(p);
        return;
    }
    /* The last token, cut by the end of the file or not. */
    if (p->carry_len && !parse_carry(p))
        return;
    p->completing = true;
    yajl_status st = yajl_complete_parse(p->y);
    if (!p->stopped && st != yajl_status_ok)
        report_yajl(p, true);
}

/* ---- entry points ------------------------------------------------------------------ */

static void res_free(aj_res *r)
{
    free(r->buf);
    free(r->arena);
    free(r->assocs);
    free(r->tags);
    free(r->desc_tags);
    free(r->carry);
    memset(r, 0, sizeof *r);
}

static int aj_begin(aj *p, aj_res *res, cs_estate *e, const char *source,
                    const char *region, const char *account,
                    const cs_load_options *opts, cs_error *err)
{
    memset(p, 0, sizeof *p);
    p->e = e;
    p->opts = opts;
    p->source = source;
    p->region = region;
    p->account = account;
    p->res = res;
    p->err = err;
    p->line = 1;
    p->item_sp = -1;
    p->st[0].ctx = X_ROOT;
    p->st[0].key = -1;
    p->prev_tok = UINT64_MAX;
    p->y = yajl_alloc(&callbacks, NULL, p);
    if (!p->y) {
        build_error(p, NULL, 0, CS_ENOMEM, "%s: out of memory", source);
        if (err)
            *err = p->tmp;
        return CS_ENOMEM;
    }
    /* UTF-8 is validated by the prescan, with exact positions. */
    yajl_config(p->y, yajl_dont_validate_strings, 1);
    rec_reset(p);
    return 0;
}

/* The outcome of one file: the count of rejections or a negative code. */
static int aj_end(aj *p)
{
    if (p->y)
        yajl_free(p->y);
    p->y = NULL;
    if (p->status < 0)
        return p->status;
    return p->rejected;
}

/* A UTF-8 byte-order mark at the start is skipped (as cs_estate_detect
 * does); positions still count it. */
static size_t skip_bom(aj *p, const unsigned char *c, size_t n)
{
    if (p->rd_base == 0 && n >= 3 && c[0] == 0xef && c[1] == 0xbb &&
        c[2] == 0xbf) {
        p->rd_base = p->base = p->fed = 3;
        p->lc_off = 3;
        p->line_start = 0;
        return 3;
    }
    return 0;
}

static const char *effective_region(const char *region,
                                    const cs_load_options *opts)
{
    if (region)
        return region;
    return opts ? opts->region : NULL;
}

int cs_ingest_aws_json_buf(cs_estate *e, const char *source, const void *buf,
                           size_t len, size_t chunk, const char *region,
                           const char *account, const cs_load_options *opts,
                           cs_error *err)
{
    if (!e || (!buf && len))
        return cs_fail(err, CS_EINVAL, "cs_ingest_aws_json_buf: NULL argument");
    aj_res res;
    memset(&res, 0, sizeof res);
    aj p;
    int rc = aj_begin(&p, &res, e, source ? source : "<memory>", region,
                      account, opts, err);
    if (rc < 0)
        return rc;
    const unsigned char *c = buf;
    size_t skip = skip_bom(&p, c, len);
    c += skip;
    len -= skip;
    if (!chunk)
        chunk = len ? len : 1;
    bool ok = true;
    while (ok && len) {
        size_t n = len < chunk ? len : chunk;
        ok = feed(&p, c, n);
        c += n;
        len -= n;
    }
    if (ok)
        finish(&p);
    rc = aj_end(&p);
    res_free(&res);
    return rc;
}

/* Reads the open descriptor `fd` (named `path`) with resources `res`; the
 * descriptor is left open. */
static int read_fd(aj_res *res, cs_estate *e, int fd, const char *path,
                   const char *region, const char *account,
                   const cs_load_options *opts, cs_error *err)
{
    aj p;
    int rc = aj_begin(&p, res, e, path, region, account, opts, err);
    if (rc < 0)
        return rc;
    if (!res->buf && !(res->buf = malloc(AJ_CHUNK))) {
        oom(&p);
        return aj_end(&p);
    }
    bool ok = true, first = true;
    for (;;) {
        ssize_t n = read(fd, res->buf, AJ_CHUNK);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            /* EISDIR lands here too: "vpcs.json: Is a directory". */
            build_error(&p, NULL, 0, CS_EIO, "%s: %s", path, strerror(errno));
            fail_file(&p);
            ok = false;
            break;
        }
        if (n == 0)
            break;
        const unsigned char *c = res->buf;
        size_t len = (size_t)n;
        if (first) {
            size_t skip = skip_bom(&p, c, len);
            c += skip;
            len -= skip;
            first = false;
        }
        if (len && !(ok = feed(&p, c, len)))
            break;
    }
    if (ok)
        finish(&p);
    return aj_end(&p);
}

/* A file that cannot be opened: reported like any bad input of that file
 * (rejected with keep_going). */
static int open_failed(aj_res *res, cs_estate *e, const char *path, int en,
                       const cs_load_options *opts, cs_error *err)
{
    aj p;
    int rc = aj_begin(&p, res, e, path, NULL, NULL, opts, err);
    if (rc < 0)
        return rc;
    build_error(&p, NULL, 0, CS_EIO, "%s: %s", path, strerror(en));
    fail_file(&p);
    return aj_end(&p);
}

/* Tells the caller's progress callback (cs_load_options) a file is read. */
static void file_read(const cs_load_options *opts, int fd, const char *path)
{
    struct stat st;
    if (!opts || !opts->progress)
        return;
    uint64_t size = fd >= 0 && fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    cs_load_progress p = {path, 0, size, size, true};
    opts->progress(&p, opts->progress_ctx);
}

static int read_file(aj_res *res, cs_estate *e, const char *path,
                     const char *region, const char *account,
                     const cs_load_options *opts, cs_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return open_failed(res, e, path, errno, opts, err);
    int rc = read_fd(res, e, fd, path, region, account, opts, err);
    if (rc >= 0)
        file_read(opts, fd, path);
    close(fd);
    return rc;
}

int cs_ingest_aws_json(cs_estate *e, const char *path, const char *region,
                       const cs_load_options *opts, cs_error *err)
{
    if (!e || !path)
        return cs_fail(err, CS_EINVAL, "cs_ingest_aws_json: NULL argument");
    region = effective_region(region, opts);
    const char *account = opts ? opts->account : NULL;
    if (region && !cs_aws_region_valid(region, strlen(region))) {
        cs_error_clear(err);
        cs_error_source(err, path);
        return cs_fail(err, CS_EINVAL,
                       "region \"%s\" does not look like an AWS region name "
                       "(such as us-east-1)", region);
    }
    if (account && !is_digits(account, strlen(account), 12)) {
        cs_error_clear(err);
        cs_error_source(err, path);
        return cs_fail(err, CS_EINVAL,
                       "account \"%s\" is not a 12-digit AWS account id",
                       account);
    }
    aj_res res;
    memset(&res, 0, sizeof res);
    int rc = read_file(&res, e, path, region, account, opts, err);
    res_free(&res);
    return rc;
}

/* ---- directories ---------------------------------------------------------------- */

typedef struct names {
    char **v;      /* each name is preceded by one byte: its d_type */
    size_t n, cap;
} names;

static void names_free(names *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a + 1, *(char *const *)b + 1);
}

static const char *name_of(const names *l, size_t i)
{
    return l->v[i] + 1;
}

/* Whether entry i of `l` (full path `path`) is a directory: from readdir's
 * d_type, or stat when the file system does not say. */
static bool entry_is_dir(const names *l, size_t i, const char *path)
{
    unsigned char t = (unsigned char)l->v[i][0];
    if (t == DT_DIR)
        return true;
    if (t != DT_UNKNOWN && t != DT_LNK)
        return false;
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* Lists `dir` (without "." names), sorted by strcmp (bytes, not the
 * locale). Returns 0, or -errno / CS_ENOMEM. */
static int list_dir(const char *dir, names *out)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (!grow((void **)&out->v, &out->cap, out->n + 1, sizeof *out->v)) {
            closedir(d);
            names_free(out);
            return CS_ENOMEM;
        }
        size_t nl = strlen(de->d_name);
        char *copy = malloc(nl + 2);
        if (!copy) {
            closedir(d);
            names_free(out);
            return CS_ENOMEM;
        }
        copy[0] = (char)de->d_type;
        memcpy(copy + 1, de->d_name, nl + 1);
        out->v[out->n++] = copy;
    }
    closedir(d);
    if (out->n > 1)
        qsort(out->v, out->n, sizeof *out->v, cmp_names);
    return 0;
}

/* The state of one directory walk. */
typedef struct walk {
    cs_estate *e;
    const cs_load_options *opts;
    cs_error *err;
    aj_res res;
    int rejected;
} walk;

/* Reports a problem with a path (no line): rejected with keep_going, else
 * the error. Returns 0 to go on, < 0 to stop. */
static int walk_fail(walk *w, const char *path, int code, const char *fmt,
                     ...) CS_PRINTF(4, 5);
static int walk_fail(walk *w, const char *path, int code, const char *fmt, ...)
{
    cs_error tmp;
    cs_error_clear(&tmp);
    cs_error_source(&tmp, path);
    char msg[CS_ERROR_MSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cs_fail(&tmp, code, "%s", msg);
    if (w->opts && w->opts->keep_going && code != CS_ENOMEM) {
        int rc = cs_estate_reject(w->e, &tmp);
        if (rc < 0) {
            if (w->err)
                *w->err = tmp;
            return rc;
        }
        w->rejected++;
        return 0;
    }
    if (w->err)
        *w->err = tmp;
    return code;
}

static int join(char *out, size_t cap, const char *a, const char *b)
{
    size_t al = strlen(a);
    bool slash = al && a[al - 1] == '/';
    int n = snprintf(out, cap, "%s%s%s", a, slash ? "" : "/", b);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* Opens `path` for reading: the descriptor, -1 when it does not exist, or
 * -2 - errno for any other failure. */
static int open_opt(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0)
        return fd;
    return errno == ENOENT ? -1 : -2 - errno;
}

/* Reads one opened file of a region directory; returns 0 go on, < 0
 * stop. */
static int walk_file(walk *w, int fd, const char *path, const char *account,
                     const char *region)
{
    int rc;
    if (fd < -1)
        rc = open_failed(&w->res, w->e, path, -2 - fd, w->opts, w->err);
    else
        rc = read_fd(&w->res, w->e, fd, path, region, account, w->opts,
                     w->err);
    if (rc < 0)
        return rc;
    file_read(w->opts, fd, path);
    w->rejected += rc;
    return 0;
}

static int walk_region(walk *w, const char *path, const char *account,
                       const char *region)
{
    char vpcs[4096], pcx[4096];
    if (join(vpcs, sizeof vpcs, path, "vpcs.json") ||
        join(pcx, sizeof pcx, path, "peering.json"))
        return walk_fail(w, path, CS_ERANGE, "path too long");
    int fv = open_opt(vpcs), fp = open_opt(pcx);
    if (fv == -1 && fp == -1)
        return walk_fail(w, path, CS_EPARSE,
                         "region directory holds neither vpcs.json "
                         "(aws ec2 describe-vpcs) nor peering.json (aws ec2 "
                         "describe-vpc-peering-connections)");
    cs_error tmp;
    cs_error_clear(&tmp);
    int rc = cs_estate_add_scope(w->e, cs_str_c(account), cs_str_c(region),
                                 &tmp);
    if (rc < 0 && w->err)
        *w->err = tmp;
    if (rc >= 0 && fv != -1)
        rc = walk_file(w, fv, vpcs, account, region);
    if (rc >= 0 && fp != -1)
        rc = walk_file(w, fp, pcx, account, region);
    if (fv >= 0)
        close(fv);
    if (fp >= 0)
        close(fp);
    return rc;
}

static int walk_account(walk *w, const char *path, const char *account)
{
    names regions;
    int rc = list_dir(path, &regions);
    if (rc < 0)
        return rc == CS_ENOMEM
                   ? walk_fail(w, path, CS_ENOMEM, "out of memory")
                   : walk_fail(w, path, CS_EIO, "%s", strerror(-rc));
    if (regions.n == 0) {
        names_free(&regions);
        return walk_fail(w, path, CS_EPARSE,
                         "account directory holds no region directory "
                         "(expected %s/REGION/vpcs.json)", path);
    }
    rc = 0;
    for (size_t i = 0; i < regions.n && rc >= 0; i++) {
        const char *r = name_of(&regions, i);
        char sub[4096];
        if (join(sub, sizeof sub, path, r)) {
            rc = walk_fail(w, path, CS_ERANGE, "path too long");
            continue;
        }
        if (!entry_is_dir(&regions, i, sub)) {
            rc = walk_fail(w, sub, CS_EPARSE,
                           "not a region directory (expected "
                           "ACCOUNT/REGION/vpcs.json; a file here?)");
            continue;
        }
        if (!cs_aws_region_valid(r, strlen(r))) {
            rc = walk_fail(w, sub, CS_EPARSE,
                           "\"%s\" is not an AWS region name (such as "
                           "us-east-1)", r);
            continue;
        }
        rc = walk_region(w, sub, account, r);
    }
    names_free(&regions);
    return rc;
}

int cs_ingest_estate_dir(cs_estate *e, const char *dir,
                         const cs_load_options *opts, cs_error *err)
{
    if (!e || !dir)
        return cs_fail(err, CS_EINVAL, "cs_ingest_estate_dir: NULL argument");
    walk w;
    memset(&w, 0, sizeof w);
    w.e = e;
    w.opts = opts;
    w.err = err;
    names accounts;
    int rc = list_dir(dir, &accounts);
    if (rc < 0) {
        cs_error_clear(err);
        cs_error_source(err, dir);
        if (rc == CS_ENOMEM)
            return cs_fail(err, CS_ENOMEM, "%s: out of memory", dir);
        return cs_fail(err, CS_EIO, "%s: %s", dir, strerror(-rc));
    }
    /* A region directory or a single-account tree passed by mistake. */
    for (size_t i = 0; i < accounts.n; i++) {
        const char *nm = name_of(&accounts, i);
        if (strcmp(nm, "vpcs.json") == 0 || strcmp(nm, "peering.json") == 0) {
            cs_error_clear(err);
            cs_error_source(err, dir);
            cs_fail(err, CS_EPARSE,
                    "%s holds %s directly: an estate directory is "
                    "ESTATE/ACCOUNT/REGION/vpcs.json (pass the file itself "
                    "with --region for one region)", dir, nm);
            names_free(&accounts);
            return CS_EPARSE;
        }
    }
    if (accounts.n == 0) {
        names_free(&accounts);
        cs_error_clear(err);
        cs_error_source(err, dir);
        return cs_fail(err, CS_EPARSE,
                       "no account directories: an estate directory is "
                       "ESTATE/ACCOUNT/REGION/vpcs.json (and peering.json); "
                       "no vpcs.json found");
    }
    rc = 0;
    for (size_t i = 0; i < accounts.n && rc >= 0; i++) {
        const char *a = name_of(&accounts, i);
        char sub[4096];
        if (join(sub, sizeof sub, dir, a)) {
            rc = walk_fail(&w, dir, CS_ERANGE, "path too long");
            continue;
        }
        if (!entry_is_dir(&accounts, i, sub)) {
            rc = walk_fail(&w, sub, CS_EPARSE,
                           "not an account directory (an estate directory "
                           "holds only ACCOUNT/REGION/ directories)");
            continue;
        }
        if (!is_digits(a, strlen(a), 12)) {
            rc = walk_fail(&w, sub, CS_EPARSE,
                           "\"%s\" is not an AWS account id (12 digits)", a);
            continue;
        }
        rc = walk_account(&w, sub, a);
    }
    names_free(&accounts);
    res_free(&w.res);
    return rc < 0 ? rc : w.rejected;
}
