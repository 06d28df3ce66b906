"""d2l 3.6, softmax regression from scratch, as the book writes it (PyTorch tab).

The section's own ``accuracy``, ``evaluate_accuracy``, ``Accumulator``, ``train_epoch_ch3``,
``Animator``, ``train_ch3`` and ``predict_ch3`` are the ones it saves into d2l; they are called
here as ``d2l.*``, as the later sections call them. Changed from the book: the import line, the
seed, 6 epochs instead of 10, and a last line of JSON with the numbers the book shows.
"""

import json

import torch

from shallowlab import d2l

torch.manual_seed(0)

batch_size = 256
train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size)

num_inputs = 784
num_outputs = 10
W = torch.normal(0, 0.01, size=(num_inputs, num_outputs), requires_grad=True)
b = torch.zeros(num_outputs, requires_grad=True)


def softmax(X):
    X_exp = torch.exp(X)
    partition = X_exp.sum(1, keepdim=True)
    return X_exp / partition  # broadcasting divides each row by its sum


X = torch.normal(0, 1, (2, 5))
X_prob = softmax(X)
print(X_prob, X_prob.sum(1))


def net(X):
    return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)


def cross_entropy(y_hat, y):
    return - torch.log(y_hat[range(len(y_hat)), y])


y = torch.tensor([0, 2])
y_hat = torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]])
print(cross_entropy(y_hat, y))
print(d2l.accuracy(y_hat, y) / len(y))
print(d2l.evaluate_accuracy(net, test_iter))
untrained = d2l.evaluate_accuracy(net, test_iter)

lr = 0.1


def updater(batch_size):
    return d2l.sgd([W, b], lr, batch_size)


num_epochs = 6
d2l.train_ch3(net, train_iter, test_iter, cross_entropy, num_epochs, updater)
d2l.predict_ch3(net, test_iter)

print(json.dumps({"toy_accuracy": d2l.accuracy(y_hat, y) / len(y), "untrained": untrained,
                  "test_acc": d2l.evaluate_accuracy(net, test_iter)}))
