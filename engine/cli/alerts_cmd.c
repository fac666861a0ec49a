/* radlink alerts test: one test notification through every channel of the
 * configuration's <alerts>, each said to work or why not. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "radlink/alert.h"
#include "tools.h"

int cli_run_alerts_test(op_call *c)
{
    cfg *cf;
    int status = cli_config(c, "whose <alerts> to test", &cf);
    if (status != CLI_OK)
        return status;
    const cfg_alerts *a = &cf->alerts;
    unsigned channels = alert_channels(a);
    if (!channels) {
        status = cli_fail(c, CLI_BADINPUT, "%s: <alerts> has no <email>, <webhook> or <syslog>",
                          cf->source);
        free(cf);
        return status;
    }
    char host[256];
    if (a->host_name[0])
        snprintf(host, sizeof host, "%s", a->host_name);
    else if (gethostname(host, sizeof host - 1) != 0)
        snprintf(host, sizeof host, "radlink");
    alert_note n = { .kind = ALERT_FIRING, .at_us = rl_now_us() };
    n.a.since_us = n.at_us;
    snprintf(n.a.on, sizeof n.a.on, "test");
    snprintf(n.a.subject, sizeof n.a.subject, "radlink alerts test");
    snprintf(n.a.key, sizeof n.a.key, "test");
    snprintf(n.a.text, sizeof n.a.text, "A test notification from `radlink alerts test`: this "
             "channel reaches you.");
    static const struct { unsigned ch; const char *name; } chans[] = {
        { ALERT_CH_EMAIL, "e-mail" }, { ALERT_CH_WEBHOOK, "webhook" }, { ALERT_CH_SYSLOG, "syslog" },
    };
    bool all = true;
    for (size_t i = 0; i < sizeof chans / sizeof *chans; i++) {
        if (!(channels & chans[i].ch))
            continue;
        char why[200];
        const char *where = chans[i].ch == ALERT_CH_EMAIL     ? a->email.url
                            : chans[i].ch == ALERT_CH_WEBHOOK ? a->webhook.url
                            : a->syslog.socket[0]             ? a->syslog.socket
                                                              : "/dev/log";
        if (alert_send(a, chans[i].ch, &n, host, "", why, sizeof why) == 0) {
            printf("  ok    %s to %s\n", chans[i].name, where);
        } else {
            printf("  no    %s to %s: %s\n", chans[i].name, where, why);
            all = false;
        }
    }
    free(cf);
    return all ? CLI_OK : CLI_FAIL;
}
