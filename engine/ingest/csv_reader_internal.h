/*
 * engine/ingest/csv_reader_internal.h — the CSV record reader shared by the
 * CSV shapes (engine/ingest/csv.c): RFC 4180 records from a descriptor in
 * bounded windows or from memory, fields located by line and column.
 * Implemented in engine/ingest/csv_reader.c. One reader, one thread.
 */
#ifndef CS_CSV_READER_INTERNAL_H
#define CS_CSV_READER_INTERNAL_H

#include <cidrscope/error.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CSV_RECORD_MAX (1u << 20)
#define CSV_CHUNK (256u << 10)
#define CSV_FIELDS_MAX 256u

typedef struct csv_field {
    const char *p;      /* content (unescaped), not NUL-terminated */
    size_t len;
    uint64_t line;      /* where the field's text starts */
    uint32_t col;       /* 1-based byte column of the content */
    size_t ls;          /* index in the window of its line's start */
    bool quoted;
} csv_field;

typedef struct csv_reader {
    const char *source;
    int fd;             /* -1: all input is in `buf` */
    char *own;          /* the window, when reading a descriptor */
    const char *buf;
    size_t len, pos;
    uint64_t base;      /* input offset of buf[0] */
    bool eof;
    bool skip_line;     /* discarding the rest of a too-long line */
    uint64_t line;      /* line number at buf[pos] */
    char *scratch;      /* unescaped quoted fields, one record's worth */
    size_t scratch_cap;
    csv_field f[CSV_FIELDS_MAX];
    unsigned nf;
    uint64_t rec_line;  /* first line of the current record */
    size_t rec_start;   /* window index of the current record */
} csv_reader;

/* A reader over buf[0..len) (not copied: it must outlive the reader). */
void cs_csv_reader_mem(csv_reader *r, const char *source, const char *buf, size_t len);

/* A reader over descriptor fd (not closed); 0 or CS_ENOMEM. */
int cs_csv_reader_fd(csv_reader *r, const char *source, int fd);

/* Frees the reader's window and scratch (not the descriptor). */
void cs_csv_reader_free(csv_reader *r);

/*
 * Reads the next record into r->f[0..nf). Returns 1 (a record), 0 (end of
 * input), or a negative code with err located: CS_EPARSE for malformed
 * input (the reader has moved past the bad record, so the caller may go
 * on), CS_EIO, CS_ENOMEM.
 */
int cs_csv_next(csv_reader *r, cs_error *err);

/* Locates err at window index `at` of line `line` whose start is window
 * index `ls`, with that physical line as the caret text. */
void cs_csv_locate_at(const csv_reader *r, cs_error *err, uint64_t line, size_t ls, size_t at,
                      uint32_t span);

/* Locates err at byte k of field f, underlining `span` bytes (0: the
 * field). */
void cs_csv_locate_field(const csv_reader *r, cs_error *err, const csv_field *f, size_t k,
                         uint32_t span);

/* Field `col` of the record after the current one, when it is plain and
 * already read (a hint: see csv_reader.c). 1 with *p, *len set, else 0. */
int cs_csv_peek_field(const csv_reader *r, unsigned col, const char **p, size_t *len);

#endif
