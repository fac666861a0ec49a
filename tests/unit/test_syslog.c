/* The syslog client's framing (RFC 5424 header, RFC 5425 octet count) and
 * the reasons it gives when the collector cannot be reached or its TLS
 * files cannot be read. */
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "radlink/net.h"
#include "radlink/syslog.h"

static void a_frame_counts_its_octets(void **state)
{
    (void)state;
    rl_buf out;
    rl_buf_init(&out, 0);
    syslog_header h = { .pri = 85, .time_us = 1700000000123456, .hostname = "ris-gw",
                        .app = "radlink", .procid = 42, .msgid = "IHE+RFC-3881" };
    assert_int_equal(syslog_frame(&out, &h, RL_STR("<AuditMessage/>")), 0);
    const char *msg = "<85>1 2023-11-14T22:13:20.123456Z ris-gw radlink 42 IHE+RFC-3881 - "
                      "<AuditMessage/>";
    char want[256];
    snprintf(want, sizeof want, "%zu %s", strlen(msg), msg);
    assert_int_equal(out.len, strlen(want));
    assert_memory_equal(out.data, want, out.len);
    /* a second message follows the first, each with its own count */
    assert_int_equal(syslog_frame(&out, &h, RL_STR("x")), 0);
    assert_true(out.len > strlen(want));
    char second[32];
    snprintf(second, sizeof second, "%zu <85>1 ", strlen(msg) - strlen("<AuditMessage/>") + 1);
    assert_memory_equal(out.data + strlen(want), second, strlen(second));
    rl_buf_free(&out);

    /* past the buffer's limit: nothing of the message is appended */
    rl_buf small;
    rl_buf_init(&small, 40);
    assert_int_equal(syslog_frame(&small, &h, RL_STR("<AuditMessage/>")), -1);
    assert_int_equal(small.len, 0);
    rl_buf_free(&small);
}

static void reasons_for_a_collector_out_of_reach(void **state)
{
    (void)state;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t sl = sizeof sa;
    assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
    syslog_opts o = { .host = "127.0.0.1", .port = ntohs(sa.sin_port), .timeout_ms = 2000 };
    syslog_client *c = NULL;
    rl_err err;
    assert_int_equal(syslog_client_new(&o, &c, &err), 0);
    assert_false(syslog_connected(c));
    assert_int_equal(syslog_connect(c, &err), NET_E_CONNECT);
    char want[128];
    snprintf(want, sizeof want, "connect: %s", strerror(ECONNREFUSED));
    assert_string_equal(err.msg, want);
    assert_false(syslog_connected(c));
    syslog_client_free(c);
    close(s);

    o.ca = "/nonexistent-radlink-test/ca.pem";
    assert_int_equal(syslog_client_new(&o, &c, &err), NET_E_TLS_CONFIG);
    assert_null(c);
    assert_non_null(strstr(err.msg, o.ca));
    syslog_client_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_frame_counts_its_octets),
        cmocka_unit_test(reasons_for_a_collector_out_of_reach),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
