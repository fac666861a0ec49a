/* What the handlers of the operator plane (engine/ops) share: the module
 * faces they read and write through, and small helpers. Private to
 * engine/ops. */
#ifndef RADLINK_OPS_INTERNAL_H
#define RADLINK_OPS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "radlink/hl7.h"
#include "radlink/limits.h"
#include "radlink/ops.h"
#include "radlink/store.h"
#include "radlink/util.h"
#include "radlink/view.h"

/* The same as JSON: a string, or null. */
json_t *ops_meta_json(store_txn *t, const char *key);
/* How long ago: "45s", "12m", "3h20m", "2d4h". */
void ops_age(int64_t us, char *out, size_t n);
/* Text only: "label:" and s line by line, control bytes shown as \xHH. */
void ops_text_block(view *v, const char *label, rl_str s);
/* A store failure: its words, OP_FAIL. */
int ops_store_fail(view *v, const rl_err *err);
/* The reports of a study (`recon show`, a study job's `jobs show`): a
 * "reports:" list, each with its state and objects. */
void ops_study_reports(op_call *c, rl_str study_uid);
/* Ask the engine (c->ask) and return its words in out; -1 when there is
 * none to ask or it did not answer. */
int ops_ask(op_call *c, int argc, char **argv, int *status, rl_buf *out);

/* The handlers, by noun (engine/ops/<noun>.c); the tables name them. */
int ops_msg_list(op_call *c);
int ops_msg_search(op_call *c);
int ops_msg_show(op_call *c);
int ops_msg_replay(op_call *c);
int ops_trace(op_call *c);
int ops_queue_list(op_call *c);
int ops_queue_retry(op_call *c);
int ops_queue_park(op_call *c);
int ops_jobs_list(op_call *c);
int ops_jobs_show(op_call *c);
int ops_jobs_retry(op_call *c);
int ops_recon_list(op_call *c);
int ops_recon_show(op_call *c);
int ops_recon_link(op_call *c);
int ops_recon_forward(op_call *c);
int ops_wl_list(op_call *c);
int ops_wl_show(op_call *c);
int ops_wl_put(op_call *c);
int ops_mpps_list(op_call *c);
int ops_mpps_show(op_call *c);
int ops_audit_list(op_call *c);
int ops_audit_show(op_call *c);
int ops_user_list(op_call *c);
int ops_user_change(op_call *c);
int ops_status(op_call *c);
int ops_alerts_list(op_call *c);
int ops_pacs_check(op_call *c);
int ops_routes_show(op_call *c);
int ops_routes_reload(op_call *c);
int ops_hl7_decide(op_call *c);
int ops_engine_question(op_call *c);
int ops_no_engine(op_call *c);

#endif
