/* Typed commands to the engine's loop.
 *
 * The loop thread of `radlink serve` owns every LMDB write transaction. Any
 * other thread with a state change to make posts a command here: a DICOM
 * thread that spooled an instance, a sender thread with the outcome of one
 * downstream exchange, a sender that ended. The loop takes every waiting
 * command at the start of a turn, applies them all in the turn's one write
 * transaction (with the HL7 frames, job outcomes and control requests of the
 * same turn), commits, and only then finishes them (a storage commitment
 * report changes nothing stored: the loop passes it on). A thread that must answer
 * a peer (a C-STORE response) calls cmdq_call and waits for that commit, so
 * instances from several associations share one commit with HL7 messages.
 *
 * Job outcomes and control requests reach the loop on its own sockets
 * (ZeroMQ, the control socket) and are applied the same way; they are not
 * posted here.
 *
 * Threads: cmdq_post, cmdq_call and cmdq_fd from any thread; cmdq_take,
 * cmdq_finish and cmdq_close only from the loop's thread. */
#ifndef RADLINK_CMD_H
#define RADLINK_CMD_H

#include <stdbool.h>
#include <stdint.h>

#include "radlink/audit.h"
#include "radlink/limits.h"
#include "radlink/study.h"
#include "radlink/util.h"

typedef enum cmd_kind {
    CMD_INSTANCE = 1, /* u.instance: index and reconcile an instance already in the spool */
    CMD_DELIVERY,     /* u.delivery: what a downstream answered one forwarded message */
    CMD_SENDER_EXIT,  /* u.sender: a sender thread ended; the loop joins it */
    CMD_COMMIT_REPORT,/* u.report: a PACS's storage commitment report, for the worker
                       * that waits for it (nothing is stored) */
    CMD_MPPS,         /* u.mpps: an MPPS N-CREATE or N-SET, checked by the SCP */
    CMD_ROUTES_LOADED,/* u.routes: the reload thread read and compiled the route file;
                       * the loop swaps it in between two turns */
    CMD_AUDIT,        /* u.audit: an audit event rendered by a DICOM thread (a query,
                       * a security alert), stored in the turn's transaction */
    CMD_AUDIT_SHIPPED,/* u.shipped: the collector took every audit event up to this seq */
} cmd_kind;

typedef enum cmd_delivery {
    CMD_DELIVERED = 1, /* AA or CA: remove the message from the queue */
    CMD_PARKED,        /* AE, AR, CE or CR: keep it aside with the downstream's text */
    CMD_RETRY,         /* no usable answer: try again at next_us */
} cmd_delivery;

typedef struct cmd {
    cmd_kind kind;
    union {
        struct {
            study_inst *in; /* borrowed from the poster, already in the spool (synced) */
            bool refuse_duplicates; /* an instance already indexed is refused */
        } instance;
        struct {
            char dest[RL_DEST_NAME_MAX];
            uint64_t qseq;
            cmd_delivery outcome;
            uint32_t attempts;
            int64_t next_us;  /* CMD_RETRY: when to try again */
            char text[RL_CMD_TEXT_MAX]; /* the downstream's text or what went wrong */
        } delivery;
        struct {
            void *sender; /* the forwarder's own handle */
        } sender;
        struct {
            char txn[RL_UID_SIZE]; /* the storage commitment's Transaction UID */
            char *lines; /* malloc'd by the poster, freed by the loop */
        } report;
        struct {
            struct dicom_mpps_req *req; /* borrowed from the waiting DICOM thread */
        } mpps;
        audit_ready audit; /* its xml follows the command in the same block (audit_cmd) */
        uint64_t shipped;
        struct {
            struct engine *engine; /* whose configuration names the file */
            struct route_set *rs;  /* NULL when the file was refused */
            char *errors;          /* malloc'd: every error, one per line */
        } routes;
    } u;
    /* Filled by the loop before it finishes the command: 0, or an error code
     * of radlink/err.h with the reason in text. CMD_INSTANCE also sets
     * duplicate when the instance was refused as one already stored. */
    int status;
    bool duplicate;
    char text[RL_CMD_TEXT_MAX];
    /* private to cmdq */
    struct cmd *next;
    bool waited, done;
} cmd;

typedef struct cmdq cmdq;

/* A queue with an eventfd the loop watches. Freed by cmdq_free. */
cmdq *cmdq_new(rl_err *err);
void cmdq_free(cmdq *q);
/* Readable while commands wait (an eventfd: the loop reads it in cmdq_take). */
int cmdq_fd(const cmdq *q);

/* Post c and return at once; c must come from malloc, and the loop frees it
 * once it is finished. Returns 0, or RL_E_ARG after cmdq_close
 * (then c is freed here). */
int cmdq_post(cmdq *q, cmd *c);
/* Post c and wait until the loop finished it (its turn committed, or failed);
 * c stays the caller's. Returns c->status. After cmdq_close it returns at
 * once with RL_E_ARG and the reason in c->text. */
int cmdq_call(cmdq *q, cmd *c);

/* Loop: detach every waiting command, oldest first, as a list linked by
 * next (NULL when none). */
cmd *cmdq_take(cmdq *q);
/* Loop: c is applied and its turn committed (or not: status says). Wakes a
 * waiting caller, or frees a posted command. */
void cmdq_finish(cmdq *q, cmd *c, int status, const char *text);
/* Loop, at shutdown: finish everything still waiting with status RL_E_ARG
 * and why, and refuse later posts and calls. */
void cmdq_close(cmdq *q, const char *why);

#endif
