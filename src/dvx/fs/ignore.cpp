#include "dvx/fs/ignore.h"

#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "dvx/platform/files.h"

namespace dvx::fs {

using detail::GlobToken;
using detail::PatternSegment;

namespace {

// Decodes one code point at s[i] and advances i. Bytes that are not valid UTF-8 decode one by
// one as U+DC80..U+DCFF, like Python's surrogateescape (how DVC sees such file names).
char32_t decode_utf8(std::string_view s, size_t& i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  auto bad = [&] {
    ++i;
    return char32_t(0xDC00 + c);
  };
  if (c < 0x80) {
    ++i;
    return c;
  }
  size_t len = c >= 0xF0 && c < 0xF8 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
  if (len == 0 || i + len > s.size()) return bad();
  char32_t cp = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
  for (size_t k = 1; k < len; ++k) {
    unsigned char cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return bad();
    cp = (cp << 6) | (cc & 0x3F);
  }
  i += len;
  return cp;
}

bool set_contains(const GlobToken& t, char32_t cp) {
  bool in = false;
  for (auto& [lo, hi] : t.ranges) {
    if (cp >= lo && cp <= hi) {
      in = true;
      break;
    }
  }
  return in != t.negated;
}

// Glob match of one path segment (single backtrack point: correct for `*`-only globs).
bool glob_match(const std::vector<GlobToken>& toks, std::string_view s) {
  size_t ti = 0, si = 0;
  size_t star_ti = std::string_view::npos, star_si = 0;
  while (true) {
    if (ti < toks.size()) {
      const GlobToken& t = toks[ti];
      if (t.kind == GlobToken::Kind::star) {
        star_ti = ti++;
        star_si = si;
        continue;
      }
      bool ok = false;
      size_t next = si;
      if (t.kind == GlobToken::Kind::literal) {
        ok = s.substr(si).starts_with(t.literal);
        next = si + t.literal.size();
      } else if (si < s.size()) {
        char32_t cp = decode_utf8(s, next);
        ok = t.kind == GlobToken::Kind::any_char || set_contains(t, cp);
      }
      if (ok) {
        ++ti;
        si = next;
        continue;
      }
    } else if (si == s.size()) {
      return true;
    }
    if (star_ti == std::string_view::npos || star_si >= s.size()) return false;
    decode_utf8(s, star_si);  // let the last star swallow one more code point
    ti = star_ti + 1;
    si = star_si;
  }
}

std::vector<char32_t> to_code_points(std::string_view s) {
  std::vector<char32_t> out;
  for (size_t i = 0; i < s.size();) out.push_back(decode_utf8(s, i));
  return out;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp >= 0xDC80 && cp <= 0xDCFF) {  // an undecodable byte, kept as is
    out += char(cp - 0xDC00);
  } else if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

// pathspec's _translate_segment_glob, producing tokens instead of a regex.
Result<PatternSegment> compile_segment(std::string_view seg_bytes, std::string_view whole) {
  PatternSegment seg;
  if (seg_bytes == "**") {
    seg.kind = PatternSegment::Kind::any_path;
    return seg;
  }
  auto bad = [&](const std::string& why) {
    return fail(ErrorCode::invalid_argument, "invalid pattern '" + std::string(whole) + "': " + why);
  };
  std::vector<char32_t> p = to_code_points(seg_bytes);
  auto push_literal = [&](char32_t cp) {
    if (seg.tokens.empty() || seg.tokens.back().kind != GlobToken::Kind::literal)
      seg.tokens.push_back(GlobToken{});
    append_utf8(seg.tokens.back().literal, cp);
  };
  size_t i = 0, end = p.size();
  bool escape = false;
  while (i < end) {
    char32_t c = p[i++];
    if (escape) {
      escape = false;
      push_literal(c);
    } else if (c == '\\') {
      escape = true;
    } else if (c == '*') {
      if (seg.tokens.empty() || seg.tokens.back().kind != GlobToken::Kind::star)
        seg.tokens.push_back(GlobToken{GlobToken::Kind::star, {}, false, {}});
    } else if (c == '?') {
      seg.tokens.push_back(GlobToken{GlobToken::Kind::any_char, {}, false, {}});
    } else if (c == '[') {
      size_t j = i;
      if (j < end && (p[j] == '!' || p[j] == '^')) ++j;
      if (j < end && p[j] == ']') ++j;
      while (j < end && p[j] != ']') ++j;
      if (j < end) {
        GlobToken t{GlobToken::Kind::set, {}, false, {}};
        std::vector<char32_t> members;
        if (p[i] == '!') {
          t.negated = true;
          ++i;
        } else if (p[i] == '^') {
          members.push_back('^');  // pathspec escapes '^': a literal member
          ++i;
        }
        for (size_t k = i; k < j; ++k) members.push_back(p[k]);
        // Python character-class parsing: "a-z" ranges, '-' first/last is literal.
        for (size_t k = 0; k < members.size(); ++k) {
          if (k + 2 < members.size() && members[k + 1] == '-') {
            char32_t lo = members[k], hi = members[k + 2];
            if (lo > hi) return bad("bad character range");
            t.ranges.emplace_back(lo, hi);
            k += 2;
          } else {
            t.ranges.emplace_back(members[k], members[k]);
          }
        }
        if (t.ranges.empty()) return bad("empty character set");
        seg.tokens.push_back(std::move(t));
        i = j + 1;
      } else {
        push_literal('[');
      }
    } else {
      push_literal(c);
    }
  }
  if (escape) return bad("escape character with nothing to escape");
  if (seg.tokens.size() == 1 && seg.tokens[0].kind == GlobToken::Kind::literal) {
    seg.kind = PatternSegment::Kind::literal;
    seg.literal = std::move(seg.tokens[0].literal);
    seg.tokens.clear();
  } else if (seg.tokens.empty()) {
    seg.kind = PatternSegment::Kind::literal;  // empty segment ("a//b"): never matches
  } else {
    seg.kind = PatternSegment::Kind::glob;
  }
  return seg;
}

std::string_view strip_ws(std::string_view s) {
  const char* ws = " \t\n\r\v\f";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

std::string join_segments(std::span<const std::string_view> segs, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    if (i) out += '/';
    out += segs[i];
  }
  return out;
}

}  // namespace

// --- IgnorePattern ----------------------------------------------------------------------------

Result<std::optional<IgnorePattern>> IgnorePattern::compile(std::string_view line) {
  std::string_view pat = line;
  if (pat.empty() || pat.front() == '#' || pat == "/") return std::optional<IgnorePattern>{};
  IgnorePattern out;
  if (pat.front() == '!') {
    out.m_negated = true;
    pat.remove_prefix(1);
  }
  std::vector<std::string_view> segs;
  for (size_t i = 0;;) {
    size_t j = pat.find('/', i);
    segs.push_back(pat.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i));
    if (j == std::string_view::npos) break;
    i = j + 1;
  }
  for (size_t i = segs.size() - 1; i > 0; --i) {
    if (segs[i - 1] == "**" && segs[i] == "**") segs.erase(segs.begin() + long(i));
  }
  // "**/": everything that is inside some folder (pathspec's override regex `^.+/.*$`).
  bool any_in_dir = segs.size() == 2 && segs[0] == "**" && segs[1].empty();
  if (segs[0].empty()) {
    segs.erase(segs.begin());  // leading '/': anchored
  } else if (segs.size() == 1 || (segs.size() == 2 && segs[1].empty())) {
    if (segs[0] != "**") segs.insert(segs.begin(), "**");  // a bare name matches at any depth
  }
  if (segs.empty() || (segs.size() == 1 && segs[0].empty()))
    return fail(ErrorCode::invalid_argument, "invalid pattern '" + std::string(line) + "'");
  if (any_in_dir) {
    segs = {"*"};
    out.m_need_dir = true;
  } else if (segs.size() > 1 && (segs.back().empty() || segs.back() == "**")) {
    segs.pop_back();  // trailing '/' or '/**': the folder's contents, so only folders match
    out.m_need_dir = true;
  } else if (segs.size() == 1 && segs[0] == "**") {
    segs = {"*"};  // "**" alone matches every path
  }
  if (segs.size() == 1 && segs[0] == "**")
    return std::optional<IgnorePattern>{};  // "/**/" compiles to a regex matching nothing
  for (auto s : segs) {
    auto seg = compile_segment(s, line);
    if (!seg) return std::unexpected(seg.error());
    out.m_segments.push_back(std::move(*seg));
  }
  return std::optional<IgnorePattern>(std::move(out));
}

bool IgnorePattern::match_from(std::span<const std::string_view> segments, bool is_dir, size_t si,
                               size_t pi) const {
  const size_t n = segments.size();
  if (si == m_segments.size()) return pi >= 1 && (!m_need_dir || pi < n || is_dir);
  const PatternSegment& seg = m_segments[si];
  if (seg.kind == PatternSegment::Kind::any_path) {
    for (size_t q = pi; q <= n; ++q) {
      if (match_from(segments, is_dir, si + 1, q)) return true;
    }
    return false;
  }
  if (pi >= n) return false;
  if (seg.kind == PatternSegment::Kind::literal) {
    if (segments[pi] != seg.literal) return false;
  } else if (!glob_match(seg.tokens, segments[pi])) {
    return false;
  }
  return match_from(segments, is_dir, si + 1, pi + 1);
}

bool IgnorePattern::matches(std::span<const std::string_view> segments, bool is_dir) const {
  if (segments.empty() || m_segments.empty()) return false;
  return match_from(segments, is_dir, 0, 0);
}

// --- files and scopes -------------------------------------------------------------------------

std::shared_ptr<const IgnoreFile> parse_ignore_file(std::string_view content, std::string source,
                                                    size_t base_depth) {
  auto file = std::make_shared<IgnoreFile>();
  file->source = std::move(source);
  file->base_depth = base_depth;
  int line_no = 0;
  size_t i = 0;
  while (i < content.size()) {
    // Python universal newlines: "\n", "\r\n" and a lone "\r" end a line.
    size_t j = content.find_first_of("\r\n", i);
    std::string_view raw = content.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i);
    if (j == std::string_view::npos) i = content.size();
    else i = (content[j] == '\r' && j + 1 < content.size() && content[j + 1] == '\n') ? j + 2 : j + 1;
    ++line_no;
    std::string_view line = strip_ws(raw);
    if (line.empty() || line.front() == '#') continue;
    auto compiled = IgnorePattern::compile(line);
    if (!compiled) {
      if (!file->error) {
        Error e = compiled.error();
        e.message = "failed to parse '" + file->source + "' line " + std::to_string(line_no) +
                    ": " + e.message;
        file->error = e;
      }
      continue;
    }
    if (!*compiled) continue;
    file->rules.push_back(IgnoreFile::Rule{std::move(**compiled), line_no, std::string(line)});
  }
  return file;
}

std::shared_ptr<const IgnoreFile> builtin_ignore_file() {
  static const std::shared_ptr<const IgnoreFile> builtins = [] {
    auto f = std::make_shared<IgnoreFile>();
    for (const char* p : {".hg/", ".git/", ".git", ".dvc/"}) {
      auto c = IgnorePattern::compile(p);
      f->rules.push_back(IgnoreFile::Rule{std::move(**c), 0, p});
    }
    return f;
  }();
  return builtins;
}

std::optional<IgnoreMatch> IgnoreScope::match(std::span<const std::string_view> segments,
                                              bool is_dir) const {
  for (auto f = m_files.rbegin(); f != m_files.rend(); ++f) {
    const IgnoreFile& file = **f;
    if (segments.size() <= file.base_depth) continue;
    auto rel = segments.subspan(file.base_depth);
    for (auto r = file.rules.rbegin(); r != file.rules.rend(); ++r) {
      if (r->pattern.matches(rel, is_dir))
        return IgnoreMatch{!r->pattern.negated(), file.source, r->line, r->text};
    }
  }
  return std::nullopt;
}

bool IgnoreScope::is_ignored(std::span<const std::string_view> segments, bool is_dir) const {
  auto m = match(segments, is_dir);
  return m && m->ignored;
}

IgnoreScope IgnoreScope::with(std::shared_ptr<const IgnoreFile> file) const {
  IgnoreScope s = *this;
  s.m_files.push_back(std::move(file));
  return s;
}

std::vector<std::string_view> split_rel_path(std::string_view rel_path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i <= rel_path.size()) {
    size_t j = rel_path.find('/', i);
    if (j == std::string_view::npos) j = rel_path.size();
    std::string_view seg = rel_path.substr(i, j - i);
    if (!seg.empty() && seg != ".") out.push_back(seg);
    i = j + 1;
  }
  return out;
}

// --- IgnoreRules ------------------------------------------------------------------------------

struct IgnoreRules::State {
  std::string root;
  std::shared_ptr<const IgnoreFile> builtins;
  mutable std::shared_mutex mutex;
  // Folder (relative to the root, "" = root) -> its parsed .dvcignore; nullptr when it has none
  // or the file is ignored by the parents' rules.
  std::unordered_map<std::string, std::shared_ptr<const IgnoreFile>> files;
};

namespace {

std::shared_ptr<const IgnoreFile> read_ignore_file(const std::string& root, const std::string& rel_dir,
                                                   size_t depth) {
  std::string rel = rel_dir.empty() ? std::string(k_dvcignore_name)
                                    : rel_dir + "/" + std::string(k_dvcignore_name);
  std::string abs = root + "/" + rel;
  platform::FileStat st = platform::stat_path(abs);
  if (st.type != platform::FileType::regular) return nullptr;
  auto content = platform::read_file(abs);
  if (!content) {
    auto f = std::make_shared<IgnoreFile>();
    f->source = rel;
    f->base_depth = depth;
    f->error = content.error();
    return f;
  }
  return parse_ignore_file(*content, rel, depth);
}

}  // namespace

Result<IgnoreRules> IgnoreRules::load(const std::string& repo_root) {
  auto state = std::make_shared<State>();
  state->root = platform::absolute_path(repo_root);
  state->builtins = builtin_ignore_file();
  auto root_file = read_ignore_file(state->root, "", 0);
  if (root_file && root_file->error) return std::unexpected(*root_file->error);
  state->files.emplace("", root_file);
  return IgnoreRules(std::move(state));
}

IgnoreRules IgnoreRules::builtin_only(const std::string& repo_root) {
  auto state = std::make_shared<State>();
  state->root = platform::absolute_path(repo_root);
  state->builtins = builtin_ignore_file();
  state->files.emplace("", nullptr);
  return IgnoreRules(std::move(state));
}

const std::string& IgnoreRules::root() const { return m_state->root; }

std::shared_ptr<const IgnoreFile> IgnoreRules::dir_file(const std::string& rel_dir,
                                                        const IgnoreScope& parents) const {
  {
    std::shared_lock lock(m_state->mutex);
    auto it = m_state->files.find(rel_dir);
    if (it != m_state->files.end()) return it->second;
  }
  std::shared_ptr<const IgnoreFile> file;
  std::string rel_file = rel_dir.empty() ? std::string(k_dvcignore_name)
                                         : rel_dir + "/" + std::string(k_dvcignore_name);
  auto segs = split_rel_path(rel_file);
  if (!parents.is_ignored(segs, false)) file = read_ignore_file(m_state->root, rel_dir, segs.size() - 1);
  std::unique_lock lock(m_state->mutex);
  auto [it, inserted] = m_state->files.emplace(rel_dir, std::move(file));
  return it->second;
}

IgnoreScope IgnoreRules::builtin_scope() const { return IgnoreScope{}.with(m_state->builtins); }

Result<IgnoreScope> IgnoreRules::scope_for(const std::string& rel_dir) const {
  auto segs = split_rel_path(rel_dir);
  IgnoreScope scope = builtin_scope();
  for (size_t d = 0; d <= segs.size(); ++d) {
    auto f = dir_file(join_segments(segs, d), scope);
    if (!f) continue;
    if (f->error) return std::unexpected(*f->error);
    scope = scope.with(std::move(f));
  }
  return scope;
}

std::optional<IgnoreRules::Match> IgnoreRules::match(const std::string& rel_path, bool is_dir) const {
  auto segs = split_rel_path(rel_path);
  if (segs.empty()) return std::nullopt;
  IgnoreScope scope = builtin_scope();
  for (size_t d = 0; d < segs.size(); ++d) {
    auto f = dir_file(join_segments(segs, d), scope);
    if (f) scope = scope.with(std::move(f));
  }
  return scope.match(segs, is_dir);
}

bool IgnoreRules::is_ignored(const std::string& rel_path, bool is_dir) const {
  auto m = match(rel_path, is_dir);
  return m && m->ignored;
}

}  // namespace dvx::fs
