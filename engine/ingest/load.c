/*
 * engine/ingest/load.c — cs_estate_detect and cs_estate_load: name what a
 * source path holds and hand it to the right reader.
 *
 * Detection (estate.h documents it): a directory is an org-wide collection
 * (ESTATE/<account>/<region>/{vpcs,peering}.json, engine/ingest/aws_json.c);
 * a file is judged by its first bytes: "CIDRSCP\0" a snapshot image, '{' or
 * '[' (after a UTF-8 byte-order mark and blanks) AWS CLI JSON, otherwise its
 * first line as a CSV header (engine/ingest/csv.c): VPC CIDRs, peering
 * connections, or a prefix list. Only the first 64 KiB are read to decide.
 *
 * Does not: parse anything itself. Thread-safe as the readers are (one
 * estate per thread). Tests: tests/test_csv.c (detection and dispatch).
 */
#include "ingest/ingest_internal.h"

#include "core/error_internal.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DETECT_WINDOW (64u * 1024u)

static int io_error(cs_error *err, const char *path, const char *what)
{
    return cs_ingest_open_error(err, path, what ? what : "cannot open", errno);
}

int cs_estate_detect(const char *path, cs_error *err)
{
    if (!path)
        return cs_fail(err, CS_EINVAL, "NULL path");
    struct stat st;
    if (stat(path, &st) != 0)
        return io_error(err, path, NULL);
    if (S_ISDIR(st.st_mode))
        return CS_SRC_DIR;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return io_error(err, path, NULL);
    static_assert(DETECT_WINDOW <= 1u << 20, "detection window stays small");
    char buf[DETECT_WINDOW];
    size_t len = 0;
    while (len < sizeof buf) {
        ssize_t n = read(fd, buf + len, sizeof buf - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int rc = io_error(err, path, "read failed");
            close(fd);
            return rc;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    if (len >= 8 && memcmp(buf, "CIDRSCP", 8) == 0)
        return CS_SRC_SNAPSHOT;
    size_t i = 0;
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
        i = 3;
    size_t start = i;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
        i++;
    if (i == len) {
        cs_error_locate(err, path, 1, 1, 0, 0, NULL, 0);
        return cs_fail(err, CS_EPARSE, len ? "file holds only blanks" : "empty file");
    }
    if (buf[i] == '{' || buf[i] == '[')
        return CS_SRC_AWS_JSON;
    const char *nl = memchr(buf + start, '\n', len - start);
    size_t line_len = nl ? (size_t)(nl - (buf + start)) : len - start;
    return cs_ingest_csv_header_kind(buf + start, line_len);
}

int cs_estate_load(cs_estate *e, const char *path, const cs_load_options *opts, cs_error *err)
{
    if (!e || !path)
        return cs_fail(err, CS_EINVAL, "NULL estate or path");
    static const cs_load_options defaults = {0};
    if (!opts)
        opts = &defaults;
    int kind = opts->kind;
    if (kind == CS_SRC_AUTO) {
        kind = cs_estate_detect(path, err);
        if (kind < 0) {
            /* An empty or unreadable file is one rejected source under
             * keep-going, like any bad file of a directory. */
            if (opts->keep_going && kind == CS_EPARSE) {
                int fr = cs_estate_reject(e, err);
                return fr ? cs_fail(err, fr, "out of memory recording a rejected file") : 1;
            }
            return kind;
        }
    }
    switch (kind) {
    case CS_SRC_DIR:
        return cs_ingest_estate_dir(e, path, opts, err);
    case CS_SRC_AWS_JSON:
        return cs_ingest_aws_json(e, path, opts->region, opts, err);
    case CS_SRC_CSV_VPCS:
    case CS_SRC_CSV_PEERINGS:
    case CS_SRC_CSV_EDGES:
    case CS_SRC_PREFIX_LIST: {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return io_error(err, path, NULL);
        int rc = cs_ingest_csv_fd(e, path, fd, kind, opts, err);
        close(fd);
        return rc;
    }
    case CS_SRC_SNAPSHOT:
        cs_error_locate(err, path, 0, 0, 0, 0, NULL, 0);
        return cs_fail(err, CS_EINVAL,
                       "%s is a snapshot image, not a source: open it with cs_snapshot_open",
                       path);
    default:
        return cs_fail(err, CS_EINVAL, "unknown source kind %d", kind);
    }
}
