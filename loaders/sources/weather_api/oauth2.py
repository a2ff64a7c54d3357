"""OAuth2 client credentials (RFC 6749 §4.4) for source APIs that need them.

Open-Meteo needs no credentials; a commercial weather provider or an OEM's turbine portal
usually sits behind a token endpoint. `api_session(settings)` gives the session a source
client takes (`OpenMeteoClient(base_url, session=...)`): a plain one, one sending an API
key header, or one that fetches a bearer token with the client id and secret, keeps it
until shortly before it expires, and fetches a new one once if the API answers 401.

Secrets stay out of every message: errors name the token URL, the HTTP status and the
provider's error code, never the client secret nor the token.
"""

from __future__ import annotations

import threading
import time

import requests
from requests.auth import AuthBase, HTTPBasicAuth

from loaders.settings import Settings

EXPIRY_MARGIN_SECONDS = 60.0
TIMEOUT_SECONDS = 30.0
API_KEY_HEADER = "X-API-Key"


class OAuth2Error(RuntimeError):
    """The token endpoint refused or answered nonsense; the message holds no secret."""


class ClientCredentialsAuth(AuthBase):
    """A `requests` auth that adds `Authorization: Bearer <token>`, fetching tokens as
    needed with the client-credentials grant (client authenticated by HTTP Basic)."""

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        scope: str | None = None,
        session: requests.Session | None = None,
    ) -> None:
        if not (token_url and client_id and client_secret):
            raise OAuth2Error("OAuth2 needs a token URL, a client id and a client secret")
        self.token_url = token_url
        self._client = HTTPBasicAuth(client_id, client_secret)
        self._scope = scope
        self._session = session or requests.Session()
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()
        self.tokens_fetched = 0

    def __repr__(self) -> str:
        return f"ClientCredentialsAuth(token_url={self.token_url!r})"

    def token(self, *, renew: bool = False) -> str:
        with self._lock:
            if renew or self._token is None or time.monotonic() >= self._expires_at:
                self._token, lifetime = self._fetch()
                self._expires_at = time.monotonic() + max(0.0, lifetime - EXPIRY_MARGIN_SECONDS)
            return self._token

    def _fetch(self) -> tuple[str, float]:
        data = {"grant_type": "client_credentials"}
        if self._scope:
            data["scope"] = self._scope
        try:
            response = self._session.post(
                self.token_url, data=data, auth=self._client, timeout=TIMEOUT_SECONDS
            )
        except requests.RequestException as error:
            raise OAuth2Error(f"POST {self.token_url}: {type(error).__name__}") from None
        if response.status_code != 200:
            raise OAuth2Error(
                f"POST {self.token_url}: HTTP {response.status_code}: {_error_code(response)}"
            )
        try:
            body = response.json()
            token = str(body["access_token"])
            lifetime = float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            raise OAuth2Error(f"POST {self.token_url}: the answer has no access_token") from None
        if str(body.get("token_type", "bearer")).lower() != "bearer":
            raise OAuth2Error(f"POST {self.token_url}: token type {body['token_type']!r}")
        self.tokens_fetched += 1
        return token, lifetime

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        request.register_hook("response", self._retry_once_on_401)
        return request

    def _retry_once_on_401(
        self, response: requests.Response, **kwargs: object
    ) -> requests.Response:
        """A token revoked or expired early: one new token, one new attempt."""
        if response.status_code != 401 or getattr(response.request, "_oauth2_retried", False):
            return response
        retry = response.request.copy()
        retry.headers["Authorization"] = f"Bearer {self.token(renew=True)}"
        retry._oauth2_retried = True  # type: ignore[attr-defined]
        response.content  # noqa: B018 - read the body so the connection can be reused
        response.close()
        new = response.connection.send(retry, **kwargs)  # as requests' digest auth does
        new.history.append(response)
        new.request = retry
        return new


class ApiKeyAuth(AuthBase):
    """A static API key in a header (never in the URL, where logs would keep it)."""

    def __init__(self, key: str, header: str = API_KEY_HEADER) -> None:
        self._key = key
        self._header = header

    def __repr__(self) -> str:
        return f"ApiKeyAuth(header={self._header!r})"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers[self._header] = self._key
        return request


def _error_code(response: requests.Response) -> str:
    """RFC 6749 §5.2 error code only: descriptions may echo what was sent."""
    try:
        body = response.json()
    except ValueError:
        return "no JSON error body"
    return str(body.get("error", "no error code")) if isinstance(body, dict) else "unexpected"


def api_session(settings: Settings) -> requests.Session:
    """The session for the weather API: OAuth2 if a client id is configured, else an API
    key header if a key is, else a plain session."""
    session = requests.Session()
    if settings.weather_oauth_client_id:
        session.auth = ClientCredentialsAuth(
            settings.weather_oauth_token_url,
            settings.weather_oauth_client_id,
            settings.weather_oauth_client_secret,
        )
    elif settings.weather_api_key:
        session.auth = ApiKeyAuth(settings.weather_api_key)
    return session
