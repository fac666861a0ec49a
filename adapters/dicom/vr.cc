// What a value of each DICOM VR may hold (vr.h): PS3.5 6.2, Table 6.2-1.
#include "vr.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "check.h"

namespace rl_dicom {

namespace {

struct VrRule {
    const char *vr;
    uint32_t max;      // characters (PN: per component group), 0: none
    bool multi;        // values separated by '\' (VM > 1 allowed)
    bool (*ok)(const std::string &v, std::string &why);
};

bool digits(const std::string &s, size_t from, size_t n)
{
    if (from + n > s.size())
        return false;
    for (size_t i = from; i < from + n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

int num(const std::string &s, size_t from, size_t n)
{
    int v = 0;
    for (size_t i = from; i < from + n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in(int y, int m)
{
    static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return m == 2 && leap(y) ? 29 : d[m - 1];
}

// YYYYMMDD, a real date
bool ok_da(const std::string &v, std::string &why)
{
    if (v.size() == 8 && digits(v, 0, 8)) {
        int y = num(v, 0, 4), m = num(v, 4, 2), d = num(v, 6, 2);
        if (m >= 1 && m <= 12 && d >= 1 && d <= days_in(y, m))
            return true;
    }
    why = "'" + v + "' is not a date (DA: YYYYMMDD)";
    return false;
}

// HH[MM[SS[.F{1,6}]]] from position at; the length used in *used
bool time_part(const std::string &v, size_t at, size_t *used)
{
    static const int max[] = { 23, 59, 60 }; // 60: a leap second
    size_t i = at;
    for (int k = 0; k < 3 && i < v.size() && v[i] != '.'; k++) {
        if (!digits(v, i, 2) || num(v, i, 2) > max[k])
            return false;
        i += 2;
    }
    if (i == at)
        return false;
    if (i < v.size() && v[i] == '.') {
        if (i - at != 6) // a fraction needs the seconds
            return false;
        size_t f = i + 1;
        while (i + 1 < v.size() && v[i + 1] >= '0' && v[i + 1] <= '9')
            i++;
        size_t nf = i - f + 1;
        if (nf < 1 || nf > 6)
            return false;
        i++;
    }
    *used = i - at;
    return true;
}

bool ok_tm(const std::string &v, std::string &why)
{
    std::string t = v;
    while (!t.empty() && t.back() == ' ')
        t.pop_back();
    size_t used = 0;
    if (time_part(t, 0, &used) && used == t.size())
        return true;
    why = "'" + v + "' is not a time (TM: HH, HHMM, HHMMSS or HHMMSS.FFFFFF)";
    return false;
}

// YYYY[MM[DD[HH[MM[SS[.F{1,6}]]]]]][&ZZXX]
bool ok_dt(const std::string &v, std::string &why)
{
    std::string t = v;
    while (!t.empty() && t.back() == ' ')
        t.pop_back();
    bool good = false;
    size_t zone = t.find_first_of("+-");
    std::string d = t.substr(0, zone);
    if (digits(d, 0, 4) && (d.size() == 4 || d.size() >= 6)) {
        good = true;
        int y = num(d, 0, 4), m = 1;
        if (d.size() >= 6) {
            m = num(d, 4, 2);
            good = digits(d, 4, 2) && m >= 1 && m <= 12;
        }
        if (good && d.size() >= 8)
            good = digits(d, 6, 2) && num(d, 6, 2) >= 1 && num(d, 6, 2) <= days_in(y, m);
        else if (good && d.size() == 7)
            good = false;
        size_t used = 0;
        if (good && d.size() > 8)
            good = time_part(d, 8, &used) && 8 + used == d.size();
    }
    if (good && zone != std::string::npos) {
        std::string z = t.substr(zone + 1);
        good = z.size() == 4 && digits(z, 0, 4) && num(z, 0, 2) <= 14 && num(z, 2, 2) <= 59;
    }
    if (!good)
        why = "'" + v + "' is not a date and time (DT: YYYYMMDDHHMMSS.FFFFFF&ZZXX, "
                        "components from the right optional)";
    return good;
}

std::string trim(const std::string &v)
{
    size_t a = v.find_first_not_of(' '), b = v.find_last_not_of(' ');
    return a == std::string::npos ? std::string() : v.substr(a, b - a + 1);
}

bool ok_is(const std::string &v, std::string &why)
{
    std::string t = trim(v);
    size_t s = !t.empty() && (t[0] == '+' || t[0] == '-') ? 1 : 0;
    if (t.size() > s && digits(t, s, t.size() - s)) {
        long long n = std::strtoll(t.c_str(), nullptr, 10);
        if (n >= -2147483648LL && n <= 2147483647LL)
            return true;
    }
    why = "'" + v + "' is not an integer string (IS: -2^31 to 2^31-1)";
    return false;
}

bool ok_ds(const std::string &v, std::string &why)
{
    std::string t = trim(v);
    size_t i = 0, n = t.size();
    if (i < n && (t[i] == '+' || t[i] == '-'))
        i++;
    size_t mant = 0;
    while (i < n && t[i] >= '0' && t[i] <= '9')
        i++, mant++;
    if (i < n && t[i] == '.')
        for (i++; i < n && t[i] >= '0' && t[i] <= '9'; i++)
            mant++;
    bool good = mant > 0;
    if (good && i < n && (t[i] == 'e' || t[i] == 'E')) {
        i++;
        if (i < n && (t[i] == '+' || t[i] == '-'))
            i++;
        size_t e = 0;
        while (i < n && t[i] >= '0' && t[i] <= '9')
            i++, e++;
        good = e > 0;
    }
    if (good && i == n)
        return true;
    why = "'" + v + "' is not a decimal string (DS)";
    return false;
}

bool ok_as(const std::string &v, std::string &why)
{
    if (v.size() == 4 && digits(v, 0, 3) && std::strchr("DWMY", v[3]) && v[3])
        return true;
    why = "'" + v + "' is not an age (AS: nnnD, nnnW, nnnM or nnnY)";
    return false;
}

bool ok_cs(const std::string &v, std::string &why)
{
    for (char c : v)
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ' || c == '_')) {
            why = "'" + v + "' is not a code string (CS: capitals, digits, space and '_')";
            return false;
        }
    return true;
}

bool ok_ui(const std::string &v, std::string &why)
{
    std::string t = v;
    if (!t.empty() && t.back() == '\0')
        t.pop_back();
    if (valid_uid(t.c_str()))
        return true;
    why = "'" + v + "' is not a UID (UI: digits and dots, no empty component, 64 at most)";
    return false;
}

bool ok_ae(const std::string &v, std::string &why)
{
    for (unsigned char c : v)
        if (c < 0x20 || c >= 0x7f) {
            why = "'" + v + "' is not an AE title (AE: ASCII without control characters)";
            return false;
        }
    return true;
}

template <long long lo, unsigned long long hi> bool ok_int(const std::string &v, std::string &why)
{
    std::string t = trim(v);
    size_t s = !t.empty() && t[0] == '-' ? 1 : 0;
    errno = 0;
    if (t.size() > s && digits(t, s, t.size() - s)) {
        if (s) {
            long long n = std::strtoll(t.c_str(), nullptr, 10);
            if (errno == 0 && n >= lo)
                return true;
        } else {
            unsigned long long n = std::strtoull(t.c_str(), nullptr, 10);
            if (errno == 0 && n <= hi)
                return true;
        }
    }
    why = "'" + v + "' is not an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
    return false;
}

bool ok_float(const std::string &v, std::string &why)
{
    std::string t = trim(v);
    char *end = nullptr;
    errno = 0;
    std::strtod(t.c_str(), &end);
    if (!t.empty() && errno == 0 && end && *end == '\0')
        return true;
    why = "'" + v + "' is not a number";
    return false;
}

bool ok_text(const std::string &, std::string &)
{
    return true;
}

const VrRule rules[] = {
    { "AE", 16, true, ok_ae },      { "AS", 4, true, ok_as },
    { "CS", 16, true, ok_cs },      { "DA", 8, true, ok_da },
    { "DS", 16, true, ok_ds },      { "DT", 26, true, ok_dt },
    { "IS", 12, true, ok_is },      { "LO", 64, true, ok_text },
    { "LT", 10240, false, ok_text }, { "PN", 64, true, ok_text },
    { "SH", 16, true, ok_text },    { "ST", 1024, false, ok_text },
    { "TM", 14, true, ok_tm },      { "UC", 0, true, ok_text },
    { "UI", 64, true, ok_ui },      { "UR", 0, false, ok_text },
    { "UT", 0, false, ok_text },
    { "US", 0, true, ok_int<0, 65535> },
    { "SS", 0, true, ok_int<-32768, 32767> },
    { "UL", 0, true, ok_int<0, 4294967295ULL> },
    { "SL", 0, true, ok_int<-2147483648LL, 2147483647ULL> },
    { "UV", 0, true, ok_int<0, 18446744073709551615ULL> },
    { "SV", 0, true, ok_int<(-9223372036854775807LL - 1), 9223372036854775807ULL> },
    { "FL", 0, true, ok_float },    { "FD", 0, true, ok_float },
};

const VrRule *rule_of(const char *vr)
{
    for (const VrRule &r : rules)
        if (std::strcmp(r.vr, vr) == 0)
            return &r;
    return nullptr;
}

// Characters (code points) of UTF-8 text; -1 when it is not UTF-8.
long utf8_chars(const std::string &s)
{
    long n = 0;
    for (size_t i = 0; i < s.size(); n++) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (k == 0 || i + k > s.size())
            return -1;
        for (size_t j = 1; j < k; j++)
            if ((static_cast<unsigned char>(s[i + j]) & 0xc0) != 0x80)
                return -1;
        i += k;
    }
    return n;
}

std::vector<std::string> split(const std::string &s, char sep)
{
    std::vector<std::string> v;
    size_t p = 0;
    for (;;) {
        size_t q = s.find(sep, p);
        v.push_back(s.substr(p, q == std::string::npos ? std::string::npos : q - p));
        if (q == std::string::npos)
            return v;
        p = q + 1;
    }
}

// Control characters: none, except in the texts (LT, ST, UT) tab, line
// feed, form feed and carriage return (PS3.5 6.1.3).
bool controls_ok(const char *vr, const std::string &v, std::string &why)
{
    bool text = std::strcmp(vr, "LT") == 0 || std::strcmp(vr, "ST") == 0 || std::strcmp(vr, "UT") == 0;
    for (unsigned char c : v) {
        if (c >= 0x20 && c != 0x7f)
            continue;
        if (text && (c == '\t' || c == '\n' || c == '\f' || c == '\r'))
            continue;
        why = std::string("a control character is not allowed in ") + vr;
        return false;
    }
    return true;
}

bool one_ok(const VrRule &r, const std::string &v, std::string &why)
{
    if (v.empty())
        return true; // an empty value among others ("A\\B")
    if (!controls_ok(r.vr, v, why))
        return false;
    if (std::strcmp(r.vr, "PN") == 0) {
        std::vector<std::string> g = split(v, '=');
        if (g.size() > 3) {
            why = "'" + v + "' has more than three component groups (PN)";
            return false;
        }
        for (const std::string &x : g)
            if (utf8_chars(x) > long(r.max)) {
                why = "'" + x + "' is longer than 64 characters (PN, per component group)";
                return false;
            }
        return true;
    }
    if (r.max && utf8_chars(v) > long(r.max)) {
        why = "'" + v + "' is longer than " + std::to_string(r.max) + " characters (" + r.vr + ")";
        return false;
    }
    return r.ok(v, why);
}

} // namespace

uint32_t vr_max_chars(const char *vr)
{
    const VrRule *r = rule_of(vr);
    return r ? r->max : 0;
}

bool vr_value_ok(const char *vr, const std::string &utf8, std::string &why)
{
    if (utf8_chars(utf8) < 0) {
        why = "the value is not UTF-8";
        return false;
    }
    if (!vr[0])
        return true; // a private or unknown tag: the dictionary says nothing
    if (std::strcmp(vr, "SQ") == 0) {
        why = "a sequence (SQ) cannot take a value";
        return false;
    }
    const VrRule *r = rule_of(vr);
    if (!r) {
        why = std::string("a value of VR ") + vr + " cannot be given as text";
        return false;
    }
    if (utf8.empty())
        return true; // present and empty: every VR allows it
    if (!r->multi)
        return one_ok(*r, utf8, why);
    for (const std::string &v : split(utf8, '\\'))
        if (!one_ok(*r, v, why))
            return false;
    return true;
}

} // namespace rl_dicom
