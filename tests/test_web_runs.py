"""Runs from the web (issue 21, point 2): analyse on a copy of examples/omsorg through the app, its progress as
server-sent events, its result and log after a reload (and a restart), cancel of a long run, two runs on the
same output refused."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from noarkpack.locale import tr_in
from noarkpack.web import create_app
from noarkpack.web.stages import conflicts

from .builders import synth_project

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TOKEN = "runs-token-0123456789"
ORIGIN = {"Origin": "http://testserver"}


@pytest.fixture
def root(tmp_path):
    r = tmp_path / "root"
    r.mkdir()
    shutil.copytree(EXAMPLES / "omsorg", r / "omsorg")
    return r


def client_for(root: Path, state: Path) -> tuple[TestClient, object]:
    app = create_app([root], token=TOKEN, state_dir=state)
    c = TestClient(app, headers=ORIGIN)
    assert c.get(f"/?token={TOKEN}").status_code == 200
    return c, app


def target(app, label: str):
    return next(t for t in app.state.ctx.targets.values() if t.label == label)


def events(c: TestClient, rid: str) -> list[tuple[str, dict]]:
    """Every event of the run's stream, until its end."""
    got, kind = [], None
    with c.stream("GET", f"/runs/{rid}/events") as s:
        assert s.headers["content-type"].startswith("text/event-stream")
        for line in s.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                got.append((kind, json.loads(line[6:])))
                if kind == "end":
                    break
    return got


def wait(c: TestClient, rid: str, until, timeout: float = 120) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        snap = c.get(f"/runs/{rid}/status").json()
        if until(snap):
            return snap
        time.sleep(0.05)
    raise AssertionError(f"run {rid} did not get there: {snap}")


def start(c: TestClient, tid: str, stage: str, **fields) -> str:
    r = c.post(f"/t/{tid}/run/{stage}", data=fields, follow_redirects=False)
    assert r.status_code == 303, r.text
    return r.headers["location"].rsplit("/", 1)[1]


def test_analyse_progress_result_and_log_survive_a_reload(root, tmp_path):
    c, app = client_for(root, tmp_path / "state")
    t = target(app, "omsorg")
    assert wait(c, start(c, t.id, "import"), lambda s: not s["active"])["state"] == "done"
    rid = start(c, t.id, "analyse")
    got = events(c, rid)
    kinds = [k for k, _ in got]
    assert kinds[-1] == "end" and kinds.count("progress") >= 2
    progress = [d for k, d in got if k == "progress"]
    assert any(d["stage"] and d["done"] for d in progress)  # counts arrived while it ran
    assert progress[-1]["state"] == "done" and progress[-1]["exit_code"] == 0
    log = [line for d in progress for line in d["log"]]
    assert log[0] == tr_in("en", "{stage} started on {name}", stage=tr_in("en", "analysis"), name="omsorg")
    assert log[-1] == tr_in("en", "finished with exit code {code}", code=0)

    page = c.get(f"/runs/{rid}").text
    assert "Analysis of Fjordvik omsorg" in page and 'data-active="false"' in page
    assert "analysis.json" in page
    assert f"<code>noarkpack analyse {root / 'omsorg'}</code>" in page  # the same in a terminal
    report = c.get(f"/runs/{rid}/file/analysis.json")
    assert report.status_code == 200 and json.loads(report.text)["identifiers_shown"] is False
    html = c.get(f"/runs/{rid}/file/analysis.html")
    assert html.status_code == 200 and html.headers["content-security-policy"].startswith("sandbox")
    assert "frame-ancestors 'none'" in html.headers["content-security-policy"]
    assert html.headers.get_list("content-security-policy") == [html.headers["content-security-policy"]]
    assert c.get(f"/runs/{rid}/file/run.json").status_code == 404  # only the reports
    assert app.state.ctx.runs.report_path(app.state.ctx.runs.get(rid)) == tmp_path / "state" / "runs" / rid / \
        "analysis.json"

    # a second tab, then a new server on the same state folder: the same result and log
    again, _ = client_for(root, tmp_path / "state")
    for client in (c, again):
        page = client.get(f"/runs/{rid}").text
        assert "Analysis of Fjordvik omsorg" in page
        assert str(tr_in("en", "finished with exit code {code}", code=0)) in page
        assert f"/runs/{rid}" in client.get(f"/t/{t.id}").text  # listed on the target's page
    stored = json.loads((tmp_path / "state" / "runs" / rid / "run.json").read_text(encoding="utf-8"))
    assert stored["state"] == "done" and stored["report"] == "analysis.json" and stored["summary"]
    assert "fødselsnummer" not in json.dumps(stored["options"])
    # the stream of a finished run ends at once
    assert [k for k, _ in events(again, rid)] == ["progress", "end"]


def test_run_in_the_language_of_the_page(root, tmp_path):
    c, app = client_for(root, tmp_path / "state")
    c.post("/settings", data={"lang": "nb"})
    rid = start(c, target(app, "omsorg").id, "import")
    wait(c, rid, lambda s: not s["active"])
    run = app.state.ctx.runs.get(rid)
    assert run.lang == "nb"
    assert run.log[-1][1] == tr_in("nb", "finished with exit code {code}", code=0)
    assert run.summary  # the import's summary lines, in bokmål


def test_show_identifiers_needs_the_reveal_switch(root, tmp_path):
    c, app = client_for(root, tmp_path / "state")
    tid = target(app, "omsorg").id
    assert c.post(f"/t/{tid}/run/analyse", data={"show_identifiers": "on"}).status_code == 400
    c.post("/settings", data={"reveal": "on"})
    rid = start(c, tid, "analyse", show_identifiers="on")
    wait(c, rid, lambda s: not s["active"])
    assert app.state.ctx.runs.get(rid).options["show_identifiers"] is True


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """A project large enough that its extract takes seconds (3000 journals)."""
    return synth_project(tmp_path_factory.mktemp("big"), journals=3000, entries=5, doc_kb=1)


def test_cancel_a_long_run(big, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    shutil.copytree(big, root / "big")
    c, app = client_for(root, tmp_path / "state")
    t = target(app, "big")
    out = root / "big-extract"
    rid = start(c, t.id, "extract", out=str(out))
    wait(c, rid, lambda s: s["active"] and (s["done"] or 0) > 0)  # it is under way
    r = c.post(f"/runs/{rid}/cancel", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/runs/{rid}"
    snap = wait(c, rid, lambda s: not s["active"], timeout=60)
    assert snap["state"] == "cancelled"
    run = app.state.ctx.runs.get(rid)
    assert run.exit_code is None and not run.summary
    assert not (out / "avleveringspakke").exists()  # nothing incomplete under a final name
    page = c.get(f"/runs/{rid}").text
    assert str(tr_in("en", "cancelled")) in page and "run-cancel" not in page
    assert json.loads((tmp_path / "state" / "runs" / rid / "run.json").read_text())["state"] == "cancelled"
    assert c.post("/runs/nope/cancel").status_code == 404


def test_two_runs_on_the_same_output_refused(big, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    shutil.copytree(big, root / "big")
    shutil.copytree(EXAMPLES / "omsorg", root / "omsorg")
    c, app = client_for(root, tmp_path / "state")
    big_t, omsorg_t = target(app, "big"), target(app, "omsorg")
    out = root / "shared-out"
    first = start(c, big_t.id, "extract", out=str(out))
    wait(c, first, lambda s: s["active"])
    # the same --out from another project, a folder inside it, the same project again: refused
    for tid, stage, fields in ((omsorg_t.id, "extract", {"out": str(out)}),
                               (omsorg_t.id, "extract", {"out": str(out / "inner")}),
                               (big_t.id, "analyse", {})):
        r = c.post(f"/t/{tid}/run/{stage}", data=fields, follow_redirects=False)
        assert r.status_code == 409, (stage, fields)
        assert "Refused" in r.text and f"/runs/{first}" in r.text
    assert len(app.state.ctx.runs.list()) == 1
    c.post(f"/runs/{first}/cancel")
    wait(c, first, lambda s: not s["active"], timeout=60)
    second = start(c, omsorg_t.id, "import")  # another project, another output: fine
    wait(c, second, lambda s: not s["active"])
    # the whole extract, once alone: what it wrote becomes a target, linked from the run's page
    third = start(c, big_t.id, "extract", out=str(out))
    assert wait(c, third, lambda s: not s["active"])["state"] == "done"
    written = next(t for t in app.state.ctx.targets.values() if t.kind == "extract")
    assert written.path == out / "avleveringspakke" and written.label == "shared-out/avleveringspakke"
    assert f'href="/t/{written.id}"' in c.get(f"/runs/{third}").text
    # a new server finds it under the same id
    again, app2 = client_for(root, tmp_path / "state")
    assert app2.state.ctx.target(written.id).path == written.path


def test_locks():
    assert conflicts("out:/a/b", "out:/a/b/c") and conflicts("out:/a/b", "in:/a/b/c/x.tar")
    assert not conflicts("in:/a/b", "in:/a/b") and not conflicts("out:/a/b", "out:/a/bc")
    assert conflicts("key:project:/p", "key:project:/p") and not conflicts("key:project:/p", "out:/p")


def test_a_run_cut_off_by_a_stopped_server_is_interrupted(root, tmp_path):
    folder = tmp_path / "state" / "runs" / "20260101-000000-abcdef"
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({
        "id": "20260101-000000-abcdef", "target": "x", "target_path": str(root / "omsorg"), "stage": "analyse",
        "options": {}, "lang": "en", "state": "running"}), encoding="utf-8")
    c, app = client_for(root, tmp_path / "state")
    snap = c.get("/runs/20260101-000000-abcdef/status").json()
    assert snap["state"] == "interrupted" and not snap["active"]
    assert c.get("/runs/20260101-000000-abcdef").status_code == 200


def test_server_stops_with_an_event_stream_open(big, tmp_path, caplog):
    """Ctrl-C while a tab follows a run: the stream ends, the server stops at once and logs no error."""
    import threading
    import urllib.parse
    import urllib.request

    from noarkpack.web import make_server

    root = tmp_path / "root"
    root.mkdir()
    shutil.copytree(big, root / "big")
    server, sock, url = make_server([root], state_dir=tmp_path / "state")
    token = url.split("token=")[1]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.05)
        base = url.split("/?")[0]
        tid = target(server.config.app, "big").id
        body = urllib.parse.urlencode({"out": str(root / "out")}).encode()
        req = urllib.request.Request(f"{base}/t/{tid}/run/extract", data=body, headers={"X-Noarkpack-Token": token})
        with urllib.request.urlopen(req, timeout=10) as r:
            rid = r.url.rsplit("/", 1)[1]
        stream = urllib.request.urlopen(urllib.request.Request(f"{base}/runs/{rid}/events",
                                                               headers={"X-Noarkpack-Token": token}), timeout=10)
        assert stream.readline().startswith(b"retry:")
        started = time.monotonic()
        server.should_exit = True
        thread.join(10)
        assert not thread.is_alive() and time.monotonic() - started < 1.5
        stream.close()
    finally:
        server.should_exit = True
        sock.close()
        run = server.config.app.state.ctx.runs.get(rid)
        run.cancel_requested = True
        while run.active:
            time.sleep(0.05)
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
