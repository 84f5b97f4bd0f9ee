"""Run-cache (formats.md 11; behaviour.md 4): entries under .dvc/cache/runs, restore after a
revert, --no-run-cache, ineligible stages, push/pull --run-cache through a local remote."""

import hashlib
import json
import os
import shutil

import dvxtest

CMD = "echo ran >> runs.log && cat in.txt > out.txt"
DVC_YAML = f"stages:\n  s:\n    cmd: {CMD}\n    deps:\n    - in.txt\n    outs:\n    - out.txt\n"
HELLO_MD5 = "b1946ac92492d2347c6235b4d2611184"  # "hello\n"


def runcache_paths(cmd, deps, outs):
    """(key, value) of an entry: deps/outs = [(path, md5)] (formats.md 11)."""
    def dumps(obj):
        return json.dumps(obj, sort_keys=True)
    dep_list = [{"hash": "md5", "md5": m, "path": p} for p, m in deps]
    key_obj = {"cmd": cmd, "deps": dep_list, "outs": [p for p, _ in outs]}
    val_obj = {"cmd": cmd, "deps": dep_list,
               "outs": [{"hash": "md5", "md5": m, "path": p} for p, m in outs]}
    return (hashlib.sha256(dumps(key_obj).encode()).hexdigest(),
            hashlib.sha256(dumps(val_obj).encode()).hexdigest())


class RunCacheCase(dvxtest.DvxTestCase):
    def setUp(self):
        super().setUp()
        self.make_repo()
        self.write("in.txt", "hello\n")
        self.write("dvc.yaml", DVC_YAML)
        self.commit_all("pipeline")

    def runs(self):
        if not self.exists("runs.log"):
            return 0
        n = len(self.read("runs.log").split())
        os.remove(self.p("runs.log"))
        return n

    def run_files(self, cache=None):
        root = os.path.join(cache or self.p(".dvc", "cache"), "runs")
        out = set()
        for dirpath, _, files in os.walk(root):
            for f in files:
                out.add(os.path.relpath(os.path.join(dirpath, f), root))
        return out

    def entry_path(self, content):
        key, value = runcache_paths(CMD, [("in.txt", dvxtest.md5_bytes(content))],
                                    [("out.txt", dvxtest.md5_bytes(content))])
        return os.path.join(key[:2], key, value)


class TestRunCache(RunCacheCase):
    def test_entry_written_with_spec_key_and_content(self):
        self.dvx("repro")
        self.assertEqual(self.runs(), 1)
        rel = self.entry_path(b"hello\n")
        self.assertEqual(self.run_files(), {rel})
        self.assertFileBytes(os.path.join(".dvc", "cache", "runs", rel),
                             f"cmd: {CMD}\ndeps:\n- path: in.txt\n  hash: md5\n  md5: {HELLO_MD5}\n"
                             f"  size: 6\nouts:\n- path: out.txt\n  hash: md5\n"
                             f"  md5: {HELLO_MD5}\n  size: 6\n")

    def test_entry_that_cannot_be_written_is_a_warning(self):
        # run-cache entries are written by a background thread: a failure there does not fail
        # the stage, it is reported once the run ends, and dvc.lock and the outputs are complete
        os.makedirs(self.p(".dvc", "cache"), exist_ok=True)
        self.write(os.path.join(".dvc", "cache", "runs"), "not a folder\n")
        code, out, err = self.run("repro")
        self.assertEqual(code, 0, err)
        self.assertIn("failed to save a run-cache entry", err)
        self.assertFileBytes("out.txt", b"hello\n")
        self.assertIn(HELLO_MD5, self.read("dvc.lock").decode())
        self.assertEqual(self.run("status", "--json")[1].strip(), "{}")

    def test_revert_hits_run_cache(self):
        self.dvx("repro")
        self.write("in.txt", "world\n")
        self.dvx("repro")
        self.assertEqual(self.runs(), 2)
        self.assertEqual(len(self.run_files()), 2)
        self.write("in.txt", "hello\n")
        out = self.dvx("repro")
        self.assertEqual(self.runs(), 0)
        self.assertIn("Stage 's' is cached - skipping run, checking out outputs", out)
        self.assertFileBytes("out.txt", "hello\n")
        self.assertIn(f"md5: {HELLO_MD5}", self.read("dvc.lock").decode())
        self.assertEqual(self.json_out("status", "--json"), {})

    def test_no_run_cache_runs_the_command(self):
        self.dvx("repro")
        self.write("in.txt", "world\n")
        self.dvx("repro")
        self.write("in.txt", "hello\n")
        self.runs()
        out = self.dvx("repro", "--no-run-cache")
        self.assertEqual(self.runs(), 1)
        self.assertIn("Running stage 's':", out)

    def test_lock_restore_even_with_no_run_cache(self):
        # behaviour.md 4 [observed]: a deleted output matching the stage's own lock entry is
        # checked out even with --no-run-cache
        self.dvx("repro")
        self.runs()
        os.remove(self.p("out.txt"))
        out = self.dvx("repro", "--no-run-cache")
        self.assertEqual(self.runs(), 0)
        self.assertIn("Stage 's' is cached - skipping run, checking out outputs", out)
        self.assertFileBytes("out.txt", "hello\n")

    def test_force_ignores_run_cache(self):
        self.dvx("repro")
        self.runs()
        self.dvx("repro", "-f")
        self.assertEqual(self.runs(), 1)

    def test_from_scratch_uses_run_cache(self):
        self.dvx("repro")
        self.runs()
        os.remove(self.p("dvc.lock"))
        os.remove(self.p("out.txt"))
        out = self.dvx("repro")
        self.assertEqual(self.runs(), 0)
        self.assertIn("Stage 's' is cached - skipping run, checking out outputs", out)
        self.assertFileBytes("out.txt", "hello\n")

    def test_no_commit_saves_no_entry(self):
        self.dvx("repro", "--no-commit")
        self.assertEqual(self.run_files(), set())

    def test_ineligible_stages_not_cached(self):
        self.write("dvc.yaml", DVC_YAML
                   + "  always:\n    cmd: cat in.txt > a.txt\n    deps:\n    - in.txt\n"
                     "    outs:\n    - a.txt\n    always_changed: true\n"
                   + "  persist:\n    cmd: cat in.txt > p.txt\n    deps:\n    - in.txt\n"
                     "    outs:\n    - p.txt:\n        persist: true\n"
                   + "  nodeps:\n    cmd: echo x > n.txt\n    outs:\n    - n.txt\n"
                   + "  uncached:\n    cmd: cat in.txt > u.txt\n    deps:\n    - in.txt\n"
                     "    outs:\n    - u.txt:\n        cache: false\n")
        self.dvx("repro")
        self.assertEqual(self.run_files(), {self.entry_path(b"hello\n")})

    def test_push_pull_run_cache(self):
        remote = os.path.join(self.tmp, "remote")
        os.makedirs(remote)
        self.dvx("remote", "add", "-d", "r", remote)
        self.dvx("repro")
        self.runs()
        self.dvx("push", "--run-cache")
        entry = self.entry_path(b"hello\n")
        self.assertTrue(os.path.isfile(os.path.join(remote, "runs", entry)))
        # a fresh clone: the committed dvc.lock, no cache, no outputs
        shutil.rmtree(self.p(".dvc", "cache"), onerror=dvxtest._rm_onerror)
        os.remove(self.p("out.txt"))
        self.dvx("pull", "--run-cache")
        self.assertEqual(self.run_files(), {entry})
        self.assertFileBytes("out.txt", "hello\n")
        # without the lock entry the stage is restored from the pulled run-cache entry
        os.remove(self.p("dvc.lock"))
        os.remove(self.p("out.txt"))
        out = self.dvx("repro")
        self.assertEqual(self.runs(), 0)
        self.assertIn("Stage 's' is cached - skipping run, checking out outputs", out)
        self.assertFileBytes("out.txt", "hello\n")

    def test_fetch_run_cache_without_lock_fetches_entries_only(self):
        # [observed] DVC 3.64: `fetch --run-cache` without a dvc.lock brings the runs/ entries
        # but not the data they name, so repro runs the command
        remote = os.path.join(self.tmp, "remote")
        os.makedirs(remote)
        self.dvx("remote", "add", "-d", "r", remote)
        self.dvx("repro")
        self.runs()
        self.dvx("push", "--run-cache")
        shutil.rmtree(self.p(".dvc", "cache"), onerror=dvxtest._rm_onerror)
        os.remove(self.p("dvc.lock"))
        os.remove(self.p("out.txt"))
        self.dvx("fetch", "--run-cache")
        self.assertEqual(self.run_files(), {self.entry_path(b"hello\n")})
        self.assertEqual(self.cache_objects(), set())
        self.dvx("repro")
        self.assertEqual(self.runs(), 1)
        self.assertFileBytes("out.txt", "hello\n")

if __name__ == "__main__":
    dvxtest.main()
