#include "idl/service/tls.h"

#include <boost/asio/ssl.hpp>

#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace idl::http {

namespace ssl = boost::asio::ssl;

Result<std::unique_ptr<ssl::context>> makeServerTlsContext(const TlsServerSettings &o)
{
    try {
        auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
        ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                         ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                         ssl::context::no_tlsv1_1);
        ctx->use_certificate_chain_file(o.certFile);
        ctx->use_private_key_file(o.keyFile, ssl::context::pem);
        if (!o.clientCaFile.empty()) {
            ctx->load_verify_file(o.clientCaFile);
            ctx->set_verify_mode(ssl::verify_peer |
                                 (o.requireClientCert ? ssl::verify_fail_if_no_peer_cert : 0));
        }
        // Sessions resume only within the context they were made in; OpenSSL refuses (aborts
        // the handshake) every resumption while client certificates are verified and no
        // context is set.
        const std::string sid = o.sessionIdContext.substr(0, SSL_MAX_SID_CTX_LENGTH);
        SSL_CTX_set_session_id_context(ctx->native_handle(),
                                       reinterpret_cast<const unsigned char *>(sid.data()),
                                       static_cast<unsigned int>(sid.size()));
        return ctx;
    } catch (const std::exception &e) {
        return makeError(ErrorCode::Unavailable, std::string("TLS setup failed: ") + e.what());
    }
}

std::optional<PeerCertificate> verifiedPeerCertificate(SSL *ssl)
{
    if (!ssl || SSL_get_verify_result(ssl) != X509_V_OK)
        return std::nullopt;
    X509 *cert = SSL_get1_peer_certificate(ssl);
    if (!cert)
        return std::nullopt;
    PeerCertificate pc;
    X509_NAME *name = X509_get_subject_name(cert);
    if (BIO *bio = BIO_new(BIO_s_mem())) {
        X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
        char *data = nullptr;
        const long len = BIO_get_mem_data(bio, &data);
        pc.subject.assign(data, static_cast<size_t>(len));
        BIO_free(bio);
    }
    char cn[256] = {};
    const int n = X509_NAME_get_text_by_NID(name, NID_commonName, cn, sizeof cn);
    if (n > 0)
        pc.commonName.assign(cn, static_cast<size_t>(n));
    X509_free(cert);
    return pc;
}

} // namespace idl::http
