/* Typed commands to the engine's loop: the kinds other threads post, each a
 * row of the loop's command table (engine/serve/commands.c); the queue that
 * carries them is the bottom layer's (radlink/cmdq.h).
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
 */
#ifndef RADLINK_CMD_H
#define RADLINK_CMD_H

#include <stdbool.h>
#include <stdint.h>

#include "radlink/audit.h"
#include "radlink/cmdq.h"
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
    CMD_AUDIT,        /* u.audit: an audit event made by a DICOM thread (a query,
                       * a security alert), stored in the turn's transaction */
    CMD_AUDIT_SHIPPED,/* u.shipped: the collector took every audit event up to this seq */
    CMD_ALERTS,       /* u.alerts: the alert book (its JSON follows the command in the same
                       * block), kept in META alerts.state */
} cmd_kind;

typedef enum cmd_delivery {
    CMD_DELIVERED = 1, /* AA or CA: remove the message from the queue */
    CMD_PARKED,        /* AE, AR, CE or CR: keep it aside with the downstream's text */
    CMD_RETRY,         /* no usable answer: try again at next_us */
} cmd_delivery;

typedef struct cmd {
    /* the queue's part (radlink/cmdq.h): the status and text the loop fills
     * before it finishes the command (0, or an error code of radlink/err.h
     * with the reason in text) */
    cmdq_item q;
    cmd_kind kind;
    /* CMD_INSTANCE: the instance was refused as one already stored */
    bool duplicate;
    union {
        struct {
            study_inst *in; /* borrowed from the poster, already in the spool (not
                             * yet synced: the turn syncs the spool) */
            bool refuse_duplicates; /* an instance already indexed is refused */
            /* where its DICOM routes send it (borrowed; NULL: every <pacs>) */
            const struct route_dicom_decision *decision;
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
        audit_ready audit; /* its facts follow the command in the same block (audit_cmd) */
        uint64_t shipped;
        struct {
            size_t len; /* of the JSON after the command */
        } alerts;
        struct {
            void *reloader;        /* the engine process's reload, which reads the file */
            struct route_set *rs;  /* NULL when the file was refused */
            char *errors;          /* malloc'd: every error, one per line */
        } routes;
    } u;
} cmd;

/* The command's queue part first (cmdq hands back &c->q), then what it is. */
static inline cmd *cmd_of(cmdq_item *i) { return (cmd *)i; }
static inline cmd *cmd_next(const cmd *c) { return cmd_of(c->q.next); }

#endif
