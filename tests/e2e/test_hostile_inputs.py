"""Hostile documents that reach dvx's readers: YAML alias bombs ("billion laughs") and deep
nesting in .dvc files and dvc.lock, deep or huge .dvc/config files, deeply nested .dir manifests,
files far larger than any real DVC file. Each run is under a 2 GiB address-space limit: dvx must
stop with a clear error naming the file and a line, exit non-zero without a crash, write nothing
(outside the repo or in its DVC files) and finish quickly."""

import os
import re
import resource
import subprocess

import dvxtest

AS_LIMIT = 2 * 1024 ** 3
TIMEOUT = 60


def billion_laughs(levels=9):
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))


class HostileCase(dvxtest.DvxTestCase):
    def setUp(self):
        super().setUp()
        self.make_repo()
        self.make_sentinel()
        self.track_file("data.txt", "data\n")
        self.commit_all("data")

    def run_limited(self, *args):
        proc = subprocess.run([dvxtest.DVX_BIN, *args], cwd=self.repo, env=self.env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, preexec_fn=_limit_memory, timeout=TIMEOUT)
        return (proc.returncode, proc.stdout.decode(errors="replace"),
                proc.stderr.decode(errors="replace"))

    def repo_files(self):
        """Bytes of the files an attack must not change: .dvc files, dvc.lock, .dvc/config,
        .gitignore files."""
        out = {}
        for root, dirs, files in os.walk(self.repo):
            dirs[:] = [d for d in dirs if d not in (".git", "cache", "tmp")]
            for f in files:
                if f.endswith(".dvc") or f in ("dvc.lock", "dvc.yaml", "config", ".gitignore"):
                    full = os.path.join(root, f)
                    st = os.stat(full)
                    with open(full, "rb") as fh:  # (the sparse 16 GiB files: only their head)
                        out[os.path.relpath(full, self.repo)] = (st.st_size, st.st_mtime_ns,
                                                                 fh.read(1 << 20))
        return out

    def assertRefused(self, commands, name, code=None, line=True):
        """Every command fails cleanly with an error naming `name` (and a line), changing nothing."""
        outside = self.outside_digest()
        files = self.repo_files()
        for args in commands:
            with self.subTest(args=args):
                rc, out, err = self.run_limited(*args)
                self.assertGreater(rc, 0, f"{args}: rc={rc}\n{out}\n{err}")  # no signal
                if code is not None:
                    self.assertEqual(rc, code, err)
                self.assertNotIn("unexpected error", err)
                self.assertNotIn("bad_alloc", err)
                # "'<file>':L:C: ..." or, for dvc.lock/dvc.yaml as DVC frames YAML errors,
                # "'./<file>' is invalid. ... in line L, column C"
                pattern = re.escape(f"{name}'") + (r"(:\d+| is invalid\.[\s\S]*in line \d+)" if line else "")
                self.assertRegex(err, pattern, err)
                self.assertEqual(self.outside_digest(), outside)
                self.assertEqual(self.repo_files(), files)


class TestYamlBombs(HostileCase):
    COMMANDS = [("status",), ("checkout",), ("push",), ("data", "status"), ("commit", "-f")]

    def test_billion_laughs_dvc_file(self):
        self.write("bomb.dvc", billion_laughs(9) +
                   "outs:\n- md5: 0123456789abcdef0123456789abcdef\n  path: bomb\n")
        self.assertRefused(self.COMMANDS, "bomb.dvc", code=1)
        rc, out, err = self.run_limited("status")
        self.assertIn("document too large", err)

    def test_billion_laughs_dvc_lock(self):
        self.write("dvc.yaml", "stages:\n  s:\n    cmd: echo\n")
        self.write("dvc.lock", "schema: '2.0'\n" + billion_laughs(9) + "stages: {}\n")
        self.assertRefused(self.COMMANDS, "dvc.lock", code=1)

    def test_deep_flow_nesting(self):
        for depth in (100_000, 1_000_000):
            with self.subTest(depth=depth):
                self.write("deep.dvc", "outs: " + "[" * depth + "]" * depth + "\n")
                self.assertRefused([("status",), ("checkout",)], "deep.dvc", code=1)
        # Unclosed, and a long flat flow list inside one: yaml-cpp would buffer all of it.
        self.write("deep.dvc", "outs: " + "[" * 20_000_000 + "\n")
        self.assertRefused([("status",)], "deep.dvc", code=1)
        self.write("deep.dvc", "outs: [[" + "1,\n" * 3_000_000 + "1]]\n")
        self.assertRefused([("status",)], "deep.dvc", code=1)

    def test_deep_block_nesting(self):
        self.write("deep.dvc", "".join(" " * i + "k:\n" for i in range(5000)))
        self.assertRefused([("status",), ("checkout",)], "deep.dvc", code=1)
        rc, out, err = self.run_limited("status")
        self.assertIn("'deep.dvc':65:65: document nested too deeply", err)

    def test_deep_nesting_dvc_lock(self):
        self.write("dvc.yaml", "stages:\n  s:\n    cmd: echo\n")
        self.write("dvc.lock", "schema: '2.0'\nstages: " + "{a: " * 100_000 + "\n")
        self.assertRefused([("status",), ("checkout",)], "dvc.lock", code=1)

    def test_huge_sparse_dvc_file_is_not_read_whole(self):
        with open(self.p("huge.dvc"), "wb") as f:
            f.truncate(16 * 1024 ** 3)  # sparse: 16 GiB of zeros, no disk space used
        self.assertRefused([("status",)], "huge.dvc", code=1)
        rc, out, err = self.run_limited("status")
        self.assertIn("file too large", err)


class TestConfigBombs(HostileCase):
    def test_deep_section_openers(self):
        for depth in (100_000, 1_000_000):
            with self.subTest(depth=depth):
                self.write(".dvc/config", b"[core]\n    autostage = true\n" +
                           b"[" * depth + b"x" + b"]" * depth + b"\n")
                self.assertRefused([("status",), ("config", "core.autostage"),
                                    ("remote", "add", "r", "/tmp/x")], ".dvc/config", code=251)

    def test_long_section_line(self):
        self.write(".dvc/config", b"[a" + b" ]" * 1_000_000 + b" x\n")
        self.assertRefused([("status",), ("config", "core.autostage")], ".dvc/config", code=251)

    def test_many_keys(self):
        body = b"".join(b"    k%d = v\n" % i for i in range(1_100_000))
        self.write(".dvc/config", b"[core]\n" + body)
        self.assertRefused([("config", "core.autostage")], ".dvc/config", code=251)

    def test_huge_sparse_config(self):
        with open(self.p(".dvc/config"), "wb") as f:
            f.truncate(16 * 1024 ** 3)
        self.assertRefused([("status",)], ".dvc/config", code=251)


class TestManifestBombs(HostileCase):
    def test_deep_manifest(self):
        oid = self.put_object(b"x")
        for depth in (100_000, 1_000_000):
            with self.subTest(depth=depth):
                manifest = ('[{"md5": "%s", "relpath": "a", "extra": ' % oid).encode() + \
                    b"[" * depth + b"]" * depth + b"}]"
                dir_oid = dvxtest.md5_bytes(manifest) + ".dir"
                self.put_object_as(dir_oid, manifest)
                self.write("d.dvc", dvxtest.dvc_file(dir_oid, 1, "d", nfiles=1))
                self.assertRefused([("checkout",), ("checkout", "--force")], dir_oid[2:], line=True)
                # status reports an unreadable manifest as corrupted (issue 9), without a crash.
                rc, out, err = self.run_limited("status")
                self.assertEqual(rc, 0, err)
                self.assertIn("corrupted", out)
                self.assertNotIn("not in cache", out)
                rc, out, err = self.run_limited("checkout")
                self.assertIn("nested more than 64 levels deep", err)
                self.assertFalse(os.path.exists(self.p("d")))


class TestAwkwardNames(dvxtest.DvxTestCase):
    """File names that CLI11 would read as lists, and names that .gitignore must escape."""

    def setUp(self):
        super().setUp()
        self.make_repo()

    def test_bracket_and_brace_targets_are_paths(self):
        for name in ("[x,y]", "{a}", "[z]"):
            self.write(name, name.encode())
        self.dvx("add", "-q", "--", "[x,y]", "{a}")
        self.dvx("add", "-q", "[z]")
        for name in ("[x,y]", "{a}", "[z]"):
            self.assertTrue(self.exists(name + ".dvc"), name)
        self.assertFalse(self.exists("x.dvc"))
        os.remove(self.p("[x,y]"))
        self.dvx("checkout", "[x,y].dvc", "{a}.dvc")
        self.assertEqual(self.read("[x,y]"), b"[x,y]")
        code, out, err = self.run("status", "[x,y].dvc", "[z]")
        self.assertEqual(code, 0, err)

    def test_gitignore_entries_read_by_git_as_written(self):
        names = ["tr ", "tr2  ", "b\\s", "#h", "!b", "st*r", "q?", "br[1]"]
        for n in names:
            self.write(n, b"x")
        self.dvx("add", "-q", "--", *names)
        gi = self.read(".gitignore").decode()
        self.assertIn("/tr\\ \n", gi)
        self.assertIn("/tr2\\ \\ \n", gi)
        self.assertIn("/b\\\\s\n", gi)
        proc = subprocess.run(["git", "check-ignore", "-z", "--stdin"], cwd=self.repo, env=self.env,
                              input="\0".join(names).encode(), stdout=subprocess.PIPE)
        self.assertEqual(sorted(x for x in proc.stdout.decode().split("\0") if x), sorted(names))
        listed = [e[3:] for e in self.git("status", "--porcelain", "-z", "--untracked-files=all").split("\0")]
        for n in names:
            self.assertNotIn(n, listed)
            self.assertIn(n + ".dvc", listed)
        # remove takes the escaped lines back out.
        self.dvx("remove", "tr .dvc")
        self.assertNotIn("/tr\\ \n", self.read(".gitignore").decode())

    def test_newline_in_name_refused_before_writing(self):
        self.write("n\nl", b"x")
        self.write("ok", b"y")
        code, out, err = self.run("add", "ok", "n\nl")
        self.assertEqual(code, 1, err)
        self.assertIn("which a .gitignore line cannot hold", err)
        self.assertFalse(self.exists(".gitignore"))
        self.assertFalse(self.exists("ok.dvc"))
        self.assertFalse(self.exists("n\nl.dvc"))


if __name__ == "__main__":
    dvxtest.main()
