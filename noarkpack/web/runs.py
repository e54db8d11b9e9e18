"""Runs of the library's stages from the web: one worker thread per run, its progress, cancel, and what it left.

A run is kept in ``state_dir/runs/{rid}/``: ``run.json`` (target, stage, options, state, timings, progress, log,
summary lines, exit code, output paths, report) and the reports it wrote (``analysis.json`` / ``validation.json``
/ ``verify.json`` and their HTML).  A reload, a second tab or a restarted server shows the same.

Cancel: the progress callback raises :class:`Cancelled` at its next call; the library's writers leave nothing
incomplete under a final name (as for Ctrl-C in the CLI); the run ends ``cancelled``.  Two runs that would write
the same thing (the same project, the same ``--out``, or one inside the other) are refused (:class:`Busy`, 409).
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..locale import N_, current, language, tr
from .stages import STAGES_BY_KIND, Cancelled, command_line, conflicts, plan, run_stage, stage_forms, stage_label

__all__ = ["RunManager", "Run", "Busy", "Cancelled", "STAGES_BY_KIND", "stage_forms", "routes"]

ACTIVE = ("queued", "running")
STATE_LABELS = {"queued": N_("waiting"), "running": N_("running"), "done": N_("finished"),
                "failed": N_("failed"), "cancelled": N_("cancelled"), "interrupted": N_("interrupted")}


class Busy(Exception):
    """Another run writes the same output (the page says so: 409)."""

    def __init__(self, other: str) -> None:
        super().__init__(other)
        self.other = other


@dataclass
class Run:
    id: str
    target: str  #: the target's id
    target_path: str
    stage: str
    options: dict
    lang: str
    state: str = "queued"
    created: float = field(default_factory=time.time)
    started: float | None = None
    ended: float | None = None
    progress: dict = field(default_factory=dict)  #: stage, done, total, secs, rate, eta
    log: list = field(default_factory=list)  #: lines (texts in the run's language), with their time
    summary: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    exit_code: int | None = None
    error: str | None = None
    outputs: list = field(default_factory=list)  #: paths the run wrote (its --out, what was found in it)
    reports: list = field(default_factory=list)  #: file names in the run's folder
    report: str | None = None  #: the report JSON (a file name in the run's folder), for the findings page
    locks: list = field(default_factory=list)
    cancel_requested: bool = False
    version: int = 0  #: bumped on every change (the events stream sends what changed)

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    def state_label(self) -> str:
        return tr(STATE_LABELS.get(self.state, self.state))

    def stage_label(self) -> str:
        return stage_label(self.stage)

    def command_line(self) -> str:
        return command_line(self.stage, self.target_path, self.options)

    def to_json(self) -> dict:
        d = asdict(self)
        d.pop("version")
        return d


class RunManager:
    """The runs of this server (and those an earlier server left in ``state_dir/runs``)."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.dir = Path(ctx.state_dir) / "runs"
        self.dir.mkdir(parents=True, exist_ok=True)
        self._runs: dict[str, Run] = {}
        self._lock = threading.Lock()
        self._load()

    # -- the store ------------------------------------------------------------------------------------------

    def _load(self) -> None:
        for f in sorted(self.dir.glob("*/run.json")):
            try:
                data = json.loads(f.read_text(encoding="utf-8"))
                run = Run(**{k: v for k, v in data.items() if k in Run.__dataclass_fields__})
            except (OSError, ValueError, TypeError):
                continue
            if run.state in ACTIVE:  # the server that ran it stopped
                run.state = "interrupted"
                run.ended = run.ended or time.time()
                self._save(run)
            self._runs[run.id] = run
            for out in run.outputs:  # what earlier runs wrote stays reachable (if it is still there)
                try:
                    self.ctx.add_target(Path(out))
                except (ValueError, OSError):
                    pass

    def run_dir(self, run: Run | str) -> Path:
        return self.dir / (run if isinstance(run, str) else run.id)

    def _save(self, run: Run, state: str | None = None) -> None:
        """run.json, written whole (``state``: the state it is about to take)."""
        folder = self.run_dir(run)
        folder.mkdir(parents=True, exist_ok=True)
        data = run.to_json()
        if state is not None:
            data["state"] = state
        tmp = folder / f".run.json.{os.getpid()}.{threading.get_ident()}"
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
        os.replace(tmp, folder / "run.json")

    def get(self, rid: str) -> Run | None:
        return self._runs.get(rid)

    def list(self, target: str | None = None) -> list[Run]:
        runs = [r for r in self._runs.values() if target is None or r.target == target]
        return sorted(runs, key=lambda r: r.created, reverse=True)

    def report_path(self, run: Run) -> Path | None:
        """The report JSON the run wrote (inside its folder), for the findings pages."""
        return self.run_dir(run) / run.report if run.report else None

    # -- starting, running, cancelling ----------------------------------------------------------------------

    def start(self, target, stage: str, fields: list[tuple[str, str]], *, reveal: bool = False) -> Run:
        """Start ``stage`` on ``target`` with the form's ``fields``; ValueError (a message for the page) when
        an option is wrong, :class:`Busy` when another run writes the same output."""
        options, locks = plan(self.ctx, target, stage, fields, reveal=reveal)
        with self._lock:
            for other in self._runs.values():
                if other.active and any(conflicts(a, b) for a in locks for b in other.locks):
                    raise Busy(other.id)
            rid = time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)
            run = Run(rid, target.id, str(target.path), stage, options, current(), locks=locks)
            self._runs[rid] = run
        self._log(run, tr("{stage} started on {name}", stage=stage_label(stage), name=target.label))
        self._save(run)
        threading.Thread(target=self._work, args=(run, target), name=f"noarkpack-run-{rid}", daemon=True).start()
        return run

    def cancel(self, rid: str) -> bool:
        run = self._runs.get(rid)
        if run is None or not run.active:
            return False
        run.cancel_requested = True
        self._log(run, tr("cancel asked: the run stops at its next step"))
        return True

    def _log(self, run: Run, text: str) -> None:
        run.log.append([time.time(), str(text)])
        run.version += 1

    def _progress(self, run: Run):
        state = {"stage": None, "t0": time.monotonic(), "saved": 0.0}

        def progress(stage: str, done: int, total: int | None = None, /) -> None:
            if run.cancel_requested:
                raise Cancelled()
            now = time.monotonic()
            if stage != state["stage"]:
                state["stage"], state["t0"] = stage, now
                self._log(run, tr("stage: {stage}", stage=stage_label(stage)))
            secs = now - state["t0"]
            rate = done / secs if secs > 0 and done else None
            eta = (total - done) / rate if rate and total else None
            run.progress = {"stage": stage, "label": stage_label(stage), "done": done, "total": total,
                            "secs": round(secs, 1), "rate": rate, "eta": eta}
            run.version += 1
            if now - state["saved"] > 1.0:
                state["saved"] = now
                self._save(run)

        return progress

    def _work(self, run: Run, target) -> None:
        """Run it; the final state is set last (after the log, the targets and run.json), so whoever sees the
        run ended sees everything it left."""
        with language(run.lang):
            run.state, run.started = "running", time.time()
            run.version += 1
            self._save(run)
            try:
                result = run_stage(self.ctx, target, run.stage, run.options, self.run_dir(run),
                                   progress=self._progress(run))
            except Cancelled:
                final = "cancelled"
                self._log(run, tr("cancelled: nothing incomplete was left under a final name"))
            except BaseException as e:  # noqa: BLE001 - a run's failure is shown on its page, never raised
                from ..errors import NoarkpackError

                final, run.exit_code = "failed", getattr(e, "exit_code", 2)
                if isinstance(e, NoarkpackError):
                    run.error = str(e)
                elif isinstance(e, OSError) and e.strerror:
                    run.error = tr("{file}: {what}", file=str(e.filename or ""), what=e.strerror)
                else:
                    run.error = tr("internal error: {kind}", kind=type(e).__name__)
                self._log(run, run.error)
            else:
                final = "done"
                run.summary, run.problems = result.summary, result.problems
                run.exit_code, run.reports, run.report = result.exit_code, result.reports, result.report
                run.outputs = [str(p) for p in result.outputs]
                for p in result.outputs:  # a page that sees the run done can open what it wrote
                    try:
                        self.ctx.add_target(Path(p))
                    except (ValueError, OSError):
                        pass
                self._log(run, tr("finished with exit code {code}", code=run.exit_code))
            run.ended = time.time()
            self._save(run, state=final)
            run.state = final
            run.version += 1


# -- what a page shows of a run -------------------------------------------------------------------------------


def progress_text(run: Run) -> str:
    """One line: the stage, what is done (of the total), the rate and the time left when known."""
    p = run.progress
    if not p:
        return ""
    label = stage_label(p.get("stage") or run.stage)
    done, total, rate, eta = p.get("done", 0), p.get("total"), p.get("rate"), p.get("eta")
    if total and rate and eta is not None:
        return tr("{stage}: {done} of {total} ({rate:.1f} per second, about {left:.0f} s left)", stage=label,
                  done=done, total=total, rate=rate, left=eta)
    if total:
        return tr("{stage}: {done} of {total}", stage=label, done=done, total=total)
    if rate:
        return tr("{stage}: {done} ({rate:.1f} per second)", stage=label, done=done, rate=rate)
    return tr("{stage}: {done}", stage=label, done=done)


def snapshot(run: Run, since: int = 0) -> dict:
    """What the events stream sends (and the status JSON gives): the state, the progress, new log lines."""
    p = run.progress or {}
    return {"id": run.id, "state": run.state, "state_label": run.state_label(), "active": run.active,
            "stage": p.get("stage"), "done": p.get("done"), "total": p.get("total"), "rate": p.get("rate"),
            "eta": p.get("eta"), "text": progress_text(run), "log": [line for _, line in run.log[since:]],
            "log_from": since, "exit_code": run.exit_code}


def target_page(ctx, request, *, error: str | None = None, status_code: int = 200):
    """``/t/{tid}``: what the target is, a form per stage it can run (the CLI's options), its runs."""
    t = ctx.target(request.path_params["tid"])
    return ctx.render(request, "target.html.j2", status_code=status_code, target=t, forms=stage_forms(ctx, t),
                      runs=ctx.runs.list(target=t.id), error=error, has_findings="findings" in ctx.modules,
                      has_browse="browse" in ctx.modules)


def _outputs(ctx, run: Run) -> list:
    """The run's outputs, each with its target (None when it is none)."""
    from .context import target_id

    return [(p, ctx.targets.get(target_id(Path(p).resolve()))) for p in run.outputs]


# -- the routes -----------------------------------------------------------------------------------------------


def routes(ctx) -> list:
    import asyncio

    from starlette.exceptions import HTTPException
    from starlette.responses import FileResponse, JSONResponse, RedirectResponse, StreamingResponse
    from starlette.routing import Route

    from .context import bind
    from .security import read_form_multi

    def the_run(request) -> Run:
        run = ctx.runs.get(request.path_params["rid"])
        if run is None:
            raise HTTPException(404)
        return run

    async def start(ctx, request):
        target = ctx.target(request.path_params["tid"])
        stage = request.path_params["stage"]
        fields = await read_form_multi(request)
        try:
            run = ctx.runs.start(target, stage, fields, reveal=ctx.reveal(request))
        except ValueError as e:
            return target_page(ctx, request, error=str(e), status_code=400)
        except Busy as e:
            other = ctx.runs.get(e.other)
            return ctx.render(request, "run.html.j2", status_code=409, run=other, busy=True,
                              target=ctx.targets.get(other.target), snap=snapshot(other), outputs=_outputs(ctx, other))
        return RedirectResponse(f"/runs/{run.id}", status_code=303)

    def page(ctx, request):
        run = the_run(request)
        return ctx.render(request, "run.html.j2", run=run, busy=False, target=ctx.targets.get(run.target),
                          snap=snapshot(run), outputs=_outputs(ctx, run))

    def status(ctx, request):
        return JSONResponse(snapshot(the_run(request), int(request.query_params.get("from", "0") or 0)))

    async def cancel(ctx, request):
        run = the_run(request)
        ctx.runs.cancel(run.id)
        return RedirectResponse(f"/runs/{run.id}", status_code=303)

    async def events(ctx, request):
        run = the_run(request)
        try:
            since = max(0, int(request.query_params.get("from", "0") or 0))
        except ValueError:
            since = 0

        async def stream():
            nonlocal since
            seen = -1
            yield "retry: 2000\n\n"
            while True:
                if run.version != seen:
                    seen = run.version
                    snap = snapshot(run, since)
                    since = len(run.log)
                    yield f"event: progress\ndata: {json.dumps(snap, ensure_ascii=False)}\n\n"
                if not run.active:
                    yield "event: end\ndata: {}\n\n"
                    return
                if ctx.closing or await request.is_disconnected():
                    return
                await asyncio.sleep(0.2)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    def report_file(ctx, request):
        run = the_run(request)
        name = request.path_params["name"]
        if name not in run.reports:
            raise HTTPException(404)
        path = ctx.runs.run_dir(run) / name
        if not path.is_file():
            raise HTTPException(404)
        if name.endswith(".html"):  # a self-contained report: its own inline style, in a sandbox
            headers = {"Content-Security-Policy": "sandbox allow-scripts; default-src 'none'; "
                       "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"}
            return FileResponse(path, media_type="text/html; charset=utf-8", headers=headers)
        return FileResponse(path, media_type="application/json", filename=name)

    return [
        Route("/t/{tid}/run/{stage}", bind(start, ctx), methods=["POST"], name="run_start"),
        Route("/runs/{rid}", bind(page, ctx), name="run"),
        Route("/runs/{rid}/status", bind(status, ctx), name="run_status"),
        Route("/runs/{rid}/events", bind(events, ctx), name="run_events"),
        Route("/runs/{rid}/cancel", bind(cancel, ctx), methods=["POST"], name="run_cancel"),
        Route("/runs/{rid}/file/{name}", bind(report_file, ctx), name="run_file"),
    ]
