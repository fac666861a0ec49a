/* Backup, restore and check of a data directory (radlink backup|restore|
 * check), while the engine runs.
 *
 * A backup is a directory:
 *   store/data.mdb     LMDB's compacted copy, one read transaction's snapshot
 *   spool/STUDY/SERIES/SOP.dcm   the files that snapshot's instances name
 *   users              the console's users file, when there is one
 *   MANIFEST           what it holds: "radlink backup 1", then "key value"
 *                      lines (created, source, spool, counts)
 *   MANIFEST.sha256    every file's SHA-256, as `sha256sum -c` reads it
 * The spool files are copied after the snapshot: each was complete and
 * synced before its instance was indexed, so every instance of the copy has
 * its file. An instance replaced after the snapshot (a repeated SOP Instance
 * UID) comes with its newer file.
 *
 * Restore checks every checksum first and writes nothing if one differs;
 * it takes a new or empty directory only, and points the instances' spool
 * paths at it. Check reads a store and its spool (every indexed instance
 * has its file; the study index, queues, jobs and worklist refer to what
 * exists; a backup's checksums hold) and says what does not. */
#ifndef RADLINK_BACKUP_H
#define RADLINK_BACKUP_H

#include <stdbool.h>

#include "radlink/util.h"

/* Back up data_dir into dest (which must not exist, or be empty; one that
 * others may read is refused unless force). Every file and directory it
 * writes is owner-only (0600, 0700), as the store is; restore writes so
 * too. The report (counts, time) goes to out. 0, or -1 with err. */
int backup_make(const char *data_dir, const char *dest, bool force, rl_buf *out, rl_err *err);
/* Restore the backup src into data_dir. 0, or -1 with err (and, for
 * checksums that do not hold, each file named in out). */
int backup_restore(const char *src, const char *data_dir, rl_buf *out, rl_err *err);
/* Check data_dir (or a backup directory). *problems gets how many things
 * are wrong, each a line in out (the first RL_CHECK_LINES of them). 0, or
 * -1 when the store cannot be read at all. */
int backup_check(const char *data_dir, rl_buf *out, unsigned long *problems, rl_err *err);

#endif
