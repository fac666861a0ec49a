/* TLS over OpenSSL, and reads and writes on a connection plain or TLS
 * (radlink/net.h): contexts with TLS 1.2 as the minimum and optional peer
 * verification against a CA file, and the non-blocking handshake, read and
 * write that an event loop, or a client with a deadline, drives. */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "radlink/log.h"
#include "radlink/net.h"

struct net_tls_ctx {
    SSL_CTX *ctx;
    bool server;
};

/* The last OpenSSL error in words. */
static void tls_error(char *out, size_t n)
{
    unsigned long e = ERR_get_error();
    if (!e) {
        snprintf(out, n, "%s", errno ? strerror(errno) : "connection closed during TLS");
        return;
    }
    ERR_error_string_n(e, out, n);
    ERR_clear_error();
}

/* Load o's files into ctx: NULL, or what failed and its file. */
static const char *load_files(SSL_CTX *ctx, const net_tls_opts *o, bool server,
                              const char **file)
{
    const char *what = NULL;
    if (o->cert && SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1)
        what = "certificate", *file = o->cert;
    else if (o->key && SSL_CTX_use_PrivateKey_file(ctx, o->key, SSL_FILETYPE_PEM) != 1)
        what = "private key", *file = o->key;
    else if (o->cert && o->key && SSL_CTX_check_private_key(ctx) != 1)
        what = "private key (does not match the certificate)", *file = o->key;
    else if (o->ca && SSL_CTX_load_verify_locations(ctx, o->ca, NULL) != 1)
        what = "CA file", *file = o->ca;
    else if (server && !o->cert)
        what = "certificate (a TLS listener needs cert and key)", *file = "-";
    return what;
}

static net_tls_ctx *ctx_new(const net_tls_opts *o, bool server, rl_err *err)
{
    char why[256];
    net_tls_ctx *t = calloc(1, sizeof *t);
    if (!t) {
        rl_err_set(err, NET_E_TLS, -1, "TLS: out of memory");
        return NULL;
    }
    t->server = server;
    t->ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!t->ctx) {
        tls_error(why, sizeof why);
        rl_err_set(err, NET_E_TLS, -1, "TLS: %s", why);
        free(t);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    const char *file = NULL;
    const char *what = load_files(t->ctx, o, server, &file);
    if (what) {
        tls_error(why, sizeof why);
        rl_err_set(err, NET_E_TLS_CONFIG, -1, "TLS %s %s: %s", what, file, why);
        net_tls_ctx_free(t);
        return NULL;
    }
    struct stat kst;
    if (o->key && stat(o->key, &kst) == 0 && (kst.st_mode & 077))
        log_warn("tls.key", "file=%s mode=%04o text=\"the private key is readable by others: "
                 "chmod 600 it\"", o->key, (unsigned)(kst.st_mode & 07777));
    if (server && o->verify_peer)
        SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    if (!server) {
        if (!o->ca)
            SSL_CTX_set_default_verify_paths(t->ctx);
        SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
    }
    return t;
}

net_tls_ctx *net_tls_server_ctx(const net_tls_opts *o, rl_err *err)
{
    return ctx_new(o, true, err);
}

net_tls_ctx *net_tls_client_ctx(const net_tls_opts *o, rl_err *err)
{
    return ctx_new(o, false, err);
}

void net_tls_ctx_free(net_tls_ctx *t)
{
    if (!t)
        return;
    SSL_CTX_free(t->ctx);
    free(t);
}

const char *net_tls_library_version(void)
{
    return OpenSSL_version(OPENSSL_VERSION);
}

int net_tls_start(net_conn *c, net_tls_ctx *t, const char *name, rl_err *err)
{
    SSL *ssl = SSL_new(t->ctx);
    if (!ssl || SSL_set_fd(ssl, c->fd) != 1) {
        char why[256];
        tls_error(why, sizeof why);
        SSL_free(ssl);
        return rl_err_set(err, NET_E_TLS, -1, "%s", why);
    }
    if (t->server) {
        SSL_set_accept_state(ssl);
    } else {
        SSL_set_connect_state(ssl);
        if (name) {
            SSL_set_tlsext_host_name(ssl, name);
            /* the certificate must name the peer: an IP address, else a host name */
            if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) != 1)
                SSL_set1_host(ssl, name);
        }
    }
    c->ssl = ssl;
    c->handshake_done = false;
    c->want_write = false;
    return 0;
}

/* Translate an SSL_* result; sets want_write when TLS waits for writability. */
static int tls_result(net_conn *c, int r, rl_err *err)
{
    int e = SSL_get_error(c->ssl, r);
    c->want_write = false;
    switch (e) {
    case SSL_ERROR_WANT_READ:
        return NET_AGAIN;
    case SSL_ERROR_WANT_WRITE:
        c->want_write = true;
        return NET_AGAIN;
    case SSL_ERROR_ZERO_RETURN:
        return NET_EOF;
    case SSL_ERROR_SYSCALL:
        if (errno == 0 || errno == ECONNRESET)
            return NET_EOF;
        /* fall through */
    default: {
        char why[256];
        tls_error(why, sizeof why);
        return rl_err_set(err, NET_E_TLS, -1, "%s", why);
    }
    }
}

int net_handshake(net_conn *c, rl_err *err)
{
    if (!c->ssl || c->handshake_done)
        return 0;
    ERR_clear_error();
    errno = 0;
    int r = SSL_do_handshake(c->ssl);
    if (r == 1) {
        c->handshake_done = true;
        c->want_write = false;
        return 0;
    }
    int t = tls_result(c, r, err);
    if (t == NET_EOF)
        return rl_err_set(err, NET_E_TLS, -1,
                          "peer closed the connection during the TLS handshake");
    return t;
}

/* The most one SSL_read or SSL_write takes (they count in int). */
static int tls_len(size_t n)
{
    return (int)(n > 1u << 30 ? 1u << 30 : n);
}

int net_read(net_conn *c, char *buf, size_t n, size_t *got, rl_err *err)
{
    if (c->ssl) {
        ERR_clear_error();
        errno = 0;
        int r = SSL_read(c->ssl, buf, tls_len(n));
        if (r > 0) {
            *got = (size_t)r;
            return 0;
        }
        return tls_result(c, r, err);
    }
    ssize_t r = recv(c->fd, buf, n, 0);
    if (r > 0) {
        *got = (size_t)r;
        return 0;
    }
    if (r == 0)
        return NET_EOF;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return NET_AGAIN;
    if (errno == ECONNRESET)
        return NET_EOF;
    return rl_err_set(err, NET_E_IO, -1, "%s", strerror(errno));
}

int net_write(net_conn *c, const char *buf, size_t n, size_t *put, rl_err *err)
{
    if (c->ssl) {
        ERR_clear_error();
        errno = 0;
        int r = SSL_write(c->ssl, buf, tls_len(n));
        if (r > 0) {
            *put = (size_t)r;
            return 0;
        }
        int t = tls_result(c, r, err);
        if (t == NET_EOF)
            return rl_err_set(err, NET_E_TLS, -1, "connection closed by the peer");
        return t;
    }
    ssize_t r = send(c->fd, buf, n, MSG_NOSIGNAL);
    if (r >= 0) {
        *put = (size_t)r;
        return 0;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return NET_AGAIN;
    return rl_err_set(err, NET_E_IO, -1, "%s", strerror(errno));
}

int net_wait(const net_conn *c, bool writing, int64_t deadline_ms, int cancel_fd)
{
    return net_wait_fd(c->fd, c->ssl ? c->want_write : writing, deadline_ms, cancel_fd);
}

const char *net_tls_version(const net_conn *c)
{
    return c->ssl && c->handshake_done ? SSL_get_version(c->ssl) : "";
}

const char *net_tls_verify_error(const net_conn *c)
{
    if (!c->ssl)
        return NULL;
    long v = SSL_get_verify_result(c->ssl);
    return v != X509_V_OK ? X509_verify_cert_error_string(v) : NULL;
}

void net_close(net_conn *c)
{
    if (c->ssl) {
        if (c->handshake_done)
            SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}
