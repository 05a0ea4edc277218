"""The Dashboard tab: throughput, latency per engine, errors, review quality, backlog and GPU, on demand."""

from __future__ import annotations

import html
import shutil
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gradio as gr
import pandas as pd

from app.ui.charts import bar_svg
from app.ui.handlers import Updates, guarded

if TYPE_CHECKING:
    from gradio.blocks import Block

    from app.ui.context import PageServices

LATENCY_HEADERS = ["Engine", "Documents", "p50 (s)", "p90 (s)"]


def per_day_frame(dashboard: dict[str, Any]) -> pd.DataFrame:
    """Documents per day as chart rows (from the service's `documents_per_day`)."""
    rows = [
        {"day": str(item["day"])[:10], "documents": int(item["documents"])}
        for item in dashboard.get("documents_per_day") or []
    ]
    return pd.DataFrame(rows, columns=["day", "documents"])


def latency_rows(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """Latency per engine (from the service's `latency`) as records with engine, documents, p50, p90."""
    return [
        {"engine": str(engine), "documents": item.get("runs") or 0, "p50": item.get("p50"), "p90": item.get("p90")}
        for engine, item in (dashboard.get("latency") or {}).items()
    ]


def latency_table(dashboard: dict[str, Any]) -> pd.DataFrame:
    """Latency per engine as a table."""
    rows = latency_rows(dashboard)
    return pd.DataFrame(
        [[r["engine"], r["documents"], _round(r["p50"]), _round(r["p90"])] for r in rows], columns=LATENCY_HEADERS
    )


def latency_chart(dashboard: dict[str, Any]) -> str:
    """p50 and p90 seconds per engine as grouped bars."""
    rows = latency_rows(dashboard)
    series = {
        "p50": [float(r["p50"] or 0) for r in rows],
        "p90": [float(r["p90"] or 0) for r in rows],
    }
    return bar_svg(
        [r["engine"] for r in rows], series, "Latency per engine (seconds)", unit=" s", empty_text="No runs yet."
    )


def per_day_chart(dashboard: dict[str, Any]) -> str:
    """Documents per day (the last 30 days that had any) as bars."""
    frame = per_day_frame(dashboard).sort_values("day").tail(30)
    labels = [d[5:] for d in frame["day"]]
    return bar_svg(labels, {"documents": list(frame["documents"])}, "Documents per day", empty_text="No documents yet.")


def _round(value: Any) -> Any:
    return round(float(value), 2) if isinstance(value, (int, float)) else "—"


def _share(value: Any) -> str:
    if not isinstance(value, (int, float)):
        return "—"
    return f"{value:.0%}" if value <= 1 else f"{value:.0f}%"


def gpu_status() -> str:
    """GPU name, utilisation and memory from nvidia-smi, or a plain 'no GPU'."""
    if shutil.which("nvidia-smi") is None:
        return "no GPU"
    try:
        out = subprocess.run(
            [
                "nvidia-smi",
                "--query-gpu=name,utilization.gpu,memory.used,memory.total",
                "--format=csv,noheader,nounits",
            ],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "GPU present, status unavailable"
    parts = [p.strip() for p in out.splitlines()[0].split(",")] if out else []
    if len(parts) < 4:
        return "GPU present, status unavailable"
    name, util, used, total = parts[:4]
    return f"{util}% busy · {int(float(used)) // 1024}/{int(float(total)) // 1024} GiB · {name}"


def tiles_html(dashboard: dict[str, Any], queue: dict[str, Any] | None, gpu: str) -> str:
    """The headline figures as tiles."""
    documents = dashboard.get("runs", 0)
    errors = dashboard.get("error_rate")
    approved = dashboard.get("approved_without_edits")
    backlog = dashboard.get("review_backlog")
    invoices = dashboard.get("invoices")
    tiles = [
        ("Documents read", str(documents)),
        ("Invoices stored", str(invoices) if invoices is not None else "—"),
        ("Error rate", _share(errors)),
        ("Approved without edits", _share(approved)),
        ("Review backlog", str(backlog) if backlog is not None else "—"),
    ]
    if queue:
        tiles.append(("Extraction queue", f"{queue.get('running', 0)} running · {queue.get('waiting', 0)} waiting"))
    tiles.append(("GPU", gpu))
    cells = "".join(
        f"<div class='figure'><div class='k'>{html.escape(k)}</div><div class='v' title='{html.escape(v)}'>"
        f"{html.escape(v)}</div></div>"
        for k, v in tiles
    )
    return f"<div class='figures wide' id='dashboard-figures'>{cells}</div>"


@dataclass
class DashboardTab:
    """The tab's components; `refresh()` reads the figures again (on opening the tab, say)."""

    ctx: PageServices
    tiles: gr.HTML
    per_day: gr.HTML
    latency: gr.HTML
    latency_table: gr.Dataframe

    @property
    def outputs(self) -> list[Block]:
        """What a refresh updates."""
        return [self.tiles, self.per_day, self.latency, self.latency_table]

    def refresh(self) -> Updates:
        """The figures read from the history, the extraction queue and the GPU."""
        service = self.ctx.service()
        from retrieval.models import SearchFilters

        dashboard = {**service.dashboard(), "invoices": service.list_invoices(SearchFilters(), limit=1).total}
        return {
            self.tiles: tiles_html(dashboard, self.ctx.pool.state(), gpu_status()),
            self.per_day: per_day_chart(dashboard),
            self.latency: latency_chart(dashboard),
            self.latency_table: latency_table(dashboard),
        }


def build_dashboard_tab(ctx: PageServices) -> DashboardTab:
    """Lay out the tab and wire its refresh."""
    with gr.Row():
        gr.HTML("<div class='muted'>Figures from the invoice history, refreshed on demand.</div>")
        refresh = gr.Button("Refresh", variant="secondary", size="sm", scale=0, min_width=120, elem_id="dash-refresh")
    tiles = gr.HTML(
        "<div class='empty-state'>Press Refresh to load the figures.</div>", label="Figures", elem_id="dashboard-tiles"
    )
    with gr.Row(equal_height=False):
        per_day = gr.HTML(per_day_chart({}), label="Documents per day", elem_id="dash-per-day")
        latency = gr.HTML(latency_chart({}), label="Latency chart", elem_id="dash-latency")
    latency_rows_table = gr.Dataframe(
        pd.DataFrame(columns=LATENCY_HEADERS),
        label="Latency per engine",
        interactive=False,
        elem_id="dash-latency-table",
    )
    tab = DashboardTab(ctx, tiles, per_day, latency, latency_rows_table)
    refresh.click(guarded(tab.refresh), None, tab.outputs, api_name="dashboard")
    return tab
