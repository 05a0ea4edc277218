"""A local HTTP server speaking the parts of vLLM's OpenAI-compatible protocol the `vllm` engine uses.

It answers `GET /health`, `GET /v1/models`, `POST /v1/chat/completions` (with a canned answer) and, like
vLLM, `POST /tokenize` (chat messages rendered through a Jinja chat template, image placeholders expanded
into image tokens) and `POST /detokenize`. Its `template` picks how it renders a chat the way differently
deployed vLLM servers do: `raw` hands the model the content as is, `wrapped` puts DeepSeek-VL2's chat
roles around it (what vLLM does for DeepSeek-OCR checkpoints by model type), `None` has no tokenizer
endpoints. This is a stand-in for a GPU server; the client's real HTTP code runs against it.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jinja2

ANSWER = (
    "<|ref|>title<|/ref|><|det|>[[100, 40, 600, 80]]<|/det|>\n# INVOICE 2024-17\n\n"
    "<|ref|>text<|/ref|><|det|>[[100, 700, 900, 740]]<|/det|>\nTotal due: 118.00 EUR"
)
BOS = "<｜begin▁of▁sentence｜>"
SERVED = ["deepseek-ai/DeepSeek-OCR", "deepseek-ai/DeepSeek-OCR-2", "zai-org/GLM-OCR", "PaddlePaddle/PaddleOCR-VL-1.5"]
TEMPLATES = {
    "raw": "{{ bos_token }}{% for m in messages %}{{ m['content'] }}{% endfor %}",
    "wrapped": (
        "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'user' %}<|User|>: {{ m['content'] }}\n\n"
        "{% endif %}{% endfor %}{% if add_generation_prompt %}<|Assistant|>: {% endif %}"
    ),
}
IMAGE_TOKEN_ID = 1_000_000
IMAGE_TOKENS_PER_IMAGE = 5


def flatten(content: object) -> str:
    """Message content as vLLM's string content format gives it to a template: placeholders, then the text."""
    if isinstance(content, str):
        return content
    parts = list(content)  # type: ignore[call-overload]
    images = ["<image>" for part in parts if part["type"] == "image_url"]
    texts = [part["text"] for part in parts if part["type"] == "text"]
    return "\n".join([*images, *texts])


def tokenize(text: str) -> list[int]:
    """One token per character, each `<image>` placeholder expanded into image tokens."""
    out: list[int] = []
    for i, piece in enumerate(text.split("<image>")):
        if i:
            out.extend([IMAGE_TOKEN_ID] * IMAGE_TOKENS_PER_IMAGE)
        out.extend(ord(c) for c in piece)
    return out


def detokenize(tokens: list[int]) -> str:
    """The text of `tokens`."""
    return "".join("<image>" if t == IMAGE_TOKEN_ID else chr(t) for t in tokens)


class ChatServer:
    """A local OpenAI-style vLLM server; `mode` picks how it answers completions, `template` how it renders chats."""

    def __init__(
        self,
        mode="ok",
        delay=0.0,
        answer=ANSWER,
        finish_reason="stop",
        health=200,
        models=None,
        template="raw",
        request_templates=False,
        token_strs=False,
    ):
        self.mode, self.delay, self.answer, self.finish_reason, self.health = mode, delay, answer, finish_reason, health
        self.models = list(SERVED if models is None else models)
        self.template, self.request_templates, self.token_strs = template, request_templates, token_strs
        self.requests: list[dict] = []  # chat completions only
        self.probes: list[dict] = []  # tokenize / detokenize
        self.health_checks = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                server.health_checks += 1
                if self.path == "/health":
                    self._send(server.health, {})
                elif self.path == "/v1/models":
                    self._send(server.health, {"object": "list", "data": [{"id": m} for m in server.models]})
                else:
                    self._send(404, {})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path in ("/tokenize", "/detokenize"):
                    server.probes.append({"path": self.path, "body": body})
                    self._send(*server.tokenizer_answer(self.path, body))
                    return
                with server._lock:
                    server.requests.append({"path": self.path, "body": body})
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    time.sleep(server.delay)
                    if server.mode == "error":
                        self._send(500, {"error": "internal"})
                    elif server.mode == "bad_request":
                        self._send(400, {"error": "bad image"})
                    elif body.get("model") not in server.models:
                        self._send(404, {"error": f"The model `{body.get('model')}` does not exist."})
                    elif "vllm_xargs" in body and int(body["vllm_xargs"].get("ngram_size", 1)) <= 0:
                        self._send(400, {"error": "ngram_size must be > 0"})
                    else:
                        choice = {
                            "index": 0,
                            "message": {"role": "assistant", "content": server.answer},
                            "finish_reason": server.finish_reason,
                        }
                        self._send(200, {"id": "x", "object": "chat.completion", "choices": [choice]})
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    with server._lock:
                        server.in_flight -= 1

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def tokenizer_answer(self, path: str, body: dict) -> tuple[int, dict]:
        """(status, payload) for /tokenize and /detokenize."""
        if self.template is None:
            return 404, {"detail": "Not Found"}
        if path == "/detokenize":
            return 200, {"prompt": detokenize(body["tokens"])}
        source = TEMPLATES[self.template]
        if body.get("chat_template") is not None:
            if not self.request_templates:
                return 400, {"error": "chat templates in requests are not allowed (--trust-request-chat-template)"}
            source = body["chat_template"]
        messages = [{"role": m["role"], "content": flatten(m["content"])} for m in body["messages"]]
        prompt = (
            jinja2.Environment()
            .from_string(source)
            .render(messages=messages, bos_token=BOS, add_generation_prompt=body.get("add_generation_prompt", False))
        )
        tokens = tokenize(prompt)
        payload = {"count": len(tokens), "max_model_len": 8192, "tokens": tokens}
        if self.token_strs and body.get("return_token_strs"):
            payload["token_strs"] = [detokenize([t]) for t in tokens]
        return 200, payload

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
