// Unit tests of the gateway's token and wire helpers (no services). Time arguments and
// cursors belong to the protocol: tests/protocol.
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
