/* The network layer's limits, the associations of one send, and the
 * listeners' under pressure (held slots), each with its reason: a part of
 * radlink/limits.h, which includes it, kept apart so that each file stays
 * readable. */
#ifndef RADLINK_LIMITS_NET_H
#define RADLINK_LIMITS_NET_H

/* ---- network layer ---- */

/* Connections the kernel queues on a listening socket before the loop
 * accepts them: a burst of senders reconnecting after a restart, or a flood
 * of connects from hostile hosts, waits there instead of being refused (the
 * listeners accept everything, then shed). The kernel caps it at
 * net.core.somaxconn (4096 on Debian 12). */
#define RL_NET_LISTEN_BACKLOG 4096

/* ---- sending ---- */

/* A study sent to a PACS goes over up to this many associations at once
 * (<pacs associations>, default 2), each with at least
 * RL_SEND_PER_ASSOC_MIN instances: a PACS stores the parts in parallel. A
 * PACS that refuses the extra associations gets their instances afterwards,
 * one association after another. */
#define RL_SEND_ASSOCIATIONS_DEFAULT 2
#define RL_SEND_ASSOCIATIONS_MAX 8
#define RL_SEND_PER_ASSOC_MIN 32

/* ---- held slots: listeners under pressure ---- */

/* Addresses and CIDR blocks in one allow-from list, and its text. */
#define RL_ALLOW_FROM_MAX 64
#define RL_ALLOW_FROM_TEXT_MAX 2048
/* A listener is under pressure when more than half of its connections are
 * open: the connections that have not identified themselves (no complete
 * MLLP frame, association request or HTTP request yet) then get the stress
 * timeout instead of the usual one, seconds (mllp, dicom and http
 * stress-timeout): long enough for a real peer on a slow link to send its
 * first message, short enough that a host holding silent connections
 * frees its slots within seconds. */
#define RL_MLLP_STRESS_TIMEOUT_DEFAULT_S 5
#define RL_DICOM_STRESS_TIMEOUT_DEFAULT_S 2
#define RL_HTTP_STRESS_TIMEOUT_DEFAULT_S 2
#define RL_STRESS_TIMEOUT_MAX_S 3600
/* DICOM and HTTP connections held before their association request or
 * their first request's headers (dicom max-connections, http
 * max-connections): waiting costs a descriptor and no thread, so far more
 * than the threads that serve them; the oldest is evicted to admit a new
 * one when full. */
#define RL_DICOM_MAX_CONNECTIONS_DEFAULT 512
#define RL_DICOM_MAX_CONNECTIONS_CEILING 100000
/* Bytes of a waiting connection's first message looked at (MSG_PEEK) to
 * know it complete: an A-ASSOCIATE-RQ proposing every storage class fits;
 * a larger one is handed over once this much of it is in. */
#define RL_GATE_PEEK_MAX (64 * 1024)
/* A connection refused by allow-from is audited once per address a minute
 * (a flood must not become a flood of audit events); addresses remembered
 * for that, and the addresses an MLLP listener knows as its senders' (those
 * that completed a frame: a partial frame of theirs cut short by pressure
 * is kept in the message log, a stranger's only counted). */
#define RL_DENIED_AUDIT_EVERY_MS 60000
#define RL_DENIED_ADDRESSES 256
#define RL_KNOWN_ADDRESSES 256
/* A gate out of descriptors stops accepting this long (the backlog keeps
 * the connections) instead of asking the kernel again at once, forever. */
#define RL_GATE_ACCEPT_PAUSE_MS 100

#endif
