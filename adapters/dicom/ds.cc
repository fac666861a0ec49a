// Data sets for DICOM routes (radlink/dicom.h, dicom_ds): read whole,
// copied, written with the values their changes replaced in one Original
// Attributes Sequence item (PS3.3 C.12.1.1.9).
extern "C" {
#include "radlink/dicom.h"
#include "radlink/limits.h"
#include "radlink/util.h"
}

#include <cstdio>
#include <cstring>
#include <ctime>
#include <exception>
#include <mutex>
#include <new>
#include <string>

#include "ds.h"
#include "tags.h"
#include "transcode.h"
#include "dcmtk/oflog/oflog.h"
#include "oflog.h"
#include "guard.h"

using rl_dicom::key_of;

namespace {

using rl_dicom::guard;

std::string uid_of(DcmItem *ds, const DcmTagKey &k)
{
    OFString v;
    ds->findAndGetOFString(k, v);
    return std::string(v.c_str(), v.length());
}

// "20261206101530.123456+0100"-like, local time, for Attribute Modification DateTime.
std::string now_dt()
{
    std::time_t t = std::time(nullptr);
    struct tm tm;
    localtime_r(&t, &tm);
    char b[RL_DICOM_DT_MAX];
    std::strftime(b, sizeof b, "%Y%m%d%H%M%S", &tm);
    return b;
}

// DCMTK's own console lines (a file's odd length, a codec's choices) go
// into radlink's log, at debug.
void quiet()
{
    rl_dicom::dcmtk_log_into_radlink();
}

// The changes since the last save as one Original Attributes Sequence item.
OFCondition record_old(dicom_ds *d, const char *reason)
{
    if (d->old.empty())
        return EC_Normal;
    DcmDataset *ds = d->dataset();
    DcmItem *orig = nullptr, *mod = nullptr;
    OFCondition c = ds->findOrCreateSequenceItem(DCM_OriginalAttributesSequence, orig, -2);
    if (c.good())
        c = orig->findOrCreateSequenceItem(DCM_ModifiedAttributesSequence, mod, 0);
    for (size_t i = 0; c.good() && i < d->old.size(); i++) {
        dicom_ds_old &o = d->old[i];
        if (o.was)
            c = mod->insert(static_cast<DcmElement *>(o.was->clone()), OFTrue);
        else // it was absent: recorded empty
            c = mod->insertEmptyElement(DcmTag(key_of(o.tag)), OFTrue);
    }
    if (c.good())
        c = orig->putAndInsertString(DCM_AttributeModificationDateTime, now_dt().c_str());
    if (c.good())
        c = orig->putAndInsertString(DCM_ModifyingSystem, "radlink");
    if (c.good())
        c = orig->putAndInsertString(DCM_SourceOfPreviousValues, "");
    if (c.good())
        c = orig->putAndInsertString(DCM_ReasonForTheAttributeModification, reason);
    return c;
}

} // namespace

namespace rl_dicom {

dicom_ds *ds_borrow(DcmFileFormat &ff)
{
    dicom_ds *d = new dicom_ds();
    d->borrowed = &ff;
    return d;
}

} // namespace rl_dicom

extern "C" int dicom_ds_open(const char *path, dicom_ds **out, rl_err *err)
{
    *out = nullptr;
    quiet();
    return guard(path, err, [&] {
        dicom_ds *d = new dicom_ds();
        OFCondition c = d->ff.loadFile(path);
        if (c.good())
            c = d->ff.loadAllDataIntoMemory();
        if (c.bad()) {
            delete d;
            return rl_err_set(err, DICOM_E_FILE, -1, "%s: %s", path, c.text());
        }
        *out = d;
        return 0;
    });
}

extern "C" int dicom_ds_clone(const dicom_ds *src, dicom_ds **out, rl_err *err)
{
    *out = nullptr;
    return guard("copying a data set", err, [&] {
        dicom_ds *s = const_cast<dicom_ds *>(src);
        dicom_ds *d = new dicom_ds();
        d->ff = s->file();
        for (const dicom_ds_old &o : s->old)
            d->old.push_back(dicom_ds_old{
                o.tag, std::unique_ptr<DcmElement>(
                           o.was ? static_cast<DcmElement *>(o.was->clone()) : nullptr) });
        if (s->before_utf8)
            d->before_utf8.reset(static_cast<DcmItem *>(s->before_utf8->clone()));
        d->have_secret = s->have_secret;
        std::memcpy(d->secret, s->secret, sizeof d->secret);
        *out = d;
        return 0;
    });
}

extern "C" void dicom_ds_free(dicom_ds *d)
{
    delete d;
}

extern "C" unsigned dicom_ds_changed(const dicom_ds *d)
{
    return unsigned(d->old.size());
}

extern "C" void dicom_ds_info(const dicom_ds *src, dicom_file_info *info)
{
    dicom_ds *d = const_cast<dicom_ds *>(src);
    DcmDataset *ds = d->dataset();
    std::snprintf(info->sop_class, sizeof info->sop_class, "%s",
                  uid_of(ds, DCM_SOPClassUID).c_str());
    std::snprintf(info->sop_uid, sizeof info->sop_uid, "%s", uid_of(ds, DCM_SOPInstanceUID).c_str());
    std::snprintf(info->series_uid, sizeof info->series_uid, "%s",
                  uid_of(ds, DCM_SeriesInstanceUID).c_str());
    std::snprintf(info->study_uid, sizeof info->study_uid, "%s",
                  uid_of(ds, DCM_StudyInstanceUID).c_str());
}

extern "C" void dicom_ds_set_secret(dicom_ds *d, const uint8_t secret[DICOM_DEID_SECRET_SIZE])
{
    std::memcpy(d->secret, secret, DICOM_DEID_SECRET_SIZE);
    d->have_secret = true;
}

extern "C" int dicom_ds_save(dicom_ds *d, const char *path, route_ts ts, const char *reason,
                             dicom_saved *res, rl_err *err)
{
    dicom_saved local;
    if (!res)
        res = &local;
    std::memset(res, 0, sizeof *res);
    return guard(path, err, [&] {
        // a borrowed file may still hold large values in the file it was
        // read from, which may be the one written here
        OFCondition c = d->file().loadAllDataIntoMemory();
        if (c.bad())
            return rl_err_set(err, DICOM_E_FILE, -1, "%s: %s", path, c.text());
        rl_dicom::Transcoded t;
        std::string why;
        if (!rl_dicom::transcode(d->dataset(), ts, t, why))
            return rl_err_set(err, DICOM_E_CODEC, -1, "%s: %s", path, why.c_str());
        res->changed = unsigned(d->old.size());
        c = record_old(d, reason && *reason ? reason : "COERCE");
        if (c.good())
            c = d->file().saveFile(path, t.xfer, EET_ExplicitLength, EGL_recalcGL, EPD_noChange,
                                   0, 0, EWM_updateMeta);
        if (c.bad())
            return rl_err_set(err, DICOM_E_FILE, -1, "%s: %s", path, c.text());
        d->old.clear();
        d->before_utf8.reset();
        std::snprintf(res->ts_uid, sizeof res->ts_uid, "%s", DcmXfer(t.xfer).getXferID());
        res->lossy = t.lossy;
        std::snprintf(res->note, sizeof res->note, "%s", t.note.c_str());
        dicom_ds_info(d, &res->now);
        return 0;
    });
}
