#pragma once

#include "idl/core/config.h"
#include "idl/core/result.h"
#include "idl/service/http_server.h"
#include "idl/service/lifecycle.h"

#include <QString>
#include <QStringList>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace idl::service {

struct ServiceMain;
int runMain(int argc, char **argv, const ServiceMain &service);

// What a service's build step works with (see runMain): the loaded settings, a place that
// keeps the service's objects alive, and the parts that start in order and stop in reverse.
// Lives on the main thread; exit() may be called from any thread.
class Runtime
{
public:
    explicit Runtime(const Config &config) : m_config(config) {}
    ~Runtime();
    Runtime(const Runtime &) = delete;
    Runtime &operator=(const Runtime &) = delete;

    const Config &config() const { return m_config; }

    // Constructs an object that lives until every part has stopped; objects are destroyed
    // in the reverse order of their creation.
    template <typename T, typename... Args> T &make(Args &&...args)
    {
        auto object = std::make_shared<T>(std::forward<Args>(args)...);
        T &ref = *object;
        m_objects.push_back(std::move(object));
        return ref;
    }

    // A part of the service (Lifecycle::add): started after the parts added before it.
    void add(std::string name, std::function<Result<void>()> start, std::function<void()> stop);

    // The ops listener as a part ("ops-http", one I/O thread): /healthz, /readyz, /metrics
    // (addOpsRoutes). Its port is known once it has started.
    http::Server &addOps(const std::string &address, std::uint16_t port,
                         std::function<std::string()> notReadyReason, std::string metricsToken);

    // Runs once every part has started (say, to log the ports).
    void onStarted(std::function<void()> fn) { m_onStarted.push_back(std::move(fn)); }

    // Ends the service: the parts stop and the process exits with `code`. Any thread.
    void exit(int code);

private:
    friend int runMain(int argc, char **argv, const ServiceMain &service);

    const Config &m_config;
    std::vector<std::shared_ptr<void>> m_objects;
    Lifecycle m_lifecycle; // declared after the objects: stops before they are destroyed
    std::vector<std::function<void()>> m_onStarted;
    std::atomic<int> m_exitCode{-1};
};

// A backend service's main(), declared: the program name ("idl-collector": --version,
// error messages, the log's "service" field), the --help summary, the settings and how to
// build the service from them.
struct ServiceMain
{
    std::string name;
    QString summary;
    std::function<void(Config &)> declareSettings;
    // Builds the service: objects with Runtime::make, parts with Runtime::add/addOps. An
    // error means an invalid setting.
    std::function<Result<void>(Runtime &)> build;
};

// The whole main() of a backend service: QCoreApplication; settings declared, loaded (file,
// environment, command line) with --help and --version answered; JSON-lines logging; build;
// every part started; run until SIGINT/SIGTERM or Runtime::exit(); the parts stopped in
// reverse order. Exit codes: 0 normal end, --help, --version; 1 a part failed to start (the
// log says which and why) or Runtime::exit(1); 2 invalid settings (on stderr).
int runMain(int argc, char **argv, const ServiceMain &service);

// The command-line step alone, for mains of another shape (idl-stack): loads `config` from
// `arguments` and answers --help (stdout) and --version ("<program> <version>"). Returns the
// exit code when the process is done (2 after an invalid setting, written to stderr; 0 after
// help or version), nullopt to go on.
std::optional<int> loadCommandLine(Config &config, const QStringList &arguments,
                                   const std::string &program);

} // namespace idl::service
