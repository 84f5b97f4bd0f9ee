"""Broken pipeline files (formats.md 6, 7; behaviour.md 4): malformed YAML reported with its line
and column, undefined interpolation variables, missing params keys, corrupted dvc.lock, and YAML
alias bombs (which must fail or finish fast, never expand). Nothing may be written on error."""

import os
import time

import dvxtest

GOOD = """stages:
  s:
    cmd: cat in.txt > out.txt
    deps:
    - in.txt
    params:
    - n
    outs:
    - out.txt
"""

BOMB = ("a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(f"{chr(ord('b') + i)}: &{chr(ord('b') + i)} "
                  f"[*{chr(ord('a') + i)}, *{chr(ord('a') + i)}, *{chr(ord('a') + i)}, "
                  f"*{chr(ord('a') + i)}, *{chr(ord('a') + i)}, *{chr(ord('a') + i)}, "
                  f"*{chr(ord('a') + i)}, *{chr(ord('a') + i)}, *{chr(ord('a') + i)}, "
                  f"*{chr(ord('a') + i)}]\n" for i in range(9)))  # 10^10 leaves if expanded


def is_real_dvc():
    """True when DVX_BIN is DVC itself (dvx-only features are skipped then): the binary is named
    dvc* (dvc, dvc-real), or DVX_IS_DVC=1. dvx answers `--version` like DVC, so that can't tell."""
    if os.environ.get("DVX_IS_DVC") == "1":
        return True
    return os.path.basename(dvxtest.DVX_BIN).startswith("dvc")


class YamlErrorCase(dvxtest.DvxTestCase):
    def setUp(self):
        super().setUp()
        self.make_repo()
        self.write("in.txt", "hi\n")
        self.write("params.yaml", "n: 1\ntrain:\n  lr: 0.1\n")
        self.write("dvc.yaml", GOOD)
        self.commit_all("pipeline")

    def snapshot(self):
        return self.git("status", "--porcelain", "--untracked-files=all")

    def assertFailsCleanly(self, *args, code=255, contains=(), prefix="ERROR"):
        """prefix: DVC renders YAML syntax/schema errors without `ERROR:` (rich panel)."""
        before = self.snapshot()
        rc, out, err = self.run(*args)
        self.assertEqual(rc, code, f"stdout:\n{out}\nstderr:\n{err}")
        self.assertIn(prefix, err)
        self.assertNotIn("Traceback", err)
        for text in contains:
            self.assertIn(text, err)
        self.assertFalse(self.exists("out.txt"))
        self.assertEqual(self.snapshot(), before, "files were written")
        return out, err


class TestMalformed(YamlErrorCase):
    def test_dvc_yaml_syntax_error_line_and_column(self):
        self.write("dvc.yaml", "stages:\n  s:\n    cmd: cat in.txt > out.txt\n      deps:\n"
                               "      - in.txt\n")
        self.commit_all("broken")
        # [observed] exit codes: repro/stage list/dag 255, status 1
        for cmd, code in ((("repro",), 255), (("status",), 1), (("stage", "list"), 255),
                          (("dag",), 255)):
            with self.subTest(cmd=cmd):
                rc, out, err = self.run(*cmd)
                self.assertEqual(rc, code, err)
                self.assertTrue(err.startswith("'./dvc.yaml' is invalid.\n\n"), err)
                self.assertIn("'./dvc.yaml' is invalid.", err)
                self.assertIn("in line 4, column 11", err)

    def test_dvc_yaml_tab_indent(self):
        self.write("dvc.yaml", "stages:\n  s:\n\tcmd: echo\n")
        self.commit_all("broken")
        # DVC (ruamel): "Found character that cannot start any token, in line 3, column 1"
        self.assertFailsCleanly("repro", prefix="'./dvc.yaml' is invalid.\n\n",
                                contains=("in line 3, column ",))

    def test_dvc_yaml_schema_error(self):
        self.write("dvc.yaml", "stages:\n  s:\n    cmd: echo x > out.txt\n    outz:\n    - out.txt\n")
        self.commit_all("broken")
        self.assertFailsCleanly("repro", prefix="'./dvc.yaml' validation failed.",
                                contains=("extra keys not allowed, in stages -> s -> outz, "
                                          "line 5, column 5",))

    def test_dvc_lock_syntax_error(self):
        self.dvx("repro")
        os.remove(self.p("out.txt"))
        self.write("dvc.lock", "schema: '2.0'\nstages:\n  s:\n    cmd: [unclosed\n")
        self.commit_all("broken lock")
        rc, out, err = self.run("status")
        self.assertEqual(rc, 1, err)  # [observed] status exits 1 here; repro 255
        self.assertTrue(err.startswith("'./dvc.lock' is invalid.\n\n"), err)
        # DVC: "While parsing a flow sequence, in line 4, column 10" then
        # "Did not find expected ',' or ']', in line 5, column 1"
        self.assertIn("in line 5, column 1", err)
        rc, out, err = self.run("repro")
        self.assertEqual(rc, 255, err)
        self.assertIn("'./dvc.lock' is invalid.", err)
        self.assertFalse(self.exists("out.txt"))
        self.assertNotIn("Traceback", err)

    def test_params_yaml_syntax_error(self):
        self.write("params.yaml", "n: [1\n")
        self.commit_all("broken params")
        self.assertFailsCleanly("repro", contains=("params.yaml",))


class TestInterpolation(YamlErrorCase):
    def test_undefined_var_in_cmd(self):
        self.write("dvc.yaml", GOOD.replace("cat in.txt", "echo ${nope} && cat in.txt"))
        self.commit_all("undefined")
        self.assertFailsCleanly(
            "repro", contains=("failed to parse 'stages.s.cmd' in 'dvc.yaml': "
                               "Could not find 'nope'",))

    def test_undefined_nested_key(self):
        self.write("dvc.yaml", GOOD.replace("cat in.txt", "echo ${train.nope} && cat in.txt"))
        self.commit_all("undefined")
        self.assertFailsCleanly("repro", contains=("Could not find 'train.nope'",))

    def test_undefined_var_in_deps(self):
        self.write("dvc.yaml", GOOD.replace("    - in.txt\n", "    - ${where}/in.txt\n"))
        self.commit_all("undefined")
        self.assertFailsCleanly("repro", contains=("stages.s.deps", "Could not find 'where'"))

    def test_defined_var_works(self):
        self.write("dvc.yaml", GOOD.replace("cat in.txt", "echo ${train.lr} > /dev/null && cat in.txt"))
        self.commit_all("defined")
        self.dvx("repro")
        self.assertIn("echo 0.1 > /dev/null", self.read("dvc.lock").decode())


class TestParams(YamlErrorCase):
    def test_unknown_params_key(self):
        self.write("dvc.yaml", GOOD.replace("    - n\n", "    - n\n    - missing_key\n"))
        self.commit_all("unknown key")
        self.assertFailsCleanly(
            "repro", contains=("failed to reproduce 's': Parameters 'missing_key' are missing "
                               "from 'params.yaml'.",))

    def test_missing_params_file(self):
        self.write("dvc.yaml", GOOD.replace("    - n\n", "    - other.yaml:\n      - n\n"))
        self.commit_all("missing file")
        self.assertFailsCleanly("repro", contains=("other.yaml",))


class TestAliasBombs(YamlErrorCase):
    """DVC itself expands aliases (exponential time); dvx must answer quickly."""

    LIMIT = 20

    def setUp(self):
        if is_real_dvc():
            self.skipTest("DVC expands YAML aliases and does not finish; dvx-only guarantee")
        super().setUp()

    def timed(self, *args):
        start = time.time()
        rc, out, err = self.run(*args, timeout=self.LIMIT + 10)
        took = time.time() - start
        self.assertLess(took, self.LIMIT, f"{args} took {took:.1f}s")
        self.assertGreaterEqual(rc, 0, "killed by a signal")
        self.assertNotIn("Traceback", err)
        return rc, out, err

    def test_bomb_in_dvc_yaml(self):
        self.write("dvc.yaml", BOMB + GOOD)
        self.commit_all("bomb")
        before = self.snapshot()
        rc, out, err = self.timed("repro")
        # reported like any YAML error of the file (see TestMalformed): exit 255 for repro
        self.assertEqual(rc, 255, err)
        self.assertIn("'./dvc.yaml' is invalid.", err)
        self.assertEqual(self.snapshot(), before)

    def test_bomb_in_params_yaml(self):
        self.write("params.yaml", "n: 1\n" + BOMB)
        self.commit_all("bomb")
        rc, out, err = self.timed("repro")
        if rc != 0:
            self.assertIn("params.yaml", err)
            self.assertFalse(self.exists("dvc.lock"))

    def test_bomb_in_dvc_lock(self):
        self.write("dvc.lock", BOMB.replace("\n", "\n") + "schema: '2.0'\nstages: {}\n")
        self.commit_all("bomb")
        before = self.read("dvc.lock")
        # like a dvc.lock syntax error: status exits 1, repro 255; the lock is left alone
        rc, out, err = self.timed("status")
        self.assertEqual(rc, 1, err)
        self.assertIn("'./dvc.lock' is invalid.", err)
        rc, out, err = self.timed("repro")
        self.assertEqual(rc, 255, err)
        self.assertIn("'./dvc.lock' is invalid.", err)
        self.assertEqual(self.read("dvc.lock"), before)


if __name__ == "__main__":
    dvxtest.main()
