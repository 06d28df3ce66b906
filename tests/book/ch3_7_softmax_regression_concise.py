"""d2l 3.7, concise softmax regression, as the book writes it (PyTorch tab).

Changed from the book: the import line, the seed, 6 epochs instead of 10, and a last line of
JSON with the test accuracy.
"""

import json

import torch
from torch import nn

from shallowlab import d2l

torch.manual_seed(0)

batch_size = 256
train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size)

# PyTorch does not reshape the inputs implicitly: a flatten layer comes before the linear one
net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))


def init_weights(m):
    if type(m) == nn.Linear:  # noqa: E721 (the book's test)
        nn.init.normal_(m.weight, std=0.01)


net.apply(init_weights)

loss = nn.CrossEntropyLoss(reduction='none')
trainer = torch.optim.SGD(net.parameters(), lr=0.1)

num_epochs = 6
d2l.train_ch3(net, train_iter, test_iter, loss, num_epochs, trainer)

print(json.dumps({"test_acc": d2l.evaluate_accuracy(net, test_iter)}))
