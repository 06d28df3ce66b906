"""d2l 1.0, 4.3 the base classification model, as the English edition writes it (PyTorch tab).

The section defines ``Classifier`` and saves it into d2l, replaces ``d2l.Module``'s
``configure_optimizers`` and gives ``Classifier`` its ``accuracy``; all of it is written here
as the book writes it. The section runs nothing; added: a seed and a few lines that use what
it defines (the accuracy of the two predictions of section 4.1, the optimizer the new
``configure_optimizers`` builds, and ``d2l.Classifier`` for comparison), with a last line of
JSON. Changed: the import line.
"""

import json

import torch

from shallowlab import d2l

torch.manual_seed(0)


class Classifier(d2l.Module):
    def validation_step(self, batch):
        Y_hat = self(*batch[:-1])
        self.plot('loss', self.loss(Y_hat, batch[-1]), train=False)
        self.plot('acc', self.accuracy(Y_hat, batch[-1]), train=False)


@d2l.add_to_class(d2l.Module)
def configure_optimizers(self):
    return torch.optim.SGD(self.parameters(), lr=self.lr)


@d2l.add_to_class(Classifier)
def accuracy(self, Y_hat, Y, averaged=True):
    Y_hat = Y_hat.reshape((-1, Y_hat.shape[-1]))
    preds = Y_hat.argmax(axis=1).type(Y.dtype)
    compare = (preds == Y.reshape(-1)).type(torch.float32)
    return compare.mean() if averaged else compare


# Not in the section: what it defines, used.
class Toy(Classifier):
    def __init__(self, lr):
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Linear(3, 3)


y = torch.tensor([0, 2])
y_hat = torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]])
model = Toy(lr=0.1)
optim = model.configure_optimizers()
print(model.accuracy(y_hat, y), model.accuracy(y_hat, y, averaged=False))
print(json.dumps({
    "accuracy": model.accuracy(y_hat, y).item(),
    "per_example": model.accuracy(y_hat, y, averaged=False).tolist(),
    "d2l_accuracy": d2l.Classifier().accuracy(y_hat, y).item(),
    "optimizer": [type(optim).__name__, optim.param_groups[0]["lr"],
                  len(optim.param_groups[0]["params"])],
    "replaced": d2l.Module.configure_optimizers.__module__ == "__main__"}))
