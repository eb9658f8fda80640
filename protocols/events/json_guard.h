// Cheap checks on untrusted JSON text before it reaches nlohmann::json,
// whose parser recurses once per nesting level (a body of 100,000 '[' would
// overflow the stack) and reports invalid UTF-8 only vaguely.
// Shared by the event-notification parser and the control protocol.
#pragma once

#include <cstddef>
#include <string_view>

namespace ferry::json_guard {

// True when `s` is well-formed UTF-8 (no overlong forms, no surrogates,
// nothing past U+10FFFF).
bool ValidUtf8(std::string_view s);

// Deepest nesting of arrays/objects in `text`, counting only brackets outside
// strings (escapes inside strings honoured). Stops counting, and returns
// limit + 1, as soon as the depth exceeds `limit`. Does not validate JSON.
std::size_t NestingDepth(std::string_view text, std::size_t limit);

}  // namespace ferry::json_guard
