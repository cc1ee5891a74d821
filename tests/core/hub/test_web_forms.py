"""The web pages' rules, in process: log-in, the session cookie, CSRF, CSP, admins only.

(Kept apart from the browser test: Playwright's synchronous API runs an event loop of
its own for the module's browser, which an asyncio test must not share.)
"""

from __future__ import annotations

from pathlib import Path

from tests.core.hub.world import build_world, serve


async def test_pages_refuse_bad_logins_forged_forms_and_non_admins(tmp_path: Path) -> None:
    world = build_world(tmp_path / "world")
    async with serve(world) as (http, _):
        wrong = await http.post("/login", data={"name": "import_a", "password": "not it"})
        assert wrong.status_code == 401 and "session" not in wrong.headers.get("set-cookie", "")
        ok = await http.post(
            "/login", data={"name": "import_a", "password": "correct horse battery"}
        )
        assert ok.status_code == 303
        cookie = ok.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        page = await http.get("/")
        assert "Start Extract" in page.text
        policy = page.headers["content-security-policy"]
        assert (
            "script-src 'nonce-" in policy and "unsafe-inline" not in policy.split("script-src")[1]
        )
        forged = await http.post(f"/schools/{world.school_a}/extract", data={"csrf": "0" * 32})
        assert forged.status_code == 403
        audit = await http.get("/audit")
        assert audit.status_code == 403
        other = await http.get(f"/schools/{world.school_b}")
        assert other.status_code == 404
    async with serve(world) as (http, _):
        await http.post("/login", data={"name": "admin", "password": "correct horse battery"})
        audit = await http.get("/audit")
        assert audit.status_code == 200 and "session.login" in audit.text
