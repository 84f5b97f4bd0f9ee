"""Google Cloud Storage test server: the protocol fake tests/servers/gcs_fake.py (no GCS emulator
installs here), with a throwaway service account (an RSA key made with `openssl`) whose JWTs the
fake verifies, and a token URI on the fake itself. Objects are files on disk in the workdir, so
they survive stop()/start().

Besides the shared interface (/work/notes/servers-interface.md) the Server offers request(),
list_keys() and delete_key() (with an admin token the fake accepts) for the tests."""

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

import common

BACKEND = "gs"
PERSISTENT = True
HERE = os.path.dirname(os.path.abspath(__file__))


def available():
    if not shutil.which("openssl"):
        return "openssl (the command) is not installed: apt-get install openssl"
    return None


def make_service_account(workdir, name, token_uri):
    """A service-account key file; returns (path, pem text, public key path)."""
    key = os.path.join(workdir, f"{name}.pem")
    pub = os.path.join(workdir, f"{name}.pub.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub], check=True, capture_output=True)
    with open(key) as f:
        pem = f.read()
    info = {"type": "service_account", "project_id": "dvx-test", "private_key_id": secrets.token_hex(20),
            "private_key": pem, "client_email": f"{name}@dvx-test.iam.gserviceaccount.com",
            "client_id": "1234567890", "token_uri": token_uri}
    path = os.path.join(workdir, f"{name}.json")
    with open(path, "w") as f:
        json.dump(info, f, indent=2)
    return path, pem, pub


class Server:
    def __init__(self, workdir, token_lifetime=3600, max_results=1000, revoke_every=0):
        self.workdir = workdir
        self.port = common.free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.token_uri = f"{self.endpoint}/token"
        self.log = os.path.join(workdir, "gcs-fake.log")
        self.admin = "admin-" + secrets.token_hex(8)
        self.credentials, self.pem, pub = make_service_account(workdir, "dvx-sa", self.token_uri)
        self.process = common.Process(
            [sys.executable, os.path.join(HERE, "gcs_fake.py"), "--port", str(self.port), "--data",
             os.path.join(workdir, "gcs-data"), "--public-key", pub, "--admin-token", self.admin,
             "--token-lifetime", str(token_lifetime), "--max-results", str(max_results),
             "--revoke-every", str(revoke_every)], self.log)
        self.count = 0

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        proc = self.process.start()
        common.wait_until(lambda: common.port_open(self.port), 30, f"gcs fake on port {self.port}", proc=proc,
                          log=self.log)

    def stop(self):
        self.process.stop()

    # ------------------------------------------------------------------ the shared interface

    def new_remote(self, tag):
        self.count += 1
        name = re.sub(r"[^a-z0-9]+", "-", tag.lower()).strip("-")[:30].strip("-") or "t"
        bucket = f"dvx-{name}-{os.getpid()}-{self.count}"
        status, body = self.request("POST", "/storage/v1/b?project=dvx-test", json.dumps({"name": bucket}).encode())
        if status != 200:
            raise RuntimeError(f"cannot create bucket {bucket}: HTTP {status} {body[:300]!r}")
        return f"gs://{bucket}/store", {"credentialpath": self.credentials, "endpointurl": self.endpoint}

    def env(self):
        # two attempts, not five: a stopped server is reported in seconds (the tests stop it)
        return {"DVX_GCS_ATTEMPTS": "2"}

    def bad_credentials(self, options):
        """A service account whose key the fake does not know (its JWT signature fails)."""
        path, pem, _ = make_service_account(self.workdir, f"intruder-{secrets.token_hex(4)}", self.token_uri)
        secret = pem.splitlines()[1]  # a line of the private key
        return dict(options, credentialpath=path), secret

    # ------------------------------------------------------------------ test helpers

    def request(self, method, path, data=None):
        req = urllib.request.Request(self.endpoint + path, method=method, data=data,
                                     headers={"Authorization": f"Bearer {self.admin}"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def list_keys(self, bucket, prefix=""):
        names, token = [], None
        while True:
            q = {"prefix": prefix}
            if token:
                q["pageToken"] = token
            status, body = self.request("GET", f"/storage/v1/b/{bucket}/o?" + urllib.parse.urlencode(q))
            if status != 200:
                raise RuntimeError(f"list {bucket}: HTTP {status} {body[:300]!r}")
            page = json.loads(body)
            names += [i["name"] for i in page.get("items", [])]
            token = page.get("nextPageToken")
            if not token:
                return names

    def delete_key(self, bucket, name):
        return self.request("DELETE", f"/storage/v1/b/{bucket}/o/" + urllib.parse.quote(name, safe=""))[0] == 204

    def stats(self):
        """Counters of the fake: requests, tokens_issued, chunks (resumable upload requests)."""
        return json.loads(urllib.request.urlopen(self.endpoint + "/stats", timeout=5).read())

    def requests(self):
        return self.stats()["requests"]
