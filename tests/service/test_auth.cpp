// The auth helpers every service uses: the one secret generator, secret hashes and their
// constant-time check, and the per-key token-bucket rate limiter.
#include "idl/service/auth/rate_limiter.h"
#include "idl/service/auth/secret.h"

#include <QTest>

#include <map>
#include <set>
#include <thread>
#include <vector>

using namespace idl;
using namespace std::chrono_literals;

class TestAuth : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void randomTextUsesTheAlphabetUniformly()
    {
        for (std::string_view alphabet : {auth::kLowerAlnum, auth::kBase64Url, auth::kLowerHex}) {
            const std::size_t perChar = 4000;
            const std::string text = auth::randomText(perChar * alphabet.size(), alphabet);
            QCOMPARE(text.size(), perChar * alphabet.size());
            std::map<char, std::size_t> counts;
            for (char c : text) {
                QVERIFY(alphabet.find(c) != std::string_view::npos);
                ++counts[c];
            }
            // Every character shows up, none far from its share: within 8% (5 standard
            // deviations). Bytes taken modulo 36 without rejection would give the first 4
            // characters of kLowerAlnum 14% more.
            QCOMPARE(counts.size(), alphabet.size());
            for (auto [c, n] : counts)
                QVERIFY2(n > perChar * 92 / 100 && n < perChar * 108 / 100,
                         (std::string(1, c) + ": " + std::to_string(n)).c_str());
        }
        QVERIFY(auth::randomText(0, auth::kLowerHex).empty());
        QCOMPARE(auth::randomText(1, auth::kLowerHex).size(), std::size_t(1));
        QVERIFY(auth::randomText(40, auth::kLowerAlnum) != auth::randomText(40, auth::kLowerAlnum));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, auth::randomText(4, "a"));
    }

    void secretHashesAndMatches()
    {
        const std::string secret = "idl_abcdefghijkl_" + auth::randomText(40, auth::kLowerAlnum);
        const std::string hash = auth::hashSecret(secret);
        QCOMPARE(hash.size(), auth::kSecretHashLength);
        QCOMPARE(auth::hashSecret(secret), hash);
        // SHA-256 of "abc" (FIPS 180-2 example).
        QCOMPARE(QByteArray::fromStdString(auth::hashSecret("abc")).toHex(),
                 QByteArray("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        QVERIFY(auth::secretMatches(secret, hash));
        std::string wrong = secret;
        wrong.back() = wrong.back() == 'a' ? 'b' : 'a';
        QVERIFY(!auth::secretMatches(wrong, hash));
        QVERIFY(!auth::secretMatches(secret, hash.substr(1)));
        QVERIFY(!auth::secretMatches(secret, hash + '\0'));
        QVERIFY(!auth::secretMatches(secret, ""));
        // A missing record is compared against zeros and never matches.
        QVERIFY(!auth::secretMatches(secret, std::string(auth::kSecretHashLength, '\0')));
    }

    void constantTimeEquals()
    {
        QVERIFY(auth::constantTimeEquals("abc", "abc"));
        QVERIFY(auth::constantTimeEquals("", ""));
        QVERIFY(!auth::constantTimeEquals("abc", "abd"));
        QVERIFY(!auth::constantTimeEquals("abc", "abcd"));
        QVERIFY(!auth::constantTimeEquals("", "a"));
        QVERIFY(!auth::constantTimeEquals(std::string_view("a\0", 2), "a"));
    }

    void limiterAllowsABurstThenRefuses()
    {
        auth::RateLimiter limiter(10, 3);
        const auto t0 = auth::RateLimiter::Clock::now();
        QVERIFY(!limiter.take("a", t0));
        QVERIFY(!limiter.take("a", t0));
        QVERIFY(!limiter.take("a", t0));
        // Empty: one token comes back after 1/10 s.
        const auto wait = limiter.take("a", t0);
        QVERIFY(wait && *wait >= 100 && *wait <= 101);
        // Keys are independent.
        QVERIFY(!limiter.take("b", t0));
    }

    void limiterRefillsAndSaysWhenToRetry()
    {
        auth::RateLimiter limiter(4, 1); // a token every 250 ms
        const auto t0 = auth::RateLimiter::Clock::now();
        QVERIFY(!limiter.take("k", t0));
        QCOMPARE(limiter.take("k", t0).value_or(-1), std::int64_t(250));
        const auto later = limiter.take("k", t0 + 100ms);
        QVERIFY(later && *later >= 150 && *later <= 151);
        // Rounded up, never 0 while refused.
        QCOMPARE(limiter.take("k", t0 + 249'999us).value_or(-1), std::int64_t(1));
        QVERIFY(!limiter.take("k", t0 + 251ms));
        QVERIFY(limiter.take("k", t0 + 251ms));
        // Refill stops at the burst: a long pause gives one request, not many.
        QVERIFY(!limiter.take("k", t0 + 1h));
        QCOMPARE(limiter.take("k", t0 + 1h).value_or(-1), std::int64_t(250));
        // A clock that goes backwards (another thread's earlier now) takes nothing away.
        QVERIFY(limiter.take("k", t0).has_value());
        QVERIFY(!limiter.take("k", t0 + 1h + 251ms));
        // Real time, too.
        auth::RateLimiter fast(20, 1);
        QVERIFY(!fast.take("x"));
        const auto wait = fast.take("x");
        QVERIFY(wait && *wait >= 1 && *wait <= 50);
        QTest::qWait(60);
        QVERIFY(!fast.take("x"));
    }

    void limiterOffWhenRateIsZero()
    {
        auth::RateLimiter off(0, 1);
        for (int i = 0; i < 1000; ++i)
            QVERIFY(!off.take("x"));
        QCOMPARE(off.size(), std::size_t(0));
        // A burst below 1 still lets one request through.
        auth::RateLimiter tiny(1, 0);
        QVERIFY(!tiny.take("x"));
        QVERIFY(tiny.take("x"));
    }

    void limiterMemoryIsBounded()
    {
        // 400k keys, each used once and full again a moment later: the tables are swept
        // instead of growing with every key ever seen.
        auth::RateLimiter limiter(1000, 1);
        auto now = auth::RateLimiter::Clock::now();
        std::size_t peak = 0;
        for (int i = 0; i < 400'000; ++i) {
            now += 1ms;
            QVERIFY(!limiter.take("key-" + std::to_string(i), now));
            peak = std::max(peak, limiter.size());
        }
        QVERIFY2(peak <= 16 * 8192, std::to_string(peak).c_str());
        // Busy keys are kept (their state matters) even while sweeping.
        auth::RateLimiter busy(1, 1);
        const auto t0 = auth::RateLimiter::Clock::now();
        for (int i = 0; i < 200'000; ++i)
            QVERIFY(!busy.take("busy-" + std::to_string(i), t0));
        QCOMPARE(busy.size(), std::size_t(200'000));
        for (int i = 0; i < 200'000; i += 997)
            QVERIFY(busy.take("busy-" + std::to_string(i), t0));
        // Once they are full again they go at the next sweep.
        const auto later = t0 + 10s;
        for (int i = 0; i < 400'000; ++i)
            QVERIFY(!busy.take("next-" + std::to_string(i), later + std::chrono::seconds(2 * i)));
        QVERIFY2(busy.size() < 200'000, std::to_string(busy.size()).c_str());
    }

    void limiterIsThreadSafe()
    {
        auth::RateLimiter limiter(1, 1000);
        std::atomic<int> allowed{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&] {
                for (int i = 0; i < 1000; ++i)
                    if (!limiter.take("shared"))
                        ++allowed;
            });
        for (auto &t : threads)
            t.join();
        // The burst of 1000 plus what refilled during the run (well under a second).
        QVERIFY2(allowed >= 1000 && allowed <= 1010, std::to_string(allowed.load()).c_str());
    }
};

QTEST_GUILESS_MAIN(TestAuth)
#include "test_auth.moc"
