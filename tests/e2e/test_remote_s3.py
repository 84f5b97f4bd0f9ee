"""S3 remotes against a real S3 server (moto_server, started and stopped here): push, pull,
fetch and status -c through `s3://bucket/prefix` with `endpointurl` and AWS credentials from the
environment (formats.md 5, 9.3). The object keys are the local remote's layout, so the real DVC
(dvc-real, when installed) pulls what dvx pushed and the other way round.

moto does not verify signatures: the SigV4 signer is tested against AWS's published vectors in
tests/unit/remote/s3_sign_test.cpp."""

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import dvxtest

MOTO = shutil.which("moto_server")
DVC_REAL = "/usr/local/bin/dvc-real"
ACCESS = "AKIDDVXTESTKEY"
SECRET = "s3cr3t-DVX-never-printed-0123456789"
NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@unittest.skipUnless(MOTO, "moto_server is not installed")
class S3Remote(dvxtest.DvxTestCase):
    @classmethod
    def setUpClass(cls):
        cls.port = free_port()
        cls.endpoint = f"http://127.0.0.1:{cls.port}"
        env = dict(os.environ, S3_UPLOAD_PART_MIN_SIZE="1024")
        cls.moto = subprocess.Popen([MOTO, "-H", "127.0.0.1", "-p", str(cls.port)], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(cls.endpoint + "/moto-api/", timeout=1).read()
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.time() > deadline or cls.moto.poll() is not None:
                    cls.moto.kill()
                    raise RuntimeError("moto_server did not start")
                time.sleep(0.1)
        cls.buckets = 0

    @classmethod
    def tearDownClass(cls):
        cls.moto.send_signal(signal.SIGTERM)
        try:
            cls.moto.wait(timeout=10)
        except subprocess.TimeoutExpired:
            cls.moto.kill()
            cls.moto.wait()

    # ------------------------------------------------------------------ helpers

    def http(self, method, path, data=None):
        req = urllib.request.Request(self.endpoint + path, method=method, data=data)
        # moto checks no signature, but answers 403 to an anonymous DELETE: any SigV4-shaped header
        req.add_header("Authorization", "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/s3/aws4_request, "
                                        "SignedHeaders=host, Signature=00")
        if data is not None:
            req.add_header("Content-Type", "application/octet-stream")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read(), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, e.read(), dict(e.headers)

    def new_bucket(self):
        type(self).buckets += 1
        name = f"dvx-test-{os.getpid()}-{self.buckets}"
        status, body, _ = self.http("PUT", "/" + name, data=b"")
        self.assertEqual(status, 200, body)
        return name

    def list_keys(self, bucket, prefix=""):
        keys = []
        token = None
        while True:
            q = {"list-type": "2", "prefix": prefix}
            if token:
                q["continuation-token"] = token
            status, body, _ = self.http("GET", f"/{bucket}?" + urllib.parse.urlencode(q))
            self.assertEqual(status, 200, body)
            root = ET.fromstring(body)
            keys += [c.find(NS + "Key").text for c in root.findall(NS + "Contents")]
            if root.findtext(NS + "IsTruncated") != "true":
                return keys
            token = root.findtext(NS + "NextContinuationToken")

    def s3env(self, **extra):
        env = {"AWS_ACCESS_KEY_ID": ACCESS, "AWS_SECRET_ACCESS_KEY": SECRET,
               "DVX_S3_MULTIPART_THRESHOLD": "8192", "DVX_S3_MULTIPART_CHUNKSIZE": "4096"}
        env.update(extra)
        return env

    def s3run(self, *args, cwd=None, env=None):
        code, out, err = self.run(*args, cwd=cwd, env=env or self.s3env())
        self.assertNotIn(SECRET, out + err)
        return code, out, err

    def make_project(self, bucket, prefix="store/dvx"):
        self.init_git()
        self.dvx("init", "-q")
        files = {f"data/f{i:03d}.txt": f"small file {i}\n" * (i % 5 + 1) for i in range(40)}
        files["data/sub dir/caf\u00e9 \u00fcn\u00efcode.txt"] = "unicode name\n"
        files["my file \u00e9.txt"] = "spaces and unicode\n"
        files["big.bin"] = "".join(chr(65 + (i * 7) % 26) for i in range(50_000))  # > 8192: multipart
        for rel, content in files.items():
            self.write(self.p(rel), content)
        for target in ("data", "my file \u00e9.txt", "big.bin"):
            self.dvx("add", target)
        self.dvx("remote", "add", "-d", "s3r", f"s3://{bucket}/{prefix}")
        self.dvx("remote", "modify", "s3r", "endpointurl", self.endpoint)
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "data")
        return files

    def clone(self, name="clone"):
        dst = os.path.join(self.tmp, name)
        self.git("clone", "-q", self.repo, dst, cwd=self.tmp)
        return dst

    # ------------------------------------------------------------------ tests

    def test_push_pull_round_trip(self):
        self.round_trip(self.s3env())

    def test_push_pull_round_trip_through_curl(self):
        # Plain http:// goes over dvx's own sockets; curl carries https, proxies and the rest.
        # The same round trip with curl forced keeps that path proven against the same server.
        self.round_trip(self.s3env(DVX_HTTP_TRANSPORT="curl"))

    def test_a_proxy_in_the_environment_is_used(self):
        bucket = self.new_bucket()
        self.make_project(bucket)
        dead = f"http://127.0.0.1:{free_port()}"
        code, out, err = self.s3run("push", env=self.s3env(http_proxy=dead, DVX_S3_ATTEMPTS="1"))
        self.assertNotEqual(code, 0, out)
        self.assertIn("127.0.0.1", err)
        self.assertEqual(self.list_keys(bucket, "store/dvx/"), [])
        # no_proxy as curl reads it lets the same push through.
        code, out, err = self.s3run("push", env=self.s3env(http_proxy=dead, no_proxy="127.0.0.1"))
        self.assertEqual(code, 0, err)

    def round_trip(self, env):
        bucket = self.new_bucket()
        files = self.make_project(bucket)
        run = lambda *args, cwd=None: self.s3run(*args, cwd=cwd, env=env)  # noqa: E731
        code, out, err = run("status", "-c", "--json")
        self.assertEqual(code, 0, err)
        self.assertTrue(out.strip() and out.strip() != "{}", out)

        code, out, err = run("push")
        self.assertEqual(code, 0, err)
        cache = set(self.cache_objects())
        n = len(cache)
        self.assertEqual(out, f"{n} files pushed\n")
        keys = self.list_keys(bucket, "store/dvx/")
        self.assertEqual({k[len("store/dvx/"):] for k in keys}, {"files/md5/" + o for o in cache})
        # The large file went up in parts (a multipart ETag ends in -<parts>).
        big = dvxtest.md5_file(self.p("big.bin"))
        _, _, headers = self.http("HEAD", f"/{bucket}/store/dvx/files/md5/{big[:2]}/{big[2:]}")
        self.assertRegex(headers.get("ETag", ""), r"-\d+\"?$")

        self.assertEqual(run("status", "-c", "--json"), (0, "{}\n", ""))
        self.assertEqual(run("push")[:2], (0, "Everything is up to date.\n"))

        clone = self.clone()
        code, out, err = run("pull", cwd=clone)
        self.assertEqual(code, 0, err)
        for rel, content in files.items():
            with open(os.path.join(clone, rel), "rb") as f:
                self.assertEqual(f.read(), content.encode(), rel)

        # fetch into another clone fills the cache only; status -c is clean there too.
        other = self.clone("other")
        code, out, err = run("fetch", cwd=other)
        self.assertEqual(code, 0, err)
        self.assertEqual(self.cache_objects(os.path.join(other, ".dvc", "cache")), cache)
        self.assertFalse(os.path.exists(os.path.join(other, "big.bin")))
        self.assertEqual(run("status", "-c", "--json", cwd=other), (0, "{}\n", ""))

    def test_missing_object_on_pull_fails_clearly(self):
        bucket = self.new_bucket()
        self.make_project(bucket, prefix="p")
        self.assertEqual(self.s3run("push")[0], 0)
        gone = dvxtest.md5_file(self.p("my file \u00e9.txt"))
        status, body, _ = self.http("DELETE", f"/{bucket}/p/files/md5/{gone[:2]}/{gone[2:]}")
        self.assertEqual(status, 204, body)
        clone = self.clone()
        code, out, err = self.s3run("pull", cwd=clone)
        self.assertNotEqual(code, 0)
        self.assertIn(gone, out + err)
        self.assertIn("my file \u00e9.txt", out + err)
        # The rest was still pulled.
        self.assertTrue(os.path.exists(os.path.join(clone, "big.bin")))
        code, out, err = self.s3run("status", "-c", "--json", cwd=clone)
        self.assertEqual(json.loads(out).get("my file \u00e9.txt"), "missing", out)

    def test_missing_bucket_and_credentials_are_errors_without_secrets(self):
        self.make_project("no-such-bucket-here")
        code, out, err = self.s3run("push")
        self.assertNotEqual(code, 0)
        self.assertIn("no-such-bucket-here", out + err)
        self.assertRegex(out + err, "NoSuchBucket|bucket '[^']+' does not exist")
        code, out, err = self.s3run("status", "-c")
        self.assertNotEqual(code, 0)
        self.assertIn("no-such-bucket-here", out + err)
        # No credentials anywhere: says where to put them.
        code, out, err = self.s3run("push", env={"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""})
        self.assertNotEqual(code, 0)
        self.assertIn("AWS_ACCESS_KEY_ID", err)
        # Credentials in the remote's options (config.local) work and are never echoed.
        bucket = self.new_bucket()
        self.dvx("remote", "modify", "--local", "s3r", "url", f"s3://{bucket}/opts")
        self.dvx("remote", "modify", "--local", "s3r", "access_key_id", ACCESS)
        self.dvx("remote", "modify", "--local", "s3r", "secret_access_key", SECRET)
        code, out, err = self.s3run("push", env={"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""})
        self.assertEqual(code, 0, err)
        self.assertTrue(self.list_keys(bucket, "opts/files/md5/"))

    def test_server_down_is_a_clear_error(self):
        self.make_project("any-bucket")
        dead = f"http://127.0.0.1:{free_port()}"
        self.dvx("remote", "modify", "s3r", "endpointurl", dead)
        code, out, err = self.s3run("push", env=self.s3env(DVX_S3_ATTEMPTS="2"))
        self.assertNotEqual(code, 0)
        self.assertIn("127.0.0.1", err)

    @unittest.skipUnless(os.path.exists(DVC_REAL), f"{DVC_REAL} (the real DVC) is not installed")
    def test_real_dvc_reads_and_writes_the_same_layout(self):
        bucket = self.new_bucket()
        files = self.make_project(bucket, prefix="x")
        self.assertEqual(self.s3run("push")[0], 0)
        env = dict(self.env, **self.s3env())
        clone = self.clone()
        r = subprocess.run([DVC_REAL, "pull"], cwd=clone, env=env, capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        for rel, content in files.items():
            with open(os.path.join(clone, rel), "rb") as f:
                self.assertEqual(f.read(), content.encode(), rel)
        # DVC pushes new data to a fresh prefix; dvx pulls it.
        self.write(os.path.join(clone, "from-dvc.txt"), "written by dvc\n")
        subprocess.run([DVC_REAL, "add", "from-dvc.txt"], cwd=clone, env=env, check=True, capture_output=True)
        subprocess.run([DVC_REAL, "remote", "modify", "s3r", "url", f"s3://{bucket}/y"], cwd=clone, env=env,
                       check=True, capture_output=True)
        r = subprocess.run([DVC_REAL, "push"], cwd=clone, env=env, capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        shutil.rmtree(os.path.join(clone, ".dvc", "cache"))
        for rel in list(files) + ["from-dvc.txt"]:
            os.remove(os.path.join(clone, rel))
        code, out, err = self.s3run("pull", cwd=clone)
        self.assertEqual(code, 0, err)
        self.assertFileBytes(os.path.join(clone, "from-dvc.txt"), b"written by dvc\n")
        self.assertFileBytes(os.path.join(clone, "big.bin"), files["big.bin"].encode())


if __name__ == "__main__":
    unittest.main()
