"""Helpers the fake apps share: JSON answers, state kept in the stack's volume
(so it survives undeploy/redeploy like a Docker volume), and auth headers; and
reading a request's body and writing an answer, which the sandbox's servers
need as well."""

import base64
import json
import secrets
from urllib.parse import parse_qs

JSON = {"Content-Type": "application/json"}


def json_answer(status, data, headers=None):
    return status, {**JSON, **(headers or {})}, json.dumps(data)


def load(request, default):
    path = request.volume / "state.json"
    if path.exists():
        return json.loads(path.read_text())
    return default


def save(request, data):
    request.volume.mkdir(parents=True, exist_ok=True)
    path = request.volume / "state.json"
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(data))
    temporary.replace(path)


def basic_auth(request):
    """(user, password) from an Authorization: Basic header, or (None, None)."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return None, None
    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    return user, password


def bearer(request):
    header = request.headers.get("Authorization", "")
    for scheme in ("Bearer ", "token "):
        if header.startswith(scheme):
            return header[len(scheme):]
    return None


def json_body(request):
    try:
        return json.loads(request.body or b"{}")
    except ValueError:
        return None


def form_body(request):
    return {k: v[0] for k, v in parse_qs(request.body.decode()).items()}


def token(length=32):
    return secrets.token_hex(length // 2)


def path_only(request):
    return request.path.split("?", 1)[0]


def read_body(handler):
    """The body of the request a BaseHTTPRequestHandler is handling, chunked or not."""
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                handler.rfile.readline()
                return body
            body += handler.rfile.read(size)
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


def send_answer(handler, status, headers, body):
    """Answers the request a BaseHTTPRequestHandler is handling: `body` (str or
    bytes) with `headers` and its Content-Length, the body left out for HEAD."""
    data = body if isinstance(body, bytes) else body.encode()
    handler.send_response(status)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(data)
