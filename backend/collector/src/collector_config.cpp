#include "idl/collector/collector.h"

#include <QStringList>

#include <unistd.h>

namespace idl::collector {

namespace {

QString s(const char *text)
{
    return QString::fromUtf8(text);
}

std::string str(const Config &c, const char *name)
{
    return c.string(s(name)).toStdString();
}

} // namespace

void declareSettings(Config &c)
{
    c.addString(s("http.address"), s("0.0.0.0"), s("Address to listen on"));
    c.addInt(s("http.port"), 7080, s("Port to listen on (0: any free port)"), 0, 65535);
    c.addInt(s("http.threads"), 2, s("HTTP I/O threads"), 1, 64);
    c.addSize(s("http.max-body"), s("5MiB"),
              s("Largest request body as sent (compressed or not); over it: 413"));
    c.addSize(s("http.max-header"), s("16KiB"), s("Largest request header block; over it: 431"));
    c.addDuration(s("http.read-timeout"), s("30s"), s("A request must arrive whole within this"));
    c.addDuration(s("http.idle-timeout"), s("60s"),
                  s("Idle keep-alive connections close after this"));
    c.addInt(s("http.max-connections"), 4096, s("Open connections at most"), 1, 1'000'000);

    c.addInt(s("otlp.grpc-port"), 4317,
             s("OTLP/gRPC listener port (LogsService/Export; TLS as tls.*): -1 = none, 0 = any "
               "free port"),
             -1, 65535);
    c.addString(s("otlp.grpc-address"), QString(),
                s("Address of the OTLP/gRPC listener (empty: "
                  "http.address)"));
    c.addInt(s("otlp.grpc-max-concurrent"), 256,
             s("OTLP/gRPC Export calls in progress at most; beyond: RESOURCE_EXHAUSTED"), 1,
             100'000);
    c.addString(s("tls.cert"), QString(), s("PEM certificate chain: serve HTTPS only"));
    c.addString(s("tls.key"), QString(), s("PEM private key of tls.cert"));
    c.addString(s("tls.client-ca"), QString(),
                s("PEM CA bundle: request and verify client certificates (mTLS)"));
    c.addBool(s("tls.require-client-cert"), false,
              s("Refuse TLS connections without a client certificate that verifies"));

    c.addSize(s("ingest.max-decoded-body"), s("5MiB"),
              s("Largest body after decompression; a decompression bomb stops here (413)"));
    c.addSize(s("ingest.max-event"), s("256KiB"), s("Largest single event (413 for that event)"));
    c.addInt(s("ingest.max-events"), 10'000, s("Events per request at most (413 over it)"), 1,
             10'000'000);
    c.addInt(s("ingest.max-errors"), 100, s("Per-event errors listed in a reply"), 0, 100'000);
    c.addSize(s("ingest.max-idempotency-key"), s("255B"),
              s("Longest Idempotency-Key header value (visible ASCII; 400 over it)"));
    c.addInt(s("ingest.max-attributes"), 256, s("Attributes per event at most"), 1, 100'000);

    c.addString(s("pg.dsn"), s("host=127.0.0.1 dbname=idl user=idl"),
                s("PostgreSQL connection string (api_keys table)"));
    c.addDuration(s("auth.key-cache-ttl"), s("10s"),
                  s("How long a looked-up API key is trusted; revocation takes effect within it"));
    c.addDuration(s("auth.key-cache-max-stale"), s("5m"),
                  s("While PostgreSQL is unreachable, cached keys stay usable up to this age"));
    c.addInt(s("auth.lookup-threads"), 4,
             s("API key lookups run in parallel on this many threads (one connection each)"), 1,
             64);
    c.addInt(s("auth.lookup-queue"), 256,
             s("Uncached keys waiting for a lookup at most; beyond it: 503 with Retry-After"), 1,
             1'000'000);
    c.addInt(s("auth.max-waiting"), 512,
             s("Requests (with their bodies) waiting for key lookups at most; beyond it: the "
               "cached answer for a known key, else 503 with Retry-After"),
             1, 1'000'000);
    c.addDuration(s("auth.refresh-wait"), s("200ms"),
                  s("A known key past its TTL is refreshed in the background; its request waits "
                    "at most this long, then gets the cached answer (stale-while-revalidate)"));
    c.addInt(s("auth.max-failures"), 50,
             s("Failed key checks per client address within auth.failure-window, after which "
               "its uncached keys get 429 without a lookup (0: off)"),
             0, 1'000'000);
    c.addDuration(s("auth.failure-window"), s("1m"),
                  s("Window of auth.max-failures (per client address)"));
    c.addString(s("auth.client-cert-apps"), QString(),
                s("Verified client certificate CN to app: \"cn=app,cn2=app2\"; \"*=*\" maps any "
                  "CN to the app of the same name, \"cn=\" allows any app"));
    c.addInt(s("auth.rate-limit"), 100, s("Requests per second per key or certificate (0: off)"), 0,
             100'000'000);
    c.addInt(s("auth.rate-burst"), 200, s("Requests a key may burst above its rate"), 1,
             100'000'000);

    c.addString(s("kafka.bootstrap"), s("127.0.0.1:9092"), s("Kafka bootstrap servers"));
    c.addString(s("kafka.topic"), s("idl.logs.raw"), s("Topic for accepted events"));
    c.addDuration(s("kafka.ack-timeout"), s("10s"),
                  s("A request whose events Kafka has not acknowledged by then gets 503"));
    c.addInt(s("kafka.queue-high-water"), 100'000,
             s("Queued producer messages above which requests get 429"), 1, 100'000'000);
    c.addDuration(s("kafka.retry-after"), s("1s"), s("Retry-After sent with 429 and 503"));
    c.addString(s("kafka.compression"), s("lz4"),
                s("Producer compression: none, gzip, lz4, zstd, snappy"));
    c.addDuration(s("kafka.linger"), s("5ms"), s("Producer batching delay (linger.ms)"));
    c.addBool(s("kafka.create-topic"), true, s("Create the topic at start when it is missing"));
    c.addInt(s("kafka.topic-partitions"), 4, s("Partitions when the topic is created"), 1, 10'000);
    c.addString(s("kafka.config"), QString(),
                s("Extra librdkafka properties: \"name=value,name=value\""));

    c.addString(s("syslog.listeners"), QString(),
                s("Syslog listeners: \"PROTO:[ADDRESS:]PORT=APP,...\" with PROTO tcp (octet "
                  "counting or LF/NUL framing), tls (RFC 5425) or udp; APP is the app of every "
                  "message, \"*\" the message's APP-NAME/TAG, \"@cert\" (tls) the app of the "
                  "client certificate (auth.client-cert-apps); ADDRESS defaults to http.address"));
    c.addInt(s("syslog.threads"), 1, s("Syslog I/O threads"), 1, 64);
    c.addSize(s("syslog.max-message"), s("64KiB"),
              s("Largest syslog message; larger ones are dropped and counted, the connection "
                "goes on"));
    c.addSize(s("syslog.max-frame"), s("1MiB"),
              s("An octet-counted frame announced larger than this is a framing error: the "
                "connection is closed"));
    c.addSize(s("syslog.max-connection-buffer"), s("256KiB"),
              s("Read buffer of one syslog TCP/TLS connection (at least syslog.max-message)"));
    c.addSize(s("syslog.max-unacked"), s("4MiB"),
              s("Bytes of messages per connection handed to Kafka and not yet acknowledged; "
                "above it the connection is not read (back-pressure). UDP: all listeners "
                "together, beyond it datagrams are dropped"));
    c.addInt(s("syslog.max-connections"), 1024, s("Open syslog TCP/TLS connections at most"), 1,
             1'000'000);
    c.addInt(s("syslog.batch-events"), 1000,
             s("Syslog messages per batch handed to Kafka (one batch counts as one request "
               "for auth.rate-limit)"),
             1, 10'000'000);
    c.addString(s("syslog.tls-cert"), QString(),
                s("PEM certificate chain of syslog tls listeners (default: tls.cert)"));
    c.addString(s("syslog.tls-key"), QString(),
                s("PEM private key of syslog.tls-cert (default: tls.key)"));
    c.addString(s("syslog.tls-client-ca"), QString(),
                s("PEM CA bundle: verify syslog client certificates (default: tls.client-ca)"));

    c.addString(s("collector.id"), QString(),
                s("This instance's id in the idl-collector record header (default host:pid)"));
    c.addSecret(s("metrics.token"), QString(),
                s("Bearer token required by /metrics (empty: open)"));
}

Result<CollectorOptions> optionsFromConfig(const Config &c)
{
    CollectorOptions o;
    o.http.address = str(c, "http.address");
    o.http.port = static_cast<std::uint16_t>(c.integer(s("http.port")));
    o.http.threads = static_cast<int>(c.integer(s("http.threads")));
    o.http.maxBodyBytes = static_cast<std::size_t>(c.bytes(s("http.max-body")));
    o.http.maxHeaderBytes = static_cast<std::size_t>(c.bytes(s("http.max-header")));
    o.http.readTimeout = c.duration(s("http.read-timeout"));
    o.http.idleTimeout = c.duration(s("http.idle-timeout"));
    o.http.maxConnections = static_cast<std::size_t>(c.integer(s("http.max-connections")));
    o.http.tlsCertFile = str(c, "tls.cert");
    o.http.tlsKeyFile = str(c, "tls.key");
    o.http.tlsClientCaFile = str(c, "tls.client-ca");
    o.http.tlsRequireClientCert = c.boolean(s("tls.require-client-cert"));
    o.http.serverName = "idl-collector";
    o.grpcPort = static_cast<int>(c.integer(s("otlp.grpc-port")));
    o.grpcAddress = str(c, "otlp.grpc-address");
    o.grpcMaxConcurrent = static_cast<int>(c.integer(s("otlp.grpc-max-concurrent")));
    if (o.http.tlsCertFile.empty() != o.http.tlsKeyFile.empty())
        return makeError(ErrorCode::BadField, "tls.cert and tls.key must be set together");
    if (!o.http.tlsClientCaFile.empty() && o.http.tlsCertFile.empty())
        return makeError(ErrorCode::BadField, "tls.client-ca needs tls.cert and tls.key");

    o.maxDecodedBodyBytes = static_cast<std::size_t>(c.bytes(s("ingest.max-decoded-body")));
    o.eventLimits.maxEventBytes = static_cast<std::size_t>(c.bytes(s("ingest.max-event")));
    o.eventLimits.maxAttributes = static_cast<std::size_t>(c.integer(s("ingest.max-attributes")));
    o.batchLimits.maxEvents = static_cast<std::size_t>(c.integer(s("ingest.max-events")));
    o.batchLimits.maxErrors = static_cast<std::size_t>(c.integer(s("ingest.max-errors")));
    o.maxIdempotencyKeyBytes = static_cast<std::size_t>(c.bytes(s("ingest.max-idempotency-key")));
    if (o.maxIdempotencyKeyBytes < 1 || o.maxIdempotencyKeyBytes > 4096)
        return makeError(ErrorCode::BadField,
                         "ingest.max-idempotency-key must be between 1B and 4KiB");

    o.pgDsn = str(c, "pg.dsn");
    o.auth.cacheTtl = c.duration(s("auth.key-cache-ttl"));
    o.auth.maxStale = c.duration(s("auth.key-cache-max-stale"));
    o.auth.lookupThreads = static_cast<int>(c.integer(s("auth.lookup-threads")));
    o.auth.maxQueuedLookups = static_cast<std::size_t>(c.integer(s("auth.lookup-queue")));
    o.auth.maxWaitingRequests = static_cast<std::size_t>(c.integer(s("auth.max-waiting")));
    o.auth.refreshWait = c.duration(s("auth.refresh-wait"));
    o.auth.maxFailures = static_cast<int>(c.integer(s("auth.max-failures")));
    o.auth.failureWindow = c.duration(s("auth.failure-window"));
    auto certApps = parseCertApps(str(c, "auth.client-cert-apps"));
    if (!certApps)
        return certApps.error();
    o.auth.certApps = std::move(*certApps);
    o.rateLimitPerSecond = static_cast<double>(c.integer(s("auth.rate-limit")));
    o.rateLimitBurst = static_cast<double>(c.integer(s("auth.rate-burst")));

    o.kafkaBootstrap = str(c, "kafka.bootstrap");
    o.topic = str(c, "kafka.topic");
    o.ackTimeout = c.duration(s("kafka.ack-timeout"));
    o.queueHighWater = static_cast<std::size_t>(c.integer(s("kafka.queue-high-water")));
    o.retryAfter = c.duration(s("kafka.retry-after"));
    o.createTopic = c.boolean(s("kafka.create-topic"));
    o.topicPartitions = static_cast<int>(c.integer(s("kafka.topic-partitions")));
    o.kafkaConfig["compression.codec"] = str(c, "kafka.compression");
    o.kafkaConfig["linger.ms"] = std::to_string(c.duration(s("kafka.linger")).count());
    for (const QString &item : c.string(s("kafka.config")).split(u',', Qt::SkipEmptyParts)) {
        const auto eq = item.indexOf(u'=');
        if (eq <= 0)
            return makeError(ErrorCode::BadField,
                             "kafka.config entries must be name=value: " + item.toStdString());
        o.kafkaConfig[item.left(eq).trimmed().toStdString()] =
            item.mid(eq + 1).trimmed().toStdString();
    }

    auto listeners = syslog::parseListenerSpecs(str(c, "syslog.listeners"));
    if (!listeners)
        return listeners.error();
    o.syslog.listeners = std::move(*listeners);
    o.syslog.defaultAddress = o.http.address;
    o.syslog.threads = static_cast<int>(c.integer(s("syslog.threads")));
    o.syslog.framing.maxMessage = static_cast<std::size_t>(c.bytes(s("syslog.max-message")));
    o.syslog.framing.maxFrame = static_cast<std::size_t>(c.bytes(s("syslog.max-frame")));
    o.syslog.maxConnectionBuffer =
        static_cast<std::size_t>(c.bytes(s("syslog.max-connection-buffer")));
    o.syslog.maxUnackedBytes = static_cast<std::size_t>(c.bytes(s("syslog.max-unacked")));
    o.syslog.maxConnections = static_cast<std::size_t>(c.integer(s("syslog.max-connections")));
    o.syslog.maxBatchEvents = std::min(
        static_cast<std::size_t>(c.integer(s("syslog.batch-events"))), o.batchLimits.maxEvents);
    o.syslog.handshakeTimeout = o.http.readTimeout;
    o.syslog.retryAfter = o.retryAfter;
    const auto orDefault = [&](const char *name, const std::string &fallback) {
        const std::string v = str(c, name);
        return v.empty() ? fallback : v;
    };
    o.syslog.tls.certFile = orDefault("syslog.tls-cert", o.http.tlsCertFile);
    o.syslog.tls.keyFile = orDefault("syslog.tls-key", o.http.tlsKeyFile);
    o.syslog.tls.clientCaFile = orDefault("syslog.tls-client-ca", o.http.tlsClientCaFile);
    o.syslog.tls.sessionIdContext = "idl-collector-syslog";
    if (o.syslog.framing.maxFrame < o.syslog.framing.maxMessage)
        return makeError(ErrorCode::BadField, "syslog.max-frame must be >= syslog.max-message");
    if (o.syslog.maxConnectionBuffer < o.syslog.framing.maxMessage + 12)
        return makeError(ErrorCode::BadField,
                         "syslog.max-connection-buffer must exceed syslog.max-message");

    o.collectorId = str(c, "collector.id");
    if (o.collectorId.empty()) {
        char host[256] = {};
        ::gethostname(host, sizeof host - 1);
        o.collectorId = std::string(host) + ":" + std::to_string(::getpid());
    }
    o.metricsToken = str(c, "metrics.token");
    return o;
}

} // namespace idl::collector
