"""Small folium elements gridgov needs: raw header HTML, popups/tooltips from feature properties."""

from __future__ import annotations

from typing import Any

from branca.element import Element, MacroElement
from jinja2 import Template


class Raw(Element):
    """Literal HTML; never passed through Jinja (vendored JS is full of braces)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self._html = html

    def render(self, **kwargs: Any) -> str:
        return self._html


class PlainAttribution(MacroElement):
    """The credit line says "Leaflet" without the flag Leaflet 1.9 puts before it (a foreign
    political symbol on every map of a government page), and without a link: an offline map
    links nowhere outside the intranet."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.setPrefix("Leaflet");
        {% endmacro %}
    """)

    def __init__(self) -> None:
        super().__init__()
        self._name = "PlainAttribution"


class PropertyPopup(MacroElement):
    """Bind each feature's pre-escaped ``popup`` (and ``tooltip``) property to its layer.

    folium's own Popup builds its content with jQuery per feature; reading the HTML from the
    GeoJSON properties keeps one popup binding per layer, however many grids it holds.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.eachLayer(function (layer) {
            var p = layer.feature && layer.feature.properties;
            if (!p) { return; }
            if (p.popup) { layer.bindPopup(p.popup, {maxWidth: 360}); }
            if (p.tooltip) { layer.bindTooltip(p.tooltip, {sticky: true}); }
        });
        {% endmacro %}
    """)

    def __init__(self) -> None:
        super().__init__()
        self._name = "PropertyPopup"
