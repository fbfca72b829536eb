"""Keycloak: the master realm, password-grant tokens for admin-cli, admin REST
(list and create realms, create users with a password), and the realms made
so, whose users get tokens with the password grant of their own admin-cli.

Admin: KEYCLOAK_ADMIN (default admin) with the stack's `admin_password` secret.
Modes: bad-admin   the admin password is refused (invalid_grant)
"""

from common import bearer, form_body, json_answer, json_body, load, path_only, save, token

REALM = "/realms/master"


def realm_answer(request, name):
    base = f"https://{request.stack['domain']}/realms/{name}"
    return json_answer(200, {"realm": name, "public_key": "MIIBIjANBgkq-fake",
                             "token-service": f"{base}/protocol/openid-connect",
                             "account-service": f"{base}/account"})


def issue(request, data):
    issued = token(40)
    data["tokens"].append(issued)
    save(request, data)
    return json_answer(200, {"access_token": issued, "token_type": "Bearer", "expires_in": 60})


def handle(request):
    mode = request.stack.get("mode", "")
    path = path_only(request)
    data = load(request, {"tokens": [], "realms": {}})
    data.setdefault("realms", {})
    parts = path.strip("/").split("/")
    # Keycloak's landing page, as a browser finds it: / sends it to the admin console's sign-in.
    if path == "/":
        return 302, {"Location": "/admin/", "Content-Type": "text/html"}, ""
    if path == "/admin/":
        return 200, {"Content-Type": "text/html"}, (
            "<html><head><title>Sign in to Keycloak</title></head><body style=\"background:#f0f0f0;"
            "font-family:sans-serif;text-align:center;padding-top:8em\"><h1 style=\"color:#333\">KEYCLOAK</h1>"
            "<p>Sign in to your account</p></body></html>")
    if path == REALM:
        return realm_answer(request, "master")
    if path == REALM + "/protocol/openid-connect/token" and request.method == "POST":
        form = form_body(request)
        admin = request.env.get("KEYCLOAK_ADMIN", "admin") or "admin"
        if form.get("client_id") != "admin-cli":
            return json_answer(401, {"error": "invalid_client"})
        if (form.get("grant_type") != "password" or form.get("username") != admin
                or form.get("password") != request.secret("admin_password") or mode == "bad-admin"):
            return json_answer(401, {"error": "invalid_grant", "error_description": "Invalid user credentials"})
        return issue(request, data)
    if parts[:1] == ["realms"] and len(parts) >= 2 and parts[1] in data["realms"]:
        users = data["realms"][parts[1]]
        if len(parts) == 2:
            return realm_answer(request, parts[1])
        if parts[2:] == ["protocol", "openid-connect", "token"] and request.method == "POST":
            form = form_body(request)
            if form.get("client_id") != "admin-cli":
                return json_answer(401, {"error": "invalid_client"})
            if form.get("grant_type") != "password" or users.get(form.get("username")) != form.get("password"):
                return json_answer(401, {"error": "invalid_grant", "error_description": "Invalid user credentials"})
            return issue(request, data)
    if path.startswith("/admin/realms"):
        if bearer(request) not in data["tokens"]:
            return json_answer(401, {"error": "HTTP 401 Unauthorized"})
        if path == "/admin/realms" and request.method == "POST":
            body = json_body(request) or {}
            name = body.get("realm", "")
            if not name or name == "master" or name in data["realms"]:
                return json_answer(409, {"errorMessage": "Conflict detected. See logs for details"})
            data["realms"][name] = {}
            save(request, data)
            return 201, {"Location": f"https://{request.stack['domain']}/admin/realms/{name}"}, ""
        if len(parts) == 3 and request.method == "DELETE":
            if parts[2] not in data["realms"]:
                return json_answer(404, {"error": "Realm not found."})
            del data["realms"][parts[2]]
            save(request, data)
            return 204, {}, ""
        if len(parts) == 4 and parts[3] == "users" and request.method == "POST":
            if parts[2] not in data["realms"]:
                return json_answer(404, {"error": "Realm not found."})
            body = json_body(request) or {}
            passwords = [c.get("value") for c in body.get("credentials", []) if c.get("type") == "password"]
            data["realms"][parts[2]][body.get("username", "")] = passwords[0] if passwords else None
            save(request, data)
            return 201, {}, ""
        if path == "/admin/realms":
            return json_answer(200, [{"id": name, "realm": name, "enabled": True}
                                     for name in ["master", *data["realms"]]])
    return 404, {"Content-Type": "text/html"}, "<html>Page not found</html>"
