#pragma once

#include "idl/console/gateway_client.h"

#include <QObject>
#include <QPointer>
#include <QStringList>

#include <atomic>
#include <memory>

class QFile;
class QThread;

namespace idl::console {

class CsvWriter;

// What to export and where.
struct ExportRequest
{
    ConnectionSettings connection;
    QString q;
    QString from; // protocol time argument; absolute ns text keeps it equal to the query
    QString to;
    bool ascending = true;
    QStringList columns = {QStringLiteral("time"),    QStringLiteral("level"),
                           QStringLiteral("app"),     QStringLiteral("host"),
                           QStringLiteral("message"), QStringLiteral("attrs")};
    QString path;               // destination file
    bool byteOrderMark = false; // UTF-8 BOM for Excel
    int chunk = 5000;           // rows per `rows` message
};

// Streams every row matching a query to a CSV file: opens its own gateway connection (so
// the export never competes with the window's requests), sends `export`, writes each
// `rows` chunk as it arrives into PATH.part and renames it to PATH when `done` arrives.
// Cancelling sends `cancel` and removes the partial file. Create it, move it to a QThread,
// call start() there (queued); cancel() may be called from any thread.
class ExportWorker : public QObject
{
    Q_OBJECT
public:
    explicit ExportWorker(ExportRequest request, QObject *parent = nullptr);
    ~ExportWorker() override;

    // Thread-safe: asks the worker to stop as soon as possible.
    void cancel();

public Q_SLOTS:
    // Runs in the worker's thread.
    void start();

Q_SIGNALS:
    // Rows written so far and the share of the time range covered (0..1).
    void progress(qint64 rows, double fraction);
    void finished(qint64 rows, qint64 bytes, qint64 elapsedMs);
    void failed(const idl::console::GatewayError &error);
    void cancelled();

private:
    void onMessage(const QByteArray &utf8);
    void onDone(const QJsonObject &msg);
    void fail(const GatewayError &error);
    void doCancel();
    void cleanup();

    ExportRequest m_request;
    std::atomic<bool> m_cancel{false};
    GatewayClient *m_client = nullptr;
    QPointer<GatewayReply> m_reply;
    std::unique_ptr<QFile> m_file;
    std::unique_ptr<CsvWriter> m_writer;
    qint64 m_rows = 0;
    qint64 m_startedMs = 0;
    bool m_over = false;
};

// Owns a worker thread running one ExportWorker; forwards its signals in the owner's thread
// and cleans up the thread when the export ends. Lives in the GUI thread.
class ExportJob : public QObject
{
    Q_OBJECT
public:
    explicit ExportJob(QObject *parent = nullptr);
    ~ExportJob() override;

    // Starts an export; false when one is already running.
    bool start(const ExportRequest &request);
    void cancel();
    bool isRunning() const { return m_thread != nullptr; }

Q_SIGNALS:
    void progress(qint64 rows, double fraction);
    void finished(qint64 rows, qint64 bytes, qint64 elapsedMs);
    void failed(const idl::console::GatewayError &error);
    void cancelled();

private:
    void stopThread();

    QThread *m_thread = nullptr;
    QPointer<ExportWorker> m_worker;
};

} // namespace idl::console
