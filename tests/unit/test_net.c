/* The network layer on loopback: a listener on port 0 says which port it
 * got, a connection there is accepted with the client's address, bytes go
 * both ways and a close reads as EOF; a refused connection fails at once
 * with its reason; waits end at their deadline or on the cancel
 * descriptor; address text; TLS files that are missing are named. */
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "radlink/net.h"

/* The port a socket is bound to. */
static unsigned local_port(int fd)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    return ntohs(sa.sin_port);
}

static void listen_on_port_zero_reports_the_port(void **state)
{
    (void)state;
    int lfd = -1;
    unsigned port = 0;
    rl_err err;
    assert_int_equal(net_listen("test listener", "127.0.0.1", 0, &lfd, &port, &err), 0);
    assert_true(port > 0 && port < 65536);
    assert_int_equal(local_port(lfd), port);

    /* nobody waits yet */
    int cfd = -1;
    net_addr peer;
    assert_int_equal(net_accept(lfd, &cfd, &peer, &err), NET_AGAIN);

    /* the port is taken: a second listener names itself and the address */
    int other = -1;
    assert_int_equal(net_listen("test listener", "127.0.0.1", port, &other, NULL, &err),
                     NET_E_LISTEN);
    char head[64];
    snprintf(head, sizeof head, "test listener 127.0.0.1:%u: ", port);
    assert_memory_equal(err.msg, head, strlen(head));

    int fd = -1;
    assert_int_equal(net_connect("127.0.0.1", port, rl_mono_ms() + 2000, -1, &fd, &err), 0);
    assert_int_equal(net_wait_fd(lfd, false, rl_mono_ms() + 2000, -1), 0);
    assert_int_equal(net_accept(lfd, &cfd, &peer, &err), 0);
    char want[64];
    snprintf(want, sizeof want, "127.0.0.1:%u", local_port(fd));
    assert_string_equal(peer.text, want);
    assert_true(peer.len >= sizeof(struct sockaddr_in));

    /* bytes both ways, then a close reads as EOF */
    net_conn a = { .fd = fd }, b = { .fd = cfd };
    size_t put = 0, got = 0;
    char buf[16];
    assert_int_equal(net_handshake(&a, &err), 0); /* plain TCP: nothing to do */
    assert_int_equal(net_read(&b, buf, sizeof buf, &got, &err), NET_AGAIN);
    assert_int_equal(net_write(&a, "ping", 4, &put, &err), 0);
    assert_int_equal(put, 4);
    assert_int_equal(net_wait(&b, false, rl_mono_ms() + 2000, -1), 0);
    assert_int_equal(net_read(&b, buf, sizeof buf, &got, &err), 0);
    assert_int_equal(got, 4);
    assert_memory_equal(buf, "ping", 4);
    assert_string_equal(net_tls_version(&b), "");
    assert_null(net_tls_verify_error(&b));
    net_close(&a);
    assert_int_equal(a.fd, -1);
    net_close(&a); /* twice is fine */
    assert_int_equal(net_wait(&b, false, rl_mono_ms() + 2000, -1), 0);
    assert_int_equal(net_read(&b, buf, sizeof buf, &got, &err), NET_EOF);
    net_close(&b);
    close(lfd);
}

static void connect_to_a_port_not_listening_is_refused(void **state)
{
    (void)state;
    /* bound, so nobody else takes the port, but not listening */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s >= 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
    unsigned port = local_port(s);
    rl_err err;
    int fd = -1;
    int64_t t0 = rl_mono_ms();
    int rc = net_connect("127.0.0.1", port, t0 + 3000, -1, &fd, &err);
    int64_t took = rl_mono_ms() - t0;
    assert_int_equal(rc, NET_E_CONNECT);
    assert_int_equal(err.code, NET_E_CONNECT);
    assert_string_equal(err.msg, strerror(ECONNREFUSED));
    assert_int_equal(fd, -1);
    assert_true(took < 3000);
    assert_string_not_equal(rl_strerror(rc), "unknown error");
    close(s);
}

static void waits_end_at_the_deadline_or_on_cancel(void **state)
{
    (void)state;
    int quiet[2], cancel[2];
    assert_int_equal(pipe(quiet), 0);
    assert_int_equal(pipe(cancel), 0);
    int64_t t0 = rl_mono_ms();
    assert_int_equal(net_wait_fd(quiet[0], false, t0 + 50, -1), NET_E_TIMEOUT);
    assert_true(rl_mono_ms() - t0 >= 45);
    assert_int_equal(net_wait_fd(quiet[0], false, t0 - 1, -1), NET_E_TIMEOUT); /* passed */
    assert_int_equal(write(cancel[1], "x", 1), 1);
    t0 = rl_mono_ms();
    assert_int_equal(net_wait_fd(quiet[0], false, t0 + 5000, cancel[0]), NET_E_CANCELLED);
    assert_true(rl_mono_ms() - t0 < 5000);
    assert_int_equal(net_wait_fd(quiet[1], true, t0 + 5000, -1), 0); /* a pipe takes bytes */
    for (int i = 0; i < 2; i++) {
        close(quiet[i]);
        close(cancel[i]);
    }
}

static void address_text(void **state)
{
    (void)state;
    char out[RL_PEER_TEXT_MAX];
    struct sockaddr_in v4 = { .sin_family = AF_INET, .sin_port = htons(4567) };
    assert_int_equal(inet_pton(AF_INET, "10.1.2.3", &v4.sin_addr), 1);
    net_addr_str(&v4, out, sizeof out);
    assert_string_equal(out, "10.1.2.3:4567");
    struct sockaddr_in6 v6 = { .sin6_family = AF_INET6, .sin6_port = htons(80) };
    assert_int_equal(inet_pton(AF_INET6, "2001:db8::7", &v6.sin6_addr), 1);
    net_addr_str(&v6, out, sizeof out);
    assert_string_equal(out, "[2001:db8::7]:80");
    struct sockaddr_un un = { .sun_family = AF_UNIX };
    net_addr_str(&un, out, sizeof out);
    assert_string_equal(out, "?");

    char host[RL_PEER_TEXT_MAX];
    net_addr_host("10.1.2.3:4567", host, sizeof host);
    assert_string_equal(host, "10.1.2.3");
    net_addr_host("[2001:db8::7]:80", host, sizeof host);
    assert_string_equal(host, "2001:db8::7");
    net_addr_host("modality-3", host, sizeof host);
    assert_string_equal(host, "modality-3");
}

static void tls_files_that_are_missing_are_named(void **state)
{
    (void)state;
    const char *cert = "/nonexistent-radlink-test/server.pem";
    const char *ca = "/nonexistent-radlink-test/ca.pem";
    rl_err err;
    net_tls_opts o = { .cert = cert, .key = "/nonexistent-radlink-test/server.key" };
    assert_null(net_tls_server_ctx(&o, &err));
    assert_int_equal(err.code, NET_E_TLS_CONFIG);
    char head[128];
    snprintf(head, sizeof head, "TLS certificate %s: ", cert);
    assert_memory_equal(err.msg, head, strlen(head));

    net_tls_opts c = { .ca = ca };
    assert_null(net_tls_client_ctx(&c, &err));
    assert_int_equal(err.code, NET_E_TLS_CONFIG);
    snprintf(head, sizeof head, "TLS CA file %s: ", ca);
    assert_memory_equal(err.msg, head, strlen(head));

    /* a listener without a certificate cannot work */
    net_tls_opts none = { 0 };
    assert_null(net_tls_server_ctx(&none, &err));
    assert_int_equal(err.code, NET_E_TLS_CONFIG);
    assert_non_null(strstr(err.msg, "a TLS listener needs cert and key"));

    /* a client with the system's trust store and no certificate of its own */
    net_tls_ctx *t = net_tls_client_ctx(&none, &err);
    assert_non_null(t);
    net_tls_ctx_free(t);
    net_tls_ctx_free(NULL);
    assert_non_null(strstr(net_tls_library_version(), "SSL"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(listen_on_port_zero_reports_the_port),
        cmocka_unit_test(connect_to_a_port_not_listening_is_refused),
        cmocka_unit_test(waits_end_at_the_deadline_or_on_cancel),
        cmocka_unit_test(address_text),
        cmocka_unit_test(tls_files_that_are_missing_are_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
