#include "core/exec_result.h"

#include <gtest/gtest.h>

#include "engines/lambda.pb.h"
#include "net/remote.pb.h"

namespace gg {
namespace {

ExecResult Sample(ExecResult::Kind kind) {
  ExecResult r;
  r.kind = kind;
  r.exit_code = kind == ExecResult::Kind::kNonzeroExit ? 2 : 0;
  r.signal = kind == ExecResult::Kind::kSignaled ? 9 : 0;
  r.message = "what happened";
  r.stdout_tail = "out\n";
  r.stderr_tail = std::string("err\0with nul\n", 13);
  r.reduction.seconds = 1.5;
  r.thunk_at_fault = kind == ExecResult::Kind::kSetupFailed;
  if (kind == ExecResult::Kind::kOk) {
    r.reduction.outputs.push_back({"out", Name::ForContent("a"), false});
    r.reduction.outputs.push_back({"bin", Name::ForContent("b"), true});
  }
  return r;
}

template <typename Message>
void RoundTripsEveryKind() {
  for (int k = 0; k <= static_cast<int>(ExecResult::Kind::kCancelled); ++k) {
    ExecResult r = Sample(static_cast<ExecResult::Kind>(k));
    Message m;
    EncodeResult(r, &m);
    Message parsed;
    ASSERT_TRUE(parsed.ParseFromString(m.SerializeAsString()));
    auto back = DecodeResult(parsed);
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->kind, r.kind);
    EXPECT_EQ(back->exit_code, r.exit_code);
    EXPECT_EQ(back->signal, r.signal);
    EXPECT_EQ(back->message, r.message);
    EXPECT_EQ(back->stdout_tail, r.stdout_tail);
    EXPECT_EQ(back->stderr_tail, r.stderr_tail);
    EXPECT_EQ(back->reduction, r.reduction);
    EXPECT_EQ(back->thunk_at_fault, r.thunk_at_fault);
    EXPECT_EQ(back->infrastructure_failure(), r.infrastructure_failure());
  }
}

// Only a set-up failure can be the thunk's own: a peer claiming it of a
// crash would keep the crash from being retried elsewhere.
TEST(ExecResultTest, ThunkAtFaultIsKeptForSetUpFailuresOnly) {
  proto::remote::Done m;
  ExecResult crashed = Sample(ExecResult::Kind::kCrashed);
  EncodeResult(crashed, &m);
  m.set_thunk_at_fault(true);
  auto r = DecodeResult(m);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->thunk_at_fault);
  EXPECT_TRUE(r->infrastructure_failure());
}

TEST(ExecResultTest, WorkerProtocolRoundTrip) { RoundTripsEveryKind<proto::remote::Done>(); }
TEST(ExecResultTest, CloudFunctionResultRoundTrip) { RoundTripsEveryKind<proto::lambda::Result>(); }

TEST(ExecResultTest, UnknownKindFromANewerPeerIsAnError) {
  proto::remote::Done m;
  EncodeResult(Sample(ExecResult::Kind::kOk), &m);
  m.set_kind("out_of_memory");
  auto r = DecodeResult(m);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unknown result kind 'out_of_memory'"), std::string::npos);
}

TEST(ExecResultTest, OkWithoutOutputsOrWithABadNameIsAnError) {
  proto::lambda::Result m;
  EncodeResult(Sample(ExecResult::Kind::kOk), &m);
  proto::lambda::Result empty = m;
  empty.clear_outputs();
  EXPECT_FALSE(DecodeResult(empty).ok());
  m.mutable_outputs(0)->set_name("not a name");
  EXPECT_FALSE(DecodeResult(m).ok());
}

}  // namespace
}  // namespace gg
