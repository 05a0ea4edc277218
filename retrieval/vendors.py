"""Vendor names: normalization, resolution to a canonical vendor, tolerant lookup and profiles."""

from __future__ import annotations

import re
import threading
from collections import Counter
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from extraction.identifiers import (
    EXCLUSIVE_KINDS,
    KIND_CONFIDENCE,
    codes_agree,
    domain_of,
    identifier_key,
    normalize_code,
)
from extraction.parser.vocab import FIGURES_AS_LETTERS
from retrieval.models import MonthlySpend, VendorConflict, VendorProfile
from retrieval.repository import vendors as sql
from utils.errors import NotFound
from utils.text import fold

if TYPE_CHECKING:
    import duckdb

    from extraction.schema import Party
    from faiss_service.embeddings import Embedder
    from retrieval.repository.database import Store

# Legal-form words, matched as whole trailing token sequences after punctuation is removed.
LEGAL_SUFFIXES: list[tuple[str, ...]] = [
    tuple(s.split())
    for s in [
        "gmbh",
        "mbh",
        "gmbh co kg",
        "co kg",
        "kg",
        "ag",
        "ohg",
        "ug",
        "eg",
        "ev",
        "e v",
        "a g",
        "ag",
        "ltd",
        "limited",
        "plc",
        "llp",
        "llc",
        "l l c",
        "lp",
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "co",
        "company",
        "sdn bhd",
        "sdn",
        "bhd",
        "berhad",
        "s b",
        "sb",
        "pte ltd",
        "pte",
        "pty ltd",
        "pty",
        "sa",
        "s a",
        "sas",
        "s a s",
        "sarl",
        "s a r l",
        "sl",
        "s l",
        "slu",
        "srl",
        "s r l",
        "spa",
        "s p a",
        "bv",
        "b v",
        "nv",
        "n v",
        "vof",
        "ab",
        "as",
        "a s",
        "aps",
        "oy",
        "oyj",
        "sp z o o",
        "sp zoo",
        "spzoo",
        "spolka akcyjna",
        "spolka z ograniczona odpowiedzialnoscia",
        "sa de cv",
        "kft",
        "zrt",
        "doo",
        "d o o",
        "sro",
        "s r o",
    ]
]
LEGAL_SUFFIXES.sort(key=len, reverse=True)
# Words dropped anywhere: they tell nothing about who the vendor is.
_NOISE = {"the", "and", "&"}

FUZZY_ACCEPT = 90.0  # resolution: fuzzy score (0..100) that joins an existing vendor
EMBED_ACCEPT = 0.90  # resolution: cosine similarity that, with some fuzzy support, joins a vendor
EMBED_FUZZY_FLOOR = 60.0
LOOKUP_MIN = 55.0  # lookup: weakest candidate still returned
GLYPH_MIN_LENGTH = 5  # shorter names read alike through look-alike figures are too likely another vendor
NAME_DISAGREES = 50.0  # a company name this unlike (token-set score) every name of a vendor is another company


def _groups_follow_a_word(line: str) -> bool:
    """Whether a '(...)' group comes after some word character on this line."""
    word = re.search(r"\w", line)
    opening = line.find("(", word.end()) if word else -1
    return opening >= 0 and line.find(")", opening + 1) >= 0


def _drop_groups(line: str) -> str:
    """Each '(' up to the first ')' after it becomes one space, scanning left to right."""
    out, pos = [], 0
    while (opening := line.find("(", pos)) >= 0 and (closing := line.find(")", opening + 1)) >= 0:
        out += [line[pos:opening], " "]
        pos = closing + 1
    return "".join(out) + line[pos:]


def drop_parenthesized(text: str) -> str:
    r"""Parenthesized parts of a name ('Gardenia (KL) Sdn Bhd') as spaces, when some word comes before one.

    What re.sub(r"\(.*?\)", " ", text) did after re.search(r"\w.*\(.*?\)", text), in one pass instead
    of backtracking over every start (quadratic: a 300 kB name held the server for 25 s).
    """
    lines = text.split("\n")  # '.' stops at a newline: no group spans two lines
    if not any(_groups_follow_a_word(line) for line in lines):
        return text
    return "\n".join(_drop_groups(line) for line in lines)


def _tokens(name: str) -> list[str]:
    text = drop_parenthesized(re.sub(r"['’`´]", "", fold(name)).replace("&", " and "))
    return [t for t in re.split(r"[^a-z0-9]+", text) if t]


def _words(name: str) -> list[str]:
    """The folded words of a name that say who it is (no 'the', 'and', '&')."""
    return [t for t in _tokens(name) if t not in _NOISE]


def has_legal_suffix(name: str | None) -> bool:
    """Whether a name ends in a legal form (GmbH, Ltd, SARL, ...) that normalize_name strips."""
    return bool(name) and normalize_name(name) != " ".join(_words(name or ""))


@lru_cache(maxsize=1 << 16)
def normalize_name(name: str | None) -> str:
    """Comparable form of a vendor name: folded case and accents, no punctuation or legal suffix."""
    if not name:
        return ""
    tokens = _words(name)
    changed = True
    while changed and len(tokens) > 1:
        changed = False
        for suffix in LEGAL_SUFFIXES:
            if len(tokens) > len(suffix) and tuple(tokens[-len(suffix) :]) == suffix:
                tokens = tokens[: -len(suffix)]
                changed = True
                break
    return " ".join(tokens)


def compact_name(name: str | None) -> str:
    """The normalized name without spaces ('India Palace' and 'INDIAPALACE' agree)."""
    return normalize_name(name).replace(" ", "")


@lru_cache(maxsize=1 << 16)
def glyph_key(name: str | None) -> str:
    """The compact name with look-alike figures read as letters: two readings of one printed name agree."""
    return compact_name((name or "").translate(FIGURES_AS_LETTERS)).replace("l", "i")


# How sure a vendor recognised each way is.
MATCH_CONFIDENCE = {**KIND_CONFIDENCE, "name": 0.9, "fuzzy": 0.75, "embedding": 0.6}
# Identifiers one vendor owns: another vendor holding one is a conflict to flag.
CONFLICT_KINDS = ("tax_id", "iban", "registration")


def _numbers(name: str) -> list[str]:
    """The digit runs of a name, in order."""
    return re.findall(r"\d+", name)


def initials(name: str) -> str:
    """First letters of the normalized words ('amazon web services' -> 'aws')."""
    return "".join(word[0] for word in normalize_name(name).split() if word)


def _edit_score(q: str, c: str) -> float:
    """Whole-name similarity of two compact names, 0..100, from their edit distance."""
    # A swap of neighbours counts as one edit, and one edit weighs less in a longer name.
    return 100.0 * (1.0 - OSA.distance(q, c) / (max(len(q), len(c)) + 2))


def typo_of(query: str, candidate: str) -> bool:
    """Whether a typed name is a known one with a typing slip: one edit from 4 letters on, two from 9."""
    q, c = compact_name(query), compact_name(candidate)
    if min(len(q), len(c)) < 4:
        return False
    allowed = 2 if min(len(q), len(c)) >= 9 else 1
    return OSA.distance(q, c, score_cutoff=allowed) <= allowed


def name_score(query: str, candidate: str) -> float:
    """How well a typed vendor name matches a known one, 0..100 (typos, partial names, initials)."""
    q, c = compact_name(query), compact_name(candidate)
    if not q or not c:
        return 0.0
    if q == c:
        return 100.0
    qn, cn = normalize_name(query), normalize_name(candidate)
    score = max(fuzz.ratio(q, c), _edit_score(q, c), fuzz.token_sort_ratio(qn, cn) * 0.98)
    if len(q) >= 3:
        # A partial name ('acme' for 'acme industrial supplies') or a prefix.
        if c.startswith(q) or any(w.startswith(q) for w in cn.split()) or q in c:
            score = max(score, 88.0 + 10.0 * len(q) / len(c))
        elif len(q) >= 4:
            partial = fuzz.partial_ratio(q, c)
            if len(c) < len(q):
                # The known name inside a longer query: the less of the query it covers, the weaker.
                partial *= 0.6 + 0.3 * len(c) / len(q)
            else:
                partial *= 0.9
            score = max(score, partial)
        q_words, c_words = set(qn.split()), set(cn.split())
        if len(qn) >= 3 and q_words <= c_words:
            score = max(score, 92.0)
        elif c_words < q_words:
            score = max(score, 80.0 + 12.0 * len(c) / len(q))
    if 2 <= len(q) <= 6 and initials(candidate) == q:
        score = max(score, 90.0)
    return float(min(score, 99.9))


class VendorResolver:
    """Finds the canonical vendor of a party, creating it and recording aliases as needed."""

    def __init__(self, store: Store, embedder: Embedder | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self._lock = threading.Lock()
        self._cache_gen = -1
        self._names: list[tuple[int, str, str]] = []  # (vendor_id, alias, compact)
        self._vectors: dict[str, Any] = {}

    # -- candidate table ----------------------------------------------------------------------
    def names(self) -> list[tuple[int, str, str]]:
        """Every (vendor_id, name or alias, compact key) known."""
        with self._lock:
            if self._cache_gen != self.store.generation:
                rows = sql.name_rows(self.store.cursor())
                seen: set[tuple[int, str]] = set()
                names = []
                for vid, alias, key in rows:
                    if (vid, alias) not in seen:
                        seen.add((vid, alias))
                        names.append((int(vid), alias, key))
                self._names = names
                self._cache_gen = self.store.generation
            return self._names

    def forget(self) -> None:
        """Drop the cached names (after vendors were renamed or merged)."""
        with self._lock:
            self._cache_gen = -1

    def _vector(self, text: str):
        if text not in self._vectors:
            self._vectors[text] = self.embedder.encode_one(text) if self.embedder else None
        return self._vectors[text]

    # -- resolution ---------------------------------------------------------------------------
    def by_identifier(
        self, identifiers: dict[str, str], con: duckdb.DuckDBPyConnection | None = None
    ) -> tuple[int | None, str]:
        """The one known vendor an identifier points to, strongest kind first, and the kind ('' when none).

        An identifier two vendors claim (a flagged conflict) recognises neither; a vendor whose tax id or
        registration differs from the document's is never the match.
        """
        con = con or self.store.cursor()
        keys = {kind: identifier_key(kind, value) for kind, value in identifiers.items()}
        keys = {kind: key for kind, key in keys.items() if key}
        if not keys:
            return None, ""
        owned: dict[str, dict[int, set[str]]] = {}
        for kind in EXCLUSIVE_KINDS:
            if kind in keys:
                rows = sql.keys_of_kind(con, kind)
                owned[kind] = {}
                for vid, key in rows:
                    owned[kind].setdefault(int(vid), set()).add(key)

        def contradicted(vid: int) -> bool:
            return any(vid in owned[k] and not any(codes_agree(keys[k], o) for o in owned[k][vid]) for k in owned)

        for kind in KIND_CONFIDENCE:
            if kind not in keys:
                continue
            if kind in owned:  # codes one vendor owns match up to look-alike letters
                held = {v for v, codes in owned[kind].items() if any(codes_agree(keys[kind], c) for c in codes)}
            else:
                held = set(sql.vendors_with_key(con, kind, keys[kind]))
            vids = {v for v in held if not contradicted(v)}
            if len(vids) == 1:
                return vids.pop(), kind
        return None, ""

    def match(
        self,
        party: Party,
        cur: duckdb.DuckDBPyConnection | None = None,
        identifiers: dict[str, str] | None = None,
    ) -> tuple[int | None, str]:
        """The existing vendor for a party and how it was found ('tax_id', 'iban', 'phone', 'name', 'fuzzy', ...)."""
        con = cur or self.store.cursor()
        tax = normalize_code(party.tax_id)
        known = {"tax_id": party.tax_id or "", "iban": party.iban or ""}
        if party.email:
            known["email_domain"] = party.email
        if party.phone:
            known["phone"] = party.phone
        vid, kind = self.by_identifier({**known, **(identifiers or {})}, con)
        if vid is not None and not self.name_disagrees(party.name, vid):
            return vid, kind
        # No identifier known, or one held by a vendor this document's name says it is not: match by name (a
        # new vendor keeps the identifier too, and the two are flagged as a conflict, never merged).
        compact = compact_name(party.name)
        if not compact:
            return None, ""
        taxed: dict[int, set[str]] = {}
        for vid, key in sql.keys_of_kind(con, "tax_id"):
            taxed.setdefault(int(vid), set()).add(key)

        def compatible(vid: int) -> bool:
            # Two different tax ids are two different vendors, whatever the names say.
            return not (tax and vid in taxed and not any(codes_agree(tax, t) for t in taxed[vid]))

        names = self.names()
        exact = [vid for vid, _, key in names if key == compact and compatible(vid)]
        if exact:
            return min(exact), "name"
        if not names:
            return None, ""
        glyphs = glyph_key(party.name)
        if len(glyphs) >= GLYPH_MIN_LENGTH:
            alike = {vid for vid, alias, _ in names if glyph_key(alias) == glyphs and compatible(vid)}
            if len(alike) == 1:
                return alike.pop(), "fuzzy"
        choices = {i: key for i, (_, _, key) in enumerate(names)}
        best = process.extract(compact, choices, scorer=fuzz.ratio, limit=5, score_cutoff=EMBED_FUZZY_FLOOR)
        # Names that differ in their numbers ("Store 12", "Store 13") are different vendors, however alike.
        numbers = _numbers(compact)
        best = [b for b in best if _numbers(names[b[2]][2]) == numbers]
        for _, score, i in best:
            vid = names[i][0]
            if score >= FUZZY_ACCEPT and len(compact) >= 4 and compatible(vid):
                return vid, "fuzzy"
        if self.embedder is not None:
            query = self._vector(normalize_name(party.name))
            for _, _score, i in best:
                vid, alias, _key = names[i]
                if compatible(vid) and float(query @ self._vector(normalize_name(alias))) >= EMBED_ACCEPT:
                    return vid, "embedding"
        return None, ""

    def name_disagrees(self, name: str | None, vendor_id: int) -> bool:
        """Whether a document's vendor name says it is another company than the vendor its identifiers point to.

        It does when the name is another known vendor's own name, or a company name (with a legal form)
        unlike every name of that vendor: two sellers sharing an identifier (a factoring company's IBAN,
        sample data) stay apart. A garbled name, or none, never disagrees: identifiers recognise those.
        """
        compact = compact_name(name)
        if len(compact) < 4:
            return False
        names = self.names()
        own = [alias for vid, alias, key in names if vid == vendor_id]
        if not own or any(key == compact for vid, _, key in names if vid == vendor_id):
            return False
        if any(key == compact for vid, _, key in names if vid != vendor_id):
            return True
        normalized = normalize_name(name)
        return has_legal_suffix(name) and all(
            fuzz.token_set_ratio(normalized, normalize_name(alias)) < NAME_DISAGREES for alias in own
        )

    def resolve(
        self, party: Party, cur: duckdb.DuckDBPyConnection, identifiers: dict[str, str] | None = None
    ) -> tuple[int | None, str]:
        """Inside a write transaction: the canonical vendor id of a party (created when new), aliases recorded."""
        vid, how, _ = self.resolve_with_conflicts(party, cur, identifiers)
        return vid, how

    def resolve_with_conflicts(
        self,
        party: Party,
        cur: duckdb.DuckDBPyConnection,
        identifiers: dict[str, str] | None = None,
        invoice_id: int | None = None,
    ) -> tuple[int | None, str, list[dict[str, Any]]]:
        """resolve(), and the identifiers this vendor now shares with another vendor (recorded as conflicts)."""
        if not (party.name or party.tax_id or party.iban or identifiers):
            return None, "", []
        vid, how = self.match(party, cur, identifiers)
        if vid is None:
            name = (party.name or party.tax_id or party.iban or "").strip()
            vid = sql.insert_vendor(cur, name, normalize_name(name), compact_name(name), party.tax_id, party.iban)
            how = "new"
        conflicts = self.add_aliases(cur, vid, party, identifiers, invoice_id)
        with self._lock:
            self._cache_gen = -1  # the writer's own uncommitted vendors and aliases count from now on
        return vid, how, conflicts

    def add_aliases(
        self,
        cur: duckdb.DuckDBPyConnection,
        vendor_id: int,
        party: Party,
        identifiers: dict[str, str] | None = None,
        invoice_id: int | None = None,
    ) -> list[dict[str, Any]]:
        """Record the name and identifiers a document used for a vendor; return (and record) conflicts.

        A conflict is a tax id, IBAN or registration another vendor already holds: both keep it, flagged.
        """
        entries = []
        if party.name and compact_name(party.name):
            entries.append(("name", party.name.strip(), compact_name(party.name)))
        if party.tax_id and len(normalize_code(party.tax_id)) >= 5:
            entries.append(("tax_id", party.tax_id.strip(), normalize_code(party.tax_id)))
        if party.iban and len(normalize_code(party.iban)) >= 5:
            entries.append(("iban", party.iban.strip(), normalize_code(party.iban)))
        extra = dict(identifiers or {})
        if party.email:
            extra.setdefault("email_domain", party.email)
        if party.phone:
            extra.setdefault("phone", party.phone)
        for kind, value in extra.items():
            key = identifier_key(kind, value)
            if key and not any(k == kind for k, _, _ in entries):
                alias = domain_of(value) if kind in ("email_domain", "website") else value.strip()
                entries.append((kind, alias, key))
        conflicts: list[dict[str, Any]] = []
        for kind, alias, key in entries:
            if kind in CONFLICT_KINDS:
                for other, other_name in sql.other_holders(cur, kind, key, vendor_id):
                    conflicts.append({"kind": kind, "value": alias, "vendor_id": int(other), "vendor": other_name})
                    sql.record_conflict(cur, kind, key, vendor_id, int(other), invoice_id)
            sql.add_alias(cur, vendor_id, kind, alias, key)
        if party.tax_id and len(normalize_code(party.tax_id)) >= 5:
            sql.set_tax_id_if_missing(cur, vendor_id, party.tax_id)
        return conflicts

    # -- lookup -------------------------------------------------------------------------------
    def lookup(self, name: str, limit: int = 5, by_meaning: bool = True) -> list[tuple[int, float, str]]:
        """Vendors for a typed name, best first: (vendor_id, score 0..1, the name or alias matched).

        When nothing is spelled alike, names are compared by meaning (embeddings) unless `by_meaning` is off.
        """
        query = name.strip()
        if not query:
            return []
        best: dict[int, tuple[float, str]] = {}
        code = normalize_code(query)
        if len(code) >= 5 and any(ch.isdigit() for ch in code):
            for vid, alias in sql.vendors_with_code(self.store.cursor(), code):
                best[int(vid)] = (100.0, alias)
        names = self.names()
        q = compact_name(query)
        if q:
            # Cheap prefilters over every name (whole-name and partial likeness), then the full score on
            # the strongest few: partial likeness alone ties many short names and crowds out typos.
            keys = [key for _, _, key in names]
            shortlist = {
                i for _, _, i in process.extract(q, keys, scorer=fuzz.ratio, limit=max(20, limit * 4), score_cutoff=50)
            }
            shortlist.update(
                i
                for _, _, i in process.extract(
                    q, keys, scorer=fuzz.partial_ratio, limit=max(50, limit * 10), score_cutoff=50
                )
            )
            shortlist.update(i for i, (_, _, key) in enumerate(names) if key.startswith(q[:3]))
            for i in shortlist:
                vid, alias, _ = names[i]
                score = name_score(query, alias)
                if score >= LOOKUP_MIN and score > best.get(vid, (0.0, ""))[0]:
                    best[vid] = (score, alias)
        if not best and by_meaning and self.embedder is not None and names:
            # Nothing spelled alike: compare meanings (names embedded once, in batches, then cached).
            texts = [normalize_name(alias) or alias for _, alias, _ in names]
            missing = sorted({t for t in texts if t not in self._vectors})
            if missing:
                for text, vec in zip(missing, self.embedder.encode(missing), strict=True):
                    self._vectors[text] = vec
            query_vec = self._vector(normalize_name(query) or query)
            for (vid, alias, _), text in zip(names, texts, strict=True):
                sim = float(query_vec @ self._vectors[text]) * 100
                if sim >= 70 and sim > best.get(vid, (0.0, ""))[0]:
                    best[vid] = (sim, alias)
        ranked = sorted(best.items(), key=lambda kv: (-round(kv[1][0], 2), kv[0]))
        shown = [round(score, 2) for _, (score, _) in ranked[: limit + 1]]
        if len(set(shown)) < len(shown):
            # Equal scores: the vendor with more invoices is the likelier one.
            counts = sql.invoice_counts(self.store.cursor(), [vid for vid, _ in ranked])
            ranked.sort(key=lambda kv: (-round(kv[1][0], 2), -counts.get(kv[0], 0), kv[0]))
        return [(vid, round(score / 100.0, 4), alias) for vid, (score, alias) in ranked[:limit]]


def _money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def vendor_profile(store: Store, vendor_id: int, exclude_invoice: int | None = None) -> VendorProfile:
    """A vendor with what its invoices say: count, spend, dates, typical amounts, currency, terms, IBANs."""
    con = store.cursor()
    head = sql.vendor_head(con, vendor_id)
    if not head:
        raise NotFound(f"vendor {vendor_id} not found")
    vid, name, tax_id = head
    aliases = [a for a in sql.name_aliases(con, vendor_id) if a != name]
    identifiers: dict[str, list[str]] = {}
    for kind, alias in sql.identifier_aliases(con, vendor_id):
        identifiers.setdefault(kind, []).append(alias)
    conflicts = [
        VendorConflict(kind=k, key=key, other_vendor_id=int(other), other_vendor=other_name, invoice_id=inv_id)
        for k, key, other, other_name, inv_id in sql.conflicts_of(con, vendor_id)
    ]
    excl = -1 if exclude_invoice is None else exclude_invoice
    inv = sql.invoice_figures(con, vendor_id, excl)
    spend: dict[str, Decimal] = {}
    monthly: dict[tuple[str, str | None], list] = {}
    currencies: Counter[str] = Counter()
    terms: Counter[str] = Counter()
    ibans: list[str] = []
    dates = [r[2] for r in inv if r[2] is not None]
    for total, currency, date, pay_terms, iban in inv:
        if currency:
            currencies[currency] += 1
        if pay_terms:
            terms[pay_terms] += 1
        if iban and iban not in ibans:
            ibans.append(iban)
        if total is not None:
            key = currency or "?"
            spend[key] = spend.get(key, Decimal(0)) + Decimal(total)
            if date is not None:
                slot = monthly.setdefault((date.strftime("%Y-%m"), currency), [Decimal(0), 0])
                slot[0] += Decimal(total)
                slot[1] += 1
    usual = currencies.most_common(1)[0][0] if currencies else None
    amounts = sorted(Decimal(r[0]) for r in inv if r[0] is not None and (usual is None or r[1] in (usual, None)))
    lo = hi = None
    if amounts:
        if len(amounts) >= 5:
            lo, hi = amounts[int(0.1 * (len(amounts) - 1))], amounts[round(0.9 * (len(amounts) - 1))]
        else:
            lo, hi = amounts[0], amounts[-1]
    return VendorProfile(
        id=int(vid),
        name=name,
        aliases=aliases,
        tax_id=tax_id,
        ibans=ibans,
        identifiers=identifiers,
        conflicts=conflicts,
        invoice_count=len(inv),
        spend={k: _money(v) for k, v in spend.items()},
        spend_per_month=[
            MonthlySpend(month=m, currency=c, total=_money(t), count=n) for (m, c), (t, n) in sorted(monthly.items())
        ],
        first_date=min(dates) if dates else None,
        last_date=max(dates) if dates else None,
        typical_min=_money(lo),
        typical_max=_money(hi),
        usual_currency=usual,
        payment_terms=terms.most_common(1)[0][0] if terms else None,
    )
