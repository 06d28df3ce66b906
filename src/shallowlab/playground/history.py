"""Step back: a session's exact state before each step or epoch call, and its restoration.

A snapshot holds copies of the parameters and the optimizer's state (updated in place by the
next step), the gradients (replaced, not changed, by the next step, so kept by reference), the
two generators' states, the counters and the metrics: restoring it makes the next step the
very step that followed it before, bit for bit.
"""

from __future__ import annotations

import torch

GENERATOR_BYTES = 5056  # a CPU generator's state (Mersenne Twister)


def snapshot(session) -> dict:
    """The state of ``session`` (a :class:`~shallowlab.playground.session.Session`)."""
    params = [p.detach().clone() for p in session.params]
    grads = list(session._grads) if session.opt is None else [p.grad for p in session.params]
    opt = None
    if session.opt is not None:
        opt = [{k: v.clone() if isinstance(v, torch.Tensor) else v
                for k, v in session.opt.state.get(p, {}).items()} for p in session.params]
    size = sum(t.nbytes for t in params) * 2 + 2 * GENERATOR_BYTES + 512
    if opt is not None:
        size += sum(v.nbytes for st in opt for v in st.values() if isinstance(v, torch.Tensor))
    return {"params": params, "grads": grads, "opt": opt, "bytes": size,
            "order": session.order_gen.get_state(), "drop": session.drop_gen.get_state(),
            "counters": (session.step_count, session.epoch_count, session._pos, session._pass),
            "metrics": session._metrics, "losses": len(session.losses),
            "stopped": session._stopped}


@torch.no_grad()
def restore(session, snap: dict) -> None:
    """Put ``session`` back in the state ``snap`` recorded (``snap`` is used up)."""
    for p, saved in zip(session.params, snap["params"]):
        p.copy_(saved)
    if session.opt is None:
        session._grads = snap["grads"]
    else:
        for p, grad, state in zip(session.params, snap["grads"], snap["opt"]):
            p.grad = grad
            if state:
                session.opt.state[p] = state
            else:
                session.opt.state.pop(p, None)
    session.order_gen.set_state(snap["order"])
    session.drop_gen.set_state(snap["drop"])
    (session.step_count, session.epoch_count, session._pos, session._pass) = snap["counters"]
    session._metrics = snap["metrics"]
    del session.losses[snap["losses"]:]
    session._stopped = snap["stopped"]
