#include "idl/console/query_results_model.h"

#include "fast_json.h"

#include <QJsonArray>

namespace idl::console {

QueryResultsModel::QueryResultsModel(GatewayClient *client, QObject *parent)
    : QAbstractTableModel(parent), m_client(client)
{}

void QueryResultsModel::run(const QuerySpec &spec)
{
    cancel();
    clear();
    m_spec = spec;
    m_spec.pageSize = qBound(1, spec.pageSize, 10'000);
    const auto range = spec.range.resolveNow();
    if (!range) {
        Q_EMIT failed(
            GatewayError{QStringLiteral("bad_timestamp"), tr("The time range is not valid")});
        return;
    }
    m_fromNs = range->first;
    m_toNs = range->second;
    m_pages = 0;
    requestPage();
}

void QueryResultsModel::cancel()
{
    if (m_reply && m_client) {
        m_client->cancel(m_reply);
        m_reply = nullptr;
        Q_EMIT loadingChanged(false);
    }
}

void QueryResultsModel::clear()
{
    beginResetModel();
    m_rows.clear();
    m_cursor.clear();
    endResetModel();
}

void QueryResultsModel::requestPage()
{
    if (!m_client)
        return;
    protocol::Query req;
    req.q = m_spec.q.toStdString();
    req.range = {std::to_string(m_fromNs), std::to_string(m_toNs)};
    req.order = m_spec.ascending ? protocol::Order::Asc : protocol::Order::Desc;
    req.limit = m_spec.pageSize;
    req.chunk = qMin(m_spec.pageSize, 1000);
    req.cursor = m_cursor.toStdString();
    GatewayReply *reply = m_client->send(req);
    m_reply = reply;
    reply->setRawRows(true);
    m_pageRows = 0;
    Q_EMIT loadingChanged(true);
    connect(reply, &GatewayReply::rawMessage, this, [this, reply](const QByteArray &utf8) {
        fastjson::RowsFrame frame;
        if (reply != m_reply || !fastjson::parseRowsFrame(utf8, &frame) || frame.rows.isEmpty())
            return;
        const auto &rows = frame.rows;
        const int first = static_cast<int>(m_rows.size());
        beginInsertRows({}, first, first + static_cast<int>(rows.size()) - 1);
        for (auto &r : frame.rows)
            m_rows.push_back(std::move(r));
        endInsertRows();
        m_pageRows += static_cast<int>(rows.size());
    });
    connect(reply, &GatewayReply::finished, this, [this, reply](const QJsonObject &msg) {
        if (reply != m_reply)
            return;
        m_reply = nullptr;
        const QJsonValue cursor = msg.value(QLatin1String("cursor"));
        m_cursor = cursor.isString() ? cursor.toString() : QString();
        ++m_pages;
        Q_EMIT loadingChanged(false);
        Q_EMIT pageLoaded(m_pageRows, !m_cursor.isEmpty(),
                          msg.value(QLatin1String("elapsed_ms")).toInt());
    });
    connect(reply, &GatewayReply::failed, this, [this, reply](const GatewayError &e) {
        if (reply != m_reply)
            return;
        m_reply = nullptr;
        Q_EMIT loadingChanged(false);
        Q_EMIT failed(e);
    });
}

bool QueryResultsModel::canFetchMore(const QModelIndex &parent) const
{
    return !parent.isValid() && !m_reply && !m_cursor.isEmpty();
}

void QueryResultsModel::fetchMore(const QModelIndex &parent)
{
    if (canFetchMore(parent))
        requestPage();
}

void QueryResultsModel::addAttributeColumn(const QString &path)
{
    const QString p = path.startsWith(u'@') ? path.mid(1) : path;
    if (p.isEmpty() || m_attrColumns.contains(p))
        return;
    const int col = FixedColumns + static_cast<int>(m_attrColumns.size());
    beginInsertColumns({}, col, col);
    m_attrColumns.append(p);
    endInsertColumns();
}

void QueryResultsModel::removeAttributeColumn(const QString &path)
{
    const auto i = m_attrColumns.indexOf(path.startsWith(u'@') ? path.mid(1) : path);
    if (i < 0)
        return;
    const int col = FixedColumns + static_cast<int>(i);
    beginRemoveColumns({}, col, col);
    m_attrColumns.removeAt(i);
    endRemoveColumns();
}

void QueryResultsModel::setDarkTheme(bool dark)
{
    m_dark = dark;
    if (!m_rows.empty())
        Q_EMIT dataChanged(index(0, LevelColumn),
                           index(static_cast<int>(m_rows.size()) - 1, LevelColumn));
}

void QueryResultsModel::setUtc(bool utc)
{
    m_utc = utc;
    if (!m_rows.empty())
        Q_EMIT dataChanged(index(0, TimeColumn),
                           index(static_cast<int>(m_rows.size()) - 1, TimeColumn));
}

int QueryResultsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int QueryResultsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : FixedColumns + static_cast<int>(m_attrColumns.size());
}

QVariant QueryResultsModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= static_cast<int>(m_rows.size()))
        return {};
    const LogRow &r = m_rows[static_cast<size_t>(index.row())];
    const int col = index.column();
    switch (role) {
    case Qt::DisplayRole:
        switch (col) {
        case TimeColumn:
            return displayTime(r.tsNs, m_utc);
        case LevelColumn:
            return levelText(r.level);
        case AppColumn:
            return r.app;
        case HostColumn:
            return r.host;
        case MessageColumn:
            return r.message;
        default:
            return cellText(r.attribute(m_attrColumns.value(col - FixedColumns)));
        }
    case Qt::ToolTipRole:
        if (col == TimeColumn)
            return rfc3339(r.tsNs);
        if (col == MessageColumn)
            return plainTextToolTip(r.message);
        return {};
    case Qt::ForegroundRole:
        if (col == LevelColumn)
            return levelColour(r.level, m_dark);
        return {};
    case LevelRole:
        return static_cast<int>(r.level);
    case RowJsonRole:
        return r.toJson();
    default:
        return {};
    }
}

QVariant QueryResultsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case TimeColumn:
        return tr("Time");
    case LevelColumn:
        return tr("Level");
    case AppColumn:
        return tr("App");
    case HostColumn:
        return tr("Host");
    case MessageColumn:
        return tr("Message");
    default:
        return QString(QStringLiteral("@") + m_attrColumns.value(section - FixedColumns));
    }
}

} // namespace idl::console
