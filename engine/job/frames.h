/* ZeroMQ multipart messages as the dispatcher and the workers exchange them
 * (engine/job/dispatch.c describes the frames). */
#ifndef RADLINK_JOB_FRAMES_H
#define RADLINK_JOB_FRAMES_H

#include <zmq.h>

#include "radlink/err.h"

/* Receive one whole message; keep its first max parts in parts (the rest is
 * dropped); returns how many were kept. Close them with frames_close. */
static inline int frames_recv(void *sock, zmq_msg_t *parts, int max)
{
    int n = 0, more = 1;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, 0) < 0) {
            zmq_msg_close(&m);
            break;
        }
        more = zmq_msg_more(&m);
        if (n < max)
            parts[n++] = m;
        else
            zmq_msg_close(&m);
    }
    return n;
}

static inline void frames_close(zmq_msg_t *parts, int n)
{
    for (int i = 0; i < n; i++)
        zmq_msg_close(&parts[i]);
}

/* Send [id] "" frames...: id (a ROUTER's peer identity) may be NULL. Never
 * blocks: a peer that cannot take it now (gone, or a DEALER whose engine is
 * not connected) makes it fail with EAGAIN; heartbeats, leases and READY
 * again repair what is lost. */
static inline int frames_send(void *sock, const char *id, size_t idn, const char *const *fr,
                              const size_t *ln, int n)
{
    if ((id && zmq_send(sock, id, idn, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) ||
        zmq_send(sock, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return JOB_E_ENDPOINT;
    for (int i = 0; i < n; i++)
        if (zmq_send(sock, fr[i], ln[i], (i + 1 < n ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT) < 0)
            return JOB_E_ENDPOINT;
    return 0;
}

#endif
