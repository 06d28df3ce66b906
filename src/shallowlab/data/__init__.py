"""Data: IDX files, Fashion-MNIST, synthetic data, and minibatches over in-memory tensors."""
