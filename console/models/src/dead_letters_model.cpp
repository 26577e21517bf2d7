#include "idl/console/dead_letters_model.h"

#include "idl/console/log_row.h"
#include "idl/core/timestamp.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>

#include <algorithm>

namespace idl::console {
namespace {

// One millisecond after an RFC 3339 time (dead_at has millisecond precision).
QString justAfter(const QString &time)
{
    const QDateTime t = QDateTime::fromString(time, Qt::ISODateWithMs);
    return t.isValid() ? t.addMSecs(1).toUTC().toString(Qt::ISODateWithMs) : time;
}

} // namespace

QString deadLetterId(const DeadLetter &letter)
{
    return QString::fromStdString(protocol::formatDlqId(letter.partition, letter.offset));
}

QString formatTime(std::int64_t ns)
{
    return ns > 0 ? QString::fromStdString(formatRfc3339Millis(ns)) : QString();
}

QString prettyPayload(const std::string &payload)
{
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(payload), &err);
    if (err.error != QJsonParseError::NoError || doc.isNull())
        return QString::fromStdString(payload);
    return QString::fromUtf8(doc.toJson(QJsonDocument::Indented));
}

DeadLettersModel::DeadLettersModel(GatewayClient *client, QObject *parent)
    : QAbstractTableModel(parent), m_client(client)
{}

void DeadLettersModel::refresh(const protocol::DlqFilter &filter, qint64 limit)
{
    if (m_reply)
        m_client->cancel(m_reply);
    m_filter = filter;
    protocol::DlqList req;
    req.filter = filter;
    req.limit = std::clamp<std::int64_t>(limit, 1, protocol::kMaxDlqList);
    GatewayReply *r = m_client->send(req);
    m_reply = r;
    connect(r, &GatewayReply::finished, this, [this, r](const QJsonObject &msg) {
        if (r != m_reply)
            return;
        m_reply = nullptr;
        beginResetModel();
        m_items.clear();
        for (const auto &v : msg.value(QLatin1String("items")).toArray())
            m_items.append(protocol::deadLetterFromJson(v.toObject()));
        m_more = msg.value(QLatin1String("more")).toBool();
        endResetModel();
        Q_EMIT refreshed();
    });
    connect(r, &GatewayReply::failed, this, [this, r](const GatewayError &e) {
        if (r == m_reply)
            m_reply = nullptr;
        Q_EMIT failed(e);
    });
}

void DeadLettersModel::fetchDetail(const QString &id, DetailCallback done)
{
    const auto po = protocol::parseDlqId(id.toStdString());
    if (!po) {
        const GatewayError e{QStringLiteral("bad_field"), QStringLiteral("no such dead letter")};
        done(nullptr, &e);
        return;
    }
    GatewayReply *r = m_client->send(protocol::DlqGet{po->first, po->second});
    connect(r, &GatewayReply::finished, this, [done](const QJsonObject &msg) {
        const DeadLetterDetail d = protocol::deadLetterDetailFromJson(msg);
        done(&d, nullptr);
    });
    connect(r, &GatewayReply::failed, this, [done](const GatewayError &e) { done(nullptr, &e); });
}

void DeadLettersModel::replay(const QStringList &ids, ReplayCallback done)
{
    protocol::DlqReplay req;
    for (const QString &id : ids)
        req.ids.push_back(id.toStdString());
    req.all = ids.isEmpty();
    if (req.all)
        req.filter = m_filter;
    GatewayReply *r = m_client->send(req);
    connect(r, &GatewayReply::finished, this, [this, done](const QJsonObject &msg) {
        const ReplayResult result = protocol::replayResultFromJson(msg);
        done(&result, nullptr);
        refresh(m_filter);
    });
    connect(r, &GatewayReply::failed, this, [done](const GatewayError &e) { done(nullptr, &e); });
}

int DeadLettersModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_items.size());
}

int DeadLettersModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant DeadLettersModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_items.size())
        return {};
    const DeadLetter &d = m_items.at(index.row());
    if (role == Qt::ToolTipRole && index.column() == ReasonCol)
        return plainTextToolTip(QString::fromStdString(d.reason)); // never rich text
    if (role != Qt::DisplayRole)
        return {};
    const auto q = [](const std::string &text) { return QString::fromStdString(text); };
    switch (index.column()) {
    case DeadAtCol:
        return formatTime(d.deadAtNs);
    case AppCol:
        return q(d.app);
    case CodeCol:
        return q(d.code);
    case ReasonCol:
        return q(d.reason);
    case AttemptsCol:
        return static_cast<qlonglong>(d.attempts);
    case ReplayedCol:
        return d.replayedAt.empty() ? QString()
                                    : tr("%1 by %2").arg(q(d.replayedAt), q(d.replayedBy));
    default:
        return {};
    }
}

QVariant DeadLettersModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case DeadAtCol:
        return tr("Dead-lettered");
    case AppCol:
        return tr("App");
    case CodeCol:
        return tr("Code");
    case ReasonCol:
        return tr("Reason");
    case AttemptsCol:
        return tr("Attempts");
    case ReplayedCol:
        return tr("Replayed");
    default:
        return {};
    }
}

DeadLetterWatch::DeadLetterWatch(GatewayClient *client, QObject *parent)
    : QObject(parent), m_client(client)
{
    m_timer.setInterval(30'000);
    connect(&m_timer, &QTimer::timeout, this, &DeadLetterWatch::check);
    connect(m_client, &GatewayClient::connected, this, [this] {
        if (m_client->serverInfo().role == u"admin") {
            m_timer.start();
            check();
        } else {
            m_timer.stop();
            if (m_unseen) {
                m_unseen = 0;
                Q_EMIT unseenChanged(0, false);
            }
        }
    });
}

void DeadLetterWatch::check()
{
    if (m_reply || m_client->state() != GatewayClient::State::Connected ||
        m_client->serverInfo().role != u"admin")
        return;
    protocol::DlqList req;
    if (!m_seenUntil.isEmpty())
        req.filter.from = justAfter(m_seenUntil).toStdString();
    req.limit = protocol::kMaxDlqList;
    GatewayReply *r = m_client->send(req);
    m_reply = r;
    connect(r, &GatewayReply::finished, this, [this](const QJsonObject &msg) {
        m_reply = nullptr;
        const QJsonArray items = msg.value(QLatin1String("items")).toArray();
        m_newest = items.isEmpty()
                       ? QString()
                       : items.first().toObject().value(QLatin1String("dead_at")).toString();
        const int count = static_cast<int>(items.size());
        const bool more = msg.value(QLatin1String("more")).toBool();
        if (count != m_unseen || more != m_more) {
            m_unseen = count;
            m_more = more;
            Q_EMIT unseenChanged(count, more);
        }
    });
    connect(r, &GatewayReply::failed, this, [this](const GatewayError &) { m_reply = nullptr; });
}

void DeadLetterWatch::acknowledge(const QString &newest)
{
    // RFC 3339 UTC times with milliseconds compare as text.
    const QString until = std::max(newest, m_newest);
    if (!until.isEmpty() && until > m_seenUntil) {
        m_seenUntil = until;
        Q_EMIT seenUntilChanged(m_seenUntil);
    }
    if (m_unseen || m_more) {
        m_unseen = 0;
        m_more = false;
        Q_EMIT unseenChanged(0, false);
    }
}

} // namespace idl::console
