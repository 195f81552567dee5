"""Realistic camera frames of real badges, made on demand (never stored): each badge is rendered by the
product itself (badge.pdf's A6 badge and the name-card sheet, rasterised with pdfium), then placed on a
cluttered background as a phone at the door sees it: one or two per frame, at several sizes, angles, blurs,
contrasts and positions, with a little sensor noise. Seeded, so every run makes the same frames.

`python -m tests.support.frames DIR` writes them as PNGs (and an index) to look at."""

from __future__ import annotations

import itertools
import json
import math
import random
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pypdfium2 as pdfium
import zxingcpp
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

from app.badges.builders import LAYOUTS, SINGLE_H, SINGLE_W, Badge, badge_pdf, badge_sheets_pdf
from app.core.badge_codes import CODE_ALPHABET, CODE_LENGTH, CODE_PREFIX, code_check_character

WIDTH, HEIGHT = 1280, 720  # a phone camera's 720p stream
RENDER_DPI = 220  # the badge as printed, sharper than any frame it is shrunk into
MM = RENDER_DPI / 25.4  # pixels per millimetre of the render

SIZES = (0.25, 0.35, 0.45, 0.6)  # the badge's height as a share of the frame's height
ANGLES = (0, 8, -15, 25, -40)
BLURS = (0.0, 0.6, 1.2, 2.0)  # Gaussian radius, frame pixels
CONTRASTS = (1.0, 0.7, 0.45)  # 1 = as printed; lower is a dim hall or a glare-washed badge
NAMES = ("Łukasz Wróblewski", "Siân Llewellyn", "Zoë Adeyemi", "Nguyễn Thị Minh Khai", "Ada Lovelace", "Bo Li")


@dataclass
class Frame:
    name: str
    codes: list[str]  # every code in view
    centre_code: str  # the one nearest the frame's centre: what the door should check in
    kind: str  # "a6", "card", "sheet-pair" (two cards side by side on a sheet), "two-people"
    size: float
    angle: float
    blur: float
    contrast: float
    image: Image.Image = field(repr=False, compare=False)

    def describe(self) -> dict:
        info = asdict(self)
        info.pop("image")
        return info


def _rasterise(pdf: bytes) -> Image.Image:
    return pdfium.PdfDocument(pdf)[0].render(scale=RENDER_DPI / 72).to_pil().convert("RGB")


def _crop_mm(page: Image.Image, left: float, top: float, width: float, height: float) -> Image.Image:
    return page.crop((round(left * MM), round(top * MM), round((left + width) * MM), round((top + height) * MM)))


@dataclass(frozen=True)
class Printed:
    """A badge (or a piece of a sheet) as printed, and where each code's centre is on it, in its pixels."""

    image: Image.Image
    codes: dict[str, tuple[float, float]]


def _printed(image: Image.Image, expected: list[str]) -> Printed:
    found = {}
    for result in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode):
        corners = (result.position.top_left, result.position.bottom_right)
        found[result.text] = (sum(p.x for p in corners) / 2, sum(p.y for p in corners) / 2)
    assert sorted(found) == sorted(expected), "a freshly rendered badge must read"
    return Printed(image, found)


def rendered_badges(people: list[Badge]) -> dict[str, list[Printed]]:
    """The product's own badges as images: {"a6": […], "card": […], "sheet-pair": [two cards side by side]}."""
    a6 = []
    for person in people:
        page = _rasterise(badge_pdf(person))
        a6.append(_printed(_crop_mm(page, (210 - SINGLE_W) / 2, 25, SINGLE_W, SINGLE_H), [person.code]))
    layout = LAYOUTS["cards-2x4"]
    cards, pairs = [], []
    sheet = people[: layout.per_page]
    page = _rasterise(badge_sheets_pdf(sheet, layout.key))
    left, top = (210 - layout.card_w * layout.columns) / 2, (297 - layout.card_h * layout.rows) / 2
    for index, person in enumerate(sheet):
        column, row = index % layout.columns, index // layout.columns
        x, y = left + column * layout.card_w, top + row * layout.card_h
        cards.append(_printed(_crop_mm(page, x, y, layout.card_w, layout.card_h), [person.code]))
        if column == 0 and index + 1 < len(sheet):
            pair = _crop_mm(page, x - 3, y - 3, 2 * layout.card_w + 6, layout.card_h + 6)  # the sheet around them
            pairs.append(_printed(pair, [person.code, sheet[index + 1].code]))
    return {"a6": a6, "card": cards, "sheet-pair": pairs}


def _background(rng: random.Random) -> Image.Image:
    """A hall behind the badge: a wash of colour and blurred shapes (coats, lanyards, a doorway)."""
    small = (WIDTH // 8, HEIGHT // 8)  # drawn small and enlarged: out of focus behind the badge, and quick
    base = tuple(rng.randint(60, 190) for _ in range(3))
    image = Image.new("RGB", small, base)
    draw = ImageDraw.Draw(image)
    for _ in range(14):
        x, y = rng.randint(-25, small[0]), rng.randint(-25, small[1])
        w, h = rng.randint(10, 65), rng.randint(10, 65)
        draw.rectangle((x, y, x + w, y + h), fill=tuple(rng.randint(20, 235) for _ in range(3)))
    return image.filter(ImageFilter.GaussianBlur(1.2)).resize((WIDTH, HEIGHT), Image.BILINEAR)


def _place(
    frame: Image.Image,
    printed: Printed,
    height: float,
    angle: float,
    centre: tuple[float, float],
    shrunk_before: dict[tuple[int, tuple[int, int]], Image.Image],
):
    """The badge scaled to `height` pixels tall, turned by `angle` (anticlockwise), pasted with its centre at
    `centre`. Returns where each of its codes' centres landed in the frame. `shrunk_before` keeps each badge at each
    size once made (the same badge at the same size comes up again and again; a shrink is most of a frame's time)."""
    badge = printed.image
    scale = height / badge.height
    size = (max(1, round(badge.width * scale)), max(1, round(badge.height * scale)))
    key = (id(printed), size)  # the badges live as long as the frames being made, so their ids stay theirs
    if key not in shrunk_before:
        shrunk_before[key] = badge.resize(size, Image.LANCZOS).convert("RGBA")
    turned = shrunk_before[key].rotate(angle, resample=Image.BICUBIC, expand=True)
    frame.paste(turned, (round(centre[0] - turned.width / 2), round(centre[1] - turned.height / 2)), turned)
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    landed = {}
    for code, (x, y) in printed.codes.items():
        dx, dy = (x - badge.width / 2) * scale, (y - badge.height / 2) * scale
        landed[code] = (centre[0] + dx * cos + dy * sin, centre[1] - dx * sin + dy * cos)
    return landed


def _nearest_centre(landed: dict[str, tuple[float, float]]) -> str:
    return min(landed, key=lambda code: (landed[code][0] - WIDTH / 2) ** 2 + (landed[code][1] - HEIGHT / 2) ** 2)


def _finish(image: Image.Image, blur: float, contrast: float, rng: random.Random) -> Image.Image:
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    if contrast != 1.0:
        image = ImageEnhance.Contrast(image).enhance(contrast)
        image = ImageEnhance.Brightness(image).enhance(0.55 + 0.45 * contrast)
    return Image.blend(image, _noise(rng.choice((6, 10, 14))), 0.06)


_NOISE: dict[int, Image.Image] = {}


def _noise(sigma: int) -> Image.Image:
    """Sensor noise for a whole frame: one tile, repeated (made once per strength)."""
    if sigma not in _NOISE:
        rng = random.Random(sigma)  # seeded, unlike PIL's effect_noise: the same frames in every process
        values = bytes(min(255, max(0, round(rng.gauss(128, sigma)))) for _ in range(320 * 240))
        tile = Image.frombytes("L", (320, 240), values).convert("RGB")
        whole = Image.new("RGB", (WIDTH, HEIGHT))
        for x in range(0, WIDTH, tile.width):
            for y in range(0, HEIGHT, tile.height):
                whole.paste(tile, (x, y))
        _NOISE[sigma] = whole
    return _NOISE[sigma]


def _position(rng: random.Random, w: float, h: float, off_centre: bool) -> tuple[float, float]:
    if not off_centre:
        return WIDTH / 2 + rng.uniform(-40, 40), HEIGHT / 2 + rng.uniform(-30, 30)
    # Off-centre, but the badge whole in the picture.
    return rng.uniform(w / 2, WIDTH - w / 2), rng.uniform(min(h / 2, HEIGHT / 2), max(HEIGHT - h / 2, HEIGHT / 2))


def _code(rng: random.Random) -> str:
    """A badge code as the product makes them, from the seeded generator (so the QR patterns repeat too)."""
    body = "".join(rng.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{CODE_PREFIX}-{body}{code_check_character(body)}"


def frame_stream(seed: int = 11) -> Iterator[Frame]:
    """The frames one at a time, as many as are asked for: three in four hold one badge, the rest two (a sheet held
    up, or two people at once). Each frame is the same whichever number are taken (the first ten of 120 are the
    ten frames), so a test needing a few makes only those."""
    rng = random.Random(seed)
    people = [
        Badge(name=NAMES[i % len(NAMES)], organisation="Suffolk County Council", code=_code(rng), role=role)
        for i, role in enumerate(["delegate", "leader", "speaker", "organiser"] * 2)
    ]
    badges = rendered_badges(people)
    shrunk: dict[tuple[int, tuple[int, int]], Image.Image] = {}
    for index in itertools.count():
        kind = ("a6", "card", "a6", "sheet-pair", "card", "two-people", "a6", "card")[index % 8]
        size, angle = rng.choice(SIZES), rng.choice(ANGLES)
        blur, contrast = rng.choice(BLURS), rng.choice(CONTRASTS)
        frame = _background(rng)
        if kind == "two-people":
            first, second = rng.sample(badges["a6"], 2)
            height = size * HEIGHT * 0.9
            width = height * first.image.width / first.image.height
            gap = rng.uniform(0.6, 1.0) * width
            near = (WIDTH / 2 - gap * 0.35 + rng.uniform(-20, 20), HEIGHT / 2 + rng.uniform(-30, 30))
            far = (min(WIDTH - width / 2, near[0] + width + gap * 0.5), HEIGHT / 2 + rng.uniform(-60, 60))
            landed = _place(frame, first, height, angle, near, shrunk) | _place(
                frame, second, height * 0.92, -angle / 2, far, shrunk
            )
        else:
            printed = rng.choice(badges[kind])
            height = size * HEIGHT
            width = height * printed.image.width / printed.image.height
            if width > WIDTH * 0.9:  # a wide sheet pair: as big as fits the frame's width
                height, width = height * WIDTH * 0.9 / width, WIDTH * 0.9
            centre = _position(rng, width * 1.1, height * 1.1, off_centre=index % 3 == 2)
            landed = _place(frame, printed, height, angle, centre, shrunk)
        image = _finish(frame, blur, contrast, rng)
        name = f"frame-{index:03d}"
        yield Frame(name, sorted(landed), _nearest_centre(landed), kind, size, angle, blur, contrast, image)


def make_frames(count: int = 120, seed: int = 11) -> list[Frame]:
    """The first `count` frames (see frame_stream())."""
    return list(itertools.islice(frame_stream(seed), count))


def write_y4m(path: Path, images: list[Image.Image], repeat: int = 1, fps: int = 10) -> None:
    """A video for Chromium's fake camera (--use-file-for-fake-video-capture), which plays it in a loop:
    YUV4MPEG2 4:2:0, each image `repeat` frames in turn."""
    width, height = images[0].size
    half = (width // 2, height // 2)
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for image in images:
            y, cb, cr = image.convert("RGB").convert("YCbCr").split()
            planes = y.tobytes() + cb.resize(half, Image.BOX).tobytes() + cr.resize(half, Image.BOX).tobytes()
            for _ in range(repeat):
                out.write(b"FRAME\n" + planes)


def main(folder: str) -> None:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    frames = make_frames()
    for frame in frames:
        frame.image.save(out / f"{frame.name}.png")
    (out / "index.json").write_text(json.dumps([f.describe() for f in frames], indent=1, ensure_ascii=False))
    print(f"{len(frames)} frames in {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/frames")
