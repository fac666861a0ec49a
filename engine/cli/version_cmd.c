/* radlink version: the engine's version and the library versions it runs on. */
#include <stdlib.h>
#include <libxml/parser.h>
#include <lmdb.h>
#include <zmq.h>

#include "tools.h"
#include "radlink/dicom.h"
#include "radlink/net.h"
#include "radlink/version.h"

int cli_run_version(op_call *self)
{
    (void)self;
    int zmaj, zmin, zpat;
    zmq_version(&zmaj, &zmin, &zpat);
    printf("radlink %s\n", RADLINK_VERSION);
    uint64_t xv = 0; /* "20914" is 2.9.14 */
    rl_str_to_u64(rl_str_c(xmlParserVersion), 999999, &xv);
    printf("DCMTK %s, libxml2 %d.%d.%d, LMDB %d.%d.%d, ZeroMQ %d.%d.%d, %s\n", dicom_version(),
           (int)(xv / 10000), (int)(xv / 100 % 100), (int)(xv % 100),
           MDB_VERSION_MAJOR, MDB_VERSION_MINOR, MDB_VERSION_PATCH, zmaj, zmin, zpat,
           net_tls_library_version());
    return CLI_OK;
}

