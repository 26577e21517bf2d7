#include "idl/console/export_worker.h"

#include "idl/console/csv_writer.h"
#include "idl/console/log_row.h"

#include "fast_json.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QThread>
#include <algorithm>

namespace idl::console {

ExportWorker::ExportWorker(ExportRequest request, QObject *parent)
    : QObject(parent), m_request(std::move(request))
{}

ExportWorker::~ExportWorker()
{
    cleanup();
}

void ExportWorker::cancel()
{
    m_cancel.store(true);
    QMetaObject::invokeMethod(this, &ExportWorker::doCancel, Qt::QueuedConnection);
}

void ExportWorker::start()
{
    m_startedMs = QDateTime::currentMSecsSinceEpoch();
    if (m_cancel.load()) {
        doCancel();
        return;
    }
    // A fresh account may have no ~/Documents yet (the dialog's default folder): the folder
    // of the chosen file is created as a save dialog would let the user do.
    const QString folder = QFileInfo(m_request.path).absolutePath();
    if (!QDir().mkpath(folder)) {
        fail(GatewayError{QStringLiteral("internal"),
                          tr("Cannot create the folder %1").arg(folder)});
        return;
    }
    m_file = std::make_unique<QFile>(m_request.path + QStringLiteral(".part"));
    if (!m_file->open(QIODevice::WriteOnly | QIODevice::Truncate)) {
        fail(
            GatewayError{QStringLiteral("internal"),
                         tr("Cannot write %1: %2").arg(m_file->fileName(), m_file->errorString())});
        return;
    }
    m_writer = std::make_unique<CsvWriter>(m_file.get(), m_request.byteOrderMark);
    m_writer->writeRecord(m_request.columns);

    m_client = new GatewayClient(this);
    connect(m_client, &GatewayClient::connectionLost, this,
            [this](const GatewayError &e, int) { fail(e); });
    m_client->setReconnectDelays(500, 500);
    m_client->open(m_request.connection);

    protocol::Export req;
    req.q = m_request.q.toStdString();
    req.range = {m_request.from.toStdString(), m_request.to.toStdString()};
    req.order = m_request.ascending ? protocol::Order::Asc : protocol::Order::Desc;
    for (const auto &c : m_request.columns)
        req.columns.push_back(c.toStdString());
    req.chunk = std::clamp<std::int64_t>(m_request.chunk, 1, protocol::kMaxChunk);
    GatewayReply *reply = m_client->send(req);
    m_reply = reply;
    reply->setRawRows(true);
    connect(reply, &GatewayReply::rawMessage, this, &ExportWorker::onMessage);
    connect(reply, &GatewayReply::finished, this, &ExportWorker::onDone);
    connect(reply, &GatewayReply::failed, this, &ExportWorker::fail);
}

void ExportWorker::onMessage(const QByteArray &utf8)
{
    if (m_over)
        return;
    if (m_cancel.load()) {
        doCancel();
        return;
    }
    double fraction = -1;
    const qint64 n = fastjson::writeCsvRows(utf8, m_request.columns, *m_writer, &fraction);
    if (n < 0) {
        fail(GatewayError{QStringLiteral("bad_json"),
                          tr("The gateway sent rows that do not parse")});
        return;
    }
    m_rows += n;
    if (m_writer->hasError()) {
        fail(GatewayError{
            QStringLiteral("internal"),
            tr("Write error on %1: %2").arg(m_file->fileName(), m_file->errorString())});
        return;
    }
    Q_EMIT progress(m_rows, qMax(0.0, fraction));
}

void ExportWorker::onDone(const QJsonObject &)
{
    if (m_over)
        return;
    m_over = true;
    const bool ok = m_writer->flush();
    const qint64 bytes = m_writer->bytes();
    m_writer.reset();
    m_file->close();
    const QString part = m_file->fileName();
    if (!ok) {
        QFile::remove(part);
        Q_EMIT failed(GatewayError{QStringLiteral("internal"), tr("Write error on %1").arg(part)});
        return;
    }
    QFile::remove(m_request.path);
    if (!QFile::rename(part, m_request.path)) {
        Q_EMIT failed(GatewayError{QStringLiteral("internal"),
                                   tr("Cannot rename %1 to %2").arg(part, m_request.path)});
        return;
    }
    m_file.reset();
    if (m_client)
        m_client->close();
    Q_EMIT progress(m_rows, 1.0);
    Q_EMIT finished(m_rows, bytes, QDateTime::currentMSecsSinceEpoch() - m_startedMs);
}

void ExportWorker::fail(const GatewayError &error)
{
    if (m_over)
        return;
    m_over = true;
    cleanup();
    Q_EMIT failed(error);
}

void ExportWorker::doCancel()
{
    if (m_over)
        return;
    m_over = true;
    if (m_client && m_reply)
        m_client->cancel(m_reply);
    cleanup();
    Q_EMIT cancelled();
}

void ExportWorker::cleanup()
{
    m_writer.reset();
    if (m_file) {
        m_file->close();
        if (!m_file->fileName().isEmpty() && m_file->fileName() != m_request.path)
            QFile::remove(m_file->fileName());
        m_file.reset();
    }
    if (m_client) {
        m_client->disconnect(this);
        m_client->close();
    }
}

ExportJob::ExportJob(QObject *parent) : QObject(parent) {}

ExportJob::~ExportJob()
{
    cancel();
    stopThread();
}

bool ExportJob::start(const ExportRequest &request)
{
    if (m_thread)
        return false;
    m_thread = new QThread;
    m_thread->setObjectName(QStringLiteral("idl-export"));
    auto *worker = new ExportWorker(request);
    worker->moveToThread(m_thread);
    m_worker = worker;
    connect(m_thread, &QThread::finished, worker, &QObject::deleteLater);
    connect(m_thread, &QThread::started, worker, &ExportWorker::start);
    connect(worker, &ExportWorker::progress, this, &ExportJob::progress);
    connect(worker, &ExportWorker::finished, this, [this](qint64 rows, qint64 bytes, qint64 ms) {
        stopThread();
        Q_EMIT finished(rows, bytes, ms);
    });
    connect(worker, &ExportWorker::failed, this, [this](const GatewayError &e) {
        stopThread();
        Q_EMIT failed(e);
    });
    connect(worker, &ExportWorker::cancelled, this, [this] {
        stopThread();
        Q_EMIT cancelled();
    });
    m_thread->start();
    return true;
}

void ExportJob::cancel()
{
    if (m_worker)
        m_worker->cancel();
}

void ExportJob::stopThread()
{
    if (!m_thread)
        return;
    m_thread->quit();
    m_thread->wait();
    delete m_thread;
    m_thread = nullptr;
}

} // namespace idl::console
