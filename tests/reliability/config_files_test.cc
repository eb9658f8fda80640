// Broken configuration files given to the ferryd binary: each is refused
// with exit 2 and a message naming the file, never a crash or a hang.
#include <filesystem>
#include <fstream>

#include "tests/reliability/reliability.h"

namespace ferry::reliability {
namespace {

using std::chrono::seconds;

struct BrokenConfig {
  std::string name;
  std::string text;
};

std::vector<BrokenConfig> Broken() {
  std::vector<BrokenConfig> v;
  v.push_back({"empty", ""});
  v.push_back({"binary", std::string("\x00\xff\xfe\x01garbage\x00\x7f", 13)});
  v.push_back({"invalid_utf8", "endpoints:\n  a\xc3\x28:\n    url: http://x\n"});
  v.push_back({"tabs", "endpoints:\n\tprimary:\n\t\turl: http://127.0.0.1:1\n"});
  v.push_back({"unterminated", "endpoints: {primary: {url: \"http://127.0.0.1:1\n"});
  v.push_back({"list_top", "- a\n- b\n"});
  v.push_back({"two_docs", "state_dir: /tmp/x\n---\nstate_dir: /tmp/y\n"});
  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += "[";
  v.push_back({"deep_flow", "endpoints: " + deep + "\n"});
  std::string deep_block = "endpoints:\n";
  for (int i = 0; i < 2000; ++i) deep_block += std::string(2 * (i + 1), ' ') + "k" + std::to_string(i) + ":\n";
  v.push_back({"deep_block", deep_block});
  v.push_back({"huge_scalar", "state_dir: " + std::string(8 << 20, 'a') + "\n"});
  std::string many = "endpoints:\n";
  for (int i = 0; i < 20000; ++i) many += "  e" + std::to_string(i) + ": {url: http://127.0.0.1:1}\n";
  v.push_back({"many_errors", many});
  v.push_back({"alias_bomb",
               "a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
               "c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c]\n"
               "e: &e [*d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e]\n"
               "g: [*f, *f, *f, *f, *f, *f, *f, *f]\n"});
  v.push_back({"wrong_types",
               "endpoints: 5\nroutes: {a: b}\ntransfer: {part_size: -1, parts_in_flight: 1e99}\n"});
  v.push_back({"numbers",
               "endpoints:\n  p:\n    url: http://127.0.0.1:99999999999999999999\n"
               "    credentials: {env: true}\n    max_connections: 99999999999999999999999\n"
               "routes: []\n"});
  return v;
}

TEST(ConfigFilesTest, BrokenFilesAreRefusedWithExit2AndTheFileName) {
  testing::TempDir dir("ferry-config-files");
  for (const BrokenConfig& c : Broken()) {
    SCOPED_TRACE(c.name);
    const std::string path = dir.path() + "/" + c.name + ".yaml";
    std::ofstream(path, std::ios::binary) << c.text;
    FerrydRun run = RunFerryd({"--config", path, "--check-config"}, dir.path(), seconds(60));
    EXPECT_EQ(run.exit_code, engine::kExitConfig) << run.err.substr(0, 2000);
    EXPECT_NE(run.err.find(path), std::string::npos) << run.err.substr(0, 2000);
    // Bounded output: at most the documented 25 problems, not one per line.
    EXPECT_LT(run.err.size(), 64u * 1024u) << "error output of " << run.err.size() << " bytes";
  }
}

TEST(ConfigFilesTest, UnreadablePathsAreRefusedWithExit2) {
  testing::TempDir dir("ferry-config-paths");
  const std::vector<std::string> paths = {dir.path() + "/missing.yaml", dir.path(), "/dev/null"};
  for (const std::string& path : paths) {
    SCOPED_TRACE(path);
    FerrydRun run = RunFerryd({"--config", path, "--check-config"}, dir.path(), seconds(30));
    EXPECT_EQ(run.exit_code, engine::kExitConfig) << run.err;
    EXPECT_NE(run.err.find(path), std::string::npos) << run.err;
  }
}

}  // namespace
}  // namespace ferry::reliability
