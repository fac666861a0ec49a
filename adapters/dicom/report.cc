// Reports into the PACS (radlink/report.h): dicom_report_write checks what
// it is given, builds the object (a Basic Text SR: report_sr.cc; an
// Encapsulated PDF: report_pdf.cc) in Latin-1 when every value fits, else
// in UTF-8, and writes the file (what both objects share: report_common.cc).
extern "C" {
#include "radlink/limits.h"
#include "radlink/report.h"
}
#include "radlink/dicom.h"

#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>

#include "check.h"
#include "report_ds.h"
#include "dcmtk/oflog/oflog.h"
#include "oflog.h"
#include "guard.h"

namespace rl_dicom {

namespace {

void quiet()
{
    rl_dicom::dcmtk_log_into_radlink();
}

int check_uid(const char *what, const char *uid, rl_err *err)
{
    if (valid_uid(uid))
        return 0;
    return rl_err_set(err, DICOM_E_VALUE, -1, "%s \"%s\" is not a UID", what, uid);
}

int check_ref(const char *what, const dicom_report_ref &ref, rl_err *err)
{
    if (ref.study_uid[0] && check_uid(what, ref.study_uid, err))
        return DICOM_E_VALUE;
    if (check_uid(what, ref.sop_class, err) || check_uid(what, ref.sop_uid, err) ||
        check_uid(what, ref.series_uid, err))
        return DICOM_E_VALUE;
    return 0;
}

int check_study(const dicom_report_study *s, rl_err *err)
{
    if (check_uid("the study's Study Instance UID", s->study_uid, err) ||
        check_uid("the report's Series Instance UID", s->series_uid, err) ||
        check_uid("the report's SOP Instance UID", s->sop_uid, err))
        return DICOM_E_VALUE;
    if (s->nevidence && !s->evidence)
        return rl_err_set(err, DICOM_E_VALUE, -1, "%zu evidence references and no array",
                          s->nevidence);
    for (size_t i = 0; i < s->nevidence; i++)
        if (check_ref("an evidence reference's", s->evidence[i], err))
            return DICOM_E_VALUE;
    if (s->predecessor.sop_uid[0] && check_ref("the predecessor's", s->predecessor, err))
        return DICOM_E_VALUE;
    return 0;
}

int check_sections(const report *r, rl_err *err)
{
    if (r->nsections > RL_REPORT_SECTIONS_MAX)
        return rl_err_set(err, DICOM_E_VALUE, -1, "%zu sections, at most %d", r->nsections,
                          RL_REPORT_SECTIONS_MAX);
    if (r->ntexts && !r->texts)
        return rl_err_set(err, DICOM_E_VALUE, -1, "%zu texts and no array", r->ntexts);
    for (size_t i = 0; i < r->nsections; i++) {
        const report_section &sec = r->sections[i];
        if (static_cast<unsigned>(sec.kind) >= REPORT_SECTION_KINDS)
            return rl_err_set(err, DICOM_E_VALUE, -1, "section %zu: unknown kind %d", i + 1,
                              static_cast<int>(sec.kind));
        if (sec.first > r->ntexts || sec.n > r->ntexts - sec.first)
            return rl_err_set(err, DICOM_E_VALUE, -1,
                              "section %zu: texts %zu..%zu, the report has %zu", i + 1,
                              sec.first + 1, sec.first + sec.n, r->ntexts);
    }
    return 0;
}

int build(const report *r, dicom_report_kind k, const dicom_report_study *s, report_text &t,
          DcmFileFormat &ff, rl_err *err)
{
    return k == DICOM_REPORT_PDF ? report_build_pdf(r, s, t, ff, err)
                                 : report_build_sr(r, s, t, ff, err);
}

int save(DcmFileFormat &ff, const char *path, rl_err *err)
{
    OFCondition c = ff.saveFile(path, EXS_LittleEndianExplicit, EET_ExplicitLength,
                                EGL_recalcGL, EPD_noChange, 0, 0, EWM_updateMeta);
    if (c.good())
        return 0;
    std::remove(path); // no half-written report left where the caller sends from
    return rl_err_set(err, DICOM_E_FILE, -1, "%s: %s", path, c.text());
}

int write(const report *r, dicom_report_kind k, const dicom_report_study *s, const char *path,
          rl_err *err)
{
    quiet();
    if (!r || !s || !path)
        return rl_err_set(err, DICOM_E_VALUE, -1, "no report, study or path");
    if (k != DICOM_REPORT_SR && k != DICOM_REPORT_PDF)
        return rl_err_set(err, DICOM_E_VALUE, -1, "unknown report kind %d", static_cast<int>(k));
    int rc = check_study(s, err);
    if (rc == 0)
        rc = check_sections(r, err);
    if (rc)
        return rc;
    auto ff = std::make_unique<DcmFileFormat>();
    report_text t(true);
    rc = build(r, k, s, t, *ff, err);
    if (rc == 0 && t.overflow) { // beyond Latin-1: the whole object again, in UTF-8
        ff = std::make_unique<DcmFileFormat>();
        t = report_text(false);
        rc = build(r, k, s, t, *ff, err);
    }
    if (rc == 0 && !t.bad.empty())
        rc = rl_err_set(err, DICOM_E_VALUE, -1, "%s is not UTF-8", t.bad.c_str());
    return rc ? rc : save(*ff, path, err);
}

} // namespace

} // namespace rl_dicom

extern "C" int dicom_report_write(const struct report *r, dicom_report_kind k,
                                  const dicom_report_study *s, const char *path, rl_err *err)
{
    return rl_dicom::guard(path ? path : "report", err,
                           [&] { return rl_dicom::write(r, k, s, path, err); });
}
