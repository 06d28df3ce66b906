"""The book's facade, piece by piece: each name does what d2l 0.17.6's does, and no more."""

from __future__ import annotations

import os
import subprocess
import sys
import types

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from shallowlab import d2l
from shallowlab.core import timing
from shallowlab.d2l import _figures, _train
from shallowlab.data.idx import read_images, read_labels
from shallowlab.errors import ShallowlabError

pytestmark = pytest.mark.book  # also run on Python 3.13 (make test-py313)


@pytest.fixture
def figures(tmp_path, monkeypatch):
    """PNGs go to a fresh folder; rcParams (``set_figsize``) are restored and every figure is
    closed afterwards, so none is left to be saved at exit."""
    folder = tmp_path / "figs"
    monkeypatch.setenv("SHALLOWLAB_FIGURES", str(folder))
    with d2l.plt.rc_context():
        yield folder
    d2l.plt.close("all")


def pngs(folder):
    return sorted(folder.glob("*.png"))


# --- the book's small pieces ---------------------------------------------------------------


def test_accuracy_is_a_count_like_the_books():
    y = torch.tensor([0, 2, 1])
    y_hat = torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5], [0.1, 0.8, 0.1]])
    assert d2l.accuracy(y_hat, y) == 2.0 and isinstance(d2l.accuracy(y_hat, y), float)
    assert d2l.accuracy(torch.tensor([0, 2, 2]), y) == 2.0  # labels already, not scores


def test_accumulator_sums_and_resets():
    acc = d2l.Accumulator(2)
    acc.add(1, torch.tensor(2.5, requires_grad=True))
    acc.add(3.0, 1)
    assert (acc[0], acc[1], acc[:]) == (4.0, 3.5, [4.0, 3.5])
    acc.reset()
    assert acc.data == [0.0, 0.0]


def test_timer_records_each_run(monkeypatch):
    clock = iter([0.0, 1.0, 5.0, 7.0])
    monkeypatch.setattr(timing.time, "perf_counter", lambda: next(clock))
    timer = d2l.Timer()  # starts at 0
    assert timer.stop() == 1.0
    timer.start()  # at 5
    assert timer.stop() == 2.0
    assert (timer.sum(), timer.avg(), timer.cumsum()) == (3.0, 1.5, [1.0, 3.0])


def test_linreg_squared_loss_and_sgd_are_the_books_formulas():
    X, w, b = torch.randn(4, 2), torch.randn(2, 1, requires_grad=True), torch.zeros(1)
    assert torch.equal(d2l.linreg(X, w, b), torch.matmul(X, w) + b)
    y = torch.randn(4)
    assert torch.equal(d2l.squared_loss(d2l.linreg(X, w, b), y),
                       (d2l.linreg(X, w, b) - y.reshape(4, 1)) ** 2 / 2)
    d2l.squared_loss(d2l.linreg(X, w, b), y).sum().backward()
    before, grad = w.detach().clone(), w.grad.clone()
    d2l.sgd([w], lr=0.3, batch_size=4)
    torch.testing.assert_close(w.detach(), before - 0.3 * grad / 4)
    assert torch.equal(w.grad, torch.zeros_like(w))  # cleared for the next step


@pytest.mark.parametrize("w", [torch.tensor([2, -3.4]), torch.ones((200, 1)) * 0.01])
def test_synthetic_data_has_the_books_shapes_and_noise(w):
    torch.manual_seed(0)
    X, y = d2l.synthetic_data(w, 4.2, 5000)
    assert X.shape == (5000, len(w)) and y.shape == (5000, 1)
    noise = y - d2l.linreg(X, w.reshape(-1, 1), 4.2)
    assert abs(noise.mean()) < 1e-3 and 0.009 < noise.std() < 0.011


def test_tensor_aliases_are_the_books():
    x = torch.arange(6.0, requires_grad=True)
    assert d2l.reshape(x, (2, 3)).shape == (2, 3)
    assert d2l.reduce_sum(d2l.reshape(x, (2, 3)), axis=1).tolist() == [3.0, 12.0]
    assert d2l.reduce_mean(x).item() == 2.5
    assert d2l.argmax(d2l.reshape(x, (2, 3)), axis=1).tolist() == [2, 2]
    assert d2l.astype(x, torch.int32).dtype == d2l.int32
    assert d2l.size(d2l.reshape(x, (2, 3))) == 6
    assert isinstance(d2l.numpy(x), np.ndarray)  # detached first, as the book's
    assert d2l.transpose(d2l.ones((2, 3))).shape == (3, 2)
    assert (d2l.float32, d2l.matmul, d2l.exp, d2l.log, d2l.normal) == \
        (torch.float32, torch.matmul, torch.exp, torch.log, torch.normal)
    assert d2l.tensor([1]).dtype == torch.int64 and d2l.zeros(2).sum() == 0


def test_devices_fall_back_to_the_cpu_without_a_gpu():
    if torch.cuda.device_count() == 0:
        assert d2l.try_gpu() == torch.device("cpu") and d2l.try_gpu(3) == torch.device("cpu")
        assert d2l.try_all_gpus() == [torch.device("cpu")]
    else:
        assert d2l.try_gpu() == torch.device("cuda:0")
        assert len(d2l.try_all_gpus()) == torch.cuda.device_count()


def test_batches_follow_a_modules_parameters_and_nothing_else():
    net = nn.Linear(2, 1).to("meta")  # a device other than the CPU, on any machine
    X, y = torch.ones(3, 2), torch.zeros(3)
    device = _train.device_of(net)
    assert device == torch.device("meta")
    assert all(t.device.type == "meta" for t in _train._to(device, X, y))
    assert _train.device_of(nn.Linear(2, 1)) is None  # on the CPU: nothing moves
    assert _train.device_of(lambda X: X) is None  # the book's scratch nets: plain functions


def test_fashion_mnist_labels():
    assert d2l.get_fashion_mnist_labels(torch.tensor([0, 9, 5])) == \
        ["t-shirt", "ankle boot", "sandal"]
    assert d2l.get_dataloader_workers() == 4


# --- data ------------------------------------------------------------------------------------


def test_load_array_shuffles_only_for_training():
    X, y = torch.arange(10.0).reshape(10, 1), torch.arange(10)
    test = d2l.load_array((X, y), 4, is_train=False)
    assert len(test) == 3 and len(test.dataset) == 10
    batches = list(test)
    assert [len(b[1]) for b in batches] == [4, 4, 2] and isinstance(batches[0], list)
    assert torch.cat([b[1] for b in batches]).tolist() == list(range(10))
    torch.manual_seed(0)
    train = d2l.load_array((X, y), 4)
    first, second = (torch.cat([b[1] for b in train]) for _ in range(2))
    assert sorted(first.tolist()) == sorted(second.tolist()) == list(range(10))
    assert first.tolist() != second.tolist()  # a new order each pass
    for Xb, yb in train:
        assert torch.equal(Xb[:, 0].long(), yb)  # rows stay together
    torch.manual_seed(0)
    assert torch.cat([b[1] for b in train]).tolist() == first.tolist()  # the seed fixes it


def test_load_data_fashion_mnist_is_the_books_loader(toy_data, monkeypatch):
    monkeypatch.setenv("SHALLOWLAB_DATA", str(toy_data))
    train_iter, test_iter = d2l.load_data_fashion_mnist(256)
    assert (len(train_iter.dataset), len(test_iter.dataset)) == (600, 200)
    assert (len(train_iter), len(test_iter)) == (3, 1)  # ceil(600 / 256), ceil(200 / 256)
    X, y = next(iter(train_iter))
    assert (X.shape, X.dtype, y.shape, y.dtype) == \
        ((256, 1, 28, 28), torch.float32, (256,), torch.int64)
    assert 0 <= X.min() and X.max() <= 1
    images = torch.from_numpy(read_images(toy_data / "t10k-images-idx3-ubyte.gz"))
    labels = torch.from_numpy(read_labels(toy_data / "t10k-labels-idx1-ubyte.gz", 10))
    Xt, yt = next(iter(test_iter))
    torch.testing.assert_close(Xt, images.unsqueeze(1).float() / 255)  # in order, ToTensor's
    assert torch.equal(yt, labels.long())
    orders = [torch.cat([b[1] for b in train_iter]) for _ in range(2)]
    assert orders[0].tolist() != orders[1].tolist()  # reshuffled every epoch
    assert sorted(orders[0].tolist()) == sorted(train_iter.dataset.targets.tolist())
    image, label = test_iter.dataset[3]
    assert image.shape == (1, 28, 28) and label == int(labels[3])
    assert train_iter.dataset.classes[9] == "ankle boot"


@pytest.mark.parametrize("size", [64, 14, (20, 36)])
def test_resize_matches_the_books_pil_resize(toy_data, monkeypatch, size):
    """torchvision's Resize on a PIL image is PIL's bilinear resize; the same pixels here."""
    monkeypatch.setenv("SHALLOWLAB_DATA", str(toy_data))
    _, test_iter = d2l.load_data_fashion_mnist(32, resize=size)
    X, _ = next(iter(test_iter))
    h, w = (size, size) if isinstance(size, int) else size
    assert X.shape == (32, 1, h, w) and test_iter.dataset[0][0].shape == (1, h, w)
    raw = test_iter.dataset.data[:32].numpy()
    pil = np.stack([np.asarray(Image.fromarray(img).resize((w, h), Image.BILINEAR))
                    for img in raw]) / 255
    assert np.abs(X[:, 0].numpy() - pil).max() <= 2 / 255  # PIL rounds to whole grey levels


@pytest.mark.data
def test_load_data_fashion_mnist_real_sizes(real_data, monkeypatch):
    monkeypatch.setenv("SHALLOWLAB_DATA", str(real_data))
    train_iter, test_iter = d2l.load_data_fashion_mnist(256)
    assert (len(train_iter.dataset), len(test_iter.dataset)) == (60000, 10000)
    assert (len(train_iter), len(test_iter)) == (235, 40)
    assert sum(len(y) for _, y in test_iter) == 10000


# --- training --------------------------------------------------------------------------------


def _problem(n=50):
    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(n, 4, generator=g), torch.randint(0, 3, (n,), generator=g)
    return X, y


def _net():
    torch.manual_seed(1)
    return nn.Sequential(nn.Linear(4, 3))


def test_train_epoch_reports_per_example_means_whatever_the_reduction():
    X, y = _problem()
    data_iter = d2l.load_array((X, y), 16, is_train=False)
    net = _net()
    expected = nn.functional.cross_entropy(net(X), y).item()
    for reduction in ("none", "mean"):
        sgd = torch.optim.SGD(net.parameters(), lr=0.0)  # no step: the loss is the model's
        loss, acc = d2l.train_epoch_ch3(net, data_iter, nn.CrossEntropyLoss(reduction=reduction),
                                        sgd)
        assert loss == pytest.approx(expected, rel=1e-6)
        assert acc == d2l.evaluate_accuracy(net, data_iter)


def test_train_epoch_takes_an_optimizer_or_the_books_updater():
    """``l.mean().backward(); step()`` and ``l.sum().backward(); sgd(params, lr, n)`` agree."""
    X, y = _problem()
    data_iter = d2l.load_array((X, y), 16, is_train=False)
    loss = nn.CrossEntropyLoss(reduction="none")
    a, b = _net(), _net()
    d2l.train_epoch_ch3(a, data_iter, loss, torch.optim.SGD(a.parameters(), lr=0.5))
    sizes = []

    def updater(batch_size):
        sizes.append(batch_size)
        d2l.sgd(b.parameters(), 0.5, batch_size)

    d2l.train_epoch_ch3(b, data_iter, loss, updater)
    assert sizes == [16, 16, 16, 2]  # called with each batch's size
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q)


def test_evaluate_accuracy_and_loss():
    X, y = _problem()
    data_iter = d2l.load_array((X, y), 16, is_train=False)
    net = _net().train()
    acc = d2l.evaluate_accuracy(net, data_iter)
    assert not net.training  # the book leaves it in eval mode
    assert acc == pytest.approx((net(X).argmax(1) == y).float().mean().item())
    out = net(X)[:, :1]
    l = d2l.evaluate_loss(lambda X: net(X)[:, :1], d2l.load_array((X, y.float()), 16),
                          nn.MSELoss(reduction="none"))
    assert l == pytest.approx(((out - y.float().reshape(-1, 1)) ** 2).mean().item(), rel=1e-5)


def test_train_ch3_prints_each_epoch_and_plots(toy_data, monkeypatch, figures, capsys):
    monkeypatch.setenv("SHALLOWLAB_DATA", str(toy_data))
    torch.manual_seed(0)
    train_iter, test_iter = d2l.load_data_fashion_mnist(64)
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    d2l.train_ch3(net, train_iter, test_iter, nn.CrossEntropyLoss(reduction="none"), 2,
                  torch.optim.SGD(net.parameters(), lr=0.5))
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out if line.startswith("epoch")] == \
        ["epoch 1/2", "epoch 2/2"]
    assert float(out[-1].rsplit("test acc ", 1)[1]) > 0.95  # toy classes are easy
    [png] = pngs(figures)
    assert sum(line == f"figure saved to {png}" for line in out) == 1


def test_train_ch3_checks_fail_with_one_clear_line(toy_data, monkeypatch, figures):
    monkeypatch.setenv("SHALLOWLAB_DATA", str(toy_data))
    train_iter, test_iter = d2l.load_data_fashion_mnist(64)
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    with pytest.raises(d2l.TrainingCheckError) as caught:  # lr 0: nothing is learnt
        d2l.train_ch3(net, train_iter, test_iter, nn.CrossEntropyLoss(reduction="none"), 2,
                      torch.optim.SGD(net.parameters(), lr=0.0))
    message = str(caught.value)
    assert "\n" not in message and "the train loss after 2 epochs is 2." in message
    assert "not below 0.5" in message
    assert isinstance(caught.value, AssertionError) and isinstance(caught.value, ShallowlabError)


# --- figures ---------------------------------------------------------------------------------


def test_each_plot_is_its_own_png_announced_once(figures, capsys):
    x = np.arange(0, 3, 0.1)
    d2l.plot(x, [x ** 2, 2 * x - 3], "x", "f(x)", legend=["f(x)", "tangent"])
    d2l.plot(x, x ** 3, "x", "g(x)", figsize=(5, 2.5))
    files = pngs(figures)
    assert [f.name.rsplit("-", 1)[1] for f in files] == ["plot.png", "plot.png"]
    out = capsys.readouterr().out
    assert all(out.count(f"figure saved to {f}\n") == 1 for f in files)
    second = d2l.plt.gcf()
    assert tuple(second.get_size_inches()) == (5, 2.5) and len(second.axes[0].lines) == 1


def test_animator_rewrites_one_png_and_the_last_state_is_saved(figures, monkeypatch, capsys):
    monkeypatch.setattr(_figures, "REDRAW_SECONDS", 3600)  # every add after the first: too soon
    animator = d2l.Animator(xlabel="epoch", xlim=[1, 5], legend=["a", "b"])
    for epoch in range(1, 6):
        animator.add(epoch, (1 / epoch, None if epoch == 2 else epoch / 10))
    assert animator.X == [[1, 2, 3, 4, 5], [1, 3, 4, 5]]
    [png] = pngs(figures)
    assert capsys.readouterr().out.count("figure saved to") == 1
    first = png.read_bytes()  # the first point only
    assert animator.fig.stale  # later adds were not written yet
    _figures.FIGURES.save_changed()  # as at exit
    assert png.read_bytes() != first and not animator.fig.stale
    assert pngs(figures) == [png] and capsys.readouterr().out == ""


def test_show_images_and_predict_ch3_write_pngs(figures, toy_data, monkeypatch):
    axes = d2l.show_images(torch.rand(4, 28, 28), 2, 2, titles=list("abcd"))
    assert len(axes) == 4 and axes[3].get_title() == "d"
    monkeypatch.setenv("SHALLOWLAB_DATA", str(toy_data))
    _, test_iter = d2l.load_data_fashion_mnist(32)
    d2l.predict_ch3(nn.Sequential(nn.Flatten(), nn.Linear(784, 10)), test_iter, n=5)
    files = pngs(figures)
    assert [f.name.rsplit("-", 1)[1] for f in files] == ["images.png", "images.png"]
    titles = [ax.get_title() for ax in d2l.plt.gcf().axes]
    assert len(titles) == 5 and all(t.count("\n") == 1 for t in titles)


def test_in_a_notebook_the_animator_redraws_in_place(figures, monkeypatch):
    calls = []
    display = types.SimpleNamespace(display=lambda fig: calls.append(("display", fig)),
                                    clear_output=lambda wait: calls.append(("clear", wait)))
    shell = types.SimpleNamespace(kernel=object())
    ipython = types.SimpleNamespace(get_ipython=lambda: shell, display=display)
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", display)
    d2l.use_svg_display()  # no matplotlib_inline here: quietly keeps PNG
    animator = d2l.Animator()
    animator.add(1, 0.5)
    assert calls == [("display", animator.fig), ("clear", True)]
    assert pngs(figures) == []  # in a notebook nothing is written


def test_importing_the_facade_imports_neither_pyplot_nor_ipython(tmp_path):
    code = ("import sys; from shallowlab import d2l; "
            "print(sorted(m for m in ('matplotlib', 'IPython') if m in sys.modules)); "
            "d2l.plt; import matplotlib; print(matplotlib.get_backend().lower())")
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["[]", "agg"]


def test_a_folder_that_cannot_be_written_is_one_warning(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("SHALLOWLAB_FIGURES", str(blocker / "figs"))
    monkeypatch.setattr(_figures, "FIGURES", _figures.FigureFiles())
    try:
        d2l.plot(np.arange(3.0), np.arange(3.0))
        d2l.plot(np.arange(3.0), np.arange(3.0))
    finally:
        d2l.plt.close("all")
    err = capsys.readouterr().err
    assert err.count("d2l: cannot write figures to") == 1 and "SHALLOWLAB_FIGURES" in err


def test_train_epoch_takes_the_fused_step_for_the_books_concise_nets(monkeypatch):
    """Section 3.7's net, loss and trainer go through shallowlab.core.fused; a scratch updater or a
    mean-reduced loss keep the book's own step."""
    from shallowlab.core import fused

    updates = []
    real_update = fused.FusedStep.update
    monkeypatch.setattr(fused.FusedStep, "update", lambda self: updates.append(1) or
                        real_update(self))
    X, y = _problem()
    data_iter = d2l.load_array((X, y), 16, is_train=False)
    net = _net()
    d2l.train_epoch_ch3(net, data_iter, nn.CrossEntropyLoss(reduction="none"),
                        torch.optim.SGD(net.parameters(), lr=0.1))
    assert len(updates) == 4
    d2l.train_epoch_ch3(net, data_iter, nn.CrossEntropyLoss(),
                        torch.optim.SGD(net.parameters(), lr=0.1))
    d2l.train_epoch_ch3(net, data_iter, nn.CrossEntropyLoss(reduction="none"),
                        lambda batch_size: d2l.sgd(net.parameters(), 0.1, batch_size))
    assert len(updates) == 4
