"""Channel-Bench-Macro's published params and FLOPs against zsbench's rebuild, for all 32,768 networks.

For every key of ``Results_ResNet.json`` and ``Results_MobileNet.json`` (read from
``<data-root>/channel_bench_macro/``, fetched by ``zsbench data download channel-bench-macro``)
this compares the table's ``params`` and ``flops`` with

- the space's analytic :meth:`cost` (``cbm-resnet``, ``cbm-mobilenet``), and
- counts on the network the space builds: ``zsbench.costs.count_params`` and
  ``zsbench.costs.count_flops`` (``torch.utils.flop_counter.FlopCounterMode``, halved: MACs),
  the network built on the meta device so that its full size costs nothing to allocate.

The convention checked: FLOPs = multiply-accumulates of every convolution and of the linear
layer for one 32x32 image, the classifier's bias not counted; BN, ReLU, pooling and the residual
additions not counted. A network whose figures differ is printed with the difference.

    nice -n 19 env OMP_NUM_THREADS=1 python benchmarks/channel_bench_macro_costs.py > benchmarks/channel_bench_macro_costs.txt
"""

from __future__ import annotations

import argparse
import json
import time

FILES = {"cbm-resnet": "Results_ResNet.json", "cbm-mobilenet": "Results_MobileNet.json"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", default=None, help="default: $ZSBENCH_DATA")
    parser.add_argument("--limit", type=int, default=None, help="only the first N keys of each table (a quick look)")
    args = parser.parse_args()

    import torch

    from zsbench.costs import count_flops, count_params
    from zsbench.data import require_data_root
    from zsbench.plugins import get_host

    torch.set_num_threads(1)
    root = require_data_root(args.data_root) / "channel_bench_macro"
    host = get_host()
    print("Channel-Bench-Macro: the table's params and flops against zsbench's rebuild (32x32 input, 10 classes)")
    print("convention: FLOPs = MACs of every conv and of the linear layer, classifier bias not counted\n")
    print("| space | networks | params = analytic | params = counted | flops = analytic | flops = counted | "
          "flops range (MACs) | params range |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    mismatches: list[str] = []
    started = time.process_time()
    for space_name, file_name in FILES.items():
        space = host.spaces.get(space_name)
        with open(root / file_name) as handle:
            table = json.load(handle)
        keys = list(table)[: args.limit] if args.limit else list(table)
        assert set(keys) <= set(space.enumerate()), "a key the space does not parse"
        equal = {"pa": 0, "pc": 0, "fa": 0, "fc": 0}
        for key in keys:
            row = table[key]
            cost = space.cost(key)
            with torch.device("meta"):
                model = space.build(key, seed=0)
                flops, params = count_flops(model, (3, 32, 32)), count_params(model)
            checks = {"pa": cost.params == row["params"], "pc": params == row["params"],
                      "fa": cost.flops == row["flops"], "fc": flops == row["flops"]}  # fmt: skip
            for name, ok in checks.items():
                equal[name] += ok
            if not all(checks.values()):
                mismatches.append(
                    f"{space_name} {key}: table params {row['params']} flops {row['flops']}; "
                    f"analytic {cost.params} / {cost.flops:.0f}; counted {params} / {flops:.0f}"
                )
        flops_all = [table[k]["flops"] for k in keys]
        params_all = [table[k]["params"] for k in keys]
        print(
            f"| {space_name} | {len(keys):,} | {equal['pa']:,} | {equal['pc']:,} | {equal['fa']:,} | {equal['fc']:,} | "
            f"{min(flops_all):,} .. {max(flops_all):,} | {min(params_all):,} .. {max(params_all):,} |"
        )
    print(f"\nnetworks whose figures differ: {len(mismatches)}")
    for line in mismatches[:50]:
        print(line)
    print(f"\n({time.process_time() - started:.0f} s of CPU time)")


if __name__ == "__main__":
    main()
