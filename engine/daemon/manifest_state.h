// RouteState (and so TransferJournal) over the RocksDB manifest, for one
// (route, destination) scope. Upload records and part records are written
// with sync (they guard remote steps); object records without.
#pragma once

#include <memory>
#include <string>

#include "engine/sync/route_state.h"
#include "storage/manifest/manifest.h"

namespace ferry::engine {

// Opens STATE_DIR/manifest.
Result<std::unique_ptr<manifest::Manifest>> OpenManifest(const std::string& state_dir);

// REQUIRES: `m` outlives the returned state.
std::unique_ptr<RouteState> MakeManifestState(manifest::Manifest& m, manifest::Scope scope,
                                              std::string dest_prefix);

}  // namespace ferry::engine
