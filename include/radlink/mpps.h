/* Modality Performed Procedure Steps (IHE RAD-6/RAD-7): what the modality
 * reports through the MPPS SCP, kept in the store, applied to the worklist
 * and sent on to the order filler.
 *
 * STORE_MPPS: SOP Instance UID -> record, version 1 (radlink/rec.h):
 *   u8 version (1)  u8 state (mpps_state)  u8 flags (MPPS_UNMATCHED)
 *   u64 created (us)  u64 updated (us)
 *   str calling AE title
 *   str worklist keys of the steps it performs, each followed by '\n'
 *   str the data set (UTF-8, Explicit VR Little Endian, as merged so far)
 * STORE_MPPS_IDX: the accession of each step -> the SOP Instance UID (an
 *   order's MPPS without reading them all: radlink trace). META "mpps.idx"
 *   "1": every record is in it (mpps_index_upgrade at the engine's start).
 *
 * The engine's loop applies every N-CREATE and N-SET (mpps_apply) in its
 * write transaction: the record, the referenced worklist steps' status
 * (STARTED, COMPLETED, DISCONTINUED) and the HL7 status messages to the order
 * filler (through the durable forward queue) commit together, before the
 * modality gets its response. With <pacs mpps="true">, the request itself is
 * queued in the same transaction for that PACS (destination "mpps:" + its AE
 * title, ROUTE_DEST_MPPS), to be replayed there in order. */
#ifndef RADLINK_MPPS_H
#define RADLINK_MPPS_H

#include <stdbool.h>
#include <stdint.h>

#include "radlink/cmd.h"
#include "radlink/dicom.h"
#include "radlink/route.h"
#include "radlink/store.h"

typedef enum mpps_state {
    MPPS_IN_PROGRESS = 1,
    MPPS_COMPLETED = 2,
    MPPS_DISCONTINUED = 3,
} mpps_state;

#define MPPS_UNMATCHED 1u /* a step it names is not on the worklist: the exception list */

typedef struct mpps_rec {
    uint8_t state, flags;
    int64_t created_us, updated_us;
    rl_str calling_ae, steps, dataset; /* views into the stored value */
} mpps_rec;

const char *mpps_state_name(int state);
int mpps_decode(rl_str val, mpps_rec *r);
/* Each MPPS one of whose steps names accession: cb gets its SOP Instance
 * UID; non-zero from cb stops. */
typedef int (*mpps_visit)(void *ctx, rl_str sop_uid);
int mpps_each_of_accession(store_txn *t, rl_str accession, mpps_visit cb, void *ctx, rl_err *err);
/* Index the records of a store from before STORE_MPPS_IDX (once); *n how
 * many. */
int mpps_index_upgrade(store_txn *t, unsigned *n, rl_err *err);
/* Read one record; views valid until the transaction's next write. */
int mpps_get(store_txn *t, rl_str sop_uid, mpps_rec *r, rl_err *err);

/* The DICOM thread's side (dicom_scp_cfg.on_mpps, ctx the engine's receiver):
 * post the request to the loop and wait for its commit. */
void mpps_receive(void *ctx, dicom_mpps_req *req);

/* The loop's side: apply req in t. Fills req->status (0, or the DIMSE status
 * that refuses it, with why); returns STORE_OK, or a store error (then the
 * caller aborts and the modality gets a processing failure). queued counts
 * the messages queued: HL7 status messages, and the request for each of the
 * PACS destinations in pacs (n_pacs of them) when it was accepted. */
int mpps_apply(store_txn *t, dicom_mpps_req *req, const route_set *rs,
               const route_dest *pacs, size_t n_pacs, int64_t now_us, unsigned *queued,
               rl_err *err);

/* A final report completes its order (<report complete-step="true">): the
 * worklist steps of accession not yet COMPLETED become so, and the order
 * filler is told as MPPS would tell it (<mpps-status>, ORC-5 for
 * COMPLETED). *completed counts the steps, *queued the messages. */
int mpps_complete_order(store_txn *t, const route_set *rs, rl_str accession, int64_t now_us,
                        unsigned *completed, unsigned *queued, rl_err *err);

/* A request queued for a PACS: u8 'C' (N-CREATE) or 'S' (N-SET), str SOP
 * Instance UID, str data set. Decoded views point into payload. 0, or
 * STORE_E_CORRUPT when payload is not one. */
int mpps_forward_decode(rl_str payload, bool *create, rl_str *sop_uid, rl_str *dataset);

#endif
