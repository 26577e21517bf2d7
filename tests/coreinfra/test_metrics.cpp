#include "idl/observability/metrics.h"

#include <QTest>

#include <thread>

using namespace idl::metrics;

class TestMetrics : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void exposition()
    {
        Registry r;
        r.counter("idl_requests_total", "Requests by code", {{"code", "202"}}).inc(3);
        r.counter("idl_requests_total", "Requests by code", {{"code", "400"}}).inc();
        r.gauge("idl_queue_depth", "Queue depth").set(7);
        r.callbackGauge("idl_lag", "Lag", [] { return 42.0; }, {{"partition", "0"}});
        auto &h = r.histogram("idl_latency_seconds", "Latency", {0.1, 1});
        h.observe(0.05);
        h.observe(0.5);
        h.observe(3);
        const std::string text = r.exposition();
        QVERIFY(text.find("# TYPE idl_requests_total counter\n") != std::string::npos);
        QVERIFY(text.find("idl_requests_total{code=\"202\"} 3\n") != std::string::npos);
        QVERIFY(text.find("idl_requests_total{code=\"400\"} 1\n") != std::string::npos);
        QVERIFY(text.find("idl_queue_depth 7\n") != std::string::npos);
        QVERIFY(text.find("idl_lag{partition=\"0\"} 42\n") != std::string::npos);
        QVERIFY(text.find("idl_latency_seconds_bucket{le=\"0.1\"} 1\n") != std::string::npos);
        QVERIFY(text.find("idl_latency_seconds_bucket{le=\"1\"} 2\n") != std::string::npos);
        QVERIFY(text.find("idl_latency_seconds_bucket{le=\"+Inf\"} 3\n") != std::string::npos);
        QVERIFY(text.find("idl_latency_seconds_count 3\n") != std::string::npos);
        QVERIFY(text.find("idl_latency_seconds_sum 3.55\n") != std::string::npos);
        // HELP/TYPE once per family
        QCOMPARE(std::count(text.begin(), text.end(), '#'), 8);
    }

    void sameSeriesSameObject()
    {
        Registry r;
        Counter &a = r.counter("c", "h", {{"x", "1"}});
        Counter &b = r.counter("c", "h", {{"x", "1"}});
        QCOMPARE(&a, &b);
        QVERIFY_THROWS_EXCEPTION(std::logic_error, r.gauge("c", "h"));
    }

    void labelEscaping()
    {
        Registry r;
        r.counter("c", "h", {{"path", "a\"b\\c\nd"}}).inc();
        QVERIFY(r.exposition().find("c{path=\"a\\\"b\\\\c\\nd\"} 1") != std::string::npos);
    }

    void concurrentCounting()
    {
        Registry r;
        Counter &c = r.counter("c", "h");
        Histogram &h = r.histogram("h", "h", {1});
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&] {
                for (int i = 0; i < 100000; ++i) {
                    c.inc();
                    h.observe(0.5);
                }
            });
        for (auto &t : threads)
            t.join();
        QCOMPARE(c.value(), 400000u);
        QCOMPARE(h.count(), 400000u);
        QCOMPARE(h.sum(), 200000.0);
    }
};

QTEST_GUILESS_MAIN(TestMetrics)
#include "test_metrics.moc"
