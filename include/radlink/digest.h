/* Digests for checksums that people compare with sha256sum (route files). */
#ifndef RADLINK_DIGEST_H
#define RADLINK_DIGEST_H

#include <stddef.h>

/* Hex SHA-256 of p[0..n) into out (at least 65 bytes). */
void digest_sha256_hex(const void *p, size_t n, char out[65]);

#endif
