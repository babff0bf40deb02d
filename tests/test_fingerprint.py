"""Outputs stay identical for the same scenario and seed across refactorings (see tests/fingerprint.py)."""

import json

import pytest

from .fingerprint import CASES, FILE, compute

EXPECTED = json.loads(FILE.read_text())


@pytest.mark.parametrize("name", sorted(CASES))
def test_output_matches_committed_fingerprint(name):
    assert compute(name) == EXPECTED[name]
