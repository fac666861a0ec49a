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

#include <cerrno>
#include <cstring>
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

void set_timeouts(int fd, long receive_s, long send_s)
{
    struct timeval r = { time_t(receive_s > 0 ? receive_s : 0), 0 },
                   w = { time_t(send_s > 0 ? send_s : 0), 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &r, sizeof r);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &w, sizeof w);
}

} // namespace

struct Acceptor::Impl {
    accept_opts o;
    Serve serve;
    T_ASC_Network *net = nullptr;
    std::vector<std::thread> threads;
    std::atomic<bool> stop{ false };
    std::atomic<unsigned> running{ 0 }, active{ 0 };
    accept_stats st;
    std::mutex lock; // per_addr, log_ms, quiet
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
        // socket timeouts (dcmSocketReceiveTimeout, 60 s)
        set_timeouts(sock, o.assoc_timeout_s, o.assoc_timeout_s);
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

    void loop()
    {
        bool secure = o.tls != nullptr;
        while (!stop) {
            T_ASC_Association *assoc = nullptr;
            t_adm.yes = false;
            // waits up to a second for a connection (then looks at stop);
            // the socket is non-blocking, so a thread that loses the race
            // for a connection gets an error here and goes round again
            OFCondition c = ASC_receiveAssociation(net, &assoc, long(o.max_pdu), nullptr, nullptr,
                                                   OFBool(secure), DUL_NOBLOCK, 1);
            if (c.bad()) {
                if (t_adm.yes) {
                    st.failed++;
                    std::string why = secure ? std::string("TLS handshake or association "
                                                           "request failed: ") +
                                                   c.text()
                                             : std::string("no association request: ") +
                                                   c.text();
                    refusal_log_locked(t_adm.addr.c_str(), why.c_str());
                    if (secure && o.on_tls_failed)
                        o.on_tls_failed(t_adm.addr.c_str(), why.c_str());
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
        ::bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 64) != 0 ||
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
    // then given ours: dulstruc.h is DCMTK's public description of it.
    OFCondition c = ASC_initializeNetwork(NET_REQUESTOR, 0, int(o.assoc_timeout_s), &im->net);
    if (c.bad()) {
        close(fd);
        why = c.text();
        return nullptr;
    }
    auto *key = reinterpret_cast<PRIVATE_NETWORKKEY *>(im->net->network);
    key->applicationFunction |= DICOM_APPLICATION_ACCEPTOR;
    key->networkSpecific.TCP.listenSocket = fd;
    key->networkSpecific.TCP.port = int(o.port);
    im->net->role = NET_ACCEPTOR;
    im->net->acceptorPort = int(o.port);
    c = ASC_setTransportLayer(im->net, &im->gate, 0);
    if (c.bad()) {
        ASC_dropNetwork(&im->net); // closes fd
        why = c.text();
        return nullptr;
    }
    // every association has its thread, and one more answers "busy"
    unsigned n = o.max_active + 1;
    im->running = n;
    Impl *p = im.get();
    for (unsigned i = 0; i < n; i++)
        im->threads.emplace_back([p] { p->loop(); });
    return std::unique_ptr<Acceptor>(new Acceptor(im.release()));
}

Acceptor::~Acceptor()
{
    impl_->stop = true;
    for (auto &t : impl_->threads)
        if (t.joinable())
            t.join();
    if (impl_->net)
        ASC_dropNetwork(&impl_->net);
}

void Acceptor::stop_accepting()
{
    impl_->stop = true;
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
