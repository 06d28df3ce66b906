"""torch.optim without importing ``torch._dynamo`` until something compiles.

torch's optimizers wrap ``step`` (``_use_grad_for_differentiable``) and ``zero_grad``,
``add_param_group``, ``state_dict`` and ``load_state_dict`` (``torch._disable_dynamo``) in
functions that import ``torch._dynamo`` on their first call: 1.5-3 s of a CLI run that trains
for well under one, paid by every ``shallowlab run`` and every sweep trial.

Those wrappers matter only while dynamo traces: they keep it out of the optimizer's code
(``torch._dynamo.disable``) and put graph breaks around the step. Nothing can be traced
before ``torch._dynamo`` is imported. :func:`defer` swaps each wrapper for one that calls
the plain method while ``torch._dynamo`` is not imported and torch's own wrapper once it is
(``torch.compile``, ``--engine compiled``), so the optimizer does the same either way.
"""

from __future__ import annotations

import functools
import sys

import torch
import torch.optim.optimizer as optimizer_module

_DONE = "__shallowlab_lazy_dynamo__"


def _is_torch_wrapper(fn) -> bool:
    """Whether ``fn`` is one of torch's dynamo-importing wrappers around ``fn.__wrapped__``."""
    code = getattr(fn, "__code__", None)
    if code is None or not hasattr(fn, "__wrapped__"):
        return False
    import torch._compile as compile_module  # light: the module that defines _disable_dynamo

    return (code.co_name, code.co_filename) in {("inner", compile_module.__file__),
                                                ("_use_grad", optimizer_module.__file__)}


def _lazy(wrapper):
    plain = wrapper.__wrapped__
    grad_mode = wrapper.__code__.co_name == "_use_grad"  # step: grad mode as torch's sets it

    @functools.wraps(plain)
    def call(self, *args, **kwargs):
        if "torch._dynamo" in sys.modules:
            return wrapper(self, *args, **kwargs)
        if not grad_mode:
            return plain(self, *args, **kwargs)
        with torch.set_grad_enabled(self.defaults["differentiable"]):
            return plain(self, *args, **kwargs)

    return call


def defer(*classes: type) -> None:
    """Make ``torch.optim.Optimizer`` and ``classes`` (default: ``torch.optim.SGD``) import
    ``torch._dynamo`` only when it is already in use. Idempotent."""
    for cls in (optimizer_module.Optimizer, *(classes or (torch.optim.SGD,))):
        if cls.__dict__.get(_DONE):
            continue
        for name, fn in list(vars(cls).items()):
            if _is_torch_wrapper(fn):
                setattr(cls, name, _lazy(fn))
        setattr(cls, _DONE, True)
