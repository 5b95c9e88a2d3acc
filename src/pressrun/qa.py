"""Per-asset quality checks: fonts, images, overflowing text (in the page) and blank renders."""

from __future__ import annotations

import io

from PIL import Image

# Runs in the page once the content is written. Waits (capped) for fonts and images, then lists
# problems. Only elements holding text of their own are checked: text that spills out of its
# box (overflow: visible) or out of its parent's box is overflow, out of the canvas off-canvas.
# An element and its subtree opt out with data-qa="ignore".
PAGE_CHECKS = """
async ({fontTimeout}) => {
  const problems = [];
  const capped = (promise) => Promise.race([
    promise.then(() => true),
    new Promise((resolve) => setTimeout(() => resolve(false), fontTimeout)),
  ]);
  if (!(await capped(document.fonts.ready))) {
    problems.push(`font-timeout: fonts still loading after ${fontTimeout} ms`);
  }
  for (const face of document.fonts) {
    if (face.status === 'error') problems.push(`font-failed: ${face.family}`);
  }
  const images = [...document.images];
  await capped(Promise.all(images.map((img) => img.decode().catch(() => null))));
  for (const img of images) {
    if (!img.complete || img.naturalWidth === 0) {
      problems.push(`image-failed: ${img.getAttribute('src')}`);
    }
  }
  const describe = (el) => {
    let name = el.tagName.toLowerCase();
    if (el.id) name += '#' + el.id;
    else if (el.classList.length) name += '.' + [...el.classList].join('.');
    const text = el.innerText.trim().replace(/\\s+/g, ' ');
    return `${name} "${text.length > 40 ? text.slice(0, 39) + '…' : text}"`;
  };
  const ownText = (el) => [...el.childNodes].some((n) => n.nodeType === 3 && n.data.trim());
  const width = innerWidth, height = innerHeight;
  const outside = (box, frame) => box.right > frame.right + 1 || box.bottom > frame.bottom + 1
    || box.left < frame.left - 1 || box.top < frame.top - 1;
  const canvas = {left: 0, top: 0, right: width, bottom: height};
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('[data-qa="ignore"]') || !ownText(el)) continue;
    const style = getComputedStyle(el);
    if (['inline', 'none', 'contents'].includes(style.display)) continue;
    const box = el.getBoundingClientRect();
    const spills = style.overflowX === 'visible' && el.scrollWidth > el.clientWidth + 1
      || style.overflowY === 'visible' && el.scrollHeight > el.clientHeight + 1;
    const parent = el.parentElement;
    if (spills || (parent !== document.body && outside(box, parent.getBoundingClientRect()))) {
      problems.push(`overflow: ${describe(el)}`);
    } else if (outside(box, canvas)) {
      problems.push(`off-canvas: ${describe(el)}`);
    }
  }
  return problems;
}
"""


# A one-color image compresses to almost nothing (about 0.02 bytes a pixel even with the fastest
# PNG setting, less as JPEG or WebP): a file well above that cannot be blank and is not decoded.
_BLANK_MAX_BYTES_PER_PIXEL = 1 / 16


def is_blank(image_bytes: bytes, pixels: int | None = None) -> bool:
    """True when every pixel of the image (of `pixels` pixels, when known) has the same color."""
    if pixels and len(image_bytes) > pixels * _BLANK_MAX_BYTES_PER_PIXEL:
        return False
    with Image.open(io.BytesIO(image_bytes)) as image:
        extrema = image.getextrema()
    if isinstance(extrema[0], tuple):
        return all(low == high for low, high in extrema)
    return extrema[0] == extrema[1]
