"""d2l 1.0, 5.6 dropout, as the English edition writes it (PyTorch tab).

``dropout_layer``, ``DropoutMLPScratch`` and ``DropoutMLP`` as the book defines them, each
trained by the same ``Trainer``. Changed from the book: the import line, the seed, 3 epochs
instead of 10, and a last line of JSON with what the section prints and the boards draw. Both
boards are written to ``figures/``.
"""

import json

import torch
from torch import nn

from shallowlab import d2l

torch.manual_seed(0)


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1: return torch.zeros_like(X)  # noqa: E701 (the book's line)
    mask = (torch.rand(X.shape) > dropout).float()
    return mask * X / (1.0 - dropout)


X = torch.arange(16, dtype = torch.float32).reshape((2, 8))
print('dropout_p = 0:', dropout_layer(X, 0))
print('dropout_p = 0.5:', dropout_layer(X, 0.5))
print('dropout_p = 1:', dropout_layer(X, 1))
half = dropout_layer(X, 0.5)
toy = {"p0": dropout_layer(X, 0).tolist(), "p1": dropout_layer(X, 1).tolist(),
       "p05_kept": ((half == 2 * X) | (half == 0)).all().item(),
       "p05_zeros": int((half[X > 0] == 0).sum())}


class DropoutMLPScratch(d2l.Classifier):
    def __init__(self, num_outputs, num_hiddens_1, num_hiddens_2,
                 dropout_1, dropout_2, lr):
        super().__init__()
        self.save_hyperparameters()
        self.lin1 = nn.LazyLinear(num_hiddens_1)
        self.lin2 = nn.LazyLinear(num_hiddens_2)
        self.lin3 = nn.LazyLinear(num_outputs)
        self.relu = nn.ReLU()

    def forward(self, X):
        H1 = self.relu(self.lin1(X.reshape((X.shape[0], -1))))
        if self.training:
            H1 = dropout_layer(H1, self.dropout_1)
        H2 = self.relu(self.lin2(H1))
        if self.training:
            H2 = dropout_layer(H2, self.dropout_2)
        return self.lin3(H2)


hparams = {'num_outputs':10, 'num_hiddens_1':256, 'num_hiddens_2':256,
           'dropout_1':0.5, 'dropout_2':0.5, 'lr':0.1}
model = DropoutMLPScratch(**hparams)
data = d2l.FashionMNIST(batch_size=256)
trainer = d2l.Trainer(max_epochs=3)
trainer.fit(model, data)
scratch = model


class DropoutMLP(d2l.Classifier):
    def __init__(self, num_outputs, num_hiddens_1, num_hiddens_2,
                 dropout_1, dropout_2, lr):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(
            nn.Flatten(), nn.LazyLinear(num_hiddens_1), nn.ReLU(),
            nn.Dropout(dropout_1), nn.LazyLinear(num_hiddens_2), nn.ReLU(),
            nn.Dropout(dropout_2), nn.LazyLinear(num_outputs))


model = DropoutMLP(**hparams)
trainer.fit(model, data)


def board(model):
    return {"val_acc": [p.y for p in model.board.data["val_acc"]],
            "val_loss": [p.y for p in model.board.data["val_loss"]],
            "train_loss": model.board.data["train_loss"][-1].y,
            "points": {k: len(v) for k, v in model.board.data.items()}}


print(json.dumps({"toy": toy, "scratch": board(scratch), "concise": board(model)}))
