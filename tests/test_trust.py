"""What keeps a reader from over-reading the numbers: K beside the top-K values, the common set of
networks the proxies are compared on, the failures, heavy-tailed scores."""

from __future__ import annotations

import json


def _text(result) -> str:
    return " ".join(result.stdout.split())


def test_k_is_shown_beside_the_top_k_values_and_a_small_k_is_called_so(cli):
    result = cli("-p", "toy_params", "-b", "toy-bench", "-m", "p_at_k,br_at_k", "--wide")
    assert result.exit_code == 0, result.output
    text = _text(result)
    # 32 networks: 0.1 % gives K = 1 (at least one), 5 % gives K = round(1.6) = 2
    assert text.count("@0.1%, K=1") == 2 and text.count("@5%, K=2") == 2
    assert "K=1 at 0.1% (br_at_k, p_at_k); K=2 at 5% (br_at_k, p_at_k) of 32 architectures: fewer than 5 in the top-K" in text
    # a K of 8 means something: no note
    result = cli("-p", "toy_params", "-b", "toy-bench", "-m", "p_at_k", "--top-k", "0.25")
    assert "@25%, K=8" in _text(result) and "fewer than 5 in the top-K" not in _text(result)
    # the narrow table shows no top-K index and so says nothing of K
    assert "top-K" not in _text(cli("-p", "toy_params", "-b", "toy-bench"))
    # JSON has K beside the value, for figures and scripts
    row = json.loads(cli("-p", "toy_params", "-b", "toy-bench", "-m", "p_at_k", "--json").stdout)["rows"][0]
    assert row["p_at_k/K@0.1%"] == 1 and row["p_at_k/K@5%"] == 2
