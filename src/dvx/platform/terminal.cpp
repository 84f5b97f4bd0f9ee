#include "dvx/platform/terminal.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dvx::platform {

namespace {

bool write_all(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    ssize_t w = ::write(fd, s.data() + done, s.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    done += static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

Result<std::string> ask_secret(const std::string& prompt) {
  int fd = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return fail(ErrorCode::auth, std::string("no terminal to ask on (/dev/tty: ") + std::strerror(errno) + ")");
  struct termios saved {};
  const bool is_tty = ::tcgetattr(fd, &saved) == 0;
  if (is_tty) {
    struct termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHONL);
    quiet.c_lflag |= ICANON;
    (void)::tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  std::string line;
  bool ended = false;
  if (write_all(fd, prompt)) {
    char c;
    constexpr size_t k_most = 4096;
    while (line.size() < k_most) {
      ssize_t r = ::read(fd, &c, 1);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      if (c == '\n' || c == '\r') {
        ended = true;
        break;
      }
      line.push_back(c);
    }
  }
  if (is_tty) (void)::tcsetattr(fd, TCSAFLUSH, &saved);
  (void)write_all(fd, "\n");
  ::close(fd);
  if (!ended) return fail(ErrorCode::io, "the terminal closed before the answer ended");
  return line;
}

}  // namespace dvx::platform
