#pragma once

#include "idl/core/result.h"

#include <QString>

namespace idl::stack {

// Makes a self-signed TLS server certificate for localhost (CN=localhost, SAN DNS:localhost
// and IP:127.0.0.1, P-256 key, 10 years) at certFile / keyFile (key readable by the owner
// only) unless both exist: the certificate of the stack's syslog TLS listener, which a client
// trusts as its own CA.
Result<void> ensureSelfSignedCertificate(const QString &certFile, const QString &keyFile);

} // namespace idl::stack
