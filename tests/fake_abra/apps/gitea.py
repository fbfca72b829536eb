"""Gitea: health, users made with `gitea admin user create`, API tokens, the
API, repositories, and git over smart HTTP (served by a real `git http-backend`).

Modes: unhealthy       /api/healthz keeps saying "fail" (never ready)
       push-rejected   pushes are refused (403)
"""

import os
import shutil
import subprocess
import time

from common import basic_auth, bearer, json_answer, json_body, load, path_only, save, token

API = "/api/v1/"


def users_of(context):
    return load(context, {"users": {}, "tokens": {}})


def authenticated(request, users):
    """The user a request acts as: by token (header) or by password or token (basic auth)."""
    supplied = bearer(request)
    if supplied:
        return users["tokens"].get(supplied)
    user, password = basic_auth(request)
    if user in users["users"] and password in (users["users"][user]["password"], *[
            t for t, owner in users["tokens"].items() if owner == user]):
        return user
    return None


def repository(request, owner, name):
    return request.volume / "repos" / owner / f"{name}.git"


def git_backend(request, path, user):
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GIT_PROJECT_ROOT": str(request.volume / "repos"),
        "GIT_HTTP_EXPORT_ALL": "1",
        "PATH_INFO": path,
        "QUERY_STRING": request.path.partition("?")[2],
        "REQUEST_METHOD": request.method,
        "CONTENT_TYPE": request.headers.get("Content-Type", ""),
        "CONTENT_LENGTH": str(len(request.body)),
        "HTTP_CONTENT_ENCODING": request.headers.get("Content-Encoding", ""),
        "REMOTE_ADDR": "127.0.0.1",
    }
    if user:
        environment["REMOTE_USER"] = user
    result = subprocess.run(["git", "http-backend"], input=request.body, env=environment, capture_output=True)
    head, _, body = result.stdout.partition(b"\r\n\r\n")
    if not _:
        head, _, body = result.stdout.partition(b"\n\n")
    status, headers = 200, {}
    for line in head.decode(errors="replace").splitlines():
        name, _, value = line.partition(":")
        if name.lower() == "status":
            status = int(value.split()[0])
        elif name:
            headers[name.strip()] = value.strip()
    return status, headers, body


def handle(request):
    mode = request.stack.get("mode", "")
    path = path_only(request)
    # Gitea needs a moment after its container starts before it reports healthy.
    healthy = mode != "unhealthy" and time.time() >= request.stack["ready_at"] + 0.3
    if path == "/api/healthz":
        return json_answer(200 if healthy else 500, {"status": "pass" if healthy else "fail",
                                                     "description": "Gitea: Git with a cup of tea"})
    users = users_of(request)
    if ".git/" in path or path.endswith(".git"):
        owner, _, rest = path.strip("/").partition("/")
        name = rest.split(".git", 1)[0]
        if not repository(request, owner, name).is_dir():
            return 404, {"Content-Type": "text/plain"}, "Not found"
        pushing = "git-receive-pack" in path or "service=git-receive-pack" in request.path
        user = authenticated(request, users)
        if pushing and user is None:
            return 401, {"WWW-Authenticate": 'Basic realm="Gitea"'}, "Unauthorized"
        if pushing and (mode == "push-rejected" or user != owner):
            return 403, {"Content-Type": "text/plain"}, "User permission denied for writing."
        return git_backend(request, path, user)
    if not path.startswith(API):
        # What a browser sees of the real home page, in short: something to see.
        return 200, {"Content-Type": "text/html"}, (
            "<html><head><title>Gitea: Git with a cup of tea</title></head><body style=\"font-family:sans-serif;"
            "text-align:center;padding-top:8em\"><h1 style=\"color:#609926\">Gitea: Git with a cup of tea</h1>"
            "<p>A painless, self-hosted Git service</p></body></html>")

    route = path[len(API):].strip("/").split("/")
    user = authenticated(request, users)
    if request.headers.get("Authorization") and user is None:
        return json_answer(401, {"message": "user does not exist or password is wrong"})
    if route == ["version"]:
        return json_answer(200, {"version": "1.21.4"})
    if len(route) == 3 and route[0] == "users" and route[2] == "tokens" and request.method == "POST":
        user_name, password = basic_auth(request)
        if user_name != route[1] or users["users"].get(user_name, {}).get("password") != password:
            return json_answer(401, {"message": "user does not exist or password is wrong"})
        body = json_body(request) or {}
        issued = token(40)
        users["tokens"][issued] = user_name
        save(request, users)
        return json_answer(201, {"id": len(users["tokens"]), "name": body.get("name", ""), "sha1": issued,
                                 "token_last_eight": issued[-8:], "scopes": body.get("scopes", [])})
    if route == ["user", "repos"] and request.method == "POST":
        if user is None:
            return json_answer(401, {"message": "token is required"})
        body = json_body(request) or {}
        target = repository(request, user, body.get("name", ""))
        if target.exists():
            return json_answer(409, {"message": "The repository with the same name already exists."})
        target.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "init", "--bare", "-q", str(target)], check=True)
        subprocess.run(["git", "--git-dir", str(target), "config", "http.receivepack", "true"], check=True)
        domain = request.stack["domain"]
        return json_answer(201, {"full_name": f"{user}/{body['name']}", "empty": True,
                                 "clone_url": f"https://{domain}/{user}/{body['name']}.git"})
    if len(route) == 3 and route[0] == "repos" and request.method == "DELETE":
        # Gitea lets the owner (or an admin) delete a repository: 204, then it is gone.
        target = repository(request, route[1], route[2])
        if user is None:
            return json_answer(401, {"message": "token is required"})
        if not target.is_dir():
            return json_answer(404, {"message": "The target couldn't be found."})
        if user != route[1] and not users["users"].get(user, {}).get("admin"):
            return json_answer(403, {"message": "token does not have at least one of required scope(s)"})
        shutil.rmtree(target)
        return 204, {}, ""
    if len(route) == 4 and route[0] == "repos" and route[3] == "commits":
        target = repository(request, route[1], route[2])
        if not target.is_dir():
            return json_answer(404, {"message": "The target couldn't be found."})
        log = subprocess.run(["git", "--git-dir", str(target), "log", "--all", "--format=%H%x09%s"],
                             capture_output=True, text=True)
        if log.returncode != 0 or not log.stdout.strip():
            return json_answer(409, {"message": "Git Repository is empty."})
        commits = [dict(zip(("sha", "message"), line.split("\t", 1))) for line in log.stdout.splitlines()]
        return json_answer(200, [{"sha": c["sha"], "commit": {"message": c["message"]}} for c in commits])
    return json_answer(404, {"message": "not found"})


def run(context, service, argv):
    """`gitea admin user create …` inside the app container."""
    if service != "app" or argv[:4] != ["gitea", "admin", "user", "create"]:
        print(f"{' '.join(argv)}: not a command this fake Gitea knows", flush=True)
        return 127
    options, words = {}, argv[4:]
    while words:
        word = words.pop(0)
        key, has_value, value = word.lstrip("-").partition("=")
        if key in ("admin", "random-password"):
            options[key] = True
        elif has_value:
            options[key] = value
        else:
            options[key] = words.pop(0) if words else ""
    if "username" not in options or "email" not in options:
        print("Command error: username and email are required", flush=True)
        return 1
    users = users_of(context)
    if options["username"] in users["users"]:
        print(f"Command error: CreateUser: user already exists [name: {options['username']}]", flush=True)
        return 1
    password = options.get("password") or (token(16) if options.get("random-password") else "")
    if not password:
        print("Command error: password or --random-password is required", flush=True)
        return 1
    users["users"][options["username"]] = {"password": password, "admin": bool(options.get("admin"))}
    save(context, users)
    if options.get("random-password"):
        print(f"generated random password is '{password}'", flush=True)
    print(f"New user '{options['username']}' has been successfully created!", flush=True)
    return 0
