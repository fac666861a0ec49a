// Character sets of DICOM values (charset.h).
#include "charset.h"

#include <iconv.h>

#include <cerrno>
#include <cstring>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcspchrs.h"

namespace rl_dicom {

namespace {

const char ESC = '\x1b';

// iconv from one encoding to another, the whole input or nothing.
bool iconv_all(const char *to, const char *from, const std::string &in, std::string &out)
{
    iconv_t cd = iconv_open(to, from);
    if (cd == (iconv_t)-1)
        return false;
    std::string res;
    res.resize(in.size() * 4 + 16);
    char *ip = const_cast<char *>(in.data()), *op = &res[0];
    size_t il = in.size(), ol = res.size();
    bool ok = iconv(cd, &ip, &il, &op, &ol) != (size_t)-1 &&
              iconv(cd, nullptr, nullptr, &op, &ol) != (size_t)-1; // the final shift back
    iconv_close(cd);
    if (!ok)
        return false;
    res.resize(res.size() - ol);
    out.swap(res);
    return true;
}

std::vector<std::string> terms(const std::string &scs)
{
    std::vector<std::string> v;
    size_t p = 0;
    for (;;) {
        size_t q = scs.find('\\', p);
        std::string t = scs.substr(p, q == std::string::npos ? std::string::npos : q - p);
        while (!t.empty() && t.back() == ' ')
            t.pop_back();
        while (!t.empty() && t.front() == ' ')
            t.erase(0, 1);
        v.push_back(t);
        if (q == std::string::npos)
            return v;
        p = q + 1;
    }
}

bool has_term(const std::string &scs, const char *ir)
{
    for (const std::string &t : terms(scs))
        if (t.size() >= std::strlen(ir) && t.compare(t.size() - std::strlen(ir), std::string::npos, ir) == 0)
            return true;
    return false;
}

std::string strip(const std::string &s, const char *seq)
{
    std::string out;
    size_t n = std::strlen(seq);
    for (size_t i = 0; i < s.size();) {
        if (s.compare(i, n, seq) == 0) {
            i += n;
            continue;
        }
        out += s[i++];
    }
    return out;
}

// EUC bytes (a G1 set in GR) as DICOM writes them: the designation escape
// at the start of each value, component and group that uses the set.
std::string designate_g1(const std::string &euc, const char *seq)
{
    std::string out, part;
    auto flush = [&]() {
        bool high = false;
        for (unsigned char c : part)
            high |= c >= 0x80;
        if (high)
            out += seq;
        out += part;
        part.clear();
    };
    for (char c : euc) {
        if (c == '^' || c == '=' || c == '\\') {
            flush();
            out += c;
        } else {
            part += c;
        }
    }
    flush();
    return out;
}

} // namespace

bool plain_ascii(const std::string &s)
{
    for (unsigned char c : s)
        if (c >= 0x80 || c == static_cast<unsigned char>(ESC))
            return false;
    return true;
}

bool to_utf8(const std::string &scs, const std::string &raw, std::string &out)
{
    if (plain_ascii(raw)) {
        out = raw;
        return true;
    }
    // the Japanese ISO 2022 sets: DCMTK would only log that it cannot
    bool japanese = has_term(scs, "IR 87") || has_term(scs, "IR 159");
    DcmSpecificCharacterSet cs;
    if (!japanese && cs.selectCharacterSet(OFString(scs.c_str())).good()) {
        OFString o;
        if (cs.convertString(OFString(raw.data(), raw.size()), o, "\\^=").good()) {
            out.assign(o.c_str(), o.length());
            return true;
        }
    }
    // the ISO 2022 sets DCMTK cannot open with glibc's iconv
    if (japanese)
        return iconv_all("UTF-8", "ISO-2022-JP-2", raw, out);
    if (has_term(scs, "IR 149"))
        return iconv_all("UTF-8", "EUC-KR", strip(raw, "\x1b$)C"), out);
    if (has_term(scs, "IR 58"))
        return iconv_all("UTF-8", "EUC-CN", strip(raw, "\x1b$)A"), out);
    return false;
}

bool from_utf8(const std::string &scs, const std::string &utf8, std::string &out)
{
    if (plain_ascii(utf8)) {
        out = utf8;
        return true;
    }
    std::vector<std::string> t = terms(scs);
    bool extensions = t.size() > 1 || (!t.empty() && t[0].compare(0, 8, "ISO 2022") == 0);
    if (!extensions) {
        if (t.empty() || t[0].empty())
            return false; // the default repertoire: ASCII only
        if (t[0] == "ISO_IR 192") {
            out = utf8;
            return true;
        }
        DcmSpecificCharacterSet cs;
        OFString o;
        if (cs.selectCharacterSet("ISO_IR 192", OFString(t[0].c_str())).good() &&
            cs.convertString(OFString(utf8.data(), utf8.size()), o).good()) {
            out.assign(o.c_str(), o.length());
            return true;
        }
        return false;
    }
    if (has_term(scs, "IR 87")) // JIS X 0208 in G0: ESC $ B ... ESC ( B, as ISO-2022-JP writes
        return iconv_all("ISO-2022-JP", "UTF-8", utf8, out);
    std::string euc;
    if (has_term(scs, "IR 149") && iconv_all("EUC-KR", "UTF-8", utf8, euc)) {
        out = designate_g1(euc, "\x1b$)C");
        return true;
    }
    if (has_term(scs, "IR 58") && iconv_all("EUC-CN", "UTF-8", utf8, euc)) {
        out = designate_g1(euc, "\x1b$)A");
        return true;
    }
    return false;
}

std::vector<std::string> pn_groups_raw(const std::string &raw)
{
    std::vector<std::string> g(1);
    bool two_byte = false; // G0 holds a two-byte set
    for (size_t i = 0; i < raw.size();) {
        char c = raw[i];
        if (c == ESC) {
            size_t n = 1;
            if (i + 2 < raw.size() && raw[i + 1] == '$' && (raw[i + 2] == 'B' || raw[i + 2] == '@')) {
                two_byte = true, n = 3;
            } else if (i + 3 < raw.size() && raw[i + 1] == '$' && raw[i + 2] == '(') {
                two_byte = true, n = 4;
            } else if (i + 3 < raw.size() && raw[i + 1] == '$') {
                n = 4; // a two-byte set into G1..G3: GR bytes, no clash with delimiters
            } else if (i + 2 < raw.size() && raw[i + 1] == '(') {
                two_byte = false, n = 3;
            } else if (i + 2 < raw.size()) {
                n = 3;
            }
            g.back() += raw.substr(i, n);
            i += n;
            continue;
        }
        if (two_byte && i + 1 < raw.size()) {
            g.back() += raw.substr(i, 2);
            i += 2;
            continue;
        }
        if (c == '=' && g.size() < 3) {
            g.emplace_back();
            two_byte = false; // the state resets at a delimiter (PS3.5 6.1.2.5.3)
        } else {
            g.back() += c;
        }
        i++;
    }
    return g;
}

} // namespace rl_dicom
