"""d2l 1.0, 3.3 synthetic regression data, as the English edition writes it (PyTorch tab).

The section's ``SyntheticRegressionData`` is the one it saves into d2l; it is defined here as
the book defines it, and, as in the book, its last ``get_tensorloader`` replaces
``d2l.DataModule``'s own (a ``torch.utils.data.DataLoader``) for the rest of the process.
Changed: the import line; added: seeds, ``print`` around what a notebook cell would show, and
a last line of JSON with the numbers the section shows.
"""

import json
import random

import torch

from shallowlab import d2l

random.seed(0)
torch.manual_seed(0)


class SyntheticRegressionData(d2l.DataModule):
    def __init__(self, w, b, noise=0.01, num_train=1000, num_val=1000,
                 batch_size=32):
        super().__init__()
        self.save_hyperparameters()
        n = num_train + num_val
        self.X = torch.randn(n, len(w))
        noise = torch.randn(n, 1) * noise
        self.y = torch.matmul(self.X, w.reshape((-1, 1))) + b + noise


data = SyntheticRegressionData(w=torch.tensor([2, -3.4]), b=4.2)

print('features:', data.X[0], '\nlabel:', data.y[0])


@d2l.add_to_class(SyntheticRegressionData)
def get_dataloader(self, train):
    if train:
        indices = list(range(0, self.num_train))
        # The examples are read in random order
        random.shuffle(indices)
    else:
        indices = list(range(self.num_train, self.num_train+self.num_val))
    for i in range(0, len(indices), self.batch_size):
        batch_indices = torch.tensor(indices[i: i+self.batch_size])
        yield self.X[batch_indices], self.y[batch_indices]


X, y = next(iter(data.train_dataloader()))
print('X shape:', X.shape, '\ny shape:', y.shape)
by_hand = [list(X.shape), list(y.shape)]
by_hand_batches = sum(1 for _ in data.val_dataloader())


@d2l.add_to_class(d2l.DataModule)
def get_tensorloader(self, tensors, train, indices=slice(0, None)):
    tensors = tuple(a[indices] for a in tensors)
    dataset = torch.utils.data.TensorDataset(*tensors)
    return torch.utils.data.DataLoader(dataset, self.batch_size,
                                       shuffle=train)


@d2l.add_to_class(SyntheticRegressionData)
def get_dataloader(self, train):  # noqa: F811 (the book's second version)
    i = slice(0, self.num_train) if train else slice(self.num_train, None)
    return self.get_tensorloader((self.X, self.y), train, i)


X, y = next(iter(data.train_dataloader()))
print('X shape:', X.shape, '\ny shape:', y.shape)

print(len(data.train_dataloader()))

residual = data.y - data.X @ torch.tensor([[2], [-3.4]]) - 4.2
print(json.dumps({
    "by_hand": by_hand, "by_hand_val_batches": by_hand_batches,
    "loader": [list(X.shape), list(y.shape)], "loader_type": type(data.train_dataloader()).__name__,
    "batches": len(data.train_dataloader()), "val_batches": len(data.val_dataloader()),
    "examples": len(data.X), "noise_std": residual.std().item(),
    "hparams": sorted(data.hparams)}))
