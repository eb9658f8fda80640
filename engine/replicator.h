// Replicator: the shared transfer machinery (buffer pool, copier, in-flight
// limits) and the passes it runs over a set of targets.
//
// One Replicator per daemon. RunPass reconciles every target at once; the
// buffer pool and the objects-in-flight gate are shared, so memory and
// concurrency limits hold across all routes together.
#pragma once

#include <memory>
#include <vector>

#include "engine/sync/pass.h"
#include "engine/transfer/buffer_pool.h"
#include "engine/transfer/object_copier.h"

namespace ferry::engine {

struct ReplicatorTarget {
  PassSettings settings;
  SourceSide source;
  DestinationSide dest;
};

struct ReplicatorOptions {
  TransferSettings transfer;
  std::uint64_t memory_limit = 512ull << 20;  // bytes in flight, all transfers
  int max_objects_in_flight = 256;
};

class Replicator {
 public:
  explicit Replicator(ReplicatorOptions options);

  // Reconciles every target (concurrently); one report per target.
  io::Task<std::vector<PassReport>> RunPass(const std::vector<ReplicatorTarget>& targets,
                                            PassObserver* observer);
  // One pass of one target with the shared machinery (the daemon's loops).
  io::Task<PassReport> RunTarget(const PassSettings& settings, const SourceSide& source,
                                 const DestinationSide& dest, PassObserver* observer);
  // Stops waiting transfers (shutdown); running requests end at their deadlines.
  void Cancel();

  const TransferCounters& counters() const { return counters_; }
  const BufferPool& pool() const { return pool_; }

 private:
  ReplicatorOptions options_;
  BufferPool pool_;
  TransferCounters counters_;
  ObjectCopier copier_;
  AsyncGate in_flight_;
};

}  // namespace ferry::engine
