"""d2l 1.0, 4.5 concise softmax regression, as the English edition writes it (PyTorch tab).

The section's ``SoftmaxRegression`` and its ``Classifier.loss`` (which replaces
``d2l.Classifier``'s for the rest of the process) are the ones it saves into d2l, written here
as the book writes them. Changed from the book: the import line, the seed, 5 epochs instead of
10, and a last line of JSON with the numbers the board draws. The board is written to
``figures/``.
"""

import json

import torch
from torch import nn
from torch.nn import functional as F

from shallowlab import d2l

torch.manual_seed(0)


class SoftmaxRegression(d2l.Classifier):
    def __init__(self, num_outputs, lr):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Flatten(),
                                 nn.LazyLinear(num_outputs))

    def forward(self, X):
        return self.net(X)


@d2l.add_to_class(d2l.Classifier)
def loss(self, Y_hat, Y, averaged=True):
    Y_hat = Y_hat.reshape((-1, Y_hat.shape[-1]))
    Y = Y.reshape((-1,))
    return F.cross_entropy(
        Y_hat, Y, reduction='mean' if averaged else 'none')


data = d2l.FashionMNIST(batch_size=256)
model = SoftmaxRegression(num_outputs=10, lr=0.1)
trainer = d2l.Trainer(max_epochs=5)
trainer.fit(model, data)

print(json.dumps({
    "val_acc": [p.y for p in model.board.data["val_acc"]],
    "val_loss": [p.y for p in model.board.data["val_loss"]],
    "train_loss": model.board.data["train_loss"][-1].y,
    "points": {k: len(v) for k, v in model.board.data.items()}}))
