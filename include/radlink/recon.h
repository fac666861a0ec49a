/* Reconciliation (engine/recon/): a received study against the RIS, and the
 * study jobs that make the PACS hold what the RIS says.
 *
 * The order is looked for on the worklist by accession number, then by Study
 * Instance UID, then by patient ID + start date + modality (only an order
 * no other study matched, and only when exactly one is left: several are the
 * administrator's choice, listed in the note). Matched: the
 * order's values of the integration-critical attributes (patient ID and
 * issuer, name, birth date, sex, accession number, requested procedure ID,
 * and the study UID when the order fixed it) are the study's target; every
 * one the images disagree with is a discrepancy, and the study is marked for
 * correction. Unmatched: the study goes to the exception list. A study no
 * order claims takes the surviving identity after a patient merge.
 *
 * This module alone reads and writes two texts kept in the study record:
 *   target: one line per attribute to enforce, "Keyword TAB value"
 *   note:   one line per discrepancy, "Keyword TAB image value TAB RIS value"
 * Other modules go through the functions below.
 *
 * Study jobs: a study needs a job when an instance has not been sent with the
 * study's current target generation (radlink/study.h) and there is something
 * to do (a PACS to send to, or a discrepancy to correct in the spool). Its
 * first job waits until the study is stable (<jobs study-stable>). What a
 * job's attempts do to the study is radlink/recon_job.h. */
#ifndef RADLINK_RECON_H
#define RADLINK_RECON_H

#include "radlink/job.h"
#include "radlink/study.h"
#include "radlink/wl.h"

/* Policy the engine sets once at start (and the CLI reads back from the
 * store): kept in the store's meta database so that a verb applied without a
 * running engine schedules like the engine would. */
typedef struct recon_policy {
    unsigned n_pacs;         /* DICOM nodes, <pacs> and <node>; 0: nothing is sent anywhere */
    unsigned study_stable_s; /* quiet time before a study's job */
    unsigned unmatched_forward_s; /* an unmatched study this old is sent as it is (0: held) */
    struct {
        char ae[RL_AE_TITLE_SIZE];
        bool node;           /* a <node>: only what DICOM routes send it */
        unsigned update;     /* pacs_update */
        char hl7_dest[RL_DEST_NAME_MAX]; /* PACS_UPDATE_HL7: where the ADT goes */
    } pacs[RL_MAX_PACS];
} recon_policy;

/* The AE titles of the policy's <pacs> (not the route-only nodes): where an
 * instance no DICOM route takes goes. Returns how many (at most max). */
size_t recon_policy_pacs(const recon_policy *p, const char **ae, size_t max);

/* The state's name ("unmatched"), or "?" for a value no state has. */
const char *recon_state_name(recon_state s);

int recon_policy_save(store_txn *t, const recon_policy *p, rl_err *err);
/* The policy last saved (defaults when none: no PACS, RL_STUDY_STABLE_DEFAULT_S). */
void recon_policy_load(store_txn *t, recon_policy *p);

typedef struct recon_out {
    recon_state state;
    recon_state was; /* before this reconciliation */
    unsigned discrepancies;
    uint32_t gen;          /* the study's target generation */
    bool target_changed;
    unsigned candidates; /* unmatched: orders the fallback found that no other study has */
    char how[sizeof "patient+date+modality"]; /* "accession", "study UID", "patient+date+modality", "link", "merge",
                   * "ambiguous" (several candidates), "none" */
} recon_out;

/* Reconcile the study in t. With link_key (a worklist entry key), the
 * administrator's choice is used instead of the search. */
int recon_study(store_txn *t, rl_str study_uid, const rl_str *link_key, recon_out *out,
                rl_err *err);

/* A patient identity, for a study that no order claims after a merge. */
typedef struct recon_identity {
    const char *id, *issuer, *name, *birth, *sex; /* "" when unknown */
} recon_identity;
/* The study takes who as its target (its headers are to be corrected). */
int recon_move(store_txn *t, rl_str study_uid, const recon_identity *who, recon_out *out,
               rl_err *err);

/* Want a job for the study when it has something to do (see above), not
 * before the study is stable. */
int recon_schedule(store_txn *t, rl_str study_uid, const recon_out *out, int64_t now_us,
                   rl_err *err);

/* The unmatched studies under a forward policy (<recon forward-after>) that
 * have no job yet get one (at engine start: the policy may be new). */
int recon_schedule_unmatched(store_txn *t, int64_t now_us, unsigned *n, rl_err *err);

/* An order was written: studies on the exception list that may be its images
 * (same accession or patient ID) are reconciled again. */
int recon_new_order(store_txn *t, rl_str accession, rl_str patient_id, unsigned *matched,
                    rl_err *err);

/* A received instance was indexed: reconcile its study (keeping an
 * administrator's link) and want its job. */
int recon_after_store(store_txn *t, const study_inst *in, int64_t now_us, recon_out *out,
                      rl_err *err);

/* Each discrepancy of a study's note: keyword, value in the images, RIS value
 * (views into note). Stops when cb returns non-zero. */
typedef int (*recon_note_visit)(void *ctx, rl_str keyword, rl_str image, rl_str ris);
int recon_note_each(rl_str note, recon_note_visit cb, void *ctx);

#endif
