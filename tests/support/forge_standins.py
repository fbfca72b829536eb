"""Loopback stand-ins for Gitea, Woodpecker and Drone that check what the real
servers check for the calls cc-ci makes: the path, the auth header, the
content type and the JSON shape. What a call did is kept for the test to
assert; a call a real server would refuse is refused the same way and also
recorded in `refused`, so a test can assert there were none."""

import datetime
import hashlib
import hmac
import itertools
import json
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATES = {"pending", "success", "error", "failure", "warning"}
SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


class StandIn:
    """An HTTP server on 127.0.0.1 in a thread; subclasses route requests."""

    def __init__(self):
        self.calls = []     # (method, path) of every request
        self.refused = []   # (status, why) of every refusal
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def handle_any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                standin.calls.append((self.command, self.path))
                status, answer = standin.route(self.command, self.path, self.headers, body)
                if status is None:  # the server acted but the answer is lost: close without one
                    self.close_connection = True
                    return
                if status >= 400:
                    standin.refused.append((status, answer.get("message", "")))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = handle_any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def json_body(headers, body):
        if headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            return None, (415, {"message": "Content-Type must be application/json"})
        try:
            return json.loads(body), None
        except ValueError:
            return None, (422, {"message": "invalid JSON"})


class Gitea(StandIn):
    """Gitea's API v1 for one token's user: comments, statuses, permissions, PRs."""

    def __init__(self, token, login="cc-ci-bot"):
        super().__init__()
        self.token = token
        self.login = login
        self.comments = {}     # id -> {"issue": "o/r#n", "user": login, "body": str}
        self.statuses = []     # (repo, sha, json)
        self.permissions = {}  # (repo, login) -> "admin" | "write" | "read"
        self.pulls = {}        # (repo, number) -> {"state", "head_sha", "base_ref"}
        self.status_failure = None  # a status to refuse new commit statuses with
        self.hold = None            # an Event that permission calls wait for (a Gitea that stalls)
        self.holding = threading.Event()  # set when a permission call waits for `hold`
        self.next_id = 100

    def add_comment(self, repo, issue, user, body):
        self.next_id += 1
        self.comments[self.next_id] = {"issue": f"{repo}#{issue}", "user": user, "body": body}
        return self.next_id

    def route(self, method, path, headers, body):
        # Gitea takes "token T" (its own) and "Bearer T".
        auth = headers.get("Authorization", "")
        if auth not in (f"token {self.token}", f"Bearer {self.token}"):
            return 401, {"message": "token is required"}
        path = urllib.parse.urlsplit(path).path
        repo = r"/api/v1/repos/([\w.-]+/[\w.-]+)"
        if method == "GET" and path == "/api/v1/user":
            return 200, {"id": 1, "login": self.login}
        if m := re.fullmatch(repo + r"/issues/(\d+)/comments", path):
            issue = f"{m[1]}#{m[2]}"
            if method == "GET":
                return 200, [{"id": i, "user": {"login": c["user"]}, "body": c["body"]}
                             for i, c in sorted(self.comments.items()) if c["issue"] == issue]
            if method == "POST":
                data, error = self.json_body(headers, body)
                if error:
                    return error
                if not isinstance(data.get("body"), str) or len(data["body"]) > 65535:
                    return 422, {"message": "body is required, at most 65535 characters"}
                comment_id = self.add_comment(m[1], m[2], self.login, data["body"])
                return 201, {"id": comment_id, "body": data["body"], "user": {"login": self.login}}
        if (m := re.fullmatch(repo + r"/issues/comments/(\d+)", path)) and method == "PATCH":
            comment = self.comments.get(int(m[2]))
            if comment is None or not comment["issue"].startswith(m[1] + "#"):
                return 404, {"message": "comment does not exist"}
            if comment["user"] != self.login:
                return 403, {"message": "only the poster may edit a comment"}
            data, error = self.json_body(headers, body)
            if error:
                return error
            if not isinstance(data.get("body"), str) or len(data["body"]) > 65535:
                return 422, {"message": "body is required, at most 65535 characters"}
            comment["body"] = data["body"]
            return 200, {"id": int(m[2]), "body": data["body"], "user": {"login": self.login}}
        if (m := re.fullmatch(repo + r"/statuses/(\w+)", path)) and method == "POST":
            data, error = self.json_body(headers, body)
            if error:
                return error
            if not SHA.match(m[2]):
                return 422, {"message": "sha is not a commit id"}
            if data.get("state") not in STATES or not isinstance(data.get("context"), str):
                return 422, {"message": "state must be one of pending, success, error, failure, warning"}
            if self.status_failure:
                return self.status_failure, {"message": "statuses are read-only"}
            self.statuses.append((m[1], m[2], data))
            return 201, {"id": len(self.statuses), **data}
        if (m := re.fullmatch(repo + r"/collaborators/([\w.-]+)/permission", path)) and method == "GET":
            if self.hold is not None and not self.hold.is_set():
                self.holding.set()
                self.hold.wait(120)
            permission = self.permissions.get((m[1], m[2]))
            if permission is None:
                return 403, {"message": "user is not a collaborator"}
            return 200, {"permission": permission, "role_name": permission, "user": {"login": m[2]}}
        if (m := re.fullmatch(repo + r"/pulls/(\d+)", path)) and method == "GET":
            pull = self.pulls.get((m[1], int(m[2])))
            if pull is None:
                return 404, {"message": "pull request does not exist"}
            return 200, {"number": int(m[2]), "state": pull["state"],
                         "head": {"sha": pull["head_sha"], "ref": "feature"},
                         "base": {"ref": pull["base_ref"], "sha": "0" * 40}}
        return 404, {"message": f"no route {method} {path}"}


class Woodpecker(StandIn):
    """Woodpecker's API: a repository looked up by name, manual pipelines with variables.
    `start_fails` makes the next pipeline POSTs go wrong, one entry each: a status to refuse
    with (no pipeline), or None to take the pipeline and close the connection without an answer."""

    def __init__(self, token, repos):
        super().__init__()
        self.token = token
        self.repos = {name: index + 7 for index, name in enumerate(repos)}
        self.builds = []  # (repo, {"branch", "variables"})
        self.start_fails = []

    def route(self, method, path, headers, body):
        if headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {"message": "Unauthorized"}
        path = urllib.parse.urlsplit(path).path
        if (m := re.fullmatch(r"/api/repos/lookup/([\w.-]+/[\w.-]+)", path)) and method == "GET":
            if m[1] not in self.repos:
                return 404, {"message": "repo not found"}
            return 200, {"id": self.repos[m[1]], "full_name": m[1]}
        if (m := re.fullmatch(r"/api/repos/(\d+)/pipelines", path)) and method == "POST":
            names = {v: k for k, v in self.repos.items()}
            if int(m[1]) not in names:
                return 404, {"message": "repo not found"}
            data, error = self.json_body(headers, body)
            if error:
                return error
            variables = data.get("variables", {})
            if not isinstance(data.get("branch"), str) or not data["branch"] or not isinstance(variables, dict) \
                    or not all(isinstance(v, str) for v in variables.values()):
                return 400, {"message": "branch (string) and variables (strings) expected"}
            if self.start_fails:
                failure = self.start_fails.pop(0)
                if failure is not None:
                    return failure, {"message": "the queue is full"}
                self.builds.append((names[int(m[1])], data))
                return None, None
            self.builds.append((names[int(m[1])], data))
            return 200, {"id": 900 + len(self.builds), "number": len(self.builds), "event": "manual",
                         "branch": data["branch"]}
        return 404, {"message": f"no route {method} {path}"}


class Drone(StandIn):
    """Drone's API: a custom build of a branch, parameters in the query."""

    def __init__(self, token, repos):
        super().__init__()
        self.token = token
        self.repos = set(repos)
        self.builds = []  # (repo, {query parameter: value})

    def route(self, method, path, headers, body):
        if headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {"message": "Unauthorized"}
        parts = urllib.parse.urlsplit(path)
        if (m := re.fullmatch(r"/api/repos/([\w.-]+/[\w.-]+)", parts.path)) and method == "GET":
            if m[1] not in self.repos:
                return 404, {"message": "Not Found"}
            return 200, {"id": 40, "slug": m[1], "active": True}
        if (m := re.fullmatch(r"/api/repos/([\w.-]+/[\w.-]+)/builds", parts.path)) and method == "POST":
            if m[1] not in self.repos:
                return 404, {"message": "Not Found"}
            query = dict(urllib.parse.parse_qsl(parts.query))
            if not query.get("branch") and not query.get("commit"):
                return 400, {"message": "branch or commit required"}
            self.builds.append((m[1], query))
            return 200, {"id": 500 + len(self.builds), "number": len(self.builds), "event": "custom"}
        return 404, {"message": f"no route {method} {path}"}


def sign(secret, body):
    """X-Gitea-Signature as Gitea computes it: hex HMAC-SHA256 of the body."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


COMMENT_IDS = itertools.count(777)


def gitea_time(moment):
    """A time as Gitea writes created_at: RFC 3339, whole seconds, the server's offset."""
    return moment.astimezone().isoformat(timespec="seconds")


def comment_payload(repo, number, login, text, action="created", is_pull=True, comment_id=None, written=None):
    """An issue_comment delivery's body as Gitea sends it (the fields that matter, and some that do not):
    each comment has its own id and, unless `written` (RFC 3339) says otherwise, was written now."""
    owner, name = repo.split("/")
    written = written or gitea_time(datetime.datetime.now(datetime.timezone.utc))
    return json.dumps({
        "action": action,
        "issue": {"id": 5000 + number, "number": number, "title": "Bump to 1.7.1",
                  "pull_request": {"merged": False} if is_pull else None,
                  "user": {"login": "contributor"}},
        "comment": {"id": comment_id or next(COMMENT_IDS), "body": text, "user": {"id": 3, "login": login},
                    "created_at": written, "updated_at": written},
        "repository": {"id": 42, "name": name, "full_name": repo, "owner": {"login": owner}},
        "sender": {"id": 3, "login": login},
        "is_pull": is_pull,
    }).encode()
