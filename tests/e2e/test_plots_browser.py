"""The offline plots page in a real browser (issue 11): headless Chromium with networking
disabled opens `plots show --offline`'s page for a linear, a scatter and a confusion plot, takes a
screenshot, and the test checks that the chart was drawn (coloured pixels inside the plot area).
The CDN page (DVC's default) under the same conditions draws nothing: the control that shows the
check can fail. Skipped, with the reason, where Debian's `chromium` (installed by `./dev setup`)
or the Vega libraries (`./dev setup`, or DVX_VEGA_DIR) are absent.
"""

import json
import os
import shutil
import struct
import subprocess
import unittest
import zlib

import dvxtest
from test_plots import vega_dir


def read_png(path):
    """(width, height, rows of (r, g, b) tuples) of an 8-bit RGB/RGBA, non-interlaced PNG."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and interlace == 0, (depth, ctype, interlace)
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(height):
        ftype, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if ftype == 1:
                line[x] = (line[x] + a) & 255
            elif ftype == 2:
                line[x] = (line[x] + b) & 255
            elif ftype == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x:x + 3]) for x in range(0, stride, bpp)])
        prev = line
    return width, height, rows


def coloured_pixels(rows, x0, y0, x1, y1):
    """Pixels in the box that are neither white, grey nor black (chart marks, not text or axes)."""
    count = 0
    for row in rows[y0:y1]:
        for r, g, b in row[x0:x1]:
            if max(r, g, b) - min(r, g, b) > 60:
                count += 1
    return count


PLOTS = {
    "linear": ("loss.csv", "step", "loss"),
    "scatter": ("points.json", "x", "y"),
    "confusion": ("cm.json", "actual", "predicted"),
}


class TestOfflinePageInBrowser(dvxtest.DvxTestCase):
    def setUp(self):
        super().setUp()
        if dvxtest.is_real_dvc():
            self.skipTest("--offline is dvx's own option")
        self.chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if not self.chromium:
            self.skipTest("Debian's chromium is not installed (./dev setup installs it)")
        self.vega = vega_dir()
        if self.vega is None:
            self.skipTest("Vega libraries not installed (run `./dev setup`, or set DVX_VEGA_DIR)")
        self.make_repo()
        self.write("loss.csv", "step,loss\n" + "".join(f"{i},{1 / (i + 1):.4f}\n" for i in range(20)))
        self.write("points.json", json.dumps([{"x": i, "y": (i * 7) % 11} for i in range(30)]))
        self.write("cm.json", json.dumps([{"actual": str(i % 3), "predicted": str((i * 2) % 3)}
                                          for i in range(30)]))
        yaml = "plots:\n"
        for template, (f, x, y) in PLOTS.items():
            yaml += f"- {f}:\n    x: {x}\n    y: {y}\n    template: {template}\n"
        self.write("dvc.yaml", yaml)

    def screenshot(self, page, name):
        shot = os.path.join(self.tmp, name + ".png")
        profile = os.path.join(self.tmp, "chromium-" + name)
        proc = subprocess.run(
            [self.chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
             f"--user-data-dir={profile}",
             # no network: every host unresolvable, every proxy connection refused
             "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
             "--virtual-time-budget=10000", "--window-size=800,600", f"--screenshot={shot}",
             "file://" + page],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env, timeout=120)
        self.assertTrue(os.path.exists(shot), proc.stderr.decode(errors="replace")[-2000:])
        return read_png(shot)

    def test_each_template_draws_offline(self):
        for template, (f, _, _) in PLOTS.items():
            with self.subTest(template=template):
                out = os.path.join(self.tmp, "page-" + template)
                self.dvx("plots", "show", "--offline", "-o", out, f, env={"DVX_VEGA_DIR": self.vega})
                width, height, rows = self.screenshot(os.path.join(out, "index.html"), template)
                self.assertEqual((width, height), (800, 600))
                # the chart's plot area (the page's first chart, left of its legend)
                drawn = coloured_pixels(rows, 30, 20, 330, 340)
                self.assertGreater(drawn, 150, f"{template}: no chart drawn ({drawn} coloured pixels)")

    def test_cdn_page_draws_nothing_without_network(self):
        out = os.path.join(self.tmp, "page-cdn")
        self.dvx("plots", "show", "-o", out, "loss.csv")
        with open(os.path.join(out, "index.html")) as fh:
            self.assertIn("cdn.jsdelivr.net", fh.read())
        _, _, rows = self.screenshot(os.path.join(out, "index.html"), "cdn")
        self.assertLess(coloured_pixels(rows, 0, 0, 800, 600), 20)


if __name__ == "__main__":
    unittest.main()
