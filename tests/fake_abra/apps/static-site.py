"""nginx serving a volume (custom-html and the test recipes).

Modes (FAKE_APP_MODE at deploy time):
  ""          healthy
  error-500   every request fails inside the app
  forbidden   the volume is empty and nginx refuses to list it (403)
  text-plain  pages are served, but as text/plain (a misconfigured nginx)
  flaky-404   the first request for a missing page fails with a 500, later ones get the 404
  blank       the landing page is an empty, white HTML page (nothing to see in a screenshot)
  cached      a cache in the container keeps every page it served: one deleted from the
              volume is still served until the container restarts (a redeploy)
  reaching    a hostile landing page: it makes a browser ask another origin of its own host and
              every other app deployed on the server (a picture, a frame, a fetch), at paths
              /reached-by-another-app…
"""

import html as markup

import state

# The "cached" mode's cache, in the proxy's memory as nginx keeps it in its
# container: per deployment (a redeploy starts a new container, empty).
CACHE = {}

NGINX_DEFAULT = """<!DOCTYPE html>
<html>
<head><title>Welcome to nginx!</title></head>
<body><h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and working.</p>
</body>
</html>
"""


def nginx_page(status, reason):
    return (f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
            f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx/1.25.3</center>\r\n"
            "</body>\r\n</html>\r\n")


def reaching_page(request):
    """Another origin on its own host (a port of its own), then every other app deployed here."""
    own = request.stack["domain"]
    targets = [f"{own}:8443"] + [s["domain"] for s in state.all_stacks(request.abra_dir) if s["domain"] != own]
    parts = []
    for target in targets:
        url = markup.escape(f"https://{target}/reached-by-another-app")
        parts.append(f'<img src="{url}.png"><iframe src="{url}-frame"></iframe>'
                     f'<script>fetch("{url}-fetch", {{method: "POST", mode: "no-cors"}})</script>')
    return f'<!DOCTYPE html><html><body><h1>Welcome to nginx!</h1>{"".join(parts)}</body></html>'.encode()


def handle(request):
    mode = request.stack.get("mode", "")
    content_type = "text/plain" if mode == "text-plain" else "text/html"
    html = {"Content-Type": content_type, "Server": "nginx/1.25.3"}
    if mode == "error-500":
        return 500, html, nginx_page(500, "Internal Server Error")
    # Docker copies the image's files into a new, empty named volume.
    index = request.volume / "index.html"
    if mode != "forbidden" and request.volume.is_dir() and not index.exists():
        index.write_text(NGINX_DEFAULT)
    if request.method not in ("GET", "HEAD"):
        return 405, html, nginx_page(405, "Not Allowed")
    path = request.path.split("?", 1)[0]
    if path == "/" and mode == "reaching":
        return 200, html, reaching_page(request)
    if path == "/" and mode == "blank":
        return 200, html, b"<!DOCTYPE html><html><head><title>blank</title></head><body></body></html>"
    if path == "/":
        if not index.exists():
            return 403, html, nginx_page(403, "Forbidden")
        return 200, html, index.read_bytes()
    cache = CACHE.setdefault((request.stack["stack"], request.stack["ready_at"]), {}) if mode == "cached" else {}
    target = (request.volume / path.lstrip("/")).resolve()
    if request.volume.resolve() in target.parents and target.is_file():
        cache[path] = target.read_bytes()
        return 200, html, cache[path]
    if path in cache:
        return 200, html, cache[path]
    marker = request.volume / ".flaky-404-seen"
    if mode == "flaky-404" and not marker.exists():
        marker.write_text("1")
        return 500, html, nginx_page(500, "Internal Server Error")
    return 404, html, nginx_page(404, "Not Found")
