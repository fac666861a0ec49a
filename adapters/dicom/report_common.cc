// What the two report writers share (report_ds.h): the object's
// character set, Latin-1 or UTF-8, value by value; the report's content
// date and time; the patient, study, series and instance attributes; code
// sequence items.
extern "C" {
#include "radlink/report.h"
}
#include "radlink/dicom.h"

#include <cstring>
#include <ctime>
#include <string>

#include "charset.h"
#include "report_ds.h"

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

std::string report_text::enc(const char *what, const std::string &utf8)
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
                        t.enc("the patient's name", study_or(s->patient_name, r->patient_name)));
    if (c.good())
        c = put(ds, DCM_PatientID, t.enc("the patient ID", study_or(s->patient_id, r->patient_id)));
    if (c.good() && s->issuer[0])
        c = put(ds, DCM_IssuerOfPatientID, t.enc("the issuer of the patient ID", s->issuer));
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
        c = put(ds, DCM_StudyID, t.enc("the study ID", s->study_id));
    if (c.good())
        c = put(ds, DCM_AccessionNumber,
                t.enc("the accession number", study_or(s->accession, r->accession)));
    if (c.good())
        c = put(ds, DCM_ReferringPhysicianName, t.enc("the referring physician", s->referring));
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

} // namespace rl_dicom
