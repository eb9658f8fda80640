#include "engine/replicator.h"

#include "engine/transfer/parallel.h"

namespace ferry::engine {

Replicator::Replicator(ReplicatorOptions options)
    : options_(options),
      pool_(options.memory_limit),
      copier_(pool_, options.transfer, counters_),
      in_flight_(static_cast<std::uint64_t>(std::max(1, options.max_objects_in_flight))) {}

io::Task<std::vector<PassReport>> Replicator::RunPass(
    const std::vector<ReplicatorTarget>& targets, PassObserver* observer) {
  std::vector<PassReport> reports(targets.size());
  Status s = co_await RunParallel(
      static_cast<int>(targets.size()), [&](int i, ParallelControl&) -> io::Task<Status> {
        const ReplicatorTarget& t = targets[static_cast<std::size_t>(i)];
        Pass pass(t.settings, t.source, t.dest, copier_, in_flight_, observer);
        reports[static_cast<std::size_t>(i)] = co_await pass.Run();
        co_return Status::Ok();
      });
  (void)s;  // passes report their own errors
  co_return reports;
}

io::Task<PassReport> Replicator::RunTarget(const PassSettings& settings, const SourceSide& source,
                                           const DestinationSide& dest, PassObserver* observer) {
  Pass pass(settings, source, dest, copier_, in_flight_, observer);
  co_return co_await pass.Run();
}

void Replicator::Cancel() {
  pool_.Close();
  in_flight_.Close();
}

}  // namespace ferry::engine
