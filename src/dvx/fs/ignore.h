// .dvcignore rules (formats.md §10.1): gitignore patterns with the semantics of Python pathspec's
// "gitwildmatch" as DVC applies them: `*`, `?`, `[...]`, `**`, a leading or inner `/` anchors to
// the .dvcignore's directory, a trailing `/` matches directories only, `!` negates, `\` escapes;
// the last matching pattern wins, deeper .dvcignore files after their parents. A pattern that
// matches a directory also matches everything below it. Built-in root patterns `.hg/`, `.git/`,
// `.git`, `.dvc/` come first. A .dvcignore ignored by its parents' rules is not read.
//
// Paths given to these functions are relative to the repository root, '/' separated, with no
// "." or ".." segments. Matching is byte-exact (case-sensitive, no Unicode normalisation);
// `?` and `[...]` match one UTF-8 code point.
//
// Thread-safety: IgnorePattern and IgnoreScope are immutable. IgnoreRules may be used from any
// number of threads at once (it reads .dvcignore files lazily into an internal, locked cache);
// copies share that cache.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dvx/base/result.h"

namespace dvx::fs {

inline constexpr std::string_view k_dvcignore_name = ".dvcignore";

// Which pattern decided a path.
struct IgnoreMatch {
  bool ignored = false;   // false when the deciding pattern is a negation ("!...")
  std::string source;     // .dvcignore path relative to the root ("sub/.dvcignore"); "" for built-ins
  int line = 0;           // 1-based line in `source`; 0 for built-ins
  std::string pattern;    // the line as written (whitespace-stripped), e.g. "!keep.txt"
};

namespace detail {
// Pieces of a compiled pattern (exposed only so IgnorePattern is a complete, copyable type).
struct GlobToken {
  enum class Kind { literal, any_char, star, set };
  Kind kind = Kind::literal;
  std::string literal;                               // Kind::literal: the bytes
  bool negated = false;                              // Kind::set: "[!...]"
  std::vector<std::pair<char32_t, char32_t>> ranges;  // Kind::set: code point ranges
};
struct PatternSegment {
  enum class Kind { any_path, literal, glob };  // any_path = "**" (zero or more segments)
  Kind kind = Kind::literal;
  std::string literal;
  std::vector<GlobToken> tokens;
};
}  // namespace detail

// One compiled gitwildmatch pattern.
class IgnorePattern {
 public:
  // Compiles one whitespace-stripped, non-comment line. nullopt for a line that matches nothing
  // by definition ("/"). invalid_argument for a malformed pattern (a trailing lone `\`, "!",
  // a reversed range "[z-a]").
  static Result<std::optional<IgnorePattern>> compile(std::string_view line);

  // True when the pattern matches `segments` (the path relative to the pattern's base folder,
  // split at '/'), or one of its parent folders. `is_dir` says whether the path itself is a folder.
  bool matches(std::span<const std::string_view> segments, bool is_dir) const;
  // True for "!..." patterns: a match re-includes the path.
  bool negated() const { return m_negated; }

 private:
  bool match_from(std::span<const std::string_view> segments, bool is_dir, size_t si,
                  size_t pi) const;
  std::vector<detail::PatternSegment> m_segments;
  bool m_need_dir = false;
  bool m_negated = false;
};

// The patterns of one .dvcignore file (or of the built-ins).
struct IgnoreFile {
  struct Rule {
    IgnorePattern pattern;
    int line = 0;
    std::string text;
  };
  std::string source;         // relative to the root; "" for built-ins
  size_t base_depth = 0;      // number of path segments of the folder holding the file
  std::vector<Rule> rules;
  std::optional<Error> error; // first malformed line (that line is skipped)
};

// Parses the content of a .dvcignore held by the folder with `base_depth` segments.
// Malformed lines are skipped and the first one is recorded in `error`.
std::shared_ptr<const IgnoreFile> parse_ignore_file(std::string_view content, std::string source,
                                                    size_t base_depth);

// The built-in root patterns.
std::shared_ptr<const IgnoreFile> builtin_ignore_file();

// An immutable chain of ignore files (root first) that applies to one folder and everything
// below it, when no deeper .dvcignore exists. Cheap to copy; lock-free to use.
class IgnoreScope {
 public:
  // The deciding match for a path given as segments from the root; nullopt if none matched.
  std::optional<IgnoreMatch> match(std::span<const std::string_view> segments, bool is_dir) const;
  bool is_ignored(std::span<const std::string_view> segments, bool is_dir) const;
  // This scope extended by a deeper file (which takes precedence).
  IgnoreScope with(std::shared_ptr<const IgnoreFile> file) const;
  const std::vector<std::shared_ptr<const IgnoreFile>>& files() const { return m_files; }

 private:
  std::vector<std::shared_ptr<const IgnoreFile>> m_files;
};

// Splits a root-relative path into segments (ignores empty and "." segments).
std::vector<std::string_view> split_rel_path(std::string_view rel_path);

class IgnoreRules {
 public:
  using Match = IgnoreMatch;

  // Reads the root .dvcignore (if any); deeper ones are read lazily when a path below them is
  // matched. Errors: io/permission when the root file cannot be read, invalid_argument when it
  // holds a malformed pattern.
  static Result<IgnoreRules> load(const std::string& repo_root);

  // Rules made of the built-ins only (reads nothing from disk).
  static IgnoreRules builtin_only(const std::string& repo_root);

  // The deciding pattern for `rel_path`; nullopt when none matched (the root itself never
  // matches). Malformed lines of deeper files are skipped.
  std::optional<Match> match(const std::string& rel_path, bool is_dir) const;
  bool is_ignored(const std::string& rel_path, bool is_dir) const;

  // The rules applying to the entries of folder `rel_dir` ("" = the root): the built-ins and
  // every readable, not-ignored .dvcignore from the root down to `rel_dir` included.
  // Errors: a malformed or unreadable .dvcignore on that chain.
  Result<IgnoreScope> scope_for(const std::string& rel_dir) const;
  // Only the built-ins.
  IgnoreScope builtin_scope() const;

  const std::string& root() const;

 private:
  struct State;
  explicit IgnoreRules(std::shared_ptr<State> state) : m_state(std::move(state)) {}
  std::shared_ptr<const IgnoreFile> dir_file(const std::string& rel_dir,
                                             const IgnoreScope& parents) const;
  std::shared_ptr<State> m_state;
};

}  // namespace dvx::fs
