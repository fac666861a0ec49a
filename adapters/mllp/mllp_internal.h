/* What the MLLP server and client share below radlink/mllp.h: the network
 * layer they run on, and how much one read takes. Private to adapters/mllp. */
#ifndef RADLINK_MLLP_INTERNAL_H
#define RADLINK_MLLP_INTERNAL_H

#include "radlink/mllp.h"
#include "radlink/net.h"

/* Bytes one read takes from a connection: an order is a few kilobytes, so
 * one read brings most frames whole, or several of a sender that pipelines. */
#define MLLP_READ_CHUNK 65536

#endif
