"""The admin console's files as the server sends them: paths, headers, and rules the code keeps."""

from __future__ import annotations

import re
from typing import Any

import httpx
from starlette.routing import Mount

from console import CONTENT_SECURITY_POLICY, WEB_DIR

#: Ways to turn data into markup or code; the console builds DOM nodes and sets textContent instead.
UNSAFE_JS = ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", 'setAttribute("style')


def assert_strict_headers(response: httpx.Response) -> None:
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_policy_allows_only_this_origin() -> None:
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


async def test_admin_serves_the_app_with_strict_headers(client: httpx.AsyncClient) -> None:
    redirect = await client.get("/admin")
    assert redirect.status_code in (301, 307) and redirect.headers["location"].endswith("/admin/")

    index = await client.get("/admin/")
    assert index.status_code == 200 and index.headers["content-type"].startswith("text/html")
    assert_strict_headers(index)
    assert '<script type="module" src="js/app.js"></script>' in index.text

    for path, kind in (
        ("js/app.js", "javascript"),
        ("js/views/integrations.js", "javascript"),
        ("css/admin.css", "css"),
    ):
        response = await client.get(f"/admin/{path}")
        assert response.status_code == 200, path
        assert kind in response.headers["content-type"]
        assert_strict_headers(response)

    missing = await client.get("/admin/js/nope.js")
    assert missing.status_code == 404
    assert_strict_headers(missing)
    # The GraphQL endpoint is not affected.
    graphql = await client.post("/graphql", json={"query": "{ viewer { kind } }"})
    assert "content-security-policy" not in graphql.headers


async def test_console_mount_comes_after_every_other_route(app: Any) -> None:
    """``/admin`` is a catch-all mount: routes under it (such as the OAuth success page) must come first."""
    assert isinstance(app.routes[-1], Mount) and app.routes[-1].path == "/admin"


def test_no_inline_code_no_html_injection_no_third_party_origin() -> None:
    # GraphiQL's vendored bundles are third-party code, served as built (scripts/build-graphiql.sh); its page is ours.
    vendored = WEB_DIR / "graphiql" / "vendor"
    files = [p for p in WEB_DIR.rglob("*") if p.is_file() and not p.is_relative_to(vendored)]
    assert {p.suffix for p in files} <= {".html", ".css", ".js"}
    for path in files:
        text = path.read_text()
        # SVG's namespace name is an identifier that is never fetched (inline charts are built in it).
        offline = text.replace('"http://www.w3.org/2000/svg"', '""')
        assert not re.search(r"https?://[\w-]", offline), f"{path}: the console must work offline"
        if path.suffix == ".html":
            assert not re.search(r"<script(?![^>]*\bsrc=)", text), f"{path}: inline script"
            assert "<style" not in text and " style=" not in text, f"{path}: inline style"
            assert not re.search(r"\son\w+=", text), f"{path}: inline event handler"
        if path.suffix == ".js":
            for unsafe in (
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "document.write",
                "eval(",
                'setAttribute("style',
            ):
                assert unsafe not in text, f"{path}: {unsafe}"
