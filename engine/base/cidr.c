/* Source filters: addresses and CIDR blocks (radlink/cidr.h). */
#include "radlink/cidr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const unsigned char v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* One entry ("10.0.0.0/8", "::1"): 0, or -1 when it does not parse. */
static int parse_one(const char *item, cidr_block *b)
{
    char host[64];
    const char *slash = strchr(item, '/');
    size_t hn = slash ? (size_t)(slash - item) : strlen(item);
    if (hn == 0 || hn >= sizeof host)
        return -1;
    memcpy(host, item, hn);
    host[hn] = '\0';
    memset(b, 0, sizeof *b);
    if (inet_pton(AF_INET, host, b->addr) == 1) {
        b->v6 = 0;
        b->prefix = 32;
    } else if (inet_pton(AF_INET6, host, b->addr) == 1) {
        b->v6 = 1;
        b->prefix = 128;
    } else {
        return -1;
    }
    if (slash) {
        char *end;
        const char *p = slash + 1;
        if (*p < '0' || *p > '9')
            return -1;
        unsigned long bits = strtoul(p, &end, 10);
        if (*end || bits > b->prefix)
            return -1;
        b->prefix = (unsigned char)bits;
    }
    /* an IPv4-mapped block is kept as the IPv4 block it means */
    if (b->v6 && b->prefix >= 96 && memcmp(b->addr, v4_mapped, 12) == 0) {
        memmove(b->addr, b->addr + 12, 4);
        memset(b->addr + 4, 0, 12);
        b->v6 = 0;
        b->prefix = (unsigned char)(b->prefix - 96);
    }
    return 0;
}

int cidr_parse(const char *text, cidr_list *out, char *why, size_t why_n)
{
    memset(out, 0, sizeof *out);
    const char *p = text ? text : "";
    for (;;) {
        p += strspn(p, " ,\t\r\n");
        if (!*p)
            return 0;
        size_t n = strcspn(p, " ,\t\r\n");
        char item[80];
        snprintf(item, sizeof item, "%.*s", (int)n, p);
        if (out->n == RL_ALLOW_FROM_MAX) {
            snprintf(why, why_n, "more than %d addresses and blocks", RL_ALLOW_FROM_MAX);
            return -1;
        }
        if (n >= sizeof item || parse_one(item, &out->b[out->n]) != 0) {
            snprintf(why, why_n, "'%.*s' is not an address or CIDR block (10.0.0.0/8, "
                     "192.168.1.5, fd00::/8)", (int)(n > 60 ? 60 : n), p);
            return -1;
        }
        out->n++;
        p += n;
    }
}

static bool block_has(const cidr_block *b, const unsigned char *addr)
{
    unsigned full = b->prefix / 8u, rest = b->prefix % 8u;
    if (memcmp(b->addr, addr, full) != 0)
        return false;
    if (!rest)
        return true;
    unsigned char mask = (unsigned char)(0xffu << (8u - rest));
    return (b->addr[full] & mask) == (addr[full] & mask);
}

bool cidr_match(const cidr_list *l, bool v6, const unsigned char *addr)
{
    if (!l || !l->n)
        return true;
    if (v6 && memcmp(addr, v4_mapped, 12) == 0) {
        v6 = false;
        addr += 12;
    }
    for (unsigned i = 0; i < l->n; i++)
        if (l->b[i].v6 == v6 && block_has(&l->b[i], addr))
            return true;
    return false;
}

bool cidr_match_text(const cidr_list *l, const char *ip)
{
    if (!l || !l->n)
        return true;
    unsigned char a[16];
    if (inet_pton(AF_INET, ip, a) == 1)
        return cidr_match(l, false, a);
    if (inet_pton(AF_INET6, ip, a) == 1)
        return cidr_match(l, true, a);
    return false;
}
