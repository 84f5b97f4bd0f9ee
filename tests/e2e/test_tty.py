"""Terminal behaviour (issue 2, user experience): progress bars on stderr only when stderr is a
terminal and never with -q; coloured WARNING/ERROR prefixes only on a terminal and never with
NO_COLOR. stderr is a pseudo-terminal here; stdout stays a pipe, so each stream is checked on
its own."""

import os
import pty
import re
import shutil
import subprocess
import unittest

import dvxtest

PROGRESS = re.compile(r"\r\x1b\[K(hashing|caching|checkout|push|fetch) +\d+%\|[# ]{30}\| \d+/\d+")
ESC = "\x1b"


class TtyCase(dvxtest.DvxTestCase):
    def run_tty(self, *args, env=None, timeout=60):
        """Runs dvx with stderr on a pty (stdout a pipe); returns (code, stdout, stderr)."""
        full_env = dict(self.env)
        full_env.pop("NO_COLOR", None)
        full_env["TERM"] = "xterm"
        if env:
            full_env.update(env)
        master, slave = pty.openpty()
        proc = subprocess.Popen([dvxtest.DVX_BIN, *args], cwd=self.repo, env=full_env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        err, timed_out = dvxtest.read_terminal(master, timeout)
        if timed_out:
            proc.kill()
            self.fail(f"dvx {' '.join(args)} timed out on a terminal")
        os.close(master)
        out = proc.stdout.read()
        proc.stdout.close()
        code = proc.wait(timeout=timeout)
        # The pty turns "\n" into "\r\n".
        return code, out.decode(), err.decode(errors="replace").replace("\r\n", "\n")

    def setUp(self):
        super().setUp()
        self.make_repo()
        files = {f"d{i // 100}/f{i}.txt": f"file {i}\n" for i in range(400)}
        for rel, content in files.items():
            self.write(os.path.join("data", rel), content)


class TestProgress(TtyCase):
    def test_add_and_checkout_draw_progress_then_clear_it(self):
        code, out, err = self.run_tty("add", "data")
        self.assertEqual(code, 0, err)
        self.assertRegex(err, PROGRESS)
        # The bar is erased before the command ends (the last thing on stderr is the erase), and
        # stdout carries the normal message with no escape sequence.
        self.assertTrue(err.endswith("\r\x1b[K"), repr(err[-200:]))
        self.assertNotIn("\n", err)
        self.assertIn("To track the changes with git, run:", out)
        self.assertNotIn(ESC, out)

        shutil.rmtree(self.p("data"))
        code, out, err = self.run_tty("checkout")
        self.assertEqual(code, 0, err)
        self.assertRegex(err, r"\r\x1b\[Kcheckout +\d+%\|")
        self.assertEqual(out, "A       data/\n")
        self.assertEqual(len(os.listdir(self.p("data"))), 4)

    def test_quiet_draws_nothing(self):
        code, out, err = self.run_tty("add", "-q", "data")
        self.assertEqual(code, 0, err)
        self.assertEqual((out, err), ("", ""))

    def test_push_and_fetch_progress(self):
        self.dvx("add", "data")
        self.dvx("remote", "add", "-d", "store", os.path.join(self.tmp, "remote"))
        code, out, err = self.run_tty("push")
        self.assertEqual(code, 0, err)
        self.assertRegex(err, r"\r\x1b\[Kpush +\d+%\|")
        self.assertEqual(out, "401 files pushed\n")
        shutil.rmtree(self.p(".dvc", "cache"))
        code, out, err = self.run_tty("fetch")
        self.assertEqual(code, 0, err)
        self.assertRegex(err, r"\r\x1b\[Kfetch +\d+%\|")
        self.assertEqual(out, "401 files fetched\n")

    def test_no_terminal_no_progress(self):
        # The usual test runner: both streams are pipes.
        code, out, err = self.run("add", "data", env={"NO_COLOR": ""})
        self.assertEqual(code, 0, err)
        self.assertNotIn(ESC, out + err)


class TestColour(TtyCase):
    def test_error_and_warning_are_coloured_on_a_terminal(self):
        code, out, err = self.run_tty("checkout", "missing.dvc")
        self.assertNotEqual(code, 0)
        self.assertIn("\x1b[31mERROR\x1b[0m: ", err)
        self.dvx("add", "data")
        self.dvx("remote", "add", "-d", "store", os.path.join(self.tmp, "remote"))
        shutil.rmtree(self.p(".dvc", "cache"))
        code, out, err = self.run_tty("push")
        self.assertIn("\x1b[33mWARNING\x1b[0m: Some of the cache files do not exist", err)

    def test_no_color_disables_colour(self):
        for value in ("1", "yes"):
            code, out, err = self.run_tty("checkout", "missing.dvc", env={"NO_COLOR": value})
            self.assertNotEqual(code, 0)
            self.assertIn("ERROR: ", err)
            self.assertNotIn(ESC, err)

    def test_pipes_are_never_coloured(self):
        code, out, err = self.run("checkout", "missing.dvc", env={"NO_COLOR": ""})
        self.assertNotEqual(code, 0)
        self.assertTrue(err.startswith("ERROR: "), err)
        self.assertNotIn(ESC, err)


if __name__ == "__main__":
    unittest.main()
