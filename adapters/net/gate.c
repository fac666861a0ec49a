/* The gate in front of a threaded listener (radlink/net.h): one thread
 * accepts everything, sheds what allow-from and max-per-address refuse,
 * holds the rest until their first message is complete, evicts the oldest
 * unidentified connection when full, and hands the identified ones over. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "radlink/log.h"
#include "radlink/net.h"

typedef struct waiting {
    int fd;
    int64_t since_ms;
    uint64_t order; /* of arrival: the oldest is the smallest (ms can tie) */
    net_addr peer;
    char ip[48];
} waiting;

struct net_gate {
    net_gate_opts o;
    cidr_list allow;
    char name[32];
    int ep, stop_fd;
    pthread_t th;
    bool started;
    waiting **w; /* the waiting connections, in no order */
    unsigned nw;
    uint64_t arrivals;
    net_addrset denied_at;
    int64_t paused_until; /* accepting paused (out of descriptors) until then; 0: not */
    unsigned char peek[RL_GATE_PEEK_MAX];
    int64_t log_ms;       /* the last shedding line, at most one a second */
    unsigned long quiet;  /* sheddings not logged since */
    pthread_mutex_t lock; /* st */
    net_gate_stats st;
};

net_gate_verdict net_gate_look_tls(const unsigned char *b, size_t n)
{
    if (b[0] != 22)
        return NET_GATE_REFUSE;
    if (n < 5)
        return NET_GATE_MORE;
    return n - 5 >= ((size_t)b[3] << 8 | b[4]) ? NET_GATE_READY : NET_GATE_MORE;
}

static bool pressure(const net_gate *g)
{
    return g->nw * 2 > g->o.max_waiting;
}

static void shed_log(net_gate *g, const char *ip, const char *why)
{
    int64_t now = rl_mono_ms();
    if (now - g->log_ms < RL_REPEATED_ERROR_LOG_MS) {
        g->quiet++;
        return;
    }
    log_warn("net.shed", "listener=%s address=%s reason=\"%s\" waiting=%u repeated=%lu", g->name,
             ip, why, g->nw, g->quiet);
    g->log_ms = now;
    g->quiet = 0;
}

static void count(net_gate *g, unsigned long *field)
{
    pthread_mutex_lock(&g->lock);
    (*field)++;
    g->st.waiting = g->nw;
    pthread_mutex_unlock(&g->lock);
}

/* Take w out of the waiting set (its descriptor stays open). */
static void unwait(net_gate *g, waiting *w)
{
    epoll_ctl(g->ep, EPOLL_CTL_DEL, w->fd, NULL);
    for (unsigned i = 0; i < g->nw; i++) {
        if (g->w[i] == w) {
            g->w[i] = g->w[--g->nw];
            break;
        }
    }
}

static void drop(net_gate *g, waiting *w, unsigned long *field, const char *why)
{
    unwait(g, w);
    count(g, field);
    if (why)
        shed_log(g, w->ip, why);
    close(w->fd);
    free(w);
}

/* The connection to evict for a new one: the oldest waiting. A peer that
 * means to talk sends its first message within milliseconds of connecting,
 * so the newest are the last to go. */
static waiting *victim(net_gate *g)
{
    waiting *best = NULL;
    for (unsigned i = 0; i < g->nw; i++)
        if (!best || g->w[i]->order < best->order)
            best = g->w[i];
    return best;
}

static void admit(net_gate *g, int fd, const net_addr *peer)
{
    char ip[48];
    net_addr_host(peer->text, ip, sizeof ip);
    int64_t now = rl_mono_ms();
    if (!net_addr_allowed(&g->allow, peer)) {
        count(g, &g->st.denied);
        close(fd);
        if (net_addrset_due(&g->denied_at, ip, now, RL_DENIED_AUDIT_EVERY_MS)) {
            log_warn("net.denied", "listener=%s address=%s reason=\"not in allow-from\"",
                     g->name, ip);
            if (g->o.denied)
                g->o.denied(g->o.ctx, ip);
        }
        return;
    }
    if (g->o.max_per_address) {
        unsigned same = 0;
        for (unsigned i = 0; i < g->nw; i++)
            same += strcmp(g->w[i]->ip, ip) == 0;
        if (same >= g->o.max_per_address) {
            count(g, &g->st.refused);
            shed_log(g, ip, "more connections waiting from this address than max-per-address");
            close(fd);
            return;
        }
    }
    if (g->nw >= g->o.max_waiting) {
        waiting *v = victim(g);
        if (v)
            drop(g, v, &g->st.evicted, "evicted: the oldest connection that had not "
                                       "identified itself, to admit a new one");
    }
    waiting *w = calloc(1, sizeof *w);
    if (!w) {
        close(fd);
        return;
    }
    w->fd = fd;
    w->since_ms = now;
    w->order = ++g->arrivals;
    w->peer = *peer;
    snprintf(w->ip, sizeof w->ip, "%s", ip);
    struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.ptr = w };
    if (epoll_ctl(g->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        close(fd);
        free(w);
        return;
    }
    g->w[g->nw++] = w;
    count(g, &g->st.accepted);
}

static void accept_all(net_gate *g)
{
    for (;;) {
        int fd = -1;
        net_addr peer;
        rl_err err;
        int rc = net_accept(g->o.listen_fd, &fd, &peer, &err);
        if (rc == NET_AGAIN)
            return;
        if (rc != 0) {
            /* out of descriptors: the backlog keeps them until some close;
             * the listening socket stays readable, so it is left alone a
             * moment instead of being asked again at once, forever */
            shed_log(g, "-", err.msg);
            epoll_ctl(g->ep, EPOLL_CTL_DEL, g->o.listen_fd, NULL);
            g->paused_until = rl_mono_ms() + RL_GATE_ACCEPT_PAUSE_MS;
            return;
        }
        admit(g, fd, &peer);
    }
}

/* Bytes arrived on w: look at what it sent so far. */
static void look(net_gate *g, waiting *w)
{
    ssize_t n = recv(w->fd, g->peek, sizeof g->peek, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) {
        drop(g, w, &g->st.timed_out, NULL); /* gone before it said anything */
        return;
    }
    net_gate_verdict v = g->o.look(g->peek, (size_t)n);
    if (v == NET_GATE_MORE && (size_t)n < sizeof g->peek)
        return;
    if (v == NET_GATE_REFUSE) {
        if (g->o.refused)
            g->o.refused(g->o.ctx, w->ip);
        drop(g, w, &g->st.not_protocol, "its first bytes are not the listener's protocol");
        return;
    }
    unwait(g, w);
    int fd = w->fd;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    count(g, &g->st.taken);
    g->o.take(g->o.ctx, fd, &w->peer);
    free(w);
}

/* Close the waiting connections whose time is up; the next deadline. */
static int64_t expire(net_gate *g)
{
    int64_t now = rl_mono_ms(), next = -1;
    int64_t limit = pressure(g) && g->o.stress_timeout_ms < g->o.timeout_ms
                        ? g->o.stress_timeout_ms
                        : g->o.timeout_ms;
    for (unsigned i = 0; i < g->nw;) {
        waiting *w = g->w[i];
        int64_t end = w->since_ms + limit;
        if (end <= now) {
            drop(g, w, &g->st.timed_out, pressure(g) ? "the stress timeout passed before its "
                                                       "first message was complete"
                                                     : NULL);
            continue; /* index i now holds another */
        }
        if (next < 0 || end < next)
            next = end;
        i++;
    }
    if (g->paused_until) {
        if (g->paused_until <= now) {
            struct epoll_event le = { .events = EPOLLIN, .data.ptr = g };
            epoll_ctl(g->ep, EPOLL_CTL_ADD, g->o.listen_fd, &le);
            g->paused_until = 0;
        } else if (next < 0 || g->paused_until < next) {
            next = g->paused_until;
        }
    }
    return next;
}

static void *gate_main(void *arg)
{
    net_gate *g = arg;
    struct epoll_event evs[64];
    for (;;) {
        int64_t next = expire(g);
        int wait = next < 0 ? -1 : (int)(next - rl_mono_ms() + 1);
        int n = epoll_wait(g->ep, evs, 64, wait < 0 && next >= 0 ? 0 : wait);
        if (n < 0 && errno != EINTR)
            break;
        bool stop = false, incoming = false;
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == (void *)g)
                incoming = true;
            else if (evs[i].data.ptr == (void *)&g->stop_fd)
                stop = true;
            else
                look(g, evs[i].data.ptr);
        }
        if (stop)
            break;
        /* after the batch's waiting connections: an eviction frees one,
         * which a later event of the same batch would still name */
        if (incoming)
            accept_all(g);
    }
    return NULL;
}

int net_gate_start(const net_gate_opts *o, net_gate **out, rl_err *err)
{
    *out = NULL;
    net_gate *g = calloc(1, sizeof *g);
    if (!g) {
        close(o->listen_fd);
        return rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
    }
    g->o = *o;
    if (o->allow)
        g->allow = *o->allow;
    g->o.allow = NULL;
    if (!g->o.max_waiting)
        g->o.max_waiting = 1;
    snprintf(g->name, sizeof g->name, "%s", o->name ? o->name : "?");
    g->st.max_waiting = g->o.max_waiting;
    pthread_mutex_init(&g->lock, NULL);
    g->w = calloc(g->o.max_waiting + 1, sizeof *g->w);
    g->ep = epoll_create1(EPOLL_CLOEXEC);
    g->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event le = { .events = EPOLLIN, .data.ptr = g };
    struct epoll_event se = { .events = EPOLLIN, .data.ptr = &g->stop_fd };
    if (!g->w || g->ep < 0 || g->stop_fd < 0 ||
        epoll_ctl(g->ep, EPOLL_CTL_ADD, o->listen_fd, &le) != 0 ||
        epoll_ctl(g->ep, EPOLL_CTL_ADD, g->stop_fd, &se) != 0 ||
        pthread_create(&g->th, NULL, gate_main, g) != 0) {
        int e = errno;
        rl_err_set(err, NET_E_LISTEN, -1, "%s listener: cannot start its gate: %s", g->name,
                   strerror(e));
        net_gate_free(g);
        return NET_E_LISTEN;
    }
    g->started = true;
    *out = g;
    return 0;
}

void net_gate_stats_get(net_gate *g, net_gate_stats *st)
{
    pthread_mutex_lock(&g->lock);
    *st = g->st;
    pthread_mutex_unlock(&g->lock);
    st->pressure = st->waiting * 2 > st->max_waiting;
}

bool net_gate_pressure(net_gate *g)
{
    net_gate_stats st;
    net_gate_stats_get(g, &st);
    return st.pressure;
}

void net_gate_free(net_gate *g)
{
    if (!g)
        return;
    if (g->started) {
        uint64_t one = 1;
        if (write(g->stop_fd, &one, sizeof one) < 0) { /* an eventfd write does not fail */
        }
        pthread_join(g->th, NULL);
    }
    for (unsigned i = 0; i < g->nw; i++) {
        close(g->w[i]->fd);
        free(g->w[i]);
    }
    free(g->w);
    if (g->ep >= 0)
        close(g->ep);
    if (g->stop_fd >= 0)
        close(g->stop_fd);
    if (g->o.listen_fd >= 0)
        close(g->o.listen_fd);
    pthread_mutex_destroy(&g->lock);
    free(g);
}
