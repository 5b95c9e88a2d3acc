from __future__ import annotations

import pytest

from pressrun import CampaignError, load_spec


def write(tmp_path, text: str):
    (tmp_path / "campaign.yaml").write_text(text)
    return tmp_path


BASE = """\
name: t
data: {key: id, schema: {id: {type: string}}}
template: t.html
"""


def test_presets_and_custom_formats(tmp_path):
    spec = load_spec(write(tmp_path, BASE + "formats: [story, {name: banner, width: 600, height: 200}, square]\n"))
    assert [(f.name, f.width, f.height, f.orientation) for f in spec.formats] == [
        ("story", 1080, 1920, "portrait"),
        ("banner", 600, 200, "landscape"),
        ("square", 1080, 1080, "square"),
    ]


def test_defaults(tmp_path):
    spec = load_spec(write(tmp_path, BASE))
    assert [f.name for f in spec.formats] == ["portrait"]
    assert spec.outputs == ["png"]
    assert spec.render.jpg_quality == 90


def test_jpeg_is_an_alias_of_jpg(tmp_path):
    assert load_spec(write(tmp_path, BASE + "outputs: [jpeg, pdf]\n")).outputs == ["jpg", "pdf"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("colour: red\n", "colour: unknown key"),
        ("formats: [poster]\n", "unknown format preset 'poster'"),
        ("outputs: [gif]\n", "outputs.0"),
        ("colorways: {'9bad': {bg: red}}\n", "colorway name '9bad'"),
        ("colorways: {ok: {bg: 'red;}body{x:y'}}\n", "is not a CSS value"),
        ("formats: [story, story]\n", "format names must be unique"),
    ],
)
def test_errors_name_the_key_and_reason(tmp_path, extra, message):
    with pytest.raises(CampaignError) as caught:
        load_spec(write(tmp_path, BASE + extra))
    assert message in str(caught.value)


def test_key_must_be_in_schema(tmp_path):
    with pytest.raises(CampaignError, match="key 'uid' is not a field of the schema"):
        load_spec(write(tmp_path, "name: t\ndata: {key: uid, schema: {id: {}}}\ntemplate: t.html\n"))


def test_field_errors(tmp_path):
    text = "name: t\ndata: {key: id, schema: {id: {type: string, pattern: '('}, n: {type: enum}}}\ntemplate: t\n"
    with pytest.raises(CampaignError) as caught:
        load_spec(write(tmp_path, text))
    assert "not a valid regular expression" in str(caught.value)
    assert "type enum needs an `enum:` list" in str(caught.value)


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(CampaignError, match="no campaign file"):
        load_spec(tmp_path)
    with pytest.raises(CampaignError, match="not valid YAML"):
        load_spec(write(tmp_path, "name: [unclosed\n"))
