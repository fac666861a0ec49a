/* What the HTTP listener's threads share (engine/web): the engine's
 * configuration and store (read transactions only), the control socket
 * through which every state change goes (the CLI's path), and the console's
 * users and sessions. Private to engine/web. */
#ifndef RADLINK_WEB_H
#define RADLINK_WEB_H

#include <pthread.h>
#include <stdbool.h>

#include "radlink/cfg.h"
#include "radlink/http.h"
#include "radlink/store.h"

typedef enum web_role { ROLE_NONE = 0, ROLE_VIEWER = 1, ROLE_OPERATOR = 2, ROLE_ADMIN = 3 } web_role;

/* A logged-in user's session (auth.c). */
typedef struct web_session {
    char id[65];   /* the cookie's value: 32 random bytes, hex */
    char csrf[65]; /* the token every state change must carry */
    char user[64];
    web_role role;
    char addr[64];  /* where it logged in from */
    int64_t created_us, seen_us;
} web_session;

typedef struct web_lockout {
    char user[64];
    unsigned failures;
    int64_t until_us;
} web_lockout;

typedef struct web {
    const cfg *cfg;
    store *st;
    struct dicom_scp *dicom;
    char ctl_path[700];
    char users_path[1100];
    int ready; /* read and written with __atomic builtins */
    pthread_mutex_t lock; /* sessions, lockouts */
    web_session sessions[64];
    web_lockout lockouts[64];
    pthread_mutex_t hashing; /* logins hashing now: bounded (RL_HTTP_LOGINS_AT_ONCE) */
    pthread_cond_t hashed;
    unsigned hashing_now;
    /* audit events of logins and actions go to the loop: post (audit_cmd) */
    struct cmdq *q;
} web;

/* A request as the handlers see it: the listener's request, its answer,
 * and who asks (NULL: nobody logged in). */
typedef struct web_call {
    web *w;
    const http_req *req;
    http_resp *resp;
    web_session who; /* a copy; who.user[0] == 0: not logged in */
} web_call;

/* Answers (web.c). */
void web_text(web_call *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A JSON error {"error": text} with status. */
void web_error(web_call *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Ask the engine's loop over the control socket (the CLI's path): status
 * is the CLI exit code, out its words. Returns 0, or -1 when the engine did
 * not answer (out says why). */
int web_ctl(web *w, int argc, char **argv, int *status, rl_buf *out);

/* /metrics (metrics.c). */
void web_metrics(web_call *c);

#endif
