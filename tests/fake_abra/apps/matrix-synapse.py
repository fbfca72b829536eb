"""Synapse: client versions, federation version, registration and login.

Registration is open only with ENABLE_REGISTRATION=true in the app's env.
Modes: no-federation   the federation endpoint is not served (404)
"""

import hashlib

from common import bearer, json_answer, json_body, load, path_only, save, token

CLIENT = "/_matrix/client/"


def handle(request):
    mode = request.stack.get("mode", "")
    path = path_only(request)
    domain = request.stack["domain"]
    # Synapse's landing page, as a browser finds it: / sends it to the static "it works" page.
    if path == "/":
        return 302, {"Location": "/_matrix/static/", "Content-Type": "text/html"}, ""
    if path == "/_matrix/static/":
        return 200, {"Content-Type": "text/html"}, (
            "<html><head><title>Synapse is running</title></head><body style=\"font-family:sans-serif;"
            "text-align:center;padding-top:8em\"><h1>It works! Synapse is running</h1><p>Your Synapse server "
            "is listening on this port and is ready for messages.</p></body></html>")
    if path == CLIENT + "versions":
        return json_answer(200, {"versions": ["r0.6.1", "v1.1", "v1.5", "v1.8"], "unstable_features": {}})
    if path == "/_matrix/federation/v1/version":
        if mode == "no-federation":
            return json_answer(404, {"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"})
        return json_answer(200, {"server": {"name": "Synapse", "version": "1.98.0"}})
    users = load(request, {"users": {}, "tokens": {}})
    if path == CLIENT + "v3/register" and request.method == "POST":
        if request.env.get("ENABLE_REGISTRATION", "").lower() != "true":
            return json_answer(403, {"errcode": "M_FORBIDDEN", "error": "Registration has been disabled"})
        body = json_body(request) or {}
        if (body.get("auth") or {}).get("type") != "m.login.dummy":
            return json_answer(401, {"flows": [{"stages": ["m.login.dummy"]}], "params": {}, "session": token(8)})
        user_id = f"@{body.get('username')}:{domain}"
        if user_id in users["users"]:
            return json_answer(400, {"errcode": "M_USER_IN_USE", "error": "User ID already taken."})
        users["users"][user_id] = hashlib.sha256(body.get("password", "").encode()).hexdigest()
        access = token(32)
        users["tokens"][access] = user_id
        save(request, users)
        return json_answer(200, {"user_id": user_id, "access_token": access, "device_id": token(10)})
    if path == CLIENT + "v3/login" and request.method == "POST":
        body = json_body(request) or {}
        user = (body.get("identifier") or {}).get("user", "")
        user_id = user if user.startswith("@") else f"@{user}:{domain}"
        digest = hashlib.sha256(body.get("password", "").encode()).hexdigest()
        if user_id in users.get("deactivated", []):
            return json_answer(403, {"errcode": "M_USER_DEACTIVATED", "error": "This account has been deactivated"})
        if body.get("type") != "m.login.password" or users["users"].get(user_id) != digest:
            return json_answer(403, {"errcode": "M_FORBIDDEN", "error": "Invalid username or password"})
        access = token(32)
        users["tokens"][access] = user_id
        save(request, users)
        return json_answer(200, {"user_id": user_id, "access_token": access, "device_id": token(10)})
    if path == CLIENT + "v3/account/deactivate" and request.method == "POST":
        # User-interactive auth as Synapse asks it: without `auth`, a 401 with
        # the flows and a session; then the password, in that session.
        user_id = users["tokens"].get(bearer(request) or "")
        if not user_id:
            return json_answer(401, {"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid access token passed."})
        auth = (json_body(request) or {}).get("auth")
        sessions = users.setdefault("sessions", [])
        if not auth:
            session = token(24)
            sessions.append(session)
            save(request, users)
            return json_answer(401, {"flows": [{"stages": ["m.login.password"]}], "params": {}, "session": session})
        digest = hashlib.sha256(str(auth.get("password", "")).encode()).hexdigest()
        if (auth.get("type") != "m.login.password" or auth.get("session") not in sessions
                or users["users"].get(user_id) != digest):
            return json_answer(401, {"errcode": "M_FORBIDDEN", "error": "Invalid password",
                                     "flows": [{"stages": ["m.login.password"]}], "session": auth.get("session")})
        sessions.remove(auth["session"])
        users.setdefault("deactivated", []).append(user_id)
        users["tokens"] = {t: u for t, u in users["tokens"].items() if u != user_id}
        save(request, users)
        return json_answer(200, {"id_server_unbind_result": "no-support"})
    if path == CLIENT + "v3/account/whoami":
        user_id = users["tokens"].get(bearer(request) or "")
        if not user_id:
            return json_answer(401, {"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid access token passed."})
        return json_answer(200, {"user_id": user_id})
    return json_answer(404, {"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"})
