/* Plain and TLS reads and writes on non-blocking sockets, and OpenSSL contexts
 * (TLS 1.2 minimum, optional peer verification against a CA file). */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mllp_internal.h"
#include "radlink/log.h"

void mllp_tls_error(char *out, size_t n)
{
    unsigned long e = ERR_get_error();
    if (!e) {
        snprintf(out, n, "%s", errno ? strerror(errno) : "connection closed during TLS");
        return;
    }
    ERR_error_string_n(e, out, n);
    ERR_clear_error();
}

void mllp_set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

void mllp_addr_str(const void *sa, unsigned salen, char *out, size_t n)
{
    char host[NI_MAXHOST], serv[NI_MAXSERV];
    if (getnameinfo(sa, salen, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(out, n, "?");
        return;
    }
    snprintf(out, n, strchr(host, ':') ? "[%s]:%s" : "%s:%s", host, serv);
}

SSL_CTX *mllp_tls_ctx(const mllp_tls_opts *o, bool server, rl_err *err)
{
    char why[256];
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!ctx) {
        mllp_tls_error(why, sizeof why);
        rl_err_set(err, MLLP_E_TLS, -1, "TLS: %s", why);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    const char *what = NULL, *file = NULL;
    if (o->cert && SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1)
        what = "certificate", file = o->cert;
    else if (o->key && SSL_CTX_use_PrivateKey_file(ctx, o->key, SSL_FILETYPE_PEM) != 1)
        what = "private key", file = o->key;
    else if (o->cert && o->key && SSL_CTX_check_private_key(ctx) != 1)
        what = "private key (does not match the certificate)", file = o->key;
    else if (o->ca && SSL_CTX_load_verify_locations(ctx, o->ca, NULL) != 1)
        what = "CA file", file = o->ca;
    else if (server && !o->cert)
        what = "certificate (a TLS listener needs cert and key)", file = "-";
    if (what) {
        mllp_tls_error(why, sizeof why);
        rl_err_set(err, MLLP_E_CONFIG, -1, "TLS %s %s: %s", what, file, why);
        SSL_CTX_free(ctx);
        return NULL;
    }
    struct stat kst;
    if (o->key && stat(o->key, &kst) == 0 && (kst.st_mode & 077))
        log_warn("tls.key", "file=%s mode=%04o text=\"the private key is readable by others: "
                 "chmod 600 it\"", o->key, (unsigned)(kst.st_mode & 07777));
    if (server && o->verify_peer)
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    if (!server) {
        if (!o->ca)
            SSL_CTX_set_default_verify_paths(ctx);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    }
    return ctx;
}

/* Translate an SSL_* result; sets want_write when TLS waits for writability. */
static long tls_result(mllp_io *io, int r, char *err, size_t errn)
{
    int e = SSL_get_error(io->ssl, r);
    io->want_write = false;
    switch (e) {
    case SSL_ERROR_WANT_READ:
        return IO_AGAIN;
    case SSL_ERROR_WANT_WRITE:
        io->want_write = true;
        return IO_AGAIN;
    case SSL_ERROR_ZERO_RETURN:
        return IO_EOF;
    case SSL_ERROR_SYSCALL:
        if (errno == 0 || errno == ECONNRESET)
            return IO_EOF;
        /* fall through */
    default:
        mllp_tls_error(err, errn);
        return IO_ERROR;
    }
}

long mllp_io_read(mllp_io *io, char *buf, size_t n, char *err, size_t errn)
{
    if (io->ssl) {
        ERR_clear_error();
        errno = 0;
        int r = SSL_read(io->ssl, buf, (int)(n > 1 << 30 ? 1 << 30 : n));
        return r > 0 ? r : tls_result(io, r, err, errn);
    }
    ssize_t r = recv(io->fd, buf, n, 0);
    if (r >= 0)
        return (long)r;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return IO_AGAIN;
    snprintf(err, errn, "%s", strerror(errno));
    return errno == ECONNRESET ? IO_EOF : IO_ERROR;
}

long mllp_io_write(mllp_io *io, const char *buf, size_t n, char *err, size_t errn)
{
    if (io->ssl) {
        ERR_clear_error();
        errno = 0;
        int r = SSL_write(io->ssl, buf, (int)(n > 1 << 30 ? 1 << 30 : n));
        if (r > 0)
            return r;
        long t = tls_result(io, r, err, errn);
        if (t == IO_EOF)
            snprintf(err, errn, "connection closed by the peer");
        return t == IO_AGAIN ? IO_AGAIN : IO_ERROR;
    }
    ssize_t r = send(io->fd, buf, n, MSG_NOSIGNAL);
    if (r >= 0)
        return (long)r;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return IO_AGAIN;
    snprintf(err, errn, "%s", strerror(errno));
    return IO_ERROR;
}

int mllp_io_handshake(mllp_io *io, bool server, char *err, size_t errn)
{
    if (!io->ssl || io->handshake_done)
        return 1;
    ERR_clear_error();
    errno = 0;
    int r = server ? SSL_accept(io->ssl) : SSL_connect(io->ssl);
    if (r == 1) {
        io->handshake_done = true;
        io->want_write = false;
        return 1;
    }
    long t = tls_result(io, r, err, errn);
    if (t == IO_AGAIN)
        return 0;
    if (t == IO_EOF)
        snprintf(err, errn, "peer closed the connection during the TLS handshake");
    return -1;
}

void mllp_io_close(mllp_io *io)
{
    if (io->ssl) {
        if (io->handshake_done)
            SSL_shutdown(io->ssl);
        SSL_free(io->ssl);
        io->ssl = NULL;
    }
    if (io->fd >= 0)
        close(io->fd);
    io->fd = -1;
}
