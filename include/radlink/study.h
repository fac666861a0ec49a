/* Received DICOM instances: the spool file of each and the header index in
 * LMDB, at instance and study level (series are attributes of instances).
 *
 * STORE_INSTANCE: SOP Instance UID -> instance record, version 3:
 *   u8 version, u64 received (us), u32 seq (its number in the study, in
 *   order of receipt), u32 sent generation (version 2: to every PACS; 0:
 *   never sent), then str fields in the order of study_field (STUDY_F_COUNT
 *   strings); version 3 then: u8 held, str why held, u8 n, n x { str AE
 *   title, u64 program, u32 sent generation, u8 flags } (its destinations).
 * STORE_STUDY: Study Instance UID -> study record, version 3:
 *   u8 version, u8 recon state, u64 first received, u64 updated, u32 instances,
 *   u32 target generation, u32 last instance seq, str matched worklist key
 *   (accession NUL rp NUL sps, or ""), str note, str target, then the
 *   study-level str fields (patient, accession, dates, modality) as last
 *   received or corrected; version 3 then: str destinations (the AE titles
 *   its instances go to, '\'-separated), u32 instances held, str why the
 *   last one was held.
 * Version 1 records (radlink 0.1) read with seq, sent generation, target
 * generation and last seq 0 and an empty target: every instance counts as
 * sent. Version 1 and 2 instances go to every <pacs> (study_inst.legacy).
 * STORE_PROG: be64 id -> a DICOM route's program for one send
 *   (radlink/route_dicom.h), kept once however many instances name it; the
 *   id is the first 8 bytes of the program's SHA-256.
 *
 * Generations: the target (what the RIS says the study must hold; its format
 * belongs to radlink/recon.h) has a generation that grows whenever the target
 * changes. An instance whose sent generation is not the study's still has to
 * go to the PACS (corrected to the current target); a job attempt records the
 * generation and the last seq it covered, and its success marks exactly those
 * instances.
 * STORE_STUDY_IDX (several values per key): 'I' study UID -> SOP UIDs of its
 *   instances; 'P' patient ID -> study UIDs; 'A' accession -> study UIDs;
 *   'S' recon state byte -> study UIDs (the exception list and the rest);
 *   'M' matched worklist key -> study UIDs (which studies an order claimed).
 * META study.idx "2": the 'M' index is complete (radlink 0.2 stores get it at
 * their first start, study_index_upgrade). */
#ifndef RADLINK_STUDY_H
#define RADLINK_STUDY_H

#include <stdbool.h>
#include <stdint.h>

#include "radlink/limits.h"
#include "radlink/store.h"
#include "radlink/util.h"

typedef enum study_field {
    STUDY_F_SOP_UID,
    STUDY_F_SOP_CLASS,
    STUDY_F_STUDY_UID,
    STUDY_F_SERIES_UID,
    STUDY_F_PATIENT_ID,
    STUDY_F_ISSUER,
    STUDY_F_PATIENT_NAME,
    STUDY_F_BIRTH_DATE,
    STUDY_F_SEX,
    STUDY_F_ACCESSION,
    STUDY_F_RP_ID,
    STUDY_F_MODALITY,
    STUDY_F_STUDY_DATE,
    STUDY_F_STUDY_TIME,
    STUDY_F_CALLING_AE,
    STUDY_F_PATH,
    STUDY_F_COUNT
} study_field;

/* DICOM tags of the header fields (0 for the ones that are not attributes). */
extern const uint32_t study_field_tag[STUDY_F_COUNT];
extern const char *const study_field_name[STUDY_F_COUNT];

/* Where an instance goes: a DICOM node (a <pacs> or a <node> of the
 * config) by AE title, the program of the DICOM route's send (STORE_PROG;
 * 0: sent as it is, after the RIS's corrections), and the target
 * generation last sent there (0: not yet). */
enum { STUDY_DEST_FAILED = 1 }; /* its program failed on this instance: not sent there
                                 * until an administrator forwards it */
typedef struct study_dest {
    char ae[RL_AE_TITLE_SIZE];
    uint64_t prog;
    uint32_t sent_gen;
    uint8_t flags;
} study_dest;

typedef struct study_inst {
    int64_t received_us;
    uint32_t seq;      /* set by study_put_instance */
    uint32_t sent_gen; /* legacy: the generation sent to every <pacs> */
    char f[STUDY_F_COUNT][RL_STUDY_FIELD_SIZE]; /* UTF-8, trimmed */
    char peer[RL_PEER_TEXT_MAX]; /* the sender's IP address, as received (not stored) */
    bool legacy;       /* a record from before destinations: it goes to every <pacs>, each
                        * not in dest[] with sent_gen */
    bool held;         /* it waits on the exception list, for held_why */
    char held_why[RL_STUDY_HELD_WHY_SIZE];
    uint8_t ndest;
    study_dest dest[RL_DICOM_SENDS_MAX];
} study_inst;

/* The destination entry for ae, or NULL. */
study_dest *study_inst_dest(study_inst *in, const char *ae);
/* Does the instance go to ae (a PACS when is_pacs), and with which sent
 * generation? A legacy instance goes to every PACS. */
bool study_inst_goes(const study_inst *in, const char *ae, bool is_pacs, uint32_t *sent_gen);

typedef enum recon_state {
    RECON_NEW = 0,        /* received, not yet reconciled */
    RECON_MATCHED = 1,    /* agrees with the RIS */
    RECON_UNMATCHED = 2,  /* no order found: on the exception list */
    RECON_CORRECTING = 3, /* disagreed: a correction job is under way */
    RECON_CORRECTED = 4,  /* headers corrected and sent */
    RECON_UNVERIFIED = 5, /* sent, but the PACS does not show what the RIS says */
    RECON_FORWARDED = 6,  /* no order claimed it: sent as it came (<recon unmatched>) */
} recon_state;

typedef struct study_rec {
    recon_state state;
    int64_t first_us, updated_us;
    uint32_t instances;
    uint32_t gen;      /* target generation */
    uint32_t last_seq; /* seq of the last instance received */
    /* Views: valid until the next write in the same transaction, or its end. */
    rl_str matched;    /* worklist key */
    rl_str note;       /* the discrepancies (radlink/recon.h owns the format) */
    rl_str target;     /* the values to enforce (radlink/recon.h owns the format) */
    rl_str f[STUDY_F_COUNT]; /* study-level fields (sop, series, path empty) */
    rl_str dests;      /* the AE titles its instances go to, '\\'-separated */
    uint32_t held;     /* instances waiting on the exception list */
    rl_str held_why;   /* why the last one was held */
} study_rec;

int study_inst_encode(const study_inst *in, rl_buf *out);
/* Decode into in (copies). */
int study_inst_decode(rl_str rec, study_inst *in);

/* Index one received instance (and its study) in t: it gets the study's next
 * seq and sent generation 0 (in->seq is set). *existed says whether the SOP
 * Instance UID was known (then the old record is replaced). */
int study_put_instance(store_txn *t, study_inst *in, bool *existed, rl_err *err);
/* The instance was sent to the node ae as generation gen (a legacy record
 * keeps it for that node only); ae NULL: to every destination; ae "": no
 * node, its spool copy holds generation gen. */
int study_set_sent(store_txn *t, rl_str sop_uid, const char *ae, uint32_t gen, rl_err *err);
/* The program of ae failed on the instance: it is held with why, and not
 * sent there again until released. */
int study_set_failed(store_txn *t, rl_str sop_uid, const char *ae, rl_str why, rl_err *err);
/* Held instances of the study go to every PACS as they are (the pacs
 * AE titles, n of them): `radlink recon forward`. *released counts them. */
int study_release_held(store_txn *t, rl_str study_uid, const char *const *pacs, size_t n,
                       unsigned *released, rl_err *err);
/* A program by id (0 for an empty one), and one stored once (*id its id). */
int study_prog_get(store_txn *t, uint64_t id, rl_str *prog, rl_err *err);
int study_prog_put(store_txn *t, rl_str prog, uint64_t *id, rl_err *err);
/* Is ae one of the '\\'-separated AE titles of dests (study_rec.dests)? */
bool study_dests_has(rl_str dests, const char *ae);
int study_get_instance(store_txn *t, rl_str sop_uid, study_inst *in, rl_err *err);
/* The study record; views valid until the next write in t or its end. */
int study_get(store_txn *t, rl_str study_uid, study_rec *out, rl_err *err);
/* Rewrite the study's reconciliation state, matched key and note (with
 * matched.p NULL, the matched key and note stay as they are). */
int study_set_state(store_txn *t, rl_str study_uid, recon_state s, rl_str matched, rl_str note,
                    rl_err *err);
/* Store the study's target; when it differs from the stored one the target
 * generation grows. *gen receives the generation now in force. */
int study_set_target(store_txn *t, rl_str study_uid, rl_str target, uint32_t *gen,
                     bool *changed, rl_err *err);
/* Set one study-level field (after a correction), keeping the indexes. */
int study_set_field(store_txn *t, rl_str study_uid, int field, rl_str value, rl_err *err);
/* Visit the SOP UIDs of a study, or the study UIDs of an index key. */
typedef int (*study_visit)(void *ctx, rl_str value);
int study_index_each(store_txn *t, char kind, rl_str key, study_visit cb, void *ctx, rl_err *err);
/* Remove one instance's record and its place in the study (retention, once
 * its file is no longer needed here); the study's record stays. */
int study_forget_instance(store_txn *t, rl_str study_uid, rl_str sop_uid, rl_err *err);
/* Build the indexes an older store lacks (once; *n studies indexed). */
int study_index_upgrade(store_txn *t, unsigned *n, rl_err *err);
/* Every study (in UID order). */
typedef int (*study_rec_visit)(void *ctx, rl_str uid, const study_rec *s);
int study_each(store_txn *t, study_rec_visit cb, void *ctx, rl_err *err);

#endif
