#!/usr/bin/python3
"""radlink's worklist beside DCMTK's wlmscpfs, query by query.

Orders go into radlink over MLLP; `radlink wl export` writes the same worklist
as .wl files, which DCMTK's wlmscpfs serves. Every query of the table below
(dump2dcm query files, DCMTK's findscu -W as the modality) goes to both
servers, and the sets of (AccessionNumber, ScheduledProcedureStepID) they
return are compared. Where radlink deliberately answers otherwise, the row
says why and states radlink's own expected answer.

Usage: mwl_compare.py RADLINK WORKDIR"""
import os
import re
import shutil
import socket
import subprocess
import sys
import time

RADLINK, WORK = sys.argv[1], sys.argv[2]
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
failures = []


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc, what):
    for _ in range(100):
        if proc.poll() is not None:
            sys.exit('%s exited early: see %s' % (what, WORK))
        try:
            socket.create_connection(('127.0.0.1', port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit('%s did not listen on %d' % (what, port))


# (accession, step, modality, station, start, name, patient id, sex)
ORDERS = [
    ('A10', 'S10', 'CT', 'CT01', '202611240800', 'DOE^JANE', 'P100', 'F'),
    ('A11', 'S11', 'CT', 'CT01', '202611241400', 'DOE^JOHN', 'P101', 'M'),
    ('A12', 'S12', 'MR', 'MR01', '202611250900', 'SMITH^ANNA', 'P102', 'F'),
    ('A13', 'S13', 'MR', 'MR01', '202611262330', 'SMITHERS^WAYLON', 'P103', 'M'),
    ('A14', 'S14', 'US', 'US01', '202612011015', 'OBRIEN^PAT', 'P104', 'O'),
    ('A15', 'S15', 'CT', 'CT02', '202611300000', 'MÜLLER^JÜRGEN', 'P105', 'M'),
    ('A16', 'S16', 'CR', 'CR01', '202611241200', 'DOE^JANE^MARIE', 'P106', 'F'),
    ('A17', 'S17', 'CT', 'CT01', '202611232300', 'ROE^RICHARD', 'P107', 'M'),
    ('A18', 'S18', 'MR', 'MR02', '202611240930', 'LEE^KIM', 'P108', 'F'),
    ('A19', 'S19', 'XA', 'XA01', '202611271600', 'GARCIA^LUIS', 'P109', 'M'),
    ('A20', 'S20', 'NM', 'NM01', '202611250700', 'NGUYEN^AN', 'P110', 'F'),
    ('A21', 'S21', 'CT', 'CT01', '202611242359', 'DOE^JANE', 'P100', 'F'),
]
ALL = {(o[0], o[1]) for o in ORDERS} | {('A30', 'S30')}
# content checks: an order with priority L (LOW) and two station AE titles
# (OBR-21 repeated), added after the matching queries
EXTRA = ('MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261123101500||ORM^O01^ORM_O01|QX|P|2.5.1\r'
         'PID|1||P200^^^GENHOSP^MR||LOW^PRIORITY||19700412|F\r'
         'ORC|NW|OA30|FA30||SC||^^^202612020800^^L\r'
         'OBR|1|OA30|FA30|P30^PROC 30^99RIS||||||||||||||A30|RPA30|S30|CT07~CT08|||CT|||'
         '^^^202612020800^^L\r')


def orm(o, i):
    acc, sps, mod, ae, when, name, pid, sex = o
    return ('MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261123101500||ORM^O01^ORM_O01|Q%d|P|2.5.1'
            '||||||UNICODE UTF-8\r'
            'PID|1||%s^^^GENHOSP^MR||%s||19700412|%s\r'
            'PV1|1|O|RAD^^^GENHOSP|||||1234^SMITH^JOHN^^^DR\r'
            'ORC|NW|O%s|F%s||SC||^^^%s^^R\r'
            'OBR|1|O%s|F%s|P%s^PROC %s^LOCAL||||||||||||1234^SMITH^JOHN^^^DR||%s|RP%s|%s|%s'
            '|||%s|||^^^%s^^R\r' % (i, pid, name, sex, acc, acc, when, acc, acc, acc, acc, acc,
                                  acc, sps, ae, mod, when))


def sel(*accs):
    return {(o[0], o[1]) for o in ORDERS if o[0] in accs}


# The queries: top-level keys, then keys inside the Scheduled Procedure Step
# item. AccessionNumber and ScheduledProcedureStepID are always return keys.
# expect: None = both servers must agree; else radlink's answer and why.
Q = [
    ('universal', {}, {}, None),
    ('station', {}, {'(0040,0001) AE': 'CT01'}, None),
    ('station and date', {}, {'(0040,0001) AE': 'CT01', '(0040,0002) DA': '20261124'}, None),
    ('modality', {}, {'(0008,0060) CS': 'MR'}, None),
    ('modality and date range', {}, {'(0008,0060) CS': 'MR', '(0040,0002) DA': '20261125-20261126'}, None),
    ('single date', {}, {'(0040,0002) DA': '20261124'}, None),
    ('date range', {}, {'(0040,0002) DA': '20261124-20261125'}, None),
    ('open date range from', {}, {'(0040,0002) DA': '20261126-'}, None),
    ('open date range to', {}, {'(0040,0002) DA': '-20261124'}, None),
    ('date with a time range', {}, {'(0040,0002) DA': '20261124', '(0040,0003) TM': '0800-1200'}, None),
    ('combined date-time range', {}, {'(0040,0002) DA': '20261123-20261124', '(0040,0003) TM': '2300-1000'}, None),
    ('time range alone', {}, {'(0040,0003) TM': '2300-'}, None),
    ('name wildcard', {'(0010,0010) PN': 'DOE*'}, {}, None),
    ('name wildcard inside', {'(0010,0010) PN': '*JANE*'}, {}, None),
    ('name with ? wildcard', {'(0010,0010) PN': 'SMITH?RS*'}, {}, None),
    ('name exact, all components', {'(0010,0010) PN': 'DOE^JANE^MARIE'}, {}, None),
    ('name family and given', {'(0010,0010) PN': 'DOE^JANE'}, {},
     (sel('A10', 'A21', 'A16'), 'components are matched one by one: DOE^JANE also finds '
      'DOE^JANE^MARIE, whose middle name the query leaves open; wlmscpfs compares the '
      'whole string')),
    ('family name alone', {'(0010,0010) PN': 'DOE'}, {},
     (sel('A10', 'A11', 'A16', 'A21'), 'a name without ^ also matches the family name alone; '
      'wlmscpfs requires the whole value to be DOE')),
    ('patient ID', {'(0010,0020) LO': 'P100'}, {}, None),
    ('patient ID wildcard', {'(0010,0020) LO': 'P10?'}, {},
     (ALL - sel('A20') - {('A30', 'S30')}, 'wildcard matching applies to LO values such as Patient ID '
      '(PS3.4 C.2.2.2.4); wlmscpfs matches Patient ID only as a single value')),
    ('accession', {'(0008,0050) SH': 'A13'}, {}, None),
    ('accession wildcard', {'(0008,0050) SH': 'A1*'}, {}, None),
    ('requested procedure ID', {'(0040,1001) SH': 'RPA14'}, {}, None),
    ('referring physician', {'(0008,0090) PN': 'SMITH*'}, {}, None),
    ('patient sex', {'(0010,0040) CS': 'M'}, {}, None),
    ('modality and station', {}, {'(0008,0060) CS': 'CT', '(0040,0001) AE': 'CT02'}, None),
    ('no match: modality', {}, {'(0008,0060) CS': 'PT'}, None),
    ('no match: date', {}, {'(0040,0002) DA': '20261231'}, None),
    ('birth date range', {'(0010,0030) DA': '19700101-19701231'}, {}, None),
    ('UTF-8 query, non-ASCII name', {'(0008,0005) CS': 'ISO_IR 192', '(0010,0010) PN': 'MÜLLER*'}, {}, None),
    ('Latin-1 query, non-ASCII name', {'(0008,0005) CS': 'ISO_IR 100', '(0010,0010) PN': 'MÜLLER*'}, {},
     (sel('A15'), 'the query is converted from ISO_IR 100 to UTF-8 before matching; wlmscpfs '
      'compares the Latin-1 bytes with the stored UTF-8 bytes and finds nothing')),
    ('study instance UID list', {'(0020,000d) UI': 'STUDY-OF-A12\\STUDY-OF-A13'}, {},
     (sel('A12', 'A13'), 'UID list matching on Study Instance UID (PS3.4 C.2.2.2.2); '
      'wlmscpfs does not match on this key and returns every entry')),
]


def dump_text(top, sps, uids):
    lines = []
    keys = dict(top)
    for k in ('(0008,0050) SH', '(0010,0010) PN'):
        keys.setdefault(k, '')
    if '(0020,000d) UI' in keys:
        keys['(0020,000d) UI'] = '\\'.join(uids[a] for a in
                                             re.findall(r'STUDY-OF-(A\d+)', keys['(0020,000d) UI']))
    for k in sorted(keys):
        lines.append('%s [%s]' % (k, keys[k]))
    lines.append('(0040,0100) SQ (Sequence with undefined length)')
    lines.append('(fffe,e000) na (Item with undefined length)')
    item = dict(sps)
    item.setdefault('(0040,0009) SH', '')
    for k in sorted(item):
        lines.append('%s [%s]' % (k, item[k]))
    lines.append('(fffe,e00d) na (ItemDelimitationItem)')
    lines.append('(fffe,e0dd) na (SequenceDelimitationItem)')
    return '\n'.join(lines) + '\n'


def find(port, dcm):
    r = subprocess.run(['findscu', '-v', '-W', '-aec', 'RADLINK', '127.0.0.1', str(port), dcm],
                       capture_output=True)
    out = r.stdout.decode('latin-1') + r.stderr.decode('latin-1')
    found, acc = set(), None
    in_rsp = False
    for line in out.splitlines():
        if re.search(r'Find Response: \d+ \(Pending\)', line):
            in_rsp, acc = True, None
        elif in_rsp and '(0008,0050)' in line:
            m = re.search(r'\[([^\]]*)\]', line)
            acc = m.group(1).strip() if m else ''
        elif in_rsp and '(0040,0009)' in line:
            m = re.search(r'\[([^\]]*)\]', line)
            found.add((acc, m.group(1).strip() if m else ''))
    final = re.search(r'Final Find Response \(([^)]*)\)', out)
    return found, final.group(1) if final else 'none (exit %d)' % r.returncode


def answers(port, dump_lines, name):
    """The C-FIND answers of one query as pydicom datasets."""
    import pydicom
    d = os.path.join(WORK, 'c-%s-%d' % (name, port))
    os.makedirs(d, exist_ok=True)
    dump, dcm = os.path.join(d, 'q.dump'), os.path.join(d, 'q.dcm')
    with open(dump, 'w') as f:
        f.write('\n'.join(dump_lines) + '\n')
    subprocess.run(['dump2dcm', dump, dcm], check=True, capture_output=True)
    subprocess.run(['findscu', '-W', '-X', '-od', d, '-aec', 'RADLINK', '127.0.0.1', str(port),
                    dcm], capture_output=True)
    return [pydicom.dcmread(os.path.join(d, f), force=True)
            for f in sorted(os.listdir(d)) if f.startswith('rsp')]


SEQ = '(0040,0100) SQ (Sequence with undefined length)'
ITEM, ITEM_END = '(fffe,e000) na (Item with undefined length)', '(fffe,e00d) na (ItemDelimitationItem)'
SEQ_END = '(fffe,e0dd) na (SequenceDelimitationItem)'


def content_checks(data, dicom, wlm, mllp, export):
    """What an answer holds (PS3.4 K.6, C.2.2.2.6), beside wlmscpfs."""
    acc = '(0008,0050) SH [A12]'
    checks = []

    def check(name, lines, test, same_as_wlmscpfs):
        ours, theirs = answers(dicom, lines, name), answers(wlm, lines, name)
        ok, what = test(ours)
        verdict = 'same as wlmscpfs' if test(theirs)[0] == ok else 'wlmscpfs: ' + test(theirs)[1]
        print('%-44s %s  %s' % (name, 'ok ' if ok else 'BAD', verdict))
        if not ok:
            failures.append('%s: %s' % (name, what))
        if same_as_wlmscpfs and test(theirs)[0] != ok:
            failures.append('%s: wlmscpfs answers otherwise: %s' % (name, test(theirs)[1]))
        checks.append(name)

    def sps_full(rs):
        if len(rs) != 1 or 'ScheduledProcedureStepSequence' not in rs[0] or \
                len(rs[0].ScheduledProcedureStepSequence) != 1:
            return False, 'no Scheduled Procedure Step item'
        it = rs[0].ScheduledProcedureStepSequence[0]
        have = [k for k in ('Modality', 'ScheduledStationAETitle', 'ScheduledProcedureStepStartDate',
                            'ScheduledProcedureStepID') if it.get(k)]
        return len(have) == 4, 'the item holds only %s' % have
    check('empty SPS item: the whole item comes back', [acc, SEQ, ITEM, ITEM_END, SEQ_END],
          sps_full, True)

    def no_empty_uids(rs):
        for r in rs:
            for kw in ('ReferencedStudySequence', 'ReferencedPatientSequence'):
                for it in r.get(kw, []):
                    if not it.get('ReferencedSOPInstanceUID') or not it.get('ReferencedSOPClassUID'):
                        return False, '%s item with empty UIDs' % kw
        return len(rs) == 1, '%d answers' % len(rs)
    check('no Referenced Study/Patient item of empty UIDs',
          [acc, '(0008,1110) SQ (Sequence with undefined length)', ITEM,
           '(0008,1150) UI []', '(0008,1155) UI []', ITEM_END, SEQ_END,
           '(0008,1120) SQ (Sequence with undefined length)', ITEM,
           '(0008,1150) UI []', '(0008,1155) UI []', ITEM_END, SEQ_END], no_empty_uids, False)

    def no_group_length(rs):
        bad = [str(e.tag) for r in rs for e in r.iterall() if e.tag.element == 0]
        return len(rs) == 1 and not bad, 'group lengths echoed: %s' % bad
    check('no group lengths echoed', ['(0008,0000) UL 0', acc, '(0010,0000) UL 0',
                                      '(0010,0010) PN []'], no_group_length, False)

    def code_complete(rs):
        if len(rs) != 1:
            return False, '%d answers' % len(rs)
        for it in rs[0].get('RequestedProcedureCodeSequence', []):
            if not (it.get('CodeValue') and it.get('CodingSchemeDesignator') and it.get('CodeMeaning')):
                return False, 'an incomplete code: %s' % it
        return True, ''
    check('code sequences only complete', [acc, '(0032,1064) SQ (Sequence with undefined length)',
                                           ITEM, '(0008,0100) SH []', '(0008,0102) SH []',
                                           '(0008,0104) LO []', ITEM_END, SEQ_END],
          code_complete, False)

    def charset(rs):
        return (len(rs) == 1 and 'SpecificCharacterSet' in rs[0],
                'no Specific Character Set in the answer')
    check('every answer carries its Specific Character Set', [acc, '(0010,0010) PN []'],
          charset, False)

    def low(rs):
        return (len(rs) == 1 and rs[0].get('RequestedProcedurePriority') == 'LOW',
                'priority %s' % [r.get('RequestedProcedurePriority') for r in rs])
    check('priority L stays LOW', ['(0008,0050) SH [A30]', '(0040,1003) SH []'], low, True)

    def two_stations(rs):
        return (len(rs) == 1, '%d answers for CT08' % len(rs))
    check('a station AE title with two values matches each',
          ['(0008,0050) SH []', SEQ, ITEM, '(0040,0001) AE [CT08]', '(0040,0009) SH []',
           ITEM_END, SEQ_END], two_stations, False)
    print('%d answer checks' % len(checks))


def main():
    data = os.path.join(WORK, 'var')
    mllp, dicom, wlm = free_port(), free_port(), free_port()
    eng = subprocess.Popen([RADLINK, 'serve', '--http', '0', '--data', data, '--mllp', str(mllp), '--dicom',
                            str(dicom)], stdout=open(os.path.join(WORK, 'engine.log'), 'w'),
                           stderr=subprocess.STDOUT)
    wl = None
    try:
        wait_port(mllp, eng, 'radlink')
        wait_port(dicom, eng, 'radlink DICOM')
        msgs = os.path.join(WORK, 'orders.hl7')
        with open(msgs, 'w', encoding='utf-8', newline='') as f:
            for i, o in enumerate(ORDERS):
                f.write(orm(o, i) + '\n')
            f.write(EXTRA + '\n')
        r = subprocess.run([RADLINK, 'send', '--to', '127.0.0.1:%d' % mllp, msgs],
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit('orders not accepted:\n' + r.stdout + r.stderr)
        export = os.path.join(WORK, 'export')
        r = subprocess.run([RADLINK, 'wl', 'export', '--data', data,
                            os.path.join(export, 'RADLINK')], capture_output=True, text=True)
        if r.returncode != 0 or '%d worklist entries' % (len(ORDERS) + 1) not in r.stdout:
            sys.exit('wl export: ' + r.stdout + r.stderr)
        # the study UIDs radlink made, for the UID-list query
        uids = {}
        for o in ORDERS:
            r = subprocess.run([RADLINK, 'wl', 'show', '--data', data, o[0]],
                               capture_output=True, text=True)
            m = re.search(r'StudyInstanceUID\s+(\S+)', r.stdout)
            uids[o[0]] = m.group(1)
        wl = subprocess.Popen(['wlmscpfs', '-dfp', export, str(wlm)],
                              stdout=open(os.path.join(WORK, 'wlmscpfs.log'), 'w'),
                              stderr=subprocess.STDOUT)
        wait_port(wlm, wl, 'wlmscpfs')
        same = differ = 0
        for i, (name, top, sps, expect) in enumerate(Q):
            enc = 'latin-1' if top.get('(0008,0005) CS') == 'ISO_IR 100' else 'utf-8'
            dump = os.path.join(WORK, 'q%02d.dump' % i)
            dcm = os.path.join(WORK, 'q%02d.dcm' % i)
            with open(dump, 'w', encoding=enc) as f:
                f.write(dump_text(top, sps, uids))
            subprocess.run(['dump2dcm', dump, dcm], check=True, capture_output=True)
            ours, our_final = find(dicom, dcm)
            theirs, their_final = find(wlm, dcm)
            row = '%-32s radlink %-2d  wlmscpfs %-2d' % (name, len(ours), len(theirs))
            if our_final != 'Success':
                failures.append('%s: radlink final status %s' % (name, our_final))
            if expect is None:
                if ours != theirs:
                    failures.append('%s: radlink %s, wlmscpfs %s' % (name, sorted(ours),
                                                                      sorted(theirs)))
                same += 1
                print(row + '  same')
            else:
                want, why = expect
                if ours != want:
                    failures.append('%s: radlink %s, expected %s' % (name, sorted(ours),
                                                                      sorted(want)))
                if ours == theirs:
                    failures.append('%s: documented as a difference, but both agree' % name)
                differ += 1
                print(row + '  differs by design: ' + why)
        print('%d queries: %d answered alike, %d differing by design' % (len(Q), same, differ))
        content_checks(data, dicom, wlm, mllp, export)
    finally:
        for p in (eng, wl):
            if p:
                p.terminate()
                p.wait()
    if failures:
        print('FAIL:\n  ' + '\n  '.join(failures))
        sys.exit(1)
    print('ok')


main()
