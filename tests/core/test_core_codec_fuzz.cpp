// Deterministic mutation fuzzing of EventDecoder::decodeIncoming: 200k mutants of the valid
// golden inputs (byte flips, insertions of JSON punctuation and non-ASCII bytes, deletions,
// truncations, duplicated chunks). Every mutant must decode to an event or to an Error with
// a proper code and message; every decoded event must survive the canonical encoding.
#include "golden_cases.h"

#include "idl/core/json_codec.h"

#include <QElapsedTimer>
#include <QTest>

#include <map>
#include <random>

using namespace idl;

class TestCoreCodecFuzz : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void mutations();
};

namespace {

void mutate(std::mt19937_64 &rng, std::string &s)
{
    static constexpr char kInteresting[] = {
        '{',    '}',    '[',    ']',    '"',    '\\',   ':',    ',',    '0',   '9',
        '-',    'e',    '.',    'n',    't',    'u',    ' ',    '\n',   '\0',  '\x1f',
        '\x7f', '\x80', '\xbf', '\xc0', '\xe2', '\xed', '\xf0', '\xf4', '\xff'};
    auto pos = [&](std::size_t extra) { return rng() % (s.size() + extra); };
    switch (rng() % 7) {
    case 0: // overwrite a byte with anything
        if (!s.empty())
            s[pos(0)] = static_cast<char>(rng());
        break;
    case 1: // overwrite with JSON punctuation / boundary bytes
        if (!s.empty())
            s[pos(0)] = kInteresting[rng() % sizeof kInteresting];
        break;
    case 2: // insert
        s.insert(pos(1), 1, kInteresting[rng() % sizeof kInteresting]);
        break;
    case 3: // delete a short range
        if (!s.empty()) {
            const std::size_t at = pos(0);
            s.erase(at, 1 + rng() % 8);
        }
        break;
    case 4: // truncate
        s.resize(pos(1));
        break;
    case 5: { // duplicate a chunk somewhere else
        if (s.empty())
            break;
        const std::size_t from = pos(0);
        const std::string chunk = s.substr(from, 1 + rng() % 32);
        s.insert(pos(1), chunk);
        break;
    }
    default: // flip one bit
        if (!s.empty())
            s[pos(0)] ^= static_cast<char>(1u << (rng() % 8));
        break;
    }
}

} // namespace

void TestCoreCodecFuzz::mutations()
{
    QString error;
    const std::vector<GoldenCase> cases = loadGoldenCases(&error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    std::vector<std::string> seeds;
    for (const GoldenCase &c : cases) {
        if (c.expectOk && c.input.size() < 4096)
            seeds.push_back(c.input);
    }
    QVERIFY(seeds.size() > 30);

    constexpr int kIterations = 200000;
    std::mt19937_64 rng(0x1D1);
    EventDecoder decoder;
    int decoded = 0;
    int rejected = 0;
    std::map<std::string_view, int> byCode;
    QElapsedTimer timer;
    timer.start();
    for (int i = 0; i < kIterations; ++i) {
        std::string input = seeds[rng() % seeds.size()];
        for (int m = 1 + static_cast<int>(rng() % 3 == 0 ? rng() % 4 : 0); m > 0; --m)
            mutate(rng, input);
        const Result<LogEvent> r = decoder.decodeIncoming(input, 1700000000000000000);
        if (!r.ok()) {
            ++rejected;
            const Error &e = r.error();
            ++byCode[e.codeName()];
            if (e.code == ErrorCode::Internal || e.message.empty() ||
                e.position > static_cast<long long>(input.size()))
                QFAIL(qPrintable(
                    QStringLiteral("iteration %1: bad error %2 '%3' for input %4")
                        .arg(i)
                        .arg(QLatin1String(e.codeName().data(), e.codeName().size()))
                        .arg(QString::fromStdString(e.message))
                        .arg(QString::fromLatin1(QByteArray::fromStdString(input).toHex()))));
            continue;
        }
        ++decoded;
        const Result<LogEvent> back = decodeEvent(encodeEvent(*r));
        if (!back.ok() || !(*back == *r))
            QFAIL(qPrintable(
                QStringLiteral("iteration %1: canonical round trip failed for %2")
                    .arg(i)
                    .arg(QString::fromLatin1(QByteArray::fromStdString(input).toHex()))));
    }
    const qint64 ms = timer.elapsed();
    qInfo("%d mutants in %lld ms: %d decoded, %d rejected", kIterations, static_cast<long long>(ms),
          decoded, rejected);
    for (const auto &[code, count] : byCode)
        qInfo("  %.*s: %d", static_cast<int>(code.size()), code.data(), count);
    QVERIFY(decoded > 1000 && rejected > 1000); // the mutations exercise both paths
    QVERIFY2(ms < 10000, "mutation fuzzing took longer than 10 s");
}

QTEST_APPLESS_MAIN(TestCoreCodecFuzz)
#include "test_core_codec_fuzz.moc"
