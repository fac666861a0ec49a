/* Digests for checksums that people compare with sha256sum (route files),
 * and UUID-derived DICOM UIDs (PS3.5 B.2: "2.25." and the UUID as one
 * decimal integer). */
#ifndef RADLINK_DIGEST_H
#define RADLINK_DIGEST_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Hex SHA-256 of p[0..n) into out (at least 65 bytes). */
void digest_sha256_hex(const void *p, size_t n, char out[65]);

/* A UID from a name-based UUID (version 5, SHA-1, in radlink's namespace):
 * the same name always gives the same UID, so that an attempt sent again
 * makes the same new instances. out: at least 45 bytes. */
void digest_uid_from_name(const char *name, char out[45]);

/* p[0..n) in base64 (RFC 4648, one line, no line breaks) into out, a
 * malloc'd NUL-terminated string the caller frees; NULL when out of memory. */
char *digest_base64(const void *p, size_t n);

/* A UID from a random UUID (version 4). 0, or -1 when the system has no
 * randomness to give. */
int digest_uid_random(char out[45]);

#ifdef __cplusplus
}
#endif

#endif
