// Fuzzes S3 event-notification parsing. Besides not crashing, every event
// it returns must respect the documented bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "protocols/events/json_guard.h"
#include "protocols/events/notification.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto r = ferry::events::ParseNotification(body, 64 * 1024);
  if (!r.ok()) {
    if (r.status().error().message.size() > 512) std::abort();  // never echoes the body
    return 0;
  }
  for (const auto& e : r->events) {
    if (e.key.empty() || e.key.size() > ferry::events::kMaxKeyBytes) std::abort();
    if (!ferry::json_guard::ValidUtf8(e.key)) std::abort();
    if (e.bucket.empty()) std::abort();
  }
  if (r->events.size() + r->ignored_records > ferry::events::kMaxRecords) std::abort();
  return 0;
}
