"""Real HTTP mirrors on 127.0.0.1 for the downloader tests: good, dead, corrupt, truncated, flaky."""

from __future__ import annotations

import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class MirrorServer:
    """Serves `files` (name -> bytes) under several behaviours, one URL prefix each:

    /good/NAME       the file
    /corrupt/NAME    the file with its bytes changed
    /truncated/NAME  the right Content-Length, then half the body and a closed connection
    /error/NAME      HTTP 500 every time
    /missing/NAME    HTTP 404
    /flaky/NAME      HTTP 503 on the first request for NAME, then the file
    """

    def __init__(self, files: dict[str, bytes]):
        self.files = files
        self.requests: Counter[str] = Counter()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):
                server.requests[self.path] += 1
                _, mode, name = self.path.split("/", 2)
                body = server.files.get(name)
                if body is None or mode == "missing":
                    self.send_error(404)
                elif mode == "error" or (mode == "flaky" and server.requests[self.path] == 1):
                    self.send_error(503 if mode == "flaky" else 500)
                else:
                    if mode == "corrupt":
                        body = bytes(b ^ 0xFF for b in body[:64]) + body[64:]
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2] if mode == "truncated" else body)
                    if mode == "truncated":
                        self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, mode: str) -> str:
        return f"{self.base}/{mode}/"

    def __enter__(self) -> MirrorServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def dead_url() -> str:
    """A loopback URL where nothing listens (the port was bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"
