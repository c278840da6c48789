"""The confusion matrix's lab screen: opened from the palette or with C, it shows the matrix of
the network as it stands with the class names, at 80x24 and in Chinese; a regression says why
there is none."""

import pytest

from nnplay.i18n import cells
from nnplay.lab.confusion import confusion
from nnplay.lab.text import confusion_lines
from nnplay.tui.lab_screens import ConfusionScreen

from .conftest import from_palette, notices, ready, shown_lines, speaking, train_to_epoch, until


async def test_the_palette_opens_the_matrix_of_the_trained_network(make_app):
    app = make_app("blobs", **{"training.epochs": 3})
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await train_to_epoch(pilot, 3)
        await from_palette(pilot, "Lab: confusion matrix")
        await until(pilot, lambda: isinstance(app.screen, ConfusionScreen))
        await pilot.pause()
        matrix = app.screen.matrix
        assert matrix == confusion(app.session.trainer)
        assert sum(matrix.counts) == 600  # blobs' validation samples
        diagonal = sum(row[i] for i, row in enumerate(matrix.matrix))
        assert diagonal / 600 == app.session.trainer.history.val_accuracy[-1]
        shown = shown_lines(app.screen.query_one("#cm-report"))
        for line in confusion_lines(matrix):
            assert line.rstrip() in shown
        await pilot.press("escape")
        assert app.screen is app.screen_stack[0]


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_the_matrix_with_csv_class_names_fits_80x24(make_app, language):
    with speaking(language):
        app = make_app("iris", **{"training.epochs": 2})
        async with app.run_test(size=(80, 24)) as pilot:
            await ready(pilot)
            await train_to_epoch(pilot, 2)
            await pilot.press("C")
            await until(pilot, lambda: isinstance(app.screen, ConfusionScreen))
            await pilot.pause()
            report = app.screen.query_one("#cm-report")
            room = app.screen.query_one(".lab").scrollable_content_region
            assert report.region.right <= room.right
            lines = confusion_lines(app.screen.matrix)
            assert max(report.size.width, *map(cells, lines)) <= room.width  # nothing wraps
            shown = shown_lines(report)
            for name in ("setosa", "versicolor", "virginica"):
                assert name in shown
            assert ("真实" if language == "zh" else "true") in shown


async def test_a_regression_has_no_matrix_and_says_so(make_app, monkeypatch):
    app = make_app("quadratic-fit")
    async with app.run_test(size=(120, 40)) as pilot:
        said = notices(app, monkeypatch)
        await ready(pilot)
        await pilot.press("C")
        await until(pilot, lambda: said)
        assert "for classification" in said[0]
        assert app.screen is app.screen_stack[0]
