#include "dvx/formats/yaml.h"

#include <algorithm>
#include <cmath>

namespace dvx::yaml {

// ---------------------------------------------------------------------------------------------
// Node

Node Node::null() { return Node{}; }
Node Node::boolean(bool v) {
  Node n;
  n.kind = Kind::boolean;
  n.b = v;
  return n;
}
Node Node::integer(int64_t v) {
  Node n;
  n.kind = Kind::integer;
  n.i = v;
  return n;
}
Node Node::floating(double v) {
  Node n;
  n.kind = Kind::floating;
  n.f = v;
  return n;
}
Node Node::str(std::string v) {
  Node n;
  n.kind = Kind::string;
  n.s = std::move(v);
  return n;
}
Node Node::sequence() {
  Node n;
  n.kind = Kind::sequence;
  return n;
}
Node Node::mapping() {
  Node n;
  n.kind = Kind::mapping;
  return n;
}

Node* Node::find(std::string_view key) {
  if (kind != Kind::mapping) return nullptr;
  for (auto& [k, v] : map)
    if (k == key) return &v;
  return nullptr;
}

const Node* Node::find(std::string_view key) const {
  if (kind != Kind::mapping) return nullptr;
  for (auto& [k, v] : map)
    if (k == key) return &v;
  return nullptr;
}

Node& Node::set(std::string_view key, Node value) {
  if (kind == Kind::null) kind = Kind::mapping;
  if (Node* n = find(key)) {
    *n = std::move(value);
    return *n;
  }
  map.emplace_back(std::string(key), std::move(value));
  return map.back().second;
}

bool Node::erase(std::string_view key) {
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (it->first == key) {
      map.erase(it);
      return true;
    }
  }
  return false;
}

Node& Node::push_back(Node value) {
  if (kind == Kind::null) kind = Kind::sequence;
  seq.push_back(std::move(value));
  return seq.back();
}

const char* Node::kind_name(Kind k) {
  switch (k) {
    case Kind::null: return "null";
    case Kind::boolean: return "a boolean";
    case Kind::integer: return "an integer";
    case Kind::floating: return "a float";
    case Kind::string: return "a string";
    case Kind::sequence: return "a list";
    case Kind::mapping: return "a mapping";
  }
  return "a value";
}

static bool is_number(const Node& n) {
  return n.kind == Node::Kind::boolean || n.kind == Node::Kind::integer ||
         n.kind == Node::Kind::floating;
}

static double as_double(const Node& n) {
  if (n.kind == Node::Kind::boolean) return n.b ? 1.0 : 0.0;
  if (n.kind == Node::Kind::integer) return static_cast<double>(n.i);
  return n.f;
}

bool truthy(const Node& n) {
  switch (n.kind) {
    case Node::Kind::null: return false;
    case Node::Kind::boolean: return n.b;
    case Node::Kind::integer: return n.i != 0;
    case Node::Kind::floating: return n.f != 0;
    case Node::Kind::string: return !n.s.empty();
    case Node::Kind::sequence: return !n.seq.empty();
    case Node::Kind::mapping: return !n.map.empty();
  }
  return false;
}

bool equal(const Node& a, const Node& b) {
  using K = Node::Kind;
  if (is_number(a) && is_number(b)) {
    if (a.kind != K::floating && b.kind != K::floating) {
      int64_t x = a.kind == K::boolean ? a.b : a.i;
      int64_t y = b.kind == K::boolean ? b.b : b.i;
      return x == y;
    }
    return as_double(a) == as_double(b);
  }
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case K::null: return true;
    case K::string: return a.s == b.s;
    case K::sequence:
      if (a.seq.size() != b.seq.size()) return false;
      for (size_t k = 0; k < a.seq.size(); ++k)
        if (!equal(a.seq[k], b.seq[k])) return false;
      return true;
    case K::mapping:
      if (a.map.size() != b.map.size()) return false;
      for (auto& [k, v] : a.map) {
        const Node* o = b.find(k);
        if (!o || !equal(v, *o)) return false;
      }
      return true;
    default: return false;
  }
}

// ---------------------------------------------------------------------------------------------
// apply_diff

static bool is_container(const Node& n) {
  return n.kind == Node::Kind::mapping || n.kind == Node::Kind::sequence;
}

void apply_diff(const Node& src, Node& dest) {
  if (src.kind == Node::Kind::mapping && dest.kind == Node::Kind::mapping) {
    for (auto& [k, v] : src.map) {
      Node* d = dest.find(k);
      if (d && is_container(v) && d->kind == v.kind) {
        apply_diff(v, *d);
      } else if (!d || !equal(v, *d)) {
        dest.set(k, v);
      }
    }
    std::erase_if(dest.map, [&](const auto& kv) { return src.find(kv.first) == nullptr; });
  } else if (src.kind == Node::Kind::sequence && dest.kind == Node::Kind::sequence) {
    if (src.seq.size() != dest.seq.size()) {
      dest.seq = src.seq;
      dest.flow = src.flow;
      return;
    }
    for (size_t k = 0; k < src.seq.size(); ++k) {
      const Node& v = src.seq[k];
      if (is_container(v) && dest.seq[k].kind == v.kind) apply_diff(v, dest.seq[k]);
      else if (!equal(v, dest.seq[k])) dest.seq[k] = v;
    }
  } else {
    dest = src;
  }
}

}  // namespace dvx::yaml
