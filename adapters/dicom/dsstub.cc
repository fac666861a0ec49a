// Placeholders of the data set's route face while it is being built
// (radlink/dicom.h: dicom_ds_io, dicom_dict): everything refused.
extern "C" {
#include "radlink/util.h"
}
#include "radlink/dicom.h"

namespace {

int no_path(const char *text, dicom_path *p, rl_err *err)
{
    (void)p;
    return rl_err_set(err, DICOM_E_INTERNAL, -1, "%s: the DICOM dictionary is not available", text);
}

int no_value(const dicom_path *p, const char *value, rl_err *err)
{
    (void)p, (void)value;
    return rl_err_set(err, DICOM_E_INTERNAL, -1, "the DICOM dictionary is not available");
}

int no_class(const char *name, char *uid, size_t n, rl_err *err)
{
    (void)uid, (void)n;
    return rl_err_set(err, DICOM_E_INTERNAL, -1, "%s: the DICOM dictionary is not available",
                      name);
}

int no_get(void *ds, const dicom_path *p, route_dcm_value_fn cb, void *ctx)
{
    (void)ds, (void)p, (void)cb, (void)ctx;
    return 0;
}

int no_set(void *ds, const dicom_path *p, rl_str value, rl_err *err)
{
    (void)ds, (void)p, (void)value;
    return rl_err_set(err, DICOM_E_INTERNAL, -1, "data set changes are not available");
}

int no_remove(void *ds, const dicom_path *p, rl_err *err)
{
    (void)ds, (void)p;
    return rl_err_set(err, DICOM_E_INTERNAL, -1, "data set changes are not available");
}

int deid(void *ds, const route_deid *d, rl_err *err)
{
    return dicom_ds_deidentify(static_cast<dicom_ds *>(ds), d, err);
}

} // namespace

extern "C" const route_dcm_io dicom_ds_io = { no_get, no_set, no_remove, deid };
extern "C" const route_dicom_dict dicom_dict = { no_path, no_value, no_class };
