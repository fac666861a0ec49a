/* The command line's own verbs (radlink/ops.h rows): the engine and worker
 * processes, the analyst's file tools, the network client, backups. Each is
 * declared once, here; the store's and the engine's verbs are in
 * engine/ops/table.c. */
#include "tools.h"
#include "radlink/prefetch.h"

#define END { 0 }

static const char *const levels[] = { "error", "warn", "info", "debug", NULL };
static const char *const ack_codes[] = { "AA", "AE", "AR", NULL };

static const op_arg serve_args[] = {
    { "config", OPT_STR, 0, "FILE", "XML configuration (default: the embedded default)",
      .shorthand = 'c' },
    { "data", OPT_STR, 0, "DIR", "data directory (default ./var)", .shorthand = 'd' },
    { "mllp", OPT_STR, 0, "PORT", "MLLP port of the first listener (default 2575; auto: one\n"
      "the system picks, which 'radlink status' shows)", .shorthand = 'm' },
    { "bind", OPT_STR, 0, "ADDR", "address of the MLLP and DICOM listeners (default\n"
      "127.0.0.1; 0.0.0.0 for RIS and modalities on other hosts)", .shorthand = 'b' },
    { "dicom", OPT_STR, 0, "PORT", "port of the DICOM listener: worklist C-FIND, images\n"
      "(C-STORE), MPPS, C-ECHO and storage commitment reports (default 11112;\n"
      "0: no DICOM listener; auto: one the system picks)", .shorthand = 'i' },
    { "http-bind", OPT_STR, 0, "ADDR", "address of the HTTP listener (default 127.0.0.1)" },
    { "http", OPT_STR, 0, "PORT", "port of the HTTP listener: metrics, health, API, console\n"
      "(default 8080 on 127.0.0.1; 0: none; auto: one the system picks)", .shorthand = 'H' },
    { "ae-title", OPT_STR, 0, "AE", "the SCP's AE title (default RADLINK)", .shorthand = 'a' },
    { "pacs", OPT_STR, 0, "AE@HOST:PORT", "the PACS studies are sent to (first of <dicom><pacs>)",
      .shorthand = 'p' },
    { "workers", OPT_U64, 0, "N", "local worker processes (default 2)", 0, 64,
      .shorthand = 'w' },
    { "routes", OPT_STR, 0, "FILE", "route file (default: the config's, else the built-in\n"
      "routes/default.xml)", .shorthand = 'r' },
    { "log-level", OPT_CHOICE, 0, "LEVEL", "error, warn, info (default) or debug",
      .choices = levels, .shorthand = 'l' },
    { "user", OPT_STR, 0, "NAME", "started as root: run as NAME from the start, keeping\n"
      "only the right to bind ports below 1024 until the\nlisteners are bound (the data "
      "directory and TLS keys\nmust belong to NAME)", .shorthand = 'u' },
    { "init", OPT_FLAG, 0, NULL, "make the data directory <data dir> names when it does not\n"
      "exist (a new, empty store; without --init a missing one is refused,\n"
      "so that a wrong path never serves an empty worklist)" },
    { "reindex", OPT_FLAG, 0, NULL, "build the message log's indexes again before serving\n"
      "(when 'radlink check' finds them wrong)" },
    { "standby", OPT_FLAG, 0, NULL, "when another engine serves this data directory, wait\n"
      "for it to end (its lock), then take over its place" },
    END,
};

static const op_arg send_args[] = {
    { "to", OPT_STR, OPA_REQUIRED, "HOST:PORT", "where to send (required)" },
    { "tls", OPT_FLAG, 0, NULL, "use TLS (verified against the system CAs, or --ca)" },
    { "ca", OPT_STR, 0, "FILE", "CA certificate(s) to verify the server (implies --tls)" },
    { "cert", OPT_STR, 0, "FILE", "client certificate for servers that verify clients (with "
      "--key)" },
    { "key", OPT_STR, 0, "FILE", "the client certificate's key" },
    { "server-name", OPT_STR, 0, "NAME", "name expected in the server certificate (default "
      "HOST)" },
    { "timeout", OPT_U64, 0, "SECONDS", "for connecting and for each ACK (default 10)", 1, 3600 },
    { "quiet", OPT_FLAG, 0, NULL, "print nothing, only set the exit status", .shorthand = 'q' },
    { "batch", OPT_FLAG, 0, NULL, "each FILE as one batch in one frame (BHS, its messages,\n"
      "BTS) and every MSA of the answer printed; without it each\nmessage goes on its own and "
      "waits for its ACK" },
    { "FILE", OPT_STR, OPA_POS | OPA_REQUIRED | OPA_REST },
    END,
};

static const op_arg worker_args[] = {
    { "connect", OPT_STR, OPA_REQUIRED, "ENDPOINT", "the engine's job endpoint "
      "(ipc://DATA/jobs.sock)", .shorthand = 'c' },
    { "ae-title", OPT_STR, 0, "AE", "calling AE title towards the PACS (default RADLINK)",
      .shorthand = 'a' },
    { "log-level", OPT_CHOICE, 0, "LEVEL", "error, warn, info (default) or debug",
      .choices = levels, .shorthand = 'l' },
    { "server-key", OPT_STR, 0, "KEY", "the engine's public key (CURVE, for tcp endpoints)",
      .shorthand = 's' },
    { "key-file", OPT_STR, 0, "FILE", "this worker's key pair (radlink keygen)",
      .shorthand = 'k' },
    END,
};

static const op_arg file_arg[] = { { "FILE", OPT_STR, OPA_POS | OPA_REQUIRED }, END };
static const op_arg none[] = { END };

static const op_arg hl7_get_args[] = {
    { "FILE", OPT_STR, OPA_POS | OPA_REQUIRED },
    { "PATH", OPT_STR, OPA_POS | OPA_REQUIRED },
    END,
};
static const op_arg hl7_ack_args[] = {
    { "FILE", OPT_STR, OPA_POS | OPA_REQUIRED },
    { "raw", OPT_FLAG, 0, NULL, "segments end with CR as on the wire", .shorthand = 'r' },
    { "code", OPT_CHOICE, 0, "AA|AE|AR", "an ACK built as told, not decided: its code\n"
      "(default AA)", .choices = ack_codes, .shorthand = 'c' },
    { "text", OPT_STR, 0, "TEXT", "error text for MSA-3 / ERR", .shorthand = 't' },
    { "error-code", OPT_U64, 0, "N", "HL7 table 0357 code (default 207 for AE/AR)", 0, 999,
      .shorthand = 'e' },
    { "control-id", OPT_STR, 0, "ID", "MSH-10 of the ACK (default: time based)",
      .shorthand = 'i' },
    END,
};

static const op_arg routes_check_args[] = {
    { "FILE", OPT_STR, OPA_POS | OPA_REQUIRED },
    { "config", OPT_STR, OPA_LOCAL, "FILE", "offer this configuration's <destinations> and DICOM\n"
      "nodes (<pacs>, <node>) to the routes" },
    END,
};
static const op_arg routes_test_args[] = {
    { "FILE", OPT_STR, OPA_POS | OPA_REQUIRED },
    { "MSG.hl7|IMAGE.dcm", OPT_STR, OPA_POS | OPA_REQUIRED },
    { "config", OPT_STR, OPA_LOCAL, "FILE", "offer this configuration's <destinations> and DICOM\n"
      "nodes (<pacs>, <node>) to the routes" },
    { "calling-ae", OPT_STR, 0, "AE", "IMAGE.dcm as sent by this AE title (default STORESCU)" },
    { "called-ae", OPT_STR, 0, "AE", "IMAGE.dcm as sent to this AE title (default RADLINK)" },
    { "data", OPT_STR, OPA_LOCAL, "DIR", "decide against this data directory's store (default: "
      "from\n--config, else ./var; an empty store when there is none)" },
    END,
};

static const op_arg dir_arg[] = { { "DIR", OPT_STR, OPA_POS | OPA_REQUIRED }, END };
static const op_arg wl_import_args[] = {
    { "DIR|FILE", OPT_STR, OPA_POS | OPA_REQUIRED },
    { "replace", OPT_FLAG, 0, NULL, "an entry with the same accession, procedure and step IDs\n"
      "is written over (default: the file is not taken)" },
    { "dry-run", OPT_FLAG, 0, NULL, "read and check every file, write nothing" },
    END,
};
static const op_arg prefetch_args[] = {
    { "PATIENT-ID", OPT_STR, OPA_POS | OPA_REQUIRED },
    { "from", OPT_STR, OPA_REQUIRED, "AE", "the archive: a <pacs> or <node> of --config" },
    { "to", OPT_STR, OPA_REQUIRED, "AE", "the reading PACS: a <pacs> or <node> of --config" },
    { "issuer", OPT_STR, 0, "I", "the patient ID's issuer (IssuerOfPatientID)" },
    { "modality", OPT_STR, 0, "M", "only studies with one of these modalities (CT or CT,MR;\n"
      "default: any)" },
    { "body-part", OPT_STR, 0, "B", "only studies of this body part (BodyPartExamined, else\n"
      "the description; a study the archive says nothing of is kept)" },
    { "within", OPT_STR, 0, "AGE", "only studies at most this old (5y, 18m, 30d; default 5y)" },
    { "max", OPT_U64, 0, "N", "at most N studies, the most recent (default 3)", 1,
      RL_PREFETCH_MAX },
    { "exclude", OPT_STR, 0, "STUDY-UID", "never this study (the one being ordered)" },
    { "dry-run", OPT_FLAG, 0, NULL, "list and decide, move nothing" },
    END,
};
static const op_arg backup_args[] = {
    { "DEST", OPT_STR, OPA_POS | OPA_REQUIRED },
    { "force", OPT_FLAG, 0, NULL, "back up into an existing DEST others may read" },
    END,
};
static const op_arg src_arg[] = { { "SRC", OPT_STR, OPA_POS | OPA_REQUIRED }, END };

const op_verb cli_tools[] = {
    { "serve", NULL, serve_args, 0, OP_LOCAL,
      "run the engine (MLLP listener, routing, worklist, DICOM)",
      "Flags override the configuration file. SIGINT or SIGTERM stops the engine\n"
      "cleanly; SIGHUP reloads the routes.\n", .run = cli_run_serve },
    { "send", NULL, send_args, 0, OP_LOCAL, "send HL7 messages over MLLP and print each ACK's MSA",
      "A FILE may hold several messages (CR or LF segment ends) or FHS/BHS batches,\n"
      "or messages closed by a BTS without a BHS.\n"
      "Exit status: 0 every ACK was AA (or CA), 1 an ACK was not AA or none came in\n"
      "time, 2 usage error, 3 a file is unreadable or not HL7.\n",
      "expected at least one FILE", cli_run_send },

    { "routes", .summary = "route files: check, test (dry run with a trace), show, reload" },
    { "routes", "check", routes_check_args, 0, OP_LOCAL,
      "validate a route file and summarise it (exit 0), or list its errors (exit 3)",
      .run = cli_run_routes_check },
    { "routes", "test", routes_test_args, 0, OP_LOCAL,
      "dry-run messages through a route file and print the trace and the ACK",
      "Each message goes through what a received one goes through (header checks,\n"
      "retransmissions, these routes, worklist and patient actions against the\n"
      "store), by the running engine when there is one; nothing is kept or sent.\n"
      "MSG.hl7 may hold several messages or a batch ('-' reads stdin). Exit 0 when\n"
      "every message would be accepted, 1 otherwise.\n"
      "A DICOM file (IMAGE.dcm) goes through the <dicom-routes> instead: each\n"
      "<on-receive> and <dicom-route> considered, each condition with the value it\n"
      "saw, each coercion before and after, each destination with its transfer\n"
      "syntax. Exit 0 when it would be sent, 1 when held or a coercion fails.\n",
      .run = cli_run_routes_test },

    { "wl", "export", dir_arg, 0, OP_LOCAL | OP_DATA,
      "write each entry as a .wl DICOM file (what DCMTK's wlmscpfs reads); .wl files of "
      "entries no longer on the worklist are removed",
      "wlmscpfs looks for the files in a directory named after its AE title:\n"
      "export to DIR/AETITLE and run 'wlmscpfs -dfp DIR PORT'.\n", .run = cli_run_wl_export },
    { "wl", "import", wl_import_args, 0, OP_LOCAL | OP_DATA,
      "take worklist files as entries: .wl DICOM files (a wlmscpfs or Orthanc worklist "
      "folder) and DICOM dumps; each file not taken is named with the reason",
      "Subdirectories are read too (wlmscpfs keeps one per AE title). An entry\n"
      "needs a patient ID and name, a modality and a start date; procedure and\n"
      "step IDs missing from a file are derived from its accession number. Through\n"
      "the running engine when there is one, else on the store.\n",
      "expected one DIR", cli_run_wl_import },

    { "alerts", "test", none, 0, OP_LOCAL | OP_DATA,
      "send a test notification through every channel of <alerts> (e-mail, webhook, syslog)",
      "The configuration is --config, else the one the engine on --data started\n"
      "with. Each channel is said to work, or why not (the mail server's or the\n"
      "receiver's answer). Exit 0 when every channel took it.\n",
      .run = cli_run_alerts_test },
    { "prefetch", NULL, prefetch_args, 0, OP_LOCAL | OP_DATA,
      "move a patient's relevant prior studies from an archive to the reading PACS",
      "Asks the archive for the patient's studies (C-FIND), lists each with the\n"
      "decision and why, asks the PACS which of the relevant ones it holds, and\n"
      "moves the others: C-MOVE to the PACS's AE title (the archive must know it),\n"
      "or, for an archive with retrieve=\"get\", C-GET and C-STORE on. Each one moved\n"
      "is verified at the PACS (C-FIND, its instance count). radlink calls both\n"
      "with its AE title. Exit 0 when every relevant prior is at the PACS.\n",
      .run = cli_run_prefetch },
    { "backup", NULL, backup_args, 0, OP_LOCAL | OP_DATA,
      "copy the store and its spool into DEST while the engine runs",
      "DEST must be new or empty. The store is LMDB's compacted copy of one read\n"
      "transaction; the spool files its instances name follow; MANIFEST holds the\n"
      "counts and MANIFEST.sha256 every file's checksum (sha256sum -c reads it).\n"
      "Every file is owner-only (0600, directories 0700), as the store is: a backup\n"
      "holds every patient's data. An existing DEST others may read is refused\n"
      "unless --force.\n",
      .run = cli_run_backup },
    { "restore", NULL, src_arg, 0, OP_LOCAL | OP_DATA,
      "restore a backup into a new data directory (--data DIR)",
      "Every checksum of SRC is checked first: if one does not hold, nothing is\n"
      "written. DIR must hold no store. The instances are pointed at DIR's spool.\n",
      .run = cli_run_restore },
    { "check", NULL, none, 0, OP_LOCAL | OP_DATA,
      "verify a store and its spool (or a backup directory)",
      "Every indexed instance has its file; the study index, the queues, the jobs\n"
      "and the worklist refer to what exists; a backup's checksums hold. Exit\n"
      "status 1 when something does not, each named (the first 100).\n",
      .run = cli_run_check },
    { "worker", NULL, worker_args, 0, OP_LOCAL,
      "a job process: corrects headers and sends studies to the PACS",
      "A remote worker reads and writes the spool files named in its jobs: it needs\n"
      "the engine's data directory at the same path (a shared file system).\n"
      "radlink serve starts and supervises its own workers (<jobs workers=\"N\">).\n",
      .run = cli_run_worker },
    { "keygen", NULL, file_arg, 0, OP_LOCAL,
      "make a CURVE key pair for the job endpoint (prints the public key)",
      "Writes FILE (mode 0600) with the public and secret key. The engine's goes to\n"
      "<jobs key-file>; each remote worker's public key to <jobs><worker-key>; a\n"
      "worker runs with --key-file FILE --server-key ENGINE-PUBLIC-KEY.\n",
      "expected FILE (the key pair is written there, mode 0600)", cli_run_keygen },

    { "hl7", .summary = "read, inspect and acknowledge HL7 v2 message files" },
    { "hl7", "get", hl7_get_args, 0, OP_LOCAL,
      "print the decoded value at PATH, one line per repetition",
      "PATH is SEG[n]-FIELD[rep].COMPONENT.SUBCOMPONENT, e.g. PID-3, PID-3[2].1,\n"
      "PID-5.1.1, OBX[3]-5, MSH-9.2. FILE '-' reads stdin; a file may hold several\n"
      "messages or FHS/BHS batches. The HL7 null is printed as \"\"; a line break in\n"
      "a value (\\.br\\) as \\n, so that each line is one repetition.\n"
      "Exit status: 0 found (in any message of the file), 1 absent from all, 2 usage\n"
      "error, 3 unreadable or invalid input.\n",
      "expected FILE and PATH", cli_run_hl7_get },
    { "hl7", "show", file_arg, 0, OP_LOCAL,
      "print each message as an indented tree with field numbers",
      "Every non-empty field, repetition, component and subcomponent is listed with\n"
      "the path that 'radlink hl7 get' accepts; leaf values are decoded to UTF-8.\n",
      "expected one FILE", cli_run_hl7_show },
    { "hl7", "ack", hl7_ack_args, 0, OP_LOCAL | OP_DATA,
      "print the ACK the engine would send for each message",
      "The engine decides, and nothing is kept: the header checks, retransmissions,\n"
      "the routes and their worklist and patient actions against the store, exactly\n"
      "as for a received message. With an engine running on the data directory it\n"
      "answers itself; else the store there is used (an empty one when there is\n"
      "none). Exit status 1 when a message would not get AA. With --code, --text,\n"
      "--error-code or --control-id the ACK is built as told instead.\n",
      "expected one FILE", cli_run_hl7_ack },
    { "version", NULL, none, 0, OP_LOCAL,
      "print the version of radlink and of the libraries it uses", .run = cli_run_version },
    END,
};
