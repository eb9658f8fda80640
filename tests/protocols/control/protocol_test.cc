// Control protocol lines: parsing and rendering requests and responses.
#include "protocols/control/protocol.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ferry::control {
namespace {

using ::testing::HasSubstr;

std::string ErrorOf(std::string_view line) {
  auto r = ParseRequest(line);
  if (r.ok()) return "accepted";
  EXPECT_TRUE(r.status().Is(ErrorClass::kInvalidArgument));
  return r.status().error().message;
}

TEST(ControlProtocol, ParsesAFullRequest) {
  auto r =
      ParseRequest(R"({"v":1,"id":"42","cmd":"wait","args":{"lag_below":"60s","route":"velero"}})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->version, 1);
  EXPECT_EQ(r->id, "42");
  EXPECT_EQ(r->command, "wait");
  EXPECT_EQ(r->args["lag_below"], "60s");
  EXPECT_EQ(r->args["route"], "velero");
}

TEST(ControlProtocol, OptionalFieldsAndCrlf) {
  auto r = ParseRequest("{\"v\":1,\"cmd\":\"status\"}\r");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->id, "");
  EXPECT_TRUE(r->args.is_object());
  EXPECT_TRUE(r->args.empty());
}

TEST(ControlProtocol, RejectsBadRequests) {
  EXPECT_THAT(ErrorOf(R"({"v":2,"cmd":"status"})"), HasSubstr("unsupported protocol version 2"));
  EXPECT_THAT(ErrorOf(R"({"v":-1,"cmd":"status"})"), HasSubstr("unsupported protocol version -1"));
  EXPECT_THAT(ErrorOf(R"({"v":"1","cmd":"status"})"), HasSubstr("not an integer"));
  EXPECT_THAT(ErrorOf(R"({"v":1.0,"cmd":"status"})"), HasSubstr("not an integer"));
  EXPECT_THAT(ErrorOf(R"({"cmd":"status"})"), HasSubstr("missing protocol version"));
  EXPECT_THAT(ErrorOf(R"({"v":1})"), HasSubstr("\"cmd\" missing"));
  EXPECT_THAT(ErrorOf(R"({"v":1,"cmd":""})"), HasSubstr("1-32 characters"));
  EXPECT_THAT(ErrorOf(R"({"v":1,"cmd":"Status"})"), HasSubstr("1-32 characters"));
  EXPECT_THAT(ErrorOf(R"({"v":1,"cmd":"rm -rf"})"), HasSubstr("1-32 characters"));
  EXPECT_THAT(ErrorOf(R"({"v":1,"cmd":")" + std::string(33, 'a') + "\"}"), HasSubstr("1-32"));
  EXPECT_EQ(ErrorOf(R"({"v":1,"cmd":")" + std::string(32, 'a') + "\"}"), "accepted");
  EXPECT_THAT(ErrorOf(R"({"v":1,"cmd":"x","id":7})"), HasSubstr("\"id\" is not a string"));
  EXPECT_THAT(ErrorOf(R"({"v":1,"cmd":"x","id":")" + std::string(65, 'i') + "\"}"),
              HasSubstr("longer than 64"));
  EXPECT_THAT(ErrorOf(R"({"v":1,"cmd":"x","args":[1]})"), HasSubstr("\"args\" is not an object"));
  EXPECT_THAT(ErrorOf(R"([1,2])"), HasSubstr("not a JSON object"));
  EXPECT_THAT(ErrorOf(R"("status")"), HasSubstr("not a JSON object"));
  EXPECT_THAT(ErrorOf(R"({"v":1,"cmd":"x"} {"v":1})"), HasSubstr("not valid JSON"));
  EXPECT_THAT(ErrorOf(R"({"v":1,"cmd":"x")"), HasSubstr("not valid JSON"));
  EXPECT_THAT(ErrorOf(""), HasSubstr("not valid JSON"));
  EXPECT_THAT(ErrorOf("{\"v\":1,\"cmd\":\"x\",\"id\":\"\xFF\"}"), HasSubstr("not valid UTF-8"));
  std::string big = R"({"v":1,"cmd":"x","args":{"pad":")" + std::string(kMaxLine, 'p') + "\"}}";
  EXPECT_THAT(ErrorOf(big), HasSubstr("longer than 65536 bytes"));
  std::string deep =
      R"({"v":1,"cmd":"x","args":{"a":)" + std::string(5000, '[') + std::string(5000, ']') + "}}";
  EXPECT_THAT(ErrorOf(deep), HasSubstr("nests deeper"));
}

TEST(ControlProtocol, RenderParseRoundTrip) {
  Request r;
  r.id = "abc-\xC3\xA9";
  r.command = "resync";
  r.args = {{"route", "velero"}, {"prefix", "backups/\"quoted\"\n"}};
  std::string line = RenderRequest(r);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto back = ParseRequest(line);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->id, r.id);
  EXPECT_EQ(back->command, r.command);
  EXPECT_EQ(back->args, r.args);
}

TEST(ControlProtocol, Responses) {
  std::string ok = OkResponse("9", {{"pending", 3}, {"routes", {"a", "b"}}});
  EXPECT_EQ(ok, R"({"id":"9","ok":true,"result":{"pending":3,"routes":["a","b"]},"v":1})");
  auto r = ParseResponse(ok);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->ok);
  EXPECT_EQ(r->result["pending"], 3);

  std::string err = ErrorResponse("9", "unknown_command", "no command \"frob\"\nsecond line");
  EXPECT_EQ(err.find('\n'), std::string::npos);
  auto e = ParseResponse(err);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_FALSE(e->ok);
  EXPECT_EQ(e->error_code, "unknown_command");
  EXPECT_EQ(e->error_message, "no command \"frob\"\nsecond line");
}

TEST(ControlProtocol, RenderingNeverThrowsOnInvalidUtf8) {
  std::string line = OkResponse("\xFF", {{"key", "bad\xC3"}});
  auto r = ParseResponse(line);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->result["key"], "bad\xEF\xBF\xBD");
  EXPECT_NO_THROW(ErrorResponse("x", "c", "\xC0\xAF"));
}

TEST(ControlProtocol, RejectsBadResponses) {
  EXPECT_FALSE(ParseResponse(R"({"v":2,"ok":true})").ok());
  EXPECT_FALSE(ParseResponse(R"({"v":1})").ok());
  EXPECT_FALSE(ParseResponse(R"({"v":1,"ok":"yes"})").ok());
  EXPECT_FALSE(ParseResponse(R"({"v":1,"ok":false})").ok());
  EXPECT_FALSE(ParseResponse(R"({"v":1,"ok":false,"error":{"message":"m"}})").ok());
  EXPECT_FALSE(ParseResponse("garbage").ok());
  auto no_result = ParseResponse(R"({"v":1,"ok":true})");
  ASSERT_TRUE(no_result.ok());
  EXPECT_TRUE(no_result->result.is_null());
}

}  // namespace
}  // namespace ferry::control
