#include "report/trace_reader.h"

#include <gtest/gtest.h>

#include "coordinator/trace.h"
#include "core/path_util.h"
#include "core/test_util.h"

namespace gg::report {
namespace {

TEST(TraceReaderTest, JoinsTheEventsOfARunWrittenByTheCoordinator) {
  ScratchDir dir;
  TraceWriter w;
  TraceWriter::Args common = {{"thunk", "T1"}, {"engine", "local"}, {"attempt", "1"}, {"duplicate", "no"},
                              {"result", "ok"}};
  w.NameRow(100001, "local slot 1");
  w.Add("gcc T1", "queued", 0, 1000, 100001, common);
  w.Add("gcc T1", "fetching inputs", 1000, 500, 100001, common);
  w.Add("gcc T1", "collected", 91500, 500, 100001, common);
  auto main = common;
  main.insert(main.end(), {{"function", "gcc"}, {"command", "gcc -c a.c"}, {"deps", "T0 T9"}, {"outputs", "V1"}});
  w.Add("gcc T1", "running", 1500, 90000, 100001, main);
  w.SetInfo("wall_seconds", "0.25");
  w.SetInfo("slots", "2");
  std::string path = dir.path() + "/t.json";
  ASSERT_TRUE(w.Write(path).ok());

  auto t = ReadTrace(path);
  ASSERT_TRUE(t.ok()) << t.status().message();
  ASSERT_EQ(t->runs.size(), 1u);
  const report::Run& r = t->runs[0];
  EXPECT_EQ(r.thunk, "T1");
  EXPECT_EQ(r.function, "gcc");
  EXPECT_EQ(r.command, "gcc -c a.c");
  EXPECT_EQ(r.queued_us, 0);
  EXPECT_EQ(r.fetch_us, 1000);
  EXPECT_EQ(r.run_us, 1500);
  EXPECT_EQ(r.collect_us, 91500);
  EXPECT_EQ(r.end_us, 92000);
  EXPECT_EQ(r.running(), 90000);
  EXPECT_EQ(r.deps, (std::vector<std::string>{"T0", "T9"}));
  EXPECT_EQ(r.outputs, (std::vector<std::string>{"V1"}));
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(t->rows.at(100001), "local slot 1");
  EXPECT_DOUBLE_EQ(t->wall_seconds, 0.25);
  EXPECT_EQ(t->slots, 2);
}

TEST(TraceReaderTest, KeepsRetriesAndCopiesApart) {
  std::string json = R"J({"traceEvents":[
    {"name":"x","cat":"running","ph":"X","pid":1,"tid":1,"ts":0,"dur":10,"args":{"thunk":"T","attempt":"1","duplicate":"no","result":"executor crashed"}},
    {"name":"x","cat":"running (retry)","ph":"X","pid":1,"tid":1,"ts":20,"dur":10,"args":{"thunk":"T","attempt":"2","duplicate":"no","result":"ok"}},
    {"name":"x","cat":"running (duplicate)","ph":"X","pid":1,"tid":2,"ts":25,"dur":3.5,"args":{"thunk":"T","attempt":"3","duplicate":"yes","result":"cancelled"}}]})J";
  auto t = ParseTrace(json);
  ASSERT_TRUE(t.ok()) << t.status().message();
  ASSERT_EQ(t->runs.size(), 3u);
  EXPECT_FALSE(t->runs[0].ok());
  EXPECT_EQ(t->runs[1].attempt, 2);
  EXPECT_TRUE(t->runs[2].duplicate);
  EXPECT_TRUE(t->runs[2].cancelled());
  EXPECT_EQ(t->rows.size(), 2u);  // rows named when the trace does not
  EXPECT_EQ(t->slots, 2);
  EXPECT_NEAR(t->wall_seconds, 30e-6, 1e-9);
}

TEST(TraceReaderTest, SaysWhatIsWrongWithAFileThatIsNoTrace) {
  auto t = ParseTrace("{\"traceEvents\": 3}");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("not a gg trace"), std::string::npos);
}

}  // namespace
}  // namespace gg::report
