// libFuzzer entry point for the gateway's WebSocket (and HTTP) request parsing (shared/protocol
// decodeEnvelope + decodeRequest): any message gives a request or an error with one of the
// protocol's codes and a message. A decoded request, encoded again with the console's one
// encoder (toJson) and sent as text, decodes to the same request.
#include "fuzz_check.h"
#include "idl/protocol/requests.h"

#include <QByteArrayView>
#include <QJsonDocument>
#include <QJsonObject>
#include <QString>

#include <cstdint>

namespace {

bool requestErrorCode(idl::ErrorCode code)
{
    // bad_timestamp: a time argument (from, to, since) that does not parse (docs/protocol.md).
    return code == idl::ErrorCode::BadRequest || code == idl::ErrorCode::BadField ||
           code == idl::ErrorCode::MissingField || code == idl::ErrorCode::BadTimestamp;
}

} // namespace

using idl::fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    using namespace idl::protocol;
    const QByteArrayView text(data, static_cast<qsizetype>(size));
    std::string id;
    const auto envelope = decodeEnvelope(text, &id);
    if (!envelope.ok()) {
        const idl::ErrorCode code = envelope.error().code;
        require(code == idl::ErrorCode::BadJson || code == idl::ErrorCode::BadRequest,
                "an envelope error is bad_json or bad_request");
        require(!envelope.error().message.empty(), "an error has a message");
        return 0;
    }
    require(id == envelope->id && !id.empty() && id.size() <= kMaxIdBytes, "the id is reported");
    const auto request = decodeRequest(*envelope);
    if (!request.ok()) {
        require(requestErrorCode(request.error().code), "a request error has a protocol code");
        require(!request.error().message.empty(), "an error has a message");
        return 0;
    }
    require(typeName(*request) == envelope->type, "the request has the envelope's type");

    QJsonObject json = toJson(*request);
    json.insert(QStringLiteral("id"), QString::fromStdString(id));
    const QByteArray again = QJsonDocument(json).toJson(QJsonDocument::Compact);
    const auto envelope2 = decodeEnvelope(again);
    require(envelope2.ok() && envelope2->id == id, "the re-encoded request has an envelope");
    const auto request2 = decodeRequest(*envelope2);
    require(request2.ok() && *request2 == *request, "the re-encoded request decodes to the same");
    return 0;
}
