/* When certificates end: the files the configuration names (radlink's own
 * and the CAs it trusts), and what a TLS peer presents (read, not trusted:
 * an expiring certificate is worth saying even when it would fail). */
#include <errno.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "radlink/alert.h"

static int64_t asn1_us(const ASN1_TIME *t)
{
    struct tm tm;
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    return (int64_t)timegm(&tm) * 1000000;
}

int alert_cert_file(const char *path, int64_t *us, char *why, size_t whyn)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(why, whyn, "%s", strerror(errno));
        return -1;
    }
    int64_t soonest = 0;
    X509 *x;
    while ((x = PEM_read_X509(f, NULL, NULL, NULL))) {
        int64_t t = asn1_us(X509_get0_notAfter(x));
        if (t && (!soonest || t < soonest))
            soonest = t;
        X509_free(x);
    }
    ERR_clear_error(); /* the end of the file reads as an error */
    fclose(f);
    if (!soonest) {
        snprintf(why, whyn, "no certificate in it");
        return -1;
    }
    *us = soonest;
    return 0;
}

/* A TCP connection to host:port within timeout_ms: the descriptor, or -1. */
static int dial(const char *host, unsigned port, int timeout_ms, char *why, size_t whyn)
{
    char service[16];
    snprintf(service, sizeof service, "%u", port);
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
    int rc = getaddrinfo(host, service, &hints, &ai);
    if (rc != 0) {
        snprintf(why, whyn, "%s: %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *p = ai; p && fd < 0; p = p->ai_next) {
        fd = socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
            continue;
        if (connect(fd, p->ai_addr, p->ai_addrlen) != 0 && errno != EINPROGRESS) {
            snprintf(why, whyn, "connect: %s", strerror(errno));
            close(fd), fd = -1;
            continue;
        }
        struct pollfd pf = { .fd = fd, .events = POLLOUT };
        int err = 0;
        socklen_t len = sizeof err;
        if (poll(&pf, 1, timeout_ms) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) ||
            err) {
            snprintf(why, whyn, "connect: %s", err ? strerror(err) : "timed out");
            close(fd), fd = -1;
        }
    }
    freeaddrinfo(ai);
    return fd;
}

int alert_cert_peer(const char *host, unsigned port, int timeout_ms, int64_t *us, char *why,
                    size_t whyn)
{
    int fd = dial(host, port, timeout_ms, why, whyn);
    if (fd < 0)
        return -1;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *s = ctx ? SSL_new(ctx) : NULL;
    int rc = -1;
    if (!s) {
        snprintf(why, whyn, "TLS could not start");
        goto out;
    }
    SSL_set_fd(s, fd);
    SSL_set_tlsext_host_name(s, host);
    SSL_set_verify(s, SSL_VERIFY_NONE, NULL);
    int64_t until = (int64_t)time(NULL) * 1000 + timeout_ms;
    for (;;) {
        int r = SSL_connect(s);
        if (r == 1)
            break;
        int e = SSL_get_error(s, r);
        int64_t left = until - (int64_t)time(NULL) * 1000;
        struct pollfd pf = { .fd = fd, .events = e == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN };
        if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) || left <= 0 ||
            poll(&pf, 1, (int)left) != 1) {
            snprintf(why, whyn, "TLS handshake failed");
            goto out;
        }
    }
    X509 *x = SSL_get1_peer_certificate(s);
    if (x) {
        *us = asn1_us(X509_get0_notAfter(x));
        X509_free(x);
        rc = *us ? 0 : -1;
    }
    if (rc != 0)
        snprintf(why, whyn, "it presented no certificate");
out:
    if (s)
        SSL_free(s);
    SSL_CTX_free(ctx);
    ERR_clear_error();
    close(fd);
    return rc;
}
