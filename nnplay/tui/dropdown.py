"""The form's dropdowns: they give the keys back, and their prompt is not an option.

Textual's Select keeps the focus once its list closes, so the next space (train) opened the
list again. And a Select with a prompt lists the prompt as its first option: down (which opens
the list on it) then enter chose the prompt, and nothing changed, silently.
"""

from __future__ import annotations

from textual.widgets import OptionList, Select


class Dropdown(Select):
    def watch_expanded(self, expanded: bool) -> None:
        options = self.query_one(OptionList)  # the list that opens
        if expanded:
            self._skip_the_prompt(options)
        else:
            # Select refocuses itself once its list closes (a deferred call, queued before or
            # after this one): queued twice, the keys go back after it
            self.app.call_later(self.app.call_later, self._give_keys_back)

    def _skip_the_prompt(self, options: OptionList) -> None:
        """The prompt stays in the list as its heading, and cannot be chosen."""
        if self.is_blank() and options.option_count > 1:
            options.disable_option_at_index(0)
            if options.highlighted in (None, 0):
                options.highlighted = 1

    def _give_keys_back(self) -> None:
        if self.is_mounted and self.screen.focused is self:
            self.screen.set_focus(None)
