#include "storage/credentials.h"

#include <gtest/gtest.h>

#include "core/path_util.h"
#include "storage/storage_test_util.h"

namespace gg {
namespace {

using testing::ScopedEnv;

TEST(CredentialsTest, ParsesProfiles) {
  std::string ini =
      "# comment\n[default]\naws_access_key_id = AK1\naws_secret_access_key=SK1\n\n"
      "[profile work]\r\naws_access_key_id=AK2\r\naws_secret_access_key = SK2\r\naws_session_token = TK2\r\n";
  bool found = false;
  auto d = ParseCredentialsFile(ini, "default", &found);
  EXPECT_TRUE(found);
  EXPECT_EQ(d.access_key_id, "AK1");
  EXPECT_EQ(d.secret_access_key, "SK1");
  auto w = ParseCredentialsFile(ini, "work", &found);
  EXPECT_TRUE(found);
  EXPECT_EQ(w.session_token, "TK2");
  ParseCredentialsFile(ini, "nope", &found);
  EXPECT_FALSE(found);
}

TEST(CredentialsTest, EnvironmentFirstThenFileAndProfile) {
  ScratchDir dir;
  std::string file = dir.path() + "/credentials";
  ASSERT_TRUE(WriteFileAtomic(file, "[default]\naws_access_key_id=FILEKEY\naws_secret_access_key=FILESECRET\n"
                                    "[other]\naws_access_key_id=OK\naws_secret_access_key=OS\n").ok());
  ScopedEnv f("AWS_SHARED_CREDENTIALS_FILE", file.c_str());
  {
    ScopedEnv k("AWS_ACCESS_KEY_ID", "ENVKEY"), s("AWS_SECRET_ACCESS_KEY", "ENVSECRET");
    auto c = LoadAwsCredentials();
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->access_key_id, "ENVKEY");
    EXPECT_EQ(c->source.find("ENVSECRET"), std::string::npos);
  }
  ScopedEnv k("AWS_ACCESS_KEY_ID", nullptr), s("AWS_SECRET_ACCESS_KEY", nullptr);
  {
    ScopedEnv p("AWS_PROFILE", nullptr);
    auto c = LoadAwsCredentials();
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->access_key_id, "FILEKEY");
    EXPECT_NE(c->source.find("[default]"), std::string::npos);
  }
  {
    ScopedEnv p("AWS_PROFILE", "other");
    EXPECT_EQ(LoadAwsCredentials()->secret_access_key, "OS");
  }
  {
    ScopedEnv p("AWS_PROFILE", "missing");
    auto c = LoadAwsCredentials();
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.status().message().find("'missing'"), std::string::npos);
  }
  {
    ScopedEnv only_key("AWS_ACCESS_KEY_ID", "K");
    EXPECT_FALSE(LoadAwsCredentials().ok());  // half a pair is a mistake worth naming
  }
}

}  // namespace
}  // namespace gg
