"""A static web server on 127.0.0.1 over one folder, as the dashboard's nginx
serves a report folder, remembering every request it answered."""

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer


class StaticServer:
    def __init__(self, folder):
        self.requests = []  # (method, path, status)
        server = self

        class Handler(SimpleHTTPRequestHandler):
            def log_request(self, code="-", size="-"):
                server.requests.append((self.command, self.path, int(code)))

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
