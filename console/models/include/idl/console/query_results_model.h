#pragma once

#include "idl/console/gateway_client.h"
#include "idl/console/log_row.h"
#include "idl/console/time_range.h"

#include <QAbstractTableModel>
#include <QPointer>

#include <vector>

namespace idl::console {

// What a query tab asks for.
struct QuerySpec
{
    QString q;
    TimeRange range;
    bool ascending = false; // default newest first
    int pageSize = 500;     // rows per `query` request (1..10000)
};

// Results of a query, loaded page by page with keyset cursors: run() fetches the first
// page, and a view's fetchMore() (scrolling to the end) fetches the next one with the
// `cursor` of the previous `done`. Relative ranges are pinned to absolute instants at run()
// so every page sees the same range. Columns: time, level, app, host, message, then any
// attribute columns added. Lives in the client's (GUI) thread.
class QueryResultsModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { TimeColumn, LevelColumn, AppColumn, HostColumn, MessageColumn, FixedColumns };
    enum Role { LevelRole = Qt::UserRole + 1, RowJsonRole };

    explicit QueryResultsModel(GatewayClient *client, QObject *parent = nullptr);

    // Starts a new query (cancels the running one) and loads the first page.
    void run(const QuerySpec &spec);
    // Cancels the page being loaded.
    void cancel();
    // Removes every row.
    void clear();

    const QuerySpec &spec() const { return m_spec; }
    // The absolute range of the current query, in ns.
    qint64 fromNs() const { return m_fromNs; }
    qint64 toNs() const { return m_toNs; }
    bool isLoading() const { return static_cast<bool>(m_reply); }
    // Whether a cursor to the next page exists.
    bool hasMore() const { return !m_cursor.isEmpty(); }
    int pagesLoaded() const { return m_pages; }
    const LogRow &rowAt(int row) const { return m_rows[static_cast<size_t>(row)]; }

    // Attribute columns ("status", "user.id").
    void addAttributeColumn(const QString &path);
    void removeAttributeColumn(const QString &path);
    const QStringList &attributeColumns() const { return m_attrColumns; }

    void setDarkTheme(bool dark);
    void setUtc(bool utc);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;
    bool canFetchMore(const QModelIndex &parent) const override;
    void fetchMore(const QModelIndex &parent) override;

Q_SIGNALS:
    void loadingChanged(bool loading);
    // A page finished: rows in it, whether more exist, server time.
    void pageLoaded(int rows, bool more, int elapsedMs);
    void failed(const idl::console::GatewayError &error);

private:
    void requestPage();

    QPointer<GatewayClient> m_client;
    QPointer<GatewayReply> m_reply;
    QuerySpec m_spec;
    qint64 m_fromNs = 0;
    qint64 m_toNs = 0;
    QString m_cursor;
    std::vector<LogRow> m_rows;
    QStringList m_attrColumns;
    int m_pages = 0;
    int m_pageRows = 0;
    bool m_dark = false;
    bool m_utc = false;
};

} // namespace idl::console
