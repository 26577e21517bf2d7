#include "idl/collector/ingest_decoder.h"

#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cctype>

namespace idl::collector {

namespace {

constexpr std::size_t kChunk = 64 * 1024;

std::string_view trim(std::string_view s)
{
    const auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && ws(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && ws(s.back()))
        s.remove_suffix(1);
    return s;
}

std::string lower(std::string_view s)
{
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

Error tooLarge(std::size_t maxOutput)
{
    return makeError(ErrorCode::TooLarge, "decompressed body is over the limit of " +
                                              std::to_string(maxOutput) + " bytes");
}

Result<std::string> inflateGzip(std::string_view in, std::size_t maxOutput)
{
    z_stream zs{};
    // 15 + 32: zlib or gzip header, detected automatically.
    if (inflateInit2(&zs, 15 + 32) != Z_OK)
        return makeError(ErrorCode::Internal, "inflateInit2 failed");
    std::string out;
    zs.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(in.data()));
    zs.avail_in = static_cast<uInt>(in.size());
    int rc = Z_OK;
    for (;;) {
        const std::size_t before = out.size();
        const std::size_t room = std::min(kChunk, maxOutput + 1 - before);
        out.resize(before + room);
        zs.next_out = reinterpret_cast<Bytef *>(out.data() + before);
        zs.avail_out = static_cast<uInt>(room);
        rc = inflate(&zs, Z_NO_FLUSH);
        out.resize(before + (room - zs.avail_out));
        if (out.size() > maxOutput) {
            inflateEnd(&zs);
            return tooLarge(maxOutput);
        }
        if (rc == Z_STREAM_END) {
            if (zs.avail_in == 0)
                break;
            // Concatenated gzip members (e.g. appended files) form one body.
            if (inflateReset(&zs) != Z_OK)
                break;
            continue;
        }
        if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
            inflateEnd(&zs);
            return makeError(ErrorCode::BadRequest, "gzip body is truncated");
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            inflateEnd(&zs);
            return makeError(ErrorCode::BadRequest,
                             std::string("corrupt gzip body: ") + (zs.msg ? zs.msg : "error"));
        }
    }
    inflateEnd(&zs);
    return out;
}

// Snappy's block format (Loki push, Prometheus remote write): the uncompressed length is read
// from the header first, so an over-limit body costs nothing.
Result<std::string> uncompressSnappy(std::string_view in, std::size_t maxOutput)
{
    std::size_t length = 0;
    if (!snappy::GetUncompressedLength(in.data(), in.size(), &length))
        return makeError(ErrorCode::BadRequest, "corrupt snappy body: no valid length header");
    if (length > maxOutput)
        return tooLarge(maxOutput);
    std::string out(length, '\0');
    if (!snappy::RawUncompress(in.data(), in.size(), out.data()))
        return makeError(ErrorCode::BadRequest, "corrupt snappy body");
    return out;
}

Result<std::string> decompressZstd(std::string_view in, std::size_t maxOutput)
{
    ZSTD_DCtx *ctx = ZSTD_createDCtx();
    if (!ctx)
        return makeError(ErrorCode::Internal, "ZSTD_createDCtx failed");
    // Refuse frames that need a huge window (memory before any output).
    ZSTD_DCtx_setParameter(ctx, ZSTD_d_windowLogMax, 23);
    std::string out;
    ZSTD_inBuffer input{in.data(), in.size(), 0};
    std::size_t last = 1;
    while (input.pos < input.size || last != 0) {
        const std::size_t before = out.size();
        const std::size_t room = std::min(kChunk, maxOutput + 1 - before);
        out.resize(before + room);
        ZSTD_outBuffer output{out.data() + before, room, 0};
        last = ZSTD_decompressStream(ctx, &output, &input);
        out.resize(before + output.pos);
        if (ZSTD_isError(last)) {
            ZSTD_freeDCtx(ctx);
            return makeError(ErrorCode::BadRequest,
                             std::string("corrupt zstd body: ") + ZSTD_getErrorName(last));
        }
        if (out.size() > maxOutput) {
            ZSTD_freeDCtx(ctx);
            return tooLarge(maxOutput);
        }
        if (input.pos == input.size && output.pos < room && last != 0) {
            ZSTD_freeDCtx(ctx);
            return makeError(ErrorCode::BadRequest, "zstd body is truncated");
        }
    }
    ZSTD_freeDCtx(ctx);
    return out;
}

bool isWhitespace(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Decodes one event into `scratch` (reused across the events of a request) and keeps it in
// the form `output` asks for, or records why it was rejected.
void addEvent(DecodedBatch &batch, std::string_view text, std::size_t index, EventDecoder &decoder,
              std::int64_t receivedNs, const BatchLimits &limits, const EventCheck &check,
              EventOutput output, LogEvent &scratch, const EncodedSink *onEncoded = nullptr)
{
    if (auto r = decoder.decodeIncoming(text, receivedNs, scratch); !r) {
        batch.reject(index, std::move(r).error(), limits.maxErrors);
        return;
    }
    if (check)
        if (auto err = check(scratch)) {
            batch.reject(index, std::move(*err), limits.maxErrors);
            return;
        }
    if (output == EventOutput::Encoded) {
        batch.encoded.append(scratch);
        if (onEncoded && *onEncoded)
            (*onEncoded)(batch.encoded);
    } else
        batch.events.push_back(scratch);
}

Error tooMany(std::size_t max)
{
    return makeError(ErrorCode::TooMany,
                     "more than " + std::to_string(max) + " events in one request");
}

} // namespace

void EncodedEvents::append(const LogEvent &event)
{
    Span span;
    span.valueOffset = static_cast<std::uint32_t>(bytes.size());
    appendEncodedEvent(bytes, event);
    span.valueSize = static_cast<std::uint32_t>(bytes.size() - span.valueOffset);
    span.keyOffset = static_cast<std::uint32_t>(bytes.size());
    bytes.append(event.app);
    span.keySize = static_cast<std::uint32_t>(event.app.size());
    spans.push_back(span);
}

void DecodedBatch::reject(std::size_t index, Error error, std::size_t maxErrors)
{
    if (rejected == 0)
        common = error.code;
    else if (common && *common != error.code)
        common.reset();
    ++rejected;
    if (errors.size() < maxErrors)
        errors.push_back({index, std::move(error)});
}

Result<ContentEncoding> parseContentEncoding(std::string_view header)
{
    const std::string e = lower(trim(header));
    if (e.empty() || e == "identity")
        return ContentEncoding::Identity;
    if (e == "gzip" || e == "x-gzip")
        return ContentEncoding::Gzip;
    if (e == "zstd")
        return ContentEncoding::Zstd;
    return makeError(ErrorCode::BadEncoding,
                     "unsupported Content-Encoding \"" + e + "\" (use gzip, zstd or none)");
}

std::string mediaType(std::string_view header)
{
    return lower(trim(header.substr(0, header.find(';'))));
}

Result<BodyFormat> parseNativeContentType(std::string_view header)
{
    const std::string type = mediaType(header);
    const auto semi = header.find(';');
    if (semi != std::string_view::npos) {
        const std::string params = lower(header.substr(semi + 1));
        const auto cs = params.find("charset=");
        if (cs != std::string::npos) {
            std::string charset(trim(params.substr(cs + 8, params.find(';', cs) - cs - 8)));
            std::erase(charset, '"');
            if (charset != "utf-8" && charset != "utf8")
                return makeError(ErrorCode::BadEncoding,
                                 "unsupported charset \"" + charset + "\" (use UTF-8)");
        }
    }
    if (type == "application/json")
        return BodyFormat::Json;
    if (type == "application/x-ndjson" || type == "application/ndjson" ||
        type == "application/jsonl" || type == "application/x-jsonlines" ||
        type == "application/jsonlines" || type == "application/json-seq")
        return BodyFormat::Ndjson;
    return makeError(ErrorCode::BadEncoding,
                     "unsupported Content-Type \"" + type +
                         "\" (use application/json or application/x-ndjson)");
}

Result<std::string> decompress(std::string body, ContentEncoding encoding, std::size_t maxOutput)
{
    switch (encoding) {
    case ContentEncoding::Identity:
        if (body.size() > maxOutput)
            return tooLarge(maxOutput);
        return body;
    case ContentEncoding::Gzip:
        return inflateGzip(body, maxOutput);
    case ContentEncoding::Zstd:
        return decompressZstd(body, maxOutput);
    case ContentEncoding::Snappy:
        return uncompressSnappy(body, maxOutput);
    }
    return makeError(ErrorCode::Internal, "unknown encoding");
}

Result<DecodedBatch> decodeNativeBatch(std::string_view body, BodyFormat format,
                                       EventDecoder &decoder, std::int64_t receivedNs,
                                       const BatchLimits &limits, const EventCheck &check,
                                       EventOutput output, EncodedEvents storage,
                                       const EncodedSink &onEncoded)
{
    DecodedBatch batch;
    if (output == EventOutput::Encoded) {
        batch.encoded = std::move(storage);
        batch.encoded.clear();
    }
    LogEvent scratch;
    const std::string_view trimmed = trim(body);
    if (trimmed.empty())
        return makeError(ErrorCode::BadJson, "the body holds no events");

    if (format == BodyFormat::Ndjson || trimmed.front() != '[') {
        if (format == BodyFormat::Json) {
            // One event object.
            batch.total = 1;
            addEvent(batch, trimmed, 0, decoder, receivedNs, limits, check, output, scratch);
            return batch;
        }
        // Count the events first: a request over the limit fails before any event is decoded.
        std::size_t lines = 0;
        for (std::size_t pos = 0; pos < body.size();) {
            auto nl = body.find('\n', pos);
            if (nl == std::string_view::npos)
                nl = body.size();
            if (!trim(body.substr(pos, nl - pos)).empty() && ++lines > limits.maxEvents)
                return tooMany(limits.maxEvents);
            pos = nl + 1;
        }
        if (output == EventOutput::Encoded) {
            // The canonical form adds an id, two times and short keys to each event.
            batch.encoded.spans.reserve(std::min(lines + 1, limits.maxEvents));
            batch.encoded.bytes.reserve(body.size() + (lines + 1) * 128);
        } else {
            batch.events.reserve(std::min(lines + 1, limits.maxEvents));
        }
        std::size_t index = 0;
        std::size_t pos = 0;
        while (pos < body.size()) {
            auto nl = body.find('\n', pos);
            if (nl == std::string_view::npos)
                nl = body.size();
            const std::string_view line = trim(body.substr(pos, nl - pos));
            pos = nl + 1;
            if (line.empty())
                continue;
            if (index == limits.maxEvents)
                return tooMany(limits.maxEvents);
            addEvent(batch, line, index++, decoder, receivedNs, limits, check, output, scratch,
                     &onEncoded);
        }
        batch.total = index;
        return batch;
    }

    // A JSON array: split its top-level elements (strings and nesting tracked), then decode
    // each element on its own so one bad element does not spoil the others.
    std::size_t pos = static_cast<std::size_t>(trimmed.data() - body.data()) + 1;
    std::size_t index = 0;
    bool closed = false;
    for (;;) {
        while (pos < body.size() && isWhitespace(body[pos]))
            ++pos;
        if (pos >= body.size())
            break;
        if (body[pos] == ']' && index == 0) {
            closed = true;
            ++pos;
            break;
        }
        const std::size_t start = pos;
        int depth = 0;
        bool inString = false;
        for (; pos < body.size(); ++pos) {
            const char c = body[pos];
            if (inString) {
                if (c == '\\')
                    ++pos;
                else if (c == '"')
                    inString = false;
                continue;
            }
            if (c == '"')
                inString = true;
            else if (c == '{' || c == '[')
                ++depth;
            else if (c == '}' || c == ']') {
                if (depth == 0)
                    break;
                --depth;
            } else if (c == ',' && depth == 0)
                break;
        }
        if (index == limits.maxEvents)
            return tooMany(limits.maxEvents);
        const std::string_view element =
            trim(body.substr(start, std::min(pos, body.size()) - start));
        addEvent(batch, element, index++, decoder, receivedNs, limits, check, output, scratch);
        if (pos >= body.size())
            break;
        if (body[pos] == ']') {
            closed = true;
            ++pos;
            break;
        }
        ++pos; // ','
    }
    if (!closed || !trim(body.substr(std::min(pos, body.size()))).empty()) {
        batch.reject(
            index++,
            makeError(ErrorCode::BadJson,
                      closed ? "text after the closing ']'" : "the array is not closed with ']'",
                      static_cast<long long>(std::min(pos, body.size()))),
            limits.maxErrors);
    }
    batch.total = index;
    return batch;
}

} // namespace idl::collector
