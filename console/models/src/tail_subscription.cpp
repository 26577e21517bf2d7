#include "idl/console/tail_subscription.h"

#include "idl/console/live_tail_model.h"

#include "fast_json.h"

#include <QJsonArray>

namespace idl::console {

TailSubscription::TailSubscription(GatewayClient *client, LiveTailModel *model, QObject *parent)
    : QObject(parent), m_client(client), m_model(model)
{
    connect(client, &GatewayClient::connected, this, [this] {
        if (m_active && !m_reply) {
            ++m_resumes;
            subscribe();
        }
    });
}

TailSubscription::~TailSubscription()
{
    stop();
}

void TailSubscription::start(const QString &query, const QString &since)
{
    stop();
    m_query = query;
    m_since = since;
    m_positions = {};
    m_phase.clear();
    m_haveHistoryKey = false;
    m_lastHistoryKey = {};
    m_active = true;
    subscribe();
}

void TailSubscription::stop()
{
    m_active = false;
    if (m_client && m_reply)
        m_client->cancel(m_reply);
    m_reply = nullptr;
}

void TailSubscription::subscribe()
{
    if (!m_client)
        return;
    protocol::TailStart req;
    req.q = m_query.toStdString();
    req.since = m_since.toStdString();
    if (!m_positions.isEmpty()) {
        req.resume.emplace();
        for (auto it = m_positions.begin(); it != m_positions.end(); ++it)
            (*req.resume)[it.key().toInt()] = it.value().toInteger();
    }
    GatewayReply *reply = m_client->send(req);
    m_reply = reply;
    reply->setRawRows(true);
    connect(reply, &GatewayReply::message, this, &TailSubscription::onMessage);
    connect(reply, &GatewayReply::rawMessage, this, &TailSubscription::onFrame);
    connect(reply, &GatewayReply::finished, this, [this](const QJsonObject &) {
        // The server ended the tail without an error (not expected in v1): resubscribe.
        m_reply = nullptr;
        if (m_active && m_client && m_client->isConnected())
            subscribe();
    });
    connect(reply, &GatewayReply::failed, this, [this](const GatewayError &e) {
        m_reply = nullptr;
        if (!m_active)
            return;
        if (e.code == u"unavailable" && m_client &&
            m_client->state() != GatewayClient::State::Disconnected) {
            Q_EMIT interrupted(e); // resumes on GatewayClient::connected
            return;
        }
        m_active = false;
        Q_EMIT failed(e);
    });
}

void TailSubscription::onMessage(const QJsonObject &msg)
{
    const QString type = msg.value(QLatin1String("type")).toString();
    if (type == u"tail.started") {
        // Without history (no `since`) the start positions are where live begins; with
        // history they are the seam, valid for a resume only once the history has arrived.
        const QJsonObject pos = msg.value(QLatin1String("positions")).toObject();
        if (m_since.isEmpty() && !pos.isEmpty() && m_positions.isEmpty())
            m_positions = pos;
        Q_EMIT started();
        return;
    }
}

void TailSubscription::onFrame(const QByteArray &utf8)
{
    fastjson::RowsFrame frame;
    if (!fastjson::parseRowsFrame(utf8, &frame))
        return;
    const QString phase = frame.phase;
    const bool history = phase == u"history";
    QList<LogRow> rows;
    rows.reserve(frame.rows.size());
    for (auto &row : frame.rows) {
        if (history) {
            // History comes in ascending (ts, id): after a restart, skip what we have.
            const auto key = std::make_pair(row.tsNs, row.id);
            if (m_haveHistoryKey && key <= m_lastHistoryKey)
                continue;
            m_lastHistoryKey = key;
            m_haveHistoryKey = true;
        }
        rows.append(std::move(row));
    }
    if (m_model) {
        m_model->append(std::move(rows));
        m_model->addServerDropped(frame.dropped);
    }
    if (!history && !frame.positions.isEmpty())
        m_positions = frame.positions;
    if (!phase.isEmpty() && phase != m_phase) {
        m_phase = phase;
        Q_EMIT phaseChanged(phase);
    }
}

} // namespace idl::console
