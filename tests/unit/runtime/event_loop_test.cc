// The event loop on real pipes and the monotonic clock.
#include "runtime/event_loop.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace runtime {
namespace {

struct Pipe {
  Pipe() {
    int p[2];
    EXPECT_EQ(::pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
    r = common::UniqueFd(p[0]);
    w = common::UniqueFd(p[1]);
  }
  common::UniqueFd r, w;
};

TEST(EventLoop, CallsTheHandlerOfAReadyDescriptor) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  Pipe p;
  int calls = 0;
  ASSERT_TRUE(loop->Add(p.r.get(), EPOLLIN, [&](uint32_t ev) {
                      EXPECT_TRUE(ev & EPOLLIN);
                      char c;
                      EXPECT_EQ(::read(p.r.get(), &c, 1), 1);
                      ++calls;
                    }).ok());
  ASSERT_EQ(::write(p.w.get(), "x", 1), 1);
  ASSERT_TRUE(loop->RunOnce(1000).ok());
  EXPECT_EQ(calls, 1);
  ASSERT_TRUE(loop->RunOnce(0).ok());
  EXPECT_EQ(calls, 1);
}

TEST(EventLoop, AHandlerRemovedInTheSameRoundIsNotCalled) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  Pipe a, b;
  int calls = 0;
  // Whichever runs first removes the other: exactly one handler runs.
  ASSERT_TRUE(loop->Add(a.r.get(), EPOLLIN, [&](uint32_t) { ++calls; loop->Remove(b.r.get()); }).ok());
  ASSERT_TRUE(loop->Add(b.r.get(), EPOLLIN, [&](uint32_t) { ++calls; loop->Remove(a.r.get()); }).ok());
  ASSERT_EQ(::write(a.w.get(), "x", 1), 1);
  ASSERT_EQ(::write(b.w.get(), "x", 1), 1);
  ASSERT_TRUE(loop->RunOnce(1000).ok());
  EXPECT_EQ(calls, 1);
}

TEST(EventLoop, AHandlerMayRemoveItself) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  Pipe p;
  int calls = 0;
  ASSERT_TRUE(loop->Add(p.r.get(), EPOLLIN, [&](uint32_t) { ++calls; loop->Remove(p.r.get()); }).ok());
  ASSERT_EQ(::write(p.w.get(), "x", 1), 1);
  ASSERT_TRUE(loop->RunOnce(1000).ok());
  ASSERT_TRUE(loop->RunOnce(0).ok());
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(loop->Watching(p.r.get()));
}

TEST(EventLoop, TimersRunInDeadlineOrderAndCanBeCancelled) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  std::vector<int> order;
  loop->After(30, [&] { order.push_back(2); });
  loop->After(10, [&] { order.push_back(1); });
  const EventLoop::TimerId never = loop->After(20, [&] { order.push_back(9); });
  loop->Cancel(never);
  loop->After(40, [&] { loop->Stop(); });
  const int64_t start = EventLoop::NowMs();
  ASSERT_TRUE(loop->Run().ok());
  EXPECT_THAT(order, testing::ElementsAre(1, 2));
  EXPECT_GE(EventLoop::NowMs() - start, 40);
}

}  // namespace
}  // namespace runtime
