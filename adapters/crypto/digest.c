/* SHA-256 through OpenSSL's EVP interface. */
#include "radlink/digest.h"

#include <openssl/evp.h>
#include <stdio.h>

void digest_sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(p, n, md, &len, EVP_sha256(), NULL) != 1)
        len = 0;
    for (unsigned i = 0; i < len && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    out[len ? 64 : 0] = '\0';
}
