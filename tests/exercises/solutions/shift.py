"""Covariate shift: a detector (en-4.7.2) and a corrector (en-4.7.3)."""

import torch


def _fit(X, t, steps=500, lr=0.5, lambd=1e-2):
    X1 = torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype)], dim=1)
    w = torch.zeros(X1.shape[1], dtype=X.dtype)
    for _ in range(steps):
        w -= lr * (X1.T @ (torch.sigmoid(X1 @ w) - t) / len(X) + lambd * w)
    return lambda Z: torch.cat([Z, torch.ones(len(Z), 1, dtype=Z.dtype)], dim=1) @ w


def _pooled(source, target):
    X = torch.cat([source, target]).double()
    return X, torch.cat([torch.zeros(len(source)), torch.ones(len(target))]).double()


def shift_score(source, target):
    X, t = _pooled(source, target)
    order = torch.randperm(len(X), generator=torch.Generator().manual_seed(1))
    train, test = order[: len(X) // 2], order[len(X) // 2:]
    logit = _fit(X[train], t[train])
    return ((logit(X[test]) > 0).double() == t[test]).double().mean().item()


def score_in_sample(source, target):  # scored on its own training points
    X, t = _pooled(source, target)
    return ((_fit(X, t)(X) > 0).double() == t).double().mean().item()


def score_constant(source, target):
    return 0.5


def score_one_minus(source, target):
    return 1 - shift_score(source, target)


def shift_weights(source, target):
    X, t = _pooled(source, target)
    beta = torch.exp(_fit(X, t)(source.double()))
    return beta / beta.mean()


def weights_inverted(source, target):
    beta = 1 / shift_weights(source, target)
    return beta / beta.mean()


def weights_uniform(source, target):
    return torch.ones(len(source))


def weights_probabilities(source, target):  # P(target | x), not the ratio
    X, t = _pooled(source, target)
    return torch.sigmoid(_fit(X, t)(source.double()))
