/* A study job, as a worker runs it (engine/job/study_job.c): inside the
 * worker, between the job thread and the thread that talks to the engine. */
#ifndef RADLINK_STUDY_JOB_H
#define RADLINK_STUDY_JOB_H

#include <stdbool.h>

#include "radlink/job.h"
#include "radlink/job_msg.h"
#include "radlink/util.h"

/* What the job asks of its worker's main thread (the only one that may use
 * the ZeroMQ socket): tell the engine which storage commitment transaction
 * it waits for, and wait for the report the engine passes on. */
typedef struct study_link {
    void (*announce)(struct study_link *l, const char *txn_uid);
    /* The report's lines (radlink/dicom.h on_commit_report) into out; false
     * when none came within timeout_s. */
    bool (*await)(struct study_link *l, const char *txn_uid, unsigned timeout_s, rl_buf *out);
} study_link;

/* An attempt's outcome: done, failed (its steps return STUDY_JOB_FAILED with
 * the reason in the result), or unverified. */
enum { STUDY_JOB_DONE = 0, STUDY_JOB_FAILED = JOB_E_ATTEMPT, STUDY_JOB_UNVERIFIED = 1 };

/* Run one attempt of m: correct the files that disagree into the work
 * directory, send to every PACS its way (pacs_update), verify (pacs_verify).
 * result gets the text for the engine: the summary when done, the reason
 * when failed (tried again later) or unverified (sent, but the PACS does not
 * show what the RIS says; with the remedy). */
int study_job_run(const job_msg *m, const char *calling_ae, study_link *link, rl_arena *arena,
                  rl_buf *result);

/* The file in an attempt's work directory where a job that gave instances
 * new UIDs (IOCM) lists them: "OLD-SOP NEW-SOP OLD-SERIES NEW-SERIES" lines. */
#define STUDY_JOB_UID_MAP "uids.map"

#endif
