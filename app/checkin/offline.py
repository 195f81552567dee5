"""What the scanner needs to start with no network: the files its service worker (/checkin-sw.js) keeps.

The scanner's own modules are every file in app/static/js/scanner/, found by looking in the folder, so a new
module is kept without being listed anywhere; any other file the page loads (a stylesheet, the decoder's
WebAssembly) is added here and nowhere else. Each entry is the URL the page asks for and the file on disk
behind it; the worker's version is a hash of their contents, so a phone fetches them all again whenever one changes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from flask import current_app, url_for

# The scanner's ES modules (main.js and every module it imports, the camera's decoder.js included), under static/:
# every file in the folder is kept (hidden ones, such as an editor's swap files, aside).
SCANNER_MODULES = "js/scanner"

# The camera's decoder where the browser has no BarcodeDetector: served at /checkin/vendor/<name> from
# node_modules (name -> path under node_modules, content type).
DECODER_FILES = {
    "barcode-detector/ponyfill.js": ("barcode-detector/dist/es/ponyfill.js", "text/javascript"),
    "barcode-detector/zxing-exported.js": ("barcode-detector/dist/es/zxing-exported.js", "text/javascript"),
    "zxing-wasm/zxing_reader.wasm": ("zxing-wasm/dist/reader/zxing_reader.wasm", "application/wasm"),
}

# The page itself is cached too, but it is not a file: the worker fetches it while the steward is signed in.
_hashes: dict[tuple[str, int, int], str] = {}


def offline_files() -> list[tuple[str, Path]]:
    """(URL, file) for every static file the scanner page loads: its modules' folder, and the others named here."""
    static = Path(current_app.static_folder or "static")

    def own(name: str) -> tuple[str, Path]:
        return url_for("static", filename=name), static / name

    modules = Path(current_app.root_path).parent / "node_modules"
    scanner = sorted(p.name for p in (static / SCANNER_MODULES).iterdir() if p.is_file() and not p.name.startswith("."))
    return [
        own("css/app.css"),
        own("css/scanner.css"),
        *[own(f"{SCANNER_MODULES}/{name}") for name in scanner],
        # The camera's decoder, loaded by the page when the browser has no BarcodeDetector of its own.
        *[
            (url_for("checkin.decoder_file", filename=name), modules / path)
            for name, (path, _) in DECODER_FILES.items()
        ],
        # Sounds are made by the page (Web Audio), icons are inline SVG: no files for either.
    ]


def _digest(path: Path) -> str:
    try:
        stat = path.stat()
    except OSError:
        return "missing"
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _hashes:
        _hashes[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return _hashes[key]


def worker_settings() -> dict:
    """What the service worker is told: the page it keeps, the files, and a version that changes with them."""
    files = offline_files()
    version = hashlib.sha256("".join(f"{url}:{_digest(path)};" for url, path in files).encode()).hexdigest()[:16]
    return {"version": version, "page": url_for("checkin.scanner"), "files": [url for url, _ in files]}


def worker_script() -> str:
    """The service worker: its settings on the first line, then app/static/js/scanner-sw.js."""
    source = (Path(current_app.static_folder or "static") / "js" / "scanner-sw.js").read_text(encoding="utf-8")
    return f"self.SCANNER_OFFLINE = {json.dumps(worker_settings())};\n{source}"
