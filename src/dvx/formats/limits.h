// Bounds on the work a reader does for one untrusted document (YAML .dvc/dvc.lock/dvc.yaml/params
// files, JSON, configobj INI, TOML later): an alias bomb ("billion laughs") or a 100k-deep
// `[[[[` must end in a clear error, in memory proportional to the limits, never in bad_alloc or
// a stack overflow. Every reader takes its limits from here.
// Thread-safety: ParseLimits is a plain value; a ParseBudget belongs to one parse.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dvx::formats {

struct ParseLimits {
  // Nodes (scalars and collections) a document may expand to, aliases expanded.
  uint64_t max_nodes = 1'000'000;
  // Nesting of collections (a top-level mapping is depth 1).
  uint32_t max_depth = 64;
  // Bytes of the input text, and of scalar/key content once aliases are expanded.
  uint64_t max_bytes = 64ull << 20;
  // Bytes a streaming parser may read ahead of the last value it delivered. yaml-cpp holds every
  // token of a flow collection (`[[1, 2, ...]]`) until it ends, ~250 bytes of memory per input
  // byte: this bounds that (and also a single scalar's length).
  uint64_t max_lookahead = 1ull << 20;
};

// The limits every reader uses unless a test passes smaller ones.
inline constexpr ParseLimits k_parse_limits{};

// Counts the work done while one document is read. Each check returns false once a limit is
// passed; reason() then says which one, in words for an error message
// ("document too large: more than 1000000 nodes once aliases are expanded").
class ParseBudget {
 public:
  explicit ParseBudget(const ParseLimits& limits = k_parse_limits) : m_limits(limits) {}

  // Charges nodes and content bytes produced (an alias charges the whole subtree it repeats).
  bool charge(uint64_t nodes, uint64_t bytes);
  // A collection opened at nesting `depth` (1-based).
  bool enter(uint64_t depth);
  // The size of the input text.
  bool input(uint64_t size);

  uint64_t nodes() const { return m_nodes; }
  uint64_t bytes() const { return m_bytes; }
  const std::string& reason() const { return m_reason; }
  const ParseLimits& limits() const { return m_limits; }

 private:
  ParseLimits m_limits;
  uint64_t m_nodes = 0, m_bytes = 0;
  std::string m_reason;
};

// "'<file>':<line>:<col>: " for an offset in a text (1-based line and column).
std::string position_of(std::string_view text, size_t offset, const std::string& filename);

}  // namespace dvx::formats
