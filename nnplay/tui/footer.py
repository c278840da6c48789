"""The key bar at the bottom, showing only the keys it can show whole.

Textual's footer cuts the first key that does not fit ("h Hin") and lets the ones after it show
through beside the palette's key (a stray "Q" at 60 columns). This one hides every key from the
first that would not fit whole; the help (`?`) and the palette list them all.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.widgets import Footer


def outer_width(key) -> int:
    """The cells a footer key takes: its text, padding, border and margin."""
    return cell_len(key.render().plain) + key.styles.gutter.width + key.styles.margin.width


class KeyBar(Footer):
    def compose(self):
        yield from super().compose()
        self.call_after_refresh(self.fit_keys)  # the keys are rebuilt when the bindings change

    def on_resize(self) -> None:
        self.fit_keys()

    def fit_keys(self) -> None:
        keys = list(self.query("FooterKey"))
        docked = [k for k in keys if k.has_class("-command-palette")]
        room = self.size.width - sum(outer_width(k) for k in docked)
        for key in keys:
            if key in docked:
                continue
            # the last key's margin may fall off the edge: only its text must fit
            fits = room - (outer_width(key) - key.styles.margin.right) >= 0
            room = room - outer_width(key) if fits else -1  # after one is hidden, so are the rest
            if key.display != fits:
                key.display = fits
