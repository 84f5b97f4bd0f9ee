// The block-subset YAML reader (yaml_block.cpp) against the full yaml-cpp reader: whenever the fast
// reader accepts a document, it must build exactly the Nodes (kinds, values, positions, order) the
// full reader builds; and it must accept the files DVC writes, or it speeds nothing up. Also the
// hand-written scalar resolver against ruamel's resolver regexes.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <regex>
#include <string>

#include "dvx/formats/yaml.h"
#include "dvx/formats/yaml_resolve.h"
#include "fixture_util.h"

namespace dvx::yaml {
namespace {

using detail::Implicit;

// ruamel.yaml's VersionedResolver regexes (YAML 1.2), the oracle for detail::resolve().
Implicit resolve_by_regex(const std::string& t) {
  static const std::regex integer{R"(^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)$)"};
  static const std::regex floating{
      R"(^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)|[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$)"};
  static const std::regex timestamp{
      R"(^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$)"};
  if (t.empty() || t == "~" || t == "null" || t == "Null" || t == "NULL") return Implicit::null;
  if (t == "true" || t == "True" || t == "TRUE" || t == "false" || t == "False" || t == "FALSE")
    return Implicit::boolean;
  char c = t[0];
  if (t == "<<" || t == "=") return Implicit::other;
  if ((c == '!' || c == '&' || c == '*') && t.size() == 1) return Implicit::other;
  bool numeric_start = (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.';
  if (!numeric_start) return Implicit::str;
  if (c != '.' && std::regex_match(t, integer)) return Implicit::integer;
  if (std::regex_match(t, floating)) return Implicit::floating;
  if (c >= '0' && c <= '9' && t.size() >= 10 && std::regex_match(t, timestamp)) return Implicit::timestamp;
  return Implicit::str;
}

TEST(YamlResolve, MatchesRuamelRegexesOnGeneratedTexts) {
  std::mt19937 rng(7);
  const std::string alphabet = "0123456789_-+.eEbBoOxXaAfFiInNtTZz: \t";
  int checked = 0;
  for (int k = 0; k < 200000; ++k) {
    std::string t;
    int len = 1 + static_cast<int>(rng() % 14);
    for (int i = 0; i < len; ++i) t.push_back(alphabet[rng() % alphabet.size()]);
    ASSERT_EQ(detail::resolve(t), resolve_by_regex(t)) << "'" << t << "'";
    ++checked;
  }
  const char* named[] = {"1", "-1", "+0x1F", "0b101", "0o17", "017", "1_000", "_", "-_", "0x", "0b",
                         "1.", ".5", "-.5e+3", ".5e3", "1e5", "1e", "1.5e-3", ".inf", "-.Inf",
                         "+.INF", ".nan", "-.nan", ".NaN", "2001-01-01", "2001-1-1", "2001-01-01T10:00:00",
                         "2001-1-1 1:00:00.5 +01:00", "2001-01-01t10:00:00Z", "2001-01-01 10:00:00 Z",
                         "2001-01-01T10:00:00+1", "2001-01-01T10:00:00-01:3", "20010101", "1:2",
                         "12345678901234567890", "6e8ebd6e7c0e3e5e3f0b5b7e1c6a5b41"};
  for (const char* t : named) EXPECT_EQ(detail::resolve(t), resolve_by_regex(t)) << t;
  EXPECT_EQ(checked, 200000);
}

::testing::AssertionResult same(const Node& a, const Node& b, const std::string& path) {
  auto diff = [&](const std::string& what) {
    return ::testing::AssertionFailure() << path << ": " << what << " (fast " << a.line << ":" << a.column
                                         << " kind " << static_cast<int>(a.kind) << " '" << a.s << "', full "
                                         << b.line << ":" << b.column << " kind " << static_cast<int>(b.kind)
                                         << " '" << b.s << "')";
  };
  if (a.kind != b.kind) return diff("kind");
  if (a.line != b.line || a.column != b.column) return diff("position");
  if (a.s != b.s || a.b != b.b || a.i != b.i || a.flow != b.flow || a.timestamp != b.timestamp) return diff("value");
  if (!(a.f == b.f || (std::isnan(a.f) && std::isnan(b.f)))) return diff("float");
  if (a.seq.size() != b.seq.size() || a.map.size() != b.map.size()) return diff("size");
  for (size_t i = 0; i < a.seq.size(); ++i)
    if (auto r = same(a.seq[i], b.seq[i], path + "/" + std::to_string(i)); !r) return r;
  for (size_t i = 0; i < a.map.size(); ++i) {
    if (a.map[i].first != b.map[i].first) return diff("key " + a.map[i].first + " vs " + b.map[i].first);
    if (auto r = same(a.map[i].second, b.map[i].second, path + "/" + a.map[i].first); !r) return r;
  }
  return ::testing::AssertionSuccess();
}

// Checks one text; returns whether the fast reader accepted it.
bool check(const std::string& text) {
  auto fast = detail::read_block_subset(text, formats::k_parse_limits);
  if (!fast) return false;
  auto full = detail::parse_full(text, "f.yaml", formats::k_parse_limits);
  EXPECT_TRUE(full.has_value()) << "fast reader accepted what the full reader refuses ("
                                << (full ? "" : full.error().message) << "):\n" << text;
  if (full) {
    EXPECT_TRUE(same(*fast, *full, "")) << text;
  }
  return true;
}

// Random documents in the style of DVC's files, with the odd corner: comments, blank lines, empty
// values, quoted keys and values, empty flow collections, sequences at the key's column, compact
// mappings in sequences, numbers, booleans, timestamps, non-ASCII text.
class Gen {
 public:
  explicit Gen(unsigned seed) : m_rng(seed) {}
  std::string doc() {
    std::string out;
    if (pick(5) == 0) out += "# header\n";
    mapping(out, 0, 0);
    if (pick(4) == 0) out += "\n# trailing\n";
    if (pick(6) == 0) out += "\n\n";
    if (pick(8) == 0 && !out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }

 private:
  std::mt19937 m_rng;
  int m_key = 0;
  unsigned pick(unsigned n) { return m_rng() % n; }

  std::string scalar() {
    static const char* pool[] = {
        "data.csv", "md5", "6e8ebd6e7c0e3e5e3f0b5b7e1c6a5b41", "0e8ebd6e7c0e3e5e3f0b5b7e1c6a5b41",
        "17", "-3", "0.001", "1e-05", "1.5", ".inf", "true", "False", "null", "~", "yes", "2001-01-01",
        "python train.py --lr ${lr}", "cp in/${item}.txt out/${item}.txt", "a,b", "x[0]", "{a}",
        "'quoted'", "\"double \\\"q\\\" \\u00e9\"", "'it''s'", "\"tab\\there\"", "caf\xc3\xa9", "a #b",
        "1_000", "0x1F", "-", "a - b", "echo 'x' > y", "12345678901234567890", "''", "\"\"", "[]", "{}",
        "[ ]", "[a, b]", "[1, 'x', true, 2.5]", "[ a ,b ]", "[a,]", "path/with spaces", "a:b", "http://x/y", "-x", "=", "<<"};
    std::string s = pool[pick(sizeof pool / sizeof *pool)];
    if (pick(7) == 0) s += "  # comment";
    return s;
  }
  std::string key() {
    static const char* pool[] = {"cmd", "deps", "outs", "path", "md5", "size", "hash", "nfiles",
                                 "params", "'quoted key'", "\"dq\"", "1", "true", "a b", "x.y"};
    std::string k = pool[pick(sizeof pool / sizeof *pool)];
    std::string n = std::to_string(m_key++);
    if (k[0] == '\'' || k[0] == '"') return k.substr(0, k.size() - 1) + n + k.back();
    return k + n;
  }
  void blank(std::string& out, int ind) {
    if (pick(10) == 0) out += "\n";
    if (pick(14) == 0) out += std::string(ind + pick(3), ' ') + "# note\n";
  }
  void value(std::string& out, int ind, int depth) {
    unsigned r = depth > 5 ? 0 : pick(10);
    if (r < 4) {
      out += " " + scalar() + "\n";
    } else if (r == 4) {
      // a folded scalar: continuation lines deeper than the key, maybe an empty line between
      static const char* first[] = {"python3 train.py --lr", "'quoted and", "a", "-x y", "1"};
      static const char* more[] = {"--epochs 5", "folded'", "b c", "2", "# not a comment", "x: y", "- z"};
      out += std::string(" ") + first[pick(5)] + "\n";
      if (pick(4) == 0) out += "\n";
      out += std::string(ind + 1 + pick(4), ' ') + more[pick(7)] + "\n";
    } else if (r == 5) {
      out += pick(2) ? "\n" : "  # empty\n";  // null
    } else if (r < 8) {
      out += "\n";
      blank(out, ind);
      int child = pick(3) == 0 ? ind : ind + 2 + pick(2) * 2;
      sequence(out, child, depth + 1);
    } else {
      out += "\n";
      blank(out, ind);
      mapping(out, ind + 2 + pick(2), depth + 1);
    }
  }
  void mapping(std::string& out, int ind, int depth) {
    int n = 1 + pick(4);
    for (int i = 0; i < n; ++i) {
      blank(out, ind);
      out += std::string(ind, ' ') + key() + ":";
      value(out, ind, depth);
    }
  }
  void sequence(std::string& out, int ind, int depth) {
    int n = 1 + pick(4);
    for (int i = 0; i < n; ++i) {
      blank(out, ind);
      out += std::string(ind, ' ') + "-";
      unsigned r = depth > 5 ? 0 : pick(8);
      if (r < 4) {
        out += " " + scalar() + "\n";
      } else if (r == 4) {
        out += "\n";  // null item
      } else if (r == 5) {
        out += "\n";
        mapping(out, ind + 2, depth + 1);
      } else {
        // compact mapping: first key on the dash's line
        int kcol = ind + 2;
        out += " " + key() + ":";
        value(out, kcol, depth + 1);
        int more = pick(3);
        for (int k = 0; k < more; ++k) {
          out += std::string(kcol, ' ') + key() + ":";
          value(out, kcol, depth + 1);
        }
      }
    }
  }
};

TEST(YamlBlockReader, AgreesWithFullReaderOnGeneratedDocuments) {
  int accepted = 0, total = 0;
  for (unsigned seed = 1; seed <= 20000; ++seed) {
    Gen g(seed);
    std::string d = g.doc();
    ++total;
    if (check(d)) ++accepted;
    if (HasFailure()) return;
  }
  // Most generated documents are in the subset (the rest use a corner it leaves to yaml-cpp).
  EXPECT_GT(accepted, total * 4 / 10) << accepted << " of " << total;
}

TEST(YamlBlockReader, AgreesWithFullReaderOnMutatedDocuments) {
  // Characters that matter to YAML, inserted, deleted or swapped at random: the fast reader either
  // gives up or agrees; it never accepts what the full reader refuses.
  const std::string inserts = " :-#'\"\n[]{}&*!|>?,%@`\\\t";
  std::mt19937 rng(11);
  int accepted = 0;
  for (unsigned seed = 1; seed <= 20000; ++seed) {
    std::string d = Gen(seed).doc();
    int edits = 1 + rng() % 3;
    for (int e = 0; e < edits && !d.empty(); ++e) {
      size_t at = rng() % d.size();
      switch (rng() % 3) {
        case 0: d.insert(d.begin() + at, inserts[rng() % inserts.size()]); break;
        case 1: d.erase(d.begin() + at); break;
        default: d[at] = inserts[rng() % inserts.size()];
      }
    }
    if (check(d)) ++accepted;
    if (HasFailure()) return;
  }
  EXPECT_GT(accepted, 100);
}

TEST(YamlBlockReader, AcceptsAndAgreesOnEveryFixtureFile) {
  int files = 0;
  for (const char* name : {"basic", "pipeline", "pipeline2", "experiments", "legacy-remote"}) {
    auto root = test::Fixtures::get().root(name);
    ASSERT_FALSE(root.empty()) << name;
    for (const auto& p : test::Fixtures::files(root, [](const std::filesystem::path& f) {
           auto fn = f.filename().string();
           return fn == "dvc.lock" || fn == "dvc.yaml" || f.extension() == ".dvc";
         })) {
      std::string text = test::Fixtures::read(p);
      ++files;
      EXPECT_TRUE(check(text)) << "the fast reader gave up on " << p;
    }
  }
  EXPECT_GT(files, 10);
}

TEST(YamlBlockReader, GivesUpOnWhatItDoesNotRead) {
  for (const char* t : {"a: &x 1\nb: *x\n", "a: [1, [2]]\n", "a: {b: 1}\n", "a: |\n  x\n", "a: >\n  x\n",
                        "--- \na: 1\n", "a: 1\n---\nb: 2\n", "a:\tb\n", "a: b # c\n  d\n", "a: \"x\n  y\"\n",
                        "a: 1\na: 2\n", "? a\n: b\n", "a: !!str 1\n", "- - a\n", "a: b: c\n", "plain\n",
                        "a:\r\n  b: 1\r\n", "\xef\xbb\xbf" "a: 1\n", "a: \"\\N\"\n", "a: 1\n b: 2\n"}) {
    EXPECT_FALSE(detail::read_block_subset(t, formats::k_parse_limits).has_value()) << t;
  }
}

TEST(YamlBlockReader, ReadsFoldedScalarsAndFlowListsLikeTheFullReader) {
  // DVC folds long commands at 80 columns; dvc.yaml lists matrix values in flow style.
  for (const char* t : {"cmd: python3 src/prepare.py data/raw.csv data/prepared --split 0.25\n  --shuffle true\n",
                        "a:\n- k: v w\n    x\n\n    y\n  j: 1\n", "a: 'it''s\n  long'  # c\nb: 2\n",
                        "m:\n  model: [linear, 'tree', 3, true]\n  e: [ ]\n", "a: 1\nb:\n"}) {
    EXPECT_TRUE(check(t)) << t;
  }
}

TEST(YamlBlockReader, LimitsFallBackToTheFullReadersError) {
  formats::ParseLimits small;
  small.max_depth = 3;
  std::string deep = "a:\n  b:\n    c:\n      d: 1\n";
  EXPECT_FALSE(detail::read_block_subset(deep, small).has_value());
  auto r = parse(deep, "deep.yaml", small);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("deep.yaml"), std::string::npos) << r.error().message;
}

TEST(YamlBlock, DuplicateKeysAreLeftToYamlCpp) {
  // small mappings are checked by a scan, large ones (a dvc.lock's stages) through a set
  auto doc = [](int n, int dup_at, int dup_of) {
    std::string t;
    for (int k = 0; k < n; ++k) t += "k" + std::to_string(k == dup_at ? dup_of : k) + ": " + std::to_string(k) + "\n";
    return t;
  };
  for (int n : {3, 15, 16, 17, 40, 300}) {
    EXPECT_TRUE(detail::read_block_subset(doc(n, -1, 0), formats::k_parse_limits).has_value()) << n;
    for (auto [at, of] : {std::pair{n - 1, 0}, std::pair{n - 1, n - 2}, std::pair{n / 2, 1}}) {
      if (at == of) continue;
      EXPECT_FALSE(detail::read_block_subset(doc(n, at, of), formats::k_parse_limits).has_value())
          << n << " " << at << " " << of;
    }
  }
}

}  // namespace
}  // namespace dvx::yaml
