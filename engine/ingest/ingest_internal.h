/*
 * engine/ingest/ingest_internal.h — what the readers of engine/ingest/ share.
 *
 * Readers: csv.c (VPC CSV, peering CSV, prefix lists), the AWS CLI JSON
 * reader in three files (json_stream.c: bytes, yajl and positions;
 * aws_json.c: the EC2 shapes; estate_dir.c: the ESTATE/<account>/<region>/
 * walk), load.c (opens a source once, tells its kind from the bytes read and
 * dispatches: cs_estate_load, cs_estate_load_sources, cs_estate_detect in
 * estate.h), files.c (whole files, carets, open errors).
 * Every reader adds to a cs_estate through the public builder calls only
 * (the AWS CLI JSON readers through their recording wrappers, cs_ingest_*
 * in replay_internal.h, so estate_dir.c can parse them on helper threads), and
 * reports bad input through cs_error with file, line and column
 * (cs_error_locate) so the CLI can draw a caret.
 *
 * Keep-going contract (every reader): with opts->keep_going a bad record is
 * passed to cs_estate_reject(e, &record_err) and reading goes on; the reader
 * returns the number of records it rejected (>= 0). Without it the first bad
 * record's error is returned (< 0). CS_ENOMEM always stops.
 *
 * This header is additive: readers add declarations, never change one.
 */
#ifndef CS_INGEST_INTERNAL_H
#define CS_INGEST_INTERNAL_H

#include <cidrscope/estate.h>

#include <stddef.h>
#include <stdint.h>

/* ---- whole files -------------------------------------------------------- */

/*
 * A file read whole into memory, NUL-terminated (data[len] == 0; the file may
 * itself contain NULs, which readers reject with a location). Returns 0,
 * CS_EIO (message: "PATH: strerror"), CS_ERANGE (larger than `max_len`
 * bytes; 0 = no limit), CS_ENOMEM. Release with cs_ingest_file_free.
 */
typedef struct cs_ingest_file {
    char *data;
    size_t len;
} cs_ingest_file;

int cs_ingest_file_read(const char *path, size_t max_len, cs_ingest_file *out,
                        cs_error *err);
void cs_ingest_file_free(cs_ingest_file *f);

/*
 * Fills err's location for byte `offset` of `buf[0..len)` (a whole source
 * read into memory): computes line and column (1-based, columns in bytes),
 * copies that line for the caret. `span` bytes are underlined. The message
 * and code are left to cs_fail.
 */
void cs_ingest_locate(cs_error *err, const char *source, const char *buf,
                      size_t len, size_t offset, uint32_t span);

/*
 * The status for a failed open() or read() of an input (errno `en`): a path
 * the user named that does not exist, is not readable (permission denied),
 * is a directory where a file was wanted, or loops, is bad input
 * (CS_EINVAL: exit 2), whether named on the command line or found inside an
 * estate directory; only the system's own failures (EIO, EMFILE, ENFILE,
 * ENOMEM...) are CS_EIO / CS_ENOMEM (exit 3). Pure.
 */
int cs_ingest_errno_status(int en);

/* Fills err for a failed open or read of `path` (errno `en`): source =
 * path, message "cannot open: No such file or directory" (the path is named
 * once, by the source). `what` is "cannot open" or "read failed". Returns
 * the status (cs_ingest_errno_status). */
int cs_ingest_open_error(cs_error *err, const char *path, const char *what,
                         int en);

/* ---- readers ------------------------------------------------------------ */

/* VPC CSV (account,region,vpc_id,cidr[,state][,is_default][,name]), peering
 * CSV (pcx_id,requester_vpc,accepter_vpc,status), prefix lists (owner,prefix
 * / provider,family,prefix): engine/ingest/csv.c. `buf[0..len)` is the whole
 * file, `source` its name for messages. Return rejected records (>= 0) or a
 * negative code, per the keep-going contract. */
int cs_ingest_csv_vpcs(cs_estate *e, const char *source, const char *buf,
                       size_t len, const cs_load_options *opts, cs_error *err);
int cs_ingest_csv_peerings(cs_estate *e, const char *source, const char *buf,
                           size_t len, const cs_load_options *opts,
                           cs_error *err);
int cs_ingest_prefix_list(cs_estate *e, const char *source, const char *buf,
                          size_t len, const cs_load_options *opts,
                          cs_error *err);

/* The same readers streaming from an open descriptor in bounded chunks
 * (memory stays under ~1.3 MiB whatever the file size): `kind` is
 * CS_SRC_CSV_VPCS, CS_SRC_CSV_PEERINGS, CS_SRC_CSV_EDGES or
 * CS_SRC_PREFIX_LIST. The descriptor
 * is read to its end and left open. Returns as the CSV readers. */
int cs_ingest_csv_fd(cs_estate *e, const char *source, int fd, int kind,
                     const cs_load_options *opts, cs_error *err);

/* cs_ingest_csv_fd after `head[0..head_len)` (at most 256 KiB), the bytes
 * the caller already read from `fd` to tell its kind (a pipe cannot be read
 * twice). */
int cs_ingest_csv_fd_head(cs_estate *e, const char *source, int fd,
                          const void *head, size_t head_len, int kind,
                          const cs_load_options *opts, cs_error *err);

/* The CSV shape a header line names: CS_SRC_CSV_PEERINGS (pcx_id,
 * requester_vpc, accepter_vpc, status), CS_SRC_CSV_VPCS (account, region,
 * vpc_id, cidr), else CS_SRC_PREFIX_LIST. Pure. */
int cs_ingest_csv_header_kind(const char *line, size_t len);

/* Reads one AWS CLI JSON file (describe-vpcs or
 * describe-vpc-peering-connections output, told apart by its top-level key)
 * whose VPCs are in `region` (NULL = unknown; describe-vpcs output carries
 * none): engine/ingest/aws_json.c. Returns as the CSV readers. */
int cs_ingest_aws_json(cs_estate *e, const char *path, const char *region,
                       const cs_load_options *opts, cs_error *err);

/* cs_ingest_aws_json from the open descriptor `fd` (named `path`, left
 * open) after `head[0..head_len)`, the bytes already read from it; the
 * region and account are opts->region / opts->account. */
int cs_ingest_aws_json_fd(cs_estate *e, const char *path, int fd,
                          const void *head, size_t head_len,
                          const cs_load_options *opts, cs_error *err);

/* Reads an org-wide collection ESTATE/<account-id>/<region>/ (every .json
 * page file, classified by content): engine/ingest/estate_dir.c. Returns as
 * the CSV readers. */
int cs_ingest_estate_dir(cs_estate *e, const char *dir,
                         const cs_load_options *opts, cs_error *err);

#endif
