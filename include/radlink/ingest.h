/* Ingest: one received HL7 frame in, one logged outcome and one ACK out.
 * Runs inside the caller's write transaction (the engine's group commit):
 * parse, check the header, recognise retransmissions, apply the message's
 * effects in a nested transaction, append it to the message log. The ACK is
 * only to be sent after the caller has committed. */
#ifndef RADLINK_INGEST_H
#define RADLINK_INGEST_H

#include "radlink/hl7.h"
#include "radlink/limits.h"
#include "radlink/msgidx.h"
#include "radlink/msglog.h"
#include "radlink/route.h"
#include "radlink/store.h"

typedef struct ingest_cfg {
    int64_t dedup_window_us; /* a retransmission within this window is not applied again */
    size_t max_frame;
    bool strict;             /* <hl7 strict="true">: refuse what INGEST_TOL_VERSION,
                              * INGEST_TOL_NO_CONTROL_ID and INGEST_TOL_STRAY_LINE tolerate */
} ingest_cfg;

typedef struct ingest {
    ingest_cfg cfg;
    hl7_msg msg;              /* reused for every message */
    const route_set *routes;  /* borrowed; NULL accepts every well-formed message */
    route_hook_fn hooks[ROUTE_HOOK_COUNT];
    void *hook_ctx;
    rl_buf joined;            /* a message whose stray lines were joined (hl7_join_stray_lines) */
    msgidx_keys keys;         /* the index keys of the message's text, read before routing */
} ingest;

/* What arrived: a complete frame, or the part of one that was given up. */
typedef enum ingest_kind {
    INGEST_FRAME,     /* a complete message */
    INGEST_OVERSIZE,  /* the first max_frame bytes of a larger frame */
    INGEST_INCOMPLETE /* a frame that never ended (EOF, timeout, new start block) */
} ingest_kind;

typedef struct ingest_input {
    ingest_kind kind;
    rl_str raw;
    const char *peer;     /* "ip:port" */
    const char *listener; /* "ip:port" */
    const char *why;      /* for OVERSIZE and INCOMPLETE: what happened */
    int64_t recv_us;
    bool as_new;          /* a dry run's second look: routed even if it is a retransmission */
} ingest_input;

typedef struct ingest_result {
    msglog_status status;
    uint64_t seq;
    rl_buf *ack;       /* caller's buffer, receives the ACK; left empty when none is
                        * due (INCOMPLETE) */
    bool close_after;  /* disconnect the client once the ACK is written */
    unsigned forwarded;/* messages queued for destinations */
    uint64_t dup_of;   /* a retransmission: the message it repeats */
    /* "AA", "AE", "AR" (a retransmission: the original's); "" none */
    char ack_code[RL_ACK_CODE_SIZE];
    unsigned tolerated;/* 1 << ingest_tolerance: irregularities it was accepted with */
    /* messages logged, by msglog_status (a batch holds several) */
    unsigned by_status[MSGLOG_STATUS_SLOTS];
    /* MSH-9's message code and trigger event ("ORM^O01"), letters, digits and
     * '^' only; "" when there was none (a batch: its last message's) */
    char type[RL_MSG_TYPE_TEXT_MAX];
} ingest_result;

/* What a message may be accepted with although a strict receiver would
 * refuse it: each is written into its log entry as a warning (`msg list`,
 * `msg show`) and counted by the engine (`radlink status`). */
typedef enum ingest_tolerance {
    INGEST_TOL_CTRL_REUSED = 0, /* MSH-10 seen before from the sender, other content */
    INGEST_TOL_MSH2_ESCAPE,     /* MSH-2 ^~\\& read as ^~\& */
    INGEST_TOL_UNICODE,         /* MSH-18 UNICODE read as UTF-8 */
    INGEST_TOL_VERSION,         /* MSH-12 N.N.0 read as N.N; an empty one as 2.5 */
    INGEST_TOL_NO_CONTROL_ID,   /* MSH-10 empty: accepted without a duplicate check */
    INGEST_TOL_STRAY_LINE,      /* a line that is no segment joined to the one before */
    INGEST_TOL_COUNT
} ingest_tolerance;
const char *ingest_tolerance_name(int k);

void ingest_init(ingest *g, const ingest_cfg *cfg);
void ingest_free(ingest *g);

/* Process one input within t. A frame holding a batch (FHS/BHS ... BTS/FTS)
 * is split and each message processed in order, as if it had come alone; the
 * answer is a batch of their ACKs (BHS, the ACKs, BTS with the count), and
 * status the worst of theirs. A batch that does not hold together (a count
 * that disagrees, no BTS) is refused whole, nothing of it applied.
 *
 * Process one input within t. Returns STORE_OK, or a store error that makes
 * the caller abort the whole transaction (then answer with ingest_refusal). */
int ingest_one(ingest *g, store_txn *t, const ingest_input *in, ingest_result *res, rl_err *err);

/* ingest_one with the routes rs and a route trace (trace may be NULL): what
 * the engine decides for a message, for a dry run (`radlink hl7 ack`,
 * `radlink routes test`) that runs it in a transaction it then aborts. */
int ingest_run(ingest *g, store_txn *t, const ingest_input *in, const route_set *rs,
               ingest_result *res, rl_buf *trace, rl_err *err);

/* The AR for a message that could not be stored at all (store full, I/O
 * error): mirrors what MSH could be read, carries text. */
void ingest_refusal(ingest *g, rl_str raw, const char *text, rl_buf *ack);

/* Re-run a logged message through rs (or g->routes) as a new log entry, in t:
 * the administrator's replay after fixing routes or data. trace (may be NULL)
 * receives the route trace. */
int ingest_replay(ingest *g, store_txn *t, uint64_t seq, const route_set *rs, ingest_result *res,
                  rl_buf *trace, rl_err *err);

#endif
