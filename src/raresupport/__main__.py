"""``python -m raresupport`` runs the CLI."""

from raresupport.cli import app

app(prog_name="raresupport")
