"""Paint the heavy benchmark template's images with Pillow alone: photo.jpg and grain.png.

No public-domain or CC0 photograph was on the machine, so the benchmark ships a procedural one
instead (own work, CC0): a mountain lake at dusk. It is photo-like where it matters for
rendering cost: every pixel differs (clouds, rock texture, ripples, film grain), so it neither
compresses like a flat image nor decodes or scales like one. grain.png is a small tile of
noise the template lays over the whole canvas as film grain.

    python scripts/make-bench-assets.py src/pressrun/bench/heavy/assets
"""

from __future__ import annotations

import itertools
import random
import sys
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageOps

WIDTH, HEIGHT = 1600, 1200
HORIZON = 790  # the waterline
SEED = 2026


def _noise(size: tuple[int, int], cells: tuple[int, int], sigma: float, blur: float) -> Image.Image:
    """Smooth value noise: a coarse grid of gaussian noise blown up and blurred."""
    coarse = Image.effect_noise(cells, sigma)
    return coarse.resize(size, Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(blur))


def _sky() -> Image.Image:
    ramp = Image.linear_gradient("L").resize((WIDTH, HORIZON))
    sky = ImageOps.colorize(ramp, black="#141a46", mid="#b4557a", white="#ffb86e", midpoint=150)
    glow = ImageOps.invert(Image.radial_gradient("L")).resize((1500, 900))
    glow = glow.point(lambda v: int(255 * (v / 255) ** 2.2))
    warm = Image.new("RGB", glow.size, "#ffd59a")
    sky.paste(warm, (WIDTH // 2 - 150, HORIZON - 620), glow.point(lambda v: v * 3 // 4))
    clouds = _noise((WIDTH, HORIZON), (10, 26), 60, 6).point(lambda v: max(0, v - 132) * 3)
    clouds = clouds.filter(ImageFilter.GaussianBlur(3))
    fade = Image.linear_gradient("L").resize((WIDTH, HORIZON)).point(lambda v: 255 - v * 3 // 4)
    lit = Image.new("RGB", sky.size, "#ff9f80")
    sky.paste(lit, (0, 0), ImageChops.multiply(clouds, fade))
    return sky


def _ridge(rng: random.Random, base: int, rough: float, peaks: float) -> list[tuple[float, float]]:
    """A ridgeline by midpoint displacement, `base` px above the waterline on average."""
    heights = [base + rng.uniform(-peaks, peaks) for _ in range(7)]
    spread = peaks / 2
    while len(heights) < WIDTH // 4:
        spread *= rough
        refined = []
        for left, right in itertools.pairwise(heights):
            refined += [left, (left + right) / 2 + rng.uniform(-spread, spread)]
        heights = refined + [heights[-1]]
    step = WIDTH / (len(heights) - 1)
    return [(i * step, HORIZON - max(8.0, h)) for i, h in enumerate(heights)]


def _mountains(image: Image.Image, rng: random.Random) -> None:
    layers = [  # far to near: base height, roughness, peak swing, colour
        (330, 0.62, 170, "#a0728f"),
        (240, 0.6, 140, "#6c4d7c"),
        (150, 0.58, 100, "#3b2f5c"),
        (70, 0.55, 50, "#1b1834"),
    ]
    valley_fog = Image.linear_gradient("L").resize((WIDTH, HORIZON))
    for depth, (base, rough, peaks, color) in enumerate(layers):
        mask = Image.new("L", image.size, 0)
        outline = [*_ridge(rng, base, rough, peaks), (WIDTH, HORIZON), (0, HORIZON)]
        ImageDraw.Draw(mask).polygon(outline, fill=255)
        rock = _noise(image.size, (WIDTH // 3, HEIGHT // 5), 8 + 6 * depth, 1.0)
        fill = ImageChops.add(Image.new("RGB", image.size, color), rock.convert("RGB"), 1.0, -128)
        fog = Image.new("RGB", image.size, "#f0a890")
        fog_strength = valley_fog.point(lambda v, d=depth: max(0, v - 150) * (5 - d) // 6)
        fill.paste(fog, (0, 0), fog_strength.crop((0, 0) + image.size))
        image.paste(fill, (0, 0), mask.filter(ImageFilter.GaussianBlur(0.7)))


def _lake(image: Image.Image) -> None:
    depth = HEIGHT - HORIZON
    mirrored = ImageOps.flip(image.crop((0, HORIZON - depth, WIDTH, HORIZON)))
    water = mirrored.filter(ImageFilter.GaussianBlur(5))
    water = ImageChops.multiply(water, Image.new("RGB", water.size, "#9aa6c8"))
    ripples = _noise((WIDTH, depth), (12, depth // 4), 50, 0.8).point(lambda v: max(0, v - 165))
    water.paste(Image.new("RGB", water.size, "#f3b48f"), (0, 0), ripples)
    image.paste(water, (0, HORIZON))


def _finish(image: Image.Image) -> Image.Image:
    grain = Image.effect_noise(image.size, 14).convert("RGB")
    image = ImageChops.add(image, grain, 1.0, -128)
    vignette = (
        Image.radial_gradient("L").resize(image.size).point(lambda v: min(255, max(0, v - 110) * 2))
    )
    return Image.composite(
        Image.new("RGB", image.size, "#0b0a1a"), image, vignette.point(lambda v: v // 2)
    )


def grain() -> Image.Image:
    # a tile, not an SVG feTurbulence filter: Chromium's PDF backend rasterizes such a filter
    # over the whole page at print resolution (44 MB per story PDF), an image it embeds once
    return Image.effect_noise((256, 256), 48).filter(ImageFilter.GaussianBlur(0.35))


def paint() -> Image.Image:
    rng = random.Random(SEED)
    image = Image.new("RGB", (WIDTH, HEIGHT))
    image.paste(_sky(), (0, 0))
    _mountains(image, rng)
    _lake(image)
    return _finish(image)


if __name__ == "__main__":
    folder = Path(sys.argv[1])
    paint().save(folder / "photo.jpg", "JPEG", quality=86, progressive=True, optimize=True)
    grain().save(folder / "grain.png", optimize=True)
    for name in ("photo.jpg", "grain.png"):
        print(f"{folder / name}: {(folder / name).stat().st_size // 1024} KiB")
