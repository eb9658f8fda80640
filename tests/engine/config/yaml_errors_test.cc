// YAML-level problems: syntax errors with positions, duplicate keys, empty
// files, and input of any shape (an error or a config, never a crash).
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "engine/config/config.h"
#include "tests/engine/config/test_util.h"

namespace ferry::config {
namespace {

using test_util::Errors;
using test_util::kEndpoints;
using test_util::OnlyError;

TEST(ConfigErrors, YamlSyntaxErrorsHaveLineAndColumn) {
  std::vector<Diagnostic> d = Errors("endpoints:\n  a:\n\turl: x\n");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].line, 3);
  EXPECT_EQ(d[0].column, 2);  // where yaml-cpp (0.7) notices
  EXPECT_NE(d[0].message.find("line 3 is indented with a tab"), std::string::npos) << d[0].message;

  // A double quote never closed swallows the rest of the file without an
  // error from yaml-cpp; we point at where the string starts.
  EXPECT_EQ(OnlyError("state_dir: /var/lib/ferry\nlog: {level: \"info}\nendpoints: {}\n"),
            "/etc/ferry/ferry.yaml:2:14: YAML syntax error: quoted string is never closed (it "
            "runs to the end of the file)");
  EXPECT_EQ(OnlyError("state_dir: 'abc\n"),
            "/etc/ferry/ferry.yaml:1:12: YAML syntax error: quoted string is never closed (it "
            "runs to the end of the file)");
  EXPECT_EQ(OnlyError("state_dir: \"abc"),
            "/etc/ferry/ferry.yaml:1:16: YAML syntax error: illegal EOF in scalar");
  EXPECT_EQ(OnlyError("log: [a, b\nstate_dir: x\n"),
            "/etc/ferry/ferry.yaml:2:10: YAML syntax error: end of sequence flow not found");
  EXPECT_EQ(OnlyError("state_dir: a\n---\nstate_dir: b\n"),
            "/etc/ferry/ferry.yaml:2:1: the file holds more than one YAML document (remove the "
            "'---' separator)");
}

TEST(ConfigErrors, DuplicateKey) {
  EXPECT_EQ(OnlyError(std::string(kEndpoints) + "state_dir: /a\nstate_dir: /b\n" +
                      "routes: [{name: r, source: {endpoint: primary, bucket: aaa}, "
                      "destinations: [{endpoint: dr, bucket: bbb}]}]\n"),
            "/etc/ferry/ferry.yaml:9:1: state_dir: duplicate key (first given at line 8)");
  std::vector<Diagnostic> d = Errors("log:\n  level: info\nlog:\n  format: json\n");
  ASSERT_GE(d.size(), 1u);
  EXPECT_EQ(d[0].ToString(),
            "/etc/ferry/ferry.yaml:3:1: log: duplicate key (first given at line 1)");
}

TEST(ConfigErrors, EmptyFileAndComments) {
  for (const char* empty : {"", "\n\n", "# nothing here\n", "~\n"}) {
    std::vector<Diagnostic> d = Errors(empty);
    ASSERT_EQ(d.size(), 1u) << empty;
    EXPECT_EQ(d[0].ToString(),
              "/etc/ferry/ferry.yaml:1:1: the configuration is empty; it needs at least "
              "`endpoints` and `routes`");
  }
  EXPECT_EQ(Errors("just a string\n")[0].ToString(),
            "/etc/ferry/ferry.yaml:1:1: expected a map, got a single value");
}

TEST(ConfigErrors, ManyErrorsAreCapped) {
  std::string text = "endpoints:\n";
  for (int i = 0; i < 100; ++i) {
    text += "  e" + std::to_string(i) + ": {url: x, credentials: {}}\n";
  }
  std::vector<Diagnostic> d;
  Result<Config> r = ParseConfig(text, "f.yaml", &d);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(d.size(), 25u);
  EXPECT_NE(r.status().error().message.find("more errors not shown"), std::string::npos);
}

// Input of any shape is an error or a config, never a crash or a hang.
TEST(ConfigErrors, GarbageInputDoesNotCrash) {
  std::mt19937 rng(12345);
  const std::string alphabet = "abc:-[]{}\"'\n\t #&*!|>%@`,?0123456789\\\x01\xff\xc3";
  for (int round = 0; round < 300; ++round) {
    std::string text;
    const int len = static_cast<int>(rng() % 400);
    for (int i = 0; i < len; ++i) text += alphabet[rng() % alphabet.size()];
    Result<Config> r = ParseConfig(text, "fuzz.yaml");
    if (!r.ok()) {
      EXPECT_FALSE(r.status().error().message.empty());
    }
  }
  for (const std::string& text :
       {std::string(100000, '['), std::string(100000, '{'), std::string(50000, '-') + " x",
        std::string(20000, '[') + std::string(20000, ']'), "a: " + std::string(1 << 20, 'x'),
        std::string(5 << 20, 'a'), std::string("\0\0\0", 3), std::string("a: &x [*x]\n"),
        std::string("endpoints: &e {a: *e}\nroutes: *e\n")}) {
    Result<Config> r = ParseConfig(text, "huge.yaml");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().error().message.rfind("huge.yaml:", 0), 0u)
        << r.status().error().message.substr(0, 200);
  }
}

// Every truncation of a valid file either parses or gives a positioned error.
TEST(ConfigErrors, TruncationsOfAValidFile) {
  const std::string text = std::string(kEndpoints) +
                           "routes:\n  - name: r\n    source: {endpoint: primary, bucket: aaa}\n"
                           "    destinations: [{endpoint: dr, bucket: bbb, prefix: \"x/\"}]\n";
  ASSERT_TRUE(ParseConfig(text, "t.yaml").ok());
  for (size_t i = 0; i < text.size(); ++i) {
    Result<Config> r = ParseConfig(text.substr(0, i), "t.yaml");
    if (!r.ok()) {
      EXPECT_EQ(r.status().error().message.rfind("t.yaml:", 0), 0u) << i;
    }
  }
}

}  // namespace
}  // namespace ferry::config
