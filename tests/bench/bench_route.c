/* Routing benchmark: the per-message cost of a 50-route file (route_py.py gen
 * writes it and the message), compiled once, evaluated for every message.
 * Each iteration parses the message afresh (transforms change it); parse
 * alone is timed too, so the routing cost is the difference.
 *   bench_route ROUTES.xml MSG.hl7 [SECONDS] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "radlink/route.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_route ROUTES.xml MSG.hl7 [SECONDS]\n");
        return 2;
    }
    double seconds = argc > 3 ? atof(argv[3]) : 3;
    rl_buf errors, msg;
    rl_err err;
    rl_buf_init(&errors, 0);
    rl_buf_init(&msg, 0);
    route_set *rs;
    double t0 = now_s();
    if (route_load(argv[1], NULL, &rs, &errors) != ROUTE_OK) {
        fprintf(stderr, "%.*s", (int)errors.len, errors.data);
        return 1;
    }
    double load_ms = (now_s() - t0) * 1e3;
    if (rl_read_file(argv[2], &msg, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    hl7_msg m;
    hl7_msg_init(&m, NULL);
    route_env env = { .dry_run = true, .now_us = rl_now_us() };
    route_result res;
    /* check once that the last route takes it */
    if (hl7_parse(&m, msg.data, msg.len, &err) != HL7_OK ||
        route_eval(rs, &m, &env, &res, NULL) != ROUTE_OK || !res.accept ||
        !strstr(res.summary, "ct-orders")) {
        fprintf(stderr, "the message is not taken by route ct-orders: %s\n", res.summary);
        return 1;
    }
    long n = 0;
    t0 = now_s();
    double dt;
    do {
        for (int i = 0; i < 1000; i++) {
            hl7_parse(&m, msg.data, msg.len, &err);
            route_eval(rs, &m, &env, &res, NULL);
        }
        n += 1000;
    } while ((dt = now_s() - t0) < seconds);
    t0 = now_s();
    for (long i = 0; i < n; i++)
        hl7_parse(&m, msg.data, msg.len, &err);
    double parse_dt = now_s() - t0;
    double per = dt / (double)n * 1e9, parse_per = parse_dt / (double)n * 1e9;
    printf("radlink: %zu routes loaded and compiled in %.2f ms\n", route_count(rs), load_ms);
    printf("radlink: parse + 50 routes %.0f ns/msg, parse alone %.0f ns/msg, routing %.0f ns/msg "
           "(%ld messages)\n", per, parse_per, per - parse_per, n);
    printf("RESULT mode=radlink route_ns=%.0f total_ns=%.0f\n", per - parse_per, per);
    hl7_msg_free(&m);
    route_free(rs);
    rl_buf_free(&errors);
    rl_buf_free(&msg);
    return 0;
}
