/* The words of <alerts> (radlink/alert.h) that the configuration's table
 * reads: in the core, with the configuration, apart from the rules. */
#include <stddef.h>
#include <string.h>

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

void alert_utf8_trim(char *s)
{
    size_t n = strlen(s), i = n;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--; /* back over continuation bytes to the sequence's lead */
    if (i == 0)
        return;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (lead >= 0x80 && n - (i - 1) < want)
        s[i - 1] = '\0'; /* a character cut in the middle goes whole */
}

unsigned alert_channels(const cfg_alerts *a)
{
    return (a->email.url[0] ? ALERT_CH_EMAIL : 0) | (a->webhook.url[0] ? ALERT_CH_WEBHOOK : 0) |
           (a->syslog.on ? ALERT_CH_SYSLOG : 0);
}

