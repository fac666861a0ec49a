/* radlink backup DEST | restore SRC | check: a consistent copy of a data
 * directory while its engine runs, that copy back into a new directory, and
 * a check of a store and its spool (radlink/backup.h). */
#include <stdio.h>
#include <unistd.h>

#include "tools.h"
#include "radlink/backup.h"

static int report(const op_call *self, int rc, rl_buf *out, const rl_err *err)
{
    fwrite(out->data ? out->data : "", 1, out->len, rc == 0 ? stdout : stderr);
    rl_buf_free(out);
    return rc == 0 ? CLI_OK : cli_fail(self, CLI_FAIL, "%s", err->msg);
}

int cli_run_backup(op_call *self)
{
    rl_buf out;
    rl_buf_init(&out, 0);
    rl_err err;
    int rc = backup_make(self->data, ops_str(self, "DEST"), ops_flag(self, "force"), &out,
                         &err);
    return report(self, rc, &out, &err);
}

int cli_run_restore(op_call *self)
{
    if (!ops_str(self, "data") && !ops_str(self, "config"))
        return cli_usage(self, "say where to restore: --data DIR (a new or empty directory)");
    if (ops_engine_pid(self->data) > 0)
        return cli_fail(self, CLI_FAIL, "an engine runs on %s: restore into a new directory",
                        self->data);
    rl_buf out;
    rl_buf_init(&out, 0);
    rl_err err;
    int rc = backup_restore(ops_str(self, "SRC"), self->data, &out, &err);
    return report(self, rc, &out, &err);
}

int cli_run_check(op_call *self)
{
    rl_buf out;
    rl_buf_init(&out, 0);
    rl_err err;
    unsigned long problems = 0;
    if (backup_check(self->data, &out, &problems, &err) != 0)
        return report(self, -1, &out, &err);
    fwrite(out.data ? out.data : "", 1, out.len, stdout);
    rl_buf_free(&out);
    return problems ? CLI_FAIL : CLI_OK;
}
