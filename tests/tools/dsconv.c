/* A test helper: open a DICOM file, change it through dicom_ds_io as a
 * DICOM route's coercions would, save it in a transfer syntax and print
 * what dicom_saved says, one "key value" line each.
 *
 *   dsconv IN OUT TS [--set PATH=VALUE | --remove PATH | --reason TEXT]...
 *
 * TS is a route file's transfer-syntax name (keep, explicit-little,
 * jpeg-ls-lossless, jpeg2000-lossless, rle). Exit 0; 2 when the pixel data
 * cannot be converted (DICOM_E_CODEC); 3 when a value is refused; 1 for
 * anything else. Errors on stderr. */
#include <stdio.h>
#include <string.h>

#include "radlink/dicom.h"

static int usage(void)
{
    fprintf(stderr, "usage: dsconv IN OUT TS [--set PATH=VALUE | --remove PATH | --reason TEXT]...\n");
    return 1;
}

static int ts_of(const char *name, route_ts *ts)
{
    for (int i = 0; i < ROUTE_TS_COUNT; i++)
        if (!strcmp(route_dicom_ts_name((route_ts)i), name)) {
            *ts = (route_ts)i;
            return 0;
        }
    return -1;
}

static int change(dicom_ds *ds, const char *op, const char *arg, rl_err *err)
{
    char text[DICOM_PATH_TEXT_MAX + 1];
    const char *eq = strchr(arg, '=');
    size_t n = !strcmp(op, "--set") && eq ? (size_t)(eq - arg) : strlen(arg);
    if (n >= sizeof text)
        return rl_err_set(err, DICOM_E_VALUE, -1, "%s: path too long", arg);
    memcpy(text, arg, n);
    text[n] = '\0';
    dicom_path p;
    int rc = dicom_dict.path_parse(text, &p, err);
    if (rc)
        return rc;
    if (!strcmp(op, "--remove"))
        return dicom_ds_io.remove(ds, &p, err);
    if (!eq)
        return rl_err_set(err, DICOM_E_VALUE, -1, "--set %s: PATH=VALUE expected", arg);
    return dicom_ds_io.set(ds, &p, rl_str_c(eq + 1), err);
}

static int exit_for(int rc)
{
    return rc == DICOM_E_CODEC ? 2 : rc == DICOM_E_VALUE ? 3 : 1;
}

int main(int argc, char **argv)
{
    route_ts ts;
    if (argc < 4 || ts_of(argv[3], &ts) != 0)
        return usage();
    rl_err err;
    dicom_ds *ds = NULL;
    int rc = dicom_ds_open(argv[1], &ds, &err);
    const char *reason = "COERCE";
    for (int i = 4; rc == 0 && i < argc; i += 2) {
        if (i + 1 >= argc) {
            dicom_ds_free(ds);
            return usage();
        }
        if (!strcmp(argv[i], "--reason"))
            reason = argv[i + 1];
        else if (!strcmp(argv[i], "--set") || !strcmp(argv[i], "--remove"))
            rc = change(ds, argv[i], argv[i + 1], &err);
        else
            rc = rl_err_set(&err, DICOM_E_VALUE, -1, "unknown option %s", argv[i]);
    }
    dicom_saved res;
    if (rc == 0)
        rc = dicom_ds_save(ds, argv[2], ts, reason, &res, &err);
    dicom_ds_free(ds);
    if (rc != 0) {
        fprintf(stderr, "dsconv: %s\n", err.msg);
        return exit_for(rc);
    }
    printf("changed %u\nts %s\nlossy %s\nnote %s\nsop %s\n", res.changed, res.ts_uid,
           res.lossy ? "yes" : "no", res.note, res.now.sop_uid);
    return 0;
}
