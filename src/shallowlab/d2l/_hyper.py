"""The English edition's two helpers for writing classes (d2l 1.0, section 3.2)."""

from __future__ import annotations

import inspect


def add_to_class(Class):
    """A decorator that sets the function it decorates as a method of ``Class``.

    As the book uses it, to write a class a method at a time: ``@d2l.add_to_class(Trainer)``
    above ``def fit_epoch(self): ...`` makes it ``Trainer.fit_epoch``, for the instances
    that exist already too. (The book's decorator returns None; this one returns the function.)
    """
    def wrapper(obj):
        setattr(Class, obj.__name__, obj)
        return obj

    return wrapper


class HyperParameters:
    """The base of classes whose ``__init__`` arguments become attributes of the same names."""

    def save_hyperparameters(self, ignore=[]):  # noqa: B006 (the book's signature)
        """Set every argument of the calling ``__init__`` (its local variables at the call,
        except ``self``, the names in ``ignore`` and names starting with ``_``) as an attribute,
        and keep them in ``self.hparams``."""
        frame = inspect.currentframe().f_back
        try:
            local_vars = dict(frame.f_locals)
        finally:
            del frame
        skip = {"self", *ignore}
        self.hparams = {k: v for k, v in local_vars.items()
                        if k not in skip and not k.startswith("_")}
        for k, v in self.hparams.items():
            setattr(self, k, v)
