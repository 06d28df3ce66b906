"""d2l 4.3, the concise multilayer perceptron, as the book writes it (PyTorch tab).

Changed from the book: the import line, the seed, 5 epochs instead of 10, and a last line of
JSON with the test accuracy.
"""

import json

import torch
from torch import nn

from shallowlab import d2l

torch.manual_seed(0)

net = nn.Sequential(nn.Flatten(),
                    nn.Linear(784, 256),
                    nn.ReLU(),
                    nn.Linear(256, 10))


def init_weights(m):
    if type(m) == nn.Linear:  # noqa: E721 (the book's test)
        nn.init.normal_(m.weight, std=0.01)


net.apply(init_weights)

batch_size, lr, num_epochs = 256, 0.1, 5
loss = nn.CrossEntropyLoss(reduction='none')
trainer = torch.optim.SGD(net.parameters(), lr=lr)

train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size)
d2l.train_ch3(net, train_iter, test_iter, loss, num_epochs, trainer)

print(json.dumps({"test_acc": d2l.evaluate_accuracy(net, test_iter)}))
