/* Audit events the loop stores for others (engine/audit/posted.c): events
 * rendered where they happened (a DICOM thread, a listener, the console)
 * and posted to the loop as commands, and the Instances Transferred events
 * of a turn's C-STORE. Above the audit trail itself (radlink/audit.h), which
 * renders and stores them. */
#ifndef RADLINK_AUDIT_POST_H
#define RADLINK_AUDIT_POST_H

#include "radlink/audit.h"

struct cmd;

/* A CMD_AUDIT command carrying ev rendered: one malloc'd block (the XML
 * follows the command), freed as any command is. NULL when out of memory. */
struct cmd *audit_cmd(const audit_event *ev);

/* DICOM Instances Transferred (PS3.15 A.5.3.4) for the instances a turn
 * stored (CMD_INSTANCE commands in the list linked by next, those with
 * status 0 and not refused as duplicates): one event per study, sender
 * and address, with its SOP classes and counts, in t. */
int audit_instances_received(store_txn *t, const struct cmd *cmds, rl_err *err);

/* dicom_scp_cfg's on_query and on_alert, ctx a struct receiver (its queue
 * reaches the loop). A query waits until its event is committed; alerts
 * are posted, at most RL_AUDIT_ALERTS_PER_S a second each with what came
 * since the last one counted in its text (a flood of bad handshakes must
 * not become a flood of events). */
int audit_dicom_query(void *ctx, const char *calling_ae, const char *peer, const char *sop_class,
                      rl_str identifier);
void audit_dicom_alert(void *ctx, const char *peer, const char *calling_ae, const char *what);
/* A Security Alert (type) about peer ("ip:port", or "") or user, as a
 * CMD_AUDIT to post to the loop; NULL when the limit above holds it back
 * (it is counted in the next one) or out of memory. Thread-safe: DICOM
 * threads and the loop's listeners (MLLP, control socket) use it. */
struct cmd *audit_alert_cmd(audit_type type, const char *peer, const char *user,
                            const char *what);

#endif
