#include "models/force_service.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "core/path_util.h"
#include "core/placeholder.h"
#include "core/test_util.h"
#include "gg/thunk.h"

namespace gg::models {
namespace {

class ForceServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = NewStoreIn(dir_);
    ASSERT_NE(store_, nullptr);
    auto t = store_->Put(std::string(kThunkMagic) + "a compile");
    ASSERT_TRUE(t.ok());
    thunk_ = *t;
    auto v = store_->Put("the object");
    ASSERT_TRUE(v.ok());
    object_ = *v;
  }

  using Force = std::function<std::optional<std::vector<ReductionOutput>>(const std::vector<Name>&)>;
  // Starts the service with `force` as the build's force, which has the
  // thunks in `handed_over` (by default every one); counts its calls.
  // `catch_up`: the models' thunks that the build's force has not read yet.
  void Start(Force force, std::optional<std::set<Name>> handed_over = std::nullopt,
             std::function<void()> catch_up = nullptr) {
    ForceService::Options o;
    o.force = [this, force](const std::vector<Name>& targets) {
      ++calls_;
      return force(targets);
    };
    o.handed_over = [this, handed_over](const Name& n) {
      std::lock_guard<std::mutex> l(mu_);
      return !handed_over || handed_over->count(n) || read_late_.count(n);
    };
    o.catch_up = std::move(catch_up);
    auto s = ForceService::Start(store_.get(), o);
    ASSERT_TRUE(s.ok()) << s.status().message();
    service_ = std::move(*s);
  }

  // What gg-model does: one request over the socket, one answer.
  std::optional<ForceReply::Kind> Ask(const std::vector<std::string>& paths) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, service_->socket_path().c_str());
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return std::nullopt;
    auto frame = WriteFrame(fd, Encode(ForceRequest{paths})) ? ReadFrame(fd) : std::nullopt;
    close(fd);
    auto reply = frame ? DecodeForceReply(*frame) : std::nullopt;
    if (!reply) return std::nullopt;
    return reply->kind;
  }

  std::string Placeholder(const std::string& name, const Name& target) {
    std::string path = dir_.path() + "/" + name;
    EXPECT_TRUE(WritePlaceholder(path, target).ok());
    return path;
  }

  ScratchDir dir_;
  std::unique_ptr<LocalStore> store_;
  Name thunk_, object_;
  std::unique_ptr<ForceService> service_;
  std::atomic<int> calls_{0};
  std::mutex mu_;
  std::set<Name> read_late_;  ///< handed over by catch_up
};

TEST_F(ForceServiceTest, PlaceholdersAreForcedThroughTheBuildsForceAndReplaced) {
  std::vector<Name> asked;
  Start([&](const std::vector<Name>& targets) {
    asked = targets;
    return std::optional<std::vector<ReductionOutput>>({{"x.o", object_, false}, {"x", object_, true}});
  });
  std::string o = Placeholder("x.o", thunk_.WithTag("x.o"));
  std::string x = Placeholder("x", thunk_);
  EXPECT_EQ(Ask({o, x}), ForceReply::Kind::kForced);
  EXPECT_EQ(asked, (std::vector<Name>{thunk_.WithTag("x.o"), thunk_}));
  for (const auto& p : {o, x}) {
    auto content = ReadFile(p);
    ASSERT_TRUE(content.ok());
    EXPECT_EQ(*content, "the object");
  }
  struct stat st {};
  ASSERT_EQ(stat(x.c_str(), &st), 0);
  EXPECT_TRUE(st.st_mode & 0100);
  // Forced already: nothing to do, and the force is not asked again.
  EXPECT_EQ(Ask({o}), ForceReply::Kind::kForced);
  EXPECT_EQ(calls_, 1);
}

TEST_F(ForceServiceTest, WhatItCannotForceIsLeftToTheCaller) {
  Start([](const std::vector<Name>&) { return std::optional<std::vector<ReductionOutput>>(); });
  // The build's force could not (a thunk failed, or it stopped): the
  // placeholder stays for the caller's own `gg force`, which reports why.
  std::string o = Placeholder("x.o", thunk_);
  EXPECT_EQ(Ask({o}), ForceReply::Kind::kNotHere);
  auto still = ReadPlaceholder(o);
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(*still, std::optional<Name>(thunk_));
  EXPECT_EQ(calls_, 1);
  // Another store's placeholder (a gg build inside the build) is not asked for.
  std::string other = Placeholder("y.o", Name::ForContent(std::string(kThunkMagic) + "not in this store"));
  EXPECT_EQ(Ask({other}), ForceReply::Kind::kNotHere);
  EXPECT_EQ(Ask({dir_.path() + "/missing.o"}), ForceReply::Kind::kNotHere);
  EXPECT_EQ(calls_, 1);
}

TEST_F(ForceServiceTest, ACommandsOwnThunkRunsBesideTheBuildsForceAfterWhatItNeedsOfIt) {
  // ranlib's thunk (the waiting command's own, not handed over) reads the
  // archive, whose thunk the build's force has: that one goes through it;
  // ranlib's runs on the service's own engine (here: memoized).
  Thunk ranlib;
  auto exe = store_->Put("#!/bin/sh\n");
  ASSERT_TRUE(exe.ok());
  ranlib.SetFunction(*exe, "/usr/bin/ranlib").AddInput(thunk_, "libz.a");
  ranlib.args = {"/usr/bin/ranlib", "libz.a"};
  ranlib.outputs = {"libz.a"};
  auto own = store_->Put(ranlib.Serialize());
  ASSERT_TRUE(own.ok());
  ASSERT_TRUE(store_->reductions().Put(*own, Reduction{{{"libz.a", object_, false}}, 0}).ok());
  std::vector<Name> asked;
  Start(
      [&](const std::vector<Name>& targets) {
        asked = targets;
        return std::optional<std::vector<ReductionOutput>>({{"", object_, false}});
      },
      std::set<Name>{thunk_});
  std::string lib = Placeholder("libz.a", *own);
  EXPECT_EQ(Ask({lib}), ForceReply::Kind::kForced);
  EXPECT_EQ(asked, std::vector<Name>{thunk_});
  auto content = ReadFile(lib);
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(*content, "the object");
}

TEST_F(ForceServiceTest, AThunkTheModelsWroteAMomentAgoGoesThroughTheBuildsForce) {
  // A compile ninja runs waits for its dependency file as soon as its
  // model returns, before the build's force has read the models' log: the
  // service catches up first, and the thunk runs once, in the build's force
  // (run here as well, it ran twice).
  std::vector<Name> asked;
  int caught_up = 0;
  Start(
      [&](const std::vector<Name>& targets) {
        asked = targets;
        return std::optional<std::vector<ReductionOutput>>({{"x.o.d", object_, false}});
      },
      std::set<Name>{},
      [&] {
        ++caught_up;
        std::lock_guard<std::mutex> l(mu_);
        read_late_.insert(thunk_);
      });
  std::string d = Placeholder("x.o.d", thunk_.WithTag("x.o.d"));
  EXPECT_EQ(Ask({d}), ForceReply::Kind::kForced);
  EXPECT_EQ(asked, std::vector<Name>{thunk_.WithTag("x.o.d")});
  EXPECT_EQ(caught_up, 1);
  auto content = ReadFile(d);
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(*content, "the object");
}

TEST_F(ForceServiceTest, RequestsWaitAtOnceAndStopWaitsForThem) {
  std::atomic<bool> release{false};
  Start([&](const std::vector<Name>&) {
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return std::optional<std::vector<ReductionOutput>>({{"", object_, false}});
  });
  std::string a = Placeholder("a.o", thunk_), b = Placeholder("b.o", thunk_);
  std::optional<ForceReply::Kind> answer_a, answer_b;
  std::thread ta([&] { answer_a = Ask({a}); });
  std::thread tb([&] { answer_b = Ask({b}); });
  while (calls_ < 2) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  release = true;
  ta.join();
  tb.join();
  EXPECT_EQ(answer_a, ForceReply::Kind::kForced);
  EXPECT_EQ(answer_b, ForceReply::Kind::kForced);
  service_->Stop();
  EXPECT_FALSE(Ask({a}).has_value());  // no longer listening
}

}  // namespace
}  // namespace gg::models
