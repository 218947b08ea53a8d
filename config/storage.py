"""Static files for production: hashed names (cache forever), compressed copies, and
rewritten ES-module imports so that sign.js and audit.js load the hashed receipt.js, log.js,
tlog.js and blindrsa.js they were built with (the published hash of the client must describe exactly
what runs)."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    support_js_module_import_aggregation = True
