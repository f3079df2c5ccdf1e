"""Name lookup: all, comma lists, globs, exclusions, qualified names, and one-line errors."""

from __future__ import annotations

import pytest

from zsbench.errors import AmbiguousComponentError, UnknownComponentError, UsageError
from zsbench.registry import Registry


@pytest.fixture
def registry() -> Registry[str]:
    reg: Registry[str] = Registry("proxy")
    for name in ("synflow", "snip", "grasp", "synflow_bn", "zen", "grad_norm", "layer10", "layer2"):
        reg.add(name, name.upper(), "first", "zsbench", "0.1")
    return reg


def test_all_lists_every_component_in_natural_order(registry: Registry[str]) -> None:
    assert registry.select("all") == ["GRAD_NORM", "GRASP", "LAYER2", "LAYER10", "SNIP", "SYNFLOW", "SYNFLOW_BN", "ZEN"]


def test_comma_list_keeps_the_order_given(registry: Registry[str]) -> None:
    assert registry.select("zen, snip,grasp") == ["ZEN", "SNIP", "GRASP"]
    assert registry.select(["zen", "snip,zen"]) == ["ZEN", "SNIP"]  # duplicates dropped


def test_globs_and_exclusions(registry: Registry[str]) -> None:
    assert registry.select("syn*") == ["SYNFLOW", "SYNFLOW_BN"]
    assert registry.select("syn*,-synflow_bn") == ["SYNFLOW"]
    assert registry.select("all,!gr*") == ["LAYER2", "LAYER10", "SNIP", "SYNFLOW", "SYNFLOW_BN", "ZEN"]
    assert registry.select("-zen,-layer*") == ["GRAD_NORM", "GRASP", "SNIP", "SYNFLOW", "SYNFLOW_BN"]


def test_unknown_name_suggests_the_closest(registry: Registry[str]) -> None:
    with pytest.raises(UnknownComponentError) as excinfo:
        registry.select("synflw")
    message = str(excinfo.value)
    assert message.startswith("Unknown proxy 'synflw'. Did you mean 'synflow'")
    assert "\n" not in message


def test_a_glob_matching_nothing_is_an_error(registry: Registry[str]) -> None:
    with pytest.raises(UnknownComponentError, match="no proxy matches 'foo\\*'"):
        registry.select("foo*")


def test_empty_spec_is_a_usage_error(registry: Registry[str]) -> None:
    with pytest.raises(UsageError):
        registry.select(" , ")


def test_qualified_names_and_ambiguity(registry: Registry[str]) -> None:
    registry.add("snip", "OTHER_SNIP", "second", "zsbench-proxy-snip2", "2.0")
    with pytest.raises(AmbiguousComponentError, match=r"first:snip \(zsbench 0.1\), second:snip \(zsbench-proxy-snip2 2.0\)"):
        registry.get("snip")
    assert registry.get("second:snip") == "OTHER_SNIP"
    with pytest.raises(AmbiguousComponentError):
        registry.select("all")
    assert registry.conflicts().keys() == {"snip"}


def test_invalid_names_are_refused(registry: Registry[str]) -> None:
    with pytest.raises(ValueError, match="invalid proxy name"):
        registry.add("bad name", "X", "p", "d", "1")
