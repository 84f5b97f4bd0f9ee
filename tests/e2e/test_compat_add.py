"""Golden compatibility of what dvx *writes*: replaying scripts/make_basic.sh (the generator of
the `basic` fixture, run with real DVC 3.64) with dvx must give byte-identical .dvc files,
.gitignore files, .dvc/config, cache objects (same set of paths, same bytes, mode 0444) and
remote objects as the fixture (tests/fixtures/manifests/basic.tsv)."""

import importlib.util
import os
import pickle
import stat

import dvxtest
from dvxtest import md5_file

_spec = importlib.util.spec_from_file_location(
    "detbytes", os.path.join(dvxtest.FIXTURES, "detbytes.py"))
detbytes = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(detbytes)

DATA_V1 = b"id,name,value\n1,alpha,10\n2,beta,20\n3,gamma,30\n4,delta,40\n"
DATA_V2 = b"id,name,value\n1,alpha,10\n2,beta,25\n3,gamma,30\n4,delta,40\n"
NAIVE = "na\u00efve.txt"


class BasicReplay(dvxtest.DvxTestCase):
    def setUp(self):
        super().setUp()
        self.golden_root = self.extract_fixture("basic")
        self.golden = os.path.join(self.golden_root, "repo")
        self.repo = os.path.join(self.tmp, "replay", "repo")
        self.manifest = dvxtest.read_manifest("basic")

    def golden_bytes(self, rel):
        with open(os.path.join(self.golden, rel), "rb") as f:
            return f.read()

    def golden_md5(self, rel):
        return self.manifest["basic/repo/" + rel][2]

    def commit(self, msg, *paths):
        self.git("add", *paths)
        self.git("commit", "-q", "-m", msg)

    def write_images(self):
        self.write("images/README.md", b"# images\nA small tree for DVC compatibility tests.\n")
        self.write("images/cats/cat-001.bin", detbytes.det_bytes(b"dvx-basic-cat-001", 4096))
        self.write("images/cats/cat-002.bin", detbytes.det_bytes(b"dvx-basic-cat-002", 3000))
        self.write("images/cats-index.txt", b"cat-001.bin\ncat-002.bin\n")
        self.write("images/dogs/file with space.txt", b"a file whose name has spaces\n")
        self.write("images/dogs/nested/deeper/deepest/leaf.txt", b"leaf\n")
        self.write("images/empty.txt", b"")
        self.write("images/" + NAIVE, "na\u00efve caf\u00e9 \u2014 UTF-8 content\n".encode())
        self.write("images/crlf.txt", b"line one\r\nline two\r\n")
        self.write("images/scripts/run.sh", b'#!/bin/sh\necho "hello from images/scripts/run.sh"\n',
                   mode=0o755)
        # sanity of the test itself: inputs equal the fixture's
        for rel in ("README.md", "cats/cat-001.bin", "cats/cat-002.bin", "cats-index.txt",
                    "dogs/file with space.txt", "dogs/nested/deeper/deepest/leaf.txt",
                    "empty.txt", NAIVE, "crlf.txt", "scripts/run.sh"):
            self.assertEqual(md5_file(self.p("images", rel)), self.golden_md5("images/" + rel),
                             f"test input images/{rel} differs from the fixture")

    def write_model(self):
        model = {"kind": "linear", "weights": [0.25, -1.5, 3.0], "bias": 0.125,
                 "classes": ["neg", "pos"]}
        data = pickle.dumps(model, protocol=4)
        if dvxtest.md5_bytes(data) != self.golden_md5("models/model.pkl"):
            data = self.golden_bytes("models/model.pkl")  # other Python: take the fixture's bytes
        self.write("models/model.pkl", data)

    def replay_adds(self, check_hints=True):
        """The `dvc add` part of make_basic.sh, checking each step against the fixture."""
        self.write("data.csv", DATA_V1)
        out = self.dvx("add", "data.csv")
        if check_hints:
            self.assertGitHint(out, {"data.csv.dvc", ".gitignore"})
        self.assertFileBytes("data.csv.dvc", self.git("show", "HEAD~1:data.csv.dvc",
                                                      cwd=self.golden))
        self.assertFileBytes(".gitignore", "/data.csv\n")
        self.commit("Add data.csv (v1)", "data.csv.dvc", ".gitignore")

        self.write_images()
        out = self.dvx("add", "images")
        if check_hints:
            self.assertGitHint(out, {"images.dvc", ".gitignore"})
        self.assertFileBytes("images.dvc", self.golden_bytes("images.dvc"))
        self.assertFileBytes(".gitignore", self.golden_bytes(".gitignore"))
        self.commit("Track images/ directory", "images.dvc", ".gitignore")

        self.write_model()
        out = self.dvx("add", "models/model.pkl")
        if check_hints:
            self.assertGitHint(out, {"models/model.pkl.dvc", "models/.gitignore"})
        self.assertFileBytes("models/model.pkl.dvc", self.golden_bytes("models/model.pkl.dvc"))
        self.assertFileBytes("models/.gitignore", self.golden_bytes("models/.gitignore"))
        self.commit("Add models/model.pkl", "models/model.pkl.dvc", "models/.gitignore")

    def add_v2(self):
        self.write("data.csv", DATA_V2)
        out = self.dvx("add", "data.csv")
        self.assertGitHint(out, {"data.csv.dvc"})
        self.assertFileBytes("data.csv.dvc", self.golden_bytes("data.csv.dvc"))
        self.commit("Update data.csv (v2)", "data.csv.dvc")

    def assertCacheLikeFixture(self):
        golden = {p[len("basic/repo/.dvc/cache/files/md5/"):]: v for p, v in self.manifest.items()
                  if p.startswith("basic/repo/.dvc/cache/files/md5/")}
        self.assertEqual(self.cache_objects(), set(golden))
        for name, (mode, size, md5) in golden.items():
            path = self.p(".dvc", "cache", "files", "md5", name)
            self.assertEqual(md5_file(path), md5, name)
            self.assertEqual(stat.filemode(os.stat(path).st_mode), mode, name)

    def assertWorkspaceLikeFixture(self):
        for p, (mode, size, md5) in self.manifest.items():
            if not p.startswith("basic/repo/") or p.startswith("basic/repo/.dvc/"):
                continue
            rel = p[len("basic/repo/"):]
            if rel == ".dvcignore":
                continue  # content is DVC's own comment text, irrelevant (formats.md 10.1)
            with self.subTest(path=rel):
                path = self.p(rel)
                self.assertTrue(os.path.isfile(path), f"missing {rel}")
                self.assertEqual(md5_file(path), md5, rel)
                self.assertEqual(stat.filemode(os.stat(path).st_mode), mode, rel)


class TestAddReplay(BasicReplay):
    def test_add_replay(self):
        self.make_repo()
        self.replay_adds()
        self.add_v2()
        self.assertCacheLikeFixture()
        self.assertWorkspaceLikeFixture()
        self.assertEqual(self.json_out("status", "--json"), {})

    def test_dir_manifest_bytes(self):
        self.make_repo()
        self.write_images()
        self.dvx("add", "images")
        rel = ".dvc/cache/files/md5/dd/6f68369deb5237f3a9ba36faa3a568.dir"
        self.assertFileBytes(rel, self.golden_bytes(rel))
        self.assertFileBytes("images.dvc", self.golden_bytes("images.dvc"))

    def test_add_all_at_once(self):
        # several targets in one call write the same files (.gitignore in target order)
        self.make_repo()
        self.write("data.csv", DATA_V2)
        self.write_images()
        self.write_model()
        self.dvx("add", "data.csv", "images", "models/model.pkl")
        for rel in ("data.csv.dvc", "images.dvc", "models/model.pkl.dvc", ".gitignore",
                    "models/.gitignore"):
            self.assertFileBytes(rel, self.golden_bytes(rel))


class TestFullReplay(BasicReplay):
    def test_make_basic_with_dvx(self):
        """make_basic.sh step by step, `dvc` replaced by dvx (init, add, remote add, push)."""
        remote = os.path.join(self.tmp, "replay", "remote")
        self.init_git()
        code, out, err = self.run("init")
        self.assertEqual(code, 0, err)
        self.assertFileBytes(".dvc/config", b"")
        self.assertFileBytes(".dvc/.gitignore", self.golden_bytes(".dvc/.gitignore"))
        self.git("commit", "-q", "-m", "Initialize DVC")
        self.replay_adds()
        code, out, err = self.run("remote", "add", "-d", "local", "../remote")
        self.assertEqual((code, out), (0, "Setting 'local' as a default remote.\n"), err)
        self.assertFileBytes(".dvc/config", self.golden_bytes(".dvc/config"))
        self.commit("Configure local remote", ".dvc/config")
        code, out, err = self.run("push")
        self.assertEqual((code, out), (0, "13 files pushed\n"), err)
        self.add_v2()
        code, out, err = self.run("push")
        self.assertEqual((code, out), (0, "1 file pushed\n"), err)

        self.assertCacheLikeFixture()
        self.assertWorkspaceLikeFixture()
        golden_remote = {p[len("basic/remote/"):]: v for p, v in self.manifest.items()
                         if p.startswith("basic/remote/")}
        got_remote = set()
        for root, dirs, files in os.walk(remote):
            for f in files:
                got_remote.add(os.path.relpath(os.path.join(root, f), remote))
        self.assertEqual(got_remote, set(golden_remote))
        for rel, (mode, size, md5) in golden_remote.items():
            path = os.path.join(remote, rel)
            self.assertEqual(md5_file(path), md5, rel)
            self.assertEqual(stat.filemode(os.stat(path).st_mode), mode, rel)
        # nothing else in the work tree (besides .git and the transient .dvc/tmp)
        expected = {p[len("basic/repo/"):] for p in self.manifest if p.startswith("basic/repo/")}
        got = set()
        for root, dirs, files in os.walk(self.repo):
            rel_root = os.path.relpath(root, self.repo)
            if rel_root in (".git", os.path.join(".dvc", "tmp")):
                dirs[:] = []
                continue
            for f in files:
                got.add(os.path.normpath(os.path.join(rel_root, f)))
        self.assertEqual(got, expected)
        self.assertEqual(self.git("status", "--porcelain"), "")
        self.assertEqual(self.json_out("status", "--json"), {})
        self.assertEqual(self.json_out("status", "-c", "--json"), {})


if __name__ == "__main__":
    dvxtest.main()
