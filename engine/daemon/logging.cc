#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>

#include "engine/daemon/daemon.h"

namespace ferry::engine {
namespace {

// %j: the message as the body of a JSON string (quotes, backslashes and
// control characters escaped), so every line stays one valid JSON object
// whatever the message holds (object keys may contain anything).
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    for (char c : msg.payload) {
      switch (c) {
        case '"': dest.append(std::string_view("\\\"")); break;
        case '\\': dest.append(std::string_view("\\\\")); break;
        case '\n': dest.append(std::string_view("\\n")); break;
        case '\r': dest.append(std::string_view("\\r")); break;
        case '\t': dest.append(std::string_view("\\t")); break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char esc[8];
            std::snprintf(esc, sizeof esc, "\\u%04x", static_cast<unsigned>(c));
            dest.append(std::string_view(esc));
          } else {
            dest.push_back(c);
          }
      }
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};

}  // namespace

void ConfigureLogging(const config::LogConfig& log) {
  // Reconfigured on reload: reuse the logger once it exists.
  auto logger = spdlog::get("ferry");
  if (!logger) logger = spdlog::stderr_logger_mt("ferry");
  switch (log.level) {
    case config::LogLevel::kTrace: logger->set_level(spdlog::level::trace); break;
    case config::LogLevel::kDebug: logger->set_level(spdlog::level::debug); break;
    case config::LogLevel::kInfo: logger->set_level(spdlog::level::info); break;
    case config::LogLevel::kWarn: logger->set_level(spdlog::level::warn); break;
    case config::LogLevel::kError: logger->set_level(spdlog::level::err); break;
  }
  if (log.format == config::LogFormat::kJson) {
    auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    formatter->add_flag<JsonMessageFlag>('j');
    formatter->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","msg":"%j"})");
    logger->set_formatter(std::move(formatter));
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  }
  spdlog::set_default_logger(logger);
}

}  // namespace ferry::engine
