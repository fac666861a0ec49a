/* Reconciliation (engine/recon/): a received study against the RIS. The
 * order is looked for on the worklist by accession number, then by Study
 * Instance UID, then by patient ID + start date + modality. Matched: every
 * integration-critical attribute that disagrees (patient ID and issuer, name,
 * birth date, sex, accession number, requested procedure ID, and the study
 * UID when the order fixed it) is recorded as a discrepancy and the study is
 * marked for correction. Unmatched: the study goes to the exception list.
 *
 * Discrepancies are kept in the study record's note, one per line:
 *   KEYWORD TAB value-in-the-images TAB value-of-the-RIS */
#ifndef RADLINK_RECON_H
#define RADLINK_RECON_H

#include "radlink/study.h"
#include "radlink/wl.h"

typedef struct recon_out {
    recon_state state;
    unsigned discrepancies;
    char how[32]; /* "accession", "study UID", "patient+date+modality", "link" */
} recon_out;

/* Reconcile the study in t. With link_key (a worklist entry key), the
 * administrator's choice is used instead of the search. */
int recon_study(store_txn *t, rl_str study_uid, const rl_str *link_key, recon_out *out,
                rl_err *err);

/* A job for the study when it is to be corrected, or (with a PACS
 * configured) to be sent as it is. */
int recon_schedule(store_txn *t, rl_str study_uid, const recon_out *out, rl_err *err);

/* An order was written: studies on the exception list that may be its images
 * (same accession or patient ID) are reconciled again. */
int recon_new_order(store_txn *t, rl_str accession, rl_str patient_id, unsigned *matched,
                    rl_err *err);

/* receiver after_store hook: reconcile the instance's study. */
int recon_after_store(void *ctx, store_txn *t, const study_inst *in, rl_err *err);

#endif
