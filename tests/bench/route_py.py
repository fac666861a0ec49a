#!/usr/bin/python3
"""The routing benchmark's route file and its python3-hl7 equivalent.

  route_py.py gen ROUTES.xml MSG.hl7   write the 50-route file and the message
  route_py.py run MSG.hl7 SECONDS      route the message with python3-hl7 and
                                       the same 50 rules written in Python

The 50 routes: 20 that other message types take (their match fails), 29 for
orders whose conditions fail on this message (equals, in, regex, date), and
the last one, which takes it: five conditions, three transforms (a table
lookup, upper case, a date reformat), accept. Every route is considered, so
this is the worst case for a file of 50 routes."""
import re
import sys
import time

import hl7

MSG = ('MSH|^~\\&|RIS|RAD|RADLINK|HOSP|20261122093000||ORM^O01^ORM_O01|CTRL0001|P|2.5.1\r'
       'PID|1||12345^^^HOSP^MR~99887^^^STATE^SS||doe^jane^marie||19700304|F\r'
       'PV1|1|O\r'
       'ORC|NW|ORD1|FIL1||SC\r'
       'OBR|1|ORD1|FIL1|CT0042^CT chest^L|||20261122101500|||||||||||ACC1||||||\r')

TABLE = {'CT%04d' % i: ('CT' if i % 2 else 'MR') for i in range(200)}


def gen(xml_path, msg_path):
    out = ['<?xml version="1.0"?>', '<routes default="reject">',
           '  <table name="modality" default="OT">']
    out += ['    <entry key="%s" value="%s"/>' % kv for kv in TABLE.items()]
    out.append('  </table>')
    for i in range(20):
        out.append('  <route name="adt-%d"><match type="ADT^A%02d"/><accept/></route>' % (i, i))
    for i in range(29):
        out.append('  <route name="order-%d"><match type="ORM^O01"/><when>'
                   '<any><equals path="OBR-4.1" value="PROC%d"/>'
                   '<matches path="PID-3.1" regex="^X[0-9]+%d$"/></any>'
                   '<in path="PV1-2" values="E I P"/>'
                   '<after path="OBR-7" value="20300101"/>'
                   '</when><accept/></route>' % (i, i, i))
    out.append('  <route name="ct-orders"><match type="ORM^O01"/><when>'
               '<exists path="PID-3"/><in path="PV1-2" values="O I E"/>'
               '<matches path="OBR-4.1" regex="^CT[0-9]{4}$"/>'
               '<not><equals path="PID-8" value="U"/></not>'
               '<after path="OBR-7" value="20260101"/></when>'
               '<transform><map path="OBR-4.1" table="modality" to="OBR-24"/>'
               '<case path="PID-5" to="upper"/>'
               '<date path="PID-7" from="yyyyMMdd" format="yyyy-MM-dd"/></transform>'
               '<accept/></route>')
    out.append('</routes>')
    open(xml_path, 'w').write('\n'.join(out) + '\n')
    open(msg_path, 'w', newline='').write(MSG)


def field(msg, seg, f, comp=None):
    """SEG-F (whole field) or SEG-F.comp of the first repetition; '' when absent."""
    try:
        if comp is None:
            return str(msg.segment(seg)[f])
        return msg.extract_field(seg, 1, f, 1, comp)
    except (KeyError, IndexError):
        return ''


def any_rep(msg, seg, f, comp, pred):
    """Does any repetition of SEG-F.comp satisfy pred?"""
    try:
        reps = msg.segment(seg)[f]
    except (KeyError, IndexError):
        return False
    for r in range(1, len(reps) + 1):
        if pred(msg.extract_field(seg, 1, f, r, comp)):
            return True
    return False


def build_rules():
    rules = []
    for i in range(20):
        rules.append(('ADT^A%02d' % i, [], False))
    for i in range(29):
        rx = re.compile(r'^X[0-9]+%d$' % i)
        rules.append(('ORM^O01', [
            lambda m, i=i, rx=rx: (field(m, 'OBR', 4, 1) == 'PROC%d' % i or
                                   any_rep(m, 'PID', 3, 1, rx.search)),
            lambda m: field(m, 'PV1', 2) in ('E', 'I', 'P'),
            lambda m: field(m, 'OBR', 7)[:14].ljust(14, '0') > '20300101000000',
        ], False))
    rx = re.compile(r'^CT[0-9]{4}$')
    rules.append(('ORM^O01', [
        lambda m: field(m, 'PID', 3) != '',
        lambda m: field(m, 'PV1', 2) in ('O', 'I', 'E'),
        lambda m: rx.search(field(m, 'OBR', 4, 1)) is not None,
        lambda m: field(m, 'PID', 8) != 'U',
        lambda m: field(m, 'OBR', 7)[:14].ljust(14, '0') > '20260101000000',
    ], True))
    return rules


def transform(m):
    """map OBR-4.1 through the table into OBR-24, upper-case PID-5, PID-7 as yyyy-MM-dd."""
    code = field(m, 'OBR', 4, 1)
    m.assign_field(TABLE.get(code, 'OT'), 'OBR', 1, 24)
    name = m.segment('PID')[5][0]
    for c in range(1, len(name) + 1):
        m.assign_field(m.extract_field('PID', 1, 5, 1, c).upper(), 'PID', 1, 5, 1, c)
    d = field(m, 'PID', 7)
    m.assign_field('%s-%s-%s' % (d[0:4], d[4:6], d[6:8]), 'PID', 1, 7)


def route(text, rules):
    m = hl7.parse(text)
    t = '%s^%s' % (field(m, 'MSH', 9, 1), field(m, 'MSH', 9, 2))
    for typ, conds, xf in rules:
        if typ != t:
            continue
        if all(c(m) for c in conds):
            if xf:
                transform(m)
            return 'AA', m
    return 'AR', m


def run(msg_path, seconds):
    text = open(msg_path, newline='').read()
    rules = build_rules()
    code, m = route(text, rules)
    assert code == 'AA', code
    assert field(m, 'OBR', 24) == TABLE['CT0042'] and field(m, 'PID', 5, 1) == 'DOE', str(m)
    n = 0
    t0 = time.perf_counter()
    while True:
        for _ in range(200):
            route(text, rules)
        n += 200
        dt = time.perf_counter() - t0
        if dt >= seconds:
            break
    t0 = time.perf_counter()
    k = 0
    while k < n:
        hl7.parse(text)
        k += 1
    parse_dt = time.perf_counter() - t0
    per = dt / n * 1e6
    parse_per = parse_dt / n * 1e6
    print('python3-hl7: parse + 50 routes %.1f us/msg, parse alone %.1f us/msg, '
          'routing %.1f us/msg' % (per, parse_per, per - parse_per))
    print('RESULT mode=python route_ns=%d total_ns=%d' % ((per - parse_per) * 1000, per * 1000))


if __name__ == '__main__':
    if sys.argv[1] == 'gen':
        gen(sys.argv[2], sys.argv[3])
    else:
        run(sys.argv[2], float(sys.argv[3]))
