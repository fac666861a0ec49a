/* Prometheus text format helpers and lock-free latency histograms. */
#include "radlink/metrics.h"

#include <stdio.h>
#include <string.h>

#include "radlink/limits.h"

static const double bounds[METRICS_BUCKETS - 1] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

void metrics_observe(metrics_hist *h, int64_t us)
{
    if (us < 0)
        us = 0;
    double s = (double)us / 1e6;
    int i = 0;
    while (i < METRICS_BUCKETS - 1 && s > bounds[i])
        i++;
    __atomic_fetch_add(&h->le[i], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&h->sum_us, (uint64_t)us, __ATOMIC_RELAXED);
    __atomic_fetch_add(&h->count, 1, __ATOMIC_RELAXED);
}

void metrics_hist_copy(const metrics_hist *h, metrics_hist *out)
{
    for (int i = 0; i < METRICS_BUCKETS; i++)
        out->le[i] = __atomic_load_n(&h->le[i], __ATOMIC_RELAXED);
    out->sum_us = __atomic_load_n(&h->sum_us, __ATOMIC_RELAXED);
    /* the count as the buckets say, so that +Inf equals _count */
    out->count = 0;
    for (int i = 0; i < METRICS_BUCKETS; i++)
        out->count += out->le[i];
}

void metrics_head(rl_buf *out, const char *name, const char *type, const char *help)
{
    rl_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void metrics_value(rl_buf *out, const char *name, const char *labels, double v)
{
    if (labels && labels[0])
        rl_buf_printf(out, "%s{%s} %.15g\n", name, labels, v);
    else
        rl_buf_printf(out, "%s %.15g\n", name, v);
}

void metrics_label(char *labels, size_t n, const char *key, rl_str value)
{
    size_t k = strlen(labels);
    int w = snprintf(labels + k, k < n ? n - k : 0, "%s%s=\"", k ? "," : "", key);
    if (w < 0 || (k += (size_t)w) >= n)
        return;
    for (size_t i = 0; i < value.n && k + 3 < n; i++) {
        char c = value.p[i];
        if (c == '\\' || c == '"') {
            labels[k++] = '\\';
            labels[k++] = c;
        } else if (c == '\n') {
            labels[k++] = '\\';
            labels[k++] = 'n';
        } else {
            labels[k++] = (unsigned char)c < 0x20 ? ' ' : c;
        }
    }
    if (k + 1 < n) {
        labels[k++] = '"';
        labels[k] = '\0';
    } else { /* cut: keep it well-formed */
        labels[n - 2] = '"';
        labels[n - 1] = '\0';
    }
}

void metrics_hist_write(rl_buf *out, const char *name, const char *labels,
                        const metrics_hist *h)
{
    metrics_hist c;
    metrics_hist_copy(h, &c);
    const char *sep = labels && labels[0] ? "," : "";
    uint64_t cum = 0;
    for (int i = 0; i < METRICS_BUCKETS; i++) {
        cum += c.le[i];
        if (i < METRICS_BUCKETS - 1)
            rl_buf_printf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels ? labels : "", sep,
                          bounds[i], (unsigned long long)cum);
        else
            rl_buf_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels ? labels : "",
                          sep, (unsigned long long)cum);
    }
    char n2[RL_METRICS_NAME_MAX];
    snprintf(n2, sizeof n2, "%s_sum", name);
    metrics_value(out, n2, labels, (double)c.sum_us / 1e6);
    snprintf(n2, sizeof n2, "%s_count", name);
    metrics_value(out, n2, labels, (double)c.count);
}
