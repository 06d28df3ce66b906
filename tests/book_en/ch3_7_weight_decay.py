"""d2l 1.0, 3.7 weight decay, as the English edition writes it (PyTorch tab).

The section's ``Data``, ``WeightDecayScratch`` and ``WeightDecay`` are defined as the book
defines them, on ``d2l.LinearRegressionScratch`` and ``d2l.LinearRegression``. Changed: the
import line; added: a seed, and the printed ``l2_penalty`` values (the book labels them "L2
norm of w"; they are half the squared norm) kept for a last line of JSON. Each of the three
boards is written to ``figures/``.
"""

import json

import torch
from torch import nn  # noqa: F401 (the section's imports)

from shallowlab import d2l

torch.manual_seed(0)


class Data(d2l.DataModule):
    def __init__(self, num_train, num_val, num_inputs, batch_size):
        self.save_hyperparameters()
        n = num_train + num_val
        self.X = torch.randn(n, num_inputs)
        noise = torch.randn(n, 1) * 0.01
        w, b = torch.ones((num_inputs, 1)) * 0.01, 0.05
        self.y = torch.matmul(self.X, w) + b + noise

    def get_dataloader(self, train):
        i = slice(0, self.num_train) if train else slice(self.num_train, None)
        return self.get_tensorloader([self.X, self.y], train, i)


def l2_penalty(w):
    return (w ** 2).sum() / 2


class WeightDecayScratch(d2l.LinearRegressionScratch):
    def __init__(self, num_inputs, lambd, lr, sigma=0.01):
        super().__init__(num_inputs, lr, sigma)
        self.save_hyperparameters()

    def loss(self, y_hat, y):
        return (super().loss(y_hat, y) +
                self.lambd * l2_penalty(self.w))


data = Data(num_train=20, num_val=100, num_inputs=200, batch_size=5)
trainer = d2l.Trainer(max_epochs=10)

results = {}


def train_scratch(lambd):
    model = WeightDecayScratch(num_inputs=200, lambd=lambd, lr=0.01)
    model.board.yscale = 'log'
    trainer.fit(model, data)
    print('L2 norm of w:', float(l2_penalty(model.w)))
    results[f"scratch {lambd}"] = {
        "l2_penalty": float(l2_penalty(model.w)),
        "train_loss": model.board.data["train_loss"][-1].y,
        "val_loss": model.board.data["val_loss"][-1].y}


train_scratch(0)
train_scratch(3)


class WeightDecay(d2l.LinearRegression):
    def __init__(self, wd, lr):
        super().__init__(lr)
        self.save_hyperparameters()
        self.wd = wd

    def configure_optimizers(self):
        return torch.optim.SGD([
            {'params': self.net.weight, 'weight_decay': self.wd},
            {'params': self.net.bias}], lr=self.lr)


model = WeightDecay(wd=3, lr=0.01)
model.board.yscale = 'log'
trainer.fit(model, data)

print('L2 norm of w:', float(l2_penalty(model.get_w_b()[0])))
results["concise 3"] = {
    "l2_penalty": float(l2_penalty(model.get_w_b()[0])),
    "train_loss": model.board.data["train_loss"][-1].y,
    "val_loss": model.board.data["val_loss"][-1].y}
print(json.dumps(results))
