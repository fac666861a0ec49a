// A report as a Basic Text SR (an Enhanced SR when it carries numbers)
// (dcmsr) following TID 2000 "Basic Diagnostic
// Imaging Report" (PS3.16): a root CONTAINER titled (18748-4, LN) with the
// report's title, the observer and the procedure reported as its context,
// one CONTAINER per section (CID 7001's headings) holding a TEXT item per
// OBX text and a NUM item per OBX number; Completion, Verification and Preliminary Flags from OBR-25,
// the Verifying Observer Sequence from OBR-32, the Referenced Request
// Sequence, the study's instances as evidence and the report it amends as
// predecessor.
extern "C" {
#include "radlink/report.h"
}
#include "radlink/dicom.h"

#include <cstring>
#include <string>

#include "report_ds.h"
#include "dcmtk/dcmsr/dsrdoc.h"

namespace rl_dicom {

namespace {

// A section's heading and the name of each of its texts (PS3.16 CID 7001
// and CID 7002; DCM codes, by the order of report_section_kind).
struct section_names {
    const char *code, *meaning, *item_code, *item_meaning;
};
const section_names names[REPORT_SECTION_KINDS] = {
    { "121070", "Findings", "121071", "Finding" },
    { "121072", "Impressions", "121073", "Impression" },
    { "121060", "History", "121060", "History" },
    { "121078", "Addendum", "121078", "Addendum" },
    { "121074", "Recommendations", "121075", "Recommendation" },
    { "121076", "Conclusions", "121077", "Conclusion" },
};

// UT's longest value (PS3.5 6.2: 2^32 - 2 bytes).
const size_t ut_max = 0xfffffffeu;

// Coding schemes a DICOM reader knows without a Coding Scheme
// Identification Sequence (PS3.16 8): HL7's and DICOM's shared ones, and
// private ones ("99..." in both). A code in another (HL7's "L") is left out.
bool known_scheme(const char *s)
{
    static const char *const known[] = { "DCM", "LN", "SCT", "SRT", "C4", "C5", "I10", "I9C",
                                         "RADLEX", "UMLS" };
    if (std::strncmp(s, "99", 2) == 0 && s[2])
        return true;
    for (const char *k : known)
        if (std::strcmp(s, k) == 0)
            return true;
    return false;
}

bool usable(const report_code &c)
{
    return c.value[0] && c.meaning[0] && known_scheme(c.scheme);
}

DSRCodedEntryValue code_of(const report_code &c, report_text &t)
{
    return DSRCodedEntryValue(c.value, c.scheme, t.enc("a code's meaning", c.meaning).c_str());
}

// A text as UT holds it: line breaks as CR LF (PS3.5 6.1.3).
std::string crlf(rl_str v)
{
    std::string out;
    out.reserve(v.n);
    for (size_t i = 0; i < v.n; i++) {
        if (v.p[i] == '\n' && (i == 0 || v.p[i - 1] != '\r'))
            out += '\r';
        out += v.p[i];
    }
    return out;
}

size_t texts_of(const report *r, size_t i)
{
    const report_section &sec = r->sections[i];
    size_t n = 0;
    for (size_t j = 0; j < sec.n; j++)
        n += r->texts[sec.first + j].n > 0;
    for (size_t j = 0; j < r->nnums; j++)
        n += r->nums[j].section == i;
    return n;
}

// A concept the message names: its code when a DICOM reader knows the
// scheme, else the sender's own code in a private scheme (PS3.16 8).
DSRCodedEntryValue concept_of(const report_code &c, report_text &t)
{
    if (usable(c))
        return code_of(c, t);
    std::string meaning = t.enc("a code's meaning", c.meaning[0] ? c.meaning : c.value);
    return DSRCodedEntryValue(c.value, "99RIS", meaning.substr(0, 64).c_str(),
                              DSRTypes::CVT_auto, OFFalse);
}

// The units of a number: OBX-6 as UCUM (its text as the meaning), or
// UCUM's "no units".
DSRCodedEntryValue units_of(const report_code &u, report_text &t)
{
    if (!u.value[0])
        return DSRCodedEntryValue("1", "UCUM", "no units");
    std::string meaning = t.enc("the units", u.meaning[0] ? u.meaning : u.value);
    return DSRCodedEntryValue(u.value, "UCUM", meaning.substr(0, 64).c_str(),
                              DSRTypes::CVT_auto, OFFalse);
}

// The numbers of section i, after its texts: NUM items (Enhanced SR).
int add_nums(DSRDocumentTree &tree, const report *r, size_t i, bool first, report_text &t,
             rl_err *err)
{
    for (size_t j = 0; j < r->nnums; j++) {
        const report_num &n = r->nums[j];
        if (n.section != i)
            continue;
        DSRCodedEntryValue name = concept_of(n.obs, t);
        OFCondition c = first ? tree.addChildContentItem(DSRTypes::RT_contains,
                                                         DSRTypes::VT_Num, name)
                              : tree.addContentItem(DSRTypes::RT_contains, DSRTypes::VT_Num, name);
        first = false;
        if (c.good())
            c = tree.getCurrentContentItem().setNumericValue(
                DSRNumericMeasurementValue(n.value, units_of(n.units, t)), OFFalse);
        if (c.bad())
            return rl_err_set(err, DICOM_E_VALUE, -1, "section %zu, number %s (%s): %s", i + 1,
                              n.value, n.obs.value, c.text());
    }
    return 0;
}

int add_texts(DSRDocumentTree &tree, const report *r, size_t i, report_text &t, rl_err *err)
{
    const report_section &sec = r->sections[i];
    const section_names &nm = names[sec.kind];
    DSRCodedEntryValue name = usable(sec.obs) ? code_of(sec.obs, t) : DSRCodedEntryValue();
    if (!name.isValid()) // the section's OBX-3, else the kind's own
        name = DSRCodedEntryValue(nm.item_code, "DCM", nm.item_meaning);
    bool first = true;
    for (size_t j = 0; j < sec.n; j++) {
        const rl_str &v = r->texts[sec.first + j];
        if (v.n == 0)
            continue; // a blank OBX: the line break between paragraphs
        std::string text = crlf(v);
        if (text.size() > ut_max)
            return rl_err_set(err, DICOM_E_VALUE, -1,
                              "section %zu, text %zu: %zu bytes, longer than UT allows (%zu)",
                              i + 1, j + 1, text.size(), ut_max);
        OFCondition c = first ? tree.addChildContentItem(DSRTypes::RT_contains,
                                                         DSRTypes::VT_Text, name)
                              : tree.addContentItem(DSRTypes::RT_contains, DSRTypes::VT_Text, name);
        first = false;
        if (c.good())
            c = tree.getCurrentContentItem().setStringValue(t.enc("a text", text).c_str(), OFFalse);
        if (c.bad())
            return rl_err_set(err, DICOM_E_VALUE, -1, "section %zu, text %zu: %s", i + 1, j + 1,
                              c.text());
    }
    int rc = add_nums(tree, r, i, first, t, err);
    tree.goUp();
    return rc;
}

// Below the root: the sections that hold some text, each a CONTAINER.
int add_sections(DSRDocumentTree &tree, const report *r, bool first, report_text &t,
                 rl_err *err)
{
    size_t written = 0;
    for (size_t i = 0; i < r->nsections; i++) {
        if (texts_of(r, i) == 0)
            continue;
        const section_names &nm = names[r->sections[i].kind];
        DSRCodedEntryValue heading(nm.code, "DCM", nm.meaning);
        OFCondition c = first ? tree.addChildContentItem(DSRTypes::RT_contains,
                                                         DSRTypes::VT_Container, heading)
                              : tree.addContentItem(DSRTypes::RT_contains,
                                                    DSRTypes::VT_Container, heading);
        first = false;
        if (c.bad())
            return rl_err_set(err, DICOM_E_VALUE, -1, "section %zu: %s", i + 1, c.text());
        int rc = add_texts(tree, r, i, t, err);
        if (rc)
            return rc;
        written++;
    }
    if (written == 0)
        return rl_err_set(err, DICOM_E_VALUE, -1, "no text to write: %zu sections, %zu texts, none "
                          "with a character", r->nsections, r->ntexts);
    return 0;
}

// The root CONTAINER and its context: who observed (TID 1003's Person
// Observer Name) and the procedure reported (TID 2000 row 5).
int add_tree(DSRDocument &doc, const report *r, report_text &t, rl_err *err)
{
    DSRDocumentTree &tree = doc.getTree();
    std::string title = r->title[0] ? r->title : "Diagnostic Imaging Report";
    if (tree.addContentItem(DSRTypes::RT_isRoot, DSRTypes::VT_Container) == 0)
        return rl_err_set(err, DICOM_E_VALUE, -1, "the report's root container");
    OFCondition c = tree.getCurrentContentItem().setConceptName(
        DSRCodedEntryValue("18748-4", "LN", t.enc("the title", title).c_str()));
    if (c.bad())
        return rl_err_set(err, DICOM_E_VALUE, -1, "the title \"%s\": %s", r->title, c.text());
    bool first = true;
    if (r->observer_name[0]) {
        c = tree.addChildContentItem(DSRTypes::RT_hasObsContext, DSRTypes::VT_PName,
                                     DSRCodedEntryValue("121008", "DCM", "Person Observer Name"));
        if (c.good())
            c = tree.getCurrentContentItem().setStringValue(
                t.enc("the observer's name", r->observer_name).c_str(), OFFalse);
        if (c.bad())
            return rl_err_set(err, DICOM_E_VALUE, -1, "the observer \"%s\": %s",
                              r->observer_name, c.text());
        first = false;
    }
    if (usable(r->procedure)) {
        DSRCodedEntryValue name("121058", "DCM", "Procedure reported");
        c = first ? tree.addChildContentItem(DSRTypes::RT_hasConceptMod, DSRTypes::VT_Code, name)
                  : tree.addContentItem(DSRTypes::RT_hasConceptMod, DSRTypes::VT_Code, name);
        if (c.good())
            c = tree.getCurrentContentItem().setCodeValue(code_of(r->procedure, t));
        if (c.bad())
            return rl_err_set(err, DICOM_E_VALUE, -1, "the procedure (%s, %s): %s",
                              r->procedure.value, r->procedure.scheme, c.text());
        first = false;
    }
    return add_sections(tree, r, first, t, err);
}

// OBR-25 and OBR-32: P is PARTIAL and UNVERIFIED; F and C are COMPLETE, and
// VERIFIED by the observer OBR-32 names (a final report that names none
// stays UNVERIFIED: nobody can be said to have verified it).
int flags(DSRDocument &doc, const report *r, report_text &t, rl_err *err)
{
    bool prelim = r->status == REPORT_PRELIMINARY;
    OFCondition c = doc.setPreliminaryFlag(prelim ? DSRTypes::PF_Preliminary : DSRTypes::PF_Final);
    if (c.good() && !prelim)
        c = doc.completeDocument();
    if (c.good() && !prelim && r->observer_name[0]) {
        std::string date, time;
        report_when(r, date, time);
        std::string name = t.enc("the observer's name", r->observer_name);
        // the RIS's own identifier of the person: a private scheme (PS3.16 8)
        DSRCodedEntryValue id;
        if (r->observer_id[0])
            id = DSRCodedEntryValue(r->observer_id, "99RIS", name.substr(0, 64).c_str(),
                                    DSRTypes::CVT_auto, OFFalse);
        c = doc.verifyDocument(name.c_str(), id, "radlink", (date + time).c_str(), OFFalse);
    }
    if (c.bad())
        return rl_err_set(err, DICOM_E_VALUE, -1, "the flags and the verifying observer: %s",
                          c.text());
    return 0;
}

// The study's instances, grouped by series (Current Requested Procedure
// Evidence Sequence), and the report this one amends.
int references(DSRDocument &doc, const dicom_report_study *s, rl_err *err)
{
    OFCondition c = EC_Normal;
    for (size_t i = 0; c.good() && i < s->nevidence; i++) {
        const dicom_report_ref &e = s->evidence[i];
        c = doc.getCurrentRequestedProcedureEvidence().addItem(
            e.study_uid[0] ? e.study_uid : s->study_uid, e.series_uid, e.sop_class, e.sop_uid);
    }
    const dicom_report_ref &p = s->predecessor;
    if (c.good() && p.sop_uid[0])
        c = doc.getPredecessorDocuments().addItem(p.study_uid[0] ? p.study_uid : s->study_uid,
                                                  p.series_uid, p.sop_class, p.sop_uid);
    if (c.bad())
        return rl_err_set(err, DICOM_E_VALUE, -1, "the evidence or predecessor references: %s",
                          c.text());
    return 0;
}

OFCondition put(DcmItem *it, const DcmTagKey &k, const std::string &v)
{
    return it->putAndInsertOFStringArray(k, OFString(v.data(), v.size()));
}

// Referenced Request Sequence (PS3.3 C.17.2): the order the report answers.
OFCondition request(DcmItem *ds, const report *r, const dicom_report_study *s, report_text &t)
{
    DcmItem *it = nullptr;
    OFCondition c = ds->findOrCreateSequenceItem(DCM_ReferencedRequestSequence, it, -2);
    if (c.good())
        c = put(it, DCM_StudyInstanceUID, s->study_uid);
    if (c.good())
        c = it->insertEmptyElement(DCM_ReferencedStudySequence);
    if (c.good())
        c = put(it, DCM_AccessionNumber,
                t.enc("the accession number", study_or(s->accession, r->accession)));
    if (c.good())
        c = put(it, DCM_PlacerOrderNumberImagingServiceRequest, t.enc("the placer", r->placer));
    if (c.good())
        c = put(it, DCM_FillerOrderNumberImagingServiceRequest, t.enc("the filler", r->filler));
    if (c.good())
        c = put(it, DCM_RequestedProcedureID,
                t.enc("the requested procedure",
                      study_or(s->requested_procedure, r->requested_procedure)));
    if (c.good())
        c = put(it, DCM_RequestedProcedureDescription,
                t.enc("the procedure", r->procedure.meaning));
    if (c.good() && usable(r->procedure))
        c = report_put_code(it, DCM_RequestedProcedureCodeSequence, r->procedure.value,
                            r->procedure.scheme, t.enc("the procedure", r->procedure.meaning));
    else if (c.good())
        c = it->insertEmptyElement(DCM_RequestedProcedureCodeSequence);
    return c;
}

} // namespace

int report_build_sr(const report *r, const dicom_report_study *s, report_text &t,
                    DcmFileFormat &ff, rl_err *err)
{
    DSRDocument doc(r->nnums ? DSRTypes::DT_EnhancedSR : DSRTypes::DT_BasicTextSR);
    OFCondition c = doc.createNewSeriesInStudy(s->study_uid);
    if (c.good())
        c = doc.setSpecificCharacterSetType(t.latin1() ? DSRTypes::CS_Latin1 : DSRTypes::CS_UTF8);
    if (c.bad())
        return rl_err_set(err, DICOM_E_VALUE, -1, "the study %s: %s", s->study_uid, c.text());
    int rc = add_tree(doc, r, t, err);
    if (rc == 0)
        rc = flags(doc, r, t, err);
    if (rc == 0)
        rc = references(doc, s, err);
    if (rc)
        return rc;
    DcmDataset *ds = ff.getDataset();
    c = doc.write(*ds);
    if (c.good()) // what DSRDocument has no setter for, and the values it made
        c = report_put_common(ds, r, s, t);
    if (c.good())
        c = request(ds, r, s, t);
    if (c.good() && usable(r->procedure)) {
        ds->findAndDeleteElement(DCM_PerformedProcedureCodeSequence);
        c = report_put_code(ds, DCM_PerformedProcedureCodeSequence, r->procedure.value,
                            r->procedure.scheme, t.enc("the procedure", r->procedure.meaning));
    }
    if (c.bad())
        return rl_err_set(err, DICOM_E_VALUE, -1, "the SR: %s", c.text());
    return 0;
}

} // namespace rl_dicom
