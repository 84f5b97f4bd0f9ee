"""The repository lock: flock(2) on .dvc/tmp/lock (formats.md 10.4, cli.md 7 'lock')."""

import os
import re
import subprocess
import sys
import time

import dvxtest

HOLDER = r"""
import fcntl, sys, time
f = open(sys.argv[1], "a+")
fcntl.flock(f, fcntl.LOCK_EX)
sys.stdout.write("locked\n"); sys.stdout.flush()
time.sleep(float(sys.argv[2]))
f.close()
"""


class TestLock(dvxtest.DvxTestCase):
    def setUp(self):
        super().setUp()
        self.make_repo()
        self.track_file("foo.txt", "foo\n")
        self.commit_all("track")
        self.write("new.txt", "new\n")
        self.holder = None

    def tearDown(self):
        if self.holder is not None and self.holder.poll() is None:
            self.holder.kill()
            self.holder.wait()
        super().tearDown()

    def hold_lock(self, seconds=60.0):
        lock = self.p(".dvc", "tmp", "lock")
        self.holder = subprocess.Popen([sys.executable, "-c", HOLDER, lock, str(seconds)],
                                       stdout=subprocess.PIPE)
        line = self.holder.stdout.readline()
        self.assertEqual(line, b"locked\n")

    def test_add_fails_with_exit_1(self):
        self.hold_lock()
        t0 = time.monotonic()
        code, out, err = self.run("add", "new.txt")
        elapsed = time.monotonic() - t0
        self.assertEqual(code, 1)
        self.assertIn("ERROR: " + dvxtest.LOCK_MESSAGE + "\n", err)
        self.assertFalse(self.exists("new.txt.dvc"))
        self.assertFalse(os.path.exists(self.cache_path(dvxtest.md5_bytes(b"new\n"))))
        # DVC retries for about 3 s before giving up
        self.assertGreater(elapsed, 1.5)

    def test_status_fails_with_exit_255(self):
        self.hold_lock()
        code, out, err = self.run("status")
        self.assertEqual(code, 255)
        self.assertIn("ERROR: " + dvxtest.LOCK_MESSAGE + "\n", err)

    def test_diff_wraps_the_message(self):
        self.hold_lock()
        code, out, err = self.run("diff")
        self.assertEqual(code, 1)
        self.assertIn("ERROR: failed to get diff - " + dvxtest.LOCK_MESSAGE + "\n", err)

    def test_read_only_commands_do_not_wait(self):
        self.hold_lock()
        for cmd in (["data", "status", "--json"], ["ls", ".", "--dvc-only"], ["config", "-l"],
                    ["remote", "list"], ["root"], ["version"]):
            with self.subTest(cmd=cmd):
                t0 = time.monotonic()
                code, out, err = self.run(*cmd)
                self.assertEqual(code, 0, err)
                self.assertLess(time.monotonic() - t0, 2.5, "must not wait for the lock")

    def test_wait_for_lock(self):
        self.hold_lock(seconds=1.0)
        code, out, err = self.run("--wait-for-lock", "add", "new.txt")
        self.assertEqual(code, 0, err)
        self.assertTrue(self.exists("new.txt.dvc"))

    def test_lock_file_content_after_run(self):
        self.dvx("add", "new.txt")
        self.assertRegex(self.read(".dvc/tmp/lock").decode(), r"^ \d+\n$")


if __name__ == "__main__":
    dvxtest.main()
