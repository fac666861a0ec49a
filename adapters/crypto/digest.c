/* SHA-256 and SHA-1 through OpenSSL's EVP interface; random bytes from
 * OpenSSL's generator. */
#include "radlink/digest.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void digest_sha256_hex(const void *p, size_t n, char out[RL_SHA256_HEX_SIZE])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(p, n, md, &len, EVP_sha256(), NULL) != 1)
        len = 0;
    for (unsigned i = 0; i < len && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    out[len ? 64 : 0] = '\0';
}

/* The bytes of a UUID as "2.25.<decimal>" (RFC 4122 version and variant set). */
static void uuid_uid(unsigned char u[RL_UUID_BYTES], unsigned version,
                     char out[RL_UUID_UID_SIZE])
{
    u[6] = (unsigned char)((u[6] & 0x0f) | (version << 4));
    u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
    unsigned __int128 v = 0;
    for (int i = 0; i < RL_UUID_BYTES; i++)
        v = (v << 8) | u[i];
    char digits[RL_UUID_DIGITS_MAX];
    int n = 0;
    do {
        digits[n++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    memcpy(out, "2.25.", 5);
    for (int i = 0; i < n; i++)
        out[5 + i] = digits[n - 1 - i];
    out[5 + n] = '\0';
}

void digest_uid_from_name(const char *name, char out[RL_UUID_UID_SIZE])
{
    /* radlink's namespace for name-based UUIDs (itself a random UUID) */
    static const unsigned char ns[RL_UUID_BYTES] = { 0x6b, 0x1f, 0x4e, 0x2a, 0x93, 0x0c, 0x4d, 0x51,
                                          0x8a, 0x27, 0x3e, 0xc4, 0x55, 0x90, 0x1d, 0x7e };
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c || EVP_DigestInit_ex(c, EVP_sha1(), NULL) != 1 ||
        EVP_DigestUpdate(c, ns, sizeof ns) != 1 ||
        EVP_DigestUpdate(c, name, strlen(name)) != 1 || EVP_DigestFinal_ex(c, md, &len) != 1)
        memset(md, 0, sizeof md);
    EVP_MD_CTX_free(c);
    uuid_uid(md, 5, out);
}

int digest_uid_random(char out[RL_UUID_UID_SIZE])
{
    unsigned char u[RL_UUID_BYTES];
    if (RAND_bytes(u, sizeof u) != 1)
        return -1;
    uuid_uid(u, 4, out);
    return 0;
}

char *digest_base64(const void *p, size_t n)
{
    if (n > (size_t)0x3fffffff)
        return NULL;
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    if (out)
        EVP_EncodeBlock((unsigned char *)out, p, (int)n);
    return out;
}

int digest_base64_decode(const char *p, size_t n, void *out, size_t *outn)
{
    *outn = 0;
    EVP_ENCODE_CTX *c = EVP_ENCODE_CTX_new();
    if (!c)
        return -1;
    EVP_DecodeInit(c);
    int got = 0, last = 0, rc = 0;
    unsigned char *o = out;
    /* in slices: EVP_DecodeUpdate takes an int length */
    for (size_t off = 0; rc == 0 && off < n;) {
        int k = n - off > (1u << 30) ? 1 << 30 : (int)(n - off);
        if (EVP_DecodeUpdate(c, o + *outn, &got, (const unsigned char *)p + off, k) < 0)
            rc = -1;
        *outn += (size_t)(got > 0 ? got : 0);
        off += (size_t)k;
    }
    if (rc == 0 && EVP_DecodeFinal(c, o + *outn, &last) != 1)
        rc = -1;
    *outn += (size_t)(rc == 0 && last > 0 ? last : 0);
    EVP_ENCODE_CTX_free(c);
    return rc;
}

int digest_random(void *out, size_t n)
{
    return RAND_bytes(out, (int)n) == 1 ? 0 : -1;
}

int digest_scrypt(const char *password, size_t pwn, const void *salt, size_t saltn, uint64_t N,
                  uint64_t r, uint64_t p, void *out, size_t outn)
{
    /* maxmem: what the parameters need, and a little more */
    uint64_t mem = 128 * N * r + 128 * r * p + (1u << 20);
    return EVP_PBE_scrypt(password, pwn, salt, saltn, N, r, p, mem, out, outn) == 1 ? 0 : -1;
}

int digest_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

int digest_copy_file(const char *src, const char *dst, unsigned mode, bool sync,
                     char hex[RL_SHA256_HEX_SIZE], uint64_t *size)
{
    int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, e = 0;
    if (in < 0)
        return -1;
    if (dst && (out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)) < 0) {
        e = errno;
        close(in);
        errno = e;
        return -1;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 ? 0 : -1;
    static __thread unsigned char buf[RL_IO_CHUNK];
    *size = 0;
    while (rc == 0) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -1 : 0;
            break;
        }
        *size += (uint64_t)n;
        EVP_DigestUpdate(ctx, buf, (size_t)n);
        for (ssize_t done = 0; out >= 0 && done < n;) {
            ssize_t w = write(out, buf + done, (size_t)(n - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                rc = -1;
                break;
            }
            done += w;
        }
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (rc == 0 && EVP_DigestFinal_ex(ctx, md, &len) != 1)
        rc = -1;
    if (rc == 0 && out >= 0 && sync && fsync(out) != 0)
        rc = -1;
    e = errno;
    for (unsigned i = 0; rc == 0 && i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    EVP_MD_CTX_free(ctx);
    close(in);
    if (out >= 0)
        close(out);
    errno = e;
    return rc;
}
