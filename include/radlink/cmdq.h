/* The command queue between other threads and the engine's loop (the
 * bottom layer): items posted from any thread, taken by the loop at the start
 * of a turn, finished once the turn is committed. A thread that must answer
 * a peer after the commit (a C-STORE response) calls cmdq_call and waits.
 * What an item carries is its owner's (radlink/cmd.h embeds cmdq_item first
 * in every command); the queue only links, wakes and finishes.
 *
 * Threads: cmdq_post, cmdq_call and cmdq_fd from any thread; cmdq_take,
 * cmdq_finish and cmdq_close only from the loop's thread. */
#ifndef RADLINK_CMDQ_H
#define RADLINK_CMDQ_H

#include <stdbool.h>

#include "radlink/limits.h"
#include "radlink/util.h"

typedef struct cmdq_item {
    /* Filled by the loop before it finishes the item: 0, or an error code
     * of radlink/err.h with the reason in text. */
    int status;
    char text[RL_CMD_TEXT_MAX];
    struct cmdq_item *next; /* the list cmdq_take returns */
    bool waited, done;      /* private to cmdq */
} cmdq_item;

typedef struct cmdq cmdq;

/* A queue with an eventfd the loop watches. Freed by cmdq_free. */
cmdq *cmdq_new(rl_err *err);
void cmdq_free(cmdq *q);
/* Readable while items wait (an eventfd: the loop reads it in cmdq_take). */
int cmdq_fd(const cmdq *q);

/* Post c and return at once; the block c begins must come from malloc, and
 * the loop frees it once it is finished. Returns 0, or RL_E_ARG after
 * cmdq_close (then the block is freed here). */
int cmdq_post(cmdq *q, cmdq_item *c);
/* Post c and wait until the loop finished it (its turn committed, or
 * failed); c stays the caller's. Returns c->status. After cmdq_close it
 * returns at once with RL_E_ARG and the reason in c->text. */
int cmdq_call(cmdq *q, cmdq_item *c);

/* Loop: detach every waiting item, oldest first, as a list linked by next
 * (NULL when none). */
cmdq_item *cmdq_take(cmdq *q);
/* Loop: c is applied and its turn committed (or not: status says). Wakes a
 * waiting caller, or frees a posted item. */
void cmdq_finish(cmdq *q, cmdq_item *c, int status, const char *text);
/* Loop, at shutdown: finish everything still waiting with status RL_E_ARG
 * and why, and refuse later posts and calls. */
void cmdq_close(cmdq *q, const char *why);

#endif
