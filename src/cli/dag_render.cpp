#include "cli/dag_render.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <utility>

namespace dvx::cli {

namespace {

// ---- UTF-8 <-> code points (the canvas and widths count characters, as Python's len()) ----

std::u32string decode_utf8(std::string_view s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) {  // invalid byte: keep it as one character
      out.push_back(c);
      ++i;
      continue;
    }
    char32_t cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
    for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
    out.push_back(cp);
    i += n;
  }
  return out;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

// Python's round() on floats: half to even (the default floating-point rounding mode).
long py_round(double v) { return static_cast<long>(std::nearbyint(v)); }

// ---- grandalf (0.8) Sugiyama layout, as dagascii configures it ----

constexpr double kInf = std::numeric_limits<double>::infinity();

struct GEdge {
  int v0 = 0, v1 = 0;           // grandalf orientation: dependency -> dependent
  std::map<int, int> ctrl;       // rank -> vertex (ends and dummies) for long edges
  bool has_ctrl = false;
};

struct GVertex {
  double w = 0, h = 0;
  bool dummy = false;
  int edge = -1;                 // dummy: the long edge it belongs to
  std::vector<int> e;            // real: incident edges in attach order
  int rank = -1, pos = 0;
  double bar = 0;
  std::optional<std::array<std::vector<int>, 2>> nvs;  // [0]: dirv -1, [1]: dirv +1
  int root = 0, align = 0, sink = 0;
  double shift = kInf;
  std::optional<double> X;
  std::array<double, 4> x{0, 0, 0, 0};
  double xy[2] = {0, 0};
};

class Sugiyama {
 public:
  std::vector<GVertex> v;
  std::vector<GEdge> edges;
  std::vector<std::vector<int>> layers;
  std::vector<double> layer_x;  // Layer.__x
  double xspace = 20, yspace = 20, dw = 10, dh = 10;
  int dirh = 1, dirv = -1, dirvh = 0;
  std::vector<std::pair<int, int>> conflicts;

  void set_dirvh(int d) {
    static const int table[4][2] = {{1, -1}, {-1, -1}, {1, 1}, {-1, 1}};
    dirvh = d;
    dirh = table[d][0];
    dirv = table[d][1];
  }
  void set_dirv(int d) { set_dirvh((d + 1) + (1 - dirh) / 2); }

  std::vector<int> N(int vi, int dir) const {
    std::vector<int> out;
    const GVertex& gv = v[vi];
    if (dir <= 0)
      for (int ei : gv.e)
        if (edges[ei].v1 == vi) out.push_back(edges[ei].v0);
    if (dir >= 0)
      for (int ei : gv.e)
        if (edges[ei].v0 == vi) out.push_back(edges[ei].v1);
    return out;
  }
  size_t in_degree(int vi) const {
    size_t n = 0;
    for (int ei : v[vi].e) n += edges[ei].v1 == vi;
    return n;
  }
  int e_with(int vi, int xi) const {
    for (int ei : v[vi].e)
      if (edges[ei].v0 == xi || edges[ei].v1 == xi) return ei;
    return -1;
  }
  // DummyVertex.N
  std::vector<int> dummy_N(int vi, int dir) const {
    auto& ctrl = edges[v[vi].edge].ctrl;
    auto it = ctrl.find(v[vi].rank + dir);
    if (it == ctrl.end()) return {};
    return {it->second};
  }
  bool inner(int vi, int dir) const {
    for (int x : dummy_N(vi, dir))
      if (v[x].dummy) return true;
    return false;
  }

  // Layer navigation; -1 when there is none.
  int upper(int r) const { return r > 0 ? r - 1 : -1; }
  int lower(int r) const { return r + 1 < static_cast<int>(layers.size()) ? r + 1 : -1; }
  int prevlayer(int r) const { return dirv == 1 ? lower(r) : upper(r); }
  int nextlayer(int r) const { return dirv == -1 ? lower(r) : upper(r); }
  bool truthy(int r) const { return r >= 0 && !layers[r].empty(); }

  const std::vector<int>& neighbors(int vi) {
    GVertex& gv = v[vi];
    if (!gv.nvs) {
      std::array<std::vector<int>, 2> nvs;
      if (gv.dummy) {
        nvs[0] = dummy_N(vi, -1);
        nvs[1] = dummy_N(vi, +1);
      } else {
        nvs[0] = N(vi, -1);
        nvs[1] = N(vi, +1);
        for (int d : {-1, +1}) {
          int tr = gv.rank + d;
          auto& list = nvs[d < 0 ? 0 : 1];
          for (size_t i = 0; i < list.size(); ++i) {
            int xi = list[i];
            if (v[xi].rank == tr) continue;
            int ei = e_with(vi, xi);
            list[i] = edges[ei].ctrl.at(tr);
          }
        }
      }
      v[vi].nvs = std::move(nvs);
    }
    return (*v[vi].nvs)[dirv < 0 ? 0 : 1];
  }

  void setrank(int vi) {
    int r = -1;
    for (int x : N(vi, -1)) r = std::max(r, v[x].rank);
    r += 1;
    v[vi].rank = r;
    if (r < static_cast<int>(layers.size())) layers[r].push_back(vi);
    else layers.push_back({vi});
  }

  void rank_init(std::vector<int> unranked) {
    std::vector<bool> scan(edges.size(), false);
    while (!unranked.empty()) {
      std::vector<int> l;
      for (int vi : unranked) {
        setrank(vi);
        for (int ei : v[vi].e)
          if (edges[ei].v0 == vi) scan[ei] = true;
        for (int x : N(vi, +1)) {
          bool all = true;
          for (int ei : v[x].e)
            if (edges[ei].v1 == x && !scan[ei]) all = false;
          if (all && std::find(l.begin(), l.end(), x) == l.end()) l.push_back(x);
        }
      }
      unranked = std::move(l);
    }
  }

  void rank_optimize() {
    for (int li = static_cast<int>(layers.size()) - 1; li >= 0; --li) {
      // Python iterates the live list; only other layers change while it runs.
      for (size_t k = 0; k < layers[li].size(); ++k) {
        int vi = layers[li][k];
        int grank = v[vi].rank;
        for (int x : N(vi, -1)) {
          bool all = true;
          for (int y : N(x, +1))
            if (v[y].rank < grank) all = false;
          if (!all) continue;
          auto& from = layers[v[x].rank];
          from.erase(std::find(from.begin(), from.end(), x));
          v[x].rank = grank - 1;
          layers[grank - 1].push_back(x);
        }
      }
    }
  }

  void setdummies(int ei) {
    int v0 = edges[ei].v0, v1 = edges[ei].v1;
    int r0 = v[v0].rank, r1 = v[v1].rank;
    if (r0 > r1) {
      std::swap(v0, v1);
      std::swap(r0, r1);
    }
    if (r1 - r0 > 1) {
      edges[ei].has_ctrl = true;
      edges[ei].ctrl[r0] = v0;
      edges[ei].ctrl[r1] = v1;
      for (int r = r0 + 1; r < r1; ++r) {
        GVertex d;
        d.dummy = true;
        d.w = dw;
        d.h = dh;
        d.rank = r;
        d.edge = ei;
        v.push_back(std::move(d));
        int di = static_cast<int>(v.size()) - 1;
        edges[ei].ctrl[r] = di;
        layers[r].push_back(di);
      }
    }
  }

  void setup_layers() {
    layer_x.assign(layers.size(), 1.0);
    for (size_t r = 0; r < layers.size(); ++r) {
      auto& l = layers[r];
      if (l.size() > 1) layer_x[r] = 1.0 / static_cast<double>(l.size() - 1);
      for (size_t i = 0; i < l.size(); ++i) {
        v[l[i]].pos = static_cast<int>(i);
        v[l[i]].bar = static_cast<double>(i) * layer_x[r];
      }
    }
  }

  long cc(int r) {
    std::vector<int> P;
    for (int vi : layers[r]) {
      std::vector<int> ps;
      for (int x : neighbors(vi)) ps.push_back(v[x].pos);
      std::sort(ps.begin(), ps.end());
      P.insert(P.end(), ps.begin(), ps.end());
    }
    std::vector<int> s;
    long count = 0;
    for (size_t i = 0; i < P.size(); ++i) {
      size_t j = static_cast<size_t>(std::upper_bound(s.begin(), s.end(), P[i]) - s.begin());
      if (j < i) count += static_cast<long>(i - j);
      s.insert(s.begin() + static_cast<long>(j), P[i]);
    }
    return count;
  }

  double meanvalueattr(int r, int vi) {
    if (!truthy(prevlayer(r))) return v[vi].bar;
    const auto& nb = neighbors(vi);
    if (nb.empty()) return v[vi].bar;
    double sum = 0;
    for (int x : nb) sum += v[x].bar;  // Python's sum(): left to right from 0
    return sum / static_cast<double>(nb.size());
  }

  long reduce_crossings(int r) {
    auto& l = layers[r];
    long X = 0;
    for (size_t i = 0; i + 1 < l.size(); ++i) {
      size_t j = i + 1;
      int vi = l[i], vj = l[j];
      std::vector<double> ni;
      for (int x : neighbors(vi)) ni.push_back(v[x].bar);
      long Xij = 0, Xji = 0;
      for (int y : neighbors(vj)) {
        double nj = v[y].bar;
        long x = 0;
        for (double n : ni) x += n > nj;
        Xij += x;
        Xji += static_cast<long>(ni.size()) - x;
      }
      if (Xji < Xij) {
        l[i] = vj;
        l[j] = vi;
        X += Xji;
      } else {
        X += Xij;
      }
    }
    return X;
  }

  long order(int r) {
    long c = cc(r);
    if (c > 0) {
      auto& l = layers[r];
      for (int vi : l) v[vi].bar = meanvalueattr(r, vi);
      std::stable_sort(l.begin(), l.end(), [&](int a, int b) { return v[a].bar < v[b].bar; });
      c = reduce_crossings(r);
      for (size_t i = 0; i < l.size(); ++i) {
        v[l[i]].pos = static_cast<int>(i);
        v[l[i]].bar = static_cast<double>(i) * layer_x[r];
      }
    }
    return c;
  }

  void ordering_step(bool oneway) {
    set_dirv(-1);
    long crossings = 0;
    int l = -1;
    for (size_t r = 0; r < layers.size(); ++r) {
      l = static_cast<int>(r);
      crossings += order(l);
    }
    if (oneway || crossings == 0) return;
    set_dirv(+1);
    while (truthy(l)) {
      order(l);
      l = nextlayer(l);
    }
  }

  std::vector<int> median_index(int r, int vi) {
    const auto& nb = neighbors(vi);
    std::vector<int> pos;
    for (int x : nb) pos.push_back(v[x].pos);
    if (pos.empty()) return {};
    std::sort(pos.begin(), pos.end());
    if (dirh < 0) std::reverse(pos.begin(), pos.end());
    size_t lp = pos.size();
    size_t i = (lp - 1) / 2, j = (lp - 1) % 2;
    (void)r;
    if (j == 0) return {pos[i]};
    return {pos[i], pos[i + j]};
  }

  void detect_alignment_conflicts() {
    int saved = dirvh;
    set_dirvh(0);
    conflicts.clear();
    for (size_t r = 0; r < layers.size(); ++r) {
      auto& L = layers[r];
      int last = static_cast<int>(L.size()) - 1;
      int prev = prevlayer(static_cast<int>(r));
      if (!truthy(prev)) continue;
      int k0 = 0;
      int k1_init = static_cast<int>(layers[prev].size()) - 1;
      int l = 0;
      for (int l1 = 0; l1 < static_cast<int>(L.size()); ++l1) {
        int vi = L[l1];
        if (!v[vi].dummy) continue;
        if (l1 == last || inner(vi, -1)) {
          int k1 = k1_init;
          if (inner(vi, -1)) k1 = v[dummy_N(vi, -1).back()].pos;
          for (int q = l; q <= l1; ++q) {
            int vl = L[q];
            for (int vk : neighbors(vl)) {
              int k = v[vk].pos;
              if (k < k0 || k > k1) conflicts.emplace_back(vk, vl);
            }
          }
          l = l1 + 1;
          k0 = k1;
        }
      }
    }
    set_dirvh(saved);
  }

  // l[::dirh]
  std::vector<int> directed(const std::vector<int>& l) const {
    std::vector<int> out = l;
    if (dirh < 0) std::reverse(out.begin(), out.end());
    return out;
  }
  // layers[::-dirv]
  std::vector<int> layer_order() const {
    std::vector<int> out;
    for (size_t r = 0; r < layers.size(); ++r) out.push_back(static_cast<int>(r));
    if (dirv > 0) std::reverse(out.begin(), out.end());
    return out;
  }

  void coord_vertical_alignment() {
    for (int r : layer_order()) {
      int prev = prevlayer(r);
      if (!truthy(prev)) continue;
      std::optional<int> rr;
      for (int vk : directed(layers[r])) {
        for (int m : median_index(r, vk)) {
          int um = layers[prev][m];
          if (v[vk].align == vk) {
            std::pair<int, int> vpair = dirv == 1 ? std::pair{vk, um} : std::pair{um, vk};
            bool conflict = std::find(conflicts.begin(), conflicts.end(), vpair) != conflicts.end();
            if (!conflict && (!rr || dirh * *rr < dirh * m)) {
              v[um].align = vk;
              v[vk].root = v[um].root;
              v[vk].align = v[vk].root;
              rr = m;
            }
          }
        }
      }
    }
  }

  void place_block(int vi) {
    if (v[vi].X) return;
    v[vi].X = 0.0;
    int w = vi;
    for (;;) {
      int j = v[w].pos - dirh;
      int r = v[w].rank;
      if (0 <= j && j < static_cast<int>(layers[r].size())) {
        int wprec = layers[r][j];
        double delta = xspace + (v[wprec].w + v[w].w) / 2.0;
        int u = v[wprec].root;
        place_block(u);
        if (v[vi].sink == vi) v[vi].sink = v[u].sink;
        if (v[vi].sink != v[u].sink) {
          int s = v[u].sink;
          double newshift = *v[vi].X - (*v[u].X + delta);
          v[s].shift = std::min(v[s].shift, newshift);
        } else {
          v[vi].X = std::max(*v[vi].X, *v[u].X + delta);
        }
      }
      w = v[w].align;
      if (w == vi) break;
    }
  }

  void coord_horizontal_compact() {
    std::vector<int> L = layer_order();
    for (int r : L)
      for (int vi : directed(layers[r]))
        if (v[vi].root == vi) place_block(vi);
    if (dirh == -1)
      for (int r : L)
        for (int vi : layers[r])
          if (v[vi].X && *v[vi].X != 0.0) v[vi].X = -*v[vi].X;
    for (int r : L) {
      for (int vi : directed(layers[r])) {
        int root = v[vi].root;
        v[vi].x[dirvh] = *v[root].X;
        int rs = v[root].sink;
        double s = v[rs].shift;
        if (s < kInf) v[vi].x[dirvh] += dirh * s;
      }
    }
    for (auto& layer : layers)
      for (int vi : layer) {
        v[vi].root = v[vi].align = v[vi].sink = vi;
        v[vi].shift = kInf;
        v[vi].X.reset();
      }
  }

  void setxy() {
    detect_alignment_conflicts();
    for (auto& layer : layers)
      for (int vi : layer) {
        v[vi].root = v[vi].align = v[vi].sink = vi;
        v[vi].shift = kInf;
        v[vi].X.reset();
        v[vi].x = {0, 0, 0, 0};
      }
    int saved = dirvh;
    for (int d = 0; d < 4; ++d) {
      set_dirvh(d);
      coord_vertical_alignment();
      coord_horizontal_compact();
    }
    set_dirvh(saved);
    double Y = 0;
    for (auto& layer : layers) {
      double dY = -kInf;
      for (int vi : layer) dY = std::max(dY, v[vi].h / 2.0);
      for (int vi : layer) {
        auto vx = v[vi].x;
        std::sort(vx.begin(), vx.end());
        double avgm = (vx[1] + vx[2]) / 2.0;
        v[vi].xy[0] = avgm;
        v[vi].xy[1] = Y + dY;
      }
      Y += 2 * dY + yspace;
    }
  }
};

// grandalf.utils.geometry.intersect2lines
std::optional<std::array<double, 2>> intersect2lines(std::array<double, 2> p1, std::array<double, 2> p2,
                                                     std::array<double, 2> p3, std::array<double, 2> p4) {
  double b0 = p2[0] - p1[0], b1 = p2[1] - p1[1];
  double d0 = p4[0] - p3[0], d1 = p4[1] - p3[1];
  double det = b0 * d1 - b1 * d0;
  if (det == 0) return std::nullopt;
  double c0 = p3[0] - p1[0], c1 = p3[1] - p1[1];
  double t = (c0 * b1 - c1 * b0) / (det * 1.0);
  if (t < 0.0 || t > 1.0) return std::nullopt;
  t = (c0 * d1 - c1 * d0) / (det * 1.0);
  if (t < 0.0 || t > 1.0) return std::nullopt;
  return std::array<double, 2>{p1[0] + t * b0, p1[1] + t * b1};
}

// grandalf.utils.geometry.intersectR: where the line from the box centre to `topt` leaves it.
std::array<double, 2> intersectR(const GVertex& view, std::array<double, 2> topt) {
  double x2 = topt[0] - view.xy[0], y2 = topt[1] - view.xy[1];
  // view.w // 2 on ints (real boxes) or floats (dummies never get here).
  double bbx2 = std::floor(view.w / 2), bbx1 = -bbx2;
  double bby2 = std::floor(view.h / 2), bby1 = -bby2;
  const std::array<std::array<double, 2>, 2> segs[4] = {
      {{{bbx1, bby1}, {bbx2, bby1}}},
      {{{bbx2, bby1}, {bbx2, bby2}}},
      {{{bbx1, bby2}, {bbx2, bby2}}},
      {{{bbx1, bby2}, {bbx1, bby1}}},
  };
  for (auto& s : segs) {
    if (auto xy = intersect2lines({0, 0}, {x2, y2}, s[0], s[1]))
      return {(*xy)[0] + view.xy[0], (*xy)[1] + view.xy[1]};
  }
  return {view.xy[0], view.xy[1]};  // grandalf raises here (endpoint inside the box)
}

class Canvas {
 public:
  Canvas(long cols, long lines) : m_cols(cols), m_lines(lines) {
    m_cells.assign(static_cast<size_t>(std::max(0L, lines)),
                   std::u32string(static_cast<size_t>(std::max(0L, cols)), U' '));
  }
  void point(long x, long y, char32_t c) {
    if (x < 0 || y < 0 || x >= m_cols || y >= m_lines) return;  // dagascii asserts
    m_cells[static_cast<size_t>(y)][static_cast<size_t>(x)] = c;
  }
  void line(long x0, long y0, long x1, long y1, char32_t c) {
    if (x0 > x1) {
      std::swap(x0, x1);
      std::swap(y0, y1);
    }
    long dx = x1 - x0, dy = y1 - y0;
    if (dx == 0 && dy == 0) {
      point(x0, y0, c);
    } else if (std::labs(dx) >= std::labs(dy)) {
      for (long x = x0; x <= x1; ++x) {
        long y = dx == 0 ? y0 : y0 + py_round(static_cast<double>((x - x0) * dy) / static_cast<double>(dx));
        point(x, y, c);
      }
    } else if (y0 < y1) {
      for (long y = y0; y <= y1; ++y) {
        long x = dy == 0 ? x0 : x0 + py_round(static_cast<double>((y - y0) * dx) / static_cast<double>(dy));
        point(x, y, c);
      }
    } else {
      for (long y = y1; y <= y0; ++y) {
        long x = dy == 0 ? x0 : x1 + py_round(static_cast<double>((y - y1) * dx) / static_cast<double>(dy));
        point(x, y, c);
      }
    }
  }
  void text(long x, long y, const std::u32string& s) {
    for (size_t i = 0; i < s.size(); ++i) point(x + static_cast<long>(i), y, s[i]);
  }
  void box(long x0, long y0, long width, long height) {
    width -= 1;
    height -= 1;
    for (long x = x0; x < x0 + width; ++x) {
      point(x, y0, U'-');
      point(x, y0 + height, U'-');
    }
    for (long y = y0; y < y0 + height; ++y) {
      point(x0, y, U'|');
      point(x0 + width, y, U'|');
    }
    point(x0, y0, U'+');
    point(x0 + width, y0, U'+');
    point(x0, y0 + height, U'+');
    point(x0 + width, y0 + height, U'+');
  }
  std::string draw() const {
    std::string out;
    for (size_t i = 0; i < m_cells.size(); ++i) {
      if (i) out.push_back('\n');
      for (char32_t c : m_cells[i]) append_utf8(out, c);
    }
    return out;
  }

 private:
  long m_cols, m_lines;
  std::vector<std::u32string> m_cells;
};

// Edges without duplicates, in the given order.
std::vector<DagGraph::Edge> unique_edges(const DagGraph& g) {
  std::vector<DagGraph::Edge> out;
  for (auto& e : g.edges) {
    if (e.dependent >= g.nodes.size() || e.dependency >= g.nodes.size()) continue;
    bool dup = std::any_of(out.begin(), out.end(), [&](auto& o) {
      return o.dependent == e.dependent && o.dependency == e.dependency;
    });
    if (!dup) out.push_back(e);
  }
  return out;
}

}  // namespace

std::vector<DagGraph> split_pipelines(const DagGraph& g) {
  size_t n = g.nodes.size();
  auto edges = unique_edges(g);
  std::vector<std::vector<size_t>> adj(n);
  for (auto& e : edges) {
    adj[e.dependent].push_back(e.dependency);
    adj[e.dependency].push_back(e.dependent);
  }
  std::vector<int> comp(n, -1);
  int ncomp = 0;
  for (size_t s = 0; s < n; ++s) {
    if (comp[s] >= 0) continue;
    std::vector<size_t> stack{s};
    comp[s] = ncomp;
    while (!stack.empty()) {
      size_t u = stack.back();
      stack.pop_back();
      for (size_t w : adj[u])
        if (comp[w] < 0) {
          comp[w] = ncomp;
          stack.push_back(w);
        }
    }
    ++ncomp;
  }
  std::vector<DagGraph> out(static_cast<size_t>(ncomp));
  std::vector<size_t> local(n);
  for (size_t i = 0; i < n; ++i) {
    auto& p = out[static_cast<size_t>(comp[i])];
    local[i] = p.nodes.size();
    p.nodes.push_back(g.nodes[i]);
  }
  for (auto& e : edges)
    out[static_cast<size_t>(comp[e.dependent])].edges.push_back({local[e.dependent], local[e.dependency]});
  return out;
}

std::string draw_pipeline_ascii(const DagGraph& pipeline) {
  size_t n = pipeline.nodes.size();
  if (n == 0) return "";
  auto dedges = unique_edges(pipeline);
  Sugiyama sug;
  std::vector<std::u32string> data(n);
  for (size_t i = 0; i < n; ++i) {
    data[i] = U" " + decode_utf8(pipeline.nodes[i]) + U" ";
    GVertex gv;
    gv.w = static_cast<double>(data[i].size() + 2);
    gv.h = 3;
    sug.v.push_back(std::move(gv));
  }
  // Edges reversed (dependency -> dependent), attached in order (Graph.__init__).
  for (auto& e : dedges) {
    GEdge ge;
    ge.v0 = static_cast<int>(e.dependency);
    ge.v1 = static_cast<int>(e.dependent);
    sug.edges.push_back(ge);
    int ei = static_cast<int>(sug.edges.size()) - 1;
    auto attach = [&](int vi) {
      auto& list = sug.v[vi].e;
      if (std::find(list.begin(), list.end(), ei) == list.end()) list.push_back(ei);
    };
    attach(ge.v0);
    attach(ge.v1);
  }
  // The component's vertex order: Graph.__init__ merges the vertex sets edge by edge, the set of
  // the edge's first vertex (the dependency) absorbing the other one at its end.
  std::vector<std::vector<int>> sets(n);
  std::vector<int> set_of(n);
  for (size_t i = 0; i < n; ++i) {
    sets[i] = {static_cast<int>(i)};
    set_of[i] = static_cast<int>(i);
  }
  for (auto& ge : sug.edges) {
    int sx = set_of[ge.v0], sy = set_of[ge.v1];
    if (sx == sy) continue;
    // Graph.__init__: merge y.c into x.c (x = the edge's first vertex).
    for (int z : sets[sy]) {
      sets[sx].push_back(z);
      set_of[z] = sx;
    }
    sets[sy].clear();
  }
  std::vector<int> order;
  for (auto& s : sets)
    if (!s.empty()) {
      order = s;
      break;
    }
  // sV order: renumber vertices so that index order is the component's order.
  {
    std::vector<int> new_of(n);
    for (size_t k = 0; k < order.size(); ++k) new_of[order[k]] = static_cast<int>(k);
    std::vector<GVertex> nv(order.size());
    for (size_t k = 0; k < order.size(); ++k) nv[k] = std::move(sug.v[order[k]]);
    std::vector<std::u32string> nd(order.size());
    for (size_t k = 0; k < order.size(); ++k) nd[k] = data[order[k]];
    for (auto& ge : sug.edges) {
      ge.v0 = new_of[ge.v0];
      ge.v1 = new_of[ge.v1];
    }
    sug.v = std::move(nv);
    data = std::move(nd);
  }
  size_t nv = sug.v.size();

  // SugiyamaLayout.__init__: median box size for dummies.
  {
    std::vector<double> ws, hs;
    for (auto& gv : sug.v) {
      ws.push_back(gv.w);
      hs.push_back(gv.h);
    }
    std::sort(ws.begin(), ws.end());
    std::sort(hs.begin(), hs.end());
    sug.dw = ws[ws.size() / 2];
    sug.dh = hs[hs.size() / 2];
  }
  double minw = kInf;
  for (auto& gv : sug.v) minw = std::min(minw, gv.w);
  std::vector<int> roots;
  for (size_t i = 0; i < nv; ++i)
    if (sug.in_degree(static_cast<int>(i)) == 0) roots.push_back(static_cast<int>(i));

  // init_all(roots, optimize=True)
  sug.rank_init(roots);
  // A cycle leaves vertices unranked (grandalf would invert feedback edges; DVC never draws a
  // cyclic graph): nothing is drawn.
  for (size_t i = 0; i < nv; ++i)
    if (sug.v[i].rank < 0) return "";
  sug.rank_optimize();
  for (size_t ei = 0; ei < sug.edges.size(); ++ei) sug.setdummies(static_cast<int>(ei));
  sug.setup_layers();
  sug.yspace = 3;
  sug.xspace = minw;
  // draw(): one full ordering step, one downward step, coordinates, edge routes.
  sug.ordering_step(false);
  sug.ordering_step(true);
  sug.setxy();

  std::vector<std::vector<std::array<double, 2>>> paths;
  for (auto& ge : sug.edges) {
    std::vector<std::array<double, 2>> l;
    l.push_back({sug.v[ge.v0].xy[0], sug.v[ge.v0].xy[1]});
    if (ge.has_ctrl) {
      int r0 = sug.v[ge.v0].rank, r1 = sug.v[ge.v1].rank;
      auto at = [&](int r) {
        const GVertex& d = sug.v[ge.ctrl.at(r)];
        return std::array<double, 2>{d.xy[0], d.xy[1]};
      };
      if (r0 < r1)
        for (int r = r0 + 1; r < r1; ++r) l.push_back(at(r));
      else
        for (int r = r0 - 1; r > r1; --r) l.push_back(at(r));
    }
    l.push_back({sug.v[ge.v1].xy[0], sug.v[ge.v1].xy[1]});
    // route_with_lines
    auto tail = intersectR(sug.v[ge.v0], l[1]);
    auto head = intersectR(sug.v[ge.v1], l[l.size() - 2]);
    l.front() = tail;
    l.back() = head;
    paths.push_back(std::move(l));
  }

  std::vector<double> Xs, Ys;
  for (size_t i = 0; i < nv; ++i) {
    auto& gv = sug.v[i];
    Xs.push_back(gv.xy[0] - gv.w / 2.0);
    Xs.push_back(gv.xy[0] + gv.w / 2.0);
    Ys.push_back(gv.xy[1]);
    Ys.push_back(gv.xy[1] + gv.h);
  }
  for (auto& p : paths)
    for (auto& pt : p) {
      Xs.push_back(pt[0]);
      Ys.push_back(pt[1]);
    }
  double minx = *std::min_element(Xs.begin(), Xs.end());
  double miny = *std::min_element(Ys.begin(), Ys.end());
  double maxx = *std::max_element(Xs.begin(), Xs.end());
  double maxy = *std::max_element(Ys.begin(), Ys.end());
  long cols = static_cast<long>(std::ceil(std::ceil(maxx) - std::floor(minx))) + 1;
  long lines = py_round(maxy - miny);
  Canvas canvas(cols, lines);
  for (auto& p : paths)
    for (size_t k = 1; k < p.size(); ++k)
      canvas.line(py_round(p[k - 1][0] - minx), py_round(p[k - 1][1] - miny), py_round(p[k][0] - minx),
                  py_round(p[k][1] - miny), U'*');
  for (size_t i = 0; i < nv; ++i) {
    auto& gv = sug.v[i];
    double x = gv.xy[0] - gv.w / 2.0;
    double y = gv.xy[1];
    long bx = py_round(x - minx), by = py_round(y - miny);
    canvas.box(bx, by, static_cast<long>(gv.w), static_cast<long>(gv.h));
    canvas.text(bx + 1, by + 1, data[i]);
  }
  return canvas.draw();
}

std::string crop_trailing_spaces(std::string_view text, size_t width) {
  std::string out;
  size_t start = 0;
  for (;;) {
    size_t nl = text.find('\n', start);
    size_t len = nl == std::string_view::npos ? std::string_view::npos : nl - start;
    std::string_view line = text.substr(start, len);
    std::u32string cps = decode_utf8(line);
    if (cps.size() > width) {
      size_t excess = cps.size() - width;
      size_t ws = 0;
      while (ws < cps.size()) {
        char32_t c = cps[cps.size() - 1 - ws];
        bool space = c == U' ' || c == U'\t' || c == U'\r' || c == U'\f' || c == U'\v';
        if (!space) break;
        ++ws;
      }
      cps.resize(cps.size() - std::min(ws, excess));
    }
    for (char32_t c : cps) append_utf8(out, c);
    if (nl == std::string_view::npos) break;
    out.push_back('\n');
    start = nl + 1;
  }
  return out;
}

std::string render_ascii(const DagGraph& g, size_t console_width) {
  std::string joined;
  bool first = true;
  for (auto& p : split_pipelines(g)) {
    if (!first) joined.push_back('\n');
    first = false;
    joined += draw_pipeline_ascii(p);
  }
  return crop_trailing_spaces(joined, console_width) + "\n";
}

namespace {

std::string quote_label(const std::string& label) {
  if (!label.empty() && label.front() != '"' && label.back() != '"') return "\"" + label + "\"";
  if (label.empty()) return "\"\"";
  return label;
}

}  // namespace

std::string render_dot(const DagGraph& g) {
  // nx.relabel_nodes(graph, _quote_label, copy=False) rewrites adjacency node by node (in node
  // order), which reorders successor lists; then graph.reverse() and pydot print nodes, edges.
  size_t n = g.nodes.size();
  auto edges = unique_edges(g);
  // Adjacency with insertion order: succ[u], pred[v] as ordered lists of (node id, "relabeled").
  // Node ids: 0..n-1 the old labels, n..2n-1 the new ones.
  std::vector<std::vector<size_t>> succ(2 * n), pred(2 * n);
  for (auto& e : edges) {
    succ[e.dependent].push_back(e.dependency);
    pred[e.dependency].push_back(e.dependent);
  }
  auto add_edge = [&](size_t u, size_t v) {
    if (std::find(succ[u].begin(), succ[u].end(), v) == succ[u].end()) succ[u].push_back(v);
    if (std::find(pred[v].begin(), pred[v].end(), u) == pred[v].end()) pred[v].push_back(u);
  };
  auto erase = [](std::vector<size_t>& l, size_t x) {
    auto it = std::find(l.begin(), l.end(), x);
    if (it != l.end()) l.erase(it);
  };
  for (size_t old = 0; old < n; ++old) {
    size_t nw = old + n;
    std::vector<std::pair<size_t, size_t>> new_edges;
    for (size_t t : succ[old]) new_edges.emplace_back(nw, t == old ? nw : t);
    for (size_t s : pred[old]) new_edges.emplace_back(s == old ? nw : s, nw);
    // G.remove_node(old)
    for (size_t t : succ[old]) erase(pred[t], old);
    for (size_t s : pred[old]) erase(succ[s], old);
    succ[old].clear();
    pred[old].clear();
    for (auto& [u, v] : new_edges) add_edge(u, v);
  }
  std::string out = "strict digraph  {\n";
  std::vector<std::string> labels(n);
  for (size_t i = 0; i < n; ++i) labels[i] = quote_label(g.nodes[i]);
  for (size_t i = 0; i < n; ++i) out += labels[i] + ";\n";
  // reverse(): edges (v, u) added in G.edges order; H.edges groups them by v in node order.
  std::vector<std::vector<size_t>> rsucc(n);
  for (size_t u = 0; u < n; ++u)
    for (size_t v : succ[u + n]) {
      auto& l = rsucc[v - n];
      if (std::find(l.begin(), l.end(), u) == l.end()) l.push_back(u);
    }
  for (size_t v = 0; v < n; ++v)
    for (size_t u : rsucc[v]) out += labels[v] + " -> " + labels[u] + ";\n";
  out += "}\n\n";
  return out;
}

std::string render_mermaid(const DagGraph& g, bool markdown) {
  std::string graph = "flowchart TD";
  size_t total = 0;
  for (auto& p : split_pipelines(g)) {
    std::vector<std::string> nodes = p.nodes;
    std::sort(nodes.begin(), nodes.end());
    std::map<std::string, std::string> ids;
    for (auto& node : nodes) {
      ++total;
      std::string id = "node" + std::to_string(total);
      graph += "\n\t" + id + "[\"" + node + "\"]";
      ids[node] = id;
    }
    std::vector<std::pair<std::string, std::string>> es;
    for (auto& e : p.edges) es.emplace_back(p.nodes[e.dependency], p.nodes[e.dependent]);
    std::sort(es.begin(), es.end());
    for (auto& [a, b] : es) graph += "\n\t" + ids[a] + "-->" + ids[b];
  }
  if (markdown) return "```mermaid\n" + graph + "\n```\n";
  return graph + "\n";
}

}  // namespace dvx::cli
