/* Synthetic HL7 corpus for benchmarks: a mix of radiology traffic. */
#ifndef RADLINK_GEN_HL7_H
#define RADLINK_GEN_HL7_H

#include "radlink/util.h"

/* Append n messages to out, each followed by '\n' (segments end with CR):
 * about 60% ORM^O01, 30% ADT^A08, 10% ORU^R01 with 20 OBX, with escapes and
 * repetitions. Deterministic for a given seed. */
int gen_hl7_corpus(rl_buf *out, unsigned n, unsigned seed);
/* One message of a given kind ('O' order, 'A' ADT, 'R' result) with index i. */
int gen_hl7_message(rl_buf *out, char kind, unsigned i, unsigned *seed);

#endif
