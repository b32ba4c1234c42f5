"""mkdocs hook: fill ``<!-- spec-reference -->`` with the disease-spec schema, read from pydantic.

The reference is generated at build time from ``raresupport.spec.DiseaseSpec``'s JSON schema, so
every field with its type, default and ``description=`` is documented and can never drift from
the code. ``mkdocs build --strict`` fails if a field has no description.
"""

from __future__ import annotations

from typing import Any

MARKER = "<!-- spec-reference -->"


def _type(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    if "anyOf" in prop:
        return " or ".join(_type(p) for p in prop["anyOf"])
    if prop.get("type") == "array":
        return f"list of {_type(prop.get('items', {}))}"
    if "enum" in prop:
        return " / ".join(f"`{v}`" for v in prop["enum"])
    if "const" in prop:
        return f"`{prop['const']}`"
    return prop.get("type", "any")


def _table(name: str, schema: dict[str, Any], missing: list[str]) -> str:
    rows = [f"### {name}", "", schema.get("description", "").strip(), "",
            "| field | type | required / default | description |", "|---|---|---|---|"]
    required = set(schema.get("required", []))
    for field, prop in schema.get("properties", {}).items():
        desc = " ".join(prop.get("description", "").split())
        if not desc:
            missing.append(f"{name}.{field}")
        need = "required" if field in required else f"default `{prop.get('default')!r}`"
        rows.append(f"| `{field}` | {_type(prop)} | {need} | {desc.replace('|', '/')} |")
    return "\n".join(rows) + "\n"


def spec_reference() -> str:
    from raresupport.spec import DiseaseSpec

    schema = DiseaseSpec.model_json_schema()
    missing: list[str] = []
    parts = [_table("DiseaseSpec", schema, missing)]
    for name, sub in sorted(schema.get("$defs", {}).items()):
        if "properties" in sub:
            parts.append(_table(name, sub, missing))
    if missing:
        raise SystemExit(f"spec fields without a description: {', '.join(missing)}")
    return "\n".join(parts)


def on_page_markdown(markdown: str, **_: Any) -> str:
    return markdown.replace(MARKER, spec_reference()) if MARKER in markdown else markdown
