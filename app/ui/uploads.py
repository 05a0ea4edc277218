"""The page's drop zone: its values can only be files that this page's upload route wrote.

The page is mounted into FastAPI, where Gradio's own check that an event's file was uploaded by the
user does not run: a raw call could name any path on the server, and Gradio would copy it into its
cache before the handler saw it. Here every path an event names must be one the page's upload route
recorded (an exact set membership, no file-system lookup, so a missing and an existing path are
refused alike); anything else is refused before it is opened, copied or hashed.
"""

from __future__ import annotations

from abc import ABCMeta
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.component_meta import ComponentMeta
from gradio.context import LocalContext
from gradio.data_classes import FileData, ListFiles

NOT_UPLOADED = "Refused: only files dropped on this page are read. Drop the file on the page to upload it."


def uploaded_path(path: Any) -> str:
    """`path` when the page's upload route wrote it in this process; otherwise a refusal, whatever the path."""
    blocks = LocalContext.blocks.get(None)  # the page whose event is being processed
    uploads = getattr(blocks, "upload_file_set", None)
    if isinstance(path, Path):
        path = str(path)
    if not isinstance(path, str) or uploads is None or path not in uploads:
        raise gr.Error(NOT_UPLOADED, title="Not an upload", print_exception=False)
    return path


class _NoStub(ComponentMeta):
    """ComponentMeta less its side effect of writing a .pyi stub beside this module on import.

    A subclass that adds no events and no __init__ needs nothing else from it (and an install the server
    cannot write to would fail to import).
    """

    def __new__(mcs, name: str, bases: tuple[type, ...], attrs: dict[str, Any]) -> type:
        if "__init__" in attrs or "EVENTS" in attrs:
            raise TypeError(f"{name}: a subclass defining __init__ or EVENTS needs ComponentMeta itself")
        return ABCMeta.__new__(mcs, name, bases, attrs)


class UploadedFiles(gr.File, metaclass=_NoStub):
    """A gr.File that accepts only the page's own uploads, checked before Gradio touches the file."""

    def get_block_name(self) -> str:
        """Drawn by the browser as the built-in File component (the class name would ask for a custom one)."""
        return "file"

    def move_resource_to_block_cache(self, url_or_file_path: str | Path | None) -> str | None:
        """Gradio calls this (or its async twin) for each incoming file before the handler: uploads stay put."""
        return None if url_or_file_path is None else uploaded_path(url_or_file_path)

    async def async_move_resource_to_block_cache(self, url_or_file_path: str | Path | None) -> str | None:
        """The async twin Gradio uses inside its routes."""
        return self.move_resource_to_block_cache(url_or_file_path)

    def preprocess(self, payload: ListFiles | FileData | None) -> Any:
        """The uploaded paths; also covers values sent without file metadata or as streams, which skip the move."""
        if payload is not None:
            items = payload.root if isinstance(payload, ListFiles) else [payload]
            for item in items:
                uploaded_path(item.path)
        return super().preprocess(payload)
