/* Source filters (<mllp allow-from>, <dicom allow-from>, <http allow-from>):
 * a list of addresses and CIDR blocks, IPv4 and IPv6, parsed from the
 * configuration's text and matched against a connection's address before
 * any byte of it is read. Pure: the adapters turn their socket addresses
 * into bytes (net_addr_allowed in radlink/net.h). */
#ifndef RADLINK_CIDR_H
#define RADLINK_CIDR_H

#include <stdbool.h>
#include <stddef.h>

#include "radlink/limits.h"

typedef struct cidr_block {
    unsigned char v6;       /* 0: IPv4 (4 bytes of addr), 1: IPv6 (16) */
    unsigned char prefix;   /* leading bits that must match */
    unsigned char addr[16]; /* network byte order */
} cidr_block;

/* n == 0: no filter, every address is allowed. */
typedef struct cidr_list {
    unsigned n;
    cidr_block b[RL_ALLOW_FROM_MAX];
} cidr_list;

/* Parse "10.0.0.0/8 192.168.1.5, ::1 fd00::/8" (separated by spaces or
 * commas) into out. -1 with why ("'10.0.0/8' is not an address or CIDR
 * block", "more than 64 entries") when an entry does not parse. An empty
 * text is the empty list. */
int cidr_parse(const char *text, cidr_list *out, char *why, size_t why_n);
/* Whether the address (4 or 16 bytes, network order) is allowed by l: the
 * empty list allows all; an IPv4-mapped IPv6 address (::ffff:a.b.c.d)
 * matches as the IPv4 address it carries. */
bool cidr_match(const cidr_list *l, bool v6, const unsigned char *addr);
/* The same for an address's text ("10.1.2.3", "::1"); false when it does
 * not parse and l is not empty. */
bool cidr_match_text(const cidr_list *l, const char *ip);

#endif
