"""noarkpack serve's guards without a browser (issue 21, point 1 and 8): the token, the roots, the origin, the
loopback, the headers, the reveal switch and the language of the pages."""

from __future__ import annotations

import os
import socket
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from starlette.exceptions import HTTPException
from starlette.testclient import TestClient

from noarkpack.locale import tr_in
from noarkpack.web import LOOPBACK, create_app, make_server
from noarkpack.web.security import CSP

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TOKEN = "test-token-0123456789"
ORIGIN = {"Origin": "http://testserver"}


@pytest.fixture
def app(tmp_path):
    return create_app([EXAMPLES], token=TOKEN, state_dir=tmp_path / "state")


@pytest.fixture
def client(app):
    c = TestClient(app)
    assert c.get(f"/?token={TOKEN}").status_code == 200  # the cookie from now on
    return c


def omsorg(app):
    return next(t for t in app.state.ctx.targets.values() if t.label == "omsorg")


def test_no_token_is_403(app):
    c = TestClient(app)
    tid = omsorg(app).id
    for path in ("/", f"/t/{tid}", "/static/app.css", "/runs/x/events", "/nowhere"):
        r = c.get(path)
        assert r.status_code == 403, path
        assert "omsorg" not in r.text
    assert c.post("/settings", data={"lang": "en"}, headers=ORIGIN).status_code == 403
    assert c.post(f"/t/{tid}/run/analyse", headers=ORIGIN).status_code == 403
    assert c.get(f"/?token={TOKEN}x").status_code == 403
    assert c.get("/", headers={"Cookie": "np_token=wrong"}).status_code == 403


def test_token_once_then_cookie_and_header(app):
    c = TestClient(app)
    r = c.get(f"/t/{omsorg(app).id}?token={TOKEN}&x=1", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == f"/t/{omsorg(app).id}?x=1"  # the token leaves the address
    cookies = r.headers.get_list("set-cookie")
    token_cookie = next(c for c in cookies if c.startswith("np_token="))
    assert "HttpOnly" in token_cookie and "SameSite=Strict" in token_cookie
    assert c.get("/").status_code == 200
    bare = TestClient(app)
    assert bare.get("/", headers={"X-Noarkpack-Token": TOKEN}).status_code == 200


def test_traversal_is_404(app, client, tmp_path):
    ctx = app.state.ctx
    t = omsorg(app)
    for rel in ("../sykehus/noarkpack.toml", "..", "eksport/../../sykehus", "/etc/passwd", "", "C:/x",
                "eksport/\x00"):
        with pytest.raises(HTTPException) as e:
            ctx.safe_path(t, rel)
        assert e.value.status_code == 404, rel
    assert ctx.safe_path(t, "eksport/PASIENT.csv") == t.path / "eksport" / "PASIENT.csv"
    # a link inside a root to a place outside it
    root = tmp_path / "root"
    (root / "p").mkdir(parents=True)
    (root / "p" / "noarkpack.toml").write_text("[project]\n", encoding="utf-8")
    (root / "p" / "out").symlink_to("/etc")
    (root / "linked").symlink_to(EXAMPLES / "omsorg")
    app2 = create_app([root], token=TOKEN, state_dir=tmp_path / "state2")
    ctx2 = app2.state.ctx
    assert [t.label for t in ctx2.targets.values()] == ["p"]  # the linked project is not served
    with pytest.raises(HTTPException):
        ctx2.safe_path(next(iter(ctx2.targets.values())), "out/passwd")
    with pytest.raises(ValueError):
        ctx2.add_target(root / "linked")
    with pytest.raises(ValueError):
        ctx2.add_target(EXAMPLES / "omsorg")  # outside the roots
    # through the server: unknown targets, runs and files; dotted paths to the static folder
    for path in ("/t/000000000000", "/runs/nope", "/runs/nope/events", "/static/%2e%2e/app.py",
                 "/static/..%2fapp.py", "/static/nothing.css"):
        assert client.get(path).status_code == 404, path


def test_out_outside_the_roots_refused(app, client, tmp_path):
    t = omsorg(app)
    r = client.post(f"/t/{t.id}/run/extract", data={"out": str(tmp_path / "elsewhere")}, headers=ORIGIN)
    assert r.status_code == 400
    assert "outside" in r.text
    r = client.post(f"/t/{t.id}/run/extract", data={"out": "../../../../tmp/x"}, headers=ORIGIN)
    assert r.status_code == 400
    assert client.post(f"/t/{t.id}/run/validate", headers=ORIGIN).status_code == 400  # not for a project
    assert not (tmp_path / "elsewhere").exists()


def test_cross_origin_post_refused(app, client):
    tid = omsorg(app).id
    for headers in ({"Origin": "http://evil.example"}, {"Origin": "null"}, {},
                    {"Referer": "http://evil.example/page"}, {"Origin": "http://testserver.evil.example"}):
        r = client.post("/settings", data={"lang": "en"}, headers=headers, follow_redirects=False)
        assert r.status_code == 403, headers
        assert client.post(f"/t/{tid}/run/analyse", headers=headers).status_code == 403
    assert client.post("/settings", data={"lang": "en"}, headers=ORIGIN, follow_redirects=False).status_code == 303
    r = client.post("/settings", data={"lang": "en"}, headers={"Referer": "http://testserver/t/x"},
                    follow_redirects=False)
    assert r.status_code == 303
    assert client.post("/settings", data={"lang": "en"}, headers={"X-Noarkpack-Token": TOKEN},
                       follow_redirects=False).status_code == 303
    # a state-changing GET does not exist
    assert client.get("/settings?lang=en").status_code == 405
    assert client.get(f"/t/{tid}/run/analyse").status_code == 405
    # another name for the host (DNS rebinding) is refused even with the token
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 403


def test_csp_and_headers(app, client):
    for path, status in (("/", 200), ("/static/app.css", 200), ("/t/000000000000", 404)):
        r = client.get(path)
        assert r.status_code == status
        assert r.headers["content-security-policy"] == CSP
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "same-origin"
    r = TestClient(app).get("/")
    assert r.status_code == 403 and r.headers["content-security-policy"] == CSP
    assert "default-src 'self'" in CSP and "frame-ancestors 'none'" in CSP
    page = client.get("/").text
    assert "http://" not in page.replace("http://testserver", "") and "https://" not in page  # nothing from outside
    assert "<script>" not in page and " style=" not in page  # nothing inline: the CSP forbids it


def test_reveal_switch_with_its_banner(app, client, tmp_path):
    assert "reveal-banner" not in client.get("/").text  # off by default
    r = client.post("/settings", data={"reveal": "on", "back": "/"}, headers=ORIGIN)
    assert r.status_code == 200 and "reveal-banner" in r.text
    assert "reveal-banner" in client.get(f"/t/{omsorg(app).id}").text  # on every page of the session
    other = TestClient(app)
    other.get(f"/?token={TOKEN}")
    assert "reveal-banner" not in other.get("/").text  # per session
    client.post("/settings", data={"reveal": "off"}, headers=ORIGIN)
    assert "reveal-banner" not in client.get("/").text
    closed = TestClient(create_app([EXAMPLES], token=TOKEN, state_dir=tmp_path / "s", reveal_allowed=False))
    closed.get(f"/?token={TOKEN}")
    r = closed.post("/settings", data={"reveal": "on"}, headers=ORIGIN)
    assert "reveal-banner" not in r.text
    # an open redirect through "back" is refused
    r = client.post("/settings", data={"back": "//evil.example/"}, headers=ORIGIN, follow_redirects=False)
    assert r.headers["location"] == "/"


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_pages_in_both_languages(app, client, lang):
    client.post("/settings", data={"lang": lang}, headers=ORIGIN)  # the np_lang cookie
    assert client.cookies.get("np_lang") == lang
    t = omsorg(app)
    for path, text in (("/", "Deposits on this machine"), (f"/t/{t.id}", "Runs"), ("/t/000000000000", "Not found.")):
        r = client.get(path)
        assert f'<html lang="{lang}">' in r.text, path
        assert str(tr_in(lang, text)) in r.text, path  # the sync pages run in the pool: the language reaches them
    bare = TestClient(app, cookies={"np_lang": lang})
    r = bare.get("/", headers={"X-Noarkpack-Token": TOKEN})
    assert f'<html lang="{lang}">' in r.text
    refused = TestClient(app, cookies={"np_lang": lang}).get("/")  # the refusal too
    assert refused.status_code == 403
    assert refused.text == tr_in(lang, "Forbidden: open the address noarkpack serve printed (with its token).")


def _other_addresses() -> list[str]:
    found = set()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.add(info[4][0])
    except OSError:
        pass
    return [a for a in found if not a.startswith("127.")]


def test_real_server_bound_to_loopback(tmp_path):
    server, sock, url = make_server([EXAMPLES], state_dir=tmp_path / "state")
    assert sock.getsockname()[0] == LOOPBACK
    assert url.startswith(f"http://{LOOPBACK}:") and "token=" in url
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        port = sock.getsockname()[1]
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(f"http://{LOOPBACK}:{port}/", timeout=5)
        assert e.value.code == 403
        import http.cookiejar

        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        with browser.open(url, timeout=5) as r:  # as a browser: the token once, then the cookie
            assert r.status == 200 and "token=" not in r.url
        token = url.split("token=")[1]
        req = urllib.request.Request(f"http://{LOOPBACK}:{port}/", headers={"X-Noarkpack-Token": token})
        with urllib.request.urlopen(req, timeout=5) as r:
            assert r.status == 200 and b"omsorg" in r.read()
        for address in _other_addresses():  # not reachable on the machine's other addresses
            with pytest.raises(OSError):
                socket.create_connection((address, port), timeout=2).close()
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
    assert not thread.is_alive()


def test_cli_serve_prints_the_address(tmp_path):
    import subprocess
    import sys

    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"), NOARKPACK_LANG="en")
    proc = subprocess.Popen([sys.executable, "-m", "noarkpack.cli", "serve", str(EXAMPLES), "--no-browser"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert "http://127.0.0.1:" in line and "token=" in line
        url = line.split()[-1]
        port = int(url.split(":")[2].split("/")[0])
        token = url.split("token=")[1]
        req = urllib.request.Request(f"http://127.0.0.1:{port}/", headers={"X-Noarkpack-Token": token})
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=15)
    assert token not in err  # the server's log carries no address with its token
    assert "omsorg" not in err


def test_cli_serve_refuses_a_missing_path_and_a_busy_port(tmp_path):
    import subprocess
    import sys

    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"), NOARKPACK_LANG="en")
    cmd = [sys.executable, "-m", "noarkpack.cli", "serve", "--no-browser"]
    r = subprocess.run([*cmd, str(tmp_path / "nowhere")], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 2 and "does not exist" in r.stderr and not r.stdout
    with socket.socket() as busy:
        busy.bind((LOOPBACK, 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        r = subprocess.run([*cmd, str(EXAMPLES), "--port", str(port)], capture_output=True, text=True, env=env,
                           timeout=60)
    assert r.returncode == 2 and f"port {port} is in use" in r.stderr and not r.stdout
