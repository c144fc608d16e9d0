"""hooks/docstrings.py: Sphinx roles rendered by mkdocstrings become plain code."""

from hooks import docstrings as hook


def test_roles_are_dropped_and_tilde_keeps_the_last_name():
    html = (
        "see :class:<code>~dropout_py.nn.events.TrainingEvent</code>, "
        ":func:<code>load_mnist</code> and :mod:<code>dropout_py.data.fetch</code>; "
        "<code>:not_a_role</code> stays"
    )
    assert hook.on_page_content(html, None, None, None) == (
        "see <code>TrainingEvent</code>, <code>load_mnist</code> and "
        "<code>dropout_py.data.fetch</code>; <code>:not_a_role</code> stays"
    )
