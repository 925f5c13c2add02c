"""The proxy's HTTP client: an endpoint, one request with a bound on time and size, its answer.

Stdlib ``http.client`` only (no httpx/requests: start-up time matters, commands run often).
What the answers mean for a spawn is aether/proxy.py.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import urlsplit

from aether.errors import InvalidInput
from aether.records import record
from aether.redaction import redact

MAX_BODY_BYTES = 4 * 1024 * 1024


@record(frozen=True)
class Endpoint:
    scheme: str
    host: str
    port: int
    base_path: str

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}{self.base_path}"


#: what a proxy URL may hold (RFC 3986's characters): no white space, no control character
_URL_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")


def url_problem(url: str, *, credentials_allowed: bool = True) -> str | None:
    """What keeps ``url`` from naming a proxy aether can reach, in words; None when nothing."""
    if not _URL_CHARACTERS.fullmatch(url):
        return "holds white space or a character no URL has"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "is not an http(s) URL"
    try:
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError:
        return "has an invalid port"
    if not credentials_allowed and (parts.username or parts.password):
        return "carries a user name or password"
    return None


def bad_url(url: str, origin: str | None, problem: str) -> InvalidInput:
    """The error for a proxy URL: ``origin`` names where it came from (a variable, an option);
    None is the profile's ``proxy.endpoint``."""
    shown = "" if "@" in url else f" ({url!r})"  # a user name or password is never echoed
    if origin is None:
        return InvalidInput(
            f"the proxy endpoint{shown} {problem}",
            fix="set proxy.endpoint in .aether/model-profiles.yaml, e.g. http://127.0.0.1:4000",
        )
    return InvalidInput(
        f"{origin} {problem}{shown}",
        meaning="nothing was changed",
        fix="give the proxy's URL, e.g. http://127.0.0.1:4000 (its key goes in the variable "
        "the profile names, never in the URL)",
    )


def parse_endpoint(url: str, origin: str | None = None) -> Endpoint:
    """The endpoint ``url`` names. ``origin`` as in ``bad_url``; a URL given outside the profile
    may carry no credentials (they would be printed and logged with it)."""
    url = url.strip()
    problem = url_problem(url, credentials_allowed=origin is None)
    if problem is not None:
        raise bad_url(url, origin, problem)
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return Endpoint(parts.scheme, str(parts.hostname), port, parts.path.rstrip("/"))


def same_endpoint(a: str, b: str) -> bool:
    """Do two URLs name one proxy (``localhost`` and ``127.0.0.1``, a trailing slash, an
    explicit default port alike)? A URL that names no proxy at all never matches."""

    def key(url: str) -> tuple[str, str, int, str]:
        e = parse_endpoint(url)
        host = e.host.lower()
        return e.scheme, "127.0.0.1" if host == "localhost" else host, e.port, e.base_path

    try:
        return key(a) == key(b)
    except InvalidInput:
        return False


@record
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed_ms: float

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8", "replace"))
        except ValueError:
            return None

    def error_text(self) -> str:
        """The proxy's error message, redacted and shortened (for logs and tables)."""
        data = self.json()
        text = ""
        if isinstance(data, dict):
            err = data.get("error")
            if isinstance(err, dict):
                text = str(err.get("message") or err.get("type") or "")
            elif err is not None:
                text = str(err)
            elif "detail" in data:
                text = str(data["detail"])
        if not text:
            text = self.body.decode("utf-8", "replace")
        first = text.strip().splitlines()[0] if text.strip() else ""
        return redact(first[:300])

    def error_type(self) -> str:
        data = self.json()
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            return str(data["error"].get("type") or "")
        return ""


class TransportError(Exception):
    """The request never got an HTTP answer: ``case`` is connection-refused or timeout."""

    def __init__(self, case: str, detail: str) -> None:
        super().__init__(detail)
        self.case = case
        self.detail = detail


def request(
    endpoint: Endpoint,
    method: str,
    path: str,
    *,
    key: str | None = None,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 5.0,
) -> HttpResponse:
    """One HTTP request; raises ``TransportError`` when no HTTP answer arrives."""
    import http.client

    conn: http.client.HTTPConnection
    if endpoint.scheme == "https":
        conn = http.client.HTTPSConnection(endpoint.host, endpoint.port, timeout=timeout)
    else:
        conn = http.client.HTTPConnection(endpoint.host, endpoint.port, timeout=timeout)
    sent_headers = {"Accept": "application/json", "Connection": "close"}
    if key is not None:
        sent_headers["Authorization"] = f"Bearer {key}"
    payload: bytes | None = None
    if body is not None:
        payload = json.dumps(body).encode("utf-8")
        sent_headers["Content-Type"] = "application/json"
    sent_headers.update(headers or {})
    start = time.perf_counter()
    try:
        conn.request(method, endpoint.base_path + path, body=payload, headers=sent_headers)
        resp = conn.getresponse()
        data = resp.read(MAX_BODY_BYTES)
        return HttpResponse(
            status=resp.status,
            headers={k.lower(): v for k, v in resp.getheaders()},
            body=data,
            elapsed_ms=(time.perf_counter() - start) * 1000,
        )
    except TimeoutError:
        raise TransportError("timeout", f"no answer within {timeout:g} s") from None
    except ConnectionRefusedError:
        raise TransportError("connection-refused", "connection refused") from None
    except (OSError, http.client.HTTPException) as exc:
        detail = redact(str(exc) or type(exc).__name__)
        raise TransportError("connection-refused", f"connection failed: {detail}") from None
    finally:
        conn.close()
