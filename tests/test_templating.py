from __future__ import annotations

import pytest
from jinja2.exceptions import SecurityError, UndefinedError

from pressrun.spec import FormatSpec
from pressrun.templating import Colorway, Record, decorate, make_environment, undefined_field

STORY = FormatSpec(name="story", width=1080, height=1920)
MIDNIGHT = Colorway("midnight", {"bg": "#121212", "fg": "#fff"})


def render(source: str, **context):
    return make_environment().from_string(source).render(**context)


def test_record_fields_win_over_method_names():
    record = Record({"items": 3, "name": "Ana"})
    assert render("{{ r.items }} {{ r['name'] }} {{ 'name' in r }}", r=record) == "3 Ana True"


def test_undefined_field_is_an_error_naming_it():
    with pytest.raises(UndefinedError) as caught:
        render("{{ r.nmae }}", r=Record({"name": "Ana"}))
    assert undefined_field(caught.value) == "nmae"
    with pytest.raises(UndefinedError) as caught:
        render("{{ missing }}")
    assert undefined_field(caught.value) == "missing"


def test_sandbox_blocks_internals():
    with pytest.raises(SecurityError):
        render("{{ r._values }}", r=Record({"a": 1}))
    with pytest.raises(SecurityError):
        render("{{ ''.__class__.__mro__ }}")


def test_autoescape():
    assert render("{{ r.name }}", r=Record({"name": "<b>&"})) == "&lt;b&gt;&amp;"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ 1234567|number('en') }}", "1,234,567"),
        ("{{ 1234567|number('es') }}", "1.234.567"),
        ("{{ 1234.5|number('en', 2) }}", "1,234.50"),
        ("{{ 1234567|compact('en') }}", "1.2M"),
        ("{{ 0.42|percent('en') }}", "42%"),
        ("{{ 0.425|percent('es', 1) }}", "42,5\xa0%"),
        ("{{ 0.42|percent('es') }}", "42\xa0%"),
        ("{{ 1234.5|number('es') }}", "1.234,5"),
    ],
)
def test_locale_filters(source, expected):
    assert render(source) == expected


def test_decorate_injects_tokens_page_size_and_body_classes():
    html = decorate('<html><head><title>x</title></head><body class="card" id="b">hi</body></html>', STORY, MIDNIGHT)
    assert "<head><style data-pressrun>:root{--bg:#121212;--fg:#fff;}@page{size:1080px 1920px;margin:0}</style>" in html
    assert '<body class="card format-story orientation-portrait colorway-midnight" id="b">' in html


def test_decorate_fragment_without_head_or_body():
    html = decorate("<p>hi</p>", STORY, MIDNIGHT)
    assert html.startswith("<head><style data-pressrun>")
    assert '<body class="format-story orientation-portrait colorway-midnight"><p>hi</p>' in html
