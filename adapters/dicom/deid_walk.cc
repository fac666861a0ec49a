// De-identification's walk (deid_walk.h): every element of a data set, in
// sequences too, under the action deid_rules.h gives it; private blocks
// kept only for the creators asked for; the identifiers free text is
// cleaned of, read before anything changes.
extern "C" {
#include "radlink/route_dicom.h"
#include "radlink/util.h"
}
#include "radlink/dicom.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "deid_rules.h"
#include "deid_walk.h"
#include "tags.h"

using rl_dicom::deid_ctx;
using rl_dicom::tag_of;

namespace {

std::string trim(const std::string &s)
{
    size_t b = s.find_first_not_of(" \0", 0, 2), e = s.find_last_not_of(" \0", std::string::npos, 2);
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

std::vector<std::string> split(const std::string &s, const char *seps)
{
    std::vector<std::string> out;
    size_t b = 0;
    for (;;) {
        size_t e = s.find_first_of(seps, b);
        out.push_back(trim(s.substr(b, e == std::string::npos ? std::string::npos : e - b)));
        if (e == std::string::npos)
            return out;
        b = e + 1;
    }
}

std::string value_of(DcmElement *e, bool &ok)
{
    OFString v;
    ok = e->getOFStringArray(v).good();
    return std::string(v.c_str(), v.length());
}

bool fail(deid_ctx &c, DcmElement *e, const char *what, const OFCondition &cond)
{
    if (c.why.empty()) {
        DcmTag t = e->getTag();
        char b[RL_ERR_MSG_MAX];
        std::snprintf(b, sizeof b, "(%04X,%04X): %s: %s", t.getGTag(), t.getETag(), what, cond.text());
        c.why = b;
    }
    return false;
}

// Identifiers are read from the instance's standard attributes before it
// changes: every person's name (each part of two characters or more), the
// patient's IDs, the accession number, the birth date as it is commonly
// written, and the institution's name unless its identity is retained.
void add_birth_date(deid_ctx &c, const std::string &d)
{
    if (d.size() != 8 || d.find_first_not_of("0123456789") != std::string::npos)
        return;
    std::string y = d.substr(0, 4), m = d.substr(4, 2), dd = d.substr(6, 2);
    for (const std::string &f : { d, y + "-" + m + "-" + dd, y + "/" + m + "/" + dd, y + "." + m + "." + dd,
                                  dd + "." + m + "." + y, dd + "/" + m + "/" + y, m + "/" + dd + "/" + y,
                                  dd + "-" + m + "-" + y, m + "-" + dd + "-" + y })
        c.words.push_back(f);
}

void collect(deid_ctx &c, DcmItem *item)
{
    for (unsigned long i = 0; i < item->card(); i++) {
        DcmElement *e = item->getElement(i);
        DcmTagKey k = e->getTag();
        if (k.getGroup() & 1)
            continue;
        if (e->ident() == EVR_SQ) {
            DcmSequenceOfItems *sq = static_cast<DcmSequenceOfItems *>(e);
            for (unsigned long j = 0; j < sq->card(); j++)
                collect(c, sq->getItem(j));
            continue;
        }
        bool name = e->ident() == EVR_PN;
        bool id = k == DCM_PatientID || k == DCM_RETIRED_OtherPatientIDs || k == DCM_AccessionNumber ||
                  (k == DCM_InstitutionName && !(c.options & ROUTE_DEID_RETAIN_INSTITUTION_ID));
        if (!name && !id && k != DCM_PatientBirthDate)
            continue; // and its value is not read: pixel data would be turned into text
        bool ok;
        std::string v = value_of(e, ok);
        if (!ok || v.empty())
            continue;
        if (!name && !id)
            add_birth_date(c, trim(v));
        for (const std::string &w : name ? split(v, "\\^= ") : id ? split(v, "\\") : std::vector<std::string>())
            c.words.push_back(w);
    }
}

void words_ready(deid_ctx &c)
{
    std::vector<std::string> &w = c.words;
    w.erase(std::remove_if(w.begin(), w.end(),
                           [](const std::string &s) { return s.size() < DICOM_DEID_WORD_MIN; }),
            w.end());
    std::sort(w.begin(), w.end(), [](const std::string &a, const std::string &b) {
        return a.size() != b.size() ? a.size() > b.size() : a < b;
    });
    w.erase(std::unique(w.begin(), w.end()), w.end());
    for (const std::string &s : w)
        c.wordp.push_back(s.c_str());
}

bool text_vr(DcmEVR vr)
{
    switch (vr) {
    case EVR_AE: case EVR_CS: case EVR_LO: case EVR_LT: case EVR_PN: case EVR_SH: case EVR_ST:
    case EVR_UC: case EVR_UT:
        return true;
    default:
        return false;
    }
}

bool clean(deid_ctx &c, DcmElement *e)
{
    bool ok;
    std::string v = value_of(e, ok);
    if (!ok)
        return fail(c, e, "cannot read its value", EC_IllegalCall);
    std::vector<char> b(v.begin(), v.end());
    size_t n = dicom_deid_clean(b.data(), b.size(), c.wordp.data(), c.wordp.size());
    if (n == v.size())
        return true;
    OFCondition r = e->putOFStringArray(OFString(b.data(), n));
    return r.good() || fail(c, e, "cannot clean it", r);
}

bool new_uids(deid_ctx &c, DcmElement *e)
{
    bool ok;
    std::string v = value_of(e, ok), out;
    if (!ok)
        return fail(c, e, "cannot read its value", EC_IllegalCall);
    std::vector<std::string> uids = split(v, "\\");
    for (size_t i = 0; i < uids.size(); i++) {
        const std::string &u = uids[i];
        char nu[RL_UUID_UID_SIZE];
        if (!u.empty() && !dicom_deid_uid_well_known(u.c_str())) {
            dicom_deid_uid(c.secret, DICOM_DEID_SECRET_SIZE, u.data(), u.size(), nu);
            out += nu;
        } else {
            out += u;
        }
        if (i + 1 < uids.size())
            out += '\\';
    }
    OFCondition r = e->putOFStringArray(OFString(out.c_str()));
    return r.good() || fail(c, e, "cannot replace its UID", r);
}

// D: a value its VR allows that says nothing (a UID gets a derived one,
// binary data zeros).
bool dummy(deid_ctx &c, DcmElement *e)
{
    OFCondition r;
    switch (e->ident()) {
    case EVR_UI: return new_uids(c, e);
    case EVR_DA: r = e->putString("19000101"); break;
    case EVR_TM: r = e->putString("000000"); break;
    case EVR_DT: r = e->putString("19000101000000"); break;
    case EVR_AS: r = e->putString("000Y"); break;
    case EVR_DS: case EVR_IS: r = e->putString("0"); break;
    case EVR_AE: case EVR_CS: case EVR_LO: case EVR_LT: case EVR_PN: case EVR_SH: case EVR_ST:
    case EVR_UC: case EVR_UT: case EVR_UR:
        r = e->putString("ANONYMIZED");
        break;
    case EVR_AT: r = e->putTagVal(DcmTagKey(0, 0)); break;
    case EVR_OW: {
        Uint16 z = 0;
        r = e->putUint16Array(&z, 1);
        break;
    }
    case EVR_OB: case EVR_UN: case EVR_ox: case EVR_px: {
        Uint8 z[2] = { 0, 0 };
        r = e->putUint8Array(z, 2);
        break;
    }
    default: r = e->putString("0"); // US, SS, UL, SL, FL, FD, UV, SV, OF, OD, OL, OV
    }
    return r.good() || fail(c, e, "cannot give it a dummy value", r);
}

bool walk(deid_ctx &c, DcmItem *item, bool clean_text);

bool walk_items(deid_ctx &c, DcmElement *e, bool clean_text)
{
    DcmSequenceOfItems *sq = static_cast<DcmSequenceOfItems *>(e);
    for (unsigned long j = 0; j < sq->card(); j++)
        if (!walk(c, sq->getItem(j), clean_text))
            return false;
    return true;
}

// One element under its chosen action (X is the caller's). clean_text: it
// is inside a sequence whose free text is cleaned (D or C).
bool apply(deid_ctx &c, DcmElement *e, dicom_deid_act a, bool clean_text)
{
    bool sq = e->ident() == EVR_SQ;
    switch (a) {
    case DICOM_DEID_Z: {
        OFCondition r = e->clear();
        return r.good() || fail(c, e, "cannot empty it", r);
    }
    case DICOM_DEID_D: return sq ? walk_items(c, e, true) : dummy(c, e);
    case DICOM_DEID_U: return e->ident() == EVR_UI ? new_uids(c, e) : dummy(c, e);
    case DICOM_DEID_C:
        if (sq)
            return walk_items(c, e, true);
        return text_vr(e->ident()) ? clean(c, e) : true;
    case DICOM_DEID_K: return sq ? walk_items(c, e, clean_text) : true;
    default: // not in the table
        if (sq)
            return walk_items(c, e, clean_text);
        return clean_text && text_vr(e->ident()) ? clean(c, e) : true;
    }
}

bool is_empty(DcmElement *e)
{
    if (e->ident() == EVR_SQ)
        return static_cast<DcmSequenceOfItems *>(e)->card() == 0;
    return e->getLength() == 0;
}

// The private blocks of this item whose creator is kept: their creator
// elements' tags (gggg,00xx). A creator names blocks of its own item only.
std::set<uint32_t> kept_blocks(deid_ctx &c, DcmItem *item)
{
    std::set<uint32_t> kept;
    for (unsigned long i = 0; i < item->card(); i++) {
        DcmElement *e = item->getElement(i);
        DcmTagKey k = e->getTag();
        if (!(k.getGroup() & 1) || k.getElement() < 0x10 || k.getElement() > 0xFF)
            continue;
        bool ok;
        std::string v = trim(value_of(e, ok));
        if (ok && std::find(c.keep.begin(), c.keep.end(), v) != c.keep.end())
            kept.insert(tag_of(k));
    }
    return kept;
}

dicom_deid_act private_action(const std::set<uint32_t> &kept, DcmTagKey k)
{
    uint32_t g = uint32_t(k.getGroup()) << 16;
    Uint16 el = k.getElement();
    if (el >= 0x10 && el <= 0xFF) // a creator
        return kept.count(g | el) ? DICOM_DEID_K : DICOM_DEID_X;
    if (el >= 0x1000) // an element of block el >> 8
        return kept.count(g | (el >> 8)) ? DICOM_DEID_K : DICOM_DEID_X;
    return DICOM_DEID_X; // group length, or no block: nothing to keep it for
}

bool walk(deid_ctx &c, DcmItem *item, bool clean_text)
{
    std::set<uint32_t> kept = kept_blocks(c, item);
    std::set<Uint16> overlays; // overlay groups whose data went
    for (unsigned long i = 0; i < item->card();) {
        DcmElement *e = item->getElement(i);
        DcmTagKey k = e->getTag();
        dicom_deid_act a;
        if (k.getGroup() & 1)
            a = private_action(kept, k);
        else
            a = dicom_deid_choose(tag_of(k), dicom_deid_action(tag_of(k), c.options), is_empty(e),
                                  e->ident() == EVR_SQ);
        if (a == DICOM_DEID_X) {
            if ((k.getGroup() & 0xFF00) == 0x6000 && k.getElement() == 0x3000)
                overlays.insert(k.getGroup());
            delete item->remove(i);
            continue;
        }
        if (!apply(c, e, a, clean_text))
            return false;
        i++;
    }
    // An Overlay Plane without its Overlay Data (Type 1) is not conformant,
    // and the module is optional: the rest of its group goes too.
    for (unsigned long i = 0; !overlays.empty() && i < item->card();) {
        if (overlays.count(item->getElement(i)->getTag().getGroup()))
            delete item->remove(i);
        else
            i++;
    }
    return true;
}

// The File Meta Information is replaced when a de-identified file is
// written (PS3.15 E.3.8): its UID follows the table like the data set's,
// and the application entity titles and private information it carries
// from the original go.
bool walk_meta(deid_ctx &c, DcmMetaInfo *meta)
{
    for (const DcmTagKey &k : { DCM_SourceApplicationEntityTitle, DCM_SendingApplicationEntityTitle,
                                DCM_ReceivingApplicationEntityTitle, DCM_PrivateInformationCreatorUID,
                                DCM_PrivateInformation })
        delete meta->remove(k);
    return walk(c, meta, false);
}

} // namespace

namespace rl_dicom {

std::vector<std::string> deid_split(const std::string &s, const char *seps)
{
    return split(s, seps);
}

void deid_identifiers(deid_ctx &c, DcmItem *ds)
{
    collect(c, ds);
    words_ready(c);
}

bool deid_walk(deid_ctx &c, DcmItem *ds)
{
    return walk(c, ds, false);
}

bool deid_walk_meta(deid_ctx &c, DcmMetaInfo *meta)
{
    return walk_meta(c, meta);
}

} // namespace rl_dicom
