#pragma once

#include "idl/core/result.h"

#include <functional>
#include <string>
#include <vector>

namespace idl::service {

// Starts a service's parts in order and stops them in reverse order (once). Lives on the
// main thread.
class Lifecycle
{
public:
    ~Lifecycle() { stopAll(); }
    // A named part: start may fail (then the parts already started are stopped again).
    void add(std::string name, std::function<Result<void>()> start, std::function<void()> stop);
    Result<void> startAll();
    void stopAll();

private:
    struct Part
    {
        std::string name;
        std::function<Result<void>()> start;
        std::function<void()> stop;
    };
    std::vector<Part> m_parts;
    size_t m_started = 0;
};

// Makes SIGINT and SIGTERM quit the running QCoreApplication (via a self-pipe, so the quit
// happens on the main thread). Call after the application object exists.
void quitOnSignals();

} // namespace idl::service
