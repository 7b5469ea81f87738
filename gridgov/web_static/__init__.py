"""The web page (index.html, app.js, style.css, i18n.js), served at / by gridgov.api; top-level web/ links here."""
