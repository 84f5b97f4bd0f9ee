"""A small protocol fake of the Google Cloud Storage JSON API and Google's OAuth2 token endpoint,
for the GCS remote's tests (no real emulator installs here). Threaded; objects are files on disk
under --data, so they survive a restart.

What it checks, as Google does: the token request's JWT (RS256 signature verified with the
service account's public key via `openssl dgst -verify`, issuer, audience = this token URI,
expiry, grant type); every storage request carries a bearer token this server issued and that
has not expired (401 otherwise). What it serves:
  POST /token                                         OAuth2 jwt-bearer grant
  POST /storage/v1/b?project=P                        create bucket {"name": ...}
  GET  /storage/v1/b/B                                bucket metadata
  GET  /storage/v1/b/B/o?prefix=&pageToken=&maxResults=   list (names only)
  GET  /storage/v1/b/B/o/NAME[?alt=media]             metadata / bytes
  DELETE /storage/v1/b/B/o/NAME
  POST /upload/storage/v1/b/B/o?uploadType=media&name=NAME
  POST /upload/storage/v1/b/B/o?uploadType=resumable&name=NAME  -> Location: session
  PUT  /upload/storage/v1/b/B/o?uploadType=resumable&upload_id=ID  (Content-Range chunks, 308)
  DELETE the session URI                              cancel (499)
Errors are JSON {"error": {"code", "message", "errors": [{"reason"}]}} like the real API.
Run: gcs_fake.py --port P --data DIR --public-key PEM [--admin-token T] [--token-lifetime S]
     [--max-results N] [--revoke-every N]"""

import argparse
import base64
import hashlib
import json
import os
import secrets
import subprocess
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SCOPES = ("https://www.googleapis.com/auth/devstorage.read_write",
          "https://www.googleapis.com/auth/devstorage.full_control",
          "https://www.googleapis.com/auth/cloud-platform")


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class State:
    def __init__(self, args):
        self.args = args
        self.data = args.data
        os.makedirs(self.data, exist_ok=True)
        self.tokens = {}  # token -> expiry
        if args.admin_token:
            self.tokens[args.admin_token] = float("inf")
        self.sessions = {}  # upload id -> dict(bucket, name, size, path)
        self.lock = threading.Lock()
        self.requests = 0
        self.tokens_issued = 0
        self.authorized = 0
        self.chunks = 0  # resumable upload requests carrying bytes

    def bucket_dir(self, bucket):
        return os.path.join(self.data, urllib.parse.quote(bucket, safe=""))

    def object_path(self, bucket, name):
        return os.path.join(self.bucket_dir(bucket), urllib.parse.quote(name, safe=""))

    def verify_jwt(self, assertion, audience):
        parts = assertion.split(".")
        if len(parts) != 3:
            return "malformed JWT"
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
        if header.get("alg") != "RS256":
            return "JWT alg must be RS256"
        with tempfile.NamedTemporaryFile() as sig, tempfile.NamedTemporaryFile() as msg:
            sig.write(b64url_decode(parts[2]))
            sig.flush()
            msg.write(f"{parts[0]}.{parts[1]}".encode())
            msg.flush()
            r = subprocess.run(["openssl", "dgst", "-sha256", "-verify", self.args.public_key, "-signature", sig.name,
                                msg.name], capture_output=True)
            if r.returncode != 0:
                return "Invalid JWT Signature."
        now = time.time()
        if claims.get("aud") != audience:
            return f"Invalid JWT audience {claims.get('aud')!r}, expected {audience!r}"
        if not claims.get("iss"):
            return "JWT without issuer"
        if not (claims.get("iat", 0) - 300 <= now <= claims.get("exp", 0)):
            return "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe"
        if claims.get("exp", 0) - claims.get("iat", 0) > 3600:
            return "Invalid JWT: expiry more than an hour after issue"
        if not any(s in claims.get("scope", "").split() for s in SCOPES):
            return "JWT scope does not allow storage access"
        return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "gcs-fake/1"

    def log_message(self, fmt, *args):  # keep the log short: errors only
        pass

    @property
    def state(self):
        return self.server.state

    # ------------------------------------------------------------------ plumbing

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(n) if n else b""
        if len(data) != n:  # the client gave up mid-body: as GCS, store nothing
            self.close_connection = True
            raise ConnectionAbortedError(f"request body ended after {len(data)} of {n} bytes")
        return data

    def send(self, code, payload=b"", headers=None, content_type="application/json"):
        if isinstance(payload, (dict, list)):
            payload = json.dumps(payload).encode()
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if payload or code not in (204, 308):
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def error(self, code, message, reason="invalid"):
        self.send(code, {"error": {"code": code, "message": message, "errors": [{"reason": reason, "message": message}]}})

    def authorized(self):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            self.error(401, "Anonymous caller does not have storage.objects access.", "required")
            return False
        token = auth[7:]
        with self.state.lock:
            expiry = self.state.tokens.get(token)
            every = self.state.args.revoke_every
            if expiry is not None and every and expiry != float("inf"):
                self.state.authorized += 1
                if self.state.authorized % every == 0:  # revoke every token issued so far
                    self.state.tokens = {t: e for t, e in self.state.tokens.items() if e == float("inf")}
                    expiry = None
        if expiry is None or expiry < time.time():
            self.error(401, "Invalid Credentials", "authError")
            return False
        return True

    def route(self):
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        parts = url.path.split("/")
        return url.path, parts, q

    # ------------------------------------------------------------------ methods

    def do_POST(self):
        self.state.requests += 1
        path, parts, q = self.route()
        if path == "/token":
            return self.token()
        if not self.authorized():
            self.body()
            return
        if path == "/storage/v1/b":
            name = json.loads(self.body() or b"{}").get("name", "")
            os.makedirs(self.state.bucket_dir(name), exist_ok=True)
            return self.send(200, {"kind": "storage#bucket", "name": name})
        if len(parts) == 7 and parts[1:4] == ["upload", "storage", "v1"] and parts[4] == "b" and parts[6] == "o":
            bucket = urllib.parse.unquote(parts[5])
            if not os.path.isdir(self.state.bucket_dir(bucket)):
                self.body()
                return self.error(404, "The specified bucket does not exist.", "notFound")
            name = q.get("name", "")
            if q.get("uploadType") == "media":
                data = self.body()
                self.store(bucket, name, data)
                return self.send(200, self.meta(bucket, name))
            if q.get("uploadType") == "resumable":
                self.body()
                uid = secrets.token_hex(12)
                fd, tmp = tempfile.mkstemp(dir=self.state.data, prefix=".upload-")
                os.close(fd)
                size = self.headers.get("X-Upload-Content-Length")
                with self.state.lock:
                    self.state.sessions[uid] = {"bucket": bucket, "name": name, "path": tmp,
                                                "size": int(size) if size else None}
                host = self.headers.get("Host")
                loc = f"http://{host}/upload/storage/v1/b/{parts[5]}/o?uploadType=resumable&upload_id={uid}"
                return self.send(200, b"", {"Location": loc})
            self.body()
            return self.error(400, "unsupported uploadType")
        self.body()
        self.error(404, "Not Found", "notFound")

    def token(self):
        form = dict(urllib.parse.parse_qsl(self.body().decode()))
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return self.send(400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type"})
        audience = f"http://{self.headers.get('Host')}/token"
        problem = self.state.verify_jwt(form.get("assertion", ""), audience)
        if problem:
            return self.send(400, {"error": "invalid_grant", "error_description": problem})
        token = "ya29.fake-" + secrets.token_urlsafe(24)
        lifetime = self.state.args.token_lifetime
        with self.state.lock:
            self.state.tokens[token] = time.time() + lifetime
            self.state.tokens_issued += 1
        self.send(200, {"access_token": token, "expires_in": lifetime, "token_type": "Bearer"})

    def do_PUT(self):
        self.state.requests += 1
        path, parts, q = self.route()
        if not self.authorized():
            self.body()
            return
        uid = q.get("upload_id")
        with self.state.lock:
            session = self.state.sessions.get(uid)
        if not session:
            self.body()
            return self.error(404, "No such upload session", "notFound")
        data = self.body()
        rng = self.headers.get("Content-Range", "")  # bytes a-b/total, bytes */total
        unit, _, spec = rng.partition(" ")
        span, _, total = spec.partition("/")
        have = os.path.getsize(session["path"])
        if span != "*":
            a, _, b = span.partition("-")
            if int(a) != have or int(b) - int(a) + 1 != len(data):
                return self.error(400, f"Content-Range {rng} does not continue at {have}")
            with open(session["path"], "ab") as f:
                f.write(data)
            with self.state.lock:
                self.state.chunks += 1
            have += len(data)
        if total != "*" and have == int(total):
            with open(session["path"], "rb") as f:
                self.store(session["bucket"], session["name"], f.read())
            os.remove(session["path"])
            with self.state.lock:
                self.state.sessions.pop(uid, None)
            return self.send(200, self.meta(session["bucket"], session["name"]))
        headers = {"Range": f"bytes=0-{have - 1}"} if have else {}
        self.send(308, b"", headers)

    def do_GET(self):
        self.state.requests += 1
        path, parts, q = self.route()
        if path == "/stats":
            return self.send(200, {"requests": self.state.requests, "tokens_issued": self.state.tokens_issued,
                                   "chunks": self.state.chunks})
        if not self.authorized():
            return
        if len(parts) >= 5 and parts[1:4] == ["storage", "v1", "b"]:
            bucket = urllib.parse.unquote(parts[4])
            bdir = self.state.bucket_dir(bucket)
            if not os.path.isdir(bdir):
                return self.error(404, "The specified bucket does not exist.", "notFound")
            if len(parts) == 5:
                return self.send(200, {"kind": "storage#bucket", "name": bucket})
            if len(parts) == 6 and parts[5] == "o":
                return self.list(bucket, q)
            if len(parts) >= 7 and parts[5] == "o":
                name = urllib.parse.unquote("/".join(parts[6:]))
                p = self.state.object_path(bucket, name)
                if not os.path.isfile(p):
                    return self.error(404, f"No such object: {bucket}/{name}", "notFound")
                if q.get("alt") == "media":
                    with open(p, "rb") as f:
                        return self.send(200, f.read(), content_type="application/octet-stream")
                return self.send(200, self.meta(bucket, name))
        self.error(404, "Not Found", "notFound")

    def do_DELETE(self):
        self.state.requests += 1
        path, parts, q = self.route()
        if not self.authorized():
            return
        if q.get("upload_id"):
            with self.state.lock:
                session = self.state.sessions.pop(q["upload_id"], None)
            if session:
                os.remove(session["path"])
            return self.send(499, b"")
        if len(parts) >= 7 and parts[1:4] == ["storage", "v1", "b"] and parts[5] == "o":
            bucket = urllib.parse.unquote(parts[4])
            name = urllib.parse.unquote("/".join(parts[6:]))
            p = self.state.object_path(bucket, name)
            if not os.path.isfile(p):
                return self.error(404, f"No such object: {bucket}/{name}", "notFound")
            os.remove(p)
            return self.send(204)
        self.error(404, "Not Found", "notFound")

    # ------------------------------------------------------------------ objects

    def store(self, bucket, name, data):
        p = self.state.object_path(bucket, name)
        tmp = p + ".tmp-" + secrets.token_hex(4)
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, p)

    def meta(self, bucket, name):
        p = self.state.object_path(bucket, name)
        with open(p, "rb") as f:
            data = f.read()
        return {"kind": "storage#object", "bucket": bucket, "name": name, "size": str(len(data)),
                "md5Hash": base64.b64encode(hashlib.md5(data).digest()).decode()}

    def list(self, bucket, q):
        prefix = q.get("prefix", "")
        names = sorted(urllib.parse.unquote(f) for f in os.listdir(self.state.bucket_dir(bucket))
                       if ".tmp-" not in f)
        names = [n for n in names if n.startswith(prefix)]
        start = q.get("pageToken")
        if start:
            names = [n for n in names if n > b64url_decode(start).decode()]
        limit = min(int(q.get("maxResults") or 1000), self.state.args.max_results)
        page, more = names[:limit], len(names) > limit
        out = {"kind": "storage#objects", "items": [{"name": n} for n in page]}
        if more:
            out["nextPageToken"] = base64.urlsafe_b64encode(page[-1].encode()).decode().rstrip("=")
        self.send(200, out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--public-key", required=True)
    ap.add_argument("--admin-token")
    ap.add_argument("--token-lifetime", type=int, default=3600)
    ap.add_argument("--max-results", type=int, default=1000)
    ap.add_argument("--revoke-every", type=int, default=0, help="revoke all tokens every N authorized requests")
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.state = State(args)
    print(f"gcs-fake listening on 127.0.0.1:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
