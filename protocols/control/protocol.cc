#include "protocols/control/protocol.h"

#include "protocols/events/json_guard.h"

namespace ferry::control {

namespace {

using json = nlohmann::json;
constexpr std::size_t kMaxDepth = 64;

Status Bad(std::string message) {
  return Status::Error(ErrorClass::kInvalidArgument, std::move(message));
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Size, UTF-8 and depth checks, then a non-throwing strict parse (trailing
// garbage is an error).
Result<json> ParseObject(std::string_view line, std::size_t max, const char* what) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > max) {
    return Bad(std::string(what) + " longer than " + std::to_string(max) + " bytes");
  }
  if (!json_guard::ValidUtf8(line)) return Bad(std::string(what) + " is not valid UTF-8");
  if (json_guard::NestingDepth(line, kMaxDepth) > kMaxDepth) {
    return Bad(std::string(what) + " nests deeper than " + std::to_string(kMaxDepth) + " levels");
  }
  json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Bad(std::string(what) + " is not valid JSON");
  if (!j.is_object()) return Bad(std::string(what) + " is not a JSON object");
  return j;
}

Status CheckVersion(const json& j) {
  auto v = j.find("v");
  if (v == j.end()) return Bad("missing protocol version \"v\"");
  if (v->is_number_unsigned()) {
    auto n = v->get<std::uint64_t>();
    if (n == static_cast<std::uint64_t>(kProtocolVersion)) return Status::Ok();
    return Bad("unsupported protocol version " + std::to_string(n));
  }
  if (v->is_number_integer()) {
    return Bad("unsupported protocol version " + std::to_string(v->get<std::int64_t>()));
  }
  return Bad("protocol version \"v\" is not an integer");
}

bool ValidCommand(std::string_view cmd) {
  if (cmd.empty() || cmd.size() > kMaxCommandBytes) return false;
  for (char c : cmd) {
    if (!((c >= 'a' && c <= 'z') || c == '-')) return false;
  }
  return true;
}

}  // namespace

Result<Request> ParseRequest(std::string_view line) {
  try {
    FERRY_ASSIGN_OR_RETURN(json j, ParseObject(line, kMaxLine, "request line"));
    FERRY_RETURN_IF_ERROR(CheckVersion(j));
    Request r;
    auto cmd = j.find("cmd");
    if (cmd == j.end() || !cmd->is_string()) return Bad("\"cmd\" missing or not a string");
    r.command = cmd->get<std::string>();
    if (!ValidCommand(r.command)) {
      return Bad("\"cmd\" must be 1-32 characters of a-z and '-'");
    }
    if (auto id = j.find("id"); id != j.end()) {
      if (!id->is_string()) return Bad("\"id\" is not a string");
      r.id = id->get<std::string>();
      if (r.id.size() > kMaxIdBytes) {
        return Bad("\"id\" longer than " + std::to_string(kMaxIdBytes) + " bytes");
      }
    }
    if (auto args = j.find("args"); args != j.end()) {
      if (!args->is_object()) return Bad("\"args\" is not an object");
      r.args = std::move(*args);
    }
    return r;
  } catch (const std::exception& e) {
    return Bad(std::string("malformed request (") + e.what() + ")");
  }
}

std::string RenderRequest(const Request& r) {
  json j = {{"v", r.version}, {"id", r.id}, {"cmd", r.command}};
  j["args"] = r.args.is_null() ? json::object() : r.args;
  return Dump(j);
}

std::string OkResponse(std::string_view id, const nlohmann::json& result) {
  json j = {{"v", kProtocolVersion}, {"id", std::string(id)}, {"ok", true}};
  j["result"] = result;
  return Dump(j);
}

std::string ErrorResponse(std::string_view id, std::string_view code, std::string_view message) {
  json j = {{"v", kProtocolVersion},
            {"id", std::string(id)},
            {"ok", false},
            {"error", {{"code", std::string(code)}, {"message", std::string(message)}}}};
  return Dump(j);
}

Result<Response> ParseResponse(std::string_view line) {
  try {
    FERRY_ASSIGN_OR_RETURN(json j, ParseObject(line, kMaxResponseLine, "response line"));
    FERRY_RETURN_IF_ERROR(CheckVersion(j));
    Response r;
    auto ok = j.find("ok");
    if (ok == j.end() || !ok->is_boolean()) return Bad("response \"ok\" missing or not a boolean");
    r.ok = ok->get<bool>();
    if (r.ok) {
      if (auto res = j.find("result"); res != j.end()) r.result = std::move(*res);
      return r;
    }
    auto err = j.find("error");
    if (err == j.end() || !err->is_object())
      return Bad("error response without an \"error\" object");
    auto code = err->find("code");
    auto message = err->find("message");
    if (code == err->end() || !code->is_string()) return Bad("error response without a code");
    r.error_code = code->get<std::string>();
    if (message != err->end()) {
      if (!message->is_string()) return Bad("error message is not a string");
      r.error_message = message->get<std::string>();
    }
    return r;
  } catch (const std::exception& e) {
    return Bad(std::string("malformed response (") + e.what() + ")");
  }
}

}  // namespace ferry::control
