/* The command queue between other threads and the loop (radlink/cmdq.h): a
 * mutex-protected list, an eventfd that wakes the loop, and one condition
 * variable on which callers wait for their command to be finished. */
#include "radlink/cmdq.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "radlink/limits.h"

struct cmdq {
    pthread_mutex_t mu;
    pthread_cond_t finished;
    cmdq_item *head, *tail;
    int efd;
    bool closed;
    char why[RL_CMDQ_WHY_MAX];
};

cmdq *cmdq_new(rl_err *err)
{
    cmdq *q = calloc(1, sizeof *q);
    if (!q) {
        rl_err_set(err, RL_E_NOMEM, -1, "out of memory");
        return NULL;
    }
    q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (q->efd < 0) {
        rl_err_set(err, RL_E_SYS, -1, "eventfd: %s", strerror(errno));
        free(q);
        return NULL;
    }
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->finished, NULL);
    return q;
}

void cmdq_free(cmdq *q)
{
    if (!q)
        return;
    for (cmdq_item *c = q->head, *n; c; c = n) {
        n = c->next;
        if (!c->waited)
            free(c);
    }
    close(q->efd);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->finished);
    free(q);
}

int cmdq_fd(const cmdq *q)
{
    return q->efd;
}

/* Append c; the caller holds mu. */
static void push(cmdq *q, cmdq_item *c)
{
    c->next = NULL;
    c->done = false;
    if (q->tail)
        q->tail->next = c;
    else
        q->head = c;
    q->tail = c;
    uint64_t one = 1;
    /* only a full counter (2^64 - 2 unread wakeups) can refuse this, and then
     * the loop is awake anyway */
    ssize_t w = write(q->efd, &one, sizeof one);
    (void)w;
}

int cmdq_post(cmdq *q, cmdq_item *c)
{
    pthread_mutex_lock(&q->mu);
    if (q->closed) {
        pthread_mutex_unlock(&q->mu);
        free(c);
        return RL_E_ARG;
    }
    c->waited = false;
    push(q, c);
    pthread_mutex_unlock(&q->mu);
    return 0;
}

int cmdq_call(cmdq *q, cmdq_item *c)
{
    pthread_mutex_lock(&q->mu);
    if (q->closed) {
        c->status = RL_E_ARG;
        snprintf(c->text, sizeof c->text, "%s", q->why);
        pthread_mutex_unlock(&q->mu);
        return c->status;
    }
    c->waited = true;
    push(q, c);
    while (!c->done)
        pthread_cond_wait(&q->finished, &q->mu);
    pthread_mutex_unlock(&q->mu);
    return c->status;
}

cmdq_item *cmdq_take(cmdq *q)
{
    uint64_t n;
    if (read(q->efd, &n, sizeof n) < 0 && errno != EAGAIN)
        return NULL;
    pthread_mutex_lock(&q->mu);
    cmdq_item *c = q->head;
    q->head = q->tail = NULL;
    pthread_mutex_unlock(&q->mu);
    return c;
}

void cmdq_finish(cmdq *q, cmdq_item *c, int status, const char *text)
{
    pthread_mutex_lock(&q->mu);
    c->status = status;
    if (text && text != c->text)
        snprintf(c->text, sizeof c->text, "%s", text);
    if (!c->waited) {
        pthread_mutex_unlock(&q->mu);
        free(c);
        return;
    }
    c->done = true;
    pthread_cond_broadcast(&q->finished);
    pthread_mutex_unlock(&q->mu);
}

void cmdq_close(cmdq *q, const char *why)
{
    pthread_mutex_lock(&q->mu);
    q->closed = true;
    snprintf(q->why, sizeof q->why, "%s", why);
    cmdq_item *c = q->head;
    q->head = q->tail = NULL;
    pthread_mutex_unlock(&q->mu);
    for (cmdq_item *n; c; c = n) {
        n = c->next;
        cmdq_finish(q, c, RL_E_ARG, why);
    }
}
