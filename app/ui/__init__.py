"""The web page at /ui: extract and review invoices beside their vendor's context, search, vendors, dashboard."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import gradio as gr
from starlette.routing import Mount

from app.ui.context import PageServices
from app.ui.dashboard_tab import build_dashboard_tab
from app.ui.extract_tab import TAB_ID, build_extract_tab, engine_choices
from app.ui.handlers import Updates, guarded
from app.ui.login import FollowKeys
from app.ui.queue_tab import QUEUE_TAB_ID, build_queue_tab
from app.ui.search_tab import build_search_tab
from app.ui.theme import CSS, theme
from app.ui.vendors_tab import build_vendors_tab

if TYPE_CHECKING:
    from fastapi import FastAPI

    from app.api.deps import Services

__all__ = ["UI_PATH", "build_ui", "mount_ui"]

UI_PATH = "/ui"
log = logging.getLogger("invoice_ocr.ui")

HEADER = (
    "<div id='app-header'><h1>Invoice OCR</h1>"
    "<span class='sub'>Read, check and find invoices — documents never leave this machine.</span></div>"
)


def build_ui(ctx: PageServices) -> gr.Blocks:
    """The page's Blocks; every handler reaches the services through `ctx` at call time."""
    with gr.Blocks(title="Invoice OCR", analytics_enabled=False, fill_width=True) as blocks:
        gr.HTML(HEADER)
        with gr.Tabs(selected=TAB_ID) as tabs:
            with gr.Tab("Extract & review", id=TAB_ID, elem_id="tab-extract"):
                extract = build_extract_tab(ctx)
            with gr.Tab("Review queue", id=QUEUE_TAB_ID, elem_id="tab-queue") as queue_tab:
                queue = build_queue_tab(ctx, extract, tabs, TAB_ID)
            with gr.Tab("Search", id="search", elem_id="tab-search"):
                build_search_tab(ctx, extract, tabs, TAB_ID)
            with gr.Tab("Vendors", id="vendors", elem_id="tab-vendors"):
                build_vendors_tab(ctx, extract, tabs, TAB_ID)
            with gr.Tab("Dashboard", id="dashboard", elem_id="tab-dashboard") as dashboard_tab:
                dashboard = build_dashboard_tab(ctx)
                to_queue = gr.Button("Open the review queue", size="sm", elem_id="dash-open-queue")
        dashboard_tab.select(guarded(dashboard.refresh), None, dashboard.outputs, api_visibility="undocumented")
        queue_tab.select(
            guarded(queue.refresh), None, queue.outputs, show_progress="hidden", api_visibility="undocumented"
        )

        @guarded
        def open_queue() -> Updates:
            return {tabs: gr.Tabs(selected=QUEUE_TAB_ID), **queue.refresh()}

        to_queue.click(open_queue, None, [tabs, *queue.outputs], api_visibility="undocumented")

        def on_load() -> Any:
            try:
                return engine_choices(ctx)
            except Exception:  # the picker keeps its default; extraction reports engine problems itself
                log.warning("engine list unavailable", exc_info=True)
                return gr.update()

        blocks.load(on_load, None, [extract.engine], show_progress="hidden", api_visibility="undocumented")
    return blocks


def _mounted_app(fastapi_app: FastAPI, path: str) -> Any:
    """The Gradio app mounted at `path`."""
    for route in fastapi_app.routes:
        if isinstance(route, Mount) and route.path == path.rstrip("/"):
            return route.app
    raise RuntimeError(f"no app is mounted at {path}")


def mount_ui(fastapi_app: FastAPI, services: Services, path: str = UI_PATH) -> FastAPI:
    """Mount the page on the app at `path`, serving with the app's own services (settings, keys, extractor, store)."""
    ctx = PageServices.for_app(services)
    blocks = build_ui(ctx)
    mounted = gr.mount_gradio_app(
        fastapi_app,
        blocks,
        path=path,
        auth=ctx.login.check if ctx.login.required else None,
        auth_message="Sign in with any name and an API key as the password.",
        theme=theme(),
        css=CSS,
        footer_links=[],
        max_file_size=ctx.settings.max_bytes,
        show_error=True,
        ssr_mode=False,
        mcp_server=False,
        pwa=False,
    )
    # Keys created or revoked while the server runs turn the page's login on or off and end sessions.
    mounted.add_middleware(FollowKeys, login=ctx.login, ui_app=_mounted_app(mounted, path), path=path)
    return mounted
