/* radlink routes check|test: the interface analyst's tools. check never
 * touches a store; test decides each message as the engine would (by the
 * running engine when there is one), keeping nothing. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools.h"
#include "radlink/cfg.h"
#include "radlink/route.h"
#include "radlink/store.h"
#include "radlink/wl_hook.h"

int cli_run_routes_check(op_call *self)
{
    const char *file = ops_str(self, "FILE");
    route_set *rs;
    int rc;
    if ((rc = cli_load_routes(self, file, &rs, true)) != CLI_OK) {
        fprintf(stderr, "%s: not valid\n", file);
        return rc;
    }
    printf("%s: ok\n  sha256        %s\n  routes        %zu%s", file, route_sha256(rs),
           route_count(rs), route_count(rs) ? ":" : "");
    for (size_t i = 0; i < route_count(rs); i++)
        printf("%s %s", i ? "," : "", route_name(rs, i));
    size_t nd;
    const route_dest *d = route_dests(rs, &nd);
    printf("\n  destinations  %zu%s", nd, nd ? ":" : "");
    for (size_t i = 0; i < nd; i++)
        printf("%s %s (%s:%u%s)", i ? "," : "", d[i].name, d[i].host, d[i].port,
               d[i].tls ? " tls" : "");
    printf("\n  tables        %zu%s", route_table_count(rs), route_table_count(rs) ? ":" : "");
    for (size_t i = 0; i < route_table_count(rs); i++) {
        size_t n;
        const char *name = route_table_info(rs, i, &n);
        printf("%s %s (%zu entries)", i ? "," : "", name, n);
    }
    size_t nwl;
    bool ihe;
    route_wl_attrs(rs, &nwl, &ihe);
    printf("\n  worklist      %s defaults, %zu attribute%s mapped in the file\n",
           ihe ? "IHE" : "no", nwl, nwl == 1 ? "" : "s");
    for (int k = 0; k < ROUTE_HOOK_COUNT; k++) {
        int line = route_hook_line(rs, (route_hook_kind)k);
        if (line && !engine_hook((route_hook_kind)k))
            printf("warning: %s:%d: <%s/> is not available in this engine: every message that "
                   "reaches it gets AE\n", file, line, route_hook_name((route_hook_kind)k));
    }
    route_free(rs);
    return CLI_OK;
}

int cli_run_routes_test(op_call *self)
{
    const char *file = ops_str(self, "FILE");
    /* the file loads (its errors listed) before anything is decided */
    route_set *rs;
    int rc;
    if ((rc = cli_load_routes(self, file, &rs, false)) != CLI_OK)
        return rc;
    route_free(rs);
    /* the data directory decided against: --data, else the config's, else ./var */
    char dir[RL_CFG_PATH_MAX];
    if ((rc = cli_data_dir(self, ops_str(self, "data"), self->config, dir, sizeof dir)) != 0)
        return rc;
    self->data = dir;
    return cli_decide_file(self, file, ops_str(self, "MSG.hl7"), true, false);
}
