#include "idl/service/lifecycle.h"

#include "idl/observability/json_log.h"

#include <QCoreApplication>
#include <QSocketNotifier>

#include <csignal>
#ifndef _WIN32
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

namespace idl::service {

void Lifecycle::add(std::string name, std::function<Result<void>()> start,
                    std::function<void()> stop)
{
    m_parts.push_back({std::move(name), std::move(start), std::move(stop)});
}

Result<void> Lifecycle::startAll()
{
    for (; m_started < m_parts.size(); ++m_started) {
        auto &p = m_parts[m_started];
        jlog::debug("starting", {{"part", QString::fromStdString(p.name)}});
        if (p.start) {
            auto r = p.start();
            if (!r) {
                jlog::error("start failed", {{"part", QString::fromStdString(p.name)},
                                             {"error", QString::fromStdString(r.error().message)}});
                stopAll();
                return r;
            }
        }
    }
    return {};
}

void Lifecycle::stopAll()
{
    while (m_started > 0) {
        auto &p = m_parts[--m_started];
        jlog::debug("stopping", {{"part", QString::fromStdString(p.name)}});
        if (p.stop)
            p.stop();
    }
}

#ifndef _WIN32
namespace {
int g_signalFd[2] = {-1, -1};
void onSignal(int)
{
    const char c = 1;
    [[maybe_unused]] auto n = ::write(g_signalFd[0], &c, 1);
}
} // namespace

void quitOnSignals()
{
    if (g_signalFd[0] >= 0)
        return;
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, g_signalFd) != 0)
        return;
    auto *notifier =
        new QSocketNotifier(g_signalFd[1], QSocketNotifier::Read, QCoreApplication::instance());
    QObject::connect(notifier, &QSocketNotifier::activated, QCoreApplication::instance(), [] {
        char c;
        [[maybe_unused]] auto n = ::read(g_signalFd[1], &c, 1);
        jlog::info("signal received, shutting down");
        QCoreApplication::quit();
    });
    struct sigaction sa = {};
    sa.sa_handler = onSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    // A parent may have started us with these blocked (the mask is inherited across exec).
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}
#else
void quitOnSignals()
{
    std::signal(SIGINT, [](int) { QCoreApplication::quit(); });
    std::signal(SIGTERM, [](int) { QCoreApplication::quit(); });
}
#endif

} // namespace idl::service
