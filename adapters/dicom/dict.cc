// The data dictionary for route files (radlink/dicom.h, dicom_dict): paths
// of keywords and tags through sequences, constants checked against their
// attribute's VR, SOP classes by UID, keyword or name. DCMTK's dictionary
// is the one the rest of the adapter reads files with.
extern "C" {
#include "radlink/dicom.h"
#include "radlink/util.h"
}

#include <cctype>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <string>

#include "check.h"
#include "dict.h"
#include "tags.h"
#include "vr.h"
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "guard.h"

namespace rl_dicom {

std::string dict_vr(uint32_t tag)
{
    if ((tag >> 16) & 1)
        return ""; // private: its VR depends on its creator
    DcmTag t(key_of(tag));
    DcmEVR evr = t.getEVR();
    if (evr == EVR_UNKNOWN || evr == EVR_UNKNOWN2B || evr == EVR_UN)
        return "";
    return DcmVR(DcmVR(evr).getValidEVR()).getVRName();
}

} // namespace rl_dicom

namespace {

using rl_dicom::dict_vr;

using rl_dicom::guard;

int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = char(std::tolower(static_cast<unsigned char>(c)));
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

// "(gggg,eeee)": true with the tag; false when the text is not of that form.
bool parse_tag(const std::string &s, uint32_t *tag)
{
    if (s.size() != 11 || s[0] != '(' || s[5] != ',' || s[10] != ')')
        return false;
    uint32_t t = 0;
    for (size_t i = 1; i < 10; i++) {
        if (i == 5)
            continue;
        int h = hexval(s[i]);
        if (h < 0)
            return false;
        t = (t << 4) | uint32_t(h);
    }
    *tag = t;
    return true;
}

bool is_keyword(const std::string &s)
{
    if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0])))
        return false;
    for (char c : s)
        if (!std::isalnum(static_cast<unsigned char>(c)))
            return false;
    return true;
}

// One element of a path: a keyword or a tag. Returns 0 or the error.
int element_of(const std::string &path, const std::string &s, uint32_t *tag, rl_err *err)
{
    std::string where = path == s ? "" : "'" + path + "': ";
    if (s.empty())
        return rl_err_set(err, DICOM_E_VALUE, -1, "%san empty element (two '/' in a row, or one "
                          "at an end)", where.c_str());
    if (parse_tag(s, tag))
        return 0;
    if (s[0] == '(')
        return rl_err_set(err, DICOM_E_VALUE, -1, "%s'%s' is not a tag (gggg,eeee)",
                          where.c_str(), s.c_str());
    DcmTag t;
    if (!is_keyword(s) || DcmTag::findTagFromName(s.c_str(), t).bad())
        return rl_err_set(err, DICOM_E_VALUE, -1, "%s'%s' is not a DICOM keyword", where.c_str(),
                          s.c_str());
    *tag = rl_dicom::tag_of(t);
    return 0;
}

int path_parse(const char *text, dicom_path *p, rl_err *err)
{
    std::memset(p, 0, sizeof *p);
    std::string path = text ? text : "";
    if (path.size() > DICOM_PATH_TEXT_MAX)
        return rl_err_set(err, DICOM_E_VALUE, -1, "'%.40s...': a path longer than %d characters",
                          path.c_str(), DICOM_PATH_TEXT_MAX);
    size_t from = 0;
    for (;;) {
        size_t slash = path.find('/', from);
        std::string part = path.substr(from, slash == std::string::npos ? std::string::npos
                                                                        : slash - from);
        if (p->n == DICOM_PATH_DEPTH)
            return rl_err_set(err, DICOM_E_VALUE, -1, "'%s': deeper than %d elements",
                              path.c_str(), DICOM_PATH_DEPTH);
        uint32_t tag = 0;
        int rc = element_of(path, part, &tag, err);
        if (rc)
            return rc;
        p->tag[p->n++] = tag;
        std::string vr = dict_vr(tag);
        if (slash == std::string::npos) {
            std::snprintf(p->vr, sizeof p->vr, "%s", vr.c_str());
            p->max_chars = rl_dicom::vr_max_chars(p->vr);
            return 0;
        }
        // a private or unknown tag may be a sequence: the data set says
        if (!vr.empty() && vr != "SQ")
            return rl_err_set(err, DICOM_E_VALUE, -1, "'%s': '%s' is not a sequence",
                              path.c_str(), part.c_str());
        from = slash + 1;
    }
}

std::string path_text(const dicom_path *p)
{
    std::string s;
    for (unsigned i = 0; i < p->n; i++) {
        DcmTag t(rl_dicom::key_of(p->tag[i]));
        const char *name = (p->tag[i] >> 16) & 1 ? nullptr : t.getTagName();
        char b[16];
        std::snprintf(b, sizeof b, "(%04X,%04X)", p->tag[i] >> 16, p->tag[i] & 0xffff);
        s += (i ? "/" : "") + std::string(name && std::strcmp(name, DcmTag_ERROR_TagName) ? name : b);
    }
    return s;
}

int value_check(const dicom_path *p, const char *value, rl_err *err)
{
    std::string why;
    if (rl_dicom::vr_value_ok(p->vr, value ? value : "", why))
        return 0;
    return rl_err_set(err, DICOM_E_VALUE, -1, "%s: %s", path_text(p).c_str(), why.c_str());
}

// Letters and digits only, lower case: "CT Image Storage" and
// "CTImageStorage" meet as "ctimagestorage".
std::string squeeze(const char *s)
{
    std::string out;
    for (; *s; s++)
        if (std::isalnum(static_cast<unsigned char>(*s)))
            out += char(std::tolower(static_cast<unsigned char>(*s)));
    return out;
}

int sop_class(const char *name, char *uid, size_t n, rl_err *err)
{
    const char *found = nullptr;
    if (rl_dicom::valid_uid(name)) {
        found = name;
    } else {
        // DCMTK 3.6.7 names UIDs by keyword-like names ("CTImageStorage");
        // a name with spaces is matched squeezed, among the storage classes
        const char *u = dcmFindUIDFromName(name);
        if (u && dcmIsaStorageSOPClassUID(u, ESSC_All))
            found = u;
        std::string want = squeeze(name);
        for (int i = 0; !found && !want.empty() && i < numberOfDcmAllStorageSOPClassUIDs; i++) {
            const char *k = dcmFindNameOfUID(dcmAllStorageSOPClassUIDs[i], "");
            if (squeeze(k) == want)
                found = dcmAllStorageSOPClassUIDs[i];
        }
    }
    if (!found)
        return rl_err_set(err, DICOM_E_VALUE, -1, "'%s' is not a storage SOP class (a UID, a "
                          "keyword such as CTImageStorage, or a name such as CT Image Storage)",
                          name);
    if (std::strlen(found) >= n)
        return rl_err_set(err, DICOM_E_VALUE, -1, "'%s': its UID does not fit", name);
    std::snprintf(uid, n, "%s", found);
    return 0;
}

int dict_path_parse(const char *text, dicom_path *p, rl_err *err)
{
    return guard("DICOM path", err, [&] { return path_parse(text, p, err); });
}

int dict_value_check(const dicom_path *p, const char *value, rl_err *err)
{
    return guard("DICOM value", err, [&] { return value_check(p, value, err); });
}

int dict_sop_class(const char *name, char *uid, size_t n, rl_err *err)
{
    return guard("SOP class", err, [&] { return sop_class(name, uid, n, err); });
}

} // namespace

namespace rl_dicom {

std::string dict_path_text(const dicom_path *p)
{
    return path_text(p);
}

} // namespace rl_dicom

extern "C" const route_dicom_dict dicom_dict = {
    dict_path_parse,
    dict_value_check,
    dict_sop_class,
};
