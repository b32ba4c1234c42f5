"""``web``: a review page served on this machine (starlette + jinja2 + uvicorn).

Safety, because item text comes from generators and models and the page writes training data:

* binds 127.0.0.1 by default and refuses any non-loopback address unless ``allow_remote``;
* a fresh random token is required: it is printed once at start (stdout, not the logging
  system; uvicorn's access log is off), exchanged on first visit for an HttpOnly SameSite=Strict
  cookie, and the page redirects to a URL without it. Without token or cookie: 401;
* every piece of item text goes through jinja2 autoescaping, and a Content-Security-Policy
  allows only the page's own nonce'd script, so item text can never run as script;
* decisions are POSTed forms carrying a CSRF token (an HMAC of the session token) and are
  refused when an ``Origin`` header names another site.

Keys: ``a`` approve, ``c`` correct (choose the letter, type the rationale, Enter), ``r`` reject
(type the reason, Enter). Each decision is one store transaction; the server stops by itself
when every item is decided (or on Ctrl-C: the decisions made so far are kept).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import socket
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jinja2
from pydantic import ValidationError

from raresupport.errors import RareSupportError
from raresupport.review.models import RUBRIC, Decision, ReviewItem, Rubric
from raresupport.review.reviewers.base import reviewers, undecided
from raresupport.review.store import ReviewStore

TEMPLATES = Path(__file__).parent.parent / "templates"
COOKIE = "raresupport_review"


class WebReviewError(RareSupportError):
    """The review page cannot be served as asked (e.g. a non-loopback address)."""


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP addresses (127.0.0.0/8, ::1): the hosts served
    without a token or ``--allow-remote``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
        undefined=jinja2.StrictUndefined,
    )  # fmt: skip


class ReviewSite:
    """The starlette app over one store, item list and reviewer id."""

    def __init__(self, store: ReviewStore, items: Sequence[ReviewItem], reviewer: Any,
                 token: str, on_done: Callable[[], None] = lambda: None) -> None:  # fmt: skip
        self.store, self.items, self.reviewer = store, list(items), reviewer
        self.token, self.on_done = token, on_done
        self.csrf = hmac.new(token.encode(), b"csrf", hashlib.sha256).hexdigest()
        self.env = _env()

    def _authed(self, request: Any) -> bool:
        given = request.cookies.get(COOKIE) or ""
        return hmac.compare_digest(given.encode(), self.token.encode())

    def _page(self, name: str, status: int = 200, **ctx: Any) -> Any:
        from starlette.responses import HTMLResponse

        nonce = secrets.token_urlsafe(16)
        html = self.env.get_template(name).render(nonce=nonce, **ctx)
        csp = (f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; "
               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")  # fmt: skip
        headers = {"Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff",
                   "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}  # fmt: skip
        return HTMLResponse(html, status_code=status, headers=headers)

    def _denied(self) -> Any:
        return self._page("review_denied.html.jinja2", 401)

    async def index(self, request: Any) -> Any:
        from starlette.responses import RedirectResponse

        given = request.query_params.get("token")
        if given is not None:
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                return self._denied()
            response = RedirectResponse("/", status_code=303)  # drop the token from the URL
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict")
            return response
        if not self._authed(request):
            return self._denied()
        return self._render_next()

    def _render_next(self, error: str = "", status: int = 200) -> Any:
        todo = undecided(self.reviewer, self.store, self.items)
        done = len(self.items) - len(todo)
        ctx = {"item": todo[0] if todo else None, "done": done, "total": len(self.items),
               "csrf": self.csrf, "error": error, "rubric": RUBRIC,
               "reviewer": f"{self.reviewer.kind}:{self.reviewer.id}"}  # fmt: skip
        if not todo:
            self.on_done()
        return self._page("review.html.jinja2", status, **ctx)

    async def decide(self, request: Any) -> Any:
        from starlette.responses import PlainTextResponse, RedirectResponse

        if not self._authed(request):
            return self._denied()
        origin = request.headers.get("origin")
        if origin and origin != "null" and urlsplit(origin).netloc != request.url.netloc:
            return PlainTextResponse("cross-site form post refused", status_code=403)
        form = {k: v[-1] for k, v in parse_qs((await request.body()).decode()).items()}
        if not hmac.compare_digest(form.get("csrf", "").encode(), self.csrf.encode()):
            return PlainTextResponse("missing or wrong CSRF token", status_code=403)
        item = next((i for i in self.items if i.id == form.get("item_id")), None)
        if item is None:
            return PlainTextResponse("unknown item", status_code=400)
        if item not in undecided(self.reviewer, self.store, [item]):
            return RedirectResponse("/", status_code=303)  # a repeated post: already decided
        action = form.get("action", "")
        scores = {k: int(form[k]) for k in RUBRIC if form.get(k, "").isdigit()}
        answer = {"approve": item.model_answer, "correct": form.get("answer") or None}.get(action)
        try:
            decision = Decision(
                item_id=item.id, reviewer_kind=self.reviewer.kind, reviewer_id=self.reviewer.id,
                action=action, answer=answer, rationale=form.get("rationale", ""),
                reason=form.get("reason", ""), rubric=Rubric(**scores),
            )  # fmt: skip
        except ValidationError as exc:
            msg = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
            return self._render_next(error=msg, status=400)
        self.store.record(decision)
        return RedirectResponse("/", status_code=303)

    def app(self) -> Any:
        from starlette.applications import Starlette
        from starlette.routing import Route

        return Starlette(routes=[
            Route("/", self.index, methods=["GET"]),
            Route("/decide", self.decide, methods=["POST"]),
        ])  # fmt: skip


@reviewers.register("web")
class WebReviewer:
    """Reviewer plug-in ``web``: a person decides items in a browser on this machine.

    Args:
        id: the reviewer's handle, stored with every decision.
        host: address to bind; loopback only unless ``allow_remote``.
        port: TCP port (0: any free one).
        announce: where the URL with the token is printed (default ``print``).

    Raises:
        WebReviewError: ``host`` is not a loopback address and ``allow_remote`` is False.
    """

    kind = "web"

    def __init__(self, id: str = "web", host: str = "127.0.0.1", port: int = 8765,  # noqa: A002
                 allow_remote: bool = False, announce: Callable[[str], None] = print) -> None:
        if not is_loopback(host) and not allow_remote:
            raise WebReviewError(
                f"refusing to serve the review page on {host}: not a loopback address (anyone "
                f"on the network could reach it); use 127.0.0.1, or allow_remote=true if you "
                f"really mean it"
            )
        self.id, self.host, self.port, self.announce = id, host, port, announce
        self.server: Any = None

    def review(self, store: ReviewStore, items: Sequence[ReviewItem], disease: Any) -> int:
        """Serve the page until every item is decided (or Ctrl-C); return decisions made."""
        import uvicorn

        before = len(undecided(self, store, items))
        if not before:
            return 0
        token = secrets.token_urlsafe(32)
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        port = sock.getsockname()[1]
        config = uvicorn.Config(None, log_level="warning", access_log=False, lifespan="off")
        server = uvicorn.Server(config)
        site = ReviewSite(store, items, self, token,
                          on_done=lambda: setattr(server, "should_exit", True))  # fmt: skip
        config.app = site.app()
        self.server = server
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.announce(f"Review page ({before} items): http://{host}:{port}/?token={token}")
        try:
            server.run(sockets=[sock])
        finally:
            sock.close()
        return before - len(undecided(self, store, items))
