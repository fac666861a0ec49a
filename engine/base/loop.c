/* epoll-based event loop; see radlink/loop.h. Registrations live in a table
 * indexed by fd, so dispatch needs no allocation. */
#include "radlink/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "radlink/limits.h"

typedef struct reg {
    unsigned events; /* 0 = free */
    loop_cb cb;
    void *ctx;
} reg;

struct loop {
    int ep;
    reg *regs;
    int nregs;
    struct epoll_event ready[RL_LOOP_EVENTS_MAX];
};

loop *loop_new(void)
{
    loop *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    if (l->ep < 0) {
        free(l);
        return NULL;
    }
    return l;
}

void loop_free(loop *l)
{
    if (!l)
        return;
    close(l->ep);
    free(l->regs);
    free(l);
}

static unsigned to_epoll(unsigned events)
{
    return ((events & LOOP_READ) ? EPOLLIN : 0u) | ((events & LOOP_WRITE) ? EPOLLOUT : 0u);
}

int loop_watch(loop *l, int fd, unsigned events, loop_cb cb, void *ctx)
{
    if (fd < 0 || !events)
        return -1;
    if (fd >= l->nregs) {
        int n = l->nregs ? l->nregs : 64;
        while (n <= fd)
            n *= 2;
        reg *r = realloc(l->regs, (size_t)n * sizeof *r);
        if (!r)
            return -1;
        memset(r + l->nregs, 0, (size_t)(n - l->nregs) * sizeof *r);
        l->regs = r;
        l->nregs = n;
    }
    if (l->regs[fd].events == events) { /* the kernel has it already: no syscall */
        l->regs[fd] = (reg){ events, cb, ctx };
        return 0;
    }
    struct epoll_event ev = { .events = to_epoll(events), .data.fd = fd };
    int op = l->regs[fd].events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(l->ep, op, fd, &ev) != 0 &&
        !(op == EPOLL_CTL_ADD && errno == EEXIST && epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev) == 0))
        return -1;
    l->regs[fd] = (reg){ events, cb, ctx };
    return 0;
}

void loop_unwatch(loop *l, int fd)
{
    if (fd < 0 || fd >= l->nregs || !l->regs[fd].events)
        return;
    epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
    l->regs[fd] = (reg){ 0, NULL, NULL };
}

static int dispatch(loop *l, int n)
{
    for (int i = 0; i < n; i++) {
        int fd = l->ready[i].data.fd;
        if (fd >= l->nregs || !l->regs[fd].events)
            continue; /* unwatched by an earlier callback of this round */
        unsigned e = l->ready[i].events, got = 0;
        if (e & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP))
            got |= LOOP_READ;
        if (e & EPOLLOUT)
            got |= LOOP_WRITE;
        reg r = l->regs[fd];
        r.cb(l, fd, got, r.ctx);
    }
    return n;
}

int loop_run_once(loop *l, int timeout_ms)
{
    int n = epoll_wait(l->ep, l->ready, (int)(sizeof l->ready / sizeof l->ready[0]), timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    return dispatch(l, n);
}

int loop_run_us(loop *l, int64_t timeout_us)
{
    struct timespec ts = { .tv_sec = (time_t)(timeout_us / 1000000),
                           .tv_nsec = (long)(timeout_us % 1000000) * 1000 };
    int n = epoll_pwait2(l->ep, l->ready, (int)(sizeof l->ready / sizeof l->ready[0]),
                         timeout_us >= 0 ? &ts : NULL, NULL);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    return dispatch(l, n);
}
