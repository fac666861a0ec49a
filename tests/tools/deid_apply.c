/* De-identify one DICOM file as a <send><deidentify> does, for the tests:
 *
 *   deid_apply IN OUT SECRET [--options "retain-uids clean-descriptions"]
 *              [--keep-private CREATOR]... [--repeat N] [--save-anyway]
 *              [--no-secret]
 *   deid_apply LIST OUTDIR SECRET --list [options as above]
 *
 * SECRET is a file of DICOM_DEID_SECRET_SIZE bytes. OUT is written with
 * dicom_ds_save in the transfer syntax IN has. --repeat N opens, de-
 * identifies and saves N times (a timing loop) and prints how many
 * instances a second, the whole and de-identification alone.
 * --save-anyway writes OUT even when de-identification refused (to show
 * what it left); --no-secret does not set the secret. Exit status: 0 done;
 * 3 refused because the instance may hold burned-in text (OUT not written
 * unless --save-anyway); 2 another failure; 1 usage. The reason goes to
 * standard error. --list takes a file naming one input a line, writes each
 * to OUTDIR under its own name, in one process (the benchmark's loop), and
 * prints "RESULT mode=radlink instances=N seconds=S". */
#include <libgen.h>
#include <stdbool.h>
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
                    "[--keep-private CREATOR]... [--repeat N] [--save-anyway] [--no-secret] [--list]\n",
            why);
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

static bool save_anyway;

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Open, de-identify, save once: 0, or the code with the reason printed.
 * secret NULL: none is set. *deid_s gets the time de-identification took. */
static int apply_once(const char *in, const char *out, const uint8_t *secret, const route_deid *d,
                      double *deid_s)
{
    rl_err err = { 0 };
    dicom_ds *ds = NULL;
    int rc = dicom_ds_open(in, &ds, &err);
    if (rc == 0) {
        if (secret)
            dicom_ds_set_secret(ds, secret);
        double t0 = seconds();
        rc = dicom_ds_deidentify(ds, d, &err);
        *deid_s += seconds() - t0;
    }
    int refused = rc;
    if (rc == 0 || (save_anyway && ds)) {
        rl_err serr = { 0 };
        int src = dicom_ds_save(ds, out, ROUTE_TS_KEEP, "COERCE", NULL, &serr);
        if (rc == 0 && src != 0) {
            rc = src;
            err = serr;
        }
    }
    if (rc != 0)
        fprintf(stderr, "deid_apply: %s: %s\n", rl_strerror(rc), err.msg);
    dicom_ds_free(ds);
    return refused ? refused : rc;
}

/* --list: every file LIST names, into OUTDIR; 0 or deid_apply's status. */
static int apply_list(const char *list, const char *outdir, const uint8_t *secret, const route_deid *d)
{
    FILE *f = fopen(list, "r");
    if (!f) {
        perror(list);
        return 2;
    }
    char in[4096], out[4096 + 256];
    long n = 0;
    int rc = 0;
    double t0 = seconds(), deid_s = 0;
    while (rc == 0 && fgets(in, sizeof in, f)) {
        in[strcspn(in, "\n")] = '\0';
        if (!in[0])
            continue;
        char base[sizeof in];
        memcpy(base, in, sizeof in);
        int w = snprintf(out, sizeof out, "%s/%s", outdir, basename(base));
        if (w < 0 || (size_t)w >= sizeof out) {
            fprintf(stderr, "deid_apply: %s: the output path is too long\n", in);
            rc = 2;
            break;
        }
        rc = apply_once(in, out, secret, d, &deid_s);
        n++;
    }
    fclose(f);
    if (rc != 0)
        return rc == DICOM_E_BURNED_IN ? 3 : 2;
    printf("RESULT mode=radlink instances=%ld seconds=%.3f deid_seconds=%.3f\n", n, seconds() - t0, deid_s);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return usage("IN, OUT and SECRET are needed");
    route_deid d = { 0, "" };
    char keep[4096] = "";
    size_t keepn = 0;
    long repeat = 1;
    bool no_secret = false, list = false;
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
        } else if (strcmp(argv[i], "--save-anyway") == 0) {
            save_anyway = true;
        } else if (strcmp(argv[i], "--no-secret") == 0) {
            no_secret = true;
        } else if (strcmp(argv[i], "--list") == 0) {
            list = true;
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
    if (list)
        return apply_list(argv[1], argv[2], no_secret ? NULL : secret, &d);
    double t0 = seconds(), deid_s = 0;
    for (long i = 0; i < repeat; i++) {
        int rc = apply_once(argv[1], argv[2], no_secret ? NULL : secret, &d, &deid_s);
        if (rc != 0)
            return rc == DICOM_E_BURNED_IN ? 3 : 2;
    }
    double all_s = seconds() - t0;
    if (repeat > 1)
        printf("%ld instances: open, de-identify and save %.0f/s; de-identify alone %.0f/s\n",
               repeat, (double)repeat / all_s, (double)repeat / deid_s);
    return 0;
}
