"""Credentials of the weather API, with dlt's REST auth classes.

Open-Meteo needs no credentials; a commercial weather provider or an OEM's turbine portal
usually sits behind an API key or a token endpoint. `api_session(settings)` gives the
session a source client takes (`OpenMeteoClient(base_url, session=...)`): a plain one, one
sending an API key header (dlt's `APIKeyAuth`), or one with OAuth2 client credentials
(dlt's `OAuth2ClientCredentials`, which fetches a token and keeps it until it expires).

What dlt's class does not do, `ClientCredentialsAuth` adds: the client authenticates with
HTTP Basic (RFC 6749 §2.3.1, which every server must accept; dlt posts the secret in the
form), a token is renewed a margin before it expires, a 401 renews it once and resends
(a token revoked early), and a refusal becomes an `OAuth2Error` naming the token URL, the
HTTP status and the provider's error code, never the client secret nor the token.
"""

from __future__ import annotations

from typing import Any

import requests
from dlt.sources.helpers.rest_client.auth import APIKeyAuth, OAuth2ClientCredentials

from loaders.settings import Settings

EXPIRY_MARGIN_SECONDS = 60
TIMEOUT_SECONDS = 30.0
API_KEY_HEADER = "X-API-Key"


class OAuth2Error(RuntimeError):
    """The token endpoint refused or answered nonsense; the message holds no secret."""


class ClientCredentialsAuth(OAuth2ClientCredentials):
    """dlt's client-credentials flow, with the four additions of the module doc."""

    def __init__(self, token_url: str, client_id: str, client_secret: str) -> None:
        if not (token_url and client_id and client_secret):
            raise OAuth2Error("OAuth2 needs a token URL, a client id and a client secret")
        super().__init__(
            access_token_url=token_url,
            client_id=client_id,
            client_secret=client_secret,
            session=requests.Session(),
        )
        self.tokens_fetched = 0

    def __repr__(self) -> str:
        return f"ClientCredentialsAuth(token_url={self.access_token_url!r})"

    def build_access_token_request(self) -> dict[str, Any]:
        return {
            "auth": (self.client_id, self.client_secret),
            "data": {"grant_type": "client_credentials", **self.access_token_request_data},
            "timeout": TIMEOUT_SECONDS,
        }

    def obtain_token(self) -> None:
        try:
            super().obtain_token()
        except requests.HTTPError as error:
            raise OAuth2Error(
                f"POST {self.access_token_url}: HTTP {error.response.status_code}: "
                f"{_error_code(error.response)}"
            ) from None
        except requests.RequestException as error:
            raise OAuth2Error(f"POST {self.access_token_url}: {type(error).__name__}") from None
        except ValueError:
            raise OAuth2Error(f"POST {self.access_token_url}: the answer is not JSON") from None
        self.tokens_fetched += 1

    def parse_access_token(self, response_json: Any) -> str:
        token = response_json.get("access_token") if isinstance(response_json, dict) else None
        if not token:
            raise OAuth2Error(f"POST {self.access_token_url}: the answer has no access_token")
        token_type = str(response_json.get("token_type", "bearer"))
        if token_type.lower() != "bearer":
            raise OAuth2Error(f"POST {self.access_token_url}: token type {token_type!r}")
        return str(token)

    def parse_expiration_in_seconds(self, response_json: Any) -> int:
        return max(0, super().parse_expiration_in_seconds(response_json) - EXPIRY_MARGIN_SECONDS)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request = super().__call__(request)
        request.register_hook("response", self._renew_once_on_401)
        return request

    def _renew_once_on_401(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        """A token revoked or expired early: one new token, one new attempt."""
        if response.status_code != 401 or getattr(response.request, "_oauth2_retried", False):
            return response
        self.obtain_token()
        retry = response.request.copy()
        retry.headers["Authorization"] = f"Bearer {self.access_token}"
        retry._oauth2_retried = True  # type: ignore[attr-defined]
        response.content  # noqa: B018 - read the body so the connection can be reused
        response.close()
        new = response.connection.send(retry, **kwargs)  # as requests' digest auth does
        new.history.append(response)
        new.request = retry
        return new


def _error_code(response: requests.Response) -> str:
    """RFC 6749 §5.2 error code only: descriptions may echo what was sent."""
    try:
        body = response.json()
    except ValueError:
        return "no JSON error body"
    return str(body.get("error", "no error code")) if isinstance(body, dict) else "unexpected"


def api_key_auth(key: str, *, query_param: str = "") -> APIKeyAuth:
    """A static API key in a header, or in the query when the API wants it there (added
    when the request is sent, so no stored URL or message holds it)."""
    if query_param:
        return APIKeyAuth(name=query_param, api_key=key, location="query")
    return APIKeyAuth(name=API_KEY_HEADER, api_key=key, location="header")


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
        session.auth = api_key_auth(settings.weather_api_key)
    return session
