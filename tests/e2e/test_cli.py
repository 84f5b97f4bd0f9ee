"""Argument parsing, help, exit codes of the parser, not-a-repo, root, version (cli.md 1, 3)."""

import os
import re

import dvxtest

# Every public command and subcommand of DVC 3.64 (cli.md 5), aliases included.
COMMANDS = [
    ["add"], ["artifacts"], ["artifacts", "get"], ["cache"], ["cache", "dir"],
    ["cache", "migrate"], ["check-ignore"], ["checkout"], ["commit"], ["completion"],
    ["config"], ["dag"], ["data"], ["data", "status"], ["pull"], ["push"], ["fetch"],
    ["status"], ["dataset"], ["ds"], ["dataset", "add"], ["dataset", "update"], ["destroy"],
    ["diff"], ["du"], ["experiments"], ["exp"], ["exp", "apply"], ["exp", "branch"],
    ["exp", "clean"], ["exp", "diff"], ["exp", "list"], ["exp", "ls"], ["exp", "pull"],
    ["exp", "push"], ["exp", "remove"], ["exp", "rm"], ["exp", "rename"], ["exp", "run"],
    ["exp", "save"], ["exp", "show"], ["freeze"], ["unfreeze"], ["gc"], ["get"], ["get-url"],
    ["git-hook"], ["git-hook", "pre-commit"], ["git-hook", "post-checkout"],
    ["git-hook", "pre-push"], ["git-hook", "merge-driver"], ["import"], ["import-db"],
    ["import-url"], ["init"], ["install"], ["list"], ["ls"], ["list-url"], ["ls-url"],
    ["metrics"], ["metrics", "show"], ["metrics", "diff"], ["move"], ["mv"], ["params"],
    ["params", "diff"], ["plots"], ["plots", "show"], ["plots", "diff"], ["plots", "modify"],
    ["plots", "templates"], ["queue"], ["queue", "start"], ["queue", "stop"],
    ["queue", "status"], ["queue", "logs"], ["queue", "remove"], ["queue", "kill"],
    ["remote"], ["remote", "add"], ["remote", "default"], ["remote", "modify"],
    ["remote", "list"], ["remote", "remove"], ["remote", "rename"], ["remove"], ["rm"],
    ["repro"], ["root"], ["stage"], ["stage", "add"], ["stage", "list"], ["studio"],
    ["studio", "login"], ["studio", "logout"], ["studio", "token"], ["unprotect"],
    ["update"], ["version"], ["doctor"],
]

# Commands of the core issue; the others (pipelines, experiments, metrics, imports, ...) are
# added to this list by the issues that implement them.
IMPLEMENTED = {
    "add", "cache", "check-ignore", "checkout", "commit", "config", "data", "pull", "push",
    "fetch", "status", "destroy", "diff", "gc", "git-hook", "init", "install", "list", "ls",
    "move", "mv", "remote", "remove", "rm", "root", "unprotect", "version", "doctor",
    "repro", "stage", "dag", "run", "freeze", "unfreeze", "plots", "metrics", "params",
}
COMMANDS = [c for c in COMMANDS
            if c[0] in IMPLEMENTED and c != ["git-hook", "merge-driver"]]

# An alias's help is its command's help.
ALIASES = {"doctor": "version", "ls": "list", "mv": "move", "rm": "remove", "ds": "dataset",
           "ls-url": "list-url", "exp": "experiments", "experiments": "exp"}


def usage_re(name):
    return r"(?im)^usage: (\S+ )*(" + re.escape(name) + "|" + re.escape(ALIASES.get(name, name)) + ") "


NOT_A_REPO = re.compile(
    r"^ERROR: you are not inside of a DVC repository \(checked up to mount point '[^']+'\)$",
    re.M)


class TestHelp(dvxtest.DvxTestCase):
    def test_top_level_help(self):
        for flag in ("-h", "--help"):
            code, out, err = self.run(flag, cwd=self.tmp)
            self.assertEqual(code, 0, err)
            self.assertTrue(out.strip(), "help text expected on stdout")

    def test_help_of_every_command(self):
        for cmd in COMMANDS:
            with self.subTest(cmd=" ".join(cmd)):
                code, out, err = self.run(*cmd, "--help", cwd=self.tmp)
                self.assertEqual(code, 0, f"stdout:\n{out}\nstderr:\n{err}")
                self.assertTrue(out.strip(), "help text expected on stdout")
                self.assertRegex(out, r"(?i)usage")
                # the help of that very command (main() registers only the command's group)
                self.assertRegex(out, usage_re(cmd[-1]))

    def test_every_listed_command_runs_through_its_group(self):
        # The commands of the "invalid choice" list (every group registered) each parse on
        # their own: a command missing from, or put in the wrong group of, main's table fails.
        code, out, err = self.run("nosuchcmd", cwd=self.tmp)
        names = re.findall(r"'([a-z-]+)'", err.split("choose from", 1)[1].split(")", 1)[0])
        self.assertGreater(len(names), 30)
        for name in names:
            with self.subTest(cmd=name):
                code, out, err = self.run(name, "--help", cwd=self.tmp)
                self.assertEqual(code, 0, f"stdout:\n{out}\nstderr:\n{err}")
                self.assertRegex(out, usage_re(name))


class TestParserErrors(dvxtest.DvxTestCase):
    def test_no_command(self):
        code, out, err = self.run(cwd=self.tmp)
        self.assertEqual(code, 254)
        self.assertIn("ERROR: the following arguments are required: command", err)

    def test_unknown_command(self):
        code, out, err = self.run("nosuchcmd", cwd=self.tmp)
        self.assertEqual(code, 254)
        self.assertIn("ERROR: argument command: invalid choice: 'nosuchcmd' (choose from 'add',", err)

    def test_unknown_option(self):
        self.make_repo()
        code, out, err = self.run("status", "--bogus-option")
        self.assertEqual(code, 254)
        self.assertIn("ERROR: unrecognized arguments: --bogus-option", err)

    def test_unknown_option_of_subcommand(self):
        self.make_repo()
        code, out, err = self.run("remote", "list", "--bogus-option")
        self.assertEqual(code, 254)
        self.assertIn("ERROR: unrecognized arguments: --bogus-option", err)

    def test_bad_integer(self):
        self.make_repo()
        code, out, err = self.run("push", "-j", "notanumber")
        self.assertEqual(code, 254)


class TestNotARepo(dvxtest.DvxTestCase):
    def test_outside_any_repo(self):
        d = os.path.join(self.tmp, "plain")
        os.makedirs(d)
        for cmd in (["status"], ["add", "x"], ["checkout"], ["diff"], ["root"], ["push"],
                    ["data", "status"]):
            with self.subTest(cmd=cmd):
                code, out, err = self.run(*cmd, cwd=d)
                self.assertEqual(code, 253, f"stderr:\n{err}")
                self.assertRegex(err, NOT_A_REPO)

    def test_git_repo_without_dvc(self):
        self.init_git()
        code, out, err = self.run("status")
        self.assertEqual(code, 253)
        self.assertRegex(err, NOT_A_REPO)


class TestGlobalOptions(dvxtest.DvxTestCase):
    def test_cd(self):
        self.make_repo()
        code, out, err = self.run("--cd", "repo", "root", cwd=self.tmp)
        self.assertEqual(code, 0, err)
        self.assertEqual(out, ".\n")

    def test_quiet_before_and_after_command(self):
        self.make_repo()
        self.write("foo.txt", "foo\n")
        code, out, err = self.run("-q", "add", "foo.txt")
        self.assertEqual((code, out), (0, ""), err)
        self.write("bar.txt", "bar\n")
        code, out, err = self.run("add", "-q", "bar.txt")
        self.assertEqual((code, out), (0, ""), err)
        self.assertTrue(self.exists("bar.txt.dvc"))


class TestRoot(dvxtest.DvxTestCase):
    def test_root_at_top(self):
        self.make_repo()
        self.assertEqual(self.dvx("root"), ".\n")

    def test_root_from_subdir(self):
        self.make_repo()
        sub = self.p("a", "b")
        os.makedirs(sub)
        self.assertEqual(self.dvx("root", cwd=sub), "../..\n")


class TestVersion(dvxtest.DvxTestCase):
    def test_version(self):
        # outputs/dvc.version.txt: first line of `dvc version` is "DVC version: 3.64.0".
        code, out, err = self.run("version", cwd=self.tmp)
        self.assertEqual(code, 0, err)
        self.assertRegex(out.splitlines()[0], r"^DVC version: \S+$")

    def test_version_in_repo_and_alias(self):
        self.make_repo()
        for cmd in ("version", "doctor"):
            code, out, err = self.run(cmd)
            self.assertEqual(code, 0, err)
            self.assertRegex(out.splitlines()[0], r"^DVC version: \S+$")

    def test_dash_V(self):
        for flag in ("-V", "--version"):
            code, out, err = self.run(flag, cwd=self.tmp)
            self.assertEqual(code, 0, err)
            self.assertRegex(out, r"^\d+\.\d+\.\d+\S*\n$")


if __name__ == "__main__":
    dvxtest.main()
