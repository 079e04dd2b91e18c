#include "report/analysis.h"

#include <gtest/gtest.h>

#include "report/html_report.h"
#include "report/json_report.h"

namespace gg::report {
namespace {

report::Run MakeRun(const std::string& thunk, int tid, int64_t start, int64_t end, std::vector<std::string> deps = {},
            const std::string& command = "gcc -c x.c -o x.o") {
  report::Run r;
  r.thunk = thunk;
  r.tid = tid;
  r.engine = "local";
  r.result = "ok";
  r.function = "gcc";
  r.command = command;
  r.fetch_us = start;
  r.run_us = start + 10;
  r.collect_us = end - 10;
  r.end_us = end;
  r.deps = std::move(deps);
  return r;
}

Trace Diamond() {
  // a, b -> c (link); b finishes last, so the path is b, c.
  Trace t;
  t.runs = {MakeRun("a", 1, 0, 100), MakeRun("b", 2, 0, 300), MakeRun("c", 1, 320, 500, {"a", "b"}, "gcc -o prog a.o b.o")};
  t.rows = {{1, "local slot 1"}, {2, "local slot 2"}};
  t.wall_seconds = 500e-6;
  t.slots = 2;
  return t;
}

TEST(AnalysisTest, KindsFromTheCommand) {
  EXPECT_EQ(KindOf(MakeRun("t", 1, 0, 1)), "compile");
  EXPECT_EQ(KindOf(MakeRun("t", 1, 0, 1, {}, "/usr/bin/gcc -o prog a.o")), "link");
  EXPECT_EQ(KindOf(MakeRun("t", 1, 0, 1, {}, "/gg/discover /gg/template x.gg-compile -- gcc -E")), "discovery");
  EXPECT_EQ(KindOf(MakeRun("t", 1, 0, 1, {}, "/gg/discover --compile /gg/template x.gg-compile -- gcc -E")),
            "compile");
  EXPECT_EQ(KindOf(MakeRun("t", 1, 0, 1, {}, "/gg/sh -c 'cp a b && exec /usr/bin/ar rcs libx.a'")), "archive");
  EXPECT_EQ(KindOf(MakeRun("t", 1, 0, 1, {}, "x86_64-linux-gnu-g++-12 -c a.cc")), "compile");
  EXPECT_EQ(KindOf(MakeRun("t", 1, 0, 1, {}, "./unit_test --gtest_filter=A.*")), "test");
}

TEST(AnalysisTest, CriticalPathFollowsTheLatestDependency) {
  Trace t = Diamond();
  CriticalPath cp = FindCriticalPath(t);
  ASSERT_EQ(cp.runs.size(), 2u);
  EXPECT_EQ(t.runs[cp.runs[0]].thunk, "b");
  EXPECT_EQ(t.runs[cp.runs[1]].thunk, "c");
  EXPECT_NEAR(cp.busy_seconds, (300 + 180) / 1e6, 1e-12);
  EXPECT_NEAR(cp.span_seconds, 500 / 1e6, 1e-12);
}

TEST(AnalysisTest, CriticalPathUsesTheWinningCopy) {
  Trace t = Diamond();
  report::Run loser = MakeRun("b", 3, 50, 280);
  loser.duplicate = true;
  loser.result = "cancelled";
  t.runs.push_back(loser);
  CriticalPath cp = FindCriticalPath(t);
  ASSERT_EQ(cp.runs.size(), 2u);
  EXPECT_EQ(cp.runs[0], 1u);  // the run that succeeded, not the cancelled copy
}

TEST(AnalysisTest, CriticalPathGoesThroughTailCalls) {
  // b (a discovery) reduced to thunk Te (its compile), which c (the link) waited for.
  Trace t = Diamond();
  t.runs[1].outputs = {"Te"};
  t.runs.push_back(MakeRun("Te", 2, 300, 310, {"b"}));
  CriticalPath cp = FindCriticalPath(t);
  ASSERT_EQ(cp.runs.size(), 3u);
  EXPECT_EQ(t.runs[cp.runs[0]].thunk, "b");
  EXPECT_EQ(t.runs[cp.runs[1]].thunk, "Te");
  EXPECT_EQ(t.runs[cp.runs[2]].thunk, "c");
}

TEST(AnalysisTest, UtilisationCountsHeldSlots) {
  Trace t = Diamond();
  Utilisation u = ComputeUtilisation(t, 5);  // buckets of 100 us
  ASSERT_EQ(u.busy.size(), 5u);
  EXPECT_NEAR(u.busy[0], 1.0, 1e-9);   // a and b
  EXPECT_NEAR(u.busy[1], 0.5, 1e-9);   // b alone
  EXPECT_NEAR(u.busy[3], 0.4, 1e-9);   // c from 320
  EXPECT_LT(u.running[0], u.busy[0]);  // fetching and collecting are not running
}

TEST(AnalysisTest, TotalsPerFunctionAndSlowest) {
  Trace t = Diamond();
  auto totals = TotalsByFunction(t);
  ASSERT_EQ(totals.size(), 2u);  // gcc compiling, gcc linking
  EXPECT_EQ(totals[0].kind, "compile");
  EXPECT_EQ(totals[0].count, 2u);
  EXPECT_NEAR(totals[0].running_seconds, (80 + 280) / 1e6, 1e-12);
  EXPECT_NEAR(totals[0].slot_seconds, (100 + 300) / 1e6, 1e-12);
  EXPECT_EQ(totals[1].kind, "link");
  auto slow = Slowest(t, 2);
  ASSERT_EQ(slow.size(), 2u);
  EXPECT_EQ(t.runs[slow[0]].thunk, "b");
  EXPECT_EQ(t.runs[slow[1]].thunk, "c");
}

TEST(AnalysisTest, PageHasOneRowPerSlotAndABarPerRun) {
  Trace t = Diamond();
  std::string html = RenderHtml(t, "test </script>");
  auto count = [&](const std::string& needle) {
    size_t n = 0;
    for (size_t p = 0; (p = html.find(needle, p)) != std::string::npos; p += needle.size()) ++n;
    return n;
  };
  EXPECT_EQ(count("<g class=\"slot\""), 2u);
  EXPECT_EQ(count("<g class=\"run"), 3u);
  EXPECT_EQ(count("<g class=\"run crit"), 2u);
  EXPECT_EQ(html.find("test </script>"), std::string::npos);  // escaped
  EXPECT_EQ(html.find("http"), html.find("http://www.w3.org/2000/svg"));  // nothing fetched
}

TEST(AnalysisTest, LargeTracesAreMergedIntoFewElements) {
  Trace t;
  const int kSlots = 64, kRuns = 100000;
  for (int i = 0; i < kSlots; ++i) t.rows[i + 1] = "local slot " + std::to_string(i + 1);
  for (int i = 0; i < kRuns; ++i) {
    int slot = i % kSlots;
    int64_t start = (i / kSlots) * 1000;
    t.runs.push_back(MakeRun("t" + std::to_string(i), slot + 1, start, start + 990,
                             i >= kSlots ? std::vector<std::string>{"t" + std::to_string(i - kSlots)}
                                         : std::vector<std::string>{}));
  }
  t.wall_seconds = (kRuns / kSlots + 1) * 1000 / 1e6;
  t.slots = kSlots;
  std::string html = RenderHtml(t, "big");
  size_t elements = 0;
  for (size_t p = 0; (p = html.find("<rect", p)) != std::string::npos; ++p) ++elements;
  EXPECT_LT(elements, 100000u);
  EXPECT_NE(html.find("merged per slot"), std::string::npos);
  std::string json = RenderJson(t);
  EXPECT_NE(json.find("\"critical_path\""), std::string::npos);
}

}  // namespace
}  // namespace gg::report
