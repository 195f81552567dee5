"""Files handed to a browser to save: the Content-Disposition header is built by Werkzeug, never by hand."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

from flask import Response


def safe_filename(name: str) -> str:
    """The name without what no file name should hold: control and format characters (CR, LF, tabs, NUL…) and
    path separators. Quotes and semicolons may stay: the header quotes them."""
    kept = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in name)
    return " ".join(kept.replace("/", "-").replace("\\", "-").split()) or "download"


def disposition_parts(name: str) -> dict[str, str]:
    """`filename` (ASCII) and, for a name beyond ASCII, `filename*` (RFC 5987), as Werkzeug's send_file makes them."""
    name = safe_filename(name)
    try:
        name.encode("ascii")
    except UnicodeEncodeError:
        simple = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii") or "download"
        return {"filename": simple, "filename*": "UTF-8''" + quote(name, safe="!#$&+-.^_`|~")}
    return {"filename": name}


def name_download(response: Response, name: str, *, inline: bool = False) -> Response:
    """Set the response's Content-Disposition to save (or show, if `inline`) it as `name`: Werkzeug's
    dump_options_header quotes the name, so a quote or semicolon in it can't add a part of its own."""
    response.headers.set("Content-Disposition", "inline" if inline else "attachment", **disposition_parts(name))
    return response


def download(
    body: bytes | str, mimetype: str, name: str, *, inline: bool = False, headers: dict[str, str] | None = None
) -> Response:
    """A response holding a file to save as `name` (or to show, if `inline`), with any other headers given."""
    return name_download(Response(body, mimetype=mimetype, headers=headers), name, inline=inline)
