from __future__ import annotations

import urllib.request

import pytest

from pressrun.site import ORIGIN, CampaignSite


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "campaign"
    (root / "assets").mkdir(parents=True)
    (root / "assets" / "logo.svg").write_text("<svg/>")
    (root / ".env").write_text("SECRET=1")
    (root / "out").mkdir()
    (root / "out" / "x.png").write_text("rendered")
    (tmp_path / "outside.txt").write_text("secret")
    (root / "assets" / "link").symlink_to(tmp_path / "outside.txt")
    site = CampaignSite(root, exclude=root / "out").start()
    yield site
    site.stop()


def test_resolve_serves_only_campaign_files(site):
    assert site.resolve("/assets/logo.svg").name == "logo.svg"
    assert site.resolve("/assets/%6cogo.svg").name == "logo.svg"
    for path in ("/../outside.txt", "/assets/%2e%2e/%2e%2e/outside.txt", "/.env", "/out/x.png", "/assets/link", "/"):
        assert site.resolve(path) is None, path


def fetch(site, url):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": site.proxy}))
    try:
        with opener.open(url, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_proxy_serves_the_origin_and_refuses_everything_else(site):
    status, headers, body = fetch(site, f"{ORIGIN}/assets/logo.svg")
    assert (status, headers["Content-Type"], body) == (200, "image/svg+xml", b"<svg/>")
    assert fetch(site, f"{ORIGIN}/.env")[0] == 404
    status, headers, _ = fetch(site, "http://example.com/")
    assert status == 403 and headers["X-Pressrun-Blocked"] == "1"
