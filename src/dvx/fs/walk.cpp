#include "dvx/fs/walk.h"

#include <algorithm>
#include <memory>
#include <optional>

#include "dvx/base/thread_pool.h"

namespace dvx::fs {

namespace {

struct DirTask {
  std::string rel;            // relative to the walked folder ("" = the folder itself)
  const IgnoreScope* scope;   // rules for this folder's entries (owned by Walker::m_scopes)
};

struct Candidate {
  std::string name;
  bool symlink;
};

struct DirResult {
  std::vector<DirTask> subdirs;
  std::vector<Candidate> files;
  const IgnoreScope* files_scope = nullptr;
  std::shared_ptr<const IgnoreScope> new_scope;
  std::optional<Error> error;
};

// Files of one listed folder, stat-ed together through one open directory.
struct FileGroup {
  std::string dir_rel;
  const IgnoreScope* scope;
  std::vector<Candidate> files;
};

// Up to this many files of one folder are stat-ed by one task (big folders are split).
constexpr size_t k_stat_chunk = 512;

class Walker {
 public:
  Walker(std::string abs_dir, std::vector<std::string> prefix, unsigned threads,
         NestedIgnoreFiles nested)
      : m_abs_dir(std::move(abs_dir)),
        m_prefix(std::move(prefix)),
        m_threads(threads == 0 ? 1 : threads),
        m_nested(nested) {}

  Result<std::vector<WalkEntry>> run(IgnoreScope base) {
    auto base_ptr = std::make_shared<const IgnoreScope>(std::move(base));
    m_scopes.push_back(base_ptr);
    // Phase 1: list folders level by level, in parallel; prune ignored folders and sub-repos.
    std::vector<DirTask> frontier{DirTask{"", base_ptr.get()}};
    std::vector<FileGroup> groups;
    while (!frontier.empty()) {
      std::vector<DirResult> results(frontier.size());
      parallel_for(frontier.size(), m_threads,
                   [&](size_t i) { list_one(frontier[i], results[i]); });
      std::vector<DirTask> next;
      for (size_t i = 0; i < results.size(); ++i) {
        DirResult& r = results[i];
        if (r.error) return std::unexpected(*r.error);
        if (r.new_scope) m_scopes.push_back(std::move(r.new_scope));
        for (auto& d : r.subdirs) next.push_back(std::move(d));
        if (!r.files.empty())
          groups.push_back(FileGroup{std::move(frontier[i].rel), r.files_scope, std::move(r.files)});
      }
      frontier = std::move(next);
    }

    // Phase 2: match and stat the files in chunks (each chunk inside one folder), in parallel.
    struct Chunk {
      size_t group, begin, end, out;
    };
    std::vector<Chunk> chunks;
    size_t total = 0;
    for (size_t g = 0; g < groups.size(); ++g) {
      size_t n = groups[g].files.size();
      for (size_t b = 0; b < n; b += k_stat_chunk) {
        size_t e = std::min(n, b + k_stat_chunk);
        chunks.push_back(Chunk{g, b, e, total + b});
      }
      total += n;
    }
    std::vector<WalkEntry> entries(total);
    std::vector<char> keep(total, 0);
    parallel_for(chunks.size(), m_threads, [&](size_t ci) {
      const Chunk& c = chunks[ci];
      FileGroup& g = groups[c.group];
      auto dir = platform::OpenDir::open(abs_of(g.dir_rel));
      if (!dir) return;  // the folder vanished meanwhile
      for (size_t i = c.begin; i < c.end; ++i) {
        Candidate& f = g.files[i];
        std::string rel = g.dir_rel.empty() ? std::move(f.name) : g.dir_rel + "/" + f.name;
        if (ignored(*g.scope, rel, false)) continue;
        platform::FileStat st = dir->stat(g.dir_rel.empty() ? rel : f.name);
        if (st.type == platform::FileType::directory || st.type == platform::FileType::other) continue;
        if (st.type == platform::FileType::missing && !f.symlink) continue;  // vanished meanwhile
        WalkEntry& out = entries[c.out + (i - c.begin)];
        out.rel_path = std::move(rel);
        out.stat = st;
        out.is_symlink = f.symlink;
        keep[c.out + (i - c.begin)] = 1;
      }
    });
    size_t w = 0;
    for (size_t i = 0; i < entries.size(); ++i) {
      if (!keep[i]) continue;
      if (w != i) entries[w] = std::move(entries[i]);
      ++w;
    }
    entries.resize(w);
    sort_walk_entries(entries, m_threads);
    return entries;
  }

 private:
  std::string abs_of(const std::string& rel) const {
    return rel.empty() ? m_abs_dir : m_abs_dir + "/" + rel;
  }

  bool ignored(const IgnoreScope& scope, std::string_view rel, bool is_dir) const {
    if (scope.files().empty()) return false;
    thread_local std::vector<std::string_view> segs;
    segs.clear();
    for (const auto& p : m_prefix) segs.push_back(p);
    size_t i = 0;
    while (i <= rel.size()) {
      size_t j = rel.find('/', i);
      if (j == std::string_view::npos) j = rel.size();
      if (j > i) segs.push_back(rel.substr(i, j - i));
      i = j + 1;
    }
    return scope.is_ignored(segs, is_dir);
  }

  static std::string child(const std::string& rel, const std::string& name) {
    return rel.empty() ? name : rel + "/" + name;
  }

  void list_one(const DirTask& task, DirResult& out) {
    std::string abs = abs_of(task.rel);
    auto listed = platform::list_dir(abs);
    if (!listed) {
      out.error = listed.error();
      return;
    }
    auto& entries = *listed;
    // A nested DVC repository (not the walked folder itself) belongs to that repository.
    if (!task.rel.empty()) {
      for (const auto& e : entries) {
        if (e.name != ".dvc") continue;
        if (e.type == platform::FileType::directory ||
            (e.type == platform::FileType::symlink &&
             platform::stat_path(abs + "/.dvc").type == platform::FileType::directory))
          return;
      }
    }
    const IgnoreScope* scope = task.scope;
    for (const auto& e : entries) {
      if (e.name != k_dvcignore_name || e.type == platform::FileType::directory) continue;
      if (ignored(*scope, child(task.rel, e.name), false)) break;
      if (m_nested == NestedIgnoreFiles::error) {
        out.error = Error{ErrorCode::invalid_argument,
                          ".dvcignore file should not be in collected dir path: '" + abs + "'"};
        return;
      }
      auto content = platform::read_file(abs + "/" + e.name);
      if (!content) {
        if (platform::stat_path(abs + "/" + e.name).type != platform::FileType::regular) break;
        out.error = content.error();
        return;
      }
      std::string source;
      for (const auto& p : m_prefix) source += p + "/";
      source += child(task.rel, e.name);
      size_t depth = m_prefix.size() + split_rel_path(task.rel).size();
      auto file = parse_ignore_file(*content, source, depth);
      if (file->error) {
        out.error = *file->error;
        return;
      }
      out.new_scope = std::make_shared<const IgnoreScope>(scope->with(std::move(file)));
      scope = out.new_scope.get();
      break;
    }
    out.files_scope = scope;
    for (auto& e : entries) {
      switch (e.type) {
        case platform::FileType::directory: {
          std::string rel = child(task.rel, e.name);
          if (!ignored(*scope, rel, true)) out.subdirs.push_back(DirTask{std::move(rel), scope});
          break;
        }
        case platform::FileType::regular:
          out.files.push_back(Candidate{std::move(e.name), false});
          break;
        case platform::FileType::symlink:
          out.files.push_back(Candidate{std::move(e.name), true});
          break;
        default:
          break;  // fifos, sockets, devices: not data
      }
    }
  }

  std::string m_abs_dir;
  std::vector<std::string> m_prefix;  // segments of the walked folder relative to the repo root
  unsigned m_threads;
  NestedIgnoreFiles m_nested;
  std::vector<std::shared_ptr<const IgnoreScope>> m_scopes;
};

}  // namespace

void sort_walk_entries(std::vector<WalkEntry>& entries, unsigned threads) {
  auto less = [](const WalkEntry& a, const WalkEntry& b) { return a.rel_path < b.rel_path; };
  const size_t n = entries.size();
  size_t parts = threads <= 1 || n < 8192 ? 1 : threads;
  if (parts == 1) {
    std::sort(entries.begin(), entries.end(), less);
    return;
  }
  std::vector<size_t> bounds(parts + 1);
  for (size_t p = 0; p <= parts; ++p) bounds[p] = n * p / parts;
  parallel_for(parts, threads, [&](size_t p) {
    std::sort(entries.begin() + long(bounds[p]), entries.begin() + long(bounds[p + 1]), less);
  });
  // Pairwise merges of neighbouring sorted runs until one run is left.
  while (bounds.size() > 2) {
    size_t runs = bounds.size() - 1;
    size_t pairs = runs / 2;
    parallel_for(pairs, threads, [&](size_t k) {
      std::inplace_merge(entries.begin() + long(bounds[2 * k]),
                         entries.begin() + long(bounds[2 * k + 1]),
                         entries.begin() + long(bounds[2 * k + 2]), less);
    });
    std::vector<size_t> next;
    for (size_t k = 0; k < runs; k += 2) next.push_back(bounds[k]);
    next.push_back(n);
    bounds = std::move(next);
  }
}

Result<std::vector<WalkEntry>> walk_dir(const std::string& abs_dir, const std::string& repo_root,
                                        const IgnoreRules& rules, unsigned threads,
                                        NestedIgnoreFiles nested) {
  std::string dir = platform::absolute_path(abs_dir);
  std::string root = platform::absolute_path(repo_root);
  platform::FileStat st = platform::stat_path(dir);
  if (!st.exists()) return fail(ErrorCode::not_found, "failed to walk '" + dir + "': no such directory");
  if (st.type != platform::FileType::directory)
    return fail(ErrorCode::invalid_argument, "failed to walk '" + dir + "': not a directory");

  std::vector<std::string> prefix;
  IgnoreScope base;
  if (platform::is_within(dir, root)) {
    std::string rel = dir == root ? "" : platform::relative_path(dir, root);
    for (auto s : split_rel_path(rel)) prefix.emplace_back(s);
    if (prefix.empty()) {
      base = rules.builtin_scope();
    } else {
      std::string parent;
      for (size_t i = 0; i + 1 < prefix.size(); ++i) parent += (i ? "/" : "") + prefix[i];
      auto scope = rules.scope_for(parent);
      if (!scope) return std::unexpected(scope.error());
      base = std::move(*scope);
    }
  }
  Walker walker(dir, std::move(prefix), threads, nested);
  return walker.run(std::move(base));
}

}  // namespace dvx::fs
