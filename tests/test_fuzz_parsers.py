"""Property-based fuzzing of every parser a user reaches: whatever the text, the parser accepts it
or raises one of the project's one-line errors (:class:`zsbench.ZsbenchError`), nothing else."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zsbench.cli._sources import index_options
from zsbench.engine.evaluation import RunOptions
from zsbench.engine.indices import parse_option_assignments, resolve_options
from zsbench.errors import ZsbenchError
from zsbench.plugins import get_host
from zsbench.studies.scores import parse_directions
from zsbench.studies.search import budget_from, parse_amount
from zsbench.tables import TableBenchmark, load_benchmark_table

FUZZ = settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
HOST = get_host()
SPACES = sorted(HOST.spaces.names())

# text with the characters architecture strings, patterns and options are made of, and some that are not
ALPHABET = st.sampled_from([*"abcdefghijklmnopqrstuvwxyz0123456789|~+-_=.,:*?[]{}()%/\\ \t'\"", "\x00", "é", "\n", "∞"])
WORDS = st.text(ALPHABET, max_size=40) | st.text(max_size=20)


def project_errors_only(call: Callable[[], Any]) -> Any:
    """``call()``; a :class:`ZsbenchError` whose message is one line counts as accepted input handling."""
    try:
        return call()
    except ZsbenchError as exc:
        message = str(exc)
        assert message and "\n" not in message.strip(), f"a multi-line error: {message!r}"
        return None


def test_every_installed_space_is_fuzzed():
    assert {"nb201", "nasbench-macro", "R1", "R2", "MB", "cbm-resnet", "cbm-mobilenet"} <= set(SPACES)


def _mutated(space_name: str) -> st.SearchStrategy[str]:
    """Valid architectures of the space with characters replaced, inserted or cut."""
    space = HOST.spaces.get(space_name)
    valid = space.sample(5, seed=0)

    @st.composite
    def mutate(draw: Any) -> str:
        text = draw(st.sampled_from(valid))
        for _ in range(draw(st.integers(0, 4))):
            where = draw(st.integers(0, len(text)))
            kind = draw(st.sampled_from(["replace", "insert", "cut"]))
            char = draw(ALPHABET)
            if kind == "replace" and where < len(text):
                text = text[:where] + char + text[where + 1 :]
            elif kind == "insert":
                text = text[:where] + char + text[where:]
            else:
                text = text[:where] + text[where + draw(st.integers(1, 5)) :]
        return text

    return mutate()


@pytest.mark.parametrize("space_name", SPACES)
def test_architecture_strings_of_every_space(space_name):
    space = HOST.spaces.get(space_name)

    @FUZZ
    @given(st.one_of(_mutated(space_name), WORDS))
    def check(text: str) -> None:
        canonical = project_errors_only(lambda: space.canonical(text))
        if canonical is not None:  # what is accepted is a fixed point
            assert space.canonical(canonical) == canonical

    check()


@FUZZ
@given(st.lists(WORDS | st.sampled_from(["all", "-synflow", "syn*", "ntk", "zsbench_proxies:*", "kendall"]), max_size=4))
def test_proxy_and_index_patterns(parts):
    pattern = ",".join(parts)
    project_errors_only(lambda: HOST.proxies.select_entries(pattern))
    project_errors_only(lambda: HOST.metrics.select_entries(pattern))


@FUZZ
@given(st.lists(WORDS | st.sampled_from(["br_at_k.k=0.01", "mbr_flops.budgets=5", "p_at_k.k=2", "kendall.x=1"]),
                max_size=3))
def test_metric_options(texts):
    metrics = HOST.metrics.select("all")

    def parse() -> Any:
        per_metric = parse_option_assignments(texts)
        return resolve_options(metrics, {}, per_metric)

    project_errors_only(parse)


@FUZZ
@given(WORDS | st.sampled_from(["200M", "1.5G", "2e8", "500k", "0", "-3M", "25%", "nan", "inf", "1e400"]),
       st.sampled_from(["--max-flops", "--max-params", "--max-depth"]))
def test_budgets(text, option):
    value = project_errors_only(lambda: parse_amount(text, option))
    if value is not None:
        assert value > 0
    project_errors_only(lambda: budget_from(text, None, None, None))


@FUZZ
@given(WORDS, st.integers(-3, 10) | st.none())
def test_index_and_direction_options(text, budgets):
    project_errors_only(lambda: index_options(text, budgets))
    project_errors_only(lambda: parse_directions(text))


@FUZZ
@given(st.floats(allow_nan=True, allow_infinity=True) | st.none())
def test_timeouts(value):
    project_errors_only(lambda: RunOptions(timeout=value, executor="process"))


CELLS = st.text(st.sampled_from(list("w2345-d1234,.;\"\n x9e+-nan")), max_size=12)


@FUZZ
@given(st.sampled_from([".csv", ".tsv", ".parquet"]),
       st.lists(st.lists(CELLS, min_size=0, max_size=4), max_size=6),
       st.sampled_from(["arch,accuracy", "arch,accuracy,flops", "accuracy", "arch", ""]),
       st.binary(max_size=64))
def test_table_files(suffix, rows, header, junk):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"table{suffix}"
        if suffix == ".parquet":
            path.write_bytes(junk)  # not a Parquet file: only a one-line error may come of it
        else:
            sep = "\t" if suffix == ".tsv" else ","
            path.write_text("\n".join([header.replace(",", sep), *(sep.join(r) for r in rows)]) + "\n", encoding="utf-8")
        bench = TableBenchmark(path, space="nb201")
        project_errors_only(lambda: load_benchmark_table(bench, None))
