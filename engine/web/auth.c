/* Who may do what on the console and the API: users from the users file
 * (radlink/users.h), sessions held in memory (a restart logs everyone out),
 * a CSRF token per session that every state change carries in the
 * X-CSRF-Token header, and a lockout after repeated failed logins of one
 * name. Every login, logout and refusal goes to the audit trail (User
 * Authentication 110114; a refused function: Security Alert 110113 / Use of
 * Restricted Function 110132), and so does every action (web_audit_action). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web.h"
#include "radlink/audit.h"
#include "radlink/audit_post.h"
#include "radlink/digest.h"
#include "radlink/log.h"
#include "radlink/users.h"

#define COOKIE "radlink_session"

void web_auth_init(web *w)
{
    pthread_mutex_init(&w->lock, NULL);
}

static void hex32(char out[RL_HEX_SIZE(RL_WEB_TOKEN_BYTES)])
{
    unsigned char raw[RL_WEB_TOKEN_BYTES];
    static const char d[] = "0123456789abcdef";
    if (digest_random(raw, sizeof raw) != 0)
        memset(raw, 0, sizeof raw), out[0] = '\0'; /* no session without randomness */
    for (size_t i = 0; i < sizeof raw; i++) {
        out[2 * i] = d[raw[i] >> 4];
        out[2 * i + 1] = d[raw[i] & 15];
    }
    out[2 * sizeof raw] = '\0';
}

static void client_addr(const web_call *c, char *out, size_t n)
{
    audit_addr(c->req->peer, out, n);
}

/* Post an event to the loop, which stores it in its next turn. */
static void post(web *w, const audit_event *ev)
{
    cmd *k = audit_cmd(ev);
    if (!k || cmdq_post(w->q, &k->q) != 0)
        log_error("http.audit_lost", "event=%d", (int)ev->kind);
}

static void audit_login(web_call *c, const char *user, audit_type type, int outcome,
                        const char *text)
{
    char addr[RL_PEER_TEXT_MAX];
    client_addr(c, addr, sizeof addr);
    audit_event ev = { .kind = AUDIT_USER_AUTH, .type = type, .action = 'E',
                       .outcome = outcome, .outcome_text = text };
    ev.party[0] = (audit_party){ .user_id = user, .address = addr, .requestor = true };
    ev.party[1] = (audit_party){ .user_id = audit_source_id() };
    ev.nparty = 2;
    post(c->w, &ev);
}

void web_audit_action(web_call *c, const char *what, int status, const char *answer)
{
    char addr[RL_PEER_TEXT_MAX], text[RL_AUDIT_ACTION_TEXT_MAX];
    client_addr(c, addr, sizeof addr);
    snprintf(text, sizeof text, "%s%s%.300s", status == 0 ? "done" : "refused",
             answer && answer[0] ? ": " : "", answer ? answer : "");
    text[strcspn(text, "\n")] = '\0';
    audit_event ev = { .kind = AUDIT_SECURITY_ALERT, .type = AUDIT_T_RESTRICTED_FUNCTION,
                       .action = 'E', .outcome = status == 0 ? 0 : 4, .outcome_text = text,
                       .object_id = what, .object_desc = text };
    ev.party[0] = (audit_party){ .user_id = c->user[0] ? c->user : addr, .address = addr,
                                 .requestor = true };
    ev.party[1] = (audit_party){ .user_id = audit_source_id() };
    ev.nparty = 2;
    post(c->w, &ev);
    log_info("http.action", "user=%s what=\"%s\" status=%d", c->user, what, status);
}

static int64_t idle_us(const web *w)
{
    return (int64_t)w->cfg->http.session_idle_s * 1000000;
}

static bool expired(const web *w, const web_session *s, int64_t now)
{
    return now - s->last_us > idle_us(w) ||
           now - s->created_us > (int64_t)RL_HTTP_SESSION_MAX_H * 3600 * 1000000;
}

/* The session of the request's cookie (w->lock held), or NULL; *was_expired
 * when it was there but ran out (it is dropped then). */
static web_session *find_session(web_call *c, int64_t now, bool *was_expired)
{
    char id[RL_WEB_COOKIE_MAX];
    *was_expired = false;
    if (http_cookie(c->req, COOKIE, id, sizeof id) != 2 * RL_WEB_TOKEN_BYTES)
        return NULL;
    for (size_t i = 0; i < RL_HTTP_SESSIONS_MAX; i++) {
        web_session *s = &c->w->sessions[i];
        if (!s->role || !digest_equal(s->id, id, 2 * RL_WEB_TOKEN_BYTES))
            continue;
        if (expired(c->w, s, now)) {
            *was_expired = true;
            memset(s, 0, sizeof *s);
            return NULL;
        }
        return s;
    }
    return NULL;
}

int web_auth(web_call *c, int role, bool change)
{
    int64_t now = rl_now_us();
    bool was_expired;
    pthread_mutex_lock(&c->w->lock);
    web_session *s = find_session(c, now, &was_expired);
    if (s) {
        s->last_us = now;
        snprintf(c->user, sizeof c->user, "%s", s->user);
        snprintf(c->csrf, sizeof c->csrf, "%s", s->csrf);
        c->role = s->role;
    }
    pthread_mutex_unlock(&c->w->lock);
    if (!s) {
        web_error(c, 401, was_expired ? "the session expired: log in again" : "log in first");
        return -1;
    }
    if (change) {
        const char *token = http_header(c->req, "X-CSRF-Token");
        if (!token || strlen(token) != 2 * RL_WEB_TOKEN_BYTES ||
            !digest_equal(token, c->csrf, 2 * RL_WEB_TOKEN_BYTES)) {
            web_error(c, 403, "missing or wrong CSRF token (X-CSRF-Token, from /api/session)");
            return -1;
        }
    }
    if (c->role < role) {
        char what[RL_AUDIT_REQUEST_TEXT_MAX];
        snprintf(what, sizeof what, "%s %s", c->req->method, c->req->path);
        web_audit_action(c, what, 1, "not allowed to this role");
        web_error(c, 403, "%s may not do this: it needs the %s role", users_role_name(c->role),
                  users_role_name(role));
        return -1;
    }
    return 0;
}

/* Failed logins of name (w->lock held): its slot, or a new one (the
 * stalest goes). */
static web_failures *failures_of(web *w, const char *name, int64_t now)
{
    web_failures *oldest = &w->failures[0];
    for (size_t i = 0; i < RL_HTTP_LOCKOUT_NAMES; i++) {
        web_failures *f = &w->failures[i];
        if (f->name[0] && strcmp(f->name, name) == 0)
            return f;
        if (!f->name[0] || f->last_us < oldest->last_us)
            oldest = f;
    }
    memset(oldest, 0, sizeof *oldest);
    snprintf(oldest->name, sizeof oldest->name, "%s", name);
    oldest->last_us = now;
    return oldest;
}

static pthread_mutex_t locked_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t locked_second;
static unsigned long locked_count;

/* A login refused for a lockout: how many to record now (this one and those
 * held back in the same second), or 0 when this second has its event. */
static unsigned long locked_attempt(void)
{
    int64_t s = rl_mono_ms() / 1000;
    unsigned long n = 0;
    pthread_mutex_lock(&locked_lock);
    locked_count++;
    if (s != locked_second) {
        locked_second = s;
        n = locked_count;
        locked_count = 0;
    }
    pthread_mutex_unlock(&locked_lock);
    return n;
}

static char decoy[RL_USER_HASH_MAX];
static pthread_once_t decoy_once = PTHREAD_ONCE_INIT;

static void make_decoy(void)
{
    rl_err err;
    users_hash("not a password of anyone", decoy, sizeof decoy, &err);
}

static void set_cookie(web_call *c, const char *value, int max_age)
{
    rl_buf_printf(&c->resp->headers,
                  "Set-Cookie: " COOKIE "=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Strict%s\r\n",
                  value, max_age, c->req->tls ? "; Secure" : "");
}

void web_login(web_call *c)
{
    web *w = c->w;
    json_error_t jerr;
    json_t *body = json_loadb(c->req->body.p, c->req->body.n, 0, &jerr);
    const char *user = NULL, *password = NULL;
    if (!body) {
        web_error(c, 400, "the body is not JSON: line %d, column %d: %s", jerr.line, jerr.column,
                  jerr.text);
        return;
    }
    if (json_unpack_ex(body, &jerr, JSON_STRICT, "{s:s, s:s}", "user", &user, "password",
                       &password) != 0 || !users_name_ok(user)) {
        web_error(c, 400, "expected {\"user\": NAME, \"password\": PASSWORD}%s%s",
                  user ? "" : ": ", user ? "" : jerr.text);
        json_decref(body);
        return;
    }
    char name[RL_USER_NAME_MAX];
    snprintf(name, sizeof name, "%s", user); /* user is the body's, freed before the end */
    user = name;
    int64_t now = rl_now_us();
    pthread_mutex_lock(&w->lock);
    web_failures *f = failures_of(w, user, now);
    int64_t locked = f->locked_until_us > now ? (f->locked_until_us - now + 999999) / 1000000 : 0;
    bool busy = !locked && w->logins >= RL_HTTP_LOGINS_AT_ONCE;
    if (!locked && !busy)
        w->logins++;
    pthread_mutex_unlock(&w->lock);
    if (locked || busy) {
        if (locked) {
            /* no hash is spent on a locked name, so these can come fast:
             * one event a second says how many there were */
            unsigned long n = locked_attempt();
            if (n) {
                char text[RL_AUDIT_LOCKED_TEXT_MAX];
                snprintf(text, sizeof text, "locked after repeated failures (%lu attempt%s "
                         "refused since the last event)", n, n == 1 ? "" : "s");
                audit_login(c, user, AUDIT_T_LOGIN, 4, text);
            }
            rl_buf_printf(&c->resp->headers, "Retry-After: %lld\r\n", (long long)locked);
            web_error(c, 429, "too many failed logins for %s: locked for %lld s", user,
                      (long long)locked);
        } else {
            rl_buf_add_c(&c->resp->headers, "Retry-After: 1\r\n");
            web_error(c, 503, "other logins are being checked: try again in a second");
        }
        json_decref(body);
        return;
    }
    /* the file is read at each login: `radlink user` changes apply at once */
    users_rec *u = calloc(RL_USERS_MAX, sizeof *u);
    size_t n = 0;
    rl_err err;
    const users_rec *who = NULL;
    if (u && users_load(w->users_path, u, RL_USERS_MAX, &n, &err) != 0) {
        log_error("http.users_unreadable", "error=\"%s\"", err.msg);
        n = 0;
    }
    for (size_t i = 0; i < n && !who; i++)
        if (strcmp(u[i].name, user) == 0)
            who = &u[i];
    /* an unknown name costs a hash too: the time tells nothing */
    pthread_once(&decoy_once, make_decoy);
    bool ok = users_verify(password, who ? who->hash : decoy) && who;
    web_session made = { 0 };
    pthread_mutex_lock(&w->lock);
    w->logins--;
    f = failures_of(w, user, now);
    f->last_us = now;
    if (!ok) {
        if (++f->n >= w->cfg->http.lockout_failures) {
            f->locked_until_us = now + (int64_t)w->cfg->http.lockout_s * 1000000;
            f->n = 0;
        }
    } else {
        memset(f, 0, sizeof *f);
        web_session *slot = &w->sessions[0];
        for (size_t i = 0; i < RL_HTTP_SESSIONS_MAX; i++) {
            web_session *s = &w->sessions[i];
            if (!s->role || expired(w, s, now)) {
                slot = s;
                break;
            }
            if (s->last_us < slot->last_us)
                slot = s;
        }
        memset(slot, 0, sizeof *slot);
        hex32(slot->id);
        hex32(slot->csrf);
        snprintf(slot->user, sizeof slot->user, "%s", who->name);
        slot->role = (int)who->role;
        slot->created_us = slot->last_us = now;
        made = *slot;
        if (!slot->id[0] || !slot->csrf[0])
            memset(slot, 0, sizeof *slot), made.role = 0;
    }
    pthread_mutex_unlock(&w->lock);
    free(u);
    json_decref(body);
    if (!ok) {
        audit_login(c, user, AUDIT_T_LOGIN, 4, "wrong user name or password");
        web_error(c, 401, "wrong user name or password");
        return;
    }
    if (!made.role) {
        web_error(c, 503, "no random bytes for a session");
        return;
    }
    audit_login(c, made.user, AUDIT_T_LOGIN, 0, NULL);
    log_info("http.login", "user=%s role=%s", made.user, users_role_name(made.role));
    set_cookie(c, made.id, (int)w->cfg->http.session_idle_s + 60);
    web_json(c, 200, json_pack("{s:s, s:s, s:s}", "user", made.user, "role",
                               users_role_name(made.role), "csrf", made.csrf));
}

void web_logout(web_call *c)
{
    if (web_auth(c, USERS_VIEWER, true) != 0)
        return;
    int64_t now = rl_now_us();
    bool was_expired;
    pthread_mutex_lock(&c->w->lock);
    web_session *s = find_session(c, now, &was_expired);
    if (s)
        memset(s, 0, sizeof *s);
    pthread_mutex_unlock(&c->w->lock);
    audit_login(c, c->user, AUDIT_T_LOGOUT, 0, NULL);
    set_cookie(c, "", 0);
    web_json(c, 200, json_pack("{s:b}", "logged_out", 1));
}

void web_session_info(web_call *c)
{
    if (web_auth(c, USERS_VIEWER, false) != 0)
        return;
    web_json(c, 200, json_pack("{s:s, s:s, s:s, s:i}", "user", c->user, "role",
                               users_role_name(c->role), "csrf", c->csrf, "idle_timeout_s",
                               (int)c->w->cfg->http.session_idle_s));
}

void web_end_sessions(web *w, const char *user)
{
    pthread_mutex_lock(&w->lock);
    for (size_t i = 0; i < RL_HTTP_SESSIONS_MAX; i++)
        if (w->sessions[i].role && strcmp(w->sessions[i].user, user) == 0)
            memset(&w->sessions[i], 0, sizeof w->sessions[i]);
    pthread_mutex_unlock(&w->lock);
}
