// The schema, split by section. Internal to engine/config: each function
// reads one part of the document into `config`, reporting problems through
// the Field's Diagnostics.
#pragma once

#include "engine/config/config.h"
#include "engine/config/yaml_reader.h"

namespace ferry::config::internal {

// `endpoints:`; every entry is added (even one with errors) so that route
// references to it are not reported twice.
void ParseEndpoints(const Field& field, Config* config);
// `routes:`; REQUIRES: endpoints already parsed (references are checked).
void ParseRoutes(const Field& field, Config* config);
// `transfer:`; fills the effective memory_limit and multipart_threshold.
void ParseTransfer(const Field& field, TransferConfig* transfer);

}  // namespace ferry::config::internal
