// De-identification (radlink/dicom.h, dicom_ds_deidentify): PS3.15 Annex E's
// Basic Application Level Confidentiality Profile and its options, applied
// to every attribute of the data set, in sequences too, by the rules of
// deid_rules.h (deid_walk.cc walks it); then the attributes that say it was
// done (PS3.15 E.1.1).
extern "C" {
#include "radlink/route_dicom.h"
#include "radlink/util.h"
}
#include "radlink/dicom.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "dcmtk/dcmsr/codes/dcm.h"

#include "deid_rules.h"
#include "deid_walk.h"
#include "ds.h"
#include "guard.h"

using rl_dicom::deid_ctx;

namespace {

using rl_dicom::guard;

// PS3.15 E.1.1 leaves the pixels to the Clean Pixel Data Option, which
// radlink does not offer: an instance that may show text in its pixels is
// not de-identified. Burned In Annotation (0028,0301) says so; where it is
// absent, ultrasound, secondary capture and X-ray angiography commonly
// burn in the patient's name.
bool may_burn_in(DcmDataset *ds, std::string &why)
{
    OFString bia, modality, sop;
    ds->findAndGetOFString(DCM_BurnedInAnnotation, bia);
    if (bia == "YES") {
        why = "Burned In Annotation is YES: the pixel data holds burned-in text";
        return true;
    }
    if (!bia.empty())
        return false;
    ds->findAndGetOFString(DCM_Modality, modality);
    if (modality == "US" || modality == "SC" || modality == "XA") {
        why = std::string("Burned In Annotation is absent on ") + (modality == "US" ? "a " : "an ") +
              modality.c_str() + " image: it may hold burned-in text";
        return true;
    }
    ds->findAndGetOFString(DCM_SOPClassUID, sop);
    const char *sc = UID_SecondaryCaptureImageStorage; // 1.2.840.10008.5.1.4.1.1.7, and .7.n
    size_t n = std::strlen(sc);
    if (sop == sc || (sop.length() > n && std::strncmp(sop.c_str(), sc, n) == 0 && sop[n] == '.')) {
        why = std::string("Burned In Annotation is absent on a secondary capture (") +
              dcmFindNameOfUID(sop.c_str(), sop.c_str()) + "): it may hold burned-in text";
        return true;
    }
    return false;
}


// CID 7050 (PS3.16): the profile, then the options asked for, in
// route_deid_option's bit order.
std::vector<DSRBasicCodedEntry> method_codes(unsigned options)
{
    std::vector<DSRBasicCodedEntry> codes = { CODE_DCM_BasicApplicationConfidentialityProfile };
    const DSRBasicCodedEntry per_option[DICOM_DEID_OPTIONS] = {
        CODE_DCM_RetainLongitudinalTemporalInformationFullDatesOption,
        CODE_DCM_RetainPatientCharacteristicsOption,
        CODE_DCM_RetainDeviceIdentityOption,
        CODE_DCM_RetainInstitutionIdentityOption,
        CODE_DCM_RetainUIDsOption,
        CODE_DCM_CleanDescriptorsOption,
    };
    for (unsigned i = 0; i < DICOM_DEID_OPTIONS; i++)
        if (options & (1u << i))
            codes.push_back(per_option[i]);
    return codes;
}

bool has_code(DcmSequenceOfItems *sq, const DSRBasicCodedEntry &code)
{
    for (unsigned long i = 0; sq && i < sq->card(); i++) {
        OFString v, s;
        sq->getItem(i)->findAndGetOFString(DCM_CodeValue, v);
        sq->getItem(i)->findAndGetOFString(DCM_CodingSchemeDesignator, s);
        if (v == code.CodeValue && s == code.CodingSchemeDesignator)
            return true;
    }
    return false;
}

// PS3.15 E.1.1: Patient Identity Removed YES and the CID 7050 codes of the
// profile and options in De-identification Method Code Sequence; the
// method in words too. What an earlier de-identification wrote stays, so
// the instance tells everything done to it. PS3.15 E.2 and E.3.6:
// Longitudinal Temporal Information Modified is REMOVED unless dates are
// retained (then UNMODIFIED, or what an earlier step said of them).
OFCondition mark(unsigned options, DcmDataset *ds)
{
    std::vector<DSRBasicCodedEntry> codes = method_codes(options);
    OFCondition r = ds->putAndInsertString(DCM_PatientIdentityRemoved, "YES");
    OFString had;
    ds->findAndGetOFStringArray(DCM_DeidentificationMethod, had);
    std::vector<std::string> method;
    if (!had.empty())
        method = rl_dicom::deid_split(std::string(had.c_str(), had.length()), "\\");
    std::vector<std::string> ours = { std::string("radlink: PS3.15 Table E.1-1, ") + dicom_deid_edition() };
    for (const DSRBasicCodedEntry &code : codes)
        ours.push_back(code.CodeMeaning.c_str());
    std::string text;
    for (const std::string &v : ours)
        if (std::find(method.begin(), method.end(), v) == method.end())
            method.push_back(v);
    for (size_t i = 0; i < method.size(); i++)
        text += (i ? "\\" : "") + method[i];
    if (r.good())
        r = ds->putAndInsertOFStringArray(DCM_DeidentificationMethod, text.c_str());
    DcmSequenceOfItems *sq = nullptr;
    ds->findAndGetSequence(DCM_DeidentificationMethodCodeSequence, sq);
    for (const DSRBasicCodedEntry &code : codes) {
        if (r.bad() || has_code(sq, code))
            continue;
        DcmItem *item = nullptr;
        r = ds->findOrCreateSequenceItem(DCM_DeidentificationMethodCodeSequence, item, -2);
        if (r.good())
            r = item->putAndInsertOFStringArray(DCM_CodeValue, code.CodeValue);
        if (r.good())
            r = item->putAndInsertOFStringArray(DCM_CodingSchemeDesignator, code.CodingSchemeDesignator);
        if (r.good())
            r = item->putAndInsertOFStringArray(DCM_CodeMeaning, code.CodeMeaning);
        ds->findAndGetSequence(DCM_DeidentificationMethodCodeSequence, sq);
    }
    OFString ltim;
    ds->findAndGetOFString(DCM_LongitudinalTemporalInformationModified, ltim);
    const char *dates = !(options & ROUTE_DEID_RETAIN_LONG_DATES) ? "REMOVED"
                        : ltim.empty()                            ? "UNMODIFIED"
                                                                  : ltim.c_str();
    if (r.good())
        r = ds->putAndInsertString(DCM_LongitudinalTemporalInformationModified, dates);
    return r;
}

} // namespace

extern "C" int dicom_ds_deidentify(dicom_ds *d, const route_deid *deid, rl_err *err)
{
    return guard("de-identification", err, [&] {
        if (!d->have_secret)
            return rl_err_set(err, DICOM_E_CONFIG, -1,
                              "de-identification: no secret is set to derive new UIDs from");
        DcmDataset *ds = d->dataset();
        std::string why;
        if (may_burn_in(ds, why))
            return rl_err_set(err, DICOM_E_BURNED_IN, -1, "%s", why.c_str());
        deid_ctx c;
        c.options = deid ? deid->options : 0;
        c.secret = d->secret;
        if (deid && deid->keep_private)
            for (const std::string &creator : rl_dicom::deid_split(deid->keep_private, "\n"))
                if (!creator.empty())
                    c.keep.push_back(creator);
        rl_dicom::deid_identifiers(c, ds);
        DcmMetaInfo *meta = d->file().getMetaInfo();
        if (!rl_dicom::deid_walk(c, ds) || (meta && !rl_dicom::deid_walk_meta(c, meta)))
            return rl_err_set(err, DICOM_E_FILE, -1, "de-identification stopped half-way: %s",
                              c.why.c_str());
        OFCondition r = mark(c.options, ds);
        if (r.bad())
            return rl_err_set(err, DICOM_E_FILE, -1,
                              "de-identification: cannot say it was done: %s", r.text());
        // The values recorded for the Original Attributes Sequence are the
        // identifying ones: Table E.1-1 removes the sequence (X), so they
        // must not be written back when the data set is saved.
        d->old.clear();
        return 0;
    });
}
