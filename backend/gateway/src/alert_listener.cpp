#include "alert_listener.h"

#include "idl/observability/json_log.h"
#include "idl/observability/metrics.h"
#include "idl/pg/connection.h"

#include <QByteArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace idl::gateway {
namespace {

// The history id of a notification's payload {"rule": uuid, "history": id}; 0 if malformed.
std::int64_t historyOf(const std::string &payload)
{
    const auto doc = QJsonDocument::fromJson(QByteArray::fromStdString(payload));
    const QJsonValue v = doc.object().value(QLatin1String("history"));
    return v.isDouble() ? v.toInteger() : 0;
}

} // namespace

AlertListener::AlertListener(std::string dsn, std::string channel, Deliver deliver)
    : m_dsn(std::move(dsn)), m_channel(std::move(channel)), m_deliver(std::move(deliver))
{}

AlertListener::~AlertListener()
{
    stop();
}

void AlertListener::start()
{
    m_stop = false;
    m_thread = std::thread([this] { run(); });
}

void AlertListener::stop()
{
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    if (m_thread.joinable())
        m_thread.join();
}

bool AlertListener::pause(std::chrono::milliseconds d)
{
    std::unique_lock lock(m_mutex);
    m_wake.wait_for(lock, d, [this] { return m_stop.load(); });
    return !m_stop;
}

void AlertListener::run()
{
    auto &reg = metrics::Registry::global();
    auto &pushed = reg.counter("idl_gateway_alert_changes_total",
                               "Alert state changes received from idl-alerter");
    auto &reconnects = reg.counter("idl_gateway_alert_listener_reconnects_total",
                                   "Times the alert listener's connection was opened again");
    std::chrono::milliseconds backoff{500};
    bool first = true;
    while (!m_stop) {
        if (!first && !pause(backoff))
            break;
        if (!first) {
            backoff = std::min(backoff * 2, std::chrono::milliseconds(10'000));
            reconnects.inc();
        }
        first = false;
        auto conn = pg::Connection::connect(m_dsn, std::chrono::seconds(5));
        if (!conn) {
            jlog::warn("alert listener cannot connect",
                       {{"error", QString::fromStdString(conn.error().message)}});
            continue;
        }
        if (auto l = conn->listen(m_channel); !l) {
            jlog::warn("alert listener cannot LISTEN",
                       {{"error", QString::fromStdString(l.error().message)}});
            continue;
        }
        m_listening = true;
        backoff = std::chrono::milliseconds(500);
        while (!m_stop) {
            auto notes = conn->waitNotifications(std::chrono::milliseconds(250));
            if (!notes) {
                jlog::warn("alert listener lost its connection",
                           {{"error", QString::fromStdString(notes.error().message)}});
                break;
            }
            for (const auto &n : *notes) {
                const std::int64_t id = historyOf(n.payload);
                if (id <= 0)
                    continue;
                auto c = alerts::change(*conn, id);
                if (!c) {
                    jlog::warn("alert listener cannot read a change",
                               {{"error", QString::fromStdString(c.error().message)}});
                    continue;
                }
                if (*c) { // the rule may have been deleted meanwhile
                    pushed.inc();
                    m_deliver(std::move(**c));
                }
            }
        }
        m_listening = false;
    }
}

} // namespace idl::gateway
