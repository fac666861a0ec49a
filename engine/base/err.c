/* rl_strerror: one name for every module's codes, beside them (radlink/err.h). */
#include "radlink/err.h"

const char *rl_strerror(int code)
{
    switch (code) {
    case 0: return "ok";
    case RL_E_NOMEM: return "out of memory";
    case RL_E_SYS: return "a system call failed";
    case RL_E_ARG: return "an unusable argument";
    case RL_E_LIMIT: return "past a limit";
    case STORE_E_IO: return "store: I/O error";
    case STORE_E_FULL: return "store: the store is full";
    case STORE_E_CORRUPT: return "store: a record does not decode";
    case STORE_E_VERSION: return "store: written by an incompatible radlink";
    case STORE_E_BUSY: return "store: another engine uses this data directory";
    case STORE_E_EXISTS: return "store: the key exists";
    case STORE_E_ARG: return "store: a key or record it cannot take";
    case HL7_E_EMPTY: return "hl7: no message";
    case HL7_E_NO_MSH: return "hl7: no MSH segment first";
    case HL7_E_SEPARATORS: return "hl7: unusable separators";
    case HL7_E_SEGMENT: return "hl7: a malformed segment";
    case HL7_E_TOO_BIG: return "hl7: larger than the limit";
    case HL7_E_BINARY: return "hl7: control bytes in the text";
    case HL7_E_CHARSET: return "hl7: an unknown character set";
    case HL7_E_PATH: return "hl7: a path that does not parse";
    case HL7_E_LIMIT: return "hl7: past a limit";
    case HL7_E_NOMEM: return "hl7: out of memory";
    case HL7_E_ENCODING: return "hl7: bytes invalid in the character set";
    case HL7_E_BATCH: return "hl7: an inconsistent batch";
    case HL7_E_READONLY: return "hl7: MSH-1 and MSH-2 cannot be edited";
    case ROUTE_E_LOAD: return "route: the file has errors";
    case ROUTE_E_ACTION: return "route: an action failed";
    case ROUTE_E_STORE: return "route: the store failed";
    case ROUTE_E_COERCE: return "route: a coercion cannot be made on this instance";
    case ROUTE_E_PROG: return "route: a DICOM route's program does not decode";
    case MLLP_E_IO: return "mllp: connection error";
    case MLLP_E_TLS: return "mllp: TLS error";
    case MLLP_E_TIMEOUT: return "mllp: timed out";
    case MLLP_E_CLOSED: return "mllp: closed by the peer";
    case MLLP_E_CONFIG: return "mllp: unusable TLS settings";
    case MLLP_E_CANCELLED: return "mllp: cancelled";
    case DICOM_E_NET: return "dicom: network or association error";
    case DICOM_E_FILE: return "dicom: a file that cannot be read or written";
    case DICOM_E_CHARSET: return "dicom: a character set that cannot be converted";
    case DICOM_E_REFUSED: return "dicom: the peer refused";
    case DICOM_E_CONFIG: return "dicom: cannot start as configured";
    case DICOM_E_INTERNAL: return "dicom: DCMTK raised an exception";
    case DICOM_E_VALUE: return "dicom: a value its attribute cannot hold";
    case DICOM_E_BURNED_IN: return "dicom: it may hold burned-in text";
    case DICOM_E_CODEC: return "dicom: pixel data that cannot be converted";
    case DICOM_E_PARTIAL: return "dicom: a retrieve that left instances behind";
    case JOB_E_STALE: return "job: an outcome from a superseded attempt";
    case JOB_E_STATE: return "job: not in a state that allows this";
    case JOB_E_PAYLOAD: return "job: a message that does not decode or is too large";
    case JOB_E_ENDPOINT: return "job: an endpoint that cannot be used";
    case JOB_E_KEYS: return "job: an unusable key file";
    case JOB_E_ATTEMPT: return "job: the attempt failed";
    case CTL_E_NOENGINE: return "control: no engine answers";
    case CTL_E_DENIED: return "control: not allowed";
    case CTL_E_IO: return "control: the exchange broke off";
    case CTL_E_TIMEOUT: return "control: no answer in time";
    case CTL_E_PROTO: return "control: a message that does not decode";
    case HTTP_E_START: return "http: the listener could not start";
    case NET_E_RESOLVE: return "net: the address does not resolve";
    case NET_E_LISTEN: return "net: cannot listen on the address";
    case NET_E_CONNECT: return "net: cannot connect";
    case NET_E_TIMEOUT: return "net: timed out";
    case NET_E_CANCELLED: return "net: cancelled";
    case NET_E_IO: return "net: socket error";
    case NET_E_TLS: return "net: TLS error";
    case NET_E_TLS_CONFIG: return "net: unusable TLS settings";
    case WL_E_ENTRY: return "worklist: an entry it cannot take";
    case REPORT_E_INPUT: return "report: a message that cannot be made a report";
    }
    return "unknown error";
}
