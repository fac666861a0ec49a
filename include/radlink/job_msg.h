/* The job message: what the engine sends a worker for one attempt of a job
 * (radlink/job.h), encoded by the dispatcher and decoded by the worker
 * (engine/job/msg.c), bounds-checked on both sides. Its own header because
 * the job records and the wire format are two levels: the store's state
 * machine needs no codec, and the codec no store.
 *
 * Binary (radlink/rec.h), version 4 (3: a PACS carries its TLS files; 4:
 * DICOM route programs):
 *   u8 version, u64 job id, u32 attempt, str kind, str subject, str work dir,
 *   u32 n, n x { u32 tag, str keyword, str value }      attributes to enforce
 *   u32 n, n x { str AE title, str host, u32 port,      nodes to send to
 *                u8 update, u8 verify, u8 reject, u32 commit timeout,
 *                u8 tls, str CA file, str certificate, str key }
 *   u32 n, n x { str SOP Instance UID, str spool path,  instances
 *                u32 program (0: none, else 1 + its index below) }
 *   u32 n, n x { str program }                          DICOM route programs
 *   str de-identification secret ("" when no program needs it)
 * A message is at most RL_JOB_MSG_MAX bytes; the counts are bounded by
 * RL_JOB_SETS_MAX, RL_MAX_PACS, RL_JOB_PROGS_MAX and the message size. */
#ifndef RADLINK_JOB_MSG_H
#define RADLINK_JOB_MSG_H

#include <stdbool.h>
#include <stdint.h>

#include "radlink/err.h"
#include "radlink/limits.h"
#include "radlink/util.h"

typedef struct job_set {
    uint32_t tag;       /* a top-level attribute (Requested Procedure ID also
                         * in the Request Attributes Sequence) */
    rl_str keyword, value; /* value in UTF-8 */
} job_set;

typedef struct job_peer {
    rl_str ae_title, host;
    unsigned port;
    unsigned update, verify, reject; /* pacs_update, pacs_verify, pacs_reject (radlink/job.h) */
    unsigned commit_timeout_s;       /* storage commitment report awaited this long */
    bool tls;                        /* associations to it use TLS: */
    rl_str tls_ca, tls_cert, tls_key; /* PEM files on the worker's host ("" = none) */
    bool node;                       /* a <node> (routes only), not a <pacs>; not sent */
    unsigned associations;           /* a send uses up to this many at once */
} job_peer;

typedef struct job_file {
    rl_str sop, path;
    uint32_t prog; /* 0: sent as it is (after the corrections); else progs[prog - 1] */
} job_file;

typedef struct job_msg {
    uint64_t id;
    uint32_t attempt;
    rl_str kind, subject;
    rl_str work_dir;    /* corrected copies go here, as SOP.dcm; the engine
                         * moves them into the spool once the attempt is done */
    job_set sets[RL_JOB_SETS_MAX];
    size_t n_sets;
    job_peer pacs[RL_MAX_PACS];
    size_t n_pacs;
    job_file *files;    /* decode: allocated in the caller's arena */
    size_t n_files;
    rl_str progs[RL_JOB_PROGS_MAX]; /* the DICOM route programs its files name
                         * (radlink/route_dicom.h) */
    size_t n_progs;
    rl_str secret;      /* de-identification's site secret (DICOM_DEID_SECRET_SIZE bytes) */
} job_msg;

/* Append the message to out (whose limit should be RL_JOB_MSG_MAX): 0, or
 * JOB_E_PAYLOAD when it does not fit. */
int job_msg_encode(const job_msg *m, rl_buf *out, rl_err *err);
/* Decode bytes into m. Views point into bytes, which must outlive m; the file
 * array comes from arena. JOB_E_PAYLOAD names what is wrong. */
int job_msg_decode(rl_str bytes, job_msg *m, rl_arena *arena, rl_err *err);

#endif
