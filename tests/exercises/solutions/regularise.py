"""The L1 step (en-3.7.3), dropout on weights (en-5.6.6), a noise layer (en-5.6.7)."""

import torch


def l1_step(w, grad, lr, lambd):
    return w - lr * (grad + lambd * torch.sign(w))


def l1_is_l2(w, grad, lr, lambd):
    return w - lr * (grad + lambd * w)


def l1_lr_forgotten(w, grad, lr, lambd):
    return w - lr * grad - lambd * torch.sign(w)


def l1_wrong_sign(w, grad, lr, lambd):
    return w - lr * (grad - lambd * torch.sign(w))


def drop_weights(W, p, generator):
    if p == 1:
        return torch.zeros_like(W)
    mask = torch.rand(W.shape, generator=generator) >= p
    return W * mask / (1 - p)


def drop_unscaled(W, p, generator):
    return W * (torch.rand(W.shape, generator=generator) >= p)


def drop_rows(W, p, generator):  # dropout of units, not of weights
    if p == 1:
        return torch.zeros_like(W)
    mask = torch.rand(W.shape[0], 1, generator=generator) >= p
    return W * mask / (1 - p)


def drop_nan_at_one(W, p, generator):  # 0/0 at p = 1
    return W * (torch.rand(W.shape, generator=generator) >= p) / (1 - p)


def drop_keeps_p(W, p, generator):  # p taken as the probability of keeping
    return W * (torch.rand(W.shape, generator=generator) < p) / max(p, 1e-12)


def noise(X, p, training, generator):
    if not training or p == 0:
        return X
    return X * (1 + torch.randn(X.shape, generator=generator) * (p / (1 - p)) ** 0.5)


def noise_dropout_unscaled(X, p, training, generator):
    if not training:
        return X
    return X * (torch.rand(X.shape, generator=generator) >= p)


def noise_always_on(X, p, training, generator):
    return noise(X, p, True, generator)


def noise_biased(X, p, training, generator):  # adds |e|: the mean moves up
    if not training:
        return X
    return X + p * torch.randn(X.shape, generator=generator).abs()


def noise_none(X, p, training, generator):
    return X
