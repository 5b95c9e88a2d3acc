"""Downscaled JPEG previews of image assets, made on first request and cached by content hash."""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image

from . import models
from .errors import NotFound

IMAGE_OUTPUTS = ("png", "jpg", "webp")


def thumbnail(cache_dir: Path, asset: models.Asset, width: int) -> Path:
    if asset.output not in IMAGE_OUTPUTS:
        raise NotFound(f"asset {asset.id} is a {asset.output}, not an image")
    target = cache_dir / f"{asset.sha256[:24]}-{width}.jpg"
    if target.exists():
        return target
    source = Path(asset.path)
    if not source.is_file():
        raise NotFound(f"the file of asset {asset.id} is gone")
    target.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(source) as image:
        image = image.convert("RGB")
        image.thumbnail((width, width * 4))
        partial = target.with_name(target.name + f".{os.getpid()}.partial")
        image.save(partial, "JPEG", quality=85, optimize=True, progressive=True)
    os.replace(partial, target)
    return target
