#pragma once

#include "idl/console/export_worker.h"

#include <QDialog>
#include <QMap>

class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;

namespace idl::console::ui {

class ConsoleContext;
class InlineMessage;

// Export every row matching a query (not only the loaded ones) to a CSV file: choice of
// columns, order, UTF-8 BOM for Excel; streams on a worker thread with a progress bar and a
// Cancel button; the result (rows, size, speed) is shown in the dialog.
class ExportDialog : public QDialog
{
    Q_OBJECT
public:
    ExportDialog(ConsoleContext *context, QString q, qint64 fromNs, qint64 toNs,
                 QWidget *parent = nullptr);

    // The request the dialog would start now.
    ExportRequest request() const;
    void setPath(const QString &path);
    // Starts the export (what the Export button does).
    void startExport();
    ExportJob *job() const { return m_job; }

protected:
    void reject() override;

private:
    void setRunning(bool running);

    ConsoleContext *m_context;
    QString m_q;
    qint64 m_fromNs;
    qint64 m_toNs;
    ExportJob *m_job;
    QMap<QString, QCheckBox *> m_columns;
    QLineEdit *m_path;
    QPushButton *m_browse;
    QCheckBox *m_bom;
    QComboBox *m_order;
    QProgressBar *m_progress;
    QLabel *m_result;
    InlineMessage *m_message;
    QPushButton *m_start;
    QPushButton *m_cancel;
};

} // namespace idl::console::ui
