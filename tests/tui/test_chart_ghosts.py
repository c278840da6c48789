"""An earlier run that blew up stays on the loss chart faded, without flattening the run now."""

from nnplay.history import History
from nnplay.presets import load_preset
from nnplay.tui.train_view import Ghost, LossChart

from .test_charts import ChartApp, render_at, view_of


async def test_a_diverged_ghost_does_not_flatten_the_run_after_it():
    blown_up = History(epoch=[1, 2], val_loss=[0.4, 7.3e31], train_loss=[0.4, 7.3e31])
    ghost = Ghost(load_preset("lr-too-high"), blown_up, "learning rate 5")
    now = view_of([0.9, 0.6, 0.3, 0.2], [0.5, 0.25, 0.12], [0.55, 0.3, 0.15])
    app = ChartApp()
    async with app.run_test(size=(120, 40)):
        chart = app.query_one(LossChart)
        series = chart.draw(now, [ghost])
        text = render_at(chart, (80, 24))
        # the run now decides the scale: its fall from 0.9 to 0.12 fills the chart
        assert chart.title == "loss", chart.title
        assert "1e30" not in text and "1e31" not in text
        faded = series[0]
        assert faded.label == "earlier: learning rate 5 (cut at the top)"
        assert faded.ys[0] == 0.4 and max(faded.ys) < 10  # it leaves through the top edge
        chart.draw(view_of([], [], []), [ghost])  # nothing of its own yet: the ghost in full
        assert chart.title == "loss (log scale)"
