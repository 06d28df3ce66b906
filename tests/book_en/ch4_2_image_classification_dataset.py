"""d2l 1.0, 4.2 the image classification dataset, as the English edition writes it (PyTorch tab).

The section defines its ``FashionMNIST`` on torchvision (``datasets.FashionMNIST`` with
``transforms.Resize`` and ``ToTensor``) and saves it into d2l; here, as later sections do, it is
``d2l.FashionMNIST``, which reads the same files without torchvision. The section's methods on
it are written as the book writes them, on ``d2l.FashionMNIST``: ``text_labels`` and
``visualize`` as they are; its ``get_dataloader`` (a ``DataLoader`` over the torchvision
dataset, in 4 worker processes) is left to ``d2l.FashionMNIST``'s own, batches sliced from
tensors in memory, which is what the section's timing loop then measures. Changed: the import
line; added: a seed, ``print`` around what a notebook cell would show, and a last line of
JSON with the numbers the section shows. The images are written to ``figures/``.
"""

import json
import time

import torch

from shallowlab import d2l

torch.manual_seed(0)

d2l.use_svg_display()

data = d2l.FashionMNIST(resize=(32, 32))
print(len(data.train), len(data.val))

print(data.train[0][0].shape)


@d2l.add_to_class(d2l.FashionMNIST)
def text_labels(self, indices):
    labels = ['t-shirt', 'trouser', 'pullover', 'dress', 'coat',
              'sandal', 'shirt', 'sneaker', 'bag', 'ankle boot']
    return [labels[int(i)] for i in indices]


X, y = next(iter(data.train_dataloader()))
print(X.shape, X.dtype, y.shape, y.dtype)
first = [list(X.shape), str(X.dtype), list(y.shape), str(y.dtype)]

tic = time.time()
for X, y in data.train_dataloader():  # noqa: B007 (the book's timing loop)
    continue
epoch_sec = time.time() - tic
print(f'{epoch_sec:.2f} sec')


def show_images(imgs, num_rows, num_cols, titles=None, scale=1.5):
    raise NotImplementedError


@d2l.add_to_class(d2l.FashionMNIST)
def visualize(self, batch, nrows=1, ncols=8, labels=[]):  # noqa: B006 (the book's)
    X, y = batch
    if not labels:
        labels = self.text_labels(y)
    d2l.show_images(X.squeeze(1), nrows, ncols, titles=labels)


batch = next(iter(data.val_dataloader()))
data.visualize(batch)

X0, y0 = data.train[0]
print(json.dumps({
    "train": len(data.train), "val": len(data.val), "item_shape": list(X0.shape),
    "item_label": y0, "first": first, "last": [list(X.shape), list(y.shape)],
    "val_first": [list(batch[0].shape), str(batch[0].dtype), list(batch[1].shape),
                  str(batch[1].dtype)],
    "batches": [len(data.train_dataloader()), len(data.val_dataloader())],
    "range": [batch[0].min().item(), batch[0].max().item()],
    "val_labels": data.text_labels(batch[1][:8]), "epoch_sec": epoch_sec}))
