// Fuzzes control-protocol lines: requests and responses. An accepted request
// must render back to a line that parses to the same request.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "protocols/control/protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  using namespace ferry::control;
  auto req = ParseRequest(line);
  if (req.ok()) {
    std::string rendered = RenderRequest(*req);
    if (rendered.find('\n') != std::string::npos) std::abort();
    auto again = ParseRequest(rendered);
    if (!again.ok() || again->id != req->id || again->command != req->command ||
        again->args != req->args) {
      std::abort();
    }
    // Responses built from accepted input parse back.
    auto ok = ParseResponse(OkResponse(req->id, req->args));
    if (!ok.ok() || !ok->ok) std::abort();
  }
  auto res = ParseResponse(line);
  (void)res;
  // Rendering arbitrary bytes (invalid UTF-8 included) must not throw.
  std::string text(line.substr(0, 256));
  auto err = ParseResponse(ErrorResponse(text, "bad_request", text));
  if (!err.ok() || err->ok) std::abort();
  return 0;
}
