/* The engine's control socket (adapters/ctl): a unix stream socket in the
 * data directory through which operators' verbs ask the running engine for a
 * state change and get an explicit answer. The server runs on the engine's
 * loop; the client is a blocking call for the CLI.
 *
 * One request per connection, both ways length-prefixed (radlink/rec.h):
 *   request: u32 bytes, u32 argc, argc x str     the verb and its arguments
 *   reply:   u32 bytes, u32 status, str output   status: the CLI exit code
 * The socket file is mode 0600, and the server answers only root and the
 * user the engine runs as (SO_PEERCRED); anyone else gets status 1 and
 * "not allowed", and the refusal is logged. */
#ifndef RADLINK_CTLSOCK_H
#define RADLINK_CTLSOCK_H

#include <stdint.h>

#include "radlink/err.h"
#include "radlink/limits.h"
#include "radlink/loop.h"
#include "radlink/util.h"

/* Arguments in one request (their total bytes: RL_CTL_REQUEST_MAX). */
#define CTLSOCK_MAX_ARGS RL_CTL_MAX_ARGS

/* Path of a socket named `name` for the data directory `data_dir`: in the
 * directory itself when the path fits a unix socket address (107 bytes), else
 * $TMPDIR/radlink-UID/HASH-NAME (the system's temporary directory when
 * $TMPDIR is unset or long) with HASH taken from the directory's absolute path.
 * Engine and CLI compute the same. 0, or RL_E_SYS when the directory cannot
 * be resolved. */
int ctlsock_path(const char *data_dir, const char *name, char *out, size_t n, rl_err *err);

typedef struct ctlsock_server ctlsock_server;

/* A request: argv (argc strings, NUL-terminated) is valid until the reply. */
typedef void (*ctlsock_on_request)(void *ctx, uint64_t conn, int argc, char **argv);

/* Listen on path (a stale socket file is replaced) and watch it on l. */
int ctlsock_listen(loop *l, const char *path, ctlsock_on_request cb, void *ctx,
                   ctlsock_server **out, rl_err *err);
/* A connection refused because its user may not control the engine (the
 * audit trail's security alert): cb(ctx of ctlsock_listen, uid, pid). */
typedef void (*ctlsock_on_refused)(void *ctx, long uid, long pid);
void ctlsock_set_on_refused(ctlsock_server *s, ctlsock_on_refused cb);
/* Answer conn (once) and close it when the answer is written. */
void ctlsock_reply(ctlsock_server *s, uint64_t conn, int status, rl_str output);
/* The earliest time (rl_mono_ms) a connection times out, or -1. */
int64_t ctlsock_deadline_ms(const ctlsock_server *s);
/* Close connections that did not send their request in time. */
void ctlsock_tick(ctlsock_server *s);
/* Stop listening, close every connection, remove the socket file. */
void ctlsock_free(ctlsock_server *s);

/* The client: send argv, wait up to timeout_ms for the answer. *status gets
 * the engine's status and out its output. Returns 0, or CTL_E_NOENGINE,
 * CTL_E_DENIED, CTL_E_IO, CTL_E_TIMEOUT, CTL_E_PROTO with err saying more. */
int ctlsock_call(const char *path, int argc, char *const *argv, int timeout_ms, int *status,
                 rl_buf *out, rl_err *err);

#endif
