// Console output: results to stdout, warnings/errors to stderr with DVC's prefixes, colour
// only on a terminal and never with NO_COLOR, progress bars on a stderr terminal only and
// never with -q. Writes are serialised; progress may be updated from worker threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace dvx::ui {

class Console {
 public:
  Console();
  void set_quiet(bool quiet) { m_quiet = quiet; }
  void set_verbose(bool verbose) { m_verbose = verbose; }
  bool quiet() const { return m_quiet; }
  bool stdout_tty() const { return m_stdout_tty; }

  // A normal result line on stdout (suppressed by -q).
  void out(const std::string& text);
  // Raw stdout text (no newline added; suppressed by -q).
  void write(const std::string& text);
  // Always printed (e.g. JSON requested explicitly).
  void out_always(const std::string& text);
  void warn(const std::string& text);     // "WARNING: " on stderr (suppressed by -q)
  void error(const std::string& text);    // "ERROR: " on stderr (always)
  void plain_err(const std::string& text);
  void debug(const std::string& text);    // only with -v

  // Progress: a single-line bar redrawn at most every 100 ms; no-op unless stderr is a TTY.
  void progress(const std::string& what, uint64_t done, uint64_t total);
  void progress_done();

 private:
  void clear_progress_locked();
  std::mutex m_mutex;
  bool m_quiet = false, m_verbose = false;
  bool m_stdout_tty = false, m_stderr_tty = false, m_color = false;
  bool m_progress_shown = false;
  std::chrono::steady_clock::time_point m_last_draw{};
};

// Asks a [y/n] question on the terminal; false when stdin is not a TTY.
bool confirm(Console& console, const std::string& question);

}  // namespace dvx::ui
