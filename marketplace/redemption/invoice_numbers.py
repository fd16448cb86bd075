"""Invoice numbers in one canonical form, so the same invoice typed twice is the same text (SPEC 7.1).

Plain Python (no Flask, no database): the forms, the duplicate checks, the risk flags and migration 0008 share it.

A number is stored and compared as `canonical(typed)`: NFKC (full-width digits and punctuation become ASCII),
then without what cannot be seen or only separates (spaces, zero-width and other format characters such as the
soft hyphen, combining marks, dashes, _ . /), with every decimal digit as ASCII (Arabic-Indic ٣ is 3) and the
Cyrillic and Greek letters that look Latin as Latin, upper-cased. Without this, "1234" and "12" + a zero-width
space + "34" are two invoices, and the same one can be claimed twice.

The accepted formats (`problem`): a 20-digit 数电发票 number, or an older 增值税发票's 10- or 12-digit 发票代码
followed by its 8-digit 发票号码 (typed together or apart), stored as 18 or 20 digits.
"""
import unicodedata

MISSING_MESSAGE = "请填写发票号码"
FORMAT_MESSAGE = "发票号码应为20位数电发票号码，或10位/12位发票代码加8位发票号码"
FORMAT_HINT = "20位数电发票号码；或发票代码（10位/12位）加发票号码（8位），中间可用空格或横线隔开"
# 数电发票 (20) and 12-digit code + 8 (20); 10-digit code + 8 (18).
DIGIT_COUNTS = (18, 20)

# Cc/Cf: control and format characters (zero-width space, soft hyphen, BOM, word joiner); Z*: spaces of every
# width; Mn/Me: combining marks, some of which draw nothing (grapheme joiner, variation selectors); Pd: dashes.
_DROPPED_CATEGORIES = {"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me", "Pd"}
_SEPARATORS = set("_./\\\u2212")  # what people type between groups besides dashes; U+2212 is the minus sign

# Capital Cyrillic and Greek letters drawn like a Latin one (Unicode confusables); the text is upper-cased first,
# so a small letter meets the table as its capital.
_LOOK_ALIKES = str.maketrans("АВЕЅІЈКМНОРСТУХԀҺԚԜҮ" "ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
                             "ABESIJKMHOPCTYXDHQWY" "ABEZHIKMNOPTYX")


def canonical(text: str | None) -> str:
    """`text` as invoice numbers are stored and compared; any text has one (formats are `problem`'s business)."""
    folded = unicodedata.normalize("NFKC", text or "").upper().translate(_LOOK_ALIKES)
    kept = "".join(_kept(character) for character in folded)
    # Dropping a character can bring together two that NFKC joins (Hangul jamo): once more keeps
    # canonical(canonical(x)) == canonical(x), so a stored number is its own canonical form.
    return unicodedata.normalize("NFKC", kept)


def _kept(character: str) -> str:
    if unicodedata.category(character) in _DROPPED_CATEGORIES or character in _SEPARATORS:
        return ""
    digit = unicodedata.decimal(character, None)
    return character if digit is None else str(digit)


def problem(text: str | None) -> str | None:
    """Why `text` is not an invoice number of an accepted format, or None. Nothing visible is a missing number."""
    number = canonical(text)
    if not number:
        return MISSING_MESSAGE
    if number.isascii() and number.isdigit() and len(number) in DIGIT_COUNTS:
        return None
    return FORMAT_MESSAGE
