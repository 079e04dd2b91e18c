#include "models/force_service.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "core/path_util.h"
#include "core/placeholder.h"
#include "core/test_util.h"

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

  // Starts the service with `force`, counting its calls.
  void Start(ForceService::Force force) {
    auto s = ForceService::Start(store_.get(), [this, force](const std::vector<Name>& targets) {
      ++calls_;
      return force(targets);
    });
    ASSERT_TRUE(s.ok()) << s.status().message();
    service_ = std::move(*s);
  }

  // What gg-model does: one request over the socket, one answer.
  std::optional<ForceAnswer> Ask(const std::vector<std::string>& paths) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, service_->socket_path().c_str());
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return std::nullopt;
    auto answer = WriteFrame(fd, Encode(ForceRequest{paths})) ? ReadFrame(fd, 16) : std::nullopt;
    close(fd);
    if (!answer || answer->size() != 1) return std::nullopt;
    return static_cast<ForceAnswer>((*answer)[0]);
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
};

TEST_F(ForceServiceTest, PlaceholdersAreForcedThroughTheBuildsForceAndReplaced) {
  std::vector<Name> asked;
  Start([&](const std::vector<Name>& targets) {
    asked = targets;
    return std::optional<std::vector<ReductionOutput>>({{"x.o", object_, false}, {"x", object_, true}});
  });
  std::string o = Placeholder("x.o", thunk_.WithTag("x.o"));
  std::string x = Placeholder("x", thunk_);
  EXPECT_EQ(Ask({o, x}), ForceAnswer::kForced);
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
  EXPECT_EQ(Ask({o}), ForceAnswer::kForced);
  EXPECT_EQ(calls_, 1);
}

TEST_F(ForceServiceTest, WhatItCannotForceIsLeftToTheCaller) {
  Start([](const std::vector<Name>&) { return std::optional<std::vector<ReductionOutput>>(); });
  // The build's force could not (a thunk failed, or it stopped): the
  // placeholder stays for the caller's own `gg force`, which reports why.
  std::string o = Placeholder("x.o", thunk_);
  EXPECT_EQ(Ask({o}), ForceAnswer::kNotHere);
  auto still = ReadPlaceholder(o);
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(*still, std::optional<Name>(thunk_));
  EXPECT_EQ(calls_, 1);
  // Another store's placeholder (a gg build inside the build) is not asked for.
  std::string other = Placeholder("y.o", Name::ForContent(std::string(kThunkMagic) + "not in this store"));
  EXPECT_EQ(Ask({other}), ForceAnswer::kNotHere);
  EXPECT_EQ(Ask({dir_.path() + "/missing.o"}), ForceAnswer::kNotHere);
  EXPECT_EQ(calls_, 1);
}

TEST_F(ForceServiceTest, RequestsWaitAtOnceAndStopWaitsForThem) {
  std::atomic<bool> release{false};
  Start([&](const std::vector<Name>&) {
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return std::optional<std::vector<ReductionOutput>>({{"", object_, false}});
  });
  std::string a = Placeholder("a.o", thunk_), b = Placeholder("b.o", thunk_);
  std::optional<ForceAnswer> answer_a, answer_b;
  std::thread ta([&] { answer_a = Ask({a}); });
  std::thread tb([&] { answer_b = Ask({b}); });
  while (calls_ < 2) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  release = true;
  ta.join();
  tb.join();
  EXPECT_EQ(answer_a, ForceAnswer::kForced);
  EXPECT_EQ(answer_b, ForceAnswer::kForced);
  service_->Stop();
  EXPECT_FALSE(Ask({a}).has_value());  // no longer listening
}

}  // namespace
}  // namespace gg::models
