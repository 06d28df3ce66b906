"""Session: the same settings give the same losses bit for bit (in two sessions, after reset,
whatever the global RNG does); step back restores the exact state; stop rules stop."""

from __future__ import annotations

import torch

from shallowlab.playground.session import Session
from shallowlab.playground.settings import Layer, Settings

SMALL = dict(points=200, layers=(Layer(6, "relu", 0.3), Layer(4, "tanh")))
KINDS = {
    "sgd": Settings(data="xor", **SMALL),
    "adam_l2": Settings(data="spiral", classes=3, optimizer="adam", lr=0.01, reg="l2",
                        reg_rate=0.01, **SMALL),
    "momentum_l1_mse": Settings(data="gauss", classes=4, loss="mse", optimizer="momentum",
                                reg="l1", reg_rate=0.001, noise=0.3, **SMALL),
    "scratch": Settings(data="circle", track="scratch", lr=0.1, reg="l2", reg_rate=0.01,
                        **SMALL),
    "regression": Settings(data="gaussians", loss="mse", features=("x1", "x2", "x1x2"),
                           **SMALL),
}


def _run(session, epochs=3, steps=7):
    for _ in range(epochs):
        session.epoch()
    session.step(steps)
    return list(session.losses)


def _state(session):
    return [p.detach().clone() for p in session.params]


def test_same_settings_same_losses_bit_for_bit_whatever_the_global_rng_does():
    for s in KINDS.values():
        torch.manual_seed(1)
        a = _run(Session(s))
        torch.manual_seed(2)
        torch.rand(100)
        b = _run(Session(s))
        assert a == b and len(a) == 4, s


def test_reset_gives_the_same_losses_again():
    for s in KINDS.values():
        session = Session(s)
        first = _run(session)
        session.reset()
        assert session.metrics()["step"] == 0 and session.losses == []
        assert _run(session) == first


def test_a_different_seed_gives_different_points_and_weights():
    a, b = Session(KINDS["sgd"]), Session(Settings(**{**KINDS["sgd"].to_json(), "seed": 1,
                                                      "layers": KINDS["sgd"].layers}))
    assert not torch.equal(a.raw["train"][0], b.raw["train"][0])
    assert not torch.equal(a.params[0], b.params[0])


def test_back_restores_weights_optimizer_state_and_generators_exactly():
    for name, s in KINDS.items():
        session = Session(s)
        _run(session, epochs=2, steps=3)
        before, metrics = _state(session), session.metrics()
        session.step()
        after, losses = _state(session), list(session.losses)
        assert session.back()
        assert all(torch.equal(x, y) for x, y in zip(_state(session), before)), name
        assert session.metrics() == metrics and session.losses == losses[:-1]
        session.step()  # the step after back() is the step before it
        assert all(torch.equal(x, y) for x, y in zip(_state(session), after)), name
        assert session.losses == losses


def test_back_undoes_an_epoch_and_runs_out_at_the_start():
    session = Session(KINDS["sgd"])
    start = _state(session)
    session.epoch()
    session.epoch()
    assert session.back() and session.metrics()["epoch"] == 1
    assert session.back() and session.metrics()["step"] == 0
    assert all(torch.equal(x, y) for x, y in zip(_state(session), start))
    assert not session.back()


def test_history_is_bounded_by_bytes():
    session = Session(Settings(layers=(Layer(64, "relu"),) * 6, optimizer="adam", points=60))
    for _ in range(60):
        session.step()
    assert 1 <= len(session.history) < 60
    assert session._history_bytes <= 4 * 2**20


def test_an_epoch_is_a_pass_over_the_training_set():
    session = Session(Settings(points=100, train_percent=50, batch=15))  # 50 points: 4 steps
    session.epoch()
    assert session.metrics()["step"] == 4 and session.metrics()["epoch"] == 1
    session.step(2)
    session.epoch()  # finishes the pass it is in
    assert session.metrics()["step"] == 8 and session.metrics()["epoch"] == 2


def test_metrics_are_the_losses_and_accuracies_of_the_whole_sets():
    session = Session(KINDS["sgd"])
    _run(session, epochs=1, steps=0)
    m = session.metrics()
    logits = session.net.eval()(session.X_test)
    acc = (logits.argmax(1) == session.y_test).float().mean().item()
    assert abs(m["test_acc"] - acc) < 1e-6
    assert abs(m["test_loss"] - torch.nn.functional.cross_entropy(logits, session.y_test)
               .item()) < 1e-6
    assert Session(KINDS["regression"]).metrics()["test_acc"] is None


def test_stop_rules():
    session = Session(Settings(data="xor", stop_steps=25, points=200))  # 10 steps an epoch
    for _ in range(3):
        session.epoch()
    assert session.metrics()["step"] == 25 and "25 steps" in session.stopped()
    session.epoch()
    assert session.metrics()["step"] == 25
    easy = Session(Settings(data="gauss", stop_acc=0.9, lr=0.1))
    for _ in range(20):
        easy.epoch()
    assert easy.stopped() and easy.metrics()["test_acc"] >= 0.9
    assert easy.metrics()["epoch"] < 20
    wild = Session(Settings(data="gaussians", loss="mse", lr=10.0, layers=(Layer(8, "relu"),),
                            features=("x1", "x2", "x1sq", "x2sq")))
    for _ in range(20):
        wild.epoch()
    assert wild.stopped() and "finite" in wild.stopped()


def test_points_json_splits_the_points():
    s = Settings(points=300, train_percent=30, data="spiral", classes=5)
    p = Session(s).points_json()
    assert len(p["train"]) == 90 and len(p["test"]) == 210
    assert {row[2] for row in p["train"] + p["test"]} == set(range(5))
    assert p["extent"] == [-6.0, 6.0, -6.0, 6.0] and p["classes"] == 5


def test_the_scratch_track_starts_where_the_concise_one_does_and_learns_the_same():
    """The same seed gives both tracks the same weights; SGD on the summed loss over B (the
    book's sgd) and on the mean loss (torch.optim) then agree to float32 rounding."""
    common = dict(data="gauss", classes=3, layers=(Layer(6, "tanh"), Layer(5, "relu")),
                  reg="l2", reg_rate=0.01, lr=0.1)
    concise = Session(Settings(**common))
    scratch = Session(Settings(track="scratch", **common))
    assert all(torch.equal(x, y) for a, b in zip(concise.layers(), scratch.layers())
               for x, y in zip(a, b))
    for session in (concise, scratch):
        session.step(20)
    for a, b in zip(concise.layers(), scratch.layers()):
        for x, y in zip(a, b):
            torch.testing.assert_close(x, y, rtol=1e-4, atol=1e-5)
    assert abs(concise.losses[-1][1] - scratch.losses[-1][1]) < 1e-5
