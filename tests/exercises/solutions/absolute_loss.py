"""The absolute-value loss (en-3.4.8a)."""


def absolute_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)).abs()


def no_reshape(y_hat, y):  # (n, 1) - (n,) broadcasts to (n, n)
    return (y_hat - y).abs()


def squared(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2


def summed(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)).abs().sum()
