"""The tabs beside the charts: the big map, the neurons and the weights.

Only the active tab is drawn each frame; a newly shown tab draws the last View at once.
"""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widgets import TabbedContent, TabPane

from nnplay.i18n import _
from nnplay.tui.live_text import GrowingText
from nnplay.tui.map_view import DecisionMap
from nnplay.tui.neuron_view import NeuronView
from nnplay.tui.session import View
from nnplay.tui.weights_view import WeightsView

TABS = ["charts", "map", "neurons", "weights"]  # keys 1-4


def picture_panes():
    yield TabPane("2 " + _("Map"), DecisionMap(id="big-map"), id="map-tab")
    details = GrowingText(id="unit-details")
    yield TabPane(
        "3 " + _("Neurons"),
        details,
        VerticalScroll(NeuronView(details, id="neurons")),
        id="neurons-tab",
    )
    weights = VerticalScroll(WeightsView(id="weights"))
    yield TabPane("4 " + _("Weights"), weights, id="weights-tab")


def draw_pictures(root, view: View) -> None:
    """Draw what the active tab shows (the small map of the charts tab, or a picture tab)."""
    active = root.query_one("#pictures", TabbedContent).active
    root.query_one(NeuronView).keep(view)  # [ and ] work before the tab is first shown
    if active == "charts-tab":
        small = root.query_one("#map", DecisionMap)
        has_map = view.grid is not None or view.curve is not None
        if small.display != has_map:
            small.display = has_map
        small.draw(view)
    elif active == "map-tab":
        root.query_one("#big-map", DecisionMap).draw(view)
    elif active == "neurons-tab":
        root.query_one(NeuronView).draw(view)
    elif active == "weights-tab":
        root.query_one(WeightsView).draw(view)
