#include "core/beneath.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "core/path_util.h"
#include "core/test_util.h"

namespace gg {
namespace {

// Both the openat2 path and the O_NOFOLLOW walk refuse every way out.
TEST(BeneathTest, NeitherWayFollowsALinkOrLeavesTheDirectory) {
  ScratchDir dir, host;
  ASSERT_TRUE(WriteFileAtomic(host.path() + "/secret", "s").ok());
  ASSERT_TRUE(MakeDirs(dir.path() + "/real/sub").ok());
  ASSERT_TRUE(WriteFileAtomic(dir.path() + "/real/sub/f", "ok").ok());
  ASSERT_EQ(symlink(host.path().c_str(), (dir.path() + "/link").c_str()), 0);
  ASSERT_EQ(symlink("real", (dir.path() + "/inner").c_str()), 0);
  ASSERT_EQ(symlink((host.path() + "/secret").c_str(), (dir.path() + "/real/last").c_str()), 0);
  int root = open(dir.path().c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(root, 0);
  for (auto open_fn : {&OpenBeneath, &OpenBeneathByWalk}) {
    auto ok = open_fn(root, "real/sub/f", O_RDONLY, "test", 0);
    ASSERT_TRUE(ok.ok()) << ok.status().ToString();
    auto parent = open_fn(root, "", O_RDONLY | O_DIRECTORY, "test", 0);
    EXPECT_TRUE(parent.ok());
    for (const char* bad : {"link/secret", "inner/sub/f", "real/last", "link", "../x", "/etc/passwd", "real/./sub"}) {
      auto r = open_fn(root, bad, O_RDONLY, "test", 0);
      EXPECT_FALSE(r.ok()) << bad;
      EXPECT_EQ(r.status().code(), Status::Code::kInvalid) << bad << ": " << r.status().ToString();
    }
    EXPECT_EQ(open_fn(root, "real/none", O_RDONLY, "test", 0).status().code(), Status::Code::kNotFound);
  }
  close(root);
}

}  // namespace
}  // namespace gg
