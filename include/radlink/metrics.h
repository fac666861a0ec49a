/* Prometheus text exposition (format 0.0.4) for /metrics: latency
 * histograms any thread can feed, and the writers of the lines. Label
 * values are escaped here (backslash, quote, newline), so a value from a
 * peer cannot break the format; callers never put patient data in labels.
 *
 * Threads: metrics_observe from any thread (atomic adds); the writers on
 * the caller's buffer. */
#ifndef RADLINK_METRICS_H
#define RADLINK_METRICS_H

#include <stdint.h>

#include "radlink/util.h"

/* Upper bounds of the latency buckets, seconds: 1 ms to 10 s, then +Inf. */
#define METRICS_BUCKETS 14

typedef struct metrics_hist {
    uint64_t le[METRICS_BUCKETS]; /* observations in each bucket (not cumulative) */
    uint64_t count, sum_us;
} metrics_hist;

/* One observation of us microseconds. */
void metrics_observe(metrics_hist *h, int64_t us);
/* A consistent-enough copy for writing (each word read atomically). */
void metrics_hist_copy(const metrics_hist *h, metrics_hist *out);

/* "# HELP name help\n# TYPE name type\n" */
void metrics_head(rl_buf *out, const char *name, const char *type, const char *help);
/* name{labels} value: labels is "" or already rendered (metrics_label). */
void metrics_value(rl_buf *out, const char *name, const char *labels, double v);
/* Append key="value" (escaped) to a label set, with the comma if needed. */
void metrics_label(char *labels, size_t n, const char *key, rl_str value);
/* name_bucket{labels,le=".."}, name_sum, name_count of h. */
void metrics_hist_write(rl_buf *out, const char *name, const char *labels,
                        const metrics_hist *h);

#endif
