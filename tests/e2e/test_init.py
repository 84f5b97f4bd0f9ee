"""dvc init (behaviour.md 13, formats.md 9.2/10.3, cli.md 7 'init')."""

import os

import dvxtest

WHATS_NEXT = [
    "What's next?",
    "------------",
    "- Check out the documentation: <https://dvc.org/doc>",
    "- Get help and share ideas: <https://dvc.org/chat>",
    "- Star us on GitHub: <https://github.com/iterative/dvc>",
]

NOT_SCM = ("is not tracked by any supported SCM tool (e.g. Git). Use `--no-scm` if you don't "
           "want to use any SCM or `--subdir` if initializing inside a subdirectory of a parent "
           "SCM repository.")


class TestInit(dvxtest.DvxTestCase):
    def test_init_in_git_repo(self):
        self.init_git()
        code, out, err = self.run("init")
        self.assertEqual(code, 0, err)
        lines = out.splitlines()
        self.assertEqual(lines[:3], ["Initialized DVC repository.", "",
                                     "You can now commit the changes to git."])
        self.assertEqual(lines[-5:], WHATS_NEXT)
        # exact bytes
        self.assertFileBytes(".dvc/config", b"")
        self.assertFileBytes(".dvc/.gitignore", b"/config.local\n/tmp\n/cache\n")
        self.assertTrue(os.path.isfile(self.p(".dvcignore")))
        self.assertTrue(os.path.isdir(self.p(".dvc", "tmp")))
        # staged in git by dvc itself
        staged = set(self.git("diff", "--cached", "--name-only").split())
        self.assertEqual(staged, {".dvc/.gitignore", ".dvc/config", ".dvcignore"})

    def test_init_then_status_works(self):
        self.init_git()
        self.dvx("init")
        code, out, err = self.run("status")
        self.assertEqual(code, 0, err)
        self.assertEqual(out, "There are no data or pipelines tracked in this project yet.\n"
                              "See <https://dvc.org/doc/start> to get started!\n")

    def test_no_scm(self):
        os.makedirs(self.repo)
        code, out, err = self.run("init", "--no-scm")
        self.assertEqual(code, 0, err)
        self.assertFileBytes(".dvc/config", b"[core]\n    no_scm = True\n")
        self.assertFileBytes(".dvc/.gitignore", b"/config.local\n/tmp\n/cache\n")
        self.assertIn("Initialized DVC repository.", out)
        self.assertNotIn("You can now commit the changes to git.", out)
        self.assertFalse(self.exists(".git"))

    def test_without_git_fails(self):
        os.makedirs(self.repo)
        code, out, err = self.run("init")
        self.assertEqual(code, 1)
        self.assertIn(NOT_SCM, err)
        self.assertFalse(self.exists(".dvc"))

    def test_subdir(self):
        self.init_git()
        sub = self.p("project")
        os.makedirs(sub)
        # without --subdir: refused (the Git root is a parent directory)
        code, out, err = self.run("init", cwd=sub)
        self.assertEqual(code, 1)
        self.assertIn(NOT_SCM, err)
        self.assertFalse(os.path.exists(os.path.join(sub, ".dvc")))
        code, out, err = self.run("init", "--subdir", cwd=sub)
        self.assertEqual(code, 0, err)
        self.assertFileBytes(os.path.join(sub, ".dvc", "config"), b"")
        self.assertFileBytes(os.path.join(sub, ".dvc", ".gitignore"),
                             b"/config.local\n/tmp\n/cache\n")
        staged = set(self.git("diff", "--cached", "--name-only").split())
        self.assertEqual(staged, {"project/.dvc/.gitignore", "project/.dvc/config",
                                  "project/.dvcignore"})
        self.assertEqual(self.dvx("root", cwd=sub), ".\n")

    def test_directory_argument(self):
        target = os.path.join(self.tmp, "other")
        os.makedirs(target)
        code, out, err = self.run("init", "--no-scm", target, cwd=self.tmp)
        self.assertEqual(code, 0, err)
        self.assertFileBytes(os.path.join(target, ".dvc", "config"), b"[core]\n    no_scm = True\n")

    def test_existing_requires_force(self):
        self.init_git()
        self.dvx("init")
        self.write(".dvc/marker", "x")
        code, out, err = self.run("init")
        self.assertEqual(code, 1)
        self.assertIn("'.dvc' exists. Use `-f` to force.", err)
        self.assertTrue(self.exists(".dvc/marker"))
        code, out, err = self.run("init", "-f")
        self.assertEqual(code, 0, err)
        self.assertFalse(self.exists(".dvc/marker"), "-f must re-create .dvc/")
        self.assertFileBytes(".dvc/config", b"")
        self.assertFileBytes(".dvc/.gitignore", b"/config.local\n/tmp\n/cache\n")


if __name__ == "__main__":
    dvxtest.main()
