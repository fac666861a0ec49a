/* CURVE key files as `radlink keygen` writes them: "public-key Z85" and
 * "secret-key Z85" lines; read by the engine (its tcp endpoint's keys) and
 * by a remote worker (its own). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "radlink/keyfile.h"

/* Parse "key VALUE" lines without sscanf: the two words of a line. */
static bool words(char *line, char **k, char **v)
{
    char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    *k = p;
    while (*p && *p != ' ' && *p != '\t' && *p != '\n')
        p++;
    if (!*p || *p == '\n')
        return false;
    *p++ = '\0';
    while (*p == ' ' || *p == '\t')
        p++;
    *v = p;
    while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
        p++;
    *p = '\0';
    return **v != '\0';
}

int keyfile_read(const char *path, char pub[RL_CURVE_KEY_SIZE], char sec[RL_CURVE_KEY_SIZE],
                 rl_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return rl_err_set(err, JOB_E_KEYS, -1, "%s: cannot read: %s", path, strerror(errno));
    char line[RL_KEYFILE_LINE_MAX];
    pub[0] = sec[0] = '\0';
    while (fgets(line, sizeof line, f)) {
        char *k, *v;
        if (!words(line, &k, &v) || strlen(v) != RL_CURVE_KEY_SIZE - 1)
            continue;
        if (!strcmp(k, "public-key"))
            memcpy(pub, v, RL_CURVE_KEY_SIZE);
        else if (!strcmp(k, "secret-key"))
            memcpy(sec, v, RL_CURVE_KEY_SIZE);
    }
    fclose(f);
    if (!pub[0] || !sec[0])
        return rl_err_set(err, JOB_E_KEYS, -1, "%s: no public-key and secret-key lines (radlink "
                          "keygen writes them)", path);
    return 0;
}
