/* The DICOM bridge (adapters/dicom, C++17 over DCMTK), seen from C.
 *
 * The SCP serves C-ECHO and Modality Worklist C-FIND
 * (1.2.840.10008.5.1.4.31) from the worklist in the store, and C-STORE for
 * the storage SOP classes: a pool of worker threads, one association each;
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

#include "radlink/err.h"
#include "radlink/limits.h"
#include "radlink/store.h"
#include "radlink/study.h"
#include "radlink/util.h"
#include "radlink/wl.h"

#ifdef __cplusplus
extern "C" {
#endif

enum dicom_status {
    DICOM_E_NET = DICOM_E_BASE - 1,      /* the port, an association, a peer that refused */
    DICOM_E_FILE = DICOM_E_BASE - 2,     /* a DICOM file that cannot be read or written */
    DICOM_E_CHARSET = DICOM_E_BASE - 3,  /* values that cannot be converted to UTF-8 */
    DICOM_E_REFUSED = DICOM_E_BASE - 4,  /* the peer answered C-STORE with a failure status */
    DICOM_E_CONFIG = DICOM_E_BASE - 5,   /* the SCP cannot start as configured */
    DICOM_E_INTERNAL = DICOM_E_BASE - 6, /* DCMTK threw: the text says what */
};

typedef struct dicom_scp_cfg {
    unsigned port;
    char ae_title[17];
    /* calling AE titles allowed to associate; none = any ("open") */
    char allowed[RL_DICOM_ALLOW_MAX][17];
    size_t n_allowed;
    unsigned max_associations; /* simultaneous associations */
    unsigned max_responses;    /* matches returned for one C-FIND (then A700) */
    unsigned dimse_timeout_s;  /* an association silent this long is closed */
    bool icase_names;          /* person-name matching ignores (ASCII) case */
    store *st;
    /* C-STORE: where temporary files go (same file system as the spool), and
     * what takes a received instance: returns 0 (stored), 1 (refused as a
     * duplicate) or -1 (failed; why says it). NULL: no storage service. */
    char incoming_dir[512];
    int (*on_instance)(void *ctx, const study_inst *in, const char *tmp_path, char *why,
                       size_t whyn);
    void *ctx;
} dicom_scp_cfg;

typedef struct dicom_scp dicom_scp;

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

/* A header change: set tag (top level) to value (UTF-8). */
typedef struct dicom_change {
    uint32_t tag;
    const char *value;
} dicom_change;

/* Read in and compare it with the changes (values in UTF-8). When some value
 * differs, apply them all (the file converted to UTF-8 first) and write out
 * in the same transfer syntax; *changed says how many differed (0: out was
 * not written, in is right as it is). */
int dicom_correct_file(const char *in, const char *out, const dicom_change *ch, size_t n,
                       unsigned *changed, rl_err *err);

/* A DICOM peer: AE title, host, port. */
typedef struct dicom_peer {
    char ae_title[17];
    char host[256];
    unsigned port;
} dicom_peer;

/* Send files with C-STORE over one association; 0 when every one was
 * accepted (success or warning status), else DICOM_E_NET or DICOM_E_REFUSED. */
int dicom_send_files(const char *calling_ae, const dicom_peer *to, const char *const *files,
                     size_t n, rl_err *err);

/* Write a worklist entry as a DICOM file (the .wl format DCMTK's wlmscpfs
 * reads): the entry's attributes, SpecificCharacterSet ISO_IR 192. */
int dicom_write_wl(const wl_entry *e, const char *path, rl_err *err);

#ifdef __cplusplus
}
#endif

#endif
