"""d2l 1.0, 5.2 implementation of multilayer perceptrons, as the English edition writes it.

``MLPScratch`` and ``MLP`` as the book defines them (PyTorch tab), each trained by the same
``Trainer``. Changed from the book: the import line, the seed, 4 epochs instead of 10, and a
last line of JSON with the numbers the boards draw. Both boards are written to ``figures/``.
"""

import json

import torch
from torch import nn

from shallowlab import d2l

torch.manual_seed(0)


class MLPScratch(d2l.Classifier):
    def __init__(self, num_inputs, num_outputs, num_hiddens, lr, sigma=0.01):
        super().__init__()
        self.save_hyperparameters()
        self.W1 = nn.Parameter(torch.randn(num_inputs, num_hiddens) * sigma)
        self.b1 = nn.Parameter(torch.zeros(num_hiddens))
        self.W2 = nn.Parameter(torch.randn(num_hiddens, num_outputs) * sigma)
        self.b2 = nn.Parameter(torch.zeros(num_outputs))


def relu(X):
    a = torch.zeros_like(X)
    return torch.max(X, a)


@d2l.add_to_class(MLPScratch)
def forward(self, X):
    X = X.reshape((-1, self.num_inputs))
    H = relu(torch.matmul(X, self.W1) + self.b1)
    return torch.matmul(H, self.W2) + self.b2


model = MLPScratch(num_inputs=784, num_outputs=10, num_hiddens=256, lr=0.1)
data = d2l.FashionMNIST(batch_size=256)
trainer = d2l.Trainer(max_epochs=4)
trainer.fit(model, data)
scratch = model


class MLP(d2l.Classifier):
    def __init__(self, num_outputs, num_hiddens, lr):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Flatten(), nn.LazyLinear(num_hiddens),
                                 nn.ReLU(), nn.LazyLinear(num_outputs))


model = MLP(num_outputs=10, num_hiddens=256, lr=0.1)
trainer.fit(model, data)


def board(model):
    return {"val_acc": [p.y for p in model.board.data["val_acc"]],
            "val_loss": [p.y for p in model.board.data["val_loss"]],
            "train_loss": model.board.data["train_loss"][-1].y,
            "points": {k: len(v) for k, v in model.board.data.items()}}


print(json.dumps({"scratch": board(scratch), "concise": board(model)}))
