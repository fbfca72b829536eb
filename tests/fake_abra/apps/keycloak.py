"""Keycloak: the master realm, password-grant tokens for admin-cli, admin REST.

Admin: KEYCLOAK_ADMIN (default admin) with the stack's `admin_password` secret.
Modes: bad-admin   the admin password is refused (invalid_grant)
"""

from common import bearer, form_body, json_answer, load, path_only, save, token

REALM = "/realms/master"


def handle(request):
    mode = request.stack.get("mode", "")
    path = path_only(request)
    if path == REALM:
        return json_answer(200, {"realm": "master", "public_key": "MIIBIjANBgkq-fake",
                                 "token-service": f"https://{request.stack['domain']}{REALM}/protocol/openid-connect",
                                 "account-service": f"https://{request.stack['domain']}{REALM}/account"})
    if path == REALM + "/protocol/openid-connect/token" and request.method == "POST":
        form = form_body(request)
        admin = request.env.get("KEYCLOAK_ADMIN", "admin") or "admin"
        if form.get("client_id") != "admin-cli":
            return json_answer(401, {"error": "invalid_client"})
        if (form.get("grant_type") != "password" or form.get("username") != admin
                or form.get("password") != request.secret("admin_password") or mode == "bad-admin"):
            return json_answer(401, {"error": "invalid_grant", "error_description": "Invalid user credentials"})
        tokens = load(request, {"tokens": []})
        issued = token(40)
        tokens["tokens"].append(issued)
        save(request, tokens)
        return json_answer(200, {"access_token": issued, "token_type": "Bearer", "expires_in": 60})
    if path.startswith("/admin/realms"):
        if bearer(request) not in load(request, {"tokens": []})["tokens"]:
            return json_answer(401, {"error": "HTTP 401 Unauthorized"})
        return json_answer(200, [{"id": "master", "realm": "master", "enabled": True}])
    return 404, {"Content-Type": "text/html"}, "<html>Page not found</html>"
