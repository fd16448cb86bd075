"""Search tokens for Chinese text: runs of CJK become overlapping bigrams (plus the single characters,
so one-character queries are indexed too); latin/digit runs become lower-cased words."""
import re

_RUNS = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[0-9A-Za-z]+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def tokens(text: str) -> list[str]:
    out: list[str] = []
    for run in _RUNS.findall(text or ""):
        if _CJK.match(run):
            out.extend(run)
            out.extend(run[i:i + 2] for i in range(len(run) - 1))
        else:
            out.append(run.lower())
    return out


def index_text(*texts: str) -> str:
    """The value stored in a `search_tokens` column: unique tokens, space-separated, order kept."""
    return " ".join(dict.fromkeys(t for text in texts for t in tokens(text)))


def service_index_text(name: str, description: str, tags: str, instrument_name: str, instrument_model: str,
                       manufacturer: str, provider_name: str) -> str:
    return index_text(name, description, tags, instrument_name, instrument_model, manufacturer, provider_name)
