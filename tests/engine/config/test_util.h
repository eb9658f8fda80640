// Helpers shared by the config error tests.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "engine/config/config.h"

namespace ferry::config::test_util {

// Two endpoints and a header for tests that append routes (lines 1-7).
inline constexpr char kEndpoints[] = R"(endpoints:
  primary:
    url: https://s3.us-east-1.amazonaws.com
    credentials: {env: true}
  dr:
    url: https://s3.eu-west-1.amazonaws.com
    credentials: {file: /credentials/cloud}
)";

inline std::vector<Diagnostic> Errors(std::string_view text) {
  std::vector<Diagnostic> diags;
  Result<Config> r = ParseConfig(text, "/etc/ferry/ferry.yaml", &diags);
  EXPECT_FALSE(r.ok());
  if (!r.ok()) {
    EXPECT_TRUE(r.status().Is(ErrorClass::kInvalidArgument));
    // The Status carries the same lines.
    std::string joined;
    for (const Diagnostic& d : diags) joined += (joined.empty() ? "" : "\n") + d.ToString();
    EXPECT_EQ(r.status().error().message, joined);
  }
  return diags;
}

// Exactly one error, rendered.
inline std::string OnlyError(std::string_view text) {
  std::vector<Diagnostic> diags = Errors(text);
  if (diags.size() != 1) {
    std::string all;
    for (const Diagnostic& d : diags) all += "\n  " + d.ToString();
    ADD_FAILURE() << "expected exactly one error, got " << diags.size() << ":" << all;
  }
  return diags.empty() ? "" : diags[0].ToString();
}

inline std::string Routes(std::string_view routes) {
  return std::string(kEndpoints) + "routes:\n" + std::string(routes);
}

}  // namespace ferry::config::test_util
