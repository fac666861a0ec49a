/* TCP: listening sockets, accepted and outgoing connections (non-blocking,
 * close-on-exec), waiting on a descriptor with a deadline and a cancel
 * descriptor, and the text of addresses (radlink/net.h). */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "radlink/limits.h"
#include "radlink/net.h"

_Static_assert(sizeof(struct sockaddr_storage) <= NET_SOCKADDR_MAX,
               "net_addr holds a struct sockaddr_storage");
_Static_assert(alignof(struct sockaddr_storage) <= 8, "net_addr is aligned for a sockaddr");

void net_addr_str(const void *sa, char *out, size_t n)
{
    const struct sockaddr *s = sa;
    socklen_t len = s->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                    : s->sa_family == AF_INET ? sizeof(struct sockaddr_in)
                                              : 0;
    char host[NI_MAXHOST], serv[NI_MAXSERV];
    if (!len || getnameinfo(s, len, host, sizeof host, serv, sizeof serv,
                            NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(out, n, "?");
        return;
    }
    snprintf(out, n, strchr(host, ':') ? "[%s]:%s" : "%s:%s", host, serv);
}

void net_addr_host(const char *addr, char *host, size_t n)
{
    const char *colon = strrchr(addr, ':');
    size_t len = colon ? (size_t)(colon - addr) : strlen(addr);
    if (len >= 2 && addr[0] == '[' && addr[len - 1] == ']') {
        addr++;
        len -= 2;
    }
    snprintf(host, n, "%.*s", (int)len, addr);
}

unsigned net_local_port(int fd)
{
    struct sockaddr_storage sa;
    socklen_t sl = sizeof sa;
    if (getsockname(fd, (struct sockaddr *)&sa, &sl) != 0)
        return 0;
    if (sa.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
    return sa.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&sa)->sin_port) : 0;
}

int net_listen(const char *what, const char *addr, unsigned port, int *out, unsigned *bound,
               rl_err *err)
{
    const char *shown = addr ? addr : "";
    char ps[16];
    snprintf(ps, sizeof ps, "%u", port);
    struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM };
    struct addrinfo *ai = NULL;
    int g = getaddrinfo(addr && *addr ? addr : NULL, ps, &hints, &ai);
    if (g != 0)
        return rl_err_set(err, NET_E_RESOLVE, -1, "%s %s:%u: %s", what, shown, port,
                          gai_strerror(g));
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
        listen(fd, RL_NET_LISTEN_BACKLOG) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return rl_err_set(err, NET_E_LISTEN, -1, "%s %s:%u: %s", what, shown, port, strerror(e));
    }
    freeaddrinfo(ai);
    if (bound)
        *bound = net_local_port(fd);
    *out = fd;
    return 0;
}

static void nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int net_accept(int listen_fd, int *out, net_addr *peer, rl_err *err)
{
    struct sockaddr_storage sa;
    socklen_t sl = sizeof sa;
    int fd = accept4(listen_fd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        /* and the errors of a connection that went before it was taken,
         * which accept(2) says to take as EAGAIN: only running out of
         * descriptors or memory is the listener's problem */
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED ||
            errno == EPROTO || errno == ENETDOWN || errno == ENOPROTOOPT || errno == EHOSTDOWN ||
            errno == ENONET || errno == EHOSTUNREACH || errno == EOPNOTSUPP ||
            errno == ENETUNREACH)
            return NET_AGAIN;
        return rl_err_set(err, NET_E_IO, -1, "%s", strerror(errno));
    }
    nodelay(fd);
    if (peer) {
        memset(peer, 0, sizeof *peer);
        memcpy(peer->sa, &sa, sl <= sizeof peer->sa ? sl : sizeof peer->sa);
        peer->len = (unsigned)sl;
        net_addr_str(&sa, peer->text, sizeof peer->text);
    }
    *out = fd;
    return 0;
}

int net_wait_fd(int fd, bool write, int64_t deadline_ms, int cancel_fd)
{
    int64_t left = deadline_ms - rl_mono_ms();
    if (left <= 0)
        return NET_E_TIMEOUT;
    struct pollfd p[2] = { { .fd = fd, .events = (short)(write ? POLLOUT : POLLIN) },
                           { .fd = cancel_fd, .events = POLLIN } };
    int r;
    do
        r = poll(p, cancel_fd >= 0 ? 2 : 1, (int)left);
    while (r < 0 && errno == EINTR);
    if (r > 0 && cancel_fd >= 0 && (p[1].revents & POLLIN))
        return NET_E_CANCELLED;
    return r > 0 ? 0 : r == 0 ? NET_E_TIMEOUT : NET_E_IO;
}

/* One address: 0 connected, or the code (*last: the errno that refused it). */
static int connect_one(const struct addrinfo *a, int64_t deadline, int cancel_fd, int *out,
                       int *last)
{
    int fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NET_E_CONNECT;
    if (connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
        *last = errno;
        close(fd);
        return NET_E_CONNECT;
    }
    int w = net_wait_fd(fd, true, deadline, cancel_fd);
    if (w != 0) {
        close(fd);
        return w == NET_E_CANCELLED ? w : NET_E_TIMEOUT;
    }
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
    if (soerr) {
        *last = soerr;
        close(fd);
        return NET_E_CONNECT;
    }
    nodelay(fd);
    *out = fd;
    return 0;
}

int net_connect(const char *host, unsigned port, int64_t deadline_ms, int cancel_fd, int *out,
                rl_err *err)
{
    char ps[16];
    snprintf(ps, sizeof ps, "%u", port);
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
    struct addrinfo *ai = NULL;
    int g = getaddrinfo(host, ps, &hints, &ai);
    if (g != 0)
        return rl_err_set(err, NET_E_RESOLVE, -1, "%s", gai_strerror(g));
    int rc = NET_E_CONNECT, last = 0;
    for (struct addrinfo *a = ai; a && rc == NET_E_CONNECT; a = a->ai_next)
        rc = connect_one(a, deadline_ms, cancel_fd, out, &last);
    freeaddrinfo(ai);
    if (rc == NET_E_CANCELLED)
        return rl_err_set(err, rc, -1, "cancelled");
    if (rc == NET_E_TIMEOUT)
        return rl_err_set(err, rc, -1, "connection timed out");
    if (rc)
        return rl_err_set(err, rc, -1, "%s", last ? strerror(last) : "cannot connect");
    return 0;
}

bool net_addr_allowed(const cidr_list *l, const net_addr *a)
{
    if (!l || !l->n)
        return true;
    const struct sockaddr *sa = (const struct sockaddr *)a->sa;
    if (sa->sa_family == AF_INET)
        return cidr_match(l, false,
                          (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr);
    if (sa->sa_family == AF_INET6)
        return cidr_match(l, true,
                          (const unsigned char *)&((const struct sockaddr_in6 *)sa)->sin6_addr);
    return false;
}

static int addrset_find(const net_addrset *s, const char *ip)
{
    for (unsigned i = 0; i < s->n; i++)
        if (strcmp(s->e[i].ip, ip) == 0)
            return (int)i;
    return -1;
}

void net_addrset_mark(net_addrset *s, const char *ip, int64_t now_ms)
{
    int i = addrset_find(s, ip);
    if (i < 0) {
        const unsigned cap = sizeof s->e / sizeof s->e[0];
        if (s->n < cap) {
            i = (int)s->n++;
        } else {
            i = 0;
            for (unsigned k = 1; k < s->n; k++)
                if (s->e[k].at_ms < s->e[i].at_ms)
                    i = (int)k;
        }
        snprintf(s->e[i].ip, sizeof s->e[i].ip, "%s", ip);
    }
    s->e[i].at_ms = now_ms;
}

bool net_addrset_has(const net_addrset *s, const char *ip)
{
    return addrset_find(s, ip) >= 0;
}

bool net_addrset_due(net_addrset *s, const char *ip, int64_t now_ms, int64_t every_ms)
{
    int i = addrset_find(s, ip);
    if (i >= 0 && now_ms - s->e[i].at_ms < every_ms)
        return false;
    net_addrset_mark(s, ip, now_ms);
    return true;
}
