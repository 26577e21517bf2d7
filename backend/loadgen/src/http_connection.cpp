#include "idl/loadgen/http_connection.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <optional>

namespace idl::loadgen {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct HttpConnection::Impl
{
    std::string host;
    std::string port;
    std::chrono::milliseconds timeout;
    asio::io_context io;
    std::optional<beast::tcp_stream> stream;
    beast::flat_buffer buffer;
    int connects = 0;

    Result<void> connect()
    {
        beast::error_code ec;
        tcp::resolver resolver(io);
        const auto endpoints = resolver.resolve(host, port, ec);
        if (ec)
            return makeError(ErrorCode::Unavailable, "resolve " + host + ": " + ec.message());
        stream.emplace(io);
        stream->expires_after(timeout);
        stream->connect(endpoints, ec);
        if (ec) {
            stream.reset();
            return makeError(ErrorCode::Unavailable,
                             "connect " + host + ":" + port + ": " + ec.message());
        }
        stream->socket().set_option(tcp::no_delay(true), ec);
        buffer.clear();
        ++connects;
        return {};
    }

    void close()
    {
        if (stream) {
            beast::error_code ec;
            stream->socket().shutdown(tcp::socket::shutdown_both, ec);
            stream->socket().close(ec);
            stream.reset();
        }
    }
};

HttpConnection::HttpConnection(std::string host, std::string port,
                               std::chrono::milliseconds timeout)
    : d(std::make_unique<Impl>())
{
    d->host = std::move(host);
    d->port = std::move(port);
    d->timeout = timeout;
}

HttpConnection::HttpConnection(HttpConnection &&) noexcept = default;
HttpConnection &HttpConnection::operator=(HttpConnection &&) noexcept = default;

HttpConnection::~HttpConnection()
{
    if (d)
        d->close();
}

int HttpConnection::connects() const
{
    return d->connects;
}

Result<HttpReply> HttpConnection::post(std::string_view target, std::string_view contentType,
                                       std::string_view authorization, std::string body)
{
    if (!d->stream)
        if (auto r = d->connect(); !r)
            return r.error();
    http::request<http::string_body> req{http::verb::post,
                                         beast::string_view(target.data(), target.size()), 11};
    req.set(http::field::host, d->host);
    req.set(http::field::content_type, beast::string_view(contentType.data(), contentType.size()));
    if (!authorization.empty())
        req.set(http::field::authorization,
                beast::string_view(authorization.data(), authorization.size()));
    req.keep_alive(true);
    req.body() = std::move(body);
    req.prepare_payload();

    beast::error_code ec;
    d->stream->expires_after(d->timeout);
    http::write(*d->stream, req, ec);
    if (ec) {
        d->close();
        return makeError(ErrorCode::Unavailable, "write: " + ec.message());
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(16 * 1024 * 1024);
    http::read(*d->stream, d->buffer, parser, ec);
    if (ec) {
        d->close();
        return makeError(ec == beast::error::timeout ? ErrorCode::Timeout : ErrorCode::Unavailable,
                         "read: " + ec.message());
    }
    auto res = parser.release();
    HttpReply reply;
    reply.status = static_cast<int>(res.result_int());
    if (auto it = res.find(http::field::retry_after); it != res.end())
        reply.retryAfter = std::string(it->value());
    reply.body = std::move(res.body());
    if (!res.keep_alive())
        d->close();
    return reply;
}

bool splitHttpUrl(std::string_view url, std::string &host, std::string &port)
{
    constexpr std::string_view scheme = "http://";
    if (url.substr(0, scheme.size()) != scheme)
        return false;
    url.remove_prefix(scheme.size());
    url = url.substr(0, url.find('/'));
    const auto colon = url.rfind(':');
    if (colon == std::string_view::npos) {
        host = std::string(url);
        port = "80";
    } else {
        host = std::string(url.substr(0, colon));
        port = std::string(url.substr(colon + 1));
    }
    return !host.empty() && !port.empty();
}

} // namespace idl::loadgen
