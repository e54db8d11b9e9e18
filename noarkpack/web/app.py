"""The application: every module's ``routes(ctx)`` mounted behind the guards (security.Guard), the home page,
the target page and the settings (language, the reveal switch)."""

from __future__ import annotations

import importlib
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..locale import LANGUAGES, N_, current, tr
from .context import WebContext, bind  # noqa: F401 - bind: also app.bind for the other modules
from .runs import RunManager, target_page
from .security import LANG_COOKIE, SESSION_COOKIE, Guard, read_form

STATIC_DIR = Path(__file__).resolve().parent / "static"
#: the other modules that bring routes (each ``routes(ctx)``); one not there yet is skipped
MODULES = ("runs", "findings", "xmlcontext", "places", "browse")

KIND_LABELS = {
    "project": N_("deposit project"), "extract": N_("extract"), "sip": N_("SIP/AIP package"), "bag": N_("bag"),
    "nha-deposit": N_("NHA deposit"),
}


def templates_environment(ctx: WebContext):
    """The jinja2 environment of the pages: templates/web/, ``tr`` and ``current_lang`` as globals."""
    import jinja2

    from ..resources import templates_dir

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir() / "web")), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True)
    env.globals.update(tr=tr, current_lang=current, languages=LANGUAGES, kind_label=lambda k: tr(KIND_LABELS[k])
                       if k in KIND_LABELS else k)
    return env


def create_app(roots: list[Path], *, token: str, state_dir: Path, reveal_allowed: bool = True,
               allowed_hosts: tuple[str, ...] | None = None) -> Starlette:
    """The ASGI app of ``noarkpack serve`` over ``roots``; ``state_dir`` keeps runs, findings and index caches."""
    ctx = WebContext(roots, token=token, state_dir=state_dir, reveal_allowed=reveal_allowed)
    ctx.templates = templates_environment(ctx)
    ctx.runs = RunManager(ctx)
    routes = [
        Route("/", bind(home, ctx), name="home"),
        Route("/t/{tid}", bind(target_page, ctx), name="target"),
        Route("/settings", bind(settings, ctx), methods=["POST"], name="settings"),
        Mount("/static", app=StaticFiles(directory=str(STATIC_DIR), follow_symlink=False), name="static"),
    ]
    for name in MODULES:
        try:
            module = importlib.import_module(f"{__package__}.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"{__package__}.{name}":
                raise
            continue
        make = getattr(module, "routes", None)
        if make is not None:
            routes.extend(make(ctx))
            ctx.modules.add(name)
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    app.state.ctx = ctx
    kwargs = {} if allowed_hosts is None else {"allowed_hosts": allowed_hosts}
    app.add_middleware(Guard, token=token, **kwargs)
    return app


async def _http_error(request: Request, exc: HTTPException) -> Response:
    ctx: WebContext = request.app.state.ctx
    messages = {400: N_("The request is not valid."), 403: N_("Forbidden."), 404: N_("Not found."),
                405: N_("This address does not take that method."),
                409: N_("Refused: another run is writing the same output."), 413: N_("The request is too large."),
                415: N_("The form was not sent as this page sends it.")}
    text = exc.detail if exc.detail and exc.status_code not in messages else tr(messages.get(exc.status_code,
                                                                                           N_("Error.")))
    if ctx.templates is None:
        return PlainTextResponse(str(text), status_code=exc.status_code)
    return ctx.render(request, "error.html.j2", status_code=exc.status_code, message=text, code=exc.status_code)


def home(ctx: WebContext, request: Request):
    ctx.scan()
    targets = sorted(ctx.targets.values(), key=lambda t: (str(t.path.parent), t.label))
    return ctx.render(request, "home.html.j2", targets=targets, roots=ctx.roots)


async def settings(ctx: WebContext, request: Request):
    form = await read_form(request)
    back = form.get("back") or "/"
    if not isinstance(back, str) or not back.startswith("/") or back.startswith("//"):
        back = "/"
    response = RedirectResponse(back, status_code=303)
    lang = form.get("lang")
    if lang in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, httponly=True, samesite="strict", max_age=365 * 86400)
    reveal = form.get("reveal")
    if reveal in ("on", "off"):
        sid = request.cookies.get(SESSION_COOKIE)
        if sid:
            ctx.set_reveal(sid, reveal == "on")
    return response
