#include "idl/console/ui/export_dialog.h"

#include "idl/console/log_row.h"
#include "idl/console/time_range.h"
#include "idl/console/ui/console_context.h"
#include "idl/console/ui/inline_message.h"
#include "idl/console/ui/theme.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QProgressBar>
#include <QPushButton>
#include <QStandardPaths>
#include <QVBoxLayout>

namespace idl::console::ui {

ExportDialog::ExportDialog(ConsoleContext *context, QString q, qint64 fromNs, qint64 toNs,
                           QWidget *parent)
    : QDialog(parent), m_context(context), m_q(std::move(q)), m_fromNs(fromNs), m_toNs(toNs),
      m_job(new ExportJob(this))
{
    setWindowTitle(tr("Export to CSV"));
    setMinimumWidth(520);
    auto *layout = new QVBoxLayout(this);
    auto *summary = new QLabel(tr("<b>Query:</b> %1<br><b>Range:</b> %2")
                                   .arg(m_q.isEmpty() ? tr("(everything)") : m_q.toHtmlEscaped(),
                                        TimeRange::absolute(fromNs, toNs).label().toHtmlEscaped()),
                               this);
    summary->setWordWrap(true);
    layout->addWidget(summary);
    auto *hint = new QLabel(tr("Every matching row is exported, not only the rows loaded in the "
                               "table. The file is written while rows stream in."),
                            this);
    hint->setWordWrap(true);
    QPalette p = hint->palette();
    p.setColor(QPalette::WindowText, mutedText(palette()));
    hint->setPalette(p);
    layout->addWidget(hint);

    auto *columnsBox = new QGroupBox(tr("Columns"), this);
    auto *grid = new QGridLayout(columnsBox);
    const QStringList defaults = ExportRequest{}.columns;
    int i = 0;
    for (const QString &key : rowColumnKeys()) {
        auto *cb = new QCheckBox(key, columnsBox);
        cb->setChecked(defaults.contains(key));
        m_columns.insert(key, cb);
        grid->addWidget(cb, i / 4, i % 4);
        ++i;
    }
    layout->addWidget(columnsBox);

    auto *form = new QFormLayout;
    auto *pathRow = new QHBoxLayout;
    m_path = new QLineEdit(this);
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
    m_path->setText(QDir(dir.isEmpty() ? QDir::homePath() : dir)
                        .filePath(QStringLiteral("idl-export-%1.csv")
                                      .arg(QDateTime::currentDateTime().toString(
                                          QStringLiteral("yyyyMMdd-HHmmss")))));
    m_browse = new QPushButton(tr("Browse…"), this);
    pathRow->addWidget(m_path, 1);
    pathRow->addWidget(m_browse);
    auto *fileLabel = new QLabel(tr("&File"), this); // Alt+F: the path, from the keyboard
    fileLabel->setBuddy(m_path);
    form->addRow(fileLabel, pathRow);
    m_order = new QComboBox(this);
    m_order->addItem(tr("Oldest first"), true);
    m_order->addItem(tr("Newest first"), false);
    form->addRow(tr("Order"), m_order);
    m_bom = new QCheckBox(tr("Start with a UTF-8 byte order mark (for Excel)"), this);
    form->addRow(QString(), m_bom);
    layout->addLayout(form);

    m_progress = new QProgressBar(this);
    m_progress->setRange(0, 1000);
    m_progress->setValue(0);
    m_progress->setFormat(tr("Ready"));
    m_progress->setTextVisible(true);
    layout->addWidget(m_progress);
    m_result = new QLabel(this);
    m_result->setWordWrap(true);
    layout->addWidget(m_result);
    m_message = new InlineMessage(this);
    layout->addWidget(m_message);

    auto *buttons = new QDialogButtonBox(this);
    m_start = buttons->addButton(tr("Export"), QDialogButtonBox::AcceptRole);
    m_start->setIcon(icon(QStringLiteral("export")));
    m_cancel = buttons->addButton(QDialogButtonBox::Close);
    layout->addWidget(buttons);

    connect(m_browse, &QPushButton::clicked, this, [this] {
        const QString f = QFileDialog::getSaveFileName(this, tr("Export to"), m_path->text(),
                                                       tr("CSV files (*.csv)"));
        if (!f.isEmpty())
            m_path->setText(f);
    });
    connect(m_start, &QPushButton::clicked, this, &ExportDialog::startExport);
    connect(m_cancel, &QPushButton::clicked, this, &ExportDialog::reject);
    connect(m_job, &ExportJob::progress, this, [this](qint64 rows, double fraction) {
        m_progress->setValue(static_cast<int>(qBound(0.0, fraction, 1.0) * 1000));
        m_progress->setFormat(tr("%1 rows · %p%").arg(QLocale().toString(rows)));
    });
    connect(m_job, &ExportJob::finished, this, [this](qint64 rows, qint64 bytes, qint64 ms) {
        setRunning(false);
        m_progress->setValue(1000);
        m_progress->setFormat(tr("Done"));
        const QLocale loc;
        m_result->setText(tr("Exported %1 rows (%2) in %3 s · %4 rows/s\n%5")
                              .arg(loc.toString(rows), loc.formattedDataSize(bytes))
                              .arg(ms / 1000.0, 0, 'f', 1)
                              .arg(loc.toString(ms > 0 ? rows * 1000 / ms : rows))
                              .arg(m_path->text()));
    });
    connect(m_job, &ExportJob::failed, this, [this](const GatewayError &e) {
        setRunning(false);
        m_progress->setFormat(tr("Failed"));
        m_message->showError(e.text());
    });
    connect(m_job, &ExportJob::cancelled, this, [this] {
        setRunning(false);
        m_progress->setValue(0);
        m_progress->setFormat(tr("Cancelled; the partial file was removed"));
    });
}

ExportRequest ExportDialog::request() const
{
    ExportRequest r;
    r.connection = m_context->client()->settings();
    r.q = m_q;
    r.from = QString::number(m_fromNs);
    r.to = QString::number(m_toNs);
    r.ascending = m_order->currentData().toBool();
    r.columns.clear();
    for (const QString &key : rowColumnKeys()) {
        if (m_columns.value(key)->isChecked())
            r.columns << key;
    }
    r.path = m_path->text().trimmed();
    r.byteOrderMark = m_bom->isChecked();
    return r;
}

void ExportDialog::setPath(const QString &path)
{
    m_path->setText(path);
}

void ExportDialog::startExport()
{
    const ExportRequest r = request();
    if (r.columns.isEmpty()) {
        m_message->showError(tr("Choose at least one column."));
        return;
    }
    if (r.path.isEmpty()) {
        m_message->showError(tr("Choose a file."));
        return;
    }
    m_message->hide();
    m_result->clear();
    if (m_job->start(r))
        setRunning(true);
}

void ExportDialog::setRunning(bool running)
{
    m_start->setEnabled(!running);
    m_browse->setEnabled(!running);
    m_path->setEnabled(!running);
    for (QCheckBox *cb : std::as_const(m_columns))
        cb->setEnabled(!running);
    m_cancel->setText(running ? tr("Cancel") : tr("Close"));
}

void ExportDialog::reject()
{
    if (m_job->isRunning()) {
        m_job->cancel();
        return;
    }
    QDialog::reject();
}

} // namespace idl::console::ui
