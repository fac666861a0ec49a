/* CURVE key files (engine/job/keyfile.c), written by `radlink keygen`:
 * "public-key Z85" and "secret-key Z85" lines. The engine reads its own for
 * the remote workers' tcp endpoint, a remote worker its own. */
#ifndef RADLINK_KEYFILE_H
#define RADLINK_KEYFILE_H

#include "radlink/limits.h"
#include "radlink/util.h"

/* Both keys of the file at path into pub and sec (NUL-terminated). 0, or
 * JOB_E_KEYS with the reason (the file cannot be read, or lacks a line). */
int keyfile_read(const char *path, char pub[RL_CURVE_KEY_SIZE], char sec[RL_CURVE_KEY_SIZE],
                 rl_err *err);

#endif
