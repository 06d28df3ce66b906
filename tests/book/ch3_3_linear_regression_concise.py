"""d2l 3.3, concise linear regression, as the book writes it (PyTorch tab).

Changed from the book: the import line (``from shallowlab import d2l``), the seed, and a last
line of JSON with the numbers the book prints.
"""

import json

import torch
from torch import nn

from shallowlab import d2l

torch.manual_seed(0)

true_w = torch.tensor([2, -3.4])
true_b = 4.2
features, labels = d2l.synthetic_data(true_w, true_b, 1000)


def load_array(data_arrays, batch_size, is_train=True):
    """Construct a PyTorch data iterator (here: shallowlab's, as d2l.load_array is)."""
    return d2l.load_array(data_arrays, batch_size, is_train)


batch_size = 10
data_iter = load_array((features, labels), batch_size)
first = next(iter(data_iter))
print(first)

net = nn.Sequential(nn.Linear(2, 1))
net[0].weight.data.normal_(0, 0.01)
net[0].bias.data.fill_(0)
loss = nn.MSELoss()
trainer = torch.optim.SGD(net.parameters(), lr=0.03)

num_epochs = 3
for epoch in range(num_epochs):
    for X, y in data_iter:
        l = loss(net(X), y)
        trainer.zero_grad()
        l.backward()
        trainer.step()
    l = loss(net(features), labels)
    print(f'epoch {epoch + 1}, loss {l:f}')

w = net[0].weight.data
print('error in estimating w:', true_w - w.reshape(true_w.shape))
b = net[0].bias.data
print('error in estimating b:', true_b - b)
print(json.dumps({"w": w.reshape(-1).tolist(), "b": float(b), "loss": float(l.detach()),
                  "first_batch": [list(t.shape) for t in first],
                  "batches": len(data_iter), "examples": len(data_iter.dataset)}))
