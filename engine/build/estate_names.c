/*
 * engine/build/estate_names.c — the names of the estate's enumerations
 * (association and peering states, edge kinds, VPC states, IP sources, IPv6
 * attributes) as AWS prints them, and their parsers: the one table each,
 * used by ingest to read and by reports to print.
 * Pure functions, thread-safe. Tests: tests/test_estate.c, tests/test_csv.c.
 */
#include <cidrscope/estate.h>

#include <string.h>

/* ---- names of enumerations ------------------------------------------------ */

static const char *const assoc_state_names[CS_ASSOC_STATE_COUNT] = {
    "unspecified", "associating", "associated", "disassociating",
    "disassociated", "failing", "failed", "unknown"};
static const char *const pcx_status_names[CS_PCX_STATUS_COUNT] = {
    "initiating-request", "pending-acceptance", "provisioning", "active",
    "deleting", "deleted", "rejected", "failed", "expired", "unknown"};
static const char *const edge_kind_names[CS_EDGE_KIND_COUNT] = {
    "internet-gateway", "nat", "vpn", "direct-connect", "gateway-endpoint"};
static const char *const vpc_state_names[CS_VPC_STATE_COUNT] = {
    "unspecified", "pending", "available"};
static const char *const ip_source_names[CS_IPSRC_COUNT] = {
    "unspecified", "amazon", "byoip", "none"};
static const char *const ipv6_attr_names[CS_IPV6ATTR_COUNT] = {
    "unspecified", "public", "private"};

static int parse_name(const char *const *names, unsigned n, unsigned first,
                      const char *s, size_t len)
{
    if (!s)
        return CS_EPARSE;
    for (unsigned i = first; i < n; i++)
        if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
            return (int)i;
    return CS_EPARSE;
}

const char *cs_assoc_state_name(unsigned st)
{
    return st < CS_ASSOC_STATE_COUNT ? assoc_state_names[st] : "?";
}

int cs_assoc_state_parse(const char *s, size_t len)
{
    /* "unknown" is what the reader makes of a state it does not know, never
     * a state to read. */
    return parse_name(assoc_state_names, CS_ASSOC_UNKNOWN, 1, s, len);
}

const char *cs_pcx_status_name(unsigned st)
{
    return st < CS_PCX_STATUS_COUNT ? pcx_status_names[st] : "?";
}

int cs_pcx_status_parse(const char *s, size_t len)
{
    return parse_name(pcx_status_names, CS_PCX_UNKNOWN, 0, s, len);
}

const char *cs_edge_kind_name(unsigned kind)
{
    return kind < CS_EDGE_KIND_COUNT ? edge_kind_names[kind] : "?";
}

int cs_edge_kind_parse(const char *s, size_t len)
{
    int k = parse_name(edge_kind_names, CS_EDGE_KIND_COUNT, 0, s, len);
    if (k >= 0)
        return k;
    /* The resource-id prefixes, as they appear in route tables. */
    static const struct { const char *p; int kind; } alias[] = {
        {"igw", CS_EDGE_INTERNET_GATEWAY}, {"nat", CS_EDGE_NAT},
        {"vgw", CS_EDGE_VPN}, {"vpn", CS_EDGE_VPN},
        {"dx", CS_EDGE_DIRECT_CONNECT}, {"dxgw", CS_EDGE_DIRECT_CONNECT},
        {"vpce", CS_EDGE_GATEWAY_ENDPOINT}};
    for (size_t i = 0; s && i < sizeof alias / sizeof *alias; i++)
        if (strlen(alias[i].p) == len && memcmp(alias[i].p, s, len) == 0)
            return alias[i].kind;
    return CS_EPARSE;
}

const char *cs_vpc_state_name(unsigned st)
{
    return st < CS_VPC_STATE_COUNT ? vpc_state_names[st] : "?";
}

int cs_vpc_state_parse(const char *s, size_t len)
{
    return parse_name(vpc_state_names, CS_VPC_STATE_COUNT, 1, s, len);
}

const char *cs_ip_source_name(unsigned src)
{
    return src < CS_IPSRC_COUNT ? ip_source_names[src] : "?";
}

int cs_ip_source_parse(const char *s, size_t len)
{
    return parse_name(ip_source_names, CS_IPSRC_COUNT, 1, s, len);
}

const char *cs_ipv6_attr_name(unsigned a)
{
    return a < CS_IPV6ATTR_COUNT ? ipv6_attr_names[a] : "?";
}

int cs_ipv6_attr_parse(const char *s, size_t len)
{
    return parse_name(ipv6_attr_names, CS_IPV6ATTR_COUNT, 1, s, len);
}

