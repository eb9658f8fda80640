// Human-readable sizes and ages for status lines and ferryctl tables.
#pragma once

#include <string>

namespace ferry::engine {

// "0B", "512B", "1.5KiB", "3.2GiB"; `separator` goes between number and unit.
std::string HumanBytes(double bytes, const char* separator = "");
// "42s", "3m07s", "5h12m", "2.5d".
std::string HumanAge(double seconds);

}  // namespace ferry::engine
