"""A small stateful Jira on loopback, one mode per flavor, for tests and the demo (no Jira fake exists).

Cloud mode speaks REST v3 (ADF bodies) and v2, wants basic auth (email + API token), answers
`POST /rest/api/3/search/jql` and, like the real Cloud since CHANGE-2046, 410 Gone on the retired
`/rest/api/{2,3,latest}/search`. Data Center mode speaks REST v2 only (wiki strings), wants a bearer
personal access token and answers `POST /rest/api/2/search`. Both demand `X-Atlassian-Token: no-check`
and the multipart field `file` on attachments, and understand the JQL the weekly ticket uses.

Tests steer it: `fail(...)` queues injected failures (401, 400, 429 with Retry-After, 5xx),
`search_lag` hides new issues from that many searches (Cloud's eventual consistency), and
`requests` records every call. Given `components`, only those names are the project's components, and
a create naming another is refused as Jira does. A description or comment longer than Jira's text
limit (32,767 characters; for an ADF document, its JSON, the stricter reading) is refused.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import itertools
import json
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

Flavor = Literal["cloud", "datacenter"]

RETIRED_SEARCH = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full "
    "migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)
TEXT_LIMIT = 32_767
TOO_LONG = "The entered text is too long. It exceeds the allowed limit of 32,767 characters."
_ISSUE_PATH = re.compile(r"^/rest/api/(?P<v>[23]|latest)/issue/(?P<key>[A-Z][A-Z0-9_]*-\d+)(?P<rest>/.*)?$")
_CLAUSE = re.compile(r'^\s*(?P<field>\w+)\s*(?P<op>!=|=)\s*(?P<value>"(?:[^"\\]|\\.)*"|[\w-]+)\s*$')


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the fake Jira received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file attached to an issue."""

    filename: str
    content: bytes


@dataclass
class FakeIssue:
    """An issue as the fake stores it; `description` and comment bodies are kept as sent (ADF or wiki)."""

    id: str
    key: str
    fields: dict[str, Any]
    comments: list[Any] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    done: bool = False
    hidden_for_searches: int = 0

    @property
    def labels(self) -> list[str]:
        """The issue's labels."""
        return list(self.fields.get("labels") or [])


@dataclass
class _Failure:
    status: int
    method: str | None
    path: str | None
    times: int
    retry_after: str | None
    body: dict[str, Any]
    then_apply: bool


class FakeJira:
    """A Jira Cloud or Data Center double serving on `127.0.0.1` (see the module docstring)."""

    def __init__(
        self,
        flavor: Flavor,
        *,
        email: str = "reporter@example.com",
        token: str | None = None,
        projects: tuple[str, ...] = ("SEC",),
        issue_types: tuple[str, ...] = ("Task", "Bug"),
        required_fields: dict[str, str] | None = None,
        search_lag: int = 0,
        components: tuple[str, ...] | None = None,
    ) -> None:
        """`required_fields`: custom field ID → name, required on every create. No token: a random one.
        `components`: the project's component names (None: any name is accepted)."""
        self.flavor: Flavor = flavor
        self.email = email
        self.token = token or secrets.token_urlsafe(16)
        self.projects = projects
        self.issue_types = issue_types
        self.required_fields = dict(required_fields or {})
        self.search_lag = search_lag
        self.components = components
        self.issues: dict[str, FakeIssue] = {}
        self.requests: list[RecordedRequest] = []
        self._failures: list[_Failure] = []
        self._ids = itertools.count(10001)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        # A short poll interval makes stop() quick; tests start and stop one server each.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-jira", daemon=True
        )

    @property
    def url(self) -> str:
        """Base URL, e.g. `http://127.0.0.1:54321`."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeJira:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()

    @contextmanager
    def running(self) -> Iterator[FakeJira]:
        """Serve for the duration of a `with` block."""
        self.start()
        try:
            yield self
        finally:
            self.stop()

    def fail(
        self,
        status: int,
        *,
        method: str | None = None,
        path: str | None = None,
        times: int = 1,
        retry_after: str | None = None,
        body: dict[str, Any] | None = None,
        then_apply: bool = False,
    ) -> None:
        """Answer the next `times` matching requests (`path` is a substring) with `status`.

        `then_apply` performs the request anyway before failing, like a server that dies after commit.
        """
        payload = (
            body if body is not None else {"errorMessages": [f"injected failure {status}"], "errors": {}}
        )
        with self._lock:
            self._failures.append(_Failure(status, method, path, times, retry_after, payload, then_apply))

    def close_issue(self, key: str) -> None:
        """Move an issue to a Done status."""
        with self._lock:
            self.issues[key].done = True

    def requests_to(self, method: str, path_part: str) -> list[RecordedRequest]:
        """Recorded requests with this method whose path contains `path_part`."""
        return [r for r in self.requests if r.method == method and path_part in r.path]

    # --- request handling (called from the server's threads, under the lock) ---

    def _handle(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        with self._lock:
            status, extra, payload = self._dispatch(method, path, query, headers, body)
            self.requests.append(RecordedRequest(method, path, headers, body, status))
            return status, extra, payload

    def _dispatch(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        if not self._authorized(headers.get("authorization", "")):
            return (
                401,
                {"WWW-Authenticate": 'Basic realm="protected-area"'},
                _errors("You are not authenticated. Authentication required to perform this operation."),
            )
        failure = self._take_failure(method, path)
        if failure is not None and not failure.then_apply:
            return self._failure_response(failure)
        result = self._route(method, path, query, headers, body)
        return self._failure_response(failure) if failure is not None else result

    def _authorized(self, header: str) -> bool:
        if self.flavor == "cloud":
            expected = base64.b64encode(f"{self.email}:{self.token}".encode()).decode()
            return header == f"Basic {expected}"
        return header == f"Bearer {self.token}"

    def _take_failure(self, method: str, path: str) -> _Failure | None:
        for failure in self._failures:
            if (failure.method in (None, method)) and (failure.path is None or failure.path in path):
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    @staticmethod
    def _failure_response(failure: _Failure) -> tuple[int, dict[str, str], Any]:
        headers = {"Retry-After": failure.retry_after} if failure.retry_after is not None else {}
        return failure.status, headers, failure.body

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        version = path.split("/")[3] if path.startswith("/rest/api/") and path.count("/") >= 3 else ""
        if version == "3" and self.flavor == "datacenter":
            return 404, {}, _errors("null for uri: " + path)
        if path == "/rest/api/2/serverInfo" and method == "GET":
            return 200, {}, self._server_info()
        if re.fullmatch(r"/rest/api/(2|3|latest)/search", path):
            if self.flavor == "cloud":
                return 410, {}, _errors(RETIRED_SEARCH)
            return self._search(method, body, paged_by_token=False)
        if re.fullmatch(r"/rest/api/(2|3|latest)/search/jql", path) and self.flavor == "cloud":
            return self._search(method, body, paged_by_token=True)
        if re.fullmatch(r"/rest/api/(2|3|latest)/issue", path) and method == "POST":
            return self._create(version, body)
        match = _ISSUE_PATH.match(path)
        if match is None:
            return 404, {}, _errors(f"no route for {method} {path}")
        issue = self.issues.get(match["key"])
        if issue is None:
            return 404, {}, _errors("Issue does not exist or you do not have permission to see it.")
        rest = match["rest"] or ""
        if rest == "" and method == "GET":
            return 200, {}, self._issue_json(issue)
        if rest == "/comment" and method == "POST":
            return self._comment(issue, version, body)
        if rest == "/attachments" and method == "POST":
            return self._attach(issue, headers, body)
        return 404, {}, _errors(f"no route for {method} {path}")

    def _server_info(self) -> dict[str, Any]:
        cloud = self.flavor == "cloud"
        return {
            "baseUrl": self.url,
            "version": "1001.0.0-SNAPSHOT" if cloud else "9.12.15",
            "deploymentType": "Cloud" if cloud else "DataCenter",
            "serverTitle": "Jira",
        }

    def _search(self, method: str, body: bytes, *, paged_by_token: bool) -> tuple[int, dict[str, str], Any]:
        if method != "POST":
            return 405, {}, _errors("this fake only answers POST searches")
        request = json.loads(body or b"{}")
        try:
            matches = self._match_jql(str(request.get("jql", "")))
        except ValueError as exc:
            return 400, {}, _errors(f"Error in the JQL Query: {exc}")
        page = [self._issue_json(i) for i in matches[: int(request.get("maxResults", 50))]]
        if paged_by_token:
            return 200, {}, {"issues": page, "isLast": True}
        return 200, {}, {"startAt": 0, "maxResults": len(page), "total": len(matches), "issues": page}

    def _match_jql(self, jql: str) -> list[FakeIssue]:
        where, _, order = jql.partition(" ORDER BY ")
        clauses = [_CLAUSE.match(part) for part in re.split(r"\s+AND\s+", where.strip()) if part]
        if not clauses or any(c is None for c in clauses):
            raise ValueError(f"this fake understands 'field = value AND ...' only, not {jql!r}")
        found = []
        for issue in self.issues.values():
            if issue.hidden_for_searches > 0:
                issue.hidden_for_searches -= 1
                continue
            if all(_clause_holds(issue, c) for c in clauses if c is not None):
                found.append(issue)
        return list(reversed(found)) if "DESC" in order.upper() else found

    def _create(self, version: str, body: bytes) -> tuple[int, dict[str, str], Any]:
        fields = dict(json.loads(body).get("fields") or {})
        errors: dict[str, str] = {}
        project = (fields.get("project") or {}).get("key")
        if project not in self.projects:
            errors["project"] = "valid project is required"
        if (fields.get("issuetype") or {}).get("name") not in self.issue_types:
            errors["issuetype"] = "Specify a valid issue type"
        if not fields.get("summary"):
            errors["summary"] = "You must specify a summary of the issue."
        if any(" " in str(label) for label in fields.get("labels") or []):
            errors["labels"] = "The label must not contain spaces."
        if not _body_fits(version, fields.get("description")):
            errors["description"] = (
                "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
            )
        elif _too_long(fields.get("description")):
            errors["description"] = TOO_LONG
        unknown = self._unknown_components(fields.get("components") or [])
        if unknown:
            errors["components"] = f"Component name '{unknown[0]}' is not valid"
        for field_id, name in self.required_fields.items():
            if fields.get(field_id) in (None, "", [], {}):
                errors[field_id] = f"{name} is required."
        if errors:
            return 400, {}, {"errorMessages": [], "errors": errors}
        number = next(self._ids)
        key = f"{project}-{number - 10000}"
        self.issues[key] = FakeIssue(str(number), key, fields, hidden_for_searches=self.search_lag)
        return (
            201,
            {},
            {"id": str(number), "key": key, "self": f"{self.url}/rest/api/{version}/issue/{number}"},
        )

    def _comment(self, issue: FakeIssue, version: str, body: bytes) -> tuple[int, dict[str, str], Any]:
        comment = json.loads(body).get("body")
        if not _body_fits(version, comment):
            expected = "an Atlassian Document" if version == "3" else "a string"
            return 400, {}, {"errorMessages": [], "errors": {"comment": f"Comment body must be {expected}"}}
        if _too_long(comment):
            return 400, {}, {"errorMessages": [], "errors": {"comment": TOO_LONG}}
        issue.comments.append(comment)
        return 201, {}, {"id": str(len(issue.comments)), "body": comment}

    def _attach(
        self, issue: FakeIssue, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        if headers.get("x-atlassian-token", "").lower() != "no-check":
            return 403, {}, _errors("XSRF check failed")
        files = _multipart_files(headers.get("content-type", ""), body)
        if "file" not in files:
            return (
                400,
                {},
                _errors("No attachment found in the request: the multipart field must be named 'file'"),
            )
        filename, content = files["file"]
        issue.attachments.append(Attachment(filename, content))
        return 200, {}, [{"id": str(len(issue.attachments)), "filename": filename, "size": len(content)}]

    def _unknown_components(self, components: list[Any]) -> list[str]:
        if self.components is None:
            return []
        names = [str(c.get("name", "")) if isinstance(c, dict) else str(c) for c in components]
        return [name for name in names if name not in self.components]

    def _issue_json(self, issue: FakeIssue) -> dict[str, Any]:
        category = {"key": "done", "name": "Done"} if issue.done else {"key": "new", "name": "To Do"}
        fields = {
            **issue.fields,
            "status": {"name": "Done" if issue.done else "Open", "statusCategory": category},
            "attachment": [{"filename": a.filename, "size": len(a.content)} for a in issue.attachments],
        }
        return {"id": issue.id, "key": issue.key, "fields": fields}


def _errors(message: str) -> dict[str, Any]:
    return {"errorMessages": [message], "errors": {}}


def _body_fits(version: str, body: Any) -> bool:
    # REST v3 takes ADF documents only; v2 takes wiki strings only; absent is fine for a description.
    if body is None:
        return True
    if version == "3":
        return isinstance(body, dict) and body.get("type") == "doc" and body.get("version") == 1
    return isinstance(body, str)


def _too_long(body: Any) -> bool:
    if body is None:
        return False
    return (
        len(body if isinstance(body, str) else json.dumps(body, ensure_ascii=False, separators=(",", ":")))
        > TEXT_LIMIT
    )


def _clause_holds(issue: FakeIssue, clause: re.Match[str]) -> bool:
    value = clause["value"]
    if value.startswith('"'):
        value = re.sub(r"\\(.)", r"\1", value[1:-1])
    name, negate = clause["field"].lower(), clause["op"] == "!="
    if name == "project":
        holds = issue.key.split("-")[0] == value
    elif name == "labels":
        holds = value in issue.labels
    elif name == "statuscategory":
        holds = (value.lower() == "done") == issue.done
    elif name == "key":
        holds = issue.key == value
    else:
        raise ValueError(f"field {clause['field']!r} is not supported by this fake")
    return holds != negate


def _multipart_files(content_type: str, body: bytes) -> dict[str, tuple[str, bytes]]:
    if not content_type.startswith("multipart/form-data"):
        return {}
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    files: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            files[name] = (part.get_filename() or "", payload)
    return files


def _handler_for(jira: FakeJira) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, extra, payload = jira._handle(self.command, url.path, parse_qs(url.query), headers, body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests read `FakeJira.requests`, not stderr."""

    return Handler
