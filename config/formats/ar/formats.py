"""Arabic date-and-time formats. Django's Arabic module sets none, so a date with a time
fell back to the English "N j, Y, P" ("ديسمبر 3, 2026, 10:51 ص") beside dates written
"3 ديسمبر، 2026" on the same page. These follow Django's own Arabic DATE_FORMAT and
SHORT_DATE_FORMAT, with its TIME_FORMAT after an Arabic comma."""

DATETIME_FORMAT = "j F، Y، g:i A"
SHORT_DATETIME_FORMAT = "d\u200f/m\u200f/Y g:i A"
