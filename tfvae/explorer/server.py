"""``tfvae explore``: the latent-space explorer's development server.

One page (``tfvae/explorer/static``) at ``http://HOST:PORT/``, the model's
description at ``/explorer.json`` and, unless the page is pointed at a real TF
Serving (``--serving_url``), TF Serving's REST API under ``/v1/`` for the
decoder and encoder exported (``tfvae.export``) into a temporary directory for
the life of the server (``tfvae.deploy.rest_server``).

A development server (the standard library's ``ThreadingHTTPServer``): local
only by default, no authentication, no TLS. It logs no request; Ctrl-C stops
it with exit status 0.
"""

import errno
import http.server
import json
import os
import signal
import socket
import sys
import tempfile
import threading
import urllib.parse

from tfvae.errors import TfvaeError
from tfvae.explorer.page import STATIC, page_config

CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8", ".png": "image/png", ".json": "application/json"}
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class Handler(http.server.BaseHTTPRequestHandler):
    """The page's files, ``/explorer.json`` and (``server.endpoint``) TF Serving's REST API."""

    protocol_version = "HTTP/1.1"  # keep-alive: one connection carries the page's requests
    disable_nagle_algorithm = True  # headers and body go out at once (no 40 ms delayed-ACK stall per answer)
    server_version = "tfvae-explore"

    def log_message(self, format, *args):  # noqa: A002  (the terminal stays quiet)
        pass

    def _send(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status, obj):
        self._send(status, json.dumps(obj).encode(), "application/json")

    def _path(self):
        return urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)

    def _api(self, body):
        endpoint = self.server.endpoint
        if endpoint is None:
            return self._json(404, {"error": f"this explorer serves no models: its page calls TF Serving at "
                                             f"{self.server.page['serving_url']}"})
        try:
            status, answer = endpoint.handle(self.command, self._path(), body)
        except Exception as e:  # a bug, not a bad request: answer it like TF Serving's INTERNAL
            status, answer = 500, {"error": f"{type(e).__name__}: {e}"}
        self._json(status, answer)

    def do_GET(self):
        path = self._path()
        if path.lower().startswith("/v1/") or path.lower() == "/v1":
            return self._api(b"")
        if path == "/explorer.json":
            return self._json(200, self.server.page)
        name = "index.html" if path == "/" else path.lstrip("/")
        full = os.path.realpath(os.path.join(STATIC, name))
        root = os.path.realpath(STATIC)
        if not full.startswith(root + os.sep) or not os.path.isfile(full):
            return self._send(404, f"not found: {path}\n".encode(), "text/plain; charset=utf-8")
        with open(full, "rb") as f:
            body = f.read()
        self._send(200, body, CONTENT_TYPES.get(os.path.splitext(full)[1], "application/octet-stream"))

    do_HEAD = do_GET

    def do_POST(self):
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            return self._json(411, {"error": "a POST needs a Content-Length header"})
        body = self.rfile.read(length)
        if self._path().lower().startswith("/v1/"):
            return self._api(body)
        self._json(404, {"error": f"Malformed request: POST {self._path()}"})


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    page = None
    endpoint = None

    def handle_error(self, request, client_address):
        """A browser that drops a connection is no news; anything else is one line, not a traceback."""
        error = sys.exc_info()[1]
        if not isinstance(error, (ConnectionError, TimeoutError)):
            print(f"tfvae: warning: request from {client_address[0]} failed ({type(error).__name__}: {error})",
                  file=sys.stderr, flush=True)


class Server6(Server):
    address_family = socket.AF_INET6


def bind(host, port):
    """A ``Server`` listening on ``host:port`` (``port`` 0: any free port); a ``TfvaeError`` says why not."""
    cls = Server6 if ":" in host else Server
    try:
        return cls((host, port), Handler)
    except socket.gaierror:
        raise TfvaeError(f"--host {host}: no such address; give an address of this machine, e.g. 127.0.0.1") from None
    except OverflowError:
        raise TfvaeError(f"--port {port}: a port is 0..65535; pass e.g. --port 8000") from None
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            raise TfvaeError(f"--port {port}: the port is in use on {host}; pass another --port "
                             "(--port 0 takes any free one), or stop what holds it") from None
        if e.errno == errno.EACCES:
            raise TfvaeError(f"--port {port}: permission denied (ports below 1024 need root); "
                             "pass a higher --port, e.g. 8000") from None
        if e.errno == errno.EADDRNOTAVAIL:
            raise TfvaeError(f"--host {host} is not an address of this machine; pass 127.0.0.1 (this machine only) "
                             "or 0.0.0.0 (every interface)") from None
        raise TfvaeError(f"cannot listen on {host}:{port} ({e.strerror or e}); pass another --host or --port") from None


def page_url(host, port):
    shown = "127.0.0.1" if host in ("", "0.0.0.0") else ("::1" if host == "::" else host)
    return f"http://[{shown}]:{port}/" if ":" in shown else f"http://{shown}:{port}/"


def local_endpoint(checkpoint, export_dir):
    """The checkpoint exported into ``export_dir`` (``tfvae.export``) and served by ``rest.Endpoint``."""
    from tfvae import checkpoints
    from tfvae.deploy import export, rest_server as rest

    try:
        model = checkpoints.load_model(checkpoint)[0]
    except (OSError, ValueError) as e:
        raise TfvaeError(f"--load_weight_dir {checkpoint}: not readable tfvae weights "
                         f"({str(e).splitlines()[0][:200]})") from None
    export.export_model(model, export_dir, version=1)
    return rest.Endpoint.from_export(export_dir)


def _open_browser(url):
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        print("tfvae: no display here: open the URL in a browser (from another machine: ssh -L PORT:127.0.0.1:PORT)",
              flush=True)
        return
    import webbrowser

    threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()


def run_explore(load_weight_dir="better_weight", port=8000, host="127.0.0.1", serving_url=None, open_browser=True):
    """``tfvae explore``: serves the explorer until Ctrl-C.

    Args:
        load_weight_dir: a checkpoint or run directory, or a shipped weights name.
        port: TCP port (0: any free port; the URL printed says which).
        host: address to listen on (default this machine only).
        serving_url: a TF Serving REST root (``http://HOST:8501``) the page calls instead of this server.
        open_browser: open the page in the default browser.

    Returns:
        0 (after Ctrl-C).
    """
    page = page_config(load_weight_dir, serving_url)
    server = bind(host, port)
    if threading.current_thread() is threading.main_thread():
        # Ctrl-C stops it even when started with SIGINT ignored (a shell's background job hands that on, and
        # Python then installs no KeyboardInterrupt handler).
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with tempfile.TemporaryDirectory(prefix="tfvae-explore-") as workdir:
            server.page = page
            server.endpoint = None if serving_url else local_endpoint(page["checkpoint"], workdir)
            url = page_url(host, server.server_address[1])
            where = f"TF Serving at {serving_url}" if serving_url else f"its TF Serving REST API at {url}v1/models/"
            print(f"tfvae: exploring {page['name']} at {url} (models: {where}); Ctrl-C stops it", flush=True)
            if host not in LOOPBACK:
                print(f"tfvae: warning: listening on {host}: anyone who can reach this machine can use it "
                      "(a development server: no authentication, no TLS)", flush=True)
            if open_browser:
                _open_browser(url)
            server.serve_forever(poll_interval=0.25)
    except KeyboardInterrupt:
        print("tfvae: explorer stopped", flush=True)
    finally:
        server.server_close()
    return 0
