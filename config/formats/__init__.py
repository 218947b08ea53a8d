"""Date and number formats that fill gaps in Django's own locale data (FORMAT_MODULE_PATH);
a format not set here comes from Django's module for the language."""
