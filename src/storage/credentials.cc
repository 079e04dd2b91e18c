#include "storage/credentials.h"

#include <cstdlib>

#include "core/path_util.h"

namespace gg {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

}  // namespace

AwsCredentials ParseCredentialsFile(const std::string& text, const std::string& profile, bool* found) {
  AwsCredentials c;
  *found = false;
  bool in_section = false;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    std::string line = Trim(text.substr(start, nl - start));
    start = nl + 1;
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      std::string section = Trim(line.substr(1, line.size() - 2));
      // ~/.aws/config spells non-default profiles "profile NAME".
      if (section.starts_with("profile ")) section = Trim(section.substr(8));
      in_section = section == profile;
      if (in_section) *found = true;
      continue;
    }
    if (!in_section) continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = Trim(line.substr(0, eq)), value = Trim(line.substr(eq + 1));
    if (key == "aws_access_key_id") c.access_key_id = value;
    else if (key == "aws_secret_access_key") c.secret_access_key = value;
    else if (key == "aws_session_token") c.session_token = value;
  }
  return c;
}

Result<AwsCredentials> LoadAwsCredentials() {
  AwsCredentials c;
  c.access_key_id = Env("AWS_ACCESS_KEY_ID");
  c.secret_access_key = Env("AWS_SECRET_ACCESS_KEY");
  if (!c.access_key_id.empty() || !c.secret_access_key.empty()) {
    if (c.access_key_id.empty() || c.secret_access_key.empty()) {
      return Status::Invalid(std::string("AWS_") + (c.access_key_id.empty() ? "ACCESS_KEY_ID" : "SECRET_ACCESS_KEY") +
                             " is not set although AWS_" +
                             (c.access_key_id.empty() ? "SECRET_ACCESS_KEY" : "ACCESS_KEY_ID") + " is: set both");
    }
    c.session_token = Env("AWS_SESSION_TOKEN");
    c.source = "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY";
    return c;
  }
  std::string profile = Env("AWS_PROFILE");
  bool explicit_profile = !profile.empty();
  if (profile.empty()) profile = "default";
  std::string path = Env("AWS_SHARED_CREDENTIALS_FILE");
  if (path.empty()) {
    std::string home = Env("HOME");
    if (home.empty()) return AwsCredentials{};
    path = home + "/.aws/credentials";
  }
  auto text = ReadFile(path);
  if (!text.ok()) {
    if (explicit_profile) {
      return Status::Invalid("AWS_PROFILE is '" + profile + "' but " + path + " cannot be read: " + text.status().message());
    }
    return AwsCredentials{};
  }
  bool found = false;
  AwsCredentials f = ParseCredentialsFile(*text, profile, &found);
  if (!found) {
    if (explicit_profile) return Status::Invalid("profile '" + profile + "' (AWS_PROFILE) is not in " + path);
    return AwsCredentials{};
  }
  if (f.access_key_id.empty() || f.secret_access_key.empty()) {
    return Status::Invalid("profile '" + profile + "' in " + path +
                           " lacks aws_access_key_id or aws_secret_access_key");
  }
  f.source = path + " [" + profile + "]";
  return f;
}

}  // namespace gg
