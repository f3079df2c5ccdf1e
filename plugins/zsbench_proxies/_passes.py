"""The passes the proxies are computed from, one function per pass.

Every proxy module calls one of these functions and reduces its result to a number (its
one-proxy path, :meth:`zsbench.Proxy.score`). The same passes run once for many proxies in
:class:`ModelPasses`, the shared pass every first-party proxy except synflow and zen declares
(those two change the model in place, so their passes live beside them, in ``_synflow_pass`` and ``_zen_pass``)
(:meth:`zsbench.Proxy.requires`); ``zsbench.engine.harness.score_model`` runs it once per model
and hands its products to each proxy's ``score_shared``:

=====================  =============================================  =========================
function               what it computes                               proxies reading it
=====================  =============================================  =========================
``ce_pass``            CE loss, grads of conv/linear weights (and     grad_norm, plain, snip,
                       optionally of the layer outputs)               fisher
``grasp_pass``         g and the Hessian-vector product H g           grasp
``input_jacobian``     d(sum of logits)/d(input), one row per sample  jacob_cov
``ntk_gram``           empirical NTK Gram matrix of the batch         ntk
``relu_code_kernel``   NASWOT kernel of binary ReLU-input codes       naswot
``zico_gradients``     cumulative CE gradients of two half-batches    zico
=====================  =============================================  =========================

Conventions shared with zero-cost-nas: the *weight layers* are the modules that are
``isinstance`` of ``nn.Conv2d`` or ``nn.Linear`` (depthwise/grouped convs and subclasses
included), in ``model.modules()`` order, and only their ``.weight`` counts. The loss is mean
cross-entropy on the raw logits. A model returning a tuple or list is read through its last
element (NAS-Bench-201 style ``(features, logits)``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

import zsbench

# The host hands one batch; zico needs several. Its pass splits the batch into this many equal parts
# (defined here, with the pass that does the splitting, so that the pass module imports no proxy).
ZICO_SPLITS = 2


def weight_layers(model: nn.Module) -> list[nn.Module]:
    """The conv/linear modules whose weights the pruning-family proxies read, in module order."""
    return [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def logits_of(output: Any) -> torch.Tensor:
    """The logits of a model's output: the tensor itself, or the last element of a tuple/list."""
    if isinstance(output, (tuple, list)):
        output = output[-1]
    if not isinstance(output, torch.Tensor):
        raise TypeError(f"the model returned {type(output).__name__}; expected a logits tensor")
    return output


def layerwise_sum(tensors: Sequence[torch.Tensor]) -> float:
    """Sum every element of every tensor, layer by layer, in the tensors' own dtype.

    This is zero-cost-nas's ``sum_arr`` order (``torch.sum`` per layer, then a running sum
    over layers in the same dtype), kept so float32 results match the reference bit for bit.
    """
    total: float | torch.Tensor = 0.0
    for t in tensors:
        total = total + torch.sum(t)
    return float(total)


def _zeros_for_missing(grads: Sequence[torch.Tensor | None], like: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    # A layer the forward never used has no gradient; the reference scores it as zeros.
    return [torch.zeros_like(w) if g is None else g for g, w in zip(grads, like, strict=True)]


@dataclass
class CEPass:
    """Result of one forward and one CE gradient on the batch (pass A.1).

    Attributes:
        layers: the weight layers (see :func:`weight_layers`).
        weights: their ``.weight`` tensors.
        grads: dL/dW for each weight (zeros for layers the forward did not use), detached.
        outputs: per weight layer, the list of its outputs (one per call), detached;
            only when requested.
        output_grads: dL/d(output) aligned with ``outputs``; only when requested.
        loss: the mean cross-entropy value.
    """

    layers: list[nn.Module]
    weights: list[torch.Tensor]
    grads: list[torch.Tensor]
    outputs: list[list[torch.Tensor]] | None
    output_grads: list[list[torch.Tensor]] | None
    loss: float


def ce_pass(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    *,
    with_layer_outputs: bool = False,
) -> CEPass:
    """One forward of ``inputs`` and the gradient of mean CE w.r.t. the conv/linear weights.

    With ``with_layer_outputs`` every weight layer's output is kept (one per call) together
    with dL/d(output); fisher reads those. Only weights and outputs are differentiated, so
    no ``.grad`` is left on the model.
    """
    layers = weight_layers(model)
    captured: list[list[torch.Tensor]] = [[] for _ in layers]
    handles = []
    if with_layer_outputs:
        for i, layer in enumerate(layers):
            handles.append(layer.register_forward_hook(_make_output_catcher(captured[i])))
    try:
        logits = logits_of(model(inputs))
    finally:
        for h in handles:
            h.remove()
    result, _ = _ce_gradients(logits, targets, layers, captured if with_layer_outputs else None)
    return result


def _ce_gradients(
    logits: torch.Tensor,
    targets: torch.Tensor,
    layers: list[nn.Module],
    captured: list[list[torch.Tensor]] | None,
    *,
    create_graph: bool = False,
    retain_graph: bool | None = None,
) -> tuple[CEPass, list[torch.Tensor | None]]:
    """Pass A.1 on a forward already run: ``(CEPass, dL/dW with their graph when create_graph)``."""
    weights = [m.weight for m in layers]
    loss = F.cross_entropy(logits, targets)
    flat_outputs = [t for per_layer in captured for t in per_layer] if captured is not None else []
    grads = torch.autograd.grad(
        loss, [*weights, *flat_outputs], allow_unused=True, create_graph=create_graph, retain_graph=retain_graph
    )
    weight_grads = _zeros_for_missing(grads[: len(weights)], weights)
    outputs = output_grads = None
    if captured is not None:
        out_grads = _zeros_for_missing(grads[len(weights) :], flat_outputs)
        outputs, output_grads, k = [], [], 0
        for per_layer in captured:
            outputs.append([t.detach() for t in per_layer])
            output_grads.append([g.detach() for g in out_grads[k : k + len(per_layer)]])
            k += len(per_layer)
    result = CEPass(layers, weights, [g.detach() for g in weight_grads], outputs, output_grads, float(loss.detach()))
    return result, list(grads[: len(weights)])


def _make_output_catcher(store: list[torch.Tensor]):
    def hook(module: nn.Module, args: Any, output: Any) -> None:
        store.append(output)

    return hook


def grasp_pass(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """GraSP's Hessian-gradient product restricted to conv/linear weights (pass A.2).

    Follows zero-cost-nas's procedure step by step (two forwards): forward 1 gives
    g = dL/dW (a constant); forward 2 gives dL/dW with a graph, then
    H g = d/dW of z = sum_l sum(g_l * dL/dW_l). On a model without Dropout both forwards
    are identical, so one shared forward gives the same numbers (the shared pass does
    that); running two keeps the Dropout masks (RNG consumption) of the reference.

    Returns:
        ``(weights, hg)``: the conv/linear weights and H g for each (zeros where unused).
    """
    layers = weight_layers(model)
    weights = [m.weight for m in layers]
    loss = F.cross_entropy(logits_of(model(inputs)), targets)
    g = _zeros_for_missing(torch.autograd.grad(loss, weights, allow_unused=True), weights)
    loss = F.cross_entropy(logits_of(model(inputs)), targets)
    grad_f = torch.autograd.grad(loss, weights, create_graph=True, allow_unused=True)
    return weights, _hessian_gradient(weights, g, grad_f)


def _hessian_gradient(
    weights: list[torch.Tensor], g: Sequence[torch.Tensor], grad_f: Sequence[torch.Tensor | None], retain_graph: bool | None = None
) -> list[torch.Tensor]:
    """H g = d/dW of z = sum_l sum(g_l * dL/dW_l), ``grad_f`` carrying its graph (pass A.2)."""
    z: float | torch.Tensor = 0.0
    for g_l, f_l in zip(g, grad_f, strict=True):
        if f_l is not None:
            z = z + (g_l.detach() * f_l).sum()
    if not isinstance(z, torch.Tensor) or not z.requires_grad:
        raise ValueError("grasp: no conv/linear weight received a gradient")
    hg = _zeros_for_missing(torch.autograd.grad(z, weights, allow_unused=True, retain_graph=retain_graph), weights)
    return [h.detach() for h in hg]


def input_jacobian(model: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """d(sum over batch and classes of the logits)/d(input), flattened to ``N x (C*H*W)`` (pass A.3).

    One batched backward (train-mode BN couples the samples, so per-sample backwards
    would give different rows). The caller's tensor is never modified.
    """
    x = inputs.detach().clone().requires_grad_(True)
    logits = logits_of(model(x))
    return _input_jacobian_rows(logits, x)


def _input_jacobian_rows(logits: torch.Tensor, x: torch.Tensor, retain_graph: bool | None = None) -> torch.Tensor:
    (jac,) = torch.autograd.grad(logits, x, grad_outputs=torch.ones_like(logits), retain_graph=retain_graph)
    return jac.reshape(jac.shape[0], -1).detach()


def ntk_parameters(model: nn.Module) -> list[torch.Tensor]:
    """TE-NAS's NTK parameters: those whose *name* contains ``"weight"`` (conv, linear, BN gamma)."""
    return [p for name, p in model.named_parameters() if "weight" in name and p.requires_grad]


def ntk_gram(model: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """TE-NAS's empirical NTK Gram matrix ``G G^T`` of the batch (pass A.4).

    One batched forward, then for every sample i the gradient of ``sum_c logit[i, c]``
    (all-ones seed on row i) w.r.t. every parameter whose *name* contains ``"weight"``
    (conv, linear and BN gamma; no biases, no BN beta), concatenated in
    ``named_parameters`` order into row i of G. float32, like the reference.
    """
    params = ntk_parameters(model)
    logits = logits_of(model(inputs))
    return _ntk_gram_from_logits(logits, params)


def _ntk_gram_from_logits(logits: torch.Tensor, params: list[torch.Tensor], retain_graph: bool = False) -> torch.Tensor:
    n = logits.shape[0]
    rows: torch.Tensor | None = None
    used: list[bool] | None = None
    for i in range(n):
        seed_row = logits[i : i + 1]
        grads = torch.autograd.grad(
            seed_row, params, grad_outputs=torch.ones_like(seed_row), retain_graph=retain_graph or i < n - 1, allow_unused=True
        )
        if used is None:
            # The reference concatenates only parameters that received a gradient.
            used = [g is not None for g in grads]
            width = sum(g.numel() for g in grads if g is not None)
            _check_memory(n * width * logits.element_size(), f"ntk's {n} x {width} gradient matrix", logits.device)
            rows = torch.empty((n, width), dtype=logits.dtype, device=logits.device)
        torch.cat([g.reshape(-1) for g, u in zip(grads, used, strict=True) if u], out=rows[i])
    assert rows is not None
    return torch.einsum("nc,mc->nm", rows, rows)


def _available_bytes() -> int | None:
    """MemAvailable of /proc/meminfo (Linux), else None."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _check_memory(needed: int, what: str, device: torch.device) -> None:
    # Fail with a reason instead of letting the OS kill the whole run (CPU only; CUDA
    # raises its own OutOfMemoryError).
    if device.type != "cpu":
        return
    available = _available_bytes()
    if available is not None and needed > 0.8 * available:
        raise MemoryError(f"{what} needs {needed / 2**30:.1f} GiB; {available / 2**30:.1f} GiB available")


class _ReluCodeKernel:
    """Accumulates NASWOT's kernel from forward pre-hooks on every ReLU-named module."""

    def __init__(self, model: nn.Module, inputs: torch.Tensor) -> None:
        n = inputs.shape[0]
        self.kernel = torch.zeros((n, n), dtype=torch.float64, device=inputs.device)
        self.calls = 0
        self.seconds = 0.0  # time spent building the kernel (for the perf tables)
        self._handles = [m.register_forward_pre_hook(self._hook) for m in model.modules() if "ReLU" in type(m).__name__]

    def _hook(self, module: nn.Module, args: Any) -> None:
        start = time.perf_counter()
        flat = args[0].detach().reshape(args[0].shape[0], -1)
        units = flat.shape[1]
        if units < 2**24:
            # c c^T + (1-c)(1-c)^T = 2 c c^T - r 1^T - 1 r^T + units (r = row sums of c): one product
            # instead of two. Its entries are integer counts below 2**24, exact in float32.
            code = (flat > 0).to(torch.float32)
            rows = code.sum(dim=1, dtype=torch.float64)
            shared = (code @ code.T).to(torch.float64)
            self.kernel = self.kernel + (2.0 * shared - rows[:, None] - rows[None, :] + float(units))
        else:  # integer counts exact in float64
            code = (flat > 0).to(torch.float64)
            self.kernel = self.kernel + code @ code.T + (1.0 - code) @ (1.0 - code).T
        self.calls += 1
        self.seconds += time.perf_counter() - start

    def remove(self) -> None:
        for h in self._handles:
            h.remove()

    def result(self) -> torch.Tensor:
        if self.calls == 0:
            raise ValueError("naswot: the model has no module whose type name contains 'ReLU'")
        return self.kernel


def relu_code_kernel(model: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """NASWOT's kernel: sum over ReLU calls of ``c c^T + (1-c)(1-c)^T`` (float64, ``N x N``).

    ``c`` is the binary code (input > 0) of every module whose type name contains ``"ReLU"``
    (ReLU6, LeakyReLU, ... count), flattened per sample; a module called twice counts twice.
    Functional ``F.relu`` is invisible, as in the references. One forward, no gradients.
    """
    recorder = _ReluCodeKernel(model, inputs)
    try:
        with torch.no_grad():
            model(inputs)
    finally:
        recorder.remove()
    return recorder.result()


def zico_gradients(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, splits: int = ZICO_SPLITS) -> list[torch.Tensor]:
    """ZiCo's recorded gradients: for every conv/linear layer a ``splits x numel`` CPU tensor.

    The batch is cut into ``splits`` equal parts playing ZiCo's batches; one forward and
    CE gradient per part (train-mode BN normalises each part on its own). As in
    ``compute_zico.py`` gradients are not zeroed between parts, so row b holds the
    cumulative gradient g_1 + ... + g_b.
    """
    if inputs.shape[0] < 2 * splits:
        raise ValueError(f"zico splits the batch in {splits}: needs at least {2 * splits} samples")
    recorded: list[list[torch.Tensor]] | None = None
    cumulative: list[torch.Tensor] | None = None
    for part_inputs, part_targets in zip(inputs.chunk(splits), targets.chunk(splits), strict=True):
        grads = ce_pass(model, part_inputs, part_targets).grads
        cumulative = grads if cumulative is None else [c + g for c, g in zip(cumulative, grads, strict=True)]
        if recorded is None:
            recorded = [[] for _ in grads]
        for store, g in zip(recorded, cumulative, strict=True):
            store.append(g.reshape(-1).cpu())
    assert recorded is not None
    return [torch.stack(rows) for rows in recorded]


# -- the shared pass -------------------------------------------------------------------------

#: Products of :class:`ModelPasses`, what each holds, and the function of the one-proxy path it equals.
PRODUCTS = {
    "ce": "CEPass of the batch (pass A.1), as ce_pass",
    "layer_outputs": "with 'ce': its outputs / output_grads filled, as ce_pass(with_layer_outputs=True)",
    "grasp_hg": "(weights, H g) (pass A.2), as grasp_pass",
    "input_jacobian": "N x (C*H*W) rows (pass A.3), as input_jacobian",
    "relu_kernel": "NASWOT kernel, as relu_code_kernel",
    "ntk_gram": "TE-NAS NTK Gram matrix (pass A.4), as ntk_gram",
    "zico_grads": "per-layer cumulative half-batch gradients, as zico_gradients",
}


def _has_active_dropout(model: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.dropout._DropoutNd) and m.training and m.p > 0 for m in model.modules())


def _rng_states(device: torch.device) -> list[torch.Tensor]:
    states = [torch.random.get_rng_state()]
    if device.type == "cuda":
        states.append(torch.cuda.get_rng_state(device))
    return states


class ModelPasses(zsbench.SharedPass):
    """The shared model pass on the model as built: one train-mode forward of the
    batch and the backward passes the requested products need, on one graph.

    Every product equals what the corresponding one-proxy function computes on a fresh
    model (:data:`PRODUCTS`): the forward is the same computation (hooks only read it), and
    each gradient is taken on that forward's graph. grasp's g and H g come from this one
    forward instead of the reference's two, which is the same number unless the model
    draws random numbers in its forward (Dropout): such models are declined
    (:meth:`accepts`, and a check of the RNG state after the forward) and scored one proxy
    at a time. BatchNorm running statistics updated by the forward do not change
    train-mode outputs; weights are never changed, so proxies that only read the model
    (parameter counts, FLOPs) can share it too.
    """

    key = "zsbench_proxies:model-as-built"

    def __init__(self) -> None:
        #: Seconds of each stage of the last run (``forward`` excludes ``relu_kernel``, built
        #: during it): what ``benchmarks/perf/suite_perf.py`` reports as marginal costs.
        self.last_stage_seconds: dict[str, float] = {}

    def product_seconds(self) -> dict[str, float]:
        """The last run's stages that belong to one product (all but the shared forward)."""
        return {name: seconds for name, seconds in self.last_stage_seconds.items() if name in PRODUCTS}

    def accepts(self, model: nn.Module) -> bool:
        """False for a model with an active Dropout module (its masks would differ from the reference's)."""
        return not _has_active_dropout(model)

    def run(self, model: nn.Module, batch: zsbench.Batch, products: frozenset[str]) -> dict[str, Any]:
        """Compute the requested :data:`PRODUCTS`; a product that fails is returned as its exception."""
        unknown = sorted(products - PRODUCTS.keys())
        if unknown:
            raise ValueError(f"unknown products {unknown} of {self.key}; known: {sorted(PRODUCTS)}")
        out: dict[str, Any] = {}
        self.last_stage_seconds = {}
        if products & {"ce", "grasp_hg", "input_jacobian", "relu_kernel", "ntk_gram"}:
            self._forward_products(model, batch, products, out)
        if "zico_grads" in products:
            with _StageTimer(self.last_stage_seconds).stage("zico_grads"):
                out["zico_grads"] = _attempt(zico_gradients, model, batch.inputs, batch.targets)
        return out

    def _forward_products(self, model: nn.Module, batch: zsbench.Batch, products: frozenset[str], out: dict[str, Any]) -> None:
        layers = weight_layers(model)
        want_jacobian = "input_jacobian" in products
        want_grasp = "grasp_hg" in products
        want_ce = "ce" in products or want_grasp
        captured: list[list[torch.Tensor]] | None = None
        handles = []
        if want_ce and "layer_outputs" in products:
            captured = [[] for _ in layers]
            handles = [layer.register_forward_hook(_make_output_catcher(captured[i])) for i, layer in enumerate(layers)]
        relu = _ReluCodeKernel(model, batch.inputs) if "relu_kernel" in products else None
        x = batch.inputs.detach().clone().requires_grad_(want_jacobian)
        timer = _StageTimer(self.last_stage_seconds)
        with timer.stage("forward"):
            rng_before = _rng_states(x.device)
            try:
                logits = logits_of(model(x))
            finally:
                for h in handles:
                    h.remove()
                if relu is not None:
                    relu.remove()
            if any(not torch.equal(a, b) for a, b in zip(rng_before, _rng_states(x.device), strict=True)):
                raise RuntimeError("the model draws random numbers in its forward; shared passes would change its scores")
            if relu is not None:
                out["relu_kernel"] = _attempt(relu.result)
        if relu is not None:  # the kernel is built by hooks during the forward: its seconds are its own
            timer.move(relu.seconds, "forward", "relu_kernel")
        if want_ce:
            self._ce_products(logits, batch.targets, layers, captured, want_grasp, out, timer)
        if want_jacobian:
            with timer.stage("input_jacobian"):
                out["input_jacobian"] = _attempt(_input_jacobian_rows, logits, x, True)
        if "ntk_gram" in products:
            with timer.stage("ntk_gram"):
                out["ntk_gram"] = _attempt(_ntk_gram_from_logits, logits, ntk_parameters(model))

    @staticmethod
    def _ce_products(
        logits: torch.Tensor,
        targets: torch.Tensor,
        layers: list[nn.Module],
        captured: list[list[torch.Tensor]] | None,
        want_grasp: bool,
        out: dict[str, Any],
        timer: _StageTimer,
    ) -> None:
        """``ce`` (and ``grasp_hg``, which differentiates its gradient again) from the forward's logits."""
        with timer.stage("ce"):
            try:
                ce, grads_with_graph = _ce_gradients(logits, targets, layers, captured, create_graph=want_grasp, retain_graph=True)
            except Exception as exc:
                out["ce"] = exc
                if want_grasp:
                    out["grasp_hg"] = exc
                return
        out["ce"] = ce
        if want_grasp:
            with timer.stage("grasp_hg"):
                out["grasp_hg"] = _attempt(_grasp_product, ce, grads_with_graph)
        del grads_with_graph  # the double-backward graph: free it before the next backward


class _StageTimer:
    """Wall seconds of each named stage of a pass, for :meth:`ModelPasses.product_seconds` and the perf
    tables; the passes only mark their stages with :meth:`stage`, so no clock arithmetic sits in the
    autograd code."""

    def __init__(self, seconds: dict[str, float]) -> None:
        self.seconds = seconds

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start

    def move(self, seconds: float, source: str, target: str) -> None:
        """Charge ``seconds`` spent inside stage ``source`` to ``target`` instead."""
        self.seconds[source] = self.seconds.get(source, 0.0) - seconds
        self.seconds[target] = self.seconds.get(target, 0.0) + seconds


def _grasp_product(ce: CEPass, grads_with_graph: Sequence[torch.Tensor | None]) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """grasp's ``(weights, H g)`` from the CE gradient still holding its graph."""
    return ce.weights, _hessian_gradient(ce.weights, ce.grads, grads_with_graph, True)


def _attempt(function: Any, *args: Any) -> Any:
    """``function(*args)``, or the exception it raised (stored as the product)."""
    try:
        return function(*args)
    except Exception as exc:
        return exc


#: The one shared pass instance every first-party proxy's request names.
MODEL_PASSES = ModelPasses()


def request(*products: str) -> zsbench.PassRequest:
    """A proxy's request for ``products`` of :data:`MODEL_PASSES`."""
    return zsbench.PassRequest(MODEL_PASSES, frozenset(products))
