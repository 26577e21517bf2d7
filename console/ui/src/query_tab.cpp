#include "idl/console/ui/query_tab.h"

#include "idl/console/ui/console_context.h"
#include "idl/console/ui/detail_pane.h"
#include "idl/console/ui/export_dialog.h"
#include "idl/console/ui/histogram_view.h"
#include "idl/console/ui/inline_message.h"
#include "idl/console/ui/level_delegate.h"
#include "idl/console/ui/query_edit.h"
#include "idl/console/ui/theme.h"
#include "idl/console/ui/time_range_picker.h"

#include <QApplication>
#include <QClipboard>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QJsonDocument>
#include <QLabel>
#include <QLocale>
#include <QMenu>
#include <QPushButton>
#include <QScrollBar>
#include <QSplitter>
#include <QTableView>
#include <QToolButton>
#include <QVBoxLayout>

namespace idl::console::ui {

namespace {

QString quoteValue(const QString &v)
{
    for (QChar c : v) {
        if (c.isSpace() || c == u'"' || c == u'(' || c == u')' || c == u':')
            return QStringLiteral("\"%1\"").arg(QString(v).replace(u'"', QStringLiteral("\\\"")));
    }
    return v;
}

} // namespace

QueryTab::QueryTab(ConsoleContext *context, QWidget *parent)
    : QWidget(parent), m_context(context), m_model(new QueryResultsModel(context->client(), this))
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 8, 8, 4);
    layout->setSpacing(6);

    auto *bar = new QHBoxLayout;
    bar->setSpacing(6);
    m_edit = new QueryEdit(this);
    m_edit->setKnownValues(context->knownApps(), context->knownHosts());
    m_range = new TimeRangePicker(this);
    m_run = new QPushButton(icon(QStringLiteral("play")), tr("Run"), this);
    m_run->setObjectName(QStringLiteral("runButton"));
    m_run->setDefault(true);
    m_run->setToolTip(tr("Run the query (Enter, Ctrl+Enter or F5)"));
    m_more = new QToolButton(this);
    m_more->setIcon(icon(QStringLiteral("more")));
    m_more->setPopupMode(QToolButton::InstantPopup);
    m_more->setToolTip(tr("More actions"));
    auto *moreMenu = new QMenu(m_more);
    connect(moreMenu->addAction(icon(QStringLiteral("star")), tr("Save query…")),
            &QAction::triggered, this, [this] { Q_EMIT saveRequested(queryText(), range()); });
    connect(moreMenu->addAction(icon(QStringLiteral("error")), tr("Create alert from this query…")),
            &QAction::triggered, this, [this] { Q_EMIT alertRequested(queryText()); });
    connect(moreMenu->addAction(icon(QStringLiteral("export")), tr("Export to CSV…")),
            &QAction::triggered, this, &QueryTab::openExportDialog);
    connect(moreMenu->addAction(tr("Add attribute column…")), &QAction::triggered, this, [this] {
        bool ok = false;
        const QString path = QInputDialog::getText(this, tr("Add column"),
                                                   tr("Attribute path (e.g. status or user.id):"),
                                                   QLineEdit::Normal, {}, &ok);
        if (ok && !path.trimmed().isEmpty())
            m_model->addAttributeColumn(path.trimmed());
    });
    m_more->setMenu(moreMenu);
    bar->addWidget(m_edit, 1);
    bar->addWidget(m_range);
    bar->addWidget(m_run);
    bar->addWidget(m_more);
    layout->addLayout(bar);

    m_message = new InlineMessage(this);
    layout->addWidget(m_message);

    auto *vsplit = new QSplitter(Qt::Vertical, this);
    vsplit->setObjectName(QStringLiteral("querySplitter"));
    m_histogram = new HistogramView(vsplit);
    m_histogram->setPlaceholder(tr("Run a query to see events over time"));
    auto *hsplit = new QSplitter(Qt::Horizontal, vsplit);
    m_table = new QTableView(hsplit);
    m_table->setObjectName(QStringLiteral("resultsTable"));
    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_table->setAlternatingRowColors(true);
    m_table->setShowGrid(false);
    m_table->setWordWrap(false);
    m_table->setTextElideMode(Qt::ElideRight);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 8);
    m_table->horizontalHeader()->setStretchLastSection(false);
    m_table->horizontalHeader()->setHighlightSections(false);
    m_table->horizontalHeader()->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    m_table->horizontalHeader()->setContextMenuPolicy(Qt::CustomContextMenu);
    m_table->setItemDelegateForColumn(QueryResultsModel::LevelColumn, new LevelDelegate(m_table));
    m_table->setContextMenuPolicy(Qt::CustomContextMenu);
    const QFontMetrics fm(m_table->font());
    m_table->setColumnWidth(QueryResultsModel::TimeColumn,
                            fm.horizontalAdvance(QStringLiteral("0000-00-00 00:00:00.000")) + 18);
    m_table->setColumnWidth(QueryResultsModel::LevelColumn, 72);
    m_table->setColumnWidth(QueryResultsModel::AppColumn, 110);
    m_table->setColumnWidth(QueryResultsModel::HostColumn, 90);
    m_table->horizontalHeader()->setSectionResizeMode(QueryResultsModel::MessageColumn,
                                                      QHeaderView::Stretch);
    m_detail = new DetailPane(hsplit);
    hsplit->setStretchFactor(0, 3);
    hsplit->setStretchFactor(1, 1);
    hsplit->setSizes({820, 340});
    vsplit->setStretchFactor(0, 0);
    vsplit->setStretchFactor(1, 1);
    vsplit->setSizes({170, 600});
    layout->addWidget(vsplit, 1);

    auto *statusRow = new QHBoxLayout;
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("queryStatus"));
    m_loadMore = new QPushButton(tr("Load more"), this);
    m_loadMore->setFlat(true);
    m_loadMore->hide();
    statusRow->addWidget(m_status, 1);
    statusRow->addWidget(m_loadMore);
    layout->addLayout(statusRow);

    connect(m_edit, &QueryEdit::submitted, this, &QueryTab::run);
    connect(m_run, &QPushButton::clicked, this, &QueryTab::run);
    connect(m_range, &TimeRangePicker::rangeChanged, this, [this] {
        m_zoomStack.clear();
        run();
    });
    connect(m_loadMore, &QPushButton::clicked, this, [this] { m_model->fetchMore({}); });
    connect(m_model, &QueryResultsModel::failed, this, &QueryTab::onFailed);
    connect(m_model, &QueryResultsModel::loadingChanged, this, [this] { updateStatus(); });
    connect(m_model, &QueryResultsModel::pageLoaded, this, [this](int, bool, int ms) {
        m_lastElapsedMs = ms;
        updateStatus();
    });
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex &current) {
                if (current.isValid())
                    m_detail->setRow(current.data(QueryResultsModel::RowJsonRole).toJsonObject());
                else
                    m_detail->clear();
            });
    connect(m_table, &QWidget::customContextMenuRequested, this, &QueryTab::showRowMenu);
    connect(m_table->horizontalHeader(), &QWidget::customContextMenuRequested, this,
            &QueryTab::showHeaderMenu);
    connect(m_histogram, &HistogramView::rangeSelected, this, [this](qint64 from, qint64 to) {
        m_zoomStack.append(range());
        m_range->setRange(TimeRange::absolute(from, to));
        run();
    });
    connect(m_histogram, &HistogramView::zoomOutRequested, this, [this] {
        if (m_zoomStack.isEmpty())
            return;
        m_range->setRange(m_zoomStack.takeLast());
        run();
    });
    connect(m_detail, &DetailPane::filterRequested, this, &QueryTab::appendTerm);
    connect(context, &ConsoleContext::knownValuesChanged, this,
            [this] { m_edit->setKnownValues(m_context->knownApps(), m_context->knownHosts()); });
    connect(context, &ConsoleContext::themeChanged, this, &QueryTab::applyTheme);
    applyTheme(context->isDark());
    updateStatus();
}

void QueryTab::applyTheme(bool dark)
{
    m_model->setDarkTheme(dark);
    m_edit->highlighter()->setDark(dark);
}

QString QueryTab::queryText() const
{
    return m_edit->text().trimmed();
}

const TimeRange &QueryTab::range() const
{
    return m_range->range();
}

void QueryTab::setQuery(const QString &q, const TimeRange &range)
{
    m_edit->setText(q);
    m_range->setRange(range);
    m_zoomStack.clear();
    Q_EMIT titleChanged(title());
}

QString QueryTab::title() const
{
    const QString q = queryText();
    if (q.isEmpty())
        return tr("All events");
    return q.size() > 28 ? q.left(26) + QStringLiteral("…") : q;
}

void QueryTab::focusQuery()
{
    m_edit->setFocus();
    m_edit->selectAll();
}

void QueryTab::pickRange()
{
    m_range->showMenu();
}

void QueryTab::run()
{
    // Asked to run before the connection is up (the first tab of a fresh start runs while the
    // token is still read from the keychain; a reconnect): run once it is up instead of
    // failing with "not connected".
    GatewayClient *client = m_context->client();
    disconnect(m_runWhenConnected);
    if (!client->isConnected()) {
        m_runWhenConnected = connect(client, &GatewayClient::connected, this, [this] {
            disconnect(m_runWhenConnected);
            run();
        });
        m_message->showMessage(InlineMessage::Kind::Info,
                               tr("Not connected yet: the query runs once the connection is up."));
        m_histogram->setPlaceholder(tr("Waiting for the connection…"));
        Q_EMIT titleChanged(title());
        return;
    }
    m_message->hide();
    m_detail->clear();
    m_edit->clearError();
    m_model->run(QuerySpec{queryText(), range(), false, 500});
    Q_EMIT titleChanged(title());
    requestHistogram();
    updateStatus();
}

void QueryTab::requestHistogram()
{
    if (m_aggregate)
        m_context->client()->cancel(m_aggregate);
    if (m_model->toNs() <= m_model->fromNs())
        return;
    m_histogram->setPlaceholder(tr("Loading…"));
    GatewayReply *r = m_context->client()->send(
        aggregateRequest(queryText(), m_model->fromNs(), m_model->toNs()));
    m_aggregate = r;
    connect(r, &GatewayReply::finished, this, [this, r](const QJsonObject &msg) {
        if (r != m_aggregate)
            return;
        m_histogram->setData(HistogramData::fromJson(msg));
    });
    connect(r, &GatewayReply::failed, this, [this, r](const GatewayError &e) {
        if (r != m_aggregate)
            return;
        m_histogram->setPlaceholder(tr("Histogram unavailable: %1").arg(e.message));
    });
}

void QueryTab::onFailed(const GatewayError &e)
{
    if (e.code == u"query_syntax" || e.code == u"query_too_complex") {
        m_edit->setErrorAtByte(e.position, e.message);
        m_message->showError(tr("Query error: %1").arg(e.message));
    } else if (e.code == u"rate_limited") {
        m_message->showMessage(InlineMessage::Kind::Warning,
                               tr("The gateway asks to slow down; retry in %1 s")
                                   .arg(qMax<qint64>(1, e.retryAfterMs / 1000)));
    } else {
        m_message->showError(e.text());
    }
    m_histogram->setPlaceholder(tr("No data"));
    updateStatus();
}

void QueryTab::updateStatus()
{
    const QLocale loc;
    QString text;
    const int rows = m_model->rowCount();
    if (m_model->isLoading() && rows == 0)
        text = tr("Running…");
    else if (m_model->pagesLoaded() == 0 && !m_model->isLoading())
        text = tr("Enter a query and press Enter. Scroll to the end to load more rows.");
    else
        text = tr("%1 rows loaded%2 · %3 ms")
                   .arg(loc.toString(rows))
                   .arg(m_model->isLoading() ? tr(" · loading…")
                        : m_model->hasMore() ? tr(" · more available")
                                             : tr(" · all matching rows"))
                   .arg(m_lastElapsedMs);
    m_status->setText(text);
    m_loadMore->setVisible(m_model->hasMore() && !m_model->isLoading());
}

void QueryTab::appendTerm(const QString &term)
{
    QString q = queryText();
    q = q.isEmpty() ? term : q + u' ' + term;
    m_edit->setText(q);
    run();
}

void QueryTab::showRowMenu(const QPoint &pos)
{
    const QModelIndex idx = m_table->indexAt(pos);
    if (!idx.isValid())
        return;
    const LogRow &row = m_model->rowAt(idx.row());
    QMenu menu(this);
    menu.addAction(tr("Copy message"), this,
                   [row] { QApplication::clipboard()->setText(row.message); });
    menu.addAction(tr("Copy as JSON"), this, [this] { copySelectedJson(); });
    menu.addSeparator();
    const QString app = quoteValue(row.app);
    const QString host = quoteValue(row.host);
    menu.addAction(tr("Only app %1").arg(row.app), this,
                   [this, app] { appendTerm(QStringLiteral("app:") + app); });
    menu.addAction(tr("Exclude app %1").arg(row.app), this,
                   [this, app] { appendTerm(QStringLiteral("-app:") + app); });
    if (!row.host.isEmpty()) {
        menu.addAction(tr("Only host %1").arg(row.host), this,
                       [this, host] { appendTerm(QStringLiteral("host:") + host); });
        menu.addAction(tr("Exclude host %1").arg(row.host), this,
                       [this, host] { appendTerm(QStringLiteral("-host:") + host); });
    }
    menu.addAction(tr("Level %1 and above").arg(levelText(row.level)), this,
                   [this, row] { appendTerm(QStringLiteral("level:>=") + levelText(row.level)); });
    const QJsonObject attrs = row.attrs();
    if (!attrs.isEmpty()) {
        QMenu *cols = menu.addMenu(tr("Add column"));
        for (auto it = attrs.begin(); it != attrs.end(); ++it) {
            const QString key = it.key();
            cols->addAction(QStringLiteral("@") + key, this,
                            [this, key] { m_model->addAttributeColumn(key); });
        }
    }
    menu.exec(m_table->viewport()->mapToGlobal(pos));
}

void QueryTab::showHeaderMenu(const QPoint &pos)
{
    const int section = m_table->horizontalHeader()->logicalIndexAt(pos);
    QMenu menu(this);
    menu.addAction(tr("Add attribute column…"), this, [this] {
        bool ok = false;
        const QString path = QInputDialog::getText(this, tr("Add column"),
                                                   tr("Attribute path (e.g. status or user.id):"),
                                                   QLineEdit::Normal, {}, &ok);
        if (ok && !path.trimmed().isEmpty())
            m_model->addAttributeColumn(path.trimmed());
    });
    if (section >= QueryResultsModel::FixedColumns) {
        const QString path =
            m_model->attributeColumns().value(section - QueryResultsModel::FixedColumns);
        menu.addAction(tr("Remove column @%1").arg(path), this,
                       [this, path] { m_model->removeAttributeColumn(path); });
    }
    menu.exec(m_table->horizontalHeader()->mapToGlobal(pos));
}

void QueryTab::copySelectedJson()
{
    const QModelIndexList rows = m_table->selectionModel()->selectedRows();
    QStringList out;
    for (const auto &r : rows)
        out << QString::fromUtf8(
            QJsonDocument(r.data(QueryResultsModel::RowJsonRole).toJsonObject())
                .toJson(QJsonDocument::Compact));
    if (!out.isEmpty())
        QApplication::clipboard()->setText(out.join(u'\n'));
}

void QueryTab::openExportDialog()
{
    if (m_model->toNs() <= m_model->fromNs()) {
        m_message->showInfo(tr("Run the query first; the export uses its exact time range."));
        return;
    }
    ExportDialog dialog(m_context, queryText(), m_model->fromNs(), m_model->toNs(), this);
    dialog.exec();
}

} // namespace idl::console::ui
