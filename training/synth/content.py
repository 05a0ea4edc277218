"""Random but coherent invoice and receipt content: parties, items and amounts that add up (Decimal)."""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from training.synth import vocab
from training.synth.formats import MoneyStyle, cents, format_date
from training.synth.ids import TaxIds, make_bic, make_iban, make_tax_ids

ZERO = Decimal("0.00")


def weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    """Pick the first element of one (value, weight) pair."""
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


def slug(text: str) -> str:
    """'Bäckerei Sonnenhof' -> 'baeckerei-sonnenhof' (for e-mail domains and web addresses)."""
    text = text.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = ["".join(c for c in w if c.isalnum()) for w in text.replace("&", " ").split()]
    return "-".join(w for w in words if w)


def digits_pattern(rng: random.Random, pattern: str) -> str:
    """Replace each '#' with a random digit."""
    return "".join(str(rng.randint(0, 9)) if c == "#" else c for c in pattern)


@dataclass
class Party:
    """A company as it appears on a document."""

    name: str  # legal name with its form, e.g. 'Nordlicht Logistik GmbH'
    brand: str  # trade name without the legal form
    country: str
    address: list[str]
    tax: TaxIds | None = None
    iban: str | None = None
    bic: str | None = None
    bank: str | None = None
    account: str | None = None  # a domestic account number where IBANs are not used
    email: str | None = None
    web: str | None = None
    phone: str | None = None
    fax: str | None = None


@dataclass
class Item:
    """One line of the items table."""

    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    amount: Decimal  # quantity x unit price, in cents
    tax_rate: Decimal
    code: str = ""


@dataclass
class TaxLine:
    """Tax at one rate: its printed name, the rate, the base it is charged on and the amount."""

    name: str
    rate: Decimal
    base: Decimal
    amount: Decimal


@dataclass
class Content:
    """Everything a document says, before it is drawn."""

    kind: str
    language: str
    country: str
    currency: str
    vendor: Party
    customer: Party | None
    number: str
    date: dt.date
    date_order: str
    date_pattern: str
    money: MoneyStyle
    items: list[Item]
    tax_inclusive: bool
    items_total: Decimal  # sum of line amounts
    discount: Decimal  # >= 0, subtracted
    discount_pct: Decimal
    shipping: Decimal
    subtotal: Decimal  # net amount the tax is charged on
    tax_lines: list[TaxLine]
    tax: Decimal
    rounding: Decimal
    total: Decimal  # what the document says is owed, after rounding
    paid: Decimal = ZERO
    amount_due: Decimal | None = None
    due_date: dt.date | None = None
    delivery_date: dt.date | None = None
    order_number: str | None = None
    customer_number: str | None = None
    ship_to: list[str] | None = None
    reverse_charge: bool = False
    payment_days: int = 30
    time: str | None = None
    tendered: Decimal | None = None  # cash handed over (receipts)
    change: Decimal | None = None
    card: bool = False
    cashier: str | None = None

    def fmt_date(self, date: dt.date) -> str:
        """A date in this document's printed format."""
        return format_date(date, self.date_pattern, self.language)

    @property
    def words(self) -> dict[str, tuple[str, ...]]:
        """This document's language's words."""
        return vocab.WORDS[self.language]


def make_address(rng: random.Random, country: str, language: str, with_country: bool) -> list[str]:
    """Street line(s), postcode and city as the country writes them, optionally the country name."""
    street = rng.choice(vocab.STREETS[country]).format(n=rng.choice((rng.randint(1, 60), rng.randint(1, 250))))
    postcode, city = rng.choice(vocab.CITIES[country])
    if country == "GB":
        lines = [street, city, postcode]
    elif country == "US":
        state, zipcode = postcode.split()
        lines = [street, f"{city}, {state} {zipcode}"]
    elif country in ("MY", "IN"):
        lines = [street, f"{postcode} {city}"] if country == "MY" else [street, f"{city} - {postcode}"]
    elif country == "IE":
        lines = [street, city, postcode] if rng.random() < 0.5 else [street, f"{city} {postcode}"]
    else:
        prefix = {"DE": "D-", "AT": "A-", "CH": "CH-", "FR": "F-", "BE": "B-", "NL": "NL-"}.get(country, "")
        lines = [street, f"{prefix if rng.random() < 0.1 else ''}{postcode} {city}"]
    if with_country:
        lines.append(vocab.COUNTRIES[country]["names"][language])
    return lines


def company_name(rng: random.Random, language: str, country: str, shop: bool) -> tuple[str, str]:
    """(legal name with form, brand) for a company from `country` whose documents are in `language`."""
    name_lang = language if country not in ("MY", "IN", "US", "GB", "IE", "SE", "PL") else "en"
    if shop:
        word, stem = rng.choice(vocab.SHOP_WORDS[name_lang]), rng.choice(vocab.NAME_STEMS[name_lang])
        brand = f"{stem} {word}" if name_lang == "en" or rng.random() < 0.3 else f"{word} {stem}"
    else:
        patterns = vocab.NAME_PATTERNS if name_lang in ("en", "de", "nl") else vocab.NAME_PATTERNS[:-1]
        pattern = rng.choice(patterns)
        surname, surname2 = rng.sample(vocab.SURNAMES[name_lang], 2)
        industry = rng.choice(vocab.INDUSTRIES[name_lang])
        brand = pattern.format(stem=rng.choice(vocab.NAME_STEMS[name_lang]), industry=industry, surname=surname,
                               surname2=surname2, industry_glued=industry.split()[0].lower())  # fmt: skip
    form = rng.choice(vocab.COUNTRIES[country]["forms"])
    if country == "MY" and rng.random() < 0.6:
        brand = brand.upper()
    comma = ", " if country in ("ES", "IT", "US") and rng.random() < 0.3 else " "
    return f"{brand}{comma}{form}", brand


def make_party(rng: random.Random, country: str, language: str, *, shop: bool = False, foreign_of: str = "") -> Party:
    """A company with address, tax ids, bank and contact details in its country's formats."""
    name, brand = company_name(rng, language, country, shop)
    form = name[len(brand) :].strip(" ,")
    address = make_address(rng, country, language, with_country=bool(foreign_of) and foreign_of != country)
    city = (
        address[-2] if len(address) > 2 and address[-1] in vocab.COUNTRIES[country]["names"].values() else address[-1]
    )
    city = city.split(" ", 1)[-1] if city[:1].isdigit() else city
    party = Party(name=name, brand=brand, country=country, address=address)
    party.tax = make_tax_ids(rng, country, language, city, form)
    bank, code = rng.choice(vocab.BANKS[country])
    party.bank = bank
    party.iban = make_iban(rng, country, code)
    if party.iban:
        party.bic = make_bic(rng, country, code)
    else:
        party.account = digits_pattern(rng, rng.choice(("#### #### ####", "##########", "###-###-###-#")))
        if country == "IN":
            party.bic = f"{code}0{rng.randint(100000, 999999)}"  # IFSC
        elif country == "US":
            party.bic = digits_pattern(rng, "#########")  # ABA routing number
        else:
            party.bic = make_bic(rng, country, code)
    domain = slug(brand).replace("-", rng.choice(("-", ""))) + vocab.COUNTRIES[country]["tld"]
    party.email = f"{rng.choice(vocab.EMAIL_LOCALS[language])}@{domain}"
    party.web = rng.choice((f"www.{domain}", f"www.{domain}", f"https://{domain}", domain))
    party.phone = digits_pattern(rng, rng.choice(vocab.PHONE_FORMATS[country]))
    if rng.random() < 0.25:
        party.fax = digits_pattern(rng, rng.choice(vocab.PHONE_FORMATS[country]))
    return party


SHORT_NUMBERS = 0.15  # share of invoices with a short running number


def make_number(rng: random.Random, language: str, date: dt.date, kind: str) -> str:
    """An invoice or receipt number in one of the usual shapes."""
    n = rng.randint
    if kind == "receipt":
        return rng.choice((f"{n(1, 999999):06d}", f"CS{n(1, 99999999):08d}", f"{n(1, 9999):04d}-{n(1, 9999):04d}",
                           f"T{n(1, 99):02d}-{n(1, 99999):05d}", f"OR{n(10**7, 10**8 - 1)}", str(n(100, 99999)),
                           f"{n(1, 9)}{n(0, 999999):06d}"))  # fmt: skip
    p = rng.choice(vocab.NUMBER_PREFIXES[language]).rstrip("-")
    y, yy, mm = date.year, date.year % 100, date.month
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    shapes = (
        f"{p}-{y}-{n(1, 9999):04d}", f"{p}{y}{n(1, 99999):05d}", f"{n(10000, 999999)}",
        f"{p}/{y}/{mm:02d}/{n(1, 9999):04d}", f"{p}{yy}-{n(1, 99999):05d}", f"{y}-{n(1, 9999):04d}",
        f"#{n(1000, 99999)}", f"{p}-{n(100000, 999999)}", f"{n(1, 999)}/{y}", f"{p}{n(1000000, 9999999)}",
        "".join(rng.choice(letters) for _ in range(n(6, 8))), f"{y}.{n(1, 9999):04d}", f"{p} {n(10000, 99999)}",
        f"{yy}{mm:02d}{n(1, 999):03d}",
    )  # fmt: skip
    number = rng.choice(shapes)
    # A small business numbers its invoices from 1 ("12", "A-7", "2024-3"). Drawn aside so the rest of
    # the document stays what the main stream makes it.
    aside = random.Random(f"{language}{date.isoformat()}{number}")
    if aside.random() < SHORT_NUMBERS:
        k = aside.randint(1, 99)
        number = aside.choice((str(k), f"{aside.choice(letters[:24])}-{k}", f"{y}-{k}", f"{p}-{k}", f"{p} {k}"))
    return number


def money_style(rng: random.Random, country: str, language: str, currency: str) -> MoneyStyle:
    """How this document writes amounts and its currency."""
    style = rng.choice(vocab.COUNTRIES[country]["amounts"])
    info = vocab.CURRENCIES[currency]
    mark = rng.choice(info["marks"])
    first = language in info["symbol_first"] if len(mark) == 1 or mark in ("RM", "Rs.", "₹") else rng.random() < 0.5
    if mark in ("$", "£", "US$"):
        first = True
    if mark in ("€", "kr", "zł") and rng.random() < 0.2:
        first = not first
    space = "" if mark in ("$", "£", "₹") or (mark == "RM" and rng.random() < 0.5) else " "
    if mark == "€" and rng.random() < 0.3:
        space = ""
    negative = rng.choice(("minus", "minus", "minus", "trailing", "parens"))
    return MoneyStyle(style=style, mark=mark, mark_first=first, space=space, negative=negative)


def _quantity(rng: random.Random, unit: str, kind: str) -> Decimal:
    if unit in ("h", "Std.", "uur", "ore", "hours") and rng.random() < 0.5:
        return Decimal(rng.randint(1, 24)) / 2
    if kind == "receipt":
        return Decimal(rng.choice((1, 1, 1, 1, 2, 2, 3, 4, 6)))
    return Decimal(rng.choice((1, 1, 1, 1, 1, 2, 2, 3, 4, 5, 6, 10, 12, 20, 50)))


def _price(rng: random.Random, low: float, high: float) -> Decimal:
    value = rng.uniform(low, high)
    if high < 1.0 or rng.random() < 0.4:
        return cents(Decimal(str(round(value, 2)))) or Decimal("0.05")
    ending = rng.choice((".00", ".50", ".90", ".95", ".99", ".00"))
    return Decimal(f"{int(value)}{ending}") or Decimal("0.99")


def make_items(rng: random.Random, c_lang: str, kind: str, count: int, rates: list[Decimal]) -> list[Item]:
    """Line items with cents-exact amounts; most at the main tax rate, a few at another."""
    items = []
    prices: dict[str, Decimal] = {}  # one price per article within a document
    main = rates[0]
    for _ in range(count):
        rate = main if len(rates) == 1 or rng.random() < 0.7 else rng.choice(rates[1:])
        if kind == "receipt":
            desc, (low, high) = rng.choice(vocab.RECEIPT_ITEMS[c_lang])
            unit = ""
        else:
            desc, unit, (low, high) = rng.choice(vocab.INVOICE_ITEMS[c_lang])
            if high <= 3:
                low, high = low + 0.05, high + 0.4
        price = prices.setdefault(desc, _price(rng, low, high))
        qty = _quantity(rng, unit, kind)
        if high <= 3 and kind == "invoice":  # priced per word / sheet: bought by the hundred
            qty = Decimal(rng.choice((250, 500, 1000, 1200, 2500, 5000)))
        elif price > 100:
            qty = min(qty, Decimal(rng.choice((1, 1, 1, 2, 3))))
        code = rng.choice(
            ("", "", f"{rng.randint(10000, 999999)}", f"{rng.choice('ABCKMPRSTX')}-{rng.randint(100, 9999)}")
        )
        items.append(Item(desc, qty, unit, price, cents(qty * price), rate, code))
    return items


def _tax_name(rng: random.Random, country: str, language: str) -> str:
    info = vocab.COUNTRIES[country]
    return rng.choice(info.get("tax_names_by_lang", {}).get(language, info["tax_names"]))


def _cash_round(total: Decimal, step: Decimal) -> Decimal:
    return cents((total / step).quantize(Decimal(1), rounding="ROUND_HALF_UP") * step)


def make_content(rng: random.Random, kind: str, language: str) -> Content:
    """One coherent document: parties, items, taxes and totals that add up to the cent."""
    table = vocab.RECEIPT_COUNTRIES if kind == "receipt" else vocab.SELLER_COUNTRIES
    country = weighted(rng, table[language])
    info = vocab.COUNTRIES[country]
    currency = info["currency"]
    if kind == "invoice" and rng.random() < 0.04:
        currency = rng.choice([c for c in ("EUR", "USD", "GBP", "CHF") if c != currency])
    vendor = make_party(rng, country, language, shop=kind == "receipt" and rng.random() < 0.7)
    customer = None
    reverse_charge = False
    if kind == "invoice":
        eu = ("DE", "AT", "FR", "BE", "NL", "LU", "ES", "IT", "IE", "SE", "PL")
        cust_country = country
        if rng.random() < 0.2:
            cust_country = rng.choice([c for c in eu if c != country] if country in eu else [country])
        cust_lang = language if language in vocab.COUNTRIES[cust_country]["languages"] else \
            vocab.COUNTRIES[cust_country]["languages"][0]  # fmt: skip
        customer = make_party(rng, cust_country, cust_lang, foreign_of=country)
        reverse_charge = cust_country != country and country in eu and cust_country in eu and rng.random() < 0.6

    date = dt.date(2016, 1, 1) + dt.timedelta(days=rng.randint(0, 3830))
    if kind == "receipt":
        order, pattern = rng.choice(vocab.RECEIPT_DATE_FORMATS_MDY if country == "US" else vocab.RECEIPT_DATE_FORMATS)
    else:
        formats = vocab.DATE_FORMATS[language]
        if language == "en" and country in ("US",):
            formats = tuple(f for f in formats if f[0] != "DMY") or formats
        elif language == "en":
            formats = tuple(f for f in formats if f[0] != "MDY" or rng.random() < 0.15)
        order, pattern = rng.choice(formats)
    if "{b}" in pattern and language != "en" and kind == "receipt":
        pattern = pattern.replace("{b}", "{mm}")

    rates = [Decimal(r) for r in info["rates"]]
    if country == "MY":
        rates = [Decimal("6")]
    multi = (len(rates) > 1 and kind == "invoice" and rng.random() < 0.25) or (kind == "receipt" and rng.random() < 0.4)
    use_rates = rates if multi else rates[:1]
    if kind == "invoice":
        count = rng.choice((1, 1, 2, 2, 3, 3, 4, 5, 6, 7, 8, 10, 12)) if rng.random() < 0.93 else rng.randint(18, 30)
    else:
        count = rng.choice((1, 2, 2, 3, 3, 4, 5, 6, 7, 8, 10, 12, 15))
    items = make_items(rng, language, kind, count, use_rates)
    if reverse_charge:
        for it in items:
            it.tax_rate = Decimal(0)
    items_total = sum((it.amount for it in items), ZERO)

    tax_inclusive = kind == "receipt" and country not in ("US", "MY", "IN") and rng.random() < 0.8
    if country == "MY" and kind == "receipt":
        tax_inclusive = rng.random() < 0.3
    discount_pct = Decimal(rng.choice((2, 3, 5, 10, 15))) if kind == "invoice" and rng.random() < 0.12 else Decimal(0)
    shipping = Decimal(rng.choice(("4.90", "6.95", "9.90", "15.00", "25.00", "49.00"))) \
        if kind == "invoice" and rng.random() < 0.12 else ZERO  # fmt: skip

    groups: dict[Decimal, Decimal] = {}
    for it in items:
        groups[it.tax_rate] = groups.get(it.tax_rate, ZERO) + it.amount
    discount = ZERO
    if discount_pct:
        for rate, amount in groups.items():
            d = cents(amount * discount_pct / 100)
            groups[rate] = amount - d
            discount += d
    if shipping:
        first = items[0].tax_rate
        groups[first] = groups.get(first, ZERO) + shipping

    tax_name = _tax_name(rng, country, language)
    tax_lines: list[TaxLine] = []
    intra_state = country == "IN" and rng.random() < 0.6  # India: half CGST, half SGST within one state
    for rate, amount in sorted(groups.items(), key=lambda kv: -kv[0]):
        if tax_inclusive:
            tax = cents(amount * rate / (100 + rate))
            base = amount - tax
        else:
            base, tax = amount, cents(amount * rate / 100)
        if intra_state and tax:
            half_rate, half = rate / 2, cents(base * rate / 200)
            tax_lines += [TaxLine("CGST", half_rate, base, half), TaxLine("SGST", half_rate, base, half)]
        else:
            tax_lines.append(TaxLine(tax_name, rate, base, tax))
    subtotal = sum((t.base for t in tax_lines if t.name != "SGST"), ZERO)
    tax_total = sum((t.amount for t in tax_lines), ZERO)
    total = subtotal + tax_total

    card = kind == "receipt" and rng.random() < 0.35
    rounding = ZERO
    step = info["cash_step"]
    if kind == "receipt" and step and not card and rng.random() < 0.85:
        rounded = _cash_round(total, Decimal(step))
        rounding, total = rounded - total, rounded

    content = Content(
        kind=kind, language=language, country=country, currency=currency, vendor=vendor, customer=customer,
        number=make_number(rng, language, date, kind), date=date, date_order=order, date_pattern=pattern,
        money=money_style(rng, country, language, currency), items=items, tax_inclusive=tax_inclusive,
        items_total=items_total, discount=discount, discount_pct=discount_pct, shipping=shipping, subtotal=subtotal,
        tax_lines=tax_lines, tax=tax_total, rounding=rounding, total=total, reverse_charge=reverse_charge,
    )  # fmt: skip
    if kind == "invoice":
        assert customer is not None  # every invoice has one (made above)
        content.payment_days = rng.choice((7, 10, 14, 14, 30, 30, 30, 45, 60))
        if rng.random() < 0.75:
            content.due_date = date + dt.timedelta(days=content.payment_days)
        if rng.random() < 0.35:
            content.delivery_date = date - dt.timedelta(days=rng.randint(0, 12))
        if rng.random() < 0.5:
            shape = rng.choice(("PO-#####", "45########", "B#####", f"####/{date.year}"))
            content.order_number = digits_pattern(rng, shape)
        if rng.random() < 0.55:
            content.customer_number = digits_pattern(rng, rng.choice(("#####", "K-####", "C######", "D#####")))
        if rng.random() < 0.2:
            address = make_address(rng, customer.country, language, with_country=False)
            content.ship_to = [f"{customer.brand} - {rng.choice(vocab.SHIP_WORDS[language])}", *address]
        if rng.random() < 0.1:
            content.paid = cents(total * Decimal(rng.choice(("0.2", "0.25", "0.3", "0.5"))))
            content.amount_due = total - content.paid
    else:
        h, m, s = rng.randint(7, 22), rng.randint(0, 59), rng.randint(0, 59)
        times = [f"{h:02d}:{m:02d}", f"{h:02d}:{m:02d}:{s:02d}"]
        if language == "en":
            times.append(f"{h % 12 or 12}:{m:02d} {'PM' if h >= 12 else 'AM'}")
        content.time = rng.choice(times)
        content.cashier = rng.choice(
            (
                f"{rng.randint(1, 20):02d}",
                f"{rng.randint(100, 9999)}",
                rng.choice(("Kasse 1", "POS 2", "C01", "T3", "01")),
            )
        )
        content.card = card
        if not card:
            notes = [Decimal(v) for v in ("5", "10", "20", "50", "100", "200")]
            tendered = next((v for v in notes if v >= total), total)
            if rng.random() < 0.25:
                tendered = total
            content.tendered, content.change = tendered, tendered - total
    return content
