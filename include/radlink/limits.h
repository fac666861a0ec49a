/* Every hard limit of radlink in one place, each with the reason it exists.
 * Limits marked "configurable" are defaults that the config file can change;
 * the rest protect internal data structures and are compile-time. */
#ifndef RADLINK_LIMITS_H
#define RADLINK_LIMITS_H

/* ---- HL7 and MLLP ---- */

/* Largest HL7 message (and MLLP frame) accepted, in bytes. Radiology orders are
 * a few kB; ORU reports with embedded PDFs can reach several MB. Configurable
 * (mllp max_frame). */
#define RL_MAX_FRAME_DEFAULT (16u * 1024u * 1024u)

/* Absolute ceiling for the configurable frame size, so a typo in the config
 * cannot make one connection allocate gigabytes. */
#define RL_MAX_FRAME_CEILING (256u * 1024u * 1024u)
/* MLLP: connections one client address may hold at once, and the memory all
 * frames in flight may take together (then the frame that passes it is
 * given up and its sender must send it again). A connection's frame buffer
 * larger than RL_MLLP_KEEP_BUFFER is freed once its frame is handed over. */
#define RL_MLLP_MAX_PER_ADDRESS_DEFAULT 64
#define RL_MLLP_MAX_BUFFERED_MB_DEFAULT 256
#define RL_MLLP_KEEP_BUFFER (1u << 20)
/* Less free space than this under the store or the spool, after a failed
 * write, is reported as a full disk. */
#define RL_DISK_LOW_BYTES (1u << 20)

/* Segments in one message. A 20-OBX report has ~25; 10,000 covers embedded
 * document reports split into OBX lines while bounding the segment index. */
#define RL_MAX_SEGMENTS 10000u

/* Highest field, repetition, component or subcomponent number a path may name.
 * HL7 segments define fewer than 100 fields; bounded so paths stay cheap. */
#define RL_MAX_PATH_INDEX 9999u

/* Bytes a decoded value may grow to inside one message's arena (escapes such as
 * \.sp 99\ expand). Bounded so a hostile escape cannot exhaust memory. */
#define RL_MAX_ARENA_BYTES (64u * 1024u * 1024u)

/* Concurrent MLLP connections. Configurable (mllp max_connections). */
#define RL_MAX_CONNECTIONS_DEFAULT 256u

/* Seconds an MLLP connection may stay silent before it is closed, and seconds a
 * partially received frame may take to complete. Configurable. */
#define RL_IDLE_TIMEOUT_DEFAULT_S 600u
#define RL_READ_TIMEOUT_DEFAULT_S 60u

/* MLLP listeners in one config: a site has a plain and a TLS one, maybe one
 * per sending system; eight bounds the config struct. */
#define RL_MAX_LISTENERS 8

/* Outbound MLLP destinations (config and route file together). Each has a
 * sender thread; 32 covers a PACS, a reporting system and a few archives
 * per site with room to spare. */
#define RL_MAX_DESTS 32

/* The first retry of a message a destination did not answer waits this long;
 * then the wait doubles up to the destination's max-retry-delay. */
#define RL_FORWARD_FIRST_RETRY_MS 1000

/* ---- files written by people ---- */

/* A path in the configuration (data directory, certificates, route file):
 * bounded so the config struct is plain data; deeper paths are refused with
 * file:line. */
#define RL_CFG_PATH_MAX 512

/* Size of config and route files: both are written by people, so this bound
 * only stops pathological input. Nesting depth is bounded by libxml2's own
 * limit (256) and by the schemas. */
#define RL_MAX_XML_BYTES (8u * 1024u * 1024u)

/* ---- the worklist ---- */

/* Attributes in one worklist entry or query: the Modality Worklist model
 * radlink serves has about 60; 128 leaves room for a query asking for more
 * return keys than the model holds (they come back empty). */
#define RL_WL_MAX_ATTRS 128

/* An entry's key (accession NUL requested procedure ID NUL step ID: 16 + 16
 * + 16 characters by PS3.5), and an index key built from it: 200 bytes. */
#define RL_WL_KEY_MAX 200
/* A DICOM dump read by `radlink wl import`: a worklist entry's dump is a few
 * kilobytes; anything this large is not one. */
#define RL_WL_FILE_MAX (4u * 1024u * 1024u)
/* Scheduled Procedure Step items one imported file may hold (an entry each). */
#define RL_WL_FILE_STEPS 16
/* Orders listed as candidates on an unmatched study's note: enough for an
 * administrator to choose; the count is kept past it. */
#define RL_RECON_CANDIDATES_MAX 16

/* ---- DICOM ---- */

/* Calling AE titles in the allow list (config <dicom><allow>): modalities of
 * a large department; a linear search per association stays trivial. */
#define RL_DICOM_ALLOW_MAX 64

/* DICOM nodes studies are sent to (config <dicom><pacs> and <node>): a
 * primary PACS, a backup, AI nodes, a breast archive, a research PACS...
 * what one department's routes name; each is one association per job
 * attempt. */
#define RL_MAX_PACS 16
#define RL_DICOM_NODES_MAX RL_MAX_PACS
/* Destinations one instance may go to (sends of the DICOM routes that take
 * it): at most every node. */
#define RL_DICOM_SENDS_MAX RL_DICOM_NODES_MAX
/* Why an instance is held on the exception list ("no DICOM route takes it
 * (default=\"hold\")", a coercion's failure with its line): kept with it. */
#define RL_STUDY_HELD_WHY_SIZE 240
/* An MPPS forwarded to a PACS (<pacs mpps="true">): the association and each
 * answer may take this long; a PACS that cannot be reached is tried again
 * after 1 s, doubling up to the second figure. */
#define RL_MPPS_FORWARD_TIMEOUT_S 30
#define RL_MPPS_FORWARD_MAX_RETRY_S 300

/* ---- jobs and workers ---- */

/* A job message (one attempt: the study's instance paths and the changes)
 * may not pass this many bytes; about 150,000 instances. A worker refuses a
 * larger message (ZMQ_MAXMSGSIZE), the engine fails such a job with the
 * reason instead of sending it. */
#define RL_JOB_MSG_MAX (32u * 1024u * 1024u)

/* A worker's message to the engine (a DONE's result, a FAIL's reason): text
 * for people. The engine's ROUTER refuses larger ones (ZMQ_MAXMSGSIZE). */
#define RL_JOB_REPLY_MAX (64u * 1024u)

/* Attribute changes in one job: the reconciled attributes are eight. */
#define RL_JOB_SETS_MAX 32
/* Distinct DICOM route programs in one job (one study to one node): one
 * per route that sent its instances there, a handful in practice. */
#define RL_JOB_PROGS_MAX 64

/* A job record (its error text, result and worker name): kept small because
 * the loop rewrites it at every transition. */
#define RL_JOB_RECORD_MAX (64u * 1024u)

/* A result or error text a job record keeps (a worker's DONE or FAIL, the
 * reason a job died): longer ones are cut here, so the record stays far
 * below RL_JOB_RECORD_MAX whatever a worker sends. */
#define RL_JOB_TEXT_MAX 4096

/* Turns an outcome is offered to the store when recording it fails (a full
 * map, an I/O error) before the engine gives up on it: a DONE that cannot be
 * recorded becomes a failed attempt with the reason, which is retried. */
#define RL_JOB_OUTCOME_TRIES 5

/* How long a job waits for a PACS's storage commitment report (the PACS
 * sends it on an association of its own, often within a second) before it
 * calls the send unverified; <pacs commit-timeout> overrides it. */
#define RL_COMMIT_TIMEOUT_DEFAULT_S 30

/* Storage commitment reports the engine keeps for a worker that has not
 * yet said it waits for them, and how long. */
#define RL_COMMIT_REPORTS_MAX 64
#define RL_COMMIT_REPORT_KEEP_S 600

/* A job's subject (a Study Instance UID: 64 characters by PS3.5). */
#define RL_JOB_SUBJECT_MAX 255

/* Unfinished jobs of one subject: the rules keep at most three (one running,
 * one follow-up, one failed waiting to retry); a store that breaks that is
 * refused rather than scanned without end. */
#define RL_JOB_PER_SUBJECT_MAX 8

/* A failed attempt waits 2^attempts seconds before the next, at most this. */
#define RL_JOB_BACKOFF_MAX_S 300

/* Jobs one worker may hold at once: its credit (READY n) is capped here, so a
 * worker cannot take the whole queue and then vanish with it. */
#define RL_WORKER_CREDIT_MAX 4

/* Workers connected at once (local and remote); bounds the dispatcher's table. */
#define RL_WORKERS_MAX 64

/* Local worker processes `radlink serve` may run (config jobs workers). */
#define RL_LOCAL_WORKERS_MAX 64

/* Public keys of remote workers allowed in (config <jobs><worker-key>). */
#define RL_WORKER_KEYS_MAX 32

/* Engine and workers send each other a heartbeat this often; a worker sends
 * them while it works, a long C-STORE included. */
#define RL_HEARTBEAT_MS 1000

/* A worker silent this long is lost and its attempts fail. Configurable (jobs
 * worker-timeout); ten heartbeats survive a busy machine. */
#define RL_WORKER_TIMEOUT_DEFAULT_S 10

/* A study's job starts once no instance of it came for this long, so a
 * 500-instance CT makes one job. Configurable (jobs study-stable). */
#define RL_STUDY_STABLE_DEFAULT_S 5

/* A local worker that dies is started again after 1 s, doubling up to this;
 * one that ran this long is forgiven. */
#define RL_WORKER_RESTART_MAX_MS 60000

/* Simultaneous DICOM associations, C-FIND matches before A700 (a modality
 * should narrow its query), and seconds an association may be silent.
 * Configurable (dicom max-associations, max-responses, timeout). */
#define RL_DICOM_MAX_ASSOCIATIONS_DEFAULT 16
#define RL_DICOM_MAX_ASSOCIATIONS_CEILING 1000
#define RL_DICOM_MAX_RESPONSES_DEFAULT 1000
/* A DICOM connection finishes its TLS handshake and sends its association
 * request within this, or is closed; one address holds at most this many
 * connections to a listener at once. */
#define RL_DICOM_ASSOC_TIMEOUT_DEFAULT_S 10
#define RL_DICOM_MAX_PER_ADDRESS_DEFAULT 8
#define RL_DICOM_TIMEOUT_DEFAULT_S 60

/* ---- the engine ---- */

/* A retransmission within this window is recognised and not applied again.
 * Configurable (hl7 dedup-window): a day covers a RIS resending after an
 * outage. */
#define RL_DEDUP_WINDOW_DEFAULT_S 86400
/* The file drop is watched with inotify; this scan catches what inotify does
 * not see (a network file system). */
#define RL_INBOX_POLL_DEFAULT_S 5
/* How often the engine clears the LMDB reader slots of processes that died
 * mid-read (a killed CLI reader would pin an old snapshot: the file grows). */
#define RL_READER_CHECK_S 10
/* An error that repeats every turn (a full store) is logged at most this
 * often, with the count of the ones in between. */
#define RL_REPEATED_ERROR_LOG_MS 1000

/* Security alerts recorded in the audit trail per second (bad TLS
 * handshakes, refused AE titles, refused control requests): an attacker's
 * flood must not fill the store; the ones past it are counted in the next
 * recorded alert's text. */
#define RL_AUDIT_ALERTS_PER_S 20
/* Shipping audit events to the collector: events written at once, the
 * time a connection must stay up after a write before those events count
 * as delivered (RFC 5425 has no acknowledgement), the connect timeout. */
#define RL_AUDIT_SHIP_BATCH 256
#define RL_AUDIT_CONFIRM_MS 1000
#define RL_AUDIT_CONNECT_TIMEOUT_S 5

/* The HTTP listener (metrics, health, API, console). Connections: open at
 * once, a thread each (a scrape, a few operators' browsers with their six
 * keep-alive connections each); configurable (http max-connections). Body: the largest request body read (JSON actions and
 * login forms are small; anything larger is refused 413, unread). A request
 * that does not arrive whole in the timeout is dropped. */
#define RL_HTTP_PORT_DEFAULT 8080
#define RL_HTTP_CONNECTIONS_DEFAULT 64
#define RL_HTTP_BODY_MAX (64 * 1024)
#define RL_HTTP_REQUEST_TIMEOUT_MS 10000
/* Console sessions: idle seconds before a session ends (http session-idle),
 * hours after which it ends anyway, sessions held at once (the oldest goes
 * first). Lockout: failed logins for one user in a row (http
 * lockout-failures) lock it for seconds (http lockout); user names tracked
 * at once (unknown names too, so that a lockout tells nothing about which
 * names exist). Logins hashing at
 * once: scrypt takes 32 MiB per hash, so a flood of logins cannot take the
 * engine's memory. */
#define RL_HTTP_SESSION_IDLE_DEFAULT_S (30 * 60)
#define RL_HTTP_SESSION_MAX_H 12
#define RL_HTTP_SESSIONS_MAX 256
#define RL_HTTP_LOCKOUT_FAILURES_DEFAULT 5
#define RL_HTTP_LOCKOUT_DEFAULT_S (15 * 60)
#define RL_HTTP_LOCKOUT_NAMES 512
#define RL_HTTP_LOGINS_AT_ONCE 2
/* Users in the users file, and scrypt's cost (RFC 7914): N = 2^15, r = 8,
 * p = 1 is 32 MiB and about 0.1 s per hash, the parameters OWASP lists for
 * scrypt. */
#define RL_USERS_MAX 256
#define RL_PASSWORD_MIN 8
#define RL_SCRYPT_N 32768
#define RL_SCRYPT_R 8
#define RL_SCRYPT_P 1
/* Message series kept apart in /metrics (listener x type x outcome): a
 * sender inventing types must not grow the scrape without bound; the rest
 * are counted under type="other". */
#define RL_METRICS_MSG_SERIES 256

/* Address space LMDB may map, in MiB (the store cannot grow past it).
 * Configurable (store map-size-mb); 16 GiB of address space costs nothing
 * until it is used. */
#define RL_STORE_MAP_SIZE_DEFAULT_MB 16384
/* The map grows itself (doubling) when less than a tenth of it, or less
 * than RL_STORE_GROW_MIN_FREE_MB, is left, up to a ceiling (store
 * max-map-size-mb); checked at most once a second. */
#define RL_STORE_MAP_CEILING_DEFAULT_MB (256 * 1024)
#define RL_STORE_GROW_MIN_FREE_MB 64
#define RL_STORE_GROW_CHECK_MS 1000

/* Local worker processes and attempts before a job is dead. Configurable
 * (jobs workers, max-attempts). */
#define RL_LOCAL_WORKERS_DEFAULT 2
#define RL_JOB_ATTEMPTS_DEFAULT 5

/* Group commit: before committing a turn, the loop waits at most this long
 * for the inputs that are surely coming (the next message of each connection
 * it just answered, the instance of each association in a C-STORE), so they
 * share this turn's fsync instead of paying for the next one. An fsync costs
 * about a millisecond; a client answers in tens of microseconds. */
#define RL_GATHER_MAX_US 400
/* The same while DICOM threads are filing instances (each syncs its file and
 * directory, about a millisecond here): their instances come a little later. */
#define RL_GATHER_FILING_MAX_US 1500
/* Connections the gathering counts (a turn answers a few dozen at most). */
#define RL_GATHER_CONNS_MAX 256

/* At shutdown the engine answers what it has read and what DICOM threads
 * and senders still bring for at most this long. */
#define RL_SHUTDOWN_FLUSH_MS 5000

/* A starting engine waits this long for the data directory's lock, which a
 * command changing the store directly (no engine ran) holds a moment. */
#define RL_LOCK_WAIT_MS 1000
/* serve --standby: how often the data directory's lock is tried while
 * another engine holds it (the takeover's delay is at most this, plus the
 * engine's start). */
#define RL_STANDBY_POLL_MS 20

/* Then how long the engine waits for a destination's sender thread still
 * ending (one inside a name lookup cannot be cancelled). */
#define RL_SENDER_EXIT_WAIT_MS 2000

/* Control socket: a request is a verb and its arguments (a route file path, a
 * message for a dry run); a reply carries a replay trace. Clients connected at once, and how
 * long one may take to send its request. */
/* A dry run (`radlink hl7 ack`, `routes test`) carries the message in hex:
 * twice the default frame limit, and room for the rest. */
#define RL_CTL_REQUEST_MAX (2u * RL_MAX_FRAME_DEFAULT + 64u * 1024u)
#define RL_CTL_REPLY_MAX (4u * 1024u * 1024u)
#define RL_CTL_CONNECTIONS_MAX 16
#define RL_CTL_MAX_ARGS 32
#define RL_CTL_READ_TIMEOUT_MS 5000

/* radlink check: problems named one by one (the rest are counted). */
#define RL_CHECK_LINES 100

/* Retention: a pass starts every RL_RETENTION_EVERY_DEFAULT_S (retention
 * every); each write transaction removes at most RL_RETENTION_BATCH records,
 * and while work is left the next one follows after RL_RETENTION_AGAIN_MS
 * (turns go between them). */
#define RL_RETENTION_EVERY_DEFAULT_S 60
#define RL_RETENTION_BATCH 2000
#define RL_RETENTION_AGAIN_MS 20
/* What retention removes, counted apart: messages, worklist entries, jobs,
 * studies, instances, audit events. */
#define RL_RETENTION_KINDS 6
/* `radlink retention run`: passes until nothing is left to remove, at most
 * this many (each at most RL_RETENTION_BATCH removals). */
#define RL_RETENTION_RUN_PASSES 10000

/* ---- operator plane ---- */

/* Arguments one verb declares (radlink/ops.h): the most any has is about a
 * dozen (serve). */
#define RL_OP_ARGS_MAX 24
/* JSON nesting a view builds (a study: object, list, row, member). */
#define RL_VIEW_DEPTH_MAX 8
/* A failure's words (a path and a reason). */
#define RL_VIEW_FAIL_MAX 4096
/* A time as text: ISO 8601 with microseconds and zone, or local time. */
#define RL_TIME_TEXT_MAX 40
/* A number as text (a 64-bit integer, a double with %g). */
#define RL_NUM_TEXT_MAX 32
/* A verb's full name ("queue retry") and a CLI path ("radlink queue retry"). */
#define RL_OP_NAME_MAX 64
/* The CLI and a running engine: how long an answer may take (a replay, a
 * reload of a large route file), how often a busy socket or lock is asked
 * again and with what pause (an engine starting, another command changing
 * the store for a moment). */
#define RL_CLI_REQUEST_TIMEOUT_MS 60000
#define RL_CLI_ASK_TRIES 40
#define RL_CLI_LOCK_TRIES 100
#define RL_CLI_ASK_PAUSE_MS 50
/* A dry run's store where the data directory has none: small, removed after. */
#define RL_DRY_STORE_MAP_MB 64u
/* A host name as the command line takes it (DNS names are at most 253). */
#define RL_HOST_MAX 256
/* Files the HL7 tools read (`hl7 get|show|ack`, `send`) may hold many
 * messages: their size is capped. */
#define RL_HL7_FILE_MAX (256u * 1024u * 1024u)
/* `wl import`: the arena a file's entries are read into (it grows), and the
 * warnings one file may collect. */
#define RL_WL_IMPORT_ARENA 16384
#define RL_WL_IMPORT_WARN_MAX 4096
/* A route file's errors as one text (every error of a file, one a line). */
#define RL_ROUTE_ERRORS_MAX (64 * 1024)
/* An API path's arguments ({NAME} segments) and the bytes they may take. */
#define RL_WEB_PARAMS_MAX 4
#define RL_WEB_PATH_MAX 1024
/* A path made from a configured one and a name of radlink's own
 * ("/spool/incoming", "/serve.lock", a spool file's name). */
#define RL_PATH_SUFFIX_MAX 128
/* The engine's turn: the arena frames are copied into, a chunk at a time. */
#define RL_TURN_ARENA_CHUNK (1u << 20)
/* The loop sleeps at most this long even when nothing is due. */
#define RL_LOOP_WAIT_MAX_MS 3600000
/* A peer's address as text ("[ipv6]:port") and why a frame was cut short. */
#define RL_PEER_TEXT_MAX 64
#define RL_FRAME_WHY_MAX 96
/* A listener's port given as "auto": the system picks a free one when the
 * engine binds it, and `radlink status` says which (a value no TCP port has). */
#define RL_PORT_AUTO 65536u
/* A console password as typed (longer lines are cut). */
#define RL_PASSWORD_MAX 256
/* `radlink status`: destinations summed one by one (more are left out). */
#define RL_STATUS_DESTS_MAX 64
/* A tree label of `hl7 show` ("OBX[12]-5[3].2.1"). */
#define RL_HL7_LABEL_MAX 48
/* JSON list pages: the default page and the largest one a request may ask. */
#define RL_API_LIST_DEFAULT 50
#define RL_API_LIST_MAX 1000
/* ---- configuration ---- */

/* Bounds and defaults of the configuration's keys that had none above; the
 * table in engine/cfg/keys.c names each beside its key. A bound is there so
 * a typo (a missing unit, an extra digit) is refused with file:line instead
 * of starting an engine that cannot work. */

/* Default ports: IANA's registrations for HL7 over MLLP (2575) and DICOM
 * (11112); syslog over TLS is 6514 (RFC 5425). */
#define RL_MLLP_PORT_DEFAULT 2575
#define RL_DICOM_PORT_DEFAULT 11112
#define RL_AUDIT_SYSLOG_PORT_DEFAULT 6514

/* Sizes in MiB (store map-size-mb and max-map-size-mb, retention
 * messages-max-mb): 16 TiB is past any disk a store lives on. */
#define RL_CFG_MIB_MAX (1u << 24)
/* MLLP (mllp max-connections, max-per-address): a thread-free loop takes
 * many, but past 100,000 the descriptors run out first; frames in flight
 * (max-buffered-mb) up to 1 TiB; a silent connection is closed within a week
 * (idle-timeout) and a partial frame within a day (read-timeout). */
#define RL_MAX_CONNECTIONS_CEILING 100000u
#define RL_MLLP_MAX_PER_ADDRESS_CEILING 100000u
#define RL_MLLP_MAX_BUFFERED_MB_CEILING (1u << 20)
#define RL_IDLE_TIMEOUT_MAX_S (7u * 86400u)
#define RL_READ_TIMEOUT_MAX_S 86400u
/* A retransmission more than a year late is a new message (hl7
 * dedup-window); the window's index must not grow without end. */
#define RL_DEDUP_WINDOW_MAX_S (365u * 86400u)

/* DICOM: a connection holds an accepting thread for at most an hour before
 * its association request (association-timeout); a million matches is more
 * than any worklist (max-responses: a query should be narrowed); an
 * association silent for a day is gone (timeout); a storage commitment
 * report awaited for more than an hour holds the study's job too long
 * (<pacs commit-timeout>). */
#define RL_DICOM_ASSOC_TIMEOUT_MAX_S 3600
#define RL_DICOM_MAX_RESPONSES_CEILING 1000000
#define RL_DICOM_TIMEOUT_MAX_S 86400
#define RL_COMMIT_TIMEOUT_MAX_S 3600

/* Jobs: with the backoff capped at RL_JOB_BACKOFF_MAX_S, 1,000 attempts
 * (max-attempts) are about three days of retrying; a worker silent for an
 * hour (worker-timeout) or a study waiting a day for its next instance
 * (study-stable) is not coming back. */
#define RL_JOB_ATTEMPTS_MAX 1000
#define RL_WORKER_TIMEOUT_MAX_S 3600
#define RL_STUDY_STABLE_MAX_S 86400

/* Retention periods: 100 years is past every record-keeping rule and still
 * fits the 32-bit seconds the retention settings keep. A study unmatched
 * for a year (recon forward-after) is not waiting for its order. */
#define RL_RETENTION_MAX_S (100u * 366u * 86400u)
#define RL_UNMATCHED_FORWARD_MAX_S (366u * 86400u)

/* The file drop is scanned at least once a day (inbox poll). */
#define RL_INBOX_POLL_MAX_S 86400

/* HTTP: a thread per connection, so at most 1,024 (http max-connections);
 * a lockout after more than 100 failures (lockout-failures) protects
 * nothing; a session idle, or a lockout, lasts at most a day. */
#define RL_HTTP_CONNECTIONS_MAX 1024
#define RL_HTTP_LOCKOUT_FAILURES_MAX 100
#define RL_HTTP_SESSION_IDLE_MAX_S 86400
#define RL_HTTP_LOCKOUT_MAX_S 86400

/* An outbound MLLP destination (<destination ack-timeout max-retry-delay>,
 * read by the route module for route files and the configuration alike):
 * an ACK awaited 30 s, retries spaced up to 60 s, either at most a day
 * (engine/route/load.c still spells these as literals: a larger value
 * falls back to the default). */
#define RL_DEST_ACK_TIMEOUT_DEFAULT_S 30
#define RL_DEST_RETRY_DELAY_DEFAULT_S 60
#define RL_DEST_TIMEOUT_MAX_S 86400

/* ---- network layer and held slots: radlink/limits_net.h ---- */

#include "radlink/limits_net.h"

/* ---- DICOM bridge ---- */

/* Error Comment (0000,0902), the reason a DICOM response carries, is LO: 64
 * characters (PS3.7 E.1). Longer reasons are cut there for the peer; the
 * log keeps them whole. */
#define RL_DICOM_ERROR_COMMENT_MAX 64
/* Why the engine refused a received instance or could not file it
 * (dicom_scp_cfg.on_instance): a sentence for the log; the peer sees its
 * first RL_DICOM_ERROR_COMMENT_MAX characters. */
#define RL_DICOM_REFUSAL_MAX 300
/* Sequences on one level of a worklist entry that an answer or a .wl file
 * fills: the worklist model has five (four at the top, one in the step). */
#define RL_DICOM_WL_SEQS_MAX 16
/* The labels of one DICOM series in /metrics (service="...",outcome="..."):
 * the longest service and outcome names are 17 and 7 characters. */
#define RL_DICOM_METRIC_LABELS_MAX 96
/* `radlink wl import` looks at a file's first bytes to tell a dump (text)
 * from a DICOM file (PS3.10 7.1: a 128-byte preamble, then "DICM"); a dump
 * is then read in pieces of the second size, up to RL_WL_FILE_MAX. */
#define RL_DICOM_WL_SNIFF_BYTES 4096
#define RL_DICOM_WL_READ_CHUNK 65536
/* The first failure of a C-STORE to a PACS, as the job's reason: a SOP
 * Instance UID (64 characters, PS3.5 9.1) and the status. */
#define RL_DICOM_SEND_ERROR_MAX 160
/* What a send or a conversion did besides what was asked, for a job's
 * result ("3 sent as Explicit VR Little Endian: AI refused ..."). */
#define RL_DICOM_SEND_NOTE_MAX 240
/* A date and time radlink writes into a corrected instance (DT: 26
 * characters at most, PS3.5 6.2), with room for a year past 9999. */
#define RL_DICOM_DT_MAX 40

/* ---- engine process, operator plane, storage ---- */

/* Fixed formats, sized by what they hold. n bytes written in hex, and NUL. */
#define RL_HEX_SIZE(n) (2 * (n) + 1)
/* A big-endian 64-bit integer as LMDB keys hold it (radlink/rec.h): byte
 * order is numeric order. */
#define RL_BE64_BYTES 8
/* A SHA-256 in hex (64 digits) and NUL: route files, backups' checksums. */
#define RL_SHA256_HEX_SIZE RL_HEX_SIZE(32)
/* A DICOM UID: 64 characters (PS3.5 6.2, VR UI) and NUL. */
#define RL_UID_SIZE 65
/* A DICOM AE title: 16 characters (PS3.5 6.2, VR AE) and NUL. */
#define RL_AE_TITLE_SIZE 17
/* A DICOM code string such as a modality: 16 characters (PS3.5 6.2, VR CS)
 * and NUL. */
#define RL_CS_SIZE 17
/* A UUID's bytes (RFC 4122), the UUID as a decimal number (39 digits and
 * one more), and a UID made of it: "2.25.", the digits (PS3.5 B.2). */
#define RL_UUID_BYTES 16
#define RL_UUID_DIGITS_MAX 40
#define RL_UUID_UID_SIZE (5 + RL_UUID_DIGITS_MAX)
/* An HL7 acknowledgment code (MSA-1: AA, AE, AR, CA, CE, CR) and NUL. */
#define RL_ACK_CODE_SIZE 3
/* A date as YYYYMMDD (DICOM DA, HL7 DT), and an HL7 timestamp to the second
 * (YYYYMMDDHHMMSS), each with NUL and room. */
#define RL_DATE_TEXT_MAX 16
#define RL_HL7_TS_TEXT_MAX 20
/* A CURVE key in Z85 (40 characters, zmq_curve_keypair) and NUL. */
#define RL_CURVE_KEY_SIZE 41
/* A process id as text, as an audit event's alternative user id. */
#define RL_PID_TEXT_MAX 24

/* Bytes read at once from a file or a socket into one buffer (a file copied
 * or read whole, the control socket's answer). */
#define RL_IO_CHUNK (1u << 16)
/* An absolute path as realpath(3) gives it (PATH_MAX on Linux). */
#define RL_ABS_PATH_MAX 4096
/* A unix socket of the data directory (ctlsock_path: the directory's path
 * and a name), and the local workers' endpoint (ipc:// and that path). */
#define RL_SOCK_PATH_MAX 700
#define RL_JOBS_ENDPOINT_MAX 700
/* The path a control socket listens on, as the server keeps it (a unix
 * socket address holds 107 bytes), and the private directory of sockets
 * of deep data directories (/tmp/radlink-UID). */
#define RL_CTL_LISTEN_PATH_MAX 256
#define RL_CTL_TMP_DIR_MAX 64
/* A file made from the data directory's absolute path (DATA/users). */
#define RL_DATA_PATH_MAX 1100
/* Paths made from a configured one and names of radlink's own, with room
 * for them: a short name ("/store", "/users", "/lockfile", "/done"), the
 * engine's lock file ("/serve.lock"), a file of a configured directory (a
 * name is at most 255 bytes), such a file moved to a subdirectory (".N"
 * added when the name is taken) and its report (".report" added); a spool
 * file's directory, cut from its path. */
#define RL_CFG_SUBPATH_MAX (RL_CFG_PATH_MAX + 16)
#define RL_SERVE_LOCK_PATH_MAX (RL_CFG_PATH_MAX + 32)
#define RL_CFG_DIR_FILE_MAX (RL_CFG_PATH_MAX + 300)
#define RL_INBOX_MOVED_PATH_MAX (RL_CFG_PATH_MAX + 340)
#define RL_INBOX_REPORT_PATH_MAX (RL_CFG_PATH_MAX + 360)
#define RL_SPOOL_DIR_MAX (RL_CFG_PATH_MAX * 2)
/* The store's directory (DATA/store), kept by the open store. */
#define RL_STORE_PATH_MAX 600
/* A file of the DICOM spool's incoming directory (DATA/spool/incoming/NAME). */
#define RL_SPOOL_FILE_PATH_MAX 1200
/* The users file's temporary copy, renamed over it (its path and ".new"). */
#define RL_USERS_TMP_PATH_MAX 1200
/* Backup and restore: a path inside a backup or a data directory, a line of
 * MANIFEST ("spool PATH") and one of MANIFEST.sha256 (a SHA-256 in hex, two
 * spaces, a path). */
#define RL_BACKUP_PATH_MAX 4200
#define RL_BACKUP_MANIFEST_LINE_MAX (RL_BACKUP_PATH_MAX + 64)
#define RL_BACKUP_SUMS_LINE_MAX (RL_BACKUP_PATH_MAX + 80)

/* Control socket: a reply's words (the reply less its frame: length and
 * status), a request's bytes read at once, and those of a client that
 * should be quiet (only its EOF matters). */
#define RL_CTL_OUTPUT_MAX (RL_CTL_REPLY_MAX - 64)
#define RL_CTL_READ_CHUNK 4096
#define RL_CTL_DRAIN_CHUNK 64
/* The answer to a client whose user may not control the engine. */
#define RL_CTL_REFUSED_TEXT_MAX 160

/* A log line (longer ones are cut), and an error's message for people
 * (rl_err). */
#define RL_LOG_LINE_MAX 2048
#define RL_ERR_MSG_MAX 384
/* Why the command queue refuses commands (it closed at shutdown). */
#define RL_CMDQ_WHY_MAX 200
/* Events one epoll wait takes; the others wait for the next. */
#define RL_LOOP_EVENTS_MAX 256
/* /metrics: a metric's name with its _sum or _count suffix; the labels of
 * a message series (listener, type, outcome), of a destination, of a state;
 * /proc/self/statm read for the resident memory (seven numbers). */
#define RL_METRICS_NAME_MAX 160
#define RL_METRICS_MSG_LABELS_MAX 256
#define RL_METRICS_DEST_LABELS_MAX 128
#define RL_METRICS_STATE_LABELS_MAX 64
#define RL_STATM_TEXT_MAX 128

/* A destination's name (<destination name>) and NUL: queue keys and items. */
#define RL_DEST_NAME_MAX 64
/* A queue key: a destination's name, NUL and a be64 sequence (73 bytes). */
#define RL_QUEUE_KEY_MAX 80
/* The duplicate index: MSH-3, MSH-4 and MSH-10 each at most this long (a
 * longer one is refused; HD and ST 199 are far shorter in practice), its key
 * (the three joined with NULs), and a copy of such a field kept across a
 * delete (a longer one is not in the index). */
#define RL_DEDUP_FIELD_MAX 160
#define RL_DEDUP_KEY_MAX (3 * RL_DEDUP_FIELD_MAX + 8)
#define RL_DEDUP_FIELD_COPY_MAX 256
/* A job index key: a kind byte and a subject (RL_JOB_SUBJECT_MAX). */
#define RL_JOB_INDEX_KEY_MAX 300

/* A listener as text (an address and " tls"), and a sender as ingest names
 * it (its address without the port, or what stands for one: "replay of N"). */
#define RL_LISTENER_TEXT_MAX (RL_PEER_TEXT_MAX + 16)
#define RL_SENDER_TEXT_MAX 96
/* A sender known by its listener when MSH-3 and MSH-4 are empty. */
#define RL_INGEST_WHO_MAX 160
/* A message type as received (MSH-9's three components joined by ^), and
 * as a metrics label ("ORM^O01": two components, plain characters). */
#define RL_MSG_TYPE_RAW_MAX 128
#define RL_MSG_TYPE_TEXT_MAX 16
/* The control ID of an ACK radlink writes ("RL" and a sequence number). */
#define RL_ACK_CONTROL_ID_MAX RL_NUM_TEXT_MAX
/* Why a message is refused: its header (a version or processing ID quoted),
 * its frame (too large, incomplete), a retransmission (the original's seq). */
#define RL_REJECT_HEADER_TEXT_MAX 160
#define RL_REJECT_FRAME_TEXT_MAX 512
#define RL_DUPLICATE_TEXT_MAX 96
/* A message's log entry: the warnings it was accepted with, its outcome
 * (those and the routes' summary), a refused one's problems one after
 * another, a replay's note. */
#define RL_INGEST_NOTE_MAX 600
#define RL_INGEST_SUMMARY_MAX 1200
#define RL_INGEST_PROBLEMS_MAX 1400
#define RL_REPLAY_NOTE_MAX 64

/* Forwarding: a downstream ACK's text as kept (MSA-3, ERR-8), why a delivery
 * failed (a prefix and an rl_err message), the outcome a sender posts to the
 * loop (radlink/cmd.h). */
#define RL_ANSWER_TEXT_MAX 256
#define RL_FORWARD_WHY_MAX 700
#define RL_CMD_TEXT_MAX 300
/* An MPPS forward: the PACS's Error Comment (0000,0902), and the outcome
 * (operation, UID, status and that comment). */
#define RL_DICOM_COMMENT_MAX 200
#define RL_MPPS_OUTCOME_MAX 320

/* The routes.reload state in META: "failed", when, and the errors, cut at
 * the second figure. */
#define RL_ROUTES_STATUS_MAX 4000
#define RL_ROUTES_STATUS_ERRORS 3900
/* inotify events read at once (they only say: scan the inbox). */
#define RL_INOTIFY_READ_MAX 4096
/* Audit texts: a refused control request (the uid as its user, the text), a
 * route file reloaded, a console request refused to a role ("METHOD path"),
 * a console action's outcome, logins refused to a locked name. */
#define RL_AUDIT_UID_TEXT_MAX 64
#define RL_AUDIT_REFUSED_TEXT_MAX 160
#define RL_AUDIT_CONFIG_TEXT_MAX 200
#define RL_AUDIT_REQUEST_TEXT_MAX 300
#define RL_AUDIT_ACTION_TEXT_MAX 400
#define RL_AUDIT_LOCKED_TEXT_MAX 120

/* Files one verb may name that are made absolute before they go to the
 * engine. */
#define RL_OP_FILES_MAX 4
/* `wl export`: an entry's file name (ACCESSION_RPID_SPSID) and its path (a
 * directory, the name, ".wl"). `wl import`: which step of a file
 * (" (step N of M)"); why one is not taken comes in an rl_err. */
#define RL_WL_EXPORT_NAME_MAX 200
#define RL_WL_EXPORT_PATH_MAX (RL_CFG_PATH_MAX + RL_WL_EXPORT_NAME_MAX + 20)
#define RL_WL_STEP_TEXT_MAX 64
/* `msg find --field`: a value is matched as text, its first
 * RL_FIELD_MATCH_MAX bytes. */
#define RL_FIELD_MATCH_MAX 1000
#define RL_FIELD_MATCH_TEXT_MAX 1024
/* `recon link`: a study's modalities ("MR\\PR"), and another study that
 * matched the order (named to the administrator). */
#define RL_RECON_MODALITIES_MAX 128
#define RL_RECON_OTHER_MAX 128

/* A console user's name: 1 to 63 of [A-Za-z0-9._-], and NUL. */
#define RL_USER_NAME_MAX 64
/* A users-file password hash (scrypt$N$r$p$SALT$HASH), and a line of the
 * file (NAME:ROLE:HASH). */
#define RL_USER_HASH_MAX 200
#define RL_USERS_LINE_MAX 512
/* scrypt's salt and derived key, in bytes (the file holds them in hex). */
#define RL_SCRYPT_SALT_BYTES 16
#define RL_SCRYPT_KEY_BYTES 32
/* A console session's ID and CSRF token, random bytes sent in hex; the
 * session cookie as read (a longer one is no session). */
#define RL_WEB_TOKEN_BYTES 32
#define RL_WEB_COOKIE_MAX 80

/* ---- domain modules ---- */

/* Fixed forms the domain modules share with the rest are named above: a
 * UID (RL_UID_SIZE), an AE title (RL_AE_TITLE_SIZE), a CS (RL_CS_SIZE), an
 * HL7 timestamp (RL_HL7_TS_TEXT_MAX), a date (RL_DATE_TEXT_MAX), a peer's
 * address (RL_PEER_TEXT_MAX), a CURVE key (RL_CURVE_KEY_SIZE), a made UID
 * (RL_UUID_UID_SIZE), a path under the data directory (RL_DATA_PATH_MAX),
 * a spool file's directory (RL_SPOOL_DIR_MAX), a destination's name
 * (RL_DEST_NAME_MAX). */

/* A line of a CURVE key file: "secret-key " and the key, with room for
 * spaces; a longer line is read in pieces, none of which is a key. */
#define RL_KEYFILE_LINE_MAX 200

/* An outbound destination's ack-timeout and max-retry-delay: a day at the
 * most (an ACK awaited longer is a destination that is down). */
#define RL_DEST_SECONDS_MAX 86400
/* A route file's table read from a CSV file (<table file=...>): a code
 * list of a few thousand lines is kilobytes; this stops a wrong file. */
#define RL_ROUTE_TABLE_FILE_MAX (64u * 1024u * 1024u)

/* An LO or SH value such as a patient ID or an accession number (64
 * characters, PS3.5 6.2) with its NUL; a person name as the audit trail and
 * the reconciliation carry it (a PN: five components of 64 characters and
 * their four '^'), cut there. */
#define RL_LO_SIZE 65
#define RL_PN_SIZE 324
/* Reports (radlink/report.h): a coded concept's value or scheme (SH: 16
 * characters, with room for what an HL7 sender writes); the sections of one
 * report (TID 2000 has six kinds; a sender that repeats an identifier gets
 * them merged); the texts of one report (an OBX each: a long report has a
 * few hundred lines). */
/* How long one C-FIND answer or C-MOVE/C-GET response may take (prefetch). */
#define RL_DEST_RETRIES_DEFAULT 5 /* sends of a message a destination answers AE */
#define RL_DEST_RETRIES_MAX 100
#define RL_QUERY_TIMEOUT_DEFAULT_S 60
#define RL_QUERY_TIMEOUT_MAX_S 3600
#define RL_QUERY_ANSWERS_DEFAULT 500 /* a patient's studies considered (prefetch) */
#define RL_QUERY_ANSWERS_MAX 10000
#define RL_REPORT_CODE_SIZE 65
#define RL_REPORT_SECTIONS_MAX 16
#define RL_REPORT_TEXTS_MAX 4096
#define RL_REPORT_NUMS_MAX 256  /* numeric OBX values of one report */
#define RL_REPORT_NUM_SIZE 17   /* a DS: 16 characters */
/* A UID as received, named in a note or made into a spool file's name: 64
 * characters by PS3.5, room for a sender that sends more (cut there). */
#define RL_UID_TEXT_SIZE 128
/* One component of a person name as the MPPS status message carries it: 64
 * characters, with room. */
#define RL_PN_COMPONENT 72
/* A person name's components (family, given, middle, prefix, suffix: PS3.5
 * 6.2.1), and the bytes of one character in UTF-8 (RFC 3629). */
#define RL_PN_COMPONENTS 5
#define RL_UTF8_CHAR_MAX 4
/* One header value the study index keeps (UTF-8, trimmed: a PN of three
 * groups fits), the spool file's path included. */
#define RL_STUDY_FIELD_SIZE 256
/* A short HL7 code as the patient action reads it (MSH-9's code and event,
 * PID-8's sex: 1 to 3 characters by HL7); a longer one is cut and matches
 * nothing. */
#define RL_HL7_CODE_SIZE 8
/* MSH-2's encoding characters: four, and v2.7's truncation character. */
#define RL_HL7_ENCODING_CHARS 5
/* A field path as text ("OBX[3]-5[2].1.2"): every number at its limit
 * (RL_MAX_PATH_INDEX) fits. */
#define RL_HL7_PATH_TEXT 80
/* One character converted to a message's legacy character set (an ACK's
 * error text): a multi-byte character with a shift sequence before it. */
#define RL_HL7_CHAR_BYTES 16

/* The MSH values a route's <match> and its log line see, cut to: a message
 * code or trigger event (3 characters by HL7) or the version; the message
 * structure (MSH-9.3, 7 characters); the sending application or facility
 * (MSH-3.1, MSH-4.1: 20 by HL7); the control ID (MSH-10, 20 by HL7, 199 by
 * v2.7, cut for the log). Longer values are cut, never refused. */
#define RL_ROUTE_TYPE_PART 32
#define RL_ROUTE_STRUCTURE 40
#define RL_ROUTE_NAMESPACE 96
#define RL_ROUTE_CONTROL_ID 64
/* A value a <matches> condition tests (regexec needs it NUL-terminated): a
 * longer one is tested on its first 2047 bytes. */
#define RL_ROUTE_MATCH_VALUE 2048
/* Texts of a route's outcome, cut there: an action's own words for a
 * failure, one further problem (an ERR segment's text), the AE/AR text and
 * the failure text (as long as an rl_err's message), the warnings joined,
 * the summary line of the message log. */
#define RL_ROUTE_ACTION_TEXT 300
#define RL_ROUTE_PROBLEM_TEXT 240
#define RL_ROUTE_TEXT RL_ERR_MSG_MAX
#define RL_ROUTE_WARNINGS 480
#define RL_ROUTE_SUMMARY 1024
/* A route's name (routes.xsd: 1 to 63 characters) with its NUL. */
#define RL_ROUTE_NAME_SIZE 64
/* One error of a route file before "file:line: <element>: " is put in
 * front of it, and a regular expression's error from regerror(3). */
#define RL_ROUTE_LOAD_ERROR 600
#define RL_REGEX_ERROR 200
/* A file a route file names relative to its own directory (a CSV table):
 * that directory (RL_CFG_PATH_MAX) and the name, with room. */
#define RL_ROUTE_FILE_PATH 1100
/* DICOM routes: the values one condition looks at (an attribute in every
 * item of the sequences on its way; items past these are not examined); the
 * longest value a coercion copies, looks up or reformats (an LT's 10,240
 * characters in UTF-8, with room; a longer one fails the coercion); a
 * <send>'s program with its tables inlined, as kept with every instance it
 * was decided for (a code table of a few thousand lines fits; a larger one
 * is refused at load); the coercions of one program. */
#define RL_ROUTE_DICOM_VALUES 64
#define RL_ROUTE_DICOM_VALUE_MAX (64u * 1024u)
#define RL_ROUTE_DICOM_PROG_MAX (256u * 1024u)
#define RL_ROUTE_DICOM_PROG_OPS 256
/* A worklist keyword ("RequestedProcedureCodeSequence/CodingSchemeDesignator"
 * is 53). */
#define RL_WL_KEYWORD_SIZE 64
/* A worklist step named by its IDs in a trace or an error (accession,
 * requested procedure and step IDs), and a mapping source's path as a
 * trace names it ("OBR-44.3", "PID-3[2].4.1"); longer ones are cut. */
#define RL_WL_STEP_IDS_TEXT 160
#define RL_WL_SOURCE_TEXT 24

/* A sender as the audit trail names it ("application|facility", 64
 * characters each). */
#define RL_AUDIT_USER_SIZE 140
/* The audit source and enterprise site IDs set at start (an AE title or a
 * host name, a site's name). */
#define RL_AUDIT_SOURCE_SIZE 128
/* A value the audit renderer cleans for XML at once (longer values are
 * cut there: the events name identifiers, not documents). */
#define RL_AUDIT_VALUE 1024
/* A security alert's text: what happened (cut at 300 bytes) and how many
 * alerts since were not recorded one by one. */
#define RL_AUDIT_ALERT_TEXT 400

/* The spool (DATA/spool) and the jobs' work root (DATA/spool/work) are
 * paths under the data directory (RL_DATA_PATH_MAX). What one level of the
 * spool adds to such a path: a '/' and a name made from a UID
 * (RL_UID_TEXT_SIZE) or a file's name. */
#define RL_SPOOL_NAME_ROOM 200
/* An attempt's work directory (DATA/spool/work/JOB-ATTEMPT), and a file a
 * job writes there beside the corrected copies (uids.map, a rejection
 * note). */
#define RL_WORK_PATH_MAX 1200
/* A received instance's temporary file, as the DICOM listener names it in
 * its incoming directory, with ".prev" after it. */
#define RL_INCOMING_PATH_MAX 800
/* Directories a correction syncs at once (more are synced as they come;
 * each a spool file's directory, RL_SPOOL_DIR_MAX). */
#define RL_SYNC_DIRS 16
/* A store key radlink builds from identifiers (an index kind and a value,
 * an issuer and a patient ID, a study UID and a job): a longer value is
 * not indexed (LMDB's keys stop at 511 bytes). */
#define RL_ID_KEY_MAX 300
/* A patient's ID and its issuer as the patient action reads them (CX-1 and
 * CX-4.1: 15 and 20 characters by HL7 v2.5, longer in practice), and the
 * name it keeps (a DICOM PN). */
#define RL_PATIENT_ID_SIZE 128
#define RL_PATIENT_NAME_SIZE 256

/* The jobs' tcp:// endpoint for remote workers (a host name and a port;
 * the local workers' is RL_JOBS_ENDPOINT_MAX). */
#define RL_JOB_TCP_ENDPOINT 256
/* A worker as the engine knows it: its ZeroMQ routing ID and the name it
 * gives ("pid N on HOST"). */
#define RL_WORKER_ID_MAX 256
#define RL_WORKER_NAME_SIZE 128
/* Storage commitment transactions a running job announces before the
 * engine passes on their reports. */
#define RL_JOB_ANNOUNCE_MAX 8
/* A line of a storage commitment report passed to a job ("ok SOP-UID",
 * "failed SOP-UID REASON"). */
#define RL_COMMIT_LINE 200
/* Studies a verification's C-FIND reads back for one Study Instance UID:
 * one is expected, a few show a PACS that split it. */
#define RL_VERIFY_STUDY_ROWS 8
/* The MPPS status message's first segments, written out before the edits
 * (MSH with the time and control ID, PID, ORC, OBR, OBX). */
#define RL_MPPS_STATUS_HEAD 512
/* The patient's name as the status message takes it from the worklist
 * entry, before it is split into XPN components. */
#define RL_MPPS_PN_MAX 320

#endif
