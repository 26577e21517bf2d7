#pragma once

#include "idl/core/config.h"
#include "idl/core/result.h"
#include "idl/writer/retention.h"
#include "idl/writer/writer.h"

#include <chrono>
#include <string>

namespace idl::writer {

// Everything idl-writer reads from its configuration.
struct WriterSettings
{
    WriterOptions writer;
    // Group members (each a consumer, a batch pipeline and a PostgreSQL connection) this
    // process runs: PostgreSQL stores one batch per connection at a time on one core.
    int consumers = 2;
    RetentionOptions retention;
    std::chrono::milliseconds retentionInterval{600'000}; // 0: retention off in this process
    // /readyz: see groupNotReady (writer.h).
    std::chrono::milliseconds stallTimeout{60'000};
    std::string httpAddress = "127.0.0.1";
    int httpPort = 0;
    std::string metricsToken;
};

// Declares every setting of idl-writer (see `idl-writer --help`).
void declareSettings(Config &config);

// Builds the settings from a loaded Config; BadField for an invalid combination.
Result<WriterSettings> optionsFromConfig(const Config &config);

} // namespace idl::writer
