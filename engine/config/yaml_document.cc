// ParseDocument (see yaml_reader.h): text → one YAML document, with
// yaml-cpp's exceptions turned into positioned errors.
//
// yaml-cpp 0.7 quirks handled here:
//  - a quoted string left open runs to the end of the input without error
//    when the input ends with a line break (or yields an unrelated error
//    about what it swallowed); we look for the closing quote of the last
//    quoted scalar ourselves and point at where the string starts;
//  - nesting deeper than its limit is reported as "bad file";
//  - YAML::Load silently ignores documents after the first.
#include <yaml-cpp/eventhandler.h>

#include <sstream>

#include "engine/config/checks.h"
#include "engine/config/yaml_reader.h"

namespace ferry::config::internal {
namespace {

Pos PosOfMark(const YAML::Mark& m) {
  if (m.is_null() || m.line < 0 || m.column < 0) return Pos{};
  return Pos{m.line + 1, m.column + 1};
}

// Counts documents and remembers where the last quoted scalar starts.
class ScanHandler : public YAML::EventHandler {
 public:
  explicit ScanHandler(std::string_view text) : text_(text) {}
  void OnDocumentStart(const YAML::Mark& mark) override {
    ++documents_;
    if (documents_ == 1) first_document_ = mark;
    if (documents_ == 2) second_document_ = mark;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    if (mark.pos >= 0 && static_cast<size_t>(mark.pos) < text_.size()) {
      const char c = text_[static_cast<size_t>(mark.pos)];
      if (c == '"' || c == '\'') last_quoted_ = mark;
    }
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  int documents() const { return documents_; }
  const YAML::Mark& first_document() const { return first_document_; }
  const YAML::Mark& second_document() const { return second_document_; }
  const YAML::Mark& last_quoted() const { return last_quoted_; }

 private:
  std::string_view text_;
  int documents_ = 0;
  YAML::Mark first_document_ = YAML::Mark::null_mark();
  YAML::Mark second_document_ = YAML::Mark::null_mark();
  YAML::Mark last_quoted_ = YAML::Mark::null_mark();
};

// Runs the event parser over the first two documents of `text` (enough to
// know there is more than one; on some garbage yaml-cpp reports documents
// forever without consuming input).
void Scan(std::string_view text, ScanHandler* handler) {
  std::istringstream in{std::string(text)};
  YAML::Parser parser(in);
  while (handler->documents() < 2 && parser.HandleNextDocument(*handler)) {
  }
}

// The line `pos` is on, for the tab hint.
std::string_view LineAt(std::string_view text, int line) {
  size_t start = 0;
  for (int i = 1; i < line; ++i) {
    start = text.find('\n', start);
    if (start == std::string_view::npos) return {};
    ++start;
  }
  size_t end = text.find('\n', start);
  return text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
}

void ReportSyntax(std::string_view text, const YAML::Exception& e, Diagnostics* diag) {
  Pos pos = PosOfMark(e.mark);
  std::string msg = e.msg == "bad file" ? "nesting too deep" : "YAML syntax error: " + e.msg;
  // YAML forbids tabs for indentation; yaml-cpp's message does not say so.
  for (int line : {pos.line, pos.line - 1}) {
    std::string_view l = LineAt(text, line);
    size_t indent_end = l.find_first_not_of(" \t");
    if (l.substr(0, indent_end).find('\t') != std::string_view::npos) {
      msg += " (line " + std::to_string(line) + " is indented with a tab; YAML needs spaces)";
      break;
    }
  }
  diag->Error(pos, "", std::move(msg));
}

// True when the quoted scalar starting at `mark` has no closing quote.
bool UnclosedQuote(std::string_view text, const YAML::Mark& mark) {
  if (mark.is_null() || mark.pos < 0 || static_cast<size_t>(mark.pos) >= text.size()) return false;
  const size_t start = static_cast<size_t>(mark.pos);
  const char quote = text[start];
  for (size_t i = start + 1; i < text.size(); ++i) {
    if (quote == '"' && text[i] == '\\') {
      ++i;  // the escaped character cannot close the string
    } else if (text[i] == quote) {
      if (quote == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
        ++i;  // '' is an escaped single quote
      } else {
        return false;
      }
    }
  }
  return true;
}

void ReportUnclosed(const YAML::Mark& mark, Diagnostics* diag) {
  diag->Error(PosOfMark(mark), "",
              "YAML syntax error: quoted string is never closed (it runs to the end of the file)");
}

}  // namespace

std::optional<YAML::Node> ParseDocument(std::string_view text, Diagnostics* diag) {
  try {
    ScanHandler scan(text);
    try {
      Scan(text, &scan);
    } catch (const YAML::Exception& e) {
      // An open quote makes yaml-cpp complain about whatever it swallowed;
      // the quote is the error to show.
      if (UnclosedQuote(text, scan.last_quoted())) {
        ReportUnclosed(scan.last_quoted(), diag);
      } else {
        ReportSyntax(text, e, diag);
      }
      return std::nullopt;
    }
    if (scan.documents() > 1 && scan.first_document().pos == scan.second_document().pos) {
      diag->Error(PosOfMark(scan.first_document()), "",
                  "YAML syntax error: cannot make sense of the text here");
      return std::nullopt;
    }
    if (scan.documents() > 1) {
      diag->Error(PosOfMark(scan.second_document()), "",
                  "the file holds more than one YAML document (remove the '---' separator)");
      return std::nullopt;
    }
    if (UnclosedQuote(text, scan.last_quoted())) {
      ReportUnclosed(scan.last_quoted(), diag);
      return std::nullopt;
    }
    std::istringstream in{std::string(text)};
    return YAML::Load(in);
  } catch (const YAML::Exception& e) {
    ReportSyntax(text, e, diag);
  } catch (const std::exception& e) {
    diag->Error(Pos{}, "", std::string("cannot parse: ") + e.what());
  }
  return std::nullopt;
}

}  // namespace ferry::config::internal
