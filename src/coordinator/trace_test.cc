#include "coordinator/trace.h"

#include <gtest/gtest.h>

#include "core/path_util.h"
#include "core/test_util.h"

namespace gg {
namespace {

TEST(TraceTest, JsonStringEscapes) {
  EXPECT_EQ(JsonString("plain"), "\"plain\"");
  EXPECT_EQ(JsonString("a\"b\\c\nd\te"), "\"a\\\"b\\\\c\\nd\\te\"");
  EXPECT_EQ(JsonString(std::string("\x01", 1)), "\"\\u0001\"");
}

TEST(TraceTest, WritesCompleteEvents) {
  ScratchDir dir;
  TraceWriter trace;
  trace.Add("sh T123", "running", 1000, 2500, 3, {{"attempt", "2"}, {"duplicate", "yes"}});
  trace.Add("negative", "collected", 10, -5, 1);
  std::string path = dir.path() + "/trace.json";
  ASSERT_TRUE(trace.Write(path).ok());
  auto text = ReadFile(path);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("\"name\":\"sh T123\",\"cat\":\"running\",\"ph\":\"X\",\"pid\":1,\"tid\":3,\"ts\":1000,\"dur\":2500"),
            std::string::npos);
  EXPECT_NE(text->find("\"attempt\":\"2\",\"duplicate\":\"yes\""), std::string::npos);
  EXPECT_NE(text->find("\"dur\":0"), std::string::npos);  // never negative
}

}  // namespace
}  // namespace gg
