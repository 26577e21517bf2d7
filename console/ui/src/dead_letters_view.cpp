#include "idl/console/ui/dead_letters_view.h"

#include "idl/console/ui/console_context.h"
#include "idl/console/ui/inline_message.h"
#include "idl/console/ui/theme.h"

#include <QComboBox>
#include <QCompleter>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPointer>
#include <QPushButton>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

namespace idl::console::ui {
namespace {

// The error codes the processor dead-letters with (docs/processor.md).
const QStringList kCodes = {QString(),
                            QStringLiteral("bad_json"),
                            QStringLiteral("bad_field"),
                            QStringLiteral("bad_level"),
                            QStringLiteral("bad_timestamp"),
                            QStringLiteral("too_large"),
                            QStringLiteral("unavailable"),
                            QStringLiteral("internal")};

} // namespace

DeadLettersView::DeadLettersView(ConsoleContext *context, DeadLetterWatch *watch, QWidget *parent)
    : QWidget(parent), m_context(context), m_watch(watch),
      m_model(new DeadLettersModel(context->client(), this))
{
    setObjectName(QStringLiteral("deadLetters"));
    auto *layout = new QVBoxLayout(this);
    auto *filters = new QHBoxLayout;
    m_code = new QComboBox(this);
    m_code->setEditable(true);
    m_code->addItems(kCodes);
    m_code->setToolTip(tr("Error code (empty: any)"));
    m_code->setMinimumContentsLength(12);
    m_app = new QLineEdit(this);
    m_app->setPlaceholderText(tr("any app"));
    m_app->setCompleter(new QCompleter(m_context->knownApps(), m_app));
    connect(m_context, &ConsoleContext::knownValuesChanged, this,
            [this] { m_app->setCompleter(new QCompleter(m_context->knownApps(), m_app)); });
    m_from = new QLineEdit(this);
    m_from->setPlaceholderText(tr("any time (e.g. -24h)"));
    m_to = new QLineEdit(this);
    m_to->setPlaceholderText(tr("now"));
    auto *refresh = new QPushButton(icon(QStringLiteral("refresh")), tr("Refresh"), this);
    filters->addWidget(new QLabel(tr("Code"), this));
    filters->addWidget(m_code);
    filters->addWidget(new QLabel(tr("App"), this));
    filters->addWidget(m_app, 1);
    filters->addWidget(new QLabel(tr("From"), this));
    filters->addWidget(m_from);
    filters->addWidget(new QLabel(tr("To"), this));
    filters->addWidget(m_to);
    filters->addWidget(refresh);
    layout->addLayout(filters);

    m_message = new InlineMessage(this);
    layout->addWidget(m_message);

    auto *split = new QSplitter(Qt::Vertical, this);
    m_table = new QTableView(split);
    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_table->setAlternatingRowColors(true);
    m_table->verticalHeader()->hide();
    QHeaderView *header = m_table->horizontalHeader();
    header->setStretchLastSection(false);
    header->setSectionResizeMode(QHeaderView::ResizeToContents);
    header->setSectionResizeMode(DeadLettersModel::ReasonCol, QHeaderView::Stretch);
    m_detail = new QPlainTextEdit(split);
    m_detail->setReadOnly(true);
    m_detail->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_detail->setPlaceholderText(tr("Select a dead letter to see its headers and payload."));
    split->addWidget(m_table);
    split->addWidget(m_detail);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    layout->addWidget(split, 1);

    auto *actions = new QHBoxLayout;
    m_count = new QLabel(this);
    m_replaySelected = new QPushButton(icon(QStringLiteral("play")), tr("Replay selected…"), this);
    m_replayAll = new QPushButton(tr("Replay all matching…"), this);
    actions->addWidget(m_count, 1);
    actions->addWidget(m_replaySelected);
    actions->addWidget(m_replayAll);
    layout->addLayout(actions);

    connect(refresh, &QPushButton::clicked, this, &DeadLettersView::refresh);
    for (QLineEdit *e : {m_app, m_from, m_to})
        connect(e, &QLineEdit::returnPressed, this, &DeadLettersView::refresh);
    connect(m_code, &QComboBox::activated, this, &DeadLettersView::refresh);
    connect(m_replaySelected, &QPushButton::clicked, this, [this] { replay(false); });
    connect(m_replayAll, &QPushButton::clicked, this, [this] { replay(true); });
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
        showDetail();
        updateButtons();
    });
    connect(m_model, &DeadLettersModel::refreshed, this, [this] {
        const int n = m_model->rowCount();
        m_count->setText(m_model->more() ? tr("Newest %1 dead letters (more match)").arg(n)
                                         : tr("%n dead letter(s)", nullptr, n));
        if (n > 0)
            m_watch->acknowledge(formatTime(m_model->at(0).deadAtNs));
        else
            m_watch->acknowledge();
        m_detail->clear();
        updateButtons();
    });
    connect(m_model, &DeadLettersModel::failed, this, [this](const GatewayError &e) {
        m_message->showError(tr("Dead letters: %1").arg(e.text()));
    });
    updateButtons();
}

void DeadLettersView::refresh()
{
    protocol::DlqFilter f;
    f.code = m_code->currentText().trimmed().toStdString();
    f.app = m_app->text().trimmed().toStdString();
    f.from = m_from->text().trimmed().toStdString();
    f.to = m_to->text().trimmed().toStdString();
    m_message->hide();
    m_model->refresh(f);
}

void DeadLettersView::showDetail()
{
    const QModelIndexList rows = m_table->selectionModel()->selectedRows();
    if (rows.size() != 1) {
        m_detail->setPlainText(rows.isEmpty() ? QString()
                                              : tr("%n dead letters selected", nullptr,
                                                   static_cast<int>(rows.size())));
        return;
    }
    const QString id = deadLetterId(m_model->at(rows.first().row()));
    m_detail->setPlainText(tr("Loading %1…").arg(id));
    QPointer<DeadLettersView> self(this);
    m_model->fetchDetail(id, [self, id](const DeadLetterDetail *detail, const GatewayError *error) {
        if (!self)
            return;
        const QModelIndexList now = self->m_table->selectionModel()->selectedRows();
        if (now.size() != 1 || deadLetterId(self->m_model->at(now.first().row())) != id)
            return; // the selection moved on
        if (error) {
            self->m_detail->setPlainText(tr("Cannot load %1: %2").arg(id, error->text()));
            return;
        }
        const DeadLetter &l = detail->letter;
        const auto q = [](const std::string &s) { return QString::fromStdString(s); };
        const QString firstSeen = formatTime(l.firstSeenNs);
        QString text = tr("Dead letter %1 · %2 · app %3\n").arg(id, q(l.code), q(l.app));
        text += tr("Dead-lettered %1 after %2 attempt(s); first seen %3\n")
                    .arg(formatTime(l.deadAtNs))
                    .arg(l.attempts)
                    .arg(firstSeen.isEmpty() ? tr("unknown") : firstSeen);
        text += tr("Source %1 %2:%3 · %4 bytes\n")
                    .arg(q(l.sourceTopic))
                    .arg(l.sourcePartition)
                    .arg(l.sourceOffset)
                    .arg(l.bytes);
        if (!l.replayedAt.empty())
            text += tr("Replayed %1 by %2\n").arg(q(l.replayedAt), q(l.replayedBy));
        text += tr("\nReason\n  %1\n\nHeaders\n").arg(q(l.reason));
        for (const auto &[k, v] : detail->headers)
            text += QStringLiteral("  %1: %2\n").arg(q(k), q(v));
        text += tr("\nPayload\n") + prettyPayload(detail->payload);
        self->m_detail->setPlainText(text);
    });
}

void DeadLettersView::updateButtons()
{
    const qsizetype selected = m_table->selectionModel()->selectedRows().size();
    m_replaySelected->setEnabled(selected > 0);
    m_replayAll->setEnabled(m_model->rowCount() > 0);
}

void DeadLettersView::replay(bool all, bool confirm)
{
    QStringList ids;
    if (!all) {
        for (const QModelIndex &i : m_table->selectionModel()->selectedRows())
            ids << deadLetterId(m_model->at(i.row()));
        if (ids.isEmpty())
            return;
    }
    if (confirm) {
        const QString what =
            all ? (m_model->more() ? tr("every dead letter this filter selects (more than the "
                                        "%1 listed)")
                                         .arg(m_model->rowCount())
                                   : tr("the %n dead letter(s) this filter selects", nullptr,
                                        m_model->rowCount()))
                : tr("the %n selected dead letter(s)", nullptr, static_cast<int>(ids.size()));
        const auto answer = QMessageBox::question(
            this, tr("Replay dead letters"),
            tr("Send %1 back to the processor?\n\nFix the cause first: a dead letter that fails "
               "again is dead-lettered again. Each dead letter is replayed at most once.")
                .arg(what),
            QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel);
        if (answer != QMessageBox::Yes)
            return;
    }
    m_replaySelected->setEnabled(false);
    m_replayAll->setEnabled(false);
    QPointer<DeadLettersView> self(this);
    m_model->replay(ids, [self](const ReplayResult *r, const GatewayError *e) {
        if (!self)
            return;
        self->updateButtons();
        if (e) {
            self->m_message->showError(tr("Replay failed: %1").arg(e->text()));
            return;
        }
        QString text =
            tr("Replayed %1, skipped %2 (replayed before).").arg(r->replayed).arg(r->skipped);
        if (r->more)
            text += QLatin1Char(' ') + tr("More match: replay again for the rest.");
        self->m_message->showInfo(text);
    });
}

} // namespace idl::console::ui
