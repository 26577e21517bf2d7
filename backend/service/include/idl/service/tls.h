#pragma once

#include "idl/core/result.h"
#include "idl/service/http_server.h"

#include <memory>
#include <optional>
#include <string>

typedef struct ssl_st SSL;

namespace boost::asio::ssl {
class context;
}

// The one TLS server set-up of every listener (the HTTP server, the collector's syslog over
// TLS): protocol floor, certificate chain and key, optional client certificate verification
// (mTLS), session id context; and the identity of a verified client certificate.
namespace idl::http {

struct TlsServerSettings
{
    std::string certFile;     // PEM certificate chain
    std::string keyFile;      // PEM private key
    std::string clientCaFile; // PEM CA bundle: request and verify client certificates
    bool requireClientCert = false;
    std::string sessionIdContext = "instant-dev-logs"; // sessions resume only within it
};

// A TLS 1.2+ server context. Unavailable (with the reason) when a file cannot be loaded.
Result<std::unique_ptr<boost::asio::ssl::context>>
makeServerTlsContext(const TlsServerSettings &settings);

// The client certificate of a TLS connection, when one was presented and verified against
// the configured CA.
std::optional<PeerCertificate> verifiedPeerCertificate(SSL *ssl);

} // namespace idl::http
