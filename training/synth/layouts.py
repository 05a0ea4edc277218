"""Invoice page layouts: one drawer with interchangeable blocks, composed into several layout families.

Each family places the seller, title, invoice facts, customer, items, totals, payment block and footer
differently; within a family, fonts, sizes, colours, label wordings and table shapes vary per document.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from training.synth import vocab
from training.synth.canvas import BLACK, FAMILIES, WHITE, Canvas
from training.synth.content import Content, Item
from training.synth.formats import format_number
from training.synth.ids import group4
from training.synth.logo import make_logo
from utils.money import exponent

GRAY = (0.38, 0.38, 0.38)
LIGHT = (0.92, 0.92, 0.92)
ACCENTS = ((0.1, 0.2, 0.45), (0.0, 0.4, 0.45), (0.6, 0.1, 0.1), (0.1, 0.4, 0.2), (0.8, 0.4, 0.0),
           (0.35, 0.15, 0.45), (0.25, 0.25, 0.25), (0.0, 0.0, 0.0), (0.05, 0.35, 0.65))  # fmt: skip
STAMP_RED = (0.8, 0.1, 0.1)

FAMILY_WEIGHTS = (("classic", 5), ("right", 3), ("din", 4), ("banner", 3), ("centered", 2), ("stacked", 2))


class Drawer:
    """State shared by the blocks of one document: canvas, style, chosen wordings, money display."""

    def __init__(self, content: Content, rng: random.Random, canvas: Canvas):
        self.c = content
        self.rng = rng
        self.cv = canvas
        self._words: dict[str, str] = {}
        family = rng.choices(("helv", "tiro", "noto", "cour"), weights=(62, 23, 10, 5))[0]
        self.regular, self.bold, self.italic = FAMILIES[family]
        if content.money.mark == "₹" or family == "noto":
            self.regular = self.bold = self.italic = "noto"
        self.head_font = self.bold if rng.random() < 0.7 else rng.choice(("hebo", "tibo"))
        self.accent = rng.choice(ACCENTS)
        self.colon = rng.choice((":", ":", ":", "", " :" if content.language == "fr" else ":"))
        self.upper_labels = rng.random() < 0.15
        self.vendor_in_logo = False

    # words and values -------------------------------------------------------------------------------------
    def word(self, key: str) -> str:
        """One wording per key for the whole document."""
        if key not in self._words:
            self._words[key] = self.rng.choice(self.c.words[key])
        return self._words[key]

    def label(self, key: str, colon: bool = True) -> str:
        """A label as this document writes labels."""
        text = self.word(key)
        if self.upper_labels:
            text = text.upper()
        return text + (self.colon if colon and not text.endswith(":") else "")

    def num(self, value: Decimal) -> str:
        """An amount without currency."""
        return self.c.money.number(value)

    def money(self, value: Decimal) -> str:
        """An amount with the currency mark."""
        return self.c.money.money(value)

    def qty(self, value: Decimal) -> str:
        """A quantity in the document's number style."""
        decimals = 0 if value == value.to_integral() else (1 if (value * 10) == (value * 10).to_integral() else 2)
        if "qty_decimals" not in self._words:
            self._words["qty_decimals"] = "2" if self.rng.random() < 0.15 else ""
        if self._words["qty_decimals"]:
            decimals = 2
        return format_number(value, self.c.money.style, decimals)

    def rate(self, rate: Decimal) -> str:
        """A tax rate: '19 %', '19%', '8,1%'."""
        decimals = max(0, -exponent(rate.normalize()))
        text = format_number(rate, self.c.money.style, decimals)
        return text + (" %" if self.c.language in ("de", "fr") and self.word("tax_rate_col") else "%")

    def amount_text(self, x: float, y: float, value: Decimal, size: float, fontname: str, *, mark: bool,
                    align: str = "right", field: str | None = None, color=BLACK) -> float:  # fmt: skip
        """Draw an amount (optionally with its currency mark) and record its span and the mark's span."""
        s = self.money(value) if mark else self.num(value)
        w = self.cv.text(x, y, s, size, fontname, color, align, field)
        if mark:
            left = x - w if align == "right" else x
            m = self.c.money
            if m.mark_first:
                lead = "-" if s.startswith("-") else ""
                mx = left + self.cv.width(lead, size, fontname)
            else:
                mx = left + w - self.cv.width(m.mark, size, fontname)
            self.cv.mark("currency", mx, y, self.cv.width(m.mark, size, fontname), size, m.mark)
        return w


class InvoiceLayout(Drawer):
    """Draws one invoice in one of several layout families."""

    def __init__(self, content: Content, rng: random.Random):
        us = content.vendor.country == "US" and rng.random() < 0.8
        self.W, self.H = (612.0, 792.0) if us else (595.0, 842.0)
        super().__init__(content, rng, Canvas(self.W, self.H))
        r = rng
        self.m = r.uniform(34, 62)
        self.x0, self.x1 = self.m, self.W - self.m
        self.fs = r.uniform(7.6, 10.0)
        self.lh = self.fs * r.uniform(1.28, 1.5)
        self.family = r.choices(*zip(*FAMILY_WEIGHTS, strict=True))[0]
        self.vendor_in_logo = r.random() < 0.18
        self.show_logo = self.vendor_in_logo or r.random() < 0.45
        self.number_beside_title = r.random() < 0.22
        self.mark_items = r.random() < 0.25
        self.mark_totals = r.choice(("all", "all", "total", "total", "none"))
        self.mark_header = r.random() < 0.3 or self.mark_totals == "none"
        self.footer_style = r.choice(("columns", "columns", "lines", "none")) if self.family != "din" else "columns"
        self.legal_in_footer = self.footer_style != "none" and (not self.vendor_in_logo or r.random() < 0.5)
        self.footer_top = self.H - self.m * 0.6 - (self._footer_height() if self.footer_style != "none" else 0)

    # document ---------------------------------------------------------------------------------------------
    def draw(self) -> Canvas:
        """Lay the whole invoice out."""
        y = getattr(self, f"_family_{self.family}")()
        if self.rng.random() < 0.2:
            y += self.lh * 1.6
            self.cv.text(self.x0, y, self.word("section_other"), self.fs * 1.1, self.bold, self.accent)
        y = self.items_table(y + self.lh * 0.8)
        y = self.totals(y + self.lh * 0.6)
        self.payment_block(y + self.lh)
        for number in range(1, len(self.cv.pages) + 1):
            with self.cv.on_page(number):
                self.footer()
        self.page_numbers()
        if self.rng.random() < 0.1:
            self.copy_stamp()
        return self.cv

    # header blocks ----------------------------------------------------------------------------------------
    def seller_name(self, x: float, y: float, align: str = "left", size: float | None = None,
                    color=None, max_width: float = 260) -> float:  # fmt: skip
        """The seller's name as a header, or its logo. Returns the y below it."""
        v = self.c.vendor
        size = size or self.fs * self.rng.uniform(1.5, 2.4)
        if self.vendor_in_logo or self.show_logo:
            name = v.brand if self.vendor_in_logo or self.rng.random() < 0.5 else None
            pix, w, h = make_logo(self.rng, name, self.accent, self.rng.uniform(26, 48), max_width)
            left = x - w if align == "right" else (x - w / 2 if align == "center" else x)
            self.cv.image(left, y, left + w, y + h, pix)
            y += h + self.lh * 0.5
            if self.vendor_in_logo:
                return y
        brand_only = self.rng.random() < 0.25
        name = v.brand if brand_only else v.name
        y += size
        self.cv.text(x, y, name, size, self.head_font, color or self.rng.choice((BLACK, self.accent)), align,
                     "vendor_brand" if brand_only else "vendor")  # fmt: skip
        if self.rng.random() < 0.15:  # a slogan under the name: a header line that is not the seller
            y += self.fs * 1.3
            self.cv.text(x, y, self.rng.choice(vocab.SLOGANS[self.c.language]), self.fs, self.italic, GRAY, align)
        return y + size * 0.35

    def seller_details(self, x: float, y: float, align: str = "left", size: float | None = None,
                       contacts: bool = True, color=GRAY) -> float:  # fmt: skip
        """Address and contact lines under the seller's name."""
        v = self.c.vendor
        size = size or self.fs * 0.92
        lh = size * 1.35
        lines: list[tuple[str, str | None]] = [(a, None) for a in v.address]
        if self.rng.random() < 0.3 and len(v.address) >= 2:
            lines = [(", ".join(v.address[:2]), None), *[(a, None) for a in v.address[2:]]]
        if contacts:
            lines += self.contact_lines(self.rng.random() < 0.6)
        for text, fld in lines:
            y += lh
            self._labelled(x, y, text, fld, size, color, align)
        return y + lh * 0.3

    def contact_lines(self, with_tax: bool) -> list[tuple[str, str | None]]:
        """Phone, e-mail, web (and tax id) as (text, field) pairs: 'Tel.: ...'."""
        v = self.c.vendor
        out: list[tuple[str, str | None]] = []
        bare = self.rng.random() < 0.3
        for key, value, fld in (("phone", v.phone, "vendor_phone"), ("email", v.email, "vendor_email"),
                                ("web", v.web, "vendor_web")):  # fmt: skip
            if value and (fld != "vendor_web" or self.rng.random() < 0.75):
                out.append((value if bare else f"{self.label(key)} {value}", fld))
        if v.fax and self.rng.random() < 0.7:
            out.insert(1, (f"{self.label('fax')} {v.fax}", None))
        if with_tax and v.tax:
            out.append((f"{v.tax.label}{self.colon} {v.tax.printed}", "vendor_tax_id"))
        return out

    def _labelled(self, x: float, y: float, text: str, fld: str | None, size: float, color, align: str) -> float:
        """Draw 'Label: value' as one line; the value part (after the last ': ' or space) gets the span."""
        w = self.cv.text(x, y, text, size, self.regular, color, align)
        if fld:
            value = self._value_of(fld)
            if value and value in text:
                left = x - w if align == "right" else (x - w / 2 if align == "center" else x)
                pre = text[: text.rindex(value)]
                self.cv.mark(fld, left + self.cv.width(pre, size, self.regular), y,
                             self.cv.width(value, size, self.regular), size, value)  # fmt: skip
        return w

    def centered_parts(self, y: float, parts: list[tuple[str, str | None]], size: float, sep: str) -> None:
        """One centred line of parts joined by a separator, shrunk to the text width; values get their spans."""
        parts = [(t, f) for t, f in parts if t]
        text = sep.join(t for t, _ in parts)
        size = min(size, size * (self.x1 - self.x0) / max(self.cv.width(text, size, self.regular), 1.0))
        w = self.cv.text(self.W / 2, y, text, size, self.regular, GRAY, "center")
        left, offset = self.W / 2 - w / 2, 0
        for t, fld in parts:
            value = self._value_of(fld) if fld else None
            if fld and value and value in t:
                pre = text[:offset] + t[: t.rindex(value)]
                x = left + self.cv.width(pre, size, self.regular)
                self.cv.mark(fld, x, y, self.cv.width(value, size, self.regular), size, value)
            offset += len(t) + len(sep)

    def _value_of(self, fld: str) -> str | None:
        v = self.c.vendor
        return {"vendor_phone": v.phone, "vendor_email": v.email, "vendor_web": v.web,
                "vendor_tax_id": v.tax.printed if v.tax else None, "vendor_iban": self._iban_printed,
                "vendor": v.name, "invoice_number": self.c.number}.get(fld)  # fmt: skip

    @property
    def _iban_printed(self) -> str | None:
        if not self.c.vendor.iban:
            return None
        if "iban_grouped" not in self._words:
            self._words["iban_grouped"] = "1" if self.rng.random() < 0.7 else ""
        return group4(self.c.vendor.iban) if self._words["iban_grouped"] else self.c.vendor.iban

    def title(self, x: float, y: float, align: str = "left", size: float | None = None, color=None) -> float:
        """The document title, with the number beside it in some documents. Returns the y below it."""
        size = size or self.fs * self.rng.uniform(1.6, 2.8)
        y += size
        t = self.word("invoice_title")
        if t.endswith((" n°", " n.")) and not self.number_beside_title:
            t = t.rsplit(" ", 1)[0]
        color = color or self.rng.choice((BLACK, self.accent, GRAY))
        if self.number_beside_title:
            label = self.word("number_beside_title")
            t_full = f"{t} {label} {self.c.number}"
            if t.endswith((" n°", " n.")):
                t_full = f"{t} {self.c.number}"
            w = self.cv.text(x, y, t_full, size, self.head_font, color, align)
            left = x - w if align == "right" else (x - w / 2 if align == "center" else x)
            pre = t_full[: t_full.rindex(self.c.number)]
            self.cv.mark("invoice_number", left + self.cv.width(pre, size, self.head_font), y,
                         self.cv.width(self.c.number, size, self.head_font), size, self.c.number)  # fmt: skip
        else:
            self.cv.text(x, y, t, size, self.head_font, color, align)
        return y + size * 0.45

    def meta_rows(self) -> list[tuple[str, str, str | None]]:
        """(label, value, field) for the invoice facts this document shows."""
        c = self.c
        rows: list[tuple[str, str, str | None]] = []
        if not self.number_beside_title:
            rows.append((self.label("number"), c.number, "invoice_number"))
        rows.append((self.label("date"), c.fmt_date(c.date), "date"))
        if c.due_date and self.rng.random() < 0.8:
            rows.append((self.label("due_date"), c.fmt_date(c.due_date), "due_date"))
            self._words["due_shown"] = "1"
        if c.delivery_date:
            rows.append((self.label("delivery_date"), c.fmt_date(c.delivery_date), None))
        if c.order_number and self.rng.random() < 0.3:
            ordered = c.date - dt.timedelta(days=self.rng.randint(1, 20))
            rows.append((self.label("order_date"), c.fmt_date(ordered), None))
        if c.customer_number:
            rows.append((self.label("customer_number"), c.customer_number, None))
        if c.order_number:
            rows.append((self.label("order_number"), c.order_number, None))
        if self.rng.random() < 0.12:
            rows.append((self.label("delivery_note"), f"{self.rng.randint(10000, 99999)}", None))
        head = rows[:1] if not self.number_beside_title else []
        tail = rows[len(head) :]
        self.rng.shuffle(tail)
        if self.rng.random() < 0.5:  # the date most often right after the number
            tail.sort(key=lambda r: r[2] != "date")
        return head + tail

    def meta_pairs(self, x: float, y: float, width: float, rows=None, value_align: str | None = None) -> float:
        """Label/value pairs in two columns. Returns the y below."""
        rows = rows if rows is not None else self.meta_rows()
        size = self.fs
        bold_values = self.rng.random() < 0.3
        value_align = value_align or self.rng.choice(("left", "right"))
        label_w = max((self.cv.width(r[0], size, self.regular) for r in rows), default=0)
        vx = x + label_w + self.fs * 1.2 if value_align == "left" else x + width
        label_color = self.rng.choice((BLACK, GRAY))
        for label, value, fld in rows:
            y += self.lh
            self.cv.text(x, y, label, size, self.regular, label_color, field=f"{fld}_label" if fld else None)
            self.cv.text(vx, y, value, size, self.bold if bold_values else self.regular, BLACK, value_align, fld)
        return y + self.lh * 0.4

    def meta_bar(self, y: float, rows=None) -> float:
        """Invoice facts as a row of small captions over values, boxed or not. Returns the y below."""
        if rows is None:  # at most five boxes: the labelled facts first, distractors as room allows
            rows = self.meta_rows()
            keep = [r for r in rows if r[2]] + [r for r in rows if not r[2]]
            rows = [r for r in rows if r in keep[:5]]
        n = len(rows)
        col = (self.x1 - self.x0) / max(n, 1)
        boxed = self.rng.random() < 0.5
        cap = self.fs * 0.8
        if boxed:
            self.cv.rect(self.x0, y, self.x1, y + self.lh * 2.6, fill=LIGHT if self.rng.random() < 0.5 else None,
                         stroke=GRAY, width=0.5)  # fmt: skip
            for i in range(1, n):
                self.cv.line(self.x0 + i * col, y, self.x0 + i * col, y + self.lh * 2.6, GRAY, 0.5)
        for i, (label, value, fld) in enumerate(rows):
            x = self.x0 + i * col + self.fs * 0.5
            self.cv.text(x, y + self.lh * 1.0, label.rstrip(": "), cap, self.regular, GRAY,
                         field=f"{fld}_label" if fld else None)  # fmt: skip
            self.cv.text(x, y + self.lh * 2.1, value, self.fs * 1.05, self.bold, BLACK, field=fld)
        return y + self.lh * 3.0

    def customer_block(self, x: float, y: float, heading: bool = True, with_vat: bool | None = None) -> float:
        """The customer's name and address, under a 'Bill to' heading in most documents."""
        cust = self.c.customer
        assert cust is not None  # only invoices, which all have a customer, print this block
        if heading:
            y += self.lh
            size = self.fs * self.rng.choice((0.85, 1.0, 1.0))
            self.cv.text(x, y, self.label("bill_to"), size, self.bold if self.rng.random() < 0.6 else self.regular,
                         self.rng.choice((GRAY, BLACK, self.accent)), field="customer_label")  # fmt: skip
        y += self.lh * 1.1
        self.cv.text(x, y, cust.name, self.fs * self.rng.choice((1.0, 1.05, 1.15)),
                     self.bold if self.rng.random() < 0.5 else self.regular, BLACK, field="customer")  # fmt: skip
        for line in cust.address:
            y += self.lh
            self.cv.text(x, y, line, self.fs, self.regular)
        if with_vat if with_vat is not None else self.rng.random() < 0.3:
            y += self.lh
            assert cust.tax is not None  # make_party gives every party its tax ids
            self.cv.text(x, y, f"{self.label('customer_vat')} {cust.tax.printed}", self.fs * 0.9, self.regular, GRAY)
        return y + self.lh * 0.5

    def ship_to_block(self, x: float, y: float) -> float:
        """The delivery address (another company line the seller is not)."""
        if not self.c.ship_to:
            return y
        y += self.lh
        self.cv.text(x, y, self.label("ship_to"), self.fs, self.bold, GRAY)
        for line in self.c.ship_to:
            y += self.lh
            self.cv.text(x, y, line, self.fs, self.regular)
        return y + self.lh * 0.5

    def sender_line(self, x: float, y: float) -> float:
        """DIN 5008 return-address line above the window: 'Name · Street · City'."""
        v = self.c.vendor
        parts = ([] if self.vendor_in_logo else [v.name]) + v.address[:2]
        sep = self.rng.choice((" · ", " - ", " | ", ", "))
        size = self.fs * 0.72
        text = sep.join(parts)
        w = self.cv.text(x, y, text, size, self.regular, GRAY)
        if not self.vendor_in_logo:
            self.cv.mark("vendor", x, y, self.cv.width(v.name, size, self.regular), size, v.name)
        if self.rng.random() < 0.6:
            self.cv.line(x, y + 1.5, x + w, y + 1.5, GRAY, 0.4)
        return y + self.lh * 0.6

    # families ---------------------------------------------------------------------------------------------
    def _family_classic(self) -> float:
        y = self.m
        y1 = self.seller_name(self.x0, y)
        y1 = self.seller_details(self.x0, y1)
        right = self.x1 - 200
        y2 = self.title(self.x1, y, "right")
        y2 = self.meta_pairs(right, y2, 200)
        y = max(y1, y2) + self.lh * 0.5
        if self.rng.random() < 0.3:  # customer on the right, delivery address on the left
            y3 = self.customer_block(self.x0 + (self.x1 - self.x0) * 0.55, y)
            y4 = self.ship_to_block(self.x0, y)
        else:
            y3 = self.customer_block(self.x0, y)
            y4 = self.ship_to_block(self.x0 + (self.x1 - self.x0) * 0.5, y)
        return max(y3, y4)

    def _family_right(self) -> float:
        y = self.m
        y1 = self.seller_name(self.x1, y, "right")
        y1 = self.seller_details(self.x1, y1, "right")
        y2 = self.title(self.x0, y + self.lh)
        y = max(y1, y2) + self.lh * 0.5
        y3 = self.customer_block(self.x0, y)
        y4 = self.meta_pairs(self.x1 - 190, y + self.lh * 0.3, 190)
        y = max(y3, y4)
        return self.ship_to_block(self.x0, y)

    def _family_din(self) -> float:
        y = self.m * 0.8
        y1 = self.seller_name(self.x1, y, "right", max_width=220)
        if self.rng.random() < 0.5:
            y1 = self.seller_details(self.x1, y1, "right", contacts=False)
        window = max(y1 + self.lh, 125.0)
        self.sender_line(self.x0, window)
        y3 = self.customer_block(self.x0, window + 4, heading=self.rng.random() < 0.25)
        meta_x = self.x0 + (self.x1 - self.x0) * 0.58
        y4 = self.meta_pairs(meta_x, window - self.lh, self.x1 - meta_x)
        y = max(y3, y4, 250.0)
        y = self.title(self.x0, y, size=self.fs * self.rng.uniform(1.3, 1.8))
        if self.c.delivery_date and self.rng.random() < 0.4:
            y += self.lh
            self.cv.text(self.x0, y, f"{self.label('service_period')} {self.c.fmt_date(self.c.delivery_date)}",
                         self.fs, self.regular)  # fmt: skip
        if self.rng.random() < 0.5:
            y += self.lh * 1.2
            greeting = {"de": "Sehr geehrte Damen und Herren,", "en": "Dear Sir or Madam,",
                        "fr": "Madame, Monsieur,", "nl": "Geachte heer/mevrouw,", "es": "Estimados señores:",
                        "it": "Spettabile cliente,"}[self.c.language]  # fmt: skip
            self.cv.text(self.x0, y, greeting, self.fs, self.regular)
        return self.ship_to_block(self.x0, y)

    def _family_banner(self) -> float:
        band = self.rng.uniform(70, 105)
        self.cv.rect(0, 0, self.W, band, fill=self.accent)
        self.title(self.x0, band * 0.5 - self.fs * 1.6, color=WHITE, size=self.fs * 2.6)
        if self.vendor_in_logo:
            self.cv.rect(self.x1 - 200, band * 0.18, self.x1, band * 0.82, fill=WHITE)
            self.show_logo = True
            self.seller_name(self.x1 - 8, band * 0.24, "right", max_width=185)
        else:
            self.show_logo = False
            self.seller_name(self.x1, band * 0.22, "right", size=self.fs * 1.6, color=WHITE)
            self.seller_details(self.x1, band * 0.22 + self.fs * 1.8, "right", contacts=False, color=WHITE,
                                size=self.fs * 0.8)  # fmt: skip
        y = band + self.lh
        if self.rng.random() < 0.5:
            y = self.meta_bar(y)
            cols = [self.x0, self.x0 + (self.x1 - self.x0) / 2]
            y1 = self.customer_block(cols[0], y)
            y2 = self.ship_to_block(cols[1], y) if self.c.ship_to else self.seller_details(cols[1], y)
            return max(y1, y2)
        y1 = self.customer_block(self.x0, y)
        y2 = self.meta_pairs(self.x1 - 200, y, 200)
        return self.ship_to_block(self.x0, max(y1, y2))

    def _family_centered(self) -> float:
        mid = self.W / 2
        y = self.seller_name(mid, self.m, "center", max_width=300)
        v = self.c.vendor
        size = self.fs * 0.9
        y += self.lh
        self.cv.text(mid, y, " · ".join(v.address), size, self.regular, GRAY, "center")
        contacts = self.contact_lines(True)
        if contacts:
            y += self.lh
            self.centered_parts(y, contacts, size * 0.95, "  |  ")
        y += self.lh * 0.6
        self.cv.line(self.x0, y, self.x1, y, self.accent, 1.0)
        y = self.title(mid, y + self.lh * 0.5, "center")
        y1 = self.customer_block(self.x0, y)
        y2 = self.meta_pairs(self.x1 - 200, y + self.lh * 0.2, 200)
        return self.ship_to_block(self.x0, max(y1, y2))

    def _family_stacked(self) -> float:
        y = self.seller_name(self.x0, self.m)
        y = self.seller_details(self.x0, y)
        y = self.title(self.x0, y + self.lh * 0.5)
        y = self.meta_pairs(self.x0, y, 220, value_align="left")
        y = self.customer_block(self.x0, y)
        return self.ship_to_block(self.x0, y)

    # items ------------------------------------------------------------------------------------------------
    def _columns(self) -> list[tuple[str, str, float, str]]:
        r = self.rng
        cur = f" ({self.c.money.mark})" if self.mark_header else ""
        cols: list[tuple[str, str, float, str]] = []
        if r.random() < 0.4:
            cols.append(("pos", self.word("position"), 28, "left"))
        if r.random() < 0.25:
            cols.append(("code", self.word("code"), 60, "left"))
        cols.append(("desc", self.word("description"), 0, "left"))
        qty_first = r.random() < 0.3
        unit_in_qty = bool(self._words.get("unit_in_qty"))
        qty = ("qty", self.word("quantity"), 62 if unit_in_qty else 44, "right")
        if qty_first:
            cols.insert(len(cols) - 1, (qty[0], qty[1], qty[2], "left"))
        else:
            cols.append(qty)
        if not unit_in_qty and r.random() < 0.35:
            cols.append(("unit", self.word("unit"), 40, "left"))
        cols.append(("price", self.word("unit_price") + cur, 74, "right"))
        if (len(self.c.tax_lines) > 1 or r.random() < 0.3) and not self.c.reverse_charge:
            cols.append(("vat", self.word("tax_rate_col"), 44, "right"))
        cols.append(("amount", self.word("line_amount") + cur, 80, "right"))
        fixed = sum(cw for _, _, cw, _ in cols)
        width = self.x1 - self.x0
        return [(k, h, cw if cw else width - fixed, a) for k, h, cw, a in cols]

    def _cell(self, key: str, item: Item, index: int) -> str:
        if key == "pos":
            return str(index + 1)
        if key == "code":
            return item.code
        if key == "desc":
            return item.description
        if key == "qty":
            return self.qty(item.quantity) + (f" {item.unit}" if self._words.get("unit_in_qty") else "")
        if key == "unit":
            return item.unit
        if key == "price":
            return self.money(item.unit_price) if self.mark_items else self.num(item.unit_price)
        if key == "vat":
            return self.rate(item.tax_rate)
        return self.money(item.amount) if self.mark_items else self.num(item.amount)

    def _table_header(self, y: float, cols, style: str) -> float:
        h = self.lh * 1.5
        size = self.fs * 0.95
        if style == "fill":
            self.cv.rect(self.x0, y, self.x1, y + h, fill=self.accent)
        elif style == "light":
            self.cv.rect(self.x0, y, self.x1, y + h, fill=LIGHT)
        elif style == "grid":
            self.cv.rect(self.x0, y, self.x1, y + h, stroke=GRAY, fill=LIGHT)
        color = WHITE if style == "fill" else BLACK
        x = self.x0
        for key, head, w, align in cols:
            tx = x + 3 if align == "left" else x + w - 3
            fit = min(size, size * (w - 6) / max(self.cv.width(head, size, self.bold), 1.0))
            self.cv.text(tx, y + h * 0.68, head, fit, self.bold, color, align)
            if self.mark_header and key in ("price", "amount"):
                mark = self.c.money.mark
                hw = self.cv.width(head, fit, self.bold)
                mw = self.cv.width(mark + ")", fit, self.bold)
                left = tx if align == "left" else tx - hw
                self.cv.mark("currency", left + hw - mw, y + h * 0.68, self.cv.width(mark, fit, self.bold), fit, mark)
            x += w
        if style in ("rule", "light"):
            self.cv.line(self.x0, y + h, self.x1, y + h, BLACK, 0.8)
        return y + h

    def items_table(self, y: float) -> float:
        """The line-item table; continues on a second page when the rows do not fit."""
        r = self.rng
        self._words["unit_in_qty"] = "1" if r.random() < 0.25 else ""
        cols = self._columns()
        style = r.choice(("fill", "light", "rule", "grid", "rule"))
        zebra = style != "grid" and r.random() < 0.3
        row_lines = style == "grid" or r.random() < 0.3
        y = self._table_header(y, cols, style)
        table_top = y
        desc_w = next(w for k, _, w, _ in cols if k == "desc")
        limit = self.footer_top - self.lh * 2
        for i, item in enumerate(self.c.items):
            desc_lines = self.cv.wrap(item.description, desc_w - 6, self.fs, self.regular)
            h = self.lh * (len(desc_lines) + 0.35)
            if y + h > limit:
                self.cv.text(self.x1, y + self.lh, self.label("continued", colon=False), self.fs * 0.9,
                             self.italic, GRAY, "right")  # fmt: skip
                self.cv.new_page()
                y = self.m + self.lh
                head = f"{self.word('invoice_title')} "
                self.cv.text(self.x0, y, head + self.c.number, self.fs, self.bold)
                x_number = self.x0 + self.cv.width(head, self.fs, self.bold)
                number_w = self.cv.width(self.c.number, self.fs, self.bold)
                self.cv.mark("invoice_number", x_number, y, number_w, self.fs, self.c.number)
                y = self._table_header(y + self.lh, cols, style)
                table_top = y
            if zebra and i % 2:
                self.cv.rect(self.x0, y, self.x1, y + h, fill=(0.96, 0.96, 0.96))
            x = self.x0
            base = y + self.lh * 0.95
            for key, _, w, align in cols:
                if key == "desc":
                    for j, line in enumerate(desc_lines):
                        self.cv.text(x + 3, base + j * self.lh, line, self.fs, self.regular)
                else:
                    tx = x + 3 if align == "left" else x + w - 3
                    self.cv.text(tx, base, self._cell(key, item, i), self.fs, self.regular, BLACK, align)
                x += w
            y += h
            if row_lines:
                self.cv.line(self.x0, y, self.x1, y, (0.7, 0.7, 0.7), 0.4)
        if style == "grid":
            x = self.x0
            for _, _, w, _ in cols[:-1]:
                x += w
                self.cv.line(x, table_top, x, y, (0.7, 0.7, 0.7), 0.4)
        self.cv.line(self.x0, y + 1, self.x1, y + 1, BLACK, 0.6)
        return y

    # totals -----------------------------------------------------------------------------------------------
    def _tax_label(self, t) -> str:
        style = self.rng.random()
        if style < 0.45:
            return f"{t.name} {self.rate(t.rate)}"
        if style < 0.7:
            on = self.word("on_base")
            return f"{t.name} {self.rate(t.rate)} {on} {self.num(t.base)}"
        return f"{self.upper(t.name)}{self.colon}"

    def upper(self, s: str) -> str:
        """Upper-case when this document upper-cases labels."""
        return s.upper() if self.upper_labels else s

    def totals_rows(self) -> list[tuple[str, Decimal, str | None, bool]]:
        """(label, amount, field, emphasised) in printed order."""
        c, r = self.c, self.rng
        rows: list[tuple[str, Decimal, str | None, bool]] = []
        if c.discount:
            rows.append((self.label("items_total"), c.items_total, None, False))
            rows.append((f"{self.word('discount')} {self.rate(c.discount_pct)}{self.colon}", -c.discount, None, False))
        if c.shipping:
            rows.append((self.label("shipping"), c.shipping, None, False))
        show_net = c.discount or c.shipping or r.random() < 0.9
        if show_net:
            rows.append((self.label("subtotal"), c.subtotal, "subtotal", False))
        shown = [t for t in c.tax_lines]
        for t in shown:
            rows.append((self._tax_label(t), t.amount, "tax" if len(shown) == 1 else None, False))
        if len(shown) > 1 and r.random() < 0.6:
            rows.append((f"{self.upper(self.word('total'))} {shown[0].name}{self.colon}"
                         if r.random() < 0.3 else f"{shown[0].name} {self.label('total', colon=True)}".strip(),
                         c.tax, "tax", False))  # fmt: skip
        total_word = "total" if c.paid or r.random() < 0.85 else "total_if_unpaid"
        rows.append((self.label(total_word), c.total, "total", True))
        if c.paid:
            assert c.amount_due is not None  # set with paid
            rows.append((self.label("paid"), -c.paid, None, False))
            rows.append((self.label("balance"), c.amount_due, "amount_due", True))
        return rows

    def totals(self, y: float) -> float:
        """The totals block, label left of right-aligned values; a tax table in some documents."""
        r = self.rng
        rows = self.totals_rows()
        block_w = r.uniform(190, 270)
        needed = self.lh * (len(rows) + 2) * 1.2
        if y + needed > self.footer_top:
            self.cv.new_page()
            y = self.m + self.lh
        lx = self.x1 - block_w
        table_end = y
        same_tax = len({t.name for t in self.c.tax_lines}) == 1
        if len(self.c.tax_lines) > 1 and same_tax and r.random() < 0.4:
            table_end = self.tax_table(self.x0, y, min(300.0, lx - self.x0 - 10))
        box_total = r.random() < 0.35
        for label, value, fld, strong in rows:
            y += self.lh * (1.25 if strong else 1.0)
            size = self.fs * (r.uniform(1.05, 1.35) if strong else 1.0)
            font = self.bold if strong else self.regular
            if strong and fld == "total" and box_total:
                self.cv.rect(lx - 4, y - size * 1.1, self.x1 + 2, y + size * 0.45, fill=LIGHT)
            elif strong and fld == "total":
                self.cv.line(lx, y - size * 1.15, self.x1, y - size * 1.15, BLACK, 0.6)
            self.cv.text(lx, y, label, size, font, BLACK, field=f"{fld}_label" if fld else None)
            mark = self.mark_totals == "all" or (self.mark_totals == "total" and fld in ("total", "amount_due"))
            if self.mark_items:
                mark = True
            self.amount_text(self.x1, y, value, size, font, mark=mark, field=fld)
        if self.c.reverse_charge:
            y += self.lh * 1.3
            self.cv.text(self.x0, y, self.word("reverse_charge"), self.fs * 0.9, self.italic)
        return max(y, table_end)

    def tax_table(self, x: float, y: float, width: float) -> float:
        """Net / rate / tax / gross per rate, as a small table."""
        heads = (self.word("net_col"), self.word("tax_rate_col"), self.c.tax_lines[0].name, self.word("gross_col"))
        col = width / 4
        size = self.fs * 0.9
        y += self.lh
        for i, h in enumerate(heads):
            self.cv.text(x + (i + 1) * col - 4, y, h, size, self.bold, BLACK, "right")
        self.cv.line(x, y + 2, x + width, y + 2, GRAY, 0.5)
        for t in self.c.tax_lines:
            y += self.lh
            for i, v in enumerate(
                (self.num(t.base), self.rate(t.rate), self.num(t.amount), self.num(t.base + t.amount))
            ):
                self.cv.text(x + (i + 1) * col - 4, y, v, size, self.regular, BLACK, "right")
        return y + self.lh

    # payment, footer, extras ------------------------------------------------------------------------------
    def payment_block(self, y: float) -> float:
        """Payment terms and bank details below the totals, with a section heading in many documents."""
        c, r, v = self.c, self.rng, self.c.vendor
        lines: list[tuple[str, str | None]] = []
        if r.random() < 0.8:
            terms = self.word("payment_terms").format(days=c.payment_days)
            lines.append((terms, None))
        if c.due_date and not self._words.get("due_shown") and r.random() < 0.7:
            lines.append((f"{self.label('due_date')} {c.fmt_date(c.due_date)}", "due_date"))
        bank = r.random() < 0.75
        if bank:
            lines.append((self.word("transfer_to"), None))
            if v.iban:
                lines.append((f"IBAN{self.colon} {self._iban_printed}", "vendor_iban"))
                lines.append((f"BIC{self.colon} {v.bic}", None))
            else:
                lines.append((f"{self.label('account')} {v.account}", None))
                code = {"IN": "IFSC", "US": "Routing"}.get(v.country, "SWIFT")
                lines.append((f"{code}{self.colon} {v.bic}", None))
            lines.append((f"{self.label('bank')} {v.bank}", None))
            if r.random() < 0.5:
                lines.append((f"{self.label('payment_reference')} {c.number}", "invoice_number"))
        if r.random() < 0.5:
            lines.append((self.word("thanks"), None))
        if not lines:
            return y
        needed = self.lh * (len(lines) + 2)
        if y + needed > self.footer_top:
            if len(self.cv.pages) > 1:
                lines = lines[:2]
            else:
                self.cv.new_page()
                y = self.m
        if bank and r.random() < 0.7:
            y += self.lh * 1.2
            self.cv.text(self.x0, y, self.word("section_payment"), self.fs * 1.05, self.bold, self.accent)
        for text, fld in lines:
            y += self.lh
            if y > self.footer_top - self.lh:
                break
            self._labelled(self.x0, y, text, fld, self.fs * 0.95, BLACK, "left")
        return y

    def _footer_height(self) -> float:
        size = self.fs * 0.72
        rows = 5 if self.footer_style == "columns" else 3
        return size * 1.35 * rows + 14

    def footer(self) -> None:
        """Legal name, registration ids, bank and contact details at the page bottom."""
        if self.footer_style == "none":
            return
        v, r = self.c.vendor, self.rng
        size = self.fs * 0.72
        lh = size * 1.35
        top = self.footer_top
        if r.random() < 0.7:
            self.cv.line(self.x0, top, self.x1, top, (0.6, 0.6, 0.6), 0.5)
        legal: list[tuple[str, str | None]] = [(v.name, "vendor")] if self.legal_in_footer else []
        tax: list[tuple[str, str | None]] = (
            [(f"{v.tax.label}{self.colon} {v.tax.printed}", "vendor_tax_id")] if v.tax else []
        )
        regs: list[tuple[str, str | None]] = [(reg, None) for reg in (v.tax.registrations[:2] if v.tax else [])]
        contact: list[tuple[str, str | None]] = [(t, f) for t, f in self.contact_lines(False)]
        bank_lines: list[tuple[str, str | None]] = [(v.bank or "", None)]
        if v.iban:
            bank_lines += [(f"IBAN {self._iban_printed}", "vendor_iban"), (f"BIC {v.bic}", None)]
        if self.footer_style == "columns":
            cols = [legal + [(a, None) for a in v.address], contact, bank_lines, tax + regs]
            cols = [col for col in cols if col]
            width = (self.x1 - self.x0) / len(cols)
            for i, col in enumerate(cols):
                x = self.x0 + i * width
                y = top + 4
                for text, fld in col[:5]:
                    font = self.bold if fld == "vendor" else self.regular
                    parts = [text] if fld else self.cv.wrap(text, width - 10, size, font) or [text]
                    fit = size * min(1.0, (width - 10) / max(self.cv.width(text, size, font), 1.0)) if fld else size
                    for part in parts:
                        y += lh
                        if fld == "vendor":
                            self.cv.text(x, y, part, fit, font, GRAY, field="vendor")
                        else:
                            self._labelled(x, y, part, fld, fit, GRAY, "left")
        else:
            sep = r.choice((" · ", " | ", " - ", ", "))
            groups = [[*legal, (", ".join(v.address), None), *contact], tax + regs[:1], bank_lines]
            y = top + 4
            for group in groups:
                if not group:
                    continue
                y += lh
                self.centered_parts(y, group, size, sep)

    def page_numbers(self) -> None:
        """'Page 1 of 2' on every page (or only on multi-page documents)."""
        n = len(self.cv.pages)
        if n == 1 and self.rng.random() < 0.6:
            return
        pattern = self.word("page")
        y = self.m * 0.6 if self.rng.random() < 0.3 else self.H - self.m * 0.35
        for number in range(1, n + 1):
            with self.cv.on_page(number):
                self.cv.text(self.x1, y, pattern.format(p=number, n=n), self.fs * 0.75, self.regular, GRAY, "right")

    def copy_stamp(self) -> None:
        """A 'COPY' / 'KOPIE' / 'DUPLICATA' stamp near the top, where a seller's name is often looked for."""
        r = self.rng
        x = r.uniform(self.x0 + 80, self.x1 - 180)
        y = r.uniform(self.m + 30, 200)
        with self.cv.on_page(1):
            self.cv.stamp(x, y, self.word("copy_stamp"), r.uniform(16, 28), STAMP_RED, r.uniform(-18, 18),
                          boxed=r.random() < 0.7)  # fmt: skip
