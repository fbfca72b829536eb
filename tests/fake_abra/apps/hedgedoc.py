"""HedgeDoc: /status, and /new making a fresh note that then serves.

Modes: no-anonymous   anonymous note creation is off (/new answers 403)
"""

from common import json_answer, load, path_only, save, token


def handle(request):
    mode = request.stack.get("mode", "")
    path = path_only(request)
    notes = load(request, {"notes": []})
    if path == "/":  # the landing page a browser sees, in short
        return 200, {"Content-Type": "text/html"}, (
            "<html><head><title>HedgeDoc - Ideas grow better together</title></head><body style=\""
            "background:#333;color:#fff;font-family:sans-serif;text-align:center;padding-top:8em\">"
            "<h1>HedgeDoc</h1><p>The best platform to write and share markdown.</p></body></html>")
    if path == "/status":
        return json_answer(200, {"onlineNotes": 0, "onlineUsers": 0, "distinctOnlineUsers": 0,
                                 "notesCount": len(notes["notes"]), "registeredUsers": 0})
    if path == "/new":
        if mode == "no-anonymous":
            return 403, {"Content-Type": "text/html"}, "<html>Forbidden</html>"
        note = token(22)
        notes["notes"].append(note)
        save(request, notes)
        return 302, {"Location": f"/{note}", "Set-Cookie": f"connect.sid=s%3A{token(16)}; Path=/; HttpOnly"}, ""
    if path.strip("/") in notes["notes"]:
        return 200, {"Content-Type": "text/html"}, f"<html><title>Untitled - HedgeDoc</title><div id='doc'>{path}</div></html>"
    return 404, {"Content-Type": "text/html"}, "<html>Not found</html>"
