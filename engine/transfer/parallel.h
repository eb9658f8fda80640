// RunParallel: run `n` worker coroutines on the current executor and wait
// for all of them. The first error wins: it is returned, and workers can
// poll `stop` to stop taking new work once any worker failed.
#pragma once

#include <atomic>
#include <functional>

#include "protocols/base/body.h"
#include "protocols/base/status.h"

namespace ferry::engine {

struct ParallelControl {
  std::atomic<bool> stop{false};
};

using Worker = std::function<io::Task<Status>(int index, ParallelControl& control)>;

io::Task<Status> RunParallel(int n, Worker worker);

}  // namespace ferry::engine
