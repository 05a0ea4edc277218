"""The page's look: a calm theme on local system fonts (nothing fetched from the network) and a little CSS."""

from __future__ import annotations

from pathlib import Path

import gradio as gr


def theme() -> gr.themes.Base:
    """A neutral, dense theme for all-day work."""
    return gr.themes.Soft(
        primary_hue=gr.themes.colors.indigo,
        secondary_hue=gr.themes.colors.slate,
        neutral_hue=gr.themes.colors.slate,
        radius_size=gr.themes.sizes.radius_sm,
        spacing_size=gr.themes.sizes.spacing_sm,
        text_size=gr.themes.sizes.text_md,
        font=[gr.themes.Font("Inter"), gr.themes.Font("system-ui"), "Segoe UI", "Roboto", "sans-serif"],
        font_mono=[gr.themes.Font("ui-monospace"), "DejaVu Sans Mono", "monospace"],
    ).set(
        block_title_text_weight="600",
        block_title_background_fill="none",
        block_title_padding="0",
        block_title_text_color="*neutral_600",
        block_label_background_fill="none",
        block_label_text_color="*neutral_600",
        block_label_text_size="*text_sm",
        button_large_padding="8px 14px",
    )


CSS = """
footer { display: none !important; }
#app-header { display: flex; align-items: baseline; gap: 14px; padding: 4px 2px 2px; }
#app-header h1 { font-size: 1.35rem; margin: 0; font-weight: 700; }
#app-header .sub { color: var(--body-text-color-subdued); font-size: 0.92rem; }
.muted { color: var(--body-text-color-subdued); font-size: 0.9rem; }
.alerts:empty { display: none; }
.alert { border-radius: 6px; padding: 10px 14px; margin: 4px 0; font-size: 0.95rem; line-height: 1.4; }
.alert b { font-weight: 700; }
.alert.danger { background: #fdecec; border: 1px solid #f3b0b0; color: #8a1c1c; }
.alert.warn { background: #fff6e0; border: 1px solid #f0cf85; color: #7a4d00; }
.alert.ok { background: #e9f7ef; border: 1px solid #a9dcbf; color: #14603a; }
.alert.info { background: #eef2ff; border: 1px solid #c7d0f5; color: #27337a; }
.field-warn textarea, .field-warn input { border-color: #e0a100 !important; background: #fffaf0 !important; }
.field-warn .info, .field-warn [data-testid="block-info"] + div { color: #8a5a00 !important; }
.page-nav { align-items: center !important; }
.page-nav .page-label { text-align: center; font-size: 0.92rem; }
.page-image img { object-fit: contain; }
.vendor-card h3 { margin: 0 0 2px; font-size: 1.15rem; }
.vendor-card .resolved { color: var(--body-text-color-subdued); font-size: 0.88rem; margin-bottom: 8px; }
.figures { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 6px; margin: 6px 0; }
.figures.wide { grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); }
.figure { background: var(--block-background-fill); border: 1px solid var(--border-color-primary);
          border-radius: 6px; padding: 6px 10px; }
.figure .k { color: var(--body-text-color-subdued); font-size: 0.78rem; text-transform: uppercase;
             letter-spacing: .03em; }
.figure .v { font-size: 1.0rem; font-weight: 600; overflow-wrap: anywhere; }
.status-pill { display: inline-block; border-radius: 999px; padding: 1px 10px; font-size: 0.82rem; font-weight: 600; }
.status-pill.new { background: #eef2ff; color: #3730a3; }
.status-pill.review { background: #fff1d6; color: #8a5a00; }
.status-pill.corrected { background: #e0f2fe; color: #075985; }
.status-pill.approved { background: #dcfce7; color: #166534; }
.doc-summary { font-size: 0.95rem; }
.doc-list label { font-size: 0.9rem !important; }
.checks li { margin: 2px 0; }
.table-wrap td, .table-wrap th, .table-wrap .cell-wrap, .table-wrap input, .table-wrap textarea {
    font-family: var(--font) !important; }
#vendor-recent .cell-wrap, #vendor-similar .cell-wrap { font-size: 0.8rem; }
.empty-state { color: var(--body-text-color-subdued); padding: 24px 8px; text-align: center; }
.keys-hint { font-size: 0.8rem; }
.reread-row { align-items: center !important; }
.reread-hint { font-size: 0.88rem; }
#app-header { padding-top: 0; }
#upload { min-height: 0; }
"""
CSS += (Path(__file__).parent / "static" / "viewer.css").read_text(encoding="utf-8")
