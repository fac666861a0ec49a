/* De-identify one DICOM file as a <send><deidentify> does, for the tests:
 *
 *   deid_apply IN OUT SECRET [--options "retain-uids clean-descriptions"]
 *              [--keep-private CREATOR]... [--repeat N]
 *
 * SECRET is a file of DICOM_DEID_SECRET_SIZE bytes. OUT is written with
 * dicom_ds_save in the transfer syntax IN has. --repeat N opens, de-
 * identifies and saves N times (a timing loop) and prints how many
 * instances a second. Exit status: 0 done; 3 refused because the instance
 * may hold burned-in text (OUT not written); 2 another failure; 1 usage.
 * The reason goes to standard error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "radlink/dicom.h"
#include "radlink/route_dicom.h"

static const char *const option_names[] = {
    "retain-longitudinal-dates", "retain-patient-characteristics", "retain-device-identity",
    "retain-institution-identity", "retain-uids", "clean-descriptions",
};

static int usage(const char *why)
{
    fprintf(stderr, "deid_apply: %s\nusage: deid_apply IN OUT SECRET [--options \"...\"] "
                    "[--keep-private CREATOR]... [--repeat N]\n", why);
    return 1;
}

/* Space-separated option names into route_deid_option bits; -1 if one is unknown. */
static long parse_options(const char *text)
{
    unsigned bits = 0;
    const char *p = text;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (n == 0)
            break;
        size_t i;
        for (i = 0; i < sizeof option_names / sizeof option_names[0]; i++)
            if (strlen(option_names[i]) == n && memcmp(option_names[i], p, n) == 0)
                break;
        if (i == sizeof option_names / sizeof option_names[0])
            return -1;
        bits |= 1u << i;
        p += n;
    }
    return (long)bits;
}

static int read_secret(const char *path, uint8_t secret[DICOM_DEID_SECRET_SIZE])
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    uint8_t extra;
    size_t n = fread(secret, 1, DICOM_DEID_SECRET_SIZE, f);
    size_t more = fread(&extra, 1, 1, f);
    fclose(f);
    return n == DICOM_DEID_SECRET_SIZE && more == 0 ? 0 : -1;
}

/* Open, de-identify, save once: 0, or the code with the reason printed. */
static int apply_once(const char *in, const char *out, const uint8_t *secret, const route_deid *d)
{
    rl_err err = { 0 };
    dicom_ds *ds = NULL;
    int rc = dicom_ds_open(in, &ds, &err);
    if (rc == 0) {
        dicom_ds_set_secret(ds, secret);
        rc = dicom_ds_deidentify(ds, d, &err);
    }
    if (rc == 0)
        rc = dicom_ds_save(ds, out, ROUTE_TS_KEEP, "COERCE", NULL, &err);
    if (rc != 0)
        fprintf(stderr, "deid_apply: %s: %s\n", rl_strerror(rc), err.msg);
    dicom_ds_free(ds);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return usage("IN, OUT and SECRET are needed");
    route_deid d = { 0, "" };
    char keep[4096] = "";
    size_t keepn = 0;
    long repeat = 1;
    for (int i = 4; i < argc; i++) {
        if (strcmp(argv[i], "--options") == 0 && i + 1 < argc) {
            long bits = parse_options(argv[++i]);
            if (bits < 0)
                return usage("an unknown option in --options");
            d.options = (unsigned)bits;
        } else if (strcmp(argv[i], "--keep-private") == 0 && i + 1 < argc) {
            int n = snprintf(keep + keepn, sizeof keep - keepn, "%s%s", keepn ? "\n" : "", argv[++i]);
            if (n < 0 || (size_t)n >= sizeof keep - keepn)
                return usage("too many --keep-private");
            keepn += (size_t)n;
        } else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
            char *end;
            repeat = strtol(argv[++i], &end, 10);
            if (*end || repeat < 1)
                return usage("--repeat takes a count");
        } else {
            return usage("an unknown argument");
        }
    }
    d.keep_private = keep;
    uint8_t secret[DICOM_DEID_SECRET_SIZE];
    if (read_secret(argv[3], secret) != 0)
        return usage("SECRET must be a file of exactly 32 bytes");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < repeat; i++) {
        int rc = apply_once(argv[1], argv[2], secret, &d);
        if (rc != 0)
            return rc == DICOM_E_BURNED_IN ? 3 : 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (repeat > 1) {
        double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        printf("%ld instances in %.3f s: %.0f instances/s\n", repeat, s, (double)repeat / s);
    }
    return 0;
}
