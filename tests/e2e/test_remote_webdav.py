"""WebDAV and plain HTTP remotes against a real server (nginx + dav-ext with basic auth,
tests/servers/webdav.py, started and stopped here): push, pull, fetch and status -c through
`webdav://host/path` with `user`/`password` (formats.md 5, 9.3); objects are laid out as on a local
remote. The server is strict about missing parent collections (no create_full_put_path), so the
client's MKCOL is exercised. Plain `http://` remotes read the same files without auth."""

import json
import os
import subprocess
import sys
import threading
import time
import unittest
import urllib.parse

import dvxtest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "servers"))
import webdav  # noqa: E402

REASON = webdav.available()


@unittest.skipIf(REASON, REASON or "")
class WebdavRemote(dvxtest.DvxTestCase):
    @classmethod
    def setUpClass(cls):
        import tempfile
        cls.srvdir = tempfile.mkdtemp(prefix="dvx-webdav-srv-")
        cls.server = webdav.Server(cls.srvdir)
        cls.server.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)
        import shutil
        shutil.rmtree(cls.srvdir, ignore_errors=True)

    def setUp(self):
        super().setUp()
        if self.server.process is None:  # a test stopped it
            self.server.start()

    # ------------------------------------------------------------------ helpers

    def wrun(self, *args, cwd=None, check=None):
        code, out, err = self.run(*args, cwd=cwd, check=check)
        self.assertNotIn(webdav.PASSWORD, out + err)
        return code, out, err

    def new_remote(self, tag, sub=""):
        url, opts = self.server.new_remote(tag)
        if sub:  # a root below the new folder, with spaces and unicode (made by MKCOL)
            url += "/" + sub
        return url, opts

    def add_remote(self, url, opts, cwd=None, name="dav"):
        self.dvx("remote", "add", "-d", name, url, cwd=cwd)
        for k, v in opts.items():
            # credentials in the git-ignored local config, as a user would keep them
            self.dvx("remote", "modify", "--local" if k == "password" else "--project", name, k, v, cwd=cwd)
        if cwd is None:
            self.git("add", ".dvc/config")
            self.git("commit", "-q", "-m", "remote")

    def server_dir(self, url):
        rel = url.split("/dav/", 1)[1]
        return os.path.join(self.server.root, rel)

    def objects_on_server(self, url):
        root = os.path.join(self.server_dir(url), "files", "md5")
        out, tmp = set(), []
        for d, _, names in os.walk(root):
            for n in names:
                if ".dvxtmp." in n:
                    tmp.append(n)
                else:
                    out.add(os.path.relpath(os.path.join(d, n), root).replace(os.sep, ""))
        return out, tmp

    def cache_objects(self, cache=None):
        cache = cache or self.p(".dvc", "cache", "files", "md5")
        out = set()
        for d, _, names in os.walk(cache):
            for n in names:
                out.add(os.path.relpath(os.path.join(d, n), cache).replace(os.sep, ""))
        return out

    def make_project(self, files):
        self.init_git()
        self.dvx("init", "-q")
        for rel, content in files.items():
            self.write(self.p(rel), content)
        for target in sorted({rel.split("/")[0] for rel in files}):
            self.dvx("add", target)
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "data")

    def clone(self, name="clone"):
        dst = os.path.join(self.tmp, name)
        self.git("clone", "-q", self.repo, dst, cwd=self.tmp)
        return dst

    def copy_local_config(self, clone):
        src = self.p(".dvc", "config.local")
        if os.path.exists(src):
            with open(src, "rb") as f, open(os.path.join(clone, ".dvc", "config.local"), "wb") as g:
                g.write(f.read())

    def push_again(self):
        """A push with everything already on the remote: nothing is uploaded (no PUT reaches the
        server). Returns the server's access log lines of that push."""
        log = os.path.join(self.srvdir, "access.log")
        before = os.path.getsize(log)
        self.assertEqual(self.wrun("push")[:2], (0, "Everything is up to date.\n"))
        time.sleep(0.2)
        with open(log, "rb") as f:
            f.seek(before)
            requests = f.read()
        self.assertNotIn(b'"PUT ', requests)
        return requests

    # ------------------------------------------------------------------ tests

    def test_round_trip_big_file_and_unicode_names(self):
        big = bytes((i * 7 + i // 4096) % 251 for i in range(20 * 1024 * 1024))
        files = {f"data/f{i}.txt": f"file {i}\n" * (i + 1) for i in range(10)}
        files["data/sub dir/caf\u00e9 \u00fcn\u00efcode.txt"] = "unicode name\n"
        files["my file \u00e9.txt"] = "spaces and unicode\n"
        self.make_project(files)
        self.write(self.p("big.bin"), big)
        self.dvx("add", "big.bin")
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "big")
        url, opts = self.new_remote("round", "store d\u00e9j\u00e0/sub")
        self.add_remote(url, opts)

        code, out, err = self.wrun("status", "-c", "--json")
        self.assertEqual(code, 0, err)
        self.assertNotEqual(out.strip(), "{}")
        code, out, err = self.wrun("push")
        self.assertEqual(code, 0, err)
        cache = self.cache_objects()
        self.assertEqual(out, f"{len(cache)} files pushed\n")
        there, tmp = self.objects_on_server(url)
        self.assertEqual(there, cache)
        self.assertEqual(tmp, [], "temporary upload names left behind")
        oid = dvxtest.md5_bytes(big)
        with open(os.path.join(self.server_dir(url), "files", "md5", oid[:2], oid[2:]), "rb") as f:
            self.assertEqual(f.read(), big)

        self.assertEqual(self.wrun("status", "-c", "--json"), (0, "{}\n", ""))
        # A second push transfers nothing: no PUT reaches the server.
        self.push_again()

        clone = self.clone()
        self.copy_local_config(clone)
        code, out, err = self.wrun("pull", cwd=clone)
        self.assertEqual(code, 0, err)
        for rel, content in files.items():
            with open(os.path.join(clone, rel), "rb") as f:
                self.assertEqual(f.read(), content.encode(), rel)
        with open(os.path.join(clone, "big.bin"), "rb") as f:
            self.assertEqual(f.read(), big)

        other = self.clone("other")
        self.copy_local_config(other)
        code, out, err = self.wrun("fetch", cwd=other)
        self.assertEqual(code, 0, err)
        self.assertEqual(self.cache_objects(os.path.join(other, ".dvc", "cache", "files", "md5")), cache)
        self.assertFalse(os.path.exists(os.path.join(other, "big.bin")))
        self.assertEqual(self.wrun("status", "-c", "--json", cwd=other), (0, "{}\n", ""))

    def test_many_small_files_listed_with_propfind(self):
        # 1100 objects: more than the transfer's threshold for listing the remote (PROPFIND)
        # instead of one HEAD per object.
        files = {f"many/{i:04d}.txt": f"small {i}\n" for i in range(1100)}
        self.make_project(files)
        url, opts = self.new_remote("many")
        self.add_remote(url, opts)
        code, out, err = self.wrun("push")
        self.assertEqual(code, 0, err)
        self.assertEqual(out, "1101 files pushed\n")
        self.assertEqual(self.objects_on_server(url)[0], self.cache_objects())
        requests = self.push_again()
        self.assertIn(b'"PROPFIND ', requests)
        self.assertLess(requests.count(b'"HEAD '), 100)
        self.assertEqual(self.wrun("status", "-c", "--json"), (0, "{}\n", ""))
        clone = self.clone()
        self.copy_local_config(clone)
        code, out, err = self.wrun("pull", cwd=clone)
        self.assertEqual(code, 0, err)
        with open(os.path.join(clone, "many", "0777.txt")) as f:
            self.assertEqual(f.read(), "small 777\n")

    def test_missing_object_on_pull(self):
        files = {"data/a.txt": "a\n", "data/b.txt": "b\n", "gone \u00e9.txt": "will be removed\n"}
        self.make_project(files)
        url, opts = self.new_remote("missing")
        self.add_remote(url, opts)
        self.assertEqual(self.wrun("push")[0], 0)
        gone = dvxtest.md5_bytes(b"will be removed\n")
        os.remove(os.path.join(self.server_dir(url), "files", "md5", gone[:2], gone[2:]))
        clone = self.clone()
        self.copy_local_config(clone)
        code, out, err = self.wrun("pull", cwd=clone)
        self.assertNotEqual(code, 0)
        self.assertIn(gone, out + err)
        self.assertIn("gone \u00e9.txt", out + err)
        with open(os.path.join(clone, "data", "b.txt")) as f:
            self.assertEqual(f.read(), "b\n")
        code, out, err = self.wrun("status", "-c", "--json", cwd=clone)
        self.assertEqual(code, 0, err)
        self.assertEqual(json.loads(out).get("gone \u00e9.txt"), "missing", out)

    def test_wrong_password_is_a_clear_error(self):
        self.make_project({"data/a.txt": "a\n"})
        url, opts = self.new_remote("auth")
        bad, secret = self.server.bad_credentials(opts)
        self.add_remote(url, bad)
        clone = self.clone()
        self.copy_local_config(clone)
        for cmd, cwd in ((("push",), None), (("status", "-c"), None), (("pull",), clone)):
            code, out, err = self.run(*cmd, cwd=cwd)
            self.assertNotEqual(code, 0, cmd)
            self.assertNotIn(secret, out + err)
            self.assertNotIn(webdav.PASSWORD, out + err)
            self.assertIn("authentication failed", out + err, cmd)
            self.assertIn(url, out + err, cmd)
        self.assertEqual(self.objects_on_server(url)[0], set())

    def test_ask_password_prompts_on_the_terminal_once(self):
        # DVC's ask_password: the password is typed on the terminal (echo off), asked once per
        # command, never printed; without a terminal the command fails saying what to set.
        self.make_project({"data/a.txt": "a\n", "data/b.txt": "b\n"})
        url, opts = self.new_remote("ask")
        self.add_remote(url, {"user": opts["user"], "ask_password": "true"})
        code, shown, prompts = self.run_on_terminal(["push"], webdav.PASSWORD)
        self.assertEqual(code, 0, shown)
        host = url.split("//")[1].split(":")[0]
        self.assertEqual(prompts, [f"Enter a password for host '{host}' user '{opts['user']}':"], shown)
        self.assertNotIn(webdav.PASSWORD, shown)  # not echoed
        self.assertIn("3 files pushed", shown)
        self.assertEqual(len(self.objects_on_server(url)[0]), 3)
        # A wrong answer is an authentication failure, the answer not printed.
        clone = self.clone()
        code, shown, prompts = self.run_on_terminal(["pull"], "not-the-password", cwd=clone)
        self.assertNotEqual(code, 0, shown)
        self.assertEqual(len(prompts), 1, shown)
        self.assertIn("authentication failed", shown)
        self.assertNotIn("not-the-password", shown)
        # No terminal (a new session has none): a clear error, nothing asked on stdin.
        proc = subprocess.run([dvxtest.DVX_BIN, "pull"], cwd=clone, env=self.env, input=b"x\n",
                              capture_output=True, start_new_session=True, timeout=60)
        err = proc.stderr.decode()
        self.assertNotEqual(proc.returncode, 0, err)
        self.assertIn("cannot ask for the password", err)
        self.assertIn("dvx remote modify --local", err)
        self.assertFalse(os.path.exists(os.path.join(clone, "data", "a.txt")))

    def test_server_stopped_mid_push(self):
        files = {f"d/{i:03d}.bin": (f"{i}-" * 5000) for i in range(400)}
        self.make_project(files)
        url, opts = self.new_remote("stop")
        self.add_remote(url, opts)
        env = dict(self.env)
        proc = subprocess.Popen([dvxtest.DVX_BIN, "push", "-j", "1"], cwd=self.repo, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        stopped = threading.Event()

        def stopper():
            deadline = time.time() + 60
            while time.time() < deadline and proc.poll() is None:
                if len(self.objects_on_server(url)[0]) >= 20:
                    self.server.stop()
                    stopped.set()
                    return
                time.sleep(0.01)

        t = threading.Thread(target=stopper)
        t.start()
        out, err = proc.communicate(timeout=300)
        t.join()
        out, err = out.decode(), err.decode()
        self.assertTrue(stopped.is_set(), "the push finished before the server could be stopped")
        self.assertNotEqual(proc.returncode, 0, out + err)
        self.assertNotIn(webdav.PASSWORD, out + err)
        self.assertRegex(out + err, r"(?i)connect|connection|server")
        self.assertIn("127.0.0.1", out + err)
        code, fout, ferr = self.run("fsck")
        self.assertEqual(code, 0, fout + ferr)
        partial = len(self.objects_on_server(url)[0])
        self.assertLess(partial, 401)

        self.server.start()
        code, out, err = self.wrun("push")
        self.assertEqual(code, 0, err)
        self.assertEqual(out, f"{401 - partial} files pushed\n")
        there, tmp = self.objects_on_server(url)
        self.assertEqual(there, self.cache_objects())
        self.assertEqual(self.wrun("status", "-c", "--json"), (0, "{}\n", ""))

    def test_plain_http_pull(self):
        files = {"data/a.txt": "a\n", "data/sub dir/\u00fc.txt": "u\n", "top.txt": "top\n"}
        self.make_project(files)
        url, opts = self.new_remote("plain")
        self.add_remote(url, opts)
        self.assertEqual(self.wrun("push")[0], 0)
        clone = self.clone()
        self.dvx("remote", "add", "-f", "-d", "dav", self.server.public_url(url), cwd=clone)
        code, out, err = self.wrun("status", "-c", "--json", cwd=clone)
        self.assertEqual(code, 0, err)
        self.assertEqual(json.loads(out), {"data": "deleted", "top.txt": "deleted"})  # remote only
        code, out, err = self.wrun("pull", cwd=clone)
        self.assertEqual(code, 0, err)
        for rel, content in files.items():
            with open(os.path.join(clone, rel)) as f:
                self.assertEqual(f.read(), content, rel)
        # A missing object over plain HTTP is "missing", not an error of the remote.
        os.remove(os.path.join(self.server_dir(url), "files", "md5", dvxtest.md5_bytes(b"top\n")[:2],
                               dvxtest.md5_bytes(b"top\n")[2:]))
        code, out, err = self.wrun("status", "-c", "--json", cwd=clone)
        self.assertEqual(code, 0, err)
        self.assertEqual(json.loads(out).get("top.txt"), "new", out)

    def test_transient_failures_are_retried(self):
        """A flaky plain HTTP server in front of the same files: every object's first GET answers
        503 and its first HEAD drops the connection; pull still completes (3 attempts)."""
        files = {"data/a.txt": "a\n", "data/b.txt": "b\n", "c.txt": "c\n"}
        self.make_project(files)
        url, opts = self.new_remote("flaky")
        self.add_remote(url, opts)
        self.assertEqual(self.wrun("push")[0], 0)
        with PlainServer(self.server_dir(url), flaky=True) as srv:
            clone = self.clone()
            self.dvx("remote", "add", "-f", "-d", "dav", srv.url, cwd=clone)
            code, out, err = self.wrun("status", "-c", "--json", cwd=clone)
            self.assertEqual(code, 0, err)
            self.assertEqual(set(json.loads(out).values()), {"deleted"}, out)
            code, out, err = self.wrun("pull", cwd=clone)
            self.assertEqual(code, 0, err)
            for rel, content in files.items():
                with open(os.path.join(clone, rel)) as f:
                    self.assertEqual(f.read(), content, rel)
            self.assertTrue(any(m == "GET" and n >= 2 for (m, _), n in srv.seen.items()), srv.seen)
            self.assertTrue(any(m == "HEAD" and n >= 2 for (m, _), n in srv.seen.items()), srv.seen)

    def test_plain_http_push_post_and_put(self):
        """Plain HTTP uploads go straight to the object's URL with the `method` option: POST by
        default (as DVC), PUT when set."""
        files = {"data/a.txt": "a\n", "data/sub dir/\u00fc.txt": "u\n", "c.txt": "c\n"}
        self.make_project(files)
        for method in ("POST", "PUT"):
            root = os.path.join(self.tmp, "plain-" + method)
            with PlainServer(root) as srv:
                name = "http" + method.lower()
                self.dvx("remote", "add", "-f", name, srv.url)
                if method == "PUT":
                    self.dvx("remote", "modify", name, "method", "put")
                code, out, err = self.wrun("push", "-r", name)
                self.assertEqual(code, 0, err)
                cache = self.cache_objects()
                self.assertEqual(out, f"{len(cache)} files pushed\n")
                self.assertEqual({m for (m, _) in srv.seen} & {"POST", "PUT"}, {method})
                got = set()
                for d, _, names in os.walk(os.path.join(root, "files", "md5")):
                    got |= {os.path.relpath(os.path.join(d, n), os.path.join(root, "files", "md5")).replace(os.sep, "")
                            for n in names}
                self.assertEqual(got, cache)
                self.assertEqual(self.wrun("status", "-c", "-r", name, "--json"), (0, "{}\n", ""))


class PlainServer:
    """A small plain HTTP server on 127.0.0.1 serving `root` under /x/: GET/HEAD, and POST/PUT
    store the body (parents made). With `flaky`, each path's first GET answers 503 and its first
    HEAD drops the connection. `seen` counts requests by (method, path)."""

    def __init__(self, root, flaky=False):
        import http.server
        import socket
        os.makedirs(root, exist_ok=True)
        self.seen = {}
        lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def count(self):
                with lock:
                    key = (self.command, self.path)
                    outer.seen[key] = outer.seen.get(key, 0) + 1
                    return outer.seen[key]

            def local(self):
                rel = urllib.parse.unquote(self.path.split("/", 2)[2])
                return os.path.join(root, rel)

            def answer(self, code, data=b"", body=True):
                self.send_response(code)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if body:
                    self.wfile.write(data)

            def serve(self, body):
                path = self.local()
                if not os.path.isfile(path):
                    return self.answer(404)
                with open(path, "rb") as f:
                    self.answer(200, f.read(), body)

            def do_HEAD(self):
                if self.count() == 1 and flaky:
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                self.serve(False)

            def do_GET(self):
                if self.count() == 1 and flaky:
                    return self.answer(503)
                self.serve(True)

            def do_PUT(self):
                self.count()
                data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                path = self.local()
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as f:
                    f.write(data)
                self.answer(201)

            do_POST = do_PUT

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}/x"
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.srv.shutdown()
        self.srv.server_close()
        self.thread.join()

if __name__ == "__main__":
    unittest.main()
