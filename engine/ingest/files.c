/*
 * engine/ingest/files.c — what every reader of engine/ingest/ needs around
 * its parser: reading a whole file into memory, and turning a byte offset of
 * an in-memory source into a line, a column and a caret line.
 *
 * Does not: interpret content. Thread-safe (no state). Tests:
 * tests/test_csv.c.
 */
#include "ingest/ingest_internal.h"

#include "core/error_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cs_ingest_file_read(const char *path, size_t max_len, cs_ingest_file *out, cs_error *err)
{
    if (!path || !out)
        return cs_fail(err, CS_EINVAL, "NULL path or out");
    out->data = NULL;
    out->len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cs_ingest_open_error(err, path, "cannot open", errno);
    struct stat st;
    size_t cap = 64 * 1024;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
        cap = (size_t)st.st_size + 1;
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return cs_ingest_open_error(err, path, "cannot read", EISDIR);
    }
    if (max_len && cap > max_len + 1)
        cap = max_len + 1;
    char *buf = malloc(cap + 1);
    if (!buf) {
        close(fd);
        return cs_fail(err, CS_ENOMEM, "out of memory reading %s", path);
    }
    size_t len = 0;
    int rc = 0;
    for (;;) {
        if (len == cap) {
            if (max_len && len > max_len) {
                rc = CS_ERANGE;
                break;
            }
            size_t ncap = cap * 2;
            if (max_len && ncap > max_len + 1)
                ncap = max_len + 1;
            char *nb = realloc(buf, ncap + 1);
            if (!nb) {
                rc = CS_ENOMEM;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = CS_EIO;
            break;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    int saved = errno;
    close(fd);
    if (!rc && max_len && len > max_len)
        rc = CS_ERANGE;
    if (rc) {
        free(buf);
        if (rc == CS_EIO)
            return cs_ingest_open_error(err, path, "read failed", saved);
        cs_error_source(err, path);
        if (rc == CS_ERANGE)
            return cs_fail(err, rc, "larger than the %zu bytes accepted", max_len);
        return cs_fail(err, rc, "out of memory reading %s", path);
    }
    buf[len] = '\0';
    out->data = buf;
    out->len = len;
    return 0;
}

int cs_ingest_errno_status(int en)
{
    switch (en) {
    case ENOENT:
    case ENOTDIR:
    case EACCES:
    case EPERM:
    case EISDIR:
    case ELOOP:
    case ENAMETOOLONG:
    case ENXIO:
    case ENODEV:
        return CS_EINVAL;
    case ENOMEM:
        return CS_ENOMEM;
    default:
        return CS_EIO;
    }
}

int cs_ingest_open_error(cs_error *err, const char *path, const char *what,
                         int en)
{
    cs_error_clear(err);
    cs_error_source(err, path);
    return cs_fail(err, cs_ingest_errno_status(en), "%s: %s", what,
                   strerror(en));
}

void cs_ingest_file_free(cs_ingest_file *f)
{
    if (!f)
        return;
    free(f->data);
    f->data = NULL;
    f->len = 0;
}

void cs_ingest_locate(cs_error *err, const char *source, const char *buf, size_t len,
                      size_t offset, uint32_t span)
{
    if (!err)
        return;
    if (offset > len)
        offset = len;
    uint64_t line = 1;
    size_t ls = 0;
    for (const char *p = buf; p && (size_t)(p - buf) < offset;) {
        const char *nl = memchr(p, '\n', offset - (size_t)(p - buf));
        if (!nl)
            break;
        line++;
        ls = (size_t)(nl - buf) + 1;
        p = nl + 1;
    }
    size_t le = offset;
    while (le < len && buf[le] != '\n' && le - offset < 4096)
        le++;
    uint64_t col = offset - ls + 1;
    cs_error_locate(err, source, line, col > UINT32_MAX ? UINT32_MAX : (uint32_t)col, offset,
                    span, buf ? buf + ls : NULL, le - ls);
}
