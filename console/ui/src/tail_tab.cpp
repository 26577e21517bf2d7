#include "idl/console/ui/tail_tab.h"

#include "idl/console/ui/console_context.h"
#include "idl/console/ui/detail_pane.h"
#include "idl/console/ui/inline_message.h"
#include "idl/console/ui/level_delegate.h"
#include "idl/console/ui/query_edit.h"
#include "idl/console/ui/theme.h"

#include <QCheckBox>
#include <QColorDialog>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QLocale>
#include <QMenu>
#include <QPushButton>
#include <QScrollBar>
#include <QSplitter>
#include <QTableView>
#include <QTableWidget>
#include <QToolButton>
#include <QVBoxLayout>

namespace idl::console::ui {

namespace {

QLabel *counterLabel(QWidget *parent, const QString &name)
{
    auto *l = new QLabel(parent);
    l->setObjectName(name);
    l->setMinimumWidth(90);
    return l;
}

} // namespace

TailTab::TailTab(ConsoleContext *context, QWidget *parent)
    : QWidget(parent), m_context(context), m_model(new LiveTailModel(this)),
      m_tail(new TailSubscription(context->client(), m_model, this))
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 8, 8, 4);
    layout->setSpacing(6);

    auto *bar = new QHBoxLayout;
    bar->setSpacing(6);
    m_edit = new QueryEdit(this);
    m_edit->setPlaceholderText(
        tr("Tail filter, e.g. level:>=warn app:checkout (empty: everything)"));
    m_edit->setKnownValues(context->knownApps(), context->knownHosts());
    m_history = new QComboBox(this);
    m_history->setToolTip(tr("Load recent history first, then follow live without a gap"));
    m_history->addItem(tr("Live only"), QString());
    m_history->addItem(tr("+ last 5 min"), QStringLiteral("-5m"));
    m_history->addItem(tr("+ last 15 min"), QStringLiteral("-15m"));
    m_history->addItem(tr("+ last hour"), QStringLiteral("-1h"));
    m_startButton = new QPushButton(icon(QStringLiteral("play")), tr("Tail"), this);
    m_startButton->setToolTip(tr("Start the tail with this filter (Enter)"));
    m_pause = new QToolButton(this);
    m_pause->setObjectName(QStringLiteral("pauseButton"));
    m_pause->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_pause->setCheckable(true);
    m_autoScroll = new QCheckBox(tr("Auto-scroll"), this);
    m_autoScroll->setChecked(true);
    m_clear = new QToolButton(this);
    m_clear->setIcon(icon(QStringLiteral("clear")));
    m_clear->setToolTip(tr("Clear the rows (Ctrl+K)"));
    m_highlight = new QToolButton(this);
    m_highlight->setIcon(icon(QStringLiteral("highlight")));
    m_highlight->setToolTip(tr("Highlight rules…"));
    m_settings = new QToolButton(this);
    m_settings->setIcon(icon(QStringLiteral("more")));
    m_settings->setPopupMode(QToolButton::InstantPopup);
    auto *settingsMenu = new QMenu(m_settings);
    connect(settingsMenu->addAction(tr("Buffer size…")), &QAction::triggered, this, [this] {
        bool ok = false;
        const int rows =
            QInputDialog::getInt(this, tr("Buffer size"), tr("Rows kept (oldest fall out):"),
                                 m_model->capacity(), 1000, 5'000'000, 10'000, &ok);
        if (ok)
            m_model->setCapacity(rows);
    });
    connect(settingsMenu->addAction(tr("Reset counters")), &QAction::triggered, m_model,
            &LiveTailModel::resetCounters);
    m_settings->setMenu(settingsMenu);
    bar->addWidget(m_edit, 1);
    bar->addWidget(m_history);
    bar->addWidget(m_startButton);
    bar->addSpacing(8);
    bar->addWidget(m_pause);
    bar->addWidget(m_autoScroll);
    bar->addWidget(m_clear);
    bar->addWidget(m_highlight);
    bar->addWidget(m_settings);
    layout->addLayout(bar);

    m_message = new InlineMessage(this);
    layout->addWidget(m_message);

    auto *split = new QSplitter(Qt::Vertical, this);
    m_table = new QTableView(split);
    m_table->setObjectName(QStringLiteral("tailTable"));
    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setShowGrid(false);
    m_table->setWordWrap(false);
    m_table->setAlternatingRowColors(true);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 8);
    m_table->horizontalHeader()->setHighlightSections(false);
    m_table->horizontalHeader()->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    m_table->setItemDelegateForColumn(LiveTailModel::LevelColumn, new LevelDelegate(m_table));
    const QFontMetrics fm(m_table->font());
    m_table->setColumnWidth(LiveTailModel::TimeColumn,
                            fm.horizontalAdvance(QStringLiteral("0000-00-00 00:00:00.000")) + 18);
    m_table->setColumnWidth(LiveTailModel::LevelColumn, 72);
    m_table->setColumnWidth(LiveTailModel::AppColumn, 110);
    m_table->setColumnWidth(LiveTailModel::HostColumn, 90);
    m_table->horizontalHeader()->setSectionResizeMode(LiveTailModel::MessageColumn,
                                                      QHeaderView::Stretch);
    m_detail = new DetailPane(split);
    split->setStretchFactor(0, 4);
    split->setStretchFactor(1, 1);
    split->setSizes({600, 160});
    layout->addWidget(split, 1);

    auto *status = new QHBoxLayout;
    m_state = counterLabel(this, QStringLiteral("tailState"));
    m_rate = counterLabel(this, QStringLiteral("tailRate"));
    m_rows = counterLabel(this, QStringLiteral("tailRows"));
    m_dropped = counterLabel(this, QStringLiteral("tailDropped"));
    status->addWidget(m_state, 1);
    status->addWidget(m_rate);
    status->addWidget(m_rows);
    status->addWidget(m_dropped);
    layout->addLayout(status);

    connect(m_edit, &QueryEdit::submitted, this, &TailTab::start);
    connect(m_startButton, &QPushButton::clicked, this, &TailTab::start);
    connect(m_pause, &QToolButton::toggled, this, [this](bool paused) {
        m_model->setPaused(paused);
        updatePauseButton();
    });
    connect(m_autoScroll, &QCheckBox::toggled, this, [this](bool on) {
        if (on)
            m_table->scrollToBottom();
    });
    connect(m_clear, &QToolButton::clicked, m_model, &LiveTailModel::clear);
    connect(m_highlight, &QToolButton::clicked, this, &TailTab::editHighlights);
    connect(m_model, &LiveTailModel::countersChanged, this, &TailTab::updateCounters);
    connect(m_model, &LiveTailModel::batchApplied, this, &TailTab::onBatch);
    connect(m_table->verticalScrollBar(), &QScrollBar::actionTriggered, this,
            [this] { m_userScrolling = true; });
    connect(m_table->verticalScrollBar(), &QScrollBar::valueChanged, this, [this](int v) {
        if (!m_userScrolling)
            return;
        m_userScrolling = false;
        // Scrolling up stops following; scrolling back to the bottom resumes.
        const bool atBottom = v >= m_table->verticalScrollBar()->maximum() - 2;
        if (m_autoScroll->isChecked() != atBottom)
            m_autoScroll->setChecked(atBottom);
    });
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex &current) {
                if (current.isValid())
                    m_detail->setRow(current.data(LiveTailModel::RowJsonRole).toJsonObject());
            });
    connect(m_tail, &TailSubscription::started, this, [this] {
        m_state->setText(m_tail->resumeCount() > 0 ? tr("● Live (resumed after reconnect)")
                                                   : tr("● Live"));
        m_message->hide();
    });
    connect(m_tail, &TailSubscription::phaseChanged, this, [this](const QString &phase) {
        if (phase == u"history")
            m_state->setText(tr("● Loading history…"));
        else
            m_state->setText(tr("● Live"));
    });
    connect(m_tail, &TailSubscription::interrupted, this, [this](const GatewayError &e) {
        m_state->setText(tr("○ Reconnecting…"));
        m_message->showMessage(InlineMessage::Kind::Warning,
                               tr("Connection lost (%1). The tail resumes where it stopped once "
                                  "the gateway is back.")
                                   .arg(e.message));
    });
    connect(m_tail, &TailSubscription::failed, this, [this](const GatewayError &e) {
        m_state->setText(tr("○ Stopped"));
        if (e.code == u"query_syntax")
            m_edit->setErrorAtByte(e.position, e.message);
        m_message->showError(tr("Tail stopped: %1").arg(e.text()));
    });
    connect(context, &ConsoleContext::knownValuesChanged, this,
            [this] { m_edit->setKnownValues(m_context->knownApps(), m_context->knownHosts()); });
    connect(context, &ConsoleContext::themeChanged, this, [this](bool dark) {
        m_model->setDarkTheme(dark);
        m_edit->highlighter()->setDark(dark);
    });
    m_model->setDarkTheme(context->isDark());
    m_state->setText(tr("○ Not started"));
    updatePauseButton();
    updateCounters();
}

void TailTab::start()
{
    m_edit->clearError();
    m_message->hide();
    m_model->clear();
    m_model->resetCounters();
    m_tail->start(filter(), m_history->currentData().toString());
    m_state->setText(tr("● Starting…"));
    Q_EMIT titleChanged(title());
}

void TailTab::stop()
{
    m_tail->stop();
    m_state->setText(tr("○ Stopped"));
}

void TailTab::setFilter(const QString &q)
{
    m_edit->setText(q);
}

QString TailTab::filter() const
{
    return m_edit->text().trimmed();
}

void TailTab::focusQuery()
{
    m_edit->setFocus();
}

QString TailTab::title() const
{
    const QString f = filter();
    const QString t = f.isEmpty() ? tr("everything") : (f.size() > 22 ? f.left(20) + u'…' : f);
    return tr("Tail: %1").arg(t);
}

void TailTab::togglePause()
{
    m_pause->toggle();
}

void TailTab::setAutoScroll(bool on)
{
    m_autoScroll->setChecked(on);
}

bool TailTab::autoScroll() const
{
    return m_autoScroll->isChecked();
}

void TailTab::updatePauseButton()
{
    const bool paused = m_pause->isChecked();
    m_pause->setIcon(icon(paused ? QStringLiteral("play") : QStringLiteral("pause")));
    m_pause->setText(paused ? tr("Resume") : tr("Pause"));
    m_pause->setToolTip(paused ? tr("Resume the view (Ctrl+P); events were kept meanwhile")
                               : tr("Pause the view (Ctrl+P); events keep arriving"));
}

void TailTab::onBatch(int, int removed)
{
    if (m_autoScroll->isChecked() && !m_model->isPaused()) {
        m_table->scrollToBottom();
        return;
    }
    // Keep the rows the user is reading in place while old rows fall out at the top.
    if (removed > 0) {
        QScrollBar *sb = m_table->verticalScrollBar();
        sb->setValue(qMax(0, sb->value() - removed));
    }
}

void TailTab::updateCounters()
{
    const QLocale loc;
    m_rate->setText(tr("%1 ev/s").arg(loc.toString(m_model->ratePerSecond(), 'f', 0)));
    QString rows = tr("%1 / %2 rows")
                       .arg(loc.toString(m_model->rowCount()), loc.toString(m_model->capacity()));
    if (m_model->isPaused() && m_model->pendingCount() > 0)
        rows += tr(" (+%1 waiting)").arg(loc.toString(m_model->pendingCount()));
    m_rows->setText(rows);
    const qint64 dropped = m_model->serverDropped() + m_model->localDropped();
    m_dropped->setText(tr("dropped: %1").arg(loc.toString(dropped)));
    m_dropped->setToolTip(tr("Dropped by the gateway because the console was too slow: %1\n"
                             "Fell out of the buffer while paused: %2")
                              .arg(m_model->serverDropped())
                              .arg(m_model->localDropped()));
    m_dropped->setStyleSheet(dropped > 0 ? QStringLiteral("color: #d93b3b; font-weight: 600;")
                                         : QString());
}

void TailTab::editHighlights()
{
    HighlightRulesDialog dialog(m_model->highlightRules(), this);
    if (dialog.exec() == QDialog::Accepted)
        m_model->setHighlightRules(dialog.rules());
}

HighlightRulesDialog::HighlightRulesDialog(const QList<HighlightRule> &rules, QWidget *parent)
    : QDialog(parent)
{
    setWindowTitle(tr("Highlight rules"));
    setMinimumSize(420, 300);
    auto *l = new QVBoxLayout(this);
    auto *hint = new QLabel(tr("Rows whose message contains the text (or whose app or host is "
                               "exactly it) get the colour. The first matching rule wins."),
                            this);
    hint->setWordWrap(true);
    l->addWidget(hint);
    m_table = new QTableWidget(0, 2, this);
    m_table->setHorizontalHeaderLabels({tr("Text"), tr("Colour")});
    m_table->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_table->verticalHeader()->hide();
    l->addWidget(m_table, 1);
    auto *row = new QHBoxLayout;
    auto *add = new QPushButton(tr("Add"), this);
    auto *remove = new QPushButton(tr("Remove"), this);
    row->addWidget(add);
    row->addWidget(remove);
    row->addStretch(1);
    l->addLayout(row);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    l->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(add, &QPushButton::clicked, this, [this] {
        addRow(HighlightRule{QString(), QColor(0xf5, 0xd7, 0x6e, 0x90)});
        m_table->editItem(m_table->item(m_table->rowCount() - 1, 0));
    });
    connect(remove, &QPushButton::clicked, this, [this] {
        if (m_table->currentRow() >= 0)
            m_table->removeRow(m_table->currentRow());
    });
    connect(m_table, &QTableWidget::cellDoubleClicked, this, [this](int r, int c) {
        if (c != 1)
            return;
        QTableWidgetItem *item = m_table->item(r, 1);
        const QColor chosen =
            QColorDialog::getColor(item->background().color(), this, tr("Highlight colour"),
                                   QColorDialog::ShowAlphaChannel);
        if (chosen.isValid())
            item->setBackground(chosen);
    });
    for (const auto &rule : rules)
        addRow(rule);
}

void HighlightRulesDialog::addRow(const HighlightRule &rule)
{
    const int r = m_table->rowCount();
    m_table->insertRow(r);
    m_table->setItem(r, 0, new QTableWidgetItem(rule.text));
    auto *colour = new QTableWidgetItem(tr("double-click to change"));
    colour->setFlags(colour->flags() & ~Qt::ItemIsEditable);
    colour->setBackground(rule.colour);
    m_table->setItem(r, 1, colour);
}

QList<HighlightRule> HighlightRulesDialog::rules() const
{
    QList<HighlightRule> out;
    for (int r = 0; r < m_table->rowCount(); ++r) {
        const QString text = m_table->item(r, 0)->text().trimmed();
        if (!text.isEmpty())
            out.append(HighlightRule{text, m_table->item(r, 1)->background().color()});
    }
    return out;
}

} // namespace idl::console::ui
