#pragma once

#include <QNetworkAccessManager>
#include <QObject>
#include <QTimer>
#include <QUrl>

#include <random>

namespace idl::stack {

// Synthetic application logs for `idl-stack up --demo`: a few services with a realistic
// level mix, message templates and attributes, posted as NDJSON batches to the collector
// a few times a second. Counts what the collector accepted and rejected. Main thread.
class DemoTraffic : public QObject
{
    Q_OBJECT
public:
    DemoTraffic(QUrl collectorUrl, QByteArray apiKey, int eventsPerSecond,
                QObject *parent = nullptr);
    void start();
    void stop();
    quint64 accepted() const { return m_accepted; }
    quint64 failedRequests() const { return m_failed; }

    // One NDJSON batch of n events (exposed for tests).
    QByteArray makeBatch(int n);

private:
    void tick();

    QUrl m_url;
    QByteArray m_apiKey;
    int m_rate;
    QTimer m_timer;
    QNetworkAccessManager m_nam;
    std::mt19937 m_rng{20261126};
    quint64 m_seq = 0;
    quint64 m_accepted = 0;
    quint64 m_failed = 0;
    int m_inFlight = 0;
};

} // namespace idl::stack
