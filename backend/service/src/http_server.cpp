#include "idl/service/http_server.h"

#include "idl/service/tls.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <atomic>
#include <limits>
#include <mutex>
#include <thread>
#include <unordered_set>

namespace idl::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

std::string_view Request::header(std::string_view lowerName) const
{
    for (const auto &[k, v] : headers)
        if (k == lowerName)
            return v;
    return {};
}

Response errorResponse(int status, std::string_view code, std::string_view message)
{
    Response r;
    r.status = status;
    r.body.reserve(message.size() + code.size() + 40);
    r.body += R"({"error":{"code":")";
    r.body += code;
    r.body += R"(","message":")";
    for (char c : message) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            r.body += '\\';
            r.body += c;
        } else if (u < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", u);
            r.body += buf;
        } else {
            r.body += c;
        }
    }
    r.body += "\"}}";
    return r;
}

namespace {

struct Route
{
    std::string method;
    std::string path;
    Handler handler;
    std::size_t maxBody;
    Gate gate;
};

class SessionBase
{
public:
    virtual ~SessionBase() = default;
    virtual void close() = 0;
};

} // namespace

// Everything the I/O threads touch. Shared by sessions so it outlives the last of them.
struct Core
{
    explicit Core(ServerOptions o) : opt(std::move(o)) {}
    ServerOptions opt;
    std::vector<Route> routes;
    net::io_context ioc;
    std::optional<ssl::context> sslCtx;
    std::mutex sessionsMutex;
    std::unordered_set<SessionBase *> sessions;
    // Set once stop() ended the I/O threads (under sessionsMutex): a Responder or gate that
    // answers later posts nothing to the io_context, where the handler would hold its session,
    // the session this Core, and this Core the io_context, for ever (a reference cycle).
    bool stopped = false;

    // Runs `fn` on a session's executor unless the server stopped (then the answer is
    // dropped: the connection was closed by stop()).
    template <class Executor, class Fn> void post(const Executor &ex, Fn &&fn)
    {
        std::lock_guard lock(sessionsMutex);
        if (!stopped)
            net::post(ex, std::forward<Fn>(fn));
    }
    std::atomic<std::uint64_t> accepted{0}, open{0}, requests{0}, tooLarge{0}, timedOut{0},
        tlsFailures{0};
};

namespace {

// A route path matches a request path segment by segment; a "*" segment matches any one
// non-empty segment ("/*/_bulk" matches "/logs/_bulk", not "/_bulk" or "/a/b/_bulk").
bool pathMatches(std::string_view pattern, std::string_view path)
{
    if (pattern.find('*') == std::string_view::npos)
        return pattern == path;
    while (!pattern.empty() && !path.empty()) {
        const auto pe = pattern.find('/', 1);
        const auto qe = path.find('/', 1);
        const std::string_view p = pattern.substr(0, pe), q = path.substr(0, qe);
        if (p == "/*" ? q.size() < 2 : p != q)
            return false;
        pattern = pe == std::string_view::npos ? std::string_view() : pattern.substr(pe);
        path = qe == std::string_view::npos ? std::string_view() : path.substr(qe);
    }
    return pattern.empty() && path.empty();
}

bool isTimeout(const beast::error_code &ec)
{
    return ec == beast::error::timeout;
}

template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>>
{
public:
    template <class... Args>
    Session(std::shared_ptr<Core> core, Args &&...args)
        : m_core(std::move(core)), m_stream(std::forward<Args>(args)...)
    {
        m_core->open.fetch_add(1);
        std::lock_guard lock(m_core->sessionsMutex);
        m_core->sessions.insert(this);
    }
    ~Session() override
    {
        m_core->open.fetch_sub(1);
        std::lock_guard lock(m_core->sessionsMutex);
        m_core->sessions.erase(this);
    }

    void start()
    {
        net::dispatch(m_stream.get_executor(), [self = this->shared_from_this()] {
            if constexpr (kTls) {
                beast::get_lowest_layer(self->m_stream)
                    .expires_after(self->m_core->opt.readTimeout);
                self->m_stream.async_handshake(
                    ssl::stream_base::server, [self](beast::error_code ec) {
                        if (ec) {
                            self->m_core->tlsFailures.fetch_add(1);
                            return;
                        }
                        self->m_peerCert = verifiedPeerCertificate(self->m_stream.native_handle());
                        self->readHeader();
                    });
            } else {
                self->readHeader();
            }
        });
    }

    // Called from Server::stop() on any thread.
    void close() override
    {
        net::post(m_stream.get_executor(), [weak = this->weak_from_this()] {
            if (auto self = weak.lock()) {
                beast::error_code ec;
                beast::get_lowest_layer(self->m_stream).socket().close(ec);
            }
        });
    }

private:
    static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;
    // The largest read buffer a session keeps (Beast reads 64 KiB at most per call anyway).
    static constexpr std::uint64_t kReadChunk = 64 * 1024;

    const ServerOptions &opt() const { return m_core->opt; }

    void readHeader()
    {
        m_head.reset();
        m_parser.emplace();
        m_parser->header_limit(static_cast<std::uint32_t>(opt().maxHeaderBytes));
        // The route's own limit is applied once the header names the route (onHeader).
        m_parser->body_limit(std::numeric_limits<std::uint64_t>::max());
        beast::get_lowest_layer(m_stream).expires_after(opt().idleTimeout);
        bhttp::async_read_header(m_stream, m_buffer, *m_parser,
                                 [self = this->shared_from_this()](beast::error_code ec, size_t) {
                                     self->onHeader(ec);
                                 });
    }

    void onHeader(beast::error_code ec)
    {
        if (ec) {
            if (isTimeout(ec))
                m_core->timedOut.fetch_add(1);
            if (ec == bhttp::error::header_limit)
                return fail(431, "too_large", "request headers are over the limit");
            if (ec != bhttp::error::end_of_stream && ec != net::error::operation_aborted &&
                ec != net::error::eof && !isTimeout(ec) && ec != net::error::connection_reset)
                return fail(400, "bad_request", "malformed HTTP request");
            return shutdown();
        }
        auto &req = m_parser->get();
        const std::string_view target = req.target();
        const auto q = target.find('?');
        const std::string_view path = target.substr(0, q);
        m_route = nullptr;
        bool pathKnown = false;
        for (const auto &r : m_core->routes) {
            if (!pathMatches(r.path, path))
                continue;
            pathKnown = true;
            if (r.method == req.method_string()) {
                m_route = &r;
                break;
            }
        }
        if (!m_route)
            return pathKnown ? fail(405, "method_not_allowed", "method not allowed on this path")
                             : fail(404, "not_found", "no such endpoint");
        const std::size_t limit = m_route->maxBody ? m_route->maxBody : opt().maxBodyBytes;
        if (const auto len = m_parser->content_length(); len && *len > limit) {
            m_core->tooLarge.fetch_add(1);
            return fail(413, "too_large",
                        "request body is over the limit of " + std::to_string(limit) + " bytes");
        }
        m_parser->body_limit(limit);
        // Beast reads at most the buffer's free capacity per read_some (at least 512 bytes):
        // room for a large body's chunks saves hundreds of reads (and timer re-arms) a request.
        if (const auto len = m_parser->content_length(); len && *len > m_buffer.capacity())
            m_buffer.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(*len, kReadChunk)));
        m_version = req.version();
        if (m_route->gate) {
            m_head.emplace();
            fillRequest(*m_head, req);
            auto once = std::make_shared<std::atomic<bool>>(false);
            m_route->gate(*m_head, [self = this->shared_from_this(),
                                    once](std::optional<Response> refusal) {
                if (once->exchange(true))
                    return;
                self->m_core->post(
                    self->m_stream.get_executor(), [self, refusal = std::move(refusal)]() mutable {
                        if (refusal)
                            return self->write(std::move(*refusal), false); // body unread
                        self->proceedToBody();
                    });
            });
            return;
        }
        proceedToBody();
    }

    // The route and size are fine (and the gate, if any, let the request through).
    void proceedToBody()
    {
        auto &req = m_parser->get();
        if (req[bhttp::field::expect] == "100-continue") {
            // Tell the client to go on only once the route and size are known to be fine.
            auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(
                bhttp::status::continue_, req.version());
            bhttp::async_write(
                m_stream, *cont,
                [self = this->shared_from_this(), cont](beast::error_code e, size_t) {
                    if (e)
                        return self->shutdown();
                    self->readBody();
                });
            return;
        }
        readBody();
    }

    void readBody()
    {
        beast::get_lowest_layer(m_stream).expires_after(opt().readTimeout);
        bhttp::async_read(
            m_stream, m_buffer, *m_parser,
            [self = this->shared_from_this()](beast::error_code ec, size_t) { self->onBody(ec); });
    }

    void onBody(beast::error_code ec)
    {
        if (ec == bhttp::error::body_limit) {
            m_core->tooLarge.fetch_add(1);
            return fail(413, "too_large", "request body is over the limit");
        }
        if (isTimeout(ec)) {
            // beast::tcp_stream has already closed the socket: nothing can be answered.
            m_core->timedOut.fetch_add(1);
            return;
        }
        if (ec)
            return ec == net::error::operation_aborted ? void() : shutdown();
        beast::get_lowest_layer(m_stream).expires_never();
        m_core->requests.fetch_add(1);
        auto msg = m_parser->release();
        m_keepAlive = msg.keep_alive();
        m_version = msg.version();
        Request req;
        if (m_head) { // the gate's request, with what it found
            req = std::move(*m_head);
            m_head.reset();
        } else {
            fillRequest(req, msg);
        }
        req.body = std::move(msg.body());

        auto once = std::make_shared<std::atomic<bool>>(false);
        Responder respond = [self = this->shared_from_this(), once](Response resp) {
            if (once->exchange(true))
                return;
            self->m_core->post(self->m_stream.get_executor(),
                               [self, resp = std::move(resp)]() mutable {
                                   self->write(std::move(resp), self->m_keepAlive);
                               });
        };
        try {
            m_route->handler(std::move(req), std::move(respond));
        } catch (const std::exception &e) {
            // A handler bug: answer 500 rather than take the process down.
            fail(500, "internal", "internal error");
        }
    }

    // Everything of a request but its body.
    template <class Message> void fillRequest(Request &req, const Message &msg)
    {
        req.method = std::string(msg.method_string());
        req.target = std::string(msg.target());
        const auto q = req.target.find('?');
        req.path = req.target.substr(0, q);
        if (q != std::string::npos)
            req.query = req.target.substr(q + 1);
        req.headers.reserve(8);
        for (const auto &f : msg) {
            std::string name(f.name_string());
            std::transform(name.begin(), name.end(), name.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            req.headers.emplace_back(std::move(name), std::string(f.value()));
        }
        beast::error_code pec;
        const auto ep = beast::get_lowest_layer(m_stream).socket().remote_endpoint(pec);
        if (!pec)
            req.peerAddress = ep.address().to_string();
        req.clientCertificate = m_peerCert;
    }

    void fail(int status, std::string_view code, std::string_view message)
    {
        write(errorResponse(status, code, message), false);
    }

    void write(Response resp, bool keepAlive)
    {
        auto res = std::make_shared<bhttp::response<bhttp::string_body>>(
            static_cast<bhttp::status>(resp.status), m_version ? m_version : 11);
        res->set(bhttp::field::server, opt().serverName);
        res->set(bhttp::field::content_type, resp.contentType);
        for (auto &[k, v] : resp.headers)
            res->set(k, v);
        res->body() = std::move(resp.body);
        res->keep_alive(keepAlive);
        res->prepare_payload();
        beast::get_lowest_layer(m_stream).expires_after(opt().readTimeout);
        bhttp::async_write(
            m_stream, *res,
            [self = this->shared_from_this(), res, keepAlive](beast::error_code ec, size_t) {
                if (ec || !keepAlive)
                    return self->shutdown();
                self->readHeader();
            });
    }

    void shutdown()
    {
        beast::error_code ec;
        if constexpr (kTls) {
            beast::get_lowest_layer(m_stream).expires_after(std::chrono::seconds(2));
            m_stream.async_shutdown([self = this->shared_from_this()](beast::error_code) {
                beast::error_code e;
                beast::get_lowest_layer(self->m_stream).socket().close(e);
            });
        } else {
            // Lingering close: stop sending, then read and discard what the client is still
            // sending (bounded in time and bytes, into one small scratch buffer) before
            // closing. Closing with unread data makes the kernel send a reset, which can
            // destroy an early reply such as a 413 before the client reads it.
            m_stream.socket().shutdown(tcp::socket::shutdown_send, ec);
            if (ec)
                return m_stream.socket().close(ec);
            m_stream.expires_after(std::chrono::seconds(2));
            m_drained = 0;
            drain();
        }
    }

    void drain()
    {
        if constexpr (!kTls) {
            m_scratch.resize(16 * 1024);
            m_stream.async_read_some(net::buffer(m_scratch), [self = this->shared_from_this()](
                                                                 beast::error_code ec, size_t n) {
                self->m_drained += n;
                if (ec || self->m_drained > kMaxDrainBytes) {
                    beast::error_code e;
                    self->m_stream.socket().close(e);
                    return;
                }
                self->drain();
            });
        }
    }

    std::shared_ptr<Core> m_core; // declared first: destroyed after the stream
    Stream m_stream;
    beast::flat_buffer m_buffer;
    std::optional<bhttp::request_parser<bhttp::string_body>> m_parser;
    const Route *m_route = nullptr;
    std::optional<PeerCertificate> m_peerCert;
    std::optional<Request> m_head; // the request a route's gate let through, until its body
    std::string m_scratch;         // lingering close: discarded bytes land here
    std::size_t m_drained = 0;
    static constexpr std::size_t kMaxDrainBytes = 64 * 1024 * 1024;
    bool m_keepAlive = false;
    unsigned m_version = 11;
};

} // namespace

struct Server::Impl
{
    std::shared_ptr<Core> core;
    std::optional<tcp::acceptor> acceptor;
    std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
    std::vector<std::thread> threads;
    std::uint16_t port = 0;
    bool started = false;

    void accept()
    {
        acceptor->async_accept(net::make_strand(core->ioc), [this](beast::error_code ec,
                                                                   tcp::socket socket) {
            if (ec == net::error::operation_aborted || !acceptor->is_open())
                return;
            if (!ec) {
                core->accepted.fetch_add(1);
                // A reply (or a streamed chunk) leaves as soon as it is written, never held
                // back by Nagle's algorithm behind the client's delayed ACK.
                beast::error_code nd;
                socket.set_option(tcp::no_delay(true), nd);
                if (core->open.load() >= core->opt.maxConnections) {
                    beast::error_code e;
                    socket.close(e);
                } else if (core->sslCtx) {
                    std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
                        core, std::move(socket), *core->sslCtx)
                        ->start();
                } else {
                    std::make_shared<Session<beast::tcp_stream>>(core, std::move(socket))->start();
                }
            }
            accept();
        });
    }
};

Server::Server(ServerOptions options) : d(std::make_unique<Impl>())
{
    d->core = std::make_shared<Core>(std::move(options));
}

Server::~Server()
{
    stop();
}

void Server::route(std::string method, std::string path, Handler handler, std::size_t maxBodyBytes,
                   Gate gate)
{
    d->core->routes.push_back(
        {std::move(method), std::move(path), std::move(handler), maxBodyBytes, std::move(gate)});
}

Result<void> Server::start()
{
    auto &core = *d->core;
    const auto &o = core.opt;
    const auto unavailable = [](std::string m) {
        return makeError(ErrorCode::Unavailable, std::move(m));
    };
    if (!o.tlsCertFile.empty() || !o.tlsKeyFile.empty()) {
        auto ctx = makeServerTlsContext(
            {o.tlsCertFile, o.tlsKeyFile, o.tlsClientCaFile, o.tlsRequireClientCert, o.serverName});
        if (!ctx)
            return ctx.error();
        core.sslCtx.emplace(std::move(**ctx));
    }
    try {
        tcp::endpoint ep(net::ip::make_address(o.address), o.port);
        d->acceptor.emplace(net::make_strand(core.ioc));
        d->acceptor->open(ep.protocol());
        d->acceptor->set_option(net::socket_base::reuse_address(true));
        d->acceptor->bind(ep);
        d->acceptor->listen(net::socket_base::max_listen_connections);
        d->port = d->acceptor->local_endpoint().port();
    } catch (const std::exception &e) {
        d->acceptor.reset();
        return unavailable("cannot listen on " + o.address + ":" + std::to_string(o.port) + ": " +
                           e.what());
    }
    d->work.emplace(core.ioc.get_executor());
    d->accept();
    for (int i = 0; i < std::max(1, o.threads); ++i)
        d->threads.emplace_back([c = d->core] { c->ioc.run(); });
    d->started = true;
    return {};
}

void Server::stop()
{
    if (!d->started)
        return;
    d->started = false;
    net::post(d->acceptor->get_executor(), [this] {
        beast::error_code ec;
        d->acceptor->close(ec);
    });
    {
        std::lock_guard lock(d->core->sessionsMutex);
        for (auto *s : d->core->sessions)
            s->close();
    }
    d->work.reset();
    // Sessions waiting for a Responder keep no I/O pending, so run() returns once the
    // closes above have been processed.
    for (auto &t : d->threads)
        t.join();
    d->threads.clear();
    {
        std::lock_guard lock(d->core->sessionsMutex);
        d->core->stopped = true;
    }
    // Answers posted while the threads were ending run now (on closed sockets: they end at
    // once), so no handler is left holding a session.
    d->core->ioc.restart();
    while (d->core->ioc.poll() > 0) {
    }
    d->acceptor.reset();
}

std::uint16_t Server::port() const
{
    return d->port;
}

bool Server::tls() const
{
    return d->core->sslCtx.has_value();
}

ServerStats Server::stats() const
{
    const auto &c = *d->core;
    return {c.accepted.load(), c.open.load(),     c.requests.load(),
            c.tooLarge.load(), c.timedOut.load(), c.tlsFailures.load()};
}

} // namespace idl::http
