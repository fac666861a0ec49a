/* Socket and TLS plumbing shared by the MLLP server and client. */
#ifndef RADLINK_MLLP_INTERNAL_H
#define RADLINK_MLLP_INTERNAL_H

#include <openssl/ssl.h>
#include <stddef.h>

#include "radlink/mllp.h"

/* A connection's transport: a non-blocking socket, with TLS when ssl != NULL. */
typedef struct mllp_io {
    int fd;
    SSL *ssl;
    bool handshake_done;
    bool want_write; /* TLS needs the socket writable before it can go on */
} mllp_io;

enum { IO_AGAIN = -1, IO_ERROR = -2, IO_EOF = 0 };

/* > 0 bytes, IO_EOF, IO_AGAIN (see want_write), IO_ERROR (detail in err). */
long mllp_io_read(mllp_io *io, char *buf, size_t n, char *err, size_t errn);
long mllp_io_write(mllp_io *io, const char *buf, size_t n, char *err, size_t errn);
/* 1 done, 0 in progress, -1 failed. */
int mllp_io_handshake(mllp_io *io, bool server, char *err, size_t errn);
void mllp_io_close(mllp_io *io);

SSL_CTX *mllp_tls_ctx(const mllp_tls_opts *o, bool server, rl_err *err);
/* The last OpenSSL error in words. */
void mllp_tls_error(char *out, size_t n);
void mllp_set_nonblock(int fd);
/* "ip:port" of a socket address. */
void mllp_addr_str(const void *sa, unsigned salen, char *out, size_t n);

#endif
