// radlink/route_dcm_io over a data set (radlink/dicom.h, dicom_ds_io): the
// route language reads values in UTF-8 whatever the instance's Specific
// Character Set, and changes them with each top-level attribute's value
// before its first change kept for the Original Attributes Sequence
// (PS3.3 C.12.1.1.9), which dicom_ds_save writes.
extern "C" {
#include "radlink/dicom.h"
#include "radlink/util.h"
}

#include <cstring>
#include <exception>
#include <functional>
#include <stdexcept>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "charset.h"
#include "dict.h"
#include "ds.h"
#include "tags.h"
#include "vr.h"
#include "guard.h"

using rl_dicom::key_of;

namespace {

const uint32_t TAG_SCS = 0x00080005u;   // Specific Character Set
const uint32_t TAG_ORIGINAL = 0x04000561u; // Original Attributes Sequence

using rl_dicom::guard;

std::string scs_of(DcmItem *item, const std::string &outer)
{
    OFString v;
    if (item->findAndGetOFStringArray(DCM_SpecificCharacterSet, v, OFFalse).good())
        return std::string(v.c_str(), v.length());
    return outer;
}

// The element at the end of p in every item on the way, with the
// character set in force there (an item may declare its own).
using Visit = std::function<bool(DcmItem *item, DcmElement *e, const std::string &scs)>;

bool walk(DcmItem *item, const dicom_path *p, unsigned depth, const std::string &outer,
          const Visit &f)
{
    std::string scs = scs_of(item, outer);
    DcmElement *e = nullptr;
    if (item->findAndGetElement(key_of(p->tag[depth]), e, OFFalse).bad())
        e = nullptr;
    if (depth + 1 == p->n)
        return f(item, e, scs);
    if (!e || e->ident() != EVR_SQ)
        return true;
    DcmSequenceOfItems *sq = static_cast<DcmSequenceOfItems *>(e);
    for (unsigned long i = 0; i < sq->card(); i++)
        if (!walk(sq->getItem(i), p, depth + 1, scs, f))
            return false;
    return true;
}

bool binary(DcmEVR vr)
{
    switch (vr) {
    case EVR_OB: case EVR_OW: case EVR_OF: case EVR_OD: case EVR_OL: case EVR_OV:
    case EVR_ox: case EVR_px: case EVR_pixelSQ: case EVR_SQ:
        return true;
    default:
        return false;
    }
}

// An element's value as UTF-8 (undecodable bytes as '?'); "" for
// sequences and binary values, and for UN bytes that are not text.
std::string value_utf8(DcmElement *e, const std::string &scs)
{
    DcmEVR vr = e->ident();
    if (binary(vr))
        return "";
    std::string raw;
    if (vr == EVR_UN) {
        Uint8 *b = nullptr;
        if (e->getUint8Array(b).bad() || !b)
            return "";
        raw.assign(reinterpret_cast<const char *>(b), e->getLength());
        while (!raw.empty() && (raw.back() == '\0' || raw.back() == ' '))
            raw.pop_back();
        for (unsigned char c : raw)
            if (c < 0x20 && c != 0x1b)
                return "";
    } else {
        OFString v;
        if (e->getOFStringArray(v).bad())
            return "";
        raw.assign(v.c_str(), v.length());
    }
    std::string out;
    if (rl_dicom::to_utf8(scs, raw, out))
        return out;
    for (char &c : raw)
        if (static_cast<unsigned char>(c) >= 0x80 || c == '\x1b')
            c = '?';
    return raw;
}

int io_get(void *dsp, const dicom_path *p, route_dcm_value_fn cb, void *ctx)
{
    dicom_ds *d = static_cast<dicom_ds *>(dsp);
    int found = 0;
    DcmItem *top = d->dataset();
    if (p->n == 1 && (p->tag[0] >> 16) == 0x0002) // the file meta information
        top = d->file().getMetaInfo();
    walk(top, p, 0, "", [&](DcmItem *, DcmElement *e, const std::string &scs) {
        if (!e)
            return true;
        found++;
        std::string v = value_utf8(e, scs);
        return cb(ctx, rl_str{ v.data(), v.size() }) == 0;
    });
    return found;
}

// Paths no coercion may touch, and why.
int refuse_path(const dicom_path *p, rl_err *err)
{
    for (unsigned i = 0; i < p->n; i++)
        if (p->tag[i] == TAG_ORIGINAL)
            return rl_err_set(err, DICOM_E_VALUE, -1, "%s: the Original Attributes Sequence "
                              "keeps what coercions and corrections replaced: it is not changed",
                              rl_dicom::dict_path_text(p).c_str());
    if (p->n == 1 && p->tag[0] == TAG_SCS)
        return rl_err_set(err, DICOM_E_VALUE, -1, "SpecificCharacterSet follows the values: "
                          "radlink sets it when a value needs it");
    if ((p->tag[0] >> 16) == 0x0002)
        return rl_err_set(err, DICOM_E_VALUE, -1, "%s: the file meta information is written "
                          "with the file", rl_dicom::dict_path_text(p).c_str());
    return 0;
}

// The top-level attribute p starts with, as it is now, before its first
// change (ds.h: the whole sequence for a path through one).
void record_old(dicom_ds *d, uint32_t tag)
{
    for (const dicom_ds_old &o : d->old)
        if (o.tag == tag)
            return;
    DcmElement *e = nullptr;
    std::unique_ptr<DcmElement> was;
    DcmItem *from = d->before_utf8 ? d->before_utf8.get() : d->dataset();
    if (from->findAndGetElement(key_of(tag), e, OFFalse).good() && e)
        was.reset(static_cast<DcmElement *>(e->clone()));
    d->old.push_back(dicom_ds_old{ tag, std::move(was) });
}

// The VR a set must honour: the element's own where it exists (a private
// tag's), else the dictionary's.
std::string target_vr(dicom_ds *d, const dicom_path *p)
{
    if (p->vr[0])
        return p->vr;
    std::string vr;
    walk(d->dataset(), p, 0, "", [&](DcmItem *, DcmElement *e, const std::string &) {
        if (e)
            vr = DcmVR(e->ident()).getVRName();
        return !e;
    });
    return vr;
}

bool charset_bound(const std::string &vr)
{
    static const char *texts[] = { "SH", "LO", "ST", "LT", "PN", "UC", "UT" };
    for (const char *t : texts)
        if (vr == t)
            return true;
    return false;
}

// The value's bytes in the data set's character set; when that set cannot
// hold it, the data set goes to UTF-8 first (one in ASCII only is just
// labelled ISO_IR 192, as dicom_correct_file does).
int encode(dicom_ds *d, const dicom_path *p, const std::string &vr, const std::string &utf8,
           std::string &raw, rl_err *err)
{
    DcmDataset *ds = d->dataset();
    std::string scs = scs_of(ds, "");
    if (!charset_bound(vr) || rl_dicom::from_utf8(scs, utf8, raw)) {
        if (!charset_bound(vr))
            raw = utf8;
        return 0;
    }
    bool ascii_file = rl_dicom::plain_ascii(scs) &&
                      (scs.empty() || scs == "ISO_IR 6" || scs == "ISO 2022 IR 6");
    record_old(d, TAG_SCS);
    if (!d->before_utf8) {
        d->before_utf8.reset(new DcmItem());
        for (unsigned long i = 0; i < ds->card(); i++) {
            DcmElement *e = ds->getElement(i);
            if (!binary(e->ident()) || e->ident() == EVR_SQ)
                d->before_utf8->insert(static_cast<DcmElement *>(e->clone()));
        }
    }
    if (ascii_file) {
        ds->putAndInsertString(DCM_SpecificCharacterSet, "ISO_IR 192");
    } else {
        OFCondition c = ds->convertToUTF8();
        if (c.bad())
            return rl_err_set(err, DICOM_E_CHARSET, -1, "%s: the value does not fit the "
                              "character set %s, and the data set cannot be converted to UTF-8: "
                              "%s", rl_dicom::dict_path_text(p).c_str(), scs.c_str(), c.text());
    }
    raw = utf8;
    return 0;
}

// The items that hold the attribute at the end of p: every item of every
// sequence on the way, a sequence that has none created with its first
// item (its top-level attribute recorded first). differs: some element
// there is absent or holds other bytes than raw.
int targets_of(dicom_ds *d, const dicom_path *p, DcmItem *item, unsigned depth,
               const std::string &raw, std::vector<DcmItem *> &out, bool &differs, rl_err *err)
{
    DcmTagKey k = key_of(p->tag[depth]);
    DcmElement *e = nullptr;
    if (item->findAndGetElement(k, e, OFFalse).bad())
        e = nullptr;
    if (depth + 1 == p->n) {
        out.push_back(item);
        OFString now;
        if (!e || e->getOFStringArray(now).bad() || std::string(now.c_str(), now.length()) != raw)
            differs = true;
        return 0;
    }
    if (e && e->ident() != EVR_SQ)
        return rl_err_set(err, DICOM_E_VALUE, -1, "%s: (%04X,%04X) is not a sequence in this "
                          "instance", rl_dicom::dict_path_text(p).c_str(), p->tag[depth] >> 16,
                          p->tag[depth] & 0xffff);
    DcmSequenceOfItems *sq = static_cast<DcmSequenceOfItems *>(e);
    if (!sq || sq->card() == 0) {
        differs = true;
        record_old(d, p->tag[0]);
        DcmItem *first = nullptr;
        OFCondition c = item->findOrCreateSequenceItem(k, first, 0);
        if (c.bad() || !first)
            return rl_err_set(err, DICOM_E_VALUE, -1, "%s: cannot create its sequence: %s",
                              rl_dicom::dict_path_text(p).c_str(), c.text());
        return targets_of(d, p, first, depth + 1, raw, out, differs, err);
    }
    for (unsigned long i = 0; i < sq->card(); i++) {
        int rc = targets_of(d, p, sq->getItem(i), depth + 1, raw, out, differs, err);
        if (rc)
            return rc;
    }
    return 0;
}

int io_set(void *dsp, const dicom_path *p, rl_str value, rl_err *err)
{
    dicom_ds *d = static_cast<dicom_ds *>(dsp);
    int rc = refuse_path(p, err);
    if (rc)
        return rc;
    std::string text = rl_dicom::dict_path_text(p);
    std::string v(value.p ? value.p : "", value.n), why, vr = target_vr(d, p);
    if (vr.empty() || vr == "UN")
        return rl_err_set(err, DICOM_E_VALUE, -1, "%s: a private or unknown attribute whose VR "
                          "is not known: it can be read or removed, not set", text.c_str());
    if (!rl_dicom::vr_value_ok(vr.c_str(), v, why))
        return rl_err_set(err, DICOM_E_VALUE, -1, "%s: %s", text.c_str(), why.c_str());

    // does any element on the way differ from the value?
    std::string raw;
    rc = encode(d, p, vr, v, raw, err);
    if (rc)
        return rc;
    bool differs = false;
    std::vector<DcmItem *> targets;
    rc = targets_of(d, p, d->dataset(), 0, raw, targets, differs, err);
    if (rc)
        return rc;
    if (!differs)
        return 0;
    record_old(d, p->tag[0]);
    DcmTagKey k = key_of(p->tag[p->n - 1]);
    for (DcmItem *item : targets) {
        DcmElement *e = nullptr;
        OFCondition c = item->findAndGetElement(k, e, OFFalse);
        c = c.good() && e ? e->putString(raw.c_str(), Uint32(raw.size()))
                          : item->putAndInsertString(DcmTag(k), raw.c_str(), Uint32(raw.size()));
        if (c.bad())
            return rl_err_set(err, DICOM_E_VALUE, -1, "%s: %s", text.c_str(), c.text());
    }
    return 0;
}

int io_remove(void *dsp, const dicom_path *p, rl_err *err)
{
    dicom_ds *d = static_cast<dicom_ds *>(dsp);
    int rc = refuse_path(p, err);
    if (rc)
        return rc;
    std::vector<DcmItem *> where;
    walk(d->dataset(), p, 0, "", [&](DcmItem *item, DcmElement *e, const std::string &) {
        if (e)
            where.push_back(item);
        return true;
    });
    if (where.empty())
        return 0;
    record_old(d, p->tag[0]);
    for (DcmItem *item : where)
        item->findAndDeleteElement(key_of(p->tag[p->n - 1]), OFFalse, OFFalse);
    return 0;
}

int c_get(void *ds, const dicom_path *p, route_dcm_value_fn cb, void *ctx)
{
    rl_err err;
    return guard("DICOM get", &err, [&] { return io_get(ds, p, cb, ctx); });
}

int c_set(void *ds, const dicom_path *p, rl_str value, rl_err *err)
{
    return guard("DICOM set", err, [&] { return io_set(ds, p, value, err); });
}

int c_remove(void *ds, const dicom_path *p, rl_err *err)
{
    return guard("DICOM remove", err, [&] { return io_remove(ds, p, err); });
}

int c_deidentify(void *ds, const route_deid *d, rl_err *err)
{
    return dicom_ds_deidentify(static_cast<dicom_ds *>(ds), d, err);
}

} // namespace

extern "C" const route_dcm_io dicom_ds_io = { c_get, c_set, c_remove, c_deidentify };
