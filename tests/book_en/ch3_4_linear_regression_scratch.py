"""d2l 1.0, 3.4 linear regression from scratch, as the English edition writes it (PyTorch tab).

The section's ``LinearRegressionScratch`` and ``SGD`` are the ones it saves into d2l, defined
here as the book defines them; so are its ``Trainer.prepare_batch`` and ``Trainer.fit_epoch``,
which replace shallowlab's for the rest of the process, as they replace the book's stubs.
Changed: the import line; added: a seed and a last line of JSON with the errors the section
prints and the last losses its board draws. The board is written to ``figures/``.
"""

import json

import torch

from shallowlab import d2l

torch.manual_seed(0)


class LinearRegressionScratch(d2l.Module):
    def __init__(self, num_inputs, lr, sigma=0.01):
        super().__init__()
        self.save_hyperparameters()
        self.w = torch.normal(0, sigma, (num_inputs, 1), requires_grad=True)
        self.b = torch.zeros(1, requires_grad=True)


@d2l.add_to_class(LinearRegressionScratch)
def forward(self, X):
    return torch.matmul(X, self.w) + self.b


@d2l.add_to_class(LinearRegressionScratch)
def loss(self, y_hat, y):
    l = (y_hat - y) ** 2 / 2
    return l.mean()


class SGD(d2l.HyperParameters):
    def __init__(self, params, lr):
        self.save_hyperparameters()

    def step(self):
        for param in self.params:
            param -= self.lr * param.grad

    def zero_grad(self):
        for param in self.params:
            if param.grad is not None:
                param.grad.zero_()


@d2l.add_to_class(LinearRegressionScratch)
def configure_optimizers(self):
    return SGD([self.w, self.b], self.lr)


@d2l.add_to_class(d2l.Trainer)
def prepare_batch(self, batch):
    return batch


@d2l.add_to_class(d2l.Trainer)
def fit_epoch(self):
    self.model.train()
    for batch in self.train_dataloader:
        loss = self.model.training_step(self.prepare_batch(batch))
        self.optim.zero_grad()
        with torch.no_grad():
            loss.backward()
            if self.gradient_clip_val > 0:  # To be discussed later
                self.clip_gradients(self.gradient_clip_val, self.model)
            self.optim.step()
        self.train_batch_idx += 1
    if self.val_dataloader is None:
        return
    self.model.eval()
    for batch in self.val_dataloader:
        with torch.no_grad():
            self.model.validation_step(self.prepare_batch(batch))
        self.val_batch_idx += 1


model = LinearRegressionScratch(2, lr=0.03)
data = d2l.SyntheticRegressionData(w=torch.tensor([2, -3.4]), b=4.2)
trainer = d2l.Trainer(max_epochs=3)
trainer.fit(model, data)

with torch.no_grad():
    print(f'error in estimating w: {data.w - model.w.reshape(data.w.shape)}')
    print(f'error in estimating b: {data.b - model.b}')

    print(json.dumps({
        "w_error": (data.w - model.w.reshape(data.w.shape)).tolist(),
        "b_error": (data.b - model.b).item(),
        "w": model.w.reshape(-1).tolist(), "b": model.b.item(),
        "points": {k: len(v) for k, v in model.board.data.items()},
        "train_loss": model.board.data["train_loss"][-1].y,
        "val_loss": model.board.data["val_loss"][-1].y}))
