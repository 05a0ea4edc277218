"""The page's session routes that Gradio leaves without a login check answer only a signed-in session."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.api.main import create_app
from tests.builders import make_settings

KEY = "iok_session-routes-test-key"
CALLS = [
    ("/ui/gradio_api/reset", {"event_id": "e1"}),
    ("/ui/gradio_api/cancel", {"session_hash": "s1", "fn_index": 0, "event_id": "e1"}),
]


def test_reset_and_cancel_need_a_login_when_keys_are_on(tmp_path):
    with TestClient(create_app(make_settings(tmp_path / "data", api_keys=[KEY]))) as client:
        for path, body in CALLS:
            refused = client.post(path, json=body)
            assert refused.status_code == 401, (path, refused.text)
            assert refused.json()["error"] == "unauthorized"
        assert client.get("/ui/gradio_api/heartbeat/s1").status_code == 401
        assert client.post("/ui/login", data={"username": "clerk", "password": "wrong"}).status_code == 400
        assert client.post("/ui/login", data={"username": "clerk", "password": KEY}).status_code == 200
        for path, body in CALLS:
            answered = client.post(path, json=body)
            assert answered.status_code == 200, (path, answered.text)


def test_reset_stays_open_while_the_page_asks_for_no_login(tmp_path):
    with TestClient(create_app(make_settings(tmp_path / "data"))) as client:
        assert client.post(CALLS[0][0], json=CALLS[0][1]).status_code == 200
