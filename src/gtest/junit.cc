#include "gtest/junit.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <map>

namespace gg::gtest {
namespace {

std::string DecodeEntities(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    size_t semi = s.find(';', i);
    if (semi == std::string_view::npos) {
      out += s[i];
      continue;
    }
    std::string_view ent = s.substr(i + 1, semi - i - 1);
    if (ent == "amp") out += '&';
    else if (ent == "lt") out += '<';
    else if (ent == "gt") out += '>';
    else if (ent == "quot") out += '"';
    else if (ent == "apos") out += '\'';
    else if (ent.starts_with("#x") || ent.starts_with("#X")) out += static_cast<char>(std::strtol(std::string(ent.substr(2)).c_str(), nullptr, 16));
    else if (ent.starts_with("#")) out += static_cast<char>(std::strtol(std::string(ent.substr(1)).c_str(), nullptr, 10));
    else out += std::string(s.substr(i, semi - i + 1));
    i = semi;
  }
  return out;
}

// One start or end tag; text and CDATA between tags are skipped (gtest puts
// everything the report needs into attributes).
struct Tag {
  std::string name;  // "/testcase" for an end tag
  std::map<std::string, std::string> attrs;
  bool self_closing = false;
};

// The next tag at or after `*pos`, or false at the end.
Result<bool> NextTag(std::string_view xml, size_t* pos, Tag* tag) {
  while (true) {
    size_t lt = xml.find('<', *pos);
    if (lt == std::string_view::npos) return false;
    if (xml.substr(lt).starts_with("<![CDATA[")) {
      size_t end = xml.find("]]>", lt);
      if (end == std::string_view::npos) return Status::Corrupt("unterminated CDATA");
      *pos = end + 3;
      continue;
    }
    if (xml.substr(lt).starts_with("<?") || xml.substr(lt).starts_with("<!")) {
      size_t end = xml.find('>', lt);
      if (end == std::string_view::npos) return Status::Corrupt("unterminated declaration");
      *pos = end + 1;
      continue;
    }
    size_t i = lt + 1;
    size_t name_end = xml.find_first_of(" \t\r\n/>", i + 1);
    if (name_end == std::string_view::npos) return Status::Corrupt("unterminated tag");
    *tag = Tag();
    tag->name = std::string(xml.substr(i, name_end - i));
    i = name_end;
    while (i < xml.size()) {
      while (i < xml.size() && std::isspace(static_cast<unsigned char>(xml[i]))) ++i;
      if (i >= xml.size()) break;
      if (xml[i] == '>') {
        *pos = i + 1;
        return true;
      }
      if (xml.substr(i).starts_with("/>")) {
        tag->self_closing = true;
        *pos = i + 2;
        return true;
      }
      size_t eq = xml.find('=', i);
      if (eq == std::string_view::npos || eq + 1 >= xml.size()) break;
      std::string key(xml.substr(i, eq - i));
      char quote = xml[eq + 1];
      size_t close = xml.find(quote, eq + 2);
      if ((quote != '"' && quote != '\'') || close == std::string_view::npos) break;
      tag->attrs[key] = DecodeEntities(xml.substr(eq + 2, close - eq - 2));
      i = close + 1;
    }
    return Status::Corrupt("malformed tag <" + tag->name + "> at offset " + std::to_string(lt));
  }
}

std::string Attr(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\n': out += "&#x0A;"; break;
      case '\r': out += "&#x0D;"; break;
      case '\t': out += "&#x09;"; break;
      default: out += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
    }
  }
  return out;
}

std::string CData(const std::string& s) {
  std::string out = "<![CDATA[";
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (s.compare(i, 3, "]]>") == 0) {
      out += "]]]]><![CDATA[>";
      i += 2;
    } else {
      out += (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') ? '?' : c;
    }
  }
  return out + "]]>";
}

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", s);
  return buf;
}

}  // namespace

Result<std::vector<TestResult>> ParseGtestXml(std::string_view xml) {
  std::vector<TestResult> out;
  size_t pos = 0;
  Tag tag;
  TestResult* current = nullptr;
  while (true) {
    auto more = NextTag(xml, &pos, &tag);
    if (!more.ok()) return more.status().Prefix("gtest XML report");
    if (!*more) break;
    if (tag.name == "testcase") {
      TestResult r;
      r.suite = tag.attrs["classname"];
      r.name = tag.attrs["name"];
      r.seconds = std::atof(tag.attrs["time"].c_str());
      if (tag.attrs["status"] == "notrun") r.outcome = TestResult::Outcome::kDisabled;
      else if (tag.attrs["result"] == "skipped") r.outcome = TestResult::Outcome::kSkipped;
      out.push_back(std::move(r));
      current = tag.self_closing ? nullptr : &out.back();
    } else if (tag.name == "/testcase") {
      current = nullptr;
    } else if (current != nullptr && tag.name == "failure") {
      current->outcome = TestResult::Outcome::kFailed;
      current->failures.push_back(tag.attrs["message"]);
    } else if (current != nullptr && tag.name == "skipped") {
      if (current->outcome == TestResult::Outcome::kPassed) current->outcome = TestResult::Outcome::kSkipped;
      current->skip_message = tag.attrs["message"];
    }
  }
  return out;
}

std::string WriteJUnit(const std::vector<TestResult>& results) {
  struct Suite {
    std::vector<const TestResult*> tests;
    size_t failures = 0, skipped = 0, disabled = 0;
    double seconds = 0;
  };
  std::vector<std::pair<std::string, Suite>> suites;
  std::map<std::pair<std::string, std::string>, size_t> index;
  size_t failures = 0, skipped = 0, disabled = 0;
  double seconds = 0;
  for (const auto& r : results) {
    auto key = std::make_pair(r.binary, r.suite);
    auto [it, fresh] = index.emplace(key, suites.size());
    if (fresh) suites.push_back({r.suite, {}});
    Suite& s = suites[it->second].second;
    s.tests.push_back(&r);
    s.seconds += r.seconds;
    seconds += r.seconds;
    size_t f = r.outcome == TestResult::Outcome::kFailed, k = r.outcome == TestResult::Outcome::kSkipped,
           d = r.outcome == TestResult::Outcome::kDisabled;
    s.failures += f, s.skipped += k, s.disabled += d;
    failures += f, skipped += k, disabled += d;
  }
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<testsuites tests=\"" + std::to_string(results.size()) + "\" failures=\"" + std::to_string(failures) +
         "\" disabled=\"" + std::to_string(disabled) + "\" skipped=\"" + std::to_string(skipped) +
         "\" errors=\"0\" time=\"" + Seconds(seconds) + "\" name=\"AllTests\">\n";
  for (const auto& [name, s] : suites) {
    out += "  <testsuite name=\"" + Attr(name) + "\" tests=\"" + std::to_string(s.tests.size()) + "\" failures=\"" +
           std::to_string(s.failures) + "\" disabled=\"" + std::to_string(s.disabled) + "\" skipped=\"" +
           std::to_string(s.skipped) + "\" errors=\"0\" time=\"" + Seconds(s.seconds) + "\">\n";
    for (const TestResult* r : s.tests) {
      bool ran = r->outcome != TestResult::Outcome::kDisabled;
      out += "    <testcase name=\"" + Attr(r->name) + "\" classname=\"" + Attr(r->suite) + "\" time=\"" +
             Seconds(r->seconds) + "\" status=\"" + (ran ? "run" : "notrun") + "\" result=\"" +
             (r->outcome == TestResult::Outcome::kSkipped ? "skipped" : ran ? "completed" : "suppressed") + "\"";
      if (r->outcome == TestResult::Outcome::kPassed) {
        out += "/>\n";
        continue;
      }
      out += ">\n";
      for (const auto& f : r->failures) {
        out += "      <failure message=\"" + Attr(f) + "\" type=\"\">" + CData(f) + "</failure>\n";
      }
      if (r->outcome == TestResult::Outcome::kSkipped) {
        out += "      <skipped message=\"" + Attr(r->skip_message) + "\"/>\n";
      } else if (r->outcome == TestResult::Outcome::kDisabled) {
        out += "      <skipped message=\"disabled (DISABLED_ prefix): not run\"/>\n";
      }
      if (r->outcome == TestResult::Outcome::kFailed && !r->output.empty()) {
        out += "      <system-out>" + CData(r->output) + "</system-out>\n";
      }
      out += "    </testcase>\n";
    }
    out += "  </testsuite>\n";
  }
  out += "</testsuites>\n";
  return out;
}

}  // namespace gg::gtest
