"""The documented default profile that ``aether init`` and ``aether profile init`` write."""

from __future__ import annotations

from importlib.resources import files


def default_profile_text(proxy_url: str | None = None) -> str:
    """The packaged default profile; ``proxy_url`` (checked first: ``InvalidInput`` naming
    ``--proxy``) replaces its ``proxy.endpoint``."""
    text = files("aether.routing").joinpath("default-profile.yaml").read_text(encoding="utf-8")
    if proxy_url is None:
        return text
    from aether.proxy_http import bad_url, url_problem
    from aether.routing.table import DEFAULT_ENDPOINT

    url = proxy_url.strip()
    problem = url_problem(url, credentials_allowed=False)
    if problem is not None:
        raise bad_url(url, "--proxy", problem)
    line = f"  endpoint: {DEFAULT_ENDPOINT}\n"
    assert text.count(line) == 1, "the packaged profile names its endpoint once"
    return text.replace(line, f"  endpoint: {url}\n")
