/* Sending a notification: e-mail over SMTP (STARTTLS, authentication) and
 * the webhook's HTTPS POST through libcurl, syslog as a datagram to the
 * local syslog socket (RFC 3164, as syslog(3) writes it, to a socket the
 * configuration may name). */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "radlink/alert.h"
#include "radlink/version.h"

void alert_global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static const char *headline(alert_kind k)
{
    return k == ALERT_RESOLVED ? "RESOLVED" : k == ALERT_REPEAT ? "STILL FIRING" : "FIRING";
}

static void utc(int64_t us, char *out, size_t n)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void alert_mail_text(const alert_note *n, const char *host, const char *console, rl_buf *out)
{
    char since[32], at[32];
    utc(n->a.since_us, since, sizeof since);
    utc(n->at_us, at, sizeof at);
    rl_buf_printf(out, "Subject: [radlink %s] %s: %s %s\r\n", host, headline(n->kind), n->a.on,
                  n->a.subject);
    rl_buf_add_c(out, "Content-Type: text/plain; charset=utf-8\r\n\r\n");
    if (n->kind == ALERT_RESOLVED)
        rl_buf_printf(out, "Resolved at %s: %s %s no longer holds.\r\nLast said: %s\r\n", at,
                      n->a.on, n->a.subject, n->a.text);
    else
        rl_buf_printf(out, "%s\r\n", n->a.text);
    rl_buf_printf(out, "\r\nAlert:   %s (%s)\r\nSince:   %s\r\nEngine:  %s, radlink %s\r\n",
                  n->a.on, n->a.subject, since, host, RADLINK_VERSION);
    if (n->kind != ALERT_RESOLVED) {
        if (n->a.repeat_s)
            rl_buf_printf(out, "Repeats: every %u s while it holds\r\n", (unsigned)n->a.repeat_s);
        rl_buf_add_c(out, "See:     radlink alerts list; radlink status\r\n");
    }
    if (console && console[0])
        rl_buf_printf(out, "Console: %s\r\n", console);
}

void alert_webhook_json(const alert_note *n, const char *host, const char *console, rl_buf *out)
{
    char since[32], at[32];
    utc(n->a.since_us, since, sizeof since);
    utc(n->at_us, at, sizeof at);
    json_t *o = json_pack("{s:s, s:s, s:b, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "engine",
                          "radlink", "status",
                          n->kind == ALERT_RESOLVED ? "resolved" : "firing", "repeat",
                          n->kind == ALERT_REPEAT, "alert", n->a.on, "subject", n->a.subject,
                          "text", n->a.text, "key", n->a.key, "since", since, "at", at, "host",
                          host, "console", console ? console : "");
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (text)
        rl_buf_add_c(out, text);
    free(text);
}

/* The first line of a secret's file (a password, a token): 0, or -1. */
static int secret(const char *path, char *out, size_t n, char *why, size_t whyn)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(why, whyn, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (!fgets(out, (int)n, f))
        out[0] = '\0';
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

typedef struct reader {
    const rl_buf *b;
    size_t at;
} reader;

static size_t read_cb(char *dst, size_t size, size_t nmemb, void *ctx)
{
    reader *r = ctx;
    size_t left = r->b->len - r->at, n = size * nmemb < left ? size * nmemb : left;
    memcpy(dst, r->b->data + r->at, n);
    r->at += n;
    return n;
}

static size_t drop_cb(char *p, size_t size, size_t nmemb, void *ctx)
{
    (void)p, (void)ctx;
    return size * nmemb;
}

static int curl_done(CURL *h, CURLcode rc, const char *errbuf, char *why, size_t whyn)
{
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    if (rc != CURLE_OK)
        snprintf(why, whyn, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
    else if (code >= 300 && code < 1000 && code != 250)
        snprintf(why, whyn, "the server answered %ld", code);
    curl_easy_cleanup(h);
    return rc == CURLE_OK && (code < 300 || code == 250) ? 0 : -1;
}

static int send_email(const cfg_alerts *a, const alert_note *n, const char *host,
                      const char *console, char *why, size_t whyn)
{
    char pass[RL_ALERT_SECRET_MAX] = "", date[64], from[300];
    if (a->email.password_file[0] && secret(a->email.password_file, pass, sizeof pass, why, whyn))
        return -1;
    CURL *h = curl_easy_init();
    if (!h) {
        snprintf(why, whyn, "libcurl could not start");
        return -1;
    }
    rl_buf msg;
    rl_buf_init(&msg, 2048);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    snprintf(from, sizeof from, "<%s>", a->email.from);
    rl_buf_printf(&msg, "Date: %s\r\nFrom: radlink <%s>\r\nTo: %s\r\nMessage-ID: <%lld.%u.%s@"
                  "radlink>\r\nMIME-Version: 1.0\r\n", date, a->email.from, a->email.to,
                  (long long)n->at_us, n->attempts, n->a.on);
    alert_mail_text(n, host, console, &msg);
    struct curl_slist *rcpt = NULL;
    char to[sizeof a->email.to];
    snprintf(to, sizeof to, "%s", a->email.to);
    for (char *save = NULL, *t = strtok_r(to, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ')
            t++;
        char addr[300];
        snprintf(addr, sizeof addr, "<%.*s>", (int)strcspn(t, " "), t);
        rcpt = curl_slist_append(rcpt, addr);
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    reader r = { &msg, 0 };
    curl_easy_setopt(h, CURLOPT_URL, a->email.url);
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(h, CURLOPT_READDATA, &r);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)RL_ALERT_SEND_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USE_SSL, a->email.tls == ALERT_TLS_NONE  ? (long)CURLUSESSL_NONE
                                         : a->email.tls == ALERT_TLS_TRY ? (long)CURLUSESSL_TRY
                                                                         : (long)CURLUSESSL_ALL);
    if (a->email.ca[0])
        curl_easy_setopt(h, CURLOPT_CAINFO, a->email.ca);
    if (a->email.user[0]) {
        curl_easy_setopt(h, CURLOPT_USERNAME, a->email.user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, pass);
    }
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(rcpt);
    rl_buf_free(&msg);
    memset(pass, 0, sizeof pass);
    return curl_done(h, rc, errbuf, why, whyn);
}

static int send_webhook(const cfg_alerts *a, const alert_note *n, const char *host,
                        const char *console, char *why, size_t whyn)
{
    char token[RL_ALERT_SECRET_MAX] = "", auth[RL_ALERT_SECRET_MAX + 32];
    if (a->webhook.token_file[0] &&
        secret(a->webhook.token_file, token, sizeof token, why, whyn))
        return -1;
    CURL *h = curl_easy_init();
    if (!h) {
        snprintf(why, whyn, "libcurl could not start");
        return -1;
    }
    rl_buf body;
    rl_buf_init(&body, 1024);
    alert_webhook_json(n, host, console, &body);
    struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
    if (token[0]) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        hd = curl_slist_append(hd, auth);
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_URL, a->webhook.url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, rl_buf_cstr(&body));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, drop_cb);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)RL_ALERT_SEND_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
    if (a->webhook.ca[0])
        curl_easy_setopt(h, CURLOPT_CAINFO, a->webhook.ca);
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(hd);
    rl_buf_free(&body);
    memset(token, 0, sizeof token);
    memset(auth, 0, sizeof auth);
    return curl_done(h, rc, errbuf, why, whyn);
}

static int send_syslog(const cfg_alerts *a, const alert_note *n, const char *host, char *why,
                       size_t whyn)
{
    static const int codes[] = { 3, 1, 16, 17, 18, 19, 20, 21, 22, 23 };
    unsigned fac = a->syslog.facility < sizeof codes / sizeof *codes ? a->syslog.facility : 0;
    int sev = n->kind == ALERT_RESOLVED ? 5 /* notice */ : 4 /* warning */;
    char stamp[32], line[RL_ALERT_TEXT_MAX + 400];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%b %e %H:%M:%S", &tm);
    int len = snprintf(line, sizeof line, "<%d>%s radlink[%ld]: alert %s %s %s (host %s): %s",
                       codes[fac] * 8 + sev, stamp, (long)getpid(), alert_kind_name(n->kind),
                       n->a.on, n->a.subject, host, n->a.text);
    if (len < 0 || (size_t)len >= sizeof line)
        len = (int)sizeof line - 1;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s",
             a->syslog.socket[0] ? a->syslog.socket : "/dev/log");
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || sendto(fd, line, (size_t)len, MSG_DONTWAIT, (struct sockaddr *)&sa, sizeof sa) < 0) {
        snprintf(why, whyn, "syslog socket %s: %s", sa.sun_path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

int alert_send(const cfg_alerts *a, unsigned channel, const alert_note *n, const char *host,
               const char *console, char *why, size_t whyn)
{
    why[0] = '\0';
    switch (channel) {
    case ALERT_CH_EMAIL: return send_email(a, n, host, console, why, whyn);
    case ALERT_CH_WEBHOOK: return send_webhook(a, n, host, console, why, whyn);
    case ALERT_CH_SYSLOG: return send_syslog(a, n, host, why, whyn);
    }
    snprintf(why, whyn, "no such channel");
    return -1;
}
