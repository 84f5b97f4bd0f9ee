"""Tests of the benchmark harness's own logic (bench/run.py, bench/floor/cp_layout.c): what it
reports must follow from what it measured. No timing is asserted."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import gen  # noqa: E402
import run  # noqa: E402


def result(ds, tool, op, median):
    return {"dataset": ds, "tool": tool, "op": op, "median_s": median, "min_s": median,
            "max_s": median, "times_s": [median], "peak_rss_kb": 1000, "reps": 1}


def doc_with(results, files=(10_000, 1_000_000)):
    return {"datasets": [{"key": f"many-{n}x1024", "label": "", "kind": "many", "files": n, "size": 1024}
                         for n in files],
            "results": results}


class GrowthRows(unittest.TestCase):
    def rows(self, results):
        return [r for r in run.build_rows(doc_with(results)) if "growth / floor" in r["op"]]

    def test_relative_growth_uses_the_layout_floor(self):
        a, b = "many-10000x1024", "many-1000000x1024"
        rows = self.rows([
            result(a, "dvx", "add", 0.2), result(b, "dvx", "add", 36.0),       # 1.8x per file
            result(a, "floor", "cp-layout", 0.25), result(b, "floor", "cp-layout", 37.5),  # 1.5x
            result(a, "floor", "cp", 0.1), result(b, "floor", "cp", 10.0),     # 1.0x: not used
        ])
        add = next(r for r in rows if r["op"].startswith("add"))
        self.assertAlmostEqual(add["ratio"], 1.8 / 1.5)
        self.assertEqual(add["limit"], run.GROWTH_REL_LIMIT)
        self.assertIs(add["met"], 1.8 / 1.5 <= run.GROWTH_REL_LIMIT)
        self.assertIn("256 folders", add["floor_label"])

    def test_not_met_when_dvx_grows_faster_than_its_floor(self):
        a, b = "many-10000x1024", "many-1000000x1024"
        rows = self.rows([
            result(a, "dvx", "status", 0.02), result(b, "dvx", "status", 6.0),  # 3x per file
            result(a, "floor", "lstat", 0.02), result(b, "floor", "lstat", 2.0),  # 1x
        ])
        st = next(r for r in rows if r["op"].startswith("status"))
        self.assertAlmostEqual(st["ratio"], 3.0)
        self.assertFalse(st["met"])

    def test_falls_back_to_cp_without_the_layout_floor(self):
        a, b = "many-10000x1024", "many-1000000x1024"
        rows = self.rows([
            result(a, "dvx", "add", 0.2), result(b, "dvx", "add", 20.0),
            result(a, "floor", "cp", 0.2), result(b, "floor", "cp", 20.0),
        ])
        add = next(r for r in rows if r["op"].startswith("add"))
        self.assertAlmostEqual(add["ratio"], 1.0)
        self.assertEqual(add["floor_label"], "cp -r")
        self.assertTrue(add["met"])


class CpLayout(unittest.TestCase):
    def test_copies_every_file_into_256_folders(self):
        cc = shutil.which("cc") or shutil.which("gcc")
        if not cc:
            self.skipTest("no C compiler")
        with tempfile.TemporaryDirectory() as tmp:
            src, dst, exe = (os.path.join(tmp, n) for n in ("src", "dst", "cp_layout"))
            subprocess.run([cc, "-O2", "-o", exe, os.path.join(ROOT, "bench", "floor", "cp_layout.c")],
                           check=True)
            gen.gen_many(src, 500, 3000, 7)
            subprocess.run([exe, src, dst], check=True)
            self.assertEqual(sorted(os.listdir(dst)), [f"{i:02x}" for i in range(256)])
            copied, wanted = [], []
            for d, _, files in os.walk(dst):
                for f in files:
                    self.assertEqual(len(f), 30)
                    with open(os.path.join(d, f), "rb") as fh:
                        copied.append(fh.read())
            for d, _, files in os.walk(src):
                for f in files:
                    with open(os.path.join(d, f), "rb") as fh:
                        wanted.append(fh.read())
            self.assertEqual(len(copied), 500)
            self.assertEqual(sorted(copied), sorted(wanted))
            # a second run into the same folder refuses (never overwrites)
            self.assertNotEqual(subprocess.run([exe, src, dst], capture_output=True).returncode, 0)


if __name__ == "__main__":
    unittest.main()
