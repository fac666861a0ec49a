/* The network layer on loopback: a listener on port 0 says which port it
 * got, a connection there is accepted with the client's address, bytes go
 * both ways and a close reads as EOF; a refused connection fails at once
 * with its reason; waits end at their deadline or on the cancel
 * descriptor; address text; TLS files that are missing are named. */
#include "testutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
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


static void allow_lists_parse_and_match(void **state)
{
    (void)state;
    cidr_list l;
    char why[160];
    assert_int_equal(cidr_parse("10.0.0.0/8, 192.168.1.5 fd00::/8 ::ffff:172.16.0.0/108", &l,
                                why, sizeof why), 0);
    assert_int_equal(l.n, 4);
    assert_true(cidr_match_text(&l, "10.200.3.4"));
    assert_false(cidr_match_text(&l, "11.0.0.1"));
    assert_true(cidr_match_text(&l, "192.168.1.5"));
    assert_false(cidr_match_text(&l, "192.168.1.6"));
    assert_true(cidr_match_text(&l, "fd12::1"));
    assert_false(cidr_match_text(&l, "fe80::1"));
    assert_true(cidr_match_text(&l, "172.16.200.1")); /* the mapped block is 172.16.0.0/12 */
    assert_false(cidr_match_text(&l, "172.32.0.1"));
    assert_true(cidr_match_text(&l, "::ffff:10.1.1.1")); /* a mapped address matches as IPv4 */
    assert_false(cidr_match_text(&l, "not an address"));
    /* prefixes that are not whole bytes */
    assert_int_equal(cidr_parse("10.1.2.128/25", &l, why, sizeof why), 0);
    assert_true(cidr_match_text(&l, "10.1.2.200"));
    assert_false(cidr_match_text(&l, "10.1.2.127"));
    /* the empty list allows every address */
    assert_int_equal(cidr_parse(" ", &l, why, sizeof why), 0);
    assert_true(cidr_match_text(&l, "203.0.113.9"));
    /* what does not parse is named */
    static const char *const bad[] = { "10.0.0/8", "10.0.0.0/33", "::1/129", "10.0.0.0/",
                                       "10.0.0.0/x", "host.example" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(cidr_parse(bad[i], &l, why, sizeof why), -1);
        assert_non_null(strstr(why, "is not an address or CIDR block"));
    }
}

static void address_sets_rate_limit_per_address(void **state)
{
    (void)state;
    static net_addrset s;
    assert_true(net_addrset_due(&s, "10.0.0.1", 1000, 60000));
    assert_false(net_addrset_due(&s, "10.0.0.1", 30000, 60000));
    assert_true(net_addrset_due(&s, "10.0.0.2", 30000, 60000));
    assert_true(net_addrset_due(&s, "10.0.0.1", 61000, 60000));
    assert_true(net_addrset_has(&s, "10.0.0.2"));
    /* full: the address marked longest ago makes room */
    for (unsigned i = 0; i < sizeof s.e / sizeof s.e[0]; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "10.1.%u.%u", i / 256, i % 256);
        net_addrset_mark(&s, ip, 100000 + i);
    }
    assert_false(net_addrset_has(&s, "10.0.0.1"));
    assert_true(net_addrset_has(&s, "10.1.0.200"));
}

/* ---- the gate ---- */

typedef struct gate_seen {
    int taken[8];
    unsigned ntaken, denied;
} gate_seen;

static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;

static net_gate_verdict look_line(const unsigned char *b, size_t n)
{
    if (b[0] == '!')
        return NET_GATE_REFUSE;
    return memchr(b, '\n', n) ? NET_GATE_READY : NET_GATE_MORE;
}

static void take_fd(void *ctx, int fd, const net_addr *peer)
{
    (void)peer;
    gate_seen *g = ctx;
    pthread_mutex_lock(&seen_lock);
    if (g->ntaken < 8)
        g->taken[g->ntaken++] = fd;
    else
        close(fd);
    pthread_mutex_unlock(&seen_lock);
}

static void on_denied(void *ctx, const char *ip)
{
    (void)ip;
    gate_seen *g = ctx;
    pthread_mutex_lock(&seen_lock);
    g->denied++;
    pthread_mutex_unlock(&seen_lock);
}

static unsigned taken(gate_seen *g)
{
    pthread_mutex_lock(&seen_lock);
    unsigned n = g->ntaken;
    pthread_mutex_unlock(&seen_lock);
    return n;
}

/* A client from src (127.0.0.x) to port, connected. */
static int client(const char *src, unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET };
    inet_pton(AF_INET, src, &a.sin_addr);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&to, sizeof to), 0);
    return fd;
}

/* Whether the server closed fd within ms. */
static bool closed_within(int fd, int ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    if (poll(&p, 1, ms) <= 0)
        return false;
    char c;
    return recv(fd, &c, 1, MSG_DONTWAIT) <= 0;
}

static net_gate *gate_on(gate_seen *seen, unsigned max, unsigned stress_ms, const char *allow,
                         unsigned *port)
{
    static cidr_list l;
    char why[160];
    assert_int_equal(cidr_parse(allow, &l, why, sizeof why), 0);
    int lfd = -1;
    rl_err err;
    assert_int_equal(net_listen("gate", "127.0.0.1", 0, &lfd, port, &err), 0);
    net_gate_opts o = { .name = "test", .listen_fd = lfd, .max_waiting = max,
                        .timeout_ms = 60000, .stress_timeout_ms = stress_ms, .allow = &l,
                        .look = look_line, .take = take_fd, .denied = on_denied, .ctx = seen };
    net_gate *g = NULL;
    assert_int_equal(net_gate_start(&o, &g, &err), 0);
    return g;
}

/* Wait (up to 10 s) until the gate counts `waiting` connections. */
static void wait_waiting(net_gate *g, unsigned waiting)
{
    for (int i = 0; i < 1000; i++) {
        net_gate_stats st;
        net_gate_stats_get(g, &st);
        if (st.waiting == waiting)
            return;
        poll(NULL, 0, 10);
    }
    fail_msg("the gate never held %u connections", waiting);
}

static void the_gate_evicts_the_oldest_and_hands_over_the_identified(void **state)
{
    (void)state;
    gate_seen seen = { 0 };
    unsigned port;
    net_gate *g = gate_on(&seen, 3, 60000, "", &port);
    /* a complete first message: handed over, left in the socket for the
     * protocol's reader */
    int a = client("127.0.0.2", port);
    assert_int_equal(send(a, "hi\n", 3, 0), 3);
    for (int i = 0; i < 1000 && taken(&seen) < 1; i++)
        poll(NULL, 0, 10);
    assert_int_equal(taken(&seen), 1);
    char buf[8];
    assert_int_equal(recv(seen.taken[0], buf, sizeof buf, 0), 3);
    /* a first message in two pieces */
    int h = client("127.0.0.2", port);
    assert_int_equal(send(h, "h", 1, 0), 1);
    wait_waiting(g, 1);
    assert_int_equal(send(h, "i\n", 2, 0), 2);
    for (int i = 0; i < 1000 && taken(&seen) < 2; i++)
        poll(NULL, 0, 10);
    assert_int_equal(taken(&seen), 2);
    int b = client("127.0.0.2", port); /* the oldest */
    wait_waiting(g, 1);
    int c = client("127.0.0.3", port);
    wait_waiting(g, 2);
    int d = client("127.0.0.3", port);
    wait_waiting(g, 3);
    int e = client("127.0.0.4", port); /* full: b makes room */
    assert_true(closed_within(b, 10000));
    assert_false(closed_within(c, 100));
    assert_false(closed_within(d, 0));
    /* a connection whose first bytes are not the protocol is closed */
    int f = client("127.0.0.5", port); /* full again: c makes room */
    assert_true(closed_within(c, 10000));
    assert_int_equal(send(f, "!", 1, 0), 1);
    assert_true(closed_within(f, 10000));
    net_gate_stats st;
    net_gate_stats_get(g, &st);
    assert_int_equal(st.not_protocol, 1);
    assert_int_equal(st.evicted, 2);
    assert_int_equal(st.taken, 2);
    net_gate_free(g);
    /* freed: the waiting connections are closed */
    assert_true(closed_within(d, 10000));
    assert_true(closed_within(e, 10000));
    for (int *p = (int[]){ a, b, c, d, e, f, h, seen.taken[0], seen.taken[1] }, i = 0; i < 9;
         i++)
        close(p[i]);
}

static void the_gate_denies_and_shortens_timeouts_under_pressure(void **state)
{
    (void)state;
    gate_seen seen = { 0 };
    unsigned port;
    net_gate *g = gate_on(&seen, 4, 200, "127.0.0.0/30", &port);
    /* 127.0.0.5 is outside 127.0.0.0/30: closed at accept, reported once */
    int x = client("127.0.0.5", port), y = client("127.0.0.5", port);
    assert_true(closed_within(x, 10000));
    assert_true(closed_within(y, 10000));
    net_gate_stats st;
    net_gate_stats_get(g, &st);
    assert_int_equal(st.denied, 2);
    pthread_mutex_lock(&seen_lock);
    assert_int_equal(seen.denied, 1);
    pthread_mutex_unlock(&seen_lock);
    /* two of four waiting: no pressure, the usual minute */
    int a = client("127.0.0.2", port), b = client("127.0.0.2", port);
    wait_waiting(g, 2);
    assert_false(closed_within(a, 400));
    /* three of four: pressure, and each has the stress timeout */
    int c = client("127.0.0.3", port);
    assert_true(closed_within(a, 10000));
    assert_true(closed_within(b, 10000));
    net_gate_free(g);
    close(x), close(y), close(a), close(b), close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(listen_on_port_zero_reports_the_port),
        cmocka_unit_test(connect_to_a_port_not_listening_is_refused),
        cmocka_unit_test(waits_end_at_the_deadline_or_on_cancel),
        cmocka_unit_test(address_text),
        cmocka_unit_test(tls_files_that_are_missing_are_named),
        cmocka_unit_test(allow_lists_parse_and_match),
        cmocka_unit_test(address_sets_rate_limit_per_address),
        cmocka_unit_test(the_gate_evicts_the_oldest_and_hands_over_the_identified),
        cmocka_unit_test(the_gate_denies_and_shortens_timeouts_under_pressure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
