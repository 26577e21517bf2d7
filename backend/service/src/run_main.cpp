#include "idl/service/run_main.h"

#include "idl/observability/json_log.h"
#include "idl/service/ops.h"

#include <QCoreApplication>
#include <QMetaObject>

#include <cstdio>

#include <openssl/crypto.h>

namespace idl::service {

Runtime::~Runtime()
{
    m_lifecycle.stopAll();
    while (!m_objects.empty())
        m_objects.pop_back();
}

void Runtime::add(std::string name, std::function<Result<void>()> start, std::function<void()> stop)
{
    m_lifecycle.add(std::move(name), std::move(start), std::move(stop));
}

http::Server &Runtime::addOps(const std::string &address, std::uint16_t port,
                              std::function<std::string()> notReadyReason, std::string metricsToken)
{
    http::ServerOptions options;
    options.address = address;
    options.port = port;
    options.threads = 1;
    auto &server = make<http::Server>(options);
    addOpsRoutes(server, std::move(notReadyReason), std::move(metricsToken));
    add(
        "ops-http", [&server] { return server.start(); }, [&server] { server.stop(); });
    return server;
}

void Runtime::exit(int code)
{
    int none = -1;
    m_exitCode.compare_exchange_strong(none, code);
    QMetaObject::invokeMethod(QCoreApplication::instance(), &QCoreApplication::quit,
                              Qt::QueuedConnection);
}

std::optional<int> loadCommandLine(Config &config, const QStringList &arguments,
                                   const std::string &program)
{
    if (auto r = config.load(arguments); !r) {
        std::fprintf(stderr, "%s: %s\n", program.c_str(), r.error().message.c_str());
        return 2;
    }
    if (config.helpRequested()) {
        std::fputs(config.helpText().toUtf8().constData(), stdout);
        return 0;
    }
    if (config.versionRequested()) {
        std::printf("%s %s\n", program.c_str(), IDL_VERSION);
        return 0;
    }
    return std::nullopt;
}

int runMain(int argc, char **argv, const ServiceMain &service)
{
    // No OpenSSL clean-up at exit: it frees OpenSSL's global state while detached threads
    // (QThreadPool workers: waitForDone() returns before their thread-exit handlers ran;
    // librdkafka's) may still free their per-thread state (random generators, error queues)
    // through it. That race leaked those objects at exit in the sanitizer build, and could
    // touch freed memory. The process is ending: the system reclaims the memory.
    OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr);
    QCoreApplication app(argc, argv);
    Config config(QString::fromStdString(service.name), service.summary);
    service.declareSettings(config);
    if (auto done = loadCommandLine(config, QCoreApplication::arguments(), service.name))
        return *done;
    jlog::init(service.name);
    Runtime runtime(config);
    if (auto r = service.build(runtime); !r) {
        std::fprintf(stderr, "%s: %s\n", service.name.c_str(), r.error().message.c_str());
        return 2;
    }
    if (!runtime.m_lifecycle.startAll())
        return 1; // Lifecycle logged which part and why
    for (const auto &fn : runtime.m_onStarted)
        fn();
    quitOnSignals();
    const int rc = QCoreApplication::exec();
    runtime.m_lifecycle.stopAll();
    const int code = runtime.m_exitCode.load();
    return code >= 0 ? code : rc;
}

} // namespace idl::service
