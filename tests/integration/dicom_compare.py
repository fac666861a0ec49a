#!/usr/bin/python3
"""Compare a DICOM file as it was sent with the copy a PACS holds, with
pydicom (Debian's python3-pydicom), an independent reader:
  dicom_compare.py SENT HELD [KEYWORD=VALUE ...] [--charset CS] [--uids new]
Every top-level attribute of SENT other than the KEYWORDs must be in HELD,
byte for byte (sequences: the same items), the transfer syntax and the pixel
data the same; each KEYWORD must read VALUE in HELD, and HELD's last
Original Attributes Sequence item must hold SENT's old values of them, with
reason CORRECT. --charset: the Specific Character Set HELD must have
(default: SENT's). --uids new: HELD is a new instance (IOCM): its SOP
Instance and Series Instance UIDs differ from SENT's and are recorded too.
Prints what differs; exit status 0 when nothing does."""
import sys

import array

import pydicom
from pydicom.datadict import dictionary_VR, keyword_for_tag, tag_for_keyword

args = sys.argv[1:]
sent_path, held_path = args[0], args[1]
changes, charset, new_uids = {}, None, False
i = 2
while i < len(args):
    if args[i] == '--charset':
        charset = args[i + 1]
        i += 2
    elif args[i] == '--uids':
        new_uids = args[i + 1] == 'new'
        i += 2
    else:
        k, v = args[i].split('=', 1)
        changes[k] = v
        i += 1

sent = pydicom.dcmread(sent_path)
held = pydicom.dcmread(held_path)
bad = []

ts_sent, ts_held = sent.file_meta.TransferSyntaxUID, held.file_meta.TransferSyntaxUID
same_ts = ts_sent == ts_held
# Uncompressed data is re-encoded in whichever of the three uncompressed
# syntaxes the receiver picks (every DICOM sender proposes all three); a
# compressed syntax must be kept as it is, never decompressed.
if not same_ts and (ts_sent.is_compressed or ts_held.is_compressed):
    bad.append('transfer syntax %s, sent %s' % (ts_held.name, ts_sent.name))
def terms(v):
    if v is None:
        return []
    if isinstance(v, str):
        return v.split('\\') if v else []
    return [str(x) for x in v]


want_cs = terms(charset) if charset is not None else terms(sent.get('SpecificCharacterSet'))
got_cs = terms(held.get('SpecificCharacterSet'))
if got_cs != want_cs:
    bad.append('Specific Character Set %r, expected %r' % (got_cs, want_cs))

skip = {tag_for_keyword(k) for k in changes}
skip |= {tag_for_keyword('OriginalAttributesSequence'), tag_for_keyword('SpecificCharacterSet')}
if new_uids:
    skip |= {tag_for_keyword('SOPInstanceUID'), tag_for_keyword('SeriesInstanceUID')}
def pixels_le(ds):
    """Uncompressed pixel data as little endian bytes."""
    data = bytes(ds.PixelData)
    bits = int(ds.get('BitsAllocated', 8))
    if ds.file_meta.TransferSyntaxUID.is_little_endian or bits <= 8:
        return data
    words = array.array({16: 'H', 32: 'I'}[bits], data)
    words.byteswap()
    return words.tobytes()


def name(tag):
    return keyword_for_tag(tag) or str(tag)


def is_sequence(tag, elem):
    if elem.VR is not None:
        return elem.VR == 'SQ'
    try:
        return dictionary_VR(tag) == 'SQ'
    except KeyError:
        return False


# Element by element as stored: the items are taken before pydicom decodes
# them, so values compare as bytes (the pixel data included) when both files
# have one transfer syntax; across uncompressed syntaxes, as values.
for tag in list(sent.keys()):
    if tag in skip or tag.element == 0:
        continue
    if tag not in held:
        bad.append('%s is gone' % name(tag))
        continue
    a, b = sent.get_item(tag), held.get_item(tag)
    if is_sequence(tag, a):
        if sent[tag].value != held[tag].value:
            bad.append('%s (a sequence) differs' % name(tag))
    elif not same_ts:
        if tag == tag_for_keyword('PixelData'):
            if pixels_le(sent) != pixels_le(held):
                bad.append('the pixel data differs')
        elif sent[tag].value != held[tag].value:
            bad.append('%s differs: %r -> %r' % (name(tag), str(sent[tag].value)[:60], str(held[tag].value)[:60]))
    elif (a.value or b'') != (b.value or b''):
        bad.append('%s differs: %r -> %r' % (name(tag), bytes(a.value or b'')[:60], bytes(b.value or b'')[:60]))

for k, v in changes.items():
    got = str(held.get(k, ''))
    if got != v:
        bad.append('%s is %r, expected %r' % (k, got, v))

if changes:
    oas = held.get('OriginalAttributesSequence')
    if not oas:
        bad.append('no Original Attributes Sequence')
    else:
        item = oas[-1]
        if item.get('ReasonForTheAttributeModification') != 'CORRECT':
            bad.append('reason %r' % item.get('ReasonForTheAttributeModification'))
        mod = item.ModifiedAttributesSequence[0]
        for k in changes:
            if str(sent.get(k, '')) == changes[k]:
                continue  # no change, nothing to record
            if str(mod.get(k, '')) != str(sent.get(k, '')):
                bad.append('old %s recorded as %r, was %r' % (k, str(mod.get(k, '')), str(sent.get(k, ''))))
        if new_uids and str(mod.get('SOPInstanceUID', '')) != str(sent.SOPInstanceUID):
            bad.append('the old SOP Instance UID is not recorded')

if new_uids and held.SOPInstanceUID == sent.SOPInstanceUID:
    bad.append('the SOP Instance UID did not change')

for line in bad:
    print('%s: %s' % (sent_path.split('/')[-1], line))
sys.exit(1 if bad else 0)
