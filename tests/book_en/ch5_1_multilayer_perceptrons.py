"""d2l 1.0, 5.1 multilayer perceptrons, as the English edition writes it (PyTorch tab).

The section plots ReLU, sigmoid and tanh and their gradients, six figures written here to
``figures/``. Changed: the import line; added: a last line of JSON with values the figures
show (each curve's value and its gradient at 0 and at the ends).
"""

import json

import torch

from shallowlab import d2l

x = torch.arange(-8.0, 8.0, 0.1, requires_grad=True)
y = torch.relu(x)
d2l.plot(x.detach(), y.detach(), 'x', 'relu(x)', figsize=(5, 2.5))
shown = {"relu": y.detach()}

y.backward(torch.ones_like(x), retain_graph=True)
d2l.plot(x.detach(), x.grad, 'x', 'grad of relu', figsize=(5, 2.5))
grads = {"relu": x.grad.clone()}

y = torch.sigmoid(x)
d2l.plot(x.detach(), y.detach(), 'x', 'sigmoid(x)', figsize=(5, 2.5))
shown["sigmoid"] = y.detach()

# Clear out previous gradients
x.grad.data.zero_()
y.backward(torch.ones_like(x),retain_graph=True)
d2l.plot(x.detach(), x.grad, 'x', 'grad of sigmoid', figsize=(5, 2.5))
grads["sigmoid"] = x.grad.clone()

y = torch.tanh(x)
d2l.plot(x.detach(), y.detach(), 'x', 'tanh(x)', figsize=(5, 2.5))
shown["tanh"] = y.detach()

# Clear out previous gradients
x.grad.data.zero_()
y.backward(torch.ones_like(x),retain_graph=True)
d2l.plot(x.detach(), x.grad, 'x', 'grad of tanh', figsize=(5, 2.5))
grads["tanh"] = x.grad.clone()

zero = int(torch.argmin(x.detach().abs()))  # x[80] is 0 up to rounding
print(json.dumps({name: {"at_0": shown[name][zero].item(), "ends": [shown[name][0].item(),
                                                                  shown[name][-1].item()],
                         "grad_at_0": grads[name][zero].item(),
                         "grad_ends": [grads[name][0].item(), grads[name][-1].item()]}
                  for name in shown}))
