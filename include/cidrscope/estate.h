/*
 * cidrscope/estate.h — the estate model: accounts, regions, VPCs, CIDR
 * associations, peering connections, edge attachments; the builder that
 * collects them from any source; and the read accessors on the frozen image.
 *
 * TWO SIDES, named apart so a call from the wrong context shows in review:
 *
 *   build side  cs_estate_new / _add_* / _load / _build_* / _freeze / _free,
 *               on a mutable `cs_estate *` (single-threaded);
 *   read side   cs_estate_<record>(const cs_snapshot *, ...), on the frozen
 *               image every later module (audit, peering, CLI) reads. These
 *               never allocate, never block, and are safe from any number of
 *               threads; what they return points into the image and lives
 *               until the snapshot is closed.
 *
 * DESCRIPTORS. Strings passed to the builder are cs_str views (pointer +
 * length, not NUL-terminated; {NULL, 0} = absent = empty). They may contain
 * any byte but NUL and ASCII control characters (rejected: CS_EINVAL) and are
 * at most CS_ESTATE_STR_MAX bytes (CS_ERANGE). The builder copies (interns)
 * everything it keeps: it never keeps a caller pointer after returning
 * (ownership rule of the whole API, cidrscope.h).
 *
 * LOCATIONS. Every add takes a cs_srcloc naming where the record was read
 * (file, 1-based line and column; NULL = unknown). It is copied; conflicts
 * and findings name it (and, for conflicts, the location of the first
 * sighting too).
 *
 * DUPLICATES (the rules of reading, issue 3):
 *  - a VPC id seen twice with the same content is one VPC (shared VPCs appear
 *    in every participant account's describe-vpcs); with different content it
 *    is CS_ECONFLICT naming both locations. "Content" = owner, region,
 *    is_default, state (when both sightings give one), Name (when both give
 *    one). Tags are taken from the first sighting that has any.
 *  - a CIDR association is identified by its association id when both
 *    sightings carry one; otherwise by (VPC, prefix). So the primary block
 *    printed as the top-level `CidrBlock` (no id, no state) and again inside
 *    `CidrBlockAssociationSet` (with id and state) is one association. The
 *    same association id with a different VPC, prefix or state is
 *    CS_ECONFLICT. Two ids for one prefix (a block disassociated and
 *    associated again) are two associations.
 *  - a peering connection seen from both sides is one connection (by pcx
 *    id); different VPC ids, accounts or regions for one pcx id are
 *    CS_ECONFLICT; a different status is a finding (CS_FINDING_PCX_STATUS)
 *    and the first status is kept. A per-side DNS option given by one
 *    sighting only is taken from it.
 *
 * FINDINGS. Things the estate wants a person to know that are not errors:
 * rejected input (with --keep-going), host bits normalised (lenient mode),
 * AWS limit violations, a peering connection whose VPC is not in the
 * inventory. Ingest adds the input-side ones as it reads
 * (cs_estate_add_finding, cs_estate_reject); the estate-wide checks (AWS
 * limits, association restrictions, unknown VPCs) run at cs_estate_freeze,
 * over the final content, so they do not depend on input order. The frozen
 * image carries all of them (cs_estate_finding).
 *
 * FROZEN ORDER. Freeze sorts, so the same estate read in any order gives the
 * same tables: accounts by id, regions by name, VPCs by (account, region,
 * id), associations by (VPC, family, primary first, prefix, association id),
 * peering connections by pcx id, edges by (VPC, kind, id), tags by (VPC,
 * key). Every association whose state is live (cs_assoc_state_live) is one
 * entry of the snapshot's trie with value = its association index (dense,
 * both families together); dead associations are in the tables only.
 *
 * Tests: tests/test_estate.c, tests/test_csv.c, tests/fuzz/fuzz_csv.c.
 */
#ifndef CIDRSCOPE_ESTATE_H
#define CIDRSCOPE_ESTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "error.h"
#include "prefix.h"
#include "snapshot.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The builder (opaque). */
typedef struct cs_estate cs_estate;

/* "No such record": an index field that refers to nothing (a peering side
 * whose VPC is not in the inventory, a finding about no VPC). */
#define CS_IDX_NONE UINT32_MAX

/* Longest string the estate keeps (ids, names, tag keys and values, file
 * names, messages are truncated to it instead). */
#define CS_ESTATE_STR_MAX 4096u

/* A string view: `len` bytes at `ptr`, not NUL-terminated. */
typedef struct cs_str {
    const char *ptr;
    size_t len;
} cs_str;

/* A view of a NUL-terminated string (NULL gives the empty view). */
static inline cs_str cs_str_c(const char *s)
{
    cs_str v;
    v.ptr = s;
    v.len = s ? strlen(s) : 0;
    return v;
}

/* Where a record was read. `source` is a file name (NULL or "" = unknown);
 * line and column are 1-based, 0 = unknown. */
typedef struct cs_srcloc {
    const char *source;
    uint64_t line;
    uint32_t column;
} cs_srcloc;

/* ---- enumerations --------------------------------------------------------- */

/* State of a CIDR block association (AWS VpcCidrBlockState /
 * Ipv6CidrBlockState `State`). UNSPECIFIED is what the top-level `CidrBlock`
 * of describe-vpcs carries (no state printed) and what a CSV without a state
 * column gives: it merges with any state and freezes as ASSOCIATED. */
enum cs_assoc_state {
    CS_ASSOC_UNSPECIFIED = 0,
    CS_ASSOC_ASSOCIATING = 1,
    CS_ASSOC_ASSOCIATED = 2,
    CS_ASSOC_DISASSOCIATING = 3,
    CS_ASSOC_DISASSOCIATED = 4,
    CS_ASSOC_FAILING = 5,
    CS_ASSOC_FAILED = 6,
    CS_ASSOC_UNKNOWN = 7,   /* a state this version does not know (AWS added
                               one): kept, never live, with a finding
                               CS_FINDING_UNKNOWN_STATE naming it; never
                               parsed from text */
    CS_ASSOC_STATE_COUNT = 8
};

/* True for the states that take part in overlap and peering: associated,
 * associating (and unspecified, which freezes as associated). */
static inline bool cs_assoc_state_live(unsigned st)
{
    return st == CS_ASSOC_ASSOCIATED || st == CS_ASSOC_ASSOCIATING ||
           st == CS_ASSOC_UNSPECIFIED;
}

/* Status code of a peering connection (AWS VpcPeeringConnectionStateReason
 * `Code`). */
enum cs_pcx_status {
    CS_PCX_INITIATING_REQUEST = 0,
    CS_PCX_PENDING_ACCEPTANCE = 1,
    CS_PCX_PROVISIONING = 2,
    CS_PCX_ACTIVE = 3,
    CS_PCX_DELETING = 4,
    CS_PCX_DELETED = 5,
    CS_PCX_REJECTED = 6,
    CS_PCX_FAILED = 7,
    CS_PCX_EXPIRED = 8,
    CS_PCX_UNKNOWN = 9,     /* a status this version does not know: never
                               active, with a CS_FINDING_UNKNOWN_STATE
                               finding; never parsed from text */
    CS_PCX_STATUS_COUNT = 10
};

/* Kinds of edge attachment: ways out of a VPC that peering traffic may not
 * use (no edge-to-edge routing). */
enum cs_edge_kind {
    CS_EDGE_INTERNET_GATEWAY = 0,
    CS_EDGE_NAT = 1,
    CS_EDGE_VPN = 2,
    CS_EDGE_DIRECT_CONNECT = 3,
    CS_EDGE_GATEWAY_ENDPOINT = 4,
    CS_EDGE_KIND_COUNT = 5
};

/* VPC `State`. UNSPECIFIED when the source gives none. */
enum cs_vpc_state {
    CS_VPC_UNSPECIFIED = 0,
    CS_VPC_PENDING = 1,
    CS_VPC_AVAILABLE = 2,
    CS_VPC_STATE_COUNT = 3
};

/* IPv6 `IpSource` of an association (newer SDKs). */
enum cs_ip_source {
    CS_IPSRC_UNSPECIFIED = 0,
    CS_IPSRC_AMAZON = 1,
    CS_IPSRC_BYOIP = 2,
    CS_IPSRC_NONE = 3,
    CS_IPSRC_COUNT = 4
};

/* IPv6 `Ipv6AddressAttribute` of an association (newer SDKs). */
enum cs_ipv6_attr {
    CS_IPV6ATTR_UNSPECIFIED = 0,
    CS_IPV6ATTR_PUBLIC = 1,
    CS_IPV6ATTR_PRIVATE = 2,
    CS_IPV6ATTR_COUNT = 3
};

/* Tri-state option (a peering side's AllowDnsResolutionFromRemoteVpc is only
 * printed for active connections). */
enum cs_tri { CS_TRI_UNKNOWN = 0, CS_TRI_FALSE = 1, CS_TRI_TRUE = 2 };

/*
 * Names and parsers. _name returns the AWS spelling ("associated",
 * "pending-acceptance", "internet-gateway", "available", "amazon"), a static
 * string, "unspecified" for the UNSPECIFIED values and "?" for out-of-range
 * values. _parse takes the exact AWS spelling (case-sensitive, as printed by
 * the AWS CLI; `len` bytes, no NUL needed) and returns the enum value (>= 0)
 * or CS_EPARSE. Edge kinds also accept the AWS resource prefixes "igw",
 * "nat", "vgw"/"vpn", "dx"/"dxgw", "vpce". All pure and thread-safe.
 */
CS_API const char *cs_assoc_state_name(unsigned st);
CS_API int cs_assoc_state_parse(const char *s, size_t len);
CS_API const char *cs_pcx_status_name(unsigned st);
CS_API int cs_pcx_status_parse(const char *s, size_t len);
CS_API const char *cs_edge_kind_name(unsigned kind);
CS_API int cs_edge_kind_parse(const char *s, size_t len);
CS_API const char *cs_vpc_state_name(unsigned st);
CS_API int cs_vpc_state_parse(const char *s, size_t len);
CS_API const char *cs_ip_source_name(unsigned src);
CS_API int cs_ip_source_parse(const char *s, size_t len);
CS_API const char *cs_ipv6_attr_name(unsigned a);
CS_API int cs_ipv6_attr_parse(const char *s, size_t len);

/* ---- finding kinds ------------------------------------------------------- */

/* The code string of every finding the library produces (stable: reports and
 * CI gates match on them). Ingest may add its own kinds; they are strings. */
#define CS_FINDING_REJECTED "rejected-input"        /* --keep-going skipped it */
#define CS_FINDING_HOST_BITS "host-bits-normalised" /* lenient: 10.0.0.1/16 */
#define CS_FINDING_V4_SIZE "ipv4-block-size"        /* outside /16../28 */
#define CS_FINDING_V6_SIZE "ipv6-block-size"        /* not /44,/48,../60 */
#define CS_FINDING_V4_QUOTA "ipv4-block-quota"      /* > 5 live IPv4 blocks */
#define CS_FINDING_RESTRICTED "association-restricted" /* AWS table forbids */
#define CS_FINDING_LINK_LOCAL "link-local-block"    /* inside 169.254.0.0/16 */
#define CS_FINDING_RESERVED "reserved-range-block"  /* 0/8, 127/8, 224/4 */
#define CS_FINDING_UNKNOWN_VPC "peering-unknown-vpc" /* side not in inventory */
#define CS_FINDING_PCX_STATUS "peering-status-mismatch" /* two sightings */
#define CS_FINDING_INCOMPLETE_PAGE "incomplete-page" /* NextToken: pages
                                                        missing (warning) */
#define CS_FINDING_SKIPPED_FILE "skipped-file"   /* not an inventory: a
                                                    README, subnets.json */
#define CS_FINDING_UNKNOWN_STATE "unknown-state" /* a block state or peering
                                                    status AWS added later:
                                                    read as not live */

/* ---- descriptors (build side) -------------------------------------------- */

typedef struct cs_tag {
    cs_str key;
    cs_str value;
} cs_tag;

/* Flags of cs_vpc_desc.flags. */
enum {
    /* A pseudo-VPC standing for the owner of a prefix list ("amazon"): the
     * owner need not be a 12-digit account id; its id, owner and name are
     * the owner's name. Set by the prefix-list reader. */
    CS_VPC_PSEUDO = 1u << 0,
};

typedef struct cs_vpc_desc {
    cs_str id;           /* required: "vpc-0a1b2c3d4e5f60718" */
    cs_str owner;        /* required: 12-digit account id (OwnerId) */
    cs_str region;       /* "us-east-1"; empty = unknown */
    cs_str name;         /* the Name tag; empty = none (then a "Name" entry
                            of `tags` is used when present) */
    const cs_tag *tags;  /* all tags, Name included; may be NULL */
    size_t tag_count;
    uint8_t state;       /* enum cs_vpc_state */
    bool is_default;     /* IsDefault */
    unsigned flags;      /* CS_VPC_* */
} cs_vpc_desc;

typedef struct cs_cidr_desc {
    cs_str vpc_id;        /* required: the VPC, added before */
    cs_prefix prefix;     /* required, canonical (no host bits) */
    cs_str association_id;/* "vpc-cidr-assoc-...": empty = none */
    uint8_t state;        /* enum cs_assoc_state */
    bool primary;         /* the VPC's primary IPv4 block (top-level
                             CidrBlock) */
    uint8_t ip_source;    /* enum cs_ip_source (IPv6) */
    uint8_t ipv6_attr;    /* enum cs_ipv6_attr (IPv6) */
    cs_str pool;          /* Ipv6Pool ("Amazon", "ipv6pool-ec2-..."), or
                             the IPAM pool; empty = none */
} cs_cidr_desc;

typedef struct cs_peering_side {
    cs_str vpc_id;        /* required */
    cs_str owner;         /* 12-digit account id; empty = unknown (then the
                             VPC's owner is used at freeze when known) */
    cs_str region;        /* empty = unknown (then the VPC's region) */
    uint8_t allow_dns;    /* enum cs_tri: PeeringOptions.
                             AllowDnsResolutionFromRemoteVpc */
} cs_peering_side;

typedef struct cs_peering_desc {
    cs_str id;            /* required: "pcx-..." */
    cs_peering_side requester;
    cs_peering_side accepter;
    uint8_t status;       /* enum cs_pcx_status */
} cs_peering_desc;

typedef struct cs_edge_desc {
    cs_str vpc_id;        /* required: the VPC, added before */
    uint8_t kind;         /* enum cs_edge_kind */
    cs_str id;            /* "igw-...", "nat-...", ...; required */
} cs_edge_desc;

/* ---- building -------------------------------------------------------------- */

/* A new, empty estate (tables and string arena allocated in bulk, grown by
 * doubling). NULL when out of memory. */
CS_API cs_estate *cs_estate_new(void);

/* Releases the estate. NULL is a no-op. */
CS_API void cs_estate_free(cs_estate *e);

/*
 * Adds a VPC. Returns 0 (new), 1 (the same VPC id was seen before with the
 * same content: merged, nothing new), CS_ECONFLICT (same id, different
 * content: err names both locations and the differing field), CS_EINVAL
 * (missing id or owner, an owner that is not 12 digits without
 * CS_VPC_PSEUDO, an enum out of range, NUL or control bytes in a string),
 * CS_ERANGE (a string over CS_ESTATE_STR_MAX; or capacity: more than 2^32-2
 * records, 4 GiB of strings), CS_ENOMEM, CS_ESTATE (the builder failed
 * before). After CS_ENOMEM or a capacity CS_ERANGE the estate refuses every
 * call but _free (and the read-only _build_* calls) with CS_ESTATE; other
 * errors leave it unchanged and usable. err's location is set from `loc`.
 */
CS_API int cs_estate_add_vpc(cs_estate *e, const cs_vpc_desc *d,
                             const cs_srcloc *loc, cs_error *err);

/*
 * Adds a CIDR association to a VPC added before. Returns 0 (new), 1 (an
 * association already known — by id, or by (VPC, prefix) when one sighting
 * has no id — merged: a missing id, state, pool or primary flag is filled
 * in), CS_ENOTFOUND (the VPC was not added), CS_ECONFLICT (the same
 * association id with another VPC, prefix or state: both locations named),
 * CS_EINVAL (host bits set, state or enum out of range, bad strings), and as
 * cs_estate_add_vpc. Host bits are the caller's business: parse leniently and
 * record CS_FINDING_HOST_BITS, or fail.
 */
CS_API int cs_estate_add_cidr(cs_estate *e, const cs_cidr_desc *d,
                              const cs_srcloc *loc, cs_error *err);

/*
 * Adds a peering connection. Its VPCs need not be known (now or ever: a
 * side whose VPC is missing at freeze is kept, with vpc index CS_IDX_NONE,
 * and reported as CS_FINDING_UNKNOWN_VPC). Returns 0 (new), 1 (the same pcx
 * id seen before: merged), CS_ECONFLICT (same id, other VPCs, accounts or
 * regions), CS_EINVAL, and as cs_estate_add_vpc.
 */
CS_API int cs_estate_add_peering(cs_estate *e, const cs_peering_desc *d,
                                 const cs_srcloc *loc, cs_error *err);

/*
 * Adds an edge attachment to a VPC added before. Returns 0 (new), 1 (the
 * same (VPC, kind, id) seen before), CS_ENOTFOUND (no such VPC), CS_EINVAL,
 * and as cs_estate_add_vpc.
 */
CS_API int cs_estate_add_edge(cs_estate *e, const cs_edge_desc *d,
                              const cs_srcloc *loc, cs_error *err);

/*
 * Registers an account and/or region seen in the input even if it holds no
 * VPC (an ESTATE/<account>/<region>/ directory with an empty vpcs.json), so
 * counts include it. Either may be empty. Returns 0, CS_EINVAL (account not
 * 12 digits), CS_ENOMEM, CS_ESTATE.
 */
CS_API int cs_estate_add_scope(cs_estate *e, cs_str account, cs_str region,
                               cs_error *err);

/*
 * Records a finding: `kind` (a CS_FINDING_* code or the caller's own
 * lower-case code), a message, and where (NULL = nowhere). Both strings are
 * copied (truncated to CS_ESTATE_STR_MAX). Returns 0, CS_ENOMEM, CS_ESTATE.
 */
CS_API int cs_estate_add_finding(cs_estate *e, const char *kind,
                                 const cs_srcloc *loc, const char *message);

/*
 * Records `rejected` (a failure of a record that --keep-going skips) as a
 * CS_FINDING_REJECTED finding carrying its message and location
 * (err->source, line, column), and counts it. Returns 0, CS_ENOMEM,
 * CS_ESTATE.
 */
CS_API int cs_estate_reject(cs_estate *e, const cs_error *rejected);

/* Counts of a builder or a frozen image. `live` and `dead` count
 * associations by family ([0] IPv4, [1] IPv6). */
typedef struct cs_estate_counts {
    uint32_t accounts;      /* every account: VPC owners, scopes, peering
                               sides */
    uint32_t regions;
    uint32_t vpcs;
    uint32_t default_vpcs;
    uint32_t pseudo_vpcs;   /* prefix-list owners */
    uint32_t assocs;
    uint32_t live[2];
    uint32_t dead[2];
    uint32_t peerings;      /* distinct connections, every status */
    uint32_t edges;
    uint32_t tags;
    uint32_t findings;
    uint32_t rejected;      /* findings of kind CS_FINDING_REJECTED */
} cs_estate_counts;

/* Counts of the builder so far (findings: the input-side ones only; the
 * estate-wide checks run at freeze). */
CS_API void cs_estate_build_counts(const cs_estate *e, cs_estate_counts *out);

/* A finding as read back. Strings are NUL-terminated and live as long as
 * their owner (the builder until its next add or _free; the snapshot until
 * closed). */
typedef struct cs_finding {
    const char *kind;      /* CS_FINDING_* code */
    const char *message;
    const char *source;    /* "" when unknown */
    uint64_t line;         /* 0 when unknown */
    uint32_t column;       /* 0 when unknown */
    uint32_t vpc_idx;      /* frozen image only: the VPC concerned, or
                              CS_IDX_NONE; always CS_IDX_NONE on the builder */
} cs_finding;

/* The builder's findings so far, in the order recorded: index i <
 * counts.findings. Returns 0 or CS_ERANGE. */
CS_API int cs_estate_build_finding(const cs_estate *e, uint32_t i,
                                   cs_finding *out);

/*
 * Freezes the estate into a new heap snapshot: the tries (live associations,
 * value = association index) plus the estate's tables (engine/image/estate_image.c
 * documents their format). Runs the estate-wide checks and stores their
 * findings after the builder's. The estate is left unchanged and may be
 * frozen again. *out is released with cs_snapshot_close. Returns 0,
 * CS_ENOMEM, CS_ERANGE (a table over 2^32-2 records or strings over 4 GiB),
 * CS_ESTATE.
 */
CS_API int cs_estate_freeze(const cs_estate *e, cs_snapshot **out,
                            cs_error *err);

/*
 * Thaws a frozen estate: adds every record of s's estate to builder e
 * through the cs_estate_add_* calls (accounts and regions without VPCs as
 * scopes, VPCs with tags, every association, dead ones too, edges, peering
 * connections), so e can take more records (planned VPCs and blocks) and be
 * frozen again; freeze(thaw(s)) has s's tables in s's order. Findings are
 * not copied (freeze recomputes the estate-wide ones). e may already hold
 * records: the builder's merge and conflict rules apply. Returns 0,
 * CS_EINVAL (NULL argument, or s holds no estate), CS_ECONFLICT (a record of
 * s differs from one e already holds), CS_ENOMEM, CS_ESTATE, CS_ECORRUPT.
 * Reads s only; e is the caller's (engine/build/thaw.c).
 */
CS_API int cs_estate_thaw(const cs_snapshot *s, cs_estate *e, cs_error *err);

/* ---- loading sources ------------------------------------------------------ */

/* What a source path holds (cs_estate_detect). */
enum cs_source_kind {
    CS_SRC_AUTO = 0,        /* detect (cs_load_options.kind only) */
    CS_SRC_DIR,             /* ESTATE/<account>/<region>/{vpcs,peering}.json */
    CS_SRC_AWS_JSON,        /* AWS JSON, told apart by its top-level
                               keys: describe-vpcs, describe-vpc-peering-
                               connections, get-ipam-resource-cidrs
                               output, or AWS Config query results */
    CS_SRC_CSV_VPCS,        /* account,region,vpc_id,cidr[,...] */
    CS_SRC_CSV_PEERINGS,    /* pcx_id,requester_vpc,accepter_vpc,status */
    CS_SRC_PREFIX_LIST,     /* owner,prefix or provider,family,prefix */
    CS_SRC_SNAPSHOT,        /* a snapshot image ("CIDRSCP" magic) */
    CS_SRC_CSV_EDGES,       /* vpc_id,kind,edge_id: edge attachments (after
                               the VPCs they attach to) */
    CS_SRC_STREAM,          /* a pipe, FIFO or device (cs_estate_detect
                               does not read it: cs_estate_load tells its
                               text kind from the bytes it reads once) */
};

/*
 * Progress of a load, for a caller that shows it (the CLI's progress line):
 * reported for every file as it finishes (done) and, inside a CSV file,
 * every CS_LOAD_PROGRESS_ROWS records. Called on the loading thread; the
 * struct and its path live only during the call.
 */
#define CS_LOAD_PROGRESS_ROWS 65536
typedef struct cs_load_progress {
    const char *path;      /* the file being read */
    uint64_t rows;         /* its records read so far (CSV; 0 for JSON) */
    uint64_t bytes;        /* its bytes read so far */
    uint64_t size;         /* its size in bytes; 0 = unknown */
    bool done;             /* the file is finished */
} cs_load_progress;
typedef void (*cs_load_progress_fn)(const cs_load_progress *p, void *ctx);

typedef struct cs_load_options {
    bool lenient;          /* host bits are cleared (with a finding), not
                              errors */
    bool keep_going;       /* a bad record or file is recorded
                              (cs_estate_reject) and reading goes on */
    const char *region;    /* region of single describe-vpcs files (they
                              carry none; a "Region" wrapper in the file
                              wins); NULL = unknown */
    const char *account;   /* account to assume where a source has none;
                              NULL = the source's own (OwnerId) */
    int kind;              /* enum cs_source_kind; CS_SRC_AUTO = detect */
    cs_load_progress_fn progress; /* NULL = none */
    void *progress_ctx;
    cs_snapshot **snapshot; /* non-NULL: a snapshot image met in a stream
                              (pipe, FIFO, standard input) is read into
                              memory and opened (cs_snapshot_from_fd) into
                              *snapshot, the caller's to close, instead of
                              being refused; refused (CS_EINVAL) when
                              *snapshot is already set or e holds records */
    unsigned threads;      /* an estate directory's files are parsed on this
                              many threads (0 or 1: the calling thread
                              only); the estate, every error and message
                              and the order of findings are the same as
                              with one thread (records are still added in
                              file order, on the calling thread) */
} cs_load_options;

/*
 * Names what `path` holds without reading it all: a directory is CS_SRC_DIR;
 * a file starting (after blanks and a UTF-8 BOM) with '{' or '[' is
 * CS_SRC_AWS_JSON; one starting with "CIDRSCP" is CS_SRC_SNAPSHOT; otherwise
 * the first line decides: a CSV header naming vpc_id and cidr columns is
 * CS_SRC_CSV_VPCS, one naming pcx_id is CS_SRC_CSV_PEERINGS, one naming
 * vpc_id, kind and edge_id is CS_SRC_CSV_EDGES, anything else
 * (owner,prefix lines with or without a header, provider,family,prefix) is
 * CS_SRC_PREFIX_LIST. A pipe, FIFO or device is CS_SRC_STREAM without being
 * read (reading would consume it). Returns the kind (> 0), CS_EINVAL (the
 * path does not exist or cannot be opened: bad input; message "cannot
 * open: <strerror>", err->source the path), CS_EIO (a system failure),
 * CS_EPARSE (an empty file).
 */
CS_API int cs_estate_detect(const char *path, cs_error *err);

/*
 * Reads `path` into the estate, of the kind `opts->kind` or detected. opts
 * may be NULL (strict, stop at the first error). Errors name the file, line
 * and column and copy the offending line for a caret (cs_error_format).
 * Without keep_going the first bad record stops the load with its error
 * (records read before it stay in the estate). With keep_going every bad
 * record (and every unreadable file of a directory) is recorded as a
 * CS_FINDING_REJECTED finding and reading goes on; only CS_ENOMEM / CS_EIO
 * on the top path stop it. A snapshot image is CS_EINVAL (open it with
 * cs_snapshot_open instead). `path` "-" is standard input. The source is
 * opened once and read once: its kind is told from the first bytes read,
 * which the reader then goes on from, so pipes, FIFOs and process
 * substitutions work. A path that does not exist or cannot be read
 * (permission denied), here or inside an estate directory, is CS_EINVAL
 * (bad input), CS_EIO only for the system's own failures. Returns the
 * number of records rejected (>= 0; always 0 without keep_going) or a
 * negative code.
 */
CS_API int cs_estate_load(cs_estate *e, const char *path,
                          const cs_load_options *opts, cs_error *err);

/* One source of a list: its path and the region / account it is read with
 * (NULL: the cs_load_options' own). A command line's `--source-region R`
 * applies to the sources after it, up to the next one. */
typedef struct cs_source {
    const char *path;      /* file, directory, or "-" (standard input) */
    const char *region;    /* region of describe-vpcs output that carries
                              none; NULL = opts->region */
    const char *account;   /* owner of VPCs without OwnerId; NULL =
                              opts->account */
} cs_source;

/*
 * Reads sources src[0..n) into the estate in order, each as cs_estate_load
 * with opts (NULL: strict) whose region and account are replaced by the
 * source's own when set. Stops at the first error (err names the source).
 * Returns the total of records rejected (>= 0) or a negative code. Not
 * thread-safe on one estate.
 */
CS_API int cs_estate_load_sources(cs_estate *e, const cs_source *src, size_t n,
                                  const cs_load_options *opts, cs_error *err);

/* ---- read side: the frozen estate ------------------------------------------ */

/* Statistics of a frozen estate, as `cidrscope stat` reports them
 * (cs_estate_stats_get; written by cs_stat_report_write, report.h).
 * Counting rules: `accounts` own a VPC or were seen as a directory of the
 * collection, not accounts only named by a peering side
 * (`external_accounts`) nor prefix-list owners (`prefix_list_owners`, which
 * are not `vpcs` either); `regions` are the distinct non-empty region names;
 * findings are counted by kind, kinds in byte order. */
typedef struct cs_finding_kind_count {
    const char *kind;       /* points into the snapshot */
    uint32_t count;
} cs_finding_kind_count;

typedef struct cs_estate_stats {
    cs_estate_counts counts;          /* cs_estate_counts_get */
    bool has_estate;                  /* cs_estate_present */
    uint32_t accounts, external_accounts, regions, vpcs, default_vpcs,
        prefix_list_owners;
    uint32_t by_status[CS_PCX_STATUS_COUNT]; /* peering connections */
    uint32_t by_edge[CS_EDGE_KIND_COUNT];
    cs_finding_kind_count *kinds;     /* kind_count of them, owned */
    uint32_t kind_count;
    /* Input that did not make it in whole (what every report carries and
     * --fail-on counts as high): CS_FINDING_REJECTED findings split into
     * single records (they have a line) and whole files (no line), and
     * CS_FINDING_INCOMPLETE_PAGE findings (pages still naming a
     * NextToken). */
    uint32_t rejected_records, rejected_files, incomplete_pages;
} cs_estate_stats;

/*
 * Fills *out from snapshot `s` (a frozen estate, or a bare prefix image:
 * then everything but counts is zero). One pass over the accounts,
 * regions, peerings, edges and findings. Returns 0, CS_ENOMEM, or
 * CS_ECORRUPT (a table index the image refuses). Release with
 * cs_estate_stats_free (also after a failure). Thread-safe on a shared
 * snapshot.
 */
CS_API int cs_estate_stats_get(const cs_snapshot *s, cs_estate_stats *out);
CS_API void cs_estate_stats_free(cs_estate_stats *st);

/* True when `s` carries estate tables (an image from cs_estate_freeze, or a
 * file written from one). All accessors below treat an image without them as
 * an empty estate. */
CS_API bool cs_estate_present(const cs_snapshot *s);

/* Counts of the frozen estate. */
CS_API void cs_estate_counts_get(const cs_snapshot *s, cs_estate_counts *out);

/* Flags of cs_account.flags. */
enum {
    CS_ACCOUNT_PSEUDO = 1u << 0,   /* a prefix-list owner */
    CS_ACCOUNT_EXTERNAL = 1u << 1, /* owns no VPC and was not registered as a
                                      scope: only named by a peering side */
};

typedef struct cs_account {
    const char *id;        /* "123456789012" (or the pseudo owner name) */
    uint32_t vpc_begin;    /* its VPCs: [vpc_begin, vpc_begin + vpc_count) */
    uint32_t vpc_count;
    uint32_t flags;        /* CS_ACCOUNT_* */
} cs_account;

typedef struct cs_region {
    const char *name;      /* "us-east-1"; "" = unknown */
    uint32_t vpc_count;
} cs_region;

typedef struct cs_vpc {
    const char *id;
    const char *name;      /* "" = no Name tag */
    uint32_t account_idx;
    uint32_t region_idx;
    uint32_t assoc_begin;  /* its associations (contiguous, frozen order) */
    uint32_t assoc_count;
    uint32_t edge_begin;   /* its edge attachments (contiguous) */
    uint32_t edge_count;
    uint32_t tag_begin;    /* its tags (contiguous, by key) */
    uint32_t tag_count;
    uint32_t pcx_count;    /* its peering connections: cs_estate_vpc_peerings */
    uint8_t state;         /* enum cs_vpc_state */
    bool is_default;
    bool pseudo;           /* CS_VPC_PSEUDO */
} cs_vpc;

typedef struct cs_assoc {
    cs_prefix prefix;
    const char *id;        /* association id; "" = none */
    const char *pool;      /* "" = none */
    uint32_t vpc_idx;
    uint8_t state;         /* enum cs_assoc_state (never UNSPECIFIED) */
    bool primary;
    bool live;             /* cs_assoc_state_live(state): in the trie */
    uint8_t ip_source;     /* enum cs_ip_source */
    uint8_t ipv6_attr;     /* enum cs_ipv6_attr */
} cs_assoc;

typedef struct cs_peering_end {
    const char *vpc_id;    /* always set, even when the VPC is unknown */
    uint32_t vpc_idx;      /* CS_IDX_NONE when not in the inventory */
    uint32_t account_idx;  /* CS_IDX_NONE when unknown */
    uint32_t region_idx;   /* CS_IDX_NONE when unknown */
    uint8_t allow_dns;     /* enum cs_tri */
} cs_peering_end;

typedef struct cs_peering {
    const char *id;        /* "pcx-..." */
    cs_peering_end requester;
    cs_peering_end accepter;
    uint8_t status;        /* enum cs_pcx_status */
} cs_peering;

typedef struct cs_edge {
    const char *id;
    uint32_t vpc_idx;
    uint8_t kind;          /* enum cs_edge_kind */
} cs_edge;

/*
 * Records by dense index, each filled into the caller's struct; strings
 * point into the image (NUL-terminated). Return 0, or CS_ERANGE when the
 * index is out of range (then *out is untouched). O(1), no allocation.
 */
CS_API int cs_estate_account(const cs_snapshot *s, uint32_t idx,
                             cs_account *out);
CS_API int cs_estate_region(const cs_snapshot *s, uint32_t idx,
                            cs_region *out);
CS_API int cs_estate_vpc(const cs_snapshot *s, uint32_t idx, cs_vpc *out);
CS_API int cs_estate_assoc(const cs_snapshot *s, uint32_t idx, cs_assoc *out);
CS_API int cs_estate_peering(const cs_snapshot *s, uint32_t idx,
                             cs_peering *out);
CS_API int cs_estate_edge(const cs_snapshot *s, uint32_t idx, cs_edge *out);
CS_API int cs_estate_tag(const cs_snapshot *s, uint32_t idx, const char **key,
                         const char **value);
CS_API int cs_estate_finding(const cs_snapshot *s, uint32_t idx,
                             cs_finding *out);

/* The VPC an association belongs to (CS_IDX_NONE when out of range). */
CS_API uint32_t cs_estate_assoc_vpc(const cs_snapshot *s, uint32_t assoc_idx);

/* The whole association -> VPC column: (*count) u32 VPC indices, one per
 * association, for hot loops (an array read per match). NULL and *count = 0
 * when the image has no estate. */
CS_API const uint32_t *cs_estate_assoc_vpc_map(const cs_snapshot *s,
                                               uint32_t *count);

/* The peering connection indices of VPC `vpc_idx` (as requester or
 * accepter), ascending: a pointer into the image and their number. NULL and
 * *count = 0 when it has none or the index is out of range. */
CS_API const uint32_t *cs_estate_vpc_peerings(const cs_snapshot *s,
                                              uint32_t vpc_idx,
                                              uint32_t *count);

/*
 * VPC id -> index, through the hash table stored in the image (XXH3, open
 * addressing; no builder needed). `id` is `len` bytes. Returns 1 and sets
 * *idx when found, 0 when not (a miss is not an error), CS_EINVAL for NULL
 * arguments.
 */
CS_API int cs_estate_vpc_find(const cs_snapshot *s, const char *id, size_t len,
                              uint32_t *idx);

/* Account id -> index (binary search: accounts are sorted by id). Returns 1
 * and sets *idx, or 0 when absent, CS_EINVAL for NULL. */
CS_API int cs_estate_account_find(const cs_snapshot *s, const char *id,
                                  size_t len, uint32_t *idx);

/* Peering connection id -> index (binary search: sorted by id). As
 * cs_estate_account_find. */
CS_API int cs_estate_peering_find(const cs_snapshot *s, const char *id,
                                  size_t len, uint32_t *idx);

#ifdef __cplusplus
}
#endif
#endif
