/* The words of <alerts> (radlink/alert.h) that the configuration's table
 * reads: in the core, with the configuration, apart from the rules. */
#include <stddef.h>

#include "radlink/alert.h"

const char *const alert_on_names[] = { "queue-depth", "queue-age", "parked", "dead-jobs",
                                       "unverified-jobs", "unmatched", "waiting-reports",
                                       "certificate", "store-use", "disk-use", "audit-down",
                                       "worker-lost", NULL };
_Static_assert(ALERT_ON_COUNT == 12, "alert_on_names follows alert_on");
const char *const alert_tls_names[] = { "required", "try", "none", NULL };
const char *const alert_facilities[] = { "daemon", "user",   "local0", "local1", "local2",
                                         "local3", "local4", "local5", "local6", "local7",
                                         NULL };

unsigned alert_channels(const cfg_alerts *a)
{
    return (a->email.url[0] ? ALERT_CH_EMAIL : 0) | (a->webhook.url[0] ? ALERT_CH_WEBHOOK : 0) |
           (a->syslog.on ? ALERT_CH_SYSLOG : 0);
}

