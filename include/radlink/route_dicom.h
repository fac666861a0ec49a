/* DICOM routes: the <dicom-routes> part of a route file (routes/README.md,
 * "DICOM routes"), compiled by route_load with the rest of the file.
 *
 * Two moments:
 * - at receipt, in the DICOM listener's thread, route_dicom_receive runs the
 *   <on-receive> routes, which change the instance before it is indexed and
 *   reconciled, then decides where it goes: each <dicom-route> that takes it
 *   gives sends (a node, a transfer syntax, and a program: that route's
 *   coercions, then the send's own). Conditions see the instance as it is
 *   stored (after <on-receive>), not the coercions of earlier routes;
 * - at sending, in a worker, after the RIS's corrections, route_dicom_prog_apply
 *   runs one send's program on a copy of the instance.
 * A program is self-contained bytes (the tables it looks up inlined), kept
 * by the engine with the instances it was decided for: a route file
 * reloaded later does not change what was decided.
 *
 * The route module never sees DCMTK: it reads and changes an instance
 * through route_dcm_io, which the DICOM adapter implements over its data set
 * (radlink/dicom.h: dicom_ds_io) and the unit tests over a table. */
#ifndef RADLINK_ROUTE_DICOM_H
#define RADLINK_ROUTE_DICOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "radlink/dpath.h"
#include "radlink/err.h"
#include "radlink/limits.h"
#include "radlink/route.h"
#include "radlink/util.h"

/* The transfer syntax a <send> asks for. */
typedef enum route_ts {
    ROUTE_TS_KEEP = 0,            /* as stored (default) */
    ROUTE_TS_EXPLICIT_LITTLE = 1, /* 1.2.840.10008.1.2.1 */
    ROUTE_TS_JPEG_LS_LOSSLESS = 2, /* 1.2.840.10008.1.2.4.80 */
    ROUTE_TS_JPEG2000_LOSSLESS = 3, /* 1.2.840.10008.1.2.4.90 */
    ROUTE_TS_RLE = 4,             /* 1.2.840.10008.1.2.5 */
} route_ts;
#define ROUTE_TS_COUNT 5
/* "keep", "explicit-little", "jpeg-ls-lossless", "jpeg2000-lossless", "rle" */
const char *route_dicom_ts_name(route_ts ts);

/* <deidentify profile="basic" options="...">: PS3.15 Annex E, Table E.1-1,
 * the Basic Application Level Confidentiality Profile and these options. */
enum route_deid_option {
    ROUTE_DEID_RETAIN_LONG_DATES = 1u << 0,   /* retain-longitudinal-dates: Retain
                                               * Longitudinal Temporal Information
                                               * With Full Dates */
    ROUTE_DEID_RETAIN_PATIENT_CHARS = 1u << 1, /* retain-patient-characteristics */
    ROUTE_DEID_RETAIN_DEVICE_ID = 1u << 2,     /* retain-device-identity */
    ROUTE_DEID_RETAIN_INSTITUTION_ID = 1u << 3, /* retain-institution-identity */
    ROUTE_DEID_RETAIN_UIDS = 1u << 4,          /* retain-uids */
    ROUTE_DEID_CLEAN_DESCRIPTIONS = 1u << 5,   /* clean-descriptions */
};
typedef struct route_deid {
    unsigned options;         /* route_deid_option bits */
    const char *keep_private; /* private creators whose elements stay, '\n'-separated
                               * ("" or NULL: every private element goes) */
} route_deid;

/* Each value found: return non-zero to stop. */
typedef int (*route_dcm_value_fn)(void *ctx, rl_str value);

/* Reading and changing one instance. Values are UTF-8 whatever the
 * instance's Specific Character Set; a multi-valued attribute is one value
 * with its backslashes ("ORIGINAL\PRIMARY\AXIAL"). */
typedef struct route_dcm_io {
    /* The attribute at p, in every item of every sequence on the way: cb
     * once per element found (an attribute present and empty gives ""; the
     * value is valid during the call; cb returning non-zero stops the walk).
     * Returns how many were found (0: absent), or a negative code. */
    int (*get)(void *ds, const dicom_path *p, route_dcm_value_fn cb, void *ctx);
    /* Set the attribute (created, with the first item of each sequence on
     * the way when there is none). Its old value is recorded for the
     * Original Attributes Sequence by the implementation. A value its VR
     * cannot hold (too long, not a UID, not a date) fails with the reason
     * and changes nothing. */
    int (*set)(void *ds, const dicom_path *p, rl_str value, rl_err *err);
    /* Remove it, from every item on the way; absent is not an error. */
    int (*remove)(void *ds, const dicom_path *p, rl_err *err);
    /* De-identify the whole instance. An instance that may hold burned-in
     * text fails with DICOM_E_BURNED_IN and the reason. Called only by
     * programs, never at receipt. */
    int (*deidentify)(void *ds, const route_deid *d, rl_err *err);
} route_dcm_io;

/* What the loader needs of the DICOM data dictionary (the DICOM adapter
 * gives radlink/dicom.h: dicom_dict). Each returns 0, or non-zero with why
 * in err->msg, in a few words that do not repeat the text asked about (the
 * loader puts "keyword 'BodyPartExamind': " or "value '...' for
 * InstitutionName: " in front). A route set keeps the pointer (value_check
 * also checks, at receipt, what <on-receive> routes compute), so the
 * dictionary outlives every set loaded with it; it is called from any
 * thread that loads or evaluates a set. */
typedef struct route_dicom_dict {
    /* "PatientName", "(0010,0010)", "RequestAttributesSequence/AccessionNumber",
     * and the tags (0008,0060) and (0008,0016), which <match> reads. */
    int (*path_parse)(const char *text, dicom_path *p, rl_err *err);
    /* Can the attribute hold this value (length for its VR, a UID's syntax,
     * a date's)? The same rule as route_dcm_io.set's: a value it accepts,
     * set accepts. */
    int (*value_check)(const dicom_path *p, const char *value, rl_err *err);
    /* A SOP class named by UID, keyword ("CTImageStorage") or name ("CT
     * Image Storage"): its UID into uid (RL_UID_SIZE). */
    int (*sop_class)(const char *name, char *uid, size_t n, rl_err *err);
} route_dicom_dict;

/* Who sent the instance: the association's AE titles. */
typedef struct route_dcm_who {
    const char *calling_ae, *called_ae;
} route_dcm_who;

/* One destination of an instance. */
typedef struct route_dicom_send {
    const char *to;          /* the node's AE title (a string of the route set: valid until
                              * route_free; the program carries its own copy) */
    const char *route;       /* the route that sent it there (the same) */
    route_ts ts;
    size_t prog_off, prog_len; /* its program, in the decision's progs */
} route_dicom_send;

typedef struct route_dicom_decision {
    bool routed;            /* some <dicom-route> took it */
    bool held;              /* it waits on the exception list; why says why (no route took it
                             * under default="hold", or an <on-receive> coercion failed) */
    bool receive_failed;    /* held because an <on-receive> coercion cannot be made on it:
                             * nothing of <on-receive> is kept, and ds must not be written
                             * (the file stays as it came); no <dicom-route> was considered */
    char why[RL_ROUTE_TEXT];
    route_dicom_send sends[RL_DICOM_SENDS_MAX];
    size_t nsends;          /* not routed, not held: 0, and every <pacs> gets it as it is
                             * (default="all", or a file without <dicom-routes>) */
    unsigned changed;       /* changes <on-receive> made to ds (set and remove calls); 0 when
                             * receive_failed */
    rl_buf progs;           /* the programs' bytes (sends[i].prog_off, prog_len) */
    char summary[RL_ROUTE_SUMMARY]; /* one line: routes taken, destinations */
} route_dicom_decision;

/* The set has <dicom-routes> (else every instance goes to every <pacs>). */
bool route_dicom_present(const route_set *rs);
/* How many <on-receive> and <dicom-route> elements it has, and whether its
 * default is "hold" (for `radlink routes check`). */
void route_dicom_counts(const route_set *rs, size_t *on_receive, size_t *routes, bool *hold);

/* Run the <on-receive> routes on ds, then decide where it goes (d is
 * initialized here, whatever the return; free it with
 * route_dicom_decision_free). trace, when not NULL, gets every decision as
 * `routes test` prints it. ROUTE_OK, or a negative code with err when io's
 * get failed (not the instance's fault: the caller keeps the file as it
 * came and may try again).
 *
 * Nothing of <on-receive> is kept unless all of it is: every <on-receive>
 * route is evaluated and every value it would write computed first, against
 * ds with the changes planned so far (a later route sees an earlier one's),
 * each checked with the dictionary's value_check; only when all can be made
 * are they applied to ds through io, in order. So an <on-receive> coercion
 * that fails (a value too long for its VR, not a UID...) makes no call to
 * io->set or io->remove. Should io still refuse one while applying (the
 * data set and the dictionary disagree), the decision is the same, held
 * with receive_failed, and ds may hold the changes before it: the caller
 * never writes ds when receive_failed, whichever way it came. */
int route_dicom_receive(const route_set *rs, const route_dcm_io *io, void *ds,
                        const route_dcm_who *who, route_dicom_decision *d, rl_buf *trace,
                        rl_err *err);
void route_dicom_decision_free(route_dicom_decision *d);

/* A program: one <send>'s coercions, made when the route file is loaded
 * (the route's own, then the send's, in the file's order), self-contained
 * (the tables they look up inlined), versioned and checksummed, at most
 * RL_ROUTE_DICOM_PROG_MAX bytes, integers big-endian, strings a u32 length
 * and their bytes (radlink/rec.h):
 *
 *   u32 magic "RLDP", u8 format version (1)
 *   str route name, str node AE title, u8 route_ts
 *   u32 tables, each: str name, u8 flags (1 ignore-case, 2 has a default),
 *       str default, u32 entries, each: str key, str value
 *   u32 coercions (at most RL_ROUTE_DICOM_PROG_OPS), each: u8 kind, u32 the
 *       file's line, then
 *         deidentify (8):  u32 route_deid_option bits, str keep-private
 *         others:          path target, and a path source for 1 set-from,
 *                          2 set-from-table, 3 copy, 5 map, 6 date, 7 name;
 *                          then 0 set: str value; 2, 5: u32 table, u8 has a
 *                          default, str default; 6: str from, str format;
 *                          7: str format (4 remove: nothing more)
 *       a path: str the keyword as written, u8 tags (1..DICOM_PATH_DEPTH),
 *       u32 each tag, str VR (0 to 2 bytes), u32 max_chars
 *   u32 FNV-1a of every byte before it
 *
 * Decoding checks every length, count, index, kind and format, and the
 * checksum; a program that does not decode is ROUTE_E_PROG, and nothing of
 * it runs. */

/* Run one send's program on ds (a copy the caller sends): the coercions in
 * order, each reading what the one before wrote. trace as above: each
 * coercion with the value before and after ("set InstitutionName: "OLD" ->
 * "NEW""). ROUTE_E_PROG (nothing done) when prog does not decode;
 * ROUTE_E_COERCE when a coercion cannot be made on this instance (err
 * names the route, the node, the coercion, its line and why);
 * DICOM_E_BURNED_IN from <deidentify>; or the io's own code when reading
 * failed. After any failure but ROUTE_E_PROG, ds is half-coerced and must
 * not be sent. Needs no route set: prog is all it reads. */
int route_dicom_prog_apply(rl_str prog, const route_dcm_io *io, void *ds, rl_buf *trace, rl_err *err);

/* What a program says, without running it. */
typedef struct route_prog_info {
    route_ts ts;
    bool deidentify;          /* it has a <deidentify> */
    unsigned ops;             /* coercions, <deidentify> included */
    char route[RL_ROUTE_NAME_SIZE];
    char to[RL_AE_TITLE_SIZE];
} route_prog_info;
/* ROUTE_OK, or ROUTE_E_PROG with why in err. */
int route_dicom_prog_info(rl_str prog, route_prog_info *out, rl_err *err);

#ifdef __cplusplus
}
#endif

#endif
