"""The scanner page's decoder on realistic frames (tests/support/frames.py: the product's own badges, one or two per
frame, at several sizes, angles, blurs, contrasts and positions), against zxing-cpp in Python on the same
frames; and the camera path end to end: two badges in view, and the hints when nothing reads.

The frame-set figures are printed (`pytest -s`) and written to E2E_SHOTS_DIR/decoder-frames.json."""

from __future__ import annotations

import itertools
import json
import re
import statistics
import time
from collections.abc import Iterator

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from tests.support import frames as frame_set
from tests.support.browser import CHROMIUM_ARGS, SHOTS, browser_or_skip
from tests.support.scanner import ServedFiles, open_scanner

FRAME_COUNT = 120


def zxing_texts(image) -> set[str]:
    return {result.text for result in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)}


_made: list[frame_set.Frame] = []  # the frames this process has made, in order (each is the same in every process)
_making = frame_set.frame_stream()


def made_in_order(limit: int) -> Iterator[frame_set.Frame]:
    """The first `limit` frames of the set, one at a time: those this process has made already, then new ones,
    only as far as the caller reads (in a run of several processes these tests may land in different ones, and the
    others need only the first few)."""
    for index in range(limit):
        if index == len(_made):
            _made.append(next(_making))
        yield _made[index]


def frames_made(count: int) -> list[frame_set.Frame]:
    return list(made_in_order(count))


@pytest.fixture(scope="module")
def frames():
    return frames_made(FRAME_COUNT)


def first_a6_frames(count: int) -> list[frame_set.Frame]:
    """The first A6 badges of the set (among its first 40 frames)."""
    return list(itertools.islice((f for f in made_in_order(40) if f.kind == "a6"), count))


def _filming(browser, video) -> object:
    args = CHROMIUM_ARGS + [
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    return browser.browser_type.launch(executable_path=browser_or_skip(), headless=True, args=args)


@pytest.fixture(scope="module")
def camera(browser, tmp_path_factory):
    """Chromium whose camera films two people's badges at once; the code nearest the centre is Ada's."""
    two = next(
        f
        for f in made_in_order(40)  # the first such frame of the first 40 (five with two people in view)
        if f.kind == "two-people" and f.blur <= 1.2 and f.contrast >= 0.7 and zxing_texts(f.image) == set(f.codes)
    )
    video = tmp_path_factory.mktemp("two") / "two.y4m"
    frame_set.write_y4m(video, [two.image], repeat=10)
    filming = _filming(browser, video)
    yield filming, two.centre_code
    filming.close()


READ_FRAMES = """
async ({ names, prefix, width, height }) => {
  const { createDecoder, nearestCentre } = await import("/static/js/scanner/decoder.js");
  const box = document.getElementById("video-box");
  const decoder = await createDecoder({ ponyfillUrl: box.dataset.ponyfillUrl, wasmUrl: box.dataset.wasmUrl });
  const results = [];
  for (const name of names) {
    const pixels = new Uint8ClampedArray(await (await fetch(`${prefix}${name}`)).arrayBuffer());
    const bitmap = await createImageBitmap(new ImageData(pixels, width, height));
    const started = performance.now();
    const codes = await decoder.readAll(bitmap);
    const ms = performance.now() - started;
    const picked = nearestCentre(codes, bitmap.width, bitmap.height);
    results.push({ name, texts: codes.map((c) => c.text), picked: picked ? picked.text : null, ms });
  }
  return { engine: decoder.engine, results };
}
"""


def test_the_page_decoder_reads_at_least_as_many_frames_as_zxing_cpp(frames, camera, door):
    page = open_scanner(camera, door)
    # Each frame's pixels as they are (RGBA), from the door's own origin: the page makes the same bitmap of them
    # that it would of a lossless image file, without the cost of encoding one.
    for frame in frames:
        door.files[frame.name] = lambda image=frame.image: image.convert("RGBA").tobytes()
    size = {"width": frame_set.WIDTH, "height": frame_set.HEIGHT}
    assert all(frame.image.size == (size["width"], size["height"]) for frame in frames)
    run = page.evaluate(READ_FRAMES, {"names": [f.name for f in frames], "prefix": ServedFiles.PREFIX, **size})
    by_name = {r["name"]: r for r in run["results"]}

    page_read = zxing_read = both_page = both_zxing = 0
    page_ms, zxing_ms, missed = [], [], []
    zxing_by_name: dict[str, set[str]] = {}
    for frame in frames:
        result = by_name[frame.name]
        started = time.perf_counter()
        python_texts = zxing_by_name[frame.name] = zxing_texts(frame.image)
        elapsed = (time.perf_counter() - started) * 1000
        # The page counts only when it would check in the right person: the code nearest the centre.
        if result["picked"] == frame.centre_code:
            page_read += 1
            page_ms.append(result["ms"])
        elif frame.centre_code in python_texts:
            missed.append(frame.describe())
        if frame.centre_code in python_texts:
            zxing_read += 1
            zxing_ms.append(elapsed)
        if len(frame.codes) == 2:
            both_page += set(result["texts"]) == set(frame.codes)
            both_zxing += python_texts == set(frame.codes)
        assert set(result["texts"]) <= set(frame.codes)  # nothing misread
    two = sum(len(f.codes) == 2 for f in frames)
    figures = {
        "frames": len(frames),
        "engine": run["engine"],
        "page_read": page_read,
        "zxing_cpp_read": zxing_read,
        "two_code_frames": two,
        "page_read_both": both_page,
        "zxing_cpp_read_both": both_zxing,
        "page_median_ms": round(statistics.median(page_ms), 1) if page_ms else None,
        "zxing_cpp_median_ms": round(statistics.median(zxing_ms), 1) if zxing_ms else None,
        "by_size": {
            str(size): {
                "frames": sum(f.size == size for f in frames),
                "page": sum(f.size == size and by_name[f.name]["picked"] == f.centre_code for f in frames),
                "zxing_cpp": sum(f.size == size and f.centre_code in zxing_by_name[f.name] for f in frames),
            }
            for size in frame_set.SIZES
        },
        "page_missed_zxing_read": missed,
    }
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "decoder-frames.json").write_text(json.dumps(figures, indent=1, ensure_ascii=False))
    print(json.dumps({k: v for k, v in figures.items() if k != "page_missed_zxing_read"}))
    assert run["engine"] in {"native", "zxing-wasm"}
    assert page_read >= zxing_read, figures
    assert both_page >= both_zxing, figures
    page.context.close()


def test_two_badges_in_view_check_in_the_one_nearest_the_centre(camera, door):
    page = open_scanner(camera, door, permissions=["camera"])
    page.get_by_role("button", name="Start camera").click()
    # From the first frame playing (both badges already in view) to the answer on screen.
    while not page.evaluate("() => document.getElementById('video').readyState >= 2"):
        time.sleep(0.005)
    in_view = time.perf_counter()
    result = page.locator("#result")
    expect(result).to_have_class(re.compile(r"\bresult--ok\b"))
    answered_ms = (time.perf_counter() - in_view) * 1000
    expect(result).to_contain_text("Ada Lovelace")
    print(f"two badges in view: answered {answered_ms:.0f} ms after the first frame played")
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "decoder-camera.json").write_text(json.dumps({"two_badges_in_view_to_answer_ms": round(answered_ms)}))
    expect(page.locator("#scanner")).to_have_attribute("data-codes-in-view", "2")
    assert door.log() == ["ok"]  # the other badge in view was not scanned as well
    assert door.attendances() == 1
    page.context.close()


@pytest.mark.parametrize(
    ("moving", "hint"), [pytest.param(False, "Move a little closer", id="still"), (True, "Hold steady")]
)
def test_after_two_seconds_without_a_read_the_steward_gets_a_hint(browser, door, tmp_path, moving, hint):
    # A badge too far away to read (the frame shrunk tenfold). Moving: the picture jumps every frame.
    far = first_a6_frames(2)
    images = []
    for frame, grey in zip(far, (90, 170)):
        small = frame.image.resize((frame.image.width // 10, frame.image.height // 10))
        canvas = Image.new("RGB", frame.image.size, (grey, grey, grey))
        canvas.paste(small, ((canvas.width - small.width) // 2, (canvas.height - small.height) // 2))
        images.append(canvas)
    video = tmp_path / "hint.y4m"
    frame_set.write_y4m(video, images if moving else images[:1], repeat=1 if moving else 10)
    filming = _filming(browser, video)
    try:
        page = open_scanner((filming, None), door, permissions=["camera"])
        page.get_by_role("button", name="Start camera").click()
        camera_hint = page.locator("#camera-hint")
        expect(camera_hint).to_be_hidden()
        expect(camera_hint).to_have_text(hint, timeout=15_000)
        expect(camera_hint).to_be_visible()
        assert door.log() == []
        page.screenshot(path=str(SHOTS / f"scanner-hint-{'moving' if moving else 'still'}.png"))
    finally:
        filming.close()
