/* Patients and the `patient` route action (engine/patient/patient.c); which
 * identifier names the patient is radlink/patient_id.h.
 *
 * STORE_PATIENT: issuer NUL patient ID -> record, version 1:
 *   u8 version, u64 updated (us), u64 message seq, str name (DICOM PN),
 *   str birth date, str sex, str merged-into ("" or issuer NUL ID).
 *
 * ADT A01/A04/A05/A08/A28/A31 create or update the patient and carry name,
 * birth date and sex to the patient's worklist entries in the same
 * transaction; the patient's stored studies are reconciled again (their
 * disagreements become discrepancies to correct). A40 (merge: MRG-1 into
 * PID-3), A47 (identifier change) and A34 move the worklist entries and
 * studies of the prior identity to the surviving one; a prior patient radlink
 * has never seen is AE, and nothing changes. */
#ifndef RADLINK_PATIENT_H
#define RADLINK_PATIENT_H

#include "radlink/route.h"

typedef struct patient_rec {
    int64_t updated_us;
    uint64_t msg_seq;
    rl_str name, birth, sex, merged_into;
} patient_rec;

/* The patient record; its views are valid until the next write in t or its
 * end (radlink/store.h). */
int patient_get(store_txn *t, rl_str issuer, rl_str id, patient_rec *out, rl_err *err);

/* The route action. */
int patient_hook(route_env *env, hl7_msg *m, rl_buf *trace);

#endif
