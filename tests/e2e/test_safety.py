"""Hostile or broken inputs: path escapes through .dir manifests and .dvc paths, malformed
.dvc files and .dvc/config. dvx must refuse (non-zero exit) and never write outside the repo."""

import json
import os
import re

import dvxtest
from dvxtest import dvc_file, md5_bytes

EVIL = b"evil\n"


class TestPathEscape(dvxtest.DvxTestCase):
    def setUp(self):
        super().setUp()
        self.make_repo()
        self.commit_all("init")

    def outside_files(self):
        """Every file under the temp dir that is outside the repo (dvx's private state dirs and
        HOME excluded) plus anything next to the temp dir named like our payloads."""
        skip = {self.repo, self.site_cache_dir, self.home, self.global_config_dir,
                self.system_config_dir}
        found = set()
        parent = os.path.dirname(self.tmp)
        for name in ("escaped.txt", "escaped2.txt", "abs-escaped.txt"):
            if os.path.exists(os.path.join(parent, name)):
                found.add(os.path.join(parent, name))
        for root, dirs, files in os.walk(self.tmp):
            if root in skip:
                dirs[:] = []
                continue
            dirs[:] = [d for d in dirs if os.path.join(root, d) not in skip]
            for f in files:
                found.add(os.path.join(root, f))
        return found

    def manifest_dir(self, relpaths):
        oid = self.put_object(EVIL)
        manifest = json.dumps([{"md5": oid, "relpath": r} for r in relpaths],
                              sort_keys=True).encode()
        dir_oid = md5_bytes(manifest) + ".dir"
        self.put_object_as(dir_oid, manifest)
        self.write("data.dvc", dvc_file(dir_oid, len(EVIL) * len(relpaths), "data",
                                        nfiles=len(relpaths)))
        return dir_oid

    def test_manifest_relpath_escaping_repo(self):
        before = self.outside_files()
        for relpath in ("../../escaped.txt", "ok/../../../escaped2.txt",
                        os.path.join(self.tmp, "abs-escaped.txt")):
            with self.subTest(relpath=relpath):
                self.manifest_dir(["a.txt", relpath])
                code, out, err = self.run("checkout")
                self.assertNotEqual(code, 0, f"checkout accepted relpath {relpath!r}:\n{out}")
                self.assertEqual(self.outside_files(), before)
                code, out, err = self.run("checkout", "--force")
                self.assertNotEqual(code, 0)
                self.assertEqual(self.outside_files(), before)

    def test_manifest_relpath_escaping_output_dir(self):
        self.manifest_dir(["a.txt", "../sibling.txt"])
        code, out, err = self.run("checkout")
        self.assertNotEqual(code, 0)
        self.assertFalse(self.exists("sibling.txt"))

    def test_pull_with_escaping_manifest(self):
        remote = os.path.join(self.tmp, "remote")
        self.write(".dvc/config", f"['remote \"r\"']\n    url = {remote}\n")
        self.manifest_dir(["../../pulled-escape.txt"])
        # put the objects on the remote by hand (a careful push may refuse them)
        import shutil
        shutil.copytree(self.p(".dvc", "cache"), remote)
        shutil.rmtree(self.p(".dvc", "cache"))
        code, out, err = self.run("pull", "-r", "r")
        self.assertNotEqual(code, 0)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "pulled-escape.txt")))
        self.assertFalse(os.path.exists(os.path.join(os.path.dirname(self.tmp),
                                                     "pulled-escape.txt")))

    def test_dvc_file_path_outside_repo(self):
        oid = self.put_object(EVIL)
        for path in ("../outside", os.path.join(self.tmp, "outside-abs")):
            with self.subTest(path=path):
                self.write("x.dvc", dvc_file(oid, len(EVIL), path))
                code, out, err = self.run("checkout")
                self.assertNotEqual(code, 0)
                self.assertFalse(os.path.exists(os.path.join(self.tmp, "outside")))
                self.assertFalse(os.path.exists(os.path.join(self.tmp, "outside-abs")))
                code, out, err = self.run("checkout", "-f", "x.dvc")
                self.assertNotEqual(code, 0)
                self.assertFalse(os.path.exists(os.path.join(self.tmp, "outside")))
                self.assertFalse(os.path.exists(os.path.join(self.tmp, "outside-abs")))

    def test_dvc_file_path_into_dot_git(self):
        oid = self.put_object(EVIL)
        self.write("x.dvc", dvc_file(oid, len(EVIL), ".git/hooks/pre-commit"))
        code, out, err = self.run("checkout")
        self.assertNotEqual(code, 0)
        self.assertFalse(os.path.exists(self.p(".git", "hooks", "pre-commit")))


class TestMalformed(dvxtest.DvxTestCase):
    # DVC: "... in line 3, column 16" (YAML) / "at line 3." (configobj); a dvx-style
    # "'foo.txt.dvc':3:16" (file:line[:col], file optionally quoted) is accepted too.
    LINE_RE = r"(line {n}\b|{f}'?:{n}\b)"

    def setUp(self):
        super().setUp()
        self.make_repo()

    def assertNamesFileAndLine(self, err, fname, line):
        self.assertIn(fname, err)
        self.assertRegex(err, self.LINE_RE.format(n=line, f=re.escape(fname)))

    def test_yaml_syntax_error_in_dvc_file(self):
        self.write("foo.txt", "foo\n")
        self.write("foo.txt.dvc", "outs:\n- md5: d3b07384d113edec49eaa6238ad5ff00\n"
                                  "  path: foo.txt: bad\n")
        for cmd in (["status"], ["checkout"], ["add", "foo.txt"]):
            with self.subTest(cmd=cmd):
                code, out, err = self.run(*cmd)
                self.assertNotEqual(code, 0)
                self.assertNamesFileAndLine(err, "foo.txt.dvc", 3)

    def test_unterminated_flow_sequence(self):
        self.write("bar.dvc", "outs:\n- md5: [d3b07384d113edec49eaa6238ad5ff00\n  path: bar\n")
        code, out, err = self.run("status")
        self.assertNotEqual(code, 0)
        self.assertIn("bar.dvc", err)
        self.assertRegex(err, r"line \d+|bar\.dvc'?:\d+")

    def test_schema_error_in_dvc_file(self):
        # formats.md 2.1 [observed]: a `cmd` key is rejected: "'./x.txt.dvc' validation failed."
        self.write("x.txt", "x\n")
        self.write("x.txt.dvc", "cmd: echo hi\nouts:\n- md5: 401b30e3b8b5d629635a5c613cdb7919\n"
                                "  path: x.txt\n")
        code, out, err = self.run("status")
        self.assertNotEqual(code, 0)
        self.assertIn("x.txt.dvc", err)
        self.assertIn("validation failed", err)
        self.assertIn("extra keys not allowed", err)
        self.assertRegex(err, self.LINE_RE.format(n=1, f=re.escape("x.txt.dvc")))

    def test_missing_path_key(self):
        self.write("y.dvc", "outs:\n- md5: 401b30e3b8b5d629635a5c613cdb7919\n  size: 2\n")
        code, out, err = self.run("status")
        self.assertNotEqual(code, 0)
        self.assertIn("y.dvc", err)

    def test_malformed_config(self):
        self.write(".dvc/config", "[core]\n    remote = x\nthis is not valid\n")
        for cmd in (["status"], ["config", "-l"], ["add", "whatever"]):
            with self.subTest(cmd=cmd):
                code, out, err = self.run(*cmd)
                self.assertEqual(code, 251, err)
                self.assertIn("ERROR: configuration error - config file error:", err)
                self.assertRegex(err, r"line 3\b|config'?:3\b")

    def test_malformed_config_unclosed_section(self):
        self.write(".dvc/config", "[core\n    remote = x\n")
        code, out, err = self.run("status")
        self.assertEqual(code, 251, err)
        self.assertIn("config file error", err)
        self.assertRegex(err, r"line 1\b|config'?:1\b")

    def test_malformed_local_config(self):
        self.write(".dvc/config.local", "garbage line\n")
        code, out, err = self.run("status")
        self.assertEqual(code, 251, err)
        self.assertRegex(err, r"line 1\b|config\.local'?:1\b")


if __name__ == "__main__":
    dvxtest.main()
