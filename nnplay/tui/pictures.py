"""The tabs beside the charts: the big map, the neurons, the weights and the network.

Only the active tab is drawn each frame, and the session computes only the pictures it shows
(TAB_PICTURES): a newly shown tab draws the last View at once if it holds them, else the next.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.containers import ScrollableContainer, VerticalScroll
from textual.widgets import TabbedContent, TabPane

from nnplay.i18n import N_, _
from nnplay.tui.live_text import GrowingText
from nnplay.tui.map_view import DecisionMap
from nnplay.tui.network_picture import NetworkPicture
from nnplay.tui.neuron_view import NeuronView
from nnplay.tui.session import View
from nnplay.tui.weights_view import WeightsView

TABS = ["charts", "map", "neurons", "weights", "network"]  # keys 1-5
# The costly parts of a View (session.PICTURES) each tab draws.
TAB_PICTURES = {
    "charts-tab": frozenset({"map", "fit"}),  # the small map; regression's fitted values
    "map-tab": frozenset({"map"}),
    "neurons-tab": frozenset({"units"}),
    "weights-tab": frozenset({"weights"}),
    "network-tab": frozenset({"network", "units"}),  # its units' maps on 2-D tasks
}
TAB_NAMES = {
    "charts": N_("Charts"),
    "map": N_("Map"),
    "neurons": N_("Neurons"),
    "weights": N_("Weights"),
    "network": N_("Network"),
}


def tab_labels(width: int, active: str = "charts") -> dict[str, str]:
    """Each tab's label with its key ("1 Charts"); without the keys when the row of tabs would
    not fit in `width` cells with them; narrower still, the keys alone but the `active` tab's
    name (the keys are in the help)."""
    for form in ("keyed", "named", "keys"):
        labels = {
            name: {
                "keyed": f"{key} {_(TAB_NAMES[name])}",
                "named": _(TAB_NAMES[name]),
                "keys": _(TAB_NAMES[name]) if name == active else str(key),
            }[form]
            for key, name in enumerate(TABS, 1)
        }
        if sum(cell_len(label) + 2 for label in labels.values()) <= width:  # a tab's padding
            break
    return labels


def fit_tabs(tabs: TabbedContent) -> None:
    """The tabs' labels for the width the row of tabs has."""
    active = tabs.active.removesuffix("-tab") or "charts"
    for name, label in tab_labels(tabs.size.width, active).items():
        tab = tabs.get_tab(f"{name}-tab")
        if tab.label.plain != label:
            tab.label = label


def picture_panes():
    labels = tab_labels(1000)
    yield TabPane(labels["map"], DecisionMap(id="big-map"), id="map-tab")
    details = GrowingText(id="unit-details")
    yield TabPane(
        labels["neurons"],
        details,
        VerticalScroll(NeuronView(details, id="neurons")),
        id="neurons-tab",
    )
    weights = VerticalScroll(WeightsView(id="weights"))
    yield TabPane(labels["weights"], weights, id="weights-tab")
    details = GrowingText(id="connection-details")
    picture = ScrollableContainer(NetworkPicture(details, id="net-picture"))  # wide nets scroll
    yield TabPane(labels["network"], details, picture, id="network-tab")


def active_tab(root) -> str:
    return root.query_one("#pictures", TabbedContent).active


def draw_pictures(root, view: View) -> None:
    """Draw what the active tab shows (the small map of the charts tab, or a picture tab)."""
    active = active_tab(root)
    if "units" in view.pictures:
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
    elif active == "network-tab":
        root.query_one(NetworkPicture).draw(view)
