#include "dvx/formats/limits.h"

namespace dvx::formats {

bool ParseBudget::charge(uint64_t nodes, uint64_t bytes) {
  if (!m_reason.empty()) return false;
  m_nodes += nodes;
  m_bytes += bytes;
  if (m_nodes > m_limits.max_nodes) {
    m_reason = "document too large: more than " + std::to_string(m_limits.max_nodes) + " nodes once aliases are expanded";
    return false;
  }
  if (m_bytes > m_limits.max_bytes) {
    m_reason = "document too large: more than " + std::to_string(m_limits.max_bytes) + " bytes of text once aliases are expanded";
    return false;
  }
  return true;
}

bool ParseBudget::enter(uint64_t depth) {
  if (!m_reason.empty()) return false;
  if (depth > m_limits.max_depth) {
    m_reason = "document nested too deeply: more than " + std::to_string(m_limits.max_depth) + " levels";
    return false;
  }
  return true;
}

bool ParseBudget::input(uint64_t size) {
  if (!m_reason.empty()) return false;
  if (size > m_limits.max_bytes) {
    m_reason = "file too large: more than " + std::to_string(m_limits.max_bytes) + " bytes";
    return false;
  }
  return true;
}

std::string position_of(std::string_view text, size_t offset, const std::string& filename) {
  int line = 1, col = 1;
  for (size_t k = 0; k < offset && k < text.size(); ++k) {
    if (text[k] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return "'" + filename + "':" + std::to_string(line) + ":" + std::to_string(col) + ": ";
}

}  // namespace dvx::formats
