/* One log line per event: "TIME LEVEL event key=value ...", to stderr.
 * Thread-safe (each line is written with one stdio call). Patient data must not
 * be logged at info level or above; pass it only to log_debug. */
#ifndef RADLINK_LOG_H
#define RADLINK_LOG_H

typedef enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG } log_level;

void log_set_level(log_level level);
log_level log_get_level(void);
/* The name log_level_parse takes for level. */
const char *log_level_name(log_level level);
/* "error", "warn", "info", "debug" -> level; returns -1 when unknown. */
int log_level_parse(const char *name);

/* event: a short dotted name ("mllp.accept"); fmt: the key=value pairs. */
void log_write(log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_error(ev, ...) log_write(LOG_ERROR, ev, __VA_ARGS__)
#define log_warn(ev, ...) log_write(LOG_WARN, ev, __VA_ARGS__)
#define log_info(ev, ...) log_write(LOG_INFO, ev, __VA_ARGS__)
#define log_debug(ev, ...) log_write(LOG_DEBUG, ev, __VA_ARGS__)

#endif
