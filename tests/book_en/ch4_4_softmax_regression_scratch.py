"""d2l 1.0, 4.4 softmax regression from scratch, as the English edition writes it (PyTorch tab).

Changed from the book: the import line, the seed, 5 epochs instead of 10 (each ends with the
validation accuracy the board draws), ``print`` around what a notebook cell would show, and a
last line of JSON with the numbers the section shows. The board and the misclassified images
are written to ``figures/``.
"""

import json

import torch

from shallowlab import d2l

torch.manual_seed(0)

X = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
print(X.sum(0, keepdims=True), X.sum(1, keepdims=True))


def softmax(X):
    X_exp = torch.exp(X)
    partition = X_exp.sum(1, keepdims=True)
    return X_exp / partition  # The broadcasting mechanism is applied here


X = torch.rand((2, 5))
X_prob = softmax(X)
print(X_prob, X_prob.sum(1))
row_sums = X_prob.sum(1).tolist()


class SoftmaxRegressionScratch(d2l.Classifier):
    def __init__(self, num_inputs, num_outputs, lr, sigma=0.01):
        super().__init__()
        self.save_hyperparameters()
        self.W = torch.normal(0, sigma, size=(num_inputs, num_outputs),
                              requires_grad=True)
        self.b = torch.zeros(num_outputs, requires_grad=True)

    def parameters(self):
        return [self.W, self.b]


@d2l.add_to_class(SoftmaxRegressionScratch)
def forward(self, X):
    X = X.reshape((-1, self.W.shape[0]))
    return softmax(torch.matmul(X, self.W) + self.b)


y = torch.tensor([0, 2])
y_hat = torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]])
print(y_hat[[0, 1], y])


def cross_entropy(y_hat, y):
    return -torch.log(y_hat[list(range(len(y_hat))), y]).mean()


print(cross_entropy(y_hat, y))
toy_loss = cross_entropy(y_hat, y).item()


@d2l.add_to_class(SoftmaxRegressionScratch)
def loss(self, y_hat, y):
    return cross_entropy(y_hat, y)


data = d2l.FashionMNIST(batch_size=256)
model = SoftmaxRegressionScratch(num_inputs=784, num_outputs=10, lr=0.1)
trainer = d2l.Trainer(max_epochs=5)
trainer.fit(model, data)

X, y = next(iter(data.val_dataloader()))
preds = model(X).argmax(axis=1)
print(preds.shape)
preds_shape = list(preds.shape)

wrong = preds.type(y.dtype) != y
X, y, preds = X[wrong], y[wrong], preds[wrong]
labels = [a+'\n'+b for a, b in zip(
    data.text_labels(y), data.text_labels(preds))]
data.visualize([X, y], labels=labels)

print(json.dumps({
    "row_sums": row_sums, "toy_loss": toy_loss, "preds_shape": preds_shape,
    "wrong_in_first_batch": int(wrong.sum()),
    "val_acc": [p.y for p in model.board.data["val_acc"]],
    "val_loss": [p.y for p in model.board.data["val_loss"]],
    "train_loss": model.board.data["train_loss"][-1].y,
    "points": {k: len(v) for k, v in model.board.data.items()}}))
