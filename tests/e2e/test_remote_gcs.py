"""Google Cloud Storage remotes against a protocol fake of the GCS JSON API
(tests/servers/gcs_fake.py via tests/servers/gcs.py: no GCS emulator installs here). The fake
checks what Google checks: the service account's JWT (RS256 signature verified with the public
key, audience = the token_uri of the key file) and a bearer token it issued on every request.
Push, pull, fetch and status -c through `gs://bucket/prefix` with `credentialpath` and
`endpointurl`; resumable uploads, list paging, names with spaces and unicode, a missing object,
a foreign service account (clear error, key never printed), token renewal, the server stopped
in the middle of a push, GOOGLE_APPLICATION_CREDENTIALS and STORAGE_EMULATOR_HOST."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

import dvxtest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "servers"))
import gcs  # noqa: E402

SKIP = gcs.available()
ENV = {"DVX_GCS_RESUMABLE_THRESHOLD": "300000", "DVX_GCS_CHUNK_SIZE": "262144", "DVX_GCS_LIST_PAGE": "50",
       "GOOGLE_APPLICATION_CREDENTIALS": "", "STORAGE_EMULATOR_HOST": ""}


@unittest.skipIf(SKIP, SKIP)
class GcsRemote(dvxtest.DvxTestCase):
    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="dvx-gcs-")
        cls.server = gcs.Server(cls.workdir).__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)
        shutil.rmtree(cls.workdir, ignore_errors=True)

    # ------------------------------------------------------------------ helpers

    def gsrun(self, *args, cwd=None, env=None, secrets=()):
        code, out, err = self.run(*args, cwd=cwd, env=dict(ENV, **(env or {})), timeout=120)
        for s in (self.server.pem.splitlines()[1],) + tuple(secrets):
            self.assertNotIn(s, out + err)
        self.assertNotIn("ya29.", out + err)  # no access token either
        return code, out, err

    def make_project(self, server=None, files=None, options=True):
        server = server or self.server
        self.init_git()
        self.dvx("init", "-q")
        if files is None:
            files = {f"data/f{i:03d}.txt": f"small file {i}\n" * (i % 5 + 1) for i in range(40)}
            files["data/sub dir/caf\u00e9 \u00fcn\u00efcode.txt"] = "unicode name\n"
            files["my file \u00e9.txt"] = "spaces and unicode\n"
            files["big.bin"] = "".join(chr(65 + (i * 7) % 26) for i in range(1_100_000))  # resumable, 5 chunks
        for rel, content in files.items():
            self.write(self.p(rel), content)
        for target in sorted({rel.split("/")[0] for rel in files}):
            self.dvx("add", target)
        url, opts = server.new_remote(self.id().rsplit(".", 1)[-1])
        self.bucket = url.split("/")[2]
        self.dvx("remote", "add", "-d", "gsr", url)
        if options:
            for k, v in opts.items():
                self.dvx("remote", "modify", "--local", "gsr", k, v)
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "data")
        return files

    def clone(self, name="clone"):
        dst = os.path.join(self.tmp, name)
        self.git("clone", "-q", self.repo, dst, cwd=self.tmp)
        shutil.copy(os.path.join(self.repo, ".dvc", "config.local"), os.path.join(dst, ".dvc", "config.local"))
        return dst

    def remote_objects(self, server=None):
        names = (server or self.server).list_objects(self.bucket, "store/")
        return {n[len("store/files/md5/"):] for n in names}

    # ------------------------------------------------------------------ tests

    def test_push_pull_fetch_status_round_trip(self):
        files = self.make_project()
        code, out, err = self.gsrun("status", "-c", "--json")
        self.assertEqual(code, 0, err)
        self.assertIn("new", out)
        chunks = self.server.stats()["chunks"]
        code, out, err = self.gsrun("push")
        self.assertEqual(code, 0, err)
        cache = set(self.cache_objects())
        self.assertEqual(out, f"{len(cache)} files pushed\n")
        self.assertEqual(self.remote_objects(), cache)
        # big.bin (1.1 MB) went up as a resumable upload in 256 KiB chunks.
        self.assertEqual(self.server.stats()["chunks"] - chunks, 5)
        self.assertEqual(self.gsrun("status", "-c", "--json")[:2], (0, "{}\n"))
        before = self.server.requests()
        self.assertEqual(self.gsrun("push")[:2], (0, "Everything is up to date.\n"))
        self.assertLess(self.server.requests() - before, len(cache) + 3)  # no upload on a second push

        clone = self.clone()
        code, out, err = self.gsrun("pull", cwd=clone)
        self.assertEqual(code, 0, err)
        for rel, content in files.items():
            with open(os.path.join(clone, rel), "rb") as f:
                self.assertEqual(f.read(), content.encode(), rel)
        other = self.clone("other")
        code, out, err = self.gsrun("fetch", cwd=other)
        self.assertEqual(code, 0, err)
        self.assertEqual(self.cache_objects(os.path.join(other, ".dvc", "cache")), cache)
        self.assertEqual(self.gsrun("status", "-c", "--json", cwd=other)[:2], (0, "{}\n"))

    def test_300_small_files_and_list_paging(self):
        files = {f"many/d{i % 7}/file {i:03d} \u00e9.txt": f"content {i}\n" for i in range(300)}
        self.make_project(files=files)
        code, out, err = self.gsrun("push", "-j", "8")
        self.assertEqual(code, 0, err)
        cache = set(self.cache_objects())
        self.assertEqual(len(cache), 301)
        self.assertEqual(self.remote_objects(), cache)
        code, out, err = self.gsrun("fsck", "--json", "-r", "gsr")
        self.assertEqual(code, 0, out + err)
        self.assertEqual(json.loads(out)["checked_remote"], 301, out)
        clone = self.clone()
        code, out, err = self.gsrun("pull", "-j", "8", cwd=clone)
        self.assertEqual(code, 0, err)
        for rel, content in files.items():
            with open(os.path.join(clone, rel), "rb") as f:
                self.assertEqual(f.read(), content.encode(), rel)

    def test_missing_object_on_pull_fails_clearly(self):
        self.make_project()
        self.assertEqual(self.gsrun("push")[0], 0)
        gone = dvxtest.md5_file(self.p("my file \u00e9.txt"))
        self.assertEqual(self.server.delete_object(self.bucket, f"store/files/md5/{gone[:2]}/{gone[2:]}"), 204)
        clone = self.clone()
        code, out, err = self.gsrun("pull", cwd=clone)
        self.assertNotEqual(code, 0)
        self.assertIn(gone, out + err)
        self.assertIn("my file \u00e9.txt", out + err)
        self.assertTrue(os.path.exists(os.path.join(clone, "big.bin")))
        code, out, err = self.gsrun("status", "-c", "--json", cwd=clone)
        self.assertEqual(json.loads(out).get("my file \u00e9.txt"), "missing", out)

    def test_foreign_service_account_is_a_clear_error_without_the_key(self):
        self.make_project()
        bad, secret = self.server.bad_credentials({})
        self.dvx("remote", "modify", "--local", "gsr", "credentialpath", bad["credentialpath"])
        clone = self.clone()
        for cmd, cwd in ((["push"], None), (["status", "-c"], None), (["fetch"], clone)):
            code, out, err = self.gsrun(*cmd, cwd=cwd, secrets=(secret,))
            self.assertNotEqual(code, 0, cmd)
            self.assertIn("authentication failed", err, cmd)
            self.assertIn("Invalid JWT Signature", err, cmd)
        self.assertEqual(self.server.list_objects(self.bucket), [])
        # No credentials anywhere: says where to put them.
        self.dvx("remote", "modify", "--local", "--unset", "gsr", "credentialpath")
        code, out, err = self.gsrun("push")
        self.assertNotEqual(code, 0)
        self.assertIn("GOOGLE_APPLICATION_CREDENTIALS", err)
        # The environment variables instead of options.
        self.dvx("remote", "modify", "--local", "--unset", "gsr", "endpointurl")
        code, out, err = self.gsrun("push", env={"GOOGLE_APPLICATION_CREDENTIALS": self.server.credentials,
                                                 "STORAGE_EMULATOR_HOST": self.server.endpoint[len("http://"):]})
        self.assertEqual(code, 0, err)
        self.assertEqual(self.remote_objects(), set(self.cache_objects()))

    def test_missing_bucket_is_an_error(self):
        self.make_project()
        self.dvx("remote", "modify", "gsr", "url", "gs://no-such-bucket-here/x")
        for cmd in (["push"], ["status", "-c"]):
            code, out, err = self.gsrun(*cmd)
            self.assertNotEqual(code, 0)
            self.assertIn("bucket 'no-such-bucket-here' does not exist", err)

    def test_expiring_and_revoked_tokens_are_renewed(self):
        files = {f"d/f{i}.txt": f"{i}\n" for i in range(30)}
        # Tokens that live 60 s: dvx renews a token a minute before it expires, so every request
        # asks for a new one. Then tokens revoked every 10 requests: a 401 renews the token.
        for kw, least in (({"token_lifetime": 60}, 31), ({"revoke_every": 10}, 3)):
            with self.subTest(**kw), tempfile.TemporaryDirectory(prefix="dvx-gcs-tok-") as wd, \
                    gcs.Server(wd, max_results=7, **kw) as server:
                shutil.rmtree(self.repo, ignore_errors=True)
                self.make_project(server=server, files=files)
                code, out, err = self.gsrun("push", "-j", "2")
                self.assertEqual(code, 0, err)
                self.assertEqual(self.remote_objects(server), set(self.cache_objects()))
                self.assertGreaterEqual(server.stats()["tokens_issued"], least)

    def test_server_stopped_mid_push_then_rerun_completes(self):
        with tempfile.TemporaryDirectory(prefix="dvx-gcs-stop-") as wd, gcs.Server(wd) as server:
            files = {f"bulk/f{i:03d}.bin": f"{i}\n" * 2000 for i in range(300)}
            self.make_project(server=server, files=files)
            env = dict(self.env, **ENV, DVX_GCS_ATTEMPTS="3")
            proc = subprocess.Popen([dvxtest.DVX_BIN, "push", "-j", "2"], cwd=self.repo, env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            deadline = time.time() + 60
            while len(server.list_objects(self.bucket)) < 20:
                self.assertIsNone(proc.poll(), "push finished before the server could be stopped")
                self.assertLess(time.time(), deadline)
                time.sleep(0.02)
            server.stop()
            out, err = proc.communicate(timeout=120)
            out, err = out.decode(), err.decode()
            self.assertNotEqual(proc.returncode, 0, out)
            self.assertIn("127.0.0.1", err)
            code, out, err = self.gsrun("fsck", "--json")
            self.assertEqual(code, 0, out + err)
            server.start()
            code, out, err = self.gsrun("push")
            self.assertEqual(code, 0, err)
            self.assertNotEqual(out, "Everything is up to date.\n")
            self.assertEqual(self.remote_objects(server), set(self.cache_objects()))
            code, out, err = self.gsrun("fsck", "--json", "-r", "gsr", "--deep")
            self.assertEqual(code, 0, out + err)
            self.assertEqual(self.gsrun("push")[:2], (0, "Everything is up to date.\n"))


if __name__ == "__main__":
    unittest.main()
