/* Reports into the PACS (issue "Reports reach their study"): a radiology
 * report as radlink carries it from an ORU^R01 or MDM^T02 to a DICOM
 * object in its study.
 *
 * Two halves, apart:
 * - engine/report/ reads the HL7 message into a report (report_from_hl7):
 *   the OBX values grouped into sections by observation identifier, HL7
 *   formatting escapes as line breaks, OBR-25 as flags, OBR-32 as the
 *   verifying observer, an OBX of type ED carrying a PDF decoded;
 * - the DICOM adapter writes it (radlink/dicom.h: dicom_report_write) as a
 *   Basic Text SR following TID 2000, or as an Encapsulated PDF, in the
 *   study radlink holds (dicom_report_study).
 * Every text is UTF-8. */
#ifndef RADLINK_REPORT_H
#define RADLINK_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "radlink/err.h"
#include "radlink/limits.h"
#include "radlink/util.h"

/* A coded concept: (code value, coding scheme designator, code meaning). */
typedef struct report_code {
    char value[RL_REPORT_CODE_SIZE];
    char scheme[RL_REPORT_CODE_SIZE];
    char meaning[RL_LO_SIZE];
} report_code;

/* The sections of TID 2000 an OBX's observation identifier is filed under
 * (its LOINC code, else its text: "GDT" findings, "IMP" impression...). */
typedef enum report_section_kind {
    REPORT_FINDINGS = 0,   /* (121070, DCM, "Findings") */
    REPORT_IMPRESSION = 1, /* (121072, DCM, "Impressions") */
    REPORT_HISTORY = 2,    /* (121060, DCM, "History") */
    REPORT_ADDENDUM = 3,   /* (121078, DCM, "Addendum"): kept as a section of its own */
    REPORT_RECOMMENDATION = 4, /* (121074, DCM, "Recommendations") */
    REPORT_CONCLUSION = 5, /* (121076, DCM, "Conclusions") */
} report_section_kind;
#define REPORT_SECTION_KINDS 6

/* One section: the OBX values of one observation identifier, in order,
 * each an item of text (TEXT content items of TID 2000's section). */
typedef struct report_section {
    report_section_kind kind;
    report_code obs;         /* OBX-3 as the message says it */
    size_t first, n;         /* its texts: report.texts[first .. first + n) */
} report_section;

/* A numeric OBX (NM, or SN as a plain number): a NUM content item of its
 * section, which makes the document an Enhanced SR. */
typedef struct report_num {
    size_t section;          /* index into report.sections */
    report_code obs;         /* OBX-3 */
    char value[RL_REPORT_NUM_SIZE]; /* OBX-5, a DICOM decimal string */
    report_code units;       /* OBX-6 ("" when none) */
} report_num;

/* OBR-25: P (preliminary) -> PARTIAL, unverified; F (final), C (corrected)
 * -> COMPLETE, VERIFIED. */
typedef enum report_status {
    REPORT_PRELIMINARY = 'P',
    REPORT_FINAL = 'F',
    REPORT_CORRECTED = 'C',
} report_status;

typedef struct report {
    /* what links it to its order and study */
    char accession[RL_LO_SIZE];        /* OBR-18, else ORC-3, else OBR-3 */
    char requested_procedure[RL_LO_SIZE]; /* OBR-19 */
    char placer[RL_LO_SIZE], filler[RL_LO_SIZE]; /* ORC-2/OBR-2, ORC-3/OBR-3 */
    char study_uid[RL_UID_SIZE];       /* ZDS-1, or an OBX saying so; "" when none */
    char patient_id[RL_LO_SIZE];       /* PID-3's first identifier (the route's <patient-id> may pick another) */
    char patient_name[RL_PN_SIZE];     /* as a DICOM PN: family^given^middle^prefix^suffix */
    report_code procedure;             /* OBR-4 */
    report_status status;
    /* the verifying observer: OBR-32 (name as a DICOM PN, and its ID) */
    char observer_name[RL_PN_SIZE];
    char observer_id[RL_LO_SIZE];
    /* when observed: OBR-7 (DA, TM); the report's own date: OBR-22 */
    char observed_date[9], observed_time[7];
    char content_date[9], content_time[7];
    char title[RL_LO_SIZE];            /* OBR-4's text, else "Imaging Report" */
    report_section sections[RL_REPORT_SECTIONS_MAX];
    size_t nsections;
    rl_str *texts;                     /* every section's texts, in an arena */
    size_t ntexts;
    report_num *nums;                  /* numeric OBX values, in an arena */
    size_t nnums;
    rl_str pdf;                        /* an OBX of type ED: the PDF's bytes (decoded,
                                        * starting with "%PDF-"), or empty */
} report;

/* Read an ORU^R01 or MDM^T02 (parsed, its character set resolved) into r;
 * its strings and texts live in m's arena and a (until either is reset).
 * Linking: OBR-18, else ORC-3, else OBR-3 as the accession; ZDS-1 or an
 * OBX naming the Study Instance UID (113014 or "Study Instance UID"). OBX
 * values of type TX, FT, ST and CE (its text) are texts, each OBX one (its
 * repetitions and formatting escapes as line breaks), grouped into one
 * section per observation identifier, in order of appearance; NM values
 * (and SN as a plain number) are numbers of their section; an OBX of
 * type ED with subtype PDF and Base64 encoding is the PDF. REPORT_E_INPUT
 * with the reason and the segment ("OBX[3]-5: ...") when the message has no
 * OBR (or TXA), no text and no PDF, an OBR-25 (TXA-17) it does not know,
 * a number that is not one, a PDF that is not
 * base64 or does not start with "%PDF-", or more sections or texts than
 * limits.h allows. */
struct hl7_msg;
int report_from_hl7(struct hl7_msg *m, rl_arena *a, report *r, rl_err *err);

/* The section kind an observation identifier is filed under (the DICOM
 * adapter names each kind's TID 2000 concept): by LOINC code (18782-3 findings, 19005-8 impression, 11329-0
 * history, 18783-1 recommendation, 55110-1 conclusions) or by the
 * identifier's last word as reporting systems write it ("GDT", "IMP",
 * "ADD"/"ADDENDUM", "HX"/"HISTORY", "REC", "CONCL"); findings otherwise. */
report_section_kind report_section_of(const report_code *obs);

/* ---- the reports radlink holds (STORE_REPORT) ---- */

struct store_txn;
struct route_env;

typedef enum report_state {
    REPORT_WAITING = 0, /* its order is known, its study not yet */
    REPORT_LINKED = 1,  /* its study is known: its objects are in the study */
    REPORT_HELD = 2,    /* neither its order nor its study is known
                         * (<report unmatched="hold">): on the exception list
                         * until a study of its accession arrives */
} report_state;

/* What the route's <report> said, kept with the report for when it is
 * filed (a waiting report is filed when its study arrives). */
enum {
    REPORT_OPT_PDF_ONLY = 1u, /* pdf="instead": a PDF it carries replaces the SR */
    REPORT_OPT_IOCM = 2u,     /* update="iocm": the report it amends is rejected by a KOS */
    REPORT_OPT_ENHANCED = 4u, /* not an option: its SR is an Enhanced SR (numeric values) */
};

/* Record (version 2; version 1 is read with no options): u8 version, u64
 * message seq, u8 state, u8 status, i64 received, str accession, str study
 * UID (the study's once linked; while waiting, the UID the message names,
 * or ""), str control ID, u32 texts, u8 has a PDF, u8 options. */
typedef struct report_rec {
    uint64_t seq;            /* the ORU in the message log */
    report_state state;
    char status;             /* OBR-25: P, F or C */
    int64_t received_us;
    rl_str accession, study_uid, control_id; /* views into the record */
    uint32_t ntexts;
    bool pdf;
    uint8_t opts;            /* REPORT_OPT_* */
} report_rec;

const char *report_state_name(report_state s);

int report_put(struct store_txn *t, const report_rec *r, rl_err *err);
/* STORE_OK, STORE_NOTFOUND, or an error; r's strings view the store's
 * memory until the transaction ends. */
int report_get(struct store_txn *t, uint64_t seq, report_rec *r, rl_err *err);
/* Each report of a study, oldest first: cb returns non-zero to stop. */
typedef int (*report_visit)(void *ctx, const report_rec *r);
int report_each_of_study(struct store_txn *t, rl_str study_uid, report_visit cb, void *ctx,
                         rl_err *err);
/* Each report waiting for a study or held (accession NULL: of every
 * accession). */
int report_each_waiting(struct store_txn *t, const char *accession, report_visit cb, void *ctx,
                        rl_err *err);
/* A study of this UID or accession was stored: the reports waiting for it
 * (or held) are its now (cb, may be NULL, sees each); *n how many. */
int report_study_arrived(struct store_txn *t, rl_str study_uid, rl_str accession, report_visit cb,
                         void *ctx, unsigned *n, rl_err *err);
/* The engine's side of the `report` action (route_env.hook_ctx) and of
 * filing: where objects go, and what decides where they are sent. */
struct route_set;
struct route_dcm_io;
typedef struct report_ctx {
    const char *spool;  /* where the objects are filed */
    bool pacs;          /* a <pacs> or DICOM <node> is configured */
    /* the engine's route set (its <dicom-routes> decide where each object
     * goes), the data set access they use, and the engine's AE title (the
     * objects' calling and called AE for the routes); NULL: none */
    struct route_set *const *routes;
    const struct route_dcm_io *io;
    const char *ae;
} report_ctx;

/* The same, each of those reports then filed (report_file). */
int report_file_arrived(struct store_txn *t, const report_ctx *cx, rl_str study_uid,
                        rl_str accession, int64_t now_us, unsigned *n, rl_err *err);

/* Report seq (r, or read again from the message log when NULL) becomes
 * instances of its study: its SR (TID 2000) and, when it carries one, its
 * PDF (only the PDF with REPORT_OPT_PDF_ONLY, or when it has no text),
 * each written into spool/STUDY/SERIES/SOP.dcm and synced, their UIDs made
 * from the study and the message (a retry writes the same objects), patient
 * and study as radlink holds the study, the study's instances as evidence,
 * the accession's previous report as predecessor (with REPORT_OPT_IOCM,
 * that one's objects rejected by a KOS beside). Each object goes where the
 * <dicom-routes> send it (rs; held when they hold it), else where the
 * study's instances go; the study's jobs send and verify them like images. */
int report_file(struct store_txn *t, const report_ctx *cx, const struct route_set *rs,
                uint64_t seq, const report *r, uint8_t opts, rl_str study_uid, int64_t now_us,
                rl_err *err);

/* The SOP Instance UIDs of report seq's objects in study_uid (the SR's,
 * the PDF's and the rejection note's: each may not exist). */
void report_object_uids(const char *study_uid, uint64_t seq, char sr[RL_UID_SIZE],
                        char pdf[RL_UID_SIZE], char kos[RL_UID_SIZE]);

/* The `report` route action (<report>, route_report_opts): the message read
 * (one that cannot be is refused with AE and the reason), linked to its
 * study (by Study Instance UID, else accession, else the study its order
 * fixed), waiting for it when its order is known, else refused or held as
 * the route says; recorded once per message. A final report may complete
 * its worklist steps and tell the order filler (<mpps-status>). */
int report_hook(struct route_env *env, struct hl7_msg *m, rl_buf *trace);

#ifdef __cplusplus
}
#endif

#endif
