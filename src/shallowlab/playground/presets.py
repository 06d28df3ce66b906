"""The teaching presets: each a link (a URL fragment) and one sentence of why.

What each shows is a test (tests/playground/test_presets.py), over three seeds, at the
number of epochs named here: the page's "play" trains one epoch per frame.
"""

from __future__ import annotations

from dataclasses import dataclass

OVERFIT = "data=spiral&noise=0.1&points=400&train_percent=30&optimizer=adam&lr=0.003"


@dataclass(frozen=True)
class Preset:
    """A named link into the playground and the one sentence it teaches."""

    name: str
    title: str
    query: str
    why: str


PRESETS = [
    Preset("line", "A line cannot bend", "data=circle&layers=8linear",
           "Linear units compose to one linear map, so however many there are the boundary "
           "stays a straight line, and the circle's test accuracy stays below 0.70."),
    Preset("bend", "One ReLU layer bends it", "data=circle&layers=8relu",
           "Eight ReLU units each fold the plane along a line; together they wrap the inner "
           "ring, past 0.95 test accuracy within about 15 epochs."),
    Preset("features", "Or give it the squares", "data=circle&features=x1sq,x2sq&layers=none",
           "With x1^2 and x2^2 as inputs a model with no hidden layer draws the circle: a "
           "good feature can replace a layer."),
    Preset("xor", "XOR needs a hidden layer", "data=xor&layers=4tanh,4tanh",
           "No single line separates XOR's corners; two layers of four tanh units pass 0.95 "
           "test accuracy within about 100 epochs."),
    Preset("depth", "Why depth: the spiral",
           "data=spiral&classes=3&layers=16relu,16relu,16relu,16relu&optimizer=adam&lr=0.005",
           "Each layer folds what the one before it drew, so four layers of 16 untwist three "
           "spiral arms (test accuracy past 0.90 in about 100 epochs) where one cannot."),
    Preset("overfit", "Overfitting", OVERFIT + "&layers=64relu,64relu",
           "120 noisy training points and a big network: the training loss falls towards 0 "
           "while the test loss climbs after a while, as the network learns the noise."),
    Preset("decay", "Weight decay", OVERFIT + "&layers=64relu,64relu&reg=l2&reg_rate=0.003",
           "The same network with an L2 penalty on its weights keeps them small and the "
           "boundary smooth: a lower test loss than without it."),
    Preset("dropout", "Dropout", OVERFIT + "&layers=64relu:0.3,64relu:0.3",
           "Dropping 30% of the units at random each step keeps any one from memorising a "
           "point: a higher training loss, a lower test loss than without it."),
]
