"""S3 test server: moto_server on 127.0.0.1 and a free port (in memory: objects do not survive a
restart; the buckets made by new_remote are made again by start()). Credentials come from the
AWS_* environment variables env() returns. moto does not verify signatures, so it cannot reject
wrong credentials: bad_credentials() says so (the SigV4 signer is tested against AWS's published
vectors in tests/unit/remote/s3_sign_test.cpp). Interface: /work/notes/servers-interface.md."""

import os
import shutil
import urllib.error
import urllib.request

import common

BACKEND = "s3"
PERSISTENT = False
MOTO = shutil.which("moto_server")
ACCESS = "AKIDDVXCONFORMANCE"
SECRET = "s3cr3t-conformance-never-printed-0123456789"


def available():
    return None if MOTO else "moto_server is not installed (pip install 'moto[server]')"


class Server:
    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "moto")
        self.port = None
        self.proc = None
        self.buckets = []

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        os.makedirs(self.dir, exist_ok=True)
        self.port = common.free_port()
        self.log = os.path.join(self.dir, "moto.log")
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def _ready(self):
        urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=1).read()
        return True

    def start(self):
        env = dict(os.environ, S3_UPLOAD_PART_MIN_SIZE="1024")
        self.proc = common.Process([MOTO, "-H", "127.0.0.1", "-p", str(self.port)], self.log, env=env)
        p = self.proc.start()
        common.wait_until(self._ready, 30, f"moto_server on port {self.port}", proc=p, log=self.log)
        for b in self.buckets:
            self._make_bucket(b)

    def stop(self):
        if self.proc is not None:
            self.proc.stop()
            self.proc = None

    def _make_bucket(self, name):
        req = urllib.request.Request(f"{self.endpoint}/{name}", method="PUT", data=b"")
        # moto checks no signature but wants one to be there
        req.add_header("Authorization", "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/s3/aws4_request, "
                                        "SignedHeaders=host, Signature=00")
        req.add_header("Content-Type", "application/octet-stream")
        with urllib.request.urlopen(req, timeout=10) as r:
            if r.status != 200:
                raise RuntimeError(f"cannot create bucket {name}: HTTP {r.status}")

    def new_remote(self, tag):
        name = f"dvx-{len(self.buckets) + 1}-{''.join(c for c in tag.lower() if c.isalnum())}"[:63]
        self._make_bucket(name)
        self.buckets.append(name)
        return f"s3://{name}/store", {"endpointurl": self.endpoint}

    def env(self):
        return {"AWS_ACCESS_KEY_ID": ACCESS, "AWS_SECRET_ACCESS_KEY": SECRET,
                "DVX_S3_MULTIPART_THRESHOLD": "8388608", "DVX_S3_ATTEMPTS": "2"}

    def bad_credentials(self, options):
        return dict(options), ""  # moto does not verify signatures: wrong keys cannot be rejected
