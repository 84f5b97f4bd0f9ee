"""WebDAV test server: nginx with the dav-ext module (PROPFIND) and basic auth, bound to
127.0.0.1 on a free port, serving `<workdir>/root` (files on disk: objects survive a restart).
Strict like Apache's mod_dav: no `create_full_put_path`, so a PUT into a missing collection
answers 409 and clients must MKCOL the parents. `/dav/` needs the password; `/pub/` serves the
same files read-only without auth (for plain http:// remotes)."""

import base64
import os
import shutil
import subprocess
import urllib.error
import urllib.request

import common

BACKEND = "webdav"
PERSISTENT = True
USER = "dvxuser"
PASSWORD = "webdav-Pa55-never-printed-9f3e"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
DAV_EXT = "/usr/lib/nginx/modules/ngx_http_dav_ext_module.so"


def available():
    if not NGINX:
        return "nginx not installed: run ./dev setup"
    if not os.path.exists(DAV_EXT):
        return "libnginx-mod-http-dav-ext not installed: run ./dev setup"
    if os.geteuid() != 0:
        return "the nginx test server runs its workers as root (user root;): run the tests as root"
    return None


def htpasswd_line(user, password):
    out = subprocess.run(["openssl", "passwd", "-apr1", password], check=True, capture_output=True, text=True)
    return f"{user}:{out.stdout.strip()}\n"


class Server:
    def __init__(self, workdir):
        self.workdir = os.path.abspath(workdir)
        self.root = os.path.join(self.workdir, "root")
        self.port = common.free_port()
        self.conf = os.path.join(self.workdir, "nginx.conf")
        self.log = os.path.join(self.workdir, "nginx.log")
        self.remotes = 0
        self.process = None

    def _write_config(self):
        w = self.workdir
        os.makedirs(self.root, exist_ok=True)
        for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            os.makedirs(os.path.join(w, "tmp", d), exist_ok=True)
        with open(os.path.join(w, "htpasswd"), "w") as f:
            f.write(htpasswd_line(USER, PASSWORD))
        with open(self.conf, "w") as f:
            f.write(f"""load_module {DAV_EXT};
daemon off;
user root;
worker_processes 2;
pid {w}/nginx.pid;
error_log {w}/error.log info;
events {{ worker_connections 256; }}
http {{
  access_log {w}/access.log;
  client_body_temp_path {w}/tmp/client_body;
  proxy_temp_path {w}/tmp/proxy;
  fastcgi_temp_path {w}/tmp/fastcgi;
  uwsgi_temp_path {w}/tmp/uwsgi;
  scgi_temp_path {w}/tmp/scgi;
  client_max_body_size 0;
  server {{
    listen 127.0.0.1:{self.port};
    location /dav/ {{
      alias {self.root}/;
      dav_methods PUT DELETE MKCOL COPY MOVE;
      dav_ext_methods PROPFIND OPTIONS;
      dav_access user:rw group:r all:r;
      auth_basic "dvx";
      auth_basic_user_file {w}/htpasswd;
    }}
    location /pub/ {{
      alias {self.root}/;
    }}
  }}
}}
""")

    def _ready(self):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{self.port}/pub/", timeout=1)
        except urllib.error.HTTPError:
            pass  # any HTTP answer: nginx is serving
        return True

    def start(self):
        self.process = common.Process([NGINX, "-c", self.conf, "-e", os.path.join(self.workdir, "error.log")], self.log)
        proc = self.process.start()
        common.wait_until(lambda: common.port_open(self.port) and self._ready(), 10, "nginx (webdav)", proc, self.log)

    def stop(self):
        if self.process:
            self.process.stop()
            self.process = None

    def __enter__(self):
        self._write_config()
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def new_remote(self, tag):
        self.remotes += 1
        name = f"{tag}-{self.remotes}"
        os.makedirs(os.path.join(self.root, name))
        return f"webdav://127.0.0.1:{self.port}/dav/{name}", {"user": USER, "password": PASSWORD}

    def public_url(self, url):
        """The plain http:// URL serving the same files as a webdav:// URL of this server, read-only."""
        return url.replace("webdav://", "http://").replace("/dav/", "/pub/", 1)

    def env(self):
        return {}

    def bad_credentials(self, options):
        wrong = "Wr0ng-" + PASSWORD[::-1]
        return dict(options, password=wrong), wrong

    def auth_header(self):
        return "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
