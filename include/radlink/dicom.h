/* The DICOM bridge (adapters/dicom, C++17 over DCMTK), seen from C.
 *
 * The SCP serves C-ECHO and Modality Worklist C-FIND
 * (1.2.840.10008.5.1.4.31) from the worklist in the store, C-STORE for the
 * storage SOP classes and MPPS, on a plain port and/or a TLS port (BCP 195),
 * each with max_associations + 1 threads that accept in parallel and serve
 * the association they received (adapters/dicom/accept.h);
 * every C-FIND is one read transaction, so queries never wait for the
 * engine's writes. A received instance is written to a temporary file, its
 * header read, and handed to on_instance, which files it and has the
 * engine's loop index it; the success response goes only after that
 * returned 0 (the index committed).
 *
 * No C++ exception crosses this face: every function catches and answers
 * DICOM_E_INTERNAL with the exception's text. Errors are DICOM_E_* codes. */
#ifndef RADLINK_DICOM_H
#define RADLINK_DICOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "radlink/cidr.h"
#include "radlink/dpath.h"
#include "radlink/err.h"
#include "radlink/limits.h"
#include "radlink/net.h"
#include "radlink/route_dicom.h"
#include "radlink/store.h"
#include "radlink/study.h"
#include "radlink/util.h"
#include "radlink/wl.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Modality Performed Procedure Step (PS3.4 F.7): what the SCP hands the
 * engine for an N-CREATE or N-SET it checked, and the engine's answer. */
typedef struct dicom_mpps_req {
    bool create;              /* N-CREATE, else N-SET */
    char sop_uid[65];
    char calling_ae[17];
    char peer[64];            /* the modality's IP address */
    rl_str dataset;           /* the request's data set, UTF-8, Explicit VR LE */
    uint16_t status;          /* out: DIMSE status (0 = success) */
    char why[200];            /* out: Error Comment when status != 0 */
} dicom_mpps_req;

/* One Scheduled Step Attributes Sequence item: the worklist step it names. */
typedef struct dicom_mpps_step {
    char accession[65], rp_id[65], sps_id[65], study_uid[65];
} dicom_mpps_step;

#define DICOM_MPPS_STEPS 8
typedef struct dicom_mpps_info {
    char status[17];          /* IN PROGRESS, COMPLETED, DISCONTINUED */
    char pps_id[17], station_ae[17], modality[17];
    char start_date[9], start_time[17], end_date[9], end_time[17];
    char patient_id[65], patient_name[324], description[65], discontinued_why[65];
    dicom_mpps_step steps[DICOM_MPPS_STEPS];
    size_t nsteps;
    unsigned series, instances; /* Performed Series Sequence items, images referenced */
} dicom_mpps_info;

/* Read what radlink needs from a stored MPPS data set. */
int dicom_mpps_info_read(rl_str dataset, dicom_mpps_info *info, rl_err *err);
/* N-SET: the stored data set with the modification's attributes replacing
 * its own (PS3.7 10.1.3), into out. */
int dicom_mpps_merge(rl_str stored, rl_str modification, rl_buf *out, rl_err *err);
/* The data set as dcmdump prints it (for `radlink mpps show`). */
int dicom_mpps_dump(rl_str dataset, rl_buf *out, rl_err *err);

/* TLS for a DICOM listener or for associations to a peer (PS3.15 B.9, the
 * BCP 195 profile). Paths to PEM files. */
typedef struct dicom_tls {
    bool on;
    unsigned port;    /* listener: its own port beside the plain one */
    char cert[512];   /* our certificate (listener: required) */
    char key[512];    /* its private key */
    char ca[512];     /* the CA that signs the peers' certificates */
    bool verify_peer; /* listener: a client certificate signed by ca is required */
} dicom_tls;

/* An instance's data set, for DICOM routes (radlink/route_dicom.h): read
 * whole (pixel data too), changed through dicom_ds_io, written with
 * dicom_ds_save. One thread at a time. */
typedef struct dicom_ds dicom_ds;

typedef struct dicom_scp_cfg {
    char bind[64]; /* the address the listeners bind ("" = every address) */
    unsigned port; /* plain DICOM (0 = none: TLS only) */
    dicom_tls tls;
    char ae_title[17];
    /* calling AE titles allowed to associate; none = any ("open") */
    char allowed[RL_DICOM_ALLOW_MAX][17];
    size_t n_allowed;
    unsigned max_associations; /* simultaneous associations */
    unsigned max_responses;    /* matches returned for one C-FIND (then A700) */
    unsigned dimse_timeout_s;  /* an association silent this long is closed */
    /* a connection must finish its TLS handshake and send its association
     * request within this; one address holds at most max_per_address
     * connections (handshakes and associations) at once */
    unsigned assoc_timeout_s;
    unsigned max_per_address;
    /* connections held, costing no thread, before their association request
     * (the oldest silent one evicted when full); over half of them waiting,
     * stress_timeout_s replaces assoc_timeout_s for those; allow-from */
    unsigned max_connections, stress_timeout_s;
    cidr_list allow;
    int fd, tls_fd; /* > 0: sockets dicom_bind bound already (serve --user) */
    bool icase_names;          /* person-name matching ignores (ASCII) case */
    store *st;
    /* C-STORE: where temporary files go (same file system as the spool), and
     * what takes a received instance: returns 0 (stored), 1 (refused as a
     * duplicate) or -1 (failed; why says it). NULL: no storage service. */
    char incoming_dir[512];
    /* C-STORE, once the instance was read whole and its UIDs checked, before
     * on_instance: the data set (valid during the call) and the
     * association's AE titles. It may change ds (<on-receive> routes):
     * when it returns true and ds changed, the SCP writes ds over the
     * received file (its transfer syntax kept, the old values in an
     * Original Attributes Sequence item, reason COERCE) and takes the index
     * fields from it; false keeps the file as received (changes it could
     * not finish are dropped). *cookie (NULL at first) goes to on_instance,
     * or to cookie_free when on_instance is not called. NULL: no such
     * step. */
    bool (*on_dataset)(void *ctx, dicom_ds *ds, const char *calling_ae, const char *called_ae,
                       void **cookie);
    void (*cookie_free)(void *cookie);
    int (*on_instance)(void *ctx, const study_inst *in, const char *tmp_path, void *cookie,
                       char *why, size_t whyn);
    /* A PACS's storage commitment report (N-EVENT-REPORT): the transaction
     * and one line per instance, "ok SOP-UID" or "failed SOP-UID REASON"
     * (hex Failure Reason). NULL: such reports are refused. */
    void (*on_commit_report)(void *ctx, const char *txn_uid, const char *lines);
    /* An MPPS N-CREATE or N-SET the SCP checked: the engine commits it and
     * fills status (it returns when committed). NULL: no MPPS service. */
    void (*on_mpps)(void *ctx, dicom_mpps_req *req);
    /* Audit: every C-FIND before it is answered (the engine records a Query
     * event and returns once it is committed; non-zero: it could not be
     * recorded, and the query is refused), identifier as received (Explicit
     * VR Little Endian); a security alert (a refused AE title, a failed TLS
     * handshake), posted and not waited for. NULL: not audited. */
    int (*on_query)(void *ctx, const char *calling_ae, const char *peer, const char *sop_class,
                    rl_str identifier);
    void (*on_alert)(void *ctx, const char *peer, const char *calling_ae, const char *what);
    /* Worklist steps with these statuses ("COMPLETED DISCONTINUED") are
     * left out of C-FIND answers. */
    char mwl_hide[64];
    void *ctx;
} dicom_scp_cfg;

typedef struct dicom_scp dicom_scp;

/* Bind and listen on bind:port for the listener (a port below 1024 needs
 * root): for dicom_scp_cfg.fd / tls_fd. */
int dicom_bind(const char *bind, unsigned port, int *fd, rl_err *err);

/* DCMTK's version string ("3.6.7"): static. */
const char *dicom_version(void);

/* Bind the port and start serving; an error (port in use, bad AE title) is
 * reported here, not later. cfg is copied; *out is the caller's, freed by
 * dicom_scp_free (the store it reads must stay open until then). */
int dicom_scp_start(const dicom_scp_cfg *cfg, dicom_scp **out, rl_err *err);
/* Stop accepting associations; running ones go on. Does not block: the
 * engine's loop keeps committing what they bring until dicom_scp_stopped. */
void dicom_scp_stop_accepting(dicom_scp *s);
bool dicom_scp_stopped(dicom_scp *s);
/* Stop (as above, waiting for running associations) and free. */
void dicom_scp_free(dicom_scp *s);
/* Counters since start, one line, for `radlink status`. */
void dicom_scp_status(dicom_scp *s, rl_buf *out);
/* The same counters, and each service's latency, as Prometheus lines
 * (radlink/metrics.h). Any thread, while the SCP runs. */
void dicom_scp_metrics(dicom_scp *s, rl_buf *out);
/* The gates of the plain and the TLS port (those that listen, in that
 * order, at most max), names "dicom" and "dicom-tls": how many wait for
 * their association request, pressure, evictions, denials. */
unsigned dicom_scp_gates(dicom_scp *s, net_gate_stats *out, const char **names, unsigned max);

/* A header change: set tag (top level) to value (UTF-8). */
typedef struct dicom_change {
    uint32_t tag;
    const char *value;
} dicom_change;

/* The UIDs of an instance file. */
typedef struct dicom_file_info {
    char sop_class[65], sop_uid[65], series_uid[65], study_uid[65];
} dicom_file_info;

/* Read a file's header (up to the pixel data) for its UIDs. */
int dicom_file_info_read(const char *path, dicom_file_info *info, rl_err *err);

/* Parse the whole file (large values are skipped, not read into memory) and
 * check that native pixel data holds what Rows, Columns, Samples per Pixel,
 * Bits Allocated and Number of Frames declare. 0, or DICOM_E_FILE with why
 * ("pixel data of 32768 bytes, 65536 declared"). */
int dicom_file_check(const char *path, rl_err *err);

typedef struct dicom_correct_opts {
    const char *modifying_system; /* Modifying System (0400,0563); NULL: "radlink" */
    /* Not NULL: a corrected copy is a new instance (IOCM): new SOP Instance
     * and Series Instance UIDs, made from the old ones and this text, so
     * that the same salt always gives the same UIDs; with new_uids_for, only
     * when it says so for the file's SOP Instance UID. */
    const char *new_uid_salt;
    bool (*new_uids_for)(void *ctx, const char *sop_uid);
    void *ctx;
} dicom_correct_opts;

typedef struct dicom_corrected {
    unsigned changed;     /* attributes that differed; 0: out was not written */
    bool relabelled;      /* the file's Specific Character Set could not hold a new
                           * value: the copy is in UTF-8 (ISO_IR 192) */
    dicom_file_info was;  /* the input's UIDs */
    dicom_file_info now;  /* the copy's (was, unless new UIDs or a new study UID) */
} dicom_corrected;

/* Read in and compare it with the changes, value by value in UTF-8 (a
 * person name agrees when its alphabetic group does, ignoring case:
 * radlink/pn.h). When some value differs, write out in the same transfer
 * syntax with only those values changed, encoded in the file's own Specific
 * Character Set when it can hold them (other values stay byte for byte; a
 * name keeps the ideographic and phonetic groups the RIS did not send), and
 * the old values recorded in an Original Attributes Sequence item (PS3.3
 * C.12.1.1.9: reason CORRECT, the time, the modifying system). */
int dicom_correct_file(const char *in, const char *out, const dicom_change *ch, size_t n,
                       const dicom_correct_opts *o, dicom_corrected *res, rl_err *err);

/* A DICOM peer: AE title, host, port. */
typedef struct dicom_peer {
    char ae_title[17];
    char host[256];
    unsigned port;
    dicom_tls tls; /* on: associations to it use TLS */
    unsigned associations; /* a send may use this many at once (0 or 1: one) */
} dicom_peer;

/* What a send did besides sending: instances the node would not take in
 * their file's transfer syntax went in one it accepts (decompressed), and
 * the note says so ("3 sent as Explicit VR Little Endian: AI refused JPEG
 * 2000 Image Compression (Lossless Only)"). */
typedef struct dicom_send_report {
    unsigned sent;      /* instances the node accepted */
    unsigned fallbacks; /* of those, sent in another transfer syntax than their file's */
    char note[RL_DICOM_SEND_NOTE_MAX];
} dicom_send_report;

/* Send files with C-STORE; 0 when every one was accepted (success or
 * warning status), else DICOM_E_NET or DICOM_E_REFUSED. Each file is
 * proposed in its own transfer syntax first, then in the uncompressed ones:
 * a node that refuses the first gets the file decompressed (rep, may be
 * NULL, says so). Up to to->associations associations at once, each with
 * at least RL_SEND_PER_ASSOC_MIN files, in order; the files of an extra
 * association the node refuses go afterwards, over an association each,
 * one after another. */
int dicom_send_files(const char *calling_ae, const dicom_peer *to, const char *const *files,
                     size_t n, dicom_send_report *rep, rl_err *err);

/* One answer of a study-level C-FIND, in UTF-8 ("?" for a value that cannot
 * be decoded). */
typedef struct dicom_study_row {
    char study_uid[65], patient_id[65], issuer[65], patient_name[324], birth_date[17],
        sex[17], accession[17];
    unsigned instances; /* Number of Study Related Instances; 0 when not given */
} dicom_study_row;

/* What a PACS shows of a study: C-FIND, Study Root, study level, by Study
 * Instance UID; at most max rows. The PACS must let calling_ae query it. */
int dicom_find_studies(const char *calling_ae, const dicom_peer *to, const char *study_uid,
                       dicom_study_row *rows, size_t max, size_t *n, rl_err *err);

/* The SOP Instance UIDs a PACS holds in a study (C-FIND, image level); cb
 * returns non-zero to stop (that value is returned). */
typedef int (*dicom_uid_visit)(void *ctx, const char *sop_uid);
int dicom_find_instances(const char *calling_ae, const dicom_peer *to, const char *study_uid,
                         dicom_uid_visit cb, void *ctx, rl_err *err);

/* C-ECHO (Verification): 0 when the peer answers; DICOM_E_REFUSED when it
 * refuses or aborts the association, DICOM_E_NET when it cannot be reached. */
int dicom_echo(const char *calling_ae, const dicom_peer *to, rl_err *err);

/* ---- query/retrieve (prefetching priors) ---- */

/* One study a node holds, as its study-level C-FIND answers (UTF-8; "" for
 * what it does not return). */
typedef struct dicom_qr_study {
    char study_uid[65], accession[65], study_date[17], study_time[33];
    char modalities[65];   /* ModalitiesInStudy, backslash-separated */
    char description[65], body_part[65];
    char patient_id[65], issuer[65];
    unsigned instances;    /* NumberOfStudyRelatedInstances; 0 when not given */
} dicom_qr_study;

/* The studies `to` holds for a patient (or the one study study_uid, when
 * not NULL/""): C-FIND, Study Root, study level, by PatientID and
 * IssuerOfPatientID (when given); at most max rows kept, *total how many it
 * answered. timeout_s: how long each answer may take (0: 60 s). */
int dicom_qr_find(const char *calling_ae, const dicom_peer *to, const char *patient_id,
                  const char *issuer, const char *study_uid, unsigned timeout_s,
                  dicom_qr_study *rows, size_t max, size_t *n, size_t *total, rl_err *err);

/* What a C-MOVE or C-GET did: its final status and sub-operation counts,
 * and the Failed SOP Instance UID List as given (cut). */
typedef struct dicom_qr_result {
    uint16_t status;
    unsigned completed, failed, warning;
    char failed_uids[512];
} dicom_qr_result;

/* C-MOVE of a study from `from` to the AE title dest_ae (which `from` must
 * know). 0 when it ended with success; DICOM_E_PARTIAL when some instances
 * failed (0xB000: how many, which); DICOM_E_REFUSED for a refusal (0xA801:
 * the archive does not know dest_ae, and what to configure); DICOM_E_NET. */
int dicom_qr_move(const char *calling_ae, const dicom_peer *from, const char *dest_ae,
                  const char *study_uid, unsigned timeout_s, dicom_qr_result *res, rl_err *err);
/* C-GET of a study from `from`: its instances written into dir (one file
 * each, named by DCMTK's storage handler). Outcomes as dicom_qr_move. */
int dicom_qr_get(const char *calling_ae, const dicom_peer *from, const char *study_uid,
                 const char *dir, unsigned timeout_s, dicom_qr_result *res, rl_err *err);

/* An instance sent, as a storage commitment or a rejection note names it. */
typedef struct dicom_ref {
    const char *sop_class, *sop_uid, *series_uid;
} dicom_ref;

/* Storage Commitment Push Model (PS3.4 J): ask the PACS to commit to refs
 * under transaction txn_uid (N-ACTION). 0 when it took the request; its
 * report comes later, on an association of its own to calling_ae (the
 * engine's DICOM listener: dicom_scp_cfg.on_commit_report). */
int dicom_commit_request(const char *calling_ae, const dicom_peer *to, const char *txn_uid,
                         const dicom_ref *refs, size_t n, rl_err *err);

/* Forward an MPPS N-CREATE or N-SET (its data set as dicom_mpps_req holds
 * it) to a peer's MPPS SCP over one association. 0 when the peer answered:
 * its DIMSE status in *status and its Error Comment, if any, in comment;
 * DICOM_E_REFUSED when it refuses the association or MPPS, DICOM_E_NET when
 * it cannot be reached or the exchange fails. */
int dicom_mpps_send(const char *calling_ae, const dicom_peer *to, bool create,
                    const char *sop_uid, rl_str dataset, uint16_t *status, char *comment,
                    size_t commentn, rl_err *err);

/* An IOCM rejection note (Key Object Selection, PS3.3 A.35.4) titled
 * (code, DCM, meaning) that references refs, written to path; its patient
 * and study attributes are copied from the instance file `like`. With salt,
 * its UIDs are made from it (the same note for the same salt). kos gets
 * the note's UIDs. */
int dicom_write_rejection(const char *path, const char *like, const char *code,
                          const char *meaning, const dicom_ref *refs, size_t n,
                          const char *salt, dicom_file_info *kos, rl_err *err);

/* Write a worklist entry as a DICOM file (the .wl format DCMTK's wlmscpfs
 * reads): the entry's attributes, SpecificCharacterSet ISO_IR 192. */
int dicom_write_wl(const wl_entry *e, const char *path, rl_err *err);

/* A worklist file read for `radlink wl import`: one entry per item of its
 * Scheduled Procedure Step Sequence (each with the file's other attributes),
 * values in UTF-8 (converted from the file's Specific Character Set). Only
 * attributes of the worklist model (radlink/wl.h) are kept; the others are
 * named in warnings; of an attribute given twice the first value is kept
 * (as DCMTK does). The caller provides the entries (max of them). */
typedef struct dicom_wl_file {
    wl_entry *entries;
    size_t max, n;
    unsigned left_out;       /* attributes radlink does not serve, left out */
    char warnings[240];      /* what was left out, and why ("" when nothing) */
    bool dump;               /* the file was a DICOM dump (text), not a DICOM file */
} dicom_wl_file;

/* Read a .wl DICOM file (with or without a meta header) or a DICOM dump
 * (dcmdump's output, dump2dcm's input). The values are allocated from a
 * (the caller's); err says why a file cannot be taken ("line 7: ..."). */
int dicom_read_wl(const char *path, dicom_wl_file *f, rl_arena *a, rl_err *err);

/* ---- data sets for DICOM routes ---- */

/* Read a DICOM file whole into a data set. */
int dicom_ds_open(const char *path, dicom_ds **out, rl_err *err);
/* A copy (one per destination: each send coerces its own). */
int dicom_ds_clone(const dicom_ds *ds, dicom_ds **out, rl_err *err);
void dicom_ds_free(dicom_ds *ds);

/* radlink/route_dcm_io over a dicom_ds (the ds argument is a dicom_ds *):
 * set and remove record each attribute's value before its first change in
 * the data set, and dicom_ds_save writes them as one Original Attributes
 * Sequence item (PS3.3 C.12.1.1.9); values go in the data set's own
 * Specific Character Set when it can hold them, else the data set is
 * converted to UTF-8 (ISO_IR 192). deidentify is dicom_ds_deidentify. */
extern const route_dcm_io dicom_ds_io;
/* The data dictionary for route files (radlink/route_dicom.h). */
extern const route_dicom_dict dicom_dict;

/* Attributes changed since the data set was read or last saved. */
unsigned dicom_ds_changed(const dicom_ds *ds);
/* The data set's UIDs now. */
void dicom_ds_info(const dicom_ds *ds, dicom_file_info *info);

/* The site secret de-identification derives new UIDs from: the same
 * original UID and secret always give the same new UID (a study sent twice
 * stays one study). Without one, dicom_ds_deidentify fails. */
#define DICOM_DEID_SECRET_SIZE 32
void dicom_ds_set_secret(dicom_ds *ds, const uint8_t secret[DICOM_DEID_SECRET_SIZE]);
/* PS3.15 Annex E, Table E.1-1: every attribute the table names is removed,
 * emptied or replaced as the Basic Profile and d's options say, in
 * sequences too; private elements removed unless their creator is kept;
 * UIDs replaced from the secret; Patient Identity Removed YES, De-
 * identification Method and its Code Sequence set. DICOM_E_BURNED_IN (ds
 * unchanged) when the instance may hold burned-in text: Burned In
 * Annotation YES, or absent on US, SC, XA and secondary captures. */
int dicom_ds_deidentify(dicom_ds *ds, const route_deid *d, rl_err *err);

typedef struct dicom_saved {
    unsigned changed;      /* attributes recorded in the new Original Attributes item */
    char ts_uid[RL_UID_SIZE]; /* the transfer syntax written */
    bool lossy;            /* lossy pixel data (its Lossy Image Compression is 01): a
                            * lossless target was only decompressed */
    char note[RL_DICOM_SEND_NOTE_MAX]; /* what the conversion did when it is not what was
                            * asked ("lossy JPEG baseline: decompressed, not re-encoded as
                            * JPEG-LS lossless"); "" otherwise */
    dicom_file_info now;   /* its UIDs */
} dicom_saved;

/* Write ds to path in the transfer syntax ts asks for (DCMTK's codecs;
 * JPEG 2000 through GDCM), with the changes since it was read in one
 * Original Attributes Sequence item (reason: "COERCE" or "CORRECT";
 * modifying system "radlink"). Pixel data converted losslessly: decoded
 * identical. DICOM_E_CODEC when the pixel data cannot be converted. */
int dicom_ds_save(dicom_ds *ds, const char *path, route_ts ts, const char *reason,
                  dicom_saved *res, rl_err *err);

/* ---- reports (radlink/report.h) ---- */

/* The study a report goes into, as radlink holds it (its attributes
 * corrected), and the new object's own UIDs (made by the caller and kept,
 * so that a retry writes the same object). */
typedef struct dicom_report_ref {
    char sop_class[RL_UID_SIZE], sop_uid[RL_UID_SIZE];
    char series_uid[RL_UID_SIZE], study_uid[RL_UID_SIZE];
} dicom_report_ref;
typedef struct dicom_report_study {
    char study_uid[RL_UID_SIZE], study_date[9], study_time[7];
    char study_id[17], accession[RL_LO_SIZE], referring[RL_PN_SIZE];
    char patient_id[RL_LO_SIZE], issuer[RL_LO_SIZE], patient_name[RL_PN_SIZE];
    char birth_date[9], sex[RL_CS_SIZE];
    char requested_procedure[RL_LO_SIZE]; /* for the Referenced Request Sequence */
    /* Current Requested Procedure Evidence Sequence: the study's instances */
    const dicom_report_ref *evidence;
    size_t nevidence;
    /* Predecessor Documents Sequence: the report this one amends (sop_uid
     * "" when none) */
    dicom_report_ref predecessor;
    /* the new object: series (Modality SR, or DOC for a PDF) and instance */
    char series_uid[RL_UID_SIZE], sop_uid[RL_UID_SIZE];
    unsigned series_number, instance_number;
} dicom_report_study;

typedef enum dicom_report_kind {
    DICOM_REPORT_SR = 0,  /* Basic Text SR, TID 2000 */
    DICOM_REPORT_PDF = 1, /* Encapsulated PDF (r->pdf) */
} dicom_report_kind;

/* Write report r as a DICOM object of kind k into study s at path
 * (Explicit VR Little Endian, Specific Character Set as the text needs:
 * ISO_IR 100 when Latin-1 holds it, else ISO_IR 192). The SR: Completion
 * Flag PARTIAL or COMPLETE, Verification Flag VERIFIED with the Verifying
 * Observer Sequence when final, Content Date/Time, Referenced Request
 * Sequence, the evidence and predecessor sequences, a CONTAINER "Imaging
 * Report" (or r->title) holding one CONTAINER per section with its TEXT
 * items. DICOM_E_VALUE when r cannot be written (a text past UT's length, no
 * text at all, no PDF for DICOM_REPORT_PDF), with the reason. */
struct report;
int dicom_report_write(const struct report *r, dicom_report_kind k, const dicom_report_study *s,
                       const char *path, rl_err *err);

#ifdef __cplusplus
}
#endif

#endif
