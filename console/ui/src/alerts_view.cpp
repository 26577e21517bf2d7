#include "idl/console/ui/alerts_view.h"

#include "idl/console/ui/console_context.h"
#include "idl/console/ui/histogram_view.h"
#include "idl/console/ui/inline_message.h"
#include "idl/console/ui/query_edit.h"
#include "idl/console/ui/theme.h"
#include "idl/query/parser.h"

#include <QApplication>
#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QDateTimeAxis>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QMessageBox>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QSplitter>
#include <QSystemTrayIcon>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QValueAxis>

namespace idl::console::ui {
namespace {

QTableView *makeTable(QAbstractItemModel *model, int stretchColumn, QWidget *parent)
{
    auto *t = new QTableView(parent);
    t->setModel(model);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->setSelectionMode(QAbstractItemView::SingleSelection);
    t->setAlternatingRowColors(true);
    t->setShowGrid(false);
    t->setWordWrap(false);
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->verticalHeader()->hide();
    t->verticalHeader()->setDefaultSectionSize(t->fontMetrics().height() + 8);
    QHeaderView *h = t->horizontalHeader();
    h->setDefaultAlignment(Qt::AlignLeft | Qt::AlignVCenter);
    h->setHighlightSections(false);
    h->setStretchLastSection(false);
    h->setSectionResizeMode(QHeaderView::Interactive);
    h->setSectionResizeMode(stretchColumn, QHeaderView::Stretch);
    // The other columns fit their contents whenever the rows change (times, counts, names).
    const auto fit = [t, stretchColumn] {
        for (int c = 0; c < t->model()->columnCount(); ++c)
            if (c != stretchColumn)
                t->resizeColumnToContents(c);
    };
    QObject::connect(model, &QAbstractItemModel::modelReset, t, fit);
    QObject::connect(model, &QAbstractItemModel::rowsInserted, t, fit);
    QObject::connect(model, &QAbstractItemModel::dataChanged, t, fit);
    fit();
    return t;
}

QLineEdit *durationEdit(const QString &placeholder, const QString &tip, QWidget *parent)
{
    auto *e = new QLineEdit(parent);
    e->setPlaceholderText(placeholder);
    e->setToolTip(tip);
    e->setMaximumWidth(72);
    return e;
}

QString q(const std::string &text)
{
    return QString::fromStdString(text);
}

// Windows in the preview: enough for an hour, at least 12, at most the protocol's limit.
qint64 previewWindows(qint64 windowMs)
{
    return std::clamp<qint64>(3'600'000 / qMax<qint64>(1, windowMs), 12,
                              std::min<qint64>(60, protocol::kAlertMaxTestWindows));
}

} // namespace

AlertsView::AlertsView(ConsoleContext *context, AlertWatch *watch, QWidget *parent)
    : QWidget(parent), m_context(context), m_watch(watch),
      m_rules(new AlertRulesModel(context->client(), this))
{
    setObjectName(QStringLiteral("alerts"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 8, 8, 8);
    auto *bar = new QHBoxLayout;
    auto *newButton = new QPushButton(icon(QStringLiteral("add")), tr("New rule"), this);
    newButton->setObjectName(QStringLiteral("newRule"));
    auto *refreshButton = new QPushButton(icon(QStringLiteral("refresh")), tr("Refresh"), this);
    auto *hint = new QLabel(
        tr("Rules count the events of a query over a sliding window and notify their targets "
           "when the condition starts and stops holding."),
        this);
    hint->setTextFormat(Qt::PlainText);
    hint->setForegroundRole(QPalette::PlaceholderText);
    bar->addWidget(newButton);
    bar->addWidget(refreshButton);
    bar->addSpacing(12);
    bar->addWidget(hint, 1);
    layout->addLayout(bar);
    m_message = new InlineMessage(this);
    layout->addWidget(m_message);

    auto *vsplit = new QSplitter(Qt::Vertical, this);
    vsplit->setObjectName(QStringLiteral("alertsSplitter"));
    auto *hsplit = new QSplitter(Qt::Horizontal, vsplit);

    // Rules.
    m_rulesTable = makeTable(m_rules, AlertRulesModel::NameCol, hsplit);
    m_rulesTable->setObjectName(QStringLiteral("rulesTable"));
    m_rulesTable->setColumnHidden(AlertRulesModel::OwnerCol, true);
    m_rulesTable->setColumnHidden(AlertRulesModel::LastErrorCol, true);
    // Severity and the enabled flag are in the editor; a disabled rule is greyed out here.
    m_rulesTable->setColumnHidden(AlertRulesModel::SeverityCol, true);
    m_rulesTable->setColumnHidden(AlertRulesModel::EnabledCol, true);

    // Editor.
    auto *editor = new QWidget;
    auto *editorLayout = new QVBoxLayout(editor);
    editorLayout->setContentsMargins(8, 0, 8, 0);
    m_editorTitle = new QLabel(editor);
    m_editorTitle->setTextFormat(Qt::PlainText);
    QFont bold = m_editorTitle->font();
    bold.setBold(true);
    m_editorTitle->setFont(bold);
    editorLayout->addWidget(m_editorTitle);
    auto *form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::ExpandingFieldsGrow);
    form->setLabelAlignment(Qt::AlignRight | Qt::AlignVCenter);
    m_name = new QLineEdit(editor);
    m_name->setObjectName(QStringLiteral("ruleName"));
    m_name->setMaxLength(200);
    m_name->setPlaceholderText(tr("e.g. checkout errors"));
    m_query = new QueryEdit(editor);
    m_query->setObjectName(QStringLiteral("ruleQuery"));
    m_query->setPlaceholderText(tr("Query, e.g. app:checkout level:>=error (empty: every event)"));
    m_query->setKnownValues(context->knownApps(), context->knownHosts());
    m_window =
        durationEdit(QStringLiteral("5m"), tr("The window counted at each evaluation"), editor);
    m_condition = new QComboBox(editor);
    m_condition->addItem(tr("count above"), QStringLiteral("above"));
    m_condition->addItem(tr("count below"), QStringLiteral("below"));
    m_condition->addItem(tr("no events (absent)"), QStringLiteral("absent"));
    m_threshold = new QSpinBox(editor);
    m_threshold->setRange(0, 1'000'000'000);
    m_threshold->setGroupSeparatorShown(true);
    auto *condRow = new QHBoxLayout;
    condRow->addWidget(m_condition);
    condRow->addWidget(m_threshold);
    condRow->addWidget(new QLabel(tr("in"), editor));
    condRow->addWidget(m_window);
    condRow->addStretch(1);
    m_groupBy = new QComboBox(editor);
    m_groupBy->addItem(tr("one series"), QString());
    m_groupBy->addItem(tr("per app"), QStringLiteral("app"));
    m_groupBy->addItem(tr("per host"), QStringLiteral("host"));
    m_interval = durationEdit(QStringLiteral("1m"), tr("How often the rule is evaluated"), editor);
    m_for = durationEdit(QStringLiteral("0s"),
                         tr("How long the condition must hold (pending) before it fires"), editor);
    m_resolve = durationEdit(
        QStringLiteral("0s"),
        tr("How long the condition must be false before a firing series resolves"), editor);
    auto *timing = new QHBoxLayout;
    timing->addWidget(new QLabel(tr("every"), editor));
    timing->addWidget(m_interval);
    timing->addWidget(new QLabel(tr("fire after"), editor));
    timing->addWidget(m_for);
    timing->addWidget(new QLabel(tr("resolve after"), editor));
    timing->addWidget(m_resolve);
    timing->addStretch(1);
    m_severity = new QComboBox(editor);
    for (const QString &s :
         {QStringLiteral("info"), QStringLiteral("warning"), QStringLiteral("critical")})
        m_severity->addItem(s, s);
    auto *sevRow = new QHBoxLayout;
    sevRow->addWidget(m_severity);
    sevRow->addSpacing(12);
    sevRow->addWidget(new QLabel(tr("Series"), editor));
    sevRow->addWidget(m_groupBy);
    sevRow->addStretch(1);
    m_targets = new QTableWidget(0, 2, editor);
    m_targets->setObjectName(QStringLiteral("ruleTargets"));
    m_targets->setHorizontalHeaderLabels({tr("Kind"), tr("URL")});
    m_targets->verticalHeader()->hide();
    m_targets->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    m_targets->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Stretch);
    m_targets->setMinimumHeight(72);
    m_targets->setMaximumHeight(110);
    auto *addTarget = m_addTarget =
        new QPushButton(icon(QStringLiteral("add")), tr("Add target"), editor);
    auto *removeTarget = m_removeTarget =
        new QPushButton(icon(QStringLiteral("delete")), tr("Remove"), editor);
    auto *targetButtons = new QHBoxLayout;
    targetButtons->addWidget(addTarget);
    targetButtons->addWidget(removeTarget);
    targetButtons->addStretch(1);
    auto *targetBox = new QVBoxLayout;
    targetBox->addWidget(m_targets);
    targetBox->addLayout(targetButtons);
    m_shared = new QCheckBox(tr("Shared (visible to the tokens of its apps)"), editor);
    m_enabled = new QCheckBox(tr("Enabled"), editor);
    auto *flags = new QHBoxLayout;
    flags->addWidget(m_enabled);
    flags->addWidget(m_shared);
    flags->addStretch(1);
    form->addRow(tr("Name"), m_name);
    form->addRow(tr("Query"), m_query);
    form->addRow(tr("Condition"), condRow);
    form->addRow(tr("Evaluate"), timing);
    form->addRow(tr("Severity"), sevRow);
    form->addRow(tr("Notify"), targetBox);
    form->addRow(QString(), flags);
    editorLayout->addLayout(form);
    auto *buttons = new QHBoxLayout;
    auto *previewButton = new QPushButton(icon(QStringLiteral("chart")), tr("Preview"), editor);
    previewButton->setObjectName(QStringLiteral("previewRule"));
    previewButton->setToolTip(tr("Count the rule's series over the recent past"));
    m_save = new QPushButton(icon(QStringLiteral("star")), tr("Save rule"), editor);
    m_save->setObjectName(QStringLiteral("saveRule"));
    m_delete = new QPushButton(icon(QStringLiteral("delete")), tr("Delete"), editor);
    buttons->addWidget(previewButton);
    buttons->addStretch(1);
    buttons->addWidget(m_delete);
    buttons->addWidget(m_save);
    editorLayout->addLayout(buttons);
    editorLayout->addStretch(1);
    auto *scroll = new QScrollArea(hsplit);
    scroll->setWidget(editor);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    scroll->setMinimumWidth(editor->minimumSizeHint().width() + 16);

    // Preview.
    auto *previewBox = new QWidget(hsplit);
    auto *previewLayout = new QVBoxLayout(previewBox);
    previewLayout->setContentsMargins(0, 0, 0, 0);
    m_chart = new QChartView(previewBox);
    m_chart->setObjectName(QStringLiteral("rulePreview"));
    m_chart->setRenderHint(QPainter::Antialiasing);
    m_chart->setMinimumSize(320, 220);
    m_previewStatus = new QLabel(previewBox);
    m_previewStatus->setTextFormat(Qt::PlainText); // series are app and host names from logs
    m_previewStatus->setWordWrap(true);
    previewLayout->addWidget(m_chart, 1);
    previewLayout->addWidget(m_previewStatus);

    hsplit->addWidget(m_rulesTable);
    hsplit->addWidget(scroll);
    hsplit->addWidget(previewBox);
    hsplit->setStretchFactor(0, 2);
    hsplit->setStretchFactor(1, 3);
    hsplit->setStretchFactor(2, 3);
    hsplit->setSizes({300, 460, 420});

    // Firing and history.
    m_lists = new QTabWidget(vsplit);
    m_firingTable = makeTable(watch->firing(), FiringAlertsModel::RuleCol, m_lists);
    m_firingTable->setObjectName(QStringLiteral("firingTable"));
    m_historyTable = makeTable(watch->history(), AlertHistoryModel::RuleCol, m_lists);
    m_historyTable->setObjectName(QStringLiteral("historyTable"));
    m_lists->addTab(m_firingTable, icon(QStringLiteral("warning")), QString());
    m_lists->addTab(m_historyTable, icon(QStringLiteral("clock")), tr("History"));
    vsplit->addWidget(hsplit);
    vsplit->addWidget(m_lists);
    vsplit->setStretchFactor(0, 3);
    vsplit->setStretchFactor(1, 1);
    vsplit->setSizes({560, 220});
    layout->addWidget(vsplit, 1);

    connect(newButton, &QPushButton::clicked, this, [this] { newRule(); });
    connect(refreshButton, &QPushButton::clicked, this, &AlertsView::refresh);
    connect(previewButton, &QPushButton::clicked, this, &AlertsView::preview);
    connect(m_save, &QPushButton::clicked, this, &AlertsView::save);
    connect(m_delete, &QPushButton::clicked, this, [this] { removeRule(true); });
    connect(m_query, &QueryEdit::submitted, this, &AlertsView::preview);
    connect(addTarget, &QPushButton::clicked, this, [this] {
        addTargetRow(AlertTarget{});
        m_targets->setCurrentCell(m_targets->rowCount() - 1, 1);
        m_targets->editItem(m_targets->item(m_targets->rowCount() - 1, 1));
    });
    connect(removeTarget, &QPushButton::clicked, this, [this] {
        if (m_targets->currentRow() >= 0)
            m_targets->removeRow(m_targets->currentRow());
    });
    connect(m_condition, &QComboBox::currentIndexChanged, this, [this] {
        updateEnabledFields();
        drawPreview();
    });
    connect(m_threshold, &QSpinBox::valueChanged, this, [this] { drawPreview(); });
    connect(m_rulesTable->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex &current) {
                if (current.isValid())
                    editRule(m_rules->at(current.row()));
            });
    connect(m_rules, &AlertRulesModel::failed, this, [this](const GatewayError &e) {
        m_message->showError(tr("Alert rules: %1").arg(e.text()));
    });
    connect(m_rules, &AlertRulesModel::refreshed, this, [this] {
        const int row = m_rules->indexOf(m_uuid);
        if (row >= 0)
            m_rulesTable->selectRow(row);
    });
    connect(watch->firing(), &FiringAlertsModel::failed, this, [this](const GatewayError &e) {
        m_message->showError(tr("Firing alerts: %1").arg(e.text()));
    });
    connect(watch->history(), &AlertHistoryModel::failed, this, [this](const GatewayError &e) {
        m_message->showError(tr("Alert history: %1").arg(e.text()));
    });
    for (QAbstractItemModel *m : {static_cast<QAbstractItemModel *>(watch->firing()),
                                  static_cast<QAbstractItemModel *>(watch->history())}) {
        connect(m, &QAbstractItemModel::modelReset, this, &AlertsView::updateTabTitles);
        connect(m, &QAbstractItemModel::rowsInserted, this, &AlertsView::updateTabTitles);
        connect(m, &QAbstractItemModel::rowsRemoved, this, &AlertsView::updateTabTitles);
    }
    connect(context, &ConsoleContext::knownValuesChanged, this,
            [this] { m_query->setKnownValues(m_context->knownApps(), m_context->knownHosts()); });
    connect(context, &ConsoleContext::themeChanged, this, [this](bool dark) {
        m_query->highlighter()->setDark(dark);
        drawPreview();
    });
    connect(context->client(), &GatewayClient::connected, this, &AlertsView::updateEnabledFields);
    m_query->highlighter()->setDark(context->isDark());
    updateTabTitles();
    editRule(AlertRule{});
}

void AlertsView::refresh()
{
    m_message->hide();
    m_rules->refresh();
    m_watch->firing()->refresh();
    m_watch->history()->refresh();
}

void AlertsView::updateTabTitles()
{
    const int firing = m_watch->firing()->firingCount();
    const int pending = m_watch->firing()->rowCount() - firing;
    m_lists->setTabText(0, pending > 0 ? tr("Firing (%1, %2 pending)").arg(firing).arg(pending)
                                       : tr("Firing (%1)").arg(firing));
}

void AlertsView::addTargetRow(const AlertTarget &target)
{
    const QString kindName = q(target.kind.empty() ? std::string("webhook") : target.kind);
    const int row = m_targets->rowCount();
    m_targets->insertRow(row);
    auto *kind = new QComboBox(m_targets);
    kind->addItem(tr("webhook"), QStringLiteral("webhook"));
    kind->addItem(tr("slack"), QStringLiteral("slack"));
    kind->setCurrentIndex(qMax(0, kind->findData(kindName)));
    m_targets->setCellWidget(row, 0, kind);
    auto *url = new QTableWidgetItem(q(target.url));
    url->setToolTip(tr("http(s):// URL of the webhook"));
    m_targets->setItem(row, 1, url);
}

void AlertsView::updateEnabledFields()
{
    m_threshold->setEnabled(m_condition->currentData().toString() != u"absent");
    // Webhooks make idl-alerter POST to any URL: only editors and admins may set them
    // (docs/security.md); a viewer's rules notify through the console only.
    const bool mayNotify = m_context->client()->serverInfo().role != u"viewer";
    m_targets->setEnabled(mayNotify);
    for (auto *b : {m_addTarget, m_removeTarget})
        b->setEnabled(mayNotify);
    m_targets->setToolTip(mayNotify ? QString() : tr("Notification targets need the editor role."));
}

void AlertsView::newRule(const QString &q)
{
    m_rulesTable->selectionModel()->clear(); // selecting a rule again loads it again
    AlertRule r;
    r.rule.q = q.toStdString();
    r.rule.name = q.left(60).toStdString();
    r.rule.threshold = 10;
    editRule(r);
    m_name->setFocus();
    m_name->selectAll();
    if (!q.isEmpty())
        preview();
}

void AlertsView::editRule(const AlertRule &a)
{
    const AlertRuleDraft &r = a.rule;
    m_uuid = q(r.uuid);
    m_editorTitle->setText(r.uuid.empty()    ? tr("New rule")
                           : a.owner.empty() ? tr("Rule “%1”").arg(q(r.name))
                                             : tr("Rule “%1” of %2").arg(q(r.name), q(a.owner)));
    m_name->setText(q(r.name));
    m_query->setText(q(r.q));
    m_window->setText(formatDurationMs(r.windowMs));
    m_condition->setCurrentIndex(qMax(0, m_condition->findData(q(r.condition))));
    m_threshold->setValue(static_cast<int>(qMin<qint64>(r.threshold, 1'000'000'000)));
    m_groupBy->setCurrentIndex(qMax(0, m_groupBy->findData(q(r.groupBy))));
    m_interval->setText(formatDurationMs(r.intervalMs));
    m_for->setText(formatDurationMs(r.forMs));
    m_resolve->setText(formatDurationMs(r.resolveMs));
    m_severity->setCurrentIndex(qMax(0, m_severity->findData(q(r.severity))));
    m_targets->setRowCount(0);
    for (const auto &t : r.targets)
        addTargetRow(t);
    m_shared->setChecked(r.shared);
    m_enabled->setChecked(r.enabled);
    m_delete->setEnabled(!r.uuid.empty());
    updateEnabledFields();
    if (!a.lastError.empty())
        m_message->showMessage(
            InlineMessage::Kind::Warning,
            tr("The last evaluation of “%1” failed: %2").arg(q(r.name), q(a.lastError)));
    m_preview = {};
    m_previewStatus->clear();
    drawPreview();
}

std::optional<AlertRuleDraft> AlertsView::editedRule(bool needName)
{
    AlertRuleDraft r;
    r.uuid = m_uuid.toStdString();
    r.name = m_name->text().trimmed().toStdString();
    r.q = m_query->text().trimmed().toStdString();
    r.condition = m_condition->currentData().toString().toStdString();
    r.threshold = m_condition->currentData().toString() == u"absent" ? 0 : m_threshold->value();
    r.groupBy = m_groupBy->currentData().toString().toStdString();
    r.severity = m_severity->currentData().toString().toStdString();
    r.shared = m_shared->isChecked();
    r.enabled = m_enabled->isChecked();
    const auto fail = [this](const QString &why) -> std::optional<AlertRuleDraft> {
        m_message->showError(why);
        return std::nullopt;
    };
    if (r.name.empty() && needName)
        return fail(tr("The rule needs a name."));
    if (auto parsed = query::parse(r.q); !parsed)
        return fail(
            tr("The query is not valid: %1").arg(QString::fromStdString(parsed.error().message)));
    struct Field
    {
        QLineEdit *edit;
        std::int64_t *out;
        QString label;
    };
    for (const Field &f : {Field{m_window, &r.windowMs, tr("window")},
                           Field{m_interval, &r.intervalMs, tr("interval")},
                           Field{m_for, &r.forMs, tr("fire after")},
                           Field{m_resolve, &r.resolveMs, tr("resolve after")}}) {
        const QString text = f.edit->text().trimmed();
        const auto ms = parseDurationMs(text.isEmpty() ? f.edit->placeholderText() : text);
        if (!ms)
            return fail(tr("The %1 “%2” is not a duration (e.g. 30s, 5m, 1h).").arg(f.label, text));
        *f.out = *ms;
    }
    for (int i = 0; i < m_targets->rowCount(); ++i) {
        const auto *kind = qobject_cast<QComboBox *>(m_targets->cellWidget(i, 0));
        const QString url =
            m_targets->item(i, 1) ? m_targets->item(i, 1)->text().trimmed() : QString();
        if (url.isEmpty())
            continue;
        r.targets.push_back(AlertTarget{kind ? kind->currentData().toString().toStdString()
                                             : std::string("webhook"),
                                        url.toStdString()});
    }
    return r;
}

void AlertsView::save()
{
    const auto rule = editedRule();
    if (!rule)
        return;
    m_save->setEnabled(false);
    QPointer<AlertsView> self(this);
    m_rules->save(*rule, [self](const AlertRule *stored, const GatewayError *e) {
        if (!self)
            return;
        self->m_save->setEnabled(true);
        if (e) {
            self->m_message->showError(tr("Could not save the rule: %1").arg(e->text()));
            return;
        }
        self->m_uuid = q(stored->rule.uuid);
        self->m_delete->setEnabled(true);
        self->m_editorTitle->setText(tr("Rule “%1”").arg(q(stored->rule.name)));
        self->m_message->showInfo(tr("Saved “%1”.").arg(q(stored->rule.name)));
        const int row = self->m_rules->indexOf(self->m_uuid);
        if (row >= 0) {
            const QSignalBlocker block(self->m_rulesTable->selectionModel());
            self->m_rulesTable->selectRow(row);
        }
        Q_EMIT self->saved(*stored);
    });
}

void AlertsView::removeRule(bool confirm)
{
    if (m_uuid.isEmpty())
        return;
    const QString name = m_name->text();
    if (confirm && QMessageBox::question(this, tr("Delete rule"),
                                         tr("Delete the rule “%1” and its history?").arg(name),
                                         QMessageBox::Yes | QMessageBox::Cancel,
                                         QMessageBox::Cancel) != QMessageBox::Yes)
        return;
    QPointer<AlertsView> self(this);
    m_rules->remove(m_uuid, [self, name](const GatewayError *e) {
        if (!self)
            return;
        if (e) {
            self->m_message->showError(tr("Could not delete the rule: %1").arg(e->text()));
            return;
        }
        self->m_message->showInfo(tr("Deleted “%1”.").arg(name));
        self->editRule(AlertRule{});
    });
}

void AlertsView::preview()
{
    const auto rule = editedRule(false);
    if (!rule)
        return;
    m_message->hide();
    m_previewStatus->setText(tr("Counting…"));
    const quint64 seq = ++m_previewSeq;
    QPointer<AlertsView> self(this);
    m_rules->test(*rule, previewWindows(rule->windowMs),
                  [self, seq](const AlertTestResult *p, const GatewayError *e) {
                      if (!self || seq != self->m_previewSeq)
                          return; // a newer preview was asked for
                      if (e) {
                          self->m_previewStatus->setText(tr("Preview failed: %1").arg(e->text()));
                          if (e->position >= 0)
                              self->m_query->setErrorAtByte(e->position, e->message);
                          return;
                      }
                      self->m_preview = *p;
                      self->drawPreview();
                      Q_EMIT self->previewed();
                  });
}

void AlertsView::drawPreview()
{
    auto *chart = new QChart;
    chart->legend()->setAlignment(Qt::AlignBottom);
    const bool dark = isDark(palette());
    const AlertTestResult &d = m_preview;
    if (d.buckets.empty()) {
        chart->setTitle(d.windowMs > 0 ? tr("No events matched in the preview range")
                                       : tr("Preview the rule to see its series"));
        chart->legend()->hide();
        m_chart->setChart(chart);
        styleChart(chart, palette());
        chart->setTitleBrush(mutedText(palette()));
        return;
    }
    auto *axisX = new QDateTimeAxis;
    auto *axisY = new QValueAxis;
    const qint64 spanMs = (d.toNs - d.fromNs) / 1'000'000;
    axisX->setFormat(spanMs > 86'400'000LL ? QStringLiteral("MMM d HH:mm")
                                           : QStringLiteral("HH:mm"));
    axisX->setTickCount(qBound(3, m_chart->width() / 110, 8));
    axisX->setRange(QDateTime::fromMSecsSinceEpoch(d.fromNs / 1'000'000),
                    QDateTime::fromMSecsSinceEpoch(d.toNs / 1'000'000));
    axisY->setLabelFormat(QStringLiteral("%d"));
    chart->addAxis(axisX, Qt::AlignBottom);
    chart->addAxis(axisY, Qt::AlignLeft);
    // One stepped line per series: the count of each window, as the evaluator counts it.
    const qint64 windowNs = qMax<qint64>(1, d.windowMs) * 1'000'000;
    qint64 maxY = 1;
    for (size_t k = 0; k < d.keys.size(); ++k) {
        const std::string &key = d.keys[k];
        auto *line = new QLineSeries;
        line->setName(seriesLabel(key));
        QList<QPointF> points;
        for (const auto &b : d.buckets) {
            const auto it = b.counts.find(key);
            const qint64 n = it == b.counts.end() ? 0 : it->second;
            maxY = qMax(maxY, n);
            points << QPointF(static_cast<double>(b.tNs / 1'000'000), static_cast<double>(n))
                   << QPointF(static_cast<double>((b.tNs + windowNs) / 1'000'000),
                              static_cast<double>(n));
        }
        line->replace(points);
        line->setPen(QPen(seriesColour(q(key), static_cast<int>(k), dark), 2));
        chart->addSeries(line);
        line->attachAxis(axisX);
        line->attachAxis(axisY);
    }
    if (m_condition->currentData().toString() != u"absent") {
        const qint64 threshold = m_threshold->value();
        maxY = qMax(maxY, threshold + 1);
        auto *limit = new QLineSeries;
        limit->setObjectName(QStringLiteral("threshold"));
        limit->setName(tr("threshold %1").arg(threshold));
        limit->append(static_cast<double>(d.fromNs / 1'000'000), static_cast<double>(threshold));
        limit->append(static_cast<double>(d.toNs / 1'000'000), static_cast<double>(threshold));
        limit->setPen(QPen(QColor(0xd9, 0x3b, 0x3b), 1.5, Qt::DashLine));
        chart->addSeries(limit);
        limit->attachAxis(axisX);
        limit->attachAxis(axisY);
    }
    const NiceScale scale = niceScale(static_cast<double>(maxY), 4);
    axisY->setRange(0, scale.max);
    axisY->setTickCount(scale.ticks);
    chart->setTitle(tr("Events per %1 window").arg(formatDurationMs(d.windowMs)));
    m_chart->setChart(chart);
    styleChart(chart, palette());

    // The last window: its count per series, and where the condition holds now.
    const auto &last = d.buckets.back();
    QStringList parts;
    for (const std::string &key : d.keys) {
        const auto it = last.counts.find(key);
        parts << QStringLiteral("%1: %2")
                     .arg(seriesLabel(key))
                     .arg(it == last.counts.end() ? 0 : it->second);
    }
    QString status = tr("Last window: %1")
                         .arg(parts.isEmpty() ? tr("no events") : parts.join(QStringLiteral(", ")));
    int heldWindows = 0;
    for (const auto &b : d.buckets)
        heldWindows += b.holds.empty() ? 0 : 1;
    if (!last.holds.empty()) {
        QStringList holds;
        for (const std::string &s : last.holds)
            holds << seriesLabel(s);
        status += QStringLiteral(" · ") +
                  tr("the condition holds now for %1").arg(holds.join(QStringLiteral(", ")));
    }
    status +=
        QStringLiteral(" · ") +
        tr("held in %1 of %2 windows").arg(heldWindows).arg(static_cast<int>(d.buckets.size()));
    if (d.truncated)
        status += QStringLiteral(" · ") + tr("only the busiest series are shown");
    m_previewStatus->setText(status);
}

// --- TrayAlertNotifier

TrayAlertNotifier::TrayAlertNotifier(QObject *parent) : QObject(parent) {}

QString TrayAlertNotifier::title(const AlertChange &c)
{
    return tr("Alert firing: %1").arg(q(c.name.empty() ? c.rule : c.name));
}

QString TrayAlertNotifier::body(const AlertChange &c)
{
    QString text = c.series.empty() ? tr("%1 events").arg(c.value)
                                    : tr("%1: %2 events").arg(q(c.series)).arg(c.value);
    if (!c.severity.empty())
        text += QStringLiteral(" (%1)").arg(q(c.severity));
    return text;
}

void TrayAlertNotifier::alertFired(const AlertChange &change)
{
    if (QSystemTrayIcon::isSystemTrayAvailable()) {
        if (!m_tray) {
            m_tray = new QSystemTrayIcon(icon(QStringLiteral("app")), this);
            m_tray->setToolTip(tr("Instant Dev Logs"));
            connect(m_tray, &QSystemTrayIcon::messageClicked, this, &TrayAlertNotifier::activated);
            connect(m_tray, &QSystemTrayIcon::activated, this, &TrayAlertNotifier::activated);
            m_tray->show();
        }
        const auto kind = change.severity == "critical" ? QSystemTrayIcon::Critical
                          : change.severity == "info"   ? QSystemTrayIcon::Information
                                                        : QSystemTrayIcon::Warning;
        QString text = body(change);
#if defined(Q_OS_UNIX) && !defined(Q_OS_MACOS)
        // Linux desktops show the body through org.freedesktop.Notifications, whose servers
        // may read it as markup (<a>, <img>): series are app and host names from the logs.
        text = text.toHtmlEscaped();
#endif
        m_tray->showMessage(title(change), text, kind, 10'000);
    } else if (m_fallback) {
        m_fallback(title(change), body(change));
    }
    QApplication::alert(nullptr);
}

} // namespace idl::console::ui
