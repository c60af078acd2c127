"""A synchronous Confluence Cloud REST v2 client returning the typed records of ``models``.

One ``httpx.Client`` per ``ConfluenceClient`` (use it as a context manager or call
``close()``); retries live in the transport (:mod:`.retry`), JSON -> record mapping in
:mod:`.records`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Sequence
from itertools import islice
from typing import Any, TypeVar
from urllib.parse import quote, unquote

import httpx

from confluence_pipeline.runtime.tls import verifying_context
from confluence_pipeline.runtime.urls import require_https

from .cql import cql_string
from .download import download
from .errors import (
    ConfluenceError,
    ConfluenceNotFound,
    ConfluenceResponseError,
    describe,
    error_for_response,
    error_for_transport,
)
from .models import Attachment, ChangedPage, Page, PageScope, PageSummary, Space
from .ratelimit import RequestGate, Usage
from .records import (
    get_int,
    get_list,
    get_opt_str,
    get_str,
    reading,
    to_attachment,
    to_change,
    to_label,
    to_page,
    to_read_restriction,
    to_scope,
    to_space,
    to_summary,
)
from .retry import PARSED_JSON, RetryPolicy, RetryTransport

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
MAX_LIMIT = 250  # v2 page size and id-filter size
USERS_PER_LOOKUP = 200  # the bulk user lookup's documented maximum
SEARCH_LIMIT = 250  # asked of CQL content search; Confluence may return fewer per request
CHANGE_LIMIT = 200  # content search honours at most 200 with expansions
SPACES_PER_LISTING = 100  # v2 ``space-id`` filter size
SCOPE_EXPAND = (
    "metadata.labels,restrictions.read.restrictions.user,restrictions.read.restrictions.group"
)
_GATEWAY_PATH = re.compile(r"/ex/confluence/([^/]+)/?$")
T = TypeVar("T")


class ConfluenceClient:
    """Reads spaces and pages of one Confluence Cloud site.

    ``base_url`` is the site root (``https://acme.atlassian.net``) or the OAuth gateway prefix
    (``https://api.atlassian.com/ex/confluence/{cloudId}``); ``/wiki/...`` is appended to it.
    It must be https (plain http only on loopback hosts), and paging links are followed only
    when they stay on its scheme, host, port and path prefix, so the credentials never go
    anywhere else. ``transport`` is wrapped in a :class:`RetryTransport` using ``retry`` unless
    it already is one; ``gate`` (default: one of this client alone) paces its requests, and a
    gate shared by every client of a connection makes them back off together. At most
    ``max_connections`` requests are in flight at once, however many threads share the client
    (more wait their turn, never a pool timeout). Every method raises :class:`ConfluenceError`
    subclasses, never httpx exceptions. Safe to share across threads.
    """

    def __init__(
        self,
        base_url: str,
        auth: httpx.Auth,
        *,
        timeout: httpx.Timeout | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        max_connections: int = 8,
        gate: RequestGate | None = None,
    ) -> None:
        self.base_url = require_https(base_url, "Confluence base URL").rstrip("/")
        self._slots = threading.BoundedSemaphore(max_connections)
        if not isinstance(transport, RetryTransport):
            if transport is None:
                limits = httpx.Limits(
                    max_connections=max_connections, max_keepalive_connections=max_connections
                )
                transport = httpx.HTTPTransport(limits=limits, verify=verifying_context())
            transport = RetryTransport(transport, policy=retry)
        if gate is not None:
            transport.gate = gate
        self._gate = transport.gate
        self._http = httpx.Client(
            base_url=self.base_url,
            auth=auth,
            timeout=timeout or DEFAULT_TIMEOUT,
            transport=transport,
            headers={"Accept": "application/json"},
        )
        # where attachment downloads are redirected (a media host): never any credentials
        self._media = httpx.Client(
            timeout=timeout or DEFAULT_TIMEOUT, follow_redirects=False, verify=verifying_context()
        )

    def __enter__(self) -> ConfluenceClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()
        self._media.close()

    @property
    def usage(self) -> Usage:
        """Requests and (approximate) points this client spent."""
        return self._gate.usage

    def flush_usage(self) -> None:
        """Writes buffered usage counters where the gate keeps them (also done by close)."""
        self._gate.flush()

    # -- public API --------------------------------------------------------------------------

    def get_cloud_id(self) -> str | None:
        """The site's cloud id: read from a gateway ``base_url``, else ``GET /_edge/tenant_info``
        (no credentials sent). None when the site does not serve it (404)."""
        match = _GATEWAY_PATH.search(httpx.URL(self.base_url).path)
        if match:
            return match.group(1)
        response = self._send("/_edge/tenant_info", anonymous=True)
        if response.status_code == 404:
            return None
        body = self._json(response)
        with reading(response):
            return get_str(body, "cloudId")

    def check_access(self) -> None:
        """One cheap authenticated call (a 1-item space list); raises ConfluenceAuthError when
        the credentials are refused and ConfluenceUnavailable when the site is unreachable."""
        self._json(self._send("/wiki/api/v2/spaces", params={"limit": 1}))

    def get_spaces(self, keys: Sequence[str]) -> dict[str, Space]:
        """Spaces by key; keys that do not exist (or are not visible) are absent."""
        spaces: dict[str, Space] = {}
        for chunk in _chunks(list(dict.fromkeys(keys)), MAX_LIMIT):
            params = {"keys": ",".join(chunk), "limit": MAX_LIMIT}
            for space in self._paged("/wiki/api/v2/spaces", params, to_space):
                spaces[space.key] = space
        return spaces

    def visible_spaces(self, limit: int = 20) -> list[Space]:
        """The first ``limit`` spaces this login can see (one request)."""
        spaces = self._paged("/wiki/api/v2/spaces", {"limit": limit}, to_space)
        return list(islice(spaces, limit))

    def iter_pages(
        self, space_id: str, *, statuses: Sequence[str] = ("current",)
    ) -> Iterator[PageSummary]:
        """Every page of a space with the given statuses, without bodies, in id order.

        Follows every cursor; raises ConfluenceNotFound for an unknown space and
        ConfluenceError if the server hands out the same cursor twice.
        """
        path = f"/wiki/api/v2/spaces/{_segment(space_id)}/pages"
        params = {"limit": MAX_LIMIT, "status": ",".join(statuses)}
        yield from self._paged(path, params, to_summary)

    def get_pages(self, page_ids: Sequence[str]) -> list[Page]:
        """Pages with storage bodies, in the order asked, fetched 250 ids per request.

        Ids the server leaves out (trashed, purged, not permitted) are simply absent.
        """
        wanted = list(dict.fromkeys(page_ids))
        found: dict[str, Page] = {}
        for chunk in _chunks(wanted, MAX_LIMIT):
            params = {"id": ",".join(chunk), "body-format": "storage", "limit": MAX_LIMIT}
            for page in self._paged("/wiki/api/v2/pages", params, to_page):
                found[page.summary.id] = page
        return [found[page_id] for page_id in wanted if page_id in found]

    def find_pages(self, page_ids: Sequence[str]) -> list[PageSummary]:
        """The current pages among ``page_ids``, in any space, without bodies (250 per request);
        trashed, archived, purged or invisible ids are absent."""
        found: list[PageSummary] = []
        for chunk in _chunks(list(dict.fromkeys(page_ids)), MAX_LIMIT):
            params = {"id": ",".join(chunk), "status": "current", "limit": MAX_LIMIT}
            found.extend(self._paged("/wiki/api/v2/pages", params, to_summary))
        return found

    def latest_page(self, space_id: str) -> PageSummary | None:
        """The space's most recently modified current page (one item, no body); None if the
        space has no current page."""
        path = f"/wiki/api/v2/spaces/{_segment(space_id)}/pages"
        params = {"sort": "-modified-date", "status": "current", "limit": 1}
        response = self._send(path, params=params)
        body = self._json(response)
        with reading(response):
            items = get_list(body, "results")
            return to_summary(items[0], get_str(body, "_links.base")) if items else None

    def count_pages(self, space_key: str) -> int:
        """How many current pages the space holds, as CQL search counts them (``totalSize``).

        The search index may lag edits by minutes; callers use this as a hint only.
        """
        cql = f"space = {cql_string(space_key)} and type = page"
        response = self._send("/wiki/rest/api/search", params={"cql": cql, "limit": 1})
        body = self._json(response)
        with reading(response):
            return get_int(body, "totalSize")

    def get_page(self, page_id: str) -> Page | None:
        """One page with its storage body, whatever its status (``"trashed"`` included);
        None when it does not exist (purged) or is not visible (404)."""
        path = f"/wiki/api/v2/pages/{_segment(page_id)}"
        response = self._send(path, params={"body-format": "storage"})
        if response.status_code == 404:
            return None
        body = self._json(response)
        with reading(response):
            return to_page(body, get_str(body, "_links.base"))

    def display_names(self, account_ids: Sequence[str]) -> dict[str, str]:
        """Display names by account id, ``USERS_PER_LOOKUP`` ids per request (the v1 bulk
        lookup, which OAuth apps may also call); unknown and private profiles are absent."""
        names: dict[str, str] = {}
        for chunk in _chunks(list(dict.fromkeys(account_ids)), USERS_PER_LOOKUP):
            params = {"accountId": chunk, "limit": USERS_PER_LOOKUP}
            response = self._send("/wiki/rest/api/user/bulk", params=params)
            body = self._json(response)
            with reading(response):
                for item in get_list(body, "results"):
                    name = get_opt_str(item, "displayName") or get_opt_str(item, "publicName")
                    if name:
                        names[get_str(item, "accountId")] = name
        return names

    def page_scopes(self, cql: str) -> Iterator[PageScope]:
        """Labels and own read restrictions of every page ``cql`` finds, from CQL content
        search (as many per request as the server honours, at most ``SEARCH_LIMIT``).

        Raises ConfluenceNotFound when the search answers 404 (Confluence does when some
        ancestor is a draft or trashed); callers fall back to :meth:`read_restriction`."""
        params = {"cql": cql, "expand": SCOPE_EXPAND, "limit": SEARCH_LIMIT}
        yield from self._paged("/wiki/rest/api/content/search", params, to_scope, v1=True)

    def test_cql(self, cql: str) -> None:
        """Runs ``cql`` once (one result at most); raises when the server refuses it (400, or
        404 for what it cannot search)."""
        response = self._send("/wiki/rest/api/content/search", params={"cql": cql, "limit": 1})
        self._json(response)

    def search_ids(self, cql: str) -> Iterator[str]:
        """Ids of the content ``cql`` finds (CQL content search, no expansions)."""
        params = {"cql": cql, "limit": SEARCH_LIMIT}
        yield from self._paged(
            "/wiki/rest/api/content/search",
            params,
            lambda item, _base: get_str(item, "id"),
            v1=True,
        )

    def changed_pages(self, cql: str) -> Iterator[ChangedPage]:
        """Id, space key and version of every page ``cql`` finds (CQL content search with
        ``version`` and ``space`` expanded, ``CHANGE_LIMIT`` per request, every cursor)."""
        params = {"cql": cql, "expand": "version,space", "limit": CHANGE_LIMIT}
        yield from self._paged("/wiki/rest/api/content/search", params, to_change, v1=True)

    def removed_pages(self, space_ids: Sequence[str], *, limit: int) -> Iterator[PageSummary]:
        """Trashed and archived pages of these spaces (at most ``SPACES_PER_LISTING``), most
        recently modified first, ``limit`` per request; callers stop reading when they have
        seen enough (each further item may cost a request)."""
        params = {
            "space-id": ",".join(space_ids),
            "status": "trashed,archived",
            "sort": "-modified-date",
            "limit": limit,
        }
        yield from self._paged("/wiki/api/v2/pages", params, to_summary)

    def read_restriction(self, content_id: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Account ids and group names of the read restriction on the content itself (not
        inherited ones); ((), ()) when it is gone (404)."""
        path = f"/wiki/rest/api/content/{_segment(content_id)}/restriction/byOperation/read"
        response = self._send(path, params={"expand": "restrictions.user,restrictions.group"})
        if response.status_code == 404:
            return (), ()
        body = self._json(response)
        with reading(response):
            return to_read_restriction(body)

    def get_labels(self, page_id: str) -> list[str]:
        """Label names of a page; [] when the page is gone (404)."""
        path = f"/wiki/api/v2/pages/{_segment(page_id)}/labels"
        try:
            return list(self._paged(path, {"limit": MAX_LIMIT}, to_label))
        except ConfluenceNotFound:
            return []

    def get_ancestors(self, page_id: str) -> list[str]:
        """Ancestor page ids, highest (usually the space homepage) first; [] when the page is
        gone (404). Climbs further when the server returns a full batch."""
        chain: list[str] = []
        current = page_id
        while True:
            path = f"/wiki/api/v2/pages/{_segment(current)}/ancestors"
            response = self._send(path, params={"limit": MAX_LIMIT})
            if response.status_code == 404:
                return chain
            body = self._json(response)
            with reading(response):
                batch = [get_str(item, "id") for item in get_list(body, "results")]
            fresh = [ancestor for ancestor in batch if ancestor not in chain]
            chain = fresh + chain
            if len(batch) < MAX_LIMIT or not fresh:
                return chain
            current = batch[0]

    def iter_attachments(self, page_id: str) -> Iterator[Attachment]:
        """The page's current attachments (v2, 250 per request); none when the page is gone
        (404)."""
        path = f"/wiki/api/v2/pages/{_segment(page_id)}/attachments"
        try:
            yield from self._paged(path, {"limit": MAX_LIMIT}, to_attachment)
        except ConfluenceNotFound:
            return

    def download_attachment(self, page_id: str, attachment_id: str, max_bytes: int) -> bytes:
        """The attachment's bytes (v1 ``.../child/attachment/{id}/download``, whose redirect to
        the media host is followed without credentials, see :mod:`.download`); raises
        ``AttachmentTooLarge`` past ``max_bytes``."""
        path = (
            f"/wiki/rest/api/content/{_segment(page_id)}/child/attachment/"
            f"{_segment(attachment_id)}/download"
        )
        base = httpx.URL(self.base_url)
        with self._slots:
            return download(
                self._http, self._media, path, max_bytes, on_site=lambda u: _same_place(base, u)
            )

    # -- HTTP plumbing -----------------------------------------------------------------------

    def _send(
        self, url: str, *, params: dict[str, Any] | None = None, anonymous: bool = False
    ) -> httpx.Response:
        """GET ``url``; 2xx and 404 are returned, other statuses raise the matching error."""
        try:
            auth = None if anonymous else httpx.USE_CLIENT_DEFAULT
            with self._slots:
                response = self._http.get(url, params=params, auth=auth)
        except httpx.TransportError as exc:
            raise error_for_transport(self._http.build_request("GET", url), exc) from exc
        if response.is_success or response.status_code == 404:
            return response
        raise error_for_response(response)

    def _json(self, response: httpx.Response) -> Any:
        if response.status_code == 404:
            raise error_for_response(response)
        if PARSED_JSON in response.extensions:  # parsed (and checked) by the RetryTransport
            return response.extensions[PARSED_JSON]
        try:
            return response.json()
        except ValueError:
            message = f"{describe(response.request)} -> {response.status_code}: body is not JSON"
            raise ConfluenceResponseError(
                message, request=response.request, response=response
            ) from None

    def _paged(
        self,
        path: str,
        params: dict[str, Any],
        to_record: Callable[[dict[str, Any], str], T],
        *,
        v1: bool = False,
    ) -> Iterator[T]:
        """Records of every page of a list, following ``_links.next`` (or a v2 ``Link``
        header) on this client's own site only; ``to_record`` gets each item and the list's
        ``_links.base``. A v1 list's ``next`` is relative to its ``_links.context`` (``/wiki``),
        a v2 list's to the site."""
        url: str | None = path
        query: dict[str, Any] | None = params
        seen: set[str] = set()
        while url is not None:
            response = self._send(url, params=query)
            body = self._json(response)
            with reading(response):
                base = (
                    (get_opt_str(body, "_links.base") or "") if v1 else get_str(body, "_links.base")
                )
                records = [to_record(item, base) for item in get_list(body, "results")]
                next_url = get_opt_str(body, "_links.next")
                context = (get_opt_str(body, "_links.context") or "/wiki") if v1 else ""
            if not v1:
                next_url = next_url or response.links.get("next", {}).get("url")
            yield from records
            if next_url is not None:
                if v1 and next_url.startswith("/") and not next_url.startswith(context + "/"):
                    next_url = context + next_url
                next_url = self._own_url(next_url, response)
                if next_url in seen:
                    raise ConfluenceError(
                        f"{describe(response.request)}: the server repeated a paging cursor",
                        request=response.request,
                        response=response,
                    )
                seen.add(next_url)
            url, query = next_url, None

    def _own_url(self, link: str, response: httpx.Response) -> str:
        """``link`` (absolute, or relative to ``base_url`` as Confluence sends it) as an
        absolute URL, when it stays on the base URL's scheme, host, port and path prefix;
        otherwise ConfluenceError (the credentials must not follow a link elsewhere)."""
        base = httpx.URL(self.base_url)
        try:
            given = httpx.URL(link)
            target = given if given.scheme or given.host else httpx.URL(_join(self.base_url, link))
        except httpx.InvalidURL:
            target = None
        if target is not None and _same_place(base, target):
            return str(target)
        where = f"{target.scheme}://{target.netloc.decode()}{target.path}" if target else "?"
        raise ConfluenceError(
            f"{describe(response.request)}: the server's paging link leads to {where}, outside "
            f"{base.scheme}://{base.netloc.decode()}{base.path}; stopped without following it",
            request=response.request,
            response=response,
        )


def _join(base_url: str, relative: str) -> str:
    return f"{base_url}/{relative.lstrip('/')}"


def _same_place(base: httpx.URL, target: httpx.URL) -> bool:
    """Same scheme, host and port, a path under the base path and no dot segments."""
    default = {"http": 80, "https": 443}
    if (target.scheme, target.host) != (base.scheme, base.host):
        return False
    if (target.port or default.get(target.scheme)) != (base.port or default.get(base.scheme)):
        return False
    path = unquote(target.path)
    if any(segment in (".", "..") for segment in path.split("/")):
        return False
    prefix = base.path.rstrip("/")
    return path == prefix or path.startswith(f"{prefix}/")


def _segment(value: str) -> str:
    return quote(str(value), safe="")


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
