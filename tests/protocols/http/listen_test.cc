// Listen addresses that name a host: every resolved address is bound, on one
// port, and what the server reports is listening. The resolver is injected,
// so these cases do not depend on the machine's /etc/hosts (Debian's default
// maps `localhost` to both 127.0.0.1 and ::1; others map it to 127.0.0.1
// only).
#include "protocols/http/listen.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <thread>

#include "protocols/http/server.h"
#include "tests/protocols/http/test_util.h"

namespace ferry::http::testing {
namespace {

using boost::beast::http::verb;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Names resolved by the test alone.
ListenResolver FakeResolver(std::map<std::string, std::vector<std::string>> names) {
  return [names = std::move(names)](const std::string& host) -> Result<std::vector<std::string>> {
    auto it = names.find(host);
    if (it == names.end()) return Status::Error(ErrorClass::kNotFound, "no such test name");
    return it->second;
  };
}

// Can this machine listen on ::1 at all? (A host without IPv6 must see ::1
// reported as skipped instead.)
bool MachineHasIpv6Loopback() {
  int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// A listening IPv4 loopback socket on a kernel-chosen port (closed on exit).
struct Ipv4Squatter {
  Ipv4Squatter() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd, 4) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      return;
    }
    port = ntohs(a.sin_port);
  }
  ~Ipv4Squatter() {
    if (fd >= 0) ::close(fd);
  }
  int fd = -1;
  std::uint16_t port = 0;
};

class ListenTest : public ::testing::Test {
 protected:
  ServerHandler Handler() {
    return [](ServerRequest req) -> io::Task<ServerResponse> {
      ServerResponse res;
      res.body = "hello " + req.target;
      co_return res;
    };
  }
  Result<std::unique_ptr<Server>> Start(const std::string& listen, ListenResolver resolve) {
    ServerOptions o;
    o.listen = listen;
    o.resolve = std::move(resolve);
    return Server::Start(rig_.executor(), o, Handler());
  }
  // A GET through our client at `address` ("127.0.0.1:P" or "[::1]:P").
  void ExpectServes(const std::string& address) {
    SCOPED_TRACE(address);
    auto client = rig_.MakeClient("http://" + address);
    ASSERT_NE(client, nullptr);
    auto r = rig_.Run(client->Send(MakeRequest(verb::get, "/x"), {}));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "hello /x");
  }
  static std::string At(const std::string& host, std::uint16_t port) {
    return host + ":" + std::to_string(port);
  }

  ClientRig rig_;
};

TEST_F(ListenTest, NameWithBothFamiliesListensOnBothOnOnePort) {
  auto s = Start("dual.test:0", FakeResolver({{"dual.test", {"::1", "127.0.0.1"}}}));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Server& server = **s;
  const std::uint16_t port = server.port();
  ASSERT_NE(port, 0);
  if (MachineHasIpv6Loopback()) {
    // IPv4 first whatever order the resolver used.
    EXPECT_THAT(server.addresses(), ElementsAre(At("127.0.0.1", port), At("[::1]", port)));
    EXPECT_TRUE(server.skipped().empty());
  } else {
    EXPECT_THAT(server.addresses(), ElementsAre(At("127.0.0.1", port)));
    ASSERT_EQ(server.skipped().size(), 1u);
    EXPECT_THAT(server.skipped()[0], HasSubstr("::1"));
  }
  for (const std::string& address : server.addresses()) ExpectServes(address);
}

TEST_F(ListenTest, NameWithIpv6OnlyListensOnIpv6) {
  if (!MachineHasIpv6Loopback()) {
    // Nothing of the name can be bound here: a clear error, not a listener
    // on some other address.
    auto s = Start("six.test:0", FakeResolver({{"six.test", {"::1"}}}));
    ASSERT_FALSE(s.ok());
    EXPECT_THAT(s.status().ToString(), HasSubstr("::1"));
    return;
  }
  auto s = Start("six.test:0", FakeResolver({{"six.test", {"::1"}}}));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_THAT((*s)->addresses(), ElementsAre(At("[::1]", (*s)->port())));
  ExpectServes((*s)->addresses()[0]);
}

TEST_F(ListenTest, NameWithIpv4OnlyListensOnIpv4) {
  auto s = Start("four.test:0", FakeResolver({{"four.test", {"127.0.0.1", "127.0.0.1"}}}));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_THAT((*s)->addresses(), ElementsAre(At("127.0.0.1", (*s)->port())));
  ExpectServes((*s)->addresses()[0]);
}

TEST_F(ListenTest, FixedPortBindsEveryAddressOrFailsNamingTheTakenOne) {
  Ipv4Squatter squatter;
  ASSERT_NE(squatter.port, 0);
  auto resolver = FakeResolver({{"dual.test", {"::1", "127.0.0.1"}}});
  // The port is taken on 127.0.0.1: listening on ::1 alone would leave the
  // clients that pick 127.0.0.1 refused, so the whole bind fails.
  auto s = Start(At("dual.test", squatter.port), resolver);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.status().Is(ErrorClass::kFatal));
  EXPECT_THAT(s.status().ToString(), HasSubstr("127.0.0.1:" + std::to_string(squatter.port)));

  // A fixed port free in both families: every address listens on it.
  auto first = Start("dual.test:0", resolver);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const std::uint16_t port = (*first)->port();
  const std::vector<std::string> expected = (*first)->addresses();
  first->reset();  // Stop() closes the listeners on their strands, soon after
  auto fixed = Start(At("dual.test", port), resolver);
  for (int i = 0; i < 200 && !fixed.ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    fixed = Start(At("dual.test", port), resolver);
  }
  ASSERT_TRUE(fixed.ok()) << fixed.status().ToString();
  EXPECT_EQ((*fixed)->port(), port);
  EXPECT_EQ((*fixed)->addresses(), expected);
  for (const std::string& address : (*fixed)->addresses()) ExpectServes(address);
}

TEST_F(ListenTest, ResolverFailuresAreClearErrors) {
  auto resolver = FakeResolver({{"empty.test", {}}, {"junk.test", {"127.0.0.1", "not-an-ip"}}});
  auto unknown = Start("unknown.test:0", resolver);
  ASSERT_FALSE(unknown.ok());
  EXPECT_TRUE(unknown.status().Is(ErrorClass::kInvalidArgument));
  EXPECT_THAT(unknown.status().ToString(), HasSubstr("cannot resolve host \"unknown.test\""));
  auto empty = Start("empty.test:0", resolver);
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.status().ToString(), HasSubstr("resolves to no address"));
  auto junk = Start("junk.test:0", resolver);
  ASSERT_FALSE(junk.ok());
  EXPECT_THAT(junk.status().ToString(), HasSubstr("malformed address \"not-an-ip\""));
}

// The machine's own `localhost`, whatever its /etc/hosts says: every address
// it resolves to is listening (or reported as skipped), all on one port.
TEST_F(ListenTest, SystemLocalhostListensOnEveryAddressItResolvesTo) {
  auto resolved = SystemResolve("localhost");
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  auto s = Start("localhost:0", {});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  Server& server = **s;
  for (const std::string& a : *resolved) {
    const std::string bound =
        At(a.find(':') != std::string::npos ? "[" + a + "]" : a, server.port());
    const bool listening = std::count(server.addresses().begin(), server.addresses().end(), bound);
    const bool skipped = std::any_of(server.skipped().begin(), server.skipped().end(),
                                     [&](const std::string& x) { return x.starts_with(a + " "); });
    EXPECT_TRUE(listening || skipped) << a;
  }
  ASSERT_FALSE(server.addresses().empty());
  for (const std::string& address : server.addresses()) ExpectServes(address);
}

}  // namespace
}  // namespace ferry::http::testing
