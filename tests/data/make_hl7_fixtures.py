#!/usr/bin/env python3
"""Writes the HL7 fixtures under tests/data/hl7. Every message is synthetic and
built from the segment layouts of the HL7 v2.5 standard; run it from this
directory to regenerate them (the files are committed, so tests do not need it)."""

def w(name, segs, term='\r', enc='utf-8', trailing=True):
    data = term.join(segs) + (term if trailing else '')
    open('hl7/' + name, 'wb').write(data.encode(enc))

w('orm_o01_nw.hl7', [
 'MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261123101500||ORM^O01^ORM_O01|MSG00001|P|2.5.1|||AL|NE||UNICODE UTF-8',
 'PID|1||12345^^^GENHOSP^MR~987-65-4321^^^USSSA^SS||DOE^JANE^Q^^MS||19700412|F|||1 MAIN ST^^SPRINGFIELD^IL^62701||(217)555-0100',
 'PV1|1|O|RAD^^^GENHOSP||||1234^SMITH^JOHN^^^DR',
 'ORC|NW|ORD1001|ACC1001||SC||^^^20261124090000^^R||20261123101500|||1234^SMITH^JOHN^^^DR',
 'OBR|1|ORD1001|ACC1001|71020^CHEST 2 VIEWS^CPT4|||20261123101500|||||||||1234^SMITH^JOHN^^^DR||ACC1001|RP1001|SPS1001|CR01|||CR|||^^^20261124090000^^R',
 'ZDS|1.2.826.0.1.3680043.10.543.1001^RADLINK^Application^DICOM',
])
w('adt_a08.hl7', [
 'MSH|^~\\&|ADT|GENHOSP|RADLINK|RAD|20261123110000||ADT^A08^ADT_A01|MSG00002|P|2.5',
 'EVN|A08|20261123110000',
 'PID|1||12345^^^GENHOSP^MR||DOE^JANET^Q||19700412|F',
 'PV1|1|O',
])
obx = ['OBX|%d|TX|71020&IMP^IMPRESSION^CPT4||Line %d of the report\\.br\\No acute findings.||||||F' % (i, i)
       for i in range(1, 21)]
w('oru_r01_20obx.hl7', [
 'MSH|^~\\&|RIS|GENHOSP|PACS|RAD|20261123120000||ORU^R01^ORU_R01|MSG00003|P|2.5.1',
 'PID|1||12345^^^GENHOSP^MR||DOE^JANE',
 'OBR|1|ORD1001|ACC1001|71020^CHEST 2 VIEWS^CPT4|||20261124090000||||||||||||||||||F',
] + obx)
# field '#', component '*', repetition '$', escape '!', subcomponent '@'
w('custom_separators.hl7', [
 'MSH#*$!@#RIS#GENHOSP#RADLINK#RAD#20261123101500##ADT*A08#MSG00004#P#2.5',
 'PID#1##555*Y*N@M$777##ROE*RICHARD!F!JR##19650101#M',
])
w('truncation_v27.hl7', [
 'MSH|^~\\&#|RIS|GENHOSP|RADLINK|RAD|20261123101500||ADT^A08^ADT_A01|MSG00005|P|2.7',
 'PID|1||4242^^^GENHOSP^MR||DOE^JOHN#||19800101|M',
 'NTE|1||text with a hash \\P\\ escaped',
])
w('escapes.hl7', [
 'MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261123101500||ORU^R01|MSG00006|P|2.5',
 'PID|1||E1||O\\T\\NEIL^PAT\\S\\X',
 'OBX|1|FT|NOTE||first\\.br\\second\\F\\third\\R\\fourth\\E\\fifth\\X41424344\\end||||||F',
 'OBX|2|FT|NOTE||\\H\\bold\\N\\ and \\.sp 2\\ \\Zlocal\\ \\.in+4\\x \\.sk 3\\y \\.ce\\ \\Q\\ unterminated \\.br',
])
w('lf_terminators.hl7', [
 'MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261123101500||ADT^A08|MSG00007|P|2.5',
 'PID|1||LF1^^^GENHOSP^MR||DOE^JANE',
], term='\n')
w('crlf_no_trailing.hl7', [
 'MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261123101500||ADT^A08|MSG00008|P|2.5',
 'PID|1||CRLF1^^^GENHOSP^MR||DOE^JANE',
], term='\r\n', trailing=False)
w('latin1_8859_1.hl7', [
 'MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261123101500||ADT^A08|MSG00009|P|2.5|||||DEU|8859/1',
 'PID|1||L1^^^GENHOSP^MR||MÜLLER^RENÉ',
], enc='latin-1')
w('undeclared_latin1.hl7', [
 'MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261123101500||ADT^A08|MSG00010|P|2.5',
 'PID|1||L2^^^GENHOSP^MR||GARÇON^ZOË',
], enc='latin-1')
w('greek_8859_7.hl7', [
 'MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261123101500||ADT^A08|MSG00011|P|2.5|||||GRC|8859/7',
 'PID|1||G1^^^GENHOSP^MR||ΠΑΠΑΔΟΠΟΥΛΟΣ^ΕΛΕΝΗ',
], enc='iso8859_7')
w('null_empty_absent.hl7', [
 'MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261123101500||ADT^A08|MSG00012|P|2.5',
 'PID|1||N1^^^GENHOSP^MR|""|""^JANE||||',
])
w('batch.hl7', [
 'FHS|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261123130000',
 'BHS|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261123130000',
 'MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261123130000||ADT^A08|B0001|P|2.5',
 'PID|1||B1^^^GENHOSP^MR||DOE^ANN',
 'MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261123130001||ADT^A08|B0002|P|2.5',
 'PID|1||B2^^^GENHOSP^MR||DOE^BEN',
 'BTS|2',
 'BHS|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261123130000',
 'MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261123130002||ADT^A08|B0003|P|2.5',
 'PID|1||B3^^^GENHOSP^MR||DOE^CAL',
 'BTS|1',
 'FTS|2',
])
w('v231_order.hl7', [
 'MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261123101500||ORM^O01|MSG00013|P|2.3.1',
 'PID|1||231^^^GENHOSP^MR||DOE^OLD',
])
