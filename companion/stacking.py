"""Stacked (deep) recurrent layers, one mechanism for rnn, lstm and gru.

Layer l runs over the whole sequence of layer l - 1's states h_{l-1}(t)
(h_0(t) = X(t)); the output layer z_s(t) = W_s h_L(t) + b_s reads the top
one (chapter 2). Backward, each layer's dx is the dhs of the layer below.
The parameters of layer l are the layer's keys with the suffix ``_l``.

``rnn``, ``lstm`` and ``gru`` expose ``num_layers``, ``layer``,
``init_stack``, ``stack_forward`` and ``stack_backward``, which call the
functions here with the module itself as ``model`` (its
``hidden_forward``, ``hidden_backward``, ``state_at``, and the output
layer's ``output_forward``, ``output_backward`` and ``Backward``, rnn's
in all three). This module imports none of them.
"""

from __future__ import annotations

from typing import Any, Callable

from ._validate import check_array


def num_layers(params, key: str) -> int:
    """The number L of stacked layers: how many of ``key``_1, ``key``_2,
    ... are in ``params``."""
    layers = 0
    while f"{key}_{layers + 1}" in params:
        layers += 1
    if layers == 0:
        raise ValueError(f"params hold no stacked layer (keys {key}_1, "
                         f"...); keys: {sorted(params)}")
    return layers


def init_stack(layer_params: Callable[[int, int, bool], dict],
               hidden_keys: Callable[[dict], Any], D: int, sizes,
               output_keys) -> dict[str, Any]:
    """Layers of sizes H_1..H_L, each from ``layer_params(fan_in, H,
    top)`` (the top one with an output layer), their hidden keys
    suffixed _l; the top's output keys (W_s, b_s) kept as they are."""
    params, fan_in, sizes = {}, D, list(sizes)
    if not sizes:
        raise ValueError("sizes must name at least one layer")
    for index, H in enumerate(sizes, start=1):
        top = index == len(sizes)
        p = layer_params(fan_in, H, top)
        params.update({f"{k}_{index}": p[k] for k in hidden_keys(p)})
        params.update({k: p[k] for k in output_keys if top})
        fan_in = H
    return params


def forward(model, params, x, states0, f_h: str, f_s: str, name: str):
    """(o (T, B, K), [state_at(cache_l, T)], [cache_l]) of the stack;
    ``states0`` has one initial state per layer (called ``name`` in
    error messages)."""
    layers = model.num_layers(params)
    if len(states0) != layers:
        raise ValueError(f"params hold {layers} layers but {name} has "
                         f"{len(states0)} initial states")
    inputs, finals, caches = x, [], []
    for index, state0 in enumerate(states0, start=1):
        inputs, cache = model.hidden_forward(model.layer(params, index),
                                             inputs, state0, f_h)
        finals.append(model.state_at(cache, x.shape[0]))
        caches.append(cache)
    o, _ = model.output_forward(params, inputs, f_s)
    return o, finals, caches


def backward(model, params, dz_s, caches, dstate_Ts, name: str):
    """model.Backward(grads with the keys of params, dx, [dstate_l(0)]);
    ``dstate_Ts``: None or one gradient reaching each layer's last state
    (called ``name`` in error messages)."""
    hs = caches[-1].hs[1:, ...]
    want = tuple(hs.shape[:2]) + (params["W_s"].shape[0],)
    check_array(dz_s, "dz_s", shape=want)
    if dstate_Ts is not None and len(dstate_Ts) != len(caches):
        raise ValueError(f"{name} has {len(dstate_Ts)} entries for "
                         f"{len(caches)} layers")
    out_grads, dhs = model.output_backward(params, dz_s, hs)
    grads, dstates = dict(out_grads), []
    for index in range(len(caches), 0, -1):
        back = model.hidden_backward(
            model.layer(params, index), dhs, caches[index - 1],
            None if dstate_Ts is None else dstate_Ts[index - 1])
        grads.update({f"{k}_{index}": v for k, v in back.grads.items()})
        dstates.insert(0, back.dh0)
        dhs = back.dx
    return model.Backward({k: grads[k] for k in params}, dhs, dstates)
