/* Error codes. Every module's negative codes lie in a range of their own, so
 * a code says which module failed and how wherever it travels; rl_strerror
 * names any of them. Non-negative values are never errors: 0 is success, and
 * modules give positive values meanings of their own (STORE_NOTFOUND,
 * HL7_VALUE, MLLP_FRAME...).
 *
 *   -100 .. -199  RL_E_*     shared: memory, system calls, arguments (util.h)
 *   -200 .. -299  STORE_E_*  the LMDB store (store.h)
 *   -300 .. -399  HL7_E_*    the HL7 codec (hl7.h)
 *   -400 .. -499  ROUTE_E_*  route files and their evaluation (route.h)
 *   -500 .. -599  MLLP_E_*   MLLP and TLS (mllp.h)
 *   -600 .. -699  DICOM_E_*  the DCMTK bridge (dicom.h)
 *   -700 .. -799  JOB_E_*    jobs and workers (job.h)
 *   -800 .. -899  CTL_E_*    the control socket (ctl.h)
 *   -900 .. -999  CFG_E_*    configuration (cfg.h)
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

enum rl_errcode {
    RL_E_NOMEM = RL_E_BASE - 1, /* out of memory */
    RL_E_SYS = RL_E_BASE - 2,   /* a system call failed (the text carries strerror) */
    RL_E_ARG = RL_E_BASE - 3,   /* a caller passed something unusable */
    RL_E_LIMIT = RL_E_BASE - 4, /* past a limit of radlink/limits.h or the config */
};

/* A short name for code ("store: the store is full"): a static string, never
 * NULL; unknown codes get "unknown error". */
const char *rl_strerror(int code);

#endif
