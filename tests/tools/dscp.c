/* A test helper: the DICOM listener's storage service with an on_dataset
 * step, as the engine runs <on-receive> routes, and an on_instance that
 * files each instance as OUT/SOP-UID.dcm, without the engine around it.
 *
 *   dscp INCOMING OUT [--set PATH=VALUE]...
 *
 * Listens on 127.0.0.1, on a port the system picks, as AE DSCP and prints
 * "port N" once it accepts associations. For each instance, on_dataset
 * applies every --set through dicom_ds_io, except from calling AE NOSTUDY,
 * whose instance loses its Study Instance UID (the listener must then
 * refuse it); its cookie names the calling and called AE titles. Then one
 * line each: "stored SOP-UID study STUDY-UID cookie COOKIE" from
 * on_instance (the fields the engine would index), "freed COOKIE" from
 * cookie_free. Runs until SIGTERM; exit 0 when every cookie was handed to
 * on_instance or freed. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "radlink/dicom.h"
#include "radlink/study.h"

typedef struct dscp {
    char out[512];
    char *const *sets; /* "PATH=VALUE" */
    size_t nsets;
    atomic_int cookies; /* made and not yet handed over or freed */
} dscp;

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static int set_one(dicom_ds *ds, const char *arg, rl_err *err)
{
    char text[DICOM_PATH_TEXT_MAX + 1];
    const char *eq = strchr(arg, '=');
    size_t n = eq ? (size_t)(eq - arg) : 0;
    if (!eq || n >= sizeof text)
        return rl_err_set(err, DICOM_E_VALUE, -1, "--set %s: PATH=VALUE expected", arg);
    memcpy(text, arg, n);
    text[n] = '\0';
    dicom_path p;
    int rc = dicom_dict.path_parse(text, &p, err);
    return rc ? rc : dicom_ds_io.set(ds, &p, rl_str_c(eq + 1), err);
}

static bool on_dataset(void *ctx, dicom_ds *ds, const char *calling_ae, const char *called_ae,
                       void **cookie)
{
    dscp *d = ctx;
    rl_err err;
    if (!strcmp(calling_ae, "NOSTUDY")) {
        dicom_path p;
        if (dicom_dict.path_parse("StudyInstanceUID", &p, &err) == 0)
            dicom_ds_io.remove(ds, &p, &err);
    } else {
        for (size_t i = 0; i < d->nsets; i++)
            if (set_one(ds, d->sets[i], &err) != 0)
                fprintf(stderr, "dscp: %s\n", err.msg);
    }
    char *c = malloc(80);
    if (!c)
        return true;
    snprintf(c, 80, "%s->%s", calling_ae, called_ae);
    *cookie = c;
    atomic_fetch_add(&d->cookies, 1);
    return true;
}

static int on_instance(void *ctx, const study_inst *in, const char *tmp_path, void *cookie,
                       char *why, size_t whyn)
{
    dscp *d = ctx;
    char path[sizeof d->out + RL_STUDY_FIELD_SIZE + 8];
    snprintf(path, sizeof path, "%s/%s.dcm", d->out, in->f[STUDY_F_SOP_UID]);
    int rc = rename(tmp_path, path);
    if (rc != 0)
        snprintf(why, whyn, "cannot file %s", path);
    else
        printf("stored %s study %s cookie %s\n", in->f[STUDY_F_SOP_UID],
               in->f[STUDY_F_STUDY_UID], cookie ? (const char *)cookie : "-");
    fflush(stdout);
    if (cookie)
        atomic_fetch_sub(&d->cookies, 1);
    free(cookie);
    return rc == 0 ? 0 : -1;
}

static dscp *g_dscp; /* cookie_free has no ctx */

static void cookie_free(void *cookie)
{
    printf("freed %s\n", (const char *)cookie);
    fflush(stdout);
    atomic_fetch_sub(&g_dscp->cookies, 1);
    free(cookie);
}

static unsigned local_port(int fd)
{
    struct sockaddr_in a;
    socklen_t n = sizeof a;
    if (getsockname(fd, (struct sockaddr *)&a, &n) != 0)
        return 0;
    return ntohs(a.sin_port);
}

int main(int argc, char **argv)
{
    if (argc < 3 || (argc - 3) % 2) {
        fprintf(stderr, "usage: dscp INCOMING OUT [--set PATH=VALUE]...\n");
        return 1;
    }
    static dscp d;
    g_dscp = &d;
    snprintf(d.out, sizeof d.out, "%s", argv[2]);
    static char *sets[64];
    for (int i = 3; i + 1 < argc && d.nsets < 64; i += 2) {
        if (strcmp(argv[i], "--set") != 0) {
            fprintf(stderr, "dscp: unknown option %s\n", argv[i]);
            return 1;
        }
        sets[d.nsets++] = argv[i + 1];
    }
    d.sets = sets;
    static dicom_scp_cfg cfg; /* large: not on the stack */
    snprintf(cfg.ae_title, sizeof cfg.ae_title, "DSCP");
    snprintf(cfg.incoming_dir, sizeof cfg.incoming_dir, "%s", argv[1]);
    cfg.on_dataset = on_dataset;
    cfg.on_instance = on_instance;
    cfg.cookie_free = cookie_free;
    cfg.ctx = &d;
    rl_err err;
    if (dicom_bind("127.0.0.1", 0, &cfg.fd, &err) != 0) {
        fprintf(stderr, "dscp: %s\n", err.msg);
        return 1;
    }
    cfg.port = local_port(cfg.fd);
    dicom_scp *scp = NULL;
    if (dicom_scp_start(&cfg, &scp, &err) != 0) {
        fprintf(stderr, "dscp: %s\n", err.msg);
        return 1;
    }
    signal(SIGTERM, on_term);
    printf("port %u\n", cfg.port);
    fflush(stdout);
    while (!stop) {
        struct timespec ts = { 0, 50 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    dicom_scp_free(scp);
    int left = atomic_load(&d.cookies);
    if (left) {
        fprintf(stderr, "dscp: %d cookies neither handed over nor freed\n", left);
        return 1;
    }
    return 0;
}
