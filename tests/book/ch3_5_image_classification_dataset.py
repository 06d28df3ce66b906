"""d2l 3.5, the image classification dataset (Fashion-MNIST).

The book reads the data with torchvision (``torchvision.datasets.FashionMNIST(root="../data",
transform=transforms.ToTensor(), download=True)``), which shallowlab does without. Here the same
datasets come from ``d2l.load_data_fashion_mnist``, the function the section ends with: the
``.dataset`` of its iterators is what the book calls ``mnist_train`` and ``mnist_test``. The
rest is the book's code; added: the seed and a last line of JSON with what the book prints.
"""

import json

import torch
from torch.utils import data

from shallowlab import d2l

d2l.use_svg_display()
torch.manual_seed(0)

batch_size = 256
train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size)
mnist_train, mnist_test = train_iter.dataset, test_iter.dataset
print(len(mnist_train), len(mnist_test))
print(mnist_train[0][0].shape)

X, y = next(iter(data.DataLoader(mnist_train, batch_size=18)))
d2l.show_images(X.reshape(18, 28, 28), 2, 9, titles=d2l.get_fashion_mnist_labels(y))
first_labels = d2l.get_fashion_mnist_labels(y)

timer = d2l.Timer()
for X, y in train_iter:  # noqa: B007 (the book's loop, timed)
    continue
seconds = timer.stop()
print(f'{seconds:.2f} sec')

train_iter, test_iter = d2l.load_data_fashion_mnist(32, resize=64)
for X, y in train_iter:
    print(X.shape, X.dtype, y.shape, y.dtype)
    break

print(json.dumps({
    "train": len(mnist_train), "test": len(mnist_test),
    "item_shape": list(mnist_train[0][0].shape), "labels": first_labels,
    "read_seconds": seconds, "batches": len(test_iter),
    "X": [list(X.shape), str(X.dtype)], "y": [list(y.shape), str(y.dtype)],
    "range": [float(X.min()), float(X.max())]}))
