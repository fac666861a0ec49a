/* Synthetic HL7 messages for the benchmarks. Names come from short lists of
 * made-up people; nothing here is real patient data. */
#include "gen_hl7.h"

#include <stdio.h>

static const char *const family[] = { "DOE", "ROE", "O\\T\\NEIL", "SMITH", "M\\XC39C\\LLER",
                                      "NGUYEN", "GARCIA", "KOWALSKI", "DUPONT", "TANAKA" };
static const char *const given[] = { "JANE", "JOHN", "ALEX", "MARIA", "LI", "ANNA", "OMAR",
                                     "EVA", "NOAH", "ZOE" };
static const char *const procs[] = { "71020^CHEST 2 VIEWS^CPT4", "74177^CT ABD\\T\\PELVIS W CONTRAST^CPT4",
                                     "70553^MRI BRAIN W/WO CONTRAST^CPT4", "76700^US ABDOMEN COMPLETE^CPT4",
                                     "77067^SCREENING MAMMOGRAPHY BILAT^CPT4" };
static const char *const modality[] = { "CR", "CT", "MR", "US", "MG" };

static unsigned rnd(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (*s >> 16) & 0x7fff;
}

static int msh(rl_buf *o, const char *type, unsigned i)
{
    return rl_buf_printf(o, "MSH|^~\\&|RIS|GENHOSP|RADLINK|RAD|20261123%06u||%s|M%08u|P|2.5.1|||AL|NE\r",
                         i % 240000, type, i);
}

static int pid(rl_buf *o, unsigned i, unsigned *s)
{
    unsigned f = rnd(s) % 10, g = rnd(s) % 10;
    return rl_buf_printf(o,
                         "PID|1||%07u^^^GENHOSP^MR~%03u-%02u-%04u^^^USSSA^SS||%s^%s^%c^^||19%02u%02u%02u|%c|||"
                         "%u MAIN ST^^SPRINGFIELD^IL^62701^USA||(217)555-%04u~^NET^Internet^p%u@example.org\r",
                         i, rnd(s) % 1000, rnd(s) % 100, rnd(s) % 10000, family[f], given[g],
                         'A' + (int)(rnd(s) % 26), 40 + rnd(s) % 60, 1 + rnd(s) % 12,
                         1 + rnd(s) % 28, rnd(s) % 2 ? 'F' : 'M', 1 + rnd(s) % 999,
                         rnd(s) % 10000, i);
}

int gen_hl7_message(rl_buf *o, char kind, unsigned i, unsigned *s)
{
    int e = 0;
    unsigned p = rnd(s) % 5;
    if (kind == 'O') {
        e |= msh(o, "ORM^O01^ORM_O01", i);
        e |= pid(o, i, s);
        e |= rl_buf_printf(o, "PV1|1|O|RAD^^^GENHOSP||||1234^SMITH^JOHN^^^DR\r");
        e |= rl_buf_printf(o, "ORC|NW|O%u|A%u||SC||^^^20261124%02u0000^^R||20261123101500\r", i, i,
                           8 + rnd(s) % 10);
        e |= rl_buf_printf(o, "OBR|1|O%u|A%u|%s|||20261123101500|||||||||1234^SMITH^JOHN^^^DR||A%u|RP%u|SPS%u|%s01|||%s|||^^^20261124090000^^R\r",
                           i, i, procs[p], i, i, i, modality[p], modality[p]);
    } else if (kind == 'A') {
        e |= msh(o, "ADT^A08^ADT_A01", i);
        e |= rl_buf_printf(o, "EVN|A08|20261123110000\r");
        e |= pid(o, i, s);
        e |= rl_buf_printf(o, "PV1|1|O|RAD^^^GENHOSP\r");
    } else {
        e |= msh(o, "ORU^R01^ORU_R01", i);
        e |= pid(o, i, s);
        e |= rl_buf_printf(o, "OBR|1|O%u|A%u|%s|||20261124090000||||||||||||||||||F\r", i, i,
                           procs[p]);
        for (int k = 1; k <= 20; k++)
            e |= rl_buf_printf(o, "OBX|%d|TX|%s||Finding %d: no acute abnormality\\.br\\size %u mm||||||F\r",
                               k, procs[p], k, rnd(s) % 50);
    }
    return e;
}

int gen_hl7_corpus(rl_buf *out, unsigned n, unsigned seed)
{
    for (unsigned i = 0; i < n; i++) {
        unsigned r = i % 10;
        char kind = r < 6 ? 'O' : r < 9 ? 'A' : 'R';
        if (gen_hl7_message(out, kind, i, &seed) != 0 || rl_buf_add_ch(out, '\n') != 0)
            return -1;
    }
    return 0;
}
