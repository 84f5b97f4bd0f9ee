"""One conformance suite for every remote backend: the same push/pull/fetch/status/gc tests run
through the built dvx binary against each real test server in tests/servers/ (every module there
that defines BACKEND; interface in that folder's modules). DVX_REMOTE_BACKENDS=a,b runs only
those backends; a backend whose server cannot run here is skipped with the module's reason.

Each backend gets one server for its test class; every test uses a fresh, empty remote location
(`Server.new_remote`). Interruption tests stop the server while dvx is transferring (after dvx
has written a few MiB, read from /proc/<pid>/io) and start it again."""

import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

import dvxtest

SERVERS = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "servers"))
sys.path.insert(0, SERVERS)

MIB = 1 << 20


def server_modules():
    wanted = [b.strip() for b in os.environ.get("DVX_REMOTE_BACKENDS", "").split(",") if b.strip()]
    mods = []
    for name in sorted(os.listdir(SERVERS)):
        if not name.endswith(".py") or name == "common.py":
            continue
        mod = importlib.import_module(name[:-3])
        if not hasattr(mod, "BACKEND"):
            continue
        if wanted and mod.BACKEND not in wanted:
            continue
        mods.append(mod)
    return mods


def blob(seed, size):
    """Deterministic, incompressible-enough bytes."""
    import hashlib
    out = bytearray()
    block = hashlib.sha256(str(seed).encode()).digest() * 128  # 4 KiB
    i = 0
    while len(out) < size:
        out += hashlib.md5(block + i.to_bytes(8, "little")).digest() + block[: 4096 - 16]
        i += 1
    return bytes(out[:size])


class Conformance(dvxtest.DvxTestCase):
    MODULE = None  # set by the generated subclasses

    @classmethod
    def setUpClass(cls):
        reason = cls.MODULE.available()
        if reason:
            raise unittest.SkipTest(reason)
        cls.workdir = tempfile.mkdtemp(prefix=f"dvx-conf-{cls.MODULE.BACKEND}-")
        cls.server = cls.MODULE.Server(cls.workdir)
        try:
            cls.server.__enter__()
        except BaseException:
            shutil.rmtree(cls.workdir, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.server.__exit__(None, None, None)
        finally:
            shutil.rmtree(cls.workdir, ignore_errors=True)

    def setUp(self):
        super().setUp()
        self.env.update(self.server.env())
        self.secrets = []
        self._t0 = time.time()

    def tearDown(self):
        # a test that stopped the server must not leave it down for the next one
        if os.environ.get("DVX_CONFORMANCE_VERBOSE"):
            print(f"\n[{self.MODULE.BACKEND}] {self._testMethodName}: {time.time() - self._t0:.1f} s")
        try:
            self.restart()
        finally:
            super().tearDown()

    # ------------------------------------------------------------------ helpers

    def run(self, *args, **kw):
        code, out, err = super().run(*args, **kw)
        for s in self.secrets:
            self.assertNotIn(s, out + err, f"a secret was printed by dvx {' '.join(map(str, args))}")
        return code, out, err

    def project(self, files, tag):
        """A Git + dvx repo with `files` ({relpath: bytes}), each top-level entry added, and a fresh
        default remote; returns the remote's url."""
        self.init_git()
        self.dvx("init", "-q")
        for rel, data in files.items():
            self.write(self.p(rel), data)
        for top in sorted({rel.split("/")[0] for rel in files}):
            self.dvx("add", top)
        url, options = self.server.new_remote(tag)
        self.dvx("remote", "add", "-d", "r", url)
        for k, v in options.items():
            self.dvx("remote", "modify", "r", k, v)
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "data")
        return url

    def clone(self, name="clone"):
        dst = os.path.join(self.tmp, name)
        self.git("clone", "-q", self.repo, dst, cwd=self.tmp)
        return dst

    def assert_files(self, root, files):
        for rel, data in files.items():
            with open(os.path.join(root, rel), "rb") as f:
                self.assertEqual(f.read(), data, f"{rel} differs in {root}")

    def status_cloud(self, cwd=None):
        code, out, err = self.run("status", "-c", "--json", cwd=cwd)
        self.assertEqual(code, 0, err)
        return json.loads(out or "{}")

    def assert_cache_sound(self, cwd):
        code, out, err = self.run("fsck", "--json", cwd=cwd)
        self.assertIn(code, (0, 1), err)
        damaged = [p for p in json.loads(out)["problems"] if p["kind"] != "missing"]
        self.assertEqual(damaged, [], f"fsck found damaged cache objects:\n{out}\n{err}")

    def run_and_stop(self, args, cwd, after_bytes):
        """Runs dvx `args`; stops the server once dvx has written `after_bytes` (sockets or
        files). Returns (code, out, err, stopped_while_running)."""
        env = dict(self.env)
        proc = subprocess.Popen([dvxtest.DVX_BIN, *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        stopped = False
        deadline = time.time() + 60
        while proc.poll() is None and time.time() < deadline:
            try:
                with open(f"/proc/{proc.pid}/io") as f:
                    io = dict(line.split(": ") for line in f.read().splitlines())
                # file reads (push) and file writes (pull); socket traffic is not counted there
                if int(io["rchar"]) + int(io["wchar"]) >= after_bytes:
                    stopped = proc.poll() is None
                    self.server.stop()
                    self._down = True
                    break
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.002)
        out, err = proc.communicate(timeout=120)
        out, err = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
        for s in self.secrets:
            self.assertNotIn(s, out + err)
        return proc.returncode, out, err, stopped

    def restart(self):
        if getattr(self, "_down", False):
            self.server.start()
            self._down = False

    # ------------------------------------------------------------------ tests

    def test_round_trip_push_pull_fetch_status(self):
        files = {
            "data/a.txt": b"alpha\n",
            "data/sub/b.txt": b"beta\n" * 100,
            "data/sub dir/caf\u00e9 \u00fcn\u00efcode.txt": "unicode \u00e9\n".encode(),
            "my file \u00e9.txt": b"spaces and unicode in the name\n",
            "big.bin": blob("big", 20 * MIB + 12345),
        }
        self.project(files, "roundtrip")
        before = self.status_cloud()
        self.assertEqual(before, {rel: "new" for rel in [*files, "data"]}, before)
        code, out, err = self.run("push")
        self.assertEqual(code, 0, err)
        n = len(set(self.cache_objects()))
        self.assertEqual(out, f"{n} files pushed\n")
        self.assertEqual(self.status_cloud(), {})
        # unchanged data: nothing transferred
        code, out, err = self.run("push")
        self.assertEqual((code, out), (0, "Everything is up to date.\n"), err)

        clone = self.clone()
        self.assertTrue(self.status_cloud(cwd=clone))  # not in the clone's cache yet
        code, out, err = self.run("pull", cwd=clone)
        self.assertEqual(code, 0, err)
        self.assert_files(clone, files)
        self.assert_cache_sound(clone)

        clone2 = self.clone("clone2")
        code, out, err = self.run("fetch", cwd=clone2)
        self.assertEqual((code, out), (0, f"{n} files fetched\n"), err)
        self.assertFalse(os.path.exists(os.path.join(clone2, "big.bin")))
        self.dvx("checkout", cwd=clone2)
        self.assert_files(clone2, files)
        code, out, err = self.run("fetch", cwd=clone2)
        self.assertEqual((code, out), (0, "Everything is up to date.\n"), err)

    def test_many_small_files(self):
        files = {f"many/d{i % 7}/f{i:04d}.txt": f"small file {i}\n".encode() * (i % 3 + 1) for i in range(320)}
        self.project(files, "many")
        code, out, err = self.run("push")
        self.assertEqual(code, 0, err)
        self.assertEqual(out, "321 files pushed\n")  # 320 files and the .dir manifest
        clone = self.clone()
        code, out, err = self.run("pull", cwd=clone)
        self.assertEqual(code, 0, err)
        self.assert_files(clone, files)
        self.assertEqual(self.status_cloud(cwd=clone), {})

    def test_missing_object_on_pull(self):
        files = {"kept.txt": b"pushed\n", "lost.txt": b"never pushed\n", "dir/x.txt": b"x\n"}
        self.project(files, "missing")
        code, out, err = self.run("push", "kept.txt", "dir")
        self.assertEqual(code, 0, err)
        clone = self.clone()
        code, out, err = self.run("pull", cwd=clone)
        self.assertNotEqual(code, 0, out + err)
        self.assertIn("lost.txt", out + err)
        self.assertIn(dvxtest.md5_bytes(b"never pushed\n"), out + err)
        self.assert_files(clone, {"kept.txt": files["kept.txt"], "dir/x.txt": files["dir/x.txt"]})
        self.assertIn("lost.txt", json.dumps(self.status_cloud(cwd=clone)))  # still missing from the cache

    def test_wrong_credentials(self):
        files = {"f.txt": b"secret-protected\n"}
        self.project(files, "creds")
        good = dict(self.server.new_remote("creds-bad")[1])
        bad, secret = self.server.bad_credentials(good)
        if not secret:
            self.skipTest(f"{self.MODULE.BACKEND}: the test server does not check credentials")
        self.secrets.append(secret)
        for k, v in bad.items():
            self.dvx("remote", "modify", "--local", "r", k, v)
        for cmd in (("push",), ("status", "-c")):
            code, out, err = self.run(*cmd)
            self.assertNotEqual(code, 0, f"{cmd}: {out}{err}")
            self.assertIn("127.0.0.1", err, f"{cmd}: the error does not name the server")
            self.assertNotIn("Traceback", err)
        clone = self.clone()
        code, out, err = self.run("pull", cwd=clone)
        self.assertNotEqual(code, 0)

    def _interrupt_data(self):
        files = {f"big/{i}.bin": blob(f"part{i}", 6 * MIB) for i in range(5)}
        files.update({f"small/{i:03d}.txt": f"s{i}\n".encode() for i in range(60)})
        return files

    def interrupted(self, command, cwd):
        """Runs dvx `command` in `cwd` and stops the server during it: a clear error (naming the
        server), no damaged cache object; the server is started again. Returns whether the
        server really went away while dvx ran."""
        code, out, err, stopped = self.run_and_stop([command], cwd, 4 * MIB)
        if os.environ.get("DVX_CONFORMANCE_VERBOSE"):
            print(f"\n--- interrupted {command} ({self.MODULE.BACKEND}): exit {code}\n{out}{err}")
        if stopped:
            self.assertGreater(code, 0, f"dvx {command} succeeded or died of a signal: {code}\n{out}{err}")
            self.assertIn("127.0.0.1", err, "the error does not name the server")
            self.assertNotIn("Traceback", err)
        self.assert_cache_sound(cwd)
        self.restart()
        return stopped

    def test_server_stopped_during_push(self):
        if self.MODULE.BACKEND == "local":
            self.skipTest("a folder remote cannot be stopped")
        files = self._interrupt_data()
        self.project(files, "stoppush")
        stopped = self.interrupted("push", self.repo)
        code, out, err = self.run("push")
        self.assertEqual(code, 0, err)
        self.assertEqual(self.status_cloud(), {})
        clone = self.clone()
        code, out, err = self.run("pull", cwd=clone)
        self.assertEqual(code, 0, err)
        self.assert_files(clone, files)
        self.assertTrue(stopped, "the push ended before the server could be stopped")

    def test_server_stopped_during_pull(self):
        if self.MODULE.BACKEND == "local":
            self.skipTest("a folder remote cannot be stopped")
        files = self._interrupt_data()
        self.project(files, "stoppull")
        self.assertEqual(self.run("push")[0], 0)
        clone = self.clone()
        stopped = self.interrupted("pull", clone)
        if not self.MODULE.PERSISTENT:
            self.assertEqual(self.run("push")[0], 0)
        code, out, err = self.run("pull", cwd=clone)
        self.assertEqual(code, 0, err)
        self.assert_files(clone, files)
        self.assert_cache_sound(clone)
        self.assertTrue(stopped, "the pull ended before the server could be stopped")

    def test_corrupted_cache_object_is_not_pushed(self):
        # A small object and a large one (sent in parts or ranges, checked before they are sent
        # or before the upload is completed), each with one byte changed in the cache.
        big = blob("bigbad", 20 * MIB + 777)
        self.project({"good.txt": b"good\n", "bad.txt": b"bad\n", "bigbad.bin": big}, "corrupt")
        oids = [dvxtest.md5_bytes(b"bad\n"), dvxtest.md5_bytes(big)]
        for oid in oids:
            obj = self.p(".dvc/cache/files/md5/" + oid[:2] + "/" + oid[2:])
            os.chmod(obj, 0o644)
            with open(obj, "r+b") as f:
                f.seek(2)
                c = f.read(1)
                f.seek(2)
                f.write(bytes([c[0] ^ 0x55]))
        code, out, err = self.run("push")
        self.assertNotEqual(code, 0, out + err)
        for oid in oids:
            self.assertIn(oid, out + err)
        clone = self.clone()
        code, out, err = self.run("pull", cwd=clone)
        self.assertNotEqual(code, 0, out + err)  # neither reached the remote
        self.assert_files(clone, {"good.txt": b"good\n"})
        self.assertFalse(os.path.exists(os.path.join(clone, "bad.txt")))
        self.assertFalse(os.path.exists(os.path.join(clone, "bigbad.bin")))

    def test_gc_cloud_keeps_used_and_removes_unused(self):
        self.project({"v.txt": b"version 1\n", "keep/k.txt": b"kept\n"}, "gc")
        self.assertEqual(self.run("push")[0], 0)
        self.write(self.p("v.txt"), b"version 2\n")
        self.dvx("add", "v.txt")
        self.git("commit", "-q", "-am", "v2")
        self.assertEqual(self.run("push")[0], 0)
        code, out, err = self.run("gc", "-c", "-w", "-f")
        self.assertEqual(code, 0, err)
        clone = self.clone()
        code, out, err = self.run("pull", cwd=clone)
        self.assertEqual(code, 0, err)
        self.assert_files(clone, {"v.txt": b"version 2\n", "keep/k.txt": b"kept\n"})
        # the first version is gone from the remote: a clone at that commit cannot pull it
        old = self.clone("old")
        self.git("checkout", "-q", "HEAD~1", cwd=old)
        code, out, err = self.run("pull", cwd=old)
        self.assertNotEqual(code, 0, out + err)
        self.assertIn(dvxtest.md5_bytes(b"version 1\n"), out + err)
        self.assert_files(old, {"keep/k.txt": b"kept\n"})


def load_tests(loader, tests, pattern):
    suite = unittest.TestSuite()
    for mod in server_modules():
        cls = type(f"Conformance_{mod.BACKEND}", (Conformance,), {"MODULE": mod})
        globals()[cls.__name__] = cls
        suite.addTests(loader.loadTestsFromTestCase(cls))
    return suite


if __name__ == "__main__":
    unittest.main()
