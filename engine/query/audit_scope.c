/*
 * engine/query/audit_scope.c — the public read of an audit result's scope
 * (cs_audit_vpc_in_scope), so report writers need not include
 * audit_internal.h. Does nothing else. Tests: tests/test_report.c.
 */
#include "query/audit_internal.h"

bool cs_audit_vpc_in_scope(const cs_audit_result *r, uint32_t v)
{
    return r && audit_in_scope(r, v);
}
