/* MLLP (HL7 v2 Minimal Lower Layer Protocol: 0x0B message 0x1C 0x0D) over TCP
 * or TLS: a resumable frame decoder, a non-blocking server on the engine's
 * event loop, and a blocking, cancellable client for `radlink send` and
 * forwarding. Sockets and TLS are the network layer's (radlink/net.h). */
#ifndef RADLINK_MLLP_H
#define RADLINK_MLLP_H

#include <stdbool.h>
#include <stdint.h>

#include "radlink/err.h"
#include "radlink/loop.h"
#include "radlink/net.h"
#include "radlink/util.h"

#define MLLP_SB '\x0b'
#define MLLP_EB '\x1c'
#define MLLP_CR '\x0d'

enum mllp_status {
    MLLP_AGAIN = 0,    /* all input consumed, the frame is not complete yet */
    MLLP_FRAME = 1,    /* a complete message is in d->frame */
    MLLP_OVERSIZE = 2, /* the frame passed max_frame: d->frame holds its first max_frame bytes */
    MLLP_BROKEN = 3,   /* a start block inside a frame: d->frame holds the abandoned part */
};

/* ---- framing ---- */

typedef struct mllp_decoder {
    size_t max_frame;
    rl_buf frame;     /* the current or just completed frame (owned) */
    int state;
    bool emitted;     /* frame was returned: clear it on the next feed */
    uint64_t junk;    /* bytes skipped outside frames */
    size_t dropped;   /* bytes of an oversize frame not kept */
} mllp_decoder;

void mllp_decoder_init(mllp_decoder *d, size_t max_frame);
void mllp_decoder_free(mllp_decoder *d);
/* Consume bytes from in; *used says how many. Call again with the rest while it
 * returns anything but MLLP_AGAIN. A lone CR after the end block is consumed;
 * other bytes before a start block count as junk. */
int mllp_decoder_feed(mllp_decoder *d, const char *in, size_t n, size_t *used);
/* True while a frame has begun but not ended (bytes would be lost at EOF). */
bool mllp_decoder_partial(const mllp_decoder *d);
/* Wrap msg in a frame, appending to out. */
int mllp_wrap(rl_buf *out, rl_str msg);

/* ---- server ---- */

typedef struct mllp_listen {
    const char *bind;
    unsigned port;
    const net_tls_opts *tls;  /* NULL = plain TCP */
    int fd;                   /* > 0: a socket mllp_bind bound already (serve --user) */
} mllp_listen;

/* Bind and listen on bind:port (a port below 1024 needs root): the socket
 * for mllp_listen.fd, taken by the server. Errors name the "MLLP listener". */
int mllp_bind(const char *bind, unsigned port, int *fd, rl_err *err);

typedef struct mllp_server_cfg {
    const mllp_listen *listen;
    unsigned n_listen;
    size_t max_frame;
    unsigned max_conns;
    unsigned idle_timeout_s; /* close a connection that completed no frame this long */
    unsigned read_timeout_s; /* abandon a frame (or a TLS handshake) incomplete this long */
    unsigned max_per_address; /* connections one client address may hold (0 = max_conns) */
    size_t max_buffered;      /* bytes all connections' frame buffers may hold together
                                 (0 = no limit); past it, the frame that grew is given up */
    /* Under pressure (more than half of max_conns open), a connection that
     * has not identified itself (no complete frame yet) gets this timeout
     * instead of read_timeout_s and idle_timeout_s; when full, the oldest
     * such connection is evicted to admit a new one (0: stress_timeout = the
     * usual ones) */
    unsigned stress_timeout_s;
    const cidr_list *allow; /* copied; NULL or empty: every address */
} mllp_server_cfg;

typedef struct mllp_peer {
    uint64_t conn;      /* connection id, unique for the server's life */
    char addr[64];      /* "ip:port" of the client */
    char listener[80];  /* "ip:port" (and " tls") it connected to */
} mllp_peer;

typedef enum mllp_event {
    MLLP_EV_FRAME,    /* data = the message */
    MLLP_EV_OVERSIZE, /* data = first max_frame bytes; the server answers then closes */
    MLLP_EV_BROKEN,   /* data = an incomplete frame given up (EOF, timeout, new start block) */
    MLLP_EV_TLS_FAILED, /* data empty, why = the TLS handshake's failure: a security alert */
    MLLP_EV_DENIED,     /* data empty: a connection allow-from refused at accept (once per
                           address a minute): a security alert */
} mllp_event;

/* Called from inside loop_run_once; data is valid only during the call. */
typedef void (*mllp_on_data)(void *ctx, mllp_event ev, const mllp_peer *peer, rl_str data,
                             const char *why);

typedef struct mllp_stats {
    uint64_t accepted, refused, frames, junk_bytes, oversize, broken, tls_failures;
    uint64_t refused_per_address; /* of refused: the address had max_per_address */
    uint64_t over_budget;         /* frames given up for max_buffered */
    uint64_t evicted;      /* unidentified connections closed to admit a new one */
    uint64_t stress_closed; /* unidentified connections closed by the stress timeout */
    uint64_t denied;       /* connections closed at accept: not in allow-from */
    unsigned unidentified; /* open connections that completed no frame yet */
    unsigned max_conns;
    bool pressure;         /* more than half of max_conns open */
    size_t buffered;              /* bytes the frame buffers hold now */
    unsigned open;
} mllp_stats;

typedef struct mllp_server mllp_server;

/* Bind every listener (all or none) and start accepting on l. */
int mllp_server_new(loop *l, const mllp_server_cfg *cfg, mllp_on_data cb, void *ctx,
                    mllp_server **out, rl_err *err);
/* Frame msg and queue it for conn; -1 when the connection is gone. */
int mllp_server_reply(mllp_server *s, uint64_t conn, rl_str msg);
/* Close conn, once its queued output is written when after_flush. */
void mllp_server_close(mllp_server *s, uint64_t conn, bool after_flush);
void mllp_server_stop_listening(mllp_server *s);
/* Close connections whose read or idle timeout passed and those closed once
 * their output was written: after every loop turn, and when
 * mllp_server_deadline_ms (the earliest timeout, rl_mono_ms; -1 none) comes. */
void mllp_server_tick(mllp_server *s);
int64_t mllp_server_deadline_ms(const mllp_server *s);
/* Bytes queued but not yet written, over all connections. */
size_t mllp_server_pending(const mllp_server *s);
void mllp_server_stats(const mllp_server *s, mllp_stats *out);
void mllp_server_free(mllp_server *s);

/* ---- client ---- */

typedef struct mllp_client mllp_client;

/* Connect (and handshake) within timeout_ms. cancel_fd (-1: none) is a
 * descriptor the caller makes readable to abandon this call and every later
 * exchange on the client at once (MLLP_E_CANCELLED): an eventfd the engine
 * signals on reload or shutdown. It stays the caller's. */
int mllp_client_open(const char *host, unsigned port, const net_tls_opts *tls, int timeout_ms,
                     int cancel_fd, mllp_client **out, rl_err *err);
/* Send one message and wait for one framed reply (appended to reply). */
int mllp_client_exchange(mllp_client *c, rl_str msg, rl_buf *reply, int timeout_ms, rl_err *err);
void mllp_client_close(mllp_client *c);

#endif
