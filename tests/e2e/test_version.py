"""`version`/`doctor` as DVC prints it: the link types that really work between the cache and the
workspace (probed by linking a file, as DVC does), the file system of each, the no-cache hint, and
`--help` naming the program as it was invoked."""

import os
import shutil
import tempfile

import dvxtest


class TestVersion(dvxtest.DvxTestCase):
    def test_probed_link_types_and_file_systems(self):
        self.make_repo()
        out = self.dvx("version")
        self.assertTrue(out.startswith("DVC version: 3.64.0\n"), out)
        self.assertIn("\nConfig:\n\tGlobal: ", out)
        # No cache yet: DVC's hint instead of link types.
        self.assertIn("Cache types: <https://error.dvc.org/no-dvc-cache>", out)
        self.write("f.txt", "x\n")
        self.dvx("add", "f.txt")
        out = self.dvx("doctor")
        line = next(l for l in out.splitlines() if l.startswith("Cache types: "))
        types = line[len("Cache types: "):].split(", ")
        # Whatever the file system, each type listed must really work here: check by hand.
        probe_dir = tempfile.mkdtemp(dir=self.repo)
        try:
            src = os.path.join(self.repo, ".dvc", "cache", "probe-src")
            with open(src, "w"):
                pass
            works = []
            try:
                os.link(src, os.path.join(probe_dir, "h"))
                works.append("hardlink")
            except OSError:
                pass
            try:
                os.symlink(src, os.path.join(probe_dir, "s"))
                works.append("symlink")
            except OSError:
                pass
            os.remove(src)
        finally:
            shutil.rmtree(probe_dir)
        for t in ("hardlink", "symlink"):
            self.assertEqual(t in types, t in works, line)
        self.assertNotIn("copy", types)  # DVC lists only link types
        fs_line = next(l for l in out.splitlines() if l.startswith("Workspace directory: "))
        self.assertRegex(fs_line, r"^Workspace directory: \S+ on \S+$")
        self.assertRegex(out, r"\nCache directory: \S+ on \S+\n")
        # nothing left behind by the probe
        self.assertEqual([n for n in os.listdir(self.repo) if "probe" in n], [])
        self.assertEqual([n for n in os.listdir(self.p(".dvc/cache")) if "probe" in n], [])

    def test_help_names_the_program_as_invoked(self):
        link_dir = tempfile.mkdtemp()
        try:
            alias = os.path.join(link_dir, "dvc")
            os.symlink(os.path.abspath(dvxtest.DVX_BIN), alias)
            import subprocess
            out = subprocess.run([alias, "--help"], stdout=subprocess.PIPE, env=self.env, timeout=30).stdout.decode()
            self.assertIn("dvc", out.splitlines()[0] + out)
            out2 = subprocess.run([os.path.abspath(dvxtest.DVX_BIN), "--help"], stdout=subprocess.PIPE,
                                  env=self.env, timeout=30).stdout.decode()
            name = os.path.basename(dvxtest.DVX_BIN)
            self.assertIn(f"Usage: {name}", out2)
            self.assertIn("Usage: dvc", out)
        finally:
            shutil.rmtree(link_dir)


if __name__ == "__main__":
    dvxtest.main()
