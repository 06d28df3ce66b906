"""The package's error types: every problem meant for a user is one of these, in one line."""


class ShallowlabError(Exception):
    """A problem the user can fix; its message says what is wrong, where, and what to do."""


class DataError(ShallowlabError):
    """A data file is missing, unreadable, or not what it claims to be."""


class ConfigError(ShallowlabError):
    """A setting is invalid or does not fit the data."""


class DivergedError(ShallowlabError):
    """Training diverged: the run stopped before the offending batch changed the model."""

    def __init__(self, epoch: int, batch: int, loss: float, first: float,
                 last_good: float | None) -> None:
        self.epoch, self.batch, self.loss = epoch, batch, loss
        what = f"the loss is {loss}" if loss != loss or abs(loss) == float("inf") else \
            f"the loss rose to {loss:.3g}, over 10^4 times its early value {first:.3g}"
        last = f"{last_good:.3g}" if last_good is not None else "none"
        super().__init__(f"training diverged at epoch {epoch}, batch {batch}: {what} "
                         f"(last batch loss before it: {last})")
