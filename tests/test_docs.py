"""docs/model.md documents every parameter the scenario format accepts."""

import dataclasses

import pytest

from sim import config as S

from .conftest import ROOT

MODEL_MD = (ROOT / "docs" / "model.md").read_text(encoding="utf-8")

SECTIONS = {
    "geography.network": S.NetworkParams,
    "dynamics.influence": S.InfluenceParams,
    "dynamics.media": S.MediaParams,
    "dynamics.protest": S.ProtestParams,
    "dynamics.repression": S.RepressionParams,
    "dynamics.calls": S.CallParams,
    "outputs": S.Outputs,
}


@pytest.mark.parametrize("prefix, cls", SECTIONS.items())
def test_every_parameter_is_documented(prefix, cls):
    missing = [f"{prefix}.{f.name}" for f in dataclasses.fields(cls) if f"`{prefix}.{f.name}`" not in MODEL_MD]
    assert not missing, f"add to docs/model.md: {missing}"


@pytest.mark.parametrize("kind, cls", S.EVENT_KINDS.items())
def test_every_event_field_is_documented(kind, cls):
    base = {f.name for f in dataclasses.fields(S.Event)}
    row = next((line for line in MODEL_MD.splitlines() if line.startswith(f"| `{kind}`")), "")
    assert row, f"docs/model.md has no row for event kind {kind}"
    if kind == "government_message":  # documented as "same fields" as diplomatic_message
        return
    missing = [f.name for f in dataclasses.fields(cls) if f.name not in base and f"`{f.name}`" not in row]
    assert not missing, f"{kind}: document {missing}"


def test_top_level_fields_documented():
    for name in ("scale", "warmup_days", "seed", "days", "start"):
        assert f"`{name}`" in MODEL_MD, name


def test_population_attributes_documented():
    for attr in S.ATTRIBUTES:
        assert f"`{attr}`" in MODEL_MD
