"""The template contract's person_name key: loaded, defaulted, and refused where no name can be written."""

from __future__ import annotations

import pytest
import yaml

from kakitori.errors import ConfigError
from ocr.template import load_template

from .conftest import TEMPLATES


def _copy(tmp_path, edit) -> object:
    raw = yaml.safe_load((TEMPLATES / "juminido.yaml").read_text(encoding="utf-8"))
    raw["reference"] = str(TEMPLATES / raw["reference"])
    edit(raw["fields"])
    path = tmp_path / "juminido.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_person_name_fields_are_marked_and_others_default_to_false(juminido):
    marked = {f.name for f in juminido.fields if f.person_name}
    assert marked == {"name", "name_kana", "head_of_household"}
    assert juminido.field("address").person_name is False


def test_person_name_on_a_date_field_is_a_config_error_naming_the_key(tmp_path):
    def edit(fields):
        next(f for f in fields if f["name"] == "birth_date")["person_name"] = True

    with pytest.raises(ConfigError, match=r"person_name") as err:
        load_template(_copy(tmp_path, edit))
    assert "fields[" in str(err.value)


def test_person_name_can_be_switched_off_in_a_city_template(tmp_path):
    def edit(fields):
        for f in fields:
            f.pop("person_name", None)

    t = load_template(_copy(tmp_path, edit))
    assert not any(f.person_name for f in t.fields)
