// Worklist entries and queries as DICOM data sets, the worklist's data side
// (as DCMTK's WlmDataSource is beside its network side): a C-FIND request's
// keys as a wl_query for the C core's matching (engine/wl/match.c, PS3.4
// C.2.2.2), an entry of the model (PS3.4 K.6) as the answer to a request or
// as a whole .wl file.
extern "C" {
#include "radlink/limits.h"
#include "radlink/util.h"
#include "radlink/wl.h"
}
#include "radlink/dicom.h"

#include "tags.h"
#include "wl_dataset.h"

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"

using rl_dicom::key_of;
using rl_dicom::WL_DEPTH;
using rl_dicom::tag_of;

namespace {

// The request's elements as wl_query keys (values point into `text`, which
// must not move: it is reserved up front).
struct QueryBuilder {
    wl_query *q;
    std::vector<std::string> *text;

    void add(DcmItem *item, uint32_t *prefix, uint8_t depth)
    {
        for (unsigned long i = 0; i < item->card() && q->n < WL_MAX_ATTRS; i++) {
            DcmElement *el = item->getElement(i);
            uint32_t tag = tag_of(el->getTag());
            if (depth == 0 && tag == WL_SPECIFIC_CHARSET)
                continue;
            // group lengths (gggg,0000) are no keys (and are never echoed)
            if (depth >= 3 || tag >> 16 == 0 || (tag & 0xffff) == 0)
                continue;
            wl_key *k = &q->k[q->n];
            std::memset(k, 0, sizeof *k);
            std::memcpy(k->path, prefix, depth * sizeof *prefix);
            k->path[depth] = tag;
            k->depth = uint8_t(depth + 1);
            std::string vr = DcmVR(el->getVR()).getVRName();
            std::snprintf(k->vr, sizeof k->vr, "%s", vr.c_str());
            if (el->ident() == EVR_SQ) {
                auto *sq = static_cast<DcmSequenceOfItems *>(el);
                // an empty sequence, or one empty item: universal matching
                // (PS3.4 C.2.2.2.6), the whole item comes back
                if (sq->card() == 0 || sq->getItem(0)->card() == 0) {
                    k->sequence = true;
                    q->n++;
                } else {
                    prefix[depth] = tag;
                    add(sq->getItem(0), prefix, uint8_t(depth + 1));
                }
                continue;
            }
            OFString v;
            el->getOFStringArray(v);
            text->push_back(std::string(v.c_str(), v.length()));
            k->value = rl_str{ text->back().data(), text->back().size() };
            // only attributes of the worklist model are matched; others are
            // return keys (universal)
            if (!wl_model_by_path(k->path, k->depth))
                k->value = rl_str{ "", 0 };
            q->n++;
        }
    }
};

void put_value(DcmItem *item, uint32_t tag, const rl_str &v)
{
    std::string s(v.p ? v.p : "", v.n);
    if (s.empty()) {
        item->insertEmptyElement(key_of(tag));
        return;
    }
    if (item->putAndInsertString(key_of(tag), s.c_str()).bad())
        item->insertEmptyElement(key_of(tag));
}

// Every attribute of e under prefix (depth d) into item.
void put_all(const wl_entry *e, DcmItem *item, const uint32_t *prefix, uint8_t d)
{
    uint32_t done_seqs[RL_DICOM_WL_SEQS_MAX];
    size_t ndone = 0;
    for (size_t i = 0; i < e->n; i++) {
        const wl_attr &a = e->a[i];
        if (a.depth <= d || std::memcmp(a.path, prefix, d * sizeof *prefix) != 0)
            continue;
        if (a.depth == d + 1) {
            const wl_model_attr *m = wl_model_by_path(a.path, a.depth);
            if (m && !std::strcmp(m->vr, "SQ")) {
                if (!item->tagExists(key_of(a.path[d])))
                    item->insertEmptyElement(key_of(a.path[d]));
            } else {
                put_value(item, a.path[d], a.value);
            }
            continue;
        }
        // an attribute inside a sequence: fill that sequence's item once
        bool seen = false;
        for (size_t k = 0; k < ndone && !seen; k++)
            seen = done_seqs[k] == a.path[d];
        if (seen || ndone == RL_DICOM_WL_SEQS_MAX)
            continue;
        done_seqs[ndone++] = a.path[d];
        item->findAndDeleteElement(key_of(a.path[d])); // an empty placeholder, if any
        DcmItem *child = nullptr;
        if (item->findOrCreateSequenceItem(key_of(a.path[d]), child, 0).good() && child) {
            uint32_t p[WL_DEPTH] = {};
            std::memcpy(p, a.path, (d + 1u) * sizeof *p);
            put_all(e, child, p, uint8_t(d + 1));
        }
    }
}

// The response for one entry: every key of the request, filled from e.
void fill(const wl_entry *e, DcmItem *req, DcmItem *rsp, uint32_t *prefix, uint8_t d)
{
    for (unsigned long i = 0; i < req->card(); i++) {
        DcmElement *el = req->getElement(i);
        uint32_t tag = tag_of(el->getTag());
        if ((d == 0 && tag == WL_SPECIFIC_CHARSET) || (tag & 0xffff) == 0)
            continue; // the charset is set per answer; group lengths are not echoed
        prefix[d] = tag;
        if (el->ident() == EVR_SQ) {
            auto *sq = static_cast<DcmSequenceOfItems *>(el);
            // an item only when the entry has something inside the sequence
            // (an empty type 2 sequence is stored as a placeholder): never an
            // item of empty UIDs or half a code
            bool have = false;
            for (size_t k = 0; k < e->n && !have; k++)
                have = e->a[k].depth > d + 1 && !std::memcmp(e->a[k].path, prefix,
                                                             (d + 1u) * sizeof *prefix);
            if (!have || d >= 2) {
                rsp->insertEmptyElement(el->getTag());
                continue;
            }
            DcmItem *child = nullptr;
            if (rsp->findOrCreateSequenceItem(el->getTag(), child, 0).bad() || !child)
                continue;
            if (sq->card() == 0 || sq->getItem(0)->card() == 0)
                put_all(e, child, prefix, uint8_t(d + 1));
            else
                fill(e, sq->getItem(0), child, prefix, uint8_t(d + 1));
            // an item with nothing in it is an empty sequence
            if (child->card() == 0) {
                rsp->findAndDeleteElement(el->getTag());
                rsp->insertEmptyElement(el->getTag());
            }
            continue;
        }
        const rl_str *v = wl_get_attr(e, prefix, uint8_t(d + 1));
        put_value(rsp, tag, v ? *v : rl_str{ "", 0 });
    }
}

} // namespace

namespace rl_dicom {

void read_query(DcmItem *req, wl_query *q, std::vector<std::string> &text)
{
    uint32_t prefix[WL_DEPTH] = {};
    QueryBuilder{ q, &text }.add(req, prefix, 0);
}

void write_answer(const wl_entry *e, DcmItem *req, DcmItem *rsp)
{
    uint32_t prefix[WL_DEPTH] = {};
    fill(e, req, rsp, prefix, 0);
}

} // namespace rl_dicom

extern "C" int dicom_write_wl(const wl_entry *e, const char *path, rl_err *err)
{
    try {
        DcmFileFormat ff;
        DcmDataset *ds = ff.getDataset();
        ds->putAndInsertString(DCM_SpecificCharacterSet, "ISO_IR 192");
        uint32_t prefix[WL_DEPTH] = {};
        put_all(e, ds, prefix, 0);
        OFCondition c = ff.saveFile(path, EXS_LittleEndianExplicit);
        if (c.bad())
            return rl_err_set(err, DICOM_E_FILE, -1, "%s: %s", path, c.text());
        return 0;
    } catch (const std::exception &x) {
        return rl_err_set(err, DICOM_E_INTERNAL, -1, "%s: %s", path, x.what());
    } catch (...) {
        return rl_err_set(err, DICOM_E_INTERNAL, -1, "%s: an unknown exception", path);
    }
}
