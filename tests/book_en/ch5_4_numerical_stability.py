"""d2l 1.0, 5.4 numerical stability and initialization, as the English edition writes it.

The section plots the sigmoid and its vanishing gradient, then multiplies 100 Gaussian 4 x 4
matrices to show the product exploding (PyTorch tab). Changed: the import line; added: a
seed and a last line of JSON with what the section shows. The figure is written to
``figures/``.
"""

import json

import torch

from shallowlab import d2l

torch.manual_seed(0)

x = torch.arange(-8.0, 8.0, 0.1, requires_grad=True)
y = torch.sigmoid(x)
y.backward(torch.ones_like(x))

d2l.plot(x.detach().numpy(), [y.detach().numpy(), x.grad.numpy()],
         legend=['sigmoid', 'gradient'], figsize=(4.5, 2.5))

M = torch.normal(0, 1, size=(4, 4))
print('a single matrix \n',M)
first = M.abs().max().item()
for i in range(100):  # noqa: B007 (the book's loop)
    M = M @ torch.normal(0, 1, size=(4, 4))
print('after multiplying 100 matrices\n', M)

print(json.dumps({"grad_max": x.grad.max().item(), "grad_ends": [x.grad[0].item(),
                                                                 x.grad[-1].item()],
                  "single_max": first, "product_max": M.abs().max().item()}))
