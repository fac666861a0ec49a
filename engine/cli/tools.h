/* The command line's own verbs (cli_tools in tools.c): their handlers, one
 * file each. Private to engine/cli. */
#ifndef RADLINK_CLI_TOOLS_H
#define RADLINK_CLI_TOOLS_H

#include "cli.h"

int cli_run_serve(op_call *c);
int cli_run_send(op_call *c);
int cli_run_worker(op_call *c);
int cli_run_keygen(op_call *c);
int cli_run_version(op_call *c);
int cli_run_hl7_get(op_call *c);
int cli_run_hl7_show(op_call *c);
int cli_run_hl7_ack(op_call *c);
int cli_run_routes_check(op_call *c);
int cli_run_routes_test(op_call *c);
int cli_run_wl_export(op_call *c);
int cli_run_wl_import(op_call *c);
int cli_run_backup(op_call *c);
int cli_run_restore(op_call *c);
int cli_run_check(op_call *c);
int cli_run_prefetch(op_call *c);
int cli_run_alerts_test(op_call *c);

#endif
