// AWS-style credentials for S3-compatible stores, from the usual places:
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, then the
// shared credentials file ($AWS_SHARED_CREDENTIALS_FILE, else
// ~/.aws/credentials) section $AWS_PROFILE (else "default"). The secret is
// never printed: errors name only where the credentials came from.
#pragma once

#include <string>

#include "gg/status.h"

namespace gg {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  std::string source;  ///< "AWS_ACCESS_KEY_ID", "/root/.aws/credentials [default]", or "" if none

  bool empty() const { return access_key_id.empty(); }
};

/// Finds credentials; none at all is not an error (requests go unsigned).
/// A named profile that does not exist is.
Result<AwsCredentials> LoadAwsCredentials();

/// Reads section `profile` of an INI credentials file's text.
AwsCredentials ParseCredentialsFile(const std::string& text, const std::string& profile, bool* found);

}  // namespace gg
