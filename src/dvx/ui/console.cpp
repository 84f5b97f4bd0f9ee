#include "dvx/ui/console.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace dvx::ui {

Console::Console() {
  m_stdout_tty = ::isatty(STDOUT_FILENO) == 1;
  m_stderr_tty = ::isatty(STDERR_FILENO) == 1;
  const char* no_color = std::getenv("NO_COLOR");
  m_color = m_stderr_tty && !(no_color && *no_color);
}

void Console::clear_progress_locked() {
  if (m_progress_shown) {
    std::fputs("\r\033[K", stderr);
    m_progress_shown = false;
  }
}

void Console::out(const std::string& text) {
  if (m_quiet) return;
  std::lock_guard<std::mutex> lock(m_mutex);
  clear_progress_locked();
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
}

void Console::write(const std::string& text) {
  if (m_quiet) return;
  std::lock_guard<std::mutex> lock(m_mutex);
  std::fwrite(text.data(), 1, text.size(), stdout);
}

void Console::out_always(const std::string& text) {
  std::lock_guard<std::mutex> lock(m_mutex);
  clear_progress_locked();
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
}

void Console::warn(const std::string& text) {
  if (m_quiet) return;
  std::lock_guard<std::mutex> lock(m_mutex);
  clear_progress_locked();
  std::fflush(stdout);
  if (m_color) std::fprintf(stderr, "\033[33mWARNING\033[0m: %s\n", text.c_str());
  else std::fprintf(stderr, "WARNING: %s\n", text.c_str());
}

void Console::error(const std::string& text) {
  std::lock_guard<std::mutex> lock(m_mutex);
  clear_progress_locked();
  std::fflush(stdout);
  if (m_color) std::fprintf(stderr, "\033[31mERROR\033[0m: %s\n", text.c_str());
  else std::fprintf(stderr, "ERROR: %s\n", text.c_str());
}

void Console::plain_err(const std::string& text) {
  if (m_quiet) return;
  std::lock_guard<std::mutex> lock(m_mutex);
  clear_progress_locked();
  std::fflush(stdout);
  std::fprintf(stderr, "%s\n", text.c_str());
}

void Console::debug(const std::string& text) {
  if (!m_verbose) return;
  std::lock_guard<std::mutex> lock(m_mutex);
  clear_progress_locked();
  std::fprintf(stderr, "DEBUG: %s\n", text.c_str());
}

void Console::progress(const std::string& what, uint64_t done, uint64_t total) {
  if (m_quiet || !m_stderr_tty) return;
  std::lock_guard<std::mutex> lock(m_mutex);
  auto now = std::chrono::steady_clock::now();
  if (done < total && now - m_last_draw < std::chrono::milliseconds(100)) return;
  m_last_draw = now;
  int width = 30;
  int filled = total ? static_cast<int>(width * done / total) : width;
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(static_cast<size_t>(width), ' ');
  int pct = total ? static_cast<int>(100 * done / total) : 100;
  std::fprintf(stderr, "\r\033[K%s %3d%%|%s| %llu/%llu", what.c_str(), pct, bar.c_str(),
               static_cast<unsigned long long>(done), static_cast<unsigned long long>(total));
  std::fflush(stderr);
  m_progress_shown = true;
}

void Console::progress_done() {
  std::lock_guard<std::mutex> lock(m_mutex);
  clear_progress_locked();
}

bool confirm(Console& console, const std::string& question) {
  if (::isatty(STDIN_FILENO) != 1) return false;
  console.progress_done();
  std::fprintf(stdout, "%s [y/n] ", question.c_str());
  std::fflush(stdout);
  std::string line;
  if (!std::getline(std::cin, line)) return false;
  return line == "y" || line == "Y" || line == "yes";
}

}  // namespace dvx::ui
