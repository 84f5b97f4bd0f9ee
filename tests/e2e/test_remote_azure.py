"""Azure Blob remotes against Azurite (tests/servers/azurite.py, started and stopped here), which
really verifies Shared Key and SAS signatures: push, pull, fetch and status -c through
`azure://container/prefix` with a connection string, an account SAS and the environment;
block uploads, list paging, names with spaces and unicode, a missing blob, a wrong key (clear
error, the key never printed) and the server stopped in the middle of a push."""

import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

import dvxtest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "servers"))
import azurite  # noqa: E402

SKIP = azurite.available()
# Small thresholds so that a 50 kB file goes up in blocks and 300 blobs take several list pages.
ENV = {"DVX_AZURE_BLOCK_THRESHOLD": "8192", "DVX_AZURE_BLOCK_SIZE": "4096", "DVX_AZURE_LIST_PAGE": "50",
       "AZURE_STORAGE_CONNECTION_STRING": "", "AZURE_STORAGE_ACCOUNT": "", "AZURE_STORAGE_KEY": ""}


@unittest.skipIf(SKIP, SKIP)
class AzureRemote(dvxtest.DvxTestCase):
    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="dvx-azurite-")
        cls.server = azurite.Server(cls.workdir).__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)
        import shutil
        shutil.rmtree(cls.workdir, ignore_errors=True)

    # ------------------------------------------------------------------ helpers

    def azrun(self, *args, cwd=None, env=None, secrets=()):
        full = dict(ENV, **(env or {}))
        code, out, err = self.run(*args, cwd=cwd, env=full, timeout=120)
        for s in (azurite.KEY,) + tuple(secrets):
            self.assertNotIn(s, out + err)
        return code, out, err

    def add_remote(self, url, options, name="azr", local=False):
        self.dvx("remote", "add", "-f", "-d", name, url)
        for k, v in options.items():
            self.dvx("remote", "modify", *(["--local"] if local else []), name, k, v)

    def make_project(self, server=None, files=None, options=True):
        server = server or self.server
        self.init_git()
        self.dvx("init", "-q")
        if files is None:
            files = {f"data/f{i:03d}.txt": f"small file {i}\n" * (i % 5 + 1) for i in range(40)}
            files["data/sub dir/caf\u00e9 \u00fcn\u00efcode.txt"] = "unicode name\n"
            files["my file \u00e9.txt"] = "spaces and unicode\n"
            files["big.bin"] = "".join(chr(65 + (i * 7) % 26) for i in range(50_000))  # > 8192: blocks
        for rel, content in files.items():
            self.write(self.p(rel), content)
        for target in sorted({rel.split("/")[0] for rel in files}):
            self.dvx("add", target)
        url, opts = server.new_remote(self.id().rsplit(".", 1)[-1])
        self.container = url.split("/")[2]
        # The key goes to config.local (never committed), the URL to the committed config.
        self.add_remote(url, {})
        if options:
            for k, v in opts.items():
                self.dvx("remote", "modify", "--local", "azr", k, v)
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "data")
        return files

    def clone(self, name="clone"):
        dst = os.path.join(self.tmp, name)
        self.git("clone", "-q", self.repo, dst, cwd=self.tmp)
        with open(os.path.join(self.repo, ".dvc", "config.local")) as src, \
                open(os.path.join(dst, ".dvc", "config.local"), "w") as out:
            out.write(src.read())
        return dst

    def remote_objects(self, server=None):
        names = (server or self.server).list_blobs(self.container, "store/")
        return {n[len("store/files/md5/"):] for n in names}

    # ------------------------------------------------------------------ tests

    def test_push_pull_fetch_status_round_trip(self):
        files = self.make_project()
        code, out, err = self.azrun("status", "-c", "--json")
        self.assertEqual(code, 0, err)
        self.assertIn("new", out)

        code, out, err = self.azrun("push")
        self.assertEqual(code, 0, err)
        cache = set(self.cache_objects())
        self.assertEqual(out, f"{len(cache)} files pushed\n")
        self.assertEqual(self.remote_objects(), cache)
        # The large file went up as several committed blocks.
        big = dvxtest.md5_file(self.p("big.bin"))
        status, body, _ = self.server.request("GET", f"/{self.container}/store/files/md5/{big[:2]}/{big[2:]}",
                                              [("comp", "blocklist"), ("blocklisttype", "committed")])
        self.assertEqual(status, 200, body)
        self.assertGreaterEqual(body.count(b"<Block>"), 10, body[:500])

        self.assertEqual(self.azrun("status", "-c", "--json")[:2], (0, "{}\n"))
        self.assertEqual(self.azrun("push")[:2], (0, "Everything is up to date.\n"))

        clone = self.clone()
        code, out, err = self.azrun("pull", cwd=clone)
        self.assertEqual(code, 0, err)
        for rel, content in files.items():
            with open(os.path.join(clone, rel), "rb") as f:
                self.assertEqual(f.read(), content.encode(), rel)

        other = self.clone("other")
        code, out, err = self.azrun("fetch", cwd=other)
        self.assertEqual(code, 0, err)
        self.assertEqual(self.cache_objects(os.path.join(other, ".dvc", "cache")), cache)
        self.assertFalse(os.path.exists(os.path.join(other, "big.bin")))
        self.assertEqual(self.azrun("status", "-c", "--json", cwd=other)[:2], (0, "{}\n"))

    def test_300_small_files_and_list_paging(self):
        files = {f"many/d{i % 7}/file {i:03d} \u00e9.txt": f"content {i}\n" for i in range(300)}
        self.make_project(files=files)
        code, out, err = self.azrun("push", "-j", "8")
        self.assertEqual(code, 0, err)
        cache = set(self.cache_objects())
        self.assertEqual(len(cache), 301)  # 300 files and the .dir object
        self.assertEqual(self.remote_objects(), cache)
        # fsck -r lists the remote (50 blobs a page here) and finds every object.
        code, out, err = self.azrun("fsck", "--json", "-r", "azr")
        self.assertEqual(code, 0, out + err)
        self.assertEqual(json.loads(out)["checked_remote"], 301, out)
        self.assertEqual(self.azrun("push")[:2], (0, "Everything is up to date.\n"))
        clone = self.clone()
        code, out, err = self.azrun("pull", "-j", "8", cwd=clone)
        self.assertEqual(code, 0, err)
        for rel, content in files.items():
            with open(os.path.join(clone, rel), "rb") as f:
                self.assertEqual(f.read(), content.encode(), rel)

    def test_missing_blob_on_pull_fails_clearly(self):
        self.make_project()
        self.assertEqual(self.azrun("push")[0], 0)
        gone = dvxtest.md5_file(self.p("my file \u00e9.txt"))
        self.assertEqual(self.server.delete_blob(self.container, f"store/files/md5/{gone[:2]}/{gone[2:]}"), 202)
        clone = self.clone()
        code, out, err = self.azrun("pull", cwd=clone)
        self.assertNotEqual(code, 0)
        self.assertIn(gone, out + err)
        self.assertIn("my file \u00e9.txt", out + err)
        self.assertTrue(os.path.exists(os.path.join(clone, "big.bin")))
        code, out, err = self.azrun("status", "-c", "--json", cwd=clone)
        self.assertEqual(json.loads(out).get("my file \u00e9.txt"), "missing", out)

    def test_wrong_key_is_a_clear_error_without_the_key(self):
        self.make_project(options=False)
        _, opts = self.server.new_remote("unused")
        bad, secret = self.server.bad_credentials(opts)
        self.assertTrue(secret)
        for k, v in bad.items():
            self.dvx("remote", "modify", "--local", "azr", k, v)
        clone = self.clone()
        for cmd, cwd in ((["push"], None), (["status", "-c"], None), (["fetch"], clone)):
            code, out, err = self.azrun(*cmd, cwd=cwd, secrets=(secret,))
            self.assertNotEqual(code, 0, cmd)
            self.assertIn("authentication failed", err, cmd)
            self.assertIn(self.container, err, cmd)
        self.assertEqual(self.server.list_blobs(self.container), [])
        # No credentials at all: says where to put them.
        self.dvx("remote", "modify", "--local", "--unset", "azr", "connection_string")
        self.dvx("remote", "modify", "--local", "azr", "account_name", azurite.ACCOUNT)
        code, out, err = self.azrun("push")
        self.assertNotEqual(code, 0)
        self.assertIn("AZURE_STORAGE_KEY", err)

    def test_missing_container_is_an_error(self):
        self.make_project()
        self.dvx("remote", "modify", "azr", "url", "azure://no-such-container-here/x")
        for cmd in (["push"], ["status", "-c"]):
            code, out, err = self.azrun(*cmd)
            self.assertNotEqual(code, 0)
            self.assertIn("no-such-container-here", err)
            self.assertIn("does not exist", err)

    def test_sas_token_and_environment_credentials(self):
        files = self.make_project(options=False)
        endpoint_only = f"BlobEndpoint={self.server.endpoint};"
        sas = self.server.sas_token()
        self.dvx("remote", "modify", "--local", "azr", "connection_string", endpoint_only)
        self.dvx("remote", "modify", "--local", "azr", "sas_token", sas)
        sig = [p for p in sas.split("&") if p.startswith("sig=")][0][4:]
        code, out, err = self.azrun("push", secrets=(sig,))
        self.assertEqual(code, 0, err)
        self.assertEqual(self.remote_objects(), set(self.cache_objects()))
        # A read-only SAS can pull but not push.
        clone = self.clone()
        self.dvx("remote", "modify", "--local", "azr", "sas_token", self.server.sas_token("rl"), cwd=clone)
        code, out, err = self.azrun("pull", cwd=clone)
        self.assertEqual(code, 0, err)
        self.assertFileBytes(os.path.join(clone, "big.bin"), files["big.bin"].encode())
        self.write(os.path.join(clone, "new.txt"), "new\n")
        self.dvx("add", "new.txt", cwd=clone)
        code, out, err = self.azrun("push", cwd=clone)
        self.assertNotEqual(code, 0)
        self.assertIn("authentication failed", err)
        # A SAS signed with another key is refused; its signature is never printed.
        bad = self.server.sas_token(key=azurite.base64.b64encode(b"k" * 64).decode())
        bad_sig = [p for p in bad.split("&") if p.startswith("sig=")][0][4:]
        self.dvx("remote", "modify", "--local", "azr", "sas_token", bad, cwd=clone)
        code, out, err = self.azrun("push", cwd=clone, secrets=(bad_sig, azurite.urllib.parse.unquote(bad_sig)))
        self.assertNotEqual(code, 0)
        self.assertIn("authentication failed", err)
        # The environment: AZURE_STORAGE_CONNECTION_STRING when the remote has no credentials.
        self.dvx("remote", "modify", "--local", "--unset", "azr", "sas_token", cwd=clone)
        self.dvx("remote", "modify", "--local", "--unset", "azr", "connection_string", cwd=clone)
        code, out, err = self.azrun("push", cwd=clone,
                                    env={"AZURE_STORAGE_CONNECTION_STRING": self.server.connection_string()})
        self.assertEqual(code, 0, err)
        self.assertEqual(out, "1 file pushed\n")

    def test_server_stopped_mid_push_then_rerun_completes(self):
        with tempfile.TemporaryDirectory(prefix="dvx-azurite-stop-") as wd, azurite.Server(wd) as server:
            files = {f"bulk/f{i:03d}.bin": f"{i}\n" * 2000 for i in range(300)}
            self.make_project(server=server, files=files)
            env = dict(self.env, **ENV, DVX_AZURE_ATTEMPTS="3")
            proc = subprocess.Popen([dvxtest.DVX_BIN, "push", "-j", "2"], cwd=self.repo, env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            deadline = time.time() + 60
            while len(server.list_blobs(self.container)) < 20:
                self.assertIsNone(proc.poll(), "push finished before the server could be stopped")
                self.assertLess(time.time(), deadline)
                time.sleep(0.02)
            server.stop()
            out, err = proc.communicate(timeout=120)
            out, err = out.decode(), err.decode()
            self.assertNotEqual(proc.returncode, 0, out)
            self.assertIn("127.0.0.1", err)
            self.assertNotIn(azurite.KEY, out + err)
            # The cache is intact.
            code, out, err = self.azrun("fsck", "--json")
            self.assertEqual(code, 0, out + err)
            server.start()
            code, out, err = self.azrun("push")
            self.assertEqual(code, 0, err)
            self.assertNotEqual(out, "Everything is up to date.\n")
            self.assertEqual(self.remote_objects(server), set(self.cache_objects()))
            code, out, err = self.azrun("fsck", "--json", "-r", "azr", "--deep")
            self.assertEqual(code, 0, out + err)
            self.assertEqual(self.azrun("push")[:2], (0, "Everything is up to date.\n"))


if __name__ == "__main__":
    unittest.main()
