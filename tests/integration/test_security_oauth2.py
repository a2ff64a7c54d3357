"""OAuth2 client credentials against a real token endpoint and API on loopback.

pytest-httpserver plays the provider: a token endpoint that checks the client's HTTP Basic
credentials, and an API that answers 401 to anything but the current bearer token.
"""

from __future__ import annotations

import base64
import json
from dataclasses import replace

import pytest
import requests
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from loaders.settings import Settings
from loaders.sources.weather_api import oauth2

CLIENT_ID = "windfarm-elt"
CLIENT_SECRET = "client-secret-0f3a9c"


class Provider:
    """Issues numbered tokens; the API accepts only the latest one."""

    def __init__(self, server: HTTPServer, lifetime: int = 3600) -> None:
        self.issued: list[str] = []
        self.lifetime = lifetime
        self.api_calls: list[str | None] = []
        server.expect_request("/oauth/token", method="POST").respond_with_handler(self.token)
        server.expect_request("/v1/archive").respond_with_handler(self.api)

    def token(self, request: Request) -> Response:
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return Response(json.dumps({"error": "invalid_client"}), 401)
        if request.form.get("grant_type") != "client_credentials":
            return Response(json.dumps({"error": "unsupported_grant_type"}), 400)
        self.issued.append(f"token-{len(self.issued) + 1}")
        body = {
            "access_token": self.issued[-1],
            "token_type": "Bearer",
            "expires_in": self.lifetime,
        }
        return Response(json.dumps(body), 200, content_type="application/json")

    def api(self, request: Request) -> Response:
        self.api_calls.append(request.headers.get("Authorization"))
        if not self.issued or request.headers.get("Authorization") != f"Bearer {self.issued[-1]}":
            return Response(json.dumps({"error": True, "reason": "unauthorised"}), 401)
        return Response(json.dumps({"ok": True}), 200, content_type="application/json")


def _settings(server: HTTPServer, secret: str = CLIENT_SECRET) -> Settings:
    return replace(
        Settings(),
        weather_oauth_token_url=server.url_for("/oauth/token"),
        weather_oauth_client_id=CLIENT_ID,
        weather_oauth_client_secret=secret,
    )


def test_the_api_session_fetches_a_token_once_and_reuses_it(httpserver: HTTPServer) -> None:
    provider = Provider(httpserver)
    session = oauth2.api_session(_settings(httpserver))
    for _ in range(3):
        assert session.get(httpserver.url_for("/v1/archive"), timeout=5).json() == {"ok": True}
    assert provider.issued == ["token-1"]
    assert provider.api_calls == ["Bearer token-1"] * 3


def test_a_token_expiring_soon_is_renewed_before_use(httpserver: HTTPServer) -> None:
    provider = Provider(httpserver, lifetime=30)  # inside the safety margin: renewed each time
    session = oauth2.api_session(_settings(httpserver))
    session.get(httpserver.url_for("/v1/archive"), timeout=5)
    session.get(httpserver.url_for("/v1/archive"), timeout=5)
    assert provider.issued == ["token-1", "token-2"]
    assert provider.api_calls == ["Bearer token-1", "Bearer token-2"]


def test_a_revoked_token_is_replaced_once_on_401(httpserver: HTTPServer) -> None:
    provider = Provider(httpserver)
    session = oauth2.api_session(_settings(httpserver))
    session.get(httpserver.url_for("/v1/archive"), timeout=5)
    provider.issued.append("token-rotated-by-the-provider")  # ours is no longer the latest
    answer = session.get(httpserver.url_for("/v1/archive"), timeout=5)
    assert answer.status_code == 200
    assert provider.api_calls[-2:] == ["Bearer token-1", "Bearer token-3"]


def test_a_refused_client_gets_an_error_without_the_secret(httpserver: HTTPServer) -> None:
    Provider(httpserver)
    wrong_secret = "not-the-secret-77aa"
    session = oauth2.api_session(_settings(httpserver, secret=wrong_secret))
    with pytest.raises(oauth2.OAuth2Error) as refused:
        session.get(httpserver.url_for("/v1/archive"), timeout=5)
    message = str(refused.value)
    assert "HTTP 401: invalid_client" in message and "/oauth/token" in message
    assert wrong_secret not in message and wrong_secret not in repr(session.auth)


def test_an_api_key_goes_in_a_header_never_in_the_url(httpserver: HTTPServer) -> None:
    seen: list[tuple[str, str | None]] = []

    def api(request: Request) -> Response:
        seen.append((request.url, request.headers.get(oauth2.API_KEY_HEADER)))
        return Response("{}", 200, content_type="application/json")

    httpserver.expect_request("/v1/archive").respond_with_handler(api)
    key = "api-key-5e1d"
    session = oauth2.api_session(replace(Settings(), weather_api_key=key))
    session.get(httpserver.url_for("/v1/archive"), params={"latitude": "48.45"}, timeout=5)
    [(url, header)] = seen
    assert header == key and key not in url


def test_without_credentials_the_session_is_plain() -> None:
    assert oauth2.api_session(Settings()).auth is None
    assert isinstance(oauth2.api_session(Settings()), requests.Session)
