"""d2l 1.0, 3.5 concise linear regression, as the English edition writes it (PyTorch tab).

The section's ``LinearRegression`` is the one it saves into d2l, defined here as the book
defines it. Changed: the import line; added: a seed and a last line of JSON with the errors
the section prints and the last losses its board draws. The board is written to ``figures/``.
"""

import json

import numpy as np  # noqa: F401 (the section's imports)
import torch
from torch import nn

from shallowlab import d2l

torch.manual_seed(0)


class LinearRegression(d2l.Module):
    def __init__(self, lr):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.LazyLinear(1)
        self.net.weight.data.normal_(0, 0.01)
        self.net.bias.data.fill_(0)


@d2l.add_to_class(LinearRegression)
def forward(self, X):
    return self.net(X)


@d2l.add_to_class(LinearRegression)
def loss(self, y_hat, y):
    fn = nn.MSELoss()
    return fn(y_hat, y)


@d2l.add_to_class(LinearRegression)
def configure_optimizers(self):
    return torch.optim.SGD(self.parameters(), self.lr)


model = LinearRegression(lr=0.03)
data = d2l.SyntheticRegressionData(w=torch.tensor([2, -3.4]), b=4.2)
trainer = d2l.Trainer(max_epochs=3)
trainer.fit(model, data)


@d2l.add_to_class(LinearRegression)
def get_w_b(self):
    return (self.net.weight.data, self.net.bias.data)


w, b = model.get_w_b()

print(f'error in estimating w: {data.w - w.reshape(data.w.shape)}')
print(f'error in estimating b: {data.b - b}')

print(json.dumps({
    "w_error": (data.w - w.reshape(data.w.shape)).tolist(), "b_error": (data.b - b).item(),
    "w": w.reshape(-1).tolist(), "b": b.item(),
    "points": {k: len(v) for k, v in model.board.data.items()},
    "train_loss": model.board.data["train_loss"][-1].y,
    "val_loss": model.board.data["val_loss"][-1].y}))
