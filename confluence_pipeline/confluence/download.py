"""Attachment downloads: ``/download`` redirects to a media host, which gets no credentials.

The first request goes to the site with the client's credentials (through its retrying
transport; Confluence answers a redirect with no body). Each redirect is followed by hand: a
hop that stays on the site's scheme, host, port and path prefix keeps the credentials; any
other hop goes through an anonymous client, with no ``Authorization`` header and no cookies,
and must be https (plain http only on loopback). The media host's body is streamed and
abandoned as soon as it exceeds the cap, so an oversized file is never held in memory there (a
site that answered the download itself, without the redirect Confluence Cloud sends, would be
read whole by the retrying transport before the cap is checked; the listed size is checked
before any download).
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from confluence_pipeline.runtime.urls import InsecureURLError, require_https

from .errors import ConfluenceError, describe, error_for_response, error_for_transport

MAX_REDIRECTS = 5


class AttachmentTooLarge(ConfluenceError):
    """The file is larger than the cap (by its ``Content-Length`` or its bytes so far)."""


def download(
    site: httpx.Client,
    media: httpx.Client,
    path: str,
    max_bytes: int,
    *,
    on_site: Callable[[httpx.URL], bool],
) -> bytes:
    """The bytes behind ``path`` (on ``site``), following redirects; raises
    AttachmentTooLarge past ``max_bytes``, ConfluenceError on anything else."""
    client, url = site, httpx.URL(path)
    for _ in range(MAX_REDIRECTS + 1):
        request = client.build_request("GET", url)
        try:
            response = client.send(request, stream=True)
        except httpx.TransportError as exc:
            raise error_for_transport(request, exc) from exc
        try:
            if not response.is_redirect:
                return _body(response, max_bytes)
            url = request.url.join(response.headers["location"])
        finally:
            response.close()
        if on_site(url):
            client = site
            continue
        try:
            require_https(str(url), "the attachment download's redirect")
        except InsecureURLError as exc:
            raise ConfluenceError(f"{describe(request)}: {exc}", request=request) from None
        client = media
    raise ConfluenceError(f"{describe(request)}: more than {MAX_REDIRECTS} redirects")


def _body(response: httpx.Response, max_bytes: int) -> bytes:
    if not response.is_success:
        response.read()
        raise error_for_response(response)
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(response, int(declared), max_bytes)
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise _too_large(response, size, max_bytes)
            chunks.append(chunk)
    except httpx.TransportError as exc:
        raise error_for_transport(response.request, exc) from exc
    return b"".join(chunks)


def _too_large(response: httpx.Response, size: int, max_bytes: int) -> AttachmentTooLarge:
    return AttachmentTooLarge(
        f"{describe(response.request)}: the file is over the {max_bytes} bytes cap "
        f"({size} bytes or more); not downloaded",
        request=response.request,
    )
