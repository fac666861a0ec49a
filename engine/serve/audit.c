/* The audit events the engine's loop records itself: the application
 * started and stopped and the route file reloaded (a configuration change),
 * each in a transaction of its own (nothing else is being written when they
 * happen); security alerts seen by the loop's listeners (a failed MLLP TLS
 * handshake, a refused control request) go through the next turn. */
#include <pwd.h>
#include <stdio.h>
#include <unistd.h>

#include "engine.h"
#include "radlink/audit.h"
#include "radlink/audit_post.h"
#include "radlink/limits.h"
#include "radlink/log.h"

void engine_audit(engine *e, const audit_event *ev)
{
    store_txn *t;
    rl_err err;
    rl_err_clear(&err);
    int rc = store_begin(e->st, NULL, true, &t, &err);
    if (rc == STORE_OK)
        rc = audit_record(t, ev, &err) == STORE_OK ? store_commit(t, &err)
                                                   : (store_abort(t), err.code);
    if (rc != STORE_OK)
        log_error("audit.store_failed", "event=%u error=\"%s\"", (unsigned)ev->kind, err.msg);
}

void engine_audit_app(engine *e, bool start)
{
    char pid[RL_PID_TEXT_MAX];
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    struct passwd *pw = getpwuid(geteuid());
    audit_event ev = { .kind = AUDIT_APP_ACTIVITY,
                       .type = start ? AUDIT_T_APP_START : AUDIT_T_APP_STOP, .action = 'E' };
    ev.party[0] = (audit_party){ .user_id = audit_source_id(), .alt_id = pid,
                                 .role = AUDIT_ROLE_APPLICATION };
    ev.party[1] = (audit_party){ .user_id = pw ? pw->pw_name : "?", .requestor = true,
                                 .role = AUDIT_ROLE_LAUNCHER };
    ev.nparty = 2;
    engine_audit(e, &ev);
}

void engine_audit_alert(engine *e, int type, const char *peer, const char *user,
                        const char *what)
{
    cmd *c = audit_alert_cmd((audit_type)type, peer, user, what);
    if (c)
        cmdq_post(e->q, &c->q); /* stored in the next turn, with what else it brings */
}

void engine_audit_config(engine *e, const char *file, bool ok, const char *text)
{
    char pid[RL_PID_TEXT_MAX];
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    audit_event ev = { .kind = AUDIT_SECURITY_ALERT, .type = AUDIT_T_SOFTWARE_CONFIG,
                       .action = 'E', .outcome = ok ? 0 : 4, .outcome_text = text,
                       .object_id = file, .object_desc = text };
    ev.party[0] = (audit_party){ .user_id = audit_source_id(), .alt_id = pid,
                                 .requestor = true, .role = AUDIT_ROLE_APPLICATION };
    ev.nparty = 1;
    engine_audit(e, &ev);
}
