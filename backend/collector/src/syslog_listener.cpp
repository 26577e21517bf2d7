#include "idl/collector/syslog_listener.h"

#include "idl/core/timestamp.h"
#include "idl/core/uuid.h"
#include "idl/observability/json_log.h"
#include "idl/observability/metrics.h"
#include "idl/service/tls.h"

#include <QString>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>

namespace idl::collector::syslog {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using udp = net::ip::udp;
using error_code = boost::system::error_code;

std::string_view protocolName(Transport t) noexcept
{
    switch (t) {
    case Transport::Tcp:
        return "syslog_tcp";
    case Transport::Tls:
        return "syslog_tls";
    case Transport::Udp:
        return "syslog_udp";
    }
    return "syslog";
}

Result<std::vector<ListenerSpec>> parseListenerSpecs(std::string_view text)
{
    std::vector<ListenerSpec> out;
    const auto bad = [](std::string_view item, const std::string &why) {
        return makeError(ErrorCode::BadField,
                         "syslog listener \"" + std::string(item) + "\": " + why +
                             " (expected PROTO:[ADDRESS:]PORT=APP, PROTO tcp, tls or udp)");
    };
    std::size_t pos = 0;
    while (pos <= text.size()) {
        std::size_t comma = text.find(',', pos);
        if (comma == std::string_view::npos)
            comma = text.size();
        std::string_view item = text.substr(pos, comma - pos);
        pos = comma + 1;
        while (!item.empty() && item.front() == ' ')
            item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ')
            item.remove_suffix(1);
        if (item.empty())
            continue;
        ListenerSpec spec;
        const auto colon = item.find(':');
        const auto eq = item.rfind('=');
        if (colon == std::string_view::npos || eq == std::string_view::npos || eq < colon)
            return bad(item, "malformed");
        const std::string_view proto = item.substr(0, colon);
        if (proto == "tcp")
            spec.transport = Transport::Tcp;
        else if (proto == "tls")
            spec.transport = Transport::Tls;
        else if (proto == "udp")
            spec.transport = Transport::Udp;
        else
            return bad(item, "unknown protocol");
        std::string_view where = item.substr(colon + 1, eq - colon - 1);
        spec.app = std::string(item.substr(eq + 1));
        if (spec.app.empty())
            return bad(item, "an app is required (\"*\": the message's APP-NAME, \"@cert\": "
                             "the client certificate's app)");
        if (spec.app == kAppFromCertificate && spec.transport != Transport::Tls)
            return bad(item, "\"@cert\" needs a tls listener");
        const auto portColon = where.rfind(':');
        std::string_view portText = where;
        spec.address.clear();
        if (portColon != std::string_view::npos) {
            std::string_view addr = where.substr(0, portColon);
            if (addr.size() >= 2 && addr.front() == '[' && addr.back() == ']')
                addr = addr.substr(1, addr.size() - 2);
            spec.address = std::string(addr);
            portText = where.substr(portColon + 1);
        }
        unsigned port = 0;
        if (portText.empty() || portText.size() > 5)
            return bad(item, "bad port");
        for (char c : portText) {
            if (c < '0' || c > '9')
                return bad(item, "bad port");
            port = port * 10 + static_cast<unsigned>(c - '0');
        }
        if (port > 65535)
            return bad(item, "bad port");
        spec.port = static_cast<std::uint16_t>(port);
        out.push_back(std::move(spec));
    }
    return out;
}

namespace {

// Per protocol metrics.
struct ProtocolMetrics
{
    explicit ProtocolMetrics(Transport t)
    {
        auto &reg = metrics::Registry::global();
        const std::string p(protocolName(t));
        const auto messages = [&](const char *result) -> metrics::Counter & {
            return reg.counter("idl_collector_syslog_messages_total",
                               "Syslog messages read, by how they were read",
                               {{"protocol", p}, {"result", result}});
        };
        rfc5424 = &messages("rfc5424");
        rfc3164 = &messages("rfc3164");
        malformed = &messages("malformed");
        tooLarge = &messages("too_large");
        dropped = &reg.counter("idl_collector_syslog_dropped_total",
                               "Syslog messages read but dropped (UDP refused by the ingest "
                               "entry, batches waiting for a retry at shutdown)",
                               {{"protocol", p}});
        framingErrors =
            &reg.counter("idl_collector_syslog_framing_errors_total",
                         "Syslog connections closed for a framing error", {{"protocol", p}});
        bytes = &reg.counter("idl_collector_syslog_bytes_received_total", "Syslog bytes received",
                             {{"protocol", p}});
        retries = &reg.counter("idl_collector_syslog_retries_total",
                               "Syslog batches sent again after a refusal", {{"protocol", p}});
        pauses = &reg.counter("idl_collector_syslog_pauses_total",
                              "Times a syslog connection stopped reading until Kafka acked",
                              {{"protocol", p}});
        connections = &reg.gauge("idl_collector_syslog_connections",
                                 "Open syslog TCP/TLS connections", {{"protocol", p}});
        refused = &reg.counter("idl_collector_syslog_connections_refused_total",
                               "Syslog connections closed at accept (limit), in the TLS "
                               "handshake or for an unmapped client certificate",
                               {{"protocol", p}});
    }
    metrics::Counter *rfc5424, *rfc3164, *malformed, *tooLarge, *dropped, *framingErrors, *bytes,
        *retries, *pauses, *refused;
    metrics::Gauge *connections;
};

// The identity of a sender on a listener with a configured app: the listener and the
// sender's address ("syslog_tcp:5514@10.0.0.7"), so the per-identity rate limit applies per
// sender as it applies per API key on HTTP.
Identity listenerIdentity(const ListenerSpec &spec, const std::string &peer)
{
    Identity who;
    who.id =
        std::string(protocolName(spec.transport)) + ":" + std::to_string(spec.port) + "@" + peer;
    who.name = "syslog listener " + who.id;
    if (spec.app != kAppFromMessage)
        who.app = spec.app;
    return who;
}

class ConnectionBase
{
public:
    virtual ~ConnectionBase() = default;
    virtual void close() = 0;
};

// Messages of one batch as received (their bytes back to back), kept until the ingest entry
// settled them so a refused batch can be parsed and sent again.
struct Batch
{
    std::string raw;
    std::vector<std::uint32_t> ends;
    std::int64_t receivedNs = 0;
    bool counted = false; // parse outcomes counted (on the first submission only)
    std::string ids;      // the events' ids (36 bytes each), kept for a retry
};

} // namespace

struct Listeners::Impl : std::enable_shared_from_this<Listeners::Impl>
{
    ListenerOptions opt;
    SubmitBatch submit;
    CertificateIdentity certificates;
    net::io_context ioc;
    std::unique_ptr<ssl::context> tlsCtx;
    std::vector<std::optional<tcp::acceptor>> acceptors;
    std::vector<std::unique_ptr<udp::socket>> udpSockets;
    std::vector<std::uint16_t> boundPorts;
    std::vector<ProtocolMetrics> metricsByTransport{ProtocolMetrics(Transport::Tcp),
                                                    ProtocolMetrics(Transport::Tls),
                                                    ProtocolMetrics(Transport::Udp)};
    std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
    std::vector<std::thread> threads;

    std::mutex mutex; // running + connections
    bool running = false;
    std::unordered_set<ConnectionBase *> connections;

    std::atomic<std::uint64_t> messages{0}, malformed{0}, tooLarge{0}, dropped{0}, framingErrors{0},
        retries{0}, pauses{0}, open{0}, refusedConnections{0}, unacked{0};
    std::atomic<std::int64_t> udpUnackedBytes{0};

    ProtocolMetrics &m(Transport t) { return metricsByTransport[static_cast<std::size_t>(t)]; }

    // Posts `fn` to `executor` unless the listeners stopped (then the I/O threads are gone:
    // the outcome only settles counters).
    template <class Executor, class Fn> bool postIfRunning(const Executor &executor, Fn &&fn)
    {
        std::lock_guard lock(mutex);
        if (!running)
            return false;
        net::post(executor, std::forward<Fn>(fn));
        return true;
    }

    // Parses a batch into events (counting what was read the first time).
    std::vector<LogEvent> parse(Batch &b, Transport t, const Identity &who, std::string_view peer)
    {
        std::vector<LogEvent> events(b.ends.size());
        ParseContext ctx;
        ctx.receivedNs = b.receivedNs;
        ctx.peerHost = peer;
        ctx.rfc3164UtcOffsetSeconds = localUtcOffset(b.receivedNs);
        ctx.appFromAppName = !who.app.has_value();
        std::uint64_t n5424 = 0, n3164 = 0, bad = 0;
        std::uint32_t start = 0;
        for (std::size_t i = 0; i < b.ends.size(); ++i) {
            const std::string_view raw(b.raw.data() + start, b.ends[i] - start);
            start = b.ends[i];
            switch (parseMessage(raw, ctx, events[i])) {
            case Format::Rfc5424:
                ++n5424;
                break;
            case Format::Rfc3164:
                ++n3164;
                break;
            case Format::Malformed:
                ++bad;
                break;
            }
            if (who.app)
                events[i].app = *who.app;
            // A batch sent again keeps its ids, so readers can recognise duplicates.
            if (b.counted) {
                events[i].id.assign(b.ids, i * 36, 36);
            } else {
                assignNewEventId(events[i].id);
                b.ids += events[i].id;
            }
        }
        if (!b.counted) {
            b.counted = true;
            auto &pm = m(t);
            pm.rfc5424->inc(n5424);
            pm.rfc3164->inc(n3164);
            pm.malformed->inc(bad);
            messages.fetch_add(b.ends.size());
            malformed.fetch_add(bad);
        }
        return events;
    }

    void countTooLarge(Transport t)
    {
        m(t).tooLarge->inc();
        tooLarge.fetch_add(1);
        messages.fetch_add(1);
    }

    void startUdp(std::size_t index, const ListenerSpec &spec);
    template <class Stream> void accept(std::size_t index);
};

namespace {

using ImplPtr = std::shared_ptr<Listeners::Impl>;

// One TCP or TLS connection: reads, frames, parses and submits in batches on its strand.
template <class Stream>
class Connection : public ConnectionBase, public std::enable_shared_from_this<Connection<Stream>>
{
public:
    static constexpr bool kTls = !std::is_same_v<Stream, tcp::socket>;
    static constexpr Transport kTransport = kTls ? Transport::Tls : Transport::Tcp;
    static constexpr std::size_t kInitialBuffer = 16 * 1024;

    template <class... Args>
    Connection(ImplPtr impl, const ListenerSpec &spec, Args &&...args)
        : m_impl(std::move(impl)), m_spec(spec), m_stream(std::forward<Args>(args)...),
          m_framer(m_impl->opt.framing), m_timer(m_stream.get_executor())
    {
        // The buffer starts small and grows (to maxBuffer()) only for a connection that keeps
        // it full, or for a frame larger than it: an idle or slow sender holds 16 KiB.
        m_buffer.resize(std::min<std::size_t>(kInitialBuffer, maxBuffer()));
        m_impl->open.fetch_add(1);
        m_impl->m(kTransport).connections->add(1);
        error_code ec;
        const auto ep = socket().remote_endpoint(ec);
        if (!ec)
            m_peer = ep.address().to_string();
    }
    ~Connection() override
    {
        m_impl->open.fetch_sub(1);
        m_impl->m(kTransport).connections->add(-1);
        std::lock_guard lock(m_impl->mutex);
        m_impl->connections.erase(this);
    }

    void start()
    {
        {
            std::lock_guard lock(m_impl->mutex);
            if (!m_impl->running)
                return;
            m_impl->connections.insert(this);
        }
        net::dispatch(m_stream.get_executor(), [self = this->shared_from_this()] {
            if constexpr (kTls) {
                self->m_timer.expires_after(self->m_impl->opt.handshakeTimeout);
                self->m_timer.async_wait([weak = self->weak_from_this()](error_code ec) {
                    if (auto s = weak.lock(); s && !ec && !s->m_handshaken)
                        s->closeNow();
                });
                self->m_stream.async_handshake(ssl::stream_base::server, [self](error_code ec) {
                    self->m_timer.cancel();
                    if (ec || self->m_closed)
                        return self->refuse("TLS handshake failed: " + ec.message());
                    self->m_handshaken = true;
                    if (!self->identify())
                        return;
                    self->read();
                });
            } else {
                self->m_who = listenerIdentity(self->m_spec, self->m_peer);
                self->read();
            }
        });
    }

    // The listeners stop: close, and drop batches waiting for a retry.
    void close() override
    {
        net::post(m_stream.get_executor(), [weak = this->weak_from_this()] {
            if (auto self = weak.lock()) {
                self->m_stopping = true;
                for (auto &t : self->m_retryTimers)
                    t->cancel();
                self->closeNow();
            }
        });
    }

private:
    tcp::socket &socket()
    {
        if constexpr (kTls)
            return m_stream.next_layer();
        else
            return m_stream;
    }

    // TLS: the identity of the listener, or of the client certificate.
    bool identify()
    {
        if (m_spec.app != kAppFromCertificate) {
            m_who = listenerIdentity(m_spec, m_peer);
            return true;
        }
        if constexpr (kTls) {
            const auto cert = http::verifiedPeerCertificate(m_stream.native_handle());
            if (!cert) {
                refuse("no verified client certificate (this listener maps apps from it)");
                return false;
            }
            auto who = m_impl->certificates
                           ? m_impl->certificates(*cert)
                           : Result<Identity>(makeError(ErrorCode::Unauthenticated, "no mapping"));
            if (!who) {
                refuse(who.error().message);
                return false;
            }
            m_who = std::move(*who);
        }
        return true;
    }

    void refuse(const std::string &why)
    {
        m_impl->refusedConnections.fetch_add(1);
        m_impl->m(kTransport).refused->inc();
        jlog::warn("syslog connection refused",
                   {{"protocol", QString::fromUtf8(protocolName(kTransport).data())},
                    {"peer", QString::fromStdString(m_peer)},
                    {"reason", QString::fromStdString(why)}});
        closeNow();
    }

    void closeNow()
    {
        if (m_closed)
            return;
        m_closed = true;
        m_timer.cancel();
        error_code ec;
        socket().close(ec);
    }

    void read()
    {
        if (m_closed || m_reading || m_eof)
            return;
        if (m_unackedBytes > m_impl->opt.maxUnackedBytes) {
            if (!m_paused) {
                m_paused = true;
                m_impl->pauses.fetch_add(1);
                m_impl->m(kTransport).pauses->inc();
            }
            return;
        }
        m_paused = false;
        m_reading = true;
        m_stream.async_read_some(net::buffer(m_buffer.data() + m_used, m_buffer.size() - m_used),
                                 [self = this->shared_from_this()](error_code ec, std::size_t n) {
                                     self->onRead(ec, n);
                                 });
    }

    void onRead(error_code ec, std::size_t n)
    {
        m_reading = false;
        const bool filled = n == m_buffer.size() - m_used;
        m_used += n;
        m_impl->m(kTransport).bytes->inc(n);
        if (ec) {
            if (!m_closed && (ec == net::error::eof || ec == ssl::error::stream_truncated)) {
                m_eof = true;
                process(true);
            }
            return closeNow();
        }
        process(false);
        // A read that filled the buffer (more is waiting) or a frame that does not fit yet:
        // double it, up to the limit.
        if ((filled || m_used == m_buffer.size()) && m_buffer.size() < maxBuffer())
            m_buffer.resize(std::min(m_buffer.size() * 2, maxBuffer()));
        read();
    }

    std::size_t maxBuffer() const
    {
        return std::max(m_impl->opt.maxConnectionBuffer, m_framer.minBuffer());
    }

    // Frames and submits what is buffered; atEnd: the stream ended.
    void process(bool atEnd)
    {
        std::size_t off = 0;
        auto batch = std::make_shared<Batch>();
        batch->receivedNs = nowNs();
        for (;;) {
            const std::string_view rest(m_buffer.data() + off, m_used - off);
            auto next = atEnd ? m_framer.finish(rest) : m_framer.next(rest);
            off += next.consumed;
            if (next.kind == Framer::Kind::NeedMore)
                break;
            if (next.kind == Framer::Kind::TooLarge) {
                m_impl->countTooLarge(kTransport);
                continue;
            }
            if (next.kind == Framer::Kind::Error) {
                m_impl->framingErrors.fetch_add(1);
                m_impl->m(kTransport).framingErrors->inc();
                jlog::warn("syslog framing error, connection closed",
                           {{"protocol", QString::fromUtf8(protocolName(kTransport).data())},
                            {"peer", QString::fromStdString(m_peer)},
                            {"error", QString::fromStdString(next.error)}});
                submit(std::move(batch));
                m_used = 0;
                closeNow();
                return;
            }
            batch->raw.append(next.message);
            batch->ends.push_back(static_cast<std::uint32_t>(batch->raw.size()));
            if (batch->ends.size() >= m_impl->opt.maxBatchEvents) {
                const auto ns = batch->receivedNs;
                submit(std::move(batch));
                batch = std::make_shared<Batch>();
                batch->receivedNs = ns;
            }
        }
        submit(std::move(batch));
        if (off > 0) {
            std::memmove(m_buffer.data(), m_buffer.data() + off, m_used - off);
            m_used -= off;
        }
        if (m_used == maxBuffer() && !atEnd) { // cannot happen with the framer's limits
            m_impl->framingErrors.fetch_add(1);
            closeNow();
        }
    }

    void submit(std::shared_ptr<Batch> batch, bool again = false)
    {
        if (batch->ends.empty())
            return;
        if (!again) {
            m_unackedBytes += batch->raw.size();
            m_impl->unacked.fetch_add(batch->ends.size());
        }
        auto events = m_impl->parse(*batch, kTransport, m_who, m_peer);
        m_impl->submit(kTransport, m_who, std::move(events),
                       [self = this->shared_from_this(), batch](BatchOutcome o) {
                           auto &impl = *self->m_impl;
                           if (!impl.postIfRunning(self->m_stream.get_executor(),
                                                   [self, batch, o] { self->settled(batch, o); }))
                               self->settledStopped(*batch, o);
                       });
    }

    // Outcome of a batch after the listeners stopped (no I/O thread left).
    void settledStopped(const Batch &b, const BatchOutcome &o)
    {
        m_impl->unacked.fetch_sub(b.ends.size());
        if (o.retry) {
            m_impl->dropped.fetch_add(b.ends.size());
            m_impl->m(kTransport).dropped->inc(b.ends.size());
        }
    }

    void settled(const std::shared_ptr<Batch> &batch, const BatchOutcome &o)
    {
        // Batches read before the sender closed (or a framing error) are still retried: what
        // was read is not lost unless the listeners stop.
        if (o.retry && !m_stopping) {
            m_impl->retries.fetch_add(1);
            m_impl->m(kTransport).retries->inc();
            auto timer = std::make_shared<net::steady_timer>(m_stream.get_executor());
            m_retryTimers.insert(timer);
            timer->expires_after(o.retryAfter.count() > 0 ? o.retryAfter : m_impl->opt.retryAfter);
            timer->async_wait([self = this->shared_from_this(), batch, timer](error_code ec) {
                self->m_retryTimers.erase(timer);
                if (ec || self->m_stopping) {
                    self->settledStopped(*batch, BatchOutcome{true});
                    self->m_unackedBytes -= batch->raw.size();
                    return;
                }
                self->submit(batch, true);
            });
            return;
        }
        if (o.retry) // stopping
            settledStopped(*batch, o);
        else
            m_impl->unacked.fetch_sub(batch->ends.size());
        m_unackedBytes -= batch->raw.size();
        if (m_paused)
            read();
    }

    ImplPtr m_impl;
    const ListenerSpec &m_spec;
    Stream m_stream;
    Framer m_framer;
    net::steady_timer m_timer; // TLS handshake
    std::unordered_set<std::shared_ptr<net::steady_timer>> m_retryTimers;
    std::vector<char> m_buffer;
    std::size_t m_used = 0;
    std::size_t m_unackedBytes = 0;
    Identity m_who;
    std::string m_peer;
    bool m_reading = false, m_paused = false, m_eof = false, m_closed = false, m_handshaken = false,
         m_stopping = false;
};

} // namespace

template <class Stream> void Listeners::Impl::accept(std::size_t index)
{
    auto &acc = *acceptors[index];
    acc.async_accept(
        net::make_strand(ioc), [self = shared_from_this(), index](error_code ec, tcp::socket s) {
            auto &a = self->acceptors[index];
            if (ec == net::error::operation_aborted || !a || !a->is_open())
                return;
            const ListenerSpec &spec = self->opt.listeners[index];
            if (!ec) {
                if (self->open.load() >= self->opt.maxConnections) {
                    self->refusedConnections.fetch_add(1);
                    self->m(spec.transport).refused->inc();
                    error_code e;
                    s.close(e);
                } else if constexpr (std::is_same_v<Stream, tcp::socket>) {
                    std::make_shared<Connection<tcp::socket>>(self, spec, std::move(s))->start();
                } else {
                    std::make_shared<Connection<Stream>>(self, spec, std::move(s), *self->tlsCtx)
                        ->start();
                }
            }
            self->accept<Stream>(index);
        });
}

namespace {

// One UDP listener: each datagram is one message; what is waiting in the socket is read
// as one batch. Nothing can slow a UDP sender down: a batch the ingest entry refuses, or
// datagrams beyond the unacked byte bound, are dropped and counted.
struct UdpReceiver : std::enable_shared_from_this<UdpReceiver>
{
    ImplPtr impl;
    const ListenerSpec &spec;
    udp::socket &socket;
    std::vector<char> buffer = std::vector<char>(65536);
    udp::endpoint from;

    UdpReceiver(ImplPtr i, const ListenerSpec &s, udp::socket &sock)
        : impl(std::move(i)), spec(s), socket(sock)
    {}

    void receive()
    {
        socket.async_receive_from(
            net::buffer(buffer), from, [self = shared_from_this()](error_code ec, std::size_t n) {
                if (ec == net::error::operation_aborted || !self->socket.is_open())
                    return;
                if (!ec)
                    self->onDatagrams(n);
                self->receive();
            });
    }

    void onDatagrams(std::size_t first)
    {
        auto batch = std::make_shared<Batch>();
        batch->receivedNs = nowNs();
        std::string peer = from.address().to_string();
        auto &pm = impl->m(Transport::Udp);
        std::size_t n = first;
        for (;;) {
            pm.bytes->inc(n);
            if (n > impl->opt.framing.maxMessage) {
                impl->countTooLarge(Transport::Udp);
            } else if (n > 0) {
                batch->raw.append(buffer.data(), n);
                batch->ends.push_back(static_cast<std::uint32_t>(batch->raw.size()));
            }
            if (batch->ends.size() >= impl->opt.maxBatchEvents)
                break;
            // More datagrams already waiting, from the same sender, join the batch.
            error_code ec;
            if (socket.available(ec) == 0 || ec)
                break;
            udp::endpoint next;
            n = socket.receive_from(net::buffer(buffer), next, 0, ec);
            if (ec)
                break;
            if (next != from) {
                submit(std::move(batch), peer);
                batch = std::make_shared<Batch>();
                batch->receivedNs = nowNs();
                from = next;
                peer = from.address().to_string();
            }
        }
        submit(std::move(batch), peer);
    }

    void submit(std::shared_ptr<Batch> batch, const std::string &peer)
    {
        if (batch->ends.empty())
            return;
        const auto bytes = static_cast<std::int64_t>(batch->raw.size());
        if (impl->udpUnackedBytes.load() + bytes >
            static_cast<std::int64_t>(impl->opt.maxUnackedBytes)) {
            impl->messages.fetch_add(batch->ends.size());
            drop(batch->ends.size());
            return;
        }
        impl->udpUnackedBytes.fetch_add(bytes);
        impl->unacked.fetch_add(batch->ends.size());
        const Identity who = listenerIdentity(spec, peer);
        auto events = impl->parse(*batch, Transport::Udp, who, peer);
        const std::size_t count = batch->ends.size();
        impl->submit(Transport::Udp, who, std::move(events),
                     [impl = impl, bytes, count](BatchOutcome o) {
                         impl->udpUnackedBytes.fetch_sub(bytes);
                         impl->unacked.fetch_sub(count);
                         if (o.retry) {
                             impl->dropped.fetch_add(count);
                             impl->m(Transport::Udp).dropped->inc(count);
                         }
                     });
    }

    void drop(std::size_t count)
    {
        impl->dropped.fetch_add(count);
        impl->m(Transport::Udp).dropped->inc(count);
    }
};

} // namespace

void Listeners::Impl::startUdp(std::size_t index, const ListenerSpec &spec)
{
    std::make_shared<UdpReceiver>(shared_from_this(), spec, *udpSockets[index])->receive();
}

Listeners::Listeners(ListenerOptions options, SubmitBatch submit, CertificateIdentity certificates)
    : d(std::make_shared<Impl>())
{
    d->opt = std::move(options);
    d->submit = std::move(submit);
    d->certificates = std::move(certificates);
}

Listeners::~Listeners()
{
    stop();
}

Result<void> Listeners::start()
{
    auto &o = d->opt;
    const bool needTls = std::any_of(o.listeners.begin(), o.listeners.end(),
                                     [](const auto &s) { return s.transport == Transport::Tls; });
    if (needTls) {
        if (o.tls.certFile.empty() || o.tls.keyFile.empty())
            return makeError(ErrorCode::BadField,
                             "a syslog tls listener needs a certificate and key");
        auto ctx = http::makeServerTlsContext(o.tls);
        if (!ctx)
            return ctx.error();
        d->tlsCtx = std::move(*ctx);
    }
    for (const auto &spec : o.listeners)
        if (spec.app == kAppFromCertificate && o.tls.clientCaFile.empty())
            return makeError(ErrorCode::BadField,
                             "a syslog listener mapping apps from client certificates needs a "
                             "client CA");
    d->acceptors.resize(o.listeners.size());
    d->udpSockets.resize(o.listeners.size());
    d->boundPorts.assign(o.listeners.size(), 0);
    for (std::size_t i = 0; i < o.listeners.size(); ++i) {
        const auto &spec = o.listeners[i];
        const std::string address = spec.address.empty() ? o.defaultAddress : spec.address;
        try {
            const auto addr = net::ip::make_address(address);
            if (spec.transport == Transport::Udp) {
                auto sock = std::make_unique<udp::socket>(net::make_strand(d->ioc));
                udp::endpoint ep(addr, spec.port);
                sock->open(ep.protocol()); // no SO_REUSEADDR: on UDP it would share the port
                error_code ignored;        // the kernel caps it at net.core.rmem_max
                sock->set_option(net::socket_base::receive_buffer_size(8 << 20), ignored);
                sock->bind(ep);
                d->boundPorts[i] = sock->local_endpoint().port();
                d->udpSockets[i] = std::move(sock);
            } else {
                auto &acc = d->acceptors[i].emplace(net::make_strand(d->ioc));
                tcp::endpoint ep(addr, spec.port);
                acc.open(ep.protocol());
                acc.set_option(net::socket_base::reuse_address(true));
                acc.bind(ep);
                acc.listen(net::socket_base::max_listen_connections);
                d->boundPorts[i] = acc.local_endpoint().port();
            }
        } catch (const std::exception &e) {
            d->acceptors.clear();
            d->udpSockets.clear();
            return makeError(ErrorCode::Unavailable,
                             "cannot listen for syslog (" +
                                 std::string(protocolName(spec.transport)) + ") on " + address +
                                 ":" + std::to_string(spec.port) + ": " + e.what());
        }
    }
    {
        std::lock_guard lock(d->mutex);
        d->running = true;
    }
    for (std::size_t i = 0; i < o.listeners.size(); ++i) {
        // The bound port names the listener (identity, logs) when 0 was asked for.
        o.listeners[i].port = d->boundPorts[i];
        switch (o.listeners[i].transport) {
        case Transport::Tcp:
            d->accept<tcp::socket>(i);
            break;
        case Transport::Tls:
            d->accept<ssl::stream<tcp::socket>>(i);
            break;
        case Transport::Udp:
            d->startUdp(i, o.listeners[i]);
            break;
        }
    }
    d->work.emplace(d->ioc.get_executor());
    for (int i = 0; i < std::max(1, o.threads); ++i)
        d->threads.emplace_back([impl = d] { impl->ioc.run(); });
    for (std::size_t i = 0; i < o.listeners.size(); ++i)
        jlog::info("syslog listening",
                   {{"protocol", QString::fromUtf8(protocolName(o.listeners[i].transport).data())},
                    {"port", static_cast<int>(d->boundPorts[i])},
                    {"app", QString::fromStdString(o.listeners[i].app)}});
    return {};
}

void Listeners::stop()
{
    {
        std::lock_guard lock(d->mutex);
        if (!d->running)
            return;
        d->running = false;
        for (auto *c : d->connections)
            c->close();
    }
    for (std::size_t i = 0; i < d->acceptors.size(); ++i) {
        if (d->acceptors[i])
            net::post(d->acceptors[i]->get_executor(), [impl = d, i] {
                error_code ec;
                impl->acceptors[i]->close(ec);
            });
        if (d->udpSockets[i])
            net::post(d->udpSockets[i]->get_executor(), [impl = d, i] {
                error_code ec;
                impl->udpSockets[i]->close(ec);
            });
    }
    d->work.reset();
    for (auto &t : d->threads)
        t.join();
    d->threads.clear();
}

std::vector<std::uint16_t> Listeners::ports() const
{
    return d->boundPorts;
}

ListenerStats Listeners::stats() const
{
    ListenerStats s;
    s.messages = d->messages.load();
    s.malformed = d->malformed.load();
    s.tooLarge = d->tooLarge.load();
    s.dropped = d->dropped.load();
    s.framingErrors = d->framingErrors.load();
    s.retries = d->retries.load();
    s.pauses = d->pauses.load();
    s.connectionsOpen = d->open.load();
    s.connectionsRefused = d->refusedConnections.load();
    s.unackedEvents = d->unacked.load();
    return s;
}

} // namespace idl::collector::syslog
