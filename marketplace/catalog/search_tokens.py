"""Search tokens for Chinese text, the same for what is indexed and what is searched.

Runs of CJK become their single characters plus overlapping bigrams, so a query of any length is a set of
tokens that must all be present. Latin/digit runs become lower-cased words plus their tails from each
letter/digit boundary ("su8010" also gives "8010"), and latin query words match as prefixes.

A service's stored tokens have two parts, "title | body": its name, tags and instrument name and model rank
first in relevance; description, manufacturer and provider name are the body. A token is stored once."""
import re
from dataclasses import dataclass

_CJK_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUNS = re.compile(rf"[{_CJK_CHARS}]+|[0-9A-Za-z]+")
_CJK = re.compile(rf"[{_CJK_CHARS}]")
_LETTER_DIGIT_BOUNDARY = re.compile(r"(?<=[a-z])(?=[0-9])|(?<=[0-9])(?=[a-z])")
SEPARATOR = "|"


def tokens(text: str) -> list[str]:
    out: list[str] = []
    for run in _RUNS.findall(text or ""):
        if _CJK.match(run):
            out.extend(run)
            out.extend(_bigrams(run))
        else:
            word = run.lower()
            out.append(word)
            out.extend(word[boundary.start():] for boundary in _LETTER_DIGIT_BOUNDARY.finditer(word))
    return out


def _bigrams(run: str) -> list[str]:
    return [run[i:i + 2] for i in range(len(run) - 1)]


def service_index_text(name: str, description: str, tags: str, instrument_name: str, instrument_model: str,
                       manufacturer: str, provider_name: str) -> str:
    """The value stored in `services.search_tokens`."""
    title = _unique(name, tags, instrument_name, instrument_model)
    seen = set(title)
    body = [token for token in _unique(description, manufacturer, provider_name) if token not in seen]
    return f"{' '.join(title)} {SEPARATOR} {' '.join(body)}"


def _unique(*texts: str) -> list[str]:
    return list(dict.fromkeys(token for text in texts for token in tokens(text)))


@dataclass(frozen=True)
class Term:
    """One token a search requires; latin words match as prefixes ("su80" finds su8010)."""
    text: str
    prefix: bool


def query_terms(query: str) -> list[Term]:
    """A CJK run of two or more characters requires all its bigrams, a lone CJK character itself."""
    terms: list[Term] = []
    for run in _RUNS.findall(query or ""):
        if _CJK.match(run):
            terms.extend(Term(gram, False) for gram in (_bigrams(run) or [run]))
        else:
            terms.append(Term(run.lower(), True))
    return list(dict.fromkeys(terms))
