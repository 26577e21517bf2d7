#pragma once

// Loads tests/core/golden/decode_cases.jsonl: one JSON object per line with "name",
// "input" (the raw JSON text to decode) or "input_hex" (raw bytes), "expect_ok", and either
// "expect" (fields to compare) or "expect_code" (+ optional "message_contains", "position").

#include <QByteArray>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QString>

#include <string>
#include <vector>

struct GoldenCase
{
    QString name;
    std::string input;
    bool expectOk = false;
    QJsonObject expect;
    QString expectCode;
    QString messageContains;
    long long position = -2; // -2: not checked
};

inline std::vector<GoldenCase> loadGoldenCases(QString *error)
{
    std::vector<GoldenCase> cases;
    QFile file(QStringLiteral(IDL_CORE_GOLDEN_DIR "/decode_cases.jsonl"));
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot open ") + file.fileName();
        return cases;
    }
    int lineNo = 0;
    while (!file.atEnd()) {
        const QByteArray line = file.readLine().trimmed();
        ++lineNo;
        if (line.isEmpty())
            continue;
        QJsonParseError parseError;
        const QJsonDocument doc = QJsonDocument::fromJson(line, &parseError);
        if (!doc.isObject()) {
            *error = QStringLiteral("golden line %1: %2").arg(lineNo).arg(parseError.errorString());
            return {};
        }
        const QJsonObject o = doc.object();
        GoldenCase c;
        c.name = o.value(QStringLiteral("name")).toString();
        if (o.contains(QStringLiteral("input_hex")))
            c.input =
                QByteArray::fromHex(o.value(QStringLiteral("input_hex")).toString().toLatin1())
                    .toStdString();
        else
            c.input = o.value(QStringLiteral("input")).toString().toUtf8().toStdString();
        c.expectOk = o.value(QStringLiteral("expect_ok")).toBool();
        c.expect = o.value(QStringLiteral("expect")).toObject();
        c.expectCode = o.value(QStringLiteral("expect_code")).toString();
        c.messageContains = o.value(QStringLiteral("message_contains")).toString();
        if (o.contains(QStringLiteral("position")))
            c.position = o.value(QStringLiteral("position")).toInteger();
        cases.push_back(std::move(c));
    }
    return cases;
}
