"""uvicorn's HTTP protocol with its one plain-text answer (a request it cannot parse) turned into ErrorBody JSON."""

from __future__ import annotations

import json
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

# What the server's parser refuses before the app sees anything: a request line or headers past its buffer
# (a URL of tens of kB), or bytes that are not HTTP. The app's routes answer every other error themselves.
UNPARSABLE = json.dumps(
    {
        "error": "invalid_request",
        "message": "the request could not be read: not HTTP, or its URL or headers are too long",
    },
    separators=(",", ":"),
).encode()


def _json_400(protocol: Any) -> None:
    head = [b"HTTP/1.1 400 Bad Request\r\n"]
    head += [name + b": " + value + b"\r\n" for name, value in protocol.server_state.default_headers]
    head += [
        b"content-type: application/json\r\n",
        b"content-length: " + str(len(UNPARSABLE)).encode("ascii") + b"\r\n",
        b"connection: close\r\n\r\n",
    ]
    protocol.transport.write(b"".join(head) + UNPARSABLE)
    protocol.transport.close()


class JsonErrorsH11Protocol(H11Protocol):
    """h11 (pure Python) with a JSON 400 for requests it cannot parse."""

    def send_400_response(self, msg: str) -> None:
        """The ErrorBody answer instead of uvicorn's plain text."""
        _json_400(self)


def http_protocol() -> type:
    """The protocol class to serve with: httptools when installed (uvicorn's own choice), else h11."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:
        return JsonErrorsH11Protocol

    class JsonErrorsHttpToolsProtocol(HttpToolsProtocol):
        """httptools with a JSON 400 for requests it cannot parse."""

        def send_400_response(self, msg: str) -> None:
            """The ErrorBody answer instead of uvicorn's plain text."""
            _json_400(self)

    return JsonErrorsHttpToolsProtocol
