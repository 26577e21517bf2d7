#pragma once

#include "idl/console/histogram_data.h"
#include "idl/console/query_results_model.h"

#include <QPointer>
#include <QWidget>

class QLabel;
class QPushButton;
class QSplitter;
class QTableView;
class QToolButton;

namespace idl::console::ui {

class ConsoleContext;
class DetailPane;
class HistogramView;
class InlineMessage;
class QueryEdit;
class TimeRangePicker;

// A query tab: query bar (highlighting, completion, error underline), time range, histogram
// of the matching events stacked by level (drag to zoom), results table loaded page by page
// as you scroll, and a detail pane with the selected event as JSON.
class QueryTab : public QWidget
{
    Q_OBJECT
public:
    explicit QueryTab(ConsoleContext *context, QWidget *parent = nullptr);

    QString queryText() const;
    const TimeRange &range() const;
    void setQuery(const QString &q, const TimeRange &range);
    // Runs the current query (results and histogram).
    void run();
    void focusQuery();
    void openExportDialog();
    void copySelectedJson();
    // Opens the time-range menu.
    void pickRange();
    // A short title for the tab.
    QString title() const;

    QueryResultsModel *model() const { return m_model; }
    HistogramView *histogram() const { return m_histogram; }
    QTableView *table() const { return m_table; }
    InlineMessage *message() const { return m_message; }
    QueryEdit *queryEdit() const { return m_edit; }

Q_SIGNALS:
    void titleChanged(const QString &title);
    // The user asked to save the current query.
    void saveRequested(const QString &q, const idl::console::TimeRange &range);
    // The user asked to create an alert rule from the current query.
    void alertRequested(const QString &q);

private:
    void onFailed(const GatewayError &e);
    void updateStatus();
    void requestHistogram();
    void showRowMenu(const QPoint &pos);
    void showHeaderMenu(const QPoint &pos);
    void appendTerm(const QString &term);
    void applyTheme(bool dark);

    ConsoleContext *m_context;
    QMetaObject::Connection m_runWhenConnected; // a run asked for while still connecting
    QueryResultsModel *m_model;
    QueryEdit *m_edit;
    TimeRangePicker *m_range;
    QPushButton *m_run;
    QToolButton *m_more;
    InlineMessage *m_message;
    HistogramView *m_histogram;
    QTableView *m_table;
    DetailPane *m_detail;
    QLabel *m_status;
    QPushButton *m_loadMore;
    QPointer<GatewayReply> m_aggregate;
    QList<TimeRange> m_zoomStack;
    int m_lastElapsedMs = 0;
};

} // namespace idl::console::ui
