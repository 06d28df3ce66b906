"""d2l 1.0, 3.1 linear regression, as the English edition writes it (PyTorch tab).

Changed from the book: the import line; added: ``print`` around the values a notebook cell
would show, and a last line of JSON with them. The figure is written to ``figures/``.
"""

import json
import math
import time

import numpy as np
import torch

from shallowlab import d2l

# Vectorization for speed
n = 10000
a = torch.ones(n)
b = torch.ones(n)

c = torch.zeros(n)
t = time.time()
for i in range(n):
    c[i] = a[i] + b[i]
loop = time.time() - t
print(f'{loop:.5f} sec')

t = time.time()
d = a + b
vectorized = time.time() - t
print(f'{vectorized:.5f} sec')


# The normal distribution and squared loss
def normal(x, mu, sigma):
    p = 1 / math.sqrt(2 * math.pi * sigma**2)
    return p * np.exp(-0.5 * (x - mu)**2 / sigma**2)


# Use NumPy again for visualization
x = np.arange(-7, 7, 0.01)

# Mean and standard deviation pairs
params = [(0, 1), (0, 2), (3, 1)]
d2l.plot(x, [normal(x, mu, sigma) for mu, sigma in params], xlabel='x',
         ylabel='p(x)', figsize=(4.5, 2.5),
         legend=[f'mean {mu}, std {sigma}' for mu, sigma in params])

print(json.dumps({"loop_sec": loop, "vectorized_sec": vectorized,
                  "same": bool((c == d).all()),
                  "peaks": [[float(x[np.argmax(normal(x, mu, sigma))]),
                             float(normal(x, mu, sigma).max())] for mu, sigma in params]}))
