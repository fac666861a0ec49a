/* The MLLP server: listeners and connections on the engine's event loop, each
 * connection with its own decoder and output buffer, TLS handshakes done
 * non-blocking inside the same loop (sockets and TLS: radlink/net.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mllp_internal.h"
#include "radlink/limits.h"
#include "radlink/log.h"

#define READ_BUDGET (4u << 20) /* plain bytes read from one connection per loop turn */

typedef struct listener {
    int fd;
    net_tls_ctx *ctx;
    char name[80];
    int64_t paused_until; /* accepting paused (out of descriptors) until then; 0: not */
} listener;

typedef struct conn {
    mllp_server *s;
    net_conn io;
    mllp_peer peer;
    bool tls;
    mllp_decoder dec;
    rl_buf out;
    char ip[64];            /* the client's address without its port */
    int64_t accepted_ms;
    int64_t last_ms;        /* accepted, or the last complete frame: bytes outside a
                               frame do not count, or 4 bytes every minute would
                               hold the connection forever */
    size_t held;            /* bytes of its frame buffer counted in s->buffered */
    int64_t frame_start_ms; /* when the incomplete frame began, 0 when none */
    bool halted;            /* read nothing more (oversize answered, EOF seen) */
    bool identified;        /* it completed a frame: never evicted, usual timeouts */
    bool closing;           /* close once out is written */
    const char *close_why;
} conn;

struct mllp_server {
    loop *l;
    mllp_server_cfg cfg;
    listener ls[8];
    unsigned nl;
    conn **conns;
    unsigned nconns, cap;
    uint64_t next_id;
    mllp_on_data cb;
    void *ctx;
    mllp_stats st;
    size_t buffered; /* sum of the connections' held */
    cidr_list allow;
    net_addrset known;     /* addresses that completed a frame: their cut-short frames are logged */
    net_addrset denied_at; /* allow-from refusals reported, once per address a minute */
    int64_t shed_ms;       /* the last line about a shed connection */
    unsigned long shed_quiet; /* those not logged since: at most a line a second */
};

/* More than half of the connections are open: the unidentified get the
 * stress timeout. */
static bool pressure(const mllp_server *s)
{
    return s->nconns * 2 > s->cfg.max_conns;
}

/* The timeout, ms, for a connection still silent (usual: what it would
 * have without pressure). */
static int64_t limit_ms(const mllp_server *s, const conn *c, unsigned usual_s)
{
    if (!c->identified && s->cfg.stress_timeout_s && s->cfg.stress_timeout_s < usual_s &&
        pressure(s))
        return (int64_t)s->cfg.stress_timeout_s * 1000;
    return (int64_t)usual_s * 1000;
}

static void conn_update(mllp_server *s, conn *c);
static bool pressure(const mllp_server *s);

/* A connection refused or closed for pressure: at most a line a second,
 * with the count of those in between, so that a flood of connections is
 * not a flood of lines. */
static void shed_log(mllp_server *s, const char *event, const char *peer, const char *why)
{
    int64_t now = rl_mono_ms();
    if (now - s->shed_ms < RL_REPEATED_ERROR_LOG_MS) {
        s->shed_quiet++;
        return;
    }
    log_warn(event, "peer=%s reason=\"%s\" open=%u repeated=%lu", peer, why, s->nconns,
             s->shed_quiet);
    s->shed_ms = now;
    s->shed_quiet = 0;
}

static conn *find(const mllp_server *s, uint64_t id)
{
    for (unsigned i = 0; i < s->nconns; i++)
        if (s->conns[i]->peer.conn == id)
            return s->conns[i];
    return NULL;
}

/* Keep s->buffered equal to what the frame buffers hold. */
static void account(mllp_server *s, conn *c)
{
    s->buffered = s->buffered - c->held + c->dec.frame.cap;
    c->held = c->dec.frame.cap;
}

/* A large frame handed over: its buffer goes back, so an idle connection
 * holds no megabytes. */
static void shrink(mllp_server *s, conn *c)
{
    if (c->dec.frame.cap > RL_MLLP_KEEP_BUFFER) {
        rl_buf_free(&c->dec.frame);
        account(s, c);
    }
}

static void conn_free(mllp_server *s, conn *c, const char *why)
{
    loop_unwatch(s->l, c->io.fd);
    /* under pressure, the closes of unidentified connections are shed_log's */
    log_write(!c->identified && pressure(s) ? LOG_DEBUG : LOG_INFO, "mllp.close",
              "conn=%llu peer=%s reason=\"%s\" junk_bytes=%llu",
              (unsigned long long)c->peer.conn, c->peer.addr, why,
              (unsigned long long)c->dec.junk);
    s->st.junk_bytes += c->dec.junk;
    net_close(&c->io);
    mllp_decoder_free(&c->dec);
    account(s, c);
    rl_buf_free(&c->out);
    for (unsigned i = 0; i < s->nconns; i++) {
        if (s->conns[i] == c) {
            s->conns[i] = s->conns[--s->nconns];
            break;
        }
    }
    free(c);
}

/* Give up an incomplete frame, telling the engine so it is logged, not lost. */
static void report_partial(mllp_server *s, conn *c, const char *why)
{
    if (!mllp_decoder_partial(&c->dec))
        return;
    s->st.broken++;
    s->cb(s->ctx, MLLP_EV_BROKEN, &c->peer, rl_buf_view(&c->dec.frame), why);
    rl_buf_reset(&c->dec.frame);
    c->dec.state = 0;
    c->frame_start_ms = 0;
}

/* The same for a connection closed for pressure (evicted, stress timeout):
 * a partial first frame from an address that never completed one is
 * counted and logged, not kept in the message log, where hosts holding
 * partial frames would write a record every few seconds. */
static void shed_partial(mllp_server *s, conn *c, const char *why)
{
    if (!mllp_decoder_partial(&c->dec))
        return;
    if (!c->identified && !net_addrset_has(&s->known, c->ip)) {
        shed_log(s, "mllp.partial_dropped", c->peer.addr, why);
        rl_buf_reset(&c->dec.frame);
        c->dec.state = 0;
        c->frame_start_ms = 0;
        return;
    }
    report_partial(s, c, why);
}

/* Write what can be written now; false when the connection failed. */
static bool conn_flush(mllp_server *s, conn *c)
{
    rl_err err;
    (void)s;
    while (c->out.len) {
        size_t n = 0;
        int rc = net_write(&c->io, c->out.data, c->out.len, &n, &err);
        if (rc == NET_AGAIN)
            return true;
        if (rc != 0) {
            c->close_why = "write failed";
            log_warn("mllp.write_failed", "conn=%llu peer=%s error=\"%s\"",
                     (unsigned long long)c->peer.conn, c->peer.addr, err.msg);
            return false;
        }
        rl_buf_consume(&c->out, n);
    }
    return true;
}

static void deliver(mllp_server *s, conn *c, const char *data, size_t n)
{
    size_t off = 0;
    while (off < n && !c->halted) {
        size_t used = 0;
        int r = mllp_decoder_feed(&c->dec, data + off, n - off, &used);
        off += used;
        if (r == MLLP_FRAME) {
            s->st.frames++;
            c->last_ms = rl_mono_ms();
            if (!c->identified) {
                c->identified = true;
                net_addrset_mark(&s->known, c->ip, c->last_ms);
            }
            s->cb(s->ctx, MLLP_EV_FRAME, &c->peer, rl_buf_view(&c->dec.frame), NULL);
            shrink(s, c);
        } else if (r == MLLP_OVERSIZE) {
            s->st.oversize++;
            c->halted = true;
            s->cb(s->ctx, MLLP_EV_OVERSIZE, &c->peer, rl_buf_view(&c->dec.frame),
                  "frame larger than the limit");
            shrink(s, c);
        } else if (r == MLLP_BROKEN) {
            s->st.broken++;
            s->cb(s->ctx, MLLP_EV_BROKEN, &c->peer, rl_buf_view(&c->dec.frame),
                  "a start block arrived before the end of the previous frame");
        }
    }
    account(s, c);
    /* one budget for every frame in flight: the frame that passes it is given
     * up (logged as broken, like any frame that cannot complete) and its
     * connection closed; the sender sends it again later */
    if (s->cfg.max_buffered && s->buffered > s->cfg.max_buffered &&
        mllp_decoder_partial(&c->dec)) {
        s->st.over_budget++;
        log_warn("mllp.over_budget", "conn=%llu peer=%s buffered=%zu max_buffered=%zu "
                 "frame_bytes=%zu", (unsigned long long)c->peer.conn, c->peer.addr, s->buffered,
                 s->cfg.max_buffered, c->dec.frame.len);
        report_partial(s, c, "frames in flight passed the memory budget (mllp max-buffered-mb)");
        rl_buf_free(&c->dec.frame);
        account(s, c);
        c->halted = true;
        c->closing = true;
        c->close_why = "memory budget for frames in flight";
    }
    if (mllp_decoder_partial(&c->dec)) {
        if (!c->frame_start_ms)
            c->frame_start_ms = rl_mono_ms();
    } else {
        c->frame_start_ms = 0;
    }
}

static void on_conn(loop *l, int fd, unsigned events, void *ctx)
{
    (void)l;
    (void)fd;
    conn *c = ctx;
    mllp_server *s = c->s;
    rl_err err;
    if (c->tls && !c->io.handshake_done) {
        int h = net_handshake(&c->io, &err);
        if (h < 0) {
            s->st.tls_failures++;
            log_warn("mllp.tls_failed", "conn=%llu peer=%s error=\"%s\"",
                     (unsigned long long)c->peer.conn, c->peer.addr, err.msg);
            char why[450];
            snprintf(why, sizeof why, "MLLP TLS handshake failed: %s", err.msg);
            s->cb(s->ctx, MLLP_EV_TLS_FAILED, &c->peer, (rl_str){ "", 0 }, why);
            conn_free(s, c, "TLS handshake failed");
            return;
        }
        if (h == NET_AGAIN) {
            conn_update(s, c);
            return;
        }
        log_debug("mllp.tls", "conn=%llu peer=%s version=%s", (unsigned long long)c->peer.conn,
                  c->peer.addr, net_tls_version(&c->io));
        events |= LOOP_READ;
    }
    if ((events & LOOP_READ) && !c->halted) {
        char buf[MLLP_READ_CHUNK];
        size_t total = 0;
        for (;;) {
            size_t n = 0;
            int rc = net_read(&c->io, buf, sizeof buf, &n, &err);
            if (rc == NET_AGAIN)
                break;
            if (rc != 0) {
                report_partial(s, c, rc == NET_EOF
                                         ? "connection closed before the end of the frame"
                                         : "connection failed before the end of the frame");
                c->halted = true;
                c->closing = true;
                c->close_why = rc == NET_EOF ? "closed by peer" : "read failed";
                break;
            }
            deliver(s, c, buf, n);
            total += n;
            if (c->halted || (!c->tls && total >= READ_BUDGET))
                break;
        }
    }
    if (c->out.len && !conn_flush(s, c)) {
        conn_free(s, c, c->close_why);
        return;
    }
    conn_update(s, c);
}

/* Interest: read unless halted; write while output is queued or TLS asks. */
static void conn_update(mllp_server *s, conn *c)
{
    unsigned ev = (c->halted ? 0u : LOOP_READ) | (c->out.len || c->io.want_write ? LOOP_WRITE : 0u);
    if (ev)
        loop_watch(s->l, c->io.fd, ev, on_conn, c);
    else
        loop_unwatch(s->l, c->io.fd);
}

/* The connection to evict for a new one when full: the oldest that has
 * not identified itself (a sender sends its frame within milliseconds of
 * connecting, so the newest are the last to go). */
static conn *victim(const mllp_server *s)
{
    conn *best = NULL;
    for (unsigned i = 0; i < s->nconns; i++) {
        conn *c = s->conns[i];
        /* ids grow with each accept: the smallest is the oldest (ms can tie) */
        if (!c->identified && !c->closing && (!best || c->peer.conn < best->peer.conn))
            best = c;
    }
    return best;
}

/* Whether a connection from peer may be admitted, evicting one if full. */
static bool admit(mllp_server *s, listener *li, const net_addr *peer, const char *ip)
{
    const char *addr = peer->text;
    if (!net_addr_allowed(&s->allow, peer)) {
        s->st.denied++;
        if (net_addrset_due(&s->denied_at, ip, rl_mono_ms(), RL_DENIED_AUDIT_EVERY_MS)) {
            log_warn("mllp.denied", "peer=%s listener=%s reason=\"not in allow-from\"", addr,
                     li->name);
            mllp_peer p = { 0 };
            snprintf(p.addr, sizeof p.addr, "%s", addr);
            snprintf(p.listener, sizeof p.listener, "%s", li->name);
            s->cb(s->ctx, MLLP_EV_DENIED, &p, (rl_str){ "", 0 },
                  "MLLP connection from an address not in allow-from");
        }
        return false;
    }
    unsigned same = 0;
    for (unsigned i = 0; i < s->nconns; i++)
        same += strcmp(s->conns[i]->ip, ip) == 0;
    if (s->cfg.max_per_address && same >= s->cfg.max_per_address) {
        s->st.refused++;
        s->st.refused_per_address++;
        (void)li;
        shed_log(s, "mllp.refused", addr, "max-per-address connections from this address open");
        return false;
    }
    if (s->nconns >= s->cfg.max_conns) {
        conn *v = victim(s);
        if (!v) {
            s->st.refused++;
            shed_log(s, "mllp.refused", addr, "max-connections open, and each has sent a frame");
            return false;
        }
        s->st.evicted++;
        shed_log(s, "mllp.evicted", v->peer.addr, "the listener is full: the oldest "
                 "connection that sent no complete frame makes room");
        shed_partial(s, v, "evicted from a full listener before the end of the frame");
        conn_free(s, v, "evicted: the listener is full");
    }
    return true;
}

static void conn_new(mllp_server *s, listener *li, int fd, const net_addr *peer)
{
    const char *addr = peer->text;
    char ip[64];
    net_addr_host(addr, ip, sizeof ip);
    if (!admit(s, li, peer, ip)) {
        close(fd);
        return;
    }
    if (s->nconns == s->cap) {
        unsigned cap = s->cap ? s->cap * 2 : 16;
        conn **n = realloc(s->conns, cap * sizeof *n);
        if (!n) {
            close(fd);
            return;
        }
        s->conns = n;
        s->cap = cap;
    }
    conn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return;
    }
    c->io.fd = fd;
    c->peer.conn = ++s->next_id;
    snprintf(c->peer.addr, sizeof c->peer.addr, "%s", addr);
    snprintf(c->ip, sizeof c->ip, "%s", ip);
    snprintf(c->peer.listener, sizeof c->peer.listener, "%s", li->name);
    c->s = s;
    mllp_decoder_init(&c->dec, s->cfg.max_frame);
    rl_buf_init(&c->out, 0);
    c->accepted_ms = c->last_ms = rl_mono_ms();
    if (li->ctx) {
        c->tls = true;
        if (net_tls_start(&c->io, li->ctx, NULL, NULL) != 0) {
            net_close(&c->io);
            mllp_decoder_free(&c->dec);
            free(c);
            return;
        }
    }
    s->conns[s->nconns++] = c;
    s->st.accepted++;
    log_write(pressure(s) ? LOG_DEBUG : LOG_INFO, "mllp.accept", "conn=%llu peer=%s listener=%s",
              (unsigned long long)c->peer.conn,
             addr, li->name);
    conn_update(s, c);
}

static void on_accept(loop *l, int fd, unsigned events, void *ctx)
{
    (void)l;
    (void)events;
    mllp_server *s = ctx;
    listener *li = NULL;
    for (unsigned i = 0; i < s->nl; i++)
        if (s->ls[i].fd == fd)
            li = &s->ls[i];
    if (!li)
        return;
    for (;;) {
        int cfd = -1;
        net_addr peer;
        rl_err err;
        int rc = net_accept(fd, &cfd, &peer, &err);
        if (rc != 0) {
            if (rc != NET_AGAIN) {
                /* out of descriptors: the backlog keeps the connections; the
                 * listening socket stays readable, so it is left alone a
                 * moment instead of being asked again at once, forever */
                shed_log(s, "mllp.accept_failed", li->name, err.msg);
                loop_unwatch(s->l, li->fd);
                li->paused_until = rl_mono_ms() + RL_GATE_ACCEPT_PAUSE_MS;
            }
            return;
        }
        conn_new(s, li, cfd, &peer);
    }
}

int mllp_bind(const char *addr, unsigned port, int *out, rl_err *err)
{
    rl_err why;
    int rc = net_listen("MLLP listener", addr, port, out, NULL, &why);
    if (rc != 0)
        return rl_err_set(err, rc == NET_E_RESOLVE ? MLLP_E_CONFIG : MLLP_E_IO, -1, "%s",
                          why.msg);
    return 0;
}

static int bind_listener(mllp_server *s, const mllp_listen *ml, listener *li, rl_err *err)
{
    int fd = ml->fd;
    if (fd <= 0) {
        int rc = mllp_bind(ml->bind, ml->port, &fd, err);
        if (rc != 0)
            return rc;
    }
    li->fd = fd;
    snprintf(li->name, sizeof li->name, "%s:%u%s", ml->bind, ml->port, ml->tls ? " tls" : "");
    rl_err why;
    if (ml->tls && !(li->ctx = net_tls_server_ctx(ml->tls, &why))) {
        close(fd);
        li->fd = -1;
        return rl_err_set(err, MLLP_E_CONFIG, -1, "%s", why.msg);
    }
    if (loop_watch(s->l, fd, LOOP_READ, on_accept, s) != 0) {
        close(fd);
        return rl_err_set(err, MLLP_E_IO, -1, "MLLP listener %s: cannot watch", li->name);
    }
    return 0;
}

int mllp_server_new(loop *l, const mllp_server_cfg *cfg, mllp_on_data cb, void *ctx,
                    mllp_server **out, rl_err *err)
{
    mllp_server *s = calloc(1, sizeof *s);
    if (!s)
        return rl_err_set(err, MLLP_E_IO, -1, "out of memory");
    s->l = l;
    s->cfg = *cfg;
    if (cfg->allow)
        s->allow = *cfg->allow;
    s->cfg.allow = NULL;
    s->cb = cb;
    s->ctx = ctx;
    for (unsigned i = 0; i < cfg->n_listen && i < 8; i++) {
        s->ls[i].fd = -1;
        int rc = bind_listener(s, &cfg->listen[i], &s->ls[i], err);
        s->nl = i + 1;
        if (rc != 0) {
            mllp_server_free(s);
            return rc;
        }
        log_info("mllp.listen", "listener=%s", s->ls[i].name);
    }
    *out = s;
    return 0;
}

int mllp_server_reply(mllp_server *s, uint64_t id, rl_str msg)
{
    conn *c = find(s, id);
    if (!c)
        return -1;
    if (mllp_wrap(&c->out, msg) != 0)
        return -1;
    if (!conn_flush(s, c)) {
        conn_free(s, c, c->close_why);
        return -1;
    }
    conn_update(s, c);
    return 0;
}

void mllp_server_close(mllp_server *s, uint64_t id, bool after_flush)
{
    conn *c = find(s, id);
    if (!c)
        return;
    c->halted = true;
    c->closing = true;
    if (!c->close_why)
        c->close_why = "closed by radlink";
    if (!after_flush || !c->out.len)
        conn_free(s, c, c->close_why);
    else
        conn_update(s, c);
}

void mllp_server_stop_listening(mllp_server *s)
{
    for (unsigned i = 0; i < s->nl; i++) {
        if (s->ls[i].fd >= 0) {
            loop_unwatch(s->l, s->ls[i].fd);
            close(s->ls[i].fd);
            s->ls[i].fd = -1;
        }
        s->ls[i].paused_until = 0;
    }
}

void mllp_server_tick(mllp_server *s)
{
    int64_t now = rl_mono_ms();
    for (unsigned i = 0; i < s->nl; i++) {
        listener *li = &s->ls[i];
        if (li->paused_until && li->paused_until <= now && li->fd >= 0) {
            li->paused_until = 0;
            if (loop_watch(s->l, li->fd, LOOP_READ, on_accept, s) != 0) {
                li->paused_until = now + RL_GATE_ACCEPT_PAUSE_MS; /* again, a moment later */
                shed_log(s, "mllp.accept_paused", li->name, "cannot watch the listener again");
            }
        }
    }
    for (unsigned i = 0; i < s->nconns;) {
        conn *c = s->conns[i];
        if (c->closing && !c->out.len) {
            conn_free(s, c, c->close_why);
            continue; /* the array shrank: index i now holds another connection */
        }
        int64_t read_ms = limit_ms(s, c, s->cfg.read_timeout_s);
        bool stressed = read_ms < (int64_t)s->cfg.read_timeout_s * 1000;
        if (c->frame_start_ms && now - c->frame_start_ms > read_ms) {
            if (stressed)
                shed_partial(s, c, "the frame did not complete within the stress timeout (the "
                                   "listener is over half full)");
            else
                report_partial(s, c, "the frame did not complete within the read timeout");
            s->st.stress_closed += stressed;
            conn_free(s, c, stressed ? "stress timeout" : "read timeout");
            continue;
        }
        if (c->tls && !c->io.handshake_done && now - c->accepted_ms > read_ms) {
            if (stressed) {
                s->st.stress_closed++;
                conn_free(s, c, "TLS handshake not completed within the stress timeout");
                continue;
            }
            s->st.tls_failures++;
            s->cb(s->ctx, MLLP_EV_TLS_FAILED, &c->peer, (rl_str){ "", 0 },
                  "MLLP TLS handshake not completed within the read timeout");
            conn_free(s, c, "TLS handshake not completed within the read timeout");
            continue;
        }
        int64_t idle_ms = limit_ms(s, c, s->cfg.idle_timeout_s);
        if (!c->closing && !c->frame_start_ms && now - c->last_ms > idle_ms) {
            bool idle_stressed = idle_ms < (int64_t)s->cfg.idle_timeout_s * 1000;
            s->st.stress_closed += idle_stressed;
            conn_free(s, c, idle_stressed ? "stress timeout" : "idle timeout");
            continue;
        }
        i++;
    }
}

int64_t mllp_server_deadline_ms(const mllp_server *s)
{
    int64_t d = -1;
    for (unsigned i = 0; s && i < s->nl; i++)
        if (s->ls[i].paused_until && (d < 0 || s->ls[i].paused_until < d))
            d = s->ls[i].paused_until;
    for (unsigned i = 0; s && i < s->nconns; i++) {
        const conn *c = s->conns[i];
        /* the timeouts mllp_server_tick applies, and no other: a deadline
         * it would not act on would wake the loop for nothing, again and again */
        int64_t t;
        if (c->closing)
            t = c->out.len ? -1 : rl_mono_ms();
        else if (c->frame_start_ms)
            t = c->frame_start_ms + limit_ms(s, c, s->cfg.read_timeout_s) + 1;
        else
            t = c->last_ms + limit_ms(s, c, s->cfg.idle_timeout_s) + 1;
        if (c->tls && !c->io.handshake_done) {
            int64_t h = c->accepted_ms + limit_ms(s, c, s->cfg.read_timeout_s) + 1;
            t = t < 0 || h < t ? h : t;
        }
        if (t >= 0 && (d < 0 || t < d))
            d = t;
    }
    return d;
}

size_t mllp_server_pending(const mllp_server *s)
{
    size_t n = 0;
    for (unsigned i = 0; i < s->nconns; i++)
        n += s->conns[i]->out.len;
    return n;
}

void mllp_server_stats(const mllp_server *s, mllp_stats *out)
{
    *out = s->st;
    out->open = s->nconns;
    out->buffered = s->buffered;
    out->max_conns = s->cfg.max_conns;
    out->pressure = pressure(s);
    for (unsigned i = 0; i < s->nconns; i++) {
        out->junk_bytes += s->conns[i]->dec.junk;
        out->unidentified += !s->conns[i]->identified;
    }
}

void mllp_server_free(mllp_server *s)
{
    if (!s)
        return;
    while (s->nconns)
        conn_free(s, s->conns[0], "engine stopping");
    mllp_server_stop_listening(s);
    for (unsigned i = 0; i < s->nl; i++)
        net_tls_ctx_free(s->ls[i].ctx);
    free(s->conns);
    free(s);
}
