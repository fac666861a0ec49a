/* The event loop: file descriptors with read/write interest and a callback,
 * dispatched from one thread (epoll). Callbacks must not block. Modeled on
 * Redis ae.c. Not thread-safe: only the loop's thread calls these. */
#ifndef RADLINK_LOOP_H
#define RADLINK_LOOP_H

#include <stdint.h>

enum { LOOP_READ = 1u, LOOP_WRITE = 2u };

typedef struct loop loop;
/* events: LOOP_READ and/or LOOP_WRITE that are ready (errors and hang-ups
 * report as readable, so the read path sees them). */
typedef void (*loop_cb)(loop *l, int fd, unsigned events, void *ctx);

loop *loop_new(void);
void loop_free(loop *l);
/* Watch fd for events (non-zero; replaces an earlier registration of fd). */
int loop_watch(loop *l, int fd, unsigned events, loop_cb cb, void *ctx);
/* Stop watching fd; safe to call from inside a callback. */
void loop_unwatch(loop *l, int fd);
/* Wait up to timeout_ms (-1 = forever) and dispatch ready events. Returns the
 * number dispatched, or -1 on a wait error other than EINTR. */
int loop_run_once(loop *l, int timeout_ms);
/* The same with a timeout in microseconds (epoll_pwait2): for waits shorter
 * than a millisecond. */
int loop_run_us(loop *l, int64_t timeout_us);

#endif
