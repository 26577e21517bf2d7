#pragma once

#include "db_pool.h"
#include "gateway_impl.h"
#include "idl/core/result.h"
#include "idl/gateway/tokens.h"
#include "idl/protocol/replies.h"
#include "idl/protocol/requests.h"

#include <QJsonObject>
#include <QObject>
#include <QTimer>

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

class QWebSocket;

namespace idl::pg {
class Connection;
}

namespace idl::gateway {

class TailSubscription;
struct TailOptions;

// Bytes produced for a connection but not yet written to its socket: what workers wait on
// before producing more (export flow control). Updated on the main thread, read anywhere.
struct FlowState
{
    std::atomic<std::int64_t> posted{0}; // queued to the main thread, not yet sent
    std::atomic<std::int64_t> socket{0}; // QWebSocket::bytesToWrite() after the last write
    std::int64_t pending() const { return posted.load() + socket.load(); }
};

// One WebSocket client: the transport (messages in and out), authentication, rate limits and
// flow control. What a request does lives in its handler (handlers.h), which the router
// reaches with the decoded request; handlers use the small API below.
//
// Lifecycle: created by the gateway when a socket connects; deletes itself (deleteLater)
// when the socket disconnects. Main thread only; workers reach it through queued calls.
class Session : public QObject
{
    Q_OBJECT
public:
    Session(Gateway::Impl *gateway, QWebSocket *socket);
    ~Session() override;

    // Sessions open in this process (any thread).
    static int openSessions();

    // Closes the socket (code, reason) and ends every request.
    void closeWith(int code, const QString &reason);

    // Worker side, called through queued invocations: sends `json` for request `id` if it is
    // still active with `state`; `final` ends the request.
    void deliver(const std::shared_ptr<RequestState> &state, const std::string &id,
                 const std::string &json, bool final, std::int64_t postedBytes);

    // --- for request handlers (main thread) ---
    Gateway::Impl *gateway() const { return m_gw; }
    // The authenticated identity (handlers run only once there is one).
    const Identity &identity() const { return *m_identity; }
    bool authenticated() const { return m_identity.has_value(); }
    void sendJson(const std::string &json);
    void sendError(const std::string &id, const Error &e);

    // emit(json, final) of a job; waits (without holding a database connection) while the
    // client has not taken what was already produced.
    using Emit = std::function<void(std::string json, bool final)>;
    using Job = std::function<Result<void>(pg::Connection &, const Emit &,
                                           const std::shared_ptr<RequestState> &)>;
    // Starts a worker job for request `id`: fn produces its messages through emit; a returned
    // error becomes the request's error message.
    // `target` ReadOnly: the job only reads rows and may run on pg.read-dsn (a standby).
    void runJob(const std::string &id, const std::string &type, Job fn,
                DbTarget target = DbTarget::Primary);
    // Live tails open on this connection; whether request `id` is one.
    int tailCount() const;
    bool isTail(const std::string &id) const;
    // Starts a live tail for request `id`.
    void startTail(const std::string &id, TailOptions options);
    // Ends request `id` if it is active (cancel, tail.stop); returns what it was.
    enum class Ended { None, Job, Tail };
    Ended endRequest(const std::string &id);
    // Sends what tail `id` has queued (Gateway::Impl::wakeTail calls it).
    void drainTail(const std::string &id);

private:
    struct Active
    {
        std::string type;
        std::shared_ptr<RequestState> state;
        std::unique_ptr<TailSubscription> tail;
        bool startedSent = false;
        std::uint64_t droppedTotal = 0;
    };

    void onText(const QString &text);
    void onDisconnected();
    void handle(protocol::Envelope &&envelope);
    void doHello(const std::string &id, const protocol::Hello &hello);
    void doAuth(const std::string &id, const std::string &token, bool hello);
    void sendHello(const std::string &id);
    void drainAllTails();
    void revalidate();
    protocol::Identity wireIdentity() const;

    Gateway::Impl *m_gw;
    QWebSocket *m_socket;
    std::uint64_t m_serial;
    std::shared_ptr<FlowState> m_flow = std::make_shared<FlowState>();
    std::map<std::string, Active> m_active;
    std::optional<Identity> m_identity;
    std::string m_token;
    int m_failedLogins = 0;
    bool m_authPending = false;     // a token check is running
    std::vector<QString> m_backlog; // messages that arrived meanwhile, replayed after it
    bool m_closing = false;
    QTimer m_idle;
    QTimer m_authDeadline;
    QTimer m_tailTimer;
    QTimer m_revalidate;
};

} // namespace idl::gateway
