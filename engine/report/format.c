/*
 * engine/report/format.c — the names of enum cs_report_format, the one
 * format enum of every report writer (<cidrscope/report.h>).
 *
 * Does: map a format to the word the `--format` flag takes and back, with
 * a message listing what a verb allows. Does not: write anything.
 * Tests: tests/test_report.c (report__format_names_round_trip).
 */
#include "core/error_internal.h"

#include <cidrscope/report.h>

#include <string.h>

static const char *const format_names[CS_REPORT_FORMAT_COUNT] = {
    [CS_REPORT_TEXT] = "text", [CS_REPORT_JSON] = "json", [CS_REPORT_CSV] = "csv",
    [CS_REPORT_NDJSON] = "ndjson", [CS_REPORT_HTML] = "html",
};

const char *cs_report_format_name(enum cs_report_format f)
{
    return (unsigned)f < CS_REPORT_FORMAT_COUNT ? format_names[f] : NULL;
}

int cs_report_format_parse(const char *value, unsigned allowed, enum cs_report_format *out,
                           cs_error *err)
{
    if (!allowed)
        allowed = (1u << CS_REPORT_FORMAT_COUNT) - 1;
    for (unsigned i = 0; value && i < CS_REPORT_FORMAT_COUNT; i++) {
        if (strcmp(value, format_names[i]) == 0 && (allowed & (1u << i))) {
            if (out)
                *out = (enum cs_report_format)i;
            return 0;
        }
    }
    /* "text|json|csv|ndjson|html" is 25 bytes. */
    char list[32] = "";
    for (unsigned i = 0; i < CS_REPORT_FORMAT_COUNT; i++) {
        if (!(allowed & (1u << i)))
            continue;
        if (list[0])
            strcat(list, "|");
        strcat(list, format_names[i]);
    }
    return cs_fail(err, CS_EINVAL, "unknown --format '%s' (expected %s)", value ? value : "", list);
}
