"""Azure Blob Storage test server: Azurite (npm package azurite@3.35.0), which really verifies
Shared Key and SAS signatures. Installed by `./dev setup` into ~/.cache/dvx-test-servers/azurite
(or $DVX_AZURITE_DIR); blobs are kept on disk in the server's workdir, so they survive stop()/start().

Besides the shared interface (/work/notes/servers-interface.md), the Server offers an
independent Python client (Shared Key signing written from Azure's documentation, not from dvx)
for the tests: request(), list_keys(), delete_key(), and sas_token() for an account SAS."""

import base64
import datetime
import email.utils
import hashlib
import hmac
import os
import re
import shutil
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import common

BACKEND = "azure"
PERSISTENT = True
VERSION = "3.35.0"
ACCOUNT = "devstoreaccount1"
# Azurite's well-known development key (public, documented by Microsoft).
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
API_VERSION = "2021-08-06"


def install_dir():
    return os.environ.get("DVX_AZURITE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "dvx-test-servers",
                                                              "azurite")


def azurite_bin():
    path = os.path.join(install_dir(), "node_modules", ".bin", "azurite-blob")
    if os.path.exists(path):
        return path
    return shutil.which("azurite-blob")


def available():
    if not shutil.which("node"):
        return "node is not installed (Azurite needs Node.js: apt-get install nodejs npm, then ./dev setup)"
    if not azurite_bin():
        return (f"azurite is not installed: run ./dev setup (npm install --prefix {install_dir()} "
                f"azurite@{VERSION})")
    return None


def shared_key(method, path, query, headers, key=KEY, account=ACCOUNT):
    """The Authorization header value of a request (Azure's "Authorize with Shared Key")."""
    h = {k.lower(): v for k, v in headers.items()}
    length = h.get("content-length", "")
    std = [method, h.get("content-encoding", ""), h.get("content-language", ""), "" if length == "0" else length,
           h.get("content-md5", ""), h.get("content-type", ""), "", h.get("if-modified-since", ""),
           h.get("if-match", ""), h.get("if-none-match", ""), h.get("if-unmodified-since", ""), h.get("range", "")]
    ms = sorted((k, v.strip()) for k, v in h.items() if k.startswith("x-ms-"))
    text = "\n".join(std) + "\n" + "".join(f"{k}:{v}\n" for k, v in ms) + f"/{account}{path}"
    for name in sorted({k.lower() for k, _ in query}):
        values = sorted(v for k, v in query if k.lower() == name)
        text += f"\n{name}:{','.join(values)}"
    sig = base64.b64encode(hmac.new(base64.b64decode(key), text.encode(), hashlib.sha256).digest()).decode()
    return f"SharedKey {account}:{sig}"


class Server:
    def __init__(self, workdir):
        self.workdir = workdir
        self.port = common.free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}/{ACCOUNT}"
        self.log = os.path.join(workdir, "azurite.log")
        data = os.path.join(workdir, "azurite-data")
        os.makedirs(data, exist_ok=True)
        self.process = common.Process(
            [azurite_bin(), "--blobHost", "127.0.0.1", "--blobPort", str(self.port), "--location", data,
             "--disableTelemetry", "--skipApiVersionCheck", "--loose", "--silent"], self.log, cwd=workdir)
        self.count = 0

    def connection_string(self, key=KEY):
        return (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={key};"
                f"BlobEndpoint={self.endpoint};")

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        proc = self.process.start()

        def answers():
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=1)
            except urllib.error.HTTPError:
                pass
            return True

        common.wait_until(answers, 60, f"azurite on port {self.port}", proc=proc, log=self.log)

    def stop(self):
        self.process.stop()

    # ------------------------------------------------------------------ the shared interface

    def new_remote(self, tag):
        self.count += 1
        # 3-63 characters: lower-case letters, digits and single hyphens between them
        name = re.sub(r"[^a-z0-9]+", "-", tag.lower()).strip("-")[:36].strip("-") or "t"
        container = f"dvx-{name}-{os.getpid()}-{self.count}"
        status, body, _ = self.request("PUT", f"/{container}", [("restype", "container")])
        if status != 201:
            raise RuntimeError(f"cannot create container {container}: HTTP {status} {body[:300]!r}")
        return f"azure://{container}/store", {"connection_string": self.connection_string()}

    def env(self):
        # two attempts, not five: a stopped server is reported in seconds (the tests stop it)
        return {"DVX_AZURE_ATTEMPTS": "2"}

    def bad_credentials(self, options):
        wrong = base64.b64encode(hashlib.sha512(b"not the azurite key").digest()).decode()
        return dict(options, connection_string=self.connection_string(key=wrong)), wrong

    # ------------------------------------------------------------------ test helpers

    def request(self, method, path, query=(), data=None, headers=None):
        """A Shared Key signed request to the account: `path` from the container on, unencoded."""
        query = list(query)
        full = f"/{ACCOUNT}" + urllib.parse.quote(path)
        h = {"x-ms-date": email.utils.formatdate(usegmt=True), "x-ms-version": API_VERSION}
        if data is not None:
            h["Content-Length"] = str(len(data))
            h["Content-Type"] = "application/octet-stream"
        h.update(headers or {})
        h["Authorization"] = shared_key(method, full, query, h)
        url = f"http://127.0.0.1:{self.port}{full}" + ("?" + urllib.parse.urlencode(query) if query else "")
        req = urllib.request.Request(url, method=method, data=data, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read(), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, e.read(), dict(e.headers)

    def list_keys(self, container, prefix=""):
        names, marker = [], None
        while True:
            q = [("restype", "container"), ("comp", "list"), ("prefix", prefix)]
            if marker:
                q.append(("marker", marker))
            status, body, _ = self.request("GET", f"/{container}", q)
            if status != 200:
                raise RuntimeError(f"list {container}: HTTP {status} {body[:300]!r}")
            root = ET.fromstring(body)
            names += [b.findtext("Name") for b in root.iter("Blob")]
            marker = root.findtext("NextMarker")
            if not marker:
                return names

    def blob_properties(self, container, name):
        status, _, headers = self.request("HEAD", f"/{container}/{name}")
        return status, headers

    def delete_key(self, container, name):
        return self.request("DELETE", f"/{container}/{name}")[0] == 202

    def sas_token(self, permissions="rwdlac", key=KEY, hours=2):
        """An account SAS (version 2019-12-12) for the blob service."""
        expiry = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=hours)).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
        fields = {"sv": "2019-12-12", "ss": "b", "srt": "sco", "sp": permissions, "se": expiry, "spr": "https,http"}
        text = "\n".join([ACCOUNT, fields["sp"], fields["ss"], fields["srt"], "", fields["se"], "", fields["spr"],
                          fields["sv"], ""])
        fields["sig"] = base64.b64encode(hmac.new(base64.b64decode(key), text.encode(), hashlib.sha256).digest()).decode()
        return urllib.parse.urlencode(fields)
