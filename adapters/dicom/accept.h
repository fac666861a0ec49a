// The DICOM listener's accepting side: the network layer's gate accepts
// every connection at once and holds it, costing no thread, until its
// A-ASSOCIATE-RQ (or, over TLS, its ClientHello) is complete in the socket;
// only then does a thread take it, so silent connections hold no thread and
// a modality's association is served at once. The gate closes connections
// allow-from does not allow, evicts the oldest silent one when full, and
// shortens the wait under pressure (radlink/net.h, net_gate).
//
// DCMTK 3.6.7's DcmSCPPool accepts in one thread and reads each association
// request there (30 s per silent connection, every other peer waiting). Here
// a thread hands the connection the gate gave it to DCMTK's own
// ASC_receiveAssociation as DCMTK's "external socket" (dcmExternalSocketHandle,
// meant for a process that inherits its socket): a global, so one thread at
// a time sets it, and lets go as soon as DCMTK has read it (in the transport
// layer's createConnection); the association is then received and served in
// that thread.
#ifndef RADLINK_DICOM_ACCEPT_H
#define RADLINK_DICOM_ACCEPT_H

#include <atomic>
#include <functional>
#include <memory>
#include <string>

extern "C" {
#include "radlink/net.h"
}

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmnet/assoc.h"
#include "dcmtk/dcmnet/dcmlayer.h"

namespace rl_dicom {

struct accept_opts {
    std::string name;  // in the log: "dicom", "dicom-tls"
    std::string bind;  // "" = every address; IPv4 (DCMTK 3.6.7 accepts IPv4 only)
    unsigned port = 0;
    DcmTransportLayer *tls = nullptr; // not owned; NULL = plain TCP
    unsigned max_active = 16;         // associations served at once; more are refused
    unsigned per_address = 8;         // connections from one address at once
    unsigned assoc_timeout_s = 10;    // handshake + association request
    unsigned stress_timeout_s = 2;    // the same while over half of max_waiting wait
    unsigned max_waiting = 512;       // connections held before their association request
    const cidr_list *allow = nullptr; // allow-from (copied); NULL: every address
    unsigned long max_pdu = 16384;
    int fd = -1; // > 0: a socket bind_socket bound already (serve --user)
    // a TLS handshake that failed (address, reason): the audit trail's
    // security alert; called from the accepting thread
    std::function<void(const char *, const char *)> on_tls_failed;
    // a connection allow-from refused (address), once per address a minute:
    // a security alert; called from the gate's thread
    std::function<void(const char *)> on_denied;
};

// Bind and listen on bind:port (IPv4; "" or "*" every address), non-blocking
// as the accepting threads need it. -1 with why set.
int bind_socket(const std::string &bind, unsigned port, std::string &why);

struct accept_stats {
    std::atomic<unsigned long> busy{ 0 };        // refused: max_active reached
    std::atomic<unsigned long> per_address{ 0 }; // refused: too many from one address
    std::atomic<unsigned long> failed{ 0 };      // handshake or request failed or timed out
};

class Acceptor {
public:
    // Serves one received association in the calling thread, and disposes
    // of it (DcmSCP drops and destroys it).
    using Serve = std::function<void(T_ASC_Association *)>;

    // Binds and starts accepting; NULL with why set when it cannot.
    static std::unique_ptr<Acceptor> start(const accept_opts &o, Serve serve, std::string &why);
    ~Acceptor(); // stops accepting and waits for the running associations

    void stop_accepting();
    bool stopped() const; // every thread has ended
    const accept_stats &stats() const;
    net_gate_stats gate_stats() const;
    unsigned port() const;

    struct Impl;

private:
    explicit Acceptor(Impl *i);
    std::unique_ptr<Impl> impl_;
};

} // namespace rl_dicom

#endif
