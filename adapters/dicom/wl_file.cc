// Worklist files for `radlink wl import`: the .wl DICOM files a wlmscpfs or
// Orthanc worklist folder holds, and DICOM dumps (dcmdump's output, the text
// dump2dcm reads). DCMTK reads the DICOM files; a dump is parsed here (DCMTK
// has no dump reader in its libraries: dump2dcm's parser lives in the
// application), into the same list of raw values, so both go through one
// conversion to worklist entries.
extern "C" {
#include "radlink/limits.h"
#include "radlink/util.h"
#include "radlink/wl.h"
}
#include "radlink/dicom.h"

#include "charset.h"
#include "tags.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"

using rl_dicom::WL_DEPTH;
using rl_dicom::tag_of;

namespace {

// One value of the file: its tag path, the Scheduled Procedure Step item it
// lies in (-1: outside that sequence), and its bytes as the file holds them.
struct Raw {
    uint32_t path[WL_DEPTH];
    uint8_t depth;
    int sps_item;
    bool seq;
    std::string vr, value;
};

struct Reader {
    std::vector<Raw> raws;
    int sps_items = 0;
    std::string error; // why the file cannot be taken

    void add(const uint32_t *prefix, uint8_t d, uint32_t tag, int sps_item, bool seq,
             const std::string &vr, const std::string &value)
    {
        Raw r{};
        std::memcpy(r.path, prefix, d * sizeof *prefix);
        r.path[d] = tag;
        r.depth = uint8_t(d + 1);
        r.sps_item = sps_item;
        r.seq = seq;
        r.vr = vr;
        r.value = value;
        raws.push_back(r);
    }
};

// ---- a DICOM file ----

void walk(Reader &rd, DcmItem *item, uint32_t *prefix, uint8_t d, int sps_item)
{
    for (unsigned long i = 0; i < item->card(); i++) {
        DcmElement *el = item->getElement(i);
        uint32_t tag = tag_of(el->getTag());
        if ((tag & 0xffff) == 0 || d >= 3) // group lengths; nothing radlink keeps is deeper
            continue;
        std::string vr = DcmVR(el->getVR()).getVRName();
        if (el->ident() == EVR_SQ) {
            auto *sq = static_cast<DcmSequenceOfItems *>(el);
            rd.add(prefix, d, tag, sps_item, true, vr, "");
            prefix[d] = tag;
            for (unsigned long k = 0; k < sq->card(); k++) {
                bool sps = d == 0 && tag == WL_SPS_SEQ;
                if (sps && int(k) >= rd.sps_items)
                    rd.sps_items = int(k) + 1;
                if (!sps && k > 0)
                    break; // the worklist keeps one item of other sequences
                walk(rd, sq->getItem(k), prefix, uint8_t(d + 1), sps ? int(k) : sps_item);
            }
            continue;
        }
        if (!el->isaString())
            continue; // binary values: no worklist attribute is one
        OFString v;
        el->getOFStringArray(v, OFFalse);
        rd.add(prefix, d, tag, sps_item, false, vr, std::string(v.c_str(), v.length()));
    }
}

bool read_dicom(const char *path, Reader &rd)
{
    DcmFileFormat ff;
    OFCondition c = ff.loadFile(path, EXS_Unknown, EGL_noChange, DCM_MaxReadLength,
                                ERM_autoDetect);
    if (c.bad()) {
        rd.error = std::string("not a DICOM file or a DICOM dump (") + c.text() + ")";
        return false;
    }
    uint32_t prefix[WL_DEPTH] = {};
    walk(rd, ff.getDataset(), prefix, 0, -1);
    return true;
}

// ---- a DICOM dump ----
//
// One element per line: a tag "(gggg,eeee)" or a dictionary keyword, a VR
// (optional in dump2dcm's input), and a value: "[text]", "=UIDName",
// "(no value available)", or a bare number. Sequences open with an SQ line
// and close with (fffe,e0dd); items open with (fffe,e000) and close with
// (fffe,e00d). '#' starts a comment (dcmdump ends each line with one).

bool is_text(const std::string &b)
{
    size_t n = b.size() < RL_DICOM_WL_SNIFF_BYTES ? b.size() : RL_DICOM_WL_SNIFF_BYTES;
    for (size_t i = 0; i < n; i++)
        if (b[i] == '\0')
            return false;
    size_t i = b.find_first_not_of(" \t\r\n");
    return i != std::string::npos && (b[i] == '#' || b[i] == '(' || std::isalpha((unsigned char)b[i]));
}

bool hex4(const std::string &s, size_t at, uint16_t &out)
{
    if (at + 4 > s.size())
        return false;
    unsigned v = 0;
    for (size_t i = at; i < at + 4; i++) {
        char c = s[i];
        int h = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (h < 0)
            return false;
        v = v << 4 | unsigned(h);
    }
    out = uint16_t(v);
    return true;
}

// A sequence the dump has opened and not yet closed.
struct Level {
    uint32_t seq;     // the sequence's tag
    int items;        // items opened so far
    bool in_item;
    bool skip;        // deeper than a worklist entry goes: contents not kept
};

// The tag at line[i]: "(gggg,eeee)" or a dictionary keyword; i moves past it.
bool dump_tag(const std::string &line, size_t &i, uint16_t &g, uint16_t &e, std::string &why)
{
    if (line[i] == '(') { // spaces may stand anywhere in the tag (as dump2dcm reads it)
        size_t close = line.find(')', i);
        std::string t;
        for (size_t k = i; close != std::string::npos && k <= close; k++)
            if (line[k] != ' ' && line[k] != '\t')
                t += line[k];
        if (t.size() != 11 || !hex4(t, 1, g) || t[5] != ',' || !hex4(t, 6, e)) {
            why = "expected a tag (gggg,eeee) or a keyword";
            return false;
        }
        i = close + 1;
    } else {
        size_t k = i;
        while (k < line.size() && std::isalnum((unsigned char)line[k]))
            k++;
        DcmTag found;
        if (DcmTag::findTagFromName(line.substr(i, k - i).c_str(), found).bad()) {
            why = "unknown keyword '" + line.substr(i, k - i) + "'";
            return false;
        }
        g = found.getGroup();
        e = found.getElement();
        i = k;
    }
    return true;
}

// Items and delimiters open and close what stack holds: 1 when tag was
// one, 0 when it is an element, -1 with why when it stands where it may not.
int dump_delimiter(uint32_t tag, std::vector<Level> &stack, int &sps_item, Reader &rd,
                   std::string &why)
{
    if (tag == 0xFFFEE000u) {
        if (stack.empty() || stack.back().in_item) {
            why = "an item (fffe,e000) outside a sequence";
            return -1;
        }
        Level &l = stack.back();
        l.in_item = true;
        l.items++;
        if (stack.size() == 1 && l.seq == WL_SPS_SEQ) {
            sps_item = l.items - 1;
            rd.sps_items = l.items;
        }
        return 1;
    }
    if (tag == 0xFFFEE00Du) {
        if (stack.empty() || !stack.back().in_item) {
            why = "an item delimiter (fffe,e00d) outside an item";
            return -1;
        }
        stack.back().in_item = false;
        return 1;
    }
    if (tag == 0xFFFEE0DDu) {
        if (stack.empty()) {
            why = "a sequence delimiter (fffe,e0dd) outside a sequence";
            return -1;
        }
        if (stack.back().in_item) // dump2dcm lets the sequence close the item
            stack.back().in_item = false;
        stack.pop_back();
        if (stack.empty())
            sps_item = -1;
        return 1;
    }
    return 0;
}

// The VR at line[i]: two capital letters, else the dictionary's for (g,e);
// i moves past it (npos: nothing follows).
bool dump_vr(const std::string &line, size_t &i, uint16_t g, uint16_t e, std::string &vr,
             std::string &why)
{
    i = line.find_first_not_of(" \t", i);
    if (i != std::string::npos && i + 2 <= line.size() && std::isupper((unsigned char)line[i]) &&
        std::isupper((unsigned char)line[i + 1]) &&
        (i + 2 == line.size() || line[i + 2] == ' ' || line[i + 2] == '\t')) {
        vr = line.substr(i, 2);
        if (!DcmVR(vr.c_str()).isStandard()) {
            why = "unknown VR '" + vr + "'";
            return false;
        }
        i = line.find_first_not_of(" \t", i + 2);
    } else {
        DcmTag t(g, e);
        vr = t.getVR().getVRName();
        if (i != std::string::npos && i + 2 <= line.size() &&
            (!line.compare(i, 2, "na") || !line.compare(i, 2, "ox") ||
             !line.compare(i, 2, "xs") || !line.compare(i, 2, "up")))
            i = line.find_first_not_of(" \t", i + 2); // dcmdump's internal VRs
    }
    return true;
}

// The value at line[i] (npos: none): "[text]", "=UIDName", "(no value
// available)" or a bare value.
bool dump_value(const std::string &line, size_t i, const std::string &vr, std::string &value,
                std::string &why)
{
    if (i != std::string::npos && line[i] == '[') {
        size_t close = line.rfind(']');
        if (close == std::string::npos || close < i) {
            why = "a value '[' without its ']'";
            return false;
        }
        value = line.substr(i + 1, close - i - 1);
    } else if (i != std::string::npos && line[i] == '=') {
        size_t k = line.find_first_of(" \t#", i);
        std::string name = line.substr(i + 1, (k == std::string::npos ? line.size() : k) - i - 1);
        const char *uid = dcmFindUIDFromName(name.c_str());
        if (!uid) {
            why = "unknown UID name '" + name + "'";
            return false;
        }
        value = uid;
    } else if (i != std::string::npos && line[i] != '(' && line[i] != '#') {
        // a bare value runs to a comment or the end of the line
        size_t k = line.find('#', i);
        value = line.substr(i, (k == std::string::npos ? line.size() : k) - i);
        while (!value.empty() && (value.back() == ' ' || value.back() == '\t' || value.back() == '\r'))
            value.pop_back();
    }
    for (size_t k = 0; k + 1 < value.size(); k++) // "\n" in a dump is a line break
        if (value[k] == '\\' && value[k + 1] == 'n' && (vr == "LT" || vr == "ST" || vr == "UT"))
            value.replace(k, 2, "\r\n"), k++;
    return true;
}

bool read_dump(const std::string &text, Reader &rd)
{
    std::vector<Level> stack; // open sequences
    uint32_t prefix[WL_DEPTH] = {};
    int sps_item = -1;
    size_t lineno = 0, pos = 0;
    std::string why;
    auto fail = [&](const std::string &reason) {
        rd.error = "line " + std::to_string(lineno) + ": " + reason;
        return false;
    };
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string::npos)
            end = text.size();
        std::string line = text.substr(pos, end - pos);
        pos = end + 1;
        lineno++;
        size_t i = line.find_first_not_of(" \t\r");
        if (i == std::string::npos || line[i] == '#')
            continue;
        uint16_t g = 0, e = 0;
        if (!dump_tag(line, i, g, e, why))
            return fail(why);
        uint32_t tag = uint32_t(g) << 16 | e;
        size_t depth = 0;
        for (const Level &l : stack)
            depth += l.in_item ? 1 : 0;
        int delimiter = dump_delimiter(tag, stack, sps_item, rd, why);
        if (delimiter < 0)
            return fail(why);
        if (delimiter > 0)
            continue;
        if (!stack.empty() && !stack.back().in_item)
            return fail("an element inside a sequence but outside an item");
        std::string vr, value;
        if (!dump_vr(line, i, g, e, vr, why) || !dump_value(line, i, vr, value, why))
            return fail(why);
        // not kept: what lies in a later item of a sequence (but the SPS's:
        // one entry per step) or deeper than an entry goes
        bool skip = depth >= 3;
        for (const Level &l : stack)
            skip |= l.skip || (l.items > 1 && !(l.seq == WL_SPS_SEQ && &l == &stack.front()));
        if (vr == "SQ") {
            if (!skip) {
                rd.add(prefix, uint8_t(depth), tag, sps_item, true, vr, "");
                prefix[depth] = tag;
            }
            stack.push_back(Level{ tag, 0, false, skip || depth >= 2 });
            continue;
        }
        if (!skip)
            rd.add(prefix, uint8_t(depth), tag, sps_item, false, vr, value);
    }
    if (!stack.empty()) {
        lineno++;
        return fail("the file ends inside a sequence (no (fffe,e0dd))");
    }
    return true;
}

// ---- to entries ----

void trim(std::string &v, const std::string &vr)
{
    bool text = vr == "LT" || vr == "ST" || vr == "UT";
    while (!v.empty() && (v.back() == ' ' || v.back() == '\0'))
        v.pop_back();
    if (!text) {
        size_t k = v.find_first_not_of(' ');
        v.erase(0, k == std::string::npos ? v.size() : k);
    }
}

std::string tag_text(const Raw &r)
{
    static_assert(WL_DEPTH == 3, "b holds one (gggg,eeee) per tag of a path");
    char b[sizeof "(gggg,eeee)>(gggg,eeee)>(gggg,eeee)"];
    int w = 0;
    for (uint8_t d = 0; d < r.depth; d++)
        w += std::snprintf(b + w, sizeof b - size_t(w), "%s(%04X,%04X)", d ? ">" : "",
                           r.path[d] >> 16, r.path[d] & 0xffff);
    return b;
}

int to_entries(Reader &rd, dicom_wl_file *f, rl_arena *a, rl_err *err)
{
    std::string scs;
    for (const Raw &r : rd.raws)
        if (r.depth == 1 && r.path[0] == WL_SPECIFIC_CHARSET)
            scs = r.value;
    trim(scs, "CS");
    size_t steps = rd.sps_items > 0 ? size_t(rd.sps_items) : 1;
    if (steps > f->max)
        return rl_err_set(err, DICOM_E_FILE, -1, "%zu scheduled procedure steps, more than the "
                          "%zu one file may hold", steps, f->max);
    f->n = 0;
    f->left_out = 0;
    f->warnings[0] = '\0';
    std::string left_out, twice;
    std::vector<std::string> counted;
    for (size_t s = 0; s < steps; s++) {
        wl_entry *e = &f->entries[f->n];
        std::memset(e, 0, sizeof *e);
        for (Raw &r : rd.raws) {
            if (r.sps_item >= 0 && r.sps_item != int(s))
                continue;
            if (r.depth == 1 && r.path[0] == WL_SPECIFIC_CHARSET)
                continue; // values are kept in UTF-8; answers carry their own
            if (r.path[0] >> 16 == 0x0002)
                continue; // a dump of a file shows its meta header
            const wl_model_attr *m = wl_model_by_path(r.path, r.depth);
            std::string t = tag_text(r);
            bool seen = false;
            for (const std::string &c : counted)
                seen |= c == t;
            if (!m) { // not an attribute of the worklist model: named once
                if (!seen) {
                    counted.push_back(t);
                    f->left_out++;
                    if (left_out.size() < 60)
                        left_out += (left_out.empty() ? "" : " ") + t;
                    else if (left_out.back() != '.')
                        left_out += " ...";
                }
                continue;
            }
            if (wl_get_attr(e, r.path, r.depth)) { // DCMTK keeps the first, too
                if (!seen) {
                    counted.push_back(t);
                    twice += (twice.empty() ? "" : " ") + t;
                }
                continue;
            }
            std::string v;
            if (!r.seq) {
                std::string raw = r.value;
                trim(raw, r.vr);
                if (raw.empty())
                    continue;
                if (!rl_dicom::to_utf8(scs, raw, v))
                    return rl_err_set(err, DICOM_E_CHARSET, -1, "%s %s: the value cannot be "
                                      "read in the character set '%s'", tag_text(r).c_str(),
                                      m->keyword, scs.c_str());
            } else if (std::strcmp(m->vr, "SQ") != 0) {
                continue;
            }
            char *p = rl_arena_dup(a, v.data(), v.size());
            if (!p)
                return rl_err_set(err, DICOM_E_INTERNAL, -1, "out of memory");
            if (wl_set_attr(e, r.path, r.depth, rl_str{ p, v.size() }) != 0)
                return rl_err_set(err, DICOM_E_FILE, -1, "more than %d worklist attributes",
                                  WL_MAX_ATTRS);
        }
        f->n++;
    }
    std::string w;
    if (f->left_out)
        w = std::to_string(f->left_out) + " attribute" + (f->left_out == 1 ? "" : "s") +
            " the worklist does not serve left out: " + left_out;
    if (!twice.empty())
        w += (w.empty() ? "" : "; ") + twice + " given twice: the first value kept";
    std::snprintf(f->warnings, sizeof f->warnings, "%s", w.c_str());
    return 0;
}

} // namespace

extern "C" int dicom_read_wl(const char *path, dicom_wl_file *f, rl_arena *a, rl_err *err)
{
    try {
        Reader rd;
        FILE *fp = std::fopen(path, "rb");
        if (!fp)
            return rl_err_set(err, DICOM_E_FILE, -1, "%s", std::strerror(errno));
        std::string head(RL_DICOM_WL_SNIFF_BYTES, '\0');
        head.resize(std::fread(&head[0], 1, head.size(), fp));
        bool dicm = head.size() >= 132 && head.compare(128, 4, "DICM") == 0;
        bool text = !dicm && is_text(head);
        std::string all;
        if (text) {
            all = head;
            char buf[RL_DICOM_WL_READ_CHUNK];
            size_t got;
            while ((got = std::fread(buf, 1, sizeof buf, fp)) > 0 && all.size() < RL_WL_FILE_MAX)
                all.append(buf, got);
        }
        std::fclose(fp);
        if (text && all.size() >= RL_WL_FILE_MAX)
            return rl_err_set(err, DICOM_E_FILE, -1, "a dump larger than %u bytes",
                              unsigned(RL_WL_FILE_MAX));
        f->dump = text;
        if (!(text ? read_dump(all, rd) : read_dicom(path, rd)))
            return rl_err_set(err, DICOM_E_FILE, -1, "%s", rd.error.c_str());
        return to_entries(rd, f, a, err);
    } catch (const std::exception &x) {
        return rl_err_set(err, DICOM_E_INTERNAL, -1, "%s", x.what());
    } catch (...) {
        return rl_err_set(err, DICOM_E_INTERNAL, -1, "an unknown exception");
    }
}
