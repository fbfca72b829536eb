"""Nextcloud: /status.php and WebDAV files of the admin user.

Admin password: the stack's `admin_password` secret; user: ADMIN_USER (default admin).
Modes: maintenance   status.php says maintenance and every page answers 503
                     with x-nextcloud-maintenance-mode: 1 (never becomes ready)
       dav-broken    WebDAV uploads fail with 507 Insufficient Storage
"""

import time

from common import basic_auth, json_answer, load, path_only, save

DAV = "/remote.php/dav/files/"


def handle(request):
    mode = request.stack.get("mode", "")
    # Installing takes a moment after the containers start.
    installed = time.time() >= request.stack["ready_at"] + 0.3
    path = path_only(request)
    if mode == "maintenance":
        return 503, {"Content-Type": "text/html", "X-Nextcloud-Maintenance-Mode": "1"}, "<html>maintenance</html>"
    if path == "/status.php":
        return json_answer(200, {"installed": installed, "maintenance": False, "needsDbUpgrade": False,
                                 "version": "27.1.4.1", "versionstring": "27.1.4", "productname": "Nextcloud"})
    if path.startswith(DAV):
        user, password = basic_auth(request)
        admin = request.env.get("ADMIN_USER", "admin") or "admin"
        if user != admin or password != request.secret("admin_password"):
            return 401, {"WWW-Authenticate": 'Basic realm="Nextcloud"'}, ""
        owner, _, name = path[len(DAV):].partition("/")
        if owner != user:
            return 403, {}, ""
        files = load(request, {"files": {}})
        if request.method == "PUT":
            if mode == "dav-broken":
                return 507, {"Content-Type": "application/xml"}, "<d:error>Insufficient Storage</d:error>"
            created = name not in files["files"]
            files["files"][name] = request.body.decode()
            save(request, files)
            return (201 if created else 204), {}, ""
        if request.method == "GET":
            if name not in files["files"]:
                return 404, {"Content-Type": "application/xml"}, "<d:error>File not found</d:error>"
            return 200, {"Content-Type": "application/octet-stream"}, files["files"][name]
        if request.method == "DELETE":
            files["files"].pop(name, None)
            save(request, files)
            return 204, {}, ""
        return 405, {}, ""
    if path in ("/", "/login"):
        # What a browser sees of the real login page, in short: something to see.
        return 200, {"Content-Type": "text/html"}, (
            "<html><head><title>Nextcloud</title></head><body style=\"background:#0082c9;color:#fff;"
            "font-family:sans-serif;text-align:center;padding-top:8em\"><h1>Nextcloud</h1>"
            "<p>Log in to your account</p></body></html>")
    return 404, {"Content-Type": "text/html"}, "<html>Page not found</html>"
