// Unit tests of the gateway's token and wire helpers (no services).
#include "idl/gateway/tokens.h"
#include "idl/gateway/wire.h"
#include "idl/service/auth/secret.h"

#include <QTest>

using namespace idl::gateway;

class GatewayUnit : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void tokensHaveAPrefixAndHash()
    {
        const NewToken t = generateToken();
        QCOMPARE(t.token.size(), size_t(4 + 12 + 1 + 43));
        QCOMPARE(tokenPrefix(t.token).value_or(""), t.prefix);
        QCOMPARE(t.hash, idl::auth::hashSecret(t.token));
        QCOMPARE(t.hash.size(), size_t(32));
        QVERIFY(generateToken().token != t.token);
        QVERIFY(!tokenPrefix("idt_short_x"));
        QVERIFY(!tokenPrefix(std::string("idl_") + t.token.substr(4)));
    }
    void timeArguments()
    {
        const std::int64_t now = 1'800'000'000'000'000'000;
        QCOMPARE(*parseTimeArg("now", now), now);
        QCOMPARE(*parseTimeArg("-15m", now), now - 15 * 60'000'000'000LL);
        QCOMPARE(*parseTimeArg("-2d", now), now - 2 * 86'400'000'000'000LL);
        QCOMPARE(*parseTimeArg("1700000000123456789", now), 1700000000123456789LL);
        QCOMPARE(*parseTimeArg("2023-11-14T22:13:20Z", now), 1700000000000000000LL);
        for (const char *bad :
             {"", "-", "-5x", "+5m", "yesterday", "2023-13-01T00:00:00Z", "-99999999999w"})
            QVERIFY2(!parseTimeArg(bad, now), bad);
    }
    void cursorsRoundTrip()
    {
        const std::string id = "0193694b-2f1e-7c3a-9d41-5b2e8f3c1a77";
        auto c = decodeCursor(encodeCursor(1700000000123456789LL, id));
        QVERIFY(c.ok());
        QCOMPARE(c->first, 1700000000123456789LL);
        QCOMPARE(c->second, id);
        QVERIFY(!decodeCursor("not a cursor!"));
        QVERIFY(!decodeCursor(encodeCursor(1, "x'); DROP TABLE logs; --")));
    }
    void bucketsStayBelowTheLimit()
    {
        const std::int64_t h = 3'600'000'000'000LL;
        QCOMPARE(chooseBucketNs(0, h), 60'000'000'000LL);
        QCOMPARE(chooseBucketNs(0, 24 * h), 900'000'000'000LL);
        QVERIFY((7 * 24 * h) / chooseBucketNs(0, 7 * 24 * h) <= 120);
    }
    void pgArrays()
    {
        const std::vector<std::string> v{"a", "b,c", "d\"e", "f\\g"};
        QCOMPARE(fromPgArray(toPgArray(v)), v);
    }
};

QTEST_GUILESS_MAIN(GatewayUnit)
#include "test_gateway_unit.moc"
