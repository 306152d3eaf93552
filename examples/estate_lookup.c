/*
 * examples/estate_lookup.c — the library from the outside: load an estate
 * (any source cidrscope reads: an org-wide AWS CLI tree, CSV, a prefix list),
 * freeze it, then answer one overlap query and one longest-prefix lookup.
 *
 *   estate_lookup SOURCE PREFIX ADDRESS
 *
 * prints "overlaps PREFIX: N", one "  CIDR VPC ACCOUNT" line per overlapping
 * block, then "lookup ADDRESS: CIDR VPC" (or "lookup ADDRESS: none").
 * Built against the INSTALLED library by tests/support/check_install.sh,
 * once with pkg-config (cidrscope.pc) and once with find_package(cidrscope).
 */
#include <stdio.h>
#include <string.h>

#include <cidrscope/cidrscope.h>

static int fail(const char *what, const cs_error *err)
{
    char buf[1024];
    cs_error_format(err, buf, sizeof buf);
    fprintf(stderr, "estate_lookup: %s: %s\n", what, buf);
    return 2;
}

/* Prints the block of association `assoc` and the VPC and account owning it. */
static void print_block(const cs_snapshot *s, uint32_t assoc)
{
    cs_assoc a;
    cs_vpc v;
    cs_account acct;
    char text[CS_PREFIX_STRCAP];
    if (cs_estate_assoc(s, assoc, &a) != 0 || cs_estate_vpc(s, a.vpc_idx, &v) != 0
        || cs_estate_account(s, v.account_idx, &acct) != 0)
        return;
    cs_prefix_format(&a.prefix, text, sizeof text);
    printf("  %s %s %s\n", text, v.id, acct.id);
}

static int print_match(const cs_match *m, void *ctx)
{
    for (uint32_t i = 0; i < m->count; i++)
        print_block(ctx, m->values[i]);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: estate_lookup SOURCE PREFIX ADDRESS\n");
        return 2;
    }
    cs_error err;
    cs_error_clear(&err);
    cs_estate *e = cs_estate_new();
    if (!e)
        return 3;
    cs_snapshot *s = NULL;
    if (cs_estate_load(e, argv[1], NULL, &err) < 0 || cs_estate_freeze(e, &s, &err) < 0) {
        cs_estate_free(e);
        return fail(argv[1], &err);
    }
    cs_estate_free(e);   /* the frozen image stands alone */

    cs_prefix q, addr;
    if (cs_prefix_parse(argv[2], strlen(argv[2]), 0, &q, &err) != 0
        || cs_address_parse(argv[3], strlen(argv[3]), 0, &addr, &err) != 0) {
        cs_snapshot_close(s);
        return fail("argument", &err);
    }

    printf("overlaps %s: %lld\n", argv[2], (long long)cs_query_count(s, &q, CS_Q_OVERLAPPING));
    cs_query_walk(s, &q, CS_Q_OVERLAPPING, print_match, s);

    cs_match m;
    if (cs_lookup(s, &addr, &m) == 1) {
        char text[CS_PREFIX_STRCAP];
        cs_assoc a;
        cs_vpc v;
        cs_prefix_format(&m.prefix, text, sizeof text);
        if (cs_estate_assoc(s, m.values[0], &a) == 0 && cs_estate_vpc(s, a.vpc_idx, &v) == 0)
            printf("lookup %s: %s %s\n", argv[3], text, v.id);
    } else {
        printf("lookup %s: none\n", argv[3]);
    }
    cs_snapshot_close(s);
    return 0;
}
