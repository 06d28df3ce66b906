"""d2l 4.6, dropout, as the book writes it (PyTorch tab), from scratch and concisely.

Changed from the book: the import line, the seed, 4 epochs instead of 10, and a last line of
JSON with both test accuracies.
"""

import json

import torch
from torch import nn

from shallowlab import d2l

torch.manual_seed(0)


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:  # every element dropped
        return torch.zeros_like(X)
    if dropout == 0:  # every element kept
        return X
    mask = (torch.rand(X.shape) > dropout).float()
    return mask * X / (1.0 - dropout)


X = torch.arange(16, dtype=torch.float32).reshape((2, 8))
print(X)
print(dropout_layer(X, 0.))
print(dropout_layer(X, 0.5))
print(dropout_layer(X, 1.))

num_inputs, num_outputs, num_hiddens1, num_hiddens2 = 784, 10, 256, 256
dropout1, dropout2 = 0.2, 0.5


class Net(nn.Module):
    def __init__(self, num_inputs, num_outputs, num_hiddens1, num_hiddens2,
                 is_training=True):
        super().__init__()
        self.num_inputs = num_inputs
        self.training = is_training
        self.lin1 = nn.Linear(num_inputs, num_hiddens1)
        self.lin2 = nn.Linear(num_hiddens1, num_hiddens2)
        self.lin3 = nn.Linear(num_hiddens2, num_outputs)
        self.relu = nn.ReLU()

    def forward(self, X):
        H1 = self.relu(self.lin1(X.reshape((-1, self.num_inputs))))
        if self.training == True:  # noqa: E712 (the book's test) dropout only while training
            H1 = dropout_layer(H1, dropout1)
        H2 = self.relu(self.lin2(H1))
        if self.training == True:  # noqa: E712
            H2 = dropout_layer(H2, dropout2)
        return self.lin3(H2)


net = Net(num_inputs, num_outputs, num_hiddens1, num_hiddens2)

num_epochs, lr, batch_size = 4, 0.5, 256
loss = nn.CrossEntropyLoss(reduction='none')
train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size)
trainer = torch.optim.SGD(net.parameters(), lr=lr)
d2l.train_ch3(net, train_iter, test_iter, loss, num_epochs, trainer)
scratch = d2l.evaluate_accuracy(net, test_iter)

net = nn.Sequential(nn.Flatten(),
                    nn.Linear(784, 256),
                    nn.ReLU(),
                    nn.Dropout(dropout1),  # dropout after the first hidden layer
                    nn.Linear(256, 256),
                    nn.ReLU(),
                    nn.Dropout(dropout2),  # dropout after the second hidden layer
                    nn.Linear(256, 10))


def init_weights(m):
    if type(m) == nn.Linear:  # noqa: E721 (the book's test)
        nn.init.normal_(m.weight, std=0.01)


net.apply(init_weights)

trainer = torch.optim.SGD(net.parameters(), lr=lr)
d2l.train_ch3(net, train_iter, test_iter, loss, num_epochs, trainer)

print(json.dumps({"scratch_test_acc": scratch,
                  "concise_test_acc": d2l.evaluate_accuracy(net, test_iter)}))
