"""Hostile plugins: one proxy's misbehaviour never changes another's score, is recorded as that
proxy's failure with its reason, and never stops the run or spoils ``--json``."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hostile_plugins import BAD_RETURNS, STATE_CHANGERS, hostile_host
from toy_plugins import evaluate_with, toy_batch

from zsbench.engine.harness import score_model
from zsbench.engine.isolation import InterruptGuard, RunInterrupted, as_score, is_real_interrupt

TESTS_DIR = Path(__file__).resolve().parent


@pytest.fixture()
def host():
    return hostile_host()


def _scores(host, names, arch="w4-d2"):
    space = host.spaces.get("toy")
    proxies = [host.proxies.get(name) for name in names]
    return score_model(lambda: space.build(arch, 10, seed=0, input_size=8), proxies, toy_batch(), seed=0)


def test_state_changing_proxies_leave_the_other_scores_bit_identical(host):
    victims = ["hostile_probe", "toy_output"]
    alone = _scores(host, victims)
    assert all(r.ok for r in alone)
    mixed_names = [name for pair in zip(STATE_CHANGERS, ["hostile_probe"] * 5, strict=True) for name in pair] + ["toy_output"]
    before = (torch.get_default_dtype(), torch.is_grad_enabled(), torch.get_num_threads(), torch.random.get_rng_state())
    mixed = _scores(host, mixed_names)
    after = (torch.get_default_dtype(), torch.is_grad_enabled(), torch.get_num_threads(), torch.random.get_rng_state())
    by_name: dict[str, list[float]] = {}
    for result in mixed:
        assert result.ok, result.error
        by_name.setdefault(result.proxy, []).append(result.value)
    # every probe after every state changer: the same bits as the probe scored alone
    assert by_name["hostile_probe"] == [alone[0].value] * 5
    assert by_name["toy_output"] == [alone[1].value]
    # and the caller's own state is as it was
    assert before[:3] == after[:3] and torch.equal(before[3], after[3])


def test_each_state_changer_would_change_the_probe_without_the_isolation(host):
    # the probe is sensitive to what each changer does: otherwise the test above proves nothing
    batch = toy_batch()
    model = host.spaces.get("toy").build("w4-d2", 10, seed=0, input_size=8)
    probe = host.proxies.get("hostile_probe")
    torch.manual_seed(0)
    reference = probe.score(model, batch)
    for name in STATE_CHANGERS:
        saved = (torch.get_default_dtype(), torch.is_grad_enabled(), torch.get_num_threads())
        batch = toy_batch()
        host.proxies.get(name).score(model, batch)
        torch.manual_seed(0)
        try:
            changed = probe.score(host.spaces.get("toy").build("w4-d2", 10, seed=0, input_size=8), batch)
        except RuntimeError:  # grad mode off: the probe cannot even run
            changed = math.nan
        finally:
            torch.set_default_dtype(saved[0])
            torch.set_grad_enabled(saved[1])
            torch.set_num_threads(saved[2])
        assert changed != reference, name


def test_bad_return_values_and_raised_exits_are_that_proxys_failure_with_its_reason(host):
    names = ["toy_output", *BAD_RETURNS, "hostile_probe"]
    with InterruptGuard():  # as under zsbench evaluate: a KeyboardInterrupt raised by a plugin is not Ctrl-C
        results = _scores(host, names)
    alone = _scores(host, ["toy_output", "hostile_probe"])
    reasons = {r.proxy: r.error for r in results}
    assert {name: reasons[name] for name in BAD_RETURNS} == BAD_RETURNS
    assert all(r.value is None for r in results if r.proxy in BAD_RETURNS)
    assert [r.value for r in results if r.ok] == [r.value for r in alone]


def test_keyboard_interrupt_without_a_guard_stops_the_caller(host):
    with pytest.raises(KeyboardInterrupt):
        _scores(host, ["toy_output", "hostile_interrupt"])


def test_a_delivered_signal_is_real_a_raised_one_is_not():
    import os
    import signal

    with InterruptGuard():
        assert not is_real_interrupt(KeyboardInterrupt())
        assert not is_real_interrupt(SystemExit(0))
        with pytest.raises(RunInterrupted) as caught:
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(1000):  # the handler runs between bytecodes
                pass
        assert caught.value.exit_code == 143
        assert is_real_interrupt(caught.value)
    assert is_real_interrupt(KeyboardInterrupt())  # no guard: a library caller's Ctrl-C
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (1.5, (1.5, None)),
        (3, (3.0, None)),
        (np.float32(0.25), (0.25, None)),
        (np.int64(4), (4.0, None)),
        (float("-inf"), (None, "non-finite score -inf")),
        ("2", (None, "returned a str '2', not a float")),
        (b"2", (None, "returned a bytes b'2', not a float")),
        ([1.0], (None, "returned a list, not a float")),
        (np.array([1.0]), (None, "returned a numpy.ndarray, not a float")),
        (False, (None, "returned a bool, not a float")),
    ],
)
def test_as_score(raw, expected):
    assert as_score(raw) == expected


def test_a_chatty_proxy_does_not_break_json_on_stdout(tmp_path):
    script = f"""
import sys
sys.path.insert(0, {str(TESTS_DIR)!r})
import zsbench
from hostile_plugins import hostile_host
from toy_plugins import toy_batch
from zsbench.engine import evaluation
zsbench.set_host(hostile_host())
evaluation.make_batch = lambda bench, **_: toy_batch()
sys.argv = ["zsbench", "evaluate", "-p", "toy_params,hostile_print", "-b", "toy-bench", "--limit", "3", "-m", "kendall",
            "--json", "--quiet", "--bootstrap", "0", "--cache", {str(tmp_path / "c.sqlite")!r}]
from zsbench.cli import main
main()
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)  # nothing but the JSON on stdout
    assert [row["proxy"] for row in payload["rows"]] == ["toy_params", "hostile_print"]
    assert done.stderr.count("hello from a chatty proxy") == 3
    assert done.stderr.count("straight to file descriptor 1") == 3


def test_an_evaluation_with_hostile_proxies_finishes_with_their_failures(host, tmp_path):
    # no guard here: evaluate() installs its own, so a library caller gets the same isolation
    result = evaluate_with(
        ["toy_output", "hostile_dtype", "hostile_exit", "hostile_interrupt", "hostile_none", "hostile_probe"],
        "toy-bench", host=host, batch=toy_batch(), cache=tmp_path / "c.sqlite", bootstrap=0, metrics="kendall",
        limit=4,
    )
    clean = evaluate_with(
        ["toy_output", "hostile_probe"], "toy-bench", host=host, batch=toy_batch(), cache=tmp_path / "d.sqlite",
        bootstrap=0, metrics="kendall", limit=4,
    )
    assert result.scores["toy_output"].tolist() == clean.scores["toy_output"].tolist()
    assert result.scores["hostile_probe"].tolist() == clean.scores["hostile_probe"].tolist()
    failures = result.failures.groupby("proxy")["error"].agg(set).to_dict()
    assert failures == {
        "hostile_exit": {"SystemExit: 3"},
        "hostile_interrupt": {"KeyboardInterrupt: raised by the plugin"},
        "hostile_none": {"returned None, not a float"},
    }
