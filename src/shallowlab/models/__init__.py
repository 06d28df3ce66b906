"""The models, twice: ``scratch`` from tensors and autograd, ``nets`` from ``torch.nn``, the
twins under the same names (``linreg``, ``softmax_regression``, ``mlp``)."""
