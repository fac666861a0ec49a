/* The log writer: timestamped key=value lines on stderr. */
#include "radlink/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "radlink/limits.h"
#include "radlink/util.h"

static _Atomic int current_level = LOG_INFO;
static const char *const names[] = { "error", "warn", "info", "debug" };

void log_set_level(log_level level)
{
    atomic_store(&current_level, (int)level);
}

log_level log_get_level(void)
{
    return (log_level)atomic_load(&current_level);
}

const char *log_level_name(log_level level)
{
    static const char *const n[] = { "error", "warn", "info", "debug" };
    return level >= LOG_ERROR && level <= LOG_DEBUG ? n[level] : "info";
}

int log_level_parse(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

void log_write(log_level level, const char *event, const char *fmt, ...)
{
    if ((int)level > atomic_load(&current_level))
        return;
    char line[RL_LOG_LINE_MAX], when[RL_TIME_TEXT_MAX];
    rl_time_iso(rl_now_us(), when, sizeof when);
    int n = snprintf(line, sizeof line, "%s %s %s ", when, names[level], event);
    if (n < 0 || (size_t)n >= sizeof line)
        return;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len >= sizeof line - 1)
        len = sizeof line - 2;
    line[len++] = '\n';
    fwrite(line, 1, len, stderr);
}
