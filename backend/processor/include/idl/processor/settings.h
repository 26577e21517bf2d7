#pragma once

#include "idl/core/config.h"
#include "idl/processor/processor.h"

namespace idl::processor {

// Declares every idl-processor setting (names are kept stable: the local-stack runner and
// deployments pass them) on a Config.
void declareSettings(Config &config);

// Builds the processor's options from a loaded Config (reads the redaction rules file;
// BadField naming the setting on invalid values).
Result<ProcessorOptions> optionsFromConfig(const Config &config);

} // namespace idl::processor
