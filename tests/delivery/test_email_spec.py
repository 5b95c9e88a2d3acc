from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pressrun.campaign import Campaign as CampaignFolder
from pressrun.errors import CampaignError

from .conftest import SPEC, write_campaign


def test_editing_the_email_templates_or_section_re_renders_nothing(campaign_dir: Path) -> None:
    (campaign_dir / "email" / "body.html").write_text("<p>{{ r.name }} {{ unsubscribe_url }}</p>")
    spec = yaml.safe_load((campaign_dir / "campaign.yaml").read_text())
    spec["email"]["image"] = "inline"
    (campaign_dir / "campaign.yaml").write_text(
        yaml.safe_dump(spec, allow_unicode=True, sort_keys=False)
    )
    report = CampaignFolder.load(campaign_dir).render(only=["ana", "bo"], workers=1)
    assert report.written == [] and report.skipped == 2


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ({"format": "poster"}, "email.format 'poster' is not one of the campaign's formats"),
        ({"colorway": "neon"}, "email.colorway 'neon' is not one of the campaign's colorways"),
        ({"output": "jpg"}, "email.output must be one of the campaign's image outputs ['png']"),
        ({"name": "nickname"}, "email.name 'nickname' is not a field of the schema"),
        ({"image": "attached"}, "email.image: Input should be 'inline' or 'hosted'"),
    ],
)
def test_a_wrong_email_section_is_refused_naming_the_key(
    tmp_path: Path, email: dict[str, str], message: str
) -> None:
    root = write_campaign(tmp_path / "c", {**SPEC, "email": {**SPEC["email"], **email}})
    with pytest.raises(CampaignError) as error:
        CampaignFolder.load(root)
    assert message in str(error.value)


def test_an_email_template_outside_the_campaign_folder_is_refused(tmp_path: Path) -> None:
    from pressrun.delivery.letters import EmailTemplates
    from pressrun.templating import CampaignInfo

    root = write_campaign(
        tmp_path / "c", {**SPEC, "email": {**SPEC["email"], "html": "../secret.html"}}
    )
    (tmp_path / "secret.html").write_text("x")
    folder = CampaignFolder.load(root)
    assert folder.spec.email is not None
    with pytest.raises(CampaignError, match="outside the campaign folder"):
        EmailTemplates(root, folder.spec.email, CampaignInfo("c", {}))
