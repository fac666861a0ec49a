// De-identification's rules (deid_rules.h): Table E.1-1 looked up under the
// options, the choice among combined actions, UIDs derived from the site's
// secret, free text cleaned of identifiers.
#include "deid_rules.h"

extern "C" {
#include "radlink/route_dicom.h"
}

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstring>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcuid.h"

namespace {

struct deid_row {
    uint32_t tag, mask;
    uint8_t basic;
    uint8_t opt[DICOM_DEID_OPTIONS];
};

#include "deid_table.h"

// The generator writes option columns in route_deid_option's bit order.
static_assert(ROUTE_DEID_RETAIN_LONG_DATES == 1u << 0 && ROUTE_DEID_RETAIN_PATIENT_CHARS == 1u << 1 &&
                  ROUTE_DEID_RETAIN_DEVICE_ID == 1u << 2 &&
                  ROUTE_DEID_RETAIN_INSTITUTION_ID == 1u << 3 && ROUTE_DEID_RETAIN_UIDS == 1u << 4 &&
                  ROUTE_DEID_CLEAN_DESCRIPTIONS == 1u << 5,
              "deid_table.h's option columns follow route_deid_option's bits");

const deid_row *find_row(uint32_t tag)
{
    const deid_row *end = deid_exact + sizeof deid_exact / sizeof deid_exact[0];
    const deid_row *r =
        std::lower_bound(deid_exact, end, tag, [](const deid_row &a, uint32_t t) { return a.tag < t; });
    if (r != end && r->tag == tag)
        return r;
    for (const deid_row &m : deid_masked)
        if ((tag & m.mask) == m.tag)
            return &m;
    return nullptr;
}

bool word_byte(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c >= 0x80;
}

unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

bool same_at(const char *text, const char *word, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)text[i]) != lower((unsigned char)word[i]))
            return false;
    return true;
}

// Take every whole-word occurrence of word out of text[0..n); the new length.
size_t take_out(char *text, size_t n, const char *word)
{
    size_t wn = std::strlen(word);
    if (wn == 0)
        return n;
    size_t i = 0;
    while (i + wn <= n) {
        bool at_start = i == 0 || !word_byte((unsigned char)text[i - 1]);
        bool at_end = i + wn == n || !word_byte((unsigned char)text[i + wn]);
        if (at_start && at_end && same_at(text + i, word, wn)) {
            std::memmove(text + i, text + i + wn, n - i - wn);
            n -= wn;
        } else {
            i++;
        }
    }
    return n;
}

} // namespace

extern "C" dicom_deid_act dicom_deid_action(uint32_t tag, unsigned options)
{
    const deid_row *r = find_row(tag);
    if (!r)
        return DICOM_DEID_NONE;
    for (unsigned i = 0; i < DICOM_DEID_OPTIONS; i++)
        if ((options & (1u << i)) && r->opt[i])
            return dicom_deid_act(r->opt[i]); // the generator checked the options agree
    return dicom_deid_act(r->basic);
}

// Only the IOD says whether an attribute is Type 1 (a value), 2 (present,
// maybe empty) or 3 (optional), and the route does not know the IOD. So
// radlink takes the choice that is conformant whatever the Type:
// - X/Z: Z, for Type 2 and 3 alike;
// - X/D, X/Z/D, Z/D: D, a dummy value, for Type 1, 2 and 3 alike, and it
//   tells nothing more than removing would;
// - X/Z/U*: the sequence is kept and the UIDs it holds are replaced (they
//   are rows of the table), as Type 1 asks; its references tell nothing
//   once their UIDs are new;
// - an attribute present with no value stays empty (Z) when the action
//   allows Z: the instance was conformant with it empty (Type 2 or 3);
// - a sequence with items under X/Z or X/Z/D is removed: a dummy item
//   cannot be made without knowing what the item must hold, and a Type 3
//   sequence that is present must hold one item at least (PS3.3's modules
//   give each its number of items; dciodvfy counts them). Referenced Study,
//   Referenced Performed Procedure Step and Institution Code Sequence are
//   Type 3 in every storage module that has them. The one that is Type 2
//   there, Acquisition Context Sequence (PS3.3 C.7.6.14), is emptied, as is
//   a sequence under Z/D. Under D, C or X/D a sequence keeps its items, each
//   de-identified, with the free text the table does not name cleaned.
static bool type2_sequence(uint32_t tag)
{
    return tag == 0x00400555; // Acquisition Context Sequence
}

extern "C" dicom_deid_act dicom_deid_choose(uint32_t tag, dicom_deid_act a, bool empty, bool sequence)
{
    bool items = sequence && !empty;
    switch (a) {
    case DICOM_DEID_XZ:
        return items && !type2_sequence(tag) ? DICOM_DEID_X : DICOM_DEID_Z;
    case DICOM_DEID_XZD:
        if (items && !type2_sequence(tag))
            return DICOM_DEID_X;
        return empty || sequence ? DICOM_DEID_Z : DICOM_DEID_D;
    case DICOM_DEID_XD:
        return DICOM_DEID_D;
    case DICOM_DEID_ZD:
        return empty || sequence ? DICOM_DEID_Z : DICOM_DEID_D;
    case DICOM_DEID_XZU:
        return empty ? DICOM_DEID_Z : DICOM_DEID_K;
    default:
        return a;
    }
}

extern "C" const char *dicom_deid_act_name(dicom_deid_act a)
{
    static const char *const names[] = { "", "D", "Z", "X", "K", "C", "U",
                                         "X/Z", "X/D", "X/Z/D", "Z/D", "X/Z/U*" };
    return unsigned(a) < sizeof names / sizeof names[0] ? names[a] : "?";
}

extern "C" const char *dicom_deid_edition(void)
{
    return DICOM_DEID_TABLE_EDITION;
}

extern "C" size_t dicom_deid_table_rows(void)
{
    return DICOM_DEID_TABLE_ROWS;
}

extern "C" void dicom_deid_uid(const uint8_t *secret, size_t secret_n, const char *uid, size_t n,
                               char out[RL_UUID_UID_SIZE])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int macn = 0;
    HMAC(EVP_sha256(), secret, int(secret_n), reinterpret_cast<const unsigned char *>(uid), n, mac,
         &macn);
    // The first 16 bytes as one big-endian integer, in decimal: divide it
    // by 10 until it is 0, the remainders being the digits from the right.
    unsigned char num[RL_UUID_BYTES];
    std::memcpy(num, mac, sizeof num);
    char digits[RL_UUID_DIGITS_MAX];
    size_t nd = 0;
    bool zero;
    do {
        unsigned rem = 0;
        zero = true;
        for (unsigned char &b : num) {
            unsigned cur = (rem << 8) | b;
            b = (unsigned char)(cur / 10);
            rem = cur % 10;
            zero = zero && b == 0;
        }
        digits[nd++] = char('0' + rem);
    } while (!zero && nd < sizeof digits);
    std::memcpy(out, "2.25.", 5);
    for (size_t i = 0; i < nd; i++)
        out[5 + i] = digits[nd - 1 - i];
    out[5 + nd] = '\0';
}

extern "C" bool dicom_deid_uid_well_known(const char *uid)
{
    // Every UID under the DICOM root is the standard's (DCMTK's dictionary
    // may predate it); instances never carry it.
    return std::strncmp(uid, "1.2.840.10008.", 14) == 0 || dcmFindNameOfUID(uid) != nullptr;
}

extern "C" size_t dicom_deid_clean(char *text, size_t n, const char *const *words, size_t nwords)
{
    for (size_t w = 0; w < nwords; w++)
        n = take_out(text, n, words[w]);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (text[i] == ' ' && (o == 0 || text[o - 1] == ' '))
            continue;
        text[o++] = text[i];
    }
    while (o > 0 && text[o - 1] == ' ')
        o--;
    return o;
}
