#include "dvx/pipeline/run_cache.h"

#include <algorithm>

#include "dvx/base/user_error.h"
#include "dvx/hash/sha256.h"
#include "dvx/platform/files.h"

namespace dvx::pipeline {

namespace fsx = dvx::platform;

namespace {
constexpr size_t k_entry_limit = 16u << 20;

bool hex64(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}
}  // namespace

RunCache::RunCache(const repo::Repo& repo) : m_dir(repo.cache().root() + "/runs") {}

bool RunCache::can_restore(const Stage& st) {
  if (st.is_dvc_file() || st.def.cmd.is_null()) return false;
  if (st.always_changed || st.is_callback()) return false;
  if ((st.deps.empty() && st.params.empty()) || st.outs.empty()) return false;
  for (auto& d : st.deps)
    if (d.rel.empty()) return false;
  for (auto& o : st.outs)
    if (o.rel.empty() || o.def.persist) return false;
  return true;
}

bool RunCache::can_save(const Stage& st) {
  if (!can_restore(st)) return false;
  for (auto& o : st.outs)
    if (!o.def.cache && o.def.kind == formats::StageOut::Kind::out) return false;
  return true;
}

std::string RunCache::key_of(const formats::LockStage& entry) {
  return hash::sha256_hex(formats::run_cache_key_json(entry));
}

std::string RunCache::value_of(const formats::LockStage& entry) {
  return hash::sha256_hex(formats::run_cache_value_json(entry));
}

std::optional<formats::LockStage> RunCache::lookup(const formats::LockStage& entry,
                                                   const std::function<void(const std::string&)>& warn) const {
  std::string key = key_of(entry);
  std::string dir = m_dir + "/" + key.substr(0, 2) + "/" + key;
  auto names = fsx::list_dir(dir);
  if (!names) return std::nullopt;
  // Newest first (formats.md §11); ties broken by name so the choice is stable.
  std::vector<std::pair<int64_t, std::string>> files;
  for (auto& e : *names) {
    if (!hex64(e.name)) continue;
    auto st = fsx::lstat_path(dir + "/" + e.name);
    if (st.type == fsx::FileType::regular) files.emplace_back(st.mtime_ns, e.name);
  }
  std::sort(files.begin(), files.end(), [](auto& a, auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  for (auto& [_, name] : files) {
    std::string path = dir + "/" + name;
    auto text = fsx::read_file_prefix(path, k_entry_limit);
    if (!text) continue;
    std::optional<formats::LockStage> parsed;
    if (auto node = yaml::parse(*text, path); node && node->is_mapping()) {
      if (auto st = formats::lock_stage_from_node(*node, path); st) parsed = std::move(*st);
    }
    // An entry must be what its names say: the inputs of this key, the outputs of this value.
    if (!parsed || key_of(*parsed) != key || value_of(*parsed) != name) {
      if (warn) warn("corrupted cache file '" + path + "'.");
      (void)fsx::remove_file(path);
      continue;
    }
    return parsed;
  }
  return std::nullopt;
}

void RunCache::save(const formats::LockStage& entry) const {
  std::string key = key_of(entry), value = value_of(entry);
  std::string dir = m_dir + "/" + key.substr(0, 2) + "/" + key;
  std::string path = dir + "/" + value;
  if (fsx::lstat_path(path).exists()) return;
  if (auto r = fsx::make_dirs(dir); !r) throw UserError(r.error().message);
  std::string text = yaml::emit(formats::lock_stage_to_node(entry));
  if (auto r = fsx::write_file_atomic(path, text, 0444); !r) throw UserError(r.error().message);
}

std::vector<std::string> RunCache::list() const {
  std::vector<std::string> out;
  auto prefixes = fsx::list_dir(m_dir);
  if (!prefixes) return out;
  for (auto& p : *prefixes) {
    if (p.name.size() != 2) continue;
    auto keys = fsx::list_dir(m_dir + "/" + p.name);
    if (!keys) continue;
    for (auto& k : *keys) {
      if (!hex64(k.name) || k.name.compare(0, 2, p.name) != 0) continue;
      auto values = fsx::list_dir(m_dir + "/" + p.name + "/" + k.name);
      if (!values) continue;
      for (auto& v : *values)
        if (hex64(v.name)) out.push_back(p.name + "/" + k.name + "/" + v.name);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace dvx::pipeline
