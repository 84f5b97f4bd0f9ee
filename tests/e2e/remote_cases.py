"""Test cases shared by the cloud-remote e2e tests that run against a server module of
tests/servers/ (test_remote_azure.py, test_remote_gcs.py): a mixin for dvxtest.DvxTestCase.

A test class sets SERVER (the module), REMOTE (the remote's name), ENV (extra environment for
every dvx run: small thresholds so that uploads split and listings page), ATTEMPTS (the
variable that sets dvx's attempts per request), and may override big_upload_check()."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import dvxtest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "servers"))


class RemoteCases:
    SERVER = None
    REMOTE = "r"
    ENV = {}
    ATTEMPTS = ""
    BIG_SIZE = 50_000

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix=f"dvx-{cls.SERVER.BACKEND}-")
        cls.server = cls.SERVER.Server(cls.workdir).__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)
        shutil.rmtree(cls.workdir, ignore_errors=True)

    # ------------------------------------------------------------------ helpers

    def secrets(self):
        """Strings no dvx output may contain."""
        return ()

    def rrun(self, *args, cwd=None, env=None, secrets=()):
        code, out, err = self.run(*args, cwd=cwd, env=dict(self.ENV, **self.server.env(), **(env or {})),
                                  timeout=120)
        for s in tuple(self.secrets()) + tuple(secrets):
            self.assertNotIn(s, out + err)
        return code, out, err

    def make_project(self, server=None, files=None, options=True):
        server = server or self.server
        self.init_git()
        self.dvx("init", "-q")
        if files is None:
            files = {f"data/f{i:03d}.txt": f"small file {i}\n" * (i % 5 + 1) for i in range(40)}
            files["data/sub dir/caf\u00e9 \u00fcn\u00efcode.txt"] = "unicode name\n"
            files["my file \u00e9.txt"] = "spaces and unicode\n"
            files["data/empty"] = ""
            files["big.bin"] = "".join(chr(65 + (i * 7) % 26) for i in range(self.BIG_SIZE))
        for rel, content in files.items():
            self.write(self.p(rel), content)
        for target in sorted({rel.split("/")[0] for rel in files}):
            self.dvx("add", target)
        url, opts = server.new_remote(self.id().rsplit(".", 1)[-1])
        self.location = url.split("/")[2]  # the bucket or container
        # The URL goes to the committed config, the credentials to config.local.
        self.dvx("remote", "add", "-d", self.REMOTE, url)
        if options:
            for k, v in opts.items():
                self.dvx("remote", "modify", "--local", self.REMOTE, k, v)
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "data")
        return files

    def clone(self, name="clone"):
        dst = os.path.join(self.tmp, name)
        self.git("clone", "-q", self.repo, dst, cwd=self.tmp)
        shutil.copy(os.path.join(self.repo, ".dvc", "config.local"), os.path.join(dst, ".dvc", "config.local"))
        return dst

    def remote_objects(self, server=None):
        names = (server or self.server).list_keys(self.location, "store/")
        return {n[len("store/files/md5/"):] for n in names}

    def big_upload_check(self, before):
        """Checks that big.bin went up in parts; `before` is what big_upload_state() said."""

    def big_upload_state(self):
        return None

    def assertTreeEqual(self, root, files):
        for rel, content in files.items():
            with open(os.path.join(root, rel), "rb") as f:
                self.assertEqual(f.read(), content.encode(), rel)

    # ------------------------------------------------------------------ tests

    def test_push_pull_fetch_status_round_trip(self):
        files = self.make_project()
        code, out, err = self.rrun("status", "-c", "--json")
        self.assertEqual(code, 0, err)
        self.assertIn("new", out)
        state = self.big_upload_state()
        code, out, err = self.rrun("push")
        self.assertEqual(code, 0, err)
        cache = set(self.cache_objects())
        self.assertEqual(out, f"{len(cache)} files pushed\n")
        self.assertEqual(self.remote_objects(), cache)
        self.big_upload_check(state)
        self.assertEqual(self.rrun("status", "-c", "--json")[:2], (0, "{}\n"))
        self.assertEqual(self.rrun("push")[:2], (0, "Everything is up to date.\n"))

        clone = self.clone()
        code, out, err = self.rrun("pull", cwd=clone)
        self.assertEqual(code, 0, err)
        self.assertTreeEqual(clone, files)
        other = self.clone("other")
        code, out, err = self.rrun("fetch", cwd=other)
        self.assertEqual(code, 0, err)
        self.assertEqual(self.cache_objects(os.path.join(other, ".dvc", "cache")), cache)
        self.assertFalse(os.path.exists(os.path.join(other, "big.bin")))
        self.assertEqual(self.rrun("status", "-c", "--json", cwd=other)[:2], (0, "{}\n"))

    def test_300_small_files_and_list_paging(self):
        files = {f"many/d{i % 7}/file {i:03d} \u00e9.txt": f"content {i}\n" for i in range(300)}
        self.make_project(files=files)
        code, out, err = self.rrun("push", "-j", "8")
        self.assertEqual(code, 0, err)
        cache = set(self.cache_objects())
        self.assertEqual(len(cache), 301)  # 300 files and the .dir object
        self.assertEqual(self.remote_objects(), cache)
        # fsck -r lists the remote (a few keys a page here) and finds every object.
        code, out, err = self.rrun("fsck", "--json", "-r", self.REMOTE)
        self.assertEqual(code, 0, out + err)
        self.assertEqual(json.loads(out)["checked_remote"], 301, out)
        self.assertEqual(self.rrun("push")[:2], (0, "Everything is up to date.\n"))
        clone = self.clone()
        code, out, err = self.rrun("pull", "-j", "8", cwd=clone)
        self.assertEqual(code, 0, err)
        self.assertTreeEqual(clone, files)

    def test_missing_object_on_pull_fails_clearly(self):
        self.make_project()
        self.assertEqual(self.rrun("push")[0], 0)
        gone = dvxtest.md5_file(self.p("my file \u00e9.txt"))
        self.assertTrue(self.server.delete_key(self.location, f"store/files/md5/{gone[:2]}/{gone[2:]}"))
        clone = self.clone()
        code, out, err = self.rrun("pull", cwd=clone)
        self.assertNotEqual(code, 0)
        self.assertIn(gone, out + err)
        self.assertIn("my file \u00e9.txt", out + err)
        self.assertTrue(os.path.exists(os.path.join(clone, "big.bin")))  # the rest was pulled
        code, out, err = self.rrun("status", "-c", "--json", cwd=clone)
        self.assertEqual(json.loads(out).get("my file \u00e9.txt"), "missing", out)

    def test_corrupted_cache_objects_are_not_uploaded(self):
        self.make_project()
        # A small object (one request) and the big one (blocks / chunks) rot in the cache: the
        # bytes are hashed while sent and the upload stops before it is published.
        bad = [dvxtest.md5_file(self.p("my file \u00e9.txt")), dvxtest.md5_file(self.p("big.bin"))]
        for oid in bad:
            path = self.cache_path(oid)
            os.chmod(path, 0o644)
            with open(path, "r+b") as f:
                f.seek(3)
                f.write(b"#")
        code, out, err = self.rrun("push")
        self.assertEqual(code, 1, err)
        self.assertIn("2 files failed to upload", err)
        on_remote = self.remote_objects()
        for oid in bad:
            self.assertIn(oid, err)
            self.assertNotIn(f"{oid[:2]}/{oid[2:]}", on_remote)
        self.assertEqual(len(on_remote), len(self.cache_objects()))  # every other object is there

    def test_server_stopped_mid_push_then_rerun_completes(self):
        with tempfile.TemporaryDirectory(prefix="dvx-stop-") as wd, self.SERVER.Server(wd) as server:
            files = {f"bulk/f{i:03d}.bin": f"{i}\n" * 2000 for i in range(300)}
            self.make_project(server=server, files=files)
            env = {**self.env, **self.ENV, **server.env(), self.ATTEMPTS: "3"}
            proc = subprocess.Popen([dvxtest.DVX_BIN, "push", "-j", "2"], cwd=self.repo, env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            deadline = time.time() + 60
            while len(server.list_keys(self.location)) < 20:
                self.assertIsNone(proc.poll(), "push finished before the server could be stopped")
                self.assertLess(time.time(), deadline)
                time.sleep(0.02)
            server.stop()
            out, err = proc.communicate(timeout=120)
            out, err = out.decode(), err.decode()
            self.assertNotEqual(proc.returncode, 0, out)
            self.assertIn("127.0.0.1", err)
            for s in self.secrets():
                self.assertNotIn(s, out + err)
            code, out, err = self.rrun("fsck", "--json")  # the cache is intact
            self.assertEqual(code, 0, out + err)
            server.start()
            code, out, err = self.rrun("push")
            self.assertEqual(code, 0, err)
            self.assertNotEqual(out, "Everything is up to date.\n")
            self.assertEqual(self.remote_objects(server), set(self.cache_objects()))
            code, out, err = self.rrun("fsck", "--json", "-r", self.REMOTE, "--deep")
            self.assertEqual(code, 0, out + err)
            self.assertEqual(self.rrun("push")[:2], (0, "Everything is up to date.\n"))
