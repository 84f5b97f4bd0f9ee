"""Crash safety: `dvx add`, `commit`, `checkout`, `checkout -f`, `push`, `pull`, `fetch`,
`gc -w -f`, `remove` and `move` are SIGKILLed at random moments.

Each trial runs one command on a directory of ~200 small files + one 20 MB file in a fresh repo,
kills it after a random delay in [0, duration of an uncut run], then checks:

* no corrupt object in the cache or the remote: every file named like an object
  (files/md5/xx/<30 hex>[.dir]) hashes to its name (".dir" objects without the suffix) and is
  read-only; anything else in an object folder is a temp file (".<random>.tmp"), never a name
  that could be taken for an object;
* for fetch (into an empty cache, where downloads go through a hidden staging tree): no object
  appears in the cache unless complete and verified;
* no workspace data lost: for add and push, the source files still exist with their original
  content; for checkout, each file is either absent or byte-identical;
* a .dvc file is only ever written once everything it references is in the cache;
* the NEXT command completes: the same command re-run exits 0, then `dvx status --json` is `{}`
  (and `dvx status -c --json` is `{}` after push), with the .dvc file recording exactly the
  original directory;
* `dvx fsck` finds the cache sound right after the kill and after the re-run.

Knobs (environment): DVX_CRASH_TRIALS = trials per command (default 6, so 60 in total),
DVX_CRASH_SEED = random seed (default: random, printed on failure).
`./dev soak N` (tests/crash/run_crash_trials.sh) runs N trials in all, spread over the commands.
"""

import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import unittest

import dvxtest
from dvxtest import dir_manifest, md5_bytes

TRIALS = int(os.environ.get("DVX_CRASH_TRIALS", "6"))
SEED = int(os.environ.get("DVX_CRASH_SEED") or random.SystemRandom().randrange(1 << 32))
N_SMALL = 200
BIG_SIZE = 20 << 20

OBJECT_DIR_RE = re.compile(r"[0-9a-f]{2}")
OBJECT_RE = re.compile(r"[0-9a-f]{30}(\.dir)?")
# platform::temp_path_beside: "." + 22 chars of [A-Za-z0-9-_] + ".tmp".
TEMP_RE = re.compile(r"\.[A-Za-z0-9_-]{22}\.tmp")


def make_dataset(root):
    """Writes the dataset under root/data; returns {relpath: bytes-md5} and the .dir oid."""
    rng = random.Random(1234)
    files = {}
    for i in range(N_SMALL):
        rel = f"sub{i % 7}/f{i:03d}.txt" if i % 3 else f"f{i:03d}.txt"
        content = (f"file {i}\n" * (1 + i % 50)).encode() + rng.randbytes(i % 17)
        files[rel] = content
    files["big.bin"] = rng.randbytes(BIG_SIZE)
    expected = {}
    for rel, content in files.items():
        path = os.path.join(root, "data", rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(content)
        expected[rel] = md5_bytes(content)
    dir_oid = md5_bytes(dir_manifest(expected)) + ".dir"
    return expected, dir_oid


class CrashTrials(dvxtest.DvxTestCase):
    """One test per command; each runs TRIALS killed runs (plus one uncut calibration run)."""

    @classmethod
    def setUpClass(cls):
        cls.template = os.path.realpath(__import__("tempfile").mkdtemp(prefix="dvx-crash-template-"))
        cls.expected, cls.dir_oid = make_dataset(cls.template)
        cls.stats = {}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.template, ignore_errors=True)
        if cls.stats:
            sys.stderr.write(f"\n[crash] seed {SEED}: " + "; ".join(
                f"{k}: {v['killed']} killed / {v['finished']} finished before the kill, "
                f"{v['temps']} temp files left, {v['bug']} known-bug hits"
                for k, v in sorted(cls.stats.items())) + "\n")

    def setUp(self):
        super().setUp()
        self.rng = random.Random(f"{SEED}-{self._testMethodName}")

    # ------------------------------------------------------------------ helpers

    def new_trial_repo(self, k, added=False):
        """A fresh repo <tmp>/trial-<k> holding data/ (and, when `added`, what an uncut
        `dvx add data` left: cache, data.dvc, .gitignore), with remote <tmp>/remote-<k>."""
        repo = os.path.join(self.tmp, f"trial-{k}")
        self.repo = repo
        self.remote = os.path.join(self.tmp, f"remote-{k}")
        self.md5_memo = {}
        if added:
            # Copying a repo made once is much cheaper than running `dvx add` per trial.
            shutil.copytree(self.added_template(), repo, symlinks=True)
        else:
            self.make_repo(repo, commit=False)
            shutil.copytree(os.path.join(self.template, "data"), os.path.join(repo, "data"))
        self.write(self.p(".dvc", "config"),
                   "[core]\n    remote = store\n['remote \"store\"']\n"
                   f"    url = {self.remote}\n")
        return repo

    def added_template(self):
        path = os.path.join(self.template, "added")
        if not os.path.isdir(path):
            saved = self.repo
            self.make_repo(path, commit=False)
            shutil.copytree(os.path.join(self.template, "data"), os.path.join(path, "data"))
            self.dvx("add", "data", cwd=path)
            self.repo = path
            self.check_dvc_file("template", must_exist=True)
            self.repo = saved
        return path

    def drop_trial(self, repo):
        shutil.rmtree(repo, onerror=dvxtest._rm_onerror)
        shutil.rmtree(self.remote, onerror=dvxtest._rm_onerror)

    def run_killed(self, args, delay):
        """Starts dvx, SIGKILLs it (and its process group) after `delay` s; returns
        (finished_before_kill, returncode, seconds)."""
        start = time.monotonic()
        proc = subprocess.Popen([dvxtest.DVX_BIN, *args], cwd=self.repo, env=self.env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            proc.wait(timeout=delay)
            return True, proc.returncode, time.monotonic() - start
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        return proc.returncode != -signal.SIGKILL, proc.returncode, time.monotonic() - start

    def calibrate(self, args, added, setup=lambda: None):
        """Duration of an uncut run of `args`: the faster of two runs."""
        durations = []
        for k in ("cal-a", "cal-b"):
            repo = self.new_trial_repo(k, added)
            setup()
            t0 = time.monotonic()
            self.dvx(*args)
            durations.append(time.monotonic() - t0)
            self.drop_trial(repo)
        return min(durations)

    def md5_path(self, path):
        """md5 of a file, memoised per trial by (inode, size, mtime, ctime): objects are
        re-checked many times and the 20 MB one dominates the run time otherwise."""
        st = os.stat(path)
        key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        if key not in self.md5_memo:
            self.md5_memo[key] = dvxtest.md5_file(path)
        return self.md5_memo[key]

    def check_odb(self, root, what):
        """Every object-named file hashes to its name; the rest are temp files. Returns
        (set of object names 'xx/yyyy', number of temp files)."""
        objects, temps = set(), 0
        base = os.path.join(root, "files", "md5")
        if not os.path.isdir(base):
            return objects, temps
        for d in os.listdir(base):
            full = os.path.join(base, d)
            if TEMP_RE.fullmatch(d) and os.path.isfile(full):
                temps += 1  # a large file being copied into the cache while hashed (staging)
                continue
            self.assertTrue(OBJECT_DIR_RE.fullmatch(d) and os.path.isdir(full),
                            f"{what}: unexpected entry {full}")
            for name in os.listdir(full):
                path = os.path.join(full, name)
                if OBJECT_RE.fullmatch(name):
                    self.assertTrue(os.path.isfile(path) and not os.path.islink(path),
                                    f"{what}: {path} is not a regular file")
                    self.assertEqual(self.md5_path(path), d + name[:30], f"{what}: corrupt object {path}")
                    self.assertEqual(self.mode(path), 0o444, f"{what}: object {path} is writable")
                    objects.add(f"{d}/{name}")
                else:
                    self.assertRegex(name, TEMP_RE, f"{what}: unexpected file {path}")
                    temps += 1
        return objects, temps

    def all_objects(self):
        return {f"{o[:2]}/{o[2:]}" for o in set(self.expected.values()) | {self.dir_oid}}

    def check_source_intact(self, what):
        """For add/push: every source file is there with its original content."""
        for rel, md5 in self.expected.items():
            path = self.p("data", rel)
            self.assertTrue(os.path.isfile(path), f"{what}: workspace file data/{rel} lost")
            self.assertEqual(self.md5_path(path), md5, f"{what}: workspace file data/{rel} changed")

    def workspace_extras(self):
        """Files under data/ that are not part of the dataset (e.g. temp files)."""
        out = []
        root = self.p("data")
        for dirpath, _, files in os.walk(root):
            for f in files:
                rel = os.path.relpath(os.path.join(dirpath, f), root)
                if rel not in self.expected:
                    out.append(rel)
        return sorted(out)

    def check_dvc_file(self, what, must_exist):
        """data.dvc, when present, records the dataset and everything it references is cached."""
        path = self.p("data.dvc")
        if not os.path.exists(path):
            self.assertFalse(must_exist, f"{what}: data.dvc missing")
            return
        text = self.read(path).decode()
        self.assertIn(f"- md5: {self.dir_oid}\n", text, f"{what}: data.dvc records another tree:\n{text}")
        self.assertIn(f"  nfiles: {len(self.expected)}\n", text)
        cached, _ = self.check_odb(self.p(".dvc", "cache"), what)
        self.assertLessEqual(self.all_objects(), cached,
                             f"{what}: data.dvc written before all its objects were cached")

    def assertFsckClean(self, what, missing_ok=False):
        """fsck finds nothing wrong (with missing_ok: only objects not fetched yet)."""
        code, out, err = self.run("fsck", "--json")
        try:
            report = json.loads(out)
        except ValueError:
            self.fail(f"{what}: fsck printed no JSON:\n{out}{err}")
        problems = [p for p in report["problems"] if not (missing_ok and p["kind"] == "missing")]
        self.assertEqual(problems, [], f"{what}: fsck found problems")
        if not problems:
            self.assertEqual(code, 0 if not report["problems"] else 1, what)

    def status_json(self, *extra):
        return self.json_out("status", *extra, "--json")

    def record(self, cmd, finished, temps, bug_hit=False):
        s = self.stats.setdefault(cmd, {"killed": 0, "finished": 0, "temps": 0, "bug": 0})
        s["finished" if finished else "killed"] += 1
        s["temps"] += temps
        s["bug"] += int(bug_hit)

    def trial_label(self, cmd, k, delay):
        return f"{cmd} trial {k} (seed {SEED}, delay {delay * 1000:.1f} ms)"

    # ------------------------------------------------------------------ the trials

    def kill_trials(self, argv, added, check, setup=None, missing_ok=False):
        """TRIALS runs of `dvx argv`, each in a fresh trial repo (after `setup`), SIGKILLed at a
        random moment within its calibrated duration; check(what, finished) then inspects what the
        kill left, re-runs the command and returns the leftovers to record. A run that finished
        before its kill is tried again (fresh repo) with half the delay, so that the trials are
        really cut mid-run; the test fails when none was."""
        setup = setup or (lambda: None)
        duration = self.calibrate(argv, added=added, setup=setup)
        killed = 0
        for k in range(TRIALS):
            delay = self.rng.uniform(0, 0.9 * duration)
            for attempt in range(3):
                repo = self.new_trial_repo(k, added=added)
                setup()
                finished, code, _ = self.run_killed(argv, delay)
                if not finished or attempt == 2:
                    break
                self.assertEqual(code, 0, self.trial_label(argv[0], k, delay))
                self.drop_trial(repo)
                delay /= 2
            what = self.trial_label(" ".join(argv), k, delay)
            with self.subTest(trial=k, delay=delay):
                if finished:
                    self.assertEqual(code, 0, what)
                else:
                    self.assertEqual(code, -signal.SIGKILL, f"{what}: did not die of the SIGKILL")
                    killed += 1
                self.assertFsckClean(what + ", right after the kill", missing_ok)
                self.record(" ".join(argv), finished, check(what, finished))
                self.assertFsckClean(what + ", after the re-run")
            if not self._outcome_failed():
                self.drop_trial(repo)
        self.assertGreater(killed, 0, f"{argv[0]}: no trial was killed mid-run (uncut run {duration:.3f} s): "
                                      "the trials tested nothing")

    def test_add_killed(self):
        def check(what, finished):
            _, temps = self.check_odb(self.p(".dvc", "cache"), what)
            self.check_source_intact(what)
            self.assertEqual(self.workspace_extras(), [], f"{what}: files appeared in data/")
            self.check_dvc_file(what, must_exist=finished)
            # The next command: add again, then status.
            self.run("add", "data", check=True)
            self.check_source_intact(what + ", after re-run")
            self.check_dvc_file(what + ", after re-run", must_exist=True)
            cached, _ = self.check_odb(self.p(".dvc", "cache"), what + ", after re-run")
            self.assertLessEqual(self.all_objects(), cached)
            self.assertEqual(self.status_json(), {}, what)
            return temps

        self.kill_trials(["add", "data"], False, check)

    def test_checkout_killed(self):
        def check(what, finished):
            self.check_odb(self.p(".dvc", "cache"), what)
            # Each file is absent or byte-identical; note leftovers (temp files).
            for rel, md5 in self.expected.items():
                path = self.p("data", rel)
                if os.path.lexists(path):
                    self.assertEqual(self.md5_path(path), md5, f"{what}: data/{rel} has wrong content")
            extras = self.workspace_extras()
            for rel in extras:
                self.assertRegex(os.path.basename(rel), TEMP_RE, f"{what}: unexpected file data/{rel}")
            # The next command: checkout again, then status.
            code, out, err = self.run("checkout")
            self.assertEqual(code, 0, f"{what}: re-run failed (leftovers {extras}):\n{out}{err}")
            self.check_source_intact(what + ", after re-run")
            self.assertEqual(self.workspace_extras(), [], f"{what}: files left in data/ after re-run")
            self.assertEqual(self.status_json(), {}, what)
            return len(extras)

        self.kill_trials(["checkout"], True, check, setup=lambda: shutil.rmtree(self.p("data")))

    def test_push_killed(self):
        def check(what, finished):
            self.check_odb(self.p(".dvc", "cache"), what)
            pushed, temps = self.check_odb(self.remote, what + " (remote)")
            self.assertLessEqual(pushed, self.all_objects(), what)
            self.check_source_intact(what)
            # The next command: push again, then status -c.
            self.run("push", check=True)
            pushed, _ = self.check_odb(self.remote, what + " (remote), after re-run")
            self.assertEqual(pushed, self.all_objects(), what)
            self.assertEqual(self.status_json("-c"), {}, what)
            self.assertEqual(self.status_json(), {}, what)
            return temps

        self.kill_trials(["push"], True, check)

    def test_fetch_killed(self):
        def setup():
            # What the remote holds after an uncut push, and a cache emptied since.
            self.run("push", check=True)
            shutil.rmtree(self.p(".dvc", "cache"))

        def check(what, finished):
            cached, temps = self.check_odb(self.p(".dvc", "cache"), what)
            self.assertLessEqual(cached, self.all_objects(), what)
            self.check_source_intact(what)
            # The next command: fetch again, then status (workspace and remote in sync).
            self.run("fetch", check=True)
            cached, _ = self.check_odb(self.p(".dvc", "cache"), what + ", after re-run")
            self.assertEqual(cached, self.all_objects(), what)
            self.assertEqual(self.status_json(), {}, what)
            self.assertEqual(self.status_json("-c"), {}, what)
            return temps

        # the setup emptied the cache: objects not fetched yet are missing, none may be corrupt
        self.kill_trials(["fetch"], True, check, setup=setup, missing_ok=True)

    def modify_some(self):
        """Changes 5 files of data/ (new content, written whole); returns {rel: new md5}."""
        changed = {}
        for i, rel in enumerate(sorted(self.expected)[:5]):
            path = self.p("data", rel)
            os.chmod(path, 0o644) if os.path.exists(path) else None
            content = f"changed {i}\n".encode()
            tmp = path + ".x"
            with open(tmp, "wb") as f:
                f.write(content)
            os.replace(tmp, path)
            changed[rel] = md5_bytes(content)
        return changed

    def check_files(self, what, expected, allow_missing=False, alternatives=None):
        """Every data/ file has its expected content (or, when listed, an alternative one);
        absent only with allow_missing."""
        for rel, md5 in expected.items():
            path = self.p("data", rel)
            if not os.path.lexists(path):
                self.assertTrue(allow_missing, f"{what}: data/{rel} lost")
                continue
            got = self.md5_path(path)
            ok = {md5} | ({alternatives[rel]} if alternatives and rel in alternatives else set())
            self.assertIn(got, ok, f"{what}: data/{rel} has other content")

    def test_commit_killed(self):
        state = {}

        def setup():
            state["changed"] = self.modify_some()

        def check(what, finished):
            self.check_odb(self.p(".dvc", "cache"), what)
            now = dict(self.expected, **state["changed"])
            self.check_files(what, now)  # commit never touches the workspace's bytes
            self.run("commit", "-f", "data.dvc", check=True)
            self.check_files(what + ", after re-run", now)
            self.assertEqual(self.status_json(), {}, what)
            return 0

        self.kill_trials(["commit", "-f", "data.dvc"], True, check, setup=setup)

    def test_checkout_force_killed(self):
        state = {}

        def setup():
            state["changed"] = self.modify_some()

        def check(what, finished):
            self.check_odb(self.p(".dvc", "cache"), what)
            # each file: the user's changed version, the recorded one, or absent while replaced
            self.check_files(what, self.expected, allow_missing=True, alternatives=state["changed"])
            self.run("checkout", "-f", check=True)
            self.check_source_intact(what + ", after re-run")
            self.assertEqual(self.workspace_extras(), [], what)
            self.assertEqual(self.status_json(), {}, what)
            return 0

        self.kill_trials(["checkout", "-f"], True, check, setup=setup)

    def test_pull_killed(self):
        def setup():
            self.run("push", check=True)
            shutil.rmtree(self.p(".dvc", "cache"))
            shutil.rmtree(self.p("data"))

        def check(what, finished):
            cached, temps = self.check_odb(self.p(".dvc", "cache"), what)
            self.assertLessEqual(cached, self.all_objects(), what)
            self.check_files(what, self.expected, allow_missing=True)
            self.run("pull", check=True)
            self.check_source_intact(what + ", after re-run")
            self.assertEqual(self.status_json(), {}, what)
            return temps

        self.kill_trials(["pull"], True, check, setup=setup, missing_ok=True)

    def test_gc_killed(self):
        garbage = []

        def setup():
            garbage.clear()
            for j in range(300):
                content = f"garbage {j}\n".encode()
                oid = md5_bytes(content)
                path = self.cache_path(oid)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as f:
                    f.write(content)
                os.chmod(path, 0o444)
                garbage.append(f"{oid[:2]}/{oid[2:]}")

        def check(what, finished):
            cached, _ = self.check_odb(self.p(".dvc", "cache"), what)
            self.assertLessEqual(self.all_objects(), cached, f"{what}: gc deleted objects in use")
            self.check_source_intact(what)
            self.run("gc", "-w", "-f", check=True)
            cached, _ = self.check_odb(self.p(".dvc", "cache"), what + ", after re-run")
            self.assertEqual(cached, self.all_objects(), what)
            self.assertEqual(self.status_json(), {}, what)
            return 0

        self.kill_trials(["gc", "-w", "-f"], True, check, setup=setup)

    def test_remove_killed(self):
        def check(what, finished):
            self.check_odb(self.p(".dvc", "cache"), what)
            self.check_source_intact(what)  # remove keeps the data
            if os.path.exists(self.p("data.dvc")):
                self.check_dvc_file(what, must_exist=True)
                self.run("remove", "data.dvc", check=True)
            self.assertFalse(os.path.exists(self.p("data.dvc")), what)
            self.check_source_intact(what + ", after re-run")
            gi = self.read(".gitignore").decode() if os.path.exists(self.p(".gitignore")) else ""
            self.assertNotIn("/data", gi, f"{what}: .gitignore still ignores the removed output")
            return 0

        self.kill_trials(["remove", "data.dvc"], True, check)

    def test_move_killed(self):
        def check(what, finished):
            self.check_odb(self.p(".dvc", "cache"), what)
            # the data is whole in exactly one place
            old, new = os.path.exists(self.p("data")), os.path.exists(self.p("moved"))
            self.assertNotEqual(old, new, f"{what}: data in both or neither place")
            if old:
                self.check_source_intact(what)
                self.run("move", "data", "moved", check=True)
            elif os.path.exists(self.p("data.dvc")):
                # the folder moved, its .dvc file not yet: the next move of the .dvc file's
                # output is not possible; the user moves the folder back and runs move again
                os.rename(self.p("moved"), self.p("data"))
                self.run("move", "data", "moved", check=True)
            self.assertFalse(os.path.exists(self.p("data.dvc")), what)
            text = self.read("moved.dvc").decode()
            self.assertIn(f"- md5: {self.dir_oid}\n", text, what)
            for rel, md5 in self.expected.items():
                self.assertEqual(self.md5_path(self.p("moved", rel)), md5, f"{what}: moved/{rel}")
            self.assertEqual(self.status_json(), {}, what)
            return 0

        self.kill_trials(["move", "data", "moved"], True, check)

    # ------------------------------------------------------------------ regressions, deterministic

    def test_checkout_after_killed_checkout_with_leftover_temp(self):
        # What a checkout SIGKILLed inside link_from_cache leaves: the temp copy of a file
        # beside its destination, created (O_EXCL) but not yet complete or renamed.
        self.new_trial_repo("leftover", added=True)
        shutil.rmtree(self.p("data"))
        os.makedirs(self.p("data", "sub1"))
        self.write(self.p("data", "sub1", ".AbCdEfGhIjKlMnOpQrStUv.tmp"), b"fil")  # partial
        self.write(self.p("data", ".0123456789abcdefghij-_.tmp"), b"")  # created, nothing copied
        code, out, err = self.run("checkout")
        self.assertEqual(code, 0, out + err)
        self.assertEqual(self.workspace_extras(), [])
        self.check_source_intact("checkout after leftovers")
        self.assertEqual(self.status_json(), {})

    def test_add_with_hardlink_cache_leaves_no_temp_files(self):
        self.new_trial_repo("hardlink")
        self.dvx("config", "cache.type", "hardlink")
        self.dvx("add", "data")
        self.assertEqual(self.workspace_extras(), [])
        self.check_dvc_file("add with hardlinks", must_exist=True)
        self.assertEqual(self.status_json(), {})
        self.assertEqual(os.stat(self.p("data", "big.bin")).st_ino,
                         os.stat(self.cache_path(self.expected["big.bin"])).st_ino)

    def _outcome_failed(self):
        return self._test_failed()


if __name__ == "__main__":
    dvxtest.main()
