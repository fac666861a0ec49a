// Character sets of DICOM values (PS3.5 6.1), inside the DICOM bridge.
//
// DCMTK converts between character sets through iconv, but glibc's iconv
// knows none of the names DCMTK uses for the ISO 2022 Japanese sets (IR 87,
// IR 159, IR 13), so a Japanese file cannot be converted as a whole. Values
// are therefore read and written one at a time here: ASCII as it is, then
// DCMTK's conversion, then, for the ISO 2022 sets DCMTK cannot open, the
// iconv encodings that use the same escape sequences (ISO-2022-JP-2) or the
// same bytes (EUC-KR for IR 149, EUC-CN for IR 58).
#ifndef RADLINK_DICOM_CHARSET_H
#define RADLINK_DICOM_CHARSET_H

#include <string>
#include <vector>

namespace rl_dicom {

// A value's bytes in the character set(s) of Specific Character Set `scs`
// (its raw text, values separated by '\') as UTF-8. False when they cannot
// be decoded.
bool to_utf8(const std::string &scs, const std::string &raw, std::string &out);

// UTF-8 text in the character set of `scs`, for a value of a file that keeps
// its Specific Character Set. False when that set cannot hold it (or the
// encoding is one this code does not write).
bool from_utf8(const std::string &scs, const std::string &utf8, std::string &out);

// True when the bytes are 7-bit ASCII without escape sequences: the same in
// every character set DICOM allows in a default G0.
bool plain_ascii(const std::string &s);

// The component groups of a person name's raw bytes (alphabetic,
// ideographic, phonetic), split at '=' while following ISO 2022 escape
// sequences: in a two-byte G0 set (JIS X 0208 after ESC $ B) a '=' byte is
// half of a character, not a delimiter.
std::vector<std::string> pn_groups_raw(const std::string &raw);

} // namespace rl_dicom

#endif
