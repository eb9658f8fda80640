#include "engine/status/format.h"

#include <cmath>
#include <cstdio>

namespace ferry::engine {

std::string HumanBytes(double b, const char* separator) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int u = 0;
  while (b >= 1024 && u < 5) {
    b /= 1024;
    ++u;
  }
  char buf[48];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f%s%s" : "%.1f%s%s", b, separator, kUnits[u]);
  return buf;
}

std::string HumanAge(double s) {
  if (!(s >= 0)) s = 0;
  char buf[48];
  if (s < 120) {
    std::snprintf(buf, sizeof buf, "%.0fs", std::floor(s));
  } else if (s < 7200) {
    std::snprintf(buf, sizeof buf, "%.0fm%02.0fs", std::floor(s / 60), std::floor(std::fmod(s, 60)));
  } else if (s < 172800) {
    std::snprintf(buf, sizeof buf, "%.0fh%02.0fm", std::floor(s / 3600),
                  std::floor(std::fmod(s, 3600) / 60));
  } else {
    std::snprintf(buf, sizeof buf, "%.1fd", s / 86400);
  }
  return buf;
}

}  // namespace ferry::engine
