// DICOM over TLS: DCMTK's DcmTLSTransportLayer set up the one way radlink
// uses it. The profile is BCP 195 non-downgrading (PS3.15 B.9): TLS 1.2 or
// newer, AES-GCM with ECDHE or DHE; no fallback to the retired profiles.
#include "tls.h"

#include <sys/stat.h>

#include <map>
#include <mutex>

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace rl_dicom {

namespace {

bool fail(std::string &why, const char *what, const char *file, const OFCondition &c)
{
    why = std::string(what) + " " + file + ": " + c.text();
    return false;
}

std::string openssl_error()
{
    unsigned long e = ERR_get_error();
    char b[256] = "cannot be read";
    if (e)
        ERR_error_string_n(e, b, sizeof b);
    ERR_clear_error();
    return b;
}

} // namespace

std::unique_ptr<DcmTLSTransportLayer> tls_layer(bool acceptor, const dicom_tls &t,
                                                std::string &why)
{
    std::unique_ptr<DcmTLSTransportLayer> l(
        new DcmTLSTransportLayer(acceptor ? NET_ACCEPTOR : NET_REQUESTOR, nullptr, OFTrue));
    if (!*l) {
        why = "cannot set up TLS (OpenSSL)";
        return nullptr;
    }
    OFCondition c = l->setTLSProfile(TSP_Profile_BCP195_ND);
    if (c.good())
        c = l->activateCipherSuites();
    if (c.bad()) {
        why = std::string("TLS profile: ") + c.text();
        return nullptr;
    }
    // the profile says TLS 1.2; say it to OpenSSL too, whatever DCMTK's
    // defaults become
    SSL_CTX_set_min_proto_version(l->getNativeHandle(), TLS1_2_VERSION);
    if (t.cert[0] || acceptor) {
        // OpenSSL reads the certificate with the chain after it (a site's
        // intermediate CAs); DCMTK's setCertificateFile reads one
        // certificate only, and 3.6.7's leaks the key of a non-RSA one
        if (SSL_CTX_use_certificate_chain_file(l->getNativeHandle(), t.cert) != 1) {
            why = std::string("certificate ") + t.cert + ": " + openssl_error();
            return nullptr;
        }
        c = l->setPrivateKeyFile(t.key, DCF_Filetype_PEM);
        if (c.bad() && !fail(why, "key", t.key, c))
            return nullptr;
        if (!l->checkPrivateKeyMatchesCertificate()) {
            why = std::string("key ") + t.key + " does not match certificate " + t.cert;
            return nullptr;
        }
    }
    if (t.ca[0]) {
        c = l->addTrustedCertificateFile(t.ca, DCF_Filetype_PEM);
        if (c.bad() && !fail(why, "CA", t.ca, c))
            return nullptr;
    } else if (!acceptor) {
        SSL_CTX_set_default_verify_paths(l->getNativeHandle());
    }
    if (acceptor)
        l->setCertificateVerification(t.verify_peer ? DCV_requireCertificate
                                      : t.ca[0]     ? DCV_checkCertificate
                                                    : DCV_ignoreCertificate);
    else
        l->setCertificateVerification(DCV_requireCertificate);
    return l;
}

DcmTLSTransportLayer *tls_client_layer(const dicom_tls &t, std::string &why)
{
    static std::mutex lock;
    static std::map<std::string, std::unique_ptr<DcmTLSTransportLayer>> made;
    // a file replaced (a renewed certificate) makes a new layer
    std::string key;
    for (const char *f : { t.ca, t.cert, t.key }) {
        struct stat st;
        key += f;
        if (f[0] && stat(f, &st) == 0)
            key += ' ' + std::to_string(st.st_mtim.tv_sec) + '.' +
                   std::to_string(st.st_mtim.tv_nsec) + ' ' + std::to_string(st.st_ino);
        key += '\n';
    }
    std::lock_guard<std::mutex> g(lock);
    auto it = made.find(key);
    if (it != made.end())
        return it->second.get();
    std::unique_ptr<DcmTLSTransportLayer> l = tls_layer(false, t, why);
    if (!l)
        return nullptr;
    DcmTLSTransportLayer *p = l.get();
    made[key] = std::move(l);
    return p;
}

} // namespace rl_dicom
