"""d2l 4.4, model selection, underfitting and overfitting, as the book writes it (PyTorch tab).

Polynomial regression: a cubic fitted with the right number of features (normal), with too
few (underfitting) and with too many (overfitting), the book's epochs. Changed from the book:
the import line, the seeds, and the numbers each fit shows collected into a last line of JSON.
"""

import json
import math

import numpy as np
import torch
from torch import nn

from shallowlab import d2l

np.random.seed(0)
torch.manual_seed(0)

max_degree = 20  # the largest degree of the polynomial
n_train, n_test = 100, 100  # the sizes of the training and test sets
true_w = np.zeros(max_degree)  # room for the coefficients
true_w[0:4] = np.array([5, 1.2, -3.4, 5.6])

features = np.random.normal(size=(n_train + n_test, 1))
np.random.shuffle(features)
poly_features = np.power(features, np.arange(max_degree).reshape(1, -1))
for i in range(max_degree):
    poly_features[:, i] /= math.gamma(i + 1)  # gamma(n) = (n - 1)!
labels = np.dot(poly_features, true_w)
labels += np.random.normal(scale=0.1, size=labels.shape)

true_w, features, poly_features, labels = [torch.tensor(x, dtype=torch.float32)
                                           for x in [true_w, features, poly_features, labels]]
print(features[:2], poly_features[:2, :], labels[:2])


def evaluate_loss(net, data_iter, loss):
    """The loss of a model on a data set."""
    metric = d2l.Accumulator(2)  # the sum of the losses, their number
    for X, y in data_iter:
        out = net(X)
        y = d2l.reshape(y, out.shape)
        l = loss(out, y)
        metric.add(d2l.reduce_sum(l), d2l.size(l))
    return metric[0] / metric[1]


results = []


def train(train_features, test_features, train_labels, test_labels, num_epochs=400):
    loss = nn.MSELoss(reduction='none')
    input_shape = train_features.shape[-1]
    # no bias: the polynomial's features already hold it
    net = nn.Sequential(nn.Linear(input_shape, 1, bias=False))
    batch_size = min(10, train_labels.shape[0])
    train_iter = d2l.load_array((train_features, train_labels.reshape(-1, 1)), batch_size)
    test_iter = d2l.load_array((test_features, test_labels.reshape(-1, 1)), batch_size,
                               is_train=False)
    trainer = torch.optim.SGD(net.parameters(), lr=0.01)
    animator = d2l.Animator(xlabel='epoch', ylabel='loss', yscale='log',
                            xlim=[1, num_epochs], ylim=[1e-3, 1e2],
                            legend=['train', 'test'])
    for epoch in range(num_epochs):
        d2l.train_epoch_ch3(net, train_iter, loss, trainer)
        if epoch == 0 or (epoch + 1) % 20 == 0:
            animator.add(epoch + 1, (evaluate_loss(net, train_iter, loss),
                                     evaluate_loss(net, test_iter, loss)))
    print('weight:', net[0].weight.data.numpy())
    results.append({"weight": net[0].weight.data.reshape(-1).tolist(),
                    "train_loss": animator.Y[0][-1], "test_loss": animator.Y[1][-1],
                    "d2l_test_loss": d2l.evaluate_loss(net, test_iter, loss)})


# the first four features: 1, x, x^2/2!, x^3/3!, the cubic's own
train(poly_features[:n_train, :4], poly_features[n_train:, :4],
      labels[:n_train], labels[n_train:])
# the first two features only: too few
train(poly_features[:n_train, :2], poly_features[n_train:, :2],
      labels[:n_train], labels[n_train:])
# all twenty features: too many
train(poly_features[:n_train, :], poly_features[n_train:, :],
      labels[:n_train], labels[n_train:], num_epochs=1500)

print(json.dumps(dict(zip(["normal", "underfit", "overfit"], results))))
