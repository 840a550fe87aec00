"""Reading numbers from request input without trusting it."""


def positive_int(value, default: int | None = None) -> int | None:
    """``value`` as a positive whole number, or ``default``. Only ASCII digits count: ``"²"``
    passes ``str.isdigit()`` yet is no number the database accepts."""
    text = str(value or "").strip()
    if text.isascii() and text.isdigit() and 0 < len(text) <= 18:
        number = int(text)
        return number if number > 0 else default
    return default
