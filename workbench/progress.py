"""Progress display: rich bars in a terminal, silence when output is not a terminal (CI)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from workbench.formatting import plain
from workbench.terminal import err as console


class Steps:
    """A progress task that advances one step at a time, with a label for the current step."""

    def __init__(self, progress: Progress | None, task: TaskID | None) -> None:
        self._progress = progress
        self._task = task

    def __call__(self, label: str) -> None:
        """Start the step called ``label`` (the previous one counts as done)."""
        if self._progress is not None and self._task is not None:
            task = self._progress.tasks[self._task]
            if task.description != task.fields.get("title"):
                self._progress.advance(self._task)
            self._progress.update(self._task, description=plain(label))

    def done(self) -> None:
        if self._progress is not None and self._task is not None:
            task = self._progress.tasks[self._task]
            self._progress.update(
                self._task, completed=task.total, description=task.fields["title"]
            )


@contextmanager
def steps(title: str, total: int | None) -> Iterator[Steps]:
    """Show a bar of ``total`` steps while the block runs (only when stderr is a terminal)."""
    if not console.is_terminal:
        yield Steps(None, None)
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}", style="bold", markup=False),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task(plain(title), total=total, title=plain(title))
        tracker = Steps(progress, task)
        yield tracker
        tracker.done()
