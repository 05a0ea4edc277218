"""GET / (opens the page) and GET /docs: the API reference drawn from the OpenAPI schema, with nothing fetched."""

from __future__ import annotations

import html
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

router = APIRouter(include_in_schema=False)

_STYLE = """
body { font: 15px/1.45 system-ui, "Segoe UI", Roboto, sans-serif; margin: 24px auto; max-width: 1000px;
       padding: 0 16px; color: #1e293b; }
h1 { font-size: 1.5rem; margin-bottom: 4px; } h2 { font-size: 1.05rem; margin: 28px 0 8px; text-transform: capitalize; }
.op { border: 1px solid #e2e8f0; border-radius: 6px; padding: 10px 14px; margin: 8px 0; }
.m { display: inline-block; min-width: 58px; font-weight: 700; font-family: ui-monospace, monospace; }
.m.get { color: #1d4ed8; } .m.post { color: #15803d; } .m.patch { color: #b45309; } .m.delete { color: #b91c1c; }
code, .path { font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
.desc { color: #475569; margin: 4px 0 0; white-space: pre-line; }
table { border-collapse: collapse; margin-top: 6px; font-size: 0.9rem; }
td, th { text-align: left; padding: 2px 10px 2px 0; vertical-align: top; } th { color: #64748b; font-weight: 600; }
"""


def _params(op: dict[str, Any]) -> str:
    rows = []
    for p in op.get("parameters", []):
        schema = p.get("schema", {})
        kind = schema.get("type") or "/".join(s.get("type", "") for s in schema.get("anyOf", []) if s.get("type"))
        rows.append(
            f"<tr><td><code>{html.escape(p['name'])}</code></td><td>{html.escape(p.get('in', ''))}</td>"
            f"<td>{html.escape(kind)}</td><td>{html.escape(p.get('description') or schema.get('description') or '')}"
            "</td></tr>"
        )
    if "requestBody" in op:
        content = ", ".join(op["requestBody"].get("content", {}))
        rows.append(f"<tr><td><i>body</i></td><td></td><td>{html.escape(content)}</td><td></td></tr>")
    if not rows:
        return ""
    return "<table><tr><th>name</th><th>in</th><th>type</th><th>meaning</th></tr>" + "".join(rows) + "</table>"


def docs_html(schema: dict[str, Any]) -> str:
    """The reference page: each route by tag with its summary, description and parameters."""
    info = schema.get("info", {})
    groups: dict[str, list[str]] = {}
    for path, ops in schema.get("paths", {}).items():
        for method, op in ops.items():
            tag = (op.get("tags") or ["other"])[0]
            groups.setdefault(tag, []).append(
                f"<div class='op'><span class='m {method}'>{method.upper()}</span> <span class='path'>"
                f"{html.escape(path)}</span> — {html.escape(op.get('summary', ''))}"
                f"<p class='desc'>{html.escape(op.get('description', ''))}</p>{_params(op)}</div>"
            )
    body = "".join(f"<h2>{html.escape(tag)}</h2>{''.join(ops)}" for tag, ops in groups.items())
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(info.get('title', 'API'))}"
        f" API</title><style>{_STYLE}</style></head><body><h1>{html.escape(info.get('title', 'API'))} API</h1>"
        f"<p class='desc'>{html.escape(info.get('description', ''))}</p>"
        "<p>Machine-readable schema: <a href='openapi.json'>openapi.json</a> · The page: <a href='ui/'>/ui</a></p>"
        f"{body}</body></html>"
    )


@router.get("/docs")
def docs(request: Request) -> HTMLResponse:
    """The API reference, drawn here from the schema (no scripts from a CDN, so it works offline)."""
    return HTMLResponse(docs_html(request.app.openapi()))


@router.get("/")
def home(request: Request) -> RedirectResponse:
    """The root opens the page (or the API reference when the page is off)."""
    has_page = any(getattr(r, "path", None) == "/ui" for r in request.app.routes)
    return RedirectResponse("/ui/" if has_page else "/docs", status_code=307)
