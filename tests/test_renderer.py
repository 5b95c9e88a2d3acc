"""Real renders in Chromium: pixels, page sizes, text, QA and the seal."""

from __future__ import annotations

import asyncio
import contextlib
import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from pressrun import BrowserError, PageJob, Renderer, RenderError
from pressrun.spec import RenderOptions


def render(root: Path, html: str, outputs=("png",), width=400, height=300, **options):
    async def go():
        async with Renderer(root, options=RenderOptions(**options), workers=1) as renderer:
            return await renderer.render(PageJob(html, width, height, tuple(outputs)))

    return asyncio.run(go())


def image(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


PAGE = """<!doctype html><html><head><style>
html,body{margin:0;width:100%;height:100%;background:#123456}
.block{position:absolute;left:200px;top:100px;width:100px;height:100px;background:#ff0000}
</style></head><body><div class="block"></div><p style="color:white;margin:0">Hello pressrun</p></body></html>"""


def test_png_jpg_webp_pdf_from_one_load(tmp_path):
    result = render(tmp_path, PAGE, outputs=("png", "jpg", "webp", "pdf"))
    png = image(result.files["png"])
    assert png.size == (400, 300)
    assert png.getpixel((20, 200)) == (0x12, 0x34, 0x56)
    assert png.getpixel((250, 150)) == (255, 0, 0)
    jpg = image(result.files["jpg"])
    assert jpg.size == (400, 300) and result.files["jpg"][:2] == b"\xff\xd8"
    assert all(abs(a - b) <= 6 for a, b in zip(jpg.getpixel((20, 200)), (0x12, 0x34, 0x56)))
    assert image(result.files["webp"]).size == (400, 300)
    pdf = PdfReader(io.BytesIO(result.files["pdf"]))
    assert len(pdf.pages) == 1
    box = pdf.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (300, 225)  # px * 0.75 = pt
    assert "Hello pressrun" in pdf.pages[0].extract_text()
    assert result.qa == []


def test_same_input_same_pixels(tmp_path):
    assert render(tmp_path, PAGE).files["png"] == render(tmp_path, PAGE).files["png"]


def test_campaign_files_are_served_and_fonts_awaited(tmp_path):
    fonts = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "brand.ttf").write_bytes(fonts.read_bytes())
    Image.new("RGB", (10, 10), (0, 255, 0)).save(tmp_path / "assets" / "dot.png")
    html = """<html><head><style>@font-face{font-family:Brand;src:url(assets/brand.ttf)}
    body{margin:0;font:40px Brand}</style></head><body>
    <img src="../assets/dot.png" style="position:absolute;left:0;top:0;width:50px;height:50px">
    <p id=t style="margin:100px 0 0">Brand text</p>
    </body></html>"""
    result = render(tmp_path, html)
    assert result.qa == []
    assert image(result.files["png"]).getpixel((25, 25)) == (0, 255, 0)


def test_qa_flags_overflow_missing_files_and_blank(tmp_path):
    html = """<html><body style="margin:0">
    <div style="width:120px;white-space:nowrap;font-size:30px">A name far too long for its box</div>
    <img src="assets/nope.png"></body></html>"""
    qa = render(tmp_path, html).qa
    assert any(p.startswith('overflow: div "A name far too long') for p in qa), qa
    assert any(p.startswith("image-failed: assets/nope.png") for p in qa), qa
    assert any(
        "missing: http://campaign.pressrun.invalid/assets/nope.png (404)" in p for p in qa
    ), qa
    blank = render(tmp_path, "<html><body style='background:#fff'></body></html>", outputs=("pdf",))
    assert blank.qa == ["blank: every pixel has the same color"]


def test_clipped_text_and_opt_out_are_not_flagged(tmp_path):
    html = """<html><body style="margin:0;font-size:30px">
    <div style="width:120px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis">Clipped on purpose, long</div>
    <div data-qa="ignore" style="width:120px;white-space:nowrap">Ignored on purpose, long</div></body></html>"""
    assert render(tmp_path, html).qa == []


def test_font_that_fails_is_flagged_not_waited_for_forever(tmp_path):
    (tmp_path / "bad.woff2").write_bytes(b"not a font")
    html = """<html><head><style>@font-face{font-family:Bad;src:url(bad.woff2)}</style></head>
    <body style="font-family:Bad">text</body></html>"""
    assert "font-failed: Bad" in render(tmp_path, html).qa


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):
        _Recorder.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"secret-from-server")

    def log_message(self, *args):
        pass


@pytest.fixture
def local_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Recorder.hits = []
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_sealed_render_reaches_no_server_and_no_file(tmp_path, local_server):
    (tmp_path.parent / "outside.txt").write_text("secret-outside-campaign")
    html = f"""<html><head><link rel=stylesheet href="http://{local_server}/style.css"></head><body>
    <img src="http://{local_server}/pixel.png"><img src="https://{local_server}/tls.png">
    <img src="file:///etc/hostname"><iframe src="file:///etc/passwd"></iframe>
    <p id=out>start</p>
    <script>
      const out = document.getElementById('out');
      const grab = (url) => fetch(url).then(r => r.text()).then(t => out.textContent += ' ' + t, e => out.textContent += ' denied');
      Promise.all([grab('http://{local_server}/fetch'), grab('file:///etc/passwd'), grab('/../outside.txt'),
                   grab('/%2e%2e/outside.txt')]).then(() => out.dataset.done = 1);
    </script></body></html>"""
    result = render(tmp_path, html, outputs=("png", "pdf"))
    text = PdfReader(io.BytesIO(result.files["pdf"])).pages[0].extract_text()
    assert _Recorder.hits == []
    assert "secret" not in text and "root:" not in text
    assert any(p.startswith(f"blocked: http://{local_server}/pixel.png") for p in result.qa), (
        result.qa
    )
    assert any("file:///etc" in p for p in result.qa), result.qa


def test_a_page_that_hangs_is_retried_then_reported(tmp_path):
    async def go():
        async with Renderer(
            tmp_path, options=RenderOptions(timeout_s=2), workers=1, retries=1
        ) as renderer:
            with pytest.raises(RenderError, match="Chromium failed 2 times"):
                await renderer.render(PageJob("<script>while(true){}</script>", 100, 100, ("png",)))
            return await renderer.render(PageJob(PAGE, 400, 300, ("png",)))  # the pool still works

    assert image(asyncio.run(go()).files["png"]).size == (400, 300)


def test_a_crashed_page_is_replaced_and_the_job_retried(tmp_path):
    async def go():
        async with Renderer(tmp_path, options=RenderOptions(), workers=1) as renderer:
            page = renderer._idle.get_nowait()  # fault injection: crash the pool's only page
            with contextlib.suppress(BrowserError):
                await page.session.send("Page.navigate", url="chrome://crash")
            for _ in range(50):
                if page.crashed:
                    break
                await asyncio.sleep(0.1)
            assert page.crashed
            renderer._idle.put_nowait(page)
            result = await renderer.render(PageJob(PAGE, 400, 300, ("png",)))
            assert renderer._idle.get_nowait() is not page
            return result

    assert image(asyncio.run(go()).files["png"]).getpixel((250, 150)) == (255, 0, 0)


def test_a_dead_browser_is_relaunched(tmp_path):
    async def go():
        async with Renderer(tmp_path, options=RenderOptions(), workers=1) as renderer:
            (browser,) = renderer._browsers
            browser.process.kill()  # fault injection: the whole browser dies
            await browser.process.wait()
            return await renderer.render(PageJob(PAGE, 400, 300, ("png",)))

    assert image(asyncio.run(go()).files["png"]).getpixel((250, 150)) == (255, 0, 0)


def test_fast_and_small_png_hold_the_same_pixels(tmp_path):
    gradient = PAGE.replace("background:#123456", "background:linear-gradient(#123456,#fedcba)")
    fast = render(tmp_path, gradient).files["png"]
    small = render(tmp_path, gradient, png_compression="small").files["png"]
    assert image(fast).tobytes() == image(small).tobytes()
    assert len(small) < len(fast)
