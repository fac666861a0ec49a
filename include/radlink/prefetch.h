/* Prefetching priors (engine/prefetch/): an order's patient's relevant
 * prior studies moved from an archive to the reading PACS before the study
 * is read.
 *
 * - relevance (prefetch_select): the archive's studies of the patient (a
 *   study-level C-FIND), the ordered study never among them; same modality
 *   (or a list, or any), same body part (or any), within an age, most recent
 *   first, at most `max`;
 * - the run (prefetch_run): the archive asked, the destination asked which
 *   of the relevant ones it holds already (skipped), each other one moved
 *   (C-MOVE to the destination's AE title, or C-GET into a work directory
 *   and C-STORE on when the archive cannot move to it), then verified at
 *   the destination (a C-FIND shows the study with its instance count).
 * `radlink prefetch` runs it by hand; every decision is said, with why. */
#ifndef RADLINK_PREFETCH_H
#define RADLINK_PREFETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "radlink/dicom.h"
#include "radlink/err.h"
#include "radlink/limits.h"
#include "radlink/util.h"

/* The priors moved for one order at most. */
#define RL_PREFETCH_MAX 20

typedef enum prefetch_modality {
    PREFETCH_MOD_SAME = 0, /* the order's modality among the study's */
    PREFETCH_MOD_ANY = 1,
    PREFETCH_MOD_LIST = 2, /* one of a list ("CT,MR") */
} prefetch_modality;

typedef struct prefetch_rule {
    unsigned max;                  /* at most this many priors (1..RL_PREFETCH_MAX) */
    int64_t within_s;              /* not older than this; 0: any age */
    prefetch_modality modality;
    char modalities[RL_LO_SIZE];   /* PREFETCH_MOD_LIST: comma-separated */
    bool same_body_part;           /* body-part="same" */
} prefetch_rule;

/* The rule's defaults: 3 priors, within 5 years, same modality, same body
 * part. */
void prefetch_rule_default(prefetch_rule *r);
/* An age: "5y", "18m" (months), "30d", "12h"; 0 when it is one. */
int prefetch_parse_age(const char *text, int64_t *seconds);
/* modality="same|any|CT,MR" into r; RL_E_ARG with the reason. */
int prefetch_parse_modality(const char *text, prefetch_rule *r, rl_err *err);

/* What the order says of itself. */
typedef struct prefetch_order {
    char patient_id[RL_LO_SIZE], issuer[RL_LO_SIZE];
    char accession[RL_LO_SIZE], study_uid[RL_UID_SIZE]; /* the ordered study: never a prior */
    char modality[RL_CS_SIZE];     /* "" : any */
    char body_part[RL_LO_SIZE];    /* "" : any */
    char date[9];                  /* the order's day (YYYYMMDD): ages count from it */
} prefetch_order;

#define RL_PREFETCH_WHY 160
typedef struct prefetch_pick {
    bool relevant;
    char why[RL_PREFETCH_WHY];     /* "CT, 2 years before" / "not CT (MR)" */
} prefetch_pick;

/* Which of an archive's studies are relevant priors for o by r: rows
 * sorted most recent first (in place), pick[i] for rows[i]; at most r->max
 * relevant (the next ones say "past max"). */
void prefetch_select(const prefetch_rule *r, const prefetch_order *o, dicom_qr_study *rows,
                     size_t n, prefetch_pick *pick);

/* A node as a prefetch uses it. */
typedef struct prefetch_node {
    dicom_peer peer;
    bool get;                      /* retrieve="get": C-GET, then C-STORE on */
    unsigned timeout_s;            /* each C-FIND answer or retrieve response */
    unsigned max_answers;          /* a patient's studies considered (0: the default) */
} prefetch_node;

typedef struct prefetch_outcome {
    size_t answered;               /* studies the archive answered */
    size_t relevant, present, moved, failed;
    unsigned instances;            /* instances moved and verified */
    bool capped;                   /* the archive answered more than its max-answers */
} prefetch_outcome;

/* The whole prefetch for one order: report gets one line per study of the
 * archive (date, modalities, description, instances, decision and why,
 * then what was done) and the totals. With dry_run nothing is moved (the
 * destination is still asked what it holds). work_dir: where C-GET puts a
 * study before it is sent on (removed after). 0 when every relevant prior
 * is at the destination; DICOM_E_PARTIAL when some could not be moved or
 * verified (report says which and why); DICOM_E_NET or DICOM_E_REFUSED when
 * the archive or the destination could not be asked. */
int prefetch_run(const char *calling_ae, const prefetch_node *from, const prefetch_node *to,
                 const prefetch_rule *r, const prefetch_order *o, const char *work_dir,
                 bool dry_run, rl_buf *report, prefetch_outcome *out, rl_err *err);

/* ---- orders: the <prefetch> route action and its jobs ---- */

struct route_env;
struct hl7_msg;
struct store_txn;
struct job_msg;
struct route_set;

/* A prefetch job's subject: "ACCESSION@TO<FROM" (-1 when out is too short),
 * and its parts back (false when it is not one). */
int prefetch_subject(const char *accession, const char *from, const char *to, char *out,
                     size_t n);
bool prefetch_subject_split(rl_str subject, rl_str *accession, rl_str *from, rl_str *to);

/* The body part an order names for its prefetch (OBR-15.4, the specimen
 * source's body site, else OBR-46.1), kept with the job until it is over:
 * STORE_META "prefetch-body" NUL accession -> the text. NULL/"" removes it. */
int prefetch_body_put(struct store_txn *t, const char *accession, const char *body, rl_err *err);
/* Into out ("" when none). */
int prefetch_body_get(struct store_txn *t, rl_str accession, char *out, size_t n, rl_err *err);

/* The `prefetch` route action (<prefetch>, route_prefetch_opts) on an order:
 * a new order (ORC-1 NW) wants a prefetch job, due now or `lead` before its
 * scheduled start; a cancelled or discontinued one (CA, DC, OC) cancels the
 * job still waiting. The job runs on a worker. */
int prefetch_hook(struct route_env *env, struct hl7_msg *m, rl_buf *trace);

/* The dispatcher's side: job job_id becomes a message for a worker, the
 * order read from the worklist as it is now (its patient after a merge), the
 * rule from rs's <prefetch>; nodes are the configuration's. A job whose
 * order is gone is done at once ("cancelled: ..."), *started false. */
int prefetch_job_start(struct store_txn *t, uint64_t job_id, const char *worker,
                       const prefetch_node *nodes, size_t n_nodes, const struct route_set *rs,
                       const char *work_root, int64_t now_us, struct job_msg *msg, rl_arena *a,
                       bool *started, rl_err *err);
/* The worker's side: one attempt; result gets the summary, or the reason it
 * failed (JOB_E_ATTEMPT: tried again after the backoff). */
int prefetch_job_run(const struct job_msg *m, const char *calling_ae, rl_buf *result);

#endif
