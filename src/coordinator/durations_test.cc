#include "coordinator/durations.h"

#include <gtest/gtest.h>

#include "core/test_util.h"

namespace gg {
namespace {

TEST(DurationsTest, MedianOfThisRunAndMeansAcrossRuns) {
  ScratchDir dir;
  std::string path = dir.path() + "/durations";
  {
    Durations d(path);
    EXPECT_EQ(d.Estimate("Vfn", 1.5), 1.5);
    for (double s : {1.0, 9.0, 2.0}) d.Add("Vfn", s);
    size_t count = 0;
    EXPECT_EQ(d.MedianThisRun("Vfn", &count), 2.0);
    EXPECT_EQ(count, 3u);
    d.Save();
  }
  Durations again(path);
  EXPECT_DOUBLE_EQ(again.Estimate("Vfn", -1), 4.0);
  again.Add("Vfn", 8.0);
  again.Save();
  EXPECT_DOUBLE_EQ(Durations(path).Estimate("Vfn", -1), 5.0);
}

}  // namespace
}  // namespace gg
