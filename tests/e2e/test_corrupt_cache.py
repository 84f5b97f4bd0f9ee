"""Corrupted cache objects (bytes that no longer hash to the object's name) are detected where
dvx uses them, moved to the cache's quarantine, reported with the file and the hash, and never
spread: not checked out, not pushed. Re-adding the intact file or fetching repairs the cache.
Also: .dvc files with a negative size, a size that disagrees with the cache, or an unsupported
hash name are refused with a clear error."""

import os
import shutil

import dvxtest
from test_transfer import TransferBase

HELLO = "b1946ac92492d2347c6235b4d2611184"  # "hello\n"
WORLD = "591785b794601e212b260e25925636fd"  # "world\n"
FOO = "d3b07384d113edec49eaa6238ad5ff00"    # "foo\n"
BAD = b"evil\n"


class CorruptBase(TransferBase):
    """A repo with foo.txt and data/ (a.txt, sub/b.txt) tracked, and a local remote."""

    def corrupt(self, oid, content=BAD):
        """Overwrites the object's bytes in place (same inode, new mtime/ctime), still 0444."""
        self.put_object_as(oid, content)

    def quarantine(self):
        q = self.p(".dvc", "cache", ".quarantine")
        return sorted(os.listdir(q)) if os.path.isdir(q) else []

    def assertQuarantined(self, oid, restored=False):
        names = self.quarantine()
        self.assertTrue(any(n.startswith(oid + "-") for n in names), names)
        if not restored:
            self.assertFalse(os.path.exists(self.cache_path(oid)))
        # The quarantined file keeps the bad bytes for inspection.
        q = [n for n in names if n.startswith(oid + "-")][0]
        self.assertEqual(self.read(os.path.join(".dvc", "cache", ".quarantine", q)), BAD)

    def set_cache_type(self, t):
        self.dvx("config", "cache.type", t)


class TestCheckoutCopy(CorruptBase):
    def test_copy_checkout_detects_and_quarantines(self):
        self.set_cache_type("copy")
        self.wipe_workspace()
        self.corrupt(HELLO)
        code, out, err = self.run("checkout")
        self.assertEqual(code, 255, err)
        self.assertIn("WARNING: corrupted cache file", err)
        self.assertIn(HELLO, err)
        self.assertIn("data/a.txt", err)
        self.assertIn("Checkout failed for following targets:\ndata\n", err)
        self.assertQuarantined(HELLO)
        # The other output is checked out; the failed directory is not created half-filled.
        self.assertFileBytes(self.p("foo.txt"), b"foo\n")
        self.assertFalse(os.path.exists(self.p("data")))

    def test_copy_checkout_single_file(self):
        self.set_cache_type("copy")
        os.remove(self.p("foo.txt"))
        self.corrupt(FOO)
        code, out, err = self.run("checkout", "foo.txt")
        self.assertEqual(code, 255, err)
        self.assertIn("'foo.txt'", err)
        self.assertIn(FOO, err)
        self.assertFalse(os.path.exists(self.p("foo.txt")))
        self.assertQuarantined(FOO)

    def test_existing_directory_keeps_old_file(self):
        self.set_cache_type("copy")
        os.remove(self.p("data", "a.txt"))
        self.corrupt(HELLO)
        code, out, err = self.run("checkout")
        self.assertEqual(code, 255, err)
        self.assertFalse(os.path.exists(self.p("data", "a.txt")))
        self.assertFileBytes(self.p("data", "sub", "b.txt"), b"world\n")
        self.assertQuarantined(HELLO)

    def test_granular_checkout(self):
        # A path inside a tracked directory, by copy and by symlink.
        for t in ("copy", "symlink"):
            self.set_cache_type(t)
            os.remove(self.p("data", "a.txt"))
            self.corrupt(HELLO)
            code, out, err = self.run("checkout", "data/a.txt")
            self.assertEqual(code, 255, (t, err))
            self.assertIn(HELLO, err)
            self.assertIn("Checkout failed for following targets:\ndata/a.txt\n", err)
            self.assertFalse(os.path.lexists(self.p("data", "a.txt")))
            self.assertQuarantined(HELLO)
            self.write("data/a.txt", "hello\n")
            self.dvx("add", "data")  # repairs the object for the next round
            shutil.rmtree(self.p(".dvc", "cache", ".quarantine"))

    def test_quarantine_not_an_object(self):
        self.set_cache_type("copy")
        self.wipe_workspace()
        self.corrupt(HELLO)
        self.run("checkout", check=255)
        # gc keeps the used objects and does not count the quarantine as objects; it removes
        # the quarantined file (never used again).
        self.dvx("gc", "-w", "-f")
        self.assertEqual(self.quarantine(), [])
        for oid in (FOO, WORLD, self.dir):
            self.assertTrue(os.path.exists(self.cache_path(oid)))

    def test_pull_repairs(self):
        self.dvx("push")
        self.set_cache_type("copy")
        self.wipe_workspace()
        self.corrupt(HELLO)
        code, out, err = self.run("pull")
        self.assertEqual(code, 1, err)  # the checkout phase found the corrupted object
        self.assertIn("failed to pull data from the cloud", err)
        self.assertIn(HELLO, err)
        self.assertQuarantined(HELLO)
        # The quarantined object is absent: the next pull downloads it again.
        code, out, err = self.run("pull")
        self.assertEqual(code, 0, err)
        self.assertFileBytes(self.p("data", "a.txt"), b"hello\n")
        self.assertFileBytes(self.cache_path(HELLO), b"hello\n")

    def test_fetch_repairs_quarantined(self):
        self.dvx("push")
        self.set_cache_type("copy")
        os.remove(self.p("data", "a.txt"))
        self.corrupt(HELLO)
        self.run("checkout", check=255)
        code, out, err = self.run("fetch")
        self.assertEqual((code, out), (0, "1 file fetched\n"), err)
        self.dvx("checkout")
        self.assertFileBytes(self.p("data", "a.txt"), b"hello\n")


class TestCheckoutLinks(CorruptBase):
    def check_link_type(self, t):
        self.set_cache_type(t)
        self.wipe_workspace()
        # A checkout verifies each object once (state db) and records it...
        self.dvx("checkout")
        self.wipe_workspace()
        # ...so an object changed since then is hashed again before it is linked.
        self.corrupt(HELLO)
        code, out, err = self.run("checkout")
        self.assertEqual(code, 255, err)
        self.assertIn(HELLO, err)
        self.assertIn("data/a.txt", err)
        self.assertIn("Checkout failed for following targets:\ndata\n", err)
        self.assertQuarantined(HELLO)
        self.assertFalse(os.path.lexists(self.p("data")))
        self.assertFileBytes(self.p("foo.txt"), b"foo\n")

    def test_hardlink(self):
        self.check_link_type("hardlink")

    def test_symlink(self):
        self.check_link_type("symlink")

    def test_unknown_object_is_hashed(self):
        # Never recorded in the state db (written by hand): hashed once before it is linked.
        self.set_cache_type("symlink")
        self.corrupt(FOO)
        os.remove(self.p("foo.txt"))
        code, out, err = self.run("checkout", "foo.txt")
        self.assertEqual(code, 255, err)
        self.assertFalse(os.path.lexists(self.p("foo.txt")))
        self.assertQuarantined(FOO)

    def test_recorded_objects_are_not_reread(self):
        # An object recorded with its current stat is trusted: the state db decides. Replacing
        # its bytes behind dvx's back while keeping size, mtime and ctime is not possible from
        # a test without root, so this checks the positive side: a recorded object links fine
        # and nothing is quarantined.
        self.set_cache_type("hardlink")
        self.wipe_workspace()
        self.dvx("checkout")
        self.wipe_workspace()
        self.dvx("checkout")
        self.assertEqual(self.quarantine(), [])
        self.assertEqual(os.stat(self.p("foo.txt")).st_ino, os.stat(self.cache_path(FOO)).st_ino)


class TestCheckoutCopyLarge(CorruptBase):
    """Copy caches record large objects (>= 1 MiB) in the state db once verified: the next copy
    checkout copies them without reading them through MD5 again; changed bytes change the
    object's mtime, so a corrupted one is still caught."""

    def setUp(self):
        super().setUp()
        self.big = os.urandom(3 << 20)
        self.write("big.bin", self.big)
        self.set_cache_type("copy")
        self.dvx("add", "big.bin")
        import hashlib
        self.oid = hashlib.md5(self.big).hexdigest()

    def object_reads(self, *command):
        """Runs dvx (default `checkout big.bin`) under strace; the number of read calls on the
        object."""
        strace = shutil.which("strace")
        trace = os.path.join(self.tmp, "reads.txt")
        import subprocess
        proc = subprocess.run([strace, "-f", "-qq", "-y", "-o", trace, "-e", "trace=read,pread64",
                               dvxtest.DVX_BIN, *(command or ("checkout", "big.bin"))], cwd=self.repo, env=self.env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        rel = os.path.join(self.oid[:2], self.oid[2:])
        with open(trace, encoding="utf-8", errors="replace") as f:
            return sum(1 for line in f if rel + ">" in line)

    @dvxtest.unittest.skipUnless(shutil.which("strace"), "strace is not installed")
    def test_recorded_large_object_is_copied_without_hashing(self):
        os.remove(self.p("big.bin"))
        self.assertEqual(self.object_reads(), 0)  # recorded by add
        self.assertFileBytes(self.p("big.bin"), self.big)
        # Forgotten by the state db (a new clone, a deleted db): verified while copied, then
        # recorded, so the checkout after it reads nothing again.
        shutil.rmtree(self.p(".dvc", "tmp", "dvx"))
        os.remove(self.p("big.bin"))
        self.assertGreater(self.object_reads(), 0)
        self.assertFileBytes(self.p("big.bin"), self.big)
        os.remove(self.p("big.bin"))
        self.assertEqual(self.object_reads(), 0)
        self.assertFileBytes(self.p("big.bin"), self.big)

    @dvxtest.unittest.skipUnless(shutil.which("strace"), "strace is not installed")
    def test_push_and_pull_of_recorded_large_object(self):
        # Recorded at add: pushed as it is (a kernel copy, no read through MD5)...
        self.assertEqual(self.object_reads("push", "big.bin"), 0)
        self.assertFileBytes(os.path.join(self.remote, dvxtest.cache_rel(self.oid)), self.big)
        # ...and a pull hashes it while it downloads, so its checkout copies it as it is.
        shutil.rmtree(self.p(".dvc", "cache"))
        os.remove(self.p("big.bin"))
        self.dvx("fetch", "big.bin")
        self.assertEqual(self.object_reads(), 0)
        self.assertFileBytes(self.p("big.bin"), self.big)
        # A corrupted remote copy never enters the cache.
        shutil.rmtree(self.p(".dvc", "cache"))
        os.remove(self.p("big.bin"))
        bad = bytearray(self.big)
        bad[7] ^= 1
        path = os.path.join(self.remote, dvxtest.cache_rel(self.oid))
        os.chmod(path, 0o644)
        with open(path, "wb") as f:
            f.write(bad)
        code, out, err = self.run("pull", "big.bin")
        self.assertNotEqual(code, 0, err)
        self.assertFalse(os.path.exists(self.cache_path(self.oid)))
        self.assertFalse(os.path.exists(self.p("big.bin")))

    def test_corrupted_large_object_is_still_detected(self):
        os.remove(self.p("big.bin"))
        self.dvx("checkout", "big.bin")  # recorded
        os.remove(self.p("big.bin"))
        bad = bytearray(self.big)
        bad[12345] ^= 0xFF  # same size, bytes changed in place
        self.put_object_as(self.oid, bytes(bad))
        code, out, err = self.run("checkout", "big.bin")
        self.assertEqual(code, 255, err)
        self.assertIn("WARNING: corrupted cache file", err)
        self.assertFalse(os.path.exists(self.p("big.bin")))
        self.assertTrue(any(n.startswith(self.oid + "-") for n in self.quarantine()))


class TestPush(CorruptBase):
    def test_push_refuses_corrupted(self):
        self.corrupt(HELLO)
        before = self.outside_digest()
        code, out, err = self.run("push")
        self.assertEqual(code, 1, err)
        self.assertIn("failed to push data to the cloud - 1 files failed to upload", err)
        self.assertIn(HELLO, err)
        self.assertIn("data/a.txt", err)
        self.assertQuarantined(HELLO)
        objs = self.remote_objects()
        self.assertNotIn(f"{HELLO[:2]}/{HELLO[2:]}", objs)
        self.assertEqual(len(objs), 3)
        # No temp file left on the remote either.
        for dirpath, dirs, files in os.walk(self.remote):
            for f in files:
                self.assertFalse(f.endswith(".tmp"), f)

    def test_push_into_existing_prefix_folder(self):
        # Not through the batch staging tree: the prefix folder exists on the remote already.
        self.dvx("push", "foo.txt")
        os.makedirs(os.path.join(self.remote, "files", "md5", HELLO[:2]), exist_ok=True)
        self.corrupt(HELLO)
        before = self.outside_digest()
        code, out, err = self.run("push", "data")
        self.assertEqual(code, 1, err)
        self.assertNotIn(f"{HELLO[:2]}/{HELLO[2:]}", self.remote_objects())
        self.assertQuarantined(HELLO)

    def test_push_nothing_when_all_corrupted(self):
        self.dvx("push", "data")
        before = self.outside_digest()
        self.corrupt(FOO)
        code, out, err = self.run("push", "foo.txt")
        self.assertEqual(code, 1, err)
        self.assertEqual(self.outside_digest(), before)
        self.assertIn("'foo.txt'", err)

    def test_quarantine_is_not_pushed_after_repair(self):
        self.corrupt(HELLO)
        self.run("push", check=1)
        # Repair by re-adding the intact workspace file, then push: only good objects go out.
        self.dvx("add", "data")
        self.assertFileBytes(self.cache_path(HELLO), b"hello\n")
        self.dvx("push")
        self.assertFileBytes(os.path.join(self.remote, dvxtest.cache_rel(HELLO)), b"hello\n")
        for dirpath, dirs, files in os.walk(self.remote):
            self.assertNotIn(".quarantine", dirpath)


class TestAdd(CorruptBase):
    def test_readd_repairs_file(self):
        self.corrupt(FOO)
        code, out, err = self.run("add", "foo.txt")
        self.assertEqual(code, 0, err)
        self.assertIn(FOO, err)
        self.assertFileBytes(self.cache_path(FOO), b"foo\n")
        self.assertQuarantined(FOO, restored=True)
        self.assertFileBytes(self.p("foo.txt"), b"foo\n")

    def test_readd_repairs_directory_file(self):
        self.corrupt(WORLD)
        code, out, err = self.run("add", "data")
        self.assertEqual(code, 0, err)
        self.assertIn(WORLD, err)
        self.assertFileBytes(self.cache_path(WORLD), b"world\n")
        self.assertQuarantined(WORLD, restored=True)

    def test_add_hardlink_never_links_workspace_to_corrupt_object(self):
        # With hardlinks, add relinks the workspace file to the object: a corrupt existing object
        # would replace the intact file. It is repaired first instead.
        self.set_cache_type("hardlink")
        self.write("new.txt", "hello\n")  # same content as data/a.txt: the object exists
        self.corrupt(HELLO)
        code, out, err = self.run("add", "new.txt")
        self.assertEqual(code, 0, err)
        self.assertFileBytes(self.p("new.txt"), b"hello\n")
        self.assertFileBytes(self.cache_path(HELLO), b"hello\n")
        self.assertQuarantined(HELLO, restored=True)

    def test_add_different_size_object(self):
        # Ingest path (copies): the existing object has another size.
        self.set_cache_type("copy")
        self.write("new.txt", "hello\n")
        self.corrupt(HELLO, b"a much longer corrupted content\n")
        self.dvx("add", "new.txt")
        self.assertFileBytes(self.cache_path(HELLO), b"hello\n")


class TestDvcFileValidation(CorruptBase):
    def check_refused(self, text, *needles, commands=(("checkout",), ("push",), ("status",))):
        self.write("foo.txt.dvc", text)
        os.remove(self.p("foo.txt"))
        before = self.outside_digest()
        cache_before = self.tree_digest(self.p(".dvc", "cache"))
        for cmd in commands:
            code, out, err = self.run(*cmd)
            self.assertNotEqual(code, 0, (cmd, out, err))
            self.assertIn("foo.txt.dvc", err)
            for n in needles:
                self.assertIn(n, err)
            self.assertFalse(os.path.exists(self.p("foo.txt")))
        self.assertEqual(self.outside_digest(), before)
        self.assertEqual(self.tree_digest(self.p(".dvc", "cache")), cache_before)

    def test_negative_size(self):
        self.check_refused(dvxtest.dvc_file(FOO, -4, "foo.txt"), "size")

    def test_unsupported_hash_name(self):
        self.check_refused("outs:\n- md5: " + FOO + "\n  size: 4\n  hash: sha256\n  path: foo.txt\n",
                           "sha256")

    def test_size_disagrees_with_cache(self):
        self.write("foo.txt.dvc", dvxtest.dvc_file(FOO, 5, "foo.txt"))
        os.remove(self.p("foo.txt"))
        code, out, err = self.run("checkout")
        self.assertEqual(code, 255, err)
        self.assertIn("foo.txt.dvc", err)
        self.assertIn("size", err)
        self.assertFalse(os.path.exists(self.p("foo.txt")))
        self.assertTrue(os.path.exists(self.cache_path(FOO)))


if __name__ == "__main__":
    dvxtest.main()
