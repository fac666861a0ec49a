/* What the HTTP listener's threads share (engine/web): the engine's
 * configuration and store (read transactions only), the control socket
 * through which they ask the loop (the CLI's path), the command queue that
 * takes their audit events, and the console's sessions. Private to
 * engine/web. */
#ifndef RADLINK_WEB_H
#define RADLINK_WEB_H

#include <jansson.h>
#include <pthread.h>

#include "radlink/cfg.h"
#include "radlink/cmd.h"
#include "radlink/http.h"
#include "radlink/limits.h"
#include "radlink/ops.h"
#include "radlink/queue.h"
#include "radlink/store.h"
#include "radlink/users.h"

/* A logged-in user's session: a random ID in the cookie, a random CSRF
 * token every state change must carry (X-CSRF-Token). */
typedef struct web_session {
    char id[RL_HEX_SIZE(RL_WEB_TOKEN_BYTES)], csrf[RL_HEX_SIZE(RL_WEB_TOKEN_BYTES)];
    char user[RL_USER_NAME_MAX];
    int role; /* users_role; 0: the slot is free */
    int64_t created_us, last_us;
} web_session;

/* Failed logins of one name in a row, and how long it stays locked. */
typedef struct web_failures {
    char name[RL_USER_NAME_MAX];
    unsigned n;
    int64_t last_us, locked_until_us;
} web_failures;

/* The overview's last hour: gauges sampled once a minute. */
#define WEB_SAMPLES 60
typedef struct web_sample {
    int64_t at_us;
    double pending, parked, unmatched, jobs_waiting, jobs_dead, store_used;
} web_sample;

typedef struct web {
    const cfg *cfg;
    store *st;
    cmdq *q;
    char ctl_path[RL_SOCK_PATH_MAX];
    char users_path[RL_DATA_PATH_MAX];
    int ready; /* read and written with __atomic builtins */
    pthread_mutex_t lock; /* sessions, failures, logins, samples */
    web_session sessions[RL_HTTP_SESSIONS_MAX];
    web_failures failures[RL_HTTP_LOCKOUT_NAMES];
    unsigned logins; /* hashing now */
    web_sample samples[WEB_SAMPLES];
    size_t nsamples, next_sample;
    pthread_t sampler;
    bool sampler_on, stopping;
    pthread_cond_t wake;
} web;

/* A request as the handlers see it: the listener's request, its answer,
 * and who asks (role 0 before login). */
typedef struct web_call {
    web *w;
    const http_req *req;
    http_resp *resp;
    char user[RL_USER_NAME_MAX];
    int role;
    char csrf[RL_HEX_SIZE(RL_WEB_TOKEN_BYTES)];
} web_call;

/* A plain-text answer with status (reply.c). */
void web_text(web_call *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Ask the engine's loop over the control socket (the CLI's path): status
 * is the CLI exit code, out its words. Returns 0, or -1 when the engine did
 * not answer (out says why). */
int web_ctl(web *w, int argc, char **argv, int *status, rl_buf *out);

/* JSON answers (reply.c): j is taken (json_decref'd). */
void web_json(web_call *c, int status, json_t *j);
/* {"error": "..."} with status. */
void web_error(web_call *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sessions and roles (auth.c). web_auth: who c is (from the session
 * cookie); 0 when a session holds at least role and, for a state change,
 * its CSRF token came; else the answer (401, 403) is written, a refused role
 * is audited, and -1. */
int web_auth(web_call *c, int role, bool change);
void web_login(web_call *c);
void web_logout(web_call *c);
void web_session_info(web_call *c);
/* Record a console action in the audit trail: the request, by whom, and
 * what the engine answered (status 0 done). */
void web_audit_action(web_call *c, const char *what, int status, const char *answer);
void web_auth_init(web *w);
/* The sessions of user end (an admin removed the user or changed its role). */
void web_end_sessions(web *w, const char *user);

/* The store's gauges (metrics.c): per destination, jobs and studies by
 * state, store usage. dests: the engine's destinations (an empty queue is
 * a 0, not a missing row). */
#define WEB_MAX_DESTS 128
typedef queue_gauge web_dest_gauge;
typedef struct web_gauges {
    web_dest_gauge d[WEB_MAX_DESTS];
    size_t nd;
    unsigned long jobs[8];
    unsigned long prefetch_jobs[8]; /* of them, kind prefetch */
    unsigned long prefetch_studies, prefetch_instances, prefetch_timed; /* done prefetches */
    double prefetch_seconds;        /* their order -> priors present, summed */
    unsigned long studies[8];
    uint64_t messages;
    store_usage usage;
    bool have_usage;
} web_gauges;
int web_gauges_read(web *w, web_gauges *g);
double web_rss_bytes(void);

/* /metrics (metrics.c). */
void web_metrics(web_call *c);
/* /api/... (router.c, from the verb table): false when the path is none of
 * the API's. */
bool web_api(web_call *c);
/* /api/status: the console's overview (overview.c). */
void web_overview(web_call *c);
/* The console's pages and assets (console.c): false when not one. */
bool web_console(web_call *c);
/* The sampler of the overview's charts (overview.c). */
void web_sampler_start(web *w);
void web_sampler_stop(web *w);

#endif
