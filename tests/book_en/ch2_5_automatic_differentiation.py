"""d2l 1.0, 2.5 automatic differentiation, as the English edition writes it (PyTorch tab).

The section imports torch alone, not d2l, so it runs here as the book has it; added: a seed,
``print`` around the values a notebook cell would show, and a last line of JSON with them.
"""

import json

import torch

torch.manual_seed(0)

x = torch.arange(4.0)
print(x)

# Can also create x = torch.arange(4.0, requires_grad=True)
x.requires_grad_(True)
print(x.grad)  # The gradient is None by default

y = 2 * torch.dot(x, x)
print(y)

y.backward()
print(x.grad)
print(x.grad == 4 * x)
grad_2xx = x.grad.tolist()

x.grad.zero_()  # Reset the gradient
y = x.sum()
y.backward()
print(x.grad)
grad_sum = x.grad.tolist()

# Backward for non-scalar variables
x.grad.zero_()
y = x * x
y.backward(gradient=torch.ones(len(y)))  # Faster: y.sum().backward()
print(x.grad)
grad_xx = x.grad.tolist()

# Detaching computation
x.grad.zero_()
y = x * x
u = y.detach()
z = u * x

z.sum().backward()
print(x.grad == u)
detached = bool((x.grad == u).all())

x.grad.zero_()
y.sum().backward()
print(x.grad == 2 * x)
through_y = bool((x.grad == 2 * x).all())


# Gradients and Python control flow
def f(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


a = torch.randn(size=(), requires_grad=True)
d = f(a)
d.backward()
print(a.grad == d / a)

print(json.dumps({"grad_2xx": grad_2xx, "grad_sum": grad_sum, "grad_xx": grad_xx,
                  "detached": detached, "through_y": through_y,
                  "control_flow": bool(a.grad == d / a)}))
