/* Shipping the audit trail to a collector over syslog TLS (RFC 5425 framing
 * of RFC 5424 messages, IHE ATNA ITI-20): a thread of the engine that reads
 * events from the store after the last one the collector took. A collector
 * that is down delays shipping and loses nothing; one that went away in the
 * middle gets the unconfirmed events again (at least once, never lost).
 *
 * Threads: audit_ship_start, _stop from the loop's thread; _wake and
 * _status from any. */
#ifndef RADLINK_AUDIT_SHIP_H
#define RADLINK_AUDIT_SHIP_H

#include "radlink/cmd.h"
#include "radlink/store.h"

typedef struct audit_ship_cfg {
    char host[256], server_name[256]; /* server_name "" = host: what the certificate names */
    unsigned port;
    char ca[1024], cert[1024], key[1024]; /* PEM; ca "" = the system's trust store,
                                           * cert "" = no client certificate */
    char hostname[256];                   /* ours, in the syslog header ("" = gethostname) */
    store *st;                            /* read here; must outlive the shipper */
    cmdq *q;                              /* CMD_AUDIT_SHIPPED goes to the loop through it */
} audit_ship_cfg;

typedef struct audit_shipper audit_shipper;

/* Check the TLS files and start the thread (it connects on its own, and
 * again after each failure with backoff). *out is the caller's, freed by
 * audit_ship_stop. */
int audit_ship_start(const audit_ship_cfg *c, audit_shipper **out, rl_err *err);
/* New events are committed: look (s may be NULL). */
void audit_ship_wake(audit_shipper *s);
/* One line for `radlink status` (s may be NULL). */
void audit_ship_status(audit_shipper *s, rl_buf *out);
/* Since when the collector is down (0: up; the engine's start when it was
 * never reached), with why. */
int64_t audit_ship_down_since(audit_shipper *s, char *why, size_t n);
/* Stop the thread (the confirmation of what went out is posted first) and
 * free s (may be NULL). */
void audit_ship_stop(audit_shipper *s);

#endif
