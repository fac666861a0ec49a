/* A syslog client over TLS (adapters/syslog): RFC 5424 messages framed by
 * octet counting and sent over TLS to a collector (RFC 5425), through the
 * network layer (radlink/net.h). The collector answers nothing: RFC 5425 has
 * no acknowledgement, so how long a connection must stay up before what went
 * out on it counts as delivered is the caller's decision (the audit shipper,
 * radlink/audit_ship.h).
 *
 * Threads: a client belongs to one thread at a time. */
#ifndef RADLINK_SYSLOG_H
#define RADLINK_SYSLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "radlink/err.h"
#include "radlink/util.h"

typedef struct syslog_opts {
    const char *host;        /* the collector: a name or an address */
    unsigned port;
    const char *server_name; /* NULL: host; the name the collector's certificate must carry */
    const char *ca;          /* PEM; NULL: the system's trust store */
    const char *cert, *key;  /* PEM, together; NULL: no client certificate */
    int timeout_ms;          /* to connect, to finish the handshake, for a write to go on */
} syslog_opts;

typedef struct syslog_client syslog_client;

/* Load the TLS files (NET_E_TLS_CONFIG, "TLS <what> <file>: <reason>"); no
 * connection yet. o's strings are copied. *out is the caller's, freed by
 * syslog_client_free. */
int syslog_client_new(const syslog_opts *o, syslog_client **out, rl_err *err);
/* Connect and do the TLS handshake. The reasons say what failed, for a
 * status line that already names the collector: "<host>: <resolver's
 * text>", "connect: <reason>", "TLS: the collector's certificate: <why>",
 * "TLS handshake failed: <reason>". */
int syslog_connect(syslog_client *c, rl_err *err);
bool syslog_connected(const syslog_client *c);
/* Write all of data (frames syslog_frame made); "write to the collector
 * failed: <reason>" when the connection broke or took nothing for
 * timeout_ms. The connection is left for syslog_disconnect. */
int syslog_send(syslog_client *c, const char *data, size_t n, rl_err *err);
/* Whether the collector closed or reset the connection. A collector says
 * nothing: bytes it sends are read and dropped. */
bool syslog_gone(syslog_client *c);
/* Close the connection; the client stays, to connect again. */
void syslog_disconnect(syslog_client *c);
/* Close and free (NULL is fine). */
void syslog_client_free(syslog_client *c);

/* The RFC 5424 header of a message (6.2). */
typedef struct syslog_header {
    int pri;           /* facility * 8 + severity */
    int64_t time_us;   /* TIMESTAMP: wall clock, microseconds since the epoch */
    const char *hostname, *app, *msgid;
    long procid;
} syslog_header;

/* Append one message to out: "LEN <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID
 * MSGID - MSG" (no structured data), LEN its length in octets (RFC 5425
 * 4.3). 0, or -1 when out's limit or memory would be passed. */
int syslog_frame(rl_buf *out, const syslog_header *h, rl_str msg);

#endif
