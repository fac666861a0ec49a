// Accepting DICOM connections in parallel (see accept.h).
extern "C" {
#include "radlink/limits.h"
#include "radlink/log.h"
#include "radlink/util.h"
}

#include "accept.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "dcmtk/dcmnet/dcmtrans.h"
#include "dcmtk/dcmnet/dul.h"
#include "dcmtk/dcmnet/dulstruc.h"

namespace rl_dicom {

namespace {

// What the connection this thread accepted last was admitted as: its socket
// (timeouts set until its association request is in) and its address (one
// of the address's connections until it ends).
struct Admitted {
    bool yes = false;
    int fd = -1;
    std::string addr;
};
thread_local Admitted t_adm;

// dcmExternalSocketHandle is one global for the process: a thread holds
// this from setting it until DCMTK has read it (Gate::createConnection).
std::mutex handoff;
thread_local bool t_handing = false;
// DCMTK asked for the socket's connection: it closes the socket from then on
thread_local bool t_dcmtk_owns = false;

void handoff_end()
{
    if (!t_handing)
        return;
    dcmExternalSocketHandle.set(DCMNET_INVALID_SOCKET);
    t_handing = false;
    handoff.unlock();
}

void set_timeouts(int fd, long receive_s, long send_s)
{
    struct timeval r = { time_t(receive_s > 0 ? receive_s : 0), 0 },
                   w = { time_t(send_s > 0 ? send_s : 0), 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &r, sizeof r);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &w, sizeof w);
}

uint32_t be32(const unsigned char *b)
{
    return uint32_t(b[0]) << 24 | uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 | b[3];
}

// The first message of a plain connection: a whole A-ASSOCIATE-RQ PDU
// (type 01, a reserved byte, its length).
net_gate_verdict look_plain(const unsigned char *b, size_t n)
{
    if (b[0] != DUL_TYPEASSOCIATERQ)
        return NET_GATE_REFUSE;
    if (n < 6)
        return NET_GATE_MORE;
    return n - 6 >= be32(b + 2) ? NET_GATE_READY : NET_GATE_MORE;
}


} // namespace

struct Acceptor::Impl {
    accept_opts o;
    Serve serve;
    T_ASC_Network *net = nullptr;
    std::vector<std::thread> threads;
    std::atomic<bool> stop{ false };
    std::atomic<unsigned> running{ 0 }, active{ 0 };
    std::atomic<unsigned> receiving{ 0 }; // threads receiving an association now
    accept_stats st;
    net_gate *gate_ = nullptr;
    std::mutex lock; // per_addr, log_ms, quiet, ready
    std::condition_variable ready_cv;
    // connections the gate handed over, with when: one not taken within the
    // association timeout is closed, and the oldest goes when there are more
    // than max_waiting (a flood of ClientHellos stalls the TLS threads)
    std::deque<std::pair<int, int64_t>> ready;
    std::map<std::string, unsigned> per_addr;
    uint64_t log_ms = 0;
    unsigned long quiet = 0; // refusals not logged since log_ms

    // The layer DCMTK asks for each accepted socket: admission by address
    // and the association timeout happen here, before any byte is read.
    struct Gate : DcmTransportLayer {
        Impl *owner = nullptr;
        DcmTransportLayer plain;
        DcmTransportConnection *createConnection(DcmNativeSocketType sock,
                                                 OFBool secure) override
        {
            return owner->admit(sock, secure);
        }
    } gate;

    DcmTransportConnection *admit(int sock, OFBool secure)
    {
        handoff_end(); // DCMTK has read the socket: another thread may hand over its own
        t_dcmtk_owns = true; // from here DCMTK closes it, even when this refuses it
        struct sockaddr_in a;
        socklen_t n = sizeof a;
        char ip[INET_ADDRSTRLEN] = "?";
        if (getpeername(sock, (struct sockaddr *)&a, &n) == 0)
            inet_ntop(AF_INET, &a.sin_addr, ip, sizeof ip);
        {
            std::lock_guard<std::mutex> g(lock);
            unsigned &c = per_addr[ip];
            if (c >= o.per_address) {
                st.per_address++;
                refusal_log(ip, "more connections from this address than max-per-address");
                return nullptr; // DCMTK closes the socket
            }
            c++;
        }
        t_adm.yes = true;
        t_adm.fd = sock;
        t_adm.addr = ip;
        DcmTransportLayer *l = o.tls && secure ? o.tls : &gate.plain;
        DcmTransportConnection *c = l->createConnection(sock, secure);
        // after the connection is made: its constructor sets DCMTK's own
        // socket timeouts (dcmSocketReceiveTimeout, 60 s). A TLS handshake
        // is done here, in the thread: while more than half the threads are
        // in one, each gets the stress timeout (a host that sends a
        // ClientHello and stops holds a thread seconds, not minutes).
        unsigned t = timeout_s();
        set_timeouts(sock, t, t);
        return c;
    }

    void release()
    {
        if (!t_adm.yes)
            return;
        std::lock_guard<std::mutex> g(lock);
        auto it = per_addr.find(t_adm.addr);
        if (it != per_addr.end() && --it->second == 0)
            per_addr.erase(it);
        t_adm.yes = false;
    }

    // Refusals are logged at most once a second, with the count in between:
    // a flood of connections must not become a flood of lines.
    void refusal_log(const char *ip, const char *why)
    {
        uint64_t now = rl_now_us() / 1000;
        if (now - log_ms < RL_REPEATED_ERROR_LOG_MS) {
            quiet++;
            return;
        }
        log_warn("dicom.refused", "listener=%s address=%s reason=\"%s\" repeated=%lu",
                 o.name.c_str(), ip, why, quiet);
        log_ms = now;
        quiet = 0;
    }

    void refusal_log_locked(const char *ip, const char *why)
    {
        std::lock_guard<std::mutex> g(lock);
        refusal_log(ip, why);
    }

    void drop(T_ASC_Association *assoc, OFCondition why)
    {
        if (!assoc)
            return;
        if (why == DUL_NOASSOCIATIONREQUEST) {
            ASC_destroyAssociation(&assoc);
            return;
        }
        ASC_dropAssociation(assoc);
        ASC_destroyAssociation(&assoc);
    }

    // Seconds for a handshake and association request: the stress timeout
    // while more than half the threads are receiving one.
    unsigned timeout_s() const
    {
        return receiving * 2 > o.max_active ? std::min(o.stress_timeout_s, o.assoc_timeout_s)
                                            : o.assoc_timeout_s;
    }

    // The gate's thread: a connection whose first message is complete.
    static void take(void *ctx, int fd, const net_addr *)
    {
        Impl *im = static_cast<Impl *>(ctx);
        int old = -1;
        {
            std::lock_guard<std::mutex> g(im->lock);
            if (im->ready.size() >= im->o.max_waiting) {
                old = im->ready.front().first;
                im->ready.pop_front();
                im->st.failed++;
            }
            im->ready.emplace_back(fd, rl_mono_ms());
        }
        if (old >= 0)
            close(old);
        im->ready_cv.notify_one();
    }

    // The next connection the gate handed over; -1 when stopping. Those
    // that waited in the queue past their time are closed.
    int next_ready()
    {
        std::unique_lock<std::mutex> g(lock);
        for (;;) {
            while (ready.empty() && !stop)
                ready_cv.wait_for(g, std::chrono::seconds(1));
            if (stop || ready.empty())
                return -1;
            auto [fd, since] = ready.front();
            ready.pop_front();
            unsigned t = timeout_s();
            if (rl_mono_ms() - since <= int64_t(t) * 1000)
                return fd;
            st.failed++;
            close(fd);
        }
    }

    // DCMTK receives the association on fd (its request is in the socket
    // already; over TLS the handshake happens here, bounded by the timeout).
    OFCondition receive(int fd, T_ASC_Association **assoc, bool secure)
    {
        // undone on every way out, an exception's included
        struct Guard {
            std::atomic<unsigned> &n;
            explicit Guard(std::atomic<unsigned> &r) : n(r) { n++; }
            ~Guard()
            {
                handoff_end(); // when DCMTK failed before asking for the connection
                n--;
            }
        } guard(receiving);
        t_dcmtk_owns = false;
        handoff.lock();
        t_handing = true;
        dcmExternalSocketHandle.set(fd);
        return ASC_receiveAssociation(net, assoc, long(o.max_pdu), nullptr, nullptr,
                                      OFBool(secure), DUL_NOBLOCK, 1);
    }

    void loop()
    {
        bool secure = o.tls != nullptr;
        for (;;) {
            int fd = next_ready();
            if (fd < 0)
                break;
            T_ASC_Association *assoc = nullptr;
            t_adm.yes = false;
            OFCondition c = receive(fd, &assoc, secure);
            if (c.bad()) {
                if (t_adm.yes) {
                    st.failed++;
                    std::string why = secure ? std::string("TLS handshake or association "
                                                           "request failed: ") +
                                                   c.text()
                                             : std::string("association request failed: ") +
                                                   c.text();
                    refusal_log_locked(t_adm.addr.c_str(), why.c_str());
                    if (secure && o.on_tls_failed)
                        o.on_tls_failed(t_adm.addr.c_str(), why.c_str());
                } else if (!t_dcmtk_owns) {
                    close(fd); // DCMTK failed before it made the socket its own
                }
                drop(assoc, c);
                release();
                continue;
            }
            // from now on DCMTK's socket timeouts, and the DIMSE timeout
            set_timeouts(t_adm.fd, dcmSocketReceiveTimeout.get(), dcmSocketSendTimeout.get());
            if (++active > o.max_active) {
                st.busy++;
                refusal_log_locked(t_adm.addr.c_str(), "max-associations reached");
                T_ASC_RejectParameters rej = { ASC_RESULT_REJECTEDTRANSIENT,
                                               ASC_SOURCE_SERVICEPROVIDER_PRESENTATION_RELATED,
                                               ASC_REASON_SP_PRES_LOCALLIMITEXCEEDED };
                ASC_rejectAssociation(assoc, &rej);
                drop(assoc, EC_Normal);
            } else {
                serve(assoc);
            }
            active--;
            release();
        }
        running--;
    }

    // plain text (or anything but a handshake) on the TLS port: the TLS
    // failure's security alert, as when DCMTK's handshake failed on it
    static void not_tls(void *ctx, const char *ip)
    {
        Impl *im = static_cast<Impl *>(ctx);
        if (im->o.on_tls_failed)
            im->o.on_tls_failed(ip, "TLS handshake failed: the first bytes are not a TLS "
                                    "handshake");
    }

    static void denied(void *ctx, const char *ip)
    {
        Impl *im = static_cast<Impl *>(ctx);
        if (im->o.on_denied)
            im->o.on_denied(ip);
    }
};

Acceptor::Acceptor(Impl *i) : impl_(i) {}

int bind_socket(const std::string &bind, unsigned port, std::string &why)
{
    struct sockaddr_in a;
    std::memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(port));
    if (bind.empty() || bind == "*") {
        a.sin_addr.s_addr = htonl(INADDR_ANY);
    } else {
        struct addrinfo hints, *res = nullptr;
        std::memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_INET;
        hints.ai_socktype = SOCK_STREAM;
        int rc = getaddrinfo(bind.c_str(), nullptr, &hints, &res);
        if (rc != 0 || !res) {
            why = "bind address " + bind + ": " + (rc ? gai_strerror(rc) : "no IPv4 address") +
                  " (the DICOM listener binds IPv4 addresses)";
            return -1;
        }
        a.sin_addr = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
        freeaddrinfo(res);
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        ::bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, RL_NET_LISTEN_BACKLOG) != 0 ||
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
        why = std::string(std::strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

std::unique_ptr<Acceptor> Acceptor::start(const accept_opts &o, Serve serve, std::string &why)
{
    std::unique_ptr<Impl> im(new Impl);
    im->o = o;
    im->serve = std::move(serve);
    im->gate.owner = im.get();
    // no reverse DNS for peers: a slow resolver would stall every accept
    dcmDisableGethostbyaddr.set(OFTrue);

    int fd = o.fd > 0 ? o.fd : bind_socket(o.bind, o.port, why);
    if (fd < 0)
        return nullptr;
    // DCMTK's network key, made without a socket of its own (requestor),
    // then made an acceptor that takes the sockets the gate hands over
    // (dulstruc.h is DCMTK's public description of it); the listening
    // socket is the gate's.
    OFCondition c = ASC_initializeNetwork(NET_REQUESTOR, 0, int(o.assoc_timeout_s), &im->net);
    if (c.bad()) {
        close(fd);
        why = c.text();
        return nullptr;
    }
    auto *key = reinterpret_cast<PRIVATE_NETWORKKEY *>(im->net->network);
    key->applicationFunction |= DICOM_APPLICATION_ACCEPTOR;
    key->networkSpecific.TCP.listenSocket = -1;
    key->networkSpecific.TCP.port = int(o.port);
    im->net->role = NET_ACCEPTOR;
    im->net->acceptorPort = int(o.port);
    c = ASC_setTransportLayer(im->net, &im->gate, 0);
    if (c.bad()) {
        close(fd);
        ASC_dropNetwork(&im->net);
        why = c.text();
        return nullptr;
    }
    net_gate_opts go = {};
    go.name = o.name.c_str();
    go.listen_fd = fd;
    go.max_waiting = o.max_waiting;
    go.max_per_address = o.per_address;
    go.timeout_ms = o.assoc_timeout_s * 1000;
    go.stress_timeout_ms = o.stress_timeout_s * 1000;
    go.allow = o.allow;
    go.look = o.tls ? net_gate_look_tls : look_plain;
    go.take = Impl::take;
    go.denied = Impl::denied;
    go.refused = o.tls ? Impl::not_tls : nullptr;
    go.ctx = im.get();
    im->o.allow = nullptr;
    // every association has its thread, and one more answers "busy"
    unsigned n = o.max_active + 1;
    im->running = n;
    Impl *p = im.get();
    for (unsigned i = 0; i < n; i++)
        im->threads.emplace_back([p] { p->loop(); });
    rl_err err;
    if (net_gate_start(&go, &im->gate_, &err) != 0) { // closes fd on failure
        why = err.msg;
        im->stop = true;
        im->ready_cv.notify_all();
        for (auto &t : im->threads)
            t.join();
        ASC_dropNetwork(&im->net);
        return nullptr;
    }
    return std::unique_ptr<Acceptor>(new Acceptor(im.release()));
}

Acceptor::~Acceptor()
{
    net_gate_free(impl_->gate_); // no more handed over, the waiting ones closed
    impl_->gate_ = nullptr;
    impl_->stop = true;
    impl_->ready_cv.notify_all();
    for (auto &t : impl_->threads)
        if (t.joinable())
            t.join();
    for (auto &r : impl_->ready)
        close(r.first);
    if (impl_->net)
        ASC_dropNetwork(&impl_->net);
}

void Acceptor::stop_accepting()
{
    impl_->stop = true;
    impl_->ready_cv.notify_all();
}

net_gate_stats Acceptor::gate_stats() const
{
    net_gate_stats st = {};
    if (impl_->gate_)
        net_gate_stats_get(impl_->gate_, &st);
    return st;
}

bool Acceptor::stopped() const
{
    return impl_->running == 0;
}

const accept_stats &Acceptor::stats() const
{
    return impl_->st;
}

unsigned Acceptor::port() const
{
    return impl_->o.port;
}

} // namespace rl_dicom
