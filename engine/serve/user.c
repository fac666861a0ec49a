/* serve --user: the listening sockets are bound first, as root (ports
 * below 1024); then the process becomes the user for good, before anything
 * else is opened or created. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "radlink/limits.h"
#include "radlink/log.h"
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>

/* serve --user: the listening sockets are bound first, as root (ports
 * below 1024); then the process becomes the user for good, before anything
 * else is opened or created, so that every file, socket and worker of the
 * engine is the user's and no thread ever runs as root. */
static int prebind(engine *e, const cfg *c, rl_err *err)
{
    for (unsigned i = 0; i < c->n_mllp; i++)
        if (mllp_bind(c->mllp[i].bind, c->mllp[i].port == RL_PORT_AUTO ? 0 : c->mllp[i].port,
                      &e->mllp_fd[i], err) != 0)
            return err->code;
    if (c->dicom_port && dicom_bind(c->dicom_bind, c->dicom_port == RL_PORT_AUTO ? 0 : c->dicom_port,
                                    &e->dicom_fd, err) != 0)
        return err->code;
    if (c->dicom_tls.on && dicom_bind(c->dicom_bind, c->dicom_tls.port, &e->dicom_tls_fd, err) != 0)
        return err->code;
    return 0;
}

int engine_become_user(engine *e, const cfg *c, rl_err *err)
{
    if (geteuid() != 0)
        return rl_err_set(err, RL_E_ARG, -1, "--user %s: radlink serve was not started as root",
                          c->run_user);
    struct passwd *pw = getpwnam(c->run_user);
    if (!pw)
        return rl_err_set(err, RL_E_ARG, -1, "--user %s: no such user", c->run_user);
    if (pw->pw_uid == 0)
        return rl_err_set(err, RL_E_ARG, -1, "--user %s: that is root", c->run_user);
    struct stat st;
    if (stat(c->data_dir, &st) == 0 && st.st_uid != pw->pw_uid)
        return rl_err_set(err, RL_E_ARG, -1, "%s belongs to uid %ld, not to %s: chown -R %s %s",
                          c->data_dir, (long)st.st_uid, c->run_user, c->run_user, c->data_dir);
    int rc = prebind(e, c, err);
    if (rc != 0)
        return rc;
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0)
        return rl_err_set(err, RL_E_SYS, -1, "--user %s: %s", c->run_user, strerror(errno));
    if (setuid(0) == 0 || geteuid() == 0) /* no way back */
        return rl_err_set(err, RL_E_SYS, -1, "--user %s: root could not be dropped", c->run_user);
    setenv("HOME", pw->pw_dir, 1);
    setenv("USER", pw->pw_name, 1);
    log_info("serve.user", "user=%s uid=%ld gid=%ld", pw->pw_name, (long)pw->pw_uid,
             (long)pw->pw_gid);
    return 0;
}
