#pragma once

#include "idl/alerter/alerter.h"
#include "idl/core/config.h"

#include <string>

namespace idl::alerter {

// idl-alerter's settings: the alerter's options and its ops endpoint.
struct AlerterSettings
{
    AlerterOptions alerter;
    std::string httpAddress = "127.0.0.1";
    int httpPort = 9104;
    std::string metricsToken;
};

void declareSettings(Config &config);
Result<AlerterSettings> optionsFromConfig(const Config &config);

} // namespace idl::alerter
