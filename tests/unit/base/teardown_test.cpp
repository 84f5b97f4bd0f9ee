#include "dvx/base/teardown.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

namespace dvx {
namespace {

struct Counted {
  static inline int destroyed = 0;
  bool live = true;
  Counted() = default;
  Counted(Counted&& o) noexcept : live(o.live) { o.live = false; }
  ~Counted() {
    if (live) ++destroyed;
  }
};

// Without skip_teardown() (libraries, tests) retire() destroys at once.
TEST(Teardown, RetireDestroysUnlessSkipped) {
  ASSERT_FALSE(teardown_skipped());
  Counted::destroyed = 0;
  Counted c;
  retire(std::move(c));
  EXPECT_EQ(Counted::destroyed, 1);
  auto owned = std::make_unique<std::vector<std::string>>(1000, "x");
  retire(std::move(owned));
  EXPECT_EQ(owned, nullptr);  // moved from either way
}

// Once skipped (the CLI), the value is moved away and never destroyed; checked in a child so
// that this process keeps the default.
TEST(Teardown, SkippedLeavesTheValueAlive) {
  pid_t pid = ::fork();
  if (pid == 0) {
    skip_teardown();
    Counted::destroyed = 0;
    {
      Counted c;
      retire(std::move(c));
    }
#if defined(__SANITIZE_ADDRESS__)
    ::_exit(teardown_skipped() ? 1 : (Counted::destroyed == 1 ? 0 : 2));  // ignored under ASan
#else
    ::_exit(teardown_skipped() && Counted::destroyed == 0 ? 0 : 3);
#endif
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace dvx
