/* The network layer (adapters/net): TCP listeners, accepted and outgoing
 * connections, TLS server and client contexts over OpenSSL, non-blocking
 * reads, writes and handshakes, and address text. Every C adapter that
 * talks TCP (MLLP, HTTP, the syslog shipper, later clients) does so through
 * these functions; nothing else includes OpenSSL's or the socket headers
 * (the DICOM bridge aside: DCMTK has its own).
 *
 * Errors: functions return 0, a positive status of their own (NET_AGAIN,
 * NET_EOF) or a negative NET_E_* code (radlink/err.h) with the detail in
 * err (which may be NULL). A listener's or a TLS file's error names its
 * place ("MLLP listener 0.0.0.0:2575: Address already in use", "TLS CA file
 * ca.pem: ..."); a connection's error is only the reason ("Connection
 * refused", "connection timed out"): the caller names the peer and what it
 * was doing, as only it knows.
 *
 * Threads: a net_conn and a net_tls_ctx's connections belong to one thread
 * at a time; a context may be shared by threads once made (OpenSSL allows
 * SSL_new from several threads on one SSL_CTX). */
#ifndef RADLINK_NET_H
#define RADLINK_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "radlink/cidr.h"
#include "radlink/err.h"
#include "radlink/limits.h"
#include "radlink/util.h"

/* Positive statuses: not errors. */
enum net_status {
    NET_AGAIN = 1, /* the socket is not ready: wait (net_wait) and call again */
    NET_EOF = 2,   /* the peer closed the connection (or reset it) */
};

/* ---- addresses ---- */

/* Room for any socket address (a struct sockaddr_storage). */
#define NET_SOCKADDR_MAX 128

/* A peer's address, as accept gave it. */
#ifdef __cplusplus
#define NET_ALIGN8 alignas(8) /* the DICOM bridge includes this header */
#else
#define NET_ALIGN8 _Alignas(8)
#endif
typedef struct net_addr {
    NET_ALIGN8 unsigned char sa[NET_SOCKADDR_MAX]; /* a struct sockaddr */
    unsigned len;                                  /* its length */
    char text[RL_PEER_TEXT_MAX];                   /* "ip:port", "[v6]:port" */
} net_addr;

/* "ip:port" ("[ip]:port" for IPv6) of sa, a struct sockaddr of family
 * AF_INET or AF_INET6 (its length follows from the family); "?" otherwise. */
void net_addr_str(const void *sa, char *out, size_t n);
/* The host part of an address text: "10.1.2.3:4567" -> "10.1.2.3",
 * "[::1]:4567" -> "::1". */
void net_addr_host(const char *addr, char *host, size_t n);

/* Whether a (an accepted peer's address) is in the allow-from list l (an
 * empty list allows every address). */
bool net_addr_allowed(const cidr_list *l, const net_addr *a);

/* A bounded set of addresses (host parts, net_addr_host) with the time
 * each was last marked; when full, the one marked longest ago makes room.
 * Not locked: one thread uses it. */
typedef struct net_addrset {
    struct {
        char ip[48];
        int64_t at_ms;
    } e[RL_KNOWN_ADDRESSES > RL_DENIED_ADDRESSES ? RL_KNOWN_ADDRESSES : RL_DENIED_ADDRESSES];
    unsigned n;
} net_addrset;

/* Mark ip at now_ms. */
void net_addrset_mark(net_addrset *s, const char *ip, int64_t now_ms);
bool net_addrset_has(const net_addrset *s, const char *ip);
/* True, and ip marked, when ip was not marked within every_ms before now_ms:
 * the rate limit of "once per address a minute". */
bool net_addrset_due(net_addrset *s, const char *ip, int64_t now_ms, int64_t every_ms);

/* ---- TCP ---- */

/* Bind and listen on bind:port (bind NULL or "": every address; port 0: one
 * the system picks; below 1024 needs root). *fd is the caller's: a
 * non-blocking, close-on-exec listening socket. bound (may be NULL) gets
 * the port bound, the one picked for port 0. what names the listener in
 * errors: "<what> <bind>:<port>: <reason>" (NET_E_RESOLVE, NET_E_LISTEN). */
int net_listen(const char *what, const char *bind, unsigned port, int *fd, unsigned *bound,
               rl_err *err);
/* The port a bound socket has (0 when it has none). */
unsigned net_local_port(int fd);
/* Take one waiting connection from a listening socket: *fd (the caller's) is
 * non-blocking, close-on-exec, with TCP_NODELAY (radlink's protocols are
 * request and answer); peer (may be NULL) gets its address. NET_AGAIN when
 * none is waiting; NET_E_IO with the reason. */
int net_accept(int listen_fd, int *fd, net_addr *peer, rl_err *err);
/* Connect to host:port (a name or an address; each address it resolves to
 * is tried in turn) before deadline_ms (rl_mono_ms's clock). cancel_fd (-1:
 * none) stays the caller's: readable, it abandons the attempt. *fd (the
 * caller's) is non-blocking, close-on-exec, TCP_NODELAY. Errors:
 * NET_E_RESOLVE, NET_E_CONNECT, NET_E_TIMEOUT, NET_E_CANCELLED. */
int net_connect(const char *host, unsigned port, int64_t deadline_ms, int cancel_fd, int *fd,
                rl_err *err);
/* Wait until fd is readable (writable when write) before deadline_ms: 0
 * ready, NET_E_TIMEOUT, NET_E_CANCELLED (cancel_fd, if >= 0, became
 * readable first), NET_E_IO (poll failed). */
int net_wait_fd(int fd, bool write, int64_t deadline_ms, int cancel_fd);

/* ---- TLS contexts ---- */

typedef struct net_tls_opts {
    const char *cert, *key;  /* PEM; required for a server, optional client certificate */
    const char *ca;          /* PEM CA file: verifies the peer (client: NULL = the system's) */
    bool verify_peer;        /* server: require a client certificate signed by ca */
    const char *server_name; /* client: the name the server's certificate must carry
                                (NULL: the host connected to) */
} net_tls_opts;

/* An OpenSSL context: TLS 1.2 or later, the files of net_tls_opts loaded,
 * a server's client certificates required when verify_peer, a client's
 * server always verified. The strings of o are read during the call only. */
typedef struct net_tls_ctx net_tls_ctx;

/* NULL on failure, with "TLS <what> <file>: <reason>" (NET_E_TLS_CONFIG) in
 * err. A private key others may read is logged (tls.key), not refused.
 * Free with net_tls_ctx_free. */
net_tls_ctx *net_tls_server_ctx(const net_tls_opts *o, rl_err *err);
net_tls_ctx *net_tls_client_ctx(const net_tls_opts *o, rl_err *err);
/* NULL is fine. The connections made from it must be closed first. */
void net_tls_ctx_free(net_tls_ctx *t);

/* OpenSSL's version text ("OpenSSL 3.0.x ..."), static. */
const char *net_tls_library_version(void);

/* ---- connections ---- */

/* A connection: a non-blocking socket, with TLS once net_tls_start ran.
 * Zero it and set fd (net_accept's, net_connect's): it is then plain TCP. */
typedef struct net_conn {
    int fd;              /* -1 once closed */
    struct ssl_st *ssl;  /* the net layer's; NULL: plain TCP */
    bool handshake_done; /* TLS: the handshake finished */
    bool want_write;     /* TLS: it waits for the socket to become writable */
} net_conn;

/* Put TLS on c (before any byte went either way) with t's role: a server's
 * context accepts; a client's connects, and name (NULL: none) goes out as
 * the server name (SNI) and must be in the server's certificate (a host name
 * or an IP address). The handshake happens in net_handshake, or in the
 * first read or write. NET_E_TLS on failure. */
int net_tls_start(net_conn *c, net_tls_ctx *t, const char *name, rl_err *err);
/* Go on with the handshake: 0 done (and at once for plain TCP), NET_AGAIN
 * (wait, writable when c->want_write, then call again), NET_E_TLS. */
int net_handshake(net_conn *c, rl_err *err);
/* Read at most n bytes: 0 with *got > 0, NET_AGAIN, NET_EOF, NET_E_IO or
 * NET_E_TLS with the reason. */
int net_read(net_conn *c, char *buf, size_t n, size_t *got, rl_err *err);
/* Write at most n bytes: 0 with *put > 0, NET_AGAIN, NET_E_IO or NET_E_TLS
 * (a peer that closed is an error here: "connection closed by the peer"). */
int net_write(net_conn *c, const char *buf, size_t n, size_t *put, rl_err *err);
/* After NET_AGAIN: wait until c can go on before deadline_ms (net_wait_fd's
 * results). writing says whether a write said NET_AGAIN (plain TCP); over
 * TLS the direction is the one TLS asked for. */
int net_wait(const net_conn *c, bool writing, int64_t deadline_ms, int cancel_fd);
/* "TLSv1.3", ... ("" for plain TCP or before the handshake); static. */
const char *net_tls_version(const net_conn *c);
/* Why the peer's certificate failed verification, or NULL (it passed, or
 * none was checked); static. */
const char *net_tls_verify_error(const net_conn *c);
/* End TLS (close_notify when the handshake was done), close the socket.
 * Closing twice is fine. */
void net_close(net_conn *c);

/* ---- the gate: connections held until they identify themselves ---- */

/* A listener whose connections are served by threads (DICOM, HTTP) puts a
 * gate in front: one thread accepts every connection at once (a flood
 * waits in no backlog), closes those allow-from does not allow before
 * reading a byte, and holds the rest, costing a descriptor and no thread,
 * until their first message is complete in the socket (looked at with
 * MSG_PEEK, left there for the protocol's own reader): then it hands the
 * connection over. When max_waiting connections wait, the oldest waiting
 * one is evicted to admit the new one. Over half full, the waiting ones get
 * stress_timeout_ms instead of timeout_ms (when shorter). */

typedef enum net_gate_verdict {
    NET_GATE_MORE,   /* incomplete: wait for more bytes */
    NET_GATE_READY,  /* the first message is complete: hand the connection over */
    NET_GATE_REFUSE, /* not this protocol: close it */
} net_gate_verdict;

typedef struct net_gate_opts {
    const char *name;         /* in the log and the status: "dicom", "dicom-tls", "http" */
    int listen_fd;            /* the gate's from now on (net_listen's, non-blocking) */
    unsigned max_waiting;     /* connections held before they identify themselves */
    unsigned max_per_address; /* of those, from one address (0: no limit) */
    unsigned timeout_ms, stress_timeout_ms;
    const cidr_list *allow;   /* copied; NULL or empty: every address */
    /* the bytes the connection sent so far (at most RL_GATE_PEEK_MAX) */
    net_gate_verdict (*look)(const unsigned char *b, size_t n);
    /* the connection identified itself: fd (blocking off, close-on-exec)
     * is the callee's; called in the gate's thread */
    void (*take)(void *ctx, int fd, const net_addr *peer);
    /* a connection allow-from refused, at most once per address a minute
     * (RL_DENIED_AUDIT_EVERY_MS): the audit trail's security alert */
    void (*denied)(void *ctx, const char *ip);
    /* a connection whose first bytes look() refused (may be NULL): over
     * TLS, a failed handshake's security alert; the audit's own rate limit
     * applies */
    void (*refused)(void *ctx, const char *ip);
    void *ctx;
} net_gate_opts;

typedef struct net_gate_stats {
    unsigned long accepted;  /* connections accepted */
    unsigned long taken;     /* handed over, their first message complete */
    unsigned long denied;    /* closed at accept: allow-from */
    unsigned long refused;   /* closed at accept: max-per-address */
    unsigned long evicted;   /* closed to admit a newer one when full */
    unsigned long timed_out; /* closed waiting: the (stress) timeout */
    unsigned long not_protocol; /* closed: their first bytes were not the protocol's */
    unsigned waiting, max_waiting;
    bool pressure; /* more than half of max_waiting wait */
} net_gate_stats;

typedef struct net_gate net_gate;

/* A look() for TLS listeners: a whole first record, a handshake (22), which
 * carries the ClientHello; anything else is refused. */
net_gate_verdict net_gate_look_tls(const unsigned char *b, size_t n);

/* Start the gate's thread. On failure listen_fd is closed. */
int net_gate_start(const net_gate_opts *o, net_gate **out, rl_err *err);
void net_gate_stats_get(net_gate *g, net_gate_stats *st);
/* Whether the gate's waiting connections are over half its room. */
bool net_gate_pressure(net_gate *g);
/* Stop the thread, close the waiting connections and the listening socket.
 * NULL is fine. */
void net_gate_free(net_gate *g);

#endif
