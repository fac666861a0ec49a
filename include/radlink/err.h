/* Error codes. Every module's negative codes lie in a range of their own, so
 * a code says which module failed and how wherever it travels; rl_strerror
 * names any of them; the codes are all declared here, beside it, so that
 * nothing below a module needs its header to name its failures. Non-negative values are never errors: 0 is success, and
 * modules give positive values meanings of their own (STORE_NOTFOUND,
 * HL7_VALUE, MLLP_FRAME...).
 *
 *   -100 .. -199  RL_E_*     shared: memory, system calls, arguments
 *   -200 .. -299  STORE_E_*  the LMDB store (store.h)
 *   -300 .. -399  HL7_E_*    the HL7 codec (hl7.h)
 *   -400 .. -499  ROUTE_E_*  route files and their evaluation (route.h)
 *   -500 .. -599  MLLP_E_*   MLLP and TLS (mllp.h)
 *   -600 .. -699  DICOM_E_*  the DCMTK bridge (dicom.h)
 *   -700 .. -799  JOB_E_*    jobs and workers (job.h)
 *   -800 .. -899  CTL_E_*    the control socket (ctlsock.h)
 *   -900 .. -999  CFG_E_*    configuration (cfg.h)
 *  -1000 .. -1099 HTTP_E_*   the HTTP listener (http.h)
 *  -1100 .. -1199 NET_E_*    the network layer: TCP and TLS (net.h)
 *  -1200 .. -1299 WL_E_*     the worklist (wl.h)
 *  -1300 .. -1399 REPORT_E_* reports (report.h)
 *
 * Like LMDB's own codes (-30799 ...), a value once given keeps its meaning. */
#ifndef RADLINK_ERR_H
#define RADLINK_ERR_H

#define RL_E_BASE (-100)
#define STORE_E_BASE (-200)
#define HL7_E_BASE (-300)
#define ROUTE_E_BASE (-400)
#define MLLP_E_BASE (-500)
#define DICOM_E_BASE (-600)
#define JOB_E_BASE (-700)
#define CTL_E_BASE (-800)
#define CFG_E_BASE (-900)
#define HTTP_E_BASE (-1000)
#define NET_E_BASE (-1100)
#define WL_E_BASE (-1200)
#define REPORT_E_BASE (-1300)

enum rl_e_code {
    RL_E_NOMEM = RL_E_BASE - 1, /* out of memory */
    RL_E_SYS = RL_E_BASE - 2,   /* a system call failed (the text carries strerror) */
    RL_E_ARG = RL_E_BASE - 3,   /* a caller passed something unusable */
    RL_E_LIMIT = RL_E_BASE - 4, /* past a limit of radlink/limits.h or the config */
};

/* the control socket (radlink/ctlsock.h) */
enum ctl_e_code {
    CTL_E_NOENGINE = CTL_E_BASE - 1, /* no engine listens on the socket */
    CTL_E_DENIED = CTL_E_BASE - 2,   /* the socket or the engine refused this user */
    CTL_E_IO = CTL_E_BASE - 3,       /* the exchange broke off */
    CTL_E_TIMEOUT = CTL_E_BASE - 4,  /* no answer in time */
    CTL_E_PROTO = CTL_E_BASE - 5,    /* a request or reply that does not decode */
};

/* the LMDB store (radlink/store.h) */
enum store_e_code {
    STORE_E_IO = STORE_E_BASE - 1,      /* an I/O error from the OS (disk full, EIO) */
    STORE_E_FULL = STORE_E_BASE - 2,    /* the map size is reached: raise <store map-size-mb> */
    STORE_E_CORRUPT = STORE_E_BASE - 3, /* a record that does not decode */
    STORE_E_VERSION = STORE_E_BASE - 4, /* the store was written by an incompatible radlink */
    STORE_E_BUSY = STORE_E_BASE - 5,    /* another engine uses this data directory */
    STORE_E_EXISTS = STORE_E_BASE - 6,  /* put with STORE_NOOVERWRITE found the key */
    STORE_E_ARG = STORE_E_BASE - 7,     /* a key or record LMDB cannot take (size) */
};

/* the HL7 codec (radlink/hl7.h) */
enum hl7_e_code {
    HL7_E_EMPTY = HL7_E_BASE - 1,       /* no bytes, or only segment terminators */
    HL7_E_NO_MSH = HL7_E_BASE - 2,      /* the message does not start with MSH */
    HL7_E_SEPARATORS = HL7_E_BASE - 3,  /* MSH-1/MSH-2 declare unusable separators */
    HL7_E_SEGMENT = HL7_E_BASE - 4,     /* a segment has no valid name or is truncated */
    HL7_E_TOO_BIG = HL7_E_BASE - 5,     /* larger than the configured maximum */
    HL7_E_BINARY = HL7_E_BASE - 6,      /* control bytes (NUL, MLLP framing) inside the text */
    HL7_E_CHARSET = HL7_E_BASE - 7,     /* MSH-18 names a character set radlink cannot convert */
    HL7_E_PATH = HL7_E_BASE - 8,        /* a field path that does not parse */
    HL7_E_LIMIT = HL7_E_BASE - 9,       /* too many segments, or a value grows past its limit */
    HL7_E_NOMEM = HL7_E_BASE - 10,
    HL7_E_ENCODING = HL7_E_BASE - 11,   /* bytes invalid in the declared character set */
    HL7_E_BATCH = HL7_E_BASE - 12,      /* batch envelope inconsistent (BTS/FTS counts, order) */
    HL7_E_READONLY = HL7_E_BASE - 13,   /* an edit of MSH-1 or MSH-2 */
};

/* route files and their evaluation (radlink/route.h) */
enum route_e_code {
    ROUTE_E_LOAD = ROUTE_E_BASE - 1,   /* the file has errors (listed in the errors buffer) */
    ROUTE_E_ACTION = ROUTE_E_BASE - 2, /* an action failed for this message: AE with the reason */
    ROUTE_E_STORE = ROUTE_E_BASE - 3,  /* the store failed: the caller aborts the transaction */
    ROUTE_E_COERCE = ROUTE_E_BASE - 4, /* a DICOM route's coercion cannot be made on this
                                        * instance: nothing of it may be sent */
    ROUTE_E_PROG = ROUTE_E_BASE - 5,   /* a DICOM route's program that does not decode
                                        * (truncated, corrupt, another format version) */
};

/* MLLP and TLS (radlink/mllp.h) */
enum mllp_e_code {
    MLLP_E_IO = MLLP_E_BASE - 1,        /* a socket error, a refused connection, a bad reply */
    MLLP_E_TLS = MLLP_E_BASE - 2,       /* the TLS handshake or a TLS record failed */
    MLLP_E_TIMEOUT = MLLP_E_BASE - 3,   /* the peer did not connect, take or answer in time */
    MLLP_E_CLOSED = MLLP_E_BASE - 4,    /* the peer closed the connection before its ACK */
    MLLP_E_CONFIG = MLLP_E_BASE - 5,    /* unusable TLS files or settings */
    MLLP_E_CANCELLED = MLLP_E_BASE - 6, /* the caller's cancel descriptor became readable */
};

/* the DCMTK bridge (radlink/dicom.h) */
enum dicom_e_code {
    DICOM_E_NET = DICOM_E_BASE - 1,      /* the port, an association, a peer that refused */
    DICOM_E_FILE = DICOM_E_BASE - 2,     /* a DICOM file that cannot be read or written */
    DICOM_E_CHARSET = DICOM_E_BASE - 3,  /* values that cannot be converted to UTF-8 */
    DICOM_E_REFUSED = DICOM_E_BASE - 4,  /* the peer answered C-STORE with a failure status */
    DICOM_E_CONFIG = DICOM_E_BASE - 5,   /* the SCP cannot start as configured */
    DICOM_E_INTERNAL = DICOM_E_BASE - 6, /* DCMTK threw: the text says what */
    DICOM_E_VALUE = DICOM_E_BASE - 7,    /* a value the attribute's VR cannot hold */
    DICOM_E_BURNED_IN = DICOM_E_BASE - 8,/* it may hold burned-in text: not de-identified */
    DICOM_E_CODEC = DICOM_E_BASE - 9,    /* pixel data that cannot be converted as asked */
    DICOM_E_PARTIAL = DICOM_E_BASE - 10, /* a retrieve ended with some instances failed */
};

/* jobs and workers (radlink/job.h) */
enum job_e_code {
    JOB_E_STALE = JOB_E_BASE - 1,   /* an outcome from an attempt that no longer holds the job */
    JOB_E_STATE = JOB_E_BASE - 2,   /* the job is not in a state that allows this */
    JOB_E_PAYLOAD = JOB_E_BASE - 3, /* a job message that does not decode or passes its cap */
    JOB_E_ENDPOINT = JOB_E_BASE - 4,/* a ZeroMQ endpoint that cannot be bound or reached */
    JOB_E_KEYS = JOB_E_BASE - 5,    /* a CURVE key file that is missing or malformed */
    JOB_E_ATTEMPT = JOB_E_BASE - 6, /* a worker's attempt failed: its result says why */
};

/* the HTTP listener (radlink/http.h) */
enum http_e_code {
    HTTP_E_START = HTTP_E_BASE - 1, /* the listener could not start (bind, TLS files) */
};

/* the network layer: TCP and TLS (radlink/net.h) */
enum net_e_code {
    NET_E_RESOLVE = NET_E_BASE - 1,    /* a host or address that does not resolve */
    NET_E_LISTEN = NET_E_BASE - 2,     /* the address cannot be bound or listened on */
    NET_E_CONNECT = NET_E_BASE - 3,    /* the peer refused the connection or cannot be reached */
    NET_E_TIMEOUT = NET_E_BASE - 4,    /* the deadline passed first */
    NET_E_CANCELLED = NET_E_BASE - 5,  /* the caller's cancel descriptor became readable */
    NET_E_IO = NET_E_BASE - 6,         /* a socket call failed (accept, read, write, poll) */
    NET_E_TLS = NET_E_BASE - 7,        /* the TLS handshake or a TLS record failed */
    NET_E_TLS_CONFIG = NET_E_BASE - 8, /* unusable TLS files or settings */
};

/* the worklist (radlink/wl.h) */
enum wl_e_code {
    WL_E_ENTRY = WL_E_BASE - 1, /* an entry it cannot take: a required value missing,
                                 * malformed or longer than DICOM allows */
};

/* reports (radlink/report.h) */
enum report_e_code {
    REPORT_E_INPUT = REPORT_E_BASE - 1, /* a message that cannot be made a report: no
                                         * text, an unknown OBR-25, a bad PDF... */
};

/* A short name for code ("store: the store is full"): a static string, never
 * NULL; unknown codes get "unknown error". */
const char *rl_strerror(int code);

#endif
