/* Digests for checksums that people compare with sha256sum (route files),
 * and UUID-derived DICOM UIDs (PS3.5 B.2: "2.25." and the UUID as one
 * decimal integer). */
#ifndef RADLINK_DIGEST_H
#define RADLINK_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "radlink/limits.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Hex SHA-256 of p[0..n) into out (at least RL_SHA256_HEX_SIZE bytes). */
void digest_sha256_hex(const void *p, size_t n, char out[RL_SHA256_HEX_SIZE]);

/* A UID from a name-based UUID (version 5, SHA-1, in radlink's namespace):
 * the same name always gives the same UID, so that an attempt sent again
 * makes the same new instances. out: at least RL_UUID_UID_SIZE bytes. */
void digest_uid_from_name(const char *name, char out[RL_UUID_UID_SIZE]);

/* p[0..n) in base64 (RFC 4648, one line, no line breaks) into out, a
 * malloc'd NUL-terminated string the caller frees; NULL when out of memory. */
char *digest_base64(const void *p, size_t n);
/* Decode base64 text p[0..n) (line breaks and spaces between its groups
 * allowed) into out (room for 3 * (n / 4) + 3 bytes); *outn gets the
 * length. 0, or -1 when it is not base64. */
int digest_base64_decode(const char *p, size_t n, void *out, size_t *outn);

/* Copy the file src to dst (created with mode; synced when sync, else the
 * caller syncs the file system once at the end), or only read src when dst
 * is NULL, computing its SHA-256 (hex) and size on the way. 0, or -1 with
 * errno set. */
int digest_copy_file(const char *src, const char *dst, unsigned mode, bool sync,
                     char hex[RL_SHA256_HEX_SIZE], uint64_t *size);

/* A UID from a random UUID (version 4). 0, or -1 when the system has no
 * randomness to give. */
int digest_uid_random(char out[RL_UUID_UID_SIZE]);

/* n random bytes from OpenSSL's generator: 0, or -1 when it has none. */
int digest_random(void *out, size_t n);

/* scrypt (RFC 7914) of password with salt, cost N (a power of two), r, p,
 * into out[0..outn). 0, or -1 (parameters past OpenSSL's memory limit, or
 * out of memory). Uses 128 * N * r bytes for the call. */
int digest_scrypt(const char *password, size_t pwn, const void *salt, size_t saltn, uint64_t N,
                  uint64_t r, uint64_t p, void *out, size_t outn);

/* Compare a and b in time independent of where they differ: 1 equal. */
int digest_equal(const void *a, const void *b, size_t n);

#ifdef __cplusplus
}
#endif

#endif
