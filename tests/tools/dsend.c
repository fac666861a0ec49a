/* A test helper: send files with dicom_send_files, as a job sends a study,
 * and print its report, one "key value" line each.
 *
 *   dsend CALLING_AE PEER_AE HOST PORT FILE...
 *
 * Exit 0 when every file was accepted, 1 otherwise (the error on stderr;
 * the report is printed either way). */
#include <stdio.h>
#include <string.h>

#include "radlink/dicom.h"

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: dsend CALLING_AE PEER_AE HOST PORT FILE...\n");
        return 1;
    }
    dicom_peer to;
    memset(&to, 0, sizeof to);
    snprintf(to.ae_title, sizeof to.ae_title, "%s", argv[2]);
    snprintf(to.host, sizeof to.host, "%s", argv[3]);
    uint64_t port = 0;
    if (!rl_str_to_u64(rl_str_c(argv[4]), 65535, &port)) {
        fprintf(stderr, "dsend: bad port %s\n", argv[4]);
        return 1;
    }
    to.port = (unsigned)port;
    dicom_send_report rep;
    rl_err err;
    int rc = dicom_send_files(argv[1], &to, (const char *const *)argv + 5, (size_t)(argc - 5),
                              &rep, &err);
    printf("sent %u\nfallbacks %u\nnote %s\n", rep.sent, rep.fallbacks, rep.note);
    if (rc != 0) {
        fprintf(stderr, "dsend: %s\n", err.msg);
        return 1;
    }
    return 0;
}
