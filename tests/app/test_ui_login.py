"""The page's sign-in follows API keys created and revoked while the server runs."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AuthenticationError

from app.api.auth import Authenticator, KeyStore
from app.ui.login import UiLogin
from tests.app.live_server import LiveServer
from tests.builders import make_settings


def _login(tmp_path: Path) -> tuple[UiLogin, KeyStore]:
    settings = make_settings(tmp_path / "data")
    keys = KeyStore.for_settings(settings)
    return UiLogin(Authenticator(settings, keys)), keys


def test_login_is_asked_for_once_a_key_exists(tmp_path: Path) -> None:
    login, keys = _login(tmp_path)
    assert not login.required and not login.read_only(None)
    key, _ = keys.create("clerk")
    assert login.required
    assert not login.check("alice", "wrong") and not login.check("alice", "")
    assert login.check("alice", key)
    assert login.principal("alice").name == "clerk" and not login.read_only("alice")
    assert login.read_only(None) and login.read_only("nobody")


def test_a_name_stays_with_its_key_while_that_key_is_valid(tmp_path: Path) -> None:
    login, keys = _login(tmp_path)
    reader_key, _ = keys.create("auditor", read_only=True)
    writer_key, _ = keys.create("clerk")
    assert login.check("bob", reader_key) and login.read_only("bob")
    assert not login.check("bob", writer_key)  # would turn bob's read-only session into a full one
    assert login.read_only("bob")
    assert login.check("bob", reader_key) and login.check("carol", writer_key)
    keys.revoke("auditor")
    assert login.principal("bob") is None and login.read_only("bob")
    assert login.check("bob", writer_key) and not login.read_only("bob")


def _search(client: Client) -> object:
    return client.predict("anything", "hybrid", "", "", "", "", "", "", "any", api_name="/search")


def test_keys_created_and_revoked_while_the_server_runs(tmp_path: Path) -> None:
    live = LiveServer(make_settings(tmp_path / "data")).start()
    opened: list[Client] = []
    try:
        open_page = Client(live.url + "/ui/", verbose=False)
        opened.append(open_page)
        _search(open_page)  # no keys: the page is open

        keys = KeyStore.for_settings(live.app.state.services.settings)
        key, _ = keys.create("clerk")
        with pytest.raises(httpx.HTTPStatusError, match="401"):  # the open session is turned away
            _search(open_page)
        with pytest.raises(AuthenticationError):  # a new visitor must sign in
            opened.append(Client(live.url + "/ui/", verbose=False))
        signed_in = Client(live.url + "/ui/", auth=("alice", key), verbose=False)
        opened.append(signed_in)
        _search(signed_in)
        assert httpx.get(live.url + "/search", params={"q": "x"}).status_code == 401  # the API agrees

        keys.revoke("clerk")
        keys.create("other")
        with pytest.raises(httpx.HTTPStatusError, match="401"):  # the revoked key's session is signed out
            _search(signed_in)
    finally:
        for client in opened:
            client.close()
        live.stop()
