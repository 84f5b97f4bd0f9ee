"""dvc list (ls), check-ignore, destroy, install (cli.md 6.7, behaviour.md 10, 13)."""

import os
import re
import shutil

import dvxtest

HELLO = "b1946ac92492d2347c6235b4d2611184"
WORLD = "591785b794601e212b260e25925636fd"
FOO = "d3b07384d113edec49eaa6238ad5ff00"


class TrackedRepo(dvxtest.DvxTestCase):
    def setUp(self):
        super().setUp()
        self.make_repo()
        self.track_file("foo.txt", "foo\n")
        self.dir = self.track_dir("data", {"a.txt": "hello\n", "sub/b.txt": "world\n"})
        self.write("README.md", "readme\n")
        self.commit_all("track")


class TestList(TrackedRepo):
    def test_recursive_dvc_only_json(self):
        code, out, err = self.run("ls", "--json", ".", "-R", "--dvc-only")
        self.assertEqual(code, 0, err)
        self.assertEqual(out, dvxtest.json.dumps([
            {"isout": True, "isdir": False, "isexec": False, "size": None, "md5": HELLO,
             "path": "data/a.txt"},
            {"isout": True, "isdir": False, "isexec": False, "size": None, "md5": WORLD,
             "path": "data/sub/b.txt"},
            {"isout": True, "isdir": False, "isexec": False, "size": 4, "md5": FOO,
             "path": "foo.txt"},
        ]) + "\n")

    def test_recursive_dvc_only_text(self):
        code, out, err = self.run("list", ".", "-R", "--dvc-only")
        self.assertEqual(code, 0, err)
        self.assertEqual(out, "data/a.txt\ndata/sub/b.txt\nfoo.txt\n")

    def test_top_level_dvc_only(self):
        got = self.json_out("ls", "--json", ".", "--dvc-only")
        self.assertEqual([(e["path"], e["isout"], e["isdir"]) for e in got],
                         [("data", True, True), ("foo.txt", True, False)])

    def test_top_level_all(self):
        got = self.json_out("ls", "--json", ".")
        paths = [e["path"] for e in got]
        self.assertEqual(paths, sorted(paths))
        for p in ("README.md", "data", "data.dvc", "foo.txt", "foo.txt.dvc"):
            self.assertIn(p, paths)
        by_path = {e["path"]: e for e in got}
        self.assertFalse(by_path["README.md"]["isout"])
        self.assertTrue(by_path["foo.txt"]["isout"])

    def test_path_argument(self):
        got = self.json_out("ls", "--json", ".", "data", "--dvc-only")
        self.assertIn(("a.txt", False), [(e["path"], e["isdir"]) for e in got])
        self.assertNotIn("data/a.txt", [e["path"] for e in got])

    def test_does_not_need_workspace_data(self):
        shutil.rmtree(self.p("data"))
        os.remove(self.p("foo.txt"))
        got = self.json_out("ls", "--json", ".", "-R", "--dvc-only")
        self.assertEqual([e["path"] for e in got], ["data/a.txt", "data/sub/b.txt", "foo.txt"])


class TestCheckIgnore(dvxtest.DvxTestCase):
    def setUp(self):
        super().setUp()
        self.make_repo()
        self.write(".dvcignore", "*.log\n")

    def test_match_and_no_match(self):
        code, out, err = self.run("check-ignore", "a.log")
        self.assertEqual((code, out), (0, "a.log\n"), err)
        code, out, err = self.run("check-ignore", "a.txt")
        self.assertEqual((code, out), (1, ""), err)
        code, out, err = self.run("check-ignore", "a.txt", "b.log")
        self.assertEqual((code, out), (0, "b.log\n"), err)

    def test_details(self):
        code, out, err = self.run("check-ignore", "-d", "a.log")
        self.assertEqual((code, out), (0, ".dvcignore:1:*.log\ta.log\n"), err)
        code, out, err = self.run("check-ignore", "-d", "-n", "a.txt")
        self.assertEqual((code, out), (1, "::\ta.txt\n"), err)

    def test_negation_last_match_wins(self):
        self.write(".dvcignore", "*.log\n!keep.log\n")
        code, out, err = self.run("check-ignore", "keep.log", "other.log")
        self.assertEqual((code, out), (0, "other.log\n"), err)

    def test_stdin(self):
        code, out, err = self.run("check-ignore", "--stdin", input="a.log\nb.txt\n")
        self.assertEqual((code, out), (0, "a.log\n"), err)

    def test_no_targets(self):
        code, out, err = self.run("check-ignore")
        self.assertEqual(code, 255)
        self.assertIn("`targets` or `--stdin` needed", err)


class TestDestroy(TrackedRepo):
    def test_force(self):
        code, out, err = self.run("destroy", "-f")
        self.assertEqual(code, 0, err)
        for gone in (".dvc", ".dvcignore", "foo.txt.dvc", "data.dvc"):
            self.assertFalse(self.exists(gone), gone)
        self.assertFileBytes("foo.txt", "foo\n")
        self.assertFileBytes("data/sub/b.txt", "world\n")
        self.assertTrue(self.mode("foo.txt") & 0o200)

    def test_refused_without_confirmation(self):
        code, out, err = self.run("destroy")
        self.assertEqual(code, 1)
        self.assertIn("ERROR: failed to destroy DVC - cannot destroy without a confirmation from "
                      "the user. Use `-f` to force.", err)
        self.assertTrue(self.exists(".dvc/config"))
        self.assertTrue(self.exists("foo.txt.dvc"))


class TestInstall(dvxtest.DvxTestCase):
    HOOKS = ("post-checkout", "pre-commit", "pre-push")

    def setUp(self):
        super().setUp()
        self.make_repo()

    def test_hooks_and_merge_driver(self):
        code, out, err = self.run("install")
        self.assertEqual(code, 0, err)
        sh = shutil.which("sh", path=self.env["PATH"]) or "/bin/sh"
        for hook in self.HOOKS:
            path = self.p(".git", "hooks", hook)
            self.assertFileBytes(path, f"#!{sh}\nexec dvc git-hook {hook} $@\n")
            self.assertTrue(self.mode(path) & 0o100, f"{hook} must be executable")
        self.assertEqual(self.git("config", "merge.dvc.name").strip(), "DVC merge driver")
        self.assertEqual(self.git("config", "merge.dvc.driver").rstrip(),
                         "dvc git-hook merge-driver --ancestor %O --our %A --their %B")
        self.assertFalse(self.exists(".gitattributes"))

    def test_existing_hook(self):
        self.dvx("install")
        code, out, err = self.run("install")
        self.assertEqual(code, 1)
        self.assertRegex(err, r"Hook '(post-checkout|pre-commit|pre-push)' already exists\. "
                              r"Please refer to <https://man\.dvc\.org/install> for more info\.")


if __name__ == "__main__":
    dvxtest.main()
