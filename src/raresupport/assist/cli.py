"""``raresupport chat`` (terminal) and ``raresupport serve`` (OpenAI-compatible HTTP)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import typer

RUN_HELP = "A `raresupport run` folder (its disease, model and LoRA adapter)."
NUMBER_HELP = ("Local emergency number the emergency messages name (e.g. 112, 911, 999) "
               "[default: 'your local emergency number'].")  # fmt: skip


def chat_command(
    run: Path = typer.Option(..., "--run", help=RUN_HELP),
    device: str | None = typer.Option(None, "--device", help="cpu, cuda, ... [default: auto]."),
    show_metadata: bool = typer.Option(False, "--metadata", help="Print flags after answers."),
    emergency_number: str | None = typer.Option(None, "--emergency-number", help=NUMBER_HELP),
) -> None:
    """Talk to the tuned assistant in the terminal (empty line, `quit` or Ctrl-D ends)."""
    from raresupport.assist.assistant import Assistant, AssistantReply

    assistant = Assistant.from_run(run, device=device, emergency_number=emergency_number)
    typer.echo(f"{assistant.spec.name} support assistant. Not a doctor. Empty line to quit.")
    history: list[dict[str, str]] = []
    while True:
        try:
            question = input("\nyou> ").strip()
        except (EOFError, KeyboardInterrupt):
            break
        if not question or question.lower() in ("quit", "exit"):
            break
        history.append({"role": "user", "content": question})
        typer.echo("")
        for piece in assistant.stream(history):
            if isinstance(piece, AssistantReply):
                history.append({"role": "assistant", "content": piece.answer})
                if show_metadata and piece.flags:
                    typer.echo(f"\n[flags: {', '.join(piece.flags)}; "
                               f"removed citations: {list(piece.citations.invalid)}]")  # fmt: skip
            else:
                typer.echo(piece, nl=False)
        typer.echo("")


def serve_command(
    run: Path = typer.Option(..., "--run", help=RUN_HELP),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (loopback default)."),
    port: int = typer.Option(8000, "--port", min=1, max=65535),
    api_key_env: str = typer.Option(
        "RARESUPPORT_API_KEY",
        "--api-key-env",
        help="Environment variable holding the bearer token clients must send (unset: none).",
    ),
    model_name: str | None = typer.Option(None, "--model-name", help="Model id to report."),
    device: str | None = typer.Option(None, "--device", help="cpu, cuda, ... [default: auto]."),
    emergency_number: str | None = typer.Option(None, "--emergency-number", help=NUMBER_HELP),
) -> None:
    """Serve the tuned assistant as an OpenAI-compatible /v1/chat/completions endpoint."""
    from raresupport.assist.assistant import Assistant
    from raresupport.assist.server import create_app, make_server
    from raresupport.review.reviewers.web import is_loopback

    token = os.environ.get(api_key_env) or None
    if not is_loopback(host) and token is None:
        typer.echo(f"warning: serving on {host} without a bearer token (set ${api_key_env})",
                   err=True)  # fmt: skip
    assistant = Assistant.from_run(run, device=device, emergency_number=emergency_number)
    name = model_name or f"raresupport-{assistant.spec.id}"
    typer.echo(f"serving {name} on http://{host}:{port}/v1 (token {'on' if token else 'off'})")
    make_server(create_app(assistant, name, token), host, port, log_level="info").run()


def register(app: typer.Typer, friendly: Callable[[Callable], Callable]) -> None:
    """Add ``chat`` and ``serve`` to ``app``."""
    app.command("chat")(friendly(chat_command))
    app.command("serve")(friendly(serve_command))
