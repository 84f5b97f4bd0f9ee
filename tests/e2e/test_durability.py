"""Durability against power loss (issue 14, platform/durable.h): the data dvx writes reaches the
disk before the rename that publishes it, and each command ends with one syncfs(2). A power cut
cannot be staged here, so the test checks the order of the system calls under strace: every
rename (or hard link) that publishes a file dvx wrote (a cache object, a staged prefix folder of objects, a
.dvc file, dvc.lock, a workspace copy, a pulled object) comes after a write-out
(sync_file_range/fdatasync/fsync) of every file it publishes, and a syncfs follows the last one.
It is off by default (it costs ~1.4x on a 100k-file add, over the 10% a default may cost);
`core.fsync true` or DVX_FSYNC=1 turn it on, and these tests do (DVX_FSYNC from the caller's
environment wins, so `DVX_FSYNC=0` shows that they fail without it)."""

import os
import re
import shutil
import subprocess

import dvxtest

STRACE = shutil.which("strace")
LINE = re.compile(r"^\d+\s+(\w+)\((.*)\)\s+=\s+(-?\d+)")
FD_PATH = re.compile(r"^\d+<(.*?)>")
RESUMED = re.compile(r"^\d+\s+<\.\.\. \w+ resumed>(.*)$")
QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


@dvxtest.unittest.skipUnless(STRACE, "strace is not installed")
class Durability(dvxtest.DvxTestCase):
    def setUp(self):
        super().setUp()
        self.make_repo()
        self.env["DVX_FSYNC"] = os.environ.get("DVX_FSYNC", "1")
        for i in range(40):
            self.write(f"data/f{i:02}.txt", f"file {i}\n" * (i + 1))
        self.write("model.bin", os.urandom(300_000))

    def traced(self, *args, env=None):
        """Runs dvx under strace; returns [(syscall, args, result)] in order."""
        trace = os.path.join(self.tmp, "trace.txt")
        full_env = dict(self.env, **(env or {}))
        proc = subprocess.run([STRACE, "-f", "-qq", "-y", "-o", trace, "-e",
                               "trace=sync_file_range,fsync,fdatasync,syncfs,rename,renameat,renameat2,link,linkat,openat",
                               dvxtest.DVX_BIN, *args], cwd=self.repo, env=full_env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        calls = []
        pending = {}  # pid -> the first half of a call another thread's line interrupted
        with open(trace, encoding="utf-8", errors="replace") as f:
            for line in f:
                line = line.rstrip("\n")
                pid = line.split(" ", 1)[0]
                if line.endswith("<unfinished ...>"):
                    pending[pid] = line[: -len("<unfinished ...>")].rstrip()
                    continue
                r = RESUMED.match(line)
                if r and pid in pending:
                    line = pending.pop(pid) + r.group(1)
                m = LINE.match(line)
                if m and m.group(3) != "-1":
                    calls.append((m.group(1), m.group(2)))
        return calls

    def check_order(self, calls, published):
        """Each rename whose target `published(target)` accepts comes after a write-out of the
        file it renames (for a folder: of every file inside it) — its own, or a syncfs after the
        file was created; a syncfs follows the last."""
        flushed = set()
        created = {}  # path -> index of the openat that created it
        syncs = []    # indexes of syncfs calls

        def written_out(path, before):
            return path in flushed or any(created.get(path, before) < k < before for k in syncs)
        checked = 0
        last_rename = -1
        # Files that a rename or link of their own put in place (a folder published earlier may
        # gain more files later: those are checked by their own rename, not as the folder's).
        own = set()
        for name, args in calls:
            if name.startswith("rename") or name in ("link", "linkat"):
                paths = QUOTED.findall(args)
                if len(paths) == 2:
                    own.add(paths[1])
        for i, (name, args) in enumerate(calls):
            if name in ("sync_file_range", "fsync", "fdatasync"):
                m = FD_PATH.match(args)
                if m:
                    flushed.add(m.group(1))
            elif name == "openat":
                paths = QUOTED.findall(args)
                if paths and "O_CREAT" in args:
                    created.setdefault(paths[0], i)
            elif name == "syncfs":
                syncs.append(i)
            elif name.startswith("rename") or name in ("link", "linkat"):  # a hard link publishes too
                paths = QUOTED.findall(args)
                if len(paths) != 2 or not published(paths[1]):
                    continue
                src, dst = paths
                members = [p for p in set(flushed) | set(created) if p.startswith(src + "/") and written_out(p, i)]
                is_dir = os.path.isdir(dst)
                if is_dir:
                    self.assertTrue(members, f"{dst}: a folder published with no file in it written out")
                    for root, _, files in os.walk(dst):
                        for fn in files:
                            if os.path.join(root, fn) in own:
                                continue
                            staged = src + os.path.relpath(os.path.join(root, fn), dst).join(["/", ""])
                            self.assertTrue(written_out(staged, i), f"{staged} published in {dst} before it was written out")
                else:
                    self.assertTrue(written_out(src, i), f"{dst} published (renamed from {src}) before it was written out")
                checked += 1
                last_rename = i
        self.assertGreater(checked, 0, "no publishing rename seen")
        self.assertTrue(any(n == "syncfs" for n, _ in calls[last_rename + 1:]),
                        "no syncfs after the last publishing rename")
        return checked

    def in_cache(self, path):
        return "/.dvc/cache/" in path and "/." not in path.split("/.dvc/cache/")[1]

    def test_add_publishes_only_written_out_data(self):
        calls = self.traced("add", "data", "model.bin")
        n = self.check_order(calls, lambda p: self.in_cache(p) or p.endswith(".dvc"))
        self.assertGreaterEqual(n, 3)  # object folders/files and the two .dvc files
        self.assertTrue(self.exists("data.dvc") and self.exists("model.bin.dvc"))

    def test_add_into_an_existing_cache_and_lock_file(self):
        self.dvx("add", "data")
        self.write("data/new.txt", "new\n")
        self.write("dvc.yaml", "stages:\n  s:\n    cmd: cp model.bin out.bin\n    deps:\n    - model.bin\n"
                               "    outs:\n    - out.bin\n")
        calls = self.traced("add", "data")
        self.check_order(calls, lambda p: self.in_cache(p) or p.endswith(".dvc"))
        calls = self.traced("repro")
        self.check_order(calls, lambda p: self.in_cache(p) or p.endswith("/dvc.lock"))
        self.assertTrue(self.exists("dvc.lock"))

    def test_hardlinked_objects_are_written_out_too(self):
        self.dvx("config", "cache.type", "hardlink")
        calls = self.traced("add", "model.bin")
        self.check_order(calls, lambda p: self.in_cache(p) or p.endswith(".dvc"))

    def test_checkout_and_pull(self):
        remote = os.path.join(self.tmp, "remote")
        self.dvx("remote", "add", "-d", "store", remote)
        self.dvx("add", "data", "model.bin")
        self.dvx("push")
        shutil.rmtree(self.p("data"))
        os.remove(self.p("model.bin"))
        calls = self.traced("checkout")
        self.check_order(calls, lambda p: p.startswith(self.repo + "/data") or p.endswith("/model.bin"))
        self.assertEqual(self.read("data/f03.txt"), b"file 3\n" * 4)
        shutil.rmtree(self.p(".dvc", "cache"))
        calls = self.traced("pull")
        self.check_order(calls, lambda p: self.in_cache(p))

    def test_off_by_default_and_turned_on_by_config(self):
        del self.env["DVX_FSYNC"]
        syncs = lambda calls: [c for c in calls if c[0] in ("sync_file_range", "syncfs")]
        self.assertFalse(syncs(self.traced("add", "data")))
        self.dvx("config", "core.fsync", "true")
        self.write("model.bin", b"changed")
        calls = self.traced("add", "model.bin")
        self.check_order(calls, lambda p: self.in_cache(p) or p.endswith(".dvc"))
        # the environment overrides the config either way
        self.write("model.bin", b"changed again")
        self.assertFalse(syncs(self.traced("add", "model.bin", env={"DVX_FSYNC": "0"})))


if __name__ == "__main__":
    dvxtest.main()
