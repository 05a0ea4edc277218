"""Hybrid search: BM25 keywords and FAISS vectors fused by reciprocal rank, with structured filters."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Generator
from concurrent.futures import Future
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import numpy as np

from faiss_service.batching import EmbeddingBatcher
from retrieval.keyword import KeywordIndex
from retrieval.models import SearchFilters, SearchHit, SearchPage, SearchQuery, no_match_message
from retrieval.textindex import flatten, snippet, tokenize
from retrieval.vendors import normalize_code, typo_of
from utils.text import fold

if TYPE_CHECKING:
    from faiss_service.embeddings import Embedder
    from faiss_service.index import VectorIndex
    from retrieval.store import Store
    from retrieval.vendors import VendorResolver

RRF_K = 60
VENDOR_FILTER_MIN = 0.85  # lookup score from which a typed vendor filter names a vendor
VENDOR_QUERY_MIN = 0.9  # lookup score from which a query is taken to name a vendor
BRUTE_FORCE_MAX = 50_000  # filtered sets up to this size are scored exactly when the index falls short
HIT_ROWS_CACHED = 4096  # display rows of recent hits kept per store generation

_AMOUNT_QUERY = re.compile(r"(?<![\w.,])[-]?\d{1,3}(?:[,.' ]?\d{3})*[.,]\d{2}(?![\d])")


def filter_sql(filters: SearchFilters, resolver: VendorResolver | None, alias: str = "i") -> tuple[str, list[Any]]:
    """A WHERE fragment (starting with ' AND') and its parameters for structured filters."""
    sql = ""
    params: list[Any] = []
    if filters.vendor:
        vendor = filters.vendor.strip()
        if vendor.isascii() and vendor.isdigit() and len(vendor) < 19:  # an id; "²" is a digit too
            sql += f" AND {alias}.vendor_id = ?"
            params.append(int(vendor))
        else:
            ids = [
                vid for vid, score, _ in (resolver.lookup(vendor, 10) if resolver else []) if score >= VENDOR_FILTER_MIN
            ]
            sql += (
                f" AND (list_contains(?::BIGINT[], {alias}.vendor_id)"
                f" OR strip_accents(lower({alias}.vendor_name)) LIKE ?)"
            )
            params.extend([ids, f"%{fold(vendor)}%"])
    if filters.date_from:
        sql += f" AND {alias}.invoice_date >= ?"
        params.append(filters.date_from)
    if filters.date_to:
        sql += f" AND {alias}.invoice_date <= ?"
        params.append(filters.date_to)
    if filters.min_total is not None:
        sql += f" AND {alias}.total >= ?"
        params.append(filters.min_total)
    if filters.max_total is not None:
        sql += f" AND {alias}.total <= ?"
        params.append(filters.max_total)
    if filters.currency:
        sql += f" AND {alias}.currency = ?"
        params.append(filters.currency.strip().upper())
    if filters.needs_review is not None:
        sql += f" AND {alias}.needs_review = ?"
        params.append(filters.needs_review)
    return sql, params


def query_amounts(q: str) -> list[Decimal]:
    """Amounts with cents written in a query ('total 60.44' -> 60.44)."""
    out = []
    for match in _AMOUNT_QUERY.finditer(q):
        raw = match.group(0)
        whole, frac = raw[:-3], raw[-2:]
        try:
            out.append(Decimal(re.sub(r"[^\d-]", "", whole) + "." + frac))
        except InvalidOperation:
            continue
    return out


def query_codes(q: str) -> list[str]:
    """Tokens of a query that look like invoice numbers (contain a digit, 3+ characters)."""
    codes = []
    for raw in re.split(r"\s+", q.strip()):
        key = normalize_code(raw.strip("#:,;"))
        if len(key) >= 3 and any(ch.isdigit() for ch in key) and not _AMOUNT_QUERY.fullmatch(raw):
            codes.append(key)
    return codes


# Words that say which figure a query names, not what the invoice is about.
FIGURE_WORDS = frozenset({
    "total", "amount", "sum", "due", "paid", "balance", "invoice", "inv", "receipt", "bill", "no", "nr", "number",
    "num", "ref", "gesamt", "betrag", "summe", "rechnung", "facture", "montant", "totale", "importe", "factura",
    "fattura",
})  # fmt: skip


def only_figures(q: str) -> bool:
    """Whether a query names only amounts and numbers ('total 60.44', 'invoice no 4711'): nothing for meaning."""
    tokens = [t.strip("#:,;.()") for t in q.lower().split()]
    tokens = [t for t in tokens if t]
    figures = [t for t in tokens if any(ch.isdigit() for ch in t)]
    return bool(figures) and all(t in FIGURE_WORDS for t in tokens if t not in figures)


def rrf(lists: dict[str, list[int]], k: int = RRF_K) -> list[tuple[int, float, list[str]]]:
    """Reciprocal rank fusion: (id, score, names of the lists it came from), best first.

    Lists come strongest evidence first: equal scores go to the item of the earlier list, then the lower id.
    """
    scores: dict[int, float] = {}
    reasons: dict[int, list[str]] = {}
    first_list: dict[int, int] = {}
    for position, (name, ids) in enumerate(lists.items()):
        for rank, item in enumerate(ids):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank + 1)
            reasons.setdefault(item, []).append(name)
            first_list.setdefault(item, position)
    ranked = sorted(scores.items(), key=lambda kv: (-round(kv[1], 9), first_list[kv[0]], kv[0]))
    return [(item, round(score, 6), reasons[item]) for item, score in ranked]


class Searcher:
    """Runs searches over the store and the vector index."""

    def __init__(
        self,
        store: Store,
        index: Callable[[], VectorIndex],
        embedder: Embedder,
        resolver: VendorResolver,
        min_similarity: float = 0.2,
    ) -> None:
        self.min_similarity = min_similarity
        self.store = store
        self.index = index
        self.embedder = embedder
        self.resolver = resolver
        self.keywords = KeywordIndex(store)
        self._batcher = EmbeddingBatcher(embedder)
        self._qcache: dict[str, np.ndarray] = {}
        self._rows: tuple[int, dict[int, dict[str, Any]]] = (-1, {})  # (store generation, id -> hit row)

    def close(self) -> None:
        """Stop the embedding thread."""
        self._batcher.close()

    # -- ranked lists ---------------------------------------------------------------------------
    def keyword(self, q: str, where: str, params: list[Any], n: int) -> list[tuple[int, float]]:
        """BM25 over the keyword postings: (invoice_id, score), best first, within the filters."""
        tokens = sorted(set(tokenize(q)))
        if not tokens:
            return []
        allowed = None
        if where:
            found = self.store.fetch_numpy(f"SELECT i.id FROM invoices i WHERE true {where}", params)
            allowed = np.asarray(found["id"], dtype=np.int64)
        return self.keywords.rank(tokens, n, allowed)

    def query_vector(self, q: str) -> Future[np.ndarray]:
        """The embedding of a query, on its way: recent ones cached, others batched with concurrent queries."""
        future: Future[np.ndarray]
        vec = self._qcache.get(q)
        if vec is not None:
            future = Future()
            future.set_result(vec)
            return future
        future = self._batcher.submit(q)
        future.add_done_callback(lambda f: self._remember(q, f))
        return future

    def _remember(self, q: str, future: Future[np.ndarray]) -> None:
        if future.exception() is None:
            if len(self._qcache) > 512:
                self._qcache.clear()
            self._qcache[q] = future.result()

    def semantic(self, vector: np.ndarray, where: str, params: list[Any], n: int) -> list[tuple[int, float]]:
        """Nearest invoices by embedding, within the filters: (invoice_id, cosine), best first."""
        index = self.index()
        fetch = max(n * 5, 200) if where else n
        ids, scores = index.search(vector, fetch)
        pairs = [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
        if not where:
            return pairs[:n]
        allowed = {
            int(r[0])
            for r in self.store.fetch(
                f"SELECT i.id FROM invoices i JOIN (SELECT unnest(?::BIGINT[]) AS k) ON i.id = k WHERE true {where}",
                [[i for i, _ in pairs], *params],
            )
        }
        kept = [(i, s) for i, s in pairs if i in allowed][:n]
        if len(kept) >= n or len(pairs) < fetch:
            return kept
        # The filters removed most neighbours: score the filtered set exactly.
        count = self.store.scalar(f"SELECT count(*) FROM invoices i WHERE true {where}", params)
        if not count or count > BRUTE_FORCE_MAX:
            return kept
        rows = self.store.fetch(
            "SELECT e.invoice_id, e.vector FROM embeddings e JOIN invoices i ON i.id = e.invoice_id"
            f" WHERE true {where}",
            params,
        )
        cand_ids = np.array([r[0] for r in rows], dtype=np.int64)
        matrix = np.array([r[1] for r in rows], dtype=np.float32)
        sims = matrix @ vector
        order = np.argsort(-sims)[:n]
        return [(int(cand_ids[j]), float(sims[j])) for j in order]

    def structured(self, q: str, where: str, params: list[Any], with_vendor: bool) -> dict[str, list[int]]:
        """Exact matches on invoice number and amount, and a named vendor's invoices."""
        lists: dict[str, list[int]] = {}
        codes = query_codes(q)
        if codes:
            # Exact numbers first (an equality scan); the substring scan only when none matched.
            rows = self.store.fetch(
                f"""SELECT i.id FROM invoices i JOIN (SELECT unnest(?::VARCHAR[]) AS code) c
                    ON i.invoice_number_key = c.code WHERE true {where} ORDER BY i.id DESC LIMIT 50""",
                [list(dict.fromkeys(codes)), *params],
            )
            long_codes = [c for c in codes if len(c) >= 5]
            if not rows and long_codes:
                rows = self.store.fetch(
                    f"""SELECT i.id FROM invoices i WHERE length(i.invoice_number_key) >= 5
                        AND len(list_filter(?::VARCHAR[], lambda c: contains(i.invoice_number_key, c))) > 0
                        {where} ORDER BY i.id DESC LIMIT 50""",
                    [long_codes, *params],
                )
            if rows:
                lists["number"] = [int(r[0]) for r in rows]
        amounts = query_amounts(q)
        if amounts:
            marks = ", ".join("?::DECIMAL(18,4)" for _ in amounts)
            rows = self.store.fetch(
                f"""SELECT i.id FROM invoices i
                    WHERE (i.total IN ({marks}) OR i.amount_due IN ({marks}))
                    {where} ORDER BY i.invoice_date DESC NULLS LAST, i.id DESC LIMIT 50""",
                [*amounts, *amounts, *params],
            )
            if rows:
                lists["amount"] = [int(r[0]) for r in rows]
        if with_vendor:
            text = re.sub(r"\s+", " ", q).strip()
            if 2 <= len(text) <= 80 and "number" not in lists and not amounts:
                # By spelling only: the query's meaning is the semantic list's job, not a second embedding.
                named = self.resolver.lookup(text, 3, by_meaning=False)
                # A name one slip away counts only when some query word is in no invoice: 'retro' stays a word.
                slips = not self.keywords.knows_all(tokenize(text))
                vendors = [
                    vid for vid, score, alias in named if score >= VENDOR_QUERY_MIN or (slips and typo_of(text, alias))
                ]
                if vendors:
                    rows = self.store.fetch(
                        f"""SELECT i.id FROM invoices i WHERE i.vendor_id IN ({", ".join("?" for _ in vendors)}) {where}
                            ORDER BY list_position(?::BIGINT[], i.vendor_id), i.invoice_date DESC NULLS LAST,
                                     i.id DESC LIMIT 50""",
                        [*vendors, *params, vendors],
                    )
                    if rows:
                        lists["vendor"] = [int(r[0]) for r in rows]
        return lists

    # -- the search -----------------------------------------------------------------------------
    def search(self, query: SearchQuery) -> list[SearchHit]:
        """Hits for a query in its mode, after filters, with snippets and reasons."""
        return self.search_page(query).hits

    async def search_async(self, query: SearchQuery) -> list[SearchHit]:
        """search() for an event loop."""
        return (await self.search_page_async(query)).hits

    def search_page(self, query: SearchQuery) -> SearchPage:
        """The hits of one page and the number of matches in all (a message when there are none)."""
        steps = self._steps(query)
        try:
            pending = next(steps)
            while True:
                pending = steps.send(pending.result())
        except StopIteration as done:
            return done.value

    async def search_page_async(self, query: SearchQuery) -> SearchPage:
        """search_page() for an event loop: the wait for the query's embedding is awaited, not blocked on."""
        steps = self._steps(query)
        try:
            pending = next(steps)
            while True:
                pending = steps.send(await asyncio.wrap_future(pending))
        except StopIteration as done:
            return done.value

    def _steps(self, query: SearchQuery) -> Generator[Future[np.ndarray], np.ndarray, SearchPage]:
        """The search, yielding where it waits for the query vector (sent back in) so callers choose how to wait."""
        q = query.q.strip()
        want = query.offset + query.limit
        n = max(50, want * 3)
        where, params = filter_sql(query, self.resolver)
        if not q:
            rows = self.store.fetch(
                f"SELECT i.id FROM invoices i WHERE true {where}"
                " ORDER BY i.invoice_date DESC NULLS LAST, i.id DESC LIMIT ? OFFSET ?",
                [*params, query.limit, query.offset],
            )
            total = int(self.store.scalar(f"SELECT count(*) FROM invoices i WHERE true {where}", params) or 0)
            return self._page(self._hits([(int(r[0]), 1.0, []) for r in rows], []), total, q)
        vector_future = None
        # Embeddings do not tell 60.44 from 60.45: a query of figures alone is answered by exact matches and words.
        by_meaning = query.mode == "semantic" or (query.mode == "hybrid" and not only_figures(q))
        if by_meaning and self.index().count:
            vector_future = self.query_vector(q)
        lists: dict[str, list[int]] = {}
        scored: dict[int, float] = {}
        if query.mode in ("hybrid", "keyword"):
            # Exact numbers, amounts and a named vendor are stronger evidence than shared words: listed first.
            lists.update(self.structured(q, where, params, with_vendor=query.mode == "hybrid"))
            lists["keyword"] = [i for i, _ in self.keyword(q, where, params, n)]
        if vector_future is not None:
            vector = vector_future.result() if vector_future.done() else (yield vector_future)
            # A neighbour that shares nothing with the query but a distant embedding is not a match.
            sem = [(i, s) for i, s in self.semantic(vector, where, params, n) if s >= self.min_similarity]
            lists["semantic"] = [i for i, _ in sem]
            scored = dict(sem)
        if query.mode == "semantic":
            ranked = [(i, round(scored[i], 6), ["semantic"]) for i in lists.get("semantic", [])]
        else:
            ranked = rrf({k: v for k, v in lists.items() if v})
        page = ranked[query.offset : want]
        terms = sorted(set(tokenize(q)))
        hits = self._hits(page, terms + self.keywords.read_as(terms) if "keyword" in lists else terms)
        return self._page(hits, len(ranked), q)

    @staticmethod
    def _page(hits: list[SearchHit], total: int, q: str) -> SearchPage:
        return SearchPage(total=total, hits=hits, message=None if total else no_match_message(q))

    def _hits(self, ranked: list[tuple[int, float, list[str]]], terms: list[str]) -> list[SearchHit]:
        if not ranked:
            return []
        by_id = self._hit_rows([i for i, _, _ in ranked])
        hits = []
        for invoice_id, score, reasons in ranked:
            row = by_id.get(invoice_id)
            if row is None:
                continue
            hits.append(
                SearchHit(
                    invoice_id=invoice_id,
                    score=score,
                    vendor=row["vendor_name"],
                    invoice_number=row["invoice_number"],
                    invoice_date=row["invoice_date"],
                    total=row["total"],
                    currency=row["currency"],
                    snippet=snippet(row["flat"], terms),
                    matched=reasons,
                )
            )
        return hits

    def _hit_rows(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        """Display rows of these invoices; recent ones from a cache that lives for one store generation."""
        generation = self.store.generation  # read before the rows: a write meanwhile retires what is fetched
        cached_gen, rows = self._rows
        if cached_gen != generation or len(rows) > HIT_ROWS_CACHED:
            rows = {}
            self._rows = (generation, rows)
        missing = [i for i in ids if i not in rows]
        if missing:
            for row in self.store.fetch_dicts(
                "SELECT id, vendor_name, invoice_number, invoice_date, total, currency, search_text"
                " FROM invoices JOIN (SELECT unnest(?::BIGINT[]) AS k) ON id = k",
                [missing],
            ):
                row["flat"] = flatten(row.pop("search_text") or "")
                rows[row["id"]] = row
        return {i: rows[i] for i in ids if i in rows}
