// Child process for the manifest crash and lock tests (crash_test.cc).
//
//   manifest_crash_writer write PATH COUNT
//     Opens the manifest, records an upload, then for i in [0, COUNT): writes
//     object "obj/<i>" and part i+1 in one synced batch and prints
//     "synced <i>" once the write returned. Then kills itself with SIGKILL,
//     so nothing is closed or flushed cleanly.
//   manifest_crash_writer hold PATH
//     Opens the manifest, prints "locked <pid>", and keeps it open until
//     stdin reaches EOF.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "storage/manifest/manifest.h"

namespace {

using ferry::manifest::Batch;
using ferry::manifest::Manifest;

int Fail(const std::string& what) {
  std::fprintf(stderr, "manifest_crash_writer: %s\n", what.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return Fail("usage: write PATH COUNT | hold PATH");
  std::string mode = argv[1];
  auto opened = Manifest::Open(argv[2]);
  if (!opened.ok()) return Fail(opened.status().ToString());
  std::unique_ptr<Manifest> m = std::move(opened).value();

  if (mode == "hold") {
    std::printf("locked %d\n", static_cast<int>(::getpid()));
    std::fflush(stdout);
    char buf[64];
    while (::read(STDIN_FILENO, buf, sizeof(buf)) > 0) {
    }
    return 0;
  }
  if (mode != "write" || argc < 4) return Fail("bad arguments");
  int count = std::atoi(argv[3]);
  const ferry::manifest::Scope scope{"crash-route", "crash-dest"};
  ferry::manifest::UploadRecord upload{"crash-upload", "\"src\"", 1ull << 40, 8 << 20, 1, {}};
  ferry::Status s = m->PutUpload(scope, "big/object", upload, ferry::manifest::kSync);
  if (!s.ok()) return Fail(s.ToString());
  for (int i = 0; i < count; ++i) {
    Batch b;
    ferry::manifest::ObjectRecord rec;
    rec.size = static_cast<std::uint64_t>(i);
    rec.state = ferry::manifest::ObjectState::kReplicated;
    b.PutObject(scope, "obj/" + std::to_string(i), rec);
    b.AddPart(scope, "big/object", "crash-upload", static_cast<std::uint32_t>(i + 1),
              ferry::manifest::PartRecord{"\"part-" + std::to_string(i) + "\"", 8 << 20, ""});
    s = m->Write(b, ferry::manifest::kSync);
    if (!s.ok()) return Fail(s.ToString());
    std::printf("synced %d\n", i);
    std::fflush(stdout);
  }
  ::raise(SIGKILL);
  return 3;  // not reached
}
