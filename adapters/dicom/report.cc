// Reports into the PACS (radlink/report.h): dicom_report_write checks what
// it is given, builds the object (a Basic Text SR: report_sr.cc; an
// Encapsulated PDF: report_pdf.cc) in Latin-1 when every value fits, else
// in UTF-8, and writes the file. Here too what both objects share: the
// character set, the patient, study, series and instance attributes.
extern "C" {
#include "radlink/limits.h"
#include "radlink/report.h"
}
#include "radlink/dicom.h"

#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>

#include "charset.h"
#include "check.h"
#include "report_ds.h"
#include "dcmtk/oflog/oflog.h"
#include "guard.h"

namespace rl_dicom {

namespace {

// RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF.
bool utf8_valid(const std::string &s)
{
    const unsigned char *p = reinterpret_cast<const unsigned char *>(s.data());
    size_t n = s.size(), i = 0;
    while (i < n) {
        unsigned c = p[i];
        size_t k = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2
                 : (c & 0xf8) == 0xf0 ? 3 : 4;
        if (k == 4 || k > n - i - 1)
            return false;
        unsigned cp = k == 0 ? c : c & (0x3f >> k);
        for (size_t j = 1; j <= k; j++) {
            if ((p[i + j] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + j] & 0x3f);
        }
        static const unsigned least[] = { 0, 0x80, 0x800, 0x10000 };
        if (cp < least[k] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += k + 1;
    }
    return true;
}

} // namespace

std::string report_text::put(const char *what, const std::string &utf8)
{
    std::string out;
    if (latin1_) {
        if (from_utf8("ISO_IR 100", utf8, out))
            return out;
        overflow = true; // some character Latin-1 has not (or not UTF-8 at all): this
        return utf8;     // build is dropped, the value only keeps it going
    }
    if (!utf8_valid(utf8) && bad.empty())
        bad = what;
    return utf8;
}

void report_when(const report *r, std::string &date, std::string &time)
{
    if (r->content_date[0]) {
        date = r->content_date;
        time = r->content_time;
    } else if (r->observed_date[0]) {
        date = r->observed_date;
        time = r->observed_time;
    } else {
        std::time_t now = std::time(nullptr);
        struct tm tm;
        localtime_r(&now, &tm);
        char d[16], t[16];
        std::strftime(d, sizeof d, "%Y%m%d", &tm);
        std::strftime(t, sizeof t, "%H%M%S", &tm);
        date = d;
        time = t;
    }
    if (time.empty())
        time = "000000"; // a date without its time: the day's start (Content Time is Type 1 in SR)
}

namespace {

OFCondition put(DcmItem *ds, const DcmTagKey &k, const std::string &v)
{
    return ds->putAndInsertOFStringArray(k, OFString(v.data(), v.size()));
}

OFCondition put_patient_study(DcmItem *ds, const report *r, const dicom_report_study *s,
                              report_text &t)
{
    OFCondition c = put(ds, DCM_PatientName,
                        t.put("the patient's name", study_or(s->patient_name, r->patient_name)));
    if (c.good())
        c = put(ds, DCM_PatientID, t.put("the patient ID", study_or(s->patient_id, r->patient_id)));
    if (c.good() && s->issuer[0])
        c = put(ds, DCM_IssuerOfPatientID, t.put("the issuer of the patient ID", s->issuer));
    if (c.good())
        c = put(ds, DCM_PatientBirthDate, s->birth_date);
    if (c.good())
        c = put(ds, DCM_PatientSex, s->sex);
    if (c.good())
        c = put(ds, DCM_StudyInstanceUID, s->study_uid);
    if (c.good())
        c = put(ds, DCM_StudyDate, s->study_date);
    if (c.good())
        c = put(ds, DCM_StudyTime, s->study_time);
    if (c.good())
        c = put(ds, DCM_StudyID, t.put("the study ID", s->study_id));
    if (c.good())
        c = put(ds, DCM_AccessionNumber,
                t.put("the accession number", study_or(s->accession, r->accession)));
    if (c.good())
        c = put(ds, DCM_ReferringPhysicianName, t.put("the referring physician", s->referring));
    return c;
}

} // namespace

OFCondition report_put_common(DcmItem *ds, const report *r, const dicom_report_study *s,
                              report_text &t)
{
    std::string date, time;
    report_when(r, date, time);
    OFCondition c = put(ds, DCM_SpecificCharacterSet, t.scs());
    if (c.good())
        c = put_patient_study(ds, r, s, t);
    if (c.good())
        c = put(ds, DCM_SeriesInstanceUID, s->series_uid);
    if (c.good())
        c = put(ds, DCM_SOPInstanceUID, s->sop_uid);
    if (c.good())
        c = put(ds, DCM_SeriesNumber, std::to_string(s->series_number));
    if (c.good())
        c = put(ds, DCM_InstanceNumber, std::to_string(s->instance_number));
    if (c.good())
        c = put(ds, DCM_Manufacturer, "radlink");
    if (c.good())
        c = put(ds, DCM_ContentDate, date);
    if (c.good())
        c = put(ds, DCM_ContentTime, time);
    return c;
}

OFCondition report_put_code(DcmItem *ds, const DcmTagKey &seq, const char *value,
                            const char *scheme, const std::string &meaning)
{
    DcmItem *it = nullptr;
    OFCondition c = ds->findOrCreateSequenceItem(seq, it, -2);
    if (c.bad())
        return c;
    // a code value past SH's 16 characters goes in Long Code Value (PS3.3 8.8)
    c = put(it, std::strlen(value) > 16 ? DCM_LongCodeValue : DCM_CodeValue, value);
    if (c.good())
        c = put(it, DCM_CodingSchemeDesignator, scheme);
    if (c.good())
        c = put(it, DCM_CodeMeaning, meaning);
    return c;
}

namespace {

void quiet()
{
    static std::once_flag once;
    std::call_once(once, [] { OFLog::configure(OFLogger::ERROR_LOG_LEVEL); });
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
