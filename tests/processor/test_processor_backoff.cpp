// Back-off schedule: nominal growth, cap, jitter range and validation.
#include "idl/processor/backoff.h"

#include <QTest>

using namespace idl::processor;
using namespace std::chrono_literals;

class TestProcessorBackoff : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void nominalGrowsByFactorUntilCap();
    void jitterStaysWithinRangeAndSpreads();
    void noJitterIsExact();
    void fullJitterReachesZeroButNeverCap();
    void hugeAttemptsSaturate();
    void maxAttempts();
    void validation();
};

void TestProcessorBackoff::nominalGrowsByFactorUntilCap()
{
    BackoffPolicy p;
    p.base = 100ms;
    p.factor = 2.0;
    p.cap = 1000ms;
    QCOMPARE(p.nominalDelay(1), 100ms);
    QCOMPARE(p.nominalDelay(2), 200ms);
    QCOMPARE(p.nominalDelay(3), 400ms);
    QCOMPARE(p.nominalDelay(4), 800ms);
    QCOMPARE(p.nominalDelay(5), 1000ms); // 1600 capped
    QCOMPARE(p.nominalDelay(50), 1000ms);
    QCOMPARE(p.nominalDelay(0), 100ms); // below 1 counts as the first retry
    p.factor = 1.5;
    QCOMPARE(p.nominalDelay(3), 225ms);
}

void TestProcessorBackoff::jitterStaysWithinRangeAndSpreads()
{
    BackoffPolicy p;
    p.base = 100ms;
    p.factor = 3.0;
    p.cap = 5000ms;
    p.jitter = 0.25;
    std::mt19937_64 rng(42);
    for (int attempt = 1; attempt <= 6; ++attempt) {
        const auto hi = p.nominalDelay(attempt);
        const auto lo = p.minDelay(attempt);
        QVERIFY(lo <= hi);
        QCOMPARE(lo.count(), static_cast<long long>(std::ceil(hi.count() * 0.75)));
        std::chrono::milliseconds seenMin = hi, seenMax = 0ms;
        for (int i = 0; i < 2000; ++i) {
            const auto d = p.delay(attempt, rng);
            QVERIFY2(d >= lo && d <= hi,
                     qPrintable(QStringLiteral("attempt %1 delay %2").arg(attempt).arg(d.count())));
            seenMin = std::min(seenMin, d);
            seenMax = std::max(seenMax, d);
        }
        // The draws actually spread over the range (not a constant).
        const auto width = (hi - lo).count();
        QVERIFY(seenMax.count() - seenMin.count() >= width * 8 / 10);
    }
    // Growing: every delay of retry n+1 is at least the smallest of retry n (factor 3,
    // jitter 0.25: min(n+1) = 0.75*3*nominal(n) > nominal(n)) until the cap.
    for (int attempt = 1; attempt <= 3; ++attempt)
        QVERIFY(p.minDelay(attempt + 1) > p.nominalDelay(attempt));
}

void TestProcessorBackoff::noJitterIsExact()
{
    BackoffPolicy p;
    p.base = 50ms;
    p.jitter = 0;
    std::mt19937_64 rng(1);
    for (int i = 0; i < 100; ++i)
        QCOMPARE(p.delay(3, rng), 200ms);
}

void TestProcessorBackoff::fullJitterReachesZeroButNeverCap()
{
    BackoffPolicy p;
    p.base = 10ms;
    p.cap = 40ms;
    p.jitter = 1.0;
    std::mt19937_64 rng(7);
    bool sawSmall = false;
    for (int i = 0; i < 5000; ++i) {
        const auto d = p.delay(10, rng);
        QVERIFY(d >= 0ms && d <= 40ms);
        sawSmall = sawSmall || d <= 2ms;
    }
    QVERIFY(sawSmall);
}

void TestProcessorBackoff::hugeAttemptsSaturate()
{
    BackoffPolicy p;
    p.base = 1000ms;
    p.factor = 10;
    p.cap = 60'000ms;
    QCOMPARE(p.nominalDelay(1000), 60'000ms);
    QCOMPARE(p.nominalDelay(std::numeric_limits<int>::max()), 60'000ms);
}

void TestProcessorBackoff::maxAttempts()
{
    BackoffPolicy p;
    p.maxAttempts = 3;
    QVERIFY(p.mayRetry(0));
    QVERIFY(p.mayRetry(2));
    QVERIFY(!p.mayRetry(3));
    p.maxAttempts = 0;
    QVERIFY(!p.mayRetry(0));
}

void TestProcessorBackoff::validation()
{
    BackoffPolicy p;
    QVERIFY(p.validate().ok());
    p.base = 0ms;
    QVERIFY(!p.validate().ok());
    p = {};
    p.factor = 0.5;
    QVERIFY(!p.validate().ok());
    p = {};
    p.cap = 10ms;
    QVERIFY(!p.validate().ok());
    p = {};
    p.jitter = 1.5;
    QVERIFY(!p.validate().ok());
    p = {};
    p.maxAttempts = -1;
    QVERIFY(!p.validate().ok());
}

QTEST_APPLESS_MAIN(TestProcessorBackoff)
#include "test_processor_backoff.moc"
