#include "idl/service/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/ssl.h>

#include <optional>

namespace idl::http {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

struct Client::Impl
{
    std::string host;
    std::string port;
    std::chrono::milliseconds timeout;
    bool tls = false;
    std::string caFile;
    asio::io_context io;
    std::optional<ssl::context> sslCtx;
    std::optional<beast::tcp_stream> plain;
    std::optional<ssl::stream<beast::tcp_stream>> secure;
    beast::flat_buffer buffer;
    int connects = 0;

    bool open() const { return plain || secure; }
    beast::tcp_stream &lowest() { return secure ? secure->next_layer() : *plain; }

    Result<void> connect()
    {
        beast::error_code ec;
        tcp::resolver resolver(io);
        const auto endpoints = resolver.resolve(host, port, ec);
        if (ec)
            return makeError(ErrorCode::Unavailable, "resolve " + host + ": " + ec.message());
        if (tls) {
            if (!sslCtx) {
                sslCtx.emplace(ssl::context::tls_client);
                sslCtx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                                    ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                                    ssl::context::no_tlsv1_1);
                if (caFile.empty())
                    sslCtx->set_default_verify_paths(ec);
                else
                    sslCtx->load_verify_file(caFile, ec);
                if (ec)
                    return makeError(ErrorCode::Unavailable, "TLS trust store: " + ec.message());
                sslCtx->set_verify_mode(ssl::verify_peer);
            }
            secure.emplace(io, *sslCtx);
            secure->set_verify_callback(ssl::host_name_verification(host));
            // SNI: the server may serve several names.
            if (!SSL_set_tlsext_host_name(secure->native_handle(), host.c_str()))
                return makeError(ErrorCode::Unavailable, "TLS: cannot set the server name");
        } else {
            plain.emplace(io);
        }
        beast::tcp_stream &s = lowest();
        s.expires_after(timeout);
        s.connect(endpoints, ec);
        if (!ec)
            s.socket().set_option(tcp::no_delay(true), ec);
        if (!ec && secure)
            secure->handshake(ssl::stream_base::client, ec);
        if (ec) {
            close();
            return makeError(ec == beast::error::timeout ? ErrorCode::Timeout
                                                         : ErrorCode::Unavailable,
                             "connect " + host + ":" + port + ": " + ec.message());
        }
        buffer.clear();
        ++connects;
        return {};
    }

    void close()
    {
        if (open()) {
            beast::error_code ec;
            lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
            lowest().socket().close(ec);
        }
        secure.reset();
        plain.reset();
    }

    template <typename F> void withStream(F &&f)
    {
        if (secure)
            f(*secure);
        else
            f(*plain);
    }
};

Client::Client(std::string host, std::string port, std::chrono::milliseconds timeout, bool tls,
               std::string caFile)
    : d(std::make_unique<Impl>())
{
    d->host = std::move(host);
    d->port = std::move(port);
    d->timeout = timeout;
    d->tls = tls;
    d->caFile = std::move(caFile);
}

Client::Client(Client &&) noexcept = default;
Client &Client::operator=(Client &&) noexcept = default;

Client::~Client()
{
    if (d)
        d->close();
}

int Client::connects() const
{
    return d->connects;
}

Result<ClientReply> Client::post(std::string_view target, std::string_view contentType,
                                 std::string_view authorization, std::string body,
                                 std::span<const Header> headers)
{
    if (!d->open())
        if (auto r = d->connect(); !r)
            return r.error();
    bhttp::request<bhttp::string_body> req{bhttp::verb::post,
                                           beast::string_view(target.data(), target.size()), 11};
    req.set(bhttp::field::host, d->host);
    req.set(bhttp::field::content_type, beast::string_view(contentType.data(), contentType.size()));
    if (!authorization.empty())
        req.set(bhttp::field::authorization,
                beast::string_view(authorization.data(), authorization.size()));
    for (const auto &[name, value] : headers)
        req.set(beast::string_view(name.data(), name.size()),
                beast::string_view(value.data(), value.size()));
    req.keep_alive(true);
    req.body() = std::move(body);
    req.prepare_payload();

    beast::error_code ec;
    d->lowest().expires_after(d->timeout);
    d->withStream([&](auto &s) { bhttp::write(s, req, ec); });
    if (ec) {
        d->close();
        return makeError(ErrorCode::Unavailable, "write: " + ec.message());
    }
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(16 * 1024 * 1024);
    d->withStream([&](auto &s) { bhttp::read(s, d->buffer, parser, ec); });
    if (ec) {
        d->close();
        return makeError(ec == beast::error::timeout ? ErrorCode::Timeout : ErrorCode::Unavailable,
                         "read: " + ec.message());
    }
    auto res = parser.release();
    ClientReply reply;
    reply.status = static_cast<int>(res.result_int());
    if (auto it = res.find(bhttp::field::retry_after); it != res.end())
        reply.retryAfter = std::string(it->value());
    reply.body = std::move(res.body());
    if (!res.keep_alive())
        d->close();
    return reply;
}

Result<Url> parseUrl(std::string_view url)
{
    Url u;
    constexpr std::string_view http = "http://", https = "https://";
    if (url.substr(0, http.size()) == http) {
        url.remove_prefix(http.size());
    } else if (url.substr(0, https.size()) == https) {
        url.remove_prefix(https.size());
        u.tls = true;
    } else {
        return makeError(ErrorCode::BadField, "URL must start with http:// or https://");
    }
    const auto slash = url.find_first_of("/?");
    std::string_view authority = url.substr(0, slash);
    u.target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
    if (u.target.front() == '?')
        u.target.insert(0, "/");
    if (authority.find('@') != std::string_view::npos)
        return makeError(ErrorCode::BadField, "URL must not carry credentials before the host");
    const auto colon = authority.rfind(':');
    const bool bracketed = !authority.empty() && authority.front() == '[';
    if (colon == std::string_view::npos || (bracketed && authority.back() == ']')) {
        u.host = std::string(authority);
        u.port = u.tls ? "443" : "80";
    } else {
        u.host = std::string(authority.substr(0, colon));
        u.port = std::string(authority.substr(colon + 1));
    }
    if (bracketed && u.host.size() > 2 && u.host.back() == ']')
        u.host = u.host.substr(1, u.host.size() - 2);
    if (u.host.empty() || u.port.empty() ||
        u.port.find_first_not_of("0123456789") != std::string::npos || u.port.size() > 5)
        return makeError(ErrorCode::BadField, "URL needs a host and a numeric port");
    for (char c : u.target) {
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
            return makeError(ErrorCode::BadField, "URL path must not contain spaces or controls");
    }
    return u;
}

} // namespace idl::http
